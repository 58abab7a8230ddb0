-- pgpart._run_steps(steps, timeout, retries): executes a plan inside the
-- current transaction. The lock steps run first as one group under the lock
-- timeout, with retries (pgpart._acquire_locks); every other step is one
-- statement, run in order, still under the lock timeout so that nothing
-- waits unbounded. Steps marked top_level cannot run here.
CREATE FUNCTION pgpart._run_steps(p_steps pgpart.step[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    st pgpart.step;
    v_locks text [] := array(SELECT s.statement FROM unnest(p_steps) AS s WHERE s.action = 'lock' ORDER BY s.step);
BEGIN
    IF cardinality(v_locks) > 0 THEN  -- none when pgpart._apply took them
        PERFORM pgpart._acquire_locks(v_locks, p_timeout, p_retries);
    END IF;
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOREACH st IN ARRAY p_steps LOOP
        CONTINUE WHEN st.action = 'lock';
        IF st.top_level THEN
            RAISE EXCEPTION USING
                ERRCODE = 'active_sql_transaction',
                MESSAGE = format('step %s must run at top level: %s', st.step, st.statement),
                HINT = 'Run this plan with the Python client (online=True), which executes such steps outside a transaction.';
        END IF;
        EXECUTE st.statement;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._run_steps(pgpart.step[], interval, integer) IS
'Executes a plan in the current transaction: its locks as one group with timeout and retries, then each statement in order.';
