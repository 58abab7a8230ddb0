-- pgpart._range_missing_slots(...): the grid slots of RANGES (from
-- pgpart._range_window) that no partition covers, in bound order, at most
-- LIMIT of them. A slot overlapped by any existing partition is skipped, so a
-- partition off the grid is respected; only the first slot of an explicit
-- START may not overlap one (42P17). A gap below the window whose name is
-- taken (typically by the table detached from it) is left alone: check()
-- reports it. Bounds outside the key type's range are clipped to
-- -Infinity/Infinity (MINVALUE/MAXVALUE). Reads no table, only whether a
-- relation of a slot's name exists.
CREATE FUNCTION pgpart._range_missing_slots(
    p_parent regclass,
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_zone text,
    p_kind text,
    p_step numeric,
    p_frame text,
    p_origin numeric,
    p_canonical text,
    p_ranges pgpart._range[],
    p_explicit_start boolean,
    p_existing_lo numeric[],
    p_existing_hi numeric[],
    p_existing_rel regclass[],
    p_limit integer,
    p_epoch_unit text DEFAULT NULL
)
RETURNS pgpart._range[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_first_lo constant numeric := (p_ranges[1]).lo;
    v_range pgpart._range;
    v_slot record;
    v_near_from numeric;
    v_near_to numeric;
    v_near_lo numeric [];
    v_near_hi numeric [];
    v_near_rel regclass [];
    v_lo numeric;
    v_hi numeric;
    v_lo_lit text;
    v_hi_lit text;
    v_exact boolean;
    v_overlap regclass;
    v_new_lo numeric [] := '{}'::numeric [];
    v_new_hi numeric [] := '{}'::numeric [];
    v_iterations integer := 0;
    v_slots pgpart._range [];
BEGIN
    FOREACH v_range IN ARRAY p_ranges LOOP
        -- only the partitions that can touch this range are compared below
        v_near_from := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.lo)).lo;
        v_near_to := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.hi)).hi;
        SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}'),
               coalesce(array_agg(e.rel ORDER BY e.lo), '{}')
        INTO v_near_lo, v_near_hi, v_near_rel
        FROM unnest(p_existing_lo, p_existing_hi, p_existing_rel) AS e (lo, hi, rel)
        WHERE e.hi > v_near_from AND e.lo < v_near_to;
        v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.lo);
        WHILE v_slot.lo < v_range.hi LOOP
            v_iterations := v_iterations + 1;
            IF v_iterations > 100000 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'program_limit_exceeded',
                    MESSAGE = format('the requested window of %s spans more than 100000 partitions', p_parent),
                    HINT = 'Pass a later start or a smaller premake.';
            END IF;
            -- Clip to the key type's range: such bounds become MINVALUE/MAXVALUE.
            v_lo_lit := pgpart._coord_to_literal(p_key_type, v_slot.lo, p_epoch_unit);
            v_hi_lit := pgpart._coord_to_literal(p_key_type, v_slot.hi, p_epoch_unit);
            EXIT WHEN v_lo_lit = 'MAXVALUE';
            v_lo := CASE WHEN v_lo_lit = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
            v_hi := CASE WHEN v_hi_lit = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;

            SELECT bool_or(e.lo = v_lo AND e.hi = v_hi),
                   (array_agg(e.rel ORDER BY e.lo))[1]
            INTO v_exact, v_overlap
            FROM unnest(v_near_lo, v_near_hi, v_near_rel) AS e (lo, hi, rel)
            WHERE e.lo < v_hi AND e.hi > v_lo;
            IF v_overlap IS NULL AND NOT v_lo = ANY (v_new_lo) AND v_range.lo <> v_first_lo
               AND to_regclass(format('%I.%I', p_schema, pgpart._relation_name(
                   p_relname, pgpart._slot_suffix(p_kind, p_step, p_frame, v_lo)))) IS NOT NULL THEN
                -- a gap below the window whose name is taken (typically by the
                -- table detached from it): leave the gap, check() reports it
                NULL;
            ELSIF v_overlap IS NULL AND NOT v_lo = ANY (v_new_lo) THEN
                v_new_lo := v_new_lo || v_lo;
                v_new_hi := v_new_hi || v_hi;
                -- a bounded run stops at its bound; otherwise the caller
                -- refuses as soon as the cap is passed, not after walking a
                -- huge window
                EXIT WHEN cardinality(v_new_lo) >= p_limit;
            ELSIF NOT v_exact AND p_explicit_start AND v_slot.lo = v_first_lo THEN
                -- only an explicit start may not overlap a partition off the grid
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('partition for the range from %s to %s would overlap partition %s',
                                     pgpart._coord_to_text(p_key_type, p_zone, v_lo, p_epoch_unit),
                                     pgpart._coord_to_text(p_key_type, p_zone, v_hi, p_epoch_unit), v_overlap),
                    DETAIL = format('Partition %s is not on the grid of interval %L.', v_overlap, p_canonical),
                    HINT = 'Pass a start that does not overlap it, or leave start out: slots taken by partitions off the grid are skipped.',
                    SCHEMA = p_schema, TABLE = p_relname;
            END IF;
            EXIT WHEN v_hi = 'Infinity'::numeric;
            v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, v_slot.hi);
        END LOOP;
        EXIT WHEN cardinality(v_new_lo) >= p_limit;
    END LOOP;
    -- partitions are created in bound order
    SELECT coalesce(array_agg(ROW(n.lo, n.hi)::pgpart._range ORDER BY n.lo), '{}'::pgpart._range [])
    INTO v_slots
    FROM unnest(v_new_lo, v_new_hi) AS n (lo, hi);
    RETURN v_slots;
END
$body$;

COMMENT ON FUNCTION pgpart._range_missing_slots(
    regclass, name, name, regtype, text, text, numeric, text, numeric, text, pgpart._range[], boolean,
    numeric[], numeric[], regclass[], integer, text
) IS 'The grid slots of a range plan''s window and gaps that no partition covers, in bound order, at most limit of them.';
