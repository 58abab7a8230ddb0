-- pgpart._find_off_grid(parent, now_at): code 'off_grid'. RANGE partitions
-- whose bounds are not one slot of the grid: respected by every verb, but
-- worth knowing (no fix). Only for a premake in bounds, as the runway check.
CREATE FUNCTION pgpart._find_off_grid(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
        RETURN;
    END IF;
    v_grid := pgpart._grid(p_parent, p_now_at);
    RETURN QUERY
    SELECT 'info', 'off_grid'::pgpart.finding_code, p_parent, p.partition,
           format('partition off the grid of interval %L: its bounds are not one slot', v_cfg.partition_interval),
           NULL::text
    FROM pgpart._partitions(p_parent) AS p
    CROSS JOIN LATERAL pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, p.lower_coord) AS s
    WHERE NOT p.is_default AND p.lower_coord > '-Infinity'::numeric
      AND (s.lo <> p.lower_coord OR (s.hi <> p.upper_coord AND p.upper_coord <> 'Infinity'::numeric));
END
$body$;

COMMENT ON FUNCTION pgpart._find_off_grid(regclass, timestamptz) IS
'Finding off_grid of pgpart.check(): RANGE partitions whose bounds are not one slot of the grid (internal).';
