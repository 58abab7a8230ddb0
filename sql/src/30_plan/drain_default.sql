-- A default partition that heals itself (issue 19, item 3; docs/operations.md
-- "A default partition that heals itself"): with the policy's drain_default
-- on, every maintenance run moves rows out of the default partition into
-- new partitions of the grid, one range per transaction where the entry
-- point can commit (pgpart._drain_default_step in 40_api/run_maintenance.sql).
-- Bounded in lock time, not only in rows: each ATTACH scans the whole heap
-- of the default under ACCESS EXCLUSIVE, so the drain runs only while that
-- heap is at most drain_default_max_bytes; above it, nothing moves and
-- check() says what to do (default_too_large_to_drain).

-- pgpart._drain_max_ranges(): at most this many ranges move per maintenance
-- run and parent (a constant, not a setting: it bounds one run's work and,
-- in the function form, the locks one transaction holds; a bigger burst
-- drains over the following runs).
CREATE FUNCTION pgpart._drain_max_ranges()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 32;
$body$;

COMMENT ON FUNCTION pgpart._drain_max_ranges() IS
'At most this many ranges of the default partition are drained per maintenance run and parent (internal).';

-- pgpart._drain_state(parent, lock_timeout): whether maintenance drains the
-- default partition of PARENT now, and why not. STATE is 'off' (policy off,
-- not RANGE, or no default), 'empty' (no row with a key: a NULL key stays in
-- the default), 'drain', 'too large' (rows, but the default's heap, what
-- ATTACH scans, is above the limit) or 'locked' (the default could not be
-- read within LOCK_TIMEOUT: pg_relation_size and the probe wait behind an
-- ACCESS EXCLUSIVE). Reads the default (one probe for a row with a key):
-- callers run it as the table's owner, or guard the owner's code first.
CREATE FUNCTION pgpart._drain_state(p_parent regclass, p_lock_timeout interval)
RETURNS TABLE (state text, default_partition regclass, heap_bytes bigint, max_bytes bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_has_rows boolean;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    default_partition := pgpart._default_partition(p_parent);
    max_bytes := v_cfg.drain_default_max_bytes;
    IF NOT coalesce(v_cfg.drain_default, false) OR v_cfg.strategy <> 'range' OR default_partition IS NULL THEN
        state := 'off';
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NOT NULL)', default_partition,
                       v_cfg.key_column)
        INTO v_has_rows;
        -- the heap of every leaf of the default (a default may itself be
        -- partitioned): what each ATTACH scans, dead rows included
        SELECT coalesce(sum(pg_relation_size(t.relid)), 0)::bigint INTO heap_bytes
        FROM pg_partition_tree(default_partition) AS t WHERE t.isleaf;
    EXCEPTION WHEN lock_not_available THEN
        state := 'locked';
        RETURN NEXT;
        RETURN;
    END;
    state := CASE WHEN NOT v_has_rows THEN 'empty' WHEN heap_bytes > max_bytes THEN 'too large' ELSE 'drain' END;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_state(regclass, interval) IS
'Whether maintenance drains the default partition of a parent now (drain, empty, off, too large, locked), with the default''s heap size and the policy''s limit (internal).';

