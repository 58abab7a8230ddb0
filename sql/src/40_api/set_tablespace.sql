-- pgpart.set_tablespace(partition, tablespace, ...): moves a partition and
-- all its indexes to TABLESPACE (seed rule: a partition's local indexes
-- follow its tablespace). This is a BLOCKING REWRITE of that partition: it
-- holds ACCESS EXCLUSIVE on it while the files are copied, and every query
-- on the parent that is not pruned to other partitions waits meanwhile.
-- The lock itself is taken under the lock timeout with retries.
CREATE FUNCTION pgpart.set_tablespace(
    partition regclass,
    tablespace name,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_partition ALIAS FOR partition;
    p_tablespace ALIAS FOR tablespace;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parent regclass;
    v_kind "char";
    v_target pgpart._target;
    v_steps pgpart.step [];
BEGIN
    PERFORM pgpart._require_owner(p_partition);  -- the table that moves: 42501 first
    SELECT c.relkind INTO v_kind FROM pg_class AS c WHERE c.oid = p_partition;
    IF v_kind <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('%s is not a plain table', p_partition),
            HINT = 'Move each leaf partition of a partitioned partition on its own.';
    END IF;
    -- a partition: its move is logged under its parent (refused before anything)
    SELECT i.inhparent::regclass INTO v_parent
    FROM pg_inherits AS i JOIN pg_partitioned_table AS pt ON pt.partrelid = i.inhparent
    WHERE i.inhrelid = p_partition;
    IF v_parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', p_partition),
            DETAIL = 'pgpart.set_tablespace moves partitions of partitioned tables.',
            HINT = format('Move a table of your own with ALTER TABLE %s SET TABLESPACE ... (a blocking rewrite).', p_partition),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_partition),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_partition);
    END IF;
    IF p_tablespace IS NULL OR NOT EXISTS (SELECT 1 FROM pg_tablespace AS t WHERE t.spcname = p_tablespace) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %s does not exist', coalesce(quote_ident(p_tablespace), 'NULL')),
            HINT = 'Pass the name of an existing tablespace.';
    END IF;
    -- prepare (the parent, whose log it writes; lock arguments) → plan →
    -- apply: the plan's only lock is the partition's, taken by _apply
    v_target := pgpart._prepare(v_parent, NULL, p_lock_timeout, p_lock_retries);
    v_steps := array(SELECT s FROM pgpart._plan_set_tablespace(p_partition, p_tablespace) AS s ORDER BY s.step);
    IF NOT p_dry_run THEN
        PERFORM pgpart._apply(v_target, v_steps, 'set_tablespace',
                              jsonb_build_object('partition', p_partition::text, 'tablespace', p_tablespace));
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart.set_tablespace(regclass, name, interval, integer, boolean) IS
'Moves a partition and all its indexes to a tablespace: a blocking rewrite of that partition, its lock taken under a timeout with retries. dry_run returns the plan.';
