-- Detaching, the first half of retention (DESIGN §3, §4). A plain DETACH
-- holds ACCESS EXCLUSIVE on the parent until commit, so each detach is its
-- own transaction and nothing that could wait (archiving, dropping) shares
-- it. pgpart.log doubles as the journal that links a detached table to the
-- rest of its retention (archive or drop in a later transaction); every
-- journal entry is re-checked against the catalog before it is acted on.

-- pgpart._log_journal(parent, action, table, name, owner, detail): appends
-- a retention journal row to pgpart.log (columns journal_oid, journal_name,
-- journal_owner). For action 'detach' row-level security admits it only
-- while TABLE is a partition of PARENT with that name and owner; 'archive',
-- 'drop' and 'discard' rows close the entry of TABLE.
CREATE FUNCTION pgpart._log_journal(
    p_parent regclass,
    p_action text,
    p_table oid,
    p_name name,
    p_owner oid,
    p_detail jsonb
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.log (parent, parent_name, action, outcome, detail, journal_oid, journal_name, journal_owner)
    VALUES (p_parent, p_parent::text, p_action, 'ok', p_detail, p_table, p_name, p_owner);
END;

COMMENT ON FUNCTION pgpart._log_journal(regclass, text, oid, name, oid, jsonb) IS
'Appends a retention journal row (with the table''s identity) to pgpart.log in the name of the current role.';

-- pgpart._journal_detach(parent, partition): records that PARTITION is being
-- detached by retention and what must follow (the policy's action then).
-- The one writer of journal entries: it verifies, at this moment, that
-- PARTITION is a partition of PARENT (attached or detach pending) and
-- records its OID, name and owner, so an entry can never name a table that
-- pgpart did not find in the parent (nor one that does not exist yet), and
-- an entry is void once ownership changes. A partition owned by another role
-- than the parent's gets a history row only: retention never archives or
-- drops it.
CREATE FUNCTION pgpart._journal_detach(p_parent regclass, p_partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner oid;
    v_part_owner oid;
    v_name name;
    v_cfg pgpart.config;
    v_same boolean;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT c.relowner, c.relname INTO v_part_owner, v_name
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhrelid = p_partition AND i.inhparent = p_parent;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a partition of %s', p_partition, p_parent),
            DETAIL = 'Retention journals only a partition it is about to detach.',
            HINT = 'Run retention again: it plans from the catalog.';
    END IF;
    SELECT c.relowner INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    SELECT * INTO v_cfg FROM pgpart.config AS cfg WHERE cfg.parent = p_parent;
    v_same := v_part_owner = v_owner;
    PERFORM pgpart._log_journal(
        p_parent, 'detach',
        CASE WHEN v_same THEN p_partition::oid END,
        CASE WHEN v_same THEN v_name END,
        CASE WHEN v_same THEN v_owner END,
        jsonb_build_object(
            'partition_oid', p_partition::oid,
            'partition', p_partition::text,
            'bound', pg_get_expr((SELECT c.relpartbound FROM pg_class AS c WHERE c.oid = p_partition), 0),
            'then', CASE WHEN v_same THEN v_cfg.retention_action ELSE 'detach' END,
            'archive_schema', v_cfg.archive_schema,
            'archive_tablespace', v_cfg.archive_tablespace
        ) || CASE WHEN v_same THEN '{}'::jsonb
                  ELSE jsonb_build_object('kept', format('owned by %I, not by the owner of %s',
                                                         pg_get_userbyid(v_part_owner), p_parent)) END
    );
END
$body$;

COMMENT ON FUNCTION pgpart._journal_detach(regclass, regclass) IS
'Journals in pgpart.log that retention detaches a partition (verified to be one now, with its OID, name and owner) and the action that must follow.';

-- pgpart._detach_partition(parent, partition, timeout, retries): the SQL
-- path's detach: all locks first under the timeout with retries, then the
-- DETACH, journaled in the same transaction. The caller commits at once.
CREATE FUNCTION pgpart._detach_partition(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent, p_partition) AS l),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    PERFORM pgpart._journal_detach(p_parent, p_partition);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
END
$body$;

COMMENT ON FUNCTION pgpart._detach_partition(regclass, regclass, interval, integer) IS
'Detaches one partition (plain DETACH) after taking every lock it needs under a timeout with retries; journals it.';

-- pgpart._finalize_detach(parent, partition, timeout, retries): finishes a
-- DETACH ... CONCURRENTLY left pending by a timeout or a cancel; nothing
-- when, once its locks are held, the detach is no longer pending.
CREATE FUNCTION pgpart._finalize_detach(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[
            format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)),
            format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent),
            format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition)
        ],
        p_timeout, p_retries);
    -- re-checked under the advisory lock: another run may have finished it
    -- while this one waited
    IF NOT EXISTS (
        SELECT 1 FROM pg_inherits AS i
        WHERE i.inhrelid = p_partition AND i.inhparent = p_parent AND i.inhdetachpending
    ) THEN
        RETURN;
    END IF;
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s FINALIZE', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
    PERFORM pgpart._log(p_parent, 'finalize', 'ok', jsonb_build_object('partition', p_partition::text));
