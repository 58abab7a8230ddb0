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
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
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
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now))
                     ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach),
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi)) END,
                format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', p_parent::text,
                       v_cfg.partition_interval, pgpart._fix_now_at(p_now_at));
        END IF;
    EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
        RETURN QUERY SELECT 'info', 'runway_unknown'::pgpart.finding_code, p_parent, NULL::regclass,
                        'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._find_runway(regclass, timestamptz) IS
'Findings no_current_partition, runway_short and runway_unknown of pgpart.check(): the RANGE partitions against the premake runway (internal).';
