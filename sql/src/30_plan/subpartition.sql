-- Sub-partitioning: every new range partition of a parent with a
-- sub-partition spec is itself partitioned and filled before it is
-- attached, e.g. monthly by time, then by hash of a tenant. The spec lives
-- in pgpart.config.subpartition:
--   {"method": "hash", "key": "tenant_id", "modulus": 4}
--   {"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}
-- The new partition is a new, unattached table, so its sub-partitions are
-- created with PARTITION OF: no lock on anything the application uses.

-- pgpart._subpartition_spec(parent, spec): the validated, normalised spec.
CREATE FUNCTION pgpart._subpartition_spec(p_parent regclass, p_spec jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_method text := lower(p_spec ->> 'method');
    v_key name := (p_spec ->> 'key')::name;
    v_type text;
    v_typeid oid;
    v_modulus integer;
BEGIN
    IF p_spec IS NULL OR p_spec = 'null'::jsonb THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_spec) <> 'object' OR v_method IS NULL OR v_method NOT IN ('hash', 'list') OR v_key IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid sub-partition spec %s', p_spec),
            HINT = 'Pass {"method": "hash", "key": "col", "modulus": 4} or '
                   '{"method": "list", "key": "col", "values": {"group": ["value", ...]}}.';
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod), a.atttypid INTO v_type, v_typeid
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attname = v_key AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_type IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s has no column %I for sub-partitioning', p_parent, v_key),
            HINT = 'Name a column of the table as "key".';
    END IF;
    -- the column becomes a key, its values are cast: its type's code must be trusted
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl', ARRAY[v_key]);
    IF v_method = 'hash' THEN
        v_modulus := CASE WHEN p_spec ->> 'modulus' ~ '^[0-9]{1,4}$' THEN (p_spec ->> 'modulus')::integer END;
        IF v_modulus IS NULL OR v_modulus < 1 OR v_modulus > 1024 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid hash modulus in sub-partition spec %s', p_spec),
                HINT = 'Pass "modulus" between 1 and 1024, such as 4.';
        END IF;
        -- a type without a default hash operator class cannot be hashed
        IF NOT EXISTS (
            SELECT 1 FROM pg_opclass AS oc JOIN pg_am AS am ON am.oid = oc.opcmethod
            WHERE am.amname = 'hash' AND oc.opcdefault
              AND (oc.opcintype = v_typeid
                   OR EXISTS (SELECT 1 FROM pg_cast AS ca WHERE ca.castsource = v_typeid
                              AND ca.casttarget = oc.opcintype AND ca.castmethod = 'b'))
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('column %I of table %s has type %s, which has no hash operator class', v_key, p_parent,
                                 v_type),
                HINT = 'Sub-partition by hash on a column whose type can be hashed, or by list.';
        END IF;
        RETURN jsonb_build_object('method', 'hash', 'key', v_key, 'modulus', v_modulus);
    END IF;
    -- list: validated (and made canonical) by the same reader as create_list_partitions
    PERFORM pgpart._check_list_size(p_parent, p_spec -> 'values', 'the sub-partition spec for table');
    IF EXISTS (
        SELECT v FROM pgpart._list_request(v_type, p_spec -> 'values') AS q, unnest(q.list_values) AS v
        GROUP BY v HAVING count(*) > 1
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('a value appears twice in sub-partition spec %s', p_spec),
            HINT = 'List each value once.';
    END IF;
    RETURN jsonb_build_object('method', 'list', 'key', v_key, 'values', p_spec -> 'values');
END
$body$;

COMMENT ON FUNCTION pgpart._subpartition_spec(regclass, jsonb) IS
'Validates and normalises a sub-partition spec (hash with modulus, or list with values) for a parent.';

-- pgpart._subpartition_steps(parent, table, spec, tablespace, reloptions,
-- owner, first_step): the steps that fill a new partitioned partition TABLE
-- (not yet attached) with its sub-partitions, each owned by OWNER.
CREATE FUNCTION pgpart._subpartition_steps(
    p_parent regclass,
    p_table text,
    p_spec jsonb,
    p_tablespace name,
    p_reloptions text[],
    p_owner name,
    p_first_step integer
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_step integer := p_first_step;
    v_schema name := (parse_ident(p_table))[1]::name;
    v_base name := (parse_ident(p_table))[2]::name;
    v_type text;
    v_with text := '';
    v_leaf text;
    r record;
BEGIN
    v_with := pgpart._with_clause(p_reloptions);
    SELECT format_type(a.atttypid, a.atttypmod) INTO v_type FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attname = (p_spec ->> 'key');
    FOR r IN
        SELECT '_h' || g AS suffix, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', p_spec ->> 'modulus', g) AS bound
        FROM generate_series(0, (p_spec ->> 'modulus')::integer - 1) AS g
        WHERE p_spec ->> 'method' = 'hash'
        UNION ALL
        SELECT q.suffix, format('FOR VALUES IN (%s)', pgpart._list_literal(q.list_values))
        FROM pgpart._list_request(v_type, p_spec -> 'values') AS q
        WHERE p_spec ->> 'method' = 'list'
    LOOP
        v_leaf := format('%I.%I', v_schema, pgpart._relation_name(v_base, r.suffix));
        RETURN NEXT ROW(v_step, v_leaf, NULL, NULL, 'create sub-partition',
                        format('CREATE TABLE %s PARTITION OF %s %s%s TABLESPACE %I', v_leaf, p_table, r.bound, v_with,
                               p_tablespace),
                        format('ACCESS EXCLUSIVE on %s and %s (both new)', v_leaf, p_table), false)::pgpart.step;
        RETURN NEXT ROW(v_step + 1, v_leaf, NULL, NULL, 'set owner', format('ALTER TABLE %s OWNER TO %I', v_leaf, p_owner),
                        format('ACCESS EXCLUSIVE on %s (new, empty)', v_leaf), false)::pgpart.step;
        -- its indexes were made after the partitioned ones, which may name no
        -- tablespace: put them beside the leaf (it is empty: nothing to copy)
        RETURN NEXT ROW(v_step + 2, v_leaf, NULL, NULL, 'place indexes',
                        format('SELECT pgpart._indexes_follow_table(%L::regclass)', v_leaf),
                        format('ACCESS EXCLUSIVE on %s (new, empty)', v_leaf), false)::pgpart.step;
        v_step := v_step + 3;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._subpartition_steps(regclass, text, jsonb, name, text[], name, integer) IS
'Steps that fill a new, unattached partitioned partition with its hash or list sub-partitions.';

-- pgpart._indexes_follow_table(table): moves every index of TABLE into the
-- table's tablespace (seed rule: a partition's indexes follow it). Meant for
-- new, empty tables, where that copies nothing.
CREATE FUNCTION pgpart._indexes_follow_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT i.indexrelid::regclass AS index, coalesce(nullif(c.reltablespace, 0), d.dattablespace) AS spc
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indrelid
        JOIN pg_class AS ic ON ic.oid = i.indexrelid
        CROSS JOIN pg_database AS d
        WHERE i.indrelid = p_table AND d.datname = current_database()
          AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    LOOP
        EXECUTE format('ALTER INDEX %s SET TABLESPACE %I', r.index,
                       (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = r.spc));
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._indexes_follow_table(regclass) IS
'Moves the indexes of a (new, empty) table into the table''s tablespace.';