END
$body$;

COMMENT ON FUNCTION pgpart._finalize_detach(regclass, regclass, interval, integer) IS
'Finishes a pending DETACH ... CONCURRENTLY (FINALIZE) under a lock timeout with retries.';

-- pgpart._journal(parent): the open retention journal entries of PARENT
-- whose archive or drop is still to come, each checked against the
-- catalog now. STATE is 'awaiting' (the table is detached and still the
-- one journaled: same OID, name and owner, and the parent still has that
-- owner), 'pending' (its DETACH CONCURRENTLY awaits FINALIZE) or 'stale'
-- (PROBLEM says why: gone, renamed, still attached, or an owner changed,
-- e.g. by REASSIGN OWNED): a stale entry is never acted on, only discarded.
-- Only rows that came through pgpart._journal_detach count: journal_oid
-- is set and row-level security verified it when it was written; older
-- rows and history rows without it are never honoured. An entry is open
-- until an 'archive', 'drop', 'export' or 'discard' row for its table
-- follows it.
CREATE FUNCTION pgpart._journal(p_parent regclass)
RETURNS TABLE (
    entry bigint,
    detached oid,
    detached_name text,
    then_action text,
    archive_schema name,
    archive_tablespace name,
    state text,
    problem text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick calls it)
    RETURN QUERY
        SELECT
            l.id,
            l.journal_oid,
            coalesce(c.oid::regclass::text, l.detail ->> 'partition'),
            l.detail ->> 'then',
            (l.detail ->> 'archive_schema')::name,
            (l.detail ->> 'archive_tablespace')::name,
            CASE
                WHEN c.oid IS NULL OR pc.relowner <> l.journal_owner OR c.relowner <> l.journal_owner
                     OR c.relname <> l.journal_name OR c.relkind NOT IN ('r', 'p') THEN 'stale'
                WHEN c.relispartition AND EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN 'pending'
                WHEN c.relispartition THEN 'stale'
                ELSE 'awaiting'
            END,
            CASE
                WHEN c.oid IS NULL OR c.relkind NOT IN ('r', 'p') THEN
                    format('table %s (OID %s) no longer exists', l.detail ->> 'partition', l.journal_oid)
                WHEN pc.relowner <> l.journal_owner THEN
                    format('the owner of %s is now %I, not %I who owned it when %s was detached', p_parent,
                           pg_get_userbyid(pc.relowner), pg_get_userbyid(l.journal_owner), c.oid::regclass)
                WHEN c.relowner <> l.journal_owner THEN
                    format('table %s is now owned by %I, not %I', c.oid::regclass, pg_get_userbyid(c.relowner),
                           pg_get_userbyid(l.journal_owner))
                WHEN c.relname <> l.journal_name THEN
                    format('table %s (OID %s) was %I when it was detached', c.oid::regclass, c.oid, l.journal_name)
                WHEN c.relispartition AND NOT EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN format('table %s is attached: the journaled detach did not happen', c.oid::regclass)
            END
        FROM (
            SELECT DISTINCT ON (j.journal_oid) j.id, j.journal_oid, j.journal_name, j.journal_owner, j.detail
            FROM pgpart.log AS j
            WHERE j.parent = p_parent AND j.action = 'detach' AND j.journal_oid IS NOT NULL
            ORDER BY j.journal_oid, j.id DESC
        ) AS l
        JOIN pg_class AS pc ON pc.oid = p_parent
        LEFT JOIN pg_class AS c ON c.oid = l.journal_oid
        WHERE
            l.detail ->> 'then' IN ('archive', 'drop', 'export')
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = p_parent
                    AND done.action IN ('archive', 'drop', 'discard', 'reattach', 'export')
                    AND done.journal_oid = l.journal_oid
                    AND done.id > l.id
            )
        ORDER BY l.id;
