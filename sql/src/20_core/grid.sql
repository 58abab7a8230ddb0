-- pgpart._grid(parent): the grid of a managed RANGE parent as the slot
-- functions take it: kind and step of the interval, the zone its calendar
-- follows (UTC below a day and for timestamp/date keys), the origin as a
-- coordinate, the coordinate of "now" for a reference time (NULL for plain
-- integer keys) and the key's epoch unit (for the coordinate conversions).
CREATE FUNCTION pgpart._grid(
    p_parent regclass,
    p_now_at timestamptz,
    OUT key_type regtype,
    OUT kind text,
    OUT step numeric,
    OUT frame text,
    OUT origin numeric,
    OUT now_coord numeric,
    OUT epoch_unit text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_iv record;
    v_clock text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    v_iv := pgpart._parse_interval(v_cfg.key_type, v_cfg.partition_interval, v_cfg.epoch_unit);
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    key_type := v_cfg.key_type;
    epoch_unit := v_cfg.epoch_unit;
    kind := v_iv.kind;
    step := v_iv.step;
    frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months')
                  THEN v_cfg.time_zone ELSE 'UTC' END;
    origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                   ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    now_coord := CASE WHEN v_iv.kind = 'integer' THEN NULL
                      WHEN v_clock = 'instant' THEN extract(epoch FROM p_now_at)
                      ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone)) END;
END
$body$;

COMMENT ON FUNCTION pgpart._grid(regclass, timestamptz) IS
'Grid of a managed range parent for the slot functions: kind, step, zone, origin, the coordinate of now (NULL for integer keys) and the epoch unit.';
