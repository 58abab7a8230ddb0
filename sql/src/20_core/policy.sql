-- pgpart._save_range_policy(...): registers or updates the range policy of
-- PARENT in pgpart.config. Row-level security lets a role write only the
-- policy of tables it owns; the author is recorded so that maintenance can
-- re-check it (DESIGN §6).
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
BEGIN ATOMIC
    INSERT INTO pgpart.config AS c (
        parent, strategy, key_column, key_type, partition_interval, grid_origin,
        time_zone, premake, tablespace, reloptions, subpartition, policy_author
    )
    VALUES (
        p_parent, 'range', p_key_column, p_key_type, p_interval, p_origin,
        p_time_zone, p_premake, p_tablespace, p_reloptions, p_subpartition, current_user
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
        updated_at = now()
    WHERE (
        c.strategy, c.key_column, c.key_type, c.partition_interval, c.grid_origin,
        c.time_zone, c.premake, c.tablespace, c.reloptions, c.subpartition, c.policy_author
    )
    IS DISTINCT FROM
    (
        excluded.strategy, excluded.key_column, excluded.key_type, excluded.partition_interval,
        excluded.grid_origin, excluded.time_zone, excluded.premake, excluded.tablespace,
        excluded.reloptions, excluded.subpartition, excluded.policy_author
    );
END;

COMMENT ON FUNCTION pgpart._save_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb) IS
'Registers or updates the range policy of a parent in pgpart.config.';

-- pgpart._save_policy(parent, strategy, key, type, tablespace, reloptions):
-- registers or updates the policy row of a LIST or HASH parent.
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
    INSERT INTO pgpart.config AS c (parent, strategy, key_column, key_type, tablespace, reloptions, policy_author)
    VALUES (p_parent, p_strategy, p_key_column, p_key_type, p_tablespace, p_reloptions, current_user)
    ON CONFLICT (parent) DO UPDATE SET
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        updated_at = now()
    WHERE (c.tablespace, c.reloptions) IS DISTINCT FROM (excluded.tablespace, excluded.reloptions);
$body$;

COMMENT ON FUNCTION pgpart._save_policy(regclass, text, name, regtype, name, text[]) IS
'Registers or updates the policy row of a LIST or HASH parent.';
