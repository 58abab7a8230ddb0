-- pgpart._acquire_locks(statements, timeout, retries): runs lock statements
-- (LOCK TABLE ONLY ..., pg_advisory_xact_lock(...)) in the given order as
-- one group, each waiting at most TIMEOUT. If any wait times out, the whole
-- group is released (its subtransaction rolls back, which releases locks
-- taken in it), the function sleeps a growing, jittered moment so queued
-- writers get through, and tries again; after RETRIES retries it raises
-- 55P03 and leaves nothing behind (DESIGN §3).
-- Autovacuum: when the statement that timed out is blocked by an autovacuum
-- worker alone, pgpart._autovacuum_yield may grant ONE extra attempt in
-- which that statement waits deadlock_timeout + TIMEOUT, so that PostgreSQL
-- (or pgpart, where the role may) cancels the worker; never for an
-- anti-wraparound vacuum, never twice in a row on one table. The other
-- statements keep TIMEOUT, and the attempt does not count as a retry.
CREATE FUNCTION pgpart._acquire_locks(p_statements text[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_attempt integer := 0;
    v_current text;
    v_statement text;
    v_yield record;
    v_long_statement text;   -- the statement of the one longer attempt
    v_long_timeout interval;
    v_yielded boolean := false;
    v_note text;
BEGIN
    PERFORM pgpart._set_lock_timeout(p_timeout);
    LOOP
        BEGIN
            FOREACH v_statement IN ARRAY p_statements LOOP
                v_current := v_statement;
                IF v_statement = v_long_statement THEN
                    -- set_config inside this block: a timeout rolls it back too
                    PERFORM pgpart._set_lock_timeout(v_long_timeout);
                    v_long_statement := NULL;
                    EXECUTE v_statement;
                    PERFORM pgpart._set_lock_timeout(p_timeout);
                ELSE
                    EXECUTE v_statement;
                END IF;
            END LOOP;
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            v_long_statement := NULL;
            IF NOT v_yielded THEN
                SELECT * INTO v_yield FROM pgpart._autovacuum_yield(v_current, p_timeout);
                v_note := v_yield.note;
                IF v_yield.timeout IS NOT NULL THEN
                    v_yielded := true;
                    v_long_statement := v_current;
                    v_long_timeout := v_yield.timeout;
                END IF;
            END IF;
            IF v_long_statement IS NULL THEN
                v_attempt := v_attempt + 1;
            END IF;
            IF v_attempt > p_retries THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'lock_not_available',
                    MESSAGE = format('could not obtain a lock within %s after %s attempts', p_timeout, v_attempt),
                    DETAIL = format('Waiting for: %s. Another session holds a conflicting lock.', v_current)
                             || coalesce(' ' || v_note, ''),
                    HINT = 'Nothing was changed. Retry later, or pass a longer lock_timeout or more lock_retries.';
            END IF;
        END;
        IF v_long_statement IS NULL THEN
            -- back off: 10 ms, 20 ms, ... up to 500 ms, with jitter
            PERFORM pg_sleep(least(0.5, 0.01 * v_attempt * (1 + random())));
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._acquire_locks(text[], interval, integer) IS
'Takes a group of locks in order, each under a lock timeout; on a timeout releases them all, backs off and retries, then raises 55P03.';

-- pgpart._set_lock_timeout(timeout): sets lock_timeout for the rest of the
-- calling function, which carries its own SET lock_timeout clause so that
-- the change ends when it returns (set_config(..., true) alone would last
-- until the end of the caller's transaction).
CREATE FUNCTION pgpart._set_lock_timeout(p_timeout interval)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT set_config('lock_timeout', (extract(epoch FROM p_timeout) * 1000)::bigint::text || 'ms', true);
$body$;

COMMENT ON FUNCTION pgpart._set_lock_timeout(interval) IS
'Sets lock_timeout for the rest of the calling function (which must carry a SET lock_timeout clause).';
