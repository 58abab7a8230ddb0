-- pgpart._grid(parent): the grid of a managed RANGE parent as the slot
-- functions take it: kind and step of the interval, the zone its calendar
-- follows (UTC below a day and for timestamp/date keys), the origin as a
-- coordinate, and the coordinate of "now" for a reference time.
CREATE FUNCTION pgpart._grid(
    p_parent regclass,
    p_now_at timestamptz,
    OUT key_type regtype,
    OUT kind text,
    OUT step numeric,
    OUT frame text,
    OUT origin numeric,
    OUT now_coord numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_iv record;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    v_iv := pgpart._parse_interval(v_cfg.key_type, v_cfg.partition_interval);
    key_type := v_cfg.key_type;
    kind := v_iv.kind;
    step := v_iv.step;
    frame := CASE WHEN v_cfg.key_type = 'timestamptz'::regtype AND v_iv.kind IN ('days', 'months')
                  THEN v_cfg.time_zone ELSE 'UTC' END;
    origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                   ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    now_coord := CASE WHEN v_iv.kind = 'integer' THEN NULL
                      WHEN v_cfg.key_type = 'timestamptz'::regtype THEN extract(epoch FROM p_now_at)
                      ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone)) END;
END
$body$;

COMMENT ON FUNCTION pgpart._grid(regclass, timestamptz) IS
'Grid of a managed range parent for the slot functions: kind, step, zone, origin and the coordinate of now (NULL for integer keys).';
