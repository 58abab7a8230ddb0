-- pgpart.global_unique_info(parent): the global unique constraints (of
-- PARENT, or all) as the catalog shows them: columns, side table, state,
-- how many leaf partitions are recorded, how many are not (made or attached
-- while nothing could record them) and how many recorded tables are no
-- longer partitions (detached while the event triggers were off). Reads the
-- catalog only, never waits for a lock.
CREATE FUNCTION pgpart.global_unique_info(parent regclass DEFAULT NULL)
RETURNS TABLE (
    parent_table regclass,
    unique_constraint name,
    columns name[],
    nulls_not_distinct boolean,
    side_table regclass,
    state text,
    partitions integer,
    unrecorded_partitions integer,
    detached_recorded integer,
    stale_since timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT
            g.parent,
            g.constraint_name,
            g.columns,
            g.nulls_not_distinct,
            CASE WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table) THEN g.side_table END,
            g.state,
            (SELECT count(*)::integer FROM pgpart._gu_leaves(g) AS l (l)),
            (SELECT count(*)::integer FROM (SELECT l.l FROM pgpart._gu_leaves(g) AS l (l)
                                            EXCEPT SELECT m.m FROM pgpart._gu_marked(g) AS m (m)) AS x),
            (SELECT count(*)::integer FROM (SELECT m.m FROM pgpart._gu_marked(g) AS m (m)
                                            EXCEPT SELECT l.l FROM pgpart._gu_leaves(g) AS l (l)) AS x),
            g.stale_since
        FROM pgpart.global_unique AS g
        WHERE (p_parent IS NULL OR g.parent = p_parent)
          AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.parent, g.constraint_name;
END
$body$;

COMMENT ON FUNCTION pgpart.global_unique_info(regclass) IS
'The global unique constraints (of a parent, or all): columns, side table, state, leaf partitions recorded and not, detached tables still recorded, stale since. Catalog only.';
