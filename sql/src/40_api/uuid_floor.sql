-- pgpart.uuid_floor(ts): the lowest uuid of TS's millisecond: its 48-bit
-- Unix millisecond prefix followed by zeros, which sorts before every UUIDv7
-- generated in that millisecond (btree orders uuids by their bytes) and is
-- exactly the lower bound pgpart gives a uuid-keyed partition starting
-- there. IMMUTABLE, so `WHERE id >= pgpart.uuid_floor('2026-01-01')` folds
-- to a constant and prunes partitions at plan time. NULL for a NULL or
-- infinite time; 22008 before 1970 or after the 48 bits (year 10889).
CREATE FUNCTION pgpart.uuid_floor(ts timestamptz)
RETURNS uuid
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_ts ALIAS FOR ts;
    v_ms numeric;
BEGIN
    IF NOT isfinite(p_ts) THEN
        RETURN NULL;
    END IF;
    v_ms := floor(extract(epoch FROM p_ts) * 1000);
    IF v_ms < 0 OR v_ms >= 281474976710656 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'datetime_field_overflow',
            MESSAGE = format('time %s is outside the range of a UUIDv7 timestamp', p_ts),
            DETAIL = 'A UUIDv7 holds Unix milliseconds in 48 bits: from 1970-01-01 to 10889-08-02 UTC.',
            HINT = 'Pass a time between those.';
    END IF;
    RETURN (lpad(to_hex(v_ms::bigint), 12, '0') || repeat('0', 20))::uuid;
END
$body$;

COMMENT ON FUNCTION pgpart.uuid_floor(timestamptz) IS
'The lowest uuid of a time''s millisecond (48-bit Unix millisecond prefix, then zeros): sorts before every UUIDv7 of that millisecond; IMMUTABLE, so a filter on a uuid key prunes partitions at plan time.';
