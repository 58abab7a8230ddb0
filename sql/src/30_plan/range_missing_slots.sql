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
    -- the grid origin as a wall time: slot K starts at origin + K steps
    v_origin_wall constant timestamp := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    -- where bounds leave the key type's range (pgpart._coord_to_literal's
    -- MINVALUE/MAXVALUE): a bound times SCALE below MIN, or above MAX (at
    -- or above it when MAX_REACHED: a uuid's 2^48 milliseconds)
    v_scale numeric := 1::numeric;
    v_min numeric := '-Infinity'::numeric;
    v_max numeric := 'Infinity'::numeric;
    v_max_reached boolean := false;
    v_range pgpart._range;
    v_slot record;
    v_near_from numeric;
    v_near_to numeric;
    v_near_lo numeric [];
    v_near_hi numeric [];
    v_near_rel regclass [];
    v_k0 numeric;
    v_count numeric;
    v_wall timestamp;
    v_months numeric;
    v_new_lo numeric [] := '{}'::numeric [];
    v_new_hi numeric [] := '{}'::numeric [];
    v_iterations integer := 0;
    v_slots pgpart._range [];
BEGIN
    IF p_key_type = 'uuid'::regtype THEN
        v_scale := 1000;
        v_min := 0;
        v_max := 281474976710656;  -- 2^48 milliseconds: year 10889
        v_max_reached := true;
    ELSIF pgpart._key_clock(p_key_type) = 'integer' THEN
        v_scale := coalesce(pgpart._epoch_scale(p_epoch_unit), 1);
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
    END IF;
    FOREACH v_range IN ARRAY p_ranges LOOP
        -- only the partitions that can touch this range are compared below
        v_near_from := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.lo)).lo;
        v_near_to := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.hi)).hi;
        SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}'),
               coalesce(array_agg(e.rel ORDER BY e.lo), '{}')
        INTO v_near_lo, v_near_hi, v_near_rel
        FROM unnest(p_existing_lo, p_existing_hi, p_existing_rel) AS e (lo, hi, rel)
        WHERE e.hi > v_near_from AND e.lo < v_near_to;
        -- The slots of the range in one query (issue 16: no helper call per
        -- slot): the index of the slot holding the range's start, as
        -- pgpart._slot finds it, then every slot from there that starts
        -- below the range's end; at most as many as the walk may still take.
        IF p_kind IN ('integer', 'seconds') THEN
            v_k0 := floor((v_range.lo - p_origin) / p_step);
            v_count := ceil((v_range.hi - (p_origin + v_k0 * p_step)) / p_step);
        ELSE
            v_wall := pgpart._coord_to_ts(v_range.lo) AT TIME ZONE p_frame;
            IF p_kind = 'days' THEN
                v_k0 := floor(extract(epoch FROM (v_wall - v_origin_wall)) / (p_step * 86400));
                -- a local day lasts 23 to 25 hours: a few more, cut below
                v_count := ceil((v_range.hi - v_range.lo) / (p_step * 86400)) + 3;
            ELSE
                v_months := (extract(year FROM v_wall) - extract(year FROM v_origin_wall)) * 12
                            + extract(month FROM v_wall) - extract(month FROM v_origin_wall);
                IF v_wall < v_origin_wall + make_interval(months => v_months::int) THEN
                    v_months := v_months - 1;
                END IF;
                v_k0 := floor(v_months / p_step);
                v_count := ceil((v_range.hi - v_range.lo) / (p_step * 28 * 86400)) + 3;
            END IF;
        END IF;
        v_count := least(v_count, 100001 - v_iterations + 1);
        FOR v_slot IN
            WITH raw AS (
                SELECT g.k, b.lo, b.hi
                FROM generate_series(v_k0, v_k0 + greatest(v_count, 1) - 1) AS g (k)
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN p_kind IN ('integer', 'seconds') THEN p_origin + g.k * p_step
                                WHEN p_kind = 'days'
                                THEN extract(epoch FROM ((v_origin_wall + make_interval(days => (g.k * p_step)::int))
                                                         AT TIME ZONE p_frame))
                                ELSE extract(epoch FROM ((v_origin_wall + make_interval(months => (g.k * p_step)::int))
                                                         AT TIME ZONE p_frame)) END AS lo,
                           CASE WHEN p_kind IN ('integer', 'seconds') THEN p_origin + (g.k + 1) * p_step
                                WHEN p_kind = 'days'
                                THEN extract(epoch FROM ((v_origin_wall
                                                          + make_interval(days => ((g.k + 1) * p_step)::int))
                                                         AT TIME ZONE p_frame))
                                ELSE extract(epoch FROM ((v_origin_wall
                                                          + make_interval(months => ((g.k + 1) * p_step)::int))
                                                         AT TIME ZONE p_frame)) END AS hi
                ) AS b
            ),
            clipped AS (
                SELECT raw.k, raw.lo AS raw_lo,
                       raw.lo * v_scale > v_max OR (v_max_reached AND raw.lo * v_scale >= v_max)
                       OR raw.lo = 'Infinity'::numeric AS lo_beyond,
                       CASE WHEN raw.lo * v_scale < v_min OR raw.lo = '-Infinity'::numeric
                            THEN '-Infinity'::numeric ELSE raw.lo END AS lo,
                       CASE WHEN raw.hi * v_scale > v_max OR (v_max_reached AND raw.hi * v_scale >= v_max)
                                 OR raw.hi = 'Infinity'::numeric
                            THEN 'Infinity'::numeric ELSE raw.hi END AS hi
                FROM raw
                -- a local day a zone skipped is an empty slot: the walk
                -- pgpart._slot makes never lands on it
                WHERE raw.lo < v_range.hi AND raw.hi > raw.lo
            )
            -- the partitions do not overlap, so the first one ending above
            -- a slot's start (a binary search: width_bucket) is the only
            -- one that can hold it exactly, and the first one overlapping it
            SELECT c.raw_lo, c.lo_beyond, c.lo, c.hi,
                   CASE WHEN v_near_lo[c.i] < c.hi THEN v_near_lo[c.i] = c.lo AND v_near_hi[c.i] = c.hi END AS exact,
                   CASE WHEN v_near_lo[c.i] < c.hi THEN v_near_rel[c.i] END AS overlap
            FROM (
                SELECT clipped.*,
                       CASE WHEN cardinality(v_near_hi) > 0 THEN width_bucket(clipped.lo, v_near_hi) ELSE 0 END + 1 AS i
                FROM clipped
            ) AS c
            ORDER BY c.k
        LOOP
            v_iterations := v_iterations + 1;
            IF v_iterations > 100000 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'program_limit_exceeded',
                    MESSAGE = format('the requested window of %s spans more than 100000 partitions', p_parent),
                    HINT = 'Pass a later start or a smaller premake.';
            END IF;
            -- beyond the key type's range: MAXVALUE ends the range
            EXIT WHEN v_slot.lo_beyond;
            IF v_slot.overlap IS NULL AND NOT v_slot.lo = ANY (v_new_lo) AND v_range.lo <> v_first_lo
               AND to_regclass(format('%I.%I', p_schema, pgpart._relation_name(
                   p_relname, pgpart._slot_suffix(p_kind, p_step, p_frame, v_slot.lo)))) IS NOT NULL THEN
                -- a gap below the window whose name is taken (typically by the
                -- table detached from it): leave the gap, check() reports it
                NULL;
            ELSIF v_slot.overlap IS NULL AND NOT v_slot.lo = ANY (v_new_lo) THEN
                v_new_lo := v_new_lo || v_slot.lo;
                v_new_hi := v_new_hi || v_slot.hi;
                -- a bounded run stops at its bound; otherwise the caller
                -- refuses as soon as the cap is passed, not after walking a
                -- huge window
                EXIT WHEN cardinality(v_new_lo) >= p_limit;
            ELSIF NOT v_slot.exact AND p_explicit_start AND v_slot.raw_lo = v_first_lo THEN
                -- only an explicit start may not overlap a partition off the grid
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('partition for the range from %s to %s would overlap partition %s',
                                     pgpart._coord_to_text(p_key_type, p_zone, v_slot.lo, p_epoch_unit),
                                     pgpart._coord_to_text(p_key_type, p_zone, v_slot.hi, p_epoch_unit),
                                     v_slot.overlap),
                    DETAIL = format('Partition %s is not on the grid of interval %L.', v_slot.overlap, p_canonical),
                    HINT = 'Pass a start that does not overlap it, or leave start out: slots taken by partitions off the grid are skipped.',
                    SCHEMA = p_schema, TABLE = p_relname;
            END IF;
            EXIT WHEN v_slot.hi = 'Infinity'::numeric;
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
