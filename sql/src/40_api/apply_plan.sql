-- Applying a saved maintenance plan (pgpart.save_plan): exactly its steps,
-- or nothing at all when the plan no longer describes the database.

-- pgpart._check_plan(plan): raises unless PLAN is a saved plan of this
-- database whose every table still has the fingerprint it was planned from
-- and whose steps are exactly those pgpart plans for it now (the same
-- run_maintenance dry run at the plan's now_at). WHY both: the fingerprint
-- names what changed (partitions or policy) in the error; the fresh plan
-- is what makes a file safe to apply: a statement runs only when pgpart
-- itself generates it now, so an edited file cannot run arbitrary SQL.
-- Reads only; every table is checked before anything is changed.
CREATE FUNCTION pgpart._check_plan(p_plan jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_entry jsonb;
    v_parent regclass;
    v_now jsonb;
    v_fresh jsonb;
    v_saved jsonb;
    v_step integer;
    v_what text;
BEGIN
    IF p_plan IS NULL OR jsonb_typeof(p_plan) <> 'object' OR p_plan ->> 'format' IS DISTINCT FROM 'pgpart-plan/1'
       OR jsonb_typeof(p_plan -> 'tables') IS DISTINCT FROM 'array'
       OR jsonb_typeof(p_plan -> 'online') IS DISTINCT FROM 'boolean'
       OR p_plan ->> 'now_at' IS NULL OR p_plan ->> 'lock_timeout' IS NULL OR p_plan ->> 'lock_retries' IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'not a saved pgpart plan',
            DETAIL = format('Expected a jsonb object of format pgpart-plan/1 with tables, online, now_at, '
                            'lock_timeout and lock_retries; got format %s.',
                            coalesce(p_plan ->> 'format', 'none')),
            HINT = 'Make the plan with pgpart.save_plan() or pgpart maintain --dry-run --save FILE.';
    END IF;
    IF p_plan ->> 'database' IS DISTINCT FROM current_database() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('saved plan was made in database %s, not in %s',
                             coalesce(p_plan ->> 'database', 'NULL'), current_database()),
            DETAIL = 'A plan names tables of the database it was made in.',
            HINT = 'Apply it in that database, or make a new plan here.';
    END IF;
    FOR v_entry IN SELECT e FROM jsonb_array_elements(p_plan -> 'tables') AS e LOOP
        v_parent := to_regclass(v_entry ->> 'table');
        IF v_parent IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan is out of date: table %s no longer exists',
                                 coalesce(v_entry ->> 'table', 'NULL')),
                DETAIL = format('The plan was made at %s.', p_plan ->> 'created_at'),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it.';
        END IF;
        v_now := pgpart._plan_fingerprint(v_parent);
        IF v_now IS DISTINCT FROM v_entry -> 'fingerprint' THEN
            v_what := concat_ws(' and ',
                CASE WHEN v_now -> 'partitions' IS DISTINCT FROM v_entry -> 'fingerprint' -> 'partitions'
                     THEN 'partitions' END,
                CASE WHEN v_now -> 'policy' IS DISTINCT FROM v_entry -> 'fingerprint' -> 'policy'
                     THEN 'policy' END);
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan is out of date: the %s of table %s changed', v_what, v_parent),
                DETAIL = format('The plan was made at %s; nothing was applied.', p_plan ->> 'created_at'),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it.',
                SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                          WHERE c.oid = v_parent),
                TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = v_parent);
        END IF;
        v_fresh := pgpart.save_plan(v_parent, (p_plan ->> 'now_at')::timestamptz,
                                    (p_plan ->> 'lock_timeout')::interval, (p_plan ->> 'lock_retries')::integer,
                                    (p_plan ->> 'online')::boolean) -> 'tables' -> 0 -> 'steps';
        v_saved := v_entry -> 'steps';
        IF v_fresh IS DISTINCT FROM v_saved THEN
            SELECT min(n) INTO v_step
            FROM generate_series(0, greatest(jsonb_array_length(coalesce(v_fresh, '[]')),
                                             jsonb_array_length(CASE WHEN jsonb_typeof(v_saved) = 'array'
                                                                     THEN v_saved ELSE '[]' END))) AS n
            WHERE v_fresh -> n IS DISTINCT FROM v_saved -> n;
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan of table %s is not the plan pgpart makes for it now', v_parent),
                DETAIL = format('Step %s differs: saved %s, now %s. Only steps pgpart generates are run; '
                                'nothing was applied.',
                                v_step + 1, coalesce(v_saved -> v_step ->> 'statement', 'none'),
                                coalesce(v_fresh -> v_step ->> 'statement', 'none')),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it; do not edit plan files.';
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._check_plan(jsonb) IS
'Raises (55000, 22023) unless a saved plan matches the current fingerprint of each of its tables and the plan pgpart makes for them now; changes nothing.';

