-- Owner code (docs/security.md, DESIGN §6). A table's owner can attach code
-- to it that PostgreSQL runs with the rights of whoever touches the table:
-- row-level security policies, triggers, CHECK constraints, domain CHECKs,
-- generated columns, index expressions, partition key expressions. Neither
-- SET ROLE nor SET SESSION AUTHORIZATION is a boundary (the code can reset
-- either to session_user), so when a superuser's nightly job, or a role that
-- is merely a member of the owner, works on the table, pgpart must not make
-- code of an untrusted role run at all. A call is trusted for a parent when
-- session_user and current_user are both its owner: then any owner code runs
-- with the owner's own rights. Otherwise pgpart finds, before it works, the
-- functions its work would run and refuses (42501) when one is owned by a
-- role that is neither a superuser nor session_user.
--
-- What each kind of work runs:
--   ddl   creating and attaching partitions, casting bound and list values:
--         partition key expressions and operator classes at every level, the
--         key columns' (domain) types; ATTACH with a default partition
--         evaluates the key on the default's rows.
--   read  ddl, plus the row-level security policies of the tables pgpart
--         reads (the highest integer key, rows in the default partition),
--         where row-level security applies to the current role.
--   move  read, plus what INSERT and DELETE run: triggers, CHECK
--         constraints, domain-typed columns, generated columns, index
--         expressions and predicates (index maintenance on INSERT runs them
--         as the caller).
-- Not listed, because PostgreSQL already runs them as the table's owner in
-- a security-restricted operation, where SET ROLE is refused (its fix for
-- CVE-2022-1552; tests/sql/test_owner_code.py checks it on each version): index builds (CREATE INDEX,
-- the indexes of a new partition, REINDEX), ANALYZE and VACUUM. Plain
-- DETACH, SET SCHEMA, SET TABLESPACE, OWNER TO and DROP run no table code.

-- pgpart._trusted_for(parent): whether the caller works on PARENT with its
-- owner's own rights, so that no owner code can gain anything: the session
-- was authenticated as the owner and the current role is the owner.
CREATE FUNCTION pgpart._trusted_for(p_parent regclass)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT coalesce(bool_and(c.relowner = r_s.oid AND c.relowner = r_c.oid), false)
    FROM pg_class AS c
    CROSS JOIN pg_roles AS r_s
    CROSS JOIN pg_roles AS r_c
    WHERE c.oid = p_parent AND r_s.rolname = session_user AND r_c.rolname = current_user;
$body$;

COMMENT ON FUNCTION pgpart._trusted_for(regclass) IS
'True when session_user and current_user are both the owner of the table: owner code then runs with the owner''s own rights.';

