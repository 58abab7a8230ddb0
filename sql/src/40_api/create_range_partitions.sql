-- pgpart.create_range_partitions(parent, interval, ...): creates the
-- partitions of a RANGE-partitioned table that its grid says should exist
-- now: the slot holding NOW_AT (for integer keys, the highest key value)
-- plus PREMAKE ahead, and any gap after the lowest existing partition.
-- Registers or updates the policy. Idempotent. Each partition is built
-- detached (indexes, owner) and then ATTACHed, so the parent is only ever
-- locked SHARE UPDATE EXCLUSIVE (DESIGN §3). With DRY_RUN, returns the plan.
-- With SUBPARTITION (kept in the policy) each new partition is itself
-- partitioned by hash or list and filled before it is attached. MAX_NEW
-- bounds a call (the slot of now and what follows first, then the most
-- recent gaps, as many as fit with their sub-partitions); without it more
-- than 200 new tables (partitions, sub-partitions, a default) are refused
-- (54000, pgpart._max_new_tables), and so is a premake above 1000 (22023).
-- EPOCH_UNIT ('s', 'ms', 'us'; kept in the policy) declares an integer key
-- holding Unix time, gridded as a timestamptz; a uuid key (UUIDv7) is
-- gridded by time without it (pgpart._key_clock).
CREATE FUNCTION pgpart.create_range_partitions(
    parent regclass,
    "interval" text,
    premake integer DEFAULT NULL,
    start text DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    tablespace name DEFAULT NULL,
    default_partition boolean DEFAULT false,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_interval ALIAS FOR "interval";
    p_premake ALIAS FOR premake;
    p_start ALIAS FOR start;
    p_time_zone ALIAS FOR time_zone;
    p_origin ALIAS FOR origin;
    p_tablespace ALIAS FOR tablespace;
    p_default_partition ALIAS FOR default_partition;
    p_reloptions ALIAS FOR reloptions;
    p_now_at ALIAS FOR now_at;
    p_subpartition ALIAS FOR subpartition;
    p_max_new ALIAS FOR max_new;
    p_epoch_unit ALIAS FOR epoch_unit;
    v_target pgpart._target;
    v_steps pgpart.step [];
BEGIN
    -- prepare → plan → apply (docs/architecture.md). A real run is locked
    -- before it is planned: SHARE UPDATE EXCLUSIVE on the parent excludes
    -- any other ATTACH, DETACH or CREATE ... PARTITION OF until we commit,
    -- so the plan cannot go stale.
    IF p_premake IS NOT NULL THEN
        PERFORM pgpart._check_premake(p_premake, p_parent);  -- before any lock (the planner checks the policy's)
    END IF;
    v_target := pgpart._prepare(p_parent, 'range', p_lock_timeout, p_lock_retries, p_now_at, p_tablespace,
                                p_lock => NOT p_dry_run);
    v_steps := array(SELECT s FROM pgpart._plan_range(
            v_target, p_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions,
            p_subpartition, p_max_new, p_epoch_unit => p_epoch_unit) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart._apply_range(v_target, v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart.create_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, integer, timestamptz, boolean, jsonb, integer, text) IS
'Creates the missing range partitions of PARENT (the slot of now_at plus premake ahead, and gaps), each built detached and then attached under short lock timeouts; registers the policy. dry_run returns the plan.';
