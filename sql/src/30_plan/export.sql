-- The cold tier's SQL side (docs/cold-tier.md): retention_action 'export'
-- detaches an expired partition (journaled like any retention detach, with
-- 'then' = 'export') and leaves it, detached and readable by name, for the
-- client: only a client can write a Parquet file. The client writes and
-- verifies the file, then pgpart.record_export logs the manifest and drops
-- the table. Nothing here reads table data.

-- pgpart._awaiting_export(parent): the tables that retention (or an
-- export of an attached partition) detached for export and that still wait
-- for it: journal entries still valid (pgpart._journal, state 'awaiting')
-- whose action is 'export', oldest first, with when they were detached and
-- their bound. THE selection of what the exporter may export now: a rule
-- that delays an export (a grace period) belongs here, so the client, the
-- dry run and check() all follow it.
CREATE FUNCTION pgpart._awaiting_export(p_parent regclass)
RETURNS TABLE (detached regclass, entry bigint, detached_at timestamptz, bound text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.entry, l.logged_at, l.detail ->> 'bound'
        FROM pgpart._journal(p_parent) AS j
        JOIN pgpart.log AS l ON l.id = j.entry
        WHERE j.state = 'awaiting' AND j.then_action = 'export'
          -- the policy's grace period (retention_grace) first
          AND coalesce(pgpart._grace_until(p_parent, j.entry) <= now(), true)
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._awaiting_export(regclass) IS
'Tables detached for export (journal entries still valid, action export) that the client may export now, oldest first (internal).';

-- pgpart._detach_for_export(parent, partition, timeout, retries): detaches
-- PARTITION from PARENT (the lock-bounded plain DETACH of
-- pgpart._detach_partition) with a journal entry whose action is 'export',
-- whatever the policy says: the client calls it once the partition's file
-- is written and verified (Client.export_partition), so an export that
-- fails before leaves the partition attached. Only a leaf owned by the
-- parent's owner: the journal could not name another.
CREATE FUNCTION pgpart._detach_for_export(
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
DECLARE
    v_part record;
BEGIN
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, now());
    PERFORM pgpart._require_owner(p_parent);
    SELECT c.relname, c.relowner, c.relkind, pc.relowner AS parent_owner,
           pg_get_expr(c.relpartbound, 0) AS bound
    INTO v_part
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    JOIN pg_class AS pc ON pc.oid = i.inhparent
    WHERE i.inhrelid = p_partition AND i.inhparent = p_parent AND NOT i.inhdetachpending;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a partition of %s', p_partition, p_parent),
            DETAIL = 'Only an attached partition is detached for export.',
            HINT = 'Pass a partition listed by pgpart.partition_info(parent).';
    END IF;
    IF v_part.relkind <> 'r' OR v_part.bound = 'DEFAULT' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition %s cannot be exported', p_partition),
            DETAIL = 'Only a leaf partition with bounds (not a default or sub-partitioned one) is exported.',
            HINT = 'Export the leaves of a sub-partitioned partition one by one.';
    END IF;
    IF v_part.relowner <> v_part.parent_owner THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('partition %s is not owned by the owner of %s', p_partition, p_parent),
            DETAIL = format('It is owned by %I.', pg_get_userbyid(v_part.relowner)),
            HINT = format('ALTER TABLE %s OWNER TO %I; then export it.', p_partition,
                          pg_get_userbyid(v_part.parent_owner));
    END IF;
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent, p_partition) AS l),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- the journal entry first: row-level security admits it only while the
    -- table is a partition of the parent
    PERFORM pgpart._log_journal(
        p_parent, 'detach', p_partition::oid, v_part.relname, v_part.relowner,
        jsonb_build_object('partition_oid', p_partition::oid, 'partition', p_partition::text,
                           'bound', v_part.bound, 'then', 'export'));
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
END
$body$;

COMMENT ON FUNCTION pgpart._detach_for_export(regclass, regclass, interval, integer) IS
'Detaches a partition whose Parquet file the client has written and verified, journaled for export (plain DETACH under a lock timeout with retries).';

-- pgpart._find_export_awaiting(parent, now_at): code 'detached_awaiting'
-- for tables waiting for their export: SQL retention never exports, so the
-- fix names the client's command.
CREATE FUNCTION pgpart._find_export_awaiting(p_parent regclass, p_now_at timestamptz)
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
           format('detached by retention since %s; its export to Parquet is still due', a.detached_at),
           format('-- run the client: pgpart export %s --to DIRECTORY (or pgpart maintain with the parquet extra)',
                  p_parent)
    FROM pgpart._awaiting_export(p_parent) AS a
    WHERE p_now_at IS NOT NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._find_export_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check() for tables detached for export whose Parquet file is still to be written (internal).';