-- pgpart._code_edges(classid, objid, read, as_owner): the objects whose
-- code runs when the given object's code runs, for pgpart._untrusted_code's
-- walk (READ: policies of the tables read count; AS_OWNER: whether they
-- apply is judged for the table's owner rather than the current role).
-- Functions end the walk (what a trusted function calls is its owner's
-- business); built-in objects (OID below 16384) carry no user code.
CREATE FUNCTION pgpart._code_edges(p_classid oid, p_objid oid, p_read boolean, p_as_owner boolean)
RETURNS TABLE (classid oid, objid oid)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: called once per object of every walk, its plan is
    -- cached for the session instead of made again on each call
    RETURN QUERY
    -- what an expression, operator, type, constraint, trigger, policy, rule,
    -- operator class or index refers to (pg_depend records every function,
    -- operator and type an expression uses)
    SELECT d.refclassid, d.refobjid
    FROM pg_depend AS d
    WHERE d.classid = p_classid AND d.objid = p_objid
      AND p_classid <> 'pg_proc'::regclass
      AND (p_classid <> 'pg_class'::regclass
           OR (SELECT c.relkind FROM pg_class AS c WHERE c.oid = p_objid) IN ('i', 'I'))
      AND d.objsubid = 0
      AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_type'::regclass,
                           'pg_opclass'::regclass, 'pg_opfamily'::regclass, 'pg_class'::regclass)
      AND d.refobjid >= 16384
      AND NOT (d.refclassid = p_classid AND d.refobjid = p_objid)
    UNION
    -- a domain's CHECK constraints
    SELECT 'pg_constraint'::regclass::oid, con.oid
    FROM pg_constraint AS con
    WHERE p_classid = 'pg_type'::regclass AND con.contypid = p_objid AND con.contype = 'c'
    UNION
    -- an operator family's operators and support functions
    SELECT d.classid, d.objid
    FROM pg_depend AS d
    WHERE p_classid = 'pg_opfamily'::regclass AND d.refclassid = 'pg_opfamily'::regclass AND d.refobjid = p_objid
      AND d.classid IN ('pg_amop'::regclass, 'pg_amproc'::regclass)
    UNION
    -- a relation an expression refers to: a composite type's column types,
    -- a view's rules, and a table's policies when it is read
    SELECT 'pg_type'::regclass::oid, a.atttypid
    FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
    WHERE p_classid = 'pg_class'::regclass AND a.attrelid = p_objid AND c.relkind = 'c'
      AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid >= 16384
    UNION
    SELECT 'pg_rewrite'::regclass::oid, rw.oid
    FROM pg_rewrite AS rw
    WHERE p_classid = 'pg_class'::regclass AND rw.ev_class = p_objid
    UNION
    SELECT 'pg_policy'::regclass::oid, pol.oid
    FROM pg_policy AS pol JOIN pg_class AS c ON c.oid = pol.polrelid
    WHERE p_read AND p_classid = 'pg_class'::regclass AND pol.polrelid = p_objid AND c.relrowsecurity
      AND (p_as_owner OR row_security_active(c.oid))
    UNION
    -- a partition key (the pseudo-object pg_partitioned_table, see below):
    -- its expressions and operator classes, and the key columns' types
    SELECT d.refclassid, d.refobjid
    FROM pg_depend AS d
    WHERE p_classid = 'pg_partitioned_table'::regclass
      AND d.classid = 'pg_class'::regclass AND d.objid = p_objid AND d.objsubid = 0
      AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_type'::regclass,
                           'pg_opclass'::regclass, 'pg_opfamily'::regclass)
      AND d.refobjid >= 16384
    UNION
    SELECT 'pg_type'::regclass::oid, a.atttypid
    FROM pg_partitioned_table AS pt
    CROSS JOIN LATERAL unnest(pt.partattrs::int2 []) AS k (attnum)
    JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
    WHERE p_classid = 'pg_partitioned_table'::regclass AND pt.partrelid = p_objid AND a.atttypid >= 16384;
END
$body$;

COMMENT ON FUNCTION pgpart._code_edges(oid, oid, boolean, boolean) IS
'The objects whose code runs when an object''s code runs (expressions, operators, domains, operator families, views, policies, partition keys); one step of pgpart._untrusted_code.';

