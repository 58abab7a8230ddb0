-- Global unique constraints across a conversion (issue 18,
-- docs/global-unique.md "On a plain table (before converting it)"): a
-- plain table gets its global unique constraint online (add_global_unique
-- with build => false, then build_global_unique) while it is still plain;
-- in the swap transaction pgpart._gu_rebind moves the constraint to the new
-- partitioned parent, and pgpart._gu_repoint_foreign_keys points the
-- foreign keys that referenced the old table at the side table, NOT VALID
-- (constant time: the side table is complete, so new rows are checked at
-- once), to be validated online afterwards.

-- pgpart._gu_plain_ready(table, columns): whether TABLE has a global unique
-- constraint (on COLUMNS, in any order, when given) and every such one is
-- built ('valid'), so a conversion may swap. Catalog only, never waits.
CREATE FUNCTION pgpart._gu_plain_ready(p_table regclass, p_columns name[] DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN coalesce((
        SELECT bool_and(g.state = 'valid' AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table))
        FROM pgpart.global_unique AS g
        WHERE g.parent = p_table
          AND (p_columns IS NULL
               OR (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS u (c))
                  = (SELECT array_agg(c ORDER BY c) FROM unnest(p_columns) AS u (c)))
    ), false);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_plain_ready(regclass, name[]) IS
'Whether a table has a global unique constraint (on the given columns, when given) and all such are built (state valid): what a conversion polls before its swap (internal).';

-- pgpart._gu_holds_exclusive(rel): whether this transaction holds ACCESS
-- EXCLUSIVE on REL (the swap's precondition: nothing else writes meanwhile).
CREATE FUNCTION pgpart._gu_holds_exclusive(p_rel regclass)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'relation'
          AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
          AND l.relation = p_rel::oid
          AND l.pid = pg_backend_pid()
          AND l.mode = 'AccessExclusiveLock'
          AND l.granted);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_holds_exclusive(regclass) IS
'Whether the current transaction holds ACCESS EXCLUSIVE on a relation (internal).';

