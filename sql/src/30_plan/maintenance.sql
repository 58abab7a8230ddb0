-- pgpart._analyze(parent): ANALYZE of a partitioned parent, which
-- autovacuum never does, so the planner keeps row estimates for it.
CREATE FUNCTION pgpart._analyze(p_parent regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    EXECUTE format('ANALYZE %s', p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._analyze(regclass) IS
'ANALYZE of a partitioned parent (autovacuum never analyzes partitioned tables).';

-- pgpart._maintenance_parents(parent): the parents to maintain: the one
-- given, or every managed parent with automatic maintenance on.
CREATE FUNCTION pgpart._maintenance_parents(p_parent regclass)
RETURNS SETOF regclass
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT c.parent FROM pgpart.config AS c
    JOIN pg_class AS pc ON pc.oid = c.parent
    WHERE
        c.strategy = 'range'
        AND ((p_parent IS NULL AND c.automatic_maintenance) OR c.parent = p_parent)
    ORDER BY c.parent;
$body$;

COMMENT ON FUNCTION pgpart._maintenance_parents(regclass) IS
'The parents maintenance acts on: the given one, or every managed parent with automatic maintenance on.';
