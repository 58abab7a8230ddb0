-- pgpart._list_values_to_add(target, partition, values): the values
-- PARTITION of the target's LIST parent holds (OLD) and those of VALUES it
-- does not hold yet (NEW), in the key's canonical text. Refuses the default
-- partition (42P17) and anything but a non-empty JSON array of scalars
-- (22023).
CREATE FUNCTION pgpart._list_values_to_add(
    p_target pgpart._target,
    p_partition regclass,
    p_values jsonb,
    OUT old_values text[],
    OUT new_values text[]
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_parent constant regclass := p_target.parent;
    v_old text [];
    v_new text [];
BEGIN
    SELECT pgpart._bound_values(p.bound, p_target.key_format) INTO v_old
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
    v_new := array(SELECT pgpart._canonical(p_target.key_format, e #>> '{}') FROM jsonb_array_elements(p_values) AS e
                   WHERE NOT EXISTS (SELECT 1 FROM unnest(v_old) AS o
                                     WHERE o IS NOT DISTINCT FROM pgpart._canonical(p_target.key_format, e #>> '{}')));
    old_values := v_old;
    new_values := v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._list_values_to_add(pgpart._target, regclass, jsonb) IS
'The values a LIST partition holds and those of a request it does not hold yet; 42P17 for the default partition, 22023 for malformed values (internal).';

-- pgpart._plan_list_values(target, partition, old, new): the plan of an
-- add_list_values call prepared by pgpart._prepare (the target holds the
-- LIST parent, its key and the lock steps for detaching PARTITION),
-- changing nothing: the locks, a probe of the default partition, a
-- validated CHECK holding the old and new values, DETACH, ATTACH with the
-- new bound (the CHECK spares its scan), DROP of the CHECK. No step when
-- NEW is empty. Refuses values another partition holds (42P17).
CREATE FUNCTION pgpart._plan_list_values(
    p_target pgpart._target,
    p_partition regclass,
    p_old text[],
    p_new text[]
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET jit = off
AS $body$
DECLARE
    v_parent constant regclass := p_target.parent;
    v_old constant text [] := p_old;
    v_new constant text [] := p_new;
    v_all text [];
    v_default regclass;
    v_holder regclass;
    v_value text;
    v_check text;
    v_con name := 'pgpart_add_list_values'::name;
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    st pgpart.step;
BEGIN
    IF cardinality(v_new) = 0 THEN
        RETURN;  -- it holds them all already
    END IF;
    FOREACH v_value IN ARRAY v_new LOOP
        SELECT p.partition INTO v_holder FROM pgpart._partitions(v_parent) AS p
        WHERE NOT p.is_default AND p.partition <> p_partition
          AND EXISTS (SELECT 1 FROM unnest(pgpart._bound_values(p.bound, p_target.key_format)) AS v WHERE v IS NOT DISTINCT FROM v_value);
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
                         CASE WHEN array_position(v_all, NULL) IS NOT NULL THEN format('%I IS NULL', p_target.key_column) END,
                         format('(%I IS NOT NULL AND %I IN (%s))', p_target.key_column, p_target.key_column,
                                (SELECT string_agg(quote_literal(v), ', ') FROM unnest(v_all) AS v WHERE v IS NOT NULL)));

    FOREACH st IN ARRAY p_target.lock_steps LOOP
        st.partition := p_partition::text;
        v_n := st.step;
        v_steps := v_steps || st;
    END LOOP;
    IF v_default IS NOT NULL THEN
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'check default',
                                  format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                         v_default::text, p_target.key_column, v_new),
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
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart._plan_list_values(pgpart._target, regclass, text[], text[]) IS
'The steps of a prepared add_list_values call (locks, default probe, CHECK, DETACH, ATTACH with the new bound, DROP CHECK), changing nothing (internal).';