-- pgpart._gu_rebind(old, new_parent): in the swap transaction of a
-- conversion, moves every global unique constraint of the plain table OLD
-- to the partitioned table NEW_PARENT that OLD is about to become (or has
-- just become) a partition of. The caller holds ACCESS EXCLUSIVE on both
-- (checked), so no row is written meanwhile and nothing needs copying: the
-- side table already holds exactly OLD's values. The registration follows
-- NEW_PARENT, OLD's row triggers are dropped and made on NEW_PARENT instead
-- (PostgreSQL clones them to OLD at the ATTACH: no same-named trigger is
-- left to collide with), OLD keeps its TRUNCATE trigger (it stays
-- recorded), partitions NEW_PARENT already has are recorded, and writers of
-- NEW_PARENT get their rights on the side table. Before the ATTACH, the
-- event trigger would take OLD (recorded, not yet a partition) for a
-- detached table and release its values: the registration names OLD and
-- this transaction (build.rebind, build.rebind_xid) and pgpart._gu_sync
-- keeps OLD's values until then. Returns how many constraints moved.
-- A conversion copying OLD's triggers to NEW_PARENT should leave these out
-- (functions pgpart._gu_row and pgpart._gu_truncate): they move here. If
-- they were copied anyway, the row triggers are kept (same definition) and
-- a copied TRUNCATE trigger is dropped from NEW_PARENT.
-- About 130 lines: the checks come first and change nothing.
CREATE FUNCTION pgpart._gu_rebind(p_old regclass, p_new_parent regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_old pg_class;
    v_new pg_class;
    v_old_schema name;
    v_new_schema name;
    v_gu pgpart.global_unique;
    v_bad name;
    v_attached boolean;
    v_leaf regclass;
    v_statement text;
    v_count integer := 0;
BEGIN
    PERFORM pgpart._require_owner(p_old);
    PERFORM pgpart._require_owner(p_new_parent);
    SELECT * INTO v_old FROM pg_class AS c WHERE c.oid = p_old;
    SELECT * INTO v_new FROM pg_class AS c WHERE c.oid = p_new_parent;
    v_old_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_old.relnamespace);
    v_new_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_new.relnamespace);
    IF v_new.relkind <> 'p' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned', p_new_parent),
            DETAIL = 'The global unique constraints of a converted table move to its new partitioned parent.',
            HINT = 'Pass the new partitioned parent as the second argument.',
            SCHEMA = v_new_schema, TABLE = v_new.relname;
    END IF;
    v_attached := EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = p_old AND i.inhparent = p_new_parent);
    IF v_old.relkind <> 'r' OR (v_old.relispartition AND NOT v_attached) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = format('%s is neither a plain table nor a partition of %s', p_old, p_new_parent),
            DETAIL = 'The constraints move from the old, plain table of a conversion to its new parent.',
            HINT = 'Pass the old (plain) table of the conversion as the first argument.',
            SCHEMA = v_old_schema, TABLE = v_old.relname;
    END IF;
    IF NOT (pgpart._gu_holds_exclusive(p_old) AND pgpart._gu_holds_exclusive(p_new_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('global unique constraints of %s cannot move to %s: the tables are not locked',
                             p_old, p_new_parent),
            DETAIL = 'The move must happen in the swap transaction, while nothing writes either table.',
            HINT = format('LOCK TABLE ONLY %s, %s IN ACCESS EXCLUSIVE MODE first, in the same transaction.',
                          p_old, p_new_parent),
            SCHEMA = v_old_schema, TABLE = v_old.relname;
    END IF;
    FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_old ORDER BY g.id LOOP
        IF v_gu.state <> 'valid' OR NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('global unique constraint %I on %s is not built', v_gu.constraint_name, p_old),
                DETAIL = format('Its state is %s: the side table does not hold every value yet.', v_gu.state),
                HINT = format('Finish it first: CALL pgpart.build_global_unique(%L, %L).', p_old::text,
                              v_gu.constraint_name),
                SCHEMA = v_old_schema, TABLE = v_old.relname, CONSTRAINT = v_gu.constraint_name;
        END IF;
        SELECT u.c INTO v_bad FROM unnest(v_gu.columns) AS u (c)
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_attribute AS n JOIN pg_attribute AS o ON o.attrelid = p_old AND o.attname = n.attname
            WHERE n.attrelid = p_new_parent AND n.attname = u.c AND n.attnum > 0 AND NOT n.attisdropped
              AND NOT o.attisdropped AND (n.atttypid, n.atttypmod, n.attcollation)
                                         = (o.atttypid, o.atttypmod, o.attcollation))
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'datatype_mismatch',
                MESSAGE = format('column %I of global unique constraint %I is missing from %s or has another type',
                                 v_bad, v_gu.constraint_name, p_new_parent),
                DETAIL = 'The side table keeps the values with their types and collations.',
                HINT = format('Create %s with the columns of %s, same types and collations.', p_new_parent, p_old),
                SCHEMA = v_new_schema, TABLE = v_new.relname, COLUMN = v_bad;
        END IF;
        IF (SELECT (c.relowner, c.relnamespace) FROM pg_class AS c WHERE c.oid = v_gu.side_table)
           IS DISTINCT FROM (v_new.relowner, v_new.relnamespace) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('side table %s of global unique constraint %I is not in the schema of %s '
                                 'or not owned by its owner', v_gu.side_table, v_gu.constraint_name, p_new_parent),
                DETAIL = 'A side table lives in its parent''s schema and belongs to the parent''s owner.',
                HINT = format('Create %s in the schema of %s and give it the same owner before the move.',
                              p_new_parent, p_old),
                SCHEMA = v_new_schema, TABLE = v_new.relname;
        END IF;
        IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g
                   WHERE g.parent = p_new_parent
                     AND (g.constraint_name = v_gu.constraint_name OR g.columns = v_gu.columns)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('%s already has a global unique constraint named %I or on columns %s',
                                 p_new_parent, v_gu.constraint_name, v_gu.columns::text),
                DETAIL = format('Global unique constraint %I of %s cannot move there.', v_gu.constraint_name, p_old),
                HINT = 'pgpart.global_unique_info() lists it; drop one of them.',
                SCHEMA = v_new_schema, TABLE = v_new.relname;
        END IF;

        UPDATE pgpart.global_unique AS g
        SET parent = p_new_parent,
            build = CASE WHEN v_attached THEN '{}'::jsonb
                         ELSE jsonb_build_object('rebind', p_old::oid, 'rebind_xid', pg_current_xact_id()::text) END
        WHERE g.id = v_gu.id
        RETURNING * INTO v_gu;
        -- cloned to OLD at the ATTACH (or now, when OLD is attached already);
        -- one cloned already (copied to the parent before the ATTACH) stays
        FOR v_statement IN
            SELECT format('DROP TRIGGER %I ON %s', t.tgname, p_old) FROM pg_trigger AS t
            WHERE t.tgrelid = p_old AND t.tgparentid = 0
              AND t.tgname IN (format('pgpart_gu_%s', v_gu.id), format('pgpart_gu_%s_update', v_gu.id))
            ORDER BY t.tgname
        LOOP
            EXECUTE v_statement;
        END LOOP;
        PERFORM pgpart._gu_install(v_gu);
        -- a TRUNCATE trigger copied to the parent with the table's other
        -- triggers would mark it as recorded: a partitioned table never is
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', format('pgpart_gu_%s_truncate', v_gu.id), p_new_parent);
        IF NOT EXISTS (SELECT 1 FROM pgpart._gu_marked(v_gu) AS m (m) WHERE m.m = p_old) THEN
            PERFORM pgpart._gu_mark(v_gu, p_old);
        END IF;
        -- partitions NEW_PARENT already has (empty when just made): recorded
        FOR v_leaf IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
            EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            PERFORM pgpart._gu_mark(v_gu, v_leaf);
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, NULL, NULL, false));
        END LOOP;
        FOR v_statement IN SELECT s.s FROM pgpart._gu_grant_statements(v_gu) AS s (s) LOOP
            EXECUTE v_statement;
        END LOOP;
        PERFORM pgpart._log(p_new_parent, 'rebind_global_unique', 'ok',
                            jsonb_build_object('constraint', v_gu.constraint_name, 'from', p_old::text,
                                               'from_oid', p_old::oid));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_rebind(regclass, regclass) IS