-- pgpart._apply_plan_steps(parent, steps, timeout, retries): one
-- transaction's worth of a checked saved plan of PARENT (pgpart._plan_groups),
-- run as maintenance runs it: only while the policy's author owns the table,
-- as its owner, under the parent's advisory lock, the plan's lock steps
-- first and every statement under the lock timeout (pgpart._run_steps);
-- logged as 'apply_plan'. Returns the steps run. Top-level steps (DETACH
-- ... CONCURRENTLY) cannot run here: the client runs those itself.
CREATE FUNCTION pgpart._apply_plan_steps(p_parent regclass, p_steps jsonb, p_timeout interval, p_retries integer)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_steps pgpart.step [];
    v_reason text;
    v_caller name;
BEGIN
    v_steps := array(SELECT jsonb_populate_record(NULL::pgpart.step, s) FROM jsonb_array_elements(p_steps) AS s);
    IF EXISTS (SELECT 1 FROM unnest(v_steps) AS s WHERE s.top_level) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('saved plan of table %s has a step that must run at top level', p_parent),
            DETAIL = 'DETACH ... CONCURRENTLY (an online plan) cannot run inside a function or procedure.',
            HINT = 'Apply it with the Python client (pgpart apply FILE), or save the plan without online.';
    END IF;
    v_reason := pgpart._may_maintain(p_parent);
    IF v_reason IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('may not apply the saved plan of table %s', p_parent),
            DETAIL = v_reason || '.',
            HINT = 'Apply it as the table''s owner or a superuser.';
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))], p_timeout,
        p_retries);
    PERFORM pgpart._run_steps(v_steps, p_timeout, p_retries);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- global unique constraints follow the partitions
    PERFORM set_config('role', v_caller, true);
    PERFORM pgpart._log(p_parent, 'apply_plan', 'ok',
                        jsonb_build_object('steps', (SELECT jsonb_agg(jsonb_build_object('step', s.step,
                                                                                         'action', s.action,
                                                                                         'partition', s.partition))
                                                     FROM unnest(v_steps) AS s)));
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart._apply_plan_steps(regclass, jsonb, interval, integer) IS
'Runs one transaction''s worth of a checked saved plan of a parent as maintenance would (owner, advisory lock, lock timeout) and logs it.';

