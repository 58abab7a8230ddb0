-- pgpart._plan_hash(target, modulus, reloptions): the HASH planner: returns
-- the plan of a create_hash_partitions call prepared by pgpart._prepare,
-- changing nothing: the target's locks, then for each remainder of 0 ..
-- MODULUS - 1 that no partition holds, the steps that build
-- <parent>_h<remainder> detached and attach it, then the policy
-- registration. Refuses another modulus than the existing partitions' (0A000:
-- every row would move) and a taken name (42P07).
CREATE FUNCTION pgpart._plan_hash(p_target pgpart._target, p_modulus integer, p_reloptions text[])
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    p_parent constant regclass := p_target.parent;
    v_schema constant name := p_target.schema_name;
    v_relname constant name := p_target.table_name;
    v_reloptions constant text [] := coalesce(p_reloptions, (p_target.policy).reloptions);
    v_moduli integer [];
    v_taken integer [];
    v_n integer := 0;
    v_table text;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
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
    FOREACH st IN ARRAY p_target.lock_steps LOOP
        v_n := st.step;
        RETURN NEXT st;
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
            p_target.target_tablespace, v_reloptions, v_n + 1)
        LOOP
            st.lower_bound := format('remainder %s of %s', r.remainder, p_modulus);
            v_n := st.step;
            RETURN NEXT st;
        END LOOP;
    END LOOP;
    RETURN NEXT ROW(v_n + 1, NULL, NULL, NULL, 'register policy',
                    format('SELECT pgpart._register_list_hash_policy(%L::regclass, ''hash'', %L, %L::regtype, %L, %L)',
                           p_parent::text, p_target.key_column, p_target.key_type::text, p_target.tablespace,
                           v_reloptions),
                    'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_hash(pgpart._target, integer, text[]) IS
'The HASH planner: the steps of a prepared create_hash_partitions call (missing remainders built detached and attached, policy registration), changing nothing (internal).';
