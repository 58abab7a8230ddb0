-- pgpart.partition_info(parent, now_at): one row per partition of PARENT
-- (or of every managed parent), sub-partitions under their partition, in
-- bound order. Read from the catalog only, so it answers while another
-- session holds ACCESS EXCLUSIVE on a partition (DESIGN §2): bounds from
-- pg_get_expr(relpartbound, 0), sizes from relpages, rows from reltuples.
-- Bounds of instant keys (timestamptz, uuid, epoch integers) are shown as
-- times in the configured time zone, never in the session's; BOUND keeps
-- the raw FOR VALUES clause (a uuid key's uuid bounds, an epoch key's
-- numbers).
CREATE FUNCTION pgpart.partition_info(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (
    parent_table regclass,
    partition regclass,
    level integer,
    parent_partition regclass,
    lower_bound text,
    upper_bound text,
    bound text,
    is_default boolean,
    tablespace name,
    estimated_rows bigint,
    size_bytes bigint,
    detach_pending boolean,
    runway text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    v_root regclass;
    v_zone text;
    v_unit text;
    v_runway text;
BEGIN
    -- now_at as the changing verbs take it: finite (22023 naming it)
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    -- a plain table has no partitions to show: say so rather than answer nothing
    IF p_parent IS NOT NULL AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = p_parent) <> 'p' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'wrong_object_type',
            MESSAGE = format('%s is not a partitioned table', p_parent),
            HINT = 'Pass a table made with PARTITION BY (or one of its partitions that is itself partitioned).',
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
    FOR v_root IN
        SELECT p_parent WHERE p_parent IS NOT NULL
        UNION ALL
        SELECT c.parent FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE p_parent IS NULL
        ORDER BY 1
    LOOP
        SELECT c.time_zone, c.epoch_unit INTO v_zone, v_unit FROM pgpart.config AS c WHERE c.parent = v_root;
        v_runway := pgpart._runway(v_root, p_now_at);
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT
                p.partition AS node, p.relkind, 1 AS depth, v_root AS up, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                           ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                      p.partition::oid::bigint::numeric] AS sort_key
            FROM pgpart._partitions(v_root) AS p
            UNION ALL
            SELECT
                p.partition, p.relkind, t.depth + 1, t.node, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                t.sort_key || ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                                         ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                                    p.partition::oid::bigint::numeric]
            FROM tree AS t
            CROSS JOIN LATERAL pgpart._partitions(t.node) AS p
            WHERE t.relkind = 'p'
        )
        SELECT
            v_root,
            r.node,
            r.depth,
            CASE WHEN r.depth > 1 THEN r.up END,
            pgpart._coord_to_text(k.key_type, v_zone, r.lower_coord, CASE WHEN r.up = v_root THEN v_unit END),
            pgpart._coord_to_text(k.key_type, v_zone, r.upper_coord, CASE WHEN r.up = v_root THEN v_unit END),
            r.bound,
            r.is_default,
            coalesce(ts.spcname, dts.spcname),
            CASE WHEN c.relkind = 'r' AND c.reltuples >= 0 THEN c.reltuples::bigint END,
            CASE WHEN c.relkind = 'r' THEN
                (c.relpages::bigint + coalesce(toast.relpages, 0)
                 + coalesce((SELECT sum(ic.relpages) FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
                             WHERE ix.indrelid IN (c.oid, c.reltoastrelid)), 0))
                * current_setting('block_size')::bigint
            END,
            r.detach_pending,
            v_runway
        FROM tree AS r
        -- LATERAL ... LIMIT 1 (here and for the key type below): looked up
        -- by index for each node of the tree. As plain joins, the planner,
        -- expecting a thousand-node tree, hashed the whole of pg_class and
        -- pg_partitioned_table once per parent: partition_info() over N
        -- parents cost N times the catalog.
        CROSS JOIN LATERAL (SELECT x.* FROM pg_class AS x WHERE x.oid = r.node LIMIT 1) AS c
        LEFT JOIN pg_class AS toast ON toast.oid = c.reltoastrelid
        LEFT JOIN pg_tablespace AS ts ON ts.oid = c.reltablespace
        CROSS JOIN (SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
                    WHERE d.datname = current_database()) AS dts
        LEFT JOIN LATERAL (
            SELECT a.atttypid::regtype AS key_type
            FROM pg_partitioned_table AS pt
            JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
            WHERE pt.partrelid = r.up AND pt.partnatts = 1 AND pt.partstrat = 'r'
            LIMIT 1
        ) AS k ON true
        ORDER BY r.sort_key;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.partition_info(regclass, timestamptz) IS
'One row per partition of PARENT (or of every managed parent) in bound order, from the catalog only: bounds in the configured zone, tablespace, estimated rows and size, detach-pending flag and runway. Never waits for a lock.';
