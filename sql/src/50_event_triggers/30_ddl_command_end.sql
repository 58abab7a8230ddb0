-- pgpart._ddl_command_end(): the event trigger function (DESIGN §7), the
-- only one after DDL: unrelated DDL pays one call and one look at the
-- command list, whatever pgpart does with partition trees (issue 16).
-- After CREATE TABLE, ALTER TABLE, CREATE INDEX or ALTER INDEX by anyone, it
-- first hands the partition trees the command touched to the global unique
-- constraints (pgpart._gu_ddl_command_end, docs/global-unique.md), then
-- brings the partitions of the managed parents in step
-- (pgpart._apply_reconcile): a new or attached partition gets the parent's
-- owner and its indexes in its tablespace; an index created on the parent moves
-- into each partition's tablespace; a partition moved to another tablespace
-- takes its indexes along; a new owner of the parent becomes the owner of
-- every partition. Event triggers cannot tell which partition an ATTACH
-- added, nor see the indexes it created, so the whole set is re-checked.
-- Moving a large index is a blocking rewrite: it is left, with a NOTICE and
-- an entry in pgpart.log, for pgpart.check() and reconcile(move_large).
--
-- It runs for every such command of every role, with that role's rights:
--   * it returns at once when pgpart.event_triggers is off (pgpart's own DDL
--     helpers set it with a function-level SET, which reverts on return;
--     pg_restore runs with PGOPTIONS='-c pgpart.event_triggers=off'), under
--     session_replication_role = replica, and for commands of extension
--     scripts;
--   * it decides from pg_catalog alone whether a partitioned table or a
--     partition was touched, then asks the SECURITY DEFINER
--     pgpart._is_managed, and touches none of pgpart's tables otherwise;
--     a role that may not use schema pgpart cannot ask, so its commands are
--     left alone (without a message) for check() and maintenance;
--   * no error escapes: a failure becomes a WARNING carrying its SQLSTATE,
--     logged through the SECURITY DEFINER pgpart._log_event, and the user's
--     command succeeds.
-- Long (about 130 lines): the early exits listed above and the error wrapper
-- must all live in the one function the event trigger calls.
CREATE FUNCTION pgpart._ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parents regclass [];
    v_commands text [];
    v_parent regclass;
    v_changes jsonb;
    v_skipped jsonb;
    v_large bigint;
    v_state text;
    v_message text;
