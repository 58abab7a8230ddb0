-- pgpart._find_drift(parent): codes 'drift' (what pgpart.reconcile would
-- repair: replica identity, storage parameters, propagated grants,
-- partitioned indexes of sub-partitioned partitions; the fix is the repair
-- statement) and 'grants_refused' (urgent: grants are not propagated under
-- row-level security). Only for a policy with reconcile on. Owners and
-- index tablespaces of plain partitions are left to the owner and
-- index_tablespace checks. The plan reads the catalog only.
-- VOLATILE, as pgpart._reconcile_plan it calls.
CREATE FUNCTION pgpart._find_drift(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.reconcile) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT CASE WHEN f.action = 'refused' THEN 'urgent' ELSE 'warning' END,
           CASE WHEN f.action = 'refused' THEN 'grants_refused'::pgpart.finding_code
                ELSE 'drift'::pgpart.finding_code END,
           p_parent, f.partition, f.detail,
           CASE WHEN f.action = 'refused'
                THEN pgpart._fix_call('SELECT * FROM pgpart.set_policy', p_parent, ', propagate_grants => false')
                ELSE f.statement || ';' END
    FROM pgpart._reconcile_plan(p_parent, true) AS f
    WHERE f.action NOT IN ('set owner', 'set index tablespace')
       OR (f.action = 'set index tablespace'
           AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = f.partition) = 'p')
    ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._find_drift(regclass) IS
'Findings drift and grants_refused of pgpart.check(): what pgpart.reconcile would repair, or refuses, for a policy with reconcile on (internal).';
