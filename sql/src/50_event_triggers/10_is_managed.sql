-- pgpart._is_managed(rel): whether REL is a parent pgpart manages with
-- reconcile on, i.e. whether the event triggers should act on it
-- (DESIGN §7). The triggers run as whoever ran the DDL, who may not be
-- allowed to read pgpart.config: they ask this SECURITY DEFINER helper, which
-- every role may call, before they touch any of pgpart's tables. It reveals
-- nothing more than pgpart.config, which every role may read, and takes a
-- bare OID: nothing in its argument is ever executed.
CREATE FUNCTION pgpart._is_managed(p_rel oid)
RETURNS boolean
LANGUAGE sql
STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS(
        SELECT 1 FROM pgpart.config AS c
        WHERE c.parent = $1::regclass AND c.reconcile
    );
END;

COMMENT ON FUNCTION pgpart._is_managed(oid) IS
'True when the relation is a managed parent whose partitions the event triggers keep in step (policy reconcile on). SECURITY DEFINER, callable by every role.';

GRANT EXECUTE ON FUNCTION pgpart._is_managed(oid) TO PUBLIC;