-- pgpart._plan_groups(steps): the steps of one table's saved plan cut into
-- transactions, in order: each retention step alone (DESIGN §3: a DETACH
-- commits before its archive or drop, every step of retention commits), the
-- steps between them (locks, creating and attaching partitions, the policy,
-- reconcile) together, as run_maintenance runs them in one transaction.
-- Steps without a statement (reported, not run) are left out.
CREATE FUNCTION pgpart._plan_groups(p_steps jsonb)
RETURNS TABLE (grp integer, steps jsonb, top_level boolean)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH s AS (
        SELECT
            e.value AS step, e.ord,
            (e.value ->> 'action') IN ('finalize', 'discard', 'journal', 'detach', 'archive', 'drop', 'analyze')
            OR coalesce((e.value ->> 'top_level')::boolean, false) AS alone
        FROM jsonb_array_elements(p_steps) WITH ORDINALITY AS e (value, ord)
        WHERE e.value ->> 'statement' IS NOT NULL
    ),
    -- a new group starts at every step that is alone and at the step after it
    b AS (
        SELECT s.*, s.alone OR coalesce(lag(s.alone) OVER (ORDER BY s.ord), false) AS starts
        FROM s
    ),
    g AS (
        SELECT b.*, sum(b.starts::integer) OVER (ORDER BY b.ord)::integer AS grp
        FROM b
    )
    SELECT g.grp, jsonb_agg(g.step ORDER BY g.ord), bool_or(coalesce((g.step ->> 'top_level')::boolean, false))
    FROM g GROUP BY g.grp ORDER BY g.grp;
$body$;

COMMENT ON FUNCTION pgpart._plan_groups(jsonb) IS
'The steps of a saved plan of one table cut into transactions: each retention step alone, the steps between them together.';

-- pgpart.apply_plan(plan): runs a saved plan (pgpart.save_plan) exactly:
-- first pgpart._check_plan for every table (out of date, edited, or made
-- elsewhere: an error and nothing changed), then each table's steps, one
-- transaction per group (pgpart._plan_groups), committing after each as
-- run_maintenance_proc does. A step that fails stops the run with its
-- error: what committed before stays (as after an interrupted maintenance
-- run), and the next maintenance run or a new plan carries on from the
-- catalog. Online plans (DETACH ... CONCURRENTLY) are refused (0A000)
-- before anything runs: the Python client applies those.
-- CALL it outside a transaction block. A procedure cannot carry SET
-- clauses: it re-pins search_path after each COMMIT and runs DDL only
-- through helper functions.
CREATE PROCEDURE pgpart.apply_plan(plan jsonb)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_plan ALIAS FOR plan;
    v_entry jsonb;
    v_parent regclass;
    g record;
    v_timeout interval;
    v_retries integer;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pgpart._check_plan(p_plan);
    IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(p_plan OPERATOR(pg_catalog.->) 'tables') AS e,
                             pg_catalog.jsonb_array_elements(e OPERATOR(pg_catalog.->) 'steps') AS s
               WHERE (s OPERATOR(pg_catalog.->>) 'top_level')::boolean) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'saved plan has steps that must run at top level (DETACH ... CONCURRENTLY)',
            DETAIL = 'A procedure cannot run them; nothing was applied.',
            HINT = 'Apply it with the Python client (pgpart apply FILE), or save the plan without online.';
    END IF;
    v_timeout := (p_plan OPERATOR(pg_catalog.->>) 'lock_timeout')::interval;
    v_retries := (p_plan OPERATOR(pg_catalog.->>) 'lock_retries')::integer;
    FOR v_entry IN SELECT e FROM pg_catalog.jsonb_array_elements(p_plan OPERATOR(pg_catalog.->) 'tables') AS e LOOP
        v_parent := pg_catalog.to_regclass(v_entry OPERATOR(pg_catalog.->>) 'table');
        FOR g IN SELECT * FROM pgpart._plan_groups(v_entry OPERATOR(pg_catalog.->) 'steps') LOOP
            PERFORM pgpart._apply_plan_steps(v_parent, g.steps, v_timeout, v_retries);
            RAISE NOTICE 'pgpart: % applied % step(s)', v_parent, pg_catalog.jsonb_array_length(g.steps);
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END LOOP;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.apply_plan(jsonb) IS  -- noqa: LT01
'Runs a saved maintenance plan (pgpart.save_plan) exactly, one transaction per group of steps, after checking that every table still matches its fingerprint and the plan pgpart makes now; refuses, changing nothing, otherwise.';