END
$body$;

COMMENT ON FUNCTION pgpart._journal(regclass) IS
'Open retention journal entries of a parent, each checked against the catalog: awaiting, pending (FINALIZE due) or stale (never acted on).';

-- pgpart._detached_awaiting(parent): tables detached by retention whose
-- archive or drop has not happened yet: the journal entries still valid.
-- Not those awaiting export: only the client can write Parquet, so SQL
-- retention leaves them to it (pgpart._awaiting_export).
CREATE FUNCTION pgpart._detached_awaiting(p_parent regclass)
RETURNS TABLE (detached regclass, then_action text, archive_schema name, archive_tablespace name)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.archive_schema, j.archive_tablespace
        FROM pgpart._journal(p_parent) AS j
        -- 'export' entries wait for the client (pgpart._awaiting_export)
        WHERE j.state = 'awaiting' AND j.then_action IN ('archive', 'drop')
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._detached_awaiting(regclass) IS
'Tables detached by retention still awaiting their archive or drop (journal entries still valid in the catalog).';

-- pgpart._discard_journal(parent, entry, timeout, retries): closes a stale
-- journal entry (pgpart._journal) with a 'discard' row saying why, so it is
-- reported once and never acted on. Re-checks that the entry is stale now;
-- a valid or closed entry is left alone. Holds the parent's advisory lock,
-- so a client in the middle of a retention run is not disturbed.
CREATE FUNCTION pgpart._discard_journal(p_parent regclass, p_entry bigint, p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    j record;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))],
        p_timeout, p_retries);
    SELECT * INTO j FROM pgpart._journal(p_parent) AS x WHERE x.entry = p_entry AND x.state = 'stale';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RAISE NOTICE 'pgpart: discarding the retention journal entry of % (%): %', j.detached_name, j.then_action, j.problem;
    PERFORM pgpart._log_journal(
        p_parent, 'discard', j.detached, NULL, NULL,
        jsonb_build_object('entry', p_entry, 'partition_oid', j.detached, 'table', j.detached_name,
                           'then', j.then_action, 'reason', j.problem));
END
$body$;

COMMENT ON FUNCTION pgpart._discard_journal(regclass, bigint, interval, integer) IS
'Closes a stale retention journal entry (its table gone, renamed, attached or its owner changed) without acting on it; logs why.';

-- pgpart._refuse_if_detach_blocked(parent, partition, timeout): raises 55P03,
-- naming them, when sessions that a DETACH ... CONCURRENTLY of PARTITION
-- would wait for are predictably long: they hold a lock on the parent or the
-- partition and are idle in a transaction, or in one older than TIMEOUT.
-- Online retention checks this before it journals a detach and before each
-- attempt of the DETACH, so a partition is left "detach pending" as rarely
-- as possible. Sessions of other roles whose state this role cannot see
-- (without pg_read_all_stats) are not counted: the risk is reduced, not
-- removed.
CREATE FUNCTION pgpart._refuse_if_detach_blocked(p_parent regclass, p_partition regclass, p_timeout interval)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_blockers text;
BEGIN
    SELECT string_agg(format('pid %s (%s, %s, transaction open for %s)', a.pid, a.usename, a.state,
                             date_trunc('second', now() - a.xact_start)), '; ' ORDER BY a.pid)
    INTO v_blockers
    FROM pg_stat_activity AS a
    WHERE
        a.pid <> pg_backend_pid()
        AND a.pid IN (
            SELECT l.pid FROM pg_locks AS l
            WHERE
                l.locktype = 'relation' AND l.granted
                AND l.relation IN (p_parent, coalesce(p_partition, p_parent))
                AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
        )
        AND (a.state LIKE 'idle in transaction%' OR now() - a.xact_start > p_timeout);
    IF v_blockers IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('not detaching %s: DETACH CONCURRENTLY would wait for sessions using %I', p_partition,
                             (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent)),
            DETAIL = format('Waiting for: %s (holding locks on %s or %s). Nothing was changed.', v_blockers, p_parent,
                            p_partition),
            HINT = 'Retry when those transactions have ended (or end them), or run retention on the SQL path.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._refuse_if_detach_blocked(regclass, regclass, interval) IS
'Raises 55P03 naming the sessions when a DETACH CONCURRENTLY of the partition would wait for a predictably long transaction (idle in one, or older than the lock timeout).';
