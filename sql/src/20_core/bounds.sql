-- Bounds on the work of one call, checked before any work (DESIGN §3): a
-- table owner's policy must not make a call plan or build without end, nor
-- exhaust the shared lock table that every session needs.

-- pgpart._max_new_tables(): at most this many new tables in one
-- transaction, counting partitions, their sub-partitions and a default
-- partition alike: each holds six to ten locks until commit (measured:
-- ~10 for a range partition with two indexes, ~9 for a hash leaf), and the
-- shared lock table holds max_locks_per_transaction x max_connections
-- entries (6,400 by default) for every session together.
CREATE FUNCTION pgpart._max_new_tables()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 200;
$body$;

COMMENT ON FUNCTION pgpart._max_new_tables() IS
'At most this many new tables (partitions, sub-partitions, a default) in one transaction: 200.';

-- pgpart._max_premake(): premake is planned slot by slot, by
-- create_range_partitions, maintenance and check alike; 1,000 slots ahead
-- is a week of 15-minute partitions or nearly three years of daily ones.
CREATE FUNCTION pgpart._max_premake()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 1000;
$body$;

COMMENT ON FUNCTION pgpart._max_premake() IS
'Largest premake accepted: 1000 slots ahead of the current one.';

-- pgpart._max_list_values(): at most this many list values in one call
-- (create_list_partitions, add_list_values, a list sub-partition spec):
-- each value is validated against every other and against the bounds of
-- the existing partitions.
CREATE FUNCTION pgpart._max_list_values()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 1000;
$body$;

COMMENT ON FUNCTION pgpart._max_list_values() IS
'At most this many list values in one call: 1000.';

-- pgpart._premake_in_bounds(premake): 0 <= premake <= _max_premake() (NULL
-- for NULL), the one test shared by the argument check below and by
-- check(), which reports a premake written into pgpart.config directly.
CREATE FUNCTION pgpart._premake_in_bounds(p_premake integer)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT p_premake BETWEEN 0 AND pgpart._max_premake();
$body$;

COMMENT ON FUNCTION pgpart._premake_in_bounds(integer) IS
'Whether a premake is between 0 and pgpart._max_premake() (NULL for NULL).';

