-- pgpart._lock_statements(parent): the locks pgpart takes before it adds or
-- removes partitions of PARENT, in the one documented order (DESIGN §3):
--   1. the per-parent advisory lock (excludes other pgpart runs);
--   2. the parent, ONLY (without ONLY every partition would be locked,
--      conflicting with autovacuum), SHARE UPDATE EXCLUSIVE like ATTACH;
--   3. tables linked by foreign keys, in OID order, SHARE ROW EXCLUSIVE,
--      as ATTACH takes them when it clones the constraints;
--   4. the default partition, ACCESS EXCLUSIVE, which ATTACH needs to
--      re-check it.
CREATE FUNCTION pgpart._lock_statements(p_parent regclass)
RETURNS TABLE (statement text, locks text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_default regclass;
BEGIN
    statement := format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent));
    locks := format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent);
    RETURN NEXT;
    statement := format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent);
    locks := format('SHARE UPDATE EXCLUSIVE on %s', p_parent);
    RETURN NEXT;
    RETURN QUERY
    SELECT format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', t.rel::regclass),
           format('SHARE ROW EXCLUSIVE on %s (foreign key)', t.rel::regclass)
    FROM (
        SELECT con.confrelid AS rel FROM pg_constraint AS con
        WHERE con.conrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
        UNION
        SELECT con.conrelid FROM pg_constraint AS con
        WHERE con.confrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
    ) AS t
    WHERE t.rel <> p_parent::oid
    ORDER BY t.rel;
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NOT NULL THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_default);
        locks := format('ACCESS EXCLUSIVE on %s (default partition)', v_default);
        RETURN NEXT;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._lock_statements(regclass) IS
'The lock statements, in order, that precede any change to the partitions of a parent: advisory, parent, foreign-key tables, default partition.';
