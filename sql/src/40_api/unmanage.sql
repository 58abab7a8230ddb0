-- pgpart.unmanage(parent, dry_run, missing_ok): stop managing a table.
-- Removes its policy row and nothing else: the partitions stay as they are,
-- attached, and become ordinary partitions pgpart no longer creates, detaches
-- or reconciles. It exists so that programs (the Python client, Django's
-- DeletePartitionedModel) never write pgpart.config themselves: the owner
-- check, the wait for pgpart's own work on the table and the log entry live
-- here, once. A pending detach is refused (55000): once the policy is gone,
-- nothing would finish it. missing_ok makes a table without a policy a no-op
-- (no row returned), as DROP ... IF EXISTS does.
CREATE FUNCTION pgpart.unmanage(
    parent regclass,
    dry_run boolean DEFAULT false,
    missing_ok boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    applied boolean,
    partitions integer,
    policy jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parent regclass := unmanage.parent;
    v_target pgpart._target;
    v_policy jsonb;
    v_partitions integer;
    v_pending text;
    v_schema name;
    v_table name;
BEGIN
    -- prepare: 42501 first, a refused call reveals nothing more; then this
    -- verb's own checks, its advisory lock without waiting, and the delete
    v_target := pgpart._prepare(v_parent, NULL);
    v_schema := v_target.schema_name;
    v_table := v_target.table_name;
    IF dry_run IS NULL OR missing_ok IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('dry_run and missing_ok of pgpart.unmanage(%s) must not be NULL', v_parent),
            HINT = 'Pass true or false.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    -- pgpart's own work on the table (maintenance, an online retention run
    -- holding the session lock) must not lose its policy half-way.
    IF NOT pg_try_advisory_xact_lock(pgpart.advisory_key(v_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('pgpart is working on table %s', v_parent),
            DETAIL = format('Another session holds pgpart''s advisory lock %s on the table.',
                            pgpart.advisory_key(v_parent)),
            HINT = 'Retry when that maintenance or retention run has finished.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT to_jsonb(c) - 'last_error' - 'last_error_at' INTO v_policy
    FROM pgpart.config AS c WHERE c.parent = v_parent
    FOR UPDATE;
    IF v_policy IS NULL THEN
        IF missing_ok THEN
            RETURN;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', v_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Nothing to do; pass missing_ok => true to accept tables without a policy.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT string_agg(i.inhrelid::regclass::text, ', ' ORDER BY i.inhrelid::regclass::text)
    INTO v_pending
    FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has a pending detach', v_parent),
            DETAIL = format('Partitions %s are being detached; without a policy nothing would finish it.',
                            v_pending),
            HINT = format('Finish it first: SELECT * FROM pgpart.run_maintenance(%L), '
                          'or ALTER TABLE %s DETACH PARTITION ... FINALIZE.', v_parent::text, v_parent),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT count(*)::integer INTO v_partitions FROM pg_inherits AS i WHERE i.inhparent = v_parent;
    IF NOT dry_run THEN
        DELETE FROM pgpart.config AS c WHERE c.parent = v_parent;
        DELETE FROM pgpart.due_cache AS d WHERE d.parent = v_parent::oid;  -- the tick's cache (due.sql)
        PERFORM pgpart._log(v_parent, 'unmanage', 'ok',
                            jsonb_build_object('partitions', v_partitions, 'policy', v_policy));
    END IF;
    parent_table := v_parent;
    action := 'unmanage';
    applied := NOT dry_run;
    partitions := v_partitions;
    policy := v_policy;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.unmanage(regclass, boolean, boolean) IS
'Stops managing a table: removes its policy (returned, and logged) and leaves its partitions attached. 42501 unless the caller owns the table, 55000 when it has no policy (unless missing_ok) or a detach is pending, 55P03 while pgpart works on it. dry_run changes nothing.';
