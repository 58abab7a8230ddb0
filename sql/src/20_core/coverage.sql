-- pgpart._reach(parent, from): how far the attached partitions of PARENT
-- reach from the coordinate FROM without a gap (FROM itself when no
-- partition holds it).
CREATE FUNCTION pgpart._reach(p_parent regclass, p_from numeric)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_reach numeric := p_from;
    r record;
BEGIN
    FOR r IN
        SELECT p.lower_coord, p.upper_coord FROM pgpart._partitions(p_parent) AS p
        WHERE NOT p.is_default AND NOT p.detach_pending
        ORDER BY p.lower_coord
    LOOP
        IF r.lower_coord <= v_reach AND r.upper_coord > v_reach THEN
            v_reach := r.upper_coord;
        END IF;
    END LOOP;
    RETURN v_reach;
END
$body$;

COMMENT ON FUNCTION pgpart._reach(regclass, numeric) IS
'How far the attached partitions of a parent reach from a coordinate without a gap.';

-- pgpart._runway(parent, now_at): how far ahead of "now" the partitions of a
-- managed RANGE parent reach without a gap: an interval for time keys, a
-- number of key values for integer keys (measured from the highest key
-- value, read under a short lock timeout; NULL when it could not be read).
CREATE FUNCTION pgpart._runway(p_parent regclass, p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_now numeric;
    v_reach numeric;
    v_clock text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN NULL;
    END IF;
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    IF v_clock = 'integer' THEN
        BEGIN
            v_now := coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '50ms'), 0);
        EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
            RETURN NULL;  -- unknown: a partition is locked exclusively, or we may not read the parent
        END;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_now_at);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone));
    END IF;
    v_reach := pgpart._reach(p_parent, v_now);
    IF v_clock = 'integer' THEN
        RETURN (v_reach - v_now)::text;
    END IF;
    RETURN date_trunc('second', pgpart._coord_to_ts(v_reach) - pgpart._coord_to_ts(v_now))::text;
END
$body$;

COMMENT ON FUNCTION pgpart._runway(regclass, timestamptz) IS
'How far the partitions of a managed range parent reach past now without a gap (interval, or key values for integer keys).';
