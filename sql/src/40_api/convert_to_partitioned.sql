-- pgpart.convert_to_partitioned(table, key, interval, ...): turns a plain
-- table into a pgpart-managed RANGE-partitioned table under the same name.
-- The old table becomes one "legacy" partition FROM (MINVALUE) TO a grid
-- bound after its largest key and after now_at; partitions from that bound
-- on follow the grid (ensure_range's policy arguments). The steps: the key
-- made NOT NULL through a validated CHECK, a CHECK (key < bound) validated
-- so ATTACH needs no scan, then one short swap transaction (docs/
-- converting.md). DRY_RUN returns the plan: each step's statement, locks,
-- transaction ('own' or 'swap') and rows it reads. WHY a function and a
-- client path: this function runs every step in ONE transaction, so the
-- table stays locked while its validations scan it (fine for small tables);
-- the Python client (Client.convert, `pgpart convert`) runs the same plan
-- one short transaction per step, so writers go on. Re-planned from the
-- catalog: a converted table returns no steps. LEGACY => 'split' then
-- splits the legacy partition (pgpart.split_legacy) in the same
-- transaction.
CREATE FUNCTION pgpart.convert_to_partitioned(
    "table" regclass,
    key name,
    "interval" text,
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
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    legacy_name name DEFAULT NULL,
    legacy text DEFAULT 'keep'
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_table ALIAS FOR "table";
    p_key ALIAS FOR key;
    p_interval ALIAS FOR "interval";
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    v_kind "char";
    v_policy jsonb;
    v_step record;
    v_last integer;
    v_name text;
    v_reloptions text [];
    v_split boolean;
    v_more integer := 0;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF convert_to_partitioned.legacy IS NULL OR convert_to_partitioned.legacy NOT IN ('keep', 'split') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('legacy must be ''keep'' or ''split'', not %L', convert_to_partitioned.legacy),
            HINT = 'Pass legacy => ''keep'' (the old rows stay in one legacy partition) or ''split'' (they move into '
                   'partitions of the grid, pgpart.split_legacy).';
    END IF;
    v_split := convert_to_partitioned.legacy = 'split';
    IF p_key IS NULL OR p_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('converting %s needs a key column and an interval', p_table),
            HINT = 'Pass key => the column to partition by and "interval" => such as ''1 day''.';
    END IF;
    PERFORM pgpart._require_owner(p_table);
    SELECT c.relkind, c.reloptions, format('%I.%I', n.nspname, c.relname) INTO v_kind, v_reloptions, v_name
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    -- converted already (a resumed run): what is left is validating the
    -- foreign keys pointed at its global unique constraints
    IF v_kind = 'p' AND EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_table) THEN
        FOR v_step IN SELECT * FROM pgpart._convert_followups(p_table) LOOP
            IF NOT p_dry_run THEN
                PERFORM pgpart._set_lock_timeout(p_lock_timeout);
                EXECUTE v_step.statement;
            END IF;
            RETURN QUERY SELECT v_step.step, v_step.action, v_step.statement, v_step.locks, v_step.transaction,
                                v_step.rows_estimate;
            v_last := v_step.step;
        END LOOP;
        -- legacy => 'split': what is left of the split (its own plan)
        IF v_split AND (SELECT l.legacy FROM pgpart._split_legacy_of(p_table) AS l) IS NOT NULL THEN
            RETURN QUERY SELECT coalesce(v_last, 0) + s.step, s.action, s.statement, s.locks, s.transaction,
                                s.rows_estimate
                         FROM pgpart.split_legacy(p_table, lock_timeout => p_lock_timeout,
                                                  lock_retries => p_lock_retries, dry_run => p_dry_run) AS s;
        END IF;
        RETURN;
    END IF;
    v_policy := jsonb_strip_nulls(jsonb_build_object(
        'premake', convert_to_partitioned.premake,
        'retention', convert_to_partitioned.retention,
        'retention_action', convert_to_partitioned.retention_action,
        'archive_schema', convert_to_partitioned.archive_schema,
        'archive_tablespace', convert_to_partitioned.archive_tablespace,
        'tablespace', convert_to_partitioned.tablespace,
        'default_partition', convert_to_partitioned.default_partition,
        -- the old table's storage parameters go to the new partitions (a
        -- partitioned parent cannot hold them)
        'reloptions', coalesce(convert_to_partitioned.reloptions, v_reloptions)::text,
        'subpartition', convert_to_partitioned.subpartition,
        'max_new', convert_to_partitioned.max_new,
        'drain_default', convert_to_partitioned.drain_default,
        'drain_default_max_bytes', convert_to_partitioned.drain_default_max_bytes));
    IF NOT p_dry_run AND EXISTS (
        SELECT 1 FROM pgpart._convert_plan(
            p_table, p_key, p_interval, convert_to_partitioned.time_zone, convert_to_partitioned.origin,
            convert_to_partitioned.epoch_unit, p_now_at, convert_to_partitioned.legacy_name, p_lock_timeout,
            p_lock_retries, v_policy) AS p
        WHERE p.transaction = 'autocommit') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('converting %s needs steps that run outside a transaction', p_table),
            DETAIL = 'A unique key without the partition key is carried by a global unique constraint built online '
                     '(CALL pgpart.build_global_unique) and, for a primary key, a unique index built with CREATE '
                     'INDEX CONCURRENTLY; a function cannot run them.',
            HINT = format('Use the Python client (Client.convert) or the command: pgpart convert %s --key %s '
                          '--interval %s; or run the steps of this function''s dry_run in order.',
                          p_table, p_key, quote_literal(p_interval));
    END IF;
    IF NOT p_dry_run THEN
        -- one transaction: the table is locked first (with retries), so no
        -- step waits behind a writer; it stays locked until commit
        PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_table)],
                                      p_lock_timeout, p_lock_retries);
    END IF;
    -- the whole plan is read before its first step runs (a FOR over a
    -- function's result materializes it)
    FOR v_step IN
        SELECT * FROM pgpart._convert_plan(
            p_table, p_key, p_interval, convert_to_partitioned.time_zone, convert_to_partitioned.origin,
            convert_to_partitioned.epoch_unit, p_now_at, convert_to_partitioned.legacy_name, p_lock_timeout,
            p_lock_retries, v_policy)
    LOOP
        IF NOT p_dry_run THEN
            PERFORM pgpart._set_lock_timeout(p_lock_timeout);
            EXECUTE v_step.statement;
        END IF;
        step := v_step.step;
        action := v_step.action;
        statement := v_step.statement;
        locks := v_step.locks;
        transaction := v_step.transaction;
        rows_estimate := v_step.rows_estimate;
        RETURN NEXT;
        v_last := v_step.step;
    END LOOP;
    -- then what the swap left: foreign keys pointed at side tables, NOT
    -- VALID, validated here (in this transaction; the client runs each on
    -- its own)
    IF NOT p_dry_run AND v_last IS NOT NULL THEN
        -- by name: the old OID is the legacy partition now
        FOR v_step IN SELECT * FROM pgpart._convert_followups(v_name::regclass) LOOP
            PERFORM pgpart._set_lock_timeout(p_lock_timeout);
            EXECUTE v_step.statement;
            RETURN QUERY SELECT v_last + v_step.step, v_step.action, v_step.statement, v_step.locks,
                                v_step.transaction, v_step.rows_estimate;
            v_more := v_step.step;
        END LOOP;
    END IF;
    -- legacy => 'split': the legacy partition's rows into grid partitions,
    -- in this transaction too; its dry run can only be planned after the
    -- swap, so the plan names it as one step
    IF v_split AND v_last IS NOT NULL THEN
        IF p_dry_run THEN
            RETURN QUERY SELECT v_last + 1, 'split legacy partition',
                format('SELECT * FROM pgpart.split_legacy(%L::regclass)', v_name),
                'per range: SHARE ROW EXCLUSIVE on the legacy partition; the swap: ACCESS EXCLUSIVE on the parent '
                || '(see split_legacy''s dry run after the swap)', 'own', NULL::bigint;
        ELSE
            RETURN QUERY SELECT v_last + v_more + s.step, s.action, s.statement, s.locks, s.transaction, s.rows_estimate
                         FROM pgpart.split_legacy(v_name::regclass, lock_timeout => p_lock_timeout,
                                                  lock_retries => p_lock_retries) AS s;
        END IF;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.convert_to_partitioned(
    regclass, name, text, integer, text, text, name, name, name, text, text, boolean, interval, integer,
    timestamptz, boolean, text[], jsonb, integer, text, boolean, bigint, name, text
) IS
'Converts a plain table into a pgpart-managed range-partitioned table of the same name: the old table becomes the legacy partition up to a grid bound, later partitions follow the grid; one transaction (the client runs the same plan online); legacy => ''split'' then moves the legacy rows into grid partitions (split_legacy). dry_run returns the steps.';
