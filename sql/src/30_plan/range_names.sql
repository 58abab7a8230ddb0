-- pgpart._range_names(...): the names of the new partitions for SLOTS (from
-- pgpart._range_missing_slots), in the same order: byte-limited, and never
-- an existing relation or a name given twice (42P07, DESIGN §5). With
-- CREATE_DEFAULT the name of the default partition to create is checked too
-- (it is not returned: the step builder derives it the same way).
CREATE FUNCTION pgpart._range_names(
    p_parent regclass,
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_zone text,
    p_kind text,
    p_step numeric,
    p_frame text,
    p_slots pgpart._range[],
    p_create_default boolean,
    p_epoch_unit text DEFAULT NULL
)
RETURNS name[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_name name;
    v_names name [];
    v_taken record;
BEGIN
    -- every name in one query (issue 16: no helper call per slot): the
    -- suffix of pgpart._slot_suffix, shortened by pgpart._relation_name only
    -- when too long; then the first name that is taken or given twice
    WITH named AS (
        SELECT x.n, x.lo, x.hi,
               CASE WHEN octet_length(p_relname || x.suffix) <= 63 THEN (p_relname || x.suffix)::name
                    ELSE pgpart._relation_name(p_relname, x.suffix) END AS name
        FROM (
            SELECT sl.n, sl.lo, sl.hi,
                   CASE WHEN p_kind = 'integer' OR sl.lo IN ('Infinity', '-Infinity')
                        THEN pgpart._slot_suffix(p_kind, p_step, p_frame, sl.lo)
                        -- pgpart._coord_to_ts, then the wall time of the name
                        ELSE '_p' || to_char(
                            (to_timestamp(trunc(sl.lo)::float8) + make_interval(secs => (sl.lo - trunc(sl.lo))::float8))
                            AT TIME ZONE CASE WHEN p_kind = 'seconds' THEN 'UTC' ELSE p_frame END,
                            CASE WHEN p_kind <> 'seconds' THEN 'YYYYMMDD'
                                 WHEN p_step % 60 = 0 THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD_HH24MISS' END)
                   END AS suffix
            FROM unnest(p_slots) WITH ORDINALITY AS sl (lo, hi, n)
        ) AS x
    )
    SELECT array_agg(d.name ORDER BY d.n) INTO v_names FROM named AS d;
    SELECT d.name, d.lo, d.hi INTO v_taken
    FROM (
        SELECT nm.name, sl.lo, sl.hi, nm.n, row_number() OVER (PARTITION BY nm.name ORDER BY nm.n) AS seen
        FROM unnest(v_names) WITH ORDINALITY AS nm (name, n)
        JOIN unnest(p_slots) WITH ORDINALITY AS sl (lo, hi, n) ON sl.n = nm.n
    ) AS d
    WHERE d.seen > 1 OR EXISTS (
        -- an index probe of pg_class by (name, schema)
        SELECT 1 FROM pg_class AS c
        WHERE c.relname = d.name AND c.relnamespace = (SELECT ns.oid FROM pg_namespace AS ns WHERE ns.nspname = p_schema)
    )
    ORDER BY d.n
    LIMIT 1;
    IF v_taken.name IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %I.%I already exists', p_schema, v_taken.name),
            DETAIL = format('pgpart names the partition of %s for the range from %s to %s %I.', p_parent,
                            pgpart._coord_to_text(p_key_type, p_zone, v_taken.lo, p_epoch_unit),
                            pgpart._coord_to_text(p_key_type, p_zone, v_taken.hi, p_epoch_unit), v_taken.name),
            HINT = 'Rename or drop that relation, or attach it yourself if it holds this range.',
            SCHEMA = p_schema, TABLE = v_taken.name;
    END IF;
    IF p_create_default THEN
        v_name := pgpart._relation_name(p_relname, '_default');
        IF to_regclass(format('%I.%I', p_schema, v_name)) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I.%I already exists', p_schema, v_name),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = p_schema, TABLE = v_name;
        END IF;
    END IF;
    RETURN coalesce(v_names, '{}'::name []);
END
$body$;

COMMENT ON FUNCTION pgpart._range_names(
    regclass, name, name, regtype, text, text, numeric, text, pgpart._range[], boolean, text
) IS 'Names of the new range partitions for the given slots; refuses a name that is taken (42P07).';
