-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan. It takes every
-- argument create_range_partitions takes (START, RELOPTIONS, SUBPARTITION,
-- MAX_NEW) and passes them on, so no caller has to compose the two verbs.
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
    max_new integer DEFAULT NULL
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
    v_interval text;
    v_policy text;
    v_last bigint;
    v_old pgpart.config;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_args(p_lock_timeout, p_lock_retries, p_now_at);
    v_interval := coalesce(p_interval, (SELECT c.partition_interval FROM pgpart.config AS c WHERE c.parent = p_parent));
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', p_parent),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.';
    END IF;
    -- the policy values are validated before anything, dry run or not
    SELECT c.* INTO v_old FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_old.parent IS NULL THEN
        v_old.parent := p_parent;
        v_old.strategy := 'range';
        v_old.key_type := (pgpart._range_key(p_parent)).key_type;
    END IF;
    PERFORM pgpart._merge_policy(v_old, retention => p_retention, retention_action => p_retention_action,
                                 archive_schema => p_archive_schema, archive_tablespace => p_archive_tablespace);
    v_policy := concat_ws(', ', format('%L::regclass', p_parent::text),
                          'retention => ' || quote_literal(p_retention),
                          'retention_action => ' || quote_literal(p_retention_action),
                          'archive_schema => ' || quote_literal(p_archive_schema),
                          'archive_tablespace => ' || quote_literal(p_archive_tablespace));
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
            p_parent, v_interval, premake => p_premake, start => p_start, time_zone => p_time_zone, origin => p_origin,
            tablespace => p_tablespace, default_partition => p_default_partition, reloptions => p_reloptions,
            lock_timeout => p_lock_timeout, lock_retries => p_lock_retries, now_at => p_now_at,
            dry_run => true, subpartition => p_subpartition, max_new => p_max_new);
        IF num_nonnulls(p_retention, p_retention_action, p_archive_schema, p_archive_tablespace) > 0 THEN
            SELECT count(*) INTO v_last
            FROM pgpart.create_range_partitions(
                p_parent, v_interval, premake => p_premake, start => p_start, time_zone => p_time_zone, origin => p_origin,
                tablespace => p_tablespace, default_partition => p_default_partition, reloptions => p_reloptions,
                lock_timeout => p_lock_timeout, lock_retries => p_lock_retries, now_at => p_now_at,
                dry_run => true, subpartition => p_subpartition, max_new => p_max_new);
            RETURN NEXT ROW((v_last + 1)::integer, NULL, NULL, NULL, 'set policy', format('SELECT pgpart.set_policy(%s)', v_policy),
                            'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
        p_parent, v_interval, premake => p_premake, start => p_start, time_zone => p_time_zone, origin => p_origin,
        tablespace => p_tablespace, default_partition => p_default_partition, reloptions => p_reloptions,
        lock_timeout => p_lock_timeout, lock_retries => p_lock_retries, now_at => p_now_at,
        dry_run => false, subpartition => p_subpartition, max_new => p_max_new);
    IF num_nonnulls(p_retention, p_retention_action, p_archive_schema, p_archive_tablespace) > 0 THEN
        PERFORM pgpart.set_policy(p_parent, retention => p_retention, retention_action => p_retention_action,
                                  archive_schema => p_archive_schema, archive_tablespace => p_archive_tablespace);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(
    regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean,
    text, text[], jsonb, integer
) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive, sub-partitioning) and creates the missing partitions, in one transaction; takes every argument of create_range_partitions. NULL keeps what is configured.';
