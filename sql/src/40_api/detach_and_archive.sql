-- pgpart.detach_and_archive(parent, ...): retention for one managed parent.
-- With DRY_RUN it returns the whole plan (pgpart._retention_plan); with
-- ONLINE the plan uses DETACH ... CONCURRENTLY, which only a client at top
-- level can run (the Python client does). Otherwise it performs exactly ONE
-- step, the first of the plan, and returns it: each step must commit before
-- the next (a plain DETACH holds ACCESS EXCLUSIVE on the parent until
-- commit), so call it once per transaction, or use the procedure below.
-- That step is chosen and run by the one retention runner,
-- pgpart._retention_step: under the parent's advisory lock, so two runs on
-- one parent never act on the same partition (the second waits for the
-- first's step to commit and plans again); when the lock is not obtained
-- within the lock timeout (with retries) it returns a single 'skipped' step
-- (step 0, no statement) and changes nothing.
CREATE FUNCTION pgpart.detach_and_archive(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart._retention_plan(p_parent, p_now_at, p_online, p_lock_timeout, p_lock_retries);
        RETURN;
    END IF;
    IF p_online THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'online retention cannot run inside a function',
            DETAIL = 'DETACH ... CONCURRENTLY must run at top level, outside any transaction block.',
            HINT = 'Use dry_run => true, online => true and run each step in its own transaction '
                   '(pgpart.Client.detach_and_archive does), or call this without online.';
    END IF;
    -- the one retention runner: under the advisory lock, one step
    RETURN QUERY SELECT * FROM pgpart._retention_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries);
END
$body$;

COMMENT ON FUNCTION pgpart.detach_and_archive(regclass, interval, integer, timestamptz, boolean, boolean) IS
'Retention for one managed parent: dry_run returns the plan (online: with DETACH CONCURRENTLY for a client); otherwise performs exactly one step, the first due, chosen under the parent''s advisory lock, and returns it (a ''skipped'' step 0 when another run holds that lock past the lock timeout).';

-- pgpart.detach_and_archive_proc(parent, ..., dry_run): the whole retention
-- of a parent, one step per transaction: it only loops over the retention
-- runner (pgpart._retention_step), then the policy's ANALYZE comes from it
-- too. DRY_RUN: the plan (pgpart._retention_plan) as NOTICEs, changing
-- nothing. CALL it outside a transaction block: inside one it says so up
-- front (25001). A procedure cannot carry SET clauses, so it re-pins
-- search_path after every COMMIT and runs its DDL only through pgpart's
-- helper functions.
CREATE PROCEDURE pgpart.detach_and_archive_proc(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    v_steps pgpart.step [];
    v_done integer := 0;
    st pgpart.step;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.detach_and_archive_proc',
        'It commits after each retention step, which a procedure can do only when called by CALL '
        'outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one call '
        'SELECT * FROM pgpart.detach_and_archive(parent) once per transaction.');
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_dry_run THEN
        FOR st IN SELECT * FROM pgpart.detach_and_archive(p_parent, p_lock_timeout, p_lock_retries, p_now_at,
                                                          dry_run => true) LOOP
            RAISE NOTICE 'pgpart: dry run: % step % % %: %', p_parent, st.step, st.action,
                coalesce(st.partition, ''), st.statement;
        END LOOP;
        IF NOT FOUND THEN
            RAISE NOTICE 'pgpart: dry run: nothing to do for %', p_parent;
        END IF;
        RETURN;
    END IF;
    LOOP
        v_steps := ARRAY(SELECT s FROM pgpart._retention_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries,
                                                              p_done => v_done) AS s);
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        -- skipped: another run has the parent; analyze: the policy's, after the work (the last step)
        EXIT WHEN pg_catalog.cardinality(v_steps) = 0 OR v_steps[1].action IN ('skipped', 'analyze');
        v_done := v_done + 1;
        RAISE NOTICE 'pgpart: % %', v_steps[1].action, v_steps[1].partition;
        IF v_done > 100000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = pg_catalog.format('retention of %s did not finish after %s steps', p_parent, v_done),
                HINT = 'Report this as a pgpart bug, with the output of pgpart.check().';
        END IF;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.detach_and_archive_proc(regclass, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'Runs the whole retention of a managed parent through the retention runner, committing after every step (detach, then archive or drop), then the policy''s ANALYZE; dry_run: the plan as NOTICEs.';
