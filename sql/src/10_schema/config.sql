-- pgpart.config: one row of policy per managed parent (DESIGN §2).
-- Only policy and the grid live here; partitions and bounds are always read
-- from the catalog, so nothing here can drift from reality.
-- Keyed by regclass: follows RENAME and SET SCHEMA, dumps schema-qualified.
CREATE TABLE pgpart.config (
    parent regclass PRIMARY KEY,
    strategy text NOT NULL DEFAULT 'range'
    CHECK (strategy IN ('range', 'list', 'hash')),
    key_column name NOT NULL,
    key_type regtype NOT NULL,
    -- canonical interval text ('1 day', '01:00:00', '3 mons') or an integer
    partition_interval text,
    -- wall time of the grid origin in the grid's zone, or an integer
    grid_origin text,
    time_zone text NOT NULL DEFAULT 'UTC',
    premake integer NOT NULL DEFAULT 4 CHECK (premake >= 0),
    -- the attach tablespace: where new partitions go (NULL: parent's, else
    -- the database default)
    tablespace name,
    -- storage parameters for new partitions (partitioned parents have none)
    reloptions text[],
    -- every new range partition is itself partitioned by this spec
    -- (pgpart._subpartition_spec), or NULL
    subpartition jsonb,
    -- lifecycle policy, set by pgpart.set_policy: how long partitions are
    -- kept (an interval, or a distance in key values for integer keys)
    retention text,
    -- what happens to an expired partition once detached ('export': it waits,
    -- detached, for the client to write it to Parquet, verify and drop it)
    retention_action text NOT NULL DEFAULT 'detach'
    CHECK (retention_action IN ('detach', 'archive', 'drop', 'export')),
    -- where archived partitions go: schema and/or the detach tablespace
    archive_schema name,
    archive_tablespace name,
    -- retention on a parent referenced by foreign keys: 'refuse' (0A000) or
    -- 'allow' (DETACH then fails while rows are still referenced)
    referenced_retention text NOT NULL DEFAULT 'refuse'
    CHECK (referenced_retention IN ('refuse', 'allow')),
    automatic_maintenance boolean NOT NULL DEFAULT true,
    -- ANALYZE the parent after partitions change (autovacuum never does)
    analyze_after boolean NOT NULL DEFAULT true,
    -- event triggers and reconcile: keep partitions in step with the parent
    reconcile boolean NOT NULL DEFAULT true,
    -- copy the parent's grants to partitions (refused with row-level security)
    propagate_grants boolean NOT NULL DEFAULT false,
    -- indexes larger than this are reported, not moved, by reconcile
    move_large_bytes bigint NOT NULL DEFAULT 104857600 CHECK (move_large_bytes >= 0),
    -- the last failure of maintenance on this parent, kept for check()
    last_error text,
    last_error_at timestamptz,
    policy_author name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- an integer range key holding Unix time in seconds, milliseconds or
    -- microseconds: gridded as a timestamptz would be (NULL: plain numbers;
    -- last, as ALTER TABLE ... ADD COLUMN places it on upgrade)
    epoch_unit text CHECK (epoch_unit IN ('s', 'ms', 'us')),
    -- every maintenance run moves rows out of the default partition into
    -- partitions of the grid (pgpart._drain_default_step), bounded per run
    drain_default boolean NOT NULL DEFAULT false,
    -- ... but only while the default's heap is at most this large: each
    -- ATTACH scans all of it under ACCESS EXCLUSIVE (docs/operations.md)
    drain_default_max_bytes bigint NOT NULL DEFAULT 67108864 CHECK (drain_default_max_bytes >= 0),
    -- retention by volume (pgpart._expiry): keep at most this many bytes /
    -- rows in the partitions, the oldest expiring first; NULL: no such rule
    retention_max_bytes bigint CHECK (retention_max_bytes > 0),
    retention_max_rows bigint CHECK (retention_max_rows > 0),
    -- an expired partition stays detached this long before its archive or
    -- drop (counted from its journaled detach); NULL: none
    retention_grace interval CHECK (retention_grace > interval '0')
);

COMMENT ON TABLE pgpart.config IS
'Partitioning policy, one row per managed parent. Partitions and bounds are never stored: they are read from the catalog.';

-- Row-level security instead of SECURITY DEFINER setters (DESIGN §6): a role
-- may read every policy but write only the rows of tables it owns (or whose
-- owning role it is a member of), whether through pgpart's functions or by
-- writing the table directly. Superusers and the extension owner bypass it.
ALTER TABLE pgpart.config ENABLE ROW LEVEL SECURITY;

CREATE POLICY config_read ON pgpart.config FOR SELECT USING (true);

CREATE POLICY config_write ON pgpart.config FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = config.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    -- the author is the writer or a role the writer acts for, never another
    pg_catalog.pg_has_role(current_user, policy_author, 'MEMBER')
    AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = config.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

-- The policy of a table that no longer exists may be deleted by its author
-- (no owner is left to check).
CREATE POLICY config_forget ON pgpart.config FOR DELETE
USING (
    NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE c.oid = config.parent
    )
    AND pg_catalog.pg_has_role(current_user, policy_author, 'MEMBER')
);

REVOKE ALL ON pgpart.config FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.config TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.config', '');