BEGIN
    -- First, what pgpart's own DDL sets (one expression, about 6 us: it runs
    -- ~4 statements per partition it makes, which should not pay the filter
    -- below). lower() of an unset parameter is not even called (NULL).
    IF lower(current_setting('pgpart.event_triggers', true)) IN ('off', 'false', 'no', '0')
       OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    -- Then pg_catalog alone, through the system caches: all that unrelated
    -- DDL pays (about 32 us per call on PG 15, track_functions, of which
    -- reading the command list is 11 us: in the fresh transaction of an
    -- autocommitted command every statement costs about 6 us and every
    -- expression 2-4 us, an aggregate node 10 us more; so one PERFORM and
    -- one IF, everything else after them: issue 16). Did the command
    -- touch a partitioned table, a partition, or an index of one?
    -- pg_partition_root is NULL for anything else, and for an index not
    -- attached to a parent index, whose table is looked up (only for the
    -- index tags: the indexes CREATE TABLE reports come with their table).
    IF TG_TAG IN ('CREATE INDEX', 'ALTER INDEX') THEN
        PERFORM FROM pg_event_trigger_ddl_commands() AS cmd
        WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
          AND (
              pg_partition_root(cmd.objid) IS NOT NULL
              OR EXISTS (
                  SELECT 1 FROM pg_index AS x
                  WHERE x.indexrelid = cmd.objid AND pg_partition_root(x.indrelid) IS NOT NULL
              )
          )
        LIMIT 1;
    ELSE
        PERFORM FROM pg_event_trigger_ddl_commands() AS cmd
        WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
          AND pg_partition_root(cmd.objid) IS NOT NULL
        LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT array_agg(DISTINCT cmd.command_tag ORDER BY cmd.command_tag) INTO v_commands
    FROM pg_event_trigger_ddl_commands() AS cmd;
    -- Then every partitioned table above (or being) a table the command
    -- touched, directly or through one of its indexes (commands on
    -- anything else find none).
    SELECT array_agg(DISTINCT a.relid ORDER BY a.relid) INTO v_parents
    FROM pg_event_trigger_ddl_commands() AS cmd
    JOIN pg_class AS c ON c.oid = cmd.objid
    LEFT JOIN pg_index AS i ON i.indexrelid = c.oid
    JOIN pg_class AS t ON t.oid = coalesce(i.indrelid, c.oid)
    CROSS JOIN LATERAL pg_partition_ancestors(t.oid) AS a (relid)
    JOIN pg_class AS pc ON pc.oid = a.relid
    WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
      AND (t.relkind = 'p' OR t.relispartition) AND pc.relkind = 'p';
    IF v_parents IS NULL THEN
        RETURN;
    END IF;

    -- Managed parents only. A role that may not ask (no USAGE on schema
    -- pgpart, or no EXECUTE on the helper) cannot be told anything, and when
    -- the question itself fails nobody knows whether pgpart manages them:
    -- either way, nothing to say about them.
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE') THEN
            RETURN;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
    -- Global unique constraints of these trees (any tree, managed or not);
    -- a partition duplicating another's values is refused there (23505).
    PERFORM pgpart._gu_ddl_command_end(v_parents);
    BEGIN
        IF NOT has_function_privilege('pgpart._is_managed(oid)', 'EXECUTE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT p.p FROM unnest(v_parents) AS p (p) WHERE pgpart._is_managed(p.p) ORDER BY p.p);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;

    FOREACH v_parent IN ARRAY v_parents LOOP
        v_changes := NULL;
        v_skipped := NULL;
        v_large := 0;
        v_state := NULL;
        v_message := NULL;
        BEGIN
            SELECT
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement))
                FILTER (WHERE r.action NOT IN ('skipped large', 'skipped')),
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement, 'detail', r.detail))
                FILTER (WHERE r.action IN ('skipped large', 'skipped')),
                count(*) FILTER (WHERE r.action = 'skipped large')
            INTO v_changes, v_skipped, v_large
            FROM pgpart._apply_reconcile(v_parent, false, interval '200ms', 2, false) AS r;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            v_changes := NULL;
            v_skipped := NULL;
            v_large := 0;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not bring the partitions of %s in step: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded; pgpart changed nothing after it.',
                HINT = format('pgpart.check(%L) lists what is out of step; SELECT * FROM pgpart.reconcile(%L); '
                              'or maintenance repairs it.', v_parent::text, v_parent::text);
        END;
        IF v_large > 0 THEN
            RAISE NOTICE USING
                MESSAGE = format('pgpart: %s index(es) of partitions of %s left outside their partition''s tablespace: '
                                 'moving them rewrites them under ACCESS EXCLUSIVE', v_large, v_parent),
                HINT = format('When that may block, run SELECT * FROM pgpart.reconcile(%L, move_large => true); '
                              'pgpart.check(%L) lists each move.', v_parent::text, v_parent::text);
        END IF;
        CONTINUE WHEN v_changes IS NULL AND v_skipped IS NULL AND v_state IS NULL;
        BEGIN
            PERFORM pgpart._log_event(
                v_parent, current_user, v_commands, CASE WHEN v_state IS NULL THEN 'ok' ELSE 'warning' END,
                v_state, v_message, coalesce(v_changes, '[]'::jsonb) || coalesce(v_skipped, '[]'::jsonb));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not log the reconcile of %s: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded.';
        END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._ddl_command_end() IS
'Event trigger function: after DDL touching a managed parent or its partitions, brings the partitions in step (pgpart._apply_reconcile); never raises, warns instead.';
