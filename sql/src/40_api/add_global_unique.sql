-- pgpart.add_global_unique(parent, columns, ...): makes COLUMNS unique
-- across every partition of PARENT, now and future (docs/global-unique.md).
-- PostgreSQL refuses such a unique index on a partitioned table unless it
-- includes the partition key; pgpart keeps the values in a side table with
-- a real unique index named after the constraint, so a violation is
-- PostgreSQL's own 23505 naming the constraint and the value. The side table
-- lives in the parent's schema and belongs to the parent's owner (it can be
-- the target of a foreign key); writers get on it the rights their triggers
-- need, mirrored from their rights on the parent.
--
-- One transaction: the triggers first, then (BUILD) the existing values,
-- copied while every partition is locked against writes (SHARE ROW
-- EXCLUSIVE, from the triggers' creation) -- fine for small tables. For a
-- large one, pass build => false (the triggers record every write from the
-- commit on) and run the online, resumable pgpart.build_global_unique.
-- Called again with the same name and columns it repairs what is missing
-- (triggers, partitions not recorded, values of detached ones; with PRUNE
-- the values of dropped partitions), so it is also check()'s fix.
-- PARENT may also be a plain table about to be converted (issue 18): its
-- own rows are then the tree, and pgpart._gu_rebind moves the constraint
-- to the new partitioned parent at the swap.
-- Long (about 160 lines): argument checks, the creation and the repair path
-- share the one verb.
CREATE FUNCTION pgpart.add_global_unique(
    parent regclass,
    columns name[],
    constraint_name name DEFAULT NULL,
    nulls_not_distinct boolean DEFAULT false,
    build boolean DEFAULT true,
    prune boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS TABLE (unique_constraint name, side_table regclass, state text, partitions integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_variable
DECLARE
    p_parent ALIAS FOR parent;
    p_columns ALIAS FOR columns;
    p_name ALIAS FOR constraint_name;
    p_nnd ALIAS FOR nulls_not_distinct;
    p_build ALIAS FOR build;
    p_prune ALIAS FOR prune;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_rel pg_class;
    v_schema name;
    v_name name;
    v_side name;
    v_gu pgpart.global_unique;
    v_leaf regclass;
    v_statement text;
    v_missing name;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    SELECT * INTO v_rel FROM pg_class AS c WHERE c.oid = p_parent;
    v_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_rel.relnamespace);
    -- a partitioned table, or a plain one about to be converted (its own
    -- rows are the "tree": docs/global-unique.md); not a partition, a view,
    -- a foreign table, nor a table in an inheritance tree
    IF NOT (v_rel.relkind = 'p'
            OR (v_rel.relkind = 'r' AND NOT v_rel.relispartition
                AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE p_parent IN (i.inhrelid, i.inhparent)))) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = format('relation %s is neither a partitioned table nor a plain table', p_parent),
            DETAIL = CASE WHEN v_rel.relispartition THEN 'It is a partition: the constraint belongs on the parent.'
                          WHEN v_rel.relkind = 'r' THEN 'It is part of an inheritance tree.'
                          ELSE 'A global unique constraint spans the partitions of a partitioned table, or the rows '
                               'of a plain table about to be converted.' END,
            HINT = CASE WHEN v_rel.relispartition THEN 'Add it to the partitioned table at the top of the tree.'
                        ELSE 'Name a partitioned table, or an ordinary table without inheritance.' END,
            SCHEMA = v_schema, TABLE = v_rel.relname;
    END IF;
    IF p_columns IS NULL OR cardinality(p_columns) NOT BETWEEN 1 AND 32
       OR array_position(p_columns, NULL) IS NOT NULL
       OR (SELECT count(DISTINCT c) FROM unnest(p_columns) AS u (c)) <> cardinality(p_columns) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid column list %s for a global unique constraint on %s',
                             coalesce(p_columns::text, 'NULL'), p_parent),
            HINT = 'Pass 1 to 32 distinct column names, e.g. ARRAY[''email''].';
    END IF;
    SELECT u.c INTO v_missing FROM unnest(p_columns) AS u (c)
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_parent AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_column',
            MESSAGE = format('column %I of table %s does not exist', v_missing, p_parent),
            HINT = 'Name columns of the parent table.',
            SCHEMA = v_schema, TABLE = v_rel.relname, COLUMN = v_missing;
    END IF;
    IF coalesce(p_nnd, false) AND current_setting('server_version_num')::integer < 150000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'NULLS NOT DISTINCT needs PostgreSQL 15 or later',
            HINT = 'Leave nulls_not_distinct false on this server.';
    END IF;
    IF p_build IS NULL OR p_prune IS NULL OR p_nnd IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'build, prune and nulls_not_distinct must not be NULL',
            HINT = 'Pass true or false.';
    END IF;

    -- built as text: a name longer than 63 bytes would be cut by the cast,
    -- so it is shortened with a hash of the whole first
    v_name := (SELECT CASE WHEN octet_length(t.n) > 63 THEN format('%s_%s_gkey', left(t.n, 40), left(md5(t.n), 8))
                           ELSE t.n END
               FROM (SELECT coalesce(p_name::text, format('%s_%s_gkey', v_rel.relname,
                                                          array_to_string(p_columns, '_'))) AS n) AS t)::name;
    v_side := (CASE WHEN octet_length(v_name) <= 56 THEN v_name || '_values'
                    ELSE format('%s_%s_values', left(v_name, 40), left(md5(v_name), 8)) END)::name;

    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = v_name;
    IF FOUND AND (v_gu.columns <> p_columns OR v_gu.nulls_not_distinct <> p_nnd) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_object',
            MESSAGE = format('global unique constraint %I on %s already exists with columns %s', v_name, p_parent,
                             v_gu.columns::text),
            HINT = format('Drop it first: SELECT pgpart.drop_global_unique(%L, %L), or choose another name.',
                          p_parent::text, v_name);
    END IF;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.columns = p_columns) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('columns %s of %s already have a global unique constraint', p_columns::text,
                                 p_parent),
                HINT = 'pgpart.global_unique_info() lists it.';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_class AS c
                   WHERE c.relnamespace = v_rel.relnamespace AND c.relname IN (v_name, v_side)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I or %I already exists in schema %I', v_name, v_side, v_schema),
                DETAIL = 'The side table and its unique index are named after the constraint.',
                HINT = 'Pass another constraint_name.';
        END IF;
        -- the side table: the columns with their types and collations
        EXECUTE format('CREATE TABLE %I.%I (%s)', v_schema, v_side,
                       (SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                                 CASE WHEN a.attcollation <> 0 THEN
                                                     (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                                                      FROM pg_collation AS co
                                                      JOIN pg_namespace AS cn ON cn.oid = co.collnamespace
                                                      WHERE co.oid = a.attcollation) ELSE '' END), ', ' ORDER BY u.n)
                        FROM unnest(p_columns) WITH ORDINALITY AS u (c, n)
                        JOIN pg_attribute AS a ON a.attrelid = p_parent AND a.attname = u.c));
        EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I UNIQUE %s(%s)', v_schema, v_side, v_name,
                       CASE WHEN p_nnd THEN 'NULLS NOT DISTINCT ' ELSE '' END,
                       (SELECT string_agg(quote_ident(c), ', ' ORDER BY n)
                        FROM unnest(p_columns) WITH ORDINALITY AS u (c, n)));
        IF (SELECT c.relowner FROM pg_class AS c WHERE c.oid = format('%I.%I', v_schema, v_side)::regclass)
           <> v_rel.relowner THEN
            EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', v_schema, v_side, pg_get_userbyid(v_rel.relowner));
        END IF;
        EXECUTE format('COMMENT ON TABLE %I.%I IS %L', v_schema, v_side,
                       format('pgpart: the values of global unique constraint %s on %s, kept by its triggers '
                              '(see pgpart.global_unique_info()). Do not write it directly.', v_name, p_parent));
        INSERT INTO pgpart.global_unique (id, parent, constraint_name, side_table, columns, nulls_not_distinct,
                                          insert_sql, delete_sql)
        SELECT s.side::oid, p_parent, v_name, s.side, p_columns, p_nnd,
               pgpart._gu_sql(ROW(0, p_parent, v_name, s.side, p_columns, p_nnd, '', '', 'building', '{}', NULL,
                                  current_user, now())::pgpart.global_unique, 'insert'),
               pgpart._gu_sql(ROW(0, p_parent, v_name, s.side, p_columns, p_nnd, '', '', 'building', '{}', NULL,
                                  current_user, now())::pgpart.global_unique, 'delete')
        FROM (SELECT format('%I.%I', v_schema, v_side)::regclass AS side) AS s
        RETURNING * INTO v_gu;
        FOR v_statement IN SELECT s.s FROM pgpart._gu_grant_statements(v_gu) AS s (s) LOOP
            EXECUTE v_statement;
        END LOOP;
    END IF;

    -- the stored statements follow a renamed side table
    IF v_gu.insert_sql <> pgpart._gu_sql(v_gu, 'insert') OR v_gu.delete_sql <> pgpart._gu_sql(v_gu, 'delete') THEN
        UPDATE pgpart.global_unique AS g
        SET insert_sql = pgpart._gu_sql(v_gu, 'insert'), delete_sql = pgpart._gu_sql(v_gu, 'delete')
        WHERE g.id = v_gu.id
        RETURNING * INTO v_gu;
    END IF;
    -- Writers wait at most the lock timeout: the triggers' creation locks
    -- the parent and each partition SHARE ROW EXCLUSIVE; a build keeps the
    -- whole tree so until commit, so that no write escapes the copy.
    PERFORM pgpart._acquire_locks(
        ARRAY[format('LOCK TABLE %s%s IN SHARE ROW EXCLUSIVE MODE', CASE WHEN p_build THEN '' ELSE 'ONLY ' END,
                     p_parent)],
        p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    PERFORM pgpart._gu_install(v_gu);
    -- detached tables release their values; new leaves are recorded (a
    -- building constraint's leaves are marked and copied below)
    IF v_gu.state = 'valid' THEN
        PERFORM pgpart._gu_sync(p_parent);
    ELSE
        FOR v_leaf IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            PERFORM pgpart._gu_mark(v_gu, v_leaf);
        END LOOP;
        PERFORM pgpart._gu_sync(p_parent);
        IF p_build THEN
            FOR v_leaf IN SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) LOOP
                PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, NULL, NULL, false));
            END LOOP;
            UPDATE pgpart.global_unique AS g SET state = 'valid', build = '{}'::jsonb WHERE g.id = v_gu.id
            RETURNING * INTO v_gu;
        END IF;
    END IF;
    IF p_prune THEN
        EXECUTE format('DELETE FROM %s AS s WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s)', v_gu.side_table,
                       p_parent,
                       (SELECT string_agg(format('(s.%1$I = t.%1$I OR (s.%1$I IS NULL AND t.%1$I IS NULL))', c),
                                          ' AND ')
                        FROM unnest(v_gu.columns) AS u (c)));
        UPDATE pgpart.global_unique AS g SET stale_since = NULL WHERE g.id = v_gu.id RETURNING * INTO v_gu;
    END IF;
    PERFORM pgpart._log(p_parent, 'add_global_unique', 'ok',
                        jsonb_build_object('constraint', v_name, 'columns', to_jsonb(p_columns),
                                           'state', v_gu.state, 'prune', p_prune));
    unique_constraint := v_name;
    side_table := v_gu.side_table;
    state := v_gu.state;
    partitions := (SELECT count(*) FROM pgpart._gu_marked(v_gu))::integer;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.add_global_unique(regclass, name[], name, boolean, boolean, boolean, interval, integer) IS
'Makes columns unique across every partition of a partitioned table, or across a plain table about to be converted (a side table with a unique index named after the constraint, kept by triggers); with build => false the existing rows are left to pgpart.build_global_unique; called again, repairs what is missing.';
