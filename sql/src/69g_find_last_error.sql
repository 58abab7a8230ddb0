-- pgpart._find_last_error(parent, now_at): code 'maintenance_failed'. The
-- last maintenance of PARENT failed (pgpart.config.last_error): its fix
-- runs that maintenance again.
CREATE FUNCTION pgpart._find_last_error(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
-- the time in the message is shown in UTC, whatever the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'maintenance_failed'::pgpart.finding_code, p_parent, NULL::regclass,
           format('last maintenance failed at %s: %s', c.last_error_at, c.last_error),
           format('CALL pgpart.run_maintenance_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.last_error IS NOT NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._find_last_error(regclass, timestamptz) IS
'Finding maintenance_failed of pgpart.check(): the last maintenance of the table failed (internal).';
