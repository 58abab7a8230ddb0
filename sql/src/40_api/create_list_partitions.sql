-- pgpart.create_list_partitions(parent, values, ...): the partitions of a
-- LIST-partitioned table: one per value (a JSON array, or a text[]), or one
-- per named group of values (a JSON object {"eu": ["de", "fr"], ...}).
-- Idempotent: a partition holding exactly the requested values is kept;
-- new values and groups are added. A value another partition holds: 42P17
-- naming it. More values for an existing group: 0A000 (see
-- pgpart.add_list_values, an explicitly blocking operation). Each partition
-- is built detached and attached (DESIGN §3); a default partition holding
-- rows of a new value refuses the call (23514).
CREATE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" jsonb,
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_values ALIAS FOR "values";
    p_default_partition ALIAS FOR default_partition;
    p_tablespace ALIAS FOR tablespace;
    p_reloptions ALIAS FOR reloptions;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_target pgpart._target;
    v_steps pgpart.step [];
    v_created jsonb;
BEGIN
    -- prepare → plan → apply (docs/architecture.md); bounded before any lock
    -- is taken or any value read (54000); a real run plans under its locks
    PERFORM pgpart._check_list_size(p_parent, p_values, 'the list request for table');
    v_target := pgpart._prepare(p_parent, 'list', p_lock_timeout, p_lock_retries, now(), p_tablespace,
                                p_lock => NOT p_dry_run);
    v_steps := array(SELECT s FROM pgpart._plan_list(v_target, p_values, p_default_partition, p_reloptions) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created FROM unnest(v_steps) AS s WHERE s.action = 'attach';
    PERFORM pgpart._apply(v_target, v_steps, 'create_list_partitions',
                          CASE WHEN v_created IS NOT NULL THEN jsonb_build_object('created', v_created) END);
    RETURN QUERY
    SELECT s.step, s.partition, s.lower_bound, s.upper_bound, 'created', s.statement, s.locks, s.top_level
    FROM unnest(v_steps) AS s WHERE s.action = 'attach' ORDER BY s.step;
END
$body$;

COMMENT ON FUNCTION pgpart.create_list_partitions(regclass, jsonb, boolean, name, text[], interval, integer, boolean) IS
'Creates the LIST partitions of PARENT: one per value of a JSON array, or one per group of a JSON object; idempotent, each built detached then attached; registers the policy. dry_run returns the plan.';

-- pgpart.create_list_partitions(parent, values text[], ...): the same for
-- single values given as a text array (NULL elements included).
CREATE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" text[],
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT * FROM pgpart.create_list_partitions(
        parent, to_jsonb("values"), default_partition, tablespace, reloptions, lock_timeout, lock_retries, dry_run);
$body$;

COMMENT ON FUNCTION pgpart.create_list_partitions(regclass, text[], boolean, name, text[], interval, integer, boolean) IS
'Creates one LIST partition per value of a text array (see the jsonb form).';