-- pgpart._untrusted_code(parent, work, columns): each function of an
-- untrusted role (neither a superuser nor session_user) that WORK ('ddl',
-- 'read' or 'move', see the top of this file) on PARENT and every table
-- under it would run, with the piece of the table that calls it. COLUMNS
-- names further columns of PARENT about to become a partition key (a
-- sub-partition spec), whose values pgpart casts. AS_OWNER judges whether
-- row-level security applies for the table's owner (what maintenance,
-- which switches to the owner, would meet) instead of the current role.
-- Catalog reads only.
CREATE FUNCTION pgpart._untrusted_code(
    p_parent regclass,
    p_work text,
    p_columns name[] DEFAULT NULL,
    p_as_owner boolean DEFAULT false
)
RETURNS TABLE (piece text, function regprocedure, function_owner name, description text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_read boolean := p_work IN ('read', 'move');
    v_move boolean := p_work = 'move';
    v_tree oid [];
BEGIN
    IF p_work IS NULL OR p_work NOT IN ('ddl', 'read', 'move') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown kind of work %L', p_work),
            HINT = 'Pass ''ddl'', ''read'' or ''move''.';
    END IF;
    -- the tree from pg_inherits, not pg_partition_tree(), which locks
    -- every partition (reading the catalog never waits for a lock)
    v_tree := array(
        WITH RECURSIVE tree (rel) AS (
            SELECT p_parent::oid
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel FROM tree AS t
    );
    -- moving rows fires the triggers of global unique constraints, which
    -- write their side tables: those tables' code runs too
    IF v_move THEN
        v_tree := v_tree || array(SELECT g.side_table::oid FROM pgpart.global_unique AS g
                                  WHERE g.parent = ANY (v_tree) ORDER BY g.id);
    END IF;
    RETURN QUERY
    WITH RECURSIVE start (piece, classid, objid) AS (
        -- ddl: the partition key of every partitioned table of the tree
        SELECT 'partition key of ' || pg_describe_object('pg_class'::regclass, c.oid, 0),
               'pg_partitioned_table'::regclass::oid, c.oid
        FROM pg_class AS c WHERE c.oid = ANY (v_tree) AND c.relkind = 'p'
        UNION ALL
        -- ddl: columns about to become a key (their values are cast)
        SELECT format('type %s of %s', a.atttypid::regtype, pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum)),
               'pg_type'::regclass::oid, a.atttypid
        FROM pg_attribute AS a
        WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid >= 16384
          AND (a.attname = ANY (p_columns)
               OR a.attname = (SELECT cfg.subpartition ->> 'key' FROM pgpart.config AS cfg WHERE cfg.parent = p_parent))
        UNION ALL
        -- read: the row-level security policies of the tables read
        SELECT 'row-level security ' || pg_describe_object('pg_policy'::regclass, pol.oid, 0),
               'pg_policy'::regclass::oid, pol.oid
        FROM pg_policy AS pol
        JOIN pg_class AS c ON c.oid = pol.polrelid
        JOIN pg_roles AS o ON o.oid = c.relowner
        WHERE v_read AND c.oid = ANY (v_tree) AND c.relrowsecurity
          -- not for a superuser or the owner of a table without FORCE: RLS
          -- does not apply to them (row_security_active knows the rules)
          AND CASE WHEN p_as_owner THEN c.relforcerowsecurity AND NOT o.rolsuper AND NOT o.rolbypassrls
                   ELSE row_security_active(c.oid) END
        UNION ALL
        -- move: triggers (and their WHEN clauses); a partition's clone of a
        -- parent's trigger runs the same code and is not listed again
        SELECT pg_describe_object('pg_trigger'::regclass, tg.oid, 0), 'pg_trigger'::regclass::oid, tg.oid
        FROM pg_trigger AS tg WHERE v_move AND tg.tgrelid = ANY (v_tree) AND tg.tgenabled <> 'D' AND tg.tgparentid = 0
        UNION ALL
        -- move: CHECK constraints, each expression once (every partition
        -- has the parent's), the parent's first
        (SELECT DISTINCT ON (con.conbin::text)
            pg_describe_object('pg_constraint'::regclass, con.oid, 0), 'pg_constraint'::regclass::oid, con.oid
         FROM pg_constraint AS con WHERE v_move AND con.conrelid = ANY (v_tree) AND con.contype = 'c'
         ORDER BY con.conbin::text, con.conrelid <> p_parent, con.oid)
        UNION ALL
        -- move: generated columns, each expression once
        (SELECT DISTINCT ON (ad.adbin::text)
            pg_describe_object('pg_attrdef'::regclass, ad.oid, 0), 'pg_attrdef'::regclass::oid, ad.oid
         FROM pg_attrdef AS ad JOIN pg_attribute AS a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
         WHERE v_move AND ad.adrelid = ANY (v_tree) AND a.attgenerated <> ''
         ORDER BY ad.adbin::text, ad.adrelid <> p_parent, ad.oid)
        UNION ALL
        -- move: columns of user types (domains run their CHECKs), each type once
        (SELECT DISTINCT ON (a.atttypid)
            format('type %s of %s', a.atttypid::regtype,
                   pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum)),
            'pg_type'::regclass::oid, a.atttypid
         FROM pg_attribute AS a
         WHERE v_move AND a.attrelid = ANY (v_tree) AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid >= 16384
         ORDER BY a.atttypid, a.attrelid <> p_parent, a.attrelid, a.attnum)
        UNION ALL
        -- move: indexes (expressions, predicates, operator classes); a
        -- partition's index attached to a parent's index has its definition
        SELECT pg_describe_object('pg_class'::regclass, ix.indexrelid, 0), 'pg_class'::regclass::oid, ix.indexrelid
        FROM pg_index AS ix
        WHERE v_move AND ix.indrelid = ANY (v_tree)
          AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = ix.indexrelid)
    ),
    walk (piece, classid, objid, seen) AS (
        SELECT s.piece, s.classid, s.objid,
               array_cat(array(SELECT 'pg_class'::regclass::oid::text || '/' || t FROM unnest(v_tree) AS t),
                         ARRAY[s.classid::text || '/' || s.objid])
        FROM start AS s
        UNION ALL
        SELECT w.piece, e.classid, e.objid, w.seen || (e.classid::text || '/' || e.objid)
        FROM walk AS w
        CROSS JOIN LATERAL pgpart._code_edges(w.classid, w.objid, v_read, p_as_owner) AS e
        WHERE w.classid <> 'pg_proc'::regclass
          AND NOT (e.classid::text || '/' || e.objid) = ANY (w.seen)
          AND cardinality(w.seen) < cardinality(v_tree) + 32
    )
    SELECT DISTINCT w.piece, p.oid::regprocedure, r.rolname,
           format('%s calls function %s owned by role %I', w.piece, p.oid::regprocedure, r.rolname)
    FROM walk AS w
    JOIN pg_proc AS p ON p.oid = w.objid
    JOIN pg_roles AS r ON r.oid = p.proowner
    WHERE w.classid = 'pg_proc'::regclass AND NOT r.rolsuper AND r.rolname <> session_user
    ORDER BY 1, 2;
