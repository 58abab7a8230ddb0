-- pgpart 0.1.1 -> 0.2.0. Run by ALTER EXTENSION pgpart UPDATE, or by
-- Client.install() over a script install. The result equals a fresh 0.2.0
-- install (tests/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit

-- Signatures that changed (run_maintenance gained dry_run and online and
-- the plan's columns; ensure_range takes everything create_range_partitions
-- takes): scripts/upgrade_draft.py drops the old ones before the routines.
-- Routines, policies and comments new or changed since 0.1.1 (drafted by scripts/upgrade_draft.py).

DROP FUNCTION pgpart.run_maintenance(parent regclass, now_at timestamptz, lock_timeout interval, lock_retries integer);

DROP FUNCTION pgpart.ensure_range(parent regclass, "interval" text, premake integer, retention text, retention_action text, archive_schema name, archive_tablespace name, tablespace name, time_zone text, origin text, default_partition boolean, lock_timeout interval, lock_retries integer, now_at timestamptz, dry_run boolean);

-- source: sql/src/20_core/error_report.sql
-- pgpart._error_report(sqlstate, message, detail, hint, schema, table): an
-- error caught by a verb that goes on (maintenance isolates each parent) as
-- the object it returns, so its caller gets the error itself (a typed error
-- in Python) rather than text to parse: the fields of PostgreSQL's error
-- report, empty ones left out.
CREATE OR REPLACE FUNCTION pgpart._error_report(
    p_sqlstate text,
    p_message text,
    p_detail text,
    p_hint text,
    p_schema text,
    p_table text
)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'sqlstate', nullif(p_sqlstate, ''),
        'message', p_message,
        'detail', nullif(p_detail, ''),
        'hint', nullif(p_hint, ''),
        'schema', nullif(p_schema, ''),
        'table', nullif(p_table, '')
    ));
$body$;

COMMENT ON FUNCTION pgpart._error_report(text, text, text, text, text, text) IS
'An error caught by a verb that goes on, as a jsonb object (sqlstate, message, detail, hint, schema, table) for its result.';

-- source: sql/src/40_api/ensure_range.sql
-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan. It takes every
-- argument create_range_partitions takes (START, RELOPTIONS, SUBPARTITION,
-- MAX_NEW) and passes them on, so no caller has to compose the two verbs.
CREATE OR REPLACE FUNCTION pgpart.ensure_range(
    parent regclass,
    "interval" text DEFAULT NULL,
    premake integer DEFAULT NULL,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    default_partition boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    start text DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_interval text;
    v_policy text;
    v_last bigint;
    v_old pgpart.config;
BEGIN
    PERFORM pgpart._require_owner($1);
    PERFORM pgpart._check_args($12, $13, $14);
    v_interval := coalesce($2, (SELECT c.partition_interval FROM pgpart.config AS c WHERE c.parent = $1));
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', $1),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.';
    END IF;
    -- the policy values are validated before anything, dry run or not
    SELECT c.* INTO v_old FROM pgpart.config AS c WHERE c.parent = $1;
    IF v_old.parent IS NULL THEN
        v_old.parent := $1;
        v_old.strategy := 'range';
        v_old.key_type := (pgpart._range_key($1)).key_type;
    END IF;
    PERFORM pgpart._merge_policy(v_old, $4, $5, $6, $7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    v_policy := concat_ws(', ', format('%L::regclass', $1::text),
                          'retention => ' || quote_literal($4), 'retention_action => ' || quote_literal($5),
                          'archive_schema => ' || quote_literal($6), 'archive_tablespace => ' || quote_literal($7));
    IF $15 THEN
        RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
            $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
            default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
            dry_run => true, subpartition => $18, max_new => $19);
        IF num_nonnulls($4, $5, $6, $7) > 0 THEN
            SELECT count(*) INTO v_last
            FROM pgpart.create_range_partitions(
                $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
                default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
                dry_run => true, subpartition => $18, max_new => $19);
            RETURN NEXT ROW((v_last + 1)::integer, NULL, NULL, NULL, 'set policy', format('SELECT pgpart.set_policy(%s)', v_policy),
                            'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
        $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
        default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
        dry_run => false, subpartition => $18, max_new => $19);
    IF num_nonnulls($4, $5, $6, $7) > 0 THEN
        PERFORM pgpart.set_policy($1, retention => $4, retention_action => $5, archive_schema => $6,
                                  archive_tablespace => $7);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(
    regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean,
    text, text[], jsonb, integer
) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive, sub-partitioning) and creates the missing partitions, in one transaction; takes every argument of create_range_partitions. NULL keeps what is configured.';

