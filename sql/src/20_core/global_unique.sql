-- Global unique constraints, the core (docs/global-unique.md): looking a
-- constraint up for a trigger, the statements that keep its side table, and
-- the trigger functions themselves. The trigger functions belong to the
-- extension's owner (trusted code) and are SECURITY INVOKER: they run with
-- the writer's rights, so a writer needs rights on the side table, granted
-- alongside its rights on the parent (pgpart._gu_grant_statements). Their
-- only argument is the constraint's id: everything they execute is built
-- here from pgpart.global_unique (identifiers through %I, the side table as
-- a regclass), never taken from a trigger argument, and they act only for a
-- table of the constraint's parent tree (or one its owner owns), so an owner
-- cannot point them at anyone else's table.

-- pgpart._gu_lookup(id, rel): the constraint a trigger on REL serves, after
-- the checks above; 55000 otherwise (a trigger copied by hand, a constraint
-- dropped under it).
CREATE FUNCTION pgpart._gu_lookup(p_id bigint, p_rel oid)
RETURNS pgpart.global_unique
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
BEGIN
    SELECT g.* INTO v_gu
    FROM pgpart.global_unique AS g
    JOIN pg_class AS pc ON pc.oid = g.parent
    JOIN pg_class AS sc ON sc.oid = g.side_table
    JOIN pg_class AS rc ON rc.oid = p_rel
    WHERE g.id = p_id
      AND sc.relowner = pc.relowner AND sc.relnamespace = pc.relnamespace
      AND (rc.relowner = pc.relowner
           OR g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_rel) AS a (relid)));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('pgpart global unique constraint %s does not serve table %s', p_id, p_rel::regclass),
            DETAIL = 'The trigger names a constraint that no longer exists, or belongs to another table.',
            HINT = 'pgpart.global_unique_info() lists the constraints; drop the stray trigger.';
    END IF;
    RETURN v_gu;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_lookup(bigint, oid) IS
'The global unique constraint a trigger on the relation serves (same owner for parent and side table, relation in the parent''s tree or of the same owner); 55000 otherwise (internal).';

