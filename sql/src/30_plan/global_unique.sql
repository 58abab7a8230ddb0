-- Global unique constraints, the planning and upkeep layer
-- (docs/global-unique.md): installing the triggers, copying existing values
-- into the side table, keeping the set of recorded tables in step with the
-- partition tree, and the grants a writer needs on the side table.

-- pgpart._gu_install(constraint): the row triggers on the parent (cloned by
-- PostgreSQL to every partition, now and future) and the TRUNCATE trigger
-- on every leaf partition, where missing. CREATE TRIGGER locks the parent
-- and each partition SHARE ROW EXCLUSIVE (under the caller's lock timeout):
-- writers wait that long at most. Returns how many triggers it created.
CREATE FUNCTION pgpart._gu_install(p_gu pgpart.global_unique)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_name text := format('pgpart_gu_%s', p_gu.id);
    v_count integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = p_gu.parent AND t.tgname = v_name) THEN
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR DELETE ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION pgpart._gu_row(%L)', v_name, p_gu.parent, p_gu.id);
        v_count := v_count + 1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = p_gu.parent AND t.tgname = v_name || '_update') THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %s ON %s FOR EACH ROW WHEN (%s) '
                       'EXECUTE FUNCTION pgpart._gu_row(%L)', v_name || '_update',
                       (SELECT string_agg(quote_ident(c), ', ') FROM unnest(p_gu.columns) AS u (c)), p_gu.parent,
                       (SELECT string_agg(format('OLD.%1$I IS DISTINCT FROM NEW.%1$I', c), ' OR ')
                        FROM unnest(p_gu.columns) AS u (c)),
                       p_gu.id);
        v_count := v_count + 1;
    END IF;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_install(pgpart.global_unique) IS
'Creates the missing row triggers of a global unique constraint on its parent (internal).';

-- pgpart._gu_mark(constraint, table): the TRUNCATE trigger on one leaf
-- partition; its name marks the table as recorded in the side table.
CREATE FUNCTION pgpart._gu_mark(p_gu pgpart.global_unique, p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION pgpart._gu_truncate(%L)',
                   format('pgpart_gu_%s_truncate', p_gu.id), p_table, p_gu.id);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_mark(pgpart.global_unique, regclass) IS
'Creates the TRUNCATE trigger of a global unique constraint on a leaf partition, which also marks it as recorded (internal).';

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
-- a recorded table that is no longer in the tree (detached) has its values
-- released and its trigger dropped. Called by the event trigger and by
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
            EXECUTE format('DROP TRIGGER %I ON %s', format('pgpart_gu_%s_truncate', v_gu.id), v_table);
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