-- source: sql/src/40_api/run_maintenance.sql
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
-- logged and reported (ERROR: the error as an object: sqlstate, message,
-- detail, hint, schema, table), and the others go on; a user's cancel stops
-- the run.
-- DRY_RUN: the plan of all of maintenance, changing nothing and taking no
-- lock: the same loop, the same decisions, each verb called in its dry-run
-- mode where the real run calls it for real (finalize, create_range_partitions,
-- reconcile), then, in place of "retention due", the retention steps that
-- follow (detach_and_archive's plan; ONLINE: with DETACH CONCURRENTLY, as
-- the Python client runs it). STEP numbers each parent's plan from 1; a
-- failure the real run would meet (e.g. retention refused) is an "error" row.
-- Dry run only: a pending detach and a journal entry both due make the
-- archive of the finalized table come first in the plan, after the other
-- journal entries in the real run.
CREATE OR REPLACE FUNCTION pgpart.run_maintenance(
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
    p_parent ALIAS FOR $1;
    p_now_at ALIAS FOR $2;
    p_timeout ALIAS FOR $3;
    p_retries ALIAS FOR $4;
    p_dry_run ALIAS FOR $5;
    p_online ALIAS FOR $6;
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    v_due boolean;
    -- rows of a parent's work, returned only once that work has succeeded
    v_rows pgpart.step [];
    v_details text [];
    v_timed_out boolean;
    v_n integer;  -- steps of the parent's plan so far (dry run)
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
    PERFORM pgpart._check_args(p_timeout, p_retries, p_now_at);
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    FOR v_parent IN SELECT * FROM pgpart._maintenance_parents(p_parent) LOOP
        v_n := 0;
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
        v_rows := '{}';
        v_details := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else plan without locks first: when nothing is
            -- missing after all, no lock is taken.
            v_due := NOT pgpart._window_complete(v_parent, p_now_at);
            IF v_due THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 200) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due THEN
                -- real: the partitions created ('created'); dry run: its plan
                FOR st IN
                    SELECT s.*
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => p_timeout, lock_retries => p_retries,
                                                        now_at => p_now_at, max_new => 200,
                                                        dry_run => p_dry_run) AS s
                    ORDER BY s.step
                LOOP
                    v_rows := v_rows || st;
                    v_details := v_details || CASE
                        WHEN NOT p_dry_run THEN format('from %s to %s', st.lower_bound, st.upper_bound)
                    END;
                END LOOP;
            END IF;
            IF NOT p_dry_run THEN
                -- what retention will do next (a dry run plans its steps below)
                FOR r IN SELECT e.partition FROM pgpart._expired_partitions(v_parent, p_now_at, p_timeout) AS e LOOP
                    v_rows := v_rows || ROW(NULL, r.partition::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('retention %s, then %s', v_cfg.retention, v_cfg.retention_action);
                END LOOP;
                -- detached earlier (an interrupted run), its archive or drop still to do
                FOR r IN SELECT a.detached, a.then_action FROM pgpart._detached_awaiting(v_parent) AS a LOOP
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
            IF NOT p_dry_run AND v_cfg.last_error IS NOT NULL THEN
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
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent) THEN
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
        -- (detach_and_archive), less the pending detaches finished above.
        IF p_dry_run AND NOT v_timed_out THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                v_rows := array(
                    SELECT s FROM pgpart.detach_and_archive(v_parent, p_timeout, p_retries, p_now_at,
                                                            dry_run => true, online => p_online) AS s
                    WHERE s.action <> 'finalize'
                    ORDER BY s.step
                );
                IF NOT EXISTS (SELECT 1 FROM unnest(v_rows) AS s WHERE s.action <> 'analyze') THEN
                    v_rows := '{}';  -- ANALYZE follows retention work, not a finalize alone
                END IF;
                PERFORM set_config('role', v_caller, true);
                RETURN QUERY
                SELECT v_parent, u.action, u.partition, NULL::text, v_n + u.ord::integer,
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

