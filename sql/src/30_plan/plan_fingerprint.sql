-- pgpart._plan_fingerprint(parent): what a maintenance plan of PARENT is
-- computed from, as two digests: its partition tree (every partition at
-- every level: OID, name, kind, bound, detach-pending flag) and its policy
-- row (without the failure bookkeeping and timestamps, which do not shape a
-- plan). A saved plan (pgpart.save_plan) carries it and pgpart.apply_plan
-- refuses the plan when it no longer matches, so a plan is never applied to
-- tables or a policy that changed after it was reviewed. Read from the
-- catalog only (DESIGN §2): it never waits for a lock.
CREATE FUNCTION pgpart._plan_fingerprint(p_parent regclass)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS node, i.inhdetachpending AS pending
        FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid, i.inhdetachpending
        FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.node
    )
    SELECT jsonb_build_object(
        'partitions', md5(coalesce((
            SELECT string_agg(
                       concat_ws(' ', c.oid::text, c.oid::regclass::text, c.relkind::text,
                                 coalesce(pg_get_expr(c.relpartbound, 0), ''), t.pending::text),
                       E'\n' ORDER BY c.oid)
            FROM tree AS t JOIN pg_class AS c ON c.oid = t.node
        ), '') || E'\n' || p_parent::oid::text || ' ' || p_parent::text),
        'policy', md5(coalesce((
            SELECT (to_jsonb(cfg) - 'last_error' - 'last_error_at' - 'updated_at' - 'created_at')::text
            FROM pgpart.config AS cfg WHERE cfg.parent = p_parent
        ), 'unmanaged'))
    );
$body$;

COMMENT ON FUNCTION pgpart._plan_fingerprint(regclass) IS
'Digests of what a maintenance plan of a parent is computed from: its partition tree (names, bounds, pending detaches) and its policy row; read from the catalog only.';
