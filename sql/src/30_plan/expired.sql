-- pgpart._expiry(parent, now_at, timeout, planned_upper): the partitions of
-- a managed range parent that retention removes, each with the rule that
-- expires it (REASON). A partition expires if ANY rule of the policy
-- expires it:
--   age   its whole range ends at or before now_at minus the retention
--         (calendar arithmetic in the configured zone), or for integer keys
--         at or below the highest key value minus the retention distance;
--   bytes / rows  (retention_max_bytes, retention_max_rows) the partitions
--         together hold more than the limit: the oldest expire first until
--         the rest fits (pgpart._partition_volume; the default never counts).
-- Never the default, never one already detaching, never the newest
-- partition by bound (PLANNED_UPPER: a dry run's partitions to be created
-- first count, as they will exist when the real run gets here), never one
-- holding now_at (for integer keys: the highest key value) or later.
-- Catalog only, except the integer key probe and the volume of partitions
-- (each read waits at most TIMEOUT for its lock).
-- Long (about 130 lines): the three rules share one reading of the
-- partitions and one set of exclusions, so they cannot disagree on those.
CREATE FUNCTION pgpart._expiry(
    p_parent regclass, p_now_at timestamptz, p_timeout interval, p_planned_upper numeric DEFAULT NULL
)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric, reason text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_clock text;
    v_cutoff numeric;
    v_max numeric;
    v_now numeric;
    v_newest numeric;
    v_total_bytes numeric;
    v_total_rows numeric;
    r record;
BEGIN
    -- an infinite now_at would expire every partition but the newest (every
    -- retention path comes through here: refuse it, 22023 naming now_at)
    PERFORM pgpart._check_lock_args(coalesce(p_timeout, interval '1s'), 0, p_now_at);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.retention IS NULL AND v_cfg.retention_max_bytes IS NULL AND v_cfg.retention_max_rows IS NULL THEN
        RETURN;
    END IF;
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    IF v_clock = 'integer' THEN
        v_max := pgpart._max_key(p_parent, v_cfg.key_column, p_timeout);
        IF v_max IS NULL THEN
            RETURN;  -- an empty table has nothing to expire
        END IF;
        v_now := v_max;
        v_cutoff := v_max - v_cfg.retention::numeric;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_now_at);
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval)
                                       AT TIME ZONE v_cfg.time_zone);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone));
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval));
    END IF;
    SELECT max(q.upper_coord) INTO v_newest FROM pgpart._partitions(p_parent) AS q WHERE NOT q.is_default;
    v_newest := greatest(v_newest, p_planned_upper);

    IF v_cfg.retention_max_bytes IS NULL AND v_cfg.retention_max_rows IS NULL THEN
        -- age alone: catalog only
        RETURN QUERY
        SELECT p.partition, p.lower_coord, p.upper_coord,
               format('age: older than %s', v_cfg.retention)
        FROM pgpart._partitions(p_parent) AS p
        WHERE
            NOT p.is_default
            AND NOT p.detach_pending
            AND p.upper_coord <= v_cutoff
            AND p.upper_coord < v_newest
        ORDER BY p.lower_coord;
        RETURN;
    END IF;

    -- volume rules: every partition but the default and those already
    -- detaching (retention is removing them) counts in the totals; the
    -- oldest eligible ones expire first
    FOR r IN
        SELECT p.partition, p.lower_coord, p.upper_coord, v.bytes, v.row_count,
               sum(v.bytes) OVER () AS total_bytes, sum(v.row_count) OVER () AS total_rows
        FROM pgpart._partitions(p_parent) AS p
        CROSS JOIN LATERAL pgpart._partition_volume(p.partition, p_timeout) AS v
        WHERE NOT p.is_default AND NOT p.detach_pending
        ORDER BY p.lower_coord
    LOOP
        IF v_total_bytes IS NULL THEN
            v_total_bytes := r.total_bytes;
            v_total_rows := r.total_rows;
        END IF;
        -- beyond these, nothing expires (partitions are in key order)
        EXIT WHEN r.upper_coord > v_now OR r.upper_coord >= v_newest;
        IF v_cfg.retention IS NOT NULL AND r.upper_coord <= v_cutoff THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('age: older than %s', v_cfg.retention);
        ELSIF v_total_bytes > v_cfg.retention_max_bytes THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('size: the partitions hold %s, more than retention_max_bytes %s',
                                       pg_size_pretty(v_total_bytes),
                                       pg_size_pretty(v_cfg.retention_max_bytes::numeric));
        ELSIF v_total_rows > v_cfg.retention_max_rows THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('rows: the partitions hold %s rows, more than retention_max_rows %s',
                                       v_total_rows, v_cfg.retention_max_rows);
        ELSE
            -- the rest fits every volume rule and stays fitting; age cannot
            -- expire a later partition (ranges ascend): done
            EXIT;
        END IF;
        -- what is left once this one is gone
        v_total_bytes := v_total_bytes - r.bytes;
        v_total_rows := v_total_rows - r.row_count;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._expiry(regclass, timestamptz, interval, numeric) IS
'Partitions of a managed parent that retention removes and the rule that expires each (age, size, rows); never the default, the newest, a detaching one or one holding now.';

-- pgpart._expired_partitions(parent, now_at, timeout, planned_upper): the
-- partitions retention removes (pgpart._expiry without the reason), for the
-- callers that only need which ones.
CREATE FUNCTION pgpart._expired_partitions(
    p_parent regclass, p_now_at timestamptz, p_timeout interval, p_planned_upper numeric DEFAULT NULL
)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT e.partition, e.lower_coord, e.upper_coord
    FROM pgpart._expiry(p_parent, p_now_at, p_timeout, p_planned_upper) AS e;
