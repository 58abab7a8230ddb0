-- pgpart._window_complete(parent, now_at): true when every slot from the one
-- holding NOW_AT through PREMAKE ahead has its partition, under pgpart's
-- name and with exactly that slot's bounds. It looks those few partitions
-- up by name instead of reading every bound, so the maintenance call that
-- finds nothing to do costs the same for 10 partitions or 10,000 (gaps
-- further back are filled by create_range_partitions and reported by check).
-- False when unsure: the caller then plans in full.
CREATE FUNCTION pgpart._window_complete(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_schema name;
    v_relname name;
    v_part oid;
    v_bound text;
    v_first numeric;
    v_count bigint;
    v_default regclass;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    v_grid := pgpart._grid(p_parent, p_now_at);
    IF v_cfg.parent IS NULL OR v_grid.now_coord IS NULL OR v_cfg.subpartition IS NOT NULL
       OR v_cfg.premake NOT BETWEEN 0 AND pgpart._max_premake() THEN
        -- integer keys need the highest key; sub-partitions their leaves; a
        -- premake out of bounds is refused by the planner, not walked here
        RETURN false;
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_grid.now_coord);
    FOR i IN 0 .. v_cfg.premake LOOP
        v_part := to_regclass(format('%I.%I', v_schema, pgpart._relation_name(
            v_relname, pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, v_slot.lo))));
        SELECT pg_get_expr(c.relpartbound, 0) INTO v_bound
        FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
        WHERE h.inhrelid = v_part AND h.inhparent = p_parent AND NOT h.inhdetachpending;
        IF v_bound IS DISTINCT FROM format('FOR VALUES FROM (%s) TO (%s)',
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.lo, v_grid.epoch_unit),
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.hi, v_grid.epoch_unit)) THEN
            RETURN false;
        END IF;
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
    END LOOP;
    -- No gap below the window either: as many partitions as grid slots from
    -- the oldest one to the window's end. pgpart's names sort by date, so the
    -- oldest is found without reading every bound; anything else (a name of
    -- another scheme, a partition off the grid) makes the counts differ, and
    -- the caller then plans in full.
    v_default := pgpart._default_partition(p_parent);
    SELECT c.oid, pgpart._literal_to_coord(v_grid.key_type, (regexp_match(pg_get_expr(c.relpartbound, 0),
                                                             '^FOR VALUES FROM \(''?([^'')]*)''?\)'))[1],
                                           v_grid.epoch_unit)
    INTO v_part, v_first
    FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
    WHERE h.inhparent = p_parent AND c.oid IS DISTINCT FROM v_default
    ORDER BY c.relname
    LIMIT 1;
    SELECT count(*) INTO v_count
    FROM pg_inherits AS h WHERE h.inhparent = p_parent AND h.inhrelid IS DISTINCT FROM v_default;
    RETURN v_first IS NOT NULL AND v_count = pgpart._slots_between(v_grid.kind, v_grid.step, v_grid.frame,
                                                                   v_first, v_slot.lo);
END
$body$;

COMMENT ON FUNCTION pgpart._window_complete(regclass, timestamptz) IS
'True when the partitions from the slot of now through premake ahead all exist with their exact bounds (looked up by name, not by reading every bound).';

-- pgpart._slots_between(kind, step, zone, lo, hi): how many grid slots
-- lie in [LO, HI) when both are slot bounds, by arithmetic (no iteration):
-- fixed widths divide, days count wall-clock days, months count months.
CREATE FUNCTION pgpart._slots_between(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_lo numeric,
    p_hi numeric
)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_lo timestamp;
    v_hi timestamp;
BEGIN
    IF p_kind IN ('integer', 'seconds') THEN
        RETURN (p_hi - p_lo) / p_step;
    END IF;
    v_lo := pgpart._coord_to_ts(p_lo) AT TIME ZONE p_zone;
    v_hi := pgpart._coord_to_ts(p_hi) AT TIME ZONE p_zone;
    IF p_kind = 'days' THEN
        RETURN round(extract(epoch FROM (v_hi - v_lo)) / 86400) / p_step;
    END IF;
    RETURN ((extract(year FROM v_hi) - extract(year FROM v_lo)) * 12 + extract(month FROM v_hi)
            - extract(month FROM v_lo)) / p_step;
END
$body$;

COMMENT ON FUNCTION pgpart._slots_between(text, numeric, text, numeric, numeric) IS
'Number of grid slots between two slot bounds, computed without iterating.';
