-- pgpart._gu_ddl_command_end(parents): the global unique constraints'
-- part of the event trigger after DDL, called by pgpart._ddl_command_end
-- (one event trigger function for all: unrelated DDL pays one call) with
-- every partitioned table above (or being) a table the command touched. It
-- brings the constraints of those trees in step (pgpart._gu_sync): a
-- partition made or attached by hand gets its TRUNCATE trigger and its values
-- recorded, a detached one releases its values. It serves every partitioned
-- table with a global unique constraint, managed by pgpart or not. No error
-- escapes as an error but one: a partition whose values duplicate another's
-- is refused (23505), as a unique index refuses the row -- letting it in
-- would break the constraint silently; and a column of a constraint
-- renamed or retyped is followed (pgpart._gu_follow_columns) or the command
-- refused (55000).
CREATE FUNCTION pgpart._gu_ddl_command_end(p_parents regclass[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parents regclass [];
    v_parent regclass;
    v_follow record;
    v_state text;
    v_message text;
BEGIN
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT DISTINCT g.parent FROM pgpart.global_unique AS g
                           WHERE g.parent = ANY (p_parents) ORDER BY g.parent);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
    -- ALTER TABLE: a renamed or retyped column of a constraint is followed
    -- first; when it cannot be, the command fails (55000) rather than leave
    -- every later write to the table failing
    FOR v_follow IN
        SELECT g AS gu, (
            SELECT a.attname FROM pg_event_trigger_ddl_commands() AS cmd
            JOIN pg_attribute AS a ON a.attrelid = cmd.objid AND a.attnum = cmd.objsubid
            WHERE cmd.object_type = 'table column' AND cmd.objsubid > 0
              AND g.parent IN (SELECT t.relid FROM pg_partition_tree(cmd.objid) AS t)
            LIMIT 1
        ) AS renamed
        FROM pgpart.global_unique AS g
        WHERE g.parent = ANY (v_parents)
          AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
          AND EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() AS cmd WHERE cmd.command_tag = 'ALTER TABLE')
        ORDER BY g.id
    LOOP
        PERFORM pgpart._gu_follow_columns(v_follow.gu, v_follow.renamed);
    END LOOP;
    FOREACH v_parent IN ARRAY v_parents LOOP
        BEGIN
            PERFORM pgpart._gu_sync(v_parent);
        EXCEPTION
            WHEN unique_violation THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                RAISE WARNING USING
                    ERRCODE = v_state,
                    MESSAGE = format('pgpart: could not bring the global unique constraints of %s in step: %s '
                                     '(SQLSTATE %s)', v_parent, v_message, v_state),
                    DETAIL = 'Your command succeeded; partitions it added or detached may not be recorded.',
                    HINT = 'pgpart.check() lists what is out of step, with the fix.';
        END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_ddl_command_end(regclass[]) IS
'The event trigger''s part for global unique constraints: after CREATE/ALTER TABLE in these partition trees, records new partitions and releases detached ones (pgpart._gu_sync); follows a renamed or retyped column of a constraint (55000 when it cannot); refuses a partition with duplicate values (23505), warns otherwise.';

-- pgpart._gu_sql_drop(): a recorded table dropped (DROP TABLE of a
-- partition, or of a detached table still recorded) leaves its values in
-- the side table: the rows are gone, so nothing can tell which. The
-- constraint is marked stale (check() finding global_unique_stale; the fix
-- prunes the values no row holds). Detach first, then drop, to release them
-- at once (pgpart's retention does). A dropped parent takes its constraints
-- along: registration and side table (a warning when that fails, e.g. a
-- foreign key references the side table; check() then gives the fix).
CREATE FUNCTION pgpart._gu_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_tables oid [];
    v_ids bigint [];
    v_state text;
    v_message text;
BEGIN
    -- The unrelated DROP TABLE stops here, after one statement and one IF
    -- (about 20 us per call on PG 15, track_functions; in this fresh
    -- transaction each further statement would cost about 6 us, each
    -- expression 2-4 us, a subquery more: issue 16; so the replica check
    -- comes after the filter). Nothing of a global unique constraint was
    -- dropped unless one of its triggers was (a parent's row triggers, a
    -- recorded table's TRUNCATE trigger), named pgpart_gu_<id>_<event>,
    -- which the trigger's object_identity begins with, unquoted. A parent
    -- whose triggers were dropped by hand first is left registered:
    -- check() reports it (global_unique_broken) with the fix.
    PERFORM FROM pg_event_trigger_dropped_objects() AS o
    WHERE o.object_type = 'trigger' AND o.object_identity LIKE 'pgpart\_gu\_%'
    LIMIT 1;
    IF NOT FOUND OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    SELECT
        array_agg(o.objid) FILTER (WHERE o.classid = 'pg_class'::regclass),
        array_agg(DISTINCT substring(o.address_names[3] FROM '^pgpart_gu_([0-9]+)_truncate$')::bigint)
        FILTER (WHERE o.classid = 'pg_trigger'::regclass)
    INTO v_tables, v_ids
    FROM pg_event_trigger_dropped_objects() AS o
    WHERE o.classid = 'pg_class'::regclass AND o.object_type = 'table' AND o.objsubid = 0
       OR o.classid = 'pg_trigger'::regclass AND o.address_names[3] ~ '^pgpart_gu_[0-9]+_truncate$';
    -- a dropped parent: its constraints go, side tables included
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent::oid = ANY (v_tables)
        ORDER BY g.id
    LOOP
        BEGIN
            DELETE FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
            IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
                EXECUTE format('DROP TABLE %s', v_gu.side_table);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not drop global unique constraint %I of the dropped table %s: %s '
                                 '(SQLSTATE %s)', v_gu.constraint_name, v_gu.parent::oid, v_message, v_state),
                DETAIL = 'Your command succeeded.',
                HINT = 'pgpart.check() gives the statements that remove what is left.';
        END;
    END LOOP;
    -- a TRUNCATE trigger of a global unique constraint, dropped with its table
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        UPDATE pgpart.global_unique AS g SET stale_since = coalesce(g.stale_since, now())
        WHERE g.id = ANY (v_ids) AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        RAISE WARNING USING
            ERRCODE = v_state,
            MESSAGE = format('pgpart: could not mark global unique constraints stale: %s (SQLSTATE %s)',
                             v_message, v_state),
            DETAIL = 'Your command succeeded; the dropped table''s values may still be taken.';
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sql_drop() IS
'Event trigger function: a dropped table whose values a global unique constraint held marks that constraint stale (check() finding global_unique_stale); never raises.';
