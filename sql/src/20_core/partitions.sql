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
    -- an epoch integer key's unit (from the policy): its values / v_scale
    -- are seconds (NULL: plain integers)
    v_scale numeric;
BEGIN
    SELECT pt.partstrat, a.atttypid::regtype INTO v_strategy, v_key_type
    FROM pg_partitioned_table AS pt
    LEFT JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent AND pt.partnatts = 1;
    v_coords := v_strategy = 'r' AND pgpart._key_clock(v_key_type) IS NOT NULL;
    IF v_coords AND pgpart._key_clock(v_key_type) = 'integer' THEN
        -- only an integer key may hold Unix time (the policy says so)
        SELECT pgpart._epoch_scale(c.epoch_unit) INTO v_scale FROM pgpart.config AS c WHERE c.parent = p_parent;
    END IF;
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
    -- MATERIALIZED: inlined, every reference below would run the regex again
    parsed AS MATERIALIZED (
        SELECT
            ch.*,
            regexp_match(ch.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m
        FROM children AS ch
    ),
    literals AS MATERIALIZED (
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
        -- pgpart._literal_to_coord inlined: this runs for every partition of
        -- every parent on each maintenance, and a function call per bound
        -- (with its SET clauses) cost ~75 us; the SET timezone and datestyle
        -- of this function hold here
        CASE WHEN NOT v_coords OR l.lower_literal IS NULL THEN NULL
             WHEN l.lower_literal = 'MINVALUE' THEN '-Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.lower_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.lower_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.lower_literal::date::timestamp)
             -- pgpart._uuid_coord inlined: the 48-bit millisecond prefix
             WHEN v_key_type = 'uuid'::regtype
                 THEN ('x' || lpad(left(replace(l.lower_literal, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
             WHEN v_scale IS NOT NULL THEN l.lower_literal::numeric / v_scale
             ELSE l.lower_literal::numeric END,
        CASE WHEN NOT v_coords OR l.upper_literal IS NULL THEN NULL
             WHEN l.upper_literal = 'MAXVALUE' THEN 'Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.upper_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.upper_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.upper_literal::date::timestamp)
             -- pgpart._uuid_coord inlined: the 48-bit millisecond prefix
             WHEN v_key_type = 'uuid'::regtype
                 THEN ('x' || lpad(left(replace(l.upper_literal, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
             WHEN v_scale IS NOT NULL THEN l.upper_literal::numeric / v_scale
             ELSE l.upper_literal::numeric END
    FROM literals AS l
    ORDER BY l.bound = 'DEFAULT', 8, l.partition::oid;
END
$body$;

COMMENT ON FUNCTION pgpart._partitions(regclass) IS
'Direct partitions of a parent with their bounds (text and coordinates), from the catalog only.';

-- pgpart._default_partition(parent): the default partition of PARENT, or
-- NULL; straight from pg_partitioned_table, without reading any bound.
CREATE FUNCTION pgpart._default_partition(p_parent regclass)
RETURNS regclass
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT nullif(pt.partdefid, 0)::regclass FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent;
$body$;

COMMENT ON FUNCTION pgpart._default_partition(regclass) IS
'The default partition of a partitioned table, or NULL.';
