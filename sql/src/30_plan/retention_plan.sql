-- pgpart._retention_plan(parent, now_at, online, timeout, retries): the
-- ordered steps of retention for one managed parent, each one statement
-- meant to run in its own transaction (DESIGN §3, §4):
--   finalize  a detach left pending by an interrupted DETACH CONCURRENTLY;
--   discard   a journal entry no longer valid (pgpart._journal), never acted on;
--   archive / drop  tables detached earlier whose second half is still due;
--   detach    each expired partition: with ONLINE and no default partition
--             a journal step then DETACH ... CONCURRENTLY (top level: only a
--             client can run it), else the lock-bounded plain DETACH;
--             each followed by its archive or drop step;
--   analyze   the parent, when the policy asks for it.
-- Long (about 140 lines): the kinds of step above must come out in this
-- order from one reading of the policy, the journal and pending detaches.
CREATE FUNCTION pgpart._retention_plan(
    p_parent regclass,
    p_now_at timestamptz,
    p_online boolean,
    p_timeout interval,
    p_retries integer,
    p_planned_upper numeric DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_has_default boolean;
    v_step integer := 0;
    v_follow text;
    v_detach_locks text;
    st pgpart.step;
    r record;
    v_journal record;
    v_checked boolean := false;
BEGIN
    v_cfg := pgpart._managed(p_parent);
    v_has_default := pgpart._default_partition(p_parent) IS NOT NULL;

    FOR r IN SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i WHERE i.inhparent = p_parent AND i.inhdetachpending LOOP
        v_step := v_step + 1;
        st := ROW(v_step, r.partition::text, NULL, NULL, 'finalize',
                  format('SELECT pgpart._finalize_detach(%L::regclass, %L::regclass, %L, %s)',
                         p_parent::text, r.partition::text, p_timeout, p_retries),
                  format('SHARE UPDATE EXCLUSIVE on %s, ACCESS EXCLUSIVE on %s; waits for transactions using the parent',
                         p_parent, r.partition),
                  false)::pgpart.step;
        RETURN NEXT st;
        -- a journaled retention detach: its archive or drop follows at once
        SELECT j.then_action, j.archive_schema, j.archive_tablespace
        INTO v_journal
        FROM pgpart._journal(p_parent) AS j
        WHERE j.detached = r.partition::oid AND j.state = 'pending'
        ORDER BY j.entry DESC
        LIMIT 1;
        IF v_journal.then_action IN ('archive', 'drop') THEN
            v_step := v_step + 1;
            st := pgpart._follow_up_step(v_step, p_parent, r.partition, v_journal.then_action, v_journal.archive_schema,
                                         v_journal.archive_tablespace, p_timeout, p_retries);
            RETURN NEXT st;
        END IF;
    END LOOP;

    -- journal entries no longer valid (table gone, renamed, still attached,
    -- an owner changed): never acted on, discarded with the reason
    FOR r IN SELECT j.entry, j.detached_name, j.problem FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale' LOOP
        v_step := v_step + 1;
        RETURN NEXT ROW(v_step, r.detached_name, NULL, NULL, 'discard',
                        format('SELECT pgpart._discard_journal(%L::regclass, %s, %L, %s)',
                               p_parent::text, r.entry, p_timeout, p_retries),
                        format('none on tables (journal entry void: %s)', r.problem), false)::pgpart.step;
    END LOOP;

    FOR r IN SELECT * FROM pgpart._detached_awaiting(p_parent) LOOP
        v_step := v_step + 1;
        st := pgpart._follow_up_step(v_step, p_parent, r.detached, r.then_action, r.archive_schema,
                                     r.archive_tablespace, p_timeout, p_retries);
        RETURN NEXT st;
    END LOOP;

    IF v_cfg.retention IS NOT NULL THEN
        IF v_cfg.referenced_retention = 'refuse' AND EXISTS (
            SELECT 1 FROM pg_constraint AS con
            WHERE con.confrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('retention on table %s is refused: other tables reference it by foreign key', p_parent),
                DETAIL = format('Referencing tables: %s.',
                                (SELECT string_agg(DISTINCT con.conrelid::regclass::text, ', ')
                                 FROM pg_constraint AS con
                                 WHERE con.confrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0)),
                HINT = 'DETACH takes ACCESS EXCLUSIVE on referencing tables and fails while rows reference the partition. '
                       'To proceed anyway: SELECT pgpart.set_policy(parent, referenced_retention => ''allow'').';
        END IF;
        SELECT string_agg(l.locks, ', ') INTO v_detach_locks
        FROM pgpart._lock_statements(p_parent, p_parent) AS l
        WHERE l.locks LIKE '%(foreign key)' OR l.locks LIKE '%(default partition)';
        FOR r IN SELECT e.partition FROM pgpart._expired_partitions(p_parent, p_now_at, p_timeout, p_planned_upper) AS e LOOP
            IF NOT v_checked THEN
                -- only the policy of the table's owner (as maintenance
                -- requires, whichever path runs retention): not one a former
                -- owner wrote before ALTER ... OWNER or REASSIGN OWNED
                PERFORM pgpart._require_policy_of_owner(p_parent, v_cfg.policy_author);
                -- a bad destination (pgpart.config is writable by the owner)
                -- refuses retention before anything is detached
                IF v_cfg.retention_action = 'archive' THEN
                    PERFORM pgpart._require_archive_schema(p_parent, v_cfg.archive_schema);
                    PERFORM pgpart._require_owner_tablespace(p_parent, v_cfg.archive_tablespace, 'archive tablespace');
                END IF;
                v_checked := true;
            END IF;
            IF p_online AND NOT v_has_default THEN
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'journal',
                                format('SELECT pgpart._journal_detach(%L::regclass, %L::regclass)',
                                       p_parent::text, r.partition::text),
                                'ROW EXCLUSIVE on pgpart.log', false)::pgpart.step;
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'detach',
                                format('ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY', p_parent, r.partition),
                                concat_ws(', ', format('SHARE UPDATE EXCLUSIVE on %s and %s', p_parent, r.partition),
                                          nullif(v_detach_locks, ''), 'waits for transactions using the parent'),
                                true)::pgpart.step;
            ELSE
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'detach',
                                format('SELECT pgpart._detach_partition(%L::regclass, %L::regclass, %L, %s)',
                                       p_parent::text, r.partition::text, p_timeout, p_retries),
                                concat_ws(', ', format('ACCESS EXCLUSIVE on %s (until commit)', p_parent),
                                          nullif(v_detach_locks, ''), format('ACCESS EXCLUSIVE on %s', r.partition)),
                                false)::pgpart.step;
            END IF;
            v_follow := v_cfg.retention_action;
            IF v_follow IN ('archive', 'drop') THEN
                v_step := v_step + 1;
                st := pgpart._follow_up_step(v_step, p_parent, r.partition, v_follow, v_cfg.archive_schema,
                                             v_cfg.archive_tablespace, p_timeout, p_retries);
                RETURN NEXT st;
            END IF;
        END LOOP;
    END IF;

    IF v_step > 0 AND v_cfg.analyze_after THEN
        v_step := v_step + 1;
        -- bounded, its failure logged and not raised (pgpart._analyze_bounded)
        RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'analyze',
                        format('SELECT pgpart._analyze_bounded(%L::regclass, %L)', p_parent::text, p_timeout),
                        format('SHARE UPDATE EXCLUSIVE on %s and its partitions', p_parent), false)::pgpart.step;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._retention_plan(regclass, timestamptz, boolean, interval, integer, numeric) IS
