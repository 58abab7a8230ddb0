-- Global unique constraints, the planning and upkeep layer
-- (docs/global-unique.md): installing the triggers, copying existing values
-- into the side table, keeping the set of recorded tables in step with the
-- partition tree, and the grants a writer needs on the side table.

-- pgpart._gu_statement_triggers(constraint, table): the constraint's
-- three statement triggers on TABLE, where missing: AFTER INSERT, UPDATE
-- and DELETE, FOR EACH STATEMENT with transition tables (PostgreSQL allows
-- one event per trigger with transition tables, and does not clone
-- statement triggers to partitions, so every table of the tree gets its
-- own: a statement fires only those of the table it names). CREATE
-- TRIGGER locks TABLE SHARE ROW EXCLUSIVE, under the caller's lock
-- timeout. Returns how many it created.
CREATE FUNCTION pgpart._gu_statement_triggers(p_gu pgpart.global_unique, p_table regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_event text;
    v_count integer := 0;
BEGIN
    FOREACH v_event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger AS t
                       WHERE t.tgrelid = p_table AND t.tgname = format('pgpart_gu_%s_%s', p_gu.id, v_event)) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION pgpart._gu_row(%L)',
                           format('pgpart_gu_%s_%s', p_gu.id, v_event), upper(v_event), p_table,
                           CASE v_event WHEN 'insert' THEN 'NEW TABLE AS pgpart_new'
                                        WHEN 'update' THEN 'OLD TABLE AS pgpart_old NEW TABLE AS pgpart_new'
                                        ELSE 'OLD TABLE AS pgpart_old' END,
                           p_gu.id);
            v_count := v_count + 1;
        END IF;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_statement_triggers(pgpart.global_unique, regclass) IS
'Creates the missing statement triggers (insert, update, delete, with transition tables) of a global unique constraint on one table (internal).';

