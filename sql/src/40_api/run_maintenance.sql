-- Maintenance of every managed parent (DESIGN §3, §6). Each parent's work is
-- done with its owner's rights, only while the policy's author still owns
-- the table, and inside its own subtransaction: a failure is logged (in
-- pgpart.log and as last_error on the policy row) and the others go on.

-- pgpart.run_maintenance(parent, now_at, ...): the lock-light part of
-- maintenance, in one transaction: finish pending detaches, create the
-- partitions ahead (at most 200 per run: a run after a long pause catches
-- up over several runs, the slot of now first), bring partitions made by
-- others in step (reconcile); report the retention that is due (its detaches must
-- commit one by one: run_maintenance_proc or the Python client do them).
-- When nothing is due it reads only the catalog and takes no lock.
-- Every parent's work runs in subtransactions of its own: any failure,
-- statement timeouts (57014, see pgpart._statement_timed_out) and a full
-- lock table (53200) included, rolls back that parent's work only, is
-- logged and reported, and the others go on; a user's cancel stops the run.
CREATE FUNCTION pgpart.run_maintenance(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS TABLE (parent_table regclass, action text, partition text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_due boolean;
    -- rows of a parent's work, returned only once that work has succeeded
    v_actions text [];
    v_partitions text [];
    v_details text [];
    v_timed_out boolean;
    r record;
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN;  -- a standby has nothing to maintain
    END IF;
    PERFORM pgpart._check_args($3, $4, $2);
    IF $1 IS NOT NULL THEN
        PERFORM pgpart._managed($1);
    END IF;
    FOR v_parent IN SELECT * FROM pgpart._maintenance_parents($1) LOOP
        parent_table := v_parent;
        v_reason := pgpart._may_maintain(v_parent);
        IF v_reason IS NOT NULL THEN
            action := 'skipped';
            partition := NULL;
            detail := v_reason;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- Pending detaches first, in a subtransaction of their own: a later
        -- failure of this parent must not undo a finished detach.
        FOR r IN SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending LOOP
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                PERFORM pgpart._finalize_detach(v_parent, r.partition, $3, $4);
                PERFORM set_config('role', v_caller, true);
                action := 'finalized';
                partition := r.partition::text;
                detail := NULL;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE NOTICE 'pgpart: could not finish the detach of %: % %', r.partition, v_state, v_message;
                PERFORM pgpart._log(v_parent, 'finalize', CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    jsonb_build_object('partition', r.partition::text, 'sqlstate', v_state,
                                                       'message', v_message));
                action := CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END;
                partition := r.partition::text;
                detail := format('%s: %s', v_state, v_message);
                RETURN NEXT;
            END;
        END LOOP;
        v_actions := '{}';
        v_partitions := '{}';
        v_details := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else plan without locks first: when nothing is
            -- missing after all, no lock is taken.
            v_due := NOT pgpart._window_complete(v_parent, $2);
            IF v_due THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, $3, $2, NULL, 200) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due THEN
                FOR r IN
                    SELECT s.partition, s.lower_bound, s.upper_bound
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => $3, lock_retries => $4, now_at => $2,
                                                        max_new => 200) AS s
                LOOP
                    v_actions := v_actions || 'created'::text;
                    v_partitions := v_partitions || r.partition;
                    v_details := v_details || format('from %s to %s', r.lower_bound, r.upper_bound);
                END LOOP;
            END IF;
            FOR r IN SELECT e.partition FROM pgpart._expired_partitions(v_parent, $2, $3) AS e LOOP
                v_actions := v_actions || 'retention due'::text;
                v_partitions := v_partitions || r.partition::text;
                v_details := v_details || format('retention %s, then %s', v_cfg.retention, v_cfg.retention_action);
            END LOOP;
            -- detached earlier (an interrupted run), its archive or drop still to do
            FOR r IN SELECT a.detached, a.then_action FROM pgpart._detached_awaiting(v_parent) AS a LOOP
                v_actions := v_actions || 'retention due'::text;
                v_partitions := v_partitions || r.detached::text;
                v_details := v_details || format('detached, then %s', r.then_action);
            END LOOP;
            -- journal entries no longer valid: retention discards them (never acts on them)
            FOR r IN SELECT j.detached_name, j.problem FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale' LOOP
                action := 'retention due';
                partition := r.detached_name;
                detail := format('journal entry void, to discard: %s', r.problem);
                RETURN NEXT;
            END LOOP;
            PERFORM set_config('role', v_caller, true);
            IF v_cfg.last_error IS NOT NULL THEN
                UPDATE pgpart.config AS c SET last_error = NULL, last_error_at = NULL WHERE c.parent = v_parent;
            END IF;
            -- done: its rows are true now (a failure above would have undone them)
            FOR i IN 1 .. cardinality(v_actions) LOOP
                action := v_actions[i];
                partition := v_partitions[i];
                detail := v_details[i];
                RETURN NEXT;
            END LOOP;
        EXCEPTION
            WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
                RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_message;
                PERFORM pgpart._log(v_parent, 'maintenance', 'skipped', jsonb_build_object('sqlstate', '55P03',
                                                                                        'message', v_message));
                action := 'skipped';
                partition := NULL;
                detail := v_message;
                RETURN NEXT;
            WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                v_timed_out := v_state = '57014';
                RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                action := 'error';
                partition := NULL;
                detail := format('%s: %s', v_state, v_message);
                RETURN NEXT;
        END;
        -- Partitions made or changed by others, brought in step (reconcile) in
        -- a subtransaction of its own: its failure keeps what was created.
        -- (not after a statement timeout: the rest of that parent's work waits
        -- for the next run)
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent) THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                FOR r IN
                    SELECT x.partition, x.action, x.statement
                    FROM pgpart.reconcile(v_parent, lock_timeout => $3, lock_retries => $4) AS x
                LOOP
                    action := CASE WHEN r.action IN ('skipped large', 'skipped') THEN 'drift' ELSE 'reconciled' END;
                    partition := r.partition::text;
                    detail := r.action || coalesce(': ' || r.statement, '');
                    RETURN NEXT;
                END LOOP;
                PERFORM set_config('role', v_caller, true);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF v_state = '55P03' THEN
                    PERFORM pgpart._log(v_parent, 'reconcile', 'skipped',
                                        jsonb_build_object('sqlstate', v_state, 'message', v_message));
                ELSE
                    RAISE WARNING 'pgpart: reconcile of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'reconcile', v_state, v_message);
                END IF;
                action := CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END;
                partition := NULL;
                detail := format('reconcile: %s: %s', v_state, v_message);
                RETURN NEXT;
            END;
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(regclass, timestamptz, interval, integer) IS
'Lock-light maintenance in one transaction for one or every managed parent: finishes pending detaches, creates partitions ahead, reports retention due. A failing parent is logged and skipped.';

