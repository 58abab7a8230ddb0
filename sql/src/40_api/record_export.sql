-- pgpart.record_export(parent, partition, manifest, lock_timeout,
-- lock_retries): the last step of an export to the cold tier
-- (docs/cold-tier.md). The client has written PARTITION's rows to a
-- Parquet file and read the file back, verifying its row count and
-- checksum against the table (MANIFEST says so); this logs the manifest in
-- pgpart.log (action 'export', closing the table's journal entry, so
-- pgpart.cold_partitions lists it) and drops the table, in one transaction:
-- a failure or a kill before the commit leaves the table detached and
-- awaiting export, and the next export writes its file again.
-- Only a table retention detached for export (a valid journal entry with
-- action 'export'), whose row count is still the manifest's.
CREATE FUNCTION pgpart.record_export(
    parent regclass,
    partition regclass,
    manifest jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
-- the row count below must see every row, or raise (42501), never fewer
SET row_security = off
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_partition ALIAS FOR partition;
    p_manifest ALIAS FOR manifest;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_name text := p_partition::text;
    v_oid oid := p_partition::oid;
    v_rows bigint;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_manifest IS NULL OR jsonb_typeof(p_manifest -> 'rows') IS DISTINCT FROM 'number'
       OR jsonb_typeof(p_manifest -> 'checksum') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_manifest -> 'location') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the manifest of the export of %s lacks rows, checksum or location', p_partition),
            DETAIL = 'The manifest must be the one the client wrote beside the verified file.',
            HINT = 'Export with pgpart.Client.export_partition or the pgpart export command.';
    END IF;
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._require_owner(p_partition);
    -- a detached table with a valid journal entry, else 42501/55000
    PERFORM pgpart._require_detached(p_parent, p_partition);
    IF NOT EXISTS (SELECT 1 FROM pgpart._awaiting_export(p_parent) AS a WHERE a.detached = p_partition) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not awaiting export', p_partition),
            DETAIL = 'Its retention journal entry asks for another action.',
            HINT = 'Only tables detached for export are dropped after their export.';
    END IF;
    PERFORM pgpart._acquire_locks(
        ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_partition)], p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- under the lock: nothing can change it any more before the drop
    EXECUTE format('SELECT count(*) FROM %s', p_partition) INTO v_rows;
    IF v_rows <> (p_manifest ->> 'rows')::bigint THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has %s rows, its export %s', p_partition, v_rows, p_manifest ->> 'rows'),
            DETAIL = 'Rows were written to the table after its export; nothing was dropped.',
            HINT = 'Export it again: the new file replaces the old one.';
    END IF;
    PERFORM pgpart._log_journal(p_parent, 'export', v_oid, NULL, NULL,
                                p_manifest || jsonb_build_object('partition_oid', v_oid, 'table', v_name));
    EXECUTE format('DROP TABLE %s', p_partition);
END
$body$;

COMMENT ON FUNCTION pgpart.record_export(regclass, regclass, jsonb, interval, integer) IS
'Records the verified Parquet export of a table detached for export (its manifest in pgpart.log) and drops the table, under a lock timeout.';
