-- pgpart.create_hash_partitions(parent, modulus, ...): the MODULUS
-- partitions of a HASH-partitioned table (remainders 0 .. modulus - 1),
-- named <parent>_h<remainder>, each built detached and attached (DESIGN §3).
-- Idempotent: missing remainders are added. The modulus of an existing set
-- cannot change (0A000). Hash-partitioned tables have no default partition.
-- prepare → plan (pgpart._plan_hash) → apply, as every verb.
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
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_modulus ALIAS FOR modulus;
    p_tablespace ALIAS FOR tablespace;
    p_reloptions ALIAS FOR reloptions;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_target pgpart._target;
    v_steps pgpart.step [];
    v_created jsonb;
BEGIN
    v_target := pgpart._prepare(p_parent, 'hash', p_lock_timeout, p_lock_retries, now(), p_tablespace);
    IF p_modulus IS NULL OR p_modulus < 1 OR p_modulus > 1024 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('modulus must be between 1 and 1024, got %s', coalesce(p_modulus::text, 'NULL')),
            HINT = 'Pass the number of hash partitions, such as 4, 8 or 16.';
    END IF;
    -- a real run plans under its locks: the partitions read cannot change
    IF NOT p_dry_run THEN
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_steps := array(SELECT s FROM pgpart._plan_hash(v_target, p_modulus, p_reloptions) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created FROM unnest(v_steps) AS s WHERE s.action = 'attach';
    PERFORM pgpart._apply(v_target, v_steps, 'create_hash_partitions',
                          CASE WHEN v_created IS NOT NULL
                               THEN jsonb_build_object('modulus', p_modulus, 'created', v_created) END);
    RETURN QUERY
    SELECT s.step, s.partition, s.lower_bound, s.upper_bound, 'created', s.statement, s.locks, s.top_level
    FROM unnest(v_steps) AS s WHERE s.action = 'attach' ORDER BY s.step;
END
$body$;

COMMENT ON FUNCTION pgpart.create_hash_partitions(regclass, integer, name, text[], interval, integer, boolean) IS
'Creates the missing HASH partitions (remainders 0 .. modulus - 1) of PARENT, each built detached then attached; refuses a modulus change. dry_run returns the plan.';
