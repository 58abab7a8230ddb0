-- pgpart._run_steps(steps, timeout, retries): executes a plan inside the
-- current transaction. The lock steps run first as one group under the lock
-- timeout, with retries (pgpart._acquire_locks); every other step is one
-- statement, run in order, still under the lock timeout so that nothing
-- waits unbounded. Steps marked top_level cannot run here: refused before
-- anything runs. The statements go to the server a batch at a time (one
-- EXECUTE of several statements, each still parsed and run in turn): a
-- PL/pgSQL EXECUTE per statement adds about half the time of the DDL of
-- an empty table itself (issue 16). A newline before each separator ends any
-- line comment a statement closes with.
CREATE FUNCTION pgpart._run_steps(p_steps pgpart.step[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    -- statements per EXECUTE: enough to make the call overhead vanish,
    -- few enough that no batch text grows large
    v_batch constant integer := 10;
    v_locks text [] := array(SELECT s.statement FROM unnest(p_steps) AS s WHERE s.action = 'lock' ORDER BY s.step);
    v_top pgpart.step;
    v_sql text;
BEGIN
    SELECT s.* INTO v_top FROM unnest(p_steps) AS s WHERE s.top_level AND s.action <> 'lock' ORDER BY s.step LIMIT 1;
    IF v_top.step IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'active_sql_transaction',
            MESSAGE = format('step %s must run at top level: %s', v_top.step, v_top.statement),
            HINT = 'Run this plan with the Python client (online=True), which executes such steps outside a transaction.';
    END IF;
    IF cardinality(v_locks) > 0 THEN  -- none when pgpart._apply took them
        PERFORM pgpart._acquire_locks(v_locks, p_timeout, p_retries);
    END IF;
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOR v_sql IN
        SELECT string_agg(b.statement, E'\n;\n' ORDER BY b.n)
        FROM (
            SELECT s.statement, row_number() OVER (ORDER BY s.ord) AS n
            FROM unnest(p_steps) WITH ORDINALITY AS s (step, partition, lower_bound, upper_bound, action, statement,
                                                       locks, top_level, ord)
            WHERE s.action <> 'lock'
        ) AS b
        GROUP BY (b.n - 1) / v_batch
        ORDER BY (b.n - 1) / v_batch
    LOOP
        EXECUTE v_sql;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._run_steps(pgpart.step[], interval, integer) IS
'Executes a plan in the current transaction: its locks as one group with timeout and retries, then each statement in order.';
