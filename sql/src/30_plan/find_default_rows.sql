-- pgpart._find_default_rows(parent, now_at): codes 'default_rows' (urgent:
-- the default partition holds rows, so every ATTACH scans it under ACCESS
-- EXCLUSIVE and ranges with rows in it cannot be created) and
-- 'default_rows_unknown' (not permitted to read it, it is locked, or
-- reading it would run the owner's code). The read runs under a 10 ms lock
-- timeout, so the check never waits.
-- STABLE: it only reads (a dynamic read of table data, in check()'s snapshot).
CREATE FUNCTION pgpart._find_default_rows(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_default regclass;
    v_strategy text;
    v_has_rows boolean;
    v_unknown text;  -- why the rows could not be read
BEGIN
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    SELECT c.strategy INTO v_strategy FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT has_table_privilege(v_default, 'SELECT') THEN
        v_unknown := 'not permitted to read it';
    ELSE
        BEGIN
            PERFORM pgpart._guard_owner_code(p_parent, 'read');
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s)', v_default) INTO v_has_rows;
        EXCEPTION
            WHEN lock_not_available THEN
                v_unknown := 'it is locked';
            WHEN insufficient_privilege THEN
                v_unknown := 'reading them would run code of the table''s owner (see the finding on owner code)';
        END;
    END IF;
    IF v_unknown IS NOT NULL THEN
        RETURN QUERY SELECT 'info', 'default_rows_unknown'::pgpart.finding_code, p_parent, v_default,
                        'rows in the default partition unknown: ' || v_unknown, NULL::text;
    ELSIF v_has_rows THEN
        RETURN QUERY SELECT 'urgent', 'default_rows'::pgpart.finding_code, p_parent, v_default,
                        'the default partition holds rows: every new partition scans it under ACCESS EXCLUSIVE, '
                        'and ranges with rows in it cannot be created',
                        -- the move exists for the range grid only: a list value
                        -- needs a partition chosen by hand (add_list_values)
                        CASE WHEN v_strategy = 'range'
                            THEN pgpart._fix_call('CALL pgpart.move_default_rows', p_parent, '', p_now_at) END;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_default_rows(regclass, timestamptz) IS
'Findings default_rows and default_rows_unknown of pgpart.check(): rows in the default partition, or why they could not be read (internal).';
