-- The second half of retention, always in a later transaction than the
-- detach: the detached table is no longer part of the parent, so the
-- ACCESS EXCLUSIVE it takes here blocks no writer of the parent.

-- pgpart._require_detached(parent, table): pgpart archives or drops only a
-- table its retention detached: one with a valid journal entry
-- (pgpart._journal: written by pgpart._journal_detach while the table was a
-- partition of PARENT, and still the same table, with the same owner as the
-- parent). Nothing else, whoever calls and whatever pgpart.log says
-- otherwise: the owner may write log rows, so only verified entries count.
CREATE FUNCTION pgpart._require_detached(p_parent regclass, p_table regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_state text;
    v_problem text;
BEGIN
    IF (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_table)
       IS DISTINCT FROM (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('table %s is not owned by the owner of %s', p_table, p_parent),
            HINT = 'pgpart archives or drops only tables detached from the parent, owned by its owner.';
    END IF;
    IF (SELECT c.relispartition FROM pg_class AS c WHERE c.oid = p_table) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is still a partition', p_table),
            HINT = 'Detach it first; pgpart archives or drops only detached tables.';
    END IF;
    SELECT j.state, j.problem INTO v_state, v_problem
    FROM pgpart._journal(p_parent) AS j WHERE j.detached = p_table::oid
    ORDER BY j.entry DESC LIMIT 1;
    IF v_state IS DISTINCT FROM 'awaiting' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s was not detached from %s by pgpart retention', p_table, p_parent),
            DETAIL = coalesce('Its journal entry is void: ' || v_problem || '.',
                              'No valid retention journal entry names it.'),
            HINT = 'pgpart archives or drops only tables its own retention detached; archive or drop this one by hand.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_detached(regclass, regclass) IS
'Raises 42501 unless the table belongs to the parent''s owner, 55000 while it is attached or when no valid retention journal entry names it.';

-- pgpart._archive_partition(parent, table, schema, tablespace, timeout,
-- retries): moves a detached table to the archive schema and/or tablespace,
-- its indexes too. A tablespace move rewrites the table under ACCESS
-- EXCLUSIVE on that table only.
CREATE FUNCTION pgpart._archive_partition(
    p_parent regclass,
    p_table regclass,
    p_schema name,
    p_tablespace name,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_name name;
    v_index regclass;
    v_rel regclass;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    PERFORM pgpart._require_detached(p_parent, p_table);
    -- the destination, checked now whoever runs this and wherever it came
    -- from (policy, journal, plan): never a system schema, pgpart or
    -- pg_global, only where the parent's owner may create
    PERFORM pgpart._require_archive_schema(p_parent, p_schema);
    PERFORM pgpart._require_owner_tablespace(p_parent, p_tablespace, 'archive tablespace');
    SELECT c.relname INTO v_name FROM pg_class AS c WHERE c.oid = p_table;
    IF p_schema IS NOT NULL AND to_regclass(format('%I.%I', p_schema, v_name)) IS NOT NULL
       AND to_regclass(format('%I.%I', p_schema, v_name)) <> p_table THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %I.%I already exists', p_schema, v_name),
            DETAIL = format('Archiving %s would move it there.', p_table),
            HINT = 'Rename or drop the table in the archive schema, then run retention again.';
    END IF;
    -- without ONLY: a sub-partitioned table locks its leaves too
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table)], p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- A sub-partitioned table moves with all its levels: SET SCHEMA and SET
    -- TABLESPACE on a partitioned table touch only that table.
    FOR v_rel IN
        WITH RECURSIVE tree AS (
            SELECT p_table::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel::regclass FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    LOOP
        IF p_schema IS NOT NULL AND p_schema <> (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n
                                                 ON n.oid = c.relnamespace WHERE c.oid = v_rel) THEN
            EXECUTE format('ALTER TABLE %s SET SCHEMA %I', v_rel, p_schema);
        END IF;
        IF p_tablespace IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s SET TABLESPACE %I', v_rel, p_tablespace);
            FOR v_index IN SELECT i.indexrelid::regclass FROM pg_index AS i WHERE i.indrelid = v_rel ORDER BY 1 LOOP
                EXECUTE format('ALTER INDEX %s SET TABLESPACE %I', v_index, p_tablespace);
            END LOOP;
        END IF;
    END LOOP;
    PERFORM pgpart._log_journal(p_parent, 'archive', p_table::oid, NULL, NULL,
                                jsonb_build_object('partition_oid', p_table::oid, 'table', p_table::text,
                                                   'schema', p_schema, 'tablespace', p_tablespace));
END
$body$;

COMMENT ON FUNCTION pgpart._archive_partition(regclass, regclass, name, name, interval, integer) IS
'Moves a detached partition and its indexes to the archive schema and/or tablespace, under a lock timeout with retries.';

-- pgpart._drop_detached(parent, table, timeout, retries): drops a table
-- retention detached earlier.
CREATE FUNCTION pgpart._drop_detached(p_parent regclass, p_table regclass, p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_name text := p_table::text;
    v_oid oid := p_table::oid;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    PERFORM pgpart._require_detached(p_parent, p_table);
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table)], p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('DROP TABLE %s', p_table);
    PERFORM pgpart._log_journal(p_parent, 'drop', v_oid, NULL, NULL,
                                jsonb_build_object('partition_oid', v_oid, 'table', v_name));
END
$body$;

COMMENT ON FUNCTION pgpart._drop_detached(regclass, regclass, interval, integer) IS
'Drops a table that retention detached earlier, under a lock timeout with retries.';
