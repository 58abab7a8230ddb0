-- pgpart._expired_partitions(parent, now_at, timeout): the partitions of a
-- managed parent that retention removes: their whole range ends at or before
-- now_at minus the retention (calendar arithmetic in the configured zone),
-- or for integer keys at or below the highest key value minus the retention
-- distance. Never the default, never one already detaching, never the newest
-- partition by bound (PLANNED_UPPER: a dry run's partitions to be created
-- first count, as they will exist when the real run gets here). Catalog only, except the integer key probe (each read
-- waits at most TIMEOUT).
CREATE FUNCTION pgpart._expired_partitions(
    p_parent regclass, p_now_at timestamptz, p_timeout interval, p_planned_upper numeric DEFAULT NULL
)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_cutoff numeric;
    v_max numeric;
BEGIN
    -- an infinite now_at would expire every partition but the newest (every
    -- retention path comes through here: refuse it, 22023 naming now_at)
    PERFORM pgpart._check_lock_args(coalesce(p_timeout, interval '1s'), 0, p_now_at);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.retention IS NULL THEN
        RETURN;
    END IF;
    IF pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit) = 'integer' THEN
        v_max := pgpart._max_key(p_parent, v_cfg.key_column, p_timeout);
        IF v_max IS NULL THEN
            RETURN;  -- an empty table has nothing to expire
        END IF;
        v_cutoff := v_max - v_cfg.retention::numeric;
    ELSIF pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit) = 'instant' THEN
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval)
                                       AT TIME ZONE v_cfg.time_zone);
    ELSE
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval));
    END IF;
    RETURN QUERY
    SELECT p.partition, p.lower_coord, p.upper_coord
    FROM pgpart._partitions(p_parent) AS p
    WHERE
        NOT p.is_default
        AND NOT p.detach_pending
        AND p.upper_coord <= v_cutoff
        AND p.upper_coord < greatest(
            (SELECT max(q.upper_coord) FROM pgpart._partitions(p_parent) AS q WHERE NOT q.is_default), p_planned_upper)
    ORDER BY p.lower_coord;
END
$body$;

COMMENT ON FUNCTION pgpart._expired_partitions(regclass, timestamptz, interval, numeric) IS
'Partitions of a managed parent whose whole range lies beyond its retention (never the default, the newest or a detaching one).';
