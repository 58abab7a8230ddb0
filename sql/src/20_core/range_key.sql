-- pgpart._range_key(parent): the single key column and its type of a
-- RANGE-partitioned table, or an error saying why pgpart cannot manage it.
CREATE FUNCTION pgpart._range_key(
    p_parent regclass,
    OUT key_column name,
    OUT key_type regtype
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_strategy "char";
    v_natts int2;
    v_attnum int2;
    v_kind "char";
    v_schema name;
    v_table name;
BEGIN
    SELECT c.relkind, n.nspname, c.relname INTO v_kind, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT pt.partstrat, pt.partnatts, pt.partattrs[0]
    INTO v_strategy, v_natts, v_attnum
    FROM pg_partitioned_table AS pt
    WHERE pt.partrelid = p_parent;
    IF v_kind IS DISTINCT FROM 'p' OR NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned', p_parent),
            DETAIL = 'pgpart manages tables created with PARTITION BY.',
            HINT = 'Create the table with PARTITION BY RANGE (column), then call pgpart again.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_strategy <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned by RANGE', p_parent),
            DETAIL = format('It is partitioned by %s.',
                            CASE v_strategy WHEN 'l' THEN 'LIST' WHEN 'h' THEN 'HASH' END),
            HINT = 'Range partitions need a table created with PARTITION BY RANGE (column).',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_natts <> 1 OR v_attnum = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key of table %s is not a single column', p_parent),
            DETAIL = 'pgpart manages range partitioning on one plain column.',
            HINT = 'Partition by a single timestamptz, timestamp, date, uuid, smallint, integer or bigint column.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT a.attname, a.atttypid::regtype INTO key_column, key_type
    FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attnum = v_attnum;
    IF pgpart._key_clock(key_type) IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key column %I of table %s has unsupported type %s',
                             key_column, p_parent, key_type),
            DETAIL = 'Range keys may be timestamptz, timestamp, date, uuid (UUIDv7), smallint, integer or bigint.',
            HINT = 'Partition by a column of one of those types.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._range_key(regclass) IS
'Key column and type of a table partitioned by RANGE on one supported column; 42P17 or 0A000 otherwise.';
