-- Coordinates: every range bound is handled internally as one numeric, so
-- that overlap, gap and grid logic is written once for every key type.
--   integer keys: the value itself
--   timestamptz:  seconds since the Unix epoch (an instant)
--   uuid (UUIDv7): the 48-bit millisecond prefix as seconds since the epoch
--   integers holding epoch seconds/milliseconds/microseconds (the policy's
--   epoch_unit 's', 'ms', 'us'): the value as seconds since the epoch
--   timestamp, date: seconds since 1970-01-01 00:00 of the wall time
-- MINVALUE/MAXVALUE and infinite timestamps are -Infinity/Infinity.
-- Conversions to and from text are pinned to UTC and ISO, never to the
-- session's TimeZone or DateStyle (DESIGN §5).

-- pgpart._key_clock(key_type, epoch_unit): what a range key measures, the
-- one question every place that used to list key types asks:
--   'instant' an instant on the time line (timestamptz, uuid, an integer
--             with an epoch unit): gridded in the configured zone, "now" is
--             the reference time;
--   'wall'    a wall time without zone (timestamp, date): gridded on the
--             plain calendar;
--   'integer' a plain number (smallint, integer, bigint without an epoch
--             unit): "now" is the highest key value.
-- NULL: not a key type pgpart manages by range.
CREATE FUNCTION pgpart._key_clock(p_key_type regtype, p_epoch_unit text DEFAULT NULL)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_key_type IN ('timestamptz'::regtype, 'uuid'::regtype) THEN 'instant'
    WHEN p_key_type IN ('timestamp'::regtype, 'date'::regtype) THEN 'wall'
    WHEN p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
        THEN CASE WHEN p_epoch_unit IS NULL THEN 'integer' ELSE 'instant' END
END;

COMMENT ON FUNCTION pgpart._key_clock(regtype, text) IS
'What a range key measures: instant (timestamptz, uuid, epoch integers), wall (timestamp, date) or integer; NULL for other types.';

