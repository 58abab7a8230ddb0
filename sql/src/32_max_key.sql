-- pgpart._max_key(parent, key, timeout): the highest value of an integer
-- key, found by an index-backed max() on the newest non-empty partition and
-- on the default, never by scanning every partition. Each read waits at most
-- TIMEOUT for its lock; NULL means the table holds no rows.
CREATE FUNCTION pgpart._max_key(p_parent regclass, p_key name, p_timeout interval)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_max numeric;
    v_part_max numeric;
    r record;
BEGIN
    PERFORM set_config('lock_timeout', (extract(epoch FROM p_timeout) * 1000)::bigint::text || 'ms', true);
    FOR r IN
        SELECT p.partition, p.relkind, p.is_default
        FROM pgpart._partitions(p_parent) AS p
        WHERE NOT p.detach_pending
        ORDER BY p.is_default DESC, p.upper_coord DESC
    LOOP
        EXECUTE format('SELECT max(%I)::numeric FROM %s%s',
                       p_key, CASE WHEN r.relkind = 'p' THEN '' ELSE 'ONLY ' END, r.partition)
        INTO v_part_max;
        v_max := greatest(v_max, v_part_max);
        -- ranges are disjoint: the first non-empty one from the top holds the maximum
        EXIT WHEN v_part_max IS NOT NULL AND NOT r.is_default;
    END LOOP;
    RETURN v_max;
END
$body$;

COMMENT ON FUNCTION pgpart._max_key(regclass, name, interval) IS
'Highest key value of an integer-keyed parent, probing the newest non-empty partition and the default; waits at most the timeout per lock.';