-- pgpart._drain_lock_statements(parent): the lock group of one drained
-- range: pgpart._lock_statements (the one documented order) with the
-- parent taken SHARE ROW EXCLUSIVE instead of SHARE UPDATE EXCLUSIVE. That
-- mode waits for open writes on the parent and makes new writers wait at
-- the parent, before they look at its partitions: once the range commits
-- they route their rows into the new partition. Without it a writer whose
-- row goes to the default waits on the default's lock and then fails 23514
-- (PostgreSQL re-checks the default's narrowed constraint; DESIGN §10.6).
-- Readers are not blocked by it (only by the default's lock, as always).
CREATE FUNCTION pgpart._drain_lock_statements(p_parent regclass)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(
        CASE WHEN l.statement = format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent)
            THEN format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', p_parent)
            ELSE l.statement END
        ORDER BY l.n
    )
    FROM pgpart._lock_statements(p_parent) WITH ORDINALITY AS l (statement, locks, n);
$body$;

COMMENT ON FUNCTION pgpart._drain_lock_statements(regclass) IS
'The lock statements of one drained range: as any change of partitions, with the parent SHARE ROW EXCLUSIVE so that writers wait instead of failing (internal).';

-- pgpart._drain_too_large(state): the report of a drain refused for size,
-- shared by maintenance's 'skipped' row and check()'s finding.
CREATE FUNCTION pgpart._drain_too_large(p_default regclass, p_bytes bigint, p_max bigint)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT format('drain_default: the default partition %s holds rows and %s bytes of heap, more than '
                  'drain_default_max_bytes (%s): each range''s ATTACH would scan it all under ACCESS EXCLUSIVE, '
                  'so nothing is drained', p_default, p_bytes, p_max);
$body$;

COMMENT ON FUNCTION pgpart._drain_too_large(regclass, bigint, bigint) IS
'The text reporting a drain of the default partition refused for its size (internal).';

-- pgpart._find_default_drain(parent, now_at): code
-- 'default_too_large_to_drain': the policy drains the default, it holds
-- rows, and its heap is above drain_default_max_bytes, so maintenance
-- drains nothing. The fix moves the rows by hand (one range per
-- transaction, in a quiet hour); raising the limit is the alternative,
-- named in the problem. Reads under a 10 ms lock timeout: a locked or
-- unreadable default gives no finding here (default_rows_unknown says so).
CREATE FUNCTION pgpart._find_default_drain(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
AS $body$
DECLARE
    v_state record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.drain_default)
       OR pgpart._default_partition(p_parent) IS NULL
       OR NOT has_table_privilege(pgpart._default_partition(p_parent), 'SELECT') THEN
        RETURN;
    END IF;
    BEGIN
        -- reading the default runs its row-level security policies (docs/security.md)
        PERFORM pgpart._guard_owner_code(p_parent, 'read');
        SELECT * INTO v_state FROM pgpart._drain_state(p_parent, interval '10ms');
    EXCEPTION WHEN insufficient_privilege THEN
        RETURN;
    END;
    IF v_state.state = 'too large' THEN
        RETURN QUERY SELECT 'warning', 'default_too_large_to_drain'::pgpart.finding_code, p_parent,
                            v_state.default_partition,
                            pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                            || format('; move the rows in a quiet hour (the fix), or raise the limit: '
                                      'SELECT * FROM pgpart.set_policy(%L, drain_default_max_bytes => %s);',
                                      p_parent::text, v_state.heap_bytes),
                            pgpart._fix_call('CALL pgpart.move_default_rows', p_parent, '', p_now_at);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_default_drain(regclass, timestamptz) IS
'Finding default_too_large_to_drain of pgpart.check(): the policy drains the default partition, but it holds rows and is above drain_default_max_bytes (internal).';

-- pgpart._due_drain(parent): for pgpart._due_parents, whether maintenance
-- has rows of the default partition to drain (or to report as too large or
-- locked), as the table's owner; a probe that fails counts as due
-- (maintenance reports it). Asked only of parents with drain_default on
-- and a default partition: one probe of the default's rows per tick.
CREATE FUNCTION pgpart._due_drain(p_parent regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name;
    v_state text;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    v_caller := pgpart._become_owner(p_parent);  -- the probe reads the table: as its owner
    SELECT d.state INTO v_state FROM pgpart._drain_state(p_parent, interval '200ms') AS d;
    PERFORM set_config('role', v_caller, true);
    RETURN v_state NOT IN ('off', 'empty');
EXCEPTION WHEN OTHERS THEN
    RETURN true;
END
$body$;

COMMENT ON FUNCTION pgpart._due_drain(regclass) IS
'Whether maintenance has rows of the default partition to drain (policy drain_default), or to report; true when the probe fails (internal).';
