-- pgpart._register_range_policy(...): registers or updates the range policy of
-- PARENT in pgpart.config. Row-level security lets a role write only the
-- policy of tables it owns; the author is recorded so that maintenance can
-- re-check it (DESIGN §6).
CREATE FUNCTION pgpart._register_range_policy(
    p_parent regclass,
    p_key_column name,
    p_key_type regtype,
    p_interval text,
    p_origin text,
    p_time_zone text,
    p_premake integer,
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL,
    -- the epoch unit of an integer key ('s', 'ms', 'us'), NULL for others
    p_epoch_unit text DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.config AS c (
        parent, strategy, key_column, key_type, partition_interval, grid_origin,
        time_zone, premake, tablespace, reloptions, subpartition, policy_author, epoch_unit
    )
    VALUES (
        p_parent, 'range', p_key_column, p_key_type, p_interval, p_origin,
        p_time_zone, p_premake, p_tablespace, p_reloptions, p_subpartition, current_user, p_epoch_unit
    )
    ON CONFLICT (parent) DO UPDATE SET
        strategy = excluded.strategy,
        key_column = excluded.key_column,
        key_type = excluded.key_type,
        partition_interval = excluded.partition_interval,
        grid_origin = excluded.grid_origin,
        time_zone = excluded.time_zone,
        premake = excluded.premake,
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        subpartition = excluded.subpartition,
        policy_author = excluded.policy_author,
        epoch_unit = excluded.epoch_unit,
        updated_at = now()
    WHERE (
        c.strategy, c.key_column, c.key_type, c.partition_interval, c.grid_origin,
        c.time_zone, c.premake, c.tablespace, c.reloptions, c.subpartition, c.policy_author, c.epoch_unit
    )
    IS DISTINCT FROM
    (
        excluded.strategy, excluded.key_column, excluded.key_type, excluded.partition_interval,
        excluded.grid_origin, excluded.time_zone, excluded.premake, excluded.tablespace,
        excluded.reloptions, excluded.subpartition, excluded.policy_author, excluded.epoch_unit
    );
END;

COMMENT ON FUNCTION pgpart._register_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb, text) IS
'Registers or updates the range policy of a parent in pgpart.config.';

