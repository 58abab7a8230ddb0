-- pgpart._partition_tree(parent): every table and partitioned table below
-- PARENT, at every level, with its owner, grants and effective tablespace.
-- Read from the catalog only (never waits for a lock); the checks on
-- indexes, owners and grants of partitions share it.
CREATE FUNCTION pgpart._partition_tree(p_parent regclass)
RETURNS TABLE (rel oid, relkind "char", relowner oid, relacl aclitem[], spc oid)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    )
    SELECT c.oid, c.relkind, c.relowner, c.relacl, coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    CROSS JOIN pg_database AS d WHERE d.datname = current_database();
END
$body$;

COMMENT ON FUNCTION pgpart._partition_tree(regclass) IS
'Every table and partitioned table below a parent, at every level, with owner, grants and effective tablespace (internal).';
