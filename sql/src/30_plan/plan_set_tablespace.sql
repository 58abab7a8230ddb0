-- pgpart._plan_set_tablespace(partition, tablespace): the plan that moves
-- PARTITION and each of its indexes to TABLESPACE: ACCESS EXCLUSIVE on the
-- partition first (one lock step, so the wait is bounded by the lock
-- timeout), then ALTER TABLE ... SET TABLESPACE and ALTER INDEX ... SET
-- TABLESPACE per index, in OID order. Changes nothing.
CREATE FUNCTION pgpart._plan_set_tablespace(p_partition regclass, p_tablespace name)
RETURNS SETOF pgpart.step
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT ROW(1, p_partition::text, NULL, NULL, 'lock',
               format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition),
               format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step
    UNION ALL
    SELECT ROW(2, p_partition::text, NULL, NULL, 'set tablespace',
               format('ALTER TABLE %s SET TABLESPACE %I', p_partition, p_tablespace),
               format('ACCESS EXCLUSIVE on %s while its files are copied', p_partition), false)::pgpart.step
    UNION ALL
    SELECT * FROM (
        SELECT ROW((2 + row_number() OVER (ORDER BY i.indexrelid))::integer, p_partition::text, NULL, NULL,
                   'set index tablespace',
                   format('ALTER INDEX %s SET TABLESPACE %I', i.indexrelid::regclass, p_tablespace),
                   format('ACCESS EXCLUSIVE on %s and %s while its files are copied', i.indexrelid::regclass,
                          p_partition), false)::pgpart.step
        FROM pg_index AS i WHERE i.indrelid = p_partition
    ) AS x;
$body$;

COMMENT ON FUNCTION pgpart._plan_set_tablespace(regclass, name) IS
'The steps that move a partition and its indexes to a tablespace (lock, SET TABLESPACE per relation), changing nothing (internal).';
