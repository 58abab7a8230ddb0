-- pgpart._find_orphan_policies(parent): code 'orphan_policy'. Policies
-- whose table is gone (dropped while the event triggers were off); only in
-- a check of every table (PARENT NULL), as a policy of PARENT cannot be one.
CREATE FUNCTION pgpart._find_orphan_policies(p_parent regclass)
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
    SELECT 'warning', 'orphan_policy'::pgpart.finding_code, NULL::regclass, NULL::regclass,
           format('policy for a table that no longer exists (OID %s)', c.parent::oid),
           format('DELETE FROM pgpart.config WHERE parent = %s;', c.parent::oid)
    FROM pgpart.config AS c
    WHERE p_parent IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS pc WHERE pc.oid = c.parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_orphan_policies(regclass) IS
'Finding orphan_policy of pgpart.check(): policies whose table no longer exists, in a check of every table (internal).';
