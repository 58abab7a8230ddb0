-- pgpart._list_request(key_type, values): the requested partitions, one row
-- per partition: its group name (NULL for a single value), its values in
-- the key type's canonical text, and the name suffix.
CREATE FUNCTION pgpart._list_request(p_key_type text, p_values jsonb)
RETURNS TABLE (group_name text, list_values text[], suffix text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_group text;
    v_members jsonb;
    v_element jsonb;
BEGIN
    IF jsonb_typeof(p_values) = 'array' THEN
        FOR v_element IN SELECT e FROM jsonb_array_elements(p_values) AS e LOOP
            IF jsonb_typeof(v_element) IN ('object', 'array') THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid list value %s', v_element),
                    HINT = 'Pass scalars, such as ["de", "fr"], or groups, such as {"eu": ["de", "fr"]}.';
            END IF;
            group_name := NULL;
            list_values := ARRAY[pgpart._canonical(p_key_type, v_element #>> '{}')];
            suffix := pgpart._value_suffix(list_values[1]);
            RETURN NEXT;
        END LOOP;
    ELSIF jsonb_typeof(p_values) = 'object' THEN
        FOR v_group, v_members IN SELECT e.key, e.value FROM jsonb_each(p_values) AS e ORDER BY e.key LOOP
            IF jsonb_typeof(v_members) <> 'array' THEN
                v_members := jsonb_build_array(v_members);
            END IF;
            IF jsonb_array_length(v_members) = 0
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(v_members) AS e WHERE jsonb_typeof(e) IN ('object', 'array')) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid values for group %L: %s', v_group, v_members),
                    HINT = 'Give each group a non-empty array of scalars, such as {"eu": ["de", "fr"]}.';
            END IF;
            group_name := v_group;
            list_values := array(SELECT pgpart._canonical(p_key_type, e #>> '{}') FROM jsonb_array_elements(v_members) AS e);
            suffix := pgpart._value_suffix(v_group);
            RETURN NEXT;
        END LOOP;
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid list values %s', coalesce(p_values::text, 'NULL')),
            HINT = 'Pass a JSON array of values, such as ["de", "fr"], or an object of groups, such as {"eu": ["de", "fr"]}.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._list_request(text, jsonb) IS
'The list partitions a call asks for: group name, canonical values and name suffix.';

-- pgpart._list_literal(values): a FOR VALUES IN list of quoted literals.
CREATE FUNCTION pgpart._list_literal(p_values text[])
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT string_agg(coalesce(quote_literal(v), 'NULL'), ', ' ORDER BY o)
    FROM unnest(p_values) WITH ORDINALITY AS t (v, o);
$body$;

COMMENT ON FUNCTION pgpart._list_literal(text[]) IS
'Values as the comma-separated literals of FOR VALUES IN (...).';

-- pgpart._plan_list(target, values, default_partition, reloptions): the
-- LIST planner: returns the plan of a create_list_partitions call prepared
-- by pgpart._prepare (owner, key, strategy, tablespace, lock steps checked
-- there), changing nothing.
-- Long (about 170 lines): it runs every check of the requested values in
-- order (groups, duplicates, holders, names, caps), each with its own
-- SQLSTATE, before it emits the steps; not yet split into pieces as the
-- range planner is.
CREATE FUNCTION pgpart._plan_list(
    p_target pgpart._target,
    p_values jsonb,
    p_default_partition boolean,
    p_reloptions text[]
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    p_parent constant regclass := p_target.parent;
    v_key_column constant name := p_target.key_column;
    v_key_type constant regtype := p_target.key_type;
    v_key_format constant text := p_target.key_format;
    v_schema constant name := p_target.schema_name;
    v_relname constant name := p_target.table_name;
    v_tablespace constant name := p_target.tablespace;
    v_target constant name := p_target.target_tablespace;
    v_reloptions constant text [] := coalesce(p_reloptions, (p_target.policy).reloptions);
    v_default regclass;
    v_name name;
    v_table text;
    v_holder regclass;
    v_value text;
    v_step integer := 0;
    v_seen text [] := '{}'::text [];
    v_seen_null boolean := false;
    v_existing pgpart._list_part [];
    v_new integer := 0;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    v_default := pgpart._default_partition(p_parent);

    -- The locks come first in the plan, in the documented order.
    FOREACH st IN ARRAY p_target.lock_steps LOOP
        v_step := st.step;
        RETURN NEXT st;
    END LOOP;

    -- The existing partitions with their values.
    v_existing := array(SELECT ROW(p.partition, pgpart._bound_values(p.bound, v_key_format))::pgpart._list_part
                        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default);

    FOR r IN SELECT * FROM pgpart._list_request(v_key_format, p_values) LOOP
        -- a partition holding exactly these values already: nothing to do
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM unnest(v_existing) AS x
            WHERE (SELECT array_agg(v ORDER BY v NULLS FIRST) FROM unnest(x.list_values) AS v)
                  IS NOT DISTINCT FROM (SELECT array_agg(DISTINCT v ORDER BY v NULLS FIRST) FROM unnest(r.list_values) AS v)
        );
        v_name := pgpart._relation_name(v_relname, r.suffix);
        v_table := format('%I.%I', v_schema, v_name);
        IF r.group_name IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(v_existing) AS x WHERE x.partition = to_regclass(v_table)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('partition %s of group %L exists with other values than requested', v_table, r.group_name),
                DETAIL = format('It holds %s; requested: %s.',
                                pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                      WHERE x.partition = to_regclass(v_table))),
                                pgpart._list_literal(r.list_values)),
                HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                              'SELECT * FROM pgpart.add_list_values(%L, ...);', v_table),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOREACH v_value IN ARRAY r.list_values LOOP
            IF (v_value IS NULL AND v_seen_null) OR v_value = ANY (v_seen) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s is requested for two partitions of %s', coalesce(quote_literal(v_value), 'NULL'),
                                     p_parent),
                    HINT = 'List each value once.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
            v_seen_null := v_seen_null OR v_value IS NULL;
            v_seen := v_seen || v_value;
            SELECT x.partition INTO v_holder FROM unnest(v_existing) AS x
            WHERE EXISTS (SELECT 1 FROM unnest(x.list_values) AS v WHERE v IS NOT DISTINCT FROM v_value) LIMIT 1;
            IF v_holder IS NOT NULL AND v_holder::text IN (v_table, quote_ident(v_name)) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'feature_not_supported',
                    MESSAGE = format('partition %s exists with other values than requested', v_holder),
                    DETAIL = format('It holds %s; requested: %s.',
                                    pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                          WHERE x.partition = v_holder)),
                                    pgpart._list_literal(r.list_values)),
                    HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                                  'SELECT * FROM pgpart.add_list_values(%L, ...);', v_holder::text),
                    SCHEMA = v_schema, TABLE = v_relname;
            ELSIF v_holder IS NOT NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s of %s is already held by partition %s',
                                     coalesce(quote_literal(v_value), 'NULL'), p_parent, v_holder),
                    HINT = 'Leave that value out, or detach that partition first.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
        END LOOP;
        -- the cap on new tables in one transaction (pgpart._max_new_tables),
        -- the default partition included: refused as soon as it is passed
        v_new := v_new + 1;
        IF v_new + (coalesce(p_default_partition, false) AND v_default IS NULL)::integer > pgpart._max_new_tables() THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = format('more than %s new partitions of %s requested, but at most %s are created in one '
                                 'transaction', pgpart._max_new_tables(), p_parent, pgpart._max_new_tables()),
                DETAIL = 'Each new partition holds about ten locks until commit; thousands exhaust the shared lock table.',
                HINT = format('Pass the values in several calls of at most %s new partitions each: the partitions '
                              'already made are kept.', pgpart._max_new_tables()),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                DETAIL = format('pgpart names the partition of %s for %s %s.', p_parent,
                                coalesce('group ' || quote_literal(r.group_name), 'value'), pgpart._list_literal(r.list_values)),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        IF v_default IS NOT NULL THEN
            v_step := v_step + 1;
            RETURN NEXT ROW(v_step, v_table, NULL, NULL, 'check default',
                            format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                   v_default::text, v_key_column, r.list_values),
                            format('ACCESS SHARE on %s (index probe)', v_default), false)::pgpart.step;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES IN (%s)', pgpart._list_literal(r.list_values)),
            v_target, v_reloptions, v_step + 1)
        LOOP
            st.lower_bound := pgpart._list_literal(r.list_values);
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END LOOP;

    IF coalesce(p_default_partition, false) AND v_default IS NULL THEN
        v_name := pgpart._relation_name(v_relname, '_default');
        v_table := format('%I.%I', v_schema, v_name);
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, 'DEFAULT', v_target, v_reloptions, v_step + 1)
        LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'register policy',
                    format('SELECT pgpart._register_list_hash_policy(%L::regclass, ''list'', %L, %L::regtype, %L, %L)',
                           p_parent::text, v_key_column, v_key_type::text, v_tablespace,
                           v_reloptions),
                    'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_list(pgpart._target, jsonb, boolean, text[]) IS
'The LIST planner: checks the requested values and returns the steps of a prepared create_list_partitions call, changing nothing (internal).';
