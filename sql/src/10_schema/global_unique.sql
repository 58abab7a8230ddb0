-- pgpart.global_unique: one row per global unique constraint
-- (pgpart.add_global_unique, docs/global-unique.md). PostgreSQL refuses a
-- unique index on a partitioned table unless it includes the partition key,
-- so the values live in a side table (owned by the parent's owner, in the
-- parent's schema) under a real unique index named after the constraint,
-- kept by row triggers on the parent (cloned to every partition) and a
-- TRUNCATE trigger on each leaf partition. This row only names the pieces
-- and the build's state; what is attached where is read from the catalog
-- (the TRUNCATE trigger "pgpart_gu_<id>" marks a table whose values the side
-- table holds), so nothing here can drift from reality unnoticed.
CREATE TABLE pgpart.global_unique (
    -- names the triggers (pgpart_gu_<id>): the side table's OID when made,
    -- kept as data (no sequence), so a restore keeps names and rows in step
    id bigint PRIMARY KEY,
    parent regclass NOT NULL,
    -- the constraint: the side table's unique index carries this name, so a
    -- violation reads like PostgreSQL's own
    constraint_name name NOT NULL,
    side_table regclass NOT NULL,
    columns name[] NOT NULL CHECK (cardinality(columns) BETWEEN 1 AND 32),
    nulls_not_distinct boolean NOT NULL DEFAULT false,
    -- the statements the row trigger runs, built once (pgpart._gu_sql):
    -- row-level security admits only these exact texts for the row's side
    -- table and columns (policy global_unique_write, 20_core), so the
    -- trigger runs them as stored, without building them per row
    insert_sql text NOT NULL,
    delete_sql text NOT NULL,
    -- 'building': the triggers record every write, existing rows are still
    -- being copied (build holds where a resumed build starts); 'valid': done
    state text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'valid')),
    build jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- a partition was dropped while attached: its values may still be
    -- reserved (pgpart.add_global_unique(..., prune => true) releases them)
    stale_since timestamptz,
    author name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (parent, constraint_name)
);

COMMENT ON TABLE pgpart.global_unique IS
'Global unique constraints (pgpart.add_global_unique): parent, columns, the side table holding the values under a unique index named after the constraint, and the build state.';

-- Row-level security as on pgpart.config: everyone reads (every writer's
-- trigger looks its constraint up), only the parent's owner (or a member of
-- the owning role) writes, and the side table must belong to the same owner,
-- so no row here can point a writer's trigger at another owner's table.
ALTER TABLE pgpart.global_unique ENABLE ROW LEVEL SECURITY;

CREATE POLICY global_unique_read ON pgpart.global_unique FOR SELECT USING (true);

-- The write policy (global_unique_write) is created in 20_core/global_unique.sql:
-- it also checks the stored statements with pgpart._gu_sql.

-- The constraint of a table that no longer exists may be forgotten by its
-- author (no owner is left to check).
CREATE POLICY global_unique_forget ON pgpart.global_unique FOR DELETE
USING (
    NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE c.oid = global_unique.parent
    )
    AND pg_catalog.pg_has_role(current_user, author, 'MEMBER')
);

REVOKE ALL ON pgpart.global_unique FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.global_unique TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.global_unique', '');
