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
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning', 'gap'::pgpart.finding_code, p_parent, g.next_part,
           format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi),
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo), g.next_part),
           format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', p_parent::text, v_cfg.partition_interval,
                  pgpart._fix_now_at(p_now_at))
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
