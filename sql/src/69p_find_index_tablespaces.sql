-- pgpart._find_index_tablespaces(parent): code 'index_tablespace'. An
-- index of a partition (at any level) in another tablespace than its
-- partition: moving a partition moves its indexes, an index left behind
-- fills the tablespace the partition was moved out of.
CREATE FUNCTION pgpart._find_index_tablespaces(p_parent regclass)
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
    SELECT 'warning', 'index_tablespace'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('index %s is in tablespace %s, its partition in %s', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t
                   WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), d.dattablespace)),
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)),
           format('ALTER INDEX %s SET TABLESPACE %I;', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc))
    FROM pgpart._partition_tree(p_parent) AS p
    JOIN pg_index AS ix ON ix.indrelid = p.rel
    JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    CROSS JOIN pg_database AS d
    WHERE d.datname = current_database() AND p.relkind = 'r'
      AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> p.spc;
END
$body$;

COMMENT ON FUNCTION pgpart._find_index_tablespaces(regclass) IS
'Finding index_tablespace of pgpart.check(): indexes of partitions in another tablespace than their partition (internal).';
