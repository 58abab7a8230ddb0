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
    v_slot pgpart._range;
    v_name name;
    v_names name [] := '{}'::name [];
BEGIN
    FOREACH v_slot IN ARRAY p_slots LOOP
        v_name := pgpart._relation_name(p_relname, pgpart._slot_suffix(p_kind, p_step, p_frame, v_slot.lo));
        IF to_regclass(format('%I.%I', p_schema, v_name)) IS NOT NULL OR v_name = ANY (v_names) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I.%I already exists', p_schema, v_name),
                DETAIL = format('pgpart names the partition of %s for the range from %s to %s %I.', p_parent,
                                pgpart._coord_to_text(p_key_type, p_zone, v_slot.lo, p_epoch_unit),
                                pgpart._coord_to_text(p_key_type, p_zone, v_slot.hi, p_epoch_unit), v_name),
                HINT = 'Rename or drop that relation, or attach it yourself if it holds this range.',
                SCHEMA = p_schema, TABLE = v_name;
        END IF;
        v_names := v_names || v_name;
    END LOOP;
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
    RETURN v_names;
END
$body$;

COMMENT ON FUNCTION pgpart._range_names(
    regclass, name, name, regtype, text, text, numeric, text, pgpart._range[], boolean, text
) IS 'Names of the new range partitions for the given slots; refuses a name that is taken (42P07).';
