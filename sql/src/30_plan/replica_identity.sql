-- pgpart._copy_replica_identity(partition): gives an attached partition, and
-- every partition below it, the replica identity of the root table.
-- PostgreSQL does not propagate it, and an UPDATE through a published parent
-- fails on any leaf without one. For USING INDEX each table's own index is
-- the one attached (at any depth) to the root's identity index, known only
-- after ATTACH, hence a function.
CREATE FUNCTION pgpart._copy_replica_identity(p_partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_root regclass := pg_partition_root(p_partition);
    v_ident "char";
    v_root_index oid;
    v_index name;
    v_rel regclass;
BEGIN
    SELECT c.relreplident INTO v_ident FROM pg_class AS c WHERE c.oid = v_root;
    SELECT i.indexrelid INTO v_root_index FROM pg_index AS i WHERE i.indrelid = v_root AND i.indisreplident;
    FOR v_rel IN
        WITH RECURSIVE tree AS (
            SELECT p_partition::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel::regclass FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    LOOP
        IF v_ident = 'f' THEN
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', v_rel);
        ELSIF v_ident = 'n' THEN
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY NOTHING', v_rel);
        ELSIF v_ident = 'i' THEN
            SELECT ic.relname INTO v_index
            FROM pg_index AS ix
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE ix.indrelid = v_rel
              AND v_root_index IN (SELECT a.relid FROM pg_partition_ancestors(ix.indexrelid) AS a);
            IF v_index IS NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('partition %s has no index attached to the replica identity index of %s',
                                     v_rel, v_root);
            END IF;
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', v_rel, v_index);
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._copy_replica_identity(regclass) IS
'Sets the replica identity of an attached partition and of every partition below it to match the root table (FULL, NOTHING or their own attached index).';
