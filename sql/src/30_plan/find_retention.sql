-- pgpart._find_detach_pending(parent): code 'detach_pending'. A DETACH
-- ... CONCURRENTLY was interrupted: the partition stays half detached until
-- FINALIZE (maintenance finishes it too).
CREATE FUNCTION pgpart._find_detach_pending(p_parent regclass)
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
    SELECT 'warning', 'detach_pending'::pgpart.finding_code, p_parent, p.partition,
           'detach pending: an interrupted DETACH ... CONCURRENTLY',
           format('ALTER TABLE %s DETACH PARTITION %s FINALIZE;', p_parent, p.partition)
    -- straight from pg_inherits by its index, without deparsing every
    -- partition's bound as pgpart._partitions does (PostgreSQL allows one
    -- pending detach per parent: no order to keep)
    FROM (SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
          WHERE i.inhparent = p_parent AND i.inhdetachpending AND c.relkind IN ('r', 'p', 'f')) AS p;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detach_pending(regclass) IS
'Finding detach_pending of pgpart.check(): partitions left half detached by an interrupted DETACH CONCURRENTLY (internal).';

-- pgpart._find_detached_awaiting(parent, now_at): code 'detached_awaiting'.
-- Tables that retention detached and whose archive or drop is due (the run
-- was interrupted between its steps, or no run came since the end of the
-- grace period): pgpart._follow_ups_due.
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
           format('detached by retention; its %s is still due (since %s)', a.then_action, a.due_at),
           pgpart._fix_call('CALL pgpart.detach_and_archive_proc', p_parent, '', p_now_at)
    FROM pgpart._follow_ups_due(p_parent, p_now_at) AS a;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detached_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check(): tables detached by retention whose archive or drop is still due (internal).';

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
           pgpart._fix_call('CALL pgpart.detach_and_archive_proc', p_parent, '', p_now_at)
    FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale';
END
$body$;

COMMENT ON FUNCTION pgpart._find_journal(regclass, timestamptz) IS
'Finding journal_stale of pgpart.check(): retention journal entries no longer valid, which retention discards (internal).';

-- pgpart._find_in_grace(parent, now_at): code 'retention_grace'. Tables
-- retention detached whose archive or drop waits for the end of the
-- policy's grace period (pgpart._in_grace): still readable by name, and
-- pgpart.reattach_partition brings one back meanwhile. Information only:
-- no fix (maintenance finishes them when they are due).
CREATE FUNCTION pgpart._find_in_grace(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'info', 'retention_grace'::pgpart.finding_code, p_parent, g.detached,
           format('detached by retention at %s; its %s waits for the grace period until %s '
                  '(to keep it: SELECT * FROM pgpart.reattach_partition(%L, %L))',
                  g.detached_at, g.then_action, g.due_at, p_parent::text, g.detached::text),
           NULL::text
    FROM pgpart._in_grace(p_parent, p_now_at) AS g;
END
$body$;

COMMENT ON FUNCTION pgpart._find_in_grace(regclass, timestamptz) IS
'Finding retention_grace of pgpart.check(): tables detached by retention waiting for the end of their grace period before their archive or drop (internal).';