-- pgpart._gu_tables(constraint): the tables that carry the constraint's
-- statement triggers: the parent, every partitioned table of its tree,
-- every recorded table (pgpart._gu_marked: the leaf partitions, and
-- detached tables whose values still count until they are released), and
-- any other table still carrying them (a detached partitioned table).
CREATE FUNCTION pgpart._gu_tables(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT p_gu.parent
        UNION
        SELECT t.relid::regclass FROM pg_partition_tree(p_gu.parent) AS t JOIN pg_class AS c ON c.oid = t.relid
        WHERE c.relkind = 'p'
        UNION
        SELECT m.m FROM pgpart._gu_marked(p_gu) AS m (m)
        UNION
        -- a partitioned table detached while its triggers stayed (until pgpart._gu_sync drops them)
        SELECT t.tgrelid::regclass FROM pg_trigger AS t
        WHERE t.tgname = format('pgpart_gu_%s_insert', p_gu.id) AND t.tgfoid = 'pgpart._gu_row()'::regprocedure
        ORDER BY 1;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_tables(pgpart.global_unique) IS
'The tables carrying a global unique constraint''s statement triggers: parent, partitioned tables of its tree, recorded tables (internal).';

-- pgpart._gu_install(constraint): the statement triggers on the parent,
-- on every partitioned table of its tree and on every recorded table,
-- where missing (a leaf partition gets them with its TRUNCATE trigger,
-- pgpart._gu_mark). CREATE TRIGGER locks each table SHARE ROW EXCLUSIVE
-- (under the caller's lock timeout): writers wait that long at most.
-- Returns how many triggers it created.
CREATE FUNCTION pgpart._gu_install(p_gu pgpart.global_unique)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN (SELECT coalesce(sum(pgpart._gu_statement_triggers(p_gu, t.t)), 0)::integer
            FROM pgpart._gu_tables(p_gu) AS t (t));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_install(pgpart.global_unique) IS
'Creates the missing statement triggers of a global unique constraint on its parent, the partitioned tables of its tree and its recorded tables (internal).';

-- pgpart._gu_installed(constraint): whether every table that must carry
-- the constraint's statement triggers (pgpart._gu_tables) has all three,
-- enabled: otherwise some writes are not checked (check():
-- global_unique_broken, fixed by add_global_unique, which calls
-- pgpart._gu_install).
CREATE FUNCTION pgpart._gu_installed(p_gu pgpart.global_unique)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN NOT EXISTS (
        SELECT 1 FROM pgpart._gu_tables(p_gu) AS t (t)
        CROSS JOIN unnest(ARRAY['insert', 'update', 'delete']) AS e (e)
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger AS tr
                          WHERE tr.tgrelid = t.t AND tr.tgname = format('pgpart_gu_%s_%s', p_gu.id, e.e)
                            AND tr.tgenabled <> 'D' AND tr.tgfoid = 'pgpart._gu_row()'::regprocedure));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_installed(pgpart.global_unique) IS
'Whether every table that must carry a global unique constraint''s statement triggers has them, enabled (internal).';

-- pgpart._gu_mark(constraint, table): a leaf partition's statement
-- triggers (where missing) and its TRUNCATE trigger, whose name marks the
-- table as recorded in the side table.
CREATE FUNCTION pgpart._gu_mark(p_gu pgpart.global_unique, p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._gu_statement_triggers(p_gu, p_table);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION pgpart._gu_truncate(%L)',
                   format('pgpart_gu_%s_truncate', p_gu.id), p_table, p_gu.id);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_mark(pgpart.global_unique, regclass) IS
'Creates the statement triggers and the TRUNCATE trigger of a global unique constraint on a leaf partition, which marks it as recorded (internal).';

-- pgpart._gu_unmark(constraint, table): drops every trigger of the
-- constraint on TABLE (a detached table once its values are released, or
-- the constraint dropped). DROP TRIGGER locks TABLE ACCESS EXCLUSIVE.
CREATE FUNCTION pgpart._gu_unmark(p_gu pgpart.global_unique, p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_trigger name;
BEGIN
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND NOT t.tgisinternal
          AND t.tgname IN (format('pgpart_gu_%s_insert', p_gu.id), format('pgpart_gu_%s_update', p_gu.id),
                           format('pgpart_gu_%s_delete', p_gu.id), format('pgpart_gu_%s_truncate', p_gu.id))
        ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, p_table);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_unmark(pgpart.global_unique, regclass) IS
'Drops every trigger of a global unique constraint on one table (internal).';

-- pgpart._gu_uninstall(constraint): drops every trigger of the constraint,
-- on every table carrying one (pgpart.drop_global_unique).
CREATE FUNCTION pgpart._gu_uninstall(p_gu pgpart.global_unique)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN SELECT t.t FROM pgpart._gu_tables(p_gu) AS t (t) LOOP
        PERFORM pgpart._gu_unmark(p_gu, v_table);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_uninstall(pgpart.global_unique) IS
'Drops every trigger of a global unique constraint, on every table carrying one (internal).';

-- pgpart._gu_marked(constraint): every table carrying the constraint's
-- TRUNCATE trigger, attached or not: the tables whose values the side table
-- holds (catalog truth, no list kept anywhere).
CREATE FUNCTION pgpart._gu_marked(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT t.tgrelid::regclass FROM pg_trigger AS t
        WHERE t.tgname = format('pgpart_gu_%s_truncate', p_gu.id)
          AND t.tgfoid = 'pgpart._gu_truncate()'::regprocedure
        ORDER BY t.tgrelid;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_marked(pgpart.global_unique) IS
'The tables carrying a global unique constraint''s TRUNCATE trigger, i.e. whose values its side table holds (internal).';

-- pgpart._gu_leaves(constraint): the leaf partitions (tables) of the parent;
-- for a plain table about to be converted (not a partition: pg_partition_tree
-- lists nothing for it) the table itself.
CREATE FUNCTION pgpart._gu_leaves(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT t.relid::regclass FROM pg_partition_tree(p_gu.parent) AS t JOIN pg_class AS c ON c.oid = t.relid
        WHERE t.isleaf AND c.relkind = 'r'
        UNION ALL
        SELECT c.oid::regclass FROM pg_class AS c
        WHERE c.oid = p_gu.parent AND c.relkind = 'r' AND NOT c.relispartition
        ORDER BY 1;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_leaves(pgpart.global_unique) IS
'The leaf partitions of a global unique constraint''s parent, or the parent itself when it is a plain table (internal).';

-- pgpart._gu_copy(constraint, table, from_block, to_block, missing_only):
-- copies the values of TABLE's rows (only pages [from, to) when given; with
-- MISSING_ONLY, the values of any row of the parent that the side table
-- lacks) into the side table with ON CONFLICT DO NOTHING, so a value a
-- writer recorded meanwhile is no error. Each value that was already there
-- is then counted in the parent: more than one row holding it is a
-- duplicate. Returns the first five duplicates as text (empty: none).
-- ON CONFLICT waits for an uncommitted writer of the same value, so a
-- conflict is decided on committed rows only. Online (a page range or
-- MISSING_ONLY) the rows read are locked FOR SHARE: a concurrent DELETE or
-- UPDATE of one waits for the batch, so its trigger then meets the copied
-- entry (without the lock it could delete nothing before the copy and leave
-- a stale entry behind).
CREATE FUNCTION pgpart._gu_copy(
    p_gu pgpart.global_unique,
    p_table regclass,
    p_from bigint,
    p_to bigint,
    p_missing_only boolean
)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cols text := (SELECT string_agg(quote_ident(c), ', ' ORDER BY n)
                    FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
    v_where text [] := ARRAY[]::text [];
    v_row jsonb;
    v_n bigint;
    v_duplicates text [] := ARRAY[]::text [];
BEGIN
    IF NOT p_gu.nulls_not_distinct THEN
        v_where := v_where || array(SELECT format('t.%I IS NOT NULL', c) FROM unnest(p_gu.columns) AS u (c));
    END IF;
    IF p_from IS NOT NULL THEN
        v_where := v_where || format('t.ctid >= ''(%s,0)''::tid AND t.ctid < ''(%s,0)''::tid', p_from, p_to);
    END IF;
    IF p_missing_only THEN
        v_where := v_where || format(
            'NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)', p_gu.side_table,
            (SELECT string_agg(format('(s.%1$I = t.%1$I OR (s.%1$I IS NULL AND t.%1$I IS NULL))', c), ' AND ')
             FROM unnest(p_gu.columns) AS u (c)));
    END IF;
    FOR v_row IN EXECUTE format(
        'WITH src AS MATERIALIZED (SELECT %2$s FROM %3$s AS t%4$s), '
        'ins AS (INSERT INTO %1$s (%2$s) SELECT %2$s FROM src ON CONFLICT DO NOTHING RETURNING %2$s) '
        'SELECT to_jsonb(d) FROM (SELECT %2$s FROM src EXCEPT ALL SELECT %2$s FROM ins) AS d',
        p_gu.side_table, v_cols,
        CASE WHEN p_missing_only THEN p_gu.parent::text ELSE 'ONLY ' || p_table::text END,
        CASE WHEN cardinality(v_where) > 0 THEN ' WHERE ' || array_to_string(v_where, ' AND ') ELSE '' END
        -- online (writers at work): copy only rows still live, and keep them
        -- so until commit, so that a writer deleting or changing one waits
        -- and then releases the entry just copied, never leaving it stale
        || CASE WHEN p_from IS NOT NULL OR p_missing_only THEN ' FOR SHARE OF t' ELSE '' END)
    LOOP
        EXECUTE pgpart._gu_sql(p_gu, 'count_json') USING v_row INTO v_n;
        IF v_n > 1 THEN
            v_duplicates := v_duplicates || format(
                '(%s)=(%s)', v_cols,
                (SELECT string_agg(coalesce(v_row ->> c, 'null'), ', ' ORDER BY n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)));
            EXIT WHEN cardinality(v_duplicates) >= 5;
        END IF;
    END LOOP;
    RETURN v_duplicates;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_copy(pgpart.global_unique, regclass, bigint, bigint, boolean) IS
'Copies a table''s values (a page range, or only the parent''s missing ones) into a global unique constraint''s side table; returns the first five duplicates found (internal).';

-- pgpart._gu_raise_duplicates(constraint, duplicates): 23505 naming the
-- constraint and the first duplicates, when there are any.
CREATE FUNCTION pgpart._gu_raise_duplicates(p_gu pgpart.global_unique, p_duplicates text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF cardinality(p_duplicates) > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'unique_violation',
            MESSAGE = format('could not build global unique constraint %I on %s: duplicate values',
                             p_gu.constraint_name, p_gu.parent),
            DETAIL = format('Duplicated (first %s): %s.', cardinality(p_duplicates),
                            array_to_string(p_duplicates, '; ')),
            HINT = format('Remove or change the duplicate rows, then build again: CALL pgpart.build_global_unique(%L, %L); '
                          'or SELECT pgpart.drop_global_unique(%L, %L).',
                          p_gu.parent::text, p_gu.constraint_name, p_gu.parent::text, p_gu.constraint_name),
            CONSTRAINT = p_gu.constraint_name,
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_gu.parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_gu.parent);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_raise_duplicates(pgpart.global_unique, text[]) IS
'Raises 23505 naming a global unique constraint and its first duplicate values, when there are any (internal).';

-- pgpart._gu_sync(parent): brings every global unique constraint of PARENT
-- in step with its partition tree, whoever changed it: a leaf partition not
-- yet recorded (made or attached by hand, or by pgpart with the event
-- triggers off) gets its TRUNCATE trigger and its values copied (23505 when
-- one duplicates another partition's: the ATTACH then fails as it should);
-- a partitioned table new in the tree gets its statement triggers; a
-- recorded table that is no longer in the tree (detached) has its values
-- released and its triggers dropped. Called by the event trigger and by
-- pgpart's own attach and detach paths. Returns how many tables changed.
CREATE FUNCTION pgpart._gu_sync(p_parent regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_table regclass;
    v_count integer := 0;
BEGIN
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent = p_parent AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
        ORDER BY g.id
    LOOP
        -- a partitioned table attached or made in the tree: its statement triggers
        FOR v_table IN
            SELECT t.relid::regclass FROM pg_partition_tree(p_parent) AS t JOIN pg_class AS c ON c.oid = t.relid
            WHERE c.relkind = 'p' ORDER BY t.relid
        LOOP
            v_count := v_count + least(pgpart._gu_statement_triggers(v_gu, v_table), 1);
        END LOOP;
        FOR v_table IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
            EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            -- writing the side table runs its code: refused (42501) when
            -- that would run an untrusted role's code with our rights
            PERFORM pgpart._guard_owner_code(v_gu.side_table, 'move');
            PERFORM pgpart._gu_mark(v_gu, v_table);
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_table, NULL, NULL, false));
            v_count := v_count + 1;
        END LOOP;
        FOR v_table IN
            SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
            EXCEPT SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
        LOOP
            -- the old table of a conversion, between pgpart._gu_rebind and
            -- its ATTACH in the same transaction: its values stay
            CONTINUE WHEN v_gu.build ->> 'rebind_xid' = pg_current_xact_id_if_assigned()::text
                AND v_table::oid = (v_gu.build ->> 'rebind')::oid;
            PERFORM pgpart._guard_owner_code(v_gu.side_table, 'move');
            PERFORM pgpart._gu_forget(v_gu, v_table);
            PERFORM pgpart._gu_unmark(v_gu, v_table);
            v_count := v_count + 1;
        END LOOP;
        -- a partitioned table detached: its statement triggers go (its
        -- leaves were released above)
        FOR v_table IN
            SELECT t.tgrelid::regclass FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
            WHERE t.tgname = format('pgpart_gu_%s_insert', v_gu.id) AND c.relkind = 'p'
            EXCEPT SELECT p.relid::regclass FROM pg_partition_tree(p_parent) AS p
        LOOP
            PERFORM pgpart._gu_unmark(v_gu, v_table);
            v_count := v_count + 1;
        END LOOP;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sync(regclass) IS
'Brings the global unique constraints of a parent in step with its partition tree: records new leaf partitions, releases the values of detached ones (internal).';

-- pgpart._gu_sync_tree(rel): pgpart._gu_sync for REL and every partitioned
-- table above it (a constraint may sit on any level). Cheap when no
-- constraint exists.
CREATE FUNCTION pgpart._gu_sync_tree(p_rel regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count integer := 0;
    v_parent regclass;
BEGIN
    FOR v_parent IN
        SELECT DISTINCT g.parent FROM pgpart.global_unique AS g
        WHERE g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_rel) AS a (relid))
        ORDER BY g.parent
    LOOP
        v_count := v_count + pgpart._gu_sync(v_parent);
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sync_tree(regclass) IS
'pgpart._gu_sync for a relation and every partitioned table above it (internal).';

-- pgpart._gu_grant_statements(constraint): the GRANTs a role that writes
-- the parent is missing on the side table (the triggers run with the
-- writer's rights): INSERT for INSERT; SELECT and DELETE for DELETE and
-- TRUNCATE; all three for UPDATE (of the table or of one of the columns).
-- Direct grants only, as PostgreSQL lists them in the ACLs.
CREATE FUNCTION pgpart._gu_grant_statements(p_gu pgpart.global_unique)
RETURNS SETOF text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        WITH parent_acl AS (
            SELECT a.grantee, a.privilege_type
            FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
            WHERE c.oid = p_gu.parent AND a.grantee <> c.relowner
            UNION
            SELECT a.grantee, a.privilege_type
            FROM pg_attribute AS att CROSS JOIN LATERAL aclexplode(att.attacl) AS a
            WHERE att.attrelid = p_gu.parent AND att.attname = ANY (p_gu.columns) AND a.privilege_type = 'UPDATE'
        ),
        needed AS (
            SELECT DISTINCT p.grantee, n.privilege
            FROM parent_acl AS p
            CROSS JOIN LATERAL unnest(CASE p.privilege_type
                WHEN 'INSERT' THEN ARRAY['INSERT']
                WHEN 'DELETE' THEN ARRAY['SELECT', 'DELETE']
                WHEN 'TRUNCATE' THEN ARRAY['SELECT', 'DELETE']
                WHEN 'UPDATE' THEN ARRAY['SELECT', 'INSERT', 'DELETE']
            END) AS n (privilege)
        ),
        missing AS (
            SELECT n.grantee, n.privilege FROM needed AS n
            EXCEPT
            SELECT a.grantee, a.privilege_type
            FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
            WHERE c.oid = p_gu.side_table
        )
        SELECT format('GRANT %s ON %s TO %s', string_agg(m.privilege, ', ' ORDER BY m.privilege), p_gu.side_table,
                      CASE WHEN m.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(m.grantee)) END)
        FROM missing AS m
        GROUP BY m.grantee
        ORDER BY m.grantee;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_grant_statements(pgpart.global_unique) IS
'The GRANT statements giving each role that writes a global unique constraint''s parent the rights its triggers need on the side table (internal).';
