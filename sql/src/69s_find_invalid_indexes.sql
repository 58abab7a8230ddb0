-- pgpart._find_invalid_indexes(parent): code 'invalid_index'. Invalid
-- indexes of the parent or of a partition at any level (a failed CREATE
-- INDEX CONCURRENTLY, a partitioned index missing a partition's index):
-- they cost writes and serve no read. The fix depends on why.
CREATE FUNCTION pgpart._find_invalid_indexes(p_parent regclass)
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
    SELECT 'warning', 'invalid_index'::pgpart.finding_code, p_parent, ix.indrelid::regclass,
           format('index %s is invalid', ix.indexrelid::regclass),
           CASE WHEN ic.relkind = 'I'
                THEN format('-- create the missing partition indexes, then ALTER INDEX %s ATTACH PARTITION ...',
                            ix.indexrelid::regclass)
                -- a failed unique build fails again while its duplicates are there
                WHEN ix.indisunique
                THEN format('DROP INDEX CONCURRENTLY %s;  -- remove the duplicate keys, then create it again',
                            ix.indexrelid::regclass)
                ELSE format('REINDEX INDEX CONCURRENTLY %s;', ix.indexrelid::regclass) END
    FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    WHERE NOT ix.indisvalid
      AND (ix.indrelid = p_parent OR ix.indrelid IN (SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p));
END
$body$;

COMMENT ON FUNCTION pgpart._find_invalid_indexes(regclass) IS
'Finding invalid_index of pgpart.check(): invalid indexes of the parent or of its partitions, each with the fix for its cause (internal).';
