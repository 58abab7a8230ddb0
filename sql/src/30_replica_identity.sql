-- pgpart._copy_replica_identity(partition): gives an attached partition the
-- replica identity of its parent. PostgreSQL does not propagate it, and an
-- UPDATE through a published parent fails on any leaf without one. For
-- USING INDEX the partition's own index is the one attached to the parent's
-- identity index, known only after ATTACH, hence a function.
CREATE FUNCTION pgpart._copy_replica_identity(p_partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_parent oid;
    v_ident "char";
    v_index name;
BEGIN
    SELECT i.inhparent, pc.relreplident INTO v_parent, v_ident
    FROM pg_inherits AS i JOIN pg_class AS pc ON pc.oid = i.inhparent
    WHERE i.inhrelid = p_partition;
    IF v_ident = 'f' THEN
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', p_partition);
    ELSIF v_ident = 'n' THEN
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY NOTHING', p_partition);
    ELSIF v_ident = 'i' THEN
        SELECT ci.relname INTO v_index
        FROM pg_index AS pi
        JOIN pg_inherits AS ii ON ii.inhparent = pi.indexrelid
        JOIN pg_index AS ci_idx ON ci_idx.indexrelid = ii.inhrelid AND ci_idx.indrelid = p_partition
        JOIN pg_class AS ci ON ci.oid = ci_idx.indexrelid
        WHERE pi.indrelid = v_parent AND pi.indisreplident;
        IF v_index IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('partition %s has no index attached to the replica identity index of its parent',
                                 p_partition);
        END IF;
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', p_partition, v_index);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._copy_replica_identity(regclass) IS
'Sets the replica identity of an attached partition to match its parent (FULL, NOTHING or its own attached index).';
