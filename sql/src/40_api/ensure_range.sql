-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan. It takes every
-- argument create_range_partitions takes (START, RELOPTIONS, SUBPARTITION,
-- MAX_NEW, EPOCH_UNIT) and passes them on, so no caller has to compose the
-- two verbs. RETENTION_MAX_BYTES, RETENTION_MAX_ROWS and RETENTION_GRACE as
-- set_policy takes them (0 clears).
CREATE FUNCTION pgpart.ensure_range(
    parent regclass,
    "interval" text DEFAULT NULL,
    premake integer DEFAULT NULL,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    default_partition boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    start text DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    retention_max_bytes bigint DEFAULT NULL,
    retention_max_rows bigint DEFAULT NULL,
    retention_grace interval DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_interval ALIAS FOR "interval";
    p_premake ALIAS FOR premake;
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_time_zone ALIAS FOR time_zone;
    p_origin ALIAS FOR origin;
    p_default_partition ALIAS FOR default_partition;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    p_start ALIAS FOR start;
    p_reloptions ALIAS FOR reloptions;
    p_subpartition ALIAS FOR subpartition;
    p_max_new ALIAS FOR max_new;
    p_epoch_unit ALIAS FOR epoch_unit;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_retention_max_bytes ALIAS FOR retention_max_bytes;
    p_retention_max_rows ALIAS FOR retention_max_rows;
    p_retention_grace ALIAS FOR retention_grace;
    v_target pgpart._target;
    v_interval text;
    v_old pgpart.config;
    v_new pgpart.config;
    v_steps pgpart.step [];
    v_lifecycle boolean := num_nonnulls(p_retention, p_retention_action, p_archive_schema, p_archive_tablespace,
                                        p_drain_default, p_drain_default_max_bytes, p_retention_max_bytes,
                                        p_retention_max_rows, p_retention_grace) > 0;
BEGIN
    -- prepare → validate the lifecycle values → lock (a real run) → plan →
    -- apply → write the lifecycle values: each check, the lock list, the
    -- locks, the policy merge and the plan happen once (docs/architecture.md)
    IF p_premake IS NOT NULL THEN
        PERFORM pgpart._check_premake(p_premake, p_parent);  -- before any lock (the planner checks the policy's)
    END IF;
    v_target := pgpart._prepare(p_parent, 'range', p_lock_timeout, p_lock_retries, p_now_at, p_tablespace);
    v_interval := coalesce(p_interval, (v_target.policy).partition_interval);
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', p_parent),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.',
            SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
    END IF;
    -- the lifecycle values are validated before anything, dry run or not
    v_old := v_target.policy;
    IF v_old.parent IS NULL THEN
        v_old.parent := p_parent;
        v_old.strategy := 'range';
        v_old.key_type := v_target.key_type;
    END IF;
    -- retention is read by the key's clock: an epoch unit given counts (the
    -- planner checks it)
    v_old.epoch_unit := coalesce(p_epoch_unit, v_old.epoch_unit);
    v_new := pgpart._validated_policy(v_old, retention => p_retention, retention_action => p_retention_action,
                                      archive_schema => p_archive_schema, archive_tablespace => p_archive_tablespace,
                                      drain_default => p_drain_default,
                                      drain_default_max_bytes => p_drain_default_max_bytes);
    -- retention by size and rows, and its grace period (0 clears each)
    v_new := pgpart._validated_retention_rules(v_new, p_retention_max_bytes, p_retention_max_rows, p_retention_grace);
    IF NOT p_dry_run THEN
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_steps := array(SELECT s FROM pgpart._plan_range(
            v_target, v_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions,
            p_subpartition, p_max_new, p_epoch_unit => p_epoch_unit) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        IF v_lifecycle THEN
            RETURN NEXT ROW(
                coalesce(cardinality(v_steps), 0) + 1, NULL, NULL, NULL, 'set policy',
                format('SELECT pgpart.set_policy(%s)',
                       concat_ws(', ', format('%L::regclass', p_parent::text),
                                 'retention => ' || quote_literal(p_retention),
                                 'retention_action => ' || quote_literal(p_retention_action),
                                 'archive_schema => ' || quote_literal(p_archive_schema),
                                 'archive_tablespace => ' || quote_literal(p_archive_tablespace),
                                 'drain_default => ' || p_drain_default,
                                 'drain_default_max_bytes => ' || p_drain_default_max_bytes,
                                 'retention_max_bytes => ' || p_retention_max_bytes,
                                 'retention_max_rows => ' || p_retention_max_rows,
                                 'retention_grace => ' || quote_literal(p_retention_grace))),
                'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    -- logged as create_range_partitions (and set_policy below), as the two
    -- verbs ensure_range declares would log them
    RETURN QUERY SELECT * FROM pgpart._apply_range(v_target, v_steps);
    IF v_lifecycle THEN
        PERFORM pgpart._write_policy_change(v_old, v_new);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(
    regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean,
    text, text[], jsonb, integer, text, boolean, bigint, bigint, bigint, interval
) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive, sub-partitioning) and creates the missing partitions, in one transaction; takes every argument of create_range_partitions. NULL keeps what is configured.';
