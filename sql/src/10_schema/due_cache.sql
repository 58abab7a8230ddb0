-- pgpart.due_cache: what pgpart._due_parents read from a time-keyed
-- parent's partition bounds (issue 16, item 1). Deparsing every bound
-- (pg_get_expr) made a no-op tick cost ~20 µs per partition; the summary
-- below changes only when a partition is attached or detached, so it is
-- kept with a fingerprint of the parent's pg_inherits rows (each child's oid
-- and the row's xmin: ATTACH, DETACH and DETACH CONCURRENTLY all write a
-- new row) and the key's type. A row is used only while the fingerprint
-- read from the catalog equals the stored one: it cannot drift, and a lost
-- or stale row only costs one recomputation. Not dumped (a cache).
CREATE TABLE pgpart.due_cache (
    parent oid PRIMARY KEY,
    partitions bigint NOT NULL,
    fingerprint numeric NOT NULL,
    -- of the partitions other than the default (detaching ones included):
    -- a hole between two of them, the lowest lower and highest upper bound,
    -- as coordinates (pgpart._literal_to_coord's)
    has_gap boolean,
    first_lo numeric,
    last_hi numeric,
    -- the lowest upper bound of a partition retention may detach (not
    -- detaching, not the newest): due as 'expired' once at or below the cut-off
    oldest_hi numeric,
    -- the premake window [window_lo, window_hi) computed for a now in the
    -- slot [window_lo, window_until), for the policy fields in window_key
    -- (pgpart._grid's inputs): valid for every now in that slot; NULL where
    -- the set-based coverage test does not apply
    window_key text,
    window_lo numeric,
    window_hi numeric,
    window_until numeric
);

COMMENT ON TABLE pgpart.due_cache IS
'Cache of pgpart._due_parents: a summary of each time-keyed parent''s partition bounds, used only while the fingerprint of its pg_inherits rows is unchanged (internal).';

-- Row-level security as on pgpart.config: everyone reads, only a role that
-- may maintain the table (its owner or a member of the owning role) writes
-- its row, so nobody can make another owner's parent look covered.
ALTER TABLE pgpart.due_cache ENABLE ROW LEVEL SECURITY;

CREATE POLICY due_cache_read ON pgpart.due_cache FOR SELECT USING (true);

CREATE POLICY due_cache_write ON pgpart.due_cache FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = due_cache.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = due_cache.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

-- The row of a table that no longer exists stays until a superuser's tick
-- (RLS bypassed) deletes it: harmless, as an OID used again by another
-- table does not match the fingerprint.

REVOKE ALL ON pgpart.due_cache FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.due_cache TO PUBLIC;

-- pgpart._due_tree: what pgpart._due_tree() reads from one managed parent's
-- partitions in its one pass over them, for pgpart._due_parents.
CREATE TYPE pgpart._due_tree AS (
    parent oid,
    -- the bounds cache's fingerprint (pgpart.due_cache)
    partitions bigint,
    fingerprint numeric,
    -- a partition is detaching (DETACH ... CONCURRENTLY to finish)
    pending boolean,
    -- the partitions the drift checks read row by row
    detail oid []
);

COMMENT ON TYPE pgpart._due_tree IS
'What pgpart._due_tree() reads from one managed parent''s partitions, for pgpart._due_parents (internal).';