-- source: sql/src/40_api/unmanage.sql
-- pgpart.unmanage(parent, dry_run, missing_ok): stop managing a table.
-- Removes its policy row and nothing else: the partitions stay as they are,
-- attached, and become ordinary partitions pgpart no longer creates, detaches
-- or reconciles. It exists so that programs (the Python client, Django's
-- DeletePartitionedModel) never write pgpart.config themselves: the owner
-- check, the wait for pgpart's own work on the table and the log entry live
-- here, once. A pending detach is refused (55000): once the policy is gone,
-- nothing would finish it. missing_ok makes a table without a policy a no-op
-- (no row returned), as DROP ... IF EXISTS does.
CREATE OR REPLACE FUNCTION pgpart.unmanage(
    parent regclass,
    dry_run boolean DEFAULT false,
    missing_ok boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    applied boolean,
    partitions integer,
    policy jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parent regclass := unmanage.parent;
    v_policy jsonb;
    v_partitions integer;
    v_pending text;
    v_schema name;
    v_table name;
BEGIN
    PERFORM pgpart._require_owner(v_parent);  -- 42501 first: a refused call reveals nothing more
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = v_parent;
    IF dry_run IS NULL OR missing_ok IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('dry_run and missing_ok of pgpart.unmanage(%s) must not be NULL', v_parent),
            HINT = 'Pass true or false.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    -- pgpart's own work on the table (maintenance, an online retention run
    -- holding the session lock) must not lose its policy half-way.
    IF NOT pg_try_advisory_xact_lock(pgpart.advisory_key(v_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('pgpart is working on table %s', v_parent),
            DETAIL = format('Another session holds pgpart''s advisory lock %s on the table.',
                            pgpart.advisory_key(v_parent)),
            HINT = 'Retry when that maintenance or retention run has finished.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT to_jsonb(c) - 'last_error' - 'last_error_at' INTO v_policy
    FROM pgpart.config AS c WHERE c.parent = v_parent
    FOR UPDATE;
    IF v_policy IS NULL THEN
        IF missing_ok THEN
            RETURN;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', v_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Nothing to do; pass missing_ok => true to accept tables without a policy.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT string_agg(i.inhrelid::regclass::text, ', ' ORDER BY i.inhrelid::regclass::text)
    INTO v_pending
    FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has a pending detach', v_parent),
            DETAIL = format('Partitions %s are being detached; without a policy nothing would finish it.',
                            v_pending),
            HINT = format('Finish it first: SELECT * FROM pgpart.run_maintenance(%L), '
                          'or ALTER TABLE %s DETACH PARTITION ... FINALIZE.', v_parent::text, v_parent),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT count(*)::integer INTO v_partitions FROM pg_inherits AS i WHERE i.inhparent = v_parent;
    IF NOT dry_run THEN
        DELETE FROM pgpart.config AS c WHERE c.parent = v_parent;
        PERFORM pgpart._log(v_parent, 'unmanage', 'ok',
                            jsonb_build_object('partitions', v_partitions, 'policy', v_policy));
    END IF;
    parent_table := v_parent;
    action := 'unmanage';
    applied := NOT dry_run;
    partitions := v_partitions;
    policy := v_policy;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.unmanage(regclass, boolean, boolean) IS
'Stops managing a table: removes its policy (returned, and logged) and leaves its partitions attached. 42501 unless the caller owns the table, 55000 when it has no policy (unless missing_ok) or a detach is pending, 55P03 while pgpart works on it. dry_run changes nothing.';