-- pgpart._gu_match(constraint, a, b): the condition "A's values equal B's"
-- for aliases A and B: equality, and for NULLS NOT DISTINCT NULL matching
-- NULL too.
CREATE FUNCTION pgpart._gu_match(p_gu pgpart.global_unique, p_a text, p_b text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN (
        SELECT string_agg(
            CASE WHEN p_gu.nulls_not_distinct
                THEN format('(%1$I.%3$I = %2$I.%3$I OR (%1$I.%3$I IS NULL AND %2$I.%3$I IS NULL))', p_a, p_b, u.c)
                ELSE format('%1$I.%3$I = %2$I.%3$I', p_a, p_b, u.c) END,
            ' AND ' ORDER BY u.n)
        FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_match(pgpart.global_unique, text, text) IS
'The condition that two aliases hold the same values of a global unique constraint''s columns (internal).';

-- pgpart._gu_sql(constraint, kind): the statement of KIND that keeps the
-- side table: 'insert' records the rows of the transition table pgpart_new
-- (rows with a NULL in the columns are not recorded unless NULLS NOT
-- DISTINCT), 'delete' releases those of pgpart_old that hold no NULL (the
-- trigger releases the others row by row with 'delete_json'), both set-based:
-- one statement per written statement, whatever its row count. With $1 a
-- jsonb object of the values: 'count_json' (rows of the parent holding
-- them, for the build) and 'delete_json' (one entry, NULL matching NULL:
-- the NULL tests on $1 fold into constants when EXECUTE plans with the
-- value, so it probes the side table's unique index).
CREATE FUNCTION pgpart._gu_sql(p_gu pgpart.global_unique, p_kind text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cols text := (SELECT string_agg(quote_ident(u.c), ', ' ORDER BY u.n)
                    FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
BEGIN
    CASE p_kind
        WHEN 'insert' THEN
            RETURN format(
                'INSERT INTO %s (%s) SELECT %s FROM pgpart_new AS n%s', p_gu.side_table, v_cols,
                (SELECT string_agg(format('n.%I', u.c), ', ' ORDER BY u.n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)),
                CASE WHEN NOT p_gu.nulls_not_distinct THEN
                    ' WHERE ' || (SELECT string_agg(format('n.%I IS NOT NULL', u.c), ' AND ' ORDER BY u.n)
                                  FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)) ELSE '' END);
        WHEN 'delete' THEN
            RETURN format(
                'DELETE FROM %s AS s USING pgpart_old AS o WHERE %s', p_gu.side_table,
                (SELECT string_agg(format('s.%1$I = o.%1$I', u.c), ' AND ' ORDER BY u.n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)));
        -- $1 a jsonb object of the values (rows read by EXECUTE have no named type)
        WHEN 'count_json' THEN
            RETURN format('SELECT count(*) FROM %s AS t, jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                          p_gu.parent, p_gu.side_table, pgpart._gu_match(p_gu, 't', 'r'));
        WHEN 'delete_json' THEN
            RETURN format('DELETE FROM %s AS t USING jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                          p_gu.side_table, p_gu.side_table, pgpart._gu_match(p_gu, 't', 'r'));
    END CASE;
    RETURN NULL;  -- not reached: CASE without a match raises 20000
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sql(pgpart.global_unique, text) IS
'The statement that keeps a global unique constraint''s side table: insert or delete the rows of a trigger''s transition table, or count or delete the values passed as $1 (internal).';

-- Writing pgpart.global_unique (row-level security, as on pgpart.config):
-- only the parent's owner (or a member of the owning role) writes a row,
-- in its own name, and the side table must belong to the same owner, in
-- the parent's schema, so no row can point a writer's trigger at another
-- owner's table. The statements stored in the row are run by every writer's
-- trigger with the writer's rights: the row is admitted only when they are
-- exactly what pgpart._gu_sql builds from its side table and columns, so the
-- owner cannot store other SQL there. Here, not in 10_schema: the policy
-- calls pgpart._gu_sql.
CREATE POLICY global_unique_write ON pgpart.global_unique FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = global_unique.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    pg_catalog.pg_has_role(current_user, author, 'MEMBER')
    AND EXISTS (
        SELECT 1
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_class AS s ON global_unique.side_table = s.oid
        WHERE
            c.oid = global_unique.parent
            AND s.relowner = c.relowner
            AND s.relnamespace = c.relnamespace
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
    AND insert_sql = pgpart._gu_sql(
        (
            id, parent, constraint_name, side_table, columns, nulls_not_distinct, '', '', state, build,
            stale_since, author, created_at
        )::pgpart.global_unique,
        'insert'
    )
    AND delete_sql = pgpart._gu_sql(
        (
            id, parent, constraint_name, side_table, columns, nulls_not_distinct, '', '', state, build,
            stale_since, author, created_at
        )::pgpart.global_unique,
        'delete'
    )
);

-- pgpart._gu_row(): the trigger of a global unique constraint, FOR EACH
-- STATEMENT with transition tables (pgpart_new, pgpart_old), AFTER INSERT,
-- AFTER UPDATE and AFTER DELETE, on the parent and on every table of its
-- tree (PostgreSQL fires only the statement triggers of the table a
-- statement names, and does not clone them to partitions). Set-based: one
-- INSERT into the side table for the rows a statement inserted (COPY
-- included), whose unique index refuses a value another row holds (23505
-- naming the constraint and the value, waiting for an uncommitted writer of
-- the same value like any unique index); one DELETE for the rows it
-- deleted. An UPDATE releases the values its old rows held and its new rows
-- do not (EXCEPT ALL), then records the new ones: values are checked as a
-- set at the end of the statement, so a swap succeeds, and a row moved to
-- another partition (captured by PostgreSQL as an UPDATE of the parent) with
-- its values unchanged leaves its entry untouched. The name is kept from the
-- row trigger it replaced; a ROW trigger calling it is refused (55000).
CREATE FUNCTION pgpart._gu_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_insert text;
    v_delete text;
    v_parent oid;
    v_side oid;
    v_columns name [];
    v_nnd boolean;
    v_parent_owner oid;
    v_parent_schema oid;
    v_side_owner oid;
    v_side_schema oid;
    v_cols text;
    v_old text := '';
    v_new text := '';
    v_delete_one text;
    v_changed boolean;
    v_row jsonb;
BEGIN
    -- pgpart._gu_lookup's checks, as single-row lookups with cached plans
    -- (one query joining them all costs no less: measured, docs "Cost"):
    -- the constraint exists, its side table is the parent owner's, in its
    -- schema, and this table is the parent owner's or in the parent's tree
    SELECT g.insert_sql, g.delete_sql, g.parent::oid, g.side_table::oid, g.columns, g.nulls_not_distinct
    INTO v_insert, v_delete, v_parent, v_side, v_columns, v_nnd
    FROM pgpart.global_unique AS g WHERE g.id = TG_ARGV[0]::bigint;
    SELECT c.relowner, c.relnamespace INTO v_parent_owner, v_parent_schema FROM pg_class AS c WHERE c.oid = v_parent;
    SELECT c.relowner, c.relnamespace INTO v_side_owner, v_side_schema FROM pg_class AS c WHERE c.oid = v_side;
    -- (plain comparisons first: PL/pgSQL evaluates them without a query;
    -- a statement on the parent itself needs no third lookup)
    IF v_parent_owner IS NULL OR v_side_owner IS DISTINCT FROM v_parent_owner
       OR v_side_schema IS DISTINCT FROM v_parent_schema THEN
        PERFORM pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID);  -- raises 55000
    END IF;
    IF TG_RELID <> v_parent THEN
        IF v_parent_owner IS DISTINCT FROM (SELECT c.relowner FROM pg_class AS c WHERE c.oid = TG_RELID)
           AND NOT v_parent IN (SELECT a.relid FROM pg_partition_ancestors(TG_RELID) AS a (relid)) THEN
            PERFORM pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID);  -- raises 55000
        END IF;
    END IF;
    IF TG_LEVEL <> 'STATEMENT' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('trigger %I on %s calls pgpart._gu_row() for each row', TG_NAME, TG_RELID::regclass),
            DETAIL = 'pgpart._gu_row() works FOR EACH STATEMENT, with transition tables pgpart_new and pgpart_old.',
            HINT = 'Drop the trigger; pgpart.add_global_unique() installs the ones it needs.';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_cols := (SELECT string_agg(quote_ident(u.c), ', ' ORDER BY u.n)
                   FROM unnest(v_columns) WITH ORDINALITY AS u (c, n));
        -- values unchanged (an update of other columns, rows moved): nothing
        -- to do, and the side table is not touched, so a writer allowed to
        -- update only other columns needs no right on it (old and new hold
        -- as many rows: one difference is empty when the other is)
        EXECUTE format('SELECT EXISTS (SELECT %1$s FROM pgpart_old EXCEPT ALL SELECT %1$s FROM pgpart_new)', v_cols)
        INTO v_changed;
        IF NOT v_changed THEN
            RETURN NULL;
        END IF;
        -- only what changed: the values released, the values taken
        v_old := format('WITH pgpart_old AS (SELECT %1$s FROM pgpart_old EXCEPT ALL SELECT %1$s FROM pgpart_new) ',
                        v_cols);
        v_new := format('WITH pgpart_new AS (SELECT %1$s FROM pgpart_new EXCEPT ALL SELECT %1$s FROM pgpart_old) ',
                        v_cols);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        EXECUTE v_old || v_delete;
        -- NULLS NOT DISTINCT: entries holding a NULL, one by one (NULL = NULL
        -- is not true in the set-based DELETE above)
        IF v_nnd THEN
            v_delete_one := pgpart._gu_sql(pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID), 'delete_json');
            FOR v_row IN EXECUTE format(
                '%sSELECT to_jsonb(o) FROM (SELECT %s FROM pgpart_old) AS o WHERE %s', v_old,
                (SELECT string_agg(quote_ident(u.c), ', ') FROM unnest(v_columns) AS u (c)),
                (SELECT string_agg(format('o.%I IS NULL', u.c), ' OR ') FROM unnest(v_columns) AS u (c)))
            LOOP
                EXECUTE v_delete_one USING v_row;
            END LOOP;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE v_new || v_insert;
    END IF;
    RETURN NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_row() IS
'Statement trigger of a global unique constraint (transition tables pgpart_new, pgpart_old): records, releases or moves the values a statement wrote in the side table, set-based (argument: the constraint''s id).';

-- pgpart._gu_forget(constraint, table): deletes from the side table the
-- values TABLE's rows hold (they are unique, so they are that table's):
-- before a TRUNCATE, after a DETACH. One join for rows without NULLs, then
-- row by row for the few with NULLs (NULLS NOT DISTINCT only). Returns how
-- many entries went.
CREATE FUNCTION pgpart._gu_forget(p_gu pgpart.global_unique, p_table regclass)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint;
    v_more bigint := 0::bigint;
    v_row jsonb;
BEGIN
    EXECUTE format('DELETE FROM %s AS s USING ONLY %s AS t WHERE %s', p_gu.side_table, p_table,
                   (SELECT string_agg(format('s.%1$I = t.%1$I', c), ' AND ') FROM unnest(p_gu.columns) AS u (c)));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF p_gu.nulls_not_distinct THEN
        FOR v_row IN EXECUTE format(
            'SELECT to_jsonb(t) FROM (SELECT %s FROM ONLY %s WHERE %s) AS t',
            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(p_gu.columns) AS u (c)), p_table,
            (SELECT string_agg(format('%I IS NULL', c), ' OR ') FROM unnest(p_gu.columns) AS u (c)))
        LOOP
            EXECUTE pgpart._gu_sql(p_gu, 'delete_json') USING v_row;
            GET DIAGNOSTICS v_more = ROW_COUNT;
            v_count := v_count + v_more;
        END LOOP;
    END IF;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_forget(pgpart.global_unique, regclass) IS
'Deletes from a global unique constraint''s side table the values a table''s rows hold (before TRUNCATE, after DETACH); returns the count (internal).';

-- pgpart._gu_truncate(): the BEFORE TRUNCATE trigger of a global unique
-- constraint on each leaf partition (TRUNCATE fires no row triggers, and
-- PostgreSQL does not clone TRUNCATE triggers to partitions, so pgpart
-- installs it on each, and the event trigger on partitions made by hand).
-- It releases the partition's values while its rows are still there: a
-- scan of the partition, the cost of TRUNCATE with a global constraint.
-- Its name, pgpart_gu_<id>_truncate, also marks the tables whose values the
-- side table holds (pgpart._gu_sync).
CREATE FUNCTION pgpart._gu_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._gu_forget(pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID), TG_RELID::regclass);
    RETURN NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_truncate() IS
'BEFORE TRUNCATE trigger of a global unique constraint on a leaf partition: releases the partition''s values; its name marks the tables the side table holds values of.';
