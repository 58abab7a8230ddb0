-- pgpart._relation_name(base, suffix): BASE || SUFFIX as a relation name
-- that fits PostgreSQL's 63-byte limit (DESIGN §5). Measured in bytes, never
-- splitting a character; when it does not fit, the base is shortened and a
-- stable hash of the whole intended name is inserted, so two long names
-- sharing a prefix cannot collide and the suffix (the bound) stays readable.
CREATE FUNCTION pgpart._relation_name(p_base text, p_suffix text)
RETURNS name
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_limit constant integer := 63;
    v_hash text := '_' || left(md5(p_base || p_suffix), 8);
    v_base text := p_base;
    v_suffix text;
BEGIN
    IF octet_length(p_base || p_suffix) <= v_limit THEN
        RETURN (p_base || p_suffix)::name;
    END IF;
    WHILE octet_length(v_base || v_hash || p_suffix) > v_limit AND v_base <> '' LOOP
        v_base := left(v_base, -1);
    END LOOP;
    -- a suffix too long on its own is cut too (the hash keeps names apart)
    v_suffix := p_suffix;
    WHILE octet_length(v_base || v_hash || v_suffix) > v_limit LOOP
        v_suffix := left(v_suffix, -1);
    END LOOP;
    RETURN (v_base || v_hash || v_suffix)::name;
END
$body$;

COMMENT ON FUNCTION pgpart._relation_name(text, text) IS
'Base plus suffix as a relation name of at most 63 bytes, shortened with a stable hash when needed.';

-- pgpart._slot_suffix(key_type, kind, step, zone, lo): the name suffix of a
-- range partition: _pYYYYMMDD for a day or more (the local date in the
-- grid's zone), _pYYYYMMDD_HH24MI in UTC below a day (seconds added when
-- the interval is not whole minutes), _p<lower> for integers, _pm<n> for
-- negative lower bounds.
CREATE FUNCTION pgpart._slot_suffix(p_kind text, p_step numeric, p_zone text, p_lo numeric)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_wall timestamp;
BEGIN
    IF p_kind = 'integer' THEN
        RETURN CASE
            WHEN p_lo = '-Infinity'::numeric THEN '_pmin'
            WHEN p_lo < 0 THEN '_pm' || (-p_lo)::text
            ELSE '_p' || p_lo::text
        END;
    END IF;
    IF p_kind = 'seconds' THEN
        v_wall := pgpart._coord_to_ts(p_lo) AT TIME ZONE 'UTC';
        RETURN '_p' || to_char(v_wall, CASE WHEN p_step % 60 = 0 THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD_HH24MISS' END);
    END IF;
    v_wall := pgpart._coord_to_ts(p_lo) AT TIME ZONE p_zone;
    RETURN '_p' || to_char(v_wall, 'YYYYMMDD');
END
$body$;

COMMENT ON FUNCTION pgpart._slot_suffix(text, numeric, text, numeric) IS
'Name suffix of the range partition starting at a coordinate (_pYYYYMMDD, _pYYYYMMDD_HH24MI, _p<n>, _pm<n>).';
