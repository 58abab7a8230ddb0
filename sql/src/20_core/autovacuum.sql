-- Getting past autovacuum (issue 14 item 3). An autovacuum worker holds
-- SHARE UPDATE EXCLUSIVE on the table it vacuums, which conflicts with every
-- lock pgpart takes on a table. PostgreSQL cancels such a worker itself, but
-- only once a blocked lock request has waited deadlock_timeout (1 s by
-- default), far longer than pgpart's lock timeout (200 ms), so without help
-- pgpart never gets past a long autovacuum. These helpers let
-- pgpart._acquire_locks make ONE longer attempt (deadlock_timeout plus its
-- lock timeout) when an autovacuum worker is the only blocker, cancel the
-- worker first where the role may, never touch an anti-wraparound vacuum and
-- never cancel vacuum on the same table twice in a row.

-- pgpart._lock_conflicts(held, wanted): whether a lock of mode HELD (as
-- pg_locks.mode spells it, e.g. 'ShareUpdateExclusiveLock') conflicts with
-- a request of mode WANTED (same spelling): PostgreSQL's table-lock conflict
-- matrix, so that a session holding a compatible lock is not counted as a
-- blocker.
CREATE FUNCTION pgpart._lock_conflicts(p_held text, p_wanted text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT ARRAY[p_held] <@ CASE p_wanted
        WHEN 'AccessShareLock' THEN ARRAY['AccessExclusiveLock']
        WHEN 'RowShareLock' THEN ARRAY['ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'RowExclusiveLock' THEN
            ARRAY['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'ShareUpdateExclusiveLock' THEN
            ARRAY['ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                  'AccessExclusiveLock']
        WHEN 'ShareLock' THEN
            ARRAY['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                  'AccessExclusiveLock']
        WHEN 'ShareRowExclusiveLock' THEN
            ARRAY['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                  'ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'ExclusiveLock' THEN
            ARRAY['RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
                  'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
        ELSE
            ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
                  'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
    END;
$body$;

COMMENT ON FUNCTION pgpart._lock_conflicts(text, text) IS
'Whether a table lock of the first mode conflicts with a request of the second (pg_locks spelling).';

-- pgpart._autovacuum_blocker(statement): the autovacuum worker that is the
-- ONLY session standing in the way of STATEMENT (a 'LOCK TABLE [ONLY] rel IN
-- mode MODE' of pgpart._lock_statements), or no row: not a table lock, no
-- autovacuum on that table, or another session also holds or awaits a
-- conflicting lock (then cancelling the worker would not help).
-- Visibility: a role without pg_read_all_stats sees neither backend_type nor
-- query of an autovacuum worker, only its pid in pg_stat_progress_vacuum and
-- a NULL usesysid (client backends always show theirs) and its locks in
-- pg_locks; that is how the worker is recognised then. Whether it prevents
-- wraparound shows only in pg_stat_activity.query; when that is hidden the
-- table's xid / multixact age against the freeze limits stands in for it.
CREATE FUNCTION pgpart._autovacuum_blocker(p_statement text)
RETURNS TABLE (rel regclass, pid integer, wraparound boolean, query text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_match text[];
    v_rel regclass;
    v_wanted text;
BEGIN
    v_match := regexp_match(p_statement, '^LOCK TABLE (?:ONLY )?(.+) IN ([A-Z ]+) MODE$');
    IF v_match IS NULL THEN
        RETURN;  -- an advisory lock: only other pgpart runs hold those
    END IF;
    v_rel := to_regclass(v_match[1]);
    v_wanted := replace(initcap(v_match[2]), ' ', '') || 'Lock';
    IF v_rel IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH holders AS (
        SELECT
            l.pid,
            a.query,
            l.pid IN (SELECT v.pid FROM pg_stat_progress_vacuum AS v)
            AND (a.backend_type = 'autovacuum worker' OR (a.backend_type IS NULL AND a.usesysid IS NULL))
                AS autovacuum
        FROM pg_locks AS l
        LEFT JOIN pg_stat_activity AS a ON l.pid = a.pid
        WHERE
            l.locktype = 'relation'
            AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
            AND l.relation = v_rel
            AND l.pid <> pg_backend_pid()
            AND pgpart._lock_conflicts(l.mode, v_wanted)
    )
    SELECT
        v_rel,
        h.pid,
        CASE
            WHEN h.query LIKE 'autovacuum:%' THEN h.query LIKE '%(to prevent wraparound)%'
            ELSE (
                SELECT
                    age(c.relfrozenxid) > least(
                        current_setting('autovacuum_freeze_max_age')::bigint,
                        coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) AS o
                                  WHERE o.option_name = 'autovacuum_freeze_max_age'), 'infinity'::numeric))
                    OR mxid_age(c.relminmxid) > least(
                        current_setting('autovacuum_multixact_freeze_max_age')::bigint,
                        coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) AS o
                                  WHERE o.option_name = 'autovacuum_multixact_freeze_max_age'), 'infinity'::numeric))
                FROM pg_class AS c WHERE c.oid = v_rel
            )
        END,
        h.query
    FROM holders AS h
    WHERE h.autovacuum AND NOT EXISTS (SELECT 1 FROM holders AS o WHERE NOT o.autovacuum)
    LIMIT 1;
END
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_blocker(text) IS
'The autovacuum worker that alone blocks a LOCK TABLE statement of pgpart (table, pid, whether it prevents wraparound), or no row.';

-- pgpart._autovacuum_cancelled_last(rel): whether the last vacuum of REL that
-- pgpart got out of its way (a pgpart.log row 'autovacuum_cancel') is more
-- recent than the last vacuum of REL that finished. Then pgpart lets the
-- running one finish: cancelling every vacuum of a table that pgpart keeps
-- touching would starve it of vacuum.
CREATE FUNCTION pgpart._autovacuum_cancelled_last(p_rel regclass)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT coalesce(max(g.logged_at), '-infinity') > coalesce(
        greatest(pg_stat_get_last_autovacuum_time(p_rel), pg_stat_get_last_vacuum_time(p_rel)), '-infinity')
    FROM pgpart.log AS g
    WHERE g.parent = p_rel AND g.action = 'autovacuum_cancel';
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_cancelled_last(regclass) IS
'Whether pgpart cancelled a vacuum of the table after the last vacuum of it that finished.';

-- pgpart._may_signal_autovacuum(): whether the current role may cancel an
-- autovacuum worker with pg_cancel_backend: a superuser, or (PostgreSQL 18
-- and later, where the role exists) a member of pg_signal_autovacuum_worker.
-- Before 18 a pg_signal_backend member is refused, so it does not count.
CREATE FUNCTION pgpart._may_signal_autovacuum()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        coalesce((SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user), false)
        OR coalesce(pg_has_role(current_user, to_regrole('pg_signal_autovacuum_worker'), 'USAGE'), false);
$body$;

COMMENT ON FUNCTION pgpart._may_signal_autovacuum() IS
'Whether the current role may cancel an autovacuum worker (superuser; on 18+ pg_signal_autovacuum_worker).';

-- pgpart._autovacuum_yield(statement, timeout): called by _acquire_locks
-- when STATEMENT timed out. If an autovacuum worker alone blocks it and may
-- be cancelled, records the cancel in pgpart.log (the memory that stops a
-- second cancel in a row; written in the caller's transaction, so a call
-- that fails afterwards forgets it), cancels the worker itself where the
-- role may and the query shows it is no anti-wraparound vacuum, and returns
-- the lock timeout for one more attempt: deadlock_timeout plus TIMEOUT (at
-- least 500 ms), long enough for PostgreSQL to cancel the worker itself when
-- pgpart could not. Writers queue behind that attempt for as long (README
-- "Locks"). Otherwise returns a NULL timeout. NOTE says what happened, for
-- the 55P03 that may follow.
CREATE FUNCTION pgpart._autovacuum_yield(p_statement text, p_timeout interval, OUT timeout interval, OUT note text)
RETURNS record
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    b record;
    v_how text := 'PostgreSQL after deadlock_timeout';
    v_explicit boolean;
BEGIN
    SELECT * INTO b FROM pgpart._autovacuum_blocker(p_statement);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF b.wraparound THEN
        note := format('An autovacuum to prevent wraparound of %s (pid %s) holds it; pgpart never cancels one.',
                       b.rel, b.pid);
        RETURN;
    END IF;
    IF pgpart._autovacuum_cancelled_last(b.rel) THEN
        note := format('An autovacuum of %s (pid %s) holds it; pgpart cancelled the previous vacuum of that table '
                       'and lets this one finish.', b.rel, b.pid);
        RETURN;
    END IF;
    v_explicit := b.query LIKE 'autovacuum:%' AND pgpart._may_signal_autovacuum();
    BEGIN
        PERFORM pgpart._log(b.rel, 'autovacuum_cancel', 'ok',
                            jsonb_build_object('pid', b.pid, 'query', b.query, 'statement', p_statement,
                                               'by', CASE WHEN v_explicit THEN 'pg_cancel_backend'
                                                          ELSE 'deadlock_timeout' END));
    EXCEPTION WHEN insufficient_privilege OR read_only_sql_transaction THEN
        note := format('An autovacuum of %s (pid %s) holds it; role %I cannot record a cancel in pgpart.log, '
                       'so pgpart does not cancel it.', b.rel, b.pid, current_user);
        RETURN;
    END;
    IF v_explicit THEN
        BEGIN
            PERFORM pg_cancel_backend(b.pid);
            v_how := 'pgpart (pg_cancel_backend)';
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;  -- PostgreSQL cancels it after deadlock_timeout
        END;
    END IF;
    timeout := current_setting('deadlock_timeout')::interval + greatest(p_timeout, interval '500ms');
    note := format('An autovacuum of %s (pid %s) held it; cancelled by %s.', b.rel, b.pid, v_how);
END
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_yield(text, interval) IS
'When an autovacuum worker alone blocks a pgpart lock: records and (where allowed) cancels it, returns the timeout of one longer attempt.';
