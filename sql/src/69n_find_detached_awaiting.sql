-- pgpart._find_detached_awaiting(parent, now_at): code 'detached_awaiting'.
-- Tables that retention detached and whose archive or drop is still due
-- (the run was interrupted between its steps).
CREATE FUNCTION pgpart._find_detached_awaiting(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'warning', 'detached_awaiting'::pgpart.finding_code, p_parent, a.detached,
           format('detached by retention; its %s is still due', a.then_action),
           format('CALL pgpart.detach_and_archive_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart._detached_awaiting(p_parent) AS a;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detached_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check(): tables detached by retention whose archive or drop is still due (internal).';