'In a conversion''s swap transaction (both tables locked ACCESS EXCLUSIVE): moves the built global unique constraints of the old plain table to the new partitioned parent, before or after the old table''s ATTACH; returns how many moved (internal).';

-- pgpart._gu_foreign_key_plan(old, new_parent): the foreign keys of other
-- tables that reference OLD, each with the statements that point it at the
-- side table of the global unique constraint on exactly its referenced
-- columns: drop, add again (same name, columns, MATCH, ON UPDATE/ON
-- DELETE, deferrability, comment) NOT VALID, and the VALIDATE to run
-- online afterwards (NULL when the key was not valid or not enforced
-- before). Changes nothing, so a conversion can call it before it starts
-- and refuse up front. Refused (0A000, naming the key):
--  * a key on other columns than a global unique constraint's;
--  * an action other than NO ACTION or RESTRICT: the side table's entries
--    are never updated, they are deleted and inserted again, also when an
--    UPDATE moves a row to another partition, so CASCADE, SET NULL and SET
--    DEFAULT would act on referencing rows whose referenced row still
--    exists (docs/global-unique.md);
--  * a partitioned referencing table before PostgreSQL 18 (no NOT VALID
--    foreign key on a partitioned table there).
-- A referencing table the caller cannot alter: 42501. A foreign key of OLD
-- to itself is not listed: it is one of the table's own constraints.
CREATE FUNCTION pgpart._gu_foreign_key_plan(p_old regclass, p_new_parent regclass DEFAULT NULL)
RETURNS TABLE (
    fk name,
    referencing regclass,
    unique_constraint name,
    side_table regclass,
    drop_statement text,
    add_statement text,
    validate_statement text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_con record;
    v_gu pgpart.global_unique;
    v_enforced boolean;
    v_comment text;
BEGIN
    FOR v_con IN
        SELECT
            k.oid, k.conname, k.conrelid::regclass AS rel, k.confmatchtype, k.confupdtype, k.confdeltype,
            k.condeferrable, k.condeferred, k.convalidated, to_jsonb(k) ->> 'conenforced' AS enforced,
            rc.relkind, rc.relowner, rc.relname,
            (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = rc.relnamespace) AS nspname,
            (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.n)
             FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS from_cols,
            (SELECT array_agg(a.attname ORDER BY u.n)
             FROM unnest(k.confkey) WITH ORDINALITY AS u (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) AS to_cols
        FROM pg_constraint AS k JOIN pg_class AS rc ON rc.oid = k.conrelid
        WHERE k.contype = 'f' AND k.confrelid = p_old AND k.conrelid <> p_old AND k.conparentid = 0
        ORDER BY k.conrelid, k.conname
    LOOP
        SELECT g.* INTO v_gu FROM pgpart.global_unique AS g
        WHERE g.parent IN (p_old, p_new_parent)
          AND (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS u (c))
              = (SELECT array_agg(c ORDER BY c) FROM unnest(v_con.to_cols) AS u (c))
        ORDER BY g.id
        LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of %s references columns %s of %s, which no global unique '
                                 'constraint covers', v_con.conname, v_con.rel, v_con.to_cols::text, p_old),
                DETAIL = 'After the conversion only a global unique constraint''s side table can be referenced.',
                HINT = format('Add one first: pgpart.add_global_unique(%L, %L, build => false), then CALL '
                              'pgpart.build_global_unique; or drop the foreign key.', p_old::text,
                              v_con.to_cols::text),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF v_con.confupdtype NOT IN ('a', 'r') OR v_con.confdeltype NOT IN ('a', 'r') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of %s has ON UPDATE %s ON DELETE %s', v_con.conname, v_con.rel,
                                 pgpart._gu_fk_action(v_con.confupdtype), pgpart._gu_fk_action(v_con.confdeltype)),
                DETAIL = 'Through a global unique constraint a referenced value is deleted and inserted again '
                         'when its row moves to another partition: a cascading action would act on rows whose '
                         'referenced row still exists. Only NO ACTION and RESTRICT are carried.',
                HINT = format('Recreate it with NO ACTION (DEFERRABLE INITIALLY DEFERRED lets rows move between '
                              'partitions) before converting: ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT '
                              '%I FOREIGN KEY (%s) REFERENCES %s (%s) DEFERRABLE INITIALLY DEFERRED NOT VALID.',
                              v_con.rel, v_con.conname, v_con.conname, v_con.from_cols, p_old,
                              (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_con.to_cols) AS u (c))),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF v_con.relkind = 'p' AND current_setting('server_version_num')::integer < 180000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of partitioned table %s cannot be pointed at a side table '
                                 'NOT VALID on this server', v_con.conname, v_con.rel),
                DETAIL = 'PostgreSQL before 18 refuses NOT VALID foreign keys on partitioned tables, and a valid '
                         'one would scan the table under lock.',
                HINT = 'Drop the foreign key before converting and add it again afterwards, or use PostgreSQL 18.',
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF NOT pg_has_role(current_user, v_con.relowner, 'USAGE') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = format('foreign key %I of %s cannot be changed: must be owner of table %s',
                                 v_con.conname, v_con.rel, v_con.rel),
                DETAIL = 'Its foreign key is dropped and added again, which needs the table''s owner.',
                HINT = format('Run the conversion as a member of role %I, or as a superuser.',
                              pg_get_userbyid(v_con.relowner)),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        v_enforced := coalesce(v_con.enforced::boolean, true);
        v_comment := obj_description(v_con.oid, 'pg_constraint');
        fk := v_con.conname;
        referencing := v_con.rel;
        unique_constraint := v_gu.constraint_name;
        side_table := v_gu.side_table;
        drop_statement := format('ALTER TABLE %s DROP CONSTRAINT %I', v_con.rel, v_con.conname);
        add_statement := format(
            'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s)%s ON UPDATE %s ON DELETE %s%s%s',
            v_con.rel, v_con.conname, v_con.from_cols, v_gu.side_table,
            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_con.to_cols) AS u (c)),
            CASE v_con.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
            pgpart._gu_fk_action(v_con.confupdtype), pgpart._gu_fk_action(v_con.confdeltype),
            CASE WHEN v_con.condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'
                 WHEN v_con.condeferrable THEN ' DEFERRABLE' ELSE '' END,
            CASE WHEN NOT v_enforced THEN ' NOT ENFORCED' ELSE ' NOT VALID' END)
            || CASE WHEN v_comment IS NOT NULL
                    THEN format('; COMMENT ON CONSTRAINT %I ON %s IS %L', v_con.conname, v_con.rel, v_comment)
                    ELSE '' END;
        validate_statement := CASE WHEN v_enforced AND v_con.convalidated
                                   THEN format('ALTER TABLE %s VALIDATE CONSTRAINT %I', v_con.rel, v_con.conname)
                              END;
        RETURN NEXT;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_foreign_key_plan(regclass, regclass) IS
