-- The no-op tick (issue 16, item 1): which managed parents have anything for
-- maintenance to do, found for all of them at once by one set-based catalog
-- query, so a tick where nothing is due costs a few catalog reads instead of
-- planning every parent. The catalog stays the only truth: the one thing
-- kept between ticks (pgpart.due_cache, what the bounds say) is used only
-- while a fingerprint read from the catalog shows they have not changed.
-- The oracle is pgpart.run_maintenance(parent, now_at, dry_run => true): a
-- parent is due exactly when that dry run returns a row, or when its last
-- run failed (the real run then clears last_error) - tests/test_due_parents.py.

-- pgpart._due_creation(parent, now_at): the exact answer for the parents the
-- set-based coverage test cannot settle (integer keys, sub-partitions, a gap
-- or an uncovered window, a premake out of bounds): whether maintenance would
-- create a partition, asked of the planner maintenance itself runs. A
-- refusal counts as due: maintenance reports it as an error row.
CREATE FUNCTION pgpart._due_creation(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto  -- not pgpart._due_parents' setting: the planners run as in maintenance
AS $body$
DECLARE
    v_interval text;
    v_caller name;
    v_due boolean;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    -- the same two stages as run_maintenance, as the table's owner (it may
    -- read the table: never with the caller's rights, docs/security.md)
    v_caller := pgpart._become_owner(p_parent);
    v_due := NOT pgpart._window_complete(p_parent, p_now_at);
    IF v_due THEN
        SELECT c.partition_interval INTO v_interval FROM pgpart.config AS c WHERE c.parent = p_parent;
        v_due := EXISTS (
            SELECT 1 FROM pgpart._plan_range_partitions(
                p_parent, v_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, interval '200ms',
                p_now_at, NULL, 200) AS s
            WHERE s.action = 'attach'
        );
    END IF;
    PERFORM set_config('role', v_caller, true);
    RETURN v_due;
EXCEPTION WHEN OTHERS THEN
    RETURN true;  -- maintenance would report this failure: due (the role reverts with the subtransaction)
END
$body$;

COMMENT ON FUNCTION pgpart._due_creation(regclass, timestamptz) IS
'Whether maintenance would create a partition of the parent (or fail trying), asked of the range planner; for the parents _due_parents cannot settle from the catalog alone (internal).';

-- pgpart._due_integer_retention(parent, now_at): whether retention of an
-- integer-keyed parent, or of one with retention by size or rows, has a
-- partition to detach. Its cut-off depends on the highest key value (an
-- index probe of the table) or on partition sizes, which no catalog query
-- can give; a probe that fails counts as due (maintenance reports it).
CREATE FUNCTION pgpart._due_integer_retention(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto  -- not pgpart._due_parents' setting: the planners run as in maintenance
AS $body$
DECLARE
    v_caller name;
    v_due boolean;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    v_caller := pgpart._become_owner(p_parent);  -- the probe reads the table: as its owner
    v_due := EXISTS (SELECT 1 FROM pgpart._expired_partitions(p_parent, p_now_at, interval '200ms'));
    PERFORM set_config('role', v_caller, true);
    RETURN v_due;
EXCEPTION WHEN OTHERS THEN
    RETURN true;
END
$body$;

COMMENT ON FUNCTION pgpart._due_integer_retention(regclass, timestamptz) IS
'Whether an integer-keyed parent has partitions beyond its retention (probes the highest key); true when the probe fails (internal).';

-- pgpart._window_range(kind, step, zone, origin, now, premake): the range
-- [lo, hi) from the slot holding NOW through PREMAKE slots ahead, by
-- arithmetic on the slot index (as pgpart._slot counts slots) instead of
-- one pgpart._slot call per slot: called for every parent on every tick.
CREATE FUNCTION pgpart._window_range(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_origin numeric,
    p_now numeric,
    p_premake integer
)
RETURNS pgpart._range
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_first record;
    v_origin timestamp;
    v_wall timestamp;
    v_k numeric;
    v_months numeric;
BEGIN
    v_first := pgpart._slot(p_kind, p_step, p_zone, p_origin, p_now);
    IF p_kind IN ('integer', 'seconds') THEN
        RETURN ROW(v_first.lo, v_first.lo + (p_premake + 1) * p_step)::pgpart._range;
    END IF;
    -- the wall time of the first slot's start, then the end of the slot
    -- PREMAKE after it, counted from the origin as pgpart._slot counts
    v_origin := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    v_wall := pgpart._coord_to_ts(v_first.lo) AT TIME ZONE p_zone;
    IF p_kind = 'days' THEN
        v_k := round(extract(epoch FROM (v_wall - v_origin)) / 86400);
        RETURN ROW(v_first.lo, extract(epoch FROM (
            (v_origin + make_interval(days => (v_k + (p_premake + 1) * p_step)::int)) AT TIME ZONE p_zone
        )))::pgpart._range;
    END IF;
    v_months := (extract(year FROM v_wall) - extract(year FROM v_origin)) * 12
                + extract(month FROM v_wall) - extract(month FROM v_origin);
    RETURN ROW(v_first.lo, extract(epoch FROM (
        (v_origin + make_interval(months => (v_months + (p_premake + 1) * p_step)::int)) AT TIME ZONE p_zone
    )))::pgpart._range;
END
$body$;

COMMENT ON FUNCTION pgpart._window_range(text, numeric, text, numeric, numeric, integer) IS
'The premake window [lo, hi): from the grid slot holding now through premake slots ahead, computed without iterating (internal).';

-- pgpart._placed_indexes(): every index placed in a tablespace other than
-- the database's default (reltablespace 0 stands for that one), with its
-- table, found through pg_class's index on reltablespace: usually none, so
-- pgpart._due_parents need not read every index of every partition. The
-- planner's statistics of pg_class are often stale (a seq scan of all of
-- it looks cheaper): the settings keep the lookups on the indexes.
CREATE FUNCTION pgpart._placed_indexes()
RETURNS TABLE (indrelid oid, spc oid)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $body$
    SELECT ix.indrelid, ic.reltablespace
    FROM pg_tablespace AS ts
    JOIN pg_class AS ic ON ic.reltablespace = ts.oid
    JOIN pg_index AS ix ON ix.indexrelid = ic.oid
    WHERE ts.spcname <> 'pg_global' AND ic.relkind IN ('i', 'I')
$body$;

COMMENT ON FUNCTION pgpart._placed_indexes() IS
'Indexes in a tablespace other than the database''s default, with their tables, found by index lookups (internal).';

-- pgpart._due_tree(): for every parent automatic maintenance acts on, one
-- pass over its partitions (pg_inherits, and their pg_class rows where the
-- policy reconciles), reduced to a few values (pgpart._due_tree, the type):
-- what pgpart._due_parents needs from every partition, the fingerprint of
-- the bounds cache and the drift checks alike, so neither reads them again.
-- Materialising every partition's row and scanning it once per kind of
-- drift cost three times the catalog reads themselves. STABLE: it reads
-- with the snapshot of the query calling it, so the fingerprint and the
-- bounds that query reads are the same state of the catalog.
CREATE FUNCTION pgpart._due_tree()
RETURNS SETOF pgpart._due_tree
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- index lookups only, whatever the catalog's statistics say: a hash join
-- over a scan of all of pg_class per parent is what stale statistics pick
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $body$
BEGIN
    RETURN QUERY
    SELECT m.parent, t.partitions, t.fingerprint, t.pending, d.detail
    FROM (
        SELECT
            c.parent::oid AS parent, c.reconcile, pc.relowner, pc.relreplident,
            -- a policy whose checks compare every partition's row (grants,
            -- storage parameters, a replica identity index)
            c.reconcile AND (c.propagate_grants OR cardinality(c.reloptions) > 0 OR pc.relreplident = 'i')
                AS all_rows,
            hashtext(c.key_type::text || '/' || coalesce(c.epoch_unit, ''))::bigint AS seed
        FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE c.strategy = 'range' AND c.automatic_maintenance
    ) AS m
    CROSS JOIN LATERAL (
        SELECT
            count(*) AS partitions,
            -- each child and the xmin of its row (a new one for every
            -- ATTACH and DETACH), seeded with the key's type: the bounds'
            -- coordinates depend on it (hash_record_extended: the xid hashed
            -- as it is, not through its text, a third of this pass's cost)
            coalesce(sum(hash_record_extended(ROW(i.inhrelid, i.xmin), m.seed)), 0) AS fingerprint,
            coalesce(bool_or(i.inhdetachpending), false) AS pending,
            array_agg(i.inhrelid) AS children
        FROM pg_inherits AS i
        WHERE i.inhparent = m.parent
    ) AS t
    CROSS JOIN LATERAL (
        -- the partitions the checks read row by row: a partitioned one (its
        -- partitions are read from it), one outside the database's default
        -- tablespace (its indexes are read), one whose owner or replica
        -- identity is unlike the parent's (found drifting there), every one
        -- where all_rows. One aggregate with one filter (one per kind of
        -- drift cost half as much again); the rows found by one index scan
        -- for all the children (= ANY), not one per child (a nested loop:
        -- twice the time). Nothing read where the policy does not reconcile.
        SELECT
            array_agg(c.oid) FILTER (
                WHERE m.all_rows OR c.relkind = 'p' OR c.reltablespace <> 0
                OR c.relowner <> m.relowner OR c.relreplident <> m.relreplident
            ) AS detail
        FROM pg_class AS c
        WHERE m.reconcile AND c.oid = ANY (t.children)
    ) AS d;
END
$body$;

COMMENT ON FUNCTION pgpart._due_tree() IS
'One pass over the partitions of every parent automatic maintenance acts on: the bounds cache''s fingerprint, a pending detach, and the few partitions the drift checks must read row by row (internal).';

-- pgpart._due_parents(now_at): every parent automatic maintenance acts on
-- (pgpart._maintenance_parents(NULL)) that has anything due at NOW_AT, with
-- the reasons, all parents at once:
--   'not permitted'      maintenance would skip it (pgpart._may_maintain);
--   'detach pending'     a DETACH ... CONCURRENTLY to finish;
--   'partitions missing' a slot of the premake window or a gap to create;
--   'expired'            partitions beyond retention;
--   'retention refused'  retention on a table referenced by foreign keys;
--   'journal'            a retention journal entry to act on or discard;
--   'owner', 'index tablespace', 'replica identity', 'reloptions', 'grants',
--   'grants refused'     drift reconcile would repair or report (each kind
--                        pgpart._reconcile_plan plans, mirrored here);
--   'last error'         the last run failed;
--   'default rows'       rows of the default partition to drain (drain_default);
--   'unknown'            the query itself failed (every parent, see the end).
-- Set-based: the drift, retention, journal and coverage tests read the
-- catalog once for all parents; per parent only constant-cost helpers run
-- (the grid, the window's bounds). Per partition it reads only index
-- entries and catalog rows (pg_inherits, pg_class): the bounds are deparsed
-- only when the parent's partitions changed since the last tick
-- (pgpart.due_cache), and an index is read only when it or its table lies
-- outside the database's default tablespace. Two kinds are not decided here and are
-- asked per parent, only where the catalog cannot settle them: creation for
-- integer keys, sub-partitioned parents and any parent whose partitions do
-- not cover the window without a gap (pgpart._due_creation), and retention
-- for integer keys (pgpart._due_integer_retention).
-- Long (about 440 lines): the bounds' summaries first, then one CTE per kind of due work above, each mirroring
-- the planner it stands for, in one query over one reading of the tree.
CREATE FUNCTION pgpart._due_parents(p_now_at timestamptz)
RETURNS TABLE (parent regclass, reasons text[])
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
-- its two long queries planned once per session, not on every tick: a
-- custom plan (the default for the first five calls) cost more than running
-- them. The per-parent helpers it calls plan as usual (plan_cache_mode =
-- auto on pgpart._due_creation and pgpart._due_integer_retention).
SET plan_cache_mode = force_generic_plan
-- bounds are deparsed and read back in UTC, ISO (as pgpart._partitions does)
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_state text;
    v_message text;
    v_sums pgpart.due_cache[];
    v_fresh pgpart.due_cache[];
    v_trees pgpart._due_tree[];
    v_lock_timeout text;
BEGIN
    -- 1. What the bounds of each time-keyed parent say (pgpart.due_cache):
    -- the stored summary while the fingerprint of the parent's pg_inherits
    -- rows (a few index entries per partition, no deparsing) still matches,
    -- else read from the bounds themselves (pgpart._partitions inlined:
    -- SQL per partition, no function call) and stored for the next tick.
    -- The one pass over every parent's partitions (pgpart._due_tree) is
    -- read here, in the snapshot the bounds are read in, and kept for step 2.
    WITH tr AS MATERIALIZED (
        SELECT t FROM pgpart._due_tree() AS t
    ),
    m AS (
        SELECT
            c.parent, c.key_type, c.epoch_unit, c.premake,
            -- the set-based coverage test applies (else the planner is asked)
            c.subpartition IS NULL AND c.premake BETWEEN 0 AND pgpart._max_premake() AS windowed,
            -- everything pgpart._grid and the window depend on, but now
            ROW(c.key_type, c.epoch_unit, c.partition_interval, c.time_zone, c.grid_origin, c.premake)::text
                AS window_key,
            -- now's coordinate, as pgpart._grid reckons it for a time key
            CASE WHEN c.clock = 'instant' THEN extract(epoch FROM p_now_at)
                 ELSE extract(epoch FROM (p_now_at AT TIME ZONE c.time_zone)) END AS now_coord
        FROM (
            SELECT c.*, pgpart._key_clock(c.key_type, c.epoch_unit) AS clock
            FROM pgpart.config AS c
            JOIN pg_class AS pc ON pc.oid = c.parent
            WHERE c.strategy = 'range' AND c.automatic_maintenance
            OFFSET 0  -- one call per parent
        ) AS c
        WHERE c.clock IN ('instant', 'wall')
    ),
    fp AS MATERIALIZED (
        SELECT
            m.parent, m.key_type, m.epoch_unit, m.premake, m.windowed, m.window_key, m.now_coord,
            (tr.t).partitions, (tr.t).fingerprint
        FROM m JOIN tr ON (tr.t).parent = m.parent
    ),
    cached AS MATERIALIZED (
        SELECT
            fp.*,
            d AS cache,
            d.partitions IS NOT DISTINCT FROM fp.partitions AND d.fingerprint IS NOT DISTINCT FROM fp.fingerprint
                AS bounds_hit,
            -- the window is the same for every now in the slot that holds it
            NOT fp.windowed OR coalesce(
                d.window_key = fp.window_key AND fp.now_coord >= d.window_lo AND fp.now_coord < d.window_until, false
            ) AS window_hit
        FROM fp LEFT JOIN pgpart.due_cache AS d ON d.parent = fp.parent
    ),
    miss AS MATERIALIZED (
        SELECT ca.* FROM cached AS ca WHERE NOT ca.bounds_hit
    ),
    children AS MATERIALIZED (
        SELECT mi.parent, i.inhrelid, i.inhdetachpending AS detach_pending, pg_get_expr(c.relpartbound, 0) AS bound
        FROM miss AS mi
        JOIN pg_inherits AS i ON i.inhparent = mi.parent
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE c.relkind IN ('r', 'p', 'f')
    ),
    -- split, not a regular expression (its backtracking costs twice the
    -- deparsing): time literals hold no ") TO ("; a quoted literal loses its
    -- quotes
    literals AS MATERIALIZED (
        SELECT
            ch.parent, ch.inhrelid, ch.detach_pending, ch.bound = 'DEFAULT' AS is_default,
            btrim(substr(split_part(ch.bound, ') TO (', 1), length('FOR VALUES FROM (') + 1), '''') AS lo,
            btrim(rtrim(split_part(ch.bound, ') TO (', 2), ')'), '''') AS hi
        FROM children AS ch
    ),
    bounds AS MATERIALIZED (
        SELECT
            l.parent, l.inhrelid, l.detach_pending,
            CASE WHEN l.lo = 'MINVALUE' THEN '-Infinity'::numeric
                 WHEN mi.key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.lo::timestamptz)
                 WHEN mi.key_type = 'timestamp'::regtype THEN extract(epoch FROM l.lo::timestamp)
                 -- pgpart._uuid_coord and an epoch unit's scale, inlined
                 WHEN mi.key_type = 'uuid'::regtype
                     THEN ('x' || lpad(left(replace(l.lo, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
                 WHEN mi.epoch_unit IS NOT NULL THEN l.lo::numeric / pgpart._epoch_scale(mi.epoch_unit)
                 ELSE extract(epoch FROM l.lo::date::timestamp) END AS lo,
            CASE WHEN l.hi = 'MAXVALUE' THEN 'Infinity'::numeric
                 WHEN mi.key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.hi::timestamptz)
                 WHEN mi.key_type = 'timestamp'::regtype THEN extract(epoch FROM l.hi::timestamp)
                 WHEN mi.key_type = 'uuid'::regtype
                     THEN ('x' || lpad(left(replace(l.hi, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
                 WHEN mi.epoch_unit IS NOT NULL THEN l.hi::numeric / pgpart._epoch_scale(mi.epoch_unit)
                 ELSE extract(epoch FROM l.hi::date::timestamp) END AS hi
        FROM literals AS l JOIN miss AS mi ON mi.parent = l.parent
        WHERE NOT l.is_default
    ),
    ordered AS MATERIALIZED (  -- once, not once per parent joined
        SELECT
            b.parent, b.lo, b.hi, b.detach_pending,
            max(b.hi) OVER (PARTITION BY b.parent ORDER BY b.lo ROWS UNBOUNDED PRECEDING) AS reach,
            lead(b.lo) OVER (PARTITION BY b.parent ORDER BY b.lo) AS next_lo,
            max(b.hi) OVER (PARTITION BY b.parent) AS newest_hi
        FROM bounds AS b
    ),
    fresh_bounds AS MATERIALIZED (
        SELECT
            mi.parent,
            coalesce(bool_or(o.next_lo > o.reach), false) AS has_gap,
            min(o.lo) AS first_lo,
            max(o.hi) AS last_hi,
            -- as pgpart._expired_partitions: not the default, not
            -- detaching, not the newest
            min(o.hi) FILTER (WHERE NOT o.detach_pending AND o.hi < o.newest_hi) AS oldest_hi
        FROM miss AS mi LEFT JOIN ordered AS o ON o.parent = mi.parent
        GROUP BY mi.parent
    ),
    -- the premake window [lo, hi) and the end of the slot holding now
    fresh_windows AS MATERIALIZED (  -- computed once, not once per row joined
        SELECT w.parent, r.lo, r.hi, f.hi AS until
        FROM (
            SELECT ca.parent, g.kind, g.step, g.frame, g.origin, g.now_coord, ca.premake
            FROM cached AS ca
            CROSS JOIN LATERAL pgpart._grid(ca.parent, p_now_at) AS g
            WHERE ca.windowed AND NOT ca.window_hit
            OFFSET 0  -- one call per parent, not one per column read
        ) AS w
        CROSS JOIN LATERAL pgpart._window_range(w.kind, w.step, w.frame, w.origin, w.now_coord, w.premake) AS r
        CROSS JOIN LATERAL pgpart._window_range(w.kind, w.step, w.frame, w.origin, w.now_coord, 0) AS f
    ),
    sums AS (
        SELECT
            ROW(
                ca.parent, ca.partitions, ca.fingerprint,
                CASE WHEN ca.bounds_hit THEN (ca.cache).has_gap ELSE fb.has_gap END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).first_lo ELSE fb.first_lo END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).last_hi ELSE fb.last_hi END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).oldest_hi ELSE fb.oldest_hi END,
                CASE WHEN ca.windowed THEN ca.window_key END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_lo ELSE fw.lo END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_hi ELSE fw.hi END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_until ELSE fw.until END
            )::pgpart.due_cache AS s,
            NOT (ca.bounds_hit AND ca.window_hit) AS changed
        FROM cached AS ca
        LEFT JOIN fresh_bounds AS fb ON fb.parent = ca.parent
        LEFT JOIN fresh_windows AS fw ON fw.parent = ca.parent
    )
    SELECT array_agg(s.s), array_agg(s.s) FILTER (WHERE s.changed), (SELECT array_agg(tr.t) FROM tr)
    INTO v_sums, v_fresh, v_trees
    FROM sums AS s;
    -- stored for the next tick, where the caller may write the row (a
    -- cache: the tick goes on without it, e.g. in a read-only transaction,
    -- or when a concurrent tick holds the row: never waits for it)
    IF v_fresh IS NOT NULL AND NOT current_setting('transaction_read_only')::boolean THEN
        v_lock_timeout := current_setting('lock_timeout');
        BEGIN
            PERFORM set_config('lock_timeout', '10ms', true);
            INSERT INTO pgpart.due_cache AS d
            SELECT f.*
            FROM unnest(v_fresh) AS f JOIN pg_class AS c ON c.oid = f.parent
            WHERE pg_has_role(current_user, c.relowner, 'USAGE')
            ON CONFLICT (parent) DO UPDATE SET
                partitions = excluded.partitions, fingerprint = excluded.fingerprint, has_gap = excluded.has_gap,
                first_lo = excluded.first_lo, last_hi = excluded.last_hi, oldest_hi = excluded.oldest_hi,
                window_key = excluded.window_key, window_lo = excluded.window_lo, window_hi = excluded.window_hi,
                window_until = excluded.window_until;
            -- rows of tables that no longer exist (RLS: only where it is bypassed)
            DELETE FROM pgpart.due_cache AS d
            WHERE NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = d.parent);
            PERFORM set_config('lock_timeout', v_lock_timeout, true);
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- the subtransaction's rollback restores lock_timeout too
        END;
    END IF;
    -- 2. Everything due, all parents at once.
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick runs it)
    RETURN QUERY
    WITH m AS MATERIALIZED (
        -- as pgpart._maintenance_parents(NULL)
        SELECT c.*, pc.relowner, pc.relacl, pc.relreplident, pc.relrowsecurity,
               pgpart._key_clock(c.key_type, c.epoch_unit) AS clock
        FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE c.strategy = 'range' AND c.automatic_maintenance
    ),
    db AS (
        SELECT d.dattablespace AS spc FROM pg_database AS d WHERE d.datname = current_database()
    ),
    -- maintenance skips (and reports) a parent as pgpart._may_maintain says
    refused AS (
        SELECT m.parent, 'not permitted' AS reason
        FROM m
        WHERE CASE  -- CASE: pg_has_role raises for a role that no longer exists
            WHEN NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = m.policy_author) THEN true
            WHEN NOT pg_has_role(m.policy_author, m.relowner, 'USAGE') THEN true
            ELSE NOT pg_has_role(current_user, m.relowner, 'USAGE')
                AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
        END
    ),
    -- what every parent's partitions say (step 1, pgpart._due_tree)
    tree AS MATERIALIZED (
        SELECT m.parent, t.pending, t.detail
        FROM unnest(v_trees) AS t JOIN m ON m.parent = t.parent
    ),
    pending AS (
        SELECT t.parent, 'detach pending' AS reason FROM tree AS t WHERE t.pending
    ),
    failed AS (
        SELECT m.parent, 'last error' AS reason FROM m WHERE m.last_error IS NOT NULL
    ),
    -- the bounds' summaries (step 1)
    sums AS MATERIALIZED (
        SELECT s.* FROM unnest(v_sums) AS s
    ),
    -- Creation. A time-keyed parent without sub-partitions whose partitions
    -- cover one unbroken range that holds the whole premake window has no
    -- slot to create (the planner fills the window and the gaps between
    -- partitions, nothing else); every other parent asks the planner.
    covered AS (
        SELECT s.parent
        FROM sums AS s
        WHERE NOT s.has_gap AND s.first_lo <= s.window_lo AND s.last_hi >= s.window_hi
    ),
    -- Surely due, without asking the planner: a slot of the window that no
    -- partition can overlap, because no partition reaches the window, or
    -- the highest one ends inside it on a slot boundary. The planner creates
    -- that slot (or fails trying, an error row: due as well).
    surely AS (
        SELECT s.parent
        FROM sums AS s
        WHERE
            s.window_lo IS NOT NULL
            AND (
                s.last_hi IS NULL OR s.last_hi <= s.window_lo
                OR (s.last_hi < s.window_hi AND s.last_hi = (
                    SELECT (pgpart._slot(g.kind, g.step, g.frame, g.origin, s.last_hi)).lo
                    FROM pgpart._grid(s.parent::regclass, p_now_at) AS g
                ))
            )
    ),
    creation AS (
        SELECT m.parent, 'partitions missing' AS reason
        FROM m
        WHERE
            m.parent NOT IN (SELECT c.parent FROM covered AS c)
            AND (m.parent IN (SELECT su.parent FROM surely AS su) OR pgpart._due_creation(m.parent, p_now_at))
    ),
    -- Retention, as pgpart._expired_partitions: a partition (not the
    -- default, not detaching, not the newest) ending at or before the cut-off
    cutoffs AS (
        SELECT
            m.parent,
            CASE WHEN m.clock = 'instant'
                     THEN extract(epoch FROM ((p_now_at AT TIME ZONE m.time_zone) - m.retention::interval)
                                             AT TIME ZONE m.time_zone)
                 ELSE extract(epoch FROM ((p_now_at AT TIME ZONE m.time_zone) - m.retention::interval)) END AS cutoff
        FROM m
        WHERE m.retention IS NOT NULL AND m.clock IN ('instant', 'wall')
    ),
    expired AS (
        SELECT c.parent, 'expired' AS reason
        FROM cutoffs AS c JOIN sums AS s ON s.parent = c.parent
        WHERE s.oldest_hi <= c.cutoff
        UNION ALL
        SELECT m.parent, 'expired'
        FROM m
        WHERE
            (m.retention IS NOT NULL AND m.clock = 'integer'
             -- retention by size or rows reads partition sizes: asked of the planner too
             OR m.retention_max_bytes IS NOT NULL OR m.retention_max_rows IS NOT NULL)
            AND pgpart._due_integer_retention(m.parent, p_now_at)
    ),
    -- retention of a parent other tables reference is refused, every time
    -- (pgpart._retention_plan), which maintenance reports
    retention_refused AS (
        SELECT m.parent, 'retention refused' AS reason
        FROM m
        WHERE
            (m.retention IS NOT NULL OR m.retention_max_bytes IS NOT NULL OR m.retention_max_rows IS NOT NULL)
            AND m.referenced_retention = 'refuse'
            AND EXISTS (
                SELECT 1 FROM pg_constraint AS con
                WHERE con.confrelid = m.parent AND con.contype = 'f' AND con.conparentid = 0
            )
    ),
    -- an open journal entry (pgpart._journal) is due whatever its state:
    -- 'awaiting' is archived or dropped, 'stale' discarded, 'pending' has a
    -- pending detach
    journal AS (
        SELECT DISTINCT j.parent, 'journal' AS reason
        FROM pgpart.log AS j
        JOIN m ON m.parent = j.parent
        WHERE
            j.action = 'detach' AND j.journal_oid IS NOT NULL
            AND j.detail ->> 'then' IN ('archive', 'drop')
            -- not while its grace period lasts (pgpart._grace_until)
            AND j.logged_at + coalesce(m.retention_grace, interval '0') <= greatest(p_now_at, now())
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS later
                WHERE
                    later.parent = j.parent AND later.action = 'detach'
                    AND later.journal_oid = j.journal_oid AND later.id > j.id
            )
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = j.parent
                    AND done.action IN ('archive', 'drop', 'discard', 'reattach')
                    AND done.journal_oid = j.journal_oid
                    AND done.id > j.id
            )
    ),
    -- Drift: each kind pgpart._reconcile_plan plans, for every partition at
    -- every level of the parents whose policy reconciles. Read by index
    -- lookups from the managed parents down (indexes: pgpart._placed_indexes),
    -- never by a scan of all of pg_class or pg_index, so the cost follows the
    -- managed partitions, not the size of the database.
    level1 AS MATERIALIZED (  -- the partitions tree.detail names (usually none)
        SELECT
            t.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
            c.reltablespace
        FROM tree AS t
        CROSS JOIN LATERAL unnest(t.detail) AS d (oid)
        JOIN pg_class AS c ON c.oid = d.oid
    ),
    -- the levels below, only under a partitioned partition (a recursion
    -- over every partition would cost as much again)
    deeper AS (
        WITH RECURSIVE t AS (
            SELECT
                l.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
                c.reltablespace
            FROM level1 AS l
            JOIN pg_inherits AS i ON i.inhparent = l.oid
            JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE l.relkind = 'p'
            UNION ALL
            SELECT
                t.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
                c.reltablespace
            FROM t
            JOIN pg_inherits AS i ON i.inhparent = t.oid
            JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE t.relkind = 'p'  -- only a partitioned table has partitions
        )
        SELECT * FROM t
    ),
    parts AS MATERIALIZED (
        SELECT
            t.parent, t.oid, t.relkind, t.relowner, t.relacl, t.relreplident, t.reloptions, t.reltoastrelid,
            t.reltablespace, coalesce(nullif(t.reltablespace, 0), (SELECT db.spc FROM db)) AS spc
        FROM (SELECT * FROM level1 UNION ALL SELECT * FROM deeper) AS t
        WHERE t.relkind IN ('r', 'p')
    ),
    owners AS (
        SELECT DISTINCT p.parent, 'owner' AS reason
        FROM parts AS p JOIN m ON m.parent = p.parent
        WHERE p.relowner <> m.relowner
    ),
    -- An index in another tablespace than its partition: one of the two is
    -- outside the database's default (reltablespace 0 stands for it), so
    -- only such relations are read (pg_class has an index on reltablespace),
    -- not every index of every partition: the indexes of a partition outside
    -- the default (tree.detail names it), and the indexes outside it, traced
    -- up to their managed parent (pg_partition_ancestors: a few index
    -- entries each, and usually there are none).
    index_spaces AS (
        SELECT DISTINCT x.parent, 'index tablespace' AS reason
        FROM (
            SELECT p.parent, p.spc, ic.reltablespace
            FROM parts AS p
            JOIN pg_index AS ix ON ix.indrelid = p.oid
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE p.reltablespace <> 0
            UNION ALL
            SELECT m.parent, coalesce(nullif(c.reltablespace, 0), (SELECT db.spc FROM db)), x.spc
            FROM pgpart._placed_indexes() AS x
            -- OFFSET 0: looked up by each index's table, never a scan of pg_class
            CROSS JOIN LATERAL (
                SELECT c.oid, c.reltablespace FROM pg_class AS c
                WHERE c.oid = x.indrelid AND c.relispartition AND c.relkind IN ('r', 'p')
                OFFSET 0
            ) AS c
            CROSS JOIN LATERAL pg_partition_ancestors(c.oid) AS a
            JOIN m ON m.parent = a.relid
            WHERE m.reconcile AND a.relid <> c.oid
        ) AS x
        CROSS JOIN db
        WHERE coalesce(nullif(x.reltablespace, 0), db.spc) <> x.spc
    ),
    idents AS (
        SELECT DISTINCT i.parent, 'replica identity' AS reason
        FROM (
            SELECT
                p.parent, m.relreplident AS want, p.relreplident AS have,
                -- CASE: looked up only when the parent's identity is an index
                CASE WHEN m.relreplident = 'i' THEN (
                    SELECT x.indexrelid FROM pg_index AS x
                    WHERE
                        x.indrelid = p.oid
                        AND (SELECT y.indexrelid FROM pg_index AS y WHERE y.indrelid = m.parent AND y.indisreplident)
                        IN (SELECT a.relid FROM pg_partition_ancestors(x.indexrelid) AS a)
                    LIMIT 1
                ) END AS want_index,
                CASE WHEN m.relreplident = 'i' THEN (
                    SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = p.oid AND x.indisreplident LIMIT 1
                ) END AS have_index
            FROM parts AS p JOIN m ON m.parent = p.parent
        ) AS i
        WHERE i.have <> i.want OR (i.want = 'i' AND i.have_index IS DISTINCT FROM i.want_index)
    ),
    opts AS MATERIALIZED (  -- usually empty: then no partition is read here
        SELECT
            m.parent,
            lower(btrim(split_part(o, '=', 1))) AS name,
            btrim(substr(o, strpos(o, '=') + 1)) AS value
        FROM m CROSS JOIN LATERAL unnest(m.reloptions) AS o
        WHERE m.reconcile AND strpos(o, '=') > 0
    ),
    storage AS (
        SELECT DISTINCT p.parent, 'reloptions' AS reason
        FROM opts AS o
        JOIN parts AS p ON p.parent = o.parent
        WHERE
            p.relkind = 'r'
            AND o.name ~ '^(toast\.)?[a-z_][a-z0-9_]*$'
            AND (o.name NOT LIKE 'toast.%' OR p.reltoastrelid <> 0)
            -- the TOAST table read only for a toast.* option
            AND NOT coalesce(CASE WHEN o.name LIKE 'toast.%'
                                  THEN (SELECT tc.reloptions FROM pg_class AS tc WHERE tc.oid = p.reltoastrelid)
                                  ELSE p.reloptions END, '{}'::text [])
            @> ARRAY [regexp_replace(o.name, '^toast\.', '') || '=' || o.value]
    ),
    grant_parents AS (
        SELECT
            m.parent, m.relowner, coalesce(m.relacl, acldefault('r', m.relowner)) AS acl,
            m.relrowsecurity OR EXISTS (
                SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = m.parent AND a.attacl IS NOT NULL AND NOT a.attisdropped
            ) AS grants_refused
        FROM m
        WHERE m.reconcile AND m.propagate_grants
    ),
    grants_refused AS (
        SELECT g.parent, 'grants refused' AS reason FROM grant_parents AS g WHERE g.grants_refused
    ),
    -- the partition's grants as they will read once its owner is the
    -- parent's, against the parent's: any difference is a grant or revoke
    want AS (
        SELECT g.parent, a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
        FROM grant_parents AS g CROSS JOIN LATERAL aclexplode(g.acl) AS a
        WHERE NOT g.grants_refused
        GROUP BY 1, 2, 3
    ),
    have AS (
        SELECT
            p.parent, p.oid,
            CASE WHEN a.grantee = p.relowner THEN g.relowner ELSE a.grantee END AS grantee,
            a.privilege_type,
            bool_or(a.is_grantable) AS grantable
        FROM parts AS p
        JOIN grant_parents AS g ON g.parent = p.parent
        CROSS JOIN LATERAL aclexplode(coalesce(p.relacl, acldefault('r', p.relowner))) AS a
        WHERE NOT g.grants_refused
        GROUP BY 1, 2, 3, 4
    ),
    grants AS (
        SELECT DISTINCT d.parent, 'grants' AS reason
        FROM (
            (SELECT p.parent, p.oid, w.grantee, w.privilege_type, w.grantable
             FROM parts AS p JOIN want AS w ON w.parent = p.parent
             EXCEPT
             SELECT h.parent, h.oid, h.grantee, h.privilege_type, h.grantable FROM have AS h)
            UNION ALL
            (SELECT h.parent, h.oid, h.grantee, h.privilege_type, h.grantable FROM have AS h
             EXCEPT
             SELECT p.parent, p.oid, w.grantee, w.privilege_type, w.grantable
             FROM parts AS p JOIN want AS w ON w.parent = p.parent)
        ) AS d
    ),
    -- rows of the default partition to drain (policy drain_default): one
    -- probe of the default per such parent (pgpart._due_drain)
    drain AS (
        SELECT m.parent, 'default rows' AS reason
        FROM m JOIN pg_partitioned_table AS pt ON pt.partrelid = m.parent
        WHERE m.drain_default AND pt.partdefid <> 0 AND pgpart._due_drain(m.parent)
    ),
    due AS (
        SELECT * FROM refused
        UNION ALL SELECT * FROM pending
        UNION ALL SELECT * FROM creation
        UNION ALL SELECT * FROM expired
        UNION ALL SELECT * FROM retention_refused
        UNION ALL SELECT * FROM journal
        UNION ALL SELECT * FROM owners
        UNION ALL SELECT * FROM index_spaces
        UNION ALL SELECT * FROM idents
        UNION ALL SELECT * FROM storage
        UNION ALL SELECT * FROM grants_refused
        UNION ALL SELECT * FROM grants
        UNION ALL SELECT * FROM failed
        UNION ALL SELECT * FROM drain
    )
    SELECT d.parent, array_agg(DISTINCT d.reason ORDER BY d.reason)
    FROM due AS d
    GROUP BY d.parent
    ORDER BY d.parent;
EXCEPTION WHEN OTHERS THEN
    -- One query for all parents fails for all of them (e.g. a policy row
    -- edited by hand into an unreadable interval): never let one parent stop
    -- the others' maintenance. Every parent is then due ('unknown') and gets
    -- its per-parent work, which isolates the failure to its own parent.
    -- (Nothing was returned yet: the final sort reads every row first.)
    -- (a cancel or a statement timeout is not among OTHERS: it stops the tick)
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
    RAISE WARNING 'pgpart: the due-parents filter failed (% %): every parent is maintained', v_state, v_message;
    RETURN QUERY
    SELECT c.parent, ARRAY['unknown']
    FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
    WHERE c.strategy = 'range' AND c.automatic_maintenance
    ORDER BY c.parent;
END
$body$;

COMMENT ON FUNCTION pgpart._due_parents(timestamptz) IS
'The parents automatic maintenance acts on that have anything due at now_at (missing partitions, retention, pending detaches, journal entries, drift reconcile repairs, a failed last run), with the reasons; one set-based catalog query (internal).';
