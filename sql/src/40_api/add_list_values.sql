-- pgpart.add_list_values(partition, values, ...): adds values to an existing
-- LIST partition. PostgreSQL cannot change a bound in place, so this is an
-- EXPLICITLY BLOCKING operation, in one short transaction:
--   1. lock the parent, the default partition and the partition ACCESS
--      EXCLUSIVE (under the lock timeout, with retries): every query on the
--      parent waits until commit;
--   2. give the partition a validated CHECK (key IS NOT NULL AND key IN
--      (old and new values)) - this scans the partition, under the lock;
--   3. DETACH it and ATTACH it again with the new bound: the CHECK implies the
--      bound, so ATTACH does not scan it again; drop the CHECK.
-- The IS NOT NULL matters: without it PostgreSQL does not see that the CHECK
-- implies a bound on a nullable key (verified), and would scan.
-- prepare → lock → plan (pgpart._list_values_to_add, _plan_list_values) →
-- apply, as every verb.
CREATE FUNCTION pgpart.add_list_values(
    partition regclass,
    "values" jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_partition ALIAS FOR partition;
    p_values ALIAS FOR "values";
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parent regclass;
    v_key record;
    v_target pgpart._target;
    v_values record;
    v_steps pgpart.step [];
BEGIN
    SELECT i.inhparent::regclass INTO v_parent FROM pg_inherits AS i WHERE i.inhrelid = p_partition;
    IF v_parent IS NULL THEN
        -- argument errors come first, as for every verb (pgpart._prepare)
        PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', p_partition),
            HINT = 'Pass a partition of a LIST-partitioned table.';
    END IF;
    -- prepare (owner, lock arguments, the locks of a detach of p_partition)
    -- → the LIST key → bounded values (54000) → lock → plan → apply
    v_target := pgpart._prepare(v_parent, NULL, p_lock_timeout, p_lock_retries, now(), p_detaching => p_partition);
    v_key := pgpart._key_of(v_parent, 'l');
    v_target.strategy := 'list';
    v_target.key_column := v_key.key_column;
    v_target.key_type := v_key.key_type;
    v_target.key_format := v_key.key_format;
    PERFORM pgpart._check_list_size(v_parent, p_values, 'the values to add to table');
    IF NOT p_dry_run THEN
        -- lock first: the bound read by the plan must not change before the re-attach
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_values := pgpart._list_values_to_add(v_target, p_partition, p_values);
    v_steps := array(SELECT s FROM pgpart._plan_list_values(v_target, p_partition, v_values.old_values,
                                                            v_values.new_values) AS s);
    IF NOT p_dry_run AND cardinality(v_steps) > 0 THEN
        PERFORM pgpart._apply(v_target, v_steps, 'add_list_values',
                              jsonb_build_object('partition', p_partition::text, 'added', to_jsonb(v_values.new_values)));
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart.add_list_values(regclass, jsonb, interval, integer, boolean) IS
'Adds values to a LIST partition: an explicitly blocking operation (ACCESS EXCLUSIVE on the parent for one short transaction; a validated CHECK spares the re-attach its scan). dry_run returns the plan.';