'The foreign keys of other tables referencing a table about to be converted, with the statements that point each at a global unique constraint''s side table NOT VALID and validate it later; refuses (0A000) what cannot be carried (internal).';

-- pgpart._gu_fk_action(code): a pg_constraint action code as SQL.
CREATE FUNCTION pgpart._gu_fk_action(p_code "char")
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN CASE p_code WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                       WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_fk_action("char") IS
'A foreign key action code of pg_constraint as SQL (internal).';

-- pgpart._gu_repoint_foreign_keys(old, new_parent, validate, ...): in the
-- swap transaction, runs pgpart._gu_foreign_key_plan: each foreign key
-- referencing OLD is dropped and added again against the side table, NOT
-- VALID (constant time: no row is read; the side table holds every value
-- of OLD, so rows written from now on are checked at once). The
-- referencing tables are locked ACCESS EXCLUSIVE (dropping a foreign key
-- needs it) and the side tables SHARE ROW EXCLUSIVE, under the lock
-- timeout with retries, in one group; a conversion should take these locks
-- in its swap's lock group, before OLD's (a writer of a referencing table
-- that then waits for OLD would otherwise hold us up until the timeout).
-- Returns each key with its VALIDATE statement, to run online afterwards
-- (SHARE UPDATE EXCLUSIVE on the referencing table: writers go on); with
-- VALIDATE they are run here as well (a scan under this transaction's
-- locks: small tables and tests only).
CREATE FUNCTION pgpart._gu_repoint_foreign_keys(
    p_old regclass,
    p_new_parent regclass,
    p_validate boolean DEFAULT false,
    p_lock_timeout interval DEFAULT '200ms',
    p_lock_retries integer DEFAULT 10
)
RETURNS TABLE (fk name, referencing regclass, statement text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_variable
DECLARE
    v_plan record;
    v_locks text [];
BEGIN
    PERFORM pgpart._require_owner(p_old);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_validate IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'validate must not be NULL',
            DETAIL = 'It says whether the foreign keys are validated here or returned to be validated online.',
            HINT = 'Pass false (validate online afterwards) or true.';
    END IF;
    -- the plan checks every key (and refuses) before anything is locked
    SELECT array_agg(l.statement ORDER BY l.ord, l.rel::oid) INTO v_locks
    FROM (
        SELECT DISTINCT 1 AS ord, p.referencing AS rel,
               format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p.referencing) AS statement
        FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p
        UNION
        SELECT DISTINCT 2, p.side_table, format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', p.side_table)
        FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p
    ) AS l;
    IF v_locks IS NULL THEN
        RETURN;
    END IF;
    PERFORM pgpart._acquire_locks(v_locks, p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- the plan is read whole before the loop changes the keys
    FOR v_plan IN SELECT p.* FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p LOOP
        EXECUTE v_plan.drop_statement;
        EXECUTE v_plan.add_statement;
        IF p_validate AND v_plan.validate_statement IS NOT NULL THEN
            EXECUTE v_plan.validate_statement;
        END IF;
        PERFORM pgpart._log(coalesce(p_new_parent, p_old), 'repoint_foreign_key', 'ok',
                            jsonb_build_object('foreign_key', v_plan.fk, 'referencing', v_plan.referencing::text,
                                               'side_table', v_plan.side_table::text, 'validated', p_validate));
        fk := v_plan.fk;
        referencing := v_plan.referencing;
        statement := v_plan.validate_statement;
        RETURN NEXT;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_repoint_foreign_keys(regclass, regclass, boolean, interval, integer) IS
'In a conversion''s swap: points the foreign keys referencing the old table at the global unique constraints'' side tables, NOT VALID; returns the VALIDATE statements to run online afterwards (internal).';

-- pgpart._gu_attach(parent, table, bound): ALTER TABLE PARENT ATTACH
-- PARTITION TABLE BOUND for a table carrying global unique constraints'
-- statement triggers. Before PostgreSQL 17, ATTACH refuses a table with a
-- trigger that has transition tables: those triggers are dropped for the
-- ATTACH and made again right after it (pgpart._gu_install), in the same
-- transaction, under the ACCESS EXCLUSIVE lock the caller holds on TABLE,
-- so no write falls in between. BOUND is the partition bound clause, built
-- by the caller from quoted literals.
CREATE FUNCTION pgpart._gu_attach(p_parent regclass, p_table regclass, p_bound text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_trigger name;
    v_gu pgpart.global_unique;
BEGIN
    IF NOT pgpart._gu_holds_exclusive(p_table) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('not attaching %s: the caller must hold it ACCESS EXCLUSIVE', p_table),
            HINT = 'Lock the table in the same transaction first (LOCK TABLE ... IN ACCESS EXCLUSIVE MODE).';
    END IF;
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND t.tgfoid = 'pgpart._gu_row()'::regprocedure AND t.tgparentid = 0
        ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, p_table);
    END LOOP;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s %s', p_parent, p_table, p_bound);
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent = p_table OR g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_parent) AS a (relid))
        ORDER BY g.id
    LOOP
        PERFORM pgpart._gu_install(v_gu);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_attach(regclass, regclass, text) IS
'ATTACH PARTITION of a table carrying global unique constraints'' statement triggers: dropped for the ATTACH (PostgreSQL before 17 refuses triggers with transition tables there) and made again in the same transaction (internal).';
