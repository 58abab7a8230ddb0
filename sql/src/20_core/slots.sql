-- pgpart._slot(kind, step, zone, origin, coord): the grid slot [lo, hi)
-- holding COORD (DESIGN §5).
--   integer, seconds: fixed widths from ORIGIN (seconds grids are in UTC);
--   days, months: the local calendar of ZONE, so a local day may last 23 or
--   25 hours: ((ts AT TIME ZONE z) + iv) AT TIME ZONE z.
-- ORIGIN is a coordinate: for days and months the wall time of the grid's
-- origin in ZONE (as seconds since 1970-01-01 00:00 of that wall clock).
-- For timestamp and date keys the caller passes zone 'UTC', which makes the
-- calendar the plain wall-clock calendar.
CREATE FUNCTION pgpart._slot(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_origin numeric,
    p_coord numeric,
    OUT lo numeric,
    OUT hi numeric
)
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_wall timestamp;
    v_origin timestamp;
    v_k numeric;
    v_months numeric;
BEGIN
    IF p_kind IN ('integer', 'seconds') THEN
        lo := p_origin + floor((p_coord - p_origin) / p_step) * p_step;
        hi := lo + p_step;
        RETURN;
    END IF;
    v_wall := pgpart._coord_to_ts(p_coord) AT TIME ZONE p_zone;
    v_origin := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    IF p_kind = 'days' THEN
        v_k := floor(extract(epoch FROM (v_wall - v_origin)) / (p_step * 86400));
        lo := extract(epoch FROM ((v_origin + make_interval(days => (v_k * p_step)::int)) AT TIME ZONE p_zone));
        hi := extract(epoch FROM ((v_origin + make_interval(days => ((v_k + 1) * p_step)::int)) AT TIME ZONE p_zone));
    ELSIF p_kind = 'months' THEN
        v_months := (extract(year FROM v_wall) - extract(year FROM v_origin)) * 12
                    + extract(month FROM v_wall) - extract(month FROM v_origin);
        IF v_wall < v_origin + make_interval(months => v_months::int) THEN
            v_months := v_months - 1;
        END IF;
        v_k := floor(v_months / p_step);
        lo := extract(epoch FROM ((v_origin + make_interval(months => (v_k * p_step)::int)) AT TIME ZONE p_zone));
        hi := extract(epoch FROM ((v_origin + make_interval(months => ((v_k + 1) * p_step)::int)) AT TIME ZONE p_zone));
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown grid kind %L', p_kind);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._slot(text, numeric, text, numeric, numeric) IS
'The grid slot [lo, hi) holding a coordinate, for a grid of the given kind, step, zone and origin.';

-- pgpart._default_origin(kind, step): the natural alignment of a grid, as
-- a wall-time coordinate: UTC midnight for sub-day grids, a Monday for
-- whole weeks, 2000-01-01 for days and months (months that divide a year
-- then start on January, April, July and October as expected).
CREATE FUNCTION pgpart._default_origin(p_kind text, p_step numeric)
RETURNS numeric
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_kind = 'integer' THEN 0
    -- 2000-01-03 was a Monday (ISO weeks start on Monday)
    WHEN p_kind = 'days' AND p_step % 7 = 0 THEN 946857600
    -- 2000-01-01 00:00
    ELSE 946684800
END;

COMMENT ON FUNCTION pgpart._default_origin(text, numeric) IS
'Natural grid origin as a wall-time coordinate: a Monday for whole weeks, else 2000-01-01 (0 for integers).';