-- pgpart._register_list_hash_policy(parent, strategy, key, type, tablespace,
-- reloptions): registers or updates the policy row of a LIST or HASH parent.
CREATE FUNCTION pgpart._register_list_hash_policy(
    p_parent regclass,
    p_strategy text,
    p_key_column name,
    p_key_type regtype,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    INSERT INTO pgpart.config AS c (parent, strategy, key_column, key_type, tablespace, reloptions, policy_author)
    VALUES (p_parent, p_strategy, p_key_column, p_key_type, p_tablespace, p_reloptions, current_user)
    ON CONFLICT (parent) DO UPDATE SET
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        updated_at = now()
    WHERE (c.tablespace, c.reloptions) IS DISTINCT FROM (excluded.tablespace, excluded.reloptions);
$body$;

COMMENT ON FUNCTION pgpart._register_list_hash_policy(regclass, text, name, regtype, name, text[]) IS
'Registers or updates the policy row of a LIST or HASH parent.';

-- pgpart._write_policy_change(old, new): writes into the policy row of the
-- parent the lifecycle values in which NEW (pgpart._validated_policy of OLD)
-- differs from OLD, onto the row as it is now (locked FOR UPDATE: a verb may
-- have registered or changed the row since OLD was read), and logs
-- set_policy with the row before and after. Returns the row. Values are
-- validated before (pgpart._validated_policy): this only writes.
CREATE FUNCTION pgpart._write_policy_change(p_old pgpart.config, p_new pgpart.config)
RETURNS pgpart.config
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cur pgpart.config;
    v_res pgpart.config;
BEGIN
    SELECT * INTO v_cur FROM pgpart.config AS c WHERE c.parent = p_new.parent FOR UPDATE;
    v_res := v_cur;
    IF p_new.retention IS DISTINCT FROM p_old.retention THEN
        v_res.retention := p_new.retention;
    END IF;
    IF p_new.retention_action IS DISTINCT FROM p_old.retention_action THEN
        v_res.retention_action := p_new.retention_action;
    END IF;
    IF p_new.archive_schema IS DISTINCT FROM p_old.archive_schema THEN
        v_res.archive_schema := p_new.archive_schema;
    END IF;
    IF p_new.archive_tablespace IS DISTINCT FROM p_old.archive_tablespace THEN
        v_res.archive_tablespace := p_new.archive_tablespace;
    END IF;
    IF p_new.tablespace IS DISTINCT FROM p_old.tablespace THEN
        v_res.tablespace := p_new.tablespace;
    END IF;
    IF p_new.premake IS DISTINCT FROM p_old.premake THEN
        v_res.premake := p_new.premake;
    END IF;
    IF p_new.automatic_maintenance IS DISTINCT FROM p_old.automatic_maintenance THEN
        v_res.automatic_maintenance := p_new.automatic_maintenance;
    END IF;
    IF p_new.analyze_after IS DISTINCT FROM p_old.analyze_after THEN
        v_res.analyze_after := p_new.analyze_after;
    END IF;
    IF p_new.referenced_retention IS DISTINCT FROM p_old.referenced_retention THEN
        v_res.referenced_retention := p_new.referenced_retention;
    END IF;
    IF p_new.reconcile IS DISTINCT FROM p_old.reconcile THEN
        v_res.reconcile := p_new.reconcile;
    END IF;
    IF p_new.propagate_grants IS DISTINCT FROM p_old.propagate_grants THEN
        v_res.propagate_grants := p_new.propagate_grants;
    END IF;
    IF p_new.move_large_bytes IS DISTINCT FROM p_old.move_large_bytes THEN
        v_res.move_large_bytes := p_new.move_large_bytes;
    END IF;
    IF p_new.epoch_unit IS DISTINCT FROM p_old.epoch_unit THEN
        v_res.epoch_unit := p_new.epoch_unit;
    END IF;
    IF p_new.drain_default IS DISTINCT FROM p_old.drain_default THEN
        v_res.drain_default := p_new.drain_default;
    END IF;
    IF p_new.drain_default_max_bytes IS DISTINCT FROM p_old.drain_default_max_bytes THEN
        v_res.drain_default_max_bytes := p_new.drain_default_max_bytes;
    END IF;
    IF p_new.retention_max_bytes IS DISTINCT FROM p_old.retention_max_bytes THEN
        v_res.retention_max_bytes := p_new.retention_max_bytes;
    END IF;
    IF p_new.retention_max_rows IS DISTINCT FROM p_old.retention_max_rows THEN
        v_res.retention_max_rows := p_new.retention_max_rows;
    END IF;
    IF p_new.retention_grace IS DISTINCT FROM p_old.retention_grace THEN
        v_res.retention_grace := p_new.retention_grace;
    END IF;
    IF v_res IS DISTINCT FROM v_cur THEN
        UPDATE pgpart.config AS c SET
            retention = v_res.retention,
            retention_action = v_res.retention_action,
            archive_schema = v_res.archive_schema,
            archive_tablespace = v_res.archive_tablespace,
            tablespace = v_res.tablespace,
            premake = v_res.premake,
            automatic_maintenance = v_res.automatic_maintenance,
            analyze_after = v_res.analyze_after,
            referenced_retention = v_res.referenced_retention,
            reconcile = v_res.reconcile,
            propagate_grants = v_res.propagate_grants,
            move_large_bytes = v_res.move_large_bytes,
            epoch_unit = v_res.epoch_unit,
            drain_default = v_res.drain_default,
            drain_default_max_bytes = v_res.drain_default_max_bytes,
            retention_max_bytes = v_res.retention_max_bytes,
            retention_max_rows = v_res.retention_max_rows,
            retention_grace = v_res.retention_grace,
            updated_at = now()
        WHERE c.parent = v_cur.parent
        RETURNING * INTO v_res;
        PERFORM pgpart._log(v_cur.parent, 'set_policy', 'ok',
                            jsonb_build_object('old', to_jsonb(v_cur), 'new', to_jsonb(v_res)));
    END IF;
    RETURN v_res;
END
$body$;

COMMENT ON FUNCTION pgpart._write_policy_change(pgpart.config, pgpart.config) IS
'Writes the lifecycle values in which a validated policy row differs from the old one into the current row, and logs set_policy (internal).';

-- pgpart._save_range_policy(...) and pgpart._save_policy(...): the names
-- the "register policy" step of plans returned before 0.2.0 calls (plan
-- texts are API for plans already returned, docs/architecture.md); they do
-- what the renamed functions do.
CREATE FUNCTION pgpart._save_range_policy(
    p_parent regclass,
    p_key_column name,
    p_key_type regtype,
    p_interval text,
    p_origin text,
    p_time_zone text,
    p_premake integer,
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._register_range_policy(p_parent, p_key_column, p_key_type, p_interval, p_origin, p_time_zone,
                                         p_premake, p_tablespace, p_reloptions, p_subpartition);
$body$;

COMMENT ON FUNCTION pgpart._save_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb) IS
'Former name of pgpart._register_range_policy, kept for plans returned before 0.2.0 (internal).';

CREATE FUNCTION pgpart._save_policy(
    p_parent regclass,
    p_strategy text,
    p_key_column name,
    p_key_type regtype,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._register_list_hash_policy(p_parent, p_strategy, p_key_column, p_key_type, p_tablespace,
                                             p_reloptions);
$body$;

COMMENT ON FUNCTION pgpart._save_policy(regclass, text, name, regtype, name, text[]) IS
'Former name of pgpart._register_list_hash_policy, kept for plans returned before 0.2.0 (internal).';
