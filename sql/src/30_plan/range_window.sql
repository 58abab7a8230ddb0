-- pgpart._range_window(kind, step, frame, origin, now, start, premake,
-- existing_lo, existing_hi): the ranges of grid coordinates a range plan
-- must cover, in the order they are filled. First the window, from START
-- (else the slot of NOW) to PREMAKE slots after NOW; then, only without
-- START, every gap between existing partitions below the window, the most
-- recent first, so that a bounded run (max_new) creates what matters most
-- first. Gaps above the window (below a partition made ahead) come right
-- after the window, nearest first. Gaps are found in one pass over the sorted bounds, so the cost grows
-- with the number of gaps, not of partitions. Pure: reads no table; the first
-- range always starts at the first slot of the window (DESIGN §5).
CREATE FUNCTION pgpart._range_window(
    p_kind text,
    p_step numeric,
    p_frame text,
    p_origin numeric,
    p_now numeric,
    p_start numeric,
    p_premake integer,
    p_existing_lo numeric[],
    p_existing_hi numeric[]
)
RETURNS pgpart._range[]
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_first record;
    v_slot record;
    v_ranges pgpart._range [];
BEGIN
    v_first := pgpart._slot(p_kind, p_step, p_frame, p_origin, coalesce(p_start, p_now));
    v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, p_now);
    FOR i IN 1 .. p_premake LOOP
        v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, v_slot.hi);
    END LOOP;
    v_ranges := ARRAY[ROW(v_first.lo, greatest(v_slot.hi, v_first.hi))::pgpart._range];
    -- gaps above the window, below a partition made ahead of it (by hand, or
    -- by moving a far-future row out of the default): nearest first. Without
    -- them check()'s gap fix would change nothing.
    -- (the window counts as covered; the running max of upper bounds makes
    -- a partition spanning others hide the gaps it covers)
    SELECT v_ranges || coalesce(array_agg(ROW(greatest(g.gap_lo, v_ranges[1].hi), g.gap_hi)::pgpart._range
                                          ORDER BY g.gap_lo), '{}')
    INTO v_ranges
    FROM (
        SELECT max(e.hi) OVER (ORDER BY e.lo ROWS UNBOUNDED PRECEDING) AS gap_lo,
               lead(e.lo) OVER (ORDER BY e.lo) AS gap_hi
        FROM unnest(p_existing_lo || v_ranges[1].lo, p_existing_hi || v_ranges[1].hi) AS e (lo, hi)
    ) AS g
    WHERE g.gap_hi IS NOT NULL AND greatest(g.gap_lo, v_ranges[1].hi) < g.gap_hi;
    IF p_start IS NULL THEN
        SELECT v_ranges || array_agg(ROW(g.gap_lo, least(g.gap_hi, v_first.lo))::pgpart._range ORDER BY g.gap_lo DESC)
        INTO v_ranges
        FROM (
            SELECT e.hi AS gap_lo, coalesce(lead(e.lo) OVER (ORDER BY e.lo), 'Infinity'::numeric) AS gap_hi
            FROM unnest(p_existing_lo, p_existing_hi) AS e (lo, hi)
        ) AS g
        WHERE g.gap_lo < least(g.gap_hi, v_first.lo);
    END IF;
    RETURN v_ranges;
END
$body$;

COMMENT ON FUNCTION pgpart._range_window(text, numeric, text, numeric, numeric, numeric, integer, numeric[], numeric[])
IS 'The coordinate ranges a range plan covers: the window from start (or now) to premake slots ahead, the gaps above it (nearest first), then the gaps below it (newest first).';
