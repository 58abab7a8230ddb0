-- pgpart._find_rls_grants(parent): code 'rls_bypass' (urgent). On a
-- parent with row-level security, a role granted a partition directly reads
-- it without the parent's policies (they apply through the parent only).
CREATE FUNCTION pgpart._find_rls_grants(p_parent regclass)
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
    SELECT DISTINCT 'urgent', 'rls_bypass'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('role %s may read partition %s directly, bypassing the row-level security of %s',
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  p.rel::regclass, p_parent),
           format('REVOKE ALL ON %s FROM %s;', p.rel::regclass,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN LATERAL aclexplode(p.relacl) AS a
    CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND pc.relrowsecurity AND a.grantee <> p.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_rls_grants(regclass) IS
'Finding rls_bypass of pgpart.check(): grants on partitions that bypass the row-level security of their parent (internal).';
