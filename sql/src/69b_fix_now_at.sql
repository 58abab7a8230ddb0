-- pgpart._fix_now_at(now_at): the ", now_at => ..." argument that a fix
-- carries, so that it acts as of the same reference time as the check that
-- found it (empty when that time is now). Shared by the named checks.
CREATE FUNCTION pgpart._fix_now_at(p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- the literal must not depend on the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN CASE WHEN p_now_at <> now() THEN format(', now_at => %L', p_now_at) ELSE '' END;
END
$body$;

COMMENT ON FUNCTION pgpart._fix_now_at(timestamptz) IS
'The now_at argument a fix of pgpart.check() carries: empty when the check ran as of now (internal).';
