-- pgpart.set_policy(parent, ...) changes the policy of a managed parent
-- (values validated by pgpart._validated_policy, written by
-- pgpart._write_policy_change). A NULL argument keeps what is configured;
-- retention => 'none' clears the retention, and an empty name clears
-- archive_schema, archive_tablespace or tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing. DRY_RUN returns
-- the policy row as the call would leave it, and writes nothing. EPOCH_UNIT
-- declares (or changes) the Unix time unit of an integer range key; refused
-- (22023) once the parent has partitions, whose bounds were computed in the
-- configured unit. RETENTION_MAX_BYTES / RETENTION_MAX_ROWS keep at most
-- that volume in the partitions, the oldest expiring first (0 clears the
-- rule); RETENTION_GRACE keeps an expired partition detached that long
-- before its archive or drop ('0' clears it). A partition expires if any
-- rule expires it (pgpart._expiry).
CREATE FUNCTION pgpart.set_policy(
    parent regclass,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL,
    dry_run boolean DEFAULT false,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    retention_max_bytes bigint DEFAULT NULL,
    retention_max_rows bigint DEFAULT NULL,
    retention_grace interval DEFAULT NULL
)
RETURNS SETOF pgpart.config
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_premake ALIAS FOR premake;
    p_automatic_maintenance ALIAS FOR automatic_maintenance;
    p_analyze_after ALIAS FOR analyze_after;
    p_referenced_retention ALIAS FOR referenced_retention;
    p_reconcile ALIAS FOR reconcile;
    p_propagate_grants ALIAS FOR propagate_grants;
    p_move_large_bytes ALIAS FOR move_large_bytes;
    p_dry_run ALIAS FOR dry_run;
    p_epoch_unit ALIAS FOR epoch_unit;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_retention_max_bytes ALIAS FOR retention_max_bytes;
    p_retention_max_rows ALIAS FOR retention_max_rows;
    p_retention_grace ALIAS FOR retention_grace;
    v_target pgpart._target;
    v_new pgpart.config;
BEGIN
    -- prepare (owner, a policy to change) → validate every value → write
    v_target := pgpart._prepare(p_parent, NULL, p_managed => true);
    v_new := pgpart._validated_policy(
        v_target.policy, p_retention, p_retention_action, p_archive_schema, p_archive_tablespace, p_tablespace,
        p_premake, p_automatic_maintenance, p_analyze_after, p_referenced_retention, p_reconcile, p_propagate_grants,
        p_move_large_bytes, p_drain_default, p_drain_default_max_bytes);
    IF p_epoch_unit IS NOT NULL THEN
        IF v_target.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('epoch_unit does not apply to %s partitions of table %s', upper(v_target.strategy),
                                 p_parent),
                HINT = 'An epoch unit grids an integer RANGE key by time; leave it out here.',
                SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
        END IF;
        v_new.epoch_unit := pgpart._check_epoch_unit(
            p_parent, v_new.key_type, p_epoch_unit,
            EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhparent = p_parent), v_new.epoch_unit);
        -- a retention is read by the key's clock: a distance of key values
        -- is no time (22023)
        PERFORM pgpart._validated_policy(v_new, retention => v_new.retention);
    END IF;
    v_new := pgpart._validated_retention_rules(v_new, p_retention_max_bytes, p_retention_max_rows,
                                                p_retention_grace);
    IF p_dry_run THEN
        RETURN NEXT v_new;  -- the row as it would be, nothing written
        RETURN;
    END IF;
    RETURN NEXT pgpart._write_policy_change(v_target.policy, v_new);
END
$body$;

COMMENT ON FUNCTION pgpart.set_policy(
    regclass, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint, boolean, text,
    boolean, bigint, bigint, bigint, interval
) IS
'Changes the lifecycle policy of a managed parent (retention by age, size, rows and its grace period, archive schema and tablespace, premake, maintenance switches); NULL keeps a value. Returns the policy row (with dry_run: as it would be, nothing written).';
