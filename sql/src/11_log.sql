-- pgpart.log: what pgpart did, when, by whom, with what outcome.
-- Append-only for everyone but the extension owner: a role may add rows
-- only in its own name and only about tables it owns.
CREATE TABLE pgpart.log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    parent regclass,
    -- the name at the time, readable after the table is dropped
    parent_name text,
    actor name NOT NULL DEFAULT current_user,
    action text NOT NULL,
    outcome text NOT NULL DEFAULT 'ok',
    detail jsonb
);

COMMENT ON TABLE pgpart.log IS
'History of what pgpart did: when, by whom, on which parent, with what outcome.';

ALTER TABLE pgpart.log ENABLE ROW LEVEL SECURITY;

CREATE POLICY log_read ON pgpart.log FOR SELECT USING (true);

CREATE POLICY log_append ON pgpart.log FOR INSERT
WITH CHECK (
    actor = current_user
    AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = log.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

REVOKE ALL ON pgpart.log FROM PUBLIC;
GRANT SELECT, INSERT ON pgpart.log TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.log', '');
SELECT pg_catalog.pg_extension_config_dump('pgpart.log_id_seq', '');

-- The retention journal (pgpart._detached_awaiting) reads by parent and action.
CREATE INDEX log_parent_action ON pgpart.log (parent, action, id);
