-- Every role may look into schema pgpart: the SQL verbs check ownership
-- themselves, and the policy and log tables are guarded by row security.
-- The schema is created by CREATE EXTENSION (pgpart.control), so its grant
-- has no object file of its own to sit next to.
GRANT USAGE ON SCHEMA pgpart TO PUBLIC;
