-- pgpart._find_premake(parent): code 'premake_out_of_bounds'. A
-- premake out of bounds (written into the policy row directly): maintenance
-- refuses the parent, and the runway checks do not walk it.
CREATE FUNCTION pgpart._find_premake(p_parent regclass)
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
    SELECT 'urgent', 'premake_out_of_bounds'::pgpart.finding_code, p_parent, NULL::regclass,
           format('premake %s is out of bounds (0 to %s): maintenance refuses this table',
                  c.premake, pgpart._max_premake()),
           format('SELECT * FROM pgpart.set_policy(%L, premake => %s);', p_parent::text,
                  least(greatest(c.premake, 0), pgpart._max_premake()))
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.strategy = 'range' AND c.premake NOT BETWEEN 0 AND pgpart._max_premake();
END
$body$;

COMMENT ON FUNCTION pgpart._find_premake(regclass) IS
'Finding premake_out_of_bounds of pgpart.check(): a premake outside 0 to the maximum, which maintenance refuses (internal).';
