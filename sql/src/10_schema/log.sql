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
    detail jsonb,
    -- The retention journal (DESIGN §6): on an action 'detach' row, the
    -- detached table's identity when it was journaled: its OID, its name and
    -- the owner of both it and the parent. Row-level security below admits
    -- such a row only while that table IS a partition of the parent (attached
    -- or detach pending) with those facts, so nobody can journal a table that
    -- pgpart did not find in the parent, or one that does not exist yet.
    -- Retention honours only these rows, and only while the facts still
    -- hold (pgpart._journal). On 'archive', 'drop' and 'discard' rows,
    -- journal_oid names the table whose entry they close.
    journal_oid oid,
    journal_name name,
    journal_owner oid
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

-- A retention journal entry (action 'detach' with journal_oid) must name,
-- at the moment it is written, a partition of the parent (attached or
-- detach pending) with that name, both owned by journal_owner, a role the
-- writer acts for. Restrictive: it narrows log_append, never widens it.
CREATE POLICY log_journal ON pgpart.log AS RESTRICTIVE FOR INSERT
WITH CHECK (
    journal_oid IS NULL
    OR action <> 'detach'
    OR (
        pg_catalog.pg_has_role(current_user, journal_owner, 'USAGE')
        AND EXISTS (
            SELECT 1
            FROM pg_catalog.pg_inherits AS i
            INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
            INNER JOIN pg_catalog.pg_class AS p ON i.inhparent = p.oid
            WHERE
                i.inhrelid = log.journal_oid
                AND i.inhparent = log.parent
                AND c.relname = log.journal_name
                AND c.relowner = log.journal_owner
                AND p.relowner = log.journal_owner
        )
    )
);

REVOKE ALL ON pgpart.log FROM PUBLIC;
GRANT SELECT, INSERT ON pgpart.log TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.log', '');
SELECT pg_catalog.pg_extension_config_dump('pgpart.log_id_seq', '');

-- The retention journal (pgpart._journal) reads by parent and action.
CREATE INDEX log_parent_action ON pgpart.log (parent, action, id);
