-- pgpart._range_policy_walkable(parent): the policy row of PARENT when it is
-- a RANGE parent whose premake is in bounds, else NULL. The runway, gap and
-- off-grid checks look only at those: the premake check reports the others
-- (and maintenance refuses them), so no check walks an unbounded premake.
CREATE FUNCTION pgpart._range_policy_walkable(p_parent regclass)
RETURNS pgpart.config
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT c.* FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.strategy = 'range' AND pgpart._premake_in_bounds(c.premake);
$body$;

COMMENT ON FUNCTION pgpart._range_policy_walkable(regclass) IS
'The policy row of a RANGE parent whose premake is in bounds, else NULL: what the runway, gap and off-grid checks look at (internal).';

-- pgpart._find_runway(parent, now_at): codes 'no_current_partition'
-- (urgent: no partition holds the current key), 'runway_short' (the
-- partitions do not reach premake slots past the one of now) and
-- 'runway_unknown' (the highest integer key could not be read: locked, or
-- not permitted). RANGE parents with a premake in bounds only (the premake
-- check reports the others). The highest key is read under a 10 ms lock
-- timeout, so the check never waits.
-- VOLATILE, as pgpart._max_key it calls (dynamic reads of table data).
CREATE FUNCTION pgpart._find_runway(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_now numeric;
    v_reach numeric;
BEGIN
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    -- outside the block below: a grid that cannot be read fails the check
    v_grid := pgpart._grid(p_parent, p_now_at);
    BEGIN
        v_now := coalesce(v_grid.now_coord, coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '10ms'), 0));
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_now);
        FOR i IN 1 .. v_cfg.premake LOOP
            v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
        END LOOP;
        v_reach := pgpart._reach(p_parent, v_now);
        IF v_reach < v_slot.hi THEN
            RETURN QUERY SELECT
                CASE WHEN v_reach <= v_now THEN 'urgent' ELSE 'warning' END,
                CASE WHEN v_reach <= v_now THEN 'no_current_partition'::pgpart.finding_code
                     ELSE 'runway_short'::pgpart.finding_code END,
                p_parent, NULL::regclass,
                CASE WHEN v_reach <= v_now
                     THEN format('no partition holds the current key (%s): inserts fail or go to the default partition',
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now, v_cfg.epoch_unit))
                     ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach, v_cfg.epoch_unit),
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi, v_cfg.epoch_unit)) END,
                pgpart._fix_call('SELECT * FROM pgpart.create_range_partitions', p_parent,
                                 format(', %L', v_cfg.partition_interval), p_now_at);
        END IF;
    EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
        RETURN QUERY SELECT 'info', 'runway_unknown'::pgpart.finding_code, p_parent, NULL::regclass,
                        'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._find_runway(regclass, timestamptz) IS
'Findings no_current_partition, runway_short and runway_unknown of pgpart.check(): the RANGE partitions against the premake runway (internal).';

-- pgpart._find_gaps(parent, now_at): code 'gap'. Gaps between consecutive
-- RANGE partitions: rows there fail or go to the default partition. As the
-- runway check, only for a premake in bounds (maintenance refuses the rest).
CREATE FUNCTION pgpart._find_gaps(p_parent regclass, p_now_at timestamptz)
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
BEGIN
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning', 'gap'::pgpart.finding_code, p_parent, g.next_part,
           format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi, v_cfg.epoch_unit),
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo, v_cfg.epoch_unit), g.next_part),
           pgpart._fix_call('SELECT * FROM pgpart.create_range_partitions', p_parent,
                            format(', %L', v_cfg.partition_interval), p_now_at)
    FROM (
        SELECT p.upper_coord AS hi,
               lead(p.lower_coord) OVER (ORDER BY p.lower_coord) AS next_lo,
               lead(p.partition) OVER (ORDER BY p.lower_coord) AS next_part
        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default
    ) AS g
    WHERE g.next_lo > g.hi;
END
$body$;

COMMENT ON FUNCTION pgpart._find_gaps(regclass, timestamptz) IS
'Finding gap of pgpart.check(): a key range between two consecutive RANGE partitions that no partition holds (internal).';

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
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
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
