-- pgpart._partition_ddl(parent, table, tablespace, reloptions, owner): the
-- statements that build a new, still detached table ready to be attached
-- to PARENT (DESIGN §3), in order:
--   1. CREATE TABLE (LIKE parent ...): defaults, CHECK constraints,
--      generated columns, storage, compression, statistics and comments, but
--      no identity (a copied identity gives every partition its own sequence
--      and duplicate ids) and no indexes; in TABLESPACE, WITH reloptions;
--   2. the parent's indexes, in the parent's order: primary key and unique
--      constraints added as constraints (ATTACH adopts a constraint's index,
--      but would build a second index beside a plain unique one), USING
--      INDEX TABLESPACE; the others as indexes in TABLESPACE;
--   3. the owner: the parent's owner.
-- With PARTITION_BY the new table is itself partitioned (sub-partitioning):
-- its indexes are then partitioned indexes, and its leaves come later.
-- Index and constraint names are left to PostgreSQL, which chooses what
-- CREATE TABLE ... PARTITION OF would.
-- Long (about 125 lines): the three groups of statements above, each from its
-- own catalog query over the same parent; splitting them buys nothing.
CREATE FUNCTION pgpart._partition_ddl(
    p_parent regclass,
    p_table text,
    p_tablespace name,
    p_reloptions text[],
    p_owner name,
    p_partition_by text DEFAULT NULL
)
RETURNS TABLE (action text, statement text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_parent_text text;
    v_with text := '';
    v_def text;
    v_prefix text;
    v_pred text;
    v_suffix text;
    v_space text;
    v_index_space text;
    r record;
BEGIN
    SELECT format('%I.%I', n.nspname, c.relname) INTO v_parent_text
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;

    -- a partitioned partition takes no storage parameters (its leaves do)
    v_with := pgpart._with_clause(p_reloptions);
    IF p_partition_by IS NOT NULL THEN
        v_with := '';
    END IF;

    -- PostgreSQL refuses to name the database's default tablespace for a
    -- partitioned relation; leaving it out means the same there
    IF p_partition_by IS NOT NULL AND p_tablespace = (
        SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
        WHERE d.datname = current_database()
    ) THEN
        v_space := '';
        v_index_space := '';
    ELSE
        v_space := format(' TABLESPACE %I', p_tablespace);
        v_index_space := format(' USING INDEX TABLESPACE %I', p_tablespace);
    END IF;

    action := 'create table';
    statement := format(
        'CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED '
        'INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING STATISTICS INCLUDING COMMENTS '
        'EXCLUDING IDENTITY EXCLUDING INDEXES)%s%s%s',
        p_table, v_parent_text, coalesce(' PARTITION BY ' || p_partition_by, ''), v_with, v_space);
    RETURN NEXT;

    -- The parent's indexes in the parent's OID order: ATTACH pairs each
    -- parent index with the first matching partition index in that order,
    -- so a plain unique index older than an equal UNIQUE constraint would
    -- otherwise take the constraint's index. Primary keys and unique
    -- constraints become constraints, everything else a plain index.
    FOR r IN
        SELECT i.indexrelid, i.indisunique, ic.relname AS index_name, i.indpred IS NOT NULL AS has_pred,
               ic.reloptions, con.oid AS con_oid, con.condeferrable, con.condeferred
        FROM pg_index AS i
        JOIN pg_class AS ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_constraint AS con
            ON con.conindid = i.indexrelid AND con.conrelid = p_parent AND con.contype IN ('p', 'u')
        WHERE i.indrelid = p_parent
        ORDER BY i.indexrelid
    LOOP
        IF r.con_oid IS NOT NULL THEN
            v_def := pg_get_constraintdef(r.con_oid);
            v_suffix := CASE WHEN r.condeferrable THEN ' DEFERRABLE' ELSE '' END
                        || CASE WHEN r.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END;
            v_def := left(v_def, length(v_def) - length(v_suffix));
            -- pg_get_constraintdef() leaves out the index's storage parameters
            -- (and its tablespace): add them back, before the tablespace
            IF r.reloptions IS NOT NULL THEN
                SELECT v_def || ' WITH (' || string_agg(format('%s = %L', split_part(o, '=', 1),
                                                                substr(o, strpos(o, '=') + 1)), ', ') || ')'
                INTO v_def
                FROM unnest(r.reloptions) AS o;
            END IF;
            action := 'add constraint';
            statement := format('ALTER TABLE %s ADD %s%s%s', p_table, v_def, v_index_space, v_suffix);
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- 'CREATE [UNIQUE ]INDEX name ON ONLY parent USING am (...)[ WHERE pred]'
        v_def := pg_get_indexdef(r.indexrelid);
        v_prefix := format('CREATE %sINDEX %I ON ONLY %s USING ',
                           CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END, r.index_name, v_parent_text);
        IF left(v_def, length(v_prefix)) <> v_prefix THEN
            RAISE EXCEPTION USING
                ERRCODE = 'internal_error',
                MESSAGE = format('cannot read the definition of index %I on table %s', r.index_name, p_parent),
                DETAIL = v_def;
        END IF;
        v_def := substr(v_def, length(v_prefix) + 1);
        v_pred := '';
        IF r.has_pred THEN
            -- TABLESPACE must come before WHERE; the predicate is at the end
            v_pred := ' WHERE ' || pg_get_expr(
                (SELECT i.indpred FROM pg_index AS i WHERE i.indexrelid = r.indexrelid), p_parent);
            IF right(v_def, length(v_pred)) <> v_pred THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'internal_error',
                    MESSAGE = format('cannot read the predicate of index %I on table %s', r.index_name, p_parent),
                    DETAIL = v_def;
            END IF;
            v_def := left(v_def, length(v_def) - length(v_pred));
        END IF;
        action := 'create index';
        statement := format('CREATE %sINDEX ON %s USING %s%s%s',
                            CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END, p_table, v_def, v_space, v_pred);
        RETURN NEXT;
    END LOOP;

    action := 'set owner';
    statement := format('ALTER TABLE %s OWNER TO %I', p_table, p_owner);
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart._partition_ddl(regclass, text, name, text[], name, text) IS
'Statements that build a detached table ready to attach to the parent: LIKE without identity, constraints and indexes in the tablespace, owner.';
