-- pgpart.reattach_partition(parent, partition, ...): brings back a table
-- that retention detached from PARENT (with a grace period it stays
-- detached, readable by name, until its archive or drop is due): attaches
-- it again at the bounds its journal entry recorded and closes that entry,
-- so retention never archives or drops it (pgpart._reattach_plan). Takes
-- every lock first in pgpart's one order (advisory lock, parent, tables
-- linked by foreign keys, default partition, the table) under LOCK_TIMEOUT
-- with LOCK_RETRIES, then validates a CHECK equal to the partition
-- constraint, so the ATTACH does not scan the table again. Writers of the
-- parent go on meanwhile (SHARE UPDATE EXCLUSIVE on it), except into a
-- default partition, which ATTACH locks and scans. DRY_RUN returns the steps
-- and changes nothing. A table the policy still expires is detached again
-- by the next maintenance run: a WARNING says so (change the policy first).
CREATE FUNCTION pgpart.reattach_partition(
    parent regclass,
    partition regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_partition ALIAS FOR partition;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_plan pgpart.step [];
    st pgpart.step;
BEGIN
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, now());
    PERFORM pgpart._require_owner(p_parent);
    v_plan := array(SELECT s FROM pgpart._reattach_plan(p_parent, p_partition) AS s ORDER BY s.step);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_plan);
        RETURN;
    END IF;
    -- the CHECK and the ATTACH evaluate key code: it must be trusted
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl');
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent) AS l)
        || format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- planned again under the locks: another run may have changed the tree or the journal meanwhile
    v_plan := array(SELECT s FROM pgpart._reattach_plan(p_parent, p_partition) AS s ORDER BY s.step);
    FOREACH st IN ARRAY v_plan LOOP
        EXECUTE st.statement;
        RETURN NEXT st;
    END LOOP;
    PERFORM pgpart._gu_sync_tree(p_parent);  -- its values count again for global unique constraints
    IF EXISTS (
        SELECT 1 FROM pgpart._expiry(p_parent, now(), p_timeout) AS e WHERE e.partition = p_partition
    ) THEN
        RAISE WARNING USING
            MESSAGE = format('pgpart: %s is expired under the retention policy of %s', p_partition, p_parent),
            DETAIL = 'The next maintenance run detaches it again.',
            HINT = 'To keep it, change the policy first: SELECT * FROM pgpart.set_policy(parent, retention => ..., '
                   'retention_max_bytes => ..., retention_max_rows => ...).';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.reattach_partition(regclass, regclass, interval, integer, boolean) IS
'Attaches again, at its journaled bounds, a table retention detached (e.g. during its grace period) and closes its journal entry so it is never archived or dropped; locks under a timeout with retries; dry_run returns the steps.';
