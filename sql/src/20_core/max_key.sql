-- pgpart._max_key(parent, key, timeout): the highest value of an integer
-- key, found by index-backed max() probes of the newest non-empty partition
-- and of the default, never by scanning every partition. Each probe reads
-- through the parent with the partition's bounds, so plan-time pruning keeps
-- it to that one partition and only the parent's privileges count
-- (partitions carry no grants, DESIGN §6). Each read waits at most TIMEOUT
-- for its lock; NULL means the table holds no rows.
CREATE FUNCTION pgpart._max_key(p_parent regclass, p_key name, p_timeout interval)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_max numeric;
    v_part_max numeric;
    v_key_type regtype;
    r record;
BEGIN
    -- reading goes through the row-level security of the parent and the
    -- default: their policies' code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'read');
    PERFORM pgpart._set_lock_timeout(p_timeout);
    SELECT a.atttypid::regtype INTO v_key_type
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attname = p_key;
    FOR r IN
        SELECT p.partition, p.is_default, p.lower_coord, p.upper_coord
        FROM pgpart._partitions(p_parent) AS p
        WHERE NOT p.detach_pending
        ORDER BY p.is_default DESC, p.upper_coord DESC
    LOOP
        IF r.is_default THEN
            -- no bounds to prune with: read it directly, if we may
            CONTINUE WHEN NOT has_table_privilege(r.partition, 'SELECT');
            EXECUTE format('SELECT max(%I)::numeric FROM ONLY %s', p_key, r.partition) INTO v_part_max;
        ELSE
            EXECUTE format('SELECT max(%I)::numeric FROM %s WHERE %s', p_key, p_parent,
                           concat_ws(' AND ',
                                     format('%I IS NOT NULL', p_key),
                                     CASE WHEN r.lower_coord > '-Infinity'::numeric THEN format('%I >= %s', p_key,
                                         pgpart._coord_to_literal(v_key_type, r.lower_coord)) END,
                                     CASE WHEN r.upper_coord < 'Infinity'::numeric THEN format('%I < %s', p_key,
                                         pgpart._coord_to_literal(v_key_type, r.upper_coord)) END))
            INTO v_part_max;
        END IF;
        v_max := greatest(v_max, v_part_max);
        -- ranges are disjoint: the first non-empty one from the top holds the maximum
        EXIT WHEN v_part_max IS NOT NULL AND NOT r.is_default;
    END LOOP;
    RETURN v_max;
END
$body$;

COMMENT ON FUNCTION pgpart._max_key(regclass, name, interval) IS
'Highest key value of an integer-keyed parent, probing through the parent the newest non-empty partition and the default; waits at most the timeout per lock.';
