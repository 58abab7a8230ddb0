-- pgpart._apply(target, steps, verb, detail): the last step of every verb's
-- pipeline (prepare → plan → apply). It takes the plan's lock steps that the
-- target does not hold yet (a target prepared with locks holds its own: they
-- are taken once), runs the other steps in order (pgpart._run_steps, under
-- the lock timeout), and logs one entry for VERB: DETAIL plus the number of
-- steps run and a digest of their statements, so the log says exactly which
-- plan ran (a dry run's plan has the same digest). A NULL DETAIL logs
-- nothing (a call that changed nothing).
CREATE FUNCTION pgpart._apply(
    p_target pgpart._target,
    p_steps pgpart.step[],
    p_verb text,
    p_detail jsonb
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_held text [] := CASE WHEN p_target.locked
                           THEN array(SELECT s.statement FROM unnest(p_target.lock_steps) AS s)
                           ELSE '{}'::text [] END;
    v_missing text [];
BEGIN
    v_missing := array(SELECT s.statement FROM unnest(p_steps) AS s
                       WHERE s.action = 'lock' AND NOT s.statement = ANY (v_held) ORDER BY s.step);
    IF cardinality(v_missing) > 0 THEN
        PERFORM pgpart._acquire_locks(v_missing, p_target.lock_timeout, p_target.lock_retries);
    END IF;
    PERFORM pgpart._run_steps(
        array(SELECT s FROM unnest(p_steps) AS s WHERE s.action <> 'lock' ORDER BY s.step),
        p_target.lock_timeout, p_target.lock_retries);
    -- new partitions join the parent's global unique constraints (the event
    -- triggers leave pgpart's own DDL alone)
    PERFORM pgpart._gu_sync_tree(p_target.parent);
    IF p_detail IS NOT NULL THEN
        PERFORM pgpart._log(p_target.parent, p_verb, 'ok',
                            p_detail || jsonb_build_object('steps', coalesce(cardinality(p_steps), 0),
                                                           'plan_md5', pgpart._plan_digest(p_steps)));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._apply(pgpart._target, pgpart.step[], text, jsonb) IS
'Runs a verb''s plan: takes its locks not yet held, runs its steps in order under the lock timeout, logs the verb with the plan''s digest (internal).';

-- pgpart._plan_digest(steps): md5 of a plan's statements in step order: what
-- a real run logs, so a dry run can be compared with what ran.
CREATE FUNCTION pgpart._plan_digest(p_steps pgpart.step[])
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT md5(coalesce(string_agg(s.statement, E'\n' ORDER BY s.step), ''))
    FROM unnest(p_steps) AS s;
$body$;

COMMENT ON FUNCTION pgpart._plan_digest(pgpart.step[]) IS
'md5 of the statements of a plan in step order; logged by pgpart._apply (internal).';

-- pgpart._apply_range(target, steps): applies a range plan (pgpart._apply,
-- logged as create_range_partitions with the partitions it created) and
-- returns one 'created' row per partition attached, carrying the CREATE
-- TABLE statement: what create_range_partitions and ensure_range report.
CREATE FUNCTION pgpart._apply_range(p_target pgpart._target, p_steps pgpart.step[])
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_created jsonb;
BEGIN
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created
    FROM unnest(p_steps) AS s WHERE s.action = 'attach';
    -- logged when it created something (re-registering a policy is not news)
    PERFORM pgpart._apply(p_target, p_steps, 'create_range_partitions',
                          CASE WHEN v_created IS NOT NULL THEN jsonb_build_object('created', v_created) END);
    -- one sort by partition (a join of the plan with itself would cost the
    -- square of its length)
    RETURN QUERY
    SELECT a.step, a.partition, a.lower_bound, a.upper_bound, 'created', a.created, a.locks, false
    FROM (
        SELECT s.step, s.partition, s.lower_bound, s.upper_bound, s.action, s.locks,
               max(CASE WHEN s.action = 'create table' THEN s.statement END)
                   OVER (PARTITION BY s.partition) AS created
        FROM unnest(p_steps) AS s
    ) AS a
    WHERE a.action = 'attach'
    ORDER BY a.step;
END
$body$;

COMMENT ON FUNCTION pgpart._apply_range(pgpart._target, pgpart.step[]) IS
'Applies a range plan (logged as create_range_partitions) and returns a created row per partition attached (internal).';