END
$body$;

COMMENT ON FUNCTION pgpart._untrusted_code(regclass, text, name[], boolean) IS
'Functions of roles neither superuser nor session_user that work of a kind (ddl, read, move) on a table would run, with the piece that calls each (policy, trigger, constraint, domain, index, key).';

-- pgpart._guard_owner_code(parent, work, columns): refuses (42501) WORK on
-- PARENT when the caller is not trusted for it and the work would run code
-- of an untrusted role. Called at the lowest points where pgpart reads
-- table data, moves rows or creates partitions, so every verb inherits it.
CREATE FUNCTION pgpart._guard_owner_code(p_parent regclass, p_work text, p_columns name[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owners text;
    v_detail text;
    v_count bigint;
    v_owner name;
    v_schema name;
    v_table name;
BEGIN
    IF p_parent IS NULL OR pgpart._trusted_for(p_parent) THEN
        RETURN;
    END IF;
    SELECT string_agg(DISTINCT quote_ident(u.function_owner), ', '),
           string_agg(u.description, '; ' ORDER BY u.description),
           count(*)
    INTO v_owners, v_detail, v_count
    FROM pgpart._untrusted_code(p_parent, p_work, p_columns) AS u;
    IF v_count = 0 THEN
        RETURN;
    END IF;
    SELECT pg_get_userbyid(c.relowner), n.nspname, c.relname INTO v_owner, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('pgpart refuses to work on table %s as %s: it would run code of role %s',
                         p_parent,
                         CASE WHEN session_user = current_user THEN quote_ident(session_user)
                              ELSE format('%I (session %I)', current_user, session_user) END,
                         v_owners),
        DETAIL = left(v_detail, 2000) || CASE WHEN length(v_detail) > 2000 THEN ' ...' ELSE '' END,
        HINT = format('Run pgpart for this table in a session authenticated as its owner %I, e.g. '
                      'SELECT cron.schedule_in_database(''pgpart %s'', ''*/10 * * * *'', '
                      '''CALL pgpart.run_maintenance_proc()'', current_database(), username => %L); '
                      'or the Python client and the pgpart command with %I''s own connection string. '
                      'See docs/security.md.',
                      v_owner, v_owner, v_owner, v_owner),
        SCHEMA = v_schema,
        TABLE = v_table;
END
$body$;

COMMENT ON FUNCTION pgpart._guard_owner_code(regclass, text, name[]) IS
'Raises 42501 when the caller is not the table''s owner in its own session and the work (ddl, read, move) would run functions of an untrusted role.';
