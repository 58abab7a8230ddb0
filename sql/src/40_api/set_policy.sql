-- pgpart._merge_policy(old, ...) validates policy values and merges them into
-- a policy row; pgpart.set_policy(parent, ...) changes the policy of a managed
-- parent. A NULL argument keeps what is configured; retention => 'none'
-- clears the retention, and an empty name clears archive_schema,
-- archive_tablespace or tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing.
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
    move_large_bytes bigint DEFAULT NULL
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
    v_old pgpart.config;
    v_new pgpart.config;
BEGIN
    v_old := pgpart._managed(p_parent);
    v_new := pgpart._merge_policy(
        v_old, p_retention, p_retention_action, p_archive_schema, p_archive_tablespace, p_tablespace, p_premake,
        p_automatic_maintenance, p_analyze_after, p_referenced_retention, p_reconcile, p_propagate_grants,
        p_move_large_bytes);
    IF v_new IS DISTINCT FROM v_old THEN
        UPDATE pgpart.config AS c SET
            retention = v_new.retention,
            retention_action = v_new.retention_action,
            archive_schema = v_new.archive_schema,
            archive_tablespace = v_new.archive_tablespace,
            tablespace = v_new.tablespace,
            premake = v_new.premake,
            automatic_maintenance = v_new.automatic_maintenance,
            analyze_after = v_new.analyze_after,
            referenced_retention = v_new.referenced_retention,
            reconcile = v_new.reconcile,
            propagate_grants = v_new.propagate_grants,
            move_large_bytes = v_new.move_large_bytes,
            updated_at = now()
        WHERE c.parent = p_parent
        RETURNING * INTO v_new;
        PERFORM pgpart._log(p_parent, 'set_policy', 'ok', jsonb_build_object('old', to_jsonb(v_old), 'new', to_jsonb(v_new)));
    END IF;
    RETURN NEXT v_new;
END
$body$;

COMMENT ON FUNCTION pgpart.set_policy(regclass, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint) IS
'Changes the lifecycle policy of a managed parent (retention, archive schema and tablespace, premake, maintenance switches); NULL keeps a value. Returns the policy row.';