-- pgpart._epoch_scale(epoch_unit): key units per second of an epoch
-- integer key (NULL without a unit).
CREATE FUNCTION pgpart._epoch_scale(p_epoch_unit text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE p_epoch_unit WHEN 's' THEN 1 WHEN 'ms' THEN 1000 WHEN 'us' THEN 1000000 END;

COMMENT ON FUNCTION pgpart._epoch_scale(text) IS
'Key units per second of an epoch integer key: 1 (s), 1000 (ms), 1000000 (us); NULL otherwise.';

-- pgpart._uuid_coord(uuid text): the coordinate of a uuid: its first 48
-- bits (a UUIDv7's Unix milliseconds) as seconds. Any uuid has one, so a
-- value that is not version 7 lands by those bits like any other.
CREATE FUNCTION pgpart._uuid_coord(p_uuid text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN ('x' || lpad(left(replace(p_uuid::uuid::text, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0;

COMMENT ON FUNCTION pgpart._uuid_coord(text) IS
'Coordinate of a uuid: its 48-bit millisecond prefix (UUIDv7) as seconds since the epoch.';

-- pgpart._check_epoch_unit(parent, key_type, epoch_unit, has_partitions,
-- configured): refuses an epoch unit the key cannot hold (smallint: none;
-- integer: seconds only, with a WARNING that it ends on 2038-01-19; a
-- non-integer key: none) and a change of unit under existing partitions.
CREATE FUNCTION pgpart._check_epoch_unit(
    p_parent regclass,
    p_key_type regtype,
    p_epoch_unit text,
    p_has_partitions boolean,
    p_configured text
)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_epoch_unit IS NULL THEN
        RETURN NULL;
    ELSIF p_epoch_unit NOT IN ('s', 'ms', 'us') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid epoch_unit %L for table %s', p_epoch_unit, p_parent),
            DETAIL = 'An integer key may hold Unix time in seconds, milliseconds or microseconds.',
            HINT = 'Pass epoch_unit => ''s'', ''ms'' or ''us'' (or leave it out for plain numbers).';
    ELSIF pgpart._key_clock(p_key_type) IS DISTINCT FROM 'integer' THEN  -- not a plain integer type
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('epoch_unit applies to integer keys, but the key of table %s is %s', p_parent, p_key_type),
            HINT = 'Leave epoch_unit out for this table.';
    ELSIF p_key_type = 'smallint'::regtype THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('a smallint key of table %s cannot hold Unix time', p_parent),
            DETAIL = 'smallint ends at 32767: nine hours after 1970 in seconds.',
            HINT = 'Use a bigint key for epoch seconds, milliseconds or microseconds.';
    ELSIF p_key_type = 'integer'::regtype AND p_epoch_unit <> 's' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('an integer key of table %s cannot hold Unix time in %s', p_parent,
                             CASE p_epoch_unit WHEN 'ms' THEN 'milliseconds' ELSE 'microseconds' END),
            DETAIL = 'integer ends at 2147483647: 25 days after 1970 in milliseconds.',
            HINT = 'Use a bigint key (ALTER TABLE ... ALTER COLUMN ... TYPE bigint), or epoch_unit => ''s''.';
    END IF;
    IF p_has_partitions AND p_epoch_unit IS DISTINCT FROM p_configured THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cannot change the epoch unit of table %s, which has partitions', p_parent),
            DETAIL = format('Configured: %s; requested: %L.', coalesce(quote_literal(p_configured), 'none'),
                            p_epoch_unit),
            HINT = 'The bounds of existing partitions were computed in the configured unit: leave epoch_unit out, '
                   'or pass the configured one.';
    END IF;
    IF p_key_type = 'integer'::regtype THEN
        RAISE WARNING USING
            MESSAGE = format('the integer key of table %s holds Unix seconds only until 2038-01-19 03:14:07 UTC',
                             p_parent),
            HINT = 'Change the key to bigint before then (ALTER TABLE ... ALTER COLUMN ... TYPE bigint).';
    END IF;
    RETURN p_epoch_unit;
END
$body$;

COMMENT ON FUNCTION pgpart._check_epoch_unit(regclass, regtype, text, boolean, text) IS
'Validates the epoch unit of an integer range key (22023/0A000; WARNING for integer seconds, which end in 2038) and refuses changing it under partitions.';

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
CREATE FUNCTION pgpart._literal_to_coord(p_key_type regtype, p_literal text, p_epoch_unit text DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    -- not STRICT: a NULL epoch unit is the common case
    IF p_literal IS NULL OR p_key_type IS NULL THEN
        RETURN NULL;
    ELSIF p_literal = 'MINVALUE' THEN
        RETURN '-Infinity'::numeric;
    ELSIF p_literal = 'MAXVALUE' THEN
        RETURN 'Infinity'::numeric;
    END IF;
    RETURN CASE p_key_type
        WHEN 'timestamptz'::regtype THEN extract(epoch FROM p_literal::timestamptz)
        WHEN 'timestamp'::regtype THEN extract(epoch FROM p_literal::timestamp)
        WHEN 'date'::regtype THEN extract(epoch FROM p_literal::date::timestamp)
        WHEN 'uuid'::regtype THEN pgpart._uuid_coord(p_literal)
        ELSE CASE WHEN p_epoch_unit IS NULL THEN p_literal::numeric
                  ELSE p_literal::numeric / pgpart._epoch_scale(p_epoch_unit) END
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._literal_to_coord(regtype, text, text) IS
'Coordinate of a bound literal or key value of the given key type.';

-- pgpart._coord_to_literal(key_type, coord): the bound as SQL text for
-- FOR VALUES: a quoted literal with an explicit UTC offset for timestamptz
-- (so the session TimeZone cannot shift it), or MINVALUE/MAXVALUE when the
-- value lies beyond the type's range. An epoch integer key's bound is the
-- coordinate in its unit; a uuid key's is the smallest uuid of the bound's
-- millisecond: the 48-bit prefix followed by zeros (it sorts before every
-- UUIDv7 of that millisecond, as btree orders uuids by their bytes).
CREATE FUNCTION pgpart._coord_to_literal(p_key_type regtype, p_coord numeric, p_epoch_unit text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_min numeric;
    v_max numeric;
    v_ts timestamp;
    v_format text;
    v_value numeric;
BEGIN
    -- not STRICT: a NULL epoch unit is the common case
    IF p_coord IS NULL OR p_key_type IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_key_type = 'uuid'::regtype THEN
        v_value := floor(p_coord * 1000);  -- -Infinity and Infinity stay so
        IF v_value < 0 THEN
            RETURN 'MINVALUE';
        ELSIF v_value >= 281474976710656 THEN  -- 2^48 milliseconds: year 10889
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal((lpad(to_hex(v_value::bigint), 12, '0') || repeat('0', 20))::uuid::text);
    END IF;
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
        v_value := CASE WHEN p_epoch_unit IS NULL THEN p_coord ELSE p_coord * pgpart._epoch_scale(p_epoch_unit) END;
        IF v_value < v_min THEN
            RETURN 'MINVALUE';
        ELSIF v_value > v_max THEN
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal(trunc(v_value)::text);
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

COMMENT ON FUNCTION pgpart._coord_to_literal(regtype, numeric, text) IS
'A coordinate as a FOR VALUES bound of the given key type (quoted literal, MINVALUE or MAXVALUE).';

-- pgpart._coord_to_text(key_type, zone, coord, epoch_unit): a bound for
-- people and programs: instants (timestamptz, uuid, epoch integers) as a
-- time in the configured zone with its offset, other types as their plain
-- value. Never depends on the session's settings.
CREATE FUNCTION pgpart._coord_to_text(p_key_type regtype, p_zone text, p_coord numeric, p_epoch_unit text DEFAULT NULL)
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
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
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

COMMENT ON FUNCTION pgpart._coord_to_text(regtype, text, numeric, text) IS
'A bound as text: instants (timestamptz, uuid, epoch integers) in the given zone with its UTC offset, other key types as plain values.';

-- pgpart._text_to_coord(key_type, epoch_unit, text): the inverse of
-- pgpart._coord_to_text (the lower_bound and upper_bound of plan steps).
CREATE FUNCTION pgpart._text_to_coord(p_key_type regtype, p_epoch_unit text, p_text text)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
        RETURN pgpart._literal_to_coord('timestamptz'::regtype, p_text);
    END IF;
    RETURN pgpart._literal_to_coord(p_key_type, p_text);
END
$body$;

COMMENT ON FUNCTION pgpart._text_to_coord(regtype, text, text) IS
'Coordinate of a bound shown by pgpart._coord_to_text (instants as times with their offset).';

-- pgpart._input_to_coord(key_type, zone, text): a value given by a caller
-- (start, origin). Time text without an offset is read in ZONE, never in
-- the session's TimeZone (instants: timestamptz, uuid and epoch integer
-- keys take a time); plain integer keys take a whole number.
CREATE FUNCTION pgpart._input_to_coord(
    p_key_type regtype, p_zone text, p_text text, p_what text, p_epoch_unit text DEFAULT NULL
)
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
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'integer' THEN
        IF btrim(p_text) !~ '^[-+]?[0-9]{1,19}$' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
                HINT = 'Pass a whole number.';
        END IF;
        RETURN btrim(p_text)::numeric;
    END IF;
    BEGIN
        IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
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

COMMENT ON FUNCTION pgpart._input_to_coord(regtype, text, text, text, text) IS
'Coordinate of a caller-given start or origin, read in the configured zone for instant keys (timestamptz, uuid, epoch integers).';

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
