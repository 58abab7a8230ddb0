-- Maintenance of every managed parent (DESIGN §3, §6). Each parent's work is
-- done with its owner's rights, only while the policy's author still owns
-- the table, and inside its own subtransaction: a failure is logged (in
-- pgpart.log and as last_error on the policy row) and the others go on.

-- pgpart.run_maintenance(parent, now_at, ...): the lock-light part of
-- maintenance, in one transaction: finish pending detaches, move the rows
-- of the default partition into their ranges where the policy says
-- drain_default (pgpart._drain_default_rows, at most
-- pgpart._drain_max_ranges() ranges, held until this transaction commits),
-- create the partitions ahead (at most 200 per call, the slot of now first:
-- run_maintenance_proc and the Python client call it again, one
-- transaction each, until a table is fully caught up), bring partitions made by
-- others in step (reconcile); report the retention that is due (its detaches must
-- commit one by one: run_maintenance_proc or the Python client do them).
-- When nothing is due it reads only the catalog and takes no lock.
-- Every parent's work runs in subtransactions of its own: any failure,
-- statement timeouts (57014, see pgpart._statement_timed_out) and a full
-- lock table (53200) included, rolls back that parent's work only, is
-- logged and reported (ERROR: the error as an object: sqlstate, message,
-- detail, hint, schema, table), and the others go on; a user's cancel stops
-- the run.
-- DRY_RUN: the plan of all of maintenance, changing nothing and taking no
-- lock: the same loop, the same decisions, each verb called in its dry-run
-- mode where the real run calls it for real (finalize, create_range_partitions,
-- reconcile; the partitions of the whole catch-up, past the 200 of one
-- transaction, as run_maintenance_proc and the client make them), then,
-- in place of "retention due", the retention steps that follow
-- (detach_and_archive's plan; ONLINE: with DETACH CONCURRENTLY, as the
-- Python client runs it). STEP numbers each parent's plan from 1; a
-- failure the real run would meet (e.g. retention refused) is an "error" row.
-- Dry run only: a pending detach and a journal entry both due make the
-- archive of the finalized table come first in the plan, after the other
-- journal entries in the real run.
-- Long (about 300 lines): each stage's real run and dry run sit side by side
-- in one per-parent loop with its subtransaction and error report, so the dry
-- run follows exactly the decisions of the real one.
CREATE FUNCTION pgpart.run_maintenance(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    partition text,
    detail text,
    step integer,
    lower_bound text,
    upper_bound text,
    statement text,
    locks text,
    top_level boolean,
    error jsonb
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_detail text;
    v_why jsonb;
    v_hint text;
    v_schema text;
    v_table text;
    v_due boolean;
    v_reasons text [];  -- why pgpart._due_parents found the parent due (NULL: named by the caller)
    -- rows of a parent's work, returned only once that work has succeeded
    v_rows pgpart.step [];
    v_plan pgpart.step [];
    v_details text [];
    v_timed_out boolean;
    v_n integer;  -- steps of the parent's plan so far (dry run)
    v_drain_failed boolean;  -- the drain stage failed: its last_error stays
    st pgpart.step;
    r record;
BEGIN
    IF p_dry_run IS NULL OR p_online IS NULL OR (p_online AND NOT p_dry_run) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid dry_run %s or online %s', coalesce(p_dry_run::text, 'NULL'),
                             coalesce(p_online::text, 'NULL')),
            DETAIL = 'online plans retention with DETACH ... CONCURRENTLY, which only a client can run: '
                     'it applies to a dry run only.',
            HINT = 'Pass dry_run => true with online => true, or leave online out.';
    END IF;
    IF pg_is_in_recovery() THEN
        RETURN;  -- a standby has nothing to maintain
    END IF;
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, p_now_at);
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    -- every parent: only those with anything due (one catalog query,
    -- pgpart._due_parents), so a tick where nothing is due costs almost
    -- nothing per parent; a parent passed by name gets the whole pass
    FOR v_parent, v_reasons IN
        SELECT m.parent, NULL::text [] FROM pgpart._maintenance_parents(p_parent) AS m (parent) WHERE p_parent IS NOT NULL
        UNION ALL
        SELECT d.parent, d.reasons FROM pgpart._due_parents(p_now_at) AS d WHERE p_parent IS NULL
        ORDER BY 1
    LOOP
        v_n := 0;
        -- run_maintenance_proc ran the filter and hands this parent's reasons
        -- over ('<oid>:<reason>,<reason>', for its transaction only)
        IF v_reasons IS NULL
           AND split_part(current_setting('pgpart.due_reasons', true), ':', 1) = v_parent::oid::text THEN
            v_reasons := string_to_array(split_part(current_setting('pgpart.due_reasons', true), ':', 2), ',');
        END IF;
        v_reason := pgpart._may_maintain(v_parent);
        IF v_reason IS NOT NULL THEN
            RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_reason, NULL::integer, NULL::text, NULL::text,
                                NULL::text, NULL::text, NULL::boolean, NULL::jsonb;
            CONTINUE;
        END IF;
        -- Pending detaches first, each in a subtransaction of its own: a later
        -- failure of this parent must not undo a finished detach. The step is
        -- the one retention would plan (pgpart._retention_plan); run, or
        -- returned by a dry run.
        FOR r IN
            SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i
            WHERE i.inhparent = v_parent AND i.inhdetachpending
            ORDER BY i.inhrelid
        LOOP
            st := ROW(NULL, r.partition::text, NULL, NULL, 'finalize',
                      format('SELECT pgpart._finalize_detach(%L::regclass, %L::regclass, %L, %s)',
                             v_parent::text, r.partition::text, p_timeout, p_retries),
                      format('SHARE UPDATE EXCLUSIVE on %s, ACCESS EXCLUSIVE on %s; waits for transactions using the parent',
                             v_parent, r.partition),
                      false)::pgpart.step;
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                IF NOT p_dry_run THEN
                    EXECUTE st.statement;
                    st.action := 'finalized';
                END IF;
                PERFORM set_config('role', v_caller, true);
                IF p_dry_run THEN
                    v_n := v_n + 1;
                    st.step := v_n;
                END IF;
                RETURN QUERY SELECT v_parent, st.action, st.partition, NULL::text, st.step, st.lower_bound,
                                    st.upper_bound, st.statement, st.locks, st.top_level, NULL::jsonb;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: could not finish the detach of %: % %', r.partition, v_state, v_message;
                    PERFORM pgpart._log(v_parent, 'finalize', CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                        jsonb_build_object('partition', r.partition::text, 'sqlstate', v_state,
                                                           'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    r.partition::text, format('%s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, st.statement, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END LOOP;
        -- Rows of the default partition moved into their ranges first
        -- (policy drain_default; pgpart._drain_default_rows isolates each
        -- range), so that the window's ranges can be created after them
        v_drain_failed := false;
        FOR r IN SELECT * FROM pgpart._drain_default_rows(v_parent, p_now_at, p_timeout, p_retries, p_dry_run) AS d LOOP
            v_drain_failed := v_drain_failed OR r.action = 'error';
            v_n := v_n + p_dry_run::integer;
            RETURN QUERY SELECT v_parent, r.action, r.partition, r.detail, CASE WHEN p_dry_run THEN v_n END,
                                r.lower_bound, r.upper_bound, r.statement, r.locks,
                                CASE WHEN p_dry_run THEN false END, r.error;
        END LOOP;
        v_rows := '{}';
        v_details := '{}';
        v_plan := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else ask the planner without locks whether one
            -- partition is missing (max_new 1: the whole plan is made once,
            -- under the locks): when none is after all, no lock is taken.
            -- Not asked again when the tick's filter has just asked it
            -- (pgpart._due_parents, reason 'partitions missing'): the plan
            -- under the locks is the answer that counts, and it creates
            -- nothing when nothing is missing.
            v_due := coalesce('partitions missing' = ANY (v_reasons), false);
            IF NOT v_due AND NOT pgpart._window_complete(v_parent, p_now_at) THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 1) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due AND p_dry_run THEN
                -- the plan of the whole catch-up: run_maintenance_proc and the
                -- client repeat the real run, 200 new tables per transaction,
                -- until nothing is missing (at most 500 transactions: the
                -- 100,000 slots a window may span)
                v_plan := array(
                    SELECT s FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 200, 500) AS s
                    ORDER BY s.step
                );
            ELSIF v_due THEN
                -- the partitions created ('created'), at most 200 in this transaction
                v_plan := array(
                    SELECT s
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => p_timeout, lock_retries => p_retries,
                                                        now_at => p_now_at, max_new => 200) AS s
                    ORDER BY s.step
                );
            END IF;
            IF v_due THEN
                FOREACH st IN ARRAY v_plan LOOP
                    v_rows := v_rows || st;
                    v_details := v_details || CASE
                        WHEN NOT p_dry_run THEN format('from %s to %s', st.lower_bound, st.upper_bound)
                    END;
                END LOOP;
            END IF;
            IF NOT p_dry_run THEN
                -- what retention will do next (a dry run plans its steps below)
                FOR r IN SELECT e.partition, e.reason FROM pgpart._expiry(v_parent, p_now_at, p_timeout) AS e LOOP
                    v_rows := v_rows || ROW(NULL, r.partition::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('%s, then %s%s', r.reason, v_cfg.retention_action,
                                                     CASE WHEN v_cfg.retention_grace IS NOT NULL
                                                              AND v_cfg.retention_action <> 'detach'
                                                          THEN format(' after a grace period of %s', v_cfg.retention_grace)
                                                     END);
                END LOOP;
                -- detached earlier (an interrupted run, or a grace period
                -- now over), its archive or drop still to do
                FOR r IN SELECT a.detached, a.then_action FROM pgpart._follow_ups_due(v_parent, p_now_at) AS a LOOP
                    v_rows := v_rows || ROW(NULL, r.detached::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('detached, then %s', r.then_action);
                END LOOP;
                -- journal entries no longer valid: retention discards them (never acts on them)
                FOR r IN SELECT j.detached_name, j.problem FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale' LOOP
                    v_rows := v_rows || ROW(NULL, r.detached_name, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('journal entry void, to discard: %s', r.problem);
                END LOOP;
            END IF;
            PERFORM set_config('role', v_caller, true);
            IF NOT p_dry_run AND v_cfg.last_error IS NOT NULL AND NOT v_drain_failed THEN
                UPDATE pgpart.config AS c SET last_error = NULL, last_error_at = NULL WHERE c.parent = v_parent;
            END IF;
            -- done: its rows are true now (a failure above would have undone them)
            RETURN QUERY
            SELECT v_parent, u.action, u.partition, v_details[u.ord::integer],
                   CASE WHEN p_dry_run THEN v_n + u.ord::integer END,
                   u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
            FROM unnest(v_rows) WITH ORDINALITY
                AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
            ORDER BY u.ord;
            v_n := v_n + cardinality(v_rows);
        EXCEPTION
            WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                        v_hint = PG_EXCEPTION_HINT, v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_message;
                    PERFORM pgpart._log(v_parent, 'maintenance', 'skipped', jsonb_build_object('sqlstate', '55P03',
                                                                                            'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_message, NULL::integer, NULL::text,
                                    NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report('55P03', v_message, v_detail, v_hint, v_schema, v_table);
            WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                v_timed_out := v_state = '57014';
                IF NOT p_dry_run THEN
                    RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('%s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
        END;
        -- Partitions made or changed by others, brought in step (reconcile) in
        -- a subtransaction of its own: its failure keeps what was created.
        -- (not after a statement timeout: the rest of that parent's work waits
        -- for the next run)
        -- (not when the tick's filter found no drift: the partitions made
        -- above are made in step, and drift since the filter waits for the
        -- next tick)
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent)
           AND (v_reasons IS NULL
                OR v_reasons && ARRAY['owner', 'index tablespace', 'replica identity', 'reloptions', 'grants',
                                      'grants refused', 'last error', 'unknown']) THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                FOR r IN
                    SELECT x.partition, x.action, x.statement, x.detail
                    FROM pgpart.reconcile(v_parent, lock_timeout => p_timeout, lock_retries => p_retries,
                                          dry_run => p_dry_run) AS x
                LOOP
                    IF p_dry_run THEN
                        v_n := v_n + 1;
                        RETURN QUERY SELECT v_parent, r.action, r.partition::text, r.detail, v_n, NULL::text,
                                            NULL::text, r.statement, NULL::text, false, NULL::jsonb;
                    ELSE
                        RETURN QUERY SELECT v_parent,
                                            CASE WHEN r.action IN ('skipped large', 'skipped') THEN 'drift' ELSE 'reconciled' END,
                                            r.partition::text, r.action || coalesce(': ' || r.statement, ''),
                                            NULL::integer, NULL::text, NULL::text, r.statement, NULL::text,
                                            NULL::boolean, NULL::jsonb;
                    END IF;
                END LOOP;
                PERFORM set_config('role', v_caller, true);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF p_dry_run THEN
                    NULL;  -- reported below, nothing recorded
                ELSIF v_state = '55P03' THEN
                    PERFORM pgpart._log(v_parent, 'reconcile', 'skipped',
                                        jsonb_build_object('sqlstate', v_state, 'message', v_message));
                ELSE
                    RAISE WARNING 'pgpart: reconcile of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'reconcile', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    NULL::text, format('reconcile: %s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
        -- Dry run: the retention steps that follow (run_maintenance_proc and
        -- the clients run them one per transaction after this function),
        -- from the plan the retention step function executes
        -- (pgpart._retention_plan), less the pending detaches finished above.
        IF p_dry_run AND NOT v_timed_out THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                -- (the partitions planned above count as made: the real run
                -- creates them before its retention)
                v_rows := array(
                    SELECT s FROM pgpart._retention_plan(
                        v_parent, p_now_at, p_online, p_timeout, p_retries,
                        (SELECT max(pgpart._text_to_coord(v_cfg.key_type, v_cfg.epoch_unit, a.upper_bound))
                         FROM unnest(v_plan) AS a WHERE a.action = 'attach')) AS s
                    WHERE s.action <> 'finalize'
                    ORDER BY s.step
                );
                IF NOT EXISTS (SELECT 1 FROM unnest(v_rows) AS s WHERE s.action <> 'analyze') THEN
                    v_rows := '{}';  -- ANALYZE follows retention work, not a finalize alone
                END IF;
                -- why each partition goes: the rule that expires it, or the grace period now over
                v_why := coalesce((
                    SELECT jsonb_object_agg(e.partition::text, e.reason)
                    FROM pgpart._expiry(v_parent, p_now_at, p_timeout,
                                        (SELECT max(pgpart._text_to_coord(v_cfg.key_type, v_cfg.epoch_unit, a.upper_bound))
                                         FROM unnest(v_plan) AS a WHERE a.action = 'attach')) AS e
                ), '{}'::jsonb) || coalesce((
                    SELECT jsonb_object_agg(f.detached::text, format('grace period over since %s', f.due_at))
                    FROM pgpart._follow_ups_due(v_parent, p_now_at) AS f
                    WHERE v_cfg.retention_grace IS NOT NULL
                ), '{}'::jsonb);
                PERFORM set_config('role', v_caller, true);
                RETURN QUERY
                SELECT v_parent, u.action, u.partition,
                       CASE WHEN u.action IN ('journal', 'detach', 'archive', 'drop') THEN v_why ->> u.partition END,
                       v_n + u.ord::integer,
                       u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
                FROM unnest(v_rows) WITH ORDINALITY
                    AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
                ORDER BY u.ord;
                v_n := v_n + cardinality(v_rows);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('retention: %s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(regclass, timestamptz, interval, integer, boolean, boolean) IS
'Lock-light maintenance in one transaction for one or every managed parent: finishes pending detaches, creates partitions ahead, reconciles, reports retention due; errors as objects (sqlstate, message, detail, hint). A failing parent is logged and skipped. dry_run: the plan of all maintenance, retention steps included (online: as a client runs them), changing nothing.';


-- pgpart.run_maintenance_proc(parent, now_at, ..., dry_run): all of
-- maintenance, for pg_cron and CALL. Per parent: the lock-light part
-- (run_maintenance; its drain of the default partition done first here,
-- one committed range per transaction), repeated in as many transactions
-- as it takes to catch up (each creates at most pgpart._max_new_tables() tables: a table far
-- behind is filled completely, never left with a gap); then retention, one
-- committed step at a time through the one retention runner
-- (pgpart._retention_step), then the policy's ANALYZE.
-- A parent that fails in any of these (a statement timeout and a full lock
-- table included) is logged and the others go on; a parent skipped because
-- another run holds it is not a failure. Once every parent is done, the
-- procedure raises PGM01 naming the failed ones, so a scheduler (pg_cron's
-- job history) shows the failure. A user's cancel stops the run.
-- DRY_RUN: the plan of pgpart.run_maintenance(dry_run => true) as NOTICEs,
-- changing nothing.
-- CALL it outside a transaction block: inside one (or from a function) it
-- cannot commit, and says so up front (25001) instead of PostgreSQL's
-- "invalid transaction termination" after the first parent. A procedure
-- cannot carry SET clauses (it could not commit): it re-pins search_path
-- after each COMMIT and runs DDL only through helper functions.
-- Long (about 150 lines): one loop per parent whose three stages each
-- commit and isolate their failures, and must stay in one procedure to
-- commit between them.
CREATE PROCEDURE pgpart.run_maintenance_proc(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parents regclass [];
    v_parent regclass;
    -- per parent, why pgpart._due_parents found it due (comma-separated
    -- reasons); NULL for a parent named by the caller: every stage runs
    v_why text [];
    v_reasons text [];
    v_steps pgpart.step [];
    v_failed text [] := '{}'::text [];
    v_failing boolean;
    v_created integer;
    v_passes integer;
    v_done integer;
    v_state text;
    v_message text;
    v_fired text;
    v_drain text;  -- the action of the drained range (pgpart._drain_default_rows)
    r record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.run_maintenance_proc',
        'It commits after each table and each retention step, which a procedure can do only when '
        'called by CALL outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one use '
        'SELECT * FROM pgpart.run_maintenance() (the lock-light part, in your transaction).');
    IF pg_catalog.pg_is_in_recovery() THEN
        RETURN;
    END IF;
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    v_parents := ARRAY(SELECT pgpart._maintenance_parents(p_parent));
    IF pg_catalog.cardinality(v_parents) = 0 THEN
        RAISE NOTICE USING
            MESSAGE = 'pgpart: nothing to maintain: no table is managed with automatic maintenance on',
            HINT = 'Manage a table with pgpart.create_range_partitions(...) or pgpart.ensure_range(...); '
                   'pgpart.set_policy(parent, automatic_maintenance => true) includes it.';
        RETURN;
    END IF;
    IF p_parent IS NULL THEN
        -- only the parents with anything due (see pgpart.run_maintenance)
        SELECT coalesce(array_agg(d.parent ORDER BY d.parent), '{}'),
               coalesce(array_agg(array_to_string(d.reasons, ',') ORDER BY d.parent), '{}')
        INTO v_parents, v_why
        FROM pgpart._due_parents(p_now_at) AS d;
    END IF;
    IF p_dry_run THEN
        FOR r IN
            SELECT * FROM pgpart.run_maintenance(p_parent, p_now_at, p_lock_timeout, p_lock_retries, dry_run => true)
        LOOP
            RAISE NOTICE 'pgpart: dry run: % %', r.parent_table, pg_catalog.concat_ws(' ', 'step ' || r.step, r.action,
                r.partition, ': ' || coalesce(r.statement, r.detail));
        END LOOP;
        IF NOT FOUND THEN
            RAISE NOTICE 'pgpart: dry run: nothing to do';
        END IF;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(v_parents) LOOP
        v_parent := v_parents[i];
        v_reasons := pg_catalog.string_to_array(v_why[i], ',');
        v_state := pgpart._may_maintain(v_parent);
        IF v_state IS NOT NULL THEN
            RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_state;
            CONTINUE;
        END IF;
        -- set when statement_timeout fires (pgpart._statement_timed_out)
        v_fired := pg_catalog.current_setting('pgpart.statement_timeout_fired', true);
        v_failing := false;
        v_passes := 0;
        -- the default's rows first (policy drain_default), one committed
        -- range per transaction, at most pgpart._drain_max_ranges(); not
        -- when the filter found none to move (nor a failure to retry)
        LOOP
            EXIT WHEN NOT (v_reasons IS NULL OR v_reasons && ARRAY['default rows', 'last error', 'unknown']);
            v_passes := v_passes + 1;
            v_drain := NULL;
            BEGIN
                SELECT d.action, coalesce(d.partition || ': ', '') || d.detail INTO v_drain, v_message
                FROM pgpart._drain_default_rows(v_parent, p_now_at, p_lock_timeout, p_lock_retries, false, 1) AS d;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                PERFORM pgpart._record_failure(v_parent, 'drain_default', v_state, v_message);
                v_drain := 'error';
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            EXIT WHEN v_drain IS NULL;
            RAISE NOTICE 'pgpart: % drain_default: % %', v_parent, v_drain, v_message;
            v_failing := v_failing OR v_drain = 'error';
            EXIT WHEN v_drain <> 'moved' OR v_passes >= pgpart._drain_max_ranges();
        END LOOP;
        v_passes := 0;
        -- the lock-light part, once more per transaction while it creates
        -- tables and some are still missing (catch-up past the per-transaction cap)
        LOOP
            v_passes := v_passes + 1;
            v_created := 0;
            BEGIN
                -- isolated per parent inside (errors come back as rows); this catches what fails around it
                -- drained above, one range per transaction (pgpart._drain_default_rows)
                PERFORM pg_catalog.set_config('pgpart.drain_done', 'on', true);
                -- why the filter found the parent due, for run_maintenance
                -- (first pass only: later ones catch up what is still missing)
                PERFORM pg_catalog.set_config(
                    'pgpart.due_reasons',
                    CASE WHEN v_passes = 1 AND v_reasons IS NOT NULL
                         THEN v_parent::oid::text || ':' || pg_catalog.array_to_string(v_reasons, ',') ELSE '' END,
                    true);
                FOR r IN SELECT m.action FROM pgpart.run_maintenance(v_parent, p_now_at, p_lock_timeout, p_lock_retries) AS m
                LOOP
                    v_created := v_created + (r.action = 'created')::integer;
                    v_failing := v_failing OR r.action = 'error';
                END LOOP;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                v_failing := true;
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            -- 500 transactions of 200: the 100,000 slots a window may span at most;
            -- fewer than one transaction's cap created: nothing was left out
            EXIT WHEN v_failing OR v_created = 0 OR v_passes >= 500
                OR pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired
                OR v_created < pgpart._max_new_tables() / (1 + pgpart._subpartition_leaves(
                    (SELECT c.subpartition FROM pgpart.config AS c WHERE c.parent = v_parent)))
                OR pgpart._window_complete(v_parent, p_now_at);
        END LOOP;
        IF pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired THEN
            -- this parent took too long: the rest of its work waits for the next run
            RAISE NOTICE 'pgpart: % timed out: its retention waits for the next run', v_parent;
            v_failed := v_failed || v_parent::text;
            CONTINUE;
        END IF;
        v_done := 0;
        LOOP
            -- retention, unless the filter found none of its work and the
            -- policy has no retention rule (with one, the partitions just
            -- made can expire the one that was the newest)
            EXIT WHEN v_reasons IS NOT NULL
                AND NOT v_reasons && ARRAY['expired', 'journal', 'detach pending', 'retention refused', 'last error',
                                           'unknown']
                AND NOT EXISTS (
                    SELECT 1 FROM pgpart.config AS c
                    WHERE c.parent = v_parent
                      AND (c.retention IS NOT NULL OR c.retention_max_bytes IS NOT NULL
                           OR c.retention_max_rows IS NOT NULL)
                );
            BEGIN
                v_steps := ARRAY(SELECT s FROM pgpart._retention_step(v_parent, p_now_at, p_lock_timeout, p_lock_retries,
                                                                      p_as_owner => true, p_done => v_done) AS s);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: retention of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'retention', v_state, v_message);
                v_failing := true;
                v_steps := '{}';
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            -- skipped: another run holds the parent (logged, not an error)
            -- analyze: the policy's, after the work (the last step)
            EXIT WHEN pg_catalog.cardinality(v_steps) = 0 OR v_steps[1].action IN ('skipped', 'analyze');
            v_done := v_done + 1;
            RAISE NOTICE 'pgpart: % % %', v_parent, v_steps[1].action, v_steps[1].partition;
            EXIT WHEN v_done >= 100000;
        END LOOP;
        IF v_failing THEN
            v_failed := v_failed || v_parent::text;
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(v_failed) > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'PGM01',
            MESSAGE = pg_catalog.format('pgpart maintenance failed for %s table(s): %s',
                                        pg_catalog.cardinality(v_failed), pg_catalog.array_to_string(v_failed, ', ')),
            DETAIL = 'The other tables were maintained and committed; each failure was logged as it happened.',
            HINT = 'See SELECT * FROM pgpart.check() (code maintenance_failed) and the error rows of pgpart.log.';
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(regclass, timestamptz, interval, integer, boolean) IS  -- noqa: LT01
'All maintenance for pg_cron and CALL: per managed parent, the lock-light part until caught up, then retention one committed step at a time, then ANALYZE; raises PGM01 naming the failed tables at the end. dry_run: the plan as NOTICEs.';

-- The overloads taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table, where the regclass cast would fail before the
-- call (see pgpart._table_arg). No SET clause, so the name is resolved in
-- the caller's search_path, as the cast would; NULL maintains every table.
CREATE FUNCTION pgpart.run_maintenance(
    parent text,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    partition text,
    detail text,
    step integer,
    lower_bound text,
    upper_bound text,
    statement text,
    locks text,
    top_level boolean,
    error jsonb
)
LANGUAGE plpgsql
-- as the verb it calls (no SET search_path: see above)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.run_maintenance(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.run_maintenance'),
        p_now_at, p_lock_timeout, p_lock_retries, p_dry_run, p_online);
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(text, timestamptz, interval, integer, boolean, boolean) IS
'run_maintenance with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL maintains every table.';

-- It resolves the name before pinning search_path, then CALLs the procedure
-- above (a nested CALL may still commit).
CREATE PROCEDURE pgpart.run_maintenance_proc(
    parent text,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parent regclass := pgpart._table_arg(
        run_maintenance_proc.parent, pg_catalog.to_regclass(run_maintenance_proc.parent),
        pg_catalog.current_setting('search_path'), 'pgpart.run_maintenance_proc');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    CALL pgpart.run_maintenance_proc(v_parent, run_maintenance_proc.now_at, run_maintenance_proc.lock_timeout,
                                     run_maintenance_proc.lock_retries, run_maintenance_proc.dry_run);
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(text, timestamptz, interval, integer, boolean) IS  -- noqa: LT01
'run_maintenance_proc with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL maintains every table.';

-- pgpart._drain_default_step(parent, now_at, lock_timeout, lock_retries):
-- one range of the default partition drained (policy drain_default,
-- 30_plan/drain_default.sql): the locks of pgpart._drain_lock_statements
-- (writers wait at the parent instead of failing), then
-- pgpart.move_default_range (build the table, DELETE ... RETURNING the
-- rows into it, ATTACH, logged in pgpart.log). Returns 'moved' with the
-- range and its rows, 'skipped' with the reason (policy refused, default
-- too large or locked), or no row when there is nothing to drain. Runs as
-- the table's owner. Its caller commits (or not: run_maintenance's
-- transaction holds every range it drains until it commits).
CREATE FUNCTION pgpart._drain_default_step(
    p_parent regclass,
    p_now_at timestamptz,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS TABLE (
    action text, partition text, lower_bound text, upper_bound text, rows_moved bigint, detail text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_caller name;
    v_state record;
    v_moved record;
BEGIN
    detail := pgpart._may_maintain(p_parent);
    IF detail IS NOT NULL THEN
        action := 'skipped';
        RETURN NEXT;
        RETURN;
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    SELECT * INTO v_state FROM pgpart._drain_state(p_parent, p_lock_timeout);
    IF v_state.state IN ('off', 'empty') THEN
        PERFORM set_config('role', v_caller, true);
        RETURN;
    END IF;
    IF v_state.state <> 'drain' THEN
        PERFORM set_config('role', v_caller, true);
        action := 'skipped';
        partition := v_state.default_partition::text;
        detail := CASE WHEN v_state.state = 'too large'
            THEN pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                 || ' (see pgpart.check(): default_too_large_to_drain)'
            ELSE format('drain_default: the default partition %s is locked: drained by a later run',
                        v_state.default_partition) END;
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM pgpart._acquire_locks(pgpart._drain_lock_statements(p_parent), p_lock_timeout, p_lock_retries);
    SELECT * INTO v_moved FROM pgpart.move_default_range(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS m;
    PERFORM set_config('role', v_caller, true);
    IF v_moved.partition IS NULL THEN
        RETURN;
    END IF;
    action := 'moved';
    partition := v_moved.partition;
    lower_bound := v_moved.lower_bound;
    upper_bound := v_moved.upper_bound;
    rows_moved := v_moved.rows_moved;
    detail := format('drain_default: %s rows moved from the default partition %s', v_moved.rows_moved,
                     v_state.default_partition);
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_default_step(regclass, timestamptz, interval, integer) IS
'Drains one range of the default partition of a parent whose policy has drain_default (writers wait, never fail): moved, skipped with the reason, or nothing to do (internal).';

-- pgpart._drain_default_rows(parent, now_at, lock_timeout, lock_retries,
-- dry_run, max_ranges): the drain stage of maintenance, rows in the shape
-- of run_maintenance's. Up to MAX_RANGES ranges, each in a subtransaction
-- of its own (a failure keeps the ranges moved before it, is logged and
-- kept as last_error, and ends the stage; a lock not obtained ends it as
-- 'skipped'). DRY_RUN: the ranges move_default_plan lists (exact counts),
-- each with the statement that moves it, or why nothing would move;
-- changes nothing. Nothing is done (no row) unless the policy has
-- drain_default on, or when the caller set pgpart.drain_done for its
-- transaction (run_maintenance_proc drains first, one range per
-- transaction, then calls run_maintenance; the Python client does the same
-- with P_MAX_RANGES 1, one call per transaction).
CREATE FUNCTION pgpart._drain_default_rows(
    p_parent regclass,
    p_now_at timestamptz DEFAULT now(),
    p_lock_timeout interval DEFAULT '200ms',
    p_lock_retries integer DEFAULT 10,
    p_dry_run boolean DEFAULT false,
    p_max_ranges integer DEFAULT pgpart._drain_max_ranges()
)
RETURNS TABLE (
    action text, partition text, detail text, lower_bound text, upper_bound text, statement text, locks text,
    error jsonb
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    v_caller name;
    v_state record;
    v_n integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    r record;
BEGIN
    IF current_setting('pgpart.drain_done', true) = 'on'
       OR NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.drain_default) THEN
        RETURN;
    END IF;
    IF p_dry_run THEN
        BEGIN
            v_caller := pgpart._become_owner(p_parent);
            SELECT * INTO v_state FROM pgpart._drain_state(p_parent, p_lock_timeout);
            IF v_state.state IN ('too large', 'locked') THEN
                RETURN QUERY SELECT 'skipped', v_state.default_partition::text,
                    CASE WHEN v_state.state = 'too large'
                        THEN pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                        ELSE format('drain_default: the default partition %s is locked', v_state.default_partition)
                    END, NULL::text, NULL::text, NULL::text, NULL::text, NULL::jsonb;
            ELSIF v_state.state = 'drain' THEN
                RETURN QUERY
                SELECT CASE WHEN m.problem IS NULL THEN 'move' ELSE 'error' END, m.partition,
                       coalesce(m.problem, format('drain_default: %s rows to move from the default partition %s',
                                                  m.rows_to_move, v_state.default_partition)),
                       m.lower_bound, m.upper_bound,
                       format('SELECT * FROM pgpart.move_default_range(%L::regclass, %L, %s, %L)', p_parent::text,
                              p_lock_timeout, p_lock_retries, p_now_at),
                       format('SHARE ROW EXCLUSIVE on %s (writers wait), ACCESS EXCLUSIVE on %s; the new '
                              'partition''s ATTACH scans the default', p_parent, v_state.default_partition),
                       NULL::jsonb
                FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at) AS m
                WHERE m.step <= p_max_ranges
                ORDER BY m.step;
            END IF;
            PERFORM set_config('role', v_caller, true);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                    v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
            RETURN QUERY SELECT CASE WHEN v_sqlstate = '55P03' THEN 'skipped' ELSE 'error' END, NULL::text,
                                format('drain_default: %s: %s', v_sqlstate, v_message), NULL::text, NULL::text,
                                NULL::text, NULL::text,
                                pgpart._error_report(v_sqlstate, v_message, v_detail, v_hint, v_schema, v_table);
        END;
        RETURN;
    END IF;
    WHILE v_n < p_max_ranges LOOP
        v_n := v_n + 1;
        BEGIN
            SELECT * INTO r FROM pgpart._drain_default_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries) AS s;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                    v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
            IF v_sqlstate = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;  -- a cancel stops the whole run
            END IF;
            IF v_sqlstate = '55P03' THEN
                RAISE NOTICE 'pgpart: drain_default of % skipped: %', p_parent, v_message;
                PERFORM pgpart._log(p_parent, 'drain_default', 'skipped',
                                    jsonb_build_object('sqlstate', v_sqlstate, 'message', v_message));
            ELSE
                RAISE WARNING 'pgpart: drain_default of % failed: % %', p_parent, v_sqlstate, v_message;
                PERFORM pgpart._record_failure(p_parent, 'drain_default', v_sqlstate, v_message);
            END IF;
            RETURN QUERY SELECT CASE WHEN v_sqlstate = '55P03' THEN 'skipped' ELSE 'error' END, NULL::text,
                                format('drain_default: %s: %s', v_sqlstate, v_message), NULL::text, NULL::text,
                                NULL::text, NULL::text,
                                pgpart._error_report(v_sqlstate, v_message, v_detail, v_hint, v_schema, v_table);
            RETURN;
        END;
        EXIT WHEN r.action IS NULL;
        RETURN QUERY SELECT r.action, r.partition, r.detail, r.lower_bound, r.upper_bound, NULL::text, NULL::text,
                            NULL::jsonb;
        EXIT WHEN r.action <> 'moved';
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_default_rows(regclass, timestamptz, interval, integer, boolean, integer) IS
'The drain stage of maintenance (policy drain_default): up to max_ranges ranges moved out of the default partition, each isolated, as run_maintenance rows; dry_run: the ranges it would move (internal).';
