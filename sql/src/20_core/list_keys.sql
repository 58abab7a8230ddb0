-- pgpart._key_of(parent, strategy): the single key column and type of a
-- table partitioned by LIST ('l') or HASH ('h'), or an error saying why
-- pgpart cannot manage it that way (42P17, 0A000).
CREATE FUNCTION pgpart._key_of(
    p_parent regclass,
    p_strategy "char",
    OUT key_column name,
    OUT key_type regtype,
    OUT key_format text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_strategy "char";
    v_natts int2;
    v_attnum int2;
    v_schema name;
    v_table name;
    v_want text := CASE p_strategy WHEN 'l' THEN 'LIST' WHEN 'h' THEN 'HASH' ELSE 'RANGE' END;
BEGIN
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT pt.partstrat, pt.partnatts, pt.partattrs[0] INTO v_strategy, v_natts, v_attnum
    FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent;
    IF NOT FOUND OR v_strategy <> p_strategy THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned by %s', p_parent, v_want),
            DETAIL = CASE WHEN NOT FOUND THEN 'It is not partitioned.'
                          ELSE format('It is partitioned by %s.', CASE v_strategy WHEN 'l' THEN 'LIST'
                                                                      WHEN 'h' THEN 'HASH' ELSE 'RANGE' END) END,
            HINT = format('Create the table with PARTITION BY %s (column).', v_want),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    IF v_natts <> 1 OR v_attnum = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key of table %s is not a single column', p_parent),
            HINT = format('Partition by %s on one plain column.', v_want),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    SELECT a.attname, a.atttypid::regtype, format_type(a.atttypid, a.atttypmod) INTO key_column, key_type, key_format
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attnum = v_attnum;
    -- every caller casts values to this type and attaches partitions (dry
    -- runs too): a domain's CHECK, key code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl');
END
$body$;

COMMENT ON FUNCTION pgpart._key_of(regclass, "char") IS
'Key column, type and formatted type (with its modifier) of a table partitioned by LIST or HASH on one column; 42P17 or 0A000 otherwise.';

-- pgpart._value_suffix(value): the name suffix of a list partition for a
-- value or a group name: lower-case ASCII letters, digits and underscores;
-- whenever that changed anything (and for NULL, the empty string, values
-- over 40 characters, values ending like a hash, and 'default', which names
-- the default partition) a short stable hash of the original follows, so
-- 'a b', 'a_b', 'null' and NULL never collide.
CREATE FUNCTION pgpart._value_suffix(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE
        WHEN p_value IS NULL THEN '_null_' || left(md5('pgpart:NULL'), 8)
        -- kept as it is only when sanitising changes nothing, it is short, and
        -- it cannot be mistaken for another value's hashed name
        WHEN p_value ~ '^[a-z0-9_]{1,40}$' AND p_value <> 'default' AND p_value !~ '_[0-9a-f]{8}$' THEN '_' || p_value
        ELSE '_' || left(regexp_replace(lower(p_value), '[^a-z0-9_]', '_', 'g'), 40) || '_' || left(md5('v:' || p_value), 8)
    END;
$body$;

COMMENT ON FUNCTION pgpart._value_suffix(text) IS
'Name suffix for a list value or group: sanitised, with a stable hash whenever sanitising changed anything.';

-- pgpart._list_values(bound): the values of a list partition bound as
-- printed by pg_get_expr ("FOR VALUES IN ('a', NULL, 'b''c')"), unquoted, in
-- order; NULL for NULL. Canonical text of the key type, as PostgreSQL prints it.
CREATE FUNCTION pgpart._list_values(p_bound text)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(
        CASE WHEN m[1] IS NOT NULL THEN replace(m[1], '''''', '''')
             WHEN m[2] = 'NULL' THEN NULL
             ELSE m[2] END
        ORDER BY ord)
    FROM regexp_matches(substring(p_bound FROM '^FOR VALUES IN \((.*)\)$'),
                        '''((?:[^'']|'''')*)''|([^,\s]+)', 'g') WITH ORDINALITY AS t (m, ord);
$body$;

COMMENT ON FUNCTION pgpart._list_values(text) IS
'Values of a LIST partition bound (as pg_get_expr prints it), unquoted; NULL stands for NULL.';

-- pgpart._bound_values(bound, key_type): the values of a list bound in the
-- same canonical form as requested values (char(n) loses its padding), so
-- the two compare equal.
CREATE FUNCTION pgpart._bound_values(p_bound text, p_key_type text)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(pgpart._canonical(p_key_type, v) ORDER BY o)
    FROM unnest(pgpart._list_values(p_bound)) WITH ORDINALITY AS t (v, o);
$body$;

COMMENT ON FUNCTION pgpart._bound_values(text, text) IS
'Values of a LIST partition bound, canonical for the key type (as requested values are).';

-- pgpart._canonical(key_type, value): a value as the key type prints it, so
-- that '01' and '1' compare equal for an integer key (22023 when invalid).
CREATE FUNCTION pgpart._canonical(p_key_type text, p_value text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_out text;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    -- the type with its modifier (char(2), numeric(5,2)) as the key has it
    EXECUTE format('SELECT %L::%s::text', p_value, p_key_type) INTO v_out;
    -- an explicit cast silently cuts a string to its length: refuse that
    -- (char(n) drops trailing blanks when read as text, which is no cut)
    IF p_key_type ~ '^character' AND v_out IS DISTINCT FROM p_value AND v_out IS DISTINCT FROM rtrim(p_value) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('value %L is too long for a list key of type %s', p_value, p_key_type),
            HINT = 'Pass values that fit the key column.';
    END IF;
    RETURN v_out;
EXCEPTION WHEN data_exception OR invalid_text_representation THEN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('invalid value %L for a list key of type %s', p_value, p_key_type),
        DETAIL = SQLERRM,
        HINT = 'Pass values of the key column''s type.';
END
$body$;

COMMENT ON FUNCTION pgpart._canonical(text, text) IS
'A value in the canonical text form of the key type (22023 when it is not a valid value).';
