-- The event triggers (DESIGN §7). Creating one needs a superuser: CREATE
-- EXTENSION creates them as extension members; the Python script install
-- runs these statements only where the role may, and warns otherwise.
-- Everything else works without them: pgpart.reconcile and maintenance repair
-- what they would have. Each statement stands alone (the script installer
-- recognises them one by one). sqlfluff cannot parse CREATE EVENT TRIGGER.
CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end  -- noqa: PRS
WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'ALTER INDEX')
EXECUTE FUNCTION pgpart._ddl_command_end();

COMMENT ON EVENT TRIGGER pgpart_ddl_command_end IS
'pgpart: after DDL on a managed parent or its partitions, brings every partition in step (owner, index tablespaces, replica identity, storage parameters, grants if propagated); in any partition tree with global unique constraints, records new partitions and releases detached ones. Off with SET pgpart.event_triggers = off.';

CREATE EVENT TRIGGER pgpart_gu_sql_drop ON sql_drop  -- noqa: PRS
WHEN TAG IN ('DROP TABLE')
EXECUTE FUNCTION pgpart._gu_sql_drop();

COMMENT ON EVENT TRIGGER pgpart_gu_sql_drop IS
'pgpart: a dropped table whose values a global unique constraint held marks the constraint stale (check() finding global_unique_stale).';
