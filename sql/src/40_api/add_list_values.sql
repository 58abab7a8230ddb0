-- pgpart.add_list_values(partition, values, ...): adds values to an existing
-- LIST partition. PostgreSQL cannot change a bound in place, so this is an
-- EXPLICITLY BLOCKING operation, in one short transaction:
--   1. lock the parent, the default partition and the partition ACCESS
--      EXCLUSIVE (under the lock timeout, with retries): every query on the
--      parent waits until commit;
--   2. give the partition a validated CHECK (key IS NOT NULL AND key IN
--      (old and new values)) - this scans the partition, under the lock;
--   3. DETACH it and ATTACH it again with the new bound: the CHECK implies the
--      bound, so ATTACH does not scan it again; drop the CHECK.
-- The IS NOT NULL matters: without it PostgreSQL does not see that the CHECK
-- implies a bound on a nullable key (verified), and would scan.
-- Long (about 130 lines): the checks of the partition, its default and the
-- values all run before the ACCESS EXCLUSIVE locks, then the three steps.
CREATE FUNCTION pgpart.add_list_values(
    partition regclass,
    "values" jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_partition ALIAS FOR partition;
    p_values ALIAS FOR "values";
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parent regclass;
    v_key record;
    v_old text [];
    v_new text [];
    v_all text [];
    v_default regclass;
    v_holder regclass;
    v_value text;
    v_check text;
    v_con name := 'pgpart_add_list_values'::name;
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    SELECT i.inhparent::regclass INTO v_parent FROM pg_inherits AS i WHERE i.inhrelid = p_partition;
    IF v_parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', p_partition),
            HINT = 'Pass a partition of a LIST-partitioned table.';
    END IF;
    PERFORM pgpart._require_owner(v_parent);
    v_key := pgpart._key_of(v_parent, 'l');
    -- bounded before any lock is taken or any value read (54000)
    PERFORM pgpart._check_list_size(v_parent, p_values, 'the values to add to table');
    IF NOT p_dry_run THEN
        -- lock first: the bound read below must not change before the re-attach
        PERFORM pgpart._acquire_locks(
            array(SELECT l.statement FROM pgpart._lock_statements(v_parent, p_partition) AS l), p_lock_timeout, p_lock_retries);
    END IF;
    SELECT pgpart._bound_values(p.bound, v_key.key_format) INTO v_old
    FROM pgpart._partitions(v_parent) AS p WHERE p.partition = p_partition;
    IF v_old IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('partition %s is the default partition', p_partition),
            HINT = 'Values can be added only to a partition with a list of values.';
    END IF;
    IF p_values IS NULL OR jsonb_typeof(p_values) <> 'array' OR jsonb_array_length(p_values) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_values) AS e WHERE jsonb_typeof(e) IN ('object', 'array')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid list values %s', coalesce(p_values::text, 'NULL')),
            HINT = 'Pass a non-empty JSON array of values, such as ["it", "es"].';
    END IF;
    v_new := array(SELECT pgpart._canonical(v_key.key_format, e #>> '{}') FROM jsonb_array_elements(p_values) AS e
                   WHERE NOT EXISTS (SELECT 1 FROM unnest(v_old) AS o
                                     WHERE o IS NOT DISTINCT FROM pgpart._canonical(v_key.key_format, e #>> '{}')));
    IF cardinality(v_new) = 0 THEN
        RETURN;  -- it holds them all already
    END IF;
    FOREACH v_value IN ARRAY v_new LOOP
        SELECT p.partition INTO v_holder FROM pgpart._partitions(v_parent) AS p
        WHERE NOT p.is_default AND p.partition <> p_partition
          AND EXISTS (SELECT 1 FROM unnest(pgpart._bound_values(p.bound, v_key.key_format)) AS v WHERE v IS NOT DISTINCT FROM v_value);
        IF v_holder IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_object_definition',
                MESSAGE = format('value %s of %s is already held by partition %s', coalesce(quote_literal(v_value), 'NULL'),
                                 v_parent, v_holder),
                HINT = 'Leave that value out.';
        END IF;
    END LOOP;
    v_all := v_old || v_new;
    v_default := pgpart._default_partition(v_parent);
    v_check := concat_ws(' OR ',
                         CASE WHEN array_position(v_all, NULL) IS NOT NULL THEN format('%I IS NULL', v_key.key_column) END,
                         format('(%I IS NOT NULL AND %I IN (%s))', v_key.key_column, v_key.key_column,
                                (SELECT string_agg(quote_literal(v), ', ') FROM unnest(v_all) AS v WHERE v IS NOT NULL)));

    FOR r IN SELECT l.statement, l.locks FROM pgpart._lock_statements(v_parent, p_partition) AS l LOOP
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'lock', r.statement, r.locks, false)::pgpart.step;
    END LOOP;
    IF v_default IS NOT NULL THEN
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'check default',
                                  format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                         v_default::text, v_key.key_column, v_new),
                                  format('ACCESS EXCLUSIVE on %s (held)', v_default), false)::pgpart.step;
    END IF;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'add check',
                              format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', p_partition, v_con, v_check),
                              format('ACCESS EXCLUSIVE on %s; scans it', p_partition), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'detach',
                              format('ALTER TABLE %s DETACH PARTITION %s', v_parent, p_partition),
                              format('ACCESS EXCLUSIVE on %s (until commit)', v_parent), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, pgpart._list_literal(v_all), NULL, 'attach',
                              format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)', v_parent, p_partition,
                                     pgpart._list_literal(v_all)),
                              format('ACCESS EXCLUSIVE on %s (until commit); the CHECK spares the scan', v_parent),
                              false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'drop check',
                              format('ALTER TABLE %s DROP CONSTRAINT %I', p_partition, v_con),
                              format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step;
    IF NOT p_dry_run THEN
        PERFORM pgpart._run_steps(v_steps, p_lock_timeout, p_lock_retries);
        PERFORM pgpart._log(v_parent, 'add_list_values', 'ok',
                            jsonb_build_object('partition', p_partition::text, 'added', to_jsonb(v_new)));
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.add_list_values(regclass, jsonb, interval, integer, boolean) IS
'Adds values to a LIST partition: an explicitly blocking operation (ACCESS EXCLUSIVE on the parent for one short transaction; a validated CHECK spares the re-attach its scan). dry_run returns the plan.';
