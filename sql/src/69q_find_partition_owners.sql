-- pgpart._find_partition_owners(parent): code 'owner_differs'. A
-- partition (at any level) owned by another role than the parent: pgpart
-- acts as the parent's owner, and such a partition escapes its grants.
CREATE FUNCTION pgpart._find_partition_owners(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'owner_differs'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('owner %I differs from the parent''s owner %I', pg_get_userbyid(p.relowner),
                  pg_get_userbyid(pc.relowner)),
           format('ALTER TABLE %s OWNER TO %I;', p.rel::regclass, pg_get_userbyid(pc.relowner))
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND p.relowner <> pc.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_partition_owners(regclass) IS
'Finding owner_differs of pgpart.check(): partitions owned by another role than their parent (internal).';
