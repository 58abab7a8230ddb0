-- Detaching, the first half of retention (DESIGN §3, §4). A plain DETACH
-- holds ACCESS EXCLUSIVE on the parent until commit, so each detach is its
-- own transaction and nothing that could wait (archiving, dropping) shares
-- it. pgpart.log doubles as the journal that links a detached table to the
-- rest of its retention (archive or drop in a later transaction); every
-- journal entry is re-checked against the catalog before it is acted on.

-- pgpart._journal_detach(parent, partition): records that PARTITION is being
-- detached by retention and what must follow (the policy's action then).
CREATE FUNCTION pgpart._journal_detach(p_parent regclass, p_partition regclass)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._log(
        p_parent, 'detach', 'ok',
        jsonb_build_object(
            'partition_oid', p_partition::oid,
            'partition', p_partition::text,
            'bound', pg_get_expr(c.relpartbound, 0),
            'then', cfg.retention_action,
            'archive_schema', cfg.archive_schema,
            'archive_tablespace', cfg.archive_tablespace
        )
    )
    FROM pg_class AS c, pgpart.config AS cfg
    WHERE c.oid = p_partition AND cfg.parent = p_parent;
$body$;

COMMENT ON FUNCTION pgpart._journal_detach(regclass, regclass) IS
'Journals in pgpart.log that retention detaches a partition, with the action that must follow.';

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
END
$body$;

COMMENT ON FUNCTION pgpart._detach_partition(regclass, regclass, interval, integer) IS
'Detaches one partition (plain DETACH) after taking every lock it needs under a timeout with retries; journals it.';

-- pgpart._finalize_detach(parent, partition, timeout, retries): finishes a
-- DETACH ... CONCURRENTLY left pending by a timeout or a cancel.
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
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s FINALIZE', p_parent, p_partition);
    PERFORM pgpart._log(p_parent, 'finalize', 'ok', jsonb_build_object('partition', p_partition::text));
END
$body$;

COMMENT ON FUNCTION pgpart._finalize_detach(regclass, regclass, interval, integer) IS
'Finishes a pending DETACH ... CONCURRENTLY (FINALIZE) under a lock timeout with retries.';

-- pgpart._detached_awaiting(parent): tables detached by retention whose
-- archive or drop has not happened yet, from the journal, each re-checked
-- in the catalog: it still exists, under the same OID, is no partition and
-- belongs to the parent's owner.
CREATE FUNCTION pgpart._detached_awaiting(p_parent regclass)
RETURNS TABLE (detached regclass, then_action text, archive_schema name, archive_tablespace name)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick calls it)
    RETURN QUERY
        SELECT DISTINCT ON (c.oid)
            c.oid::regclass,
            l.detail ->> 'then',
            (l.detail ->> 'archive_schema')::name,
            (l.detail ->> 'archive_tablespace')::name
        FROM pgpart.log AS l
        JOIN pg_class AS c ON c.oid = (l.detail ->> 'partition_oid')::oid
        JOIN pg_class AS pc ON pc.oid = p_parent
        WHERE
            l.parent = p_parent
            AND c.relowner = pc.relowner
            AND c.relkind IN ('r', 'p')
            AND l.action = 'detach'
            AND l.detail ->> 'then' IN ('archive', 'drop')
            AND NOT c.relispartition
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = p_parent
                    AND done.action IN ('archive', 'drop')
                    AND done.id > l.id
                    AND (done.detail ->> 'partition_oid')::oid = c.oid
            )
        ORDER BY c.oid, l.id DESC;
END
$body$;

COMMENT ON FUNCTION pgpart._detached_awaiting(regclass) IS
'Tables detached by retention still awaiting their archive or drop (journal checked against the catalog).';
