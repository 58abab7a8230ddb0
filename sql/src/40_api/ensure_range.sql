-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan.
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
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_interval text;
    v_policy text;
    v_last bigint;
    v_old pgpart.config;
BEGIN
    PERFORM pgpart._require_owner($1);
    PERFORM pgpart._check_args($12, $13, $14);
    v_interval := coalesce($2, (SELECT c.partition_interval FROM pgpart.config AS c WHERE c.parent = $1));
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', $1),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.';
    END IF;
    -- the policy values are validated before anything, dry run or not
    SELECT c.* INTO v_old FROM pgpart.config AS c WHERE c.parent = $1;
    IF v_old.parent IS NULL THEN
        v_old.parent := $1;
        v_old.strategy := 'range';
        v_old.key_type := (pgpart._range_key($1)).key_type;
    END IF;
    PERFORM pgpart._merge_policy(v_old, $4, $5, $6, $7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    v_policy := concat_ws(', ', format('%L::regclass', $1::text),
                          'retention => ' || quote_literal($4), 'retention_action => ' || quote_literal($5),
                          'archive_schema => ' || quote_literal($6), 'archive_tablespace => ' || quote_literal($7));
    IF $15 THEN
        RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
            $1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, true);
        IF num_nonnulls($4, $5, $6, $7) > 0 THEN
            SELECT count(*) INTO v_last
            FROM pgpart.create_range_partitions($1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, true);
            RETURN NEXT ROW((v_last + 1)::integer, NULL, NULL, NULL, 'set policy', format('SELECT pgpart.set_policy(%s)', v_policy),
                            'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
        $1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, false);
    IF num_nonnulls($4, $5, $6, $7) > 0 THEN
        PERFORM pgpart.set_policy($1, retention => $4, retention_action => $5, archive_schema => $6,
                                  archive_tablespace => $7);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive) and creates the missing partitions, in one transaction. NULL keeps what is configured.';
