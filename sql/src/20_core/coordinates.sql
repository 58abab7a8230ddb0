-- Coordinates: every range bound is handled internally as one numeric, so
-- that overlap, gap and grid logic is written once for every key type.
--   integer keys: the value itself
--   timestamptz:  seconds since the Unix epoch (an instant)
--   timestamp, date: seconds since 1970-01-01 00:00 of the wall time
-- MINVALUE/MAXVALUE and infinite timestamps are -Infinity/Infinity.
-- Conversions to and from text are pinned to UTC and ISO, never to the
-- session's TimeZone or DateStyle (DESIGN §5).

-- pgpart._coord_to_ts(coord): the timestamptz at a time coordinate.
CREATE FUNCTION pgpart._coord_to_ts(p_coord numeric)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_coord = 'Infinity'::numeric THEN 'infinity'::timestamptz
    WHEN p_coord = '-Infinity'::numeric THEN '-infinity'::timestamptz
    -- whole seconds through float8 are exact; the fraction is added apart
    ELSE
        to_timestamp(trunc(p_coord)::float8)
        + make_interval(secs => (p_coord - trunc(p_coord))::float8)
END;

COMMENT ON FUNCTION pgpart._coord_to_ts(numeric) IS
'The timestamptz at a time coordinate (seconds since the epoch).';

-- pgpart._literal_to_coord(key_type, literal): the coordinate of a bound
-- as printed by pg_get_expr (quotes removed) or of a key value's text.
CREATE FUNCTION pgpart._literal_to_coord(p_key_type regtype, p_literal text)
RETURNS numeric
LANGUAGE plpgsql
STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    IF p_literal = 'MINVALUE' THEN
        RETURN '-Infinity'::numeric;
    ELSIF p_literal = 'MAXVALUE' THEN
        RETURN 'Infinity'::numeric;
    END IF;
    RETURN CASE p_key_type
        WHEN 'timestamptz'::regtype THEN extract(epoch FROM p_literal::timestamptz)
        WHEN 'timestamp'::regtype THEN extract(epoch FROM p_literal::timestamp)
        WHEN 'date'::regtype THEN extract(epoch FROM p_literal::date::timestamp)
        ELSE p_literal::numeric
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._literal_to_coord(regtype, text) IS
'Coordinate of a bound literal or key value of the given key type.';

-- pgpart._coord_to_literal(key_type, coord): the bound as SQL text for
-- FOR VALUES: a quoted literal with an explicit UTC offset for timestamptz
-- (so the session TimeZone cannot shift it), or MINVALUE/MAXVALUE when the
-- value lies beyond the type's range.
CREATE FUNCTION pgpart._coord_to_literal(p_key_type regtype, p_coord numeric)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_min numeric;
    v_max numeric;
    v_ts timestamp;
    v_format text;
BEGIN
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
        IF p_coord < v_min THEN
            RETURN 'MINVALUE';
        ELSIF p_coord > v_max THEN
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal(trunc(p_coord)::text);
    END IF;
    IF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    v_ts := pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC';
    v_format := CASE WHEN p_coord = trunc(p_coord) THEN 'YYYY-MM-DD HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI:SS.US' END;
    RETURN quote_literal(CASE p_key_type
        WHEN 'timestamptz'::regtype THEN to_char(v_ts, v_format) || '+00'
        WHEN 'timestamp'::regtype THEN to_char(v_ts, v_format)
        ELSE to_char(v_ts, 'YYYY-MM-DD')
    END);
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_literal(regtype, numeric) IS
'A coordinate as a FOR VALUES bound of the given key type (quoted literal, MINVALUE or MAXVALUE).';

-- pgpart._coord_to_text(key_type, zone, coord): a bound for people and
-- programs: timestamptz in the configured zone with its offset, other types
-- as their plain value. Never depends on the session's settings.
CREATE FUNCTION pgpart._coord_to_text(p_key_type regtype, p_zone text, p_coord numeric)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    IF p_coord IS NULL THEN
        RETURN NULL;
    ELSIF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    IF p_key_type = 'timestamptz'::regtype THEN
        -- reverted when this function returns (its SET clause)
        PERFORM set_config('timezone', coalesce(p_zone, 'UTC'), true);
        RETURN pgpart._coord_to_ts(p_coord)::text;
    ELSIF p_key_type = 'timestamp'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::text;
    ELSIF p_key_type = 'date'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::date::text;
    END IF;
    RETURN p_coord::text;
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_text(regtype, text, numeric) IS
'A bound as text: timestamptz in the given zone with its UTC offset, other key types as plain values.';

-- pgpart._input_to_coord(key_type, zone, text): a value given by a caller
-- (start, origin). Time text without an offset is read in ZONE, never in
-- the session's TimeZone; integer keys take a whole number.
CREATE FUNCTION pgpart._input_to_coord(p_key_type regtype, p_zone text, p_text text, p_what text)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_ts timestamptz;
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        IF btrim(p_text) !~ '^[-+]?[0-9]{1,19}$' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
                HINT = 'Pass a whole number.';
        END IF;
        RETURN btrim(p_text)::numeric;
    END IF;
    BEGIN
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', p_zone, true);
            v_ts := p_text::timestamptz;
        ELSE
            -- timestamp and date keys: the wall time as written, read as UTC
            v_ts := p_text::timestamp AT TIME ZONE 'UTC';
        END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
            DETAIL = SQLERRM,
            HINT = 'Pass a date or time such as ''2024-01-01'' or ''2024-01-01 06:00''.';
    END;
    IF NOT isfinite(v_ts) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L: it must be a finite time', p_what, p_text),
            HINT = 'Pass a date or time such as ''2024-01-01''.';
    END IF;
    RETURN extract(epoch FROM v_ts);
END
$body$;

COMMENT ON FUNCTION pgpart._input_to_coord(regtype, text, text, text) IS
'Coordinate of a caller-given start or origin, read in the configured zone for timestamptz keys.';

-- pgpart._check_zone(zone): refuses an unknown time zone name (22023).
CREATE FUNCTION pgpart._check_zone(p_zone text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
BEGIN
    PERFORM set_config('timezone', p_zone, true);
    RETURN p_zone;
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('unknown time zone %L', p_zone),
        HINT = 'Use a name from pg_timezone_names, such as ''UTC'' or ''Europe/Berlin''.';
END
$body$;

COMMENT ON FUNCTION pgpart._check_zone(text) IS
'Returns the zone name if PostgreSQL knows it, else raises 22023.';
