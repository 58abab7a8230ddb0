-- pgpart.detach_and_archive(parent, ...): retention for one managed parent.
-- With DRY_RUN it returns the whole plan (pgpart._retention_plan); with
-- ONLINE the plan uses DETACH ... CONCURRENTLY, which only a client at top
-- level can run (the Python client does). Otherwise it performs exactly ONE
-- step, the first of the plan, and returns it: each step must commit before
-- the next (a plain DETACH holds ACCESS EXCLUSIVE on the parent until
-- commit), so call it once per transaction, or use the procedure below.
-- It chooses that step under the parent's advisory lock (pgpart.advisory_key,
-- the key every pgpart run of the parent takes) and only then reads the
-- catalog, so two runs on one parent never act on the same partition: the
-- second waits for the first's step to commit and plans again. When the
-- lock is not obtained within the lock timeout (with retries) it returns a
-- single 'skipped' step (step 0, no statement) and changes nothing.
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
    st pgpart.step;
    v_message text;
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
    BEGIN
        -- held until commit; the plan below is read after the wait, so it
        -- sees what another run's committed step changed
        PERFORM pgpart._acquire_locks(
            ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))], p_lock_timeout, p_lock_retries);
    EXCEPTION WHEN lock_not_available THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
        RAISE NOTICE 'pgpart: skipping retention of %: another pgpart run holds its advisory lock', p_parent;
        PERFORM pgpart._log(p_parent, 'retention', 'skipped',
                            jsonb_build_object('sqlstate', '55P03', 'message', v_message,
                                               'reason', 'another pgpart run holds the advisory lock of the parent'));
        RETURN NEXT ROW(0, NULL, NULL, NULL, 'skipped', NULL,
                        format('advisory lock %s (pgpart, %s): held by another pgpart run (%s)',
                               pgpart.advisory_key(p_parent), p_parent, v_message),
                        false)::pgpart.step;
        RETURN;
    END;
    SELECT * INTO st FROM pgpart._retention_plan(p_parent, p_now_at, false, p_lock_timeout, p_lock_retries) AS s
    WHERE s.action <> 'analyze' ORDER BY s.step LIMIT 1;
    IF st.step IS NULL THEN
        RETURN;
    END IF;
    EXECUTE st.statement;
    RETURN NEXT st;
END
$body$;

COMMENT ON FUNCTION pgpart.detach_and_archive(regclass, interval, integer, timestamptz, boolean, boolean) IS
'Retention for one managed parent: dry_run returns the plan (online: with DETACH CONCURRENTLY for a client); otherwise performs exactly one step, the first due, chosen under the parent''s advisory lock, and returns it (a ''skipped'' step 0 when another run holds that lock past the lock timeout).';

-- pgpart.detach_and_archive_proc(parent, ...): the whole retention plan of
-- a parent, one step per transaction (CALL it outside a transaction block).
-- A procedure cannot carry SET clauses, so it re-pins search_path after
-- every COMMIT and runs its DDL only through pgpart's helper functions.
CREATE PROCEDURE pgpart.detach_and_archive_proc(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    st pgpart.step;
    v_done integer := 0;
    v_analyze boolean;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    LOOP
        SELECT * INTO st FROM pgpart.detach_and_archive(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS s;
        EXIT WHEN st.step IS NULL OR st.action = 'skipped';  -- another run has the parent
        v_done := v_done + 1;
        RAISE NOTICE 'pgpart: % %', st.action, st.partition;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF v_done > 100000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = format('retention of %s did not finish after %s steps', p_parent, v_done);
        END IF;
    END LOOP;
    SELECT c.analyze_after INTO v_analyze FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_done > 0 AND v_analyze THEN
        PERFORM pgpart._analyze_bounded(p_parent, p_lock_timeout);  -- bounded; a failure is logged, not raised
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart.detach_and_archive_proc(regclass, interval, integer, timestamptz) IS  -- noqa: LT01
'Runs the whole retention plan of a managed parent, committing after every step (detach, then archive or drop).';
