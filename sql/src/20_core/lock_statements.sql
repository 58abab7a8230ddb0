-- pgpart._lock_statements(parent, detaching): the locks pgpart takes before
-- it changes the partitions of PARENT, in the one documented order (DESIGN §3):
--   1. the per-parent advisory lock (excludes other pgpart runs);
--   2. the parent, ONLY (without ONLY every partition would be locked,
--      conflicting with autovacuum): SHARE UPDATE EXCLUSIVE like ATTACH, or
--      ACCESS EXCLUSIVE (held until commit) when DETACHING a partition;
--   3. tables linked by foreign keys, in OID order, SHARE ROW EXCLUSIVE as
--      ATTACH takes them when it clones the constraints; a DETACH takes the
--      referencing ones ACCESS EXCLUSIVE;
--   4. the default partition, ACCESS EXCLUSIVE, which ATTACH and DETACH
--      re-check;
--   5. when DETACHING, that partition, ACCESS EXCLUSIVE.
CREATE FUNCTION pgpart._lock_statements(p_parent regclass, p_detaching regclass DEFAULT NULL)
RETURNS TABLE (statement text, locks text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_default regclass;
    v_detach boolean := p_detaching IS NOT NULL;
BEGIN
    statement := format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent));
    locks := format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent);
    RETURN NEXT;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent);
        locks := format('ACCESS EXCLUSIVE on %s (until commit)', p_parent);
    ELSE
        statement := format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent);
        locks := format('SHARE UPDATE EXCLUSIVE on %s', p_parent);
    END IF;
    RETURN NEXT;
    RETURN QUERY
    SELECT format('LOCK TABLE ONLY %s IN %s MODE', t.rel::regclass, t.mode),
           format('%s on %s (foreign key)', t.mode, t.rel::regclass)
    FROM (
        SELECT con.confrelid AS rel, 'SHARE ROW EXCLUSIVE' AS mode FROM pg_constraint AS con
        WHERE con.conrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
        UNION
        SELECT con.conrelid, CASE WHEN v_detach THEN 'ACCESS EXCLUSIVE' ELSE 'SHARE ROW EXCLUSIVE' END
        FROM pgpart._foreign_keys_in(p_parent) AS con
        WHERE con.conparentid = 0
    ) AS t
    WHERE t.rel <> p_parent::oid
    ORDER BY t.rel;
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NOT NULL THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_default);
        locks := format('ACCESS EXCLUSIVE on %s (default partition)', v_default);
        RETURN NEXT;
    END IF;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_detaching);
        locks := format('ACCESS EXCLUSIVE on %s', p_detaching);
        RETURN NEXT;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._lock_statements(regclass, regclass) IS
'The lock statements, in order, that precede a change to the partitions of a parent (advisory, parent, foreign-key tables, default partition), or a DETACH of one partition (then also that partition).';
