-- pgpart._apply_reconcile(parent, move_large, timeout, retries, dry_run): carries out
-- the reconcile plan of PARENT (pgpart._reconcile_plan), shared by
-- pgpart.reconcile and the event triggers; neither checks ownership nor logs.
-- When nothing is out of step it reads only the catalog and takes no lock.
-- Otherwise, lock-bounded (DESIGN §3): the advisory lock of the parent, then
-- LOCK TABLE ONLY each partition to change (OID order; ACCESS EXCLUSIVE, or
-- SHARE UPDATE EXCLUSIVE for storage parameters alone) as one group under
-- the lock timeout with retries; then plans again under those locks, so the
-- plan cannot be stale, and runs it. All or nothing: on an error or a lock
-- timeout nothing is changed. Refuses (0A000) grant propagation on a parent
-- with row-level security or column privileges. Its DDL runs with the event
-- triggers off (function-level SET, which reverts on return).
CREATE FUNCTION pgpart._apply_reconcile(
    p_parent regclass,
    p_move_large boolean,
    p_timeout interval,
    p_retries integer,
    p_dry_run boolean
)
RETURNS TABLE (partition regclass, action text, statement text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
#variable_conflict use_column
DECLARE
    v_plan pgpart._fix [];
    v_steps pgpart.step [];
    v_refused text;
BEGIN
    v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    IF NOT p_dry_run AND EXISTS (
        SELECT 1 FROM unnest(v_plan) AS f WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
    ) THEN
        -- lock what the plan touches, then plan again under those locks
        PERFORM pgpart._acquire_locks(
            array(SELECT l.statement FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step),
            p_timeout, p_retries);
        v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    END IF;

    SELECT f.detail INTO v_refused FROM unnest(v_plan) AS f WHERE f.action = 'refused';
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = v_refused,
            HINT = format('Grant access on the parent only, and turn propagation off: '
                          'SELECT pgpart.set_policy(%L, propagate_grants => false);', p_parent::text),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;

    IF NOT p_dry_run THEN
        v_steps := array(SELECT l FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step)
                   || array(
                       SELECT ROW(1000000 + f.ord, f.partition::text, NULL, NULL, f.action, f.statement,
                                  f.lock_mode, false)::pgpart.step
                       FROM unnest(v_plan) AS f
                       WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
                       ORDER BY f.ord
                   );
        IF cardinality(v_steps) > 0 THEN
            PERFORM pgpart._run_steps(v_steps, p_timeout, p_retries);
        END IF;
    END IF;

    RETURN QUERY
    SELECT f.partition, f.action, f.statement, f.detail FROM unnest(v_plan) AS f ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._apply_reconcile(regclass, boolean, interval, integer, boolean) IS
'Carries out the reconcile plan of a parent, lock-bounded and all or nothing, with the event triggers off; returns the plan. No ownership check, no log (internal).';

-- pgpart._reconcile_locks(parent, plan): the lock steps that precede a
-- reconcile plan: the parent's advisory lock, then each partition the plan
-- changes, ONLY, in OID order, in the strongest mode its statements need.
-- Empty when the plan changes nothing.
CREATE FUNCTION pgpart._reconcile_locks(p_parent regclass, p_plan pgpart._fix[])
RETURNS SETOF pgpart.step
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH parts AS (
        SELECT
            f.partition,
            CASE WHEN bool_or(f.lock_mode = 'ACCESS EXCLUSIVE') THEN 'ACCESS EXCLUSIVE'
                 ELSE 'SHARE UPDATE EXCLUSIVE' END AS mode
        FROM unnest(p_plan) AS f
        WHERE f.lock_mode IS NOT NULL AND f.action NOT IN ('skipped large', 'skipped', 'refused')
        GROUP BY f.partition
    ),
    locks AS (
        SELECT
            0::bigint AS n, NULL::text AS partition,
            format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)) AS statement,
            format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent) AS locks
        WHERE EXISTS (
            SELECT 1 FROM unnest(p_plan) AS f WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
        )
        UNION ALL
        SELECT
            row_number() OVER (ORDER BY p.partition::oid), p.partition::text,
            format('LOCK TABLE ONLY %s IN %s MODE', p.partition, p.mode),
            format('%s on %s', p.mode, p.partition)
        FROM parts AS p
    )
    SELECT ROW(l.n::integer + 1, l.partition, NULL, NULL, 'lock', l.statement, l.locks, false)::pgpart.step
    FROM locks AS l
    ORDER BY l.n;
$body$;

COMMENT ON FUNCTION pgpart._reconcile_locks(regclass, pgpart._fix[]) IS
'Lock steps before a reconcile plan: the parent''s advisory lock, then each partition to change (ONLY, OID order) in the mode it needs (internal).';