'Ordered retention steps for a managed parent, each a single statement for its own transaction.';

-- pgpart._require_policy_of_owner(parent, author): raises 55000 unless the
-- policy's AUTHOR still owns PARENT (or is a member of its owner): the
-- expired partitions of a table are detached only under a policy its
-- current owner wrote. Maintenance skips such a parent (pgpart._may_maintain);
-- this makes detach_and_archive refuse it too, whoever calls.
CREATE FUNCTION pgpart._require_policy_of_owner(p_parent regclass, p_author name)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner oid;
BEGIN
    SELECT c.relowner INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    -- nested, not OR: pg_has_role raises for a role that no longer exists
    IF EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = p_author) THEN
        IF pg_has_role(p_author, v_owner, 'USAGE') THEN
            RETURN;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = format('the retention policy of %s was written by %I, who no longer owns the table', p_parent,
                         p_author),
        DETAIL = format('Table %s is owned by %I. Retention applies only a policy of the table''s owner, '
                        'whichever path runs it.', p_parent, pg_get_userbyid(v_owner)),
        HINT = format('As %I, check the policy, then adopt it: UPDATE pgpart.config SET policy_author = current_user '
                      'WHERE parent = %L::regclass;', pg_get_userbyid(v_owner), p_parent::text);
END
$body$;

COMMENT ON FUNCTION pgpart._require_policy_of_owner(regclass, name) IS
'Raises 55000 unless the policy''s author still owns the parent (retention applies only the current owner''s policy).';

-- pgpart._follow_up_step(...): the archive or drop step for a detached table.
CREATE FUNCTION pgpart._follow_up_step(
    p_step integer,
    p_parent regclass,
    p_table regclass,
    p_action text,
    p_schema name,
    p_tablespace name,
    p_timeout interval,
    p_retries integer
)
RETURNS pgpart.step
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE
        WHEN p_action = 'drop' THEN
            ROW(p_step, p_table::text, NULL, NULL, 'drop',
                format('SELECT pgpart._drop_detached(%L::regclass, %L::regclass, %L, %s)',
                       p_parent::text, p_table::text, p_timeout, p_retries),
                format('ACCESS EXCLUSIVE on %s (detached)', p_table), false)::pgpart.step
        ELSE
            ROW(p_step, p_table::text, NULL, NULL, 'archive',
                format('SELECT pgpart._archive_partition(%L::regclass, %L::regclass, %L, %L, %L, %s)',
                       p_parent::text, p_table::text, p_schema, p_tablespace, p_timeout, p_retries),
                format('ACCESS EXCLUSIVE on %s (detached)%s', p_table,
                       CASE WHEN p_tablespace IS NOT NULL THEN ', rewrites it into tablespace ' || p_tablespace ELSE '' END),
                false)::pgpart.step
    END;
$body$;

COMMENT ON FUNCTION pgpart._follow_up_step(integer, regclass, regclass, text, name, name, interval, integer) IS
'The archive or drop step that follows the detach of a partition.';