$body$;

COMMENT ON FUNCTION pgpart._expired_partitions(regclass, timestamptz, interval, numeric) IS
'Partitions of a managed parent whose whole range lies beyond its retention (never the default, the newest or a detaching one).';

-- pgpart._partition_volume(partition, timeout): the bytes (heap, TOAST and
-- indexes, every level of a sub-partitioned one) and rows of a partition,
-- for the volume rules of retention. Rows are the planner's count
-- (pg_class.reltuples, kept by autovacuum and ANALYZE), counted exactly only
-- for a table never analyzed, and only when counting runs no code of its
-- owner (no row-level security on it) and the caller may read it; else such
-- a table counts 0 rows (ANALYZE it). Each read waits at most TIMEOUT for
-- its lock (pg_total_relation_size waits behind an ACCESS EXCLUSIVE).
CREATE FUNCTION pgpart._partition_volume(p_partition regclass, p_timeout interval)
RETURNS TABLE (bytes bigint, row_count bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_column
DECLARE
    v_bytes bigint := 0::bigint;
    v_rows bigint := 0::bigint;
    v_n bigint;
    r record;
BEGIN
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOR r IN
        SELECT t.relid, c.reltuples, c.relrowsecurity
        FROM pg_partition_tree(p_partition) AS t
        JOIN pg_class AS c ON c.oid = t.relid
        WHERE t.isleaf AND c.relkind IN ('r', 'm')
    LOOP
        v_bytes := v_bytes + pg_total_relation_size(r.relid);
        IF r.reltuples >= 0 THEN
            v_rows := v_rows + r.reltuples::bigint;
        ELSIF NOT r.relrowsecurity AND has_table_privilege(r.relid, 'SELECT') THEN
            -- never analyzed (usually an empty new partition): count it (a
            -- plain count(*) runs no function of the table's owner)
            EXECUTE format('SELECT count(*) FROM ONLY %s', r.relid::regclass) INTO v_n;
            v_rows := v_rows + v_n;
        END IF;
    END LOOP;
    RETURN QUERY SELECT v_bytes, v_rows;
END
$body$;

COMMENT ON FUNCTION pgpart._partition_volume(regclass, interval) IS
'Bytes (heap, TOAST, indexes, all levels) and rows (planner count; exact when never analyzed) of a partition, for retention by size and rows; each lock waited for at most the timeout.';

-- pgpart._grace_until(parent, entry): when the archive or drop of the table
-- detached by retention journal ENTRY (a pgpart.log id) is due: the time of
-- its journaled detach plus the policy's retention_grace (read now: a
-- changed grace applies to tables already waiting). The journal is the
-- truth: no other record of the detach time is kept.
CREATE FUNCTION pgpart._grace_until(p_parent regclass, p_entry bigint)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT l.logged_at + coalesce(c.retention_grace, interval '0')
    FROM pgpart.log AS l
    LEFT JOIN pgpart.config AS c ON c.parent = p_parent
    WHERE l.id = p_entry AND l.parent = p_parent;
$body$;

COMMENT ON FUNCTION pgpart._grace_until(regclass, bigint) IS
'When the archive or drop of a table detached by retention is due: its journaled detach time plus the policy''s grace period.';

-- pgpart._validated_retention_rules(policy, max_bytes, max_rows, grace):
-- POLICY with the volume rules and grace period of retention set as asked
-- (NULL keeps a value; 0, or a zero interval, clears it), each checked
-- (22023 naming the value) before anything is written. Only for RANGE
-- policies: list and hash partitions have no order to expire by.
CREATE FUNCTION pgpart._validated_retention_rules(
    p_policy pgpart.config, p_max_bytes bigint, p_max_rows bigint, p_grace interval
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_new pgpart.config := p_policy;
BEGIN
    IF (p_max_bytes IS NOT NULL OR p_max_rows IS NOT NULL OR p_grace IS NOT NULL) AND v_new.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('retention rules do not apply to %s partitions of table %s', upper(v_new.strategy),
                             v_new.parent),
            DETAIL = 'Retention expires the oldest RANGE partitions; LIST and HASH partitions have no age.',
            HINT = 'Leave retention_max_bytes, retention_max_rows and retention_grace out here.';
    END IF;
    IF p_max_bytes < 0 OR p_max_rows < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %s for table %s',
                             CASE WHEN p_max_bytes < 0 THEN 'retention_max_bytes' ELSE 'retention_max_rows' END,
                             CASE WHEN p_max_bytes < 0 THEN p_max_bytes ELSE p_max_rows END, v_new.parent),
            DETAIL = 'A volume limit is a positive number.',
            HINT = 'Pass a positive limit, or 0 to clear the rule.';
    END IF;
    IF p_grace < interval '0' OR isfinite(p_grace) IS false THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid retention_grace %s for table %s', p_grace, v_new.parent),
            DETAIL = 'A grace period is a finite, positive interval.',
            HINT = 'Pass e.g. retention_grace => ''7 days'', or ''0'' to clear it.';
    END IF;
    IF p_max_bytes IS NOT NULL THEN
        v_new.retention_max_bytes := nullif(p_max_bytes, 0);
    END IF;
    IF p_max_rows IS NOT NULL THEN
        v_new.retention_max_rows := nullif(p_max_rows, 0);
    END IF;
    IF p_grace IS NOT NULL THEN
        v_new.retention_grace := nullif(p_grace, interval '0');
    END IF;
    RETURN v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._validated_retention_rules(pgpart.config, bigint, bigint, interval) IS
'A policy row with the retention volume rules and grace period set as asked (0 clears), each validated (22023).';
