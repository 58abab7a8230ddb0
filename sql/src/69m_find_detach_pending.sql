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
    FROM pgpart._partitions(p_parent) AS p WHERE p.detach_pending;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detach_pending(regclass) IS
'Finding detach_pending of pgpart.check(): partitions left half detached by an interrupted DETACH CONCURRENTLY (internal).';