-- pgpart._fix_premake(parent, premake): the set_policy call that brings an
-- out-of-bounds PREMAKE of PARENT to the nearest allowed value (the HINT of
-- _check_premake and the fix of check()'s premake_out_of_bounds).
CREATE FUNCTION pgpart._fix_premake(p_parent regclass, p_premake integer)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._fix_call('SELECT * FROM pgpart.set_policy', p_parent,
                            format(', premake => %s', least(greatest(p_premake, 0), pgpart._max_premake())));
$body$;

COMMENT ON FUNCTION pgpart._fix_premake(regclass, integer) IS
'The set_policy call that brings an out-of-bounds premake to the nearest allowed value.';

-- pgpart._check_premake(premake, parent): 22023 unless 0 <= premake <=
-- _max_premake(). Called by set_policy and by the planner (which also
-- covers a value written into pgpart.config directly), before any loop.
CREATE FUNCTION pgpart._check_premake(p_premake integer, p_parent regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF NOT pgpart._premake_in_bounds(p_premake) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('premake of table %s must be between 0 and %s, got %s', p_parent,
                             pgpart._max_premake(), p_premake),
            DETAIL = 'premake counts the partitions kept ready ahead of the current one.',
            HINT = format('Pass a premake from 0 to %s: %s', pgpart._max_premake(),
                          pgpart._fix_premake(p_parent, p_premake));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_premake(integer, regclass) IS
'Raises 22023 unless premake is between 0 and pgpart._max_premake().';

-- pgpart._list_value_count(values): how many values a list request holds
-- (a JSON array of values, or an object of groups of values), counted
-- without reading them one by one, so a huge request is refused at once.
CREATE FUNCTION pgpart._list_value_count(p_values jsonb)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE jsonb_typeof(p_values)
        WHEN 'array' THEN jsonb_array_length(p_values)::bigint
        WHEN 'object' THEN (
            SELECT coalesce(sum(CASE WHEN jsonb_typeof(e.value) = 'array' THEN jsonb_array_length(e.value) ELSE 1 END), 0)
            FROM jsonb_each(p_values) AS e
        )::bigint
        ELSE 0::bigint
    END;
$body$;

COMMENT ON FUNCTION pgpart._list_value_count(jsonb) IS
'Number of values in a list request (array of values or object of groups).';

-- pgpart._check_list_size(parent, values, what): 54000 when a list request
-- holds more than _max_list_values() values; WHAT names the request, such
-- as 'the list request for table' (the table's name follows).
CREATE FUNCTION pgpart._check_list_size(p_parent regclass, p_values jsonb, p_what text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint := pgpart._list_value_count(p_values);
BEGIN
    IF v_count > pgpart._max_list_values() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('%s %s holds %s values, more than the %s one call accepts', p_what, p_parent,
                             v_count, pgpart._max_list_values()),
            DETAIL = 'Each value is checked against every other and against the existing partitions before any work.',
            HINT = format('Split the values over several calls of at most %s values each: partitions already made '
                          'are kept, and pgpart.add_list_values adds values to an existing partition.',
                          pgpart._max_list_values()),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_list_size(regclass, jsonb, text) IS
'Raises 54000 when a list request holds more values than pgpart._max_list_values().';

-- pgpart._subpartition_leaves(spec): how many sub-partitions each
-- new partition gets under a (validated) sub-partition spec; 0 without one.
CREATE FUNCTION pgpart._subpartition_leaves(p_spec jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE
        WHEN p_spec IS NULL OR p_spec = 'null'::jsonb THEN 0
        WHEN p_spec ->> 'method' = 'hash' THEN (p_spec ->> 'modulus')::integer
        WHEN jsonb_typeof(p_spec -> 'values') = 'object'
            THEN (SELECT count(*) FROM jsonb_object_keys(p_spec -> 'values'))::integer
        ELSE jsonb_array_length(p_spec -> 'values')
    END;
$body$;

COMMENT ON FUNCTION pgpart._subpartition_leaves(jsonb) IS
'Number of sub-partitions each new partition gets under a sub-partition spec (0 without one).';

-- pgpart._statement_timed_out(message): after a handler caught 57014
-- (query_canceled), true when it was statement_timeout firing, false when
-- it was a cancel (pg_cancel_backend, Ctrl-C), which must stop the whole
-- run. PL/pgSQL's WHEN OTHERS does not catch 57014, so maintenance and
-- check() catch it explicitly and ask this.
--
-- What statement_timeout means after it fired once: PostgreSQL arms it once
-- per top-level statement and does not re-arm it, not even after a COMMIT
-- inside a procedure (verified on 18). We treat its firing as "this parent
-- took too long": that parent's work is rolled back, logged and reported,
-- and the run goes on with the others WITHOUT a statement timeout. That is
-- deliberate: the point of isolating it is that one owner's table cannot
-- starve everyone else's maintenance, and every remaining step is bounded by
-- pgpart itself (each lock under lock_timeout x lock_retries, at most
-- _max_new_tables() new tables per parent and call, bounded planning).
-- Whoever needs a hard limit for every parent runs maintenance per parent
-- (CALL pgpart.run_maintenance_proc('t'), one statement each).
--
-- The message is compared in English, and, for servers whose lc_messages
-- translate it, the time elapsed since the statement began is compared with
-- statement_timeout. Since the timeout fires once per statement, the first
-- firing is remembered (a session setting holding the statement's start),
-- and any later 57014 of the same statement is a cancel.
CREATE FUNCTION pgpart._statement_timed_out(p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_statement text := statement_timestamp()::text;
    v_timeout_ms bigint;
BEGIN
    IF current_setting('pgpart.statement_timeout_fired', true) IS NOT DISTINCT FROM v_statement THEN
        RETURN false;
    END IF;
    SELECT s.setting::bigint INTO v_timeout_ms FROM pg_settings AS s WHERE s.name = 'statement_timeout';
    IF p_message = 'canceling statement due to statement timeout'
       OR (v_timeout_ms > 0
           AND clock_timestamp() - statement_timestamp() >= v_timeout_ms * interval '1 millisecond') THEN
        -- not local: it must outlive this function and the caller's subtransaction
        PERFORM set_config('pgpart.statement_timeout_fired', v_statement, false);
        RETURN true;
    END IF;
    RETURN false;
END
$body$;

COMMENT ON FUNCTION pgpart._statement_timed_out(text) IS
'After catching 57014: true if statement_timeout fired (the first time in this statement), false for a cancel.';

-- pgpart._analyze_bounded(parent): ANALYZE of a partitioned parent after
-- retention (autovacuum never analyzes partitioned tables), bounded so that
-- it can never exhaust the shared lock table: ANALYZE locks every partition
-- it samples until commit (on 15 and 16 it also analyzes each partition and
-- locks its indexes; 18 has ANALYZE ONLY, which spares that). When the
-- relations it would lock exceed half of max_locks_per_transaction x
-- max_connections it is skipped (logged 'skipped'). Its locks are waited
-- for at most LOCK_TIMEOUT (a session holding one partition must not stall
-- the run; then it is skipped too). A failure (53200 included) is logged as
-- the parent's last error, never raised, so it never aborts the run that
-- called it; only a user's cancel is raised. Returns NULL when analyzed,
-- else why not.
CREATE FUNCTION pgpart._analyze_bounded(p_parent regclass, p_lock_timeout interval DEFAULT '200ms')
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_only boolean := current_setting('server_version_num')::integer >= 180000;
    v_relations bigint;
    v_budget bigint;
    v_state text;
    v_message text;
    v_reason text;
BEGIN
    PERFORM pgpart._set_lock_timeout(coalesce(p_lock_timeout, interval '200ms'));
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    )
    SELECT count(*) + CASE WHEN v_only THEN 0
                           ELSE (SELECT count(*) FROM pg_index AS x WHERE x.indrelid IN (SELECT t.rel FROM tree AS t)) END
    INTO v_relations
    FROM tree;
    v_budget := current_setting('max_locks_per_transaction')::bigint * current_setting('max_connections')::bigint / 2;
    IF v_relations > v_budget THEN
        v_reason := format('ANALYZE of %s skipped: it would lock %s relations in one transaction, more than half of '
                           'the shared lock table (max_locks_per_transaction %s x max_connections %s)', p_parent,
                           v_relations, current_setting('max_locks_per_transaction'),
                           current_setting('max_connections'));
    ELSE
        BEGIN
            EXECUTE format('ANALYZE %s%s', CASE WHEN v_only THEN 'ONLY ' ELSE '' END, p_parent);
            RETURN NULL;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;
            END IF;
        END;
        IF v_state = '55P03' THEN
            v_reason := format('ANALYZE of %s skipped: %s', p_parent, v_message);
        END IF;
    END IF;
    IF v_reason IS NOT NULL THEN
        RAISE NOTICE 'pgpart: %', v_reason;
        BEGIN
            PERFORM pgpart._log(p_parent, 'analyze', 'skipped',
                                jsonb_build_object('message', v_reason, 'relations', v_relations));
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- not the owner (a reader): the NOTICE and the result say it
        END;
        RETURN v_reason;
    END IF;
    RAISE WARNING 'pgpart: ANALYZE of % failed: % %', p_parent, v_state, v_message;
    PERFORM pgpart._record_failure(p_parent, 'analyze', v_state, v_message);  -- never raises
    RETURN format('ANALYZE of %s failed: %s: %s', p_parent, v_state, v_message);
END
$body$;

COMMENT ON FUNCTION pgpart._analyze_bounded(regclass, interval) IS
'ANALYZE of a partitioned parent after retention, skipped above a lock budget, a failure logged and never raised (but a cancel); NULL when done, else why not.';
