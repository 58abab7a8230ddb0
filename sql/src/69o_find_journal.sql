-- pgpart._find_journal(parent, now_at): code 'journal_stale'. Retention
-- journal entries no longer valid (the table was dropped, renamed or
-- reattached by hand): retention discards them, never acts on them.
CREATE FUNCTION pgpart._find_journal(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'info', 'journal_stale'::pgpart.finding_code, p_parent, j.detached::regclass,
           format('retention journal entry void: %s', j.problem),
           format('CALL pgpart.detach_and_archive_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale';
END
$body$;

COMMENT ON FUNCTION pgpart._find_journal(regclass, timestamptz) IS
'Finding journal_stale of pgpart.check(): retention journal entries no longer valid, which retention discards (internal).';