-- pgpart._retention_step(parent, now_at, timeout, retries): one retention
-- step of a parent, as its owner, for the procedure below; NULL when done.
CREATE FUNCTION pgpart._retention_step(
    p_parent regclass,
    p_now_at timestamptz,
    p_timeout interval,
    p_retries integer
)
RETURNS pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name;
    st pgpart.step;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    SELECT * INTO st FROM pgpart.detach_and_archive(p_parent, p_timeout, p_retries, p_now_at) AS s;
    PERFORM set_config('role', v_caller, true);
    RETURN st;
END
$body$;

COMMENT ON FUNCTION pgpart._retention_step(regclass, timestamptz, interval, integer) IS
'One retention step of a parent, performed as its owner; NULL when nothing is left.';

-- pgpart.run_maintenance_proc(parent, now_at, ...): all of maintenance, for
-- pg_cron and CALL: per parent, the lock-light part (run_maintenance), then
-- retention one step per transaction, then ANALYZE if the policy says so
-- (bounded, see pgpart._analyze_bounded). A parent that fails in any of
-- these (a statement timeout and a full lock table included) is logged and
-- the others go on; a user's cancel stops the run.
-- CALL it outside a transaction block. A procedure cannot carry SET
-- clauses: it re-pins search_path after each COMMIT and runs DDL only
-- through helper functions.
CREATE PROCEDURE pgpart.run_maintenance_proc(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parents regclass [];
    v_parent regclass;
    st pgpart.step;
    v_steps integer;
    v_state text;
    v_message text;
    v_fired text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.pg_is_in_recovery() THEN
        RETURN;
    END IF;
    PERFORM pgpart._check_args($3, $4, $2);
    IF $1 IS NOT NULL THEN
        PERFORM pgpart._managed($1);
    END IF;
    v_parents := ARRAY(SELECT pgpart._maintenance_parents($1));
    FOREACH v_parent IN ARRAY v_parents LOOP
        v_state := pgpart._may_maintain(v_parent);
        IF v_state IS NOT NULL THEN
            RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_state;
            CONTINUE;
        END IF;
        -- set when statement_timeout fires (pgpart._statement_timed_out)
        v_fired := pg_catalog.current_setting('pgpart.statement_timeout_fired', true);
        BEGIN
            -- isolated per parent inside; this catches what fails around it
            PERFORM pgpart.run_maintenance(v_parent, $2, $3, $4);
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;  -- a cancel stops the whole run
            END IF;
            RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
            PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
        END;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired THEN
            -- this parent took too long: the rest of its work waits for the next run
            RAISE NOTICE 'pgpart: % timed out: its retention waits for the next run', v_parent;
            CONTINUE;
        END IF;
        v_steps := 0;
        LOOP
            BEGIN
                st := pgpart._retention_step(v_parent, $2, $3, $4);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: retention of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'retention', v_state, v_message);
                st := NULL;
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            EXIT WHEN st.step IS NULL;
            v_steps := v_steps + 1;
            RAISE NOTICE 'pgpart: % % %', v_parent, st.action, st.partition;
            EXIT WHEN v_steps >= 100000;
        END LOOP;
        IF v_steps > 0 AND (SELECT c.analyze_after FROM pgpart.config AS c WHERE c.parent = v_parent)
           AND pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS NOT DISTINCT FROM v_fired THEN
            -- bounded, and its failure logged, never raised: it cannot abort the run
            PERFORM pgpart._analyze_bounded(v_parent, $3);
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END IF;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(regclass, timestamptz, interval, integer) IS  -- noqa: LT01
'All maintenance for pg_cron and CALL: per managed parent, pending detaches, partitions ahead, then retention one committed step at a time, then ANALYZE.';
