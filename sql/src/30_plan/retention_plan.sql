-- pgpart._retention_plan(parent, now_at, online, timeout, retries): the
-- ordered steps of retention for one managed parent, each one statement
-- meant to run in its own transaction (DESIGN §3, §4):
--   finalize  a detach left pending by an interrupted DETACH CONCURRENTLY;
--   discard   a journal entry no longer valid (pgpart._journal), never acted on;
--   archive / drop  tables detached earlier whose second half is due (its
--             grace period, retention_grace, over: pgpart._follow_ups_due);
--   detach    each expired partition (pgpart._expiry: by age, size or
--             rows): with ONLINE and no default partition a journal step
--             then DETACH ... CONCURRENTLY (top level: only a client can
--             run it), else the lock-bounded plain DETACH; each followed by
--             its archive or drop step unless a grace period delays it;
--   analyze   the parent, when the policy asks for it.
-- Long (about 145 lines): the kinds of step above must come out in this
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
        SELECT j.then_action, j.archive_schema, j.archive_tablespace, j.entry
        INTO v_journal
        FROM pgpart._journal(p_parent) AS j
        WHERE j.detached = r.partition::oid AND j.state = 'pending'
        ORDER BY j.entry DESC
        LIMIT 1;
        -- (not while its grace period lasts: pgpart._follow_ups_due plans it then)
        IF v_journal.then_action IN ('archive', 'drop') AND pgpart._grace_until(p_parent, v_journal.entry) <= greatest(p_now_at, now()) THEN
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

    FOR r IN SELECT * FROM pgpart._follow_ups_due(p_parent, p_now_at) LOOP
        v_step := v_step + 1;
        st := pgpart._follow_up_step(v_step, p_parent, r.detached, r.then_action, r.archive_schema,
                                     r.archive_tablespace, p_timeout, p_retries);
        RETURN NEXT st;
    END LOOP;

    IF v_cfg.retention IS NOT NULL OR v_cfg.retention_max_bytes IS NOT NULL OR v_cfg.retention_max_rows IS NOT NULL THEN
        IF v_cfg.referenced_retention = 'refuse' AND EXISTS (
            SELECT 1 FROM pgpart._foreign_keys_in(p_parent) AS con WHERE con.conparentid = 0
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('retention on table %s is refused: other tables reference it by foreign key', p_parent),
                DETAIL = format('Referencing tables: %s.',
                                (SELECT string_agg(DISTINCT con.conrelid::regclass::text, ', ')
                                 FROM pgpart._foreign_keys_in(p_parent) AS con WHERE con.conparentid = 0)),
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
            -- with a grace period the table stays detached (readable by
            -- name, pgpart.reattach_partition brings it back) until it is due
            IF v_follow IN ('archive', 'drop') AND v_cfg.retention_grace IS NULL THEN
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

-- pgpart._follow_ups_due(parent, now_at): the tables retention detached
-- (journal entries still valid, pgpart._journal) whose archive or drop is
-- due: their grace period (pgpart._grace_until) is over at NOW_AT or now,
-- whichever is later (a grace period passes in real time since the
-- journaled detach; a NOW_AT ahead of the clock asks what will be due
-- then, one behind it changes nothing). The one
-- selection of due follow-ups: the retention plan, check() and maintenance's
-- report read it. DUE_AT says since when.
CREATE FUNCTION pgpart._follow_ups_due(p_parent regclass, p_now_at timestamptz)
RETURNS TABLE (
    detached regclass, then_action text, archive_schema name, archive_tablespace name, entry bigint,
    due_at timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.archive_schema, j.archive_tablespace, j.entry, g.due_at
        FROM pgpart._journal(p_parent) AS j
        CROSS JOIN LATERAL (SELECT pgpart._grace_until(p_parent, j.entry) AS due_at) AS g
        -- (an entry awaiting another action, e.g. a client's export, is not SQL retention's)
        WHERE j.state = 'awaiting' AND j.then_action IN ('archive', 'drop') AND g.due_at <= greatest(p_now_at, now())
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._follow_ups_due(regclass, timestamptz) IS
'Tables detached by retention whose archive or drop is due now: journal entries still valid whose grace period is over.';

-- pgpart._in_grace(parent, now_at): the tables retention detached whose
-- archive or drop waits for the end of their grace period (valid journal
-- entries, pgpart._journal, due after NOW_AT and now): readable by name, and
-- pgpart.reattach_partition can bring them back meanwhile.
CREATE FUNCTION pgpart._in_grace(p_parent regclass, p_now_at timestamptz)
RETURNS TABLE (detached regclass, then_action text, entry bigint, detached_at timestamptz, due_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.entry, l.logged_at, g.due_at
        FROM pgpart._journal(p_parent) AS j
        JOIN pgpart.log AS l ON l.id = j.entry
        CROSS JOIN LATERAL (SELECT pgpart._grace_until(p_parent, j.entry) AS due_at) AS g
        WHERE j.state = 'awaiting' AND g.due_at > greatest(p_now_at, now())
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._in_grace(regclass, timestamptz) IS
'Tables detached by retention whose archive or drop waits for the end of their grace period.';

-- pgpart._reattach_plan(parent, partition): the steps that attach again a
-- table retention detached from PARENT, at the bounds its journal entry
-- recorded: a CHECK constraint equal to the partition constraint (ATTACH
-- then skips its own scan of the table under the parent's lock), the
-- ATTACH, the CHECK dropped again, and the 'reattach' row that closes the
-- journal entry (its archive or drop never happens). Only a table with an
-- open, valid journal entry: detached by retention, same OID, name and
-- owner as then, not attached since (55000 otherwise). The bound text of
-- the entry is parsed, never run: each bound is one quoted literal, a
-- number, MINVALUE or MAXVALUE, quoted again here; a range now covered by
-- another partition is refused (55000 naming it).
-- Long (about 125 lines): the checks of the journal entry and of the
-- bounds each raise with their own message before any step is planned.
CREATE FUNCTION pgpart._reattach_plan(p_parent regclass, p_partition regclass)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_entry record;
    v_rel record;
    v_bound text[];
    v_values text[] := ARRAY[NULL, NULL]::text[];
    v_lo numeric;
    v_hi numeric;
    v_overlap regclass;
    v_check text;
    v_name name := 'pgpart_reattach_check'::name;
    v_parent_locks text;
BEGIN
    v_cfg := pgpart._managed(p_parent);
    SELECT l.id, l.detail, l.journal_name, l.journal_owner, l.logged_at INTO v_entry
    FROM pgpart.log AS l
    WHERE l.parent = p_parent AND l.action = 'detach' AND l.journal_oid = p_partition::oid
    ORDER BY l.id DESC
    LIMIT 1;
    IF v_entry.id IS NULL OR EXISTS (
        SELECT 1 FROM pgpart.log AS done
        WHERE
            done.parent = p_parent AND done.journal_oid = p_partition::oid AND done.id > v_entry.id
            AND done.action IN ('archive', 'drop', 'discard', 'reattach')
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not waiting as a partition detached from %s by retention', p_partition,
                             p_parent),
            DETAIL = CASE WHEN v_entry.id IS NULL THEN 'No retention journal entry in pgpart.log names it.'
                          ELSE 'Its retention journal entry is closed (archived, dropped, discarded or reattached).'
                     END,
            HINT = 'pgpart re-attaches only tables its retention detached; attach any other one by hand '
                   '(ALTER TABLE ... ATTACH PARTITION ...).';
    END IF;
    SELECT c.relname, c.relowner, c.relispartition, c.relkind, pc.relowner AS parent_owner INTO v_rel
    FROM pg_class AS c CROSS JOIN pg_class AS pc
    WHERE c.oid = p_partition AND pc.oid = p_parent;
    IF v_rel.relispartition OR v_rel.relkind NOT IN ('r', 'p') OR v_rel.relname <> v_entry.journal_name
       OR v_rel.relowner <> v_entry.journal_owner OR v_rel.parent_owner <> v_entry.journal_owner THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is no longer the table retention detached from %s', p_partition, p_parent),
            DETAIL = format('When detached it was %I, owned by %I; now it is %I, owned by %I%s.', v_entry.journal_name,
                            pg_get_userbyid(v_entry.journal_owner), v_rel.relname, pg_get_userbyid(v_rel.relowner),
                            CASE WHEN v_rel.relispartition THEN ', and a partition again' ELSE '' END),
            HINT = 'Attach it by hand if it is still the right table (ALTER TABLE ... ATTACH PARTITION ...).';
    END IF;
    -- the bounds, parsed: a quoted literal (quotes doubled inside), a number, MINVALUE or MAXVALUE
    v_bound := regexp_match(v_entry.detail ->> 'bound',
                            '^FOR VALUES FROM \(((?:''(?:[^'']|'''')*'')|-?[0-9.]+|MINVALUE)\) '
                            'TO \(((?:''(?:[^'']|'''')*'')|-?[0-9.]+|MAXVALUE)\)$');
    IF v_bound IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the retention journal of %s holds no range bound pgpart can read for %s', p_parent,
                             p_partition),
            DETAIL = format('Journaled bound: %s.', coalesce(v_entry.detail ->> 'bound', 'none')),
            HINT = 'Attach it by hand (ALTER TABLE ... ATTACH PARTITION ... FOR VALUES FROM (...) TO (...)).';
    END IF;
    FOR i IN 1..2 LOOP
        v_values[i] := CASE WHEN v_bound[i] ~ '^''' THEN replace(substr(v_bound[i], 2, length(v_bound[i]) - 2),
                                                                     '''''', '''')
                            ELSE v_bound[i] END;
    END LOOP;
    v_lo := pgpart._literal_to_coord(v_cfg.key_type, v_values[1], v_cfg.epoch_unit);
    v_hi := pgpart._literal_to_coord(v_cfg.key_type, v_values[2], v_cfg.epoch_unit);
    SELECT p.partition INTO v_overlap
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default AND p.lower_coord < v_hi AND p.upper_coord > v_lo
    ORDER BY p.lower_coord
    LIMIT 1;
    IF v_overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot re-attach %s to %s: partition %s now covers part of its range', p_partition,
                             p_parent, v_overlap),
            DETAIL = format('Its range when detached: %s.', v_entry.detail ->> 'bound'),
            HINT = format('Read the detached table by name, or move its rows into %s (INSERT INTO %s SELECT ...).',
                          p_parent, p_parent);
    END IF;
    v_check := concat_ws(' AND ', format('%I IS NOT NULL', v_cfg.key_column),
                         CASE WHEN v_values[1] <> 'MINVALUE'
                              THEN format('%I >= %L::%s', v_cfg.key_column, v_values[1], v_cfg.key_type) END,
                         CASE WHEN v_values[2] <> 'MAXVALUE'
                              THEN format('%I < %L::%s', v_cfg.key_column, v_values[2], v_cfg.key_type) END);
    SELECT string_agg(l.locks, ', ') INTO v_parent_locks
    FROM pgpart._lock_statements(p_parent) AS l WHERE l.statement LIKE 'LOCK%';
    RETURN NEXT ROW(1, p_partition::text, v_values[1], v_values[2], 'check',
                    format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', p_partition, v_name, v_check),
                    format('ACCESS EXCLUSIVE on %s (detached; reads it once)', p_partition), false)::pgpart.step;
    RETURN NEXT ROW(2, p_partition::text, v_values[1], v_values[2], 'attach',
                    format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', p_parent, p_partition,
                           CASE WHEN v_values[1] = 'MINVALUE' THEN 'MINVALUE' ELSE quote_literal(v_values[1]) END,
                           CASE WHEN v_values[2] = 'MAXVALUE' THEN 'MAXVALUE' ELSE quote_literal(v_values[2]) END),
                    v_parent_locks, false)::pgpart.step;
    RETURN NEXT ROW(3, p_partition::text, v_values[1], v_values[2], 'drop check',
                    format('ALTER TABLE %s DROP CONSTRAINT %I', p_partition, v_name),
                    format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step;
    RETURN NEXT ROW(4, p_partition::text, v_values[1], v_values[2], 'journal',
                    format('SELECT pgpart._log_journal(%L::regclass, %L, %s, NULL, NULL, %L::jsonb)', p_parent::text,
                           'reattach', p_partition::oid,
                           jsonb_build_object('entry', v_entry.id, 'partition', p_partition::text,
                                              'bound', v_entry.detail ->> 'bound', 'detached_at', v_entry.logged_at)),
                    'ROW EXCLUSIVE on pgpart.log', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._reattach_plan(regclass, regclass) IS
'Steps that re-attach a table retention detached at its journaled bounds (validated CHECK first, ATTACH, CHECK dropped, journal entry closed); 55000 when it is not such a table or its range is taken.';
