-- pgpart._partitions(parent): the direct partitions of PARENT with their
-- bounds, read from the catalog only, so it never waits for a lock
-- (DESIGN §2): pg_get_expr(relpartbound, 0) deparses the bound without
-- opening the relation, which is safe because bounds hold only constants.
-- For RANGE parents on a supported key the bounds are also given as
-- coordinates; LIST and HASH bounds are left as text.
CREATE FUNCTION pgpart._partitions(p_parent regclass)
RETURNS TABLE (
    partition regclass,
    relkind "char",
    is_default boolean,
    detach_pending boolean,
    bound text,
    lower_literal text,
    upper_literal text,
    lower_coord numeric,
    upper_coord numeric
)
LANGUAGE plpgsql
STABLE
ROWS 100
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_key_type regtype;
    v_strategy "char";
    v_coords boolean;
BEGIN
    SELECT pt.partstrat, a.atttypid::regtype INTO v_strategy, v_key_type
    FROM pg_partitioned_table AS pt
    LEFT JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent AND pt.partnatts = 1;
    v_coords := v_strategy = 'r' AND v_key_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                                                    'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
    RETURN QUERY
    WITH children AS (
        SELECT
            c.oid::regclass AS partition,
            c.relkind,
            i.inhdetachpending AS detach_pending,
            pg_get_expr(c.relpartbound, 0) AS bound
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_parent AND c.relkind IN ('r', 'p', 'f')
    ),
    parsed AS (
        SELECT
            ch.*,
            regexp_match(ch.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m
        FROM children AS ch
    ),
    literals AS (
        SELECT
            p.partition, p.relkind, p.detach_pending, p.bound,
            -- a quoted literal loses its quotes and doubled quotes
            CASE WHEN p.m[1] ~ '^''.*''$' THEN replace(substr(p.m[1], 2, length(p.m[1]) - 2), '''''', '''')
                 ELSE p.m[1] END AS lower_literal,
            CASE WHEN p.m[2] ~ '^''.*''$' THEN replace(substr(p.m[2], 2, length(p.m[2]) - 2), '''''', '''')
                 ELSE p.m[2] END AS upper_literal
        FROM parsed AS p
    )
    SELECT
        l.partition,
        l.relkind,
        l.bound = 'DEFAULT',
        l.detach_pending,
        l.bound,
        l.lower_literal,
        l.upper_literal,
        CASE WHEN v_coords AND l.lower_literal IS NOT NULL
             THEN pgpart._literal_to_coord(v_key_type, l.lower_literal) END,
        CASE WHEN v_coords AND l.upper_literal IS NOT NULL
             THEN pgpart._literal_to_coord(v_key_type, l.upper_literal) END
    FROM literals AS l
    ORDER BY l.bound = 'DEFAULT', 8, l.partition::oid;
END
$body$;

COMMENT ON FUNCTION pgpart._partitions(regclass) IS
'Direct partitions of a parent with their bounds (text and coordinates), from the catalog only.';
