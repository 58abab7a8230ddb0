-- pgpart.split_legacy(parent, max_ranges, keep_legacy, ...): moves the rows
-- of a converted table's legacy partition (FROM (MINVALUE) TO (bound), as
-- convert_to_partitioned leaves it) into partitions of the grid: a floor
-- constraint validated online, then each grid range copied in a short
-- transaction into its new table while a trigger mirrors later writes of
-- it, then one swap transaction of catalog work that detaches the legacy
-- partition and attaches the range tables (docs/converting.md). Readers
-- read the legacy partition until the swap: no row is ever in transit.
-- DRY_RUN returns the plan (each step's statement, locks and estimated
-- rows); else the steps run in the caller's transaction, at most
-- MAX_RANGES range copies per call (the swap only once none is left), and
-- the rows returned are the steps done, rows_estimate the rows copied; the
-- index on the key, CONCURRENTLY in the plan, is built plainly here. WHY
-- a function and a client path: as for convert_to_partitioned, one call is
-- one transaction; the Python client (Client.split_legacy, `pgpart
-- split-legacy`) runs one step per transaction, so call it for big tables,
-- or call this repeatedly with max_ranges. Re-planned from the catalog: a
-- killed split continues where it stopped; a split table plans nothing.
CREATE FUNCTION pgpart.split_legacy(
    parent regclass,
    max_ranges integer DEFAULT NULL,
    keep_legacy boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_max_ranges ALIAS FOR max_ranges;
    p_keep ALIAS FOR keep_legacy;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_step record;
    v_copies integer := 0;
    v_rows bigint;
    v_n integer := 0;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_max_ranges IS NOT NULL AND p_max_ranges < 1 OR p_keep IS NULL OR p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'max_ranges must be at least 1, keep_legacy and dry_run not NULL',
            HINT = 'Leave max_ranges out (every range), or pass a positive number.';
    END IF;
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart._split_plan(p_parent, p_keep, p_lock_timeout, p_lock_retries);
        RETURN;
    END IF;
    -- one step at a time, planned again after each (the floor may move)
    LOOP
        SELECT * INTO v_step FROM pgpart._split_plan(p_parent, p_keep, p_lock_timeout, p_lock_retries) AS s
        ORDER BY s.step LIMIT 1;
        EXIT WHEN v_step.step IS NULL;
        IF v_step.action LIKE 'copy range%' THEN
            EXIT WHEN v_copies >= p_max_ranges;
            v_copies := v_copies + 1;
        ELSIF v_step.action LIKE 'swap%' AND v_copies > 0 AND p_max_ranges IS NOT NULL AND v_copies >= p_max_ranges THEN
            EXIT;
        END IF;
        v_rows := NULL;
        IF v_step.transaction = 'autocommit' THEN
            -- in a transaction: the plain build, which holds SHARE on the
            -- legacy partition (its writers wait) until commit
            EXECUTE replace(v_step.statement, ' CONCURRENTLY ', ' ');
        ELSIF v_step.action LIKE 'copy range%' THEN
            EXECUTE v_step.statement INTO v_rows;
        ELSIF v_step.action = 'validate split floor' THEN
            EXECUTE v_step.statement;
        ELSE
            EXECUTE v_step.statement;
        END IF;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, v_step.action, v_step.statement, v_step.locks, v_step.transaction,
                            coalesce(v_rows, v_step.rows_estimate);
        EXIT WHEN v_step.action LIKE 'swap%';
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.split_legacy(regclass, integer, boolean, interval, integer, boolean) IS
'Moves the rows of a converted table''s legacy partition into grid partitions: floor, one copy per range with a mirror trigger, one catalog-only swap; dry_run returns the plan; at most max_ranges copies per call (one transaction; the client runs one step per transaction).';
