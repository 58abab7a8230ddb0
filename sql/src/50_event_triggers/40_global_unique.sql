-- pgpart._gu_ddl_command_end(): the event trigger function of global
-- unique constraints (docs/global-unique.md). After CREATE TABLE or ALTER
-- TABLE by anyone it brings the constraints of the partition trees the
-- command touched in step (pgpart._gu_sync): a partition made or attached
-- by hand gets its TRUNCATE trigger and its values recorded, a detached one
-- releases its values. Separate from pgpart._ddl_command_end: it serves
-- every partitioned table with a global unique constraint, managed by
-- pgpart or not. Same manners: off with pgpart.event_triggers = off (pgpart's
-- own DDL then calls pgpart._gu_sync itself), under replication replica
-- mode and for extension scripts; pg_catalog first; no error escapes as an
-- error but one: a partition whose values duplicate another's is refused
-- (23505), as a unique index refuses the row -- letting it in would break
-- the constraint silently.
CREATE FUNCTION pgpart._gu_ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parents regclass [];
    v_parent regclass;
    v_state text;
    v_message text;
BEGIN
    IF lower(coalesce(current_setting('pgpart.event_triggers', true), '')) IN ('off', 'false', 'no', '0')
       OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    -- pg_catalog alone: a table of a partition tree?
    SELECT array_agg(DISTINCT a.relid ORDER BY a.relid) INTO v_parents
    FROM pg_event_trigger_ddl_commands() AS cmd
    CROSS JOIN LATERAL pg_partition_ancestors(cmd.objid) AS a (relid)
    JOIN pg_class AS c ON c.oid = a.relid
    WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension AND c.relkind = 'p';
    IF v_parents IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT DISTINCT g.parent FROM pgpart.global_unique AS g
                           WHERE g.parent = ANY (v_parents) ORDER BY g.parent);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
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

COMMENT ON FUNCTION pgpart._gu_ddl_command_end() IS
'Event trigger function: after CREATE/ALTER TABLE in a partition tree with global unique constraints, records new partitions and releases detached ones (pgpart._gu_sync); refuses a partition with duplicate values (23505), warns otherwise.';

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
    v_ids bigint [];
    v_state text;
    v_message text;
BEGIN
    IF current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    -- a dropped parent: its constraints go, side tables included
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent::oid IN (SELECT o.objid FROM pg_event_trigger_dropped_objects() AS o
                                WHERE o.classid = 'pg_class'::regclass AND o.object_type = 'table')
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
    SELECT array_agg(DISTINCT substring(o.address_names[3] FROM '^pgpart_gu_([0-9]+)_truncate$')::bigint)
    INTO v_ids
    FROM pg_event_trigger_dropped_objects() AS o
    WHERE o.object_type = 'trigger' AND o.address_names[3] ~ '^pgpart_gu_[0-9]+_truncate$'
      AND EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() AS t
                  WHERE t.object_type = 'table' AND t.address_names[1] = o.address_names[1]
                    AND t.address_names[2] = o.address_names[2]);
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
