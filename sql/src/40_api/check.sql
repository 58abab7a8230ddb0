-- pgpart.check(parent, now_at): compares policy with reality and returns
-- findings, each with a stable code (docs/check-codes.md) and a ready-to-run
-- fix where one exists. Never raises for a finding and never waits for a
-- lock: it reads the catalog, and the few reads of table data (rows in the
-- default partition, the highest integer key) run under a 10 ms lock
-- timeout; what it could not read is reported as a finding of its own.
-- It is the union of the named checks pgpart._find_* (one per kind of
-- finding, each testable alone); what it keeps is the loop over the parents
-- and the isolation of each parent's failure.
CREATE FUNCTION pgpart.check(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, code text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    v_parent regclass;
    v_state text;
    v_message text;
BEGIN
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    IF p_parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            HINT = 'Call pgpart.create_range_partitions for it first.';
    END IF;

    -- Findings about the installation, not about one parent.
    RETURN QUERY
    SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
    FROM (
        SELECT * FROM pgpart._find_event_trigger(p_parent)
        UNION ALL SELECT * FROM pgpart._find_orphan_policies(p_parent)
        UNION ALL SELECT * FROM pgpart._find_global_unique(p_parent)
    ) AS f;

    FOR v_parent IN
        SELECT c.parent FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE p_parent IS NULL OR c.parent = p_parent ORDER BY c.parent
    LOOP
      -- Each parent in a block of its own: one whose check fails (a statement
      -- timeout, the lock table full, a broken policy row) is reported as a
      -- finding and the others are still checked (57014: see
      -- pgpart._statement_timed_out; a cancel stops the whole check).
      BEGIN
        -- UNION ALL runs its branches in this order: the findings come out
        -- grouped by kind, as they always have.
        RETURN QUERY
        SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
        FROM (
            SELECT * FROM pgpart._find_owner_code(v_parent)
            UNION ALL SELECT * FROM pgpart._find_last_error(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_premake(v_parent)
            UNION ALL SELECT * FROM pgpart._find_runway(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_gaps(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_off_grid(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_default_rows(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_default_drain(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_detach_pending(v_parent)
            UNION ALL SELECT * FROM pgpart._find_detached_awaiting(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_export_awaiting(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_journal(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_in_grace(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_index_tablespaces(v_parent)
            UNION ALL SELECT * FROM pgpart._find_partition_owners(v_parent)
            UNION ALL SELECT * FROM pgpart._find_rls_grants(v_parent)
            UNION ALL SELECT * FROM pgpart._find_invalid_indexes(v_parent)
            UNION ALL SELECT * FROM pgpart._find_drift(v_parent)
            UNION ALL SELECT * FROM pgpart._find_hash_remainders(v_parent)
            UNION ALL SELECT * FROM pgpart._find_foreign_keys(v_parent)
            UNION ALL SELECT * FROM pgpart._find_publications(v_parent)
        ) AS f;
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
            RAISE;
        END IF;
        -- the findings returned before the failure stand; this one says the rest is unknown
        RETURN QUERY SELECT 'urgent', 'check_failed'::pgpart.finding_code::text, v_parent, NULL::regclass,
                        format('check of %s failed: %s: %s; its other findings are unknown', v_parent, v_state,
                               v_message),
                        NULL::text;
      END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.check(regclass, timestamptz) IS
'Findings (severity, stable code, parent, partition, problem, ready-to-run fix) comparing policy with the catalog: runway, gaps, off-grid partitions, rows in the default, pending detaches, index tablespaces, owners, grants under row-level security, invalid indexes, foreign keys, publications, orphan policies; codes in docs/check-codes.md. Never waits for a lock.';

-- The overload taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table, where the regclass cast would fail before
-- check() is called (see pgpart._table_arg). No SET clause, so the name is
-- resolved in the caller's search_path, as the cast would; NULL checks
-- every table.
CREATE FUNCTION pgpart.check(parent text, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, code text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
-- as the verb it calls (no SET search_path: see above)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.check(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.check'),
        p_now_at);
END
$body$;

COMMENT ON FUNCTION pgpart.check(text, timestamptz) IS
'check() with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL checks every table.';
