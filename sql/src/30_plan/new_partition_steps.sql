-- pgpart._new_partition_steps(parent, table, bound, tablespace, reloptions):
-- the steps that build one new partition detached and attach it (DESIGN
-- §3): the statements of pgpart._partition_ddl, then ATTACH ... BOUND, then
-- the parent's replica identity; with SUBPARTITION the new table is itself
-- partitioned and filled before it is attached. Numbered from FIRST_STEP.
-- Used for every new partition: range, list, hash and default.
CREATE FUNCTION pgpart._new_partition_steps(
    p_parent regclass,
    p_table text,
    p_bound text,
    p_tablespace name,
    p_reloptions text[],
    p_first_step integer,
    p_subpartition jsonb DEFAULT NULL,
    p_parent_locks text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner name;
    v_parent_locks text;
    v_step integer := p_first_step;
    r record;
BEGIN
    -- ATTACH evaluates key code (on the default's rows too): it must be
    -- trusted, for every verb that plans a partition (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl');
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    -- a caller building many partitions passes the parent's lock text once
    v_parent_locks := p_parent_locks;
    IF v_parent_locks IS NULL THEN
        SELECT string_agg(l.locks, ', ') INTO v_parent_locks
        FROM pgpart._lock_statements(p_parent) AS l WHERE l.statement LIKE 'LOCK%';
    END IF;
    FOR r IN SELECT * FROM pgpart._partition_ddl(
        p_parent, p_table, p_tablespace, p_reloptions, v_owner,
        CASE WHEN p_subpartition IS NOT NULL
             THEN format('%s (%I)', upper(p_subpartition ->> 'method'), p_subpartition ->> 'key') END
    ) LOOP
        RETURN NEXT ROW(v_step, p_table, NULL, NULL, r.action, r.statement,
                        CASE r.action
                            WHEN 'create table' THEN format('ACCESS EXCLUSIVE on %s (new), ACCESS SHARE on %s',
                                                            p_table, p_parent)
                            WHEN 'create index' THEN format('SHARE on %s (new, empty)', p_table)
                            ELSE format('ACCESS EXCLUSIVE on %s (new, empty)', p_table)
                        END, false)::pgpart.step;
        v_step := v_step + 1;
    END LOOP;
    -- sub-partitioning: fill the new partitioned table before it is attached
    IF p_subpartition IS NOT NULL THEN
        FOR r IN SELECT * FROM pgpart._subpartition_steps(p_parent, p_table, p_subpartition, p_tablespace, p_reloptions,
                                                           v_owner, v_step) LOOP
            RETURN NEXT r;
            v_step := r.step + 1;
        END LOOP;
    END IF;
    RETURN NEXT ROW(v_step, p_table, NULL, NULL, 'attach',
                    format('ALTER TABLE %s ATTACH PARTITION %s %s', p_parent, p_table, p_bound),
                    format('%s, ACCESS EXCLUSIVE on %s (new, empty)', v_parent_locks, p_table), false)::pgpart.step;
    IF (SELECT c.relreplident FROM pg_class AS c WHERE c.oid = p_parent) <> 'd' THEN
        v_step := v_step + 1;
        RETURN NEXT ROW(v_step, p_table, NULL, NULL, 'replica identity',
                        format('SELECT pgpart._copy_replica_identity(%L::regclass)', p_table),
                        format('ACCESS EXCLUSIVE on %s (new, empty)', p_table), false)::pgpart.step;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._new_partition_steps(regclass, text, text, name, text[], integer, jsonb, text) IS
'Steps that build a new partition detached (table, constraints, indexes, owner), attach it with the given bound and copy the replica identity.';
