-- pgpart.create_hash_partitions(parent, modulus, ...): the MODULUS
-- partitions of a HASH-partitioned table (remainders 0 .. modulus - 1),
-- named <parent>_h<remainder>, each built detached and attached (DESIGN §3).
-- Idempotent: missing remainders are added. The modulus of an existing set
-- cannot change (0A000). Hash-partitioned tables have no default partition.
-- Long (about 120 lines): its planner is inline (checks, missing remainders,
-- names, steps), then lock, run and log, as in the other verbs' pipeline.
CREATE FUNCTION pgpart.create_hash_partitions(
    parent regclass,
    modulus integer,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_modulus ALIAS FOR modulus;
    p_tablespace ALIAS FOR tablespace;
    p_reloptions ALIAS FOR reloptions;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_key record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_tablespace name;
    v_moduli integer [];
    v_taken integer [];
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    v_table text;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    PERFORM pgpart._require_owner(p_parent);
    v_key := pgpart._key_of(p_parent, 'h');
    IF NOT p_dry_run THEN
        -- lock first, so that the partitions read below cannot change under us
        PERFORM pgpart._acquire_locks(array(SELECT l.statement FROM pgpart._lock_statements(p_parent) AS l),
                                      p_lock_timeout, p_lock_retries);
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    IF p_modulus IS NULL OR p_modulus < 1 OR p_modulus > 1024 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('modulus must be between 1 and 1024, got %s', coalesce(p_modulus::text, 'NULL')),
            HINT = 'Pass the number of hash partitions, such as 4, 8 or 16.';
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NOT NULL AND v_cfg.strategy <> 'hash' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s is managed by pgpart with strategy %s', p_parent, v_cfg.strategy),
            HINT = 'Delete its policy from pgpart.config first.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_tablespace := coalesce(p_tablespace, v_cfg.tablespace);
    PERFORM pgpart._require_tablespace(v_tablespace);
    PERFORM pgpart._with_clause(coalesce(p_reloptions, v_cfg.reloptions));  -- validates them before anything
    SELECT array_agg(DISTINCT (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer),
           array_agg((regexp_match(p.bound, 'remainder (\d+)'))[1]::integer)
    INTO v_moduli, v_taken
    FROM pgpart._partitions(p_parent) AS p;
    IF v_moduli IS NOT NULL AND v_moduli <> ARRAY[p_modulus] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the hash modulus of table %s from %s to %s', p_parent,
                             array_to_string(v_moduli, ', '), p_modulus),
            DETAIL = 'Rows are placed by their hash modulo the modulus: another modulus means moving every row.',
            HINT = format('Call with modulus %s, or create a new table with the new modulus and copy the rows.',
                          v_moduli[1]),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    FOR r IN SELECT * FROM pgpart._lock_statements(p_parent) LOOP
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, NULL, NULL, NULL, 'lock', r.statement, r.locks, false)::pgpart.step;
    END LOOP;
    FOR r IN SELECT g AS remainder FROM generate_series(0, p_modulus - 1) AS g WHERE NOT g = ANY (coalesce(v_taken, '{}')) LOOP
        v_table := format('%I.%I', v_schema, pgpart._relation_name(v_relname, '_h' || r.remainder));
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', p_modulus, r.remainder),
            pgpart._target_tablespace(p_parent, v_tablespace), coalesce(p_reloptions, v_cfg.reloptions), v_n + 1)
        LOOP
            st.lower_bound := format('remainder %s of %s', r.remainder, p_modulus);
            v_n := st.step;
            v_steps := v_steps || st;
        END LOOP;
    END LOOP;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, NULL, NULL, NULL, 'register policy',
                              format('SELECT pgpart._save_policy(%L::regclass, ''hash'', %L, %L::regtype, %L, %L)',
                                     p_parent::text, v_key.key_column, v_key.key_type::text, v_tablespace,
                                     coalesce(p_reloptions, v_cfg.reloptions)),
                              'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
    IF NOT p_dry_run THEN
        PERFORM pgpart._run_steps(v_steps, p_lock_timeout, p_lock_retries);
        IF EXISTS (SELECT 1 FROM unnest(v_steps) AS s WHERE s.action = 'attach') THEN
            PERFORM pgpart._log(p_parent, 'create_hash_partitions', 'ok',
                                jsonb_build_object('modulus', p_modulus, 'created',
                                                   (SELECT jsonb_agg(s.partition ORDER BY s.step)
                                                    FROM unnest(v_steps) AS s WHERE s.action = 'attach')));
        END IF;
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        IF NOT p_dry_run THEN
            CONTINUE WHEN st.action <> 'attach';
            st.action := 'created';
        END IF;
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.create_hash_partitions(regclass, integer, name, text[], interval, integer, boolean) IS
'Creates the missing HASH partitions (remainders 0 .. modulus - 1) of PARENT, each built detached then attached; refuses a modulus change. dry_run returns the plan.';
