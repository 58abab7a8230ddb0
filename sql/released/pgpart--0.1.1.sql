\echo Use "CREATE EXTENSION pgpart" to load this file. \quit
-- source: sql/src/00_types.sql
-- pgpart.step: one step of a plan (DESIGN §4). Every verb that changes
-- anything can return its plan instead of running it (dry_run), and the
-- Python client executes plans step by step. Each step is exactly one SQL
-- statement; top_level marks statements PostgreSQL refuses inside a
-- function or transaction block (DETACH ... CONCURRENTLY).
CREATE TYPE pgpart.step AS (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    action text,
    statement text,
    locks text,
    top_level boolean
);

COMMENT ON TYPE pgpart.step IS
'One step of a pgpart plan: a single SQL statement, the partition it concerns, the locks it takes and whether it must run at top level.';

-- pgpart._range: a half-open range [lo, hi) of coordinates (internal).
CREATE TYPE pgpart._range AS (lo numeric, hi numeric);

COMMENT ON TYPE pgpart._range IS 'A half-open range [lo, hi) of bound coordinates (internal).';

GRANT USAGE ON SCHEMA pgpart TO PUBLIC;
-- source: sql/src/10_config.sql
-- pgpart.config: one row of policy per managed parent (DESIGN §2).
-- Only policy and the grid live here; partitions and bounds are always read
-- from the catalog, so nothing here can drift from reality.
-- Keyed by regclass: follows RENAME and SET SCHEMA, dumps schema-qualified.
CREATE TABLE pgpart.config (
    parent regclass PRIMARY KEY,
    strategy text NOT NULL DEFAULT 'range'
    CHECK (strategy IN ('range', 'list', 'hash')),
    key_column name NOT NULL,
    key_type regtype NOT NULL,
    -- canonical interval text ('1 day', '01:00:00', '3 mons') or an integer
    partition_interval text,
    -- wall time of the grid origin in the grid's zone, or an integer
    grid_origin text,
    time_zone text NOT NULL DEFAULT 'UTC',
    premake integer NOT NULL DEFAULT 4 CHECK (premake >= 0),
    -- the attach tablespace: where new partitions go (NULL: parent's, else
    -- the database default)
    tablespace name,
    -- storage parameters for new partitions (partitioned parents have none)
    reloptions text[],
    -- every new range partition is itself partitioned by this spec
    -- (pgpart._subpartition_spec), or NULL
    subpartition jsonb,
    -- lifecycle policy, set by pgpart.set_policy: how long partitions are
    -- kept (an interval, or a distance in key values for integer keys)
    retention text,
    -- what happens to an expired partition once detached
    retention_action text NOT NULL DEFAULT 'detach'
    CHECK (retention_action IN ('detach', 'archive', 'drop')),
    -- where archived partitions go: schema and/or the detach tablespace
    archive_schema name,
    archive_tablespace name,
    -- retention on a parent referenced by foreign keys: 'refuse' (0A000) or
    -- 'allow' (DETACH then fails while rows are still referenced)
    referenced_retention text NOT NULL DEFAULT 'refuse'
    CHECK (referenced_retention IN ('refuse', 'allow')),
    automatic_maintenance boolean NOT NULL DEFAULT true,
    -- ANALYZE the parent after partitions change (autovacuum never does)
    analyze_after boolean NOT NULL DEFAULT true,
    -- event triggers and reconcile: keep partitions in step with the parent
    reconcile boolean NOT NULL DEFAULT true,
    -- copy the parent's grants to partitions (refused with row-level security)
    propagate_grants boolean NOT NULL DEFAULT false,
    -- indexes larger than this are reported, not moved, by reconcile
    move_large_bytes bigint NOT NULL DEFAULT 104857600 CHECK (move_large_bytes >= 0),
    -- the last failure of maintenance on this parent, kept for check()
    last_error text,
    last_error_at timestamptz,
    policy_author name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE pgpart.config IS
'Partitioning policy, one row per managed parent. Partitions and bounds are never stored: they are read from the catalog.';

-- Row-level security instead of SECURITY DEFINER setters (DESIGN §6): a role
-- may read every policy but write only the rows of tables it owns (or whose
-- owning role it is a member of), whether through pgpart's functions or by
-- writing the table directly. Superusers and the extension owner bypass it.
ALTER TABLE pgpart.config ENABLE ROW LEVEL SECURITY;

CREATE POLICY config_read ON pgpart.config FOR SELECT USING (true);

CREATE POLICY config_write ON pgpart.config FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = config.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    -- the author is the writer or a role the writer acts for, never another
    pg_catalog.pg_has_role(current_user, policy_author, 'MEMBER')
    AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = config.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

-- The policy of a table that no longer exists may be deleted by its author
-- (no owner is left to check).
CREATE POLICY config_forget ON pgpart.config FOR DELETE
USING (
    NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE c.oid = config.parent
    )
    AND pg_catalog.pg_has_role(current_user, policy_author, 'MEMBER')
);

REVOKE ALL ON pgpart.config FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.config TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.config', '');
-- source: sql/src/11_log.sql
-- pgpart.log: what pgpart did, when, by whom, with what outcome.
-- Append-only for everyone but the extension owner: a role may add rows
-- only in its own name and only about tables it owns.
CREATE TABLE pgpart.log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    parent regclass,
    -- the name at the time, readable after the table is dropped
    parent_name text,
    actor name NOT NULL DEFAULT current_user,
    action text NOT NULL,
    outcome text NOT NULL DEFAULT 'ok',
    detail jsonb,
    -- The retention journal (DESIGN §6): on an action 'detach' row, the
    -- detached table's identity when it was journaled: its OID, its name and
    -- the owner of both it and the parent. Row-level security below admits
    -- such a row only while that table IS a partition of the parent (attached
    -- or detach pending) with those facts, so nobody can journal a table that
    -- pgpart did not find in the parent, or one that does not exist yet.
    -- Retention honours only these rows, and only while the facts still
    -- hold (pgpart._journal). On 'archive', 'drop' and 'discard' rows,
    -- journal_oid names the table whose entry they close.
    journal_oid oid,
    journal_name name,
    journal_owner oid
);

COMMENT ON TABLE pgpart.log IS
'History of what pgpart did: when, by whom, on which parent, with what outcome.';

ALTER TABLE pgpart.log ENABLE ROW LEVEL SECURITY;

CREATE POLICY log_read ON pgpart.log FOR SELECT USING (true);

CREATE POLICY log_append ON pgpart.log FOR INSERT
WITH CHECK (
    actor = current_user
    AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = log.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

-- A retention journal entry (action 'detach' with journal_oid) must name,
-- at the moment it is written, a partition of the parent (attached or
-- detach pending) with that name, both owned by journal_owner, a role the
-- writer acts for. Restrictive: it narrows log_append, never widens it.
CREATE POLICY log_journal ON pgpart.log AS RESTRICTIVE FOR INSERT
WITH CHECK (
    journal_oid IS NULL
    OR action <> 'detach'
    OR (
        pg_catalog.pg_has_role(current_user, journal_owner, 'USAGE')
        AND EXISTS (
            SELECT 1
            FROM pg_catalog.pg_inherits AS i
            INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
            INNER JOIN pg_catalog.pg_class AS p ON i.inhparent = p.oid
            WHERE
                i.inhrelid = log.journal_oid
                AND i.inhparent = log.parent
                AND c.relname = log.journal_name
                AND c.relowner = log.journal_owner
                AND p.relowner = log.journal_owner
        )
    )
);

REVOKE ALL ON pgpart.log FROM PUBLIC;
GRANT SELECT, INSERT ON pgpart.log TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('pgpart.log', '');
SELECT pg_catalog.pg_extension_config_dump('pgpart.log_id_seq', '');

-- The retention journal (pgpart._journal) reads by parent and action.
CREATE INDEX log_parent_action ON pgpart.log (parent, action, id);
-- source: sql/src/20_advisory_key.sql
-- pgpart.advisory_key(parent): the advisory-lock key that serialises pgpart's
-- work on one parent. The SQL verbs take it per transaction, the Python
-- client per session; both derive it here, so they exclude each other.
-- High 32 bits: 'pgpt' (0x70677074); low 32 bits: the parent's OID.
CREATE FUNCTION pgpart.advisory_key(parent regclass)
RETURNS bigint
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (1885827188::bigint << 32) | parent::oid::bigint;

COMMENT ON FUNCTION pgpart.advisory_key(regclass) IS
'Advisory-lock key pgpart holds while it changes the partitions of PARENT (shared by the SQL verbs and the Python client).';
-- source: sql/src/21_require_owner.sql
-- pgpart._require_owner(rel): the caller must own REL (or be a member of
-- its owning role), as PostgreSQL itself requires for ALTER TABLE, ATTACH
-- and DETACH. Checked first, so a refused call changes nothing.
CREATE FUNCTION pgpart._require_owner(p_rel regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner oid;
    v_schema name;
    v_table name;
BEGIN
    IF p_rel IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'the table must not be NULL',
            HINT = 'Pass the table as a name, such as ''public.events''.';
    END IF;
    SELECT c.relowner, n.nspname, c.relname
    INTO v_owner, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_table',
            MESSAGE = format('relation with OID %s does not exist', p_rel::oid),
            HINT = 'The table may have been dropped concurrently.';
    END IF;
    IF NOT pg_has_role(current_user, v_owner, 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('must be owner of table %s', p_rel),
            DETAIL = format('Table %s is owned by role %I; current role is %I.',
                            p_rel, pg_get_userbyid(v_owner), current_user),
            HINT = format('Run this as role %I or as a member of it.', pg_get_userbyid(v_owner)),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_owner(regclass) IS
'Raises 42501 unless the current role owns the table or is a member of its owner.';
-- source: sql/src/21_untrusted_code.sql
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
-- CVE-2022-1552; tests/test_owner_code.py checks it on each version): index builds (CREATE INDEX,
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
-- source: sql/src/22_range_key.sql
-- pgpart._range_key(parent): the single key column and its type of a
-- RANGE-partitioned table, or an error saying why pgpart cannot manage it.
CREATE FUNCTION pgpart._range_key(
    p_parent regclass,
    OUT key_column name,
    OUT key_type regtype
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_strategy "char";
    v_natts int2;
    v_attnum int2;
    v_kind "char";
    v_schema name;
    v_table name;
BEGIN
    SELECT c.relkind, n.nspname, c.relname INTO v_kind, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT pt.partstrat, pt.partnatts, pt.partattrs[0]
    INTO v_strategy, v_natts, v_attnum
    FROM pg_partitioned_table AS pt
    WHERE pt.partrelid = p_parent;
    IF v_kind IS DISTINCT FROM 'p' OR NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned', p_parent),
            DETAIL = 'pgpart manages tables created with PARTITION BY.',
            HINT = 'Create the table with PARTITION BY RANGE (column), then call pgpart again.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_strategy <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned by RANGE', p_parent),
            DETAIL = format('It is partitioned by %s.',
                            CASE v_strategy WHEN 'l' THEN 'LIST' WHEN 'h' THEN 'HASH' END),
            HINT = 'Range partitions need a table created with PARTITION BY RANGE (column).',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_natts <> 1 OR v_attnum = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key of table %s is not a single column', p_parent),
            DETAIL = 'pgpart manages range partitioning on one plain column.',
            HINT = 'Partition by a single timestamptz, timestamp, date, smallint, integer or bigint column.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT a.attname, a.atttypid::regtype INTO key_column, key_type
    FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attnum = v_attnum;
    IF key_type NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                        'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key column %I of table %s has unsupported type %s',
                             key_column, p_parent, key_type),
            DETAIL = 'Range keys may be timestamptz, timestamp, date, smallint, integer or bigint.',
            HINT = 'Partition by a column of one of those types.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._range_key(regclass) IS
'Key column and type of a table partitioned by RANGE on one supported column; 42P17 or 0A000 otherwise.';
-- source: sql/src/23_interval.sql
-- pgpart._parse_interval(key_type, text): validates a partition interval
-- against the key type and classifies it (DESIGN §5):
--   integer  - integer keys: a positive whole number of key units
--   seconds  - time keys: a time-only interval dividing 24 hours (UTC grid)
--   days     - whole days, weeks included (calendar of the configured zone)
--   months   - whole months, years included (calendar of the configured zone)
-- Mixed intervals ('1 mon 2 days', '1 day 12:00') have no stable calendar
-- meaning and are refused, as is a bare number for a time key ('1000'
-- would otherwise mean 16 min 40 s).
CREATE FUNCTION pgpart._parse_interval(
    p_key_type regtype,
    p_text text,
    OUT canonical text,
    OUT kind text,
    OUT step numeric
)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_text text := lower(btrim(coalesce(p_text, '')));
    v_iv interval;
    v_months numeric;
    v_days numeric;
    v_secs numeric;
BEGIN
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        IF v_text !~ '^\+?[0-9]{1,18}$' OR v_text::numeric = 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
                DETAIL = 'An integer key needs a positive whole number: the width of each partition.',
                HINT = 'Pass an interval such as ''1000''.';
        END IF;
        canonical := v_text::numeric::text;
        kind := 'integer';
        step := v_text::numeric;
        RETURN;
    END IF;

    -- Shorthands people write in cron-like settings.
    v_text := CASE v_text
        WHEN 'hourly' THEN '1 hour'
        WHEN 'daily' THEN '1 day'
        WHEN 'weekly' THEN '1 week'
        WHEN 'monthly' THEN '1 month'
        WHEN 'quarterly' THEN '3 months'
        WHEN 'yearly' THEN '1 year'
        ELSE v_text
    END;
    IF v_text ~ '^[-+]?[0-9.]*$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
            DETAIL = 'A time key needs an interval with a unit.',
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END IF;
    BEGIN
        v_iv := v_text::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L', p_text),
            DETAIL = SQLERRM,
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END;
    v_months := extract(year FROM v_iv) * 12 + extract(month FROM v_iv);
    v_days := extract(day FROM v_iv);
    v_secs := extract(hour FROM v_iv) * 3600 + extract(minute FROM v_iv) * 60 + extract(second FROM v_iv);
    canonical := v_iv::text;
    IF v_months > 0 AND v_days = 0 AND v_secs = 0 THEN
        kind := 'months';
        step := v_months;
    ELSIF v_months = 0 AND v_days > 0 AND v_secs = 0 THEN
        kind := 'days';
        step := v_days;
    ELSIF v_months = 0 AND v_days = 0 AND v_secs > 0 AND v_secs <= 86400
          AND v_secs = trunc(v_secs) AND 86400 % v_secs = 0 THEN
        kind := 'seconds';
        step := v_secs;
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unsupported partition interval %L', p_text),
            DETAIL = 'An interval must be whole months, whole days, or whole seconds dividing 24 hours.',
            HINT = 'Pass an interval such as ''1 day'', ''7 days'', ''1 month'', ''3 months'', ''1 hour'' or ''15 minutes''.';
    END IF;
    IF (kind = 'months' AND step > 12000) OR (kind = 'days' AND step > 366000) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is too long', p_text),
            HINT = 'Pass an interval of at most a thousand years.';
    END IF;
    IF p_key_type = 'date'::regtype AND kind = 'seconds' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is shorter than a day, but the key is a date', p_text),
            HINT = 'Use an interval of one day or more for a date key.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._parse_interval(regtype, text) IS
'Validates a partition interval against the key type and classifies it as integer, seconds, days or months.';
-- source: sql/src/24_coordinates.sql
-- Coordinates: every range bound is handled internally as one numeric, so
-- that overlap, gap and grid logic is written once for every key type.
--   integer keys: the value itself
--   timestamptz:  seconds since the Unix epoch (an instant)
--   timestamp, date: seconds since 1970-01-01 00:00 of the wall time
-- MINVALUE/MAXVALUE and infinite timestamps are -Infinity/Infinity.
-- Conversions to and from text are pinned to UTC and ISO, never to the
-- session's TimeZone or DateStyle (DESIGN §5).

-- pgpart._coord_to_ts(coord): the timestamptz at a time coordinate.
CREATE FUNCTION pgpart._coord_to_ts(p_coord numeric)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_coord = 'Infinity'::numeric THEN 'infinity'::timestamptz
    WHEN p_coord = '-Infinity'::numeric THEN '-infinity'::timestamptz
    -- whole seconds through float8 are exact; the fraction is added apart
    ELSE
        to_timestamp(trunc(p_coord)::float8)
        + make_interval(secs => (p_coord - trunc(p_coord))::float8)
END;

COMMENT ON FUNCTION pgpart._coord_to_ts(numeric) IS
'The timestamptz at a time coordinate (seconds since the epoch).';

-- pgpart._literal_to_coord(key_type, literal): the coordinate of a bound
-- as printed by pg_get_expr (quotes removed) or of a key value's text.
CREATE FUNCTION pgpart._literal_to_coord(p_key_type regtype, p_literal text)
RETURNS numeric
LANGUAGE plpgsql
STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    IF p_literal = 'MINVALUE' THEN
        RETURN '-Infinity'::numeric;
    ELSIF p_literal = 'MAXVALUE' THEN
        RETURN 'Infinity'::numeric;
    END IF;
    RETURN CASE p_key_type
        WHEN 'timestamptz'::regtype THEN extract(epoch FROM p_literal::timestamptz)
        WHEN 'timestamp'::regtype THEN extract(epoch FROM p_literal::timestamp)
        WHEN 'date'::regtype THEN extract(epoch FROM p_literal::date::timestamp)
        ELSE p_literal::numeric
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._literal_to_coord(regtype, text) IS
'Coordinate of a bound literal or key value of the given key type.';

-- pgpart._coord_to_literal(key_type, coord): the bound as SQL text for
-- FOR VALUES: a quoted literal with an explicit UTC offset for timestamptz
-- (so the session TimeZone cannot shift it), or MINVALUE/MAXVALUE when the
-- value lies beyond the type's range.
CREATE FUNCTION pgpart._coord_to_literal(p_key_type regtype, p_coord numeric)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_min numeric;
    v_max numeric;
    v_ts timestamp;
    v_format text;
BEGIN
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
        IF p_coord < v_min THEN
            RETURN 'MINVALUE';
        ELSIF p_coord > v_max THEN
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal(trunc(p_coord)::text);
    END IF;
    IF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    v_ts := pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC';
    v_format := CASE WHEN p_coord = trunc(p_coord) THEN 'YYYY-MM-DD HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI:SS.US' END;
    RETURN quote_literal(CASE p_key_type
        WHEN 'timestamptz'::regtype THEN to_char(v_ts, v_format) || '+00'
        WHEN 'timestamp'::regtype THEN to_char(v_ts, v_format)
        ELSE to_char(v_ts, 'YYYY-MM-DD')
    END);
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_literal(regtype, numeric) IS
'A coordinate as a FOR VALUES bound of the given key type (quoted literal, MINVALUE or MAXVALUE).';

-- pgpart._coord_to_text(key_type, zone, coord): a bound for people and
-- programs: timestamptz in the configured zone with its offset, other types
-- as their plain value. Never depends on the session's settings.
CREATE FUNCTION pgpart._coord_to_text(p_key_type regtype, p_zone text, p_coord numeric)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    IF p_coord IS NULL THEN
        RETURN NULL;
    ELSIF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    IF p_key_type = 'timestamptz'::regtype THEN
        -- reverted when this function returns (its SET clause)
        PERFORM set_config('timezone', coalesce(p_zone, 'UTC'), true);
        RETURN pgpart._coord_to_ts(p_coord)::text;
    ELSIF p_key_type = 'timestamp'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::text;
    ELSIF p_key_type = 'date'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::date::text;
    END IF;
    RETURN p_coord::text;
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_text(regtype, text, numeric) IS
'A bound as text: timestamptz in the given zone with its UTC offset, other key types as plain values.';

-- pgpart._input_to_coord(key_type, zone, text): a value given by a caller
-- (start, origin). Time text without an offset is read in ZONE, never in
-- the session's TimeZone; integer keys take a whole number.
CREATE FUNCTION pgpart._input_to_coord(p_key_type regtype, p_zone text, p_text text, p_what text)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_ts timestamptz;
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        IF btrim(p_text) !~ '^[-+]?[0-9]{1,19}$' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
                HINT = 'Pass a whole number.';
        END IF;
        RETURN btrim(p_text)::numeric;
    END IF;
    BEGIN
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', p_zone, true);
            v_ts := p_text::timestamptz;
        ELSE
            -- timestamp and date keys: the wall time as written, read as UTC
            v_ts := p_text::timestamp AT TIME ZONE 'UTC';
        END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
            DETAIL = SQLERRM,
            HINT = 'Pass a date or time such as ''2024-01-01'' or ''2024-01-01 06:00''.';
    END;
    IF NOT isfinite(v_ts) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L: it must be a finite time', p_what, p_text),
            HINT = 'Pass a date or time such as ''2024-01-01''.';
    END IF;
    RETURN extract(epoch FROM v_ts);
END
$body$;

COMMENT ON FUNCTION pgpart._input_to_coord(regtype, text, text, text) IS
'Coordinate of a caller-given start or origin, read in the configured zone for timestamptz keys.';

-- pgpart._check_zone(zone): refuses an unknown time zone name (22023).
CREATE FUNCTION pgpart._check_zone(p_zone text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
BEGIN
    PERFORM set_config('timezone', p_zone, true);
    RETURN p_zone;
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('unknown time zone %L', p_zone),
        HINT = 'Use a name from pg_timezone_names, such as ''UTC'' or ''Europe/Berlin''.';
END
$body$;

COMMENT ON FUNCTION pgpart._check_zone(text) IS
'Returns the zone name if PostgreSQL knows it, else raises 22023.';
-- source: sql/src/25_slot.sql
-- pgpart._slot(kind, step, zone, origin, coord): the grid slot [lo, hi)
-- holding COORD (DESIGN §5).
--   integer, seconds: fixed widths from ORIGIN (seconds grids are in UTC);
--   days, months: the local calendar of ZONE, so a local day may last 23 or
--   25 hours: ((ts AT TIME ZONE z) + iv) AT TIME ZONE z.
-- ORIGIN is a coordinate: for days and months the wall time of the grid's
-- origin in ZONE (as seconds since 1970-01-01 00:00 of that wall clock).
-- For timestamp and date keys the caller passes zone 'UTC', which makes the
-- calendar the plain wall-clock calendar.
CREATE FUNCTION pgpart._slot(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_origin numeric,
    p_coord numeric,
    OUT lo numeric,
    OUT hi numeric
)
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_wall timestamp;
    v_origin timestamp;
    v_k numeric;
    v_months numeric;
BEGIN
    IF p_kind IN ('integer', 'seconds') THEN
        lo := p_origin + floor((p_coord - p_origin) / p_step) * p_step;
        hi := lo + p_step;
        RETURN;
    END IF;
    v_wall := pgpart._coord_to_ts(p_coord) AT TIME ZONE p_zone;
    v_origin := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    IF p_kind = 'days' THEN
        v_k := floor(extract(epoch FROM (v_wall - v_origin)) / (p_step * 86400));
        lo := extract(epoch FROM ((v_origin + make_interval(days => (v_k * p_step)::int)) AT TIME ZONE p_zone));
        hi := extract(epoch FROM ((v_origin + make_interval(days => ((v_k + 1) * p_step)::int)) AT TIME ZONE p_zone));
    ELSIF p_kind = 'months' THEN
        v_months := (extract(year FROM v_wall) - extract(year FROM v_origin)) * 12
                    + extract(month FROM v_wall) - extract(month FROM v_origin);
        IF v_wall < v_origin + make_interval(months => v_months::int) THEN
            v_months := v_months - 1;
        END IF;
        v_k := floor(v_months / p_step);
        lo := extract(epoch FROM ((v_origin + make_interval(months => (v_k * p_step)::int)) AT TIME ZONE p_zone));
        hi := extract(epoch FROM ((v_origin + make_interval(months => ((v_k + 1) * p_step)::int)) AT TIME ZONE p_zone));
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown grid kind %L', p_kind);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._slot(text, numeric, text, numeric, numeric) IS
'The grid slot [lo, hi) holding a coordinate, for a grid of the given kind, step, zone and origin.';

-- pgpart._default_origin(kind, step): the natural alignment of a grid, as
-- a wall-time coordinate: UTC midnight for sub-day grids, a Monday for
-- whole weeks, 2000-01-01 for days and months (months that divide a year
-- then start on January, April, July and October as expected).
CREATE FUNCTION pgpart._default_origin(p_kind text, p_step numeric)
RETURNS numeric
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_kind = 'integer' THEN 0
    -- 2000-01-03 was a Monday (ISO weeks start on Monday)
    WHEN p_kind = 'days' AND p_step % 7 = 0 THEN 946857600
    -- 2000-01-01 00:00
    ELSE 946684800
END;

COMMENT ON FUNCTION pgpart._default_origin(text, numeric) IS
'Natural grid origin as a wall-time coordinate: a Monday for whole weeks, else 2000-01-01 (0 for integers).';
-- source: sql/src/26_names.sql
-- pgpart._relation_name(base, suffix): BASE || SUFFIX as a relation name
-- that fits PostgreSQL's 63-byte limit (DESIGN §5). Measured in bytes, never
-- splitting a character; when it does not fit, the base is shortened and a
-- stable hash of the whole intended name is inserted, so two long names
-- sharing a prefix cannot collide and the suffix (the bound) stays readable.
CREATE FUNCTION pgpart._relation_name(p_base text, p_suffix text)
RETURNS name
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_limit constant integer := 63;
    v_hash text := '_' || left(md5(p_base || p_suffix), 8);
    v_base text := p_base;
    v_suffix text;
BEGIN
    IF octet_length(p_base || p_suffix) <= v_limit THEN
        RETURN (p_base || p_suffix)::name;
    END IF;
    WHILE octet_length(v_base || v_hash || p_suffix) > v_limit AND v_base <> '' LOOP
        v_base := left(v_base, -1);
    END LOOP;
    -- a suffix too long on its own is cut too (the hash keeps names apart)
    v_suffix := p_suffix;
    WHILE octet_length(v_base || v_hash || v_suffix) > v_limit LOOP
        v_suffix := left(v_suffix, -1);
    END LOOP;
    RETURN (v_base || v_hash || v_suffix)::name;
END
$body$;

COMMENT ON FUNCTION pgpart._relation_name(text, text) IS
'Base plus suffix as a relation name of at most 63 bytes, shortened with a stable hash when needed.';

-- pgpart._slot_suffix(key_type, kind, step, zone, lo): the name suffix of a
-- range partition: _pYYYYMMDD for a day or more (the local date in the
-- grid's zone), _pYYYYMMDD_HH24MI in UTC below a day (seconds added when
-- the interval is not whole minutes), _p<lower> for integers, _pm<n> for
-- negative lower bounds.
CREATE FUNCTION pgpart._slot_suffix(p_kind text, p_step numeric, p_zone text, p_lo numeric)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_wall timestamp;
BEGIN
    IF p_kind = 'integer' THEN
        RETURN CASE
            WHEN p_lo = '-Infinity'::numeric THEN '_pmin'
            WHEN p_lo < 0 THEN '_pm' || (-p_lo)::text
            ELSE '_p' || p_lo::text
        END;
    END IF;
    IF p_kind = 'seconds' THEN
        v_wall := pgpart._coord_to_ts(p_lo) AT TIME ZONE 'UTC';
        RETURN '_p' || to_char(v_wall, CASE WHEN p_step % 60 = 0 THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD_HH24MISS' END);
    END IF;
    v_wall := pgpart._coord_to_ts(p_lo) AT TIME ZONE p_zone;
    RETURN '_p' || to_char(v_wall, 'YYYYMMDD');
END
$body$;

COMMENT ON FUNCTION pgpart._slot_suffix(text, numeric, text, numeric) IS
'Name suffix of the range partition starting at a coordinate (_pYYYYMMDD, _pYYYYMMDD_HH24MI, _p<n>, _pm<n>).';
-- source: sql/src/27_partitions.sql
-- pgpart._partitions(parent): the direct partitions of PARENT with their
-- bounds, read from the catalog only, so it never waits for a lock
-- (DESIGN §2): pg_get_expr(relpartbound, 0) deparses the bound without
-- opening the relation, which is safe because bounds hold only constants.
-- For RANGE parents on a supported key the bounds are also given as
-- coordinates; LIST and HASH bounds are left as text.
CREATE FUNCTION pgpart._partitions(p_parent regclass)
RETURNS TABLE (
    partition regclass,
    relkind "char",
    is_default boolean,
    detach_pending boolean,
    bound text,
    lower_literal text,
    upper_literal text,
    lower_coord numeric,
    upper_coord numeric
)
LANGUAGE plpgsql
STABLE
ROWS 100
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_key_type regtype;
    v_strategy "char";
    v_coords boolean;
BEGIN
    SELECT pt.partstrat, a.atttypid::regtype INTO v_strategy, v_key_type
    FROM pg_partitioned_table AS pt
    LEFT JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent AND pt.partnatts = 1;
    v_coords := v_strategy = 'r' AND v_key_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                                                    'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
    RETURN QUERY
    WITH children AS (
        SELECT
            c.oid::regclass AS partition,
            c.relkind,
            i.inhdetachpending AS detach_pending,
            pg_get_expr(c.relpartbound, 0) AS bound
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_parent AND c.relkind IN ('r', 'p', 'f')
    ),
    -- MATERIALIZED: inlined, every reference below would run the regex again
    parsed AS MATERIALIZED (
        SELECT
            ch.*,
            regexp_match(ch.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m
        FROM children AS ch
    ),
    literals AS MATERIALIZED (
        SELECT
            p.partition, p.relkind, p.detach_pending, p.bound,
            -- a quoted literal loses its quotes and doubled quotes
            CASE WHEN p.m[1] ~ '^''.*''$' THEN replace(substr(p.m[1], 2, length(p.m[1]) - 2), '''''', '''')
                 ELSE p.m[1] END AS lower_literal,
            CASE WHEN p.m[2] ~ '^''.*''$' THEN replace(substr(p.m[2], 2, length(p.m[2]) - 2), '''''', '''')
                 ELSE p.m[2] END AS upper_literal
        FROM parsed AS p
    )
    SELECT
        l.partition,
        l.relkind,
        l.bound = 'DEFAULT',
        l.detach_pending,
        l.bound,
        l.lower_literal,
        l.upper_literal,
        -- pgpart._literal_to_coord inlined: this runs for every partition of
        -- every parent on each maintenance, and a function call per bound
        -- (with its SET clauses) cost ~75 us; the SET timezone and datestyle
        -- of this function hold here
        CASE WHEN NOT v_coords OR l.lower_literal IS NULL THEN NULL
             WHEN l.lower_literal = 'MINVALUE' THEN '-Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.lower_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.lower_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.lower_literal::date::timestamp)
             ELSE l.lower_literal::numeric END,
        CASE WHEN NOT v_coords OR l.upper_literal IS NULL THEN NULL
             WHEN l.upper_literal = 'MAXVALUE' THEN 'Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.upper_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.upper_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.upper_literal::date::timestamp)
             ELSE l.upper_literal::numeric END
    FROM literals AS l
    ORDER BY l.bound = 'DEFAULT', 8, l.partition::oid;
END
$body$;

COMMENT ON FUNCTION pgpart._partitions(regclass) IS
'Direct partitions of a parent with their bounds (text and coordinates), from the catalog only.';

-- pgpart._default_partition(parent): the default partition of PARENT, or
-- NULL; straight from pg_partitioned_table, without reading any bound.
CREATE FUNCTION pgpart._default_partition(p_parent regclass)
RETURNS regclass
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT nullif(pt.partdefid, 0)::regclass FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent;
$body$;

COMMENT ON FUNCTION pgpart._default_partition(regclass) IS
'The default partition of a partitioned table, or NULL.';
-- source: sql/src/28_locks.sql
-- pgpart._acquire_locks(statements, timeout, retries): runs lock statements
-- (LOCK TABLE ONLY ..., pg_advisory_xact_lock(...)) in the given order as
-- one group, each waiting at most TIMEOUT. If any wait times out, the whole
-- group is released (its subtransaction rolls back, which releases locks
-- taken in it), the function sleeps a growing, jittered moment so queued
-- writers get through, and tries again; after RETRIES retries it raises
-- 55P03 and leaves nothing behind (DESIGN §3).
CREATE FUNCTION pgpart._acquire_locks(p_statements text[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_attempt integer := 0;
    v_current text;
    v_statement text;
BEGIN
    PERFORM pgpart._set_lock_timeout(p_timeout);
    LOOP
        BEGIN
            FOREACH v_statement IN ARRAY p_statements LOOP
                v_current := v_statement;
                EXECUTE v_statement;
            END LOOP;
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            v_attempt := v_attempt + 1;
            IF v_attempt > p_retries THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'lock_not_available',
                    MESSAGE = format('could not obtain a lock within %s after %s attempts', p_timeout, v_attempt),
                    DETAIL = format('Waiting for: %s. Another session holds a conflicting lock.', v_current),
                    HINT = 'Nothing was changed. Retry later, or pass a longer lock_timeout or more lock_retries.';
            END IF;
        END;
        -- back off: 10 ms, 20 ms, ... up to 500 ms, with jitter
        PERFORM pg_sleep(least(0.5, 0.01 * v_attempt * (1 + random())));
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._acquire_locks(text[], interval, integer) IS
'Takes a group of locks in order, each under a lock timeout; on a timeout releases them all, backs off and retries, then raises 55P03.';

-- pgpart._set_lock_timeout(timeout): sets lock_timeout for the rest of the
-- calling function, which carries its own SET lock_timeout clause so that
-- the change ends when it returns (set_config(..., true) alone would last
-- until the end of the caller's transaction).
CREATE FUNCTION pgpart._set_lock_timeout(p_timeout interval)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT set_config('lock_timeout', (extract(epoch FROM p_timeout) * 1000)::bigint::text || 'ms', true);
$body$;

COMMENT ON FUNCTION pgpart._set_lock_timeout(interval) IS
'Sets lock_timeout for the rest of the calling function (which must carry a SET lock_timeout clause).';
-- source: sql/src/28_storage.sql
-- Where new partitions go and how they are stored: tablespace and storage
-- parameters, checked before anything is built.

-- pgpart._require_tablespace(name): refuses a tablespace that does not exist
-- (22023); NULL passes (no tablespace asked for).
CREATE FUNCTION pgpart._require_tablespace(p_tablespace name)
RETURNS name
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_tablespace IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_tablespace AS t WHERE t.spcname = p_tablespace) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %I does not exist', p_tablespace),
            HINT = 'Create the tablespace first, or pass an existing one.';
    END IF;
    RETURN p_tablespace;
END
$body$;

COMMENT ON FUNCTION pgpart._require_tablespace(name) IS
'Returns the tablespace name, or raises 22023 when no such tablespace exists.';

-- pgpart._with_clause(reloptions): ' WITH (name = ''value'', ...)' for storage
-- parameters given as name=value, or ''. Each name is checked against the
-- shape of a parameter name (22023 otherwise), as it cannot be quoted.
CREATE FUNCTION pgpart._with_clause(p_reloptions text[])
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_clause text;
BEGIN
    IF coalesce(cardinality(p_reloptions), 0) = 0 THEN
        RETURN '';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_reloptions) AS o WHERE o IS NULL OR o !~ '^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?=.+$') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid reloptions %L', p_reloptions),
            HINT = 'Pass storage parameters as name=value, for example ''{fillfactor=90}''.';
    END IF;
    SELECT ' WITH (' || string_agg(format('%s = %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ') || ')'
    INTO v_clause
    FROM unnest(p_reloptions) AS o;
    RETURN v_clause;
END
$body$;

COMMENT ON FUNCTION pgpart._with_clause(text[]) IS
'The WITH (...) clause for storage parameters given as name=value (22023 for anything else).';
-- source: sql/src/29_partition_ddl.sql
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
-- source: sql/src/30_replica_identity.sql
-- pgpart._copy_replica_identity(partition): gives an attached partition, and
-- every partition below it, the replica identity of the root table.
-- PostgreSQL does not propagate it, and an UPDATE through a published parent
-- fails on any leaf without one. For USING INDEX each table's own index is
-- the one attached (at any depth) to the root's identity index, known only
-- after ATTACH, hence a function.
CREATE FUNCTION pgpart._copy_replica_identity(p_partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_root regclass := pg_partition_root(p_partition);
    v_ident "char";
    v_root_index oid;
    v_index name;
    v_rel regclass;
BEGIN
    SELECT c.relreplident INTO v_ident FROM pg_class AS c WHERE c.oid = v_root;
    SELECT i.indexrelid INTO v_root_index FROM pg_index AS i WHERE i.indrelid = v_root AND i.indisreplident;
    FOR v_rel IN
        WITH RECURSIVE tree AS (
            SELECT p_partition::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel::regclass FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    LOOP
        IF v_ident = 'f' THEN
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', v_rel);
        ELSIF v_ident = 'n' THEN
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY NOTHING', v_rel);
        ELSIF v_ident = 'i' THEN
            SELECT ic.relname INTO v_index
            FROM pg_index AS ix
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE ix.indrelid = v_rel
              AND v_root_index IN (SELECT a.relid FROM pg_partition_ancestors(ix.indexrelid) AS a);
            IF v_index IS NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'object_not_in_prerequisite_state',
                    MESSAGE = format('partition %s has no index attached to the replica identity index of %s',
                                     v_rel, v_root);
            END IF;
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', v_rel, v_index);
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._copy_replica_identity(regclass) IS
'Sets the replica identity of an attached partition and of every partition below it to match the root table (FULL, NOTHING or their own attached index).';
-- source: sql/src/31_default_rows.sql
-- pgpart._check_default_rows(default, key, lower, upper): refuses a new
-- range when the default partition already holds rows for it (ATTACH would
-- fail anyway, after scanning the whole default under ACCESS EXCLUSIVE).
-- An index on the key makes the EXISTS probe cheap; the count is only
-- taken when there is something to report.
CREATE FUNCTION pgpart._check_default_rows(
    p_default regclass,
    p_key name,
    p_lower text,
    p_upper text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_found boolean;
    v_count bigint;
    v_where text;
    v_schema name;
    v_table name;
BEGIN
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    v_where := concat_ws(' AND ',
                         CASE WHEN p_lower <> 'MINVALUE' THEN format('%I >= %s', p_key, p_lower) END,
                         CASE WHEN p_upper <> 'MAXVALUE' THEN format('%I < %s', p_key, p_upper) END,
                         format('%I IS NOT NULL', p_key));
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', p_default, v_where) INTO v_found;
    IF v_found THEN
        EXECUTE format('SELECT count(*) FROM %s WHERE %s', p_default, v_where) INTO v_count;
        SELECT n.nspname, c.relname INTO v_schema, v_table
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.oid = p_default;
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('default partition %s holds %s rows for the new range from %s to %s',
                             p_default, v_count, p_lower, p_upper),
            DETAIL = 'A partition for this range cannot be attached while the default partition holds its rows.',
            HINT = format('Move them out first, one range per transaction: CALL pgpart.move_default_rows(%L);',
                          (SELECT i.inhparent::regclass::text FROM pg_inherits AS i WHERE i.inhrelid = p_default)),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_rows(regclass, name, text, text) IS
'Raises 23514 when the default partition holds rows of a range about to be created.';
-- source: sql/src/32_max_key.sql
-- pgpart._max_key(parent, key, timeout): the highest value of an integer
-- key, found by index-backed max() probes of the newest non-empty partition
-- and of the default, never by scanning every partition. Each probe reads
-- through the parent with the partition's bounds, so plan-time pruning keeps
-- it to that one partition and only the parent's privileges count
-- (partitions carry no grants, DESIGN §6). Each read waits at most TIMEOUT
-- for its lock; NULL means the table holds no rows.
CREATE FUNCTION pgpart._max_key(p_parent regclass, p_key name, p_timeout interval)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_max numeric;
    v_part_max numeric;
    v_key_type regtype;
    r record;
BEGIN
    -- reading goes through the row-level security of the parent and the
    -- default: their policies' code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'read');
    PERFORM pgpart._set_lock_timeout(p_timeout);
    SELECT a.atttypid::regtype INTO v_key_type
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attname = p_key;
    FOR r IN
        SELECT p.partition, p.is_default, p.lower_coord, p.upper_coord
        FROM pgpart._partitions(p_parent) AS p
        WHERE NOT p.detach_pending
        ORDER BY p.is_default DESC, p.upper_coord DESC
    LOOP
        IF r.is_default THEN
            -- no bounds to prune with: read it directly, if we may
            CONTINUE WHEN NOT has_table_privilege(r.partition, 'SELECT');
            EXECUTE format('SELECT max(%I)::numeric FROM ONLY %s', p_key, r.partition) INTO v_part_max;
        ELSE
            EXECUTE format('SELECT max(%I)::numeric FROM %s WHERE %s', p_key, p_parent,
                           concat_ws(' AND ',
                                     format('%I IS NOT NULL', p_key),
                                     CASE WHEN r.lower_coord > '-Infinity'::numeric THEN format('%I >= %s', p_key,
                                         pgpart._coord_to_literal(v_key_type, r.lower_coord)) END,
                                     CASE WHEN r.upper_coord < 'Infinity'::numeric THEN format('%I < %s', p_key,
                                         pgpart._coord_to_literal(v_key_type, r.upper_coord)) END))
            INTO v_part_max;
        END IF;
        v_max := greatest(v_max, v_part_max);
        -- ranges are disjoint: the first non-empty one from the top holds the maximum
        EXIT WHEN v_part_max IS NOT NULL AND NOT r.is_default;
    END LOOP;
    RETURN v_max;
END
$body$;

COMMENT ON FUNCTION pgpart._max_key(regclass, name, interval) IS
'Highest key value of an integer-keyed parent, probing through the parent the newest non-empty partition and the default; waits at most the timeout per lock.';
-- source: sql/src/33_log_write.sql
-- pgpart._log(parent, action, outcome, detail): appends to pgpart.log in the
-- caller's name (row-level security checks it owns PARENT).
CREATE FUNCTION pgpart._log(p_parent regclass, p_action text, p_outcome text, p_detail jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.log (parent, parent_name, action, outcome, detail)
    VALUES (p_parent, p_parent::text, p_action, p_outcome, p_detail);
END;

COMMENT ON FUNCTION pgpart._log(regclass, text, text, jsonb) IS
'Appends one entry to pgpart.log in the name of the current role.';
-- source: sql/src/34_save_range_policy.sql
-- pgpart._save_range_policy(...): registers or updates the range policy of
-- PARENT in pgpart.config. Row-level security lets a role write only the
-- policy of tables it owns; the author is recorded so that maintenance can
-- re-check it (DESIGN §6).
CREATE FUNCTION pgpart._save_range_policy(
    p_parent regclass,
    p_key_column name,
    p_key_type regtype,
    p_interval text,
    p_origin text,
    p_time_zone text,
    p_premake integer,
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.config AS c (
        parent, strategy, key_column, key_type, partition_interval, grid_origin,
        time_zone, premake, tablespace, reloptions, subpartition, policy_author
    )
    VALUES (
        p_parent, 'range', p_key_column, p_key_type, p_interval, p_origin,
        p_time_zone, p_premake, p_tablespace, p_reloptions, p_subpartition, current_user
    )
    ON CONFLICT (parent) DO UPDATE SET
        strategy = excluded.strategy,
        key_column = excluded.key_column,
        key_type = excluded.key_type,
        partition_interval = excluded.partition_interval,
        grid_origin = excluded.grid_origin,
        time_zone = excluded.time_zone,
        premake = excluded.premake,
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        subpartition = excluded.subpartition,
        policy_author = excluded.policy_author,
        updated_at = now()
    WHERE (
        c.strategy, c.key_column, c.key_type, c.partition_interval, c.grid_origin,
        c.time_zone, c.premake, c.tablespace, c.reloptions, c.subpartition, c.policy_author
    )
    IS DISTINCT FROM
    (
        excluded.strategy, excluded.key_column, excluded.key_type, excluded.partition_interval,
        excluded.grid_origin, excluded.time_zone, excluded.premake, excluded.tablespace,
        excluded.reloptions, excluded.subpartition, excluded.policy_author
    );
END;

COMMENT ON FUNCTION pgpart._save_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb) IS
'Registers or updates the range policy of a parent in pgpart.config.';
-- source: sql/src/35_lock_statements.sql
-- pgpart._lock_statements(parent, detaching): the locks pgpart takes before
-- it changes the partitions of PARENT, in the one documented order (DESIGN §3):
--   1. the per-parent advisory lock (excludes other pgpart runs);
--   2. the parent, ONLY (without ONLY every partition would be locked,
--      conflicting with autovacuum): SHARE UPDATE EXCLUSIVE like ATTACH, or
--      ACCESS EXCLUSIVE (held until commit) when DETACHING a partition;
--   3. tables linked by foreign keys, in OID order, SHARE ROW EXCLUSIVE as
--      ATTACH takes them when it clones the constraints; a DETACH takes the
--      referencing ones ACCESS EXCLUSIVE;
--   4. the default partition, ACCESS EXCLUSIVE, which ATTACH and DETACH
--      re-check;
--   5. when DETACHING, that partition, ACCESS EXCLUSIVE.
CREATE FUNCTION pgpart._lock_statements(p_parent regclass, p_detaching regclass DEFAULT NULL)
RETURNS TABLE (statement text, locks text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_default regclass;
    v_detach boolean := p_detaching IS NOT NULL;
BEGIN
    statement := format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent));
    locks := format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent);
    RETURN NEXT;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent);
        locks := format('ACCESS EXCLUSIVE on %s (until commit)', p_parent);
    ELSE
        statement := format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent);
        locks := format('SHARE UPDATE EXCLUSIVE on %s', p_parent);
    END IF;
    RETURN NEXT;
    RETURN QUERY
    SELECT format('LOCK TABLE ONLY %s IN %s MODE', t.rel::regclass, t.mode),
           format('%s on %s (foreign key)', t.mode, t.rel::regclass)
    FROM (
        SELECT con.confrelid AS rel, 'SHARE ROW EXCLUSIVE' AS mode FROM pg_constraint AS con
        WHERE con.conrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
        UNION
        SELECT con.conrelid, CASE WHEN v_detach THEN 'ACCESS EXCLUSIVE' ELSE 'SHARE ROW EXCLUSIVE' END
        FROM pg_constraint AS con
        WHERE con.confrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
    ) AS t
    WHERE t.rel <> p_parent::oid
    ORDER BY t.rel;
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NOT NULL THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_default);
        locks := format('ACCESS EXCLUSIVE on %s (default partition)', v_default);
        RETURN NEXT;
    END IF;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_detaching);
        locks := format('ACCESS EXCLUSIVE on %s', p_detaching);
        RETURN NEXT;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._lock_statements(regclass, regclass) IS
'The lock statements, in order, that precede a change to the partitions of a parent (advisory, parent, foreign-key tables, default partition), or a DETACH of one partition (then also that partition).';
-- source: sql/src/36_check_args.sql
-- pgpart._check_args(lock_timeout, lock_retries, now_at): the arguments every
-- changing verb shares, checked before any lock is taken (a lock_timeout of
-- 0 would mean "wait forever" to PostgreSQL).
CREATE FUNCTION pgpart._check_args(p_lock_timeout interval, p_lock_retries integer, p_now_at timestamptz)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 hour' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_timeout must be positive and at most an hour, got %s',
                             coalesce(p_lock_timeout::text, 'NULL')),
            HINT = 'Pass a short interval such as ''200ms'': writers queue behind a waiting lock for that long.';
    END IF;
    -- bounded: a run must end even when another session holds a lock for good
    IF p_lock_retries IS NULL OR p_lock_retries < 0 OR p_lock_retries > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_retries must be between 0 and 1000, got %s', coalesce(p_lock_retries::text, 'NULL')),
            HINT = 'Pass how many times to retry a lock that timed out, such as 10.';
    END IF;
    IF p_now_at IS NULL OR NOT isfinite(p_now_at) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('now_at must be a finite time, got %s', coalesce(p_now_at::text, 'NULL')),
            HINT = 'Leave now_at out to use now(), or pass the reference time to act as of.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_args(interval, integer, timestamptz) IS
'Checks the lock_timeout, lock_retries and now_at arguments shared by the changing verbs (22023).';
-- source: sql/src/37_bounds.sql
-- Bounds on the work of one call, checked before any work (DESIGN §3): a
-- table owner's policy must not make a call plan or build without end, nor
-- exhaust the shared lock table that every session needs.

-- pgpart._max_new_tables(): at most this many new tables in one
-- transaction, counting partitions, their sub-partitions and a default
-- partition alike: each holds six to ten locks until commit (measured:
-- ~10 for a range partition with two indexes, ~9 for a hash leaf), and the
-- shared lock table holds max_locks_per_transaction x max_connections
-- entries (6,400 by default) for every session together.
CREATE FUNCTION pgpart._max_new_tables()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 200;
$body$;

COMMENT ON FUNCTION pgpart._max_new_tables() IS
'At most this many new tables (partitions, sub-partitions, a default) in one transaction: 200.';

-- pgpart._max_premake(): premake is planned slot by slot, by
-- create_range_partitions, maintenance and check alike; 1,000 slots ahead
-- is a week of 15-minute partitions or nearly three years of daily ones.
CREATE FUNCTION pgpart._max_premake()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 1000;
$body$;

COMMENT ON FUNCTION pgpart._max_premake() IS
'Largest premake accepted: 1000 slots ahead of the current one.';

-- pgpart._max_list_values(): at most this many list values in one call
-- (create_list_partitions, add_list_values, a list sub-partition spec):
-- each value is validated against every other and against the bounds of
-- the existing partitions.
CREATE FUNCTION pgpart._max_list_values()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 1000;
$body$;

COMMENT ON FUNCTION pgpart._max_list_values() IS
'At most this many list values in one call: 1000.';

-- pgpart._check_premake(premake, parent): 22023 unless 0 <= premake <=
-- _max_premake(). Called by set_policy and by the planner (which also
-- covers a value written into pgpart.config directly), before any loop.
CREATE FUNCTION pgpart._check_premake(p_premake integer, p_parent regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_premake < 0 OR p_premake > pgpart._max_premake() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('premake of table %s must be between 0 and %s, got %s', p_parent,
                             pgpart._max_premake(), p_premake),
            DETAIL = 'premake counts the partitions kept ready ahead of the current one.',
            HINT = format('Pass a premake from 0 to %s: SELECT * FROM pgpart.set_policy(%L, premake => %s);',
                          pgpart._max_premake(), p_parent::text, least(greatest(p_premake, 0), pgpart._max_premake()));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_premake(integer, regclass) IS
'Raises 22023 unless premake is between 0 and pgpart._max_premake().';

-- pgpart._list_value_count(values): how many values a list request holds
-- (a JSON array of values, or an object of groups of values), counted
-- without reading them one by one, so a huge request is refused at once.
CREATE FUNCTION pgpart._list_value_count(p_values jsonb)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE jsonb_typeof(p_values)
        WHEN 'array' THEN jsonb_array_length(p_values)::bigint
        WHEN 'object' THEN (
            SELECT coalesce(sum(CASE WHEN jsonb_typeof(e.value) = 'array' THEN jsonb_array_length(e.value) ELSE 1 END), 0)
            FROM jsonb_each(p_values) AS e
        )::bigint
        ELSE 0::bigint
    END;
$body$;

COMMENT ON FUNCTION pgpart._list_value_count(jsonb) IS
'Number of values in a list request (array of values or object of groups).';

-- pgpart._check_list_size(parent, values, what): 54000 when a list request
-- holds more than _max_list_values() values; WHAT names the request, such
-- as 'the list request for table' (the table's name follows).
CREATE FUNCTION pgpart._check_list_size(p_parent regclass, p_values jsonb, p_what text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint := pgpart._list_value_count(p_values);
BEGIN
    IF v_count > pgpart._max_list_values() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('%s %s holds %s values, more than the %s one call accepts', p_what, p_parent,
                             v_count, pgpart._max_list_values()),
            DETAIL = 'Each value is checked against every other and against the existing partitions before any work.',
            HINT = format('Split the values over several calls of at most %s values each: partitions already made '
                          'are kept, and pgpart.add_list_values adds values to an existing partition.',
                          pgpart._max_list_values()),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_list_size(regclass, jsonb, text) IS
'Raises 54000 when a list request holds more values than pgpart._max_list_values().';

-- pgpart._subpartition_leaves(spec): how many sub-partitions each
-- new partition gets under a (validated) sub-partition spec; 0 without one.
CREATE FUNCTION pgpart._subpartition_leaves(p_spec jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE
        WHEN p_spec IS NULL OR p_spec = 'null'::jsonb THEN 0
        WHEN p_spec ->> 'method' = 'hash' THEN (p_spec ->> 'modulus')::integer
        WHEN jsonb_typeof(p_spec -> 'values') = 'object'
            THEN (SELECT count(*) FROM jsonb_object_keys(p_spec -> 'values'))::integer
        ELSE jsonb_array_length(p_spec -> 'values')
    END;
$body$;

COMMENT ON FUNCTION pgpart._subpartition_leaves(jsonb) IS
'Number of sub-partitions each new partition gets under a sub-partition spec (0 without one).';

-- pgpart._statement_timed_out(message): after a handler caught 57014
-- (query_canceled), true when it was statement_timeout firing, false when
-- it was a cancel (pg_cancel_backend, Ctrl-C), which must stop the whole
-- run. PL/pgSQL's WHEN OTHERS does not catch 57014, so maintenance and
-- check() catch it explicitly and ask this.
--
-- What statement_timeout means after it fired once: PostgreSQL arms it once
-- per top-level statement and does not re-arm it, not even after a COMMIT
-- inside a procedure (verified on 18). We treat its firing as "this parent
-- took too long": that parent's work is rolled back, logged and reported,
-- and the run goes on with the others WITHOUT a statement timeout. That is
-- deliberate: the point of isolating it is that one owner's table cannot
-- starve everyone else's maintenance, and every remaining step is bounded by
-- pgpart itself (each lock under lock_timeout x lock_retries, at most
-- _max_new_tables() new tables per parent and call, bounded planning).
-- Whoever needs a hard limit for every parent runs maintenance per parent
-- (CALL pgpart.run_maintenance_proc('t'), one statement each).
--
-- The message is compared in English, and, for servers whose lc_messages
-- translate it, the time elapsed since the statement began is compared with
-- statement_timeout. Since the timeout fires once per statement, the first
-- firing is remembered (a session setting holding the statement's start),
-- and any later 57014 of the same statement is a cancel.
CREATE FUNCTION pgpart._statement_timed_out(p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_statement text := statement_timestamp()::text;
    v_timeout_ms bigint;
BEGIN
    IF current_setting('pgpart.statement_timeout_fired', true) IS NOT DISTINCT FROM v_statement THEN
        RETURN false;
    END IF;
    SELECT s.setting::bigint INTO v_timeout_ms FROM pg_settings AS s WHERE s.name = 'statement_timeout';
    IF p_message = 'canceling statement due to statement timeout'
       OR (v_timeout_ms > 0
           AND clock_timestamp() - statement_timestamp() >= v_timeout_ms * interval '1 millisecond') THEN
        -- not local: it must outlive this function and the caller's subtransaction
        PERFORM set_config('pgpart.statement_timeout_fired', v_statement, false);
        RETURN true;
    END IF;
    RETURN false;
END
$body$;

COMMENT ON FUNCTION pgpart._statement_timed_out(text) IS
'After catching 57014: true if statement_timeout fired (the first time in this statement), false for a cancel.';

-- pgpart._analyze_bounded(parent): ANALYZE of a partitioned parent after
-- retention (autovacuum never analyzes partitioned tables), bounded so that
-- it can never exhaust the shared lock table: ANALYZE locks every partition
-- it samples until commit (on 15 and 16 it also analyzes each partition and
-- locks its indexes; 18 has ANALYZE ONLY, which spares that). When the
-- relations it would lock exceed half of max_locks_per_transaction x
-- max_connections it is skipped (logged 'skipped'). Its locks are waited
-- for at most LOCK_TIMEOUT (a session holding one partition must not stall
-- the run; then it is skipped too). A failure (53200 included) is logged as
-- the parent's last error, never raised, so it never aborts the run that
-- called it; only a user's cancel is raised. Returns NULL when analyzed,
-- else why not.
CREATE FUNCTION pgpart._analyze_bounded(p_parent regclass, p_lock_timeout interval DEFAULT '200ms')
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_only boolean := current_setting('server_version_num')::integer >= 180000;
    v_relations bigint;
    v_budget bigint;
    v_state text;
    v_message text;
    v_reason text;
BEGIN
    PERFORM pgpart._set_lock_timeout(coalesce(p_lock_timeout, interval '200ms'));
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    )
    SELECT count(*) + CASE WHEN v_only THEN 0
                           ELSE (SELECT count(*) FROM pg_index AS x WHERE x.indrelid IN (SELECT t.rel FROM tree AS t)) END
    INTO v_relations
    FROM tree;
    v_budget := current_setting('max_locks_per_transaction')::bigint * current_setting('max_connections')::bigint / 2;
    IF v_relations > v_budget THEN
        v_reason := format('ANALYZE of %s skipped: it would lock %s relations in one transaction, more than half of '
                           'the shared lock table (max_locks_per_transaction %s x max_connections %s)', p_parent,
                           v_relations, current_setting('max_locks_per_transaction'),
                           current_setting('max_connections'));
    ELSE
        BEGIN
            EXECUTE format('ANALYZE %s%s', CASE WHEN v_only THEN 'ONLY ' ELSE '' END, p_parent);
            RETURN NULL;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;
            END IF;
        END;
        IF v_state = '55P03' THEN
            v_reason := format('ANALYZE of %s skipped: %s', p_parent, v_message);
        END IF;
    END IF;
    IF v_reason IS NOT NULL THEN
        RAISE NOTICE 'pgpart: %', v_reason;
        BEGIN
            PERFORM pgpart._log(p_parent, 'analyze', 'skipped',
                                jsonb_build_object('message', v_reason, 'relations', v_relations));
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- not the owner (a reader): the NOTICE and the result say it
        END;
        RETURN v_reason;
    END IF;
    RAISE WARNING 'pgpart: ANALYZE of % failed: % %', p_parent, v_state, v_message;
    PERFORM pgpart._record_failure(p_parent, 'analyze', v_state, v_message);  -- never raises
    RETURN format('ANALYZE of %s failed: %s: %s', p_parent, v_state, v_message);
END
$body$;

COMMENT ON FUNCTION pgpart._analyze_bounded(regclass, interval) IS
'ANALYZE of a partitioned parent after retention, skipped above a lock budget, a failure logged and never raised (but a cancel); NULL when done, else why not.';
-- source: sql/src/38_destination.sql
-- Where pgpart may put a table of someone else's: the archive schema, the
-- archive tablespace and the tablespace of new partitions. Checked when a
-- policy is set AND again at the moment of use, because pgpart.config and
-- the retention journal are writable by the table's owner (row-level
-- security lets an owner write rows about its own tables, bypassing
-- set_policy), and because whoever runs maintenance (a superuser, the
-- online client, the CLI) must never put a table where the table's owner
-- could not put it: never a system schema (it would shadow catalogs for
-- every user), never pgpart's own schema, never pg_global.

-- pgpart._require_archive_schema(parent, schema): raises unless SCHEMA is
-- a place the owner of PARENT may move tables to: 3F000 when it does not
-- exist, 22023 for a system schema (pg_catalog, information_schema, every
-- pg_* schema: pg_toast*, pg_temp*, ...) or pgpart's schema, 42501 when the
-- owner lacks CREATE on it. NULL passes (no schema asked for).
CREATE FUNCTION pgpart._require_archive_schema(p_parent regclass, p_schema name)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner name;
BEGIN
    IF p_schema IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    -- the pg_ prefix is reserved for system schemas (CREATE SCHEMA refuses it)
    IF p_schema LIKE 'pg\_%' OR p_schema IN ('information_schema', 'pgpart')
       OR p_schema = (SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace
                      WHERE e.extname = 'pgpart') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('schema %I is not a valid archive schema for table %s', p_schema, p_parent),
            DETAIL = 'System schemas and pgpart''s own schema never receive archived tables: '
                     'a table there would shadow catalogs or pgpart''s objects for every user.',
            HINT = format('Choose a schema of your own, such as CREATE SCHEMA archive AUTHORIZATION %I, '
                          'then SELECT pgpart.set_policy(%L, archive_schema => ''archive'').', v_owner, p_parent::text);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace AS n WHERE n.nspname = p_schema) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_schema_name',
            MESSAGE = format('schema %I does not exist', p_schema),
            HINT = format('CREATE SCHEMA %I first, owned by or writable for role %I.', p_schema, v_owner);
    END IF;
    IF NOT has_schema_privilege(v_owner, p_schema, 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create tables in schema %I', v_owner, p_parent, p_schema),
            DETAIL = 'pgpart moves a table only where its owner could move it itself, whoever runs maintenance.',
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I, or choose another archive schema.', p_schema, v_owner);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_archive_schema(regclass, name) IS
'Raises 3F000, 22023 (system schema or pgpart) or 42501 (owner lacks CREATE) unless the schema may receive archived tables of the parent.';

-- pgpart._require_owner_tablespace(parent, tablespace, what): raises unless
-- the owner of PARENT may create in TABLESPACE: 22023 when it does not
-- exist or is pg_global, 42501 when the owner lacks CREATE on it (the
-- database's default tablespace needs none, as in PostgreSQL). WHAT names
-- the setting in the message. NULL passes.
CREATE FUNCTION pgpart._require_owner_tablespace(p_parent regclass, p_tablespace name, p_what text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner name;
    v_oid oid;
BEGIN
    IF p_tablespace IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    SELECT t.oid INTO v_oid FROM pg_tablespace AS t WHERE t.spcname = p_tablespace;
    IF v_oid IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %I does not exist', p_tablespace),
            HINT = 'Create the tablespace first, or pass an existing one.';
    END IF;
    IF p_tablespace = 'pg_global' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace pg_global is not a valid %s for table %s', p_what, p_parent),
            DETAIL = 'pg_global holds only shared system catalogs.',
            HINT = 'Choose a tablespace of your own, or pg_default.';
    END IF;
    IF v_oid <> (SELECT d.dattablespace FROM pg_database AS d WHERE d.datname = current_database())
       AND NOT has_tablespace_privilege(v_owner, v_oid, 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create in tablespace %I (the %s)', v_owner, p_parent,
                             p_tablespace, p_what),
            DETAIL = 'pgpart puts a table only where its owner could put it itself, whoever runs maintenance.',
            HINT = format('GRANT CREATE ON TABLESPACE %I TO %I, or choose another tablespace.', p_tablespace, v_owner);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_owner_tablespace(regclass, name, text) IS
'Raises 22023 (missing or pg_global) or 42501 (owner lacks CREATE, outside the database default) unless the parent''s owner may use the tablespace.';
-- source: sql/src/39_window_complete.sql
-- pgpart._window_complete(parent, now_at): true when every slot from the one
-- holding NOW_AT through PREMAKE ahead has its partition, under pgpart's
-- name and with exactly that slot's bounds. It looks those few partitions
-- up by name instead of reading every bound, so the maintenance call that
-- finds nothing to do costs the same for 10 partitions or 10,000 (gaps
-- further back are filled by create_range_partitions and reported by check).
-- False when unsure: the caller then plans in full.
CREATE FUNCTION pgpart._window_complete(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_schema name;
    v_relname name;
    v_part oid;
    v_bound text;
    v_first numeric;
    v_count bigint;
    v_default regclass;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    v_grid := pgpart._grid(p_parent, p_now_at);
    IF v_cfg.parent IS NULL OR v_grid.now_coord IS NULL OR v_cfg.subpartition IS NOT NULL
       OR v_cfg.premake NOT BETWEEN 0 AND pgpart._max_premake() THEN
        -- integer keys need the highest key; sub-partitions their leaves; a
        -- premake out of bounds is refused by the planner, not walked here
        RETURN false;
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_grid.now_coord);
    FOR i IN 0 .. v_cfg.premake LOOP
        v_part := to_regclass(format('%I.%I', v_schema, pgpart._relation_name(
            v_relname, pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, v_slot.lo))));
        SELECT pg_get_expr(c.relpartbound, 0) INTO v_bound
        FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
        WHERE h.inhrelid = v_part AND h.inhparent = p_parent AND NOT h.inhdetachpending;
        IF v_bound IS DISTINCT FROM format('FOR VALUES FROM (%s) TO (%s)',
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.lo),
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.hi)) THEN
            RETURN false;
        END IF;
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
    END LOOP;
    -- No gap below the window either: as many partitions as grid slots from
    -- the oldest one to the window's end. pgpart's names sort by date, so the
    -- oldest is found without reading every bound; anything else (a name of
    -- another scheme, a partition off the grid) makes the counts differ, and
    -- the caller then plans in full.
    v_default := pgpart._default_partition(p_parent);
    SELECT c.oid, pgpart._literal_to_coord(v_grid.key_type, (regexp_match(pg_get_expr(c.relpartbound, 0),
                                                             '^FOR VALUES FROM \(''?([^'')]*)''?\)'))[1])
    INTO v_part, v_first
    FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
    WHERE h.inhparent = p_parent AND c.oid IS DISTINCT FROM v_default
    ORDER BY c.relname
    LIMIT 1;
    SELECT count(*) INTO v_count
    FROM pg_inherits AS h WHERE h.inhparent = p_parent AND h.inhrelid IS DISTINCT FROM v_default;
    RETURN v_first IS NOT NULL AND v_count = pgpart._slots_between(v_grid.kind, v_grid.step, v_grid.frame,
                                                                   v_first, v_slot.lo);
END
$body$;

COMMENT ON FUNCTION pgpart._window_complete(regclass, timestamptz) IS
'True when the partitions from the slot of now through premake ahead all exist with their exact bounds (looked up by name, not by reading every bound).';

-- pgpart._slots_between(kind, step, zone, lo, hi): how many grid slots
-- lie in [LO, HI) when both are slot bounds, by arithmetic (no iteration):
-- fixed widths divide, days count wall-clock days, months count months.
CREATE FUNCTION pgpart._slots_between(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_lo numeric,
    p_hi numeric
)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_lo timestamp;
    v_hi timestamp;
BEGIN
    IF p_kind IN ('integer', 'seconds') THEN
        RETURN (p_hi - p_lo) / p_step;
    END IF;
    v_lo := pgpart._coord_to_ts(p_lo) AT TIME ZONE p_zone;
    v_hi := pgpart._coord_to_ts(p_hi) AT TIME ZONE p_zone;
    IF p_kind = 'days' THEN
        RETURN round(extract(epoch FROM (v_hi - v_lo)) / 86400) / p_step;
    END IF;
    RETURN ((extract(year FROM v_hi) - extract(year FROM v_lo)) * 12 + extract(month FROM v_hi)
            - extract(month FROM v_lo)) / p_step;
END
$body$;

COMMENT ON FUNCTION pgpart._slots_between(text, numeric, text, numeric, numeric) IS
'Number of grid slots between two slot bounds, computed without iterating.';
-- source: sql/src/40_plan_range_partitions.sql
-- pgpart._plan_range_partitions(...): validates a create_range_partitions
-- call and returns its plan, changing nothing: the lock steps, then for each
-- missing slot of the grid the steps that build, check and attach its
-- partition, then the policy registration. All checks that can refuse the
-- call run here, before any DDL (DESIGN §3, §5, §6).
CREATE FUNCTION pgpart._plan_range_partitions(
    p_parent regclass,
    p_interval text,
    p_premake integer,
    p_start text,
    p_time_zone text,
    p_origin text,
    p_tablespace name,
    p_default_partition boolean,
    p_reloptions text[],
    p_lock_timeout interval,
    p_now_at timestamptz,
    p_subpartition jsonb DEFAULT NULL,
    p_max_new integer DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    -- at most this many new tables in one transaction, sub-partitions
    -- included: each takes about ten locks, and the shared lock table is
    -- sized for a few thousand (pgpart._max_new_tables)
    v_cap constant integer := pgpart._max_new_tables();
    -- the new partitions that fit under it: fewer with sub-partitions
    v_part_cap integer;
    v_leaves integer;
    v_key record;
    v_iv record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_owner name;
    v_zone text;
    v_frame text;
    v_origin numeric;
    v_origin_text text;
    v_premake integer;
    v_tablespace name;
    v_target_ts name;
    v_reloptions text [];
    v_subpartition jsonb;
    v_default regclass;
    v_has_partitions boolean;
    v_existing_lo numeric [];
    v_existing_hi numeric [];
    v_existing_rel regclass [];
    v_near_lo numeric [];
    v_near_from numeric;
    v_near_to numeric;
    v_near_hi numeric [];
    v_near_rel regclass [];
    v_now numeric;
    v_first record;
    v_slot record;
    v_end numeric;
    v_ranges pgpart._range[];
    v_range pgpart._range;
    v_lo numeric;
    v_hi numeric;
    v_lo_lit text;
    v_hi_lit text;
    v_new_lo numeric [] := '{}'::numeric [];
    v_new_hi numeric [] := '{}'::numeric [];
    v_new_names name [] := '{}'::name [];
    v_name name;
    v_table text;
    v_overlap regclass;
    v_exact boolean;
    v_n integer := 0;
    v_total integer;
    v_step integer := 0;
    v_iterations integer := 0;
    v_parent_locks text;
    v_lock record;
    v_sub pgpart.step;
    st pgpart.step;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    v_key := pgpart._range_key(p_parent);
    SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner)
    INTO v_schema, v_relname, v_owner
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NOT NULL AND v_cfg.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s is managed by pgpart with strategy %s', p_parent, v_cfg.strategy),
            HINT = 'Use the verb of that strategy, or delete its policy from pgpart.config first.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- The grid: interval, zone, origin.
    v_iv := pgpart._parse_interval(v_key.key_type, p_interval);
    v_zone := pgpart._check_zone(coalesce(p_time_zone, v_cfg.time_zone, 'UTC'));
    v_frame := CASE WHEN v_key.key_type = 'timestamptz'::regtype AND v_iv.kind IN ('days', 'months')
                    THEN v_zone ELSE 'UTC' END;
    IF p_origin IS NOT NULL THEN
        v_origin := pgpart._input_to_coord(v_key.key_type, v_zone, p_origin, 'origin');
        IF v_key.key_type = 'timestamptz'::regtype THEN
            -- the origin is kept as a wall time of the grid's own zone
            v_origin := extract(epoch FROM (pgpart._coord_to_ts(v_origin) AT TIME ZONE v_frame));
        END IF;
    ELSIF v_cfg.grid_origin IS NOT NULL AND v_cfg.partition_interval = v_iv.canonical THEN
        v_origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                         ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    ELSE
        v_origin := pgpart._default_origin(v_iv.kind, v_iv.step);
    END IF;
    v_origin_text := CASE WHEN v_iv.kind = 'integer' THEN v_origin::text
                          ELSE to_char(pgpart._coord_to_ts(v_origin) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END;

    SELECT array_agg(p.lower_coord ORDER BY p.lower_coord),
           array_agg(p.upper_coord ORDER BY p.lower_coord),
           array_agg(p.partition ORDER BY p.lower_coord)
    INTO v_existing_lo, v_existing_hi, v_existing_rel
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default;
    v_has_partitions := coalesce(cardinality(v_existing_rel), 0) > 0;
    v_default := pgpart._default_partition(p_parent);

    -- A grid cannot change under existing partitions (DESIGN §5).
    IF v_cfg.parent IS NOT NULL AND v_has_partitions
       AND (v_cfg.partition_interval IS DISTINCT FROM v_iv.canonical
            OR v_cfg.grid_origin IS DISTINCT FROM v_origin_text
            OR (v_frame <> 'UTC' AND v_cfg.time_zone IS DISTINCT FROM v_zone)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the partition grid of table %s', p_parent),
            DETAIL = format('Configured: interval %L, origin %L, time zone %L; requested: interval %L, origin %L, time zone %L.',
                            v_cfg.partition_interval, v_cfg.grid_origin, v_cfg.time_zone,
                            v_iv.canonical, v_origin_text, v_zone),
            HINT = 'Call again with the configured interval, origin and time zone (or leave them out); the grid of a table with partitions stays fixed.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- Policy values: a NULL argument keeps what is configured.
    v_premake := coalesce(p_premake, v_cfg.premake, 4);
    -- bounded before the grid is walked premake slots ahead (a value in the
    -- policy row is checked too: an owner can write that row directly)
    PERFORM pgpart._check_premake(v_premake, p_parent);
    PERFORM pgpart._check_args(p_lock_timeout, 0, p_now_at);
    v_reloptions := coalesce(p_reloptions, v_cfg.reloptions);
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    v_subpartition := coalesce(pgpart._subpartition_spec(p_parent, p_subpartition), v_cfg.subpartition);
    -- Sub-partitions count in the cap: a partition and its leaves are built
    -- in the same transaction.
    v_leaves := pgpart._subpartition_leaves(v_subpartition);
    v_part_cap := v_cap / (1 + v_leaves);
    IF v_part_cap < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('each new partition of %s would have %s sub-partitions, more than the %s new tables one '
                             'transaction may create', p_parent, v_leaves, v_cap),
            DETAIL = 'A partition and its sub-partitions are built in one transaction; each new table holds about ten '
                     'locks until commit, and thousands exhaust the shared lock table.',
            HINT = format('Use a sub-partition spec with at most %s sub-partitions (a smaller modulus, fewer list '
                          'groups).', v_cap - 1),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_tablespace := coalesce(p_tablespace, v_cfg.tablespace);
    PERFORM pgpart._require_tablespace(v_tablespace);
    IF p_tablespace IS NULL THEN
        -- the policy's tablespace (its row is writable by the owner): only
        -- one the owner may use, whoever runs this (a superuser's maintenance)
        PERFORM pgpart._require_owner_tablespace(p_parent, v_cfg.tablespace, 'tablespace');
    END IF;
    -- Where new partitions go: the policy's tablespace, else the parent's,
    -- else the database default; always named, never the session's default.
    SELECT coalesce(v_tablespace, pt.spcname, dt.spcname) INTO v_target_ts
    FROM pg_class AS c
    LEFT JOIN pg_tablespace AS pt ON pt.oid = c.reltablespace
    CROSS JOIN pg_database AS d
    JOIN pg_tablespace AS dt ON dt.oid = d.dattablespace
    WHERE c.oid = p_parent AND d.datname = current_database();

    -- Privileges: checked up front so a refused call leaves nothing behind.
    IF NOT has_schema_privilege(current_user, (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = p_parent), 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to create partitions of %s in schema %I', p_parent, v_schema),
            DETAIL = format('Role %I lacks CREATE on schema %I.', current_user, v_schema),
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I.', v_schema, current_user),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    IF NOT has_schema_privilege(v_owner, (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = p_parent), 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create tables in schema %I', v_owner, p_parent, v_schema),
            DETAIL = 'New partitions are owned by the parent''s owner, which needs CREATE on the schema.',
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I.', v_schema, v_owner),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    IF v_target_ts <> 'pg_default' AND NOT has_tablespace_privilege(current_user, v_target_ts, 'CREATE')
       AND v_target_ts <> (SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
                           WHERE d.datname = current_database()) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied for tablespace %I', v_target_ts),
            HINT = format('GRANT CREATE ON TABLESPACE %I TO %I, or choose another tablespace.', v_target_ts, current_user),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- "Now": the reference time, or for integer keys the highest key value.
    IF v_iv.kind = 'integer' THEN
        BEGIN
            -- an empty table: its "now" is the start given, else where its
            -- partitions begin, else 0 (DESIGN §5); so a call without start
            -- after one with it changes nothing
            v_now := coalesce(pgpart._max_key(p_parent, v_key.key_column, p_lock_timeout),
                              pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start'),
                              (SELECT min(lo) FROM unnest(v_existing_lo) AS lo WHERE lo > '-Infinity'::numeric), 0);
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION USING
                ERRCODE = 'lock_not_available',
                MESSAGE = format('could not read the highest key of %s within %s', p_parent, p_lock_timeout),
                DETAIL = 'A partition is locked by another session (ACCESS EXCLUSIVE).',
                HINT = 'Retry later, or pass start so the highest key need not be read.',
                SCHEMA = v_schema, TABLE = v_relname;
        END;
    ELSIF v_key.key_type = 'timestamptz'::regtype THEN
        v_now := extract(epoch FROM p_now_at);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_zone));
    END IF;

    -- The window: from START (or the slot of now) to PREMAKE slots after
    -- now; without START also every gap between existing partitions below
    -- it. Gaps are found in one pass over the sorted bounds, so the cost
    -- grows with the number of gaps, not of partitions.
    IF p_start IS NOT NULL THEN
        v_first := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin,
                                pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start'));
    ELSE
        v_first := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_now);
    END IF;
    v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_now);
    FOR i IN 1 .. v_premake LOOP
        v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_slot.hi);
    END LOOP;
    v_end := greatest(v_slot.hi, v_first.hi);
    IF p_max_new IS NOT NULL AND (p_max_new < 1 OR p_max_new > v_cap) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('max_new must be between 1 and %s, got %s', v_cap, p_max_new),
            HINT = 'Pass how many partitions one call may create at most, or leave it out.';
    END IF;
    IF p_max_new IS NOT NULL THEN
        -- a bounded run makes what fits under the cap with its sub-partitions
        v_part_cap := least(p_max_new, v_part_cap);
    ELSE
        -- one more than fits: enough to refuse the call below
        v_part_cap := v_part_cap + 1;
    END IF;
    -- The window first, then the gaps below it from the most recent down, so
    -- that a bounded run (max_new) creates what matters most first.
    v_ranges := ARRAY[ROW(v_first.lo, v_end)::pgpart._range];
    IF p_start IS NULL THEN
        SELECT v_ranges || array_agg(ROW(g.gap_lo, least(g.gap_hi, v_first.lo))::pgpart._range ORDER BY g.gap_lo DESC)
        INTO v_ranges
        FROM (
            SELECT e.hi AS gap_lo, coalesce(lead(e.lo) OVER (ORDER BY e.lo), 'Infinity'::numeric) AS gap_hi
            FROM unnest(v_existing_lo, v_existing_hi) AS e (lo, hi)
        ) AS g
        WHERE g.gap_lo < least(g.gap_hi, v_first.lo);
    END IF;

    FOREACH v_range IN ARRAY v_ranges LOOP
        -- only the partitions that can touch this range are compared below
        v_near_from := (pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_range.lo)).lo;
        v_near_to := (pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_range.hi)).hi;
        SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}'),
               coalesce(array_agg(e.rel ORDER BY e.lo), '{}')
        INTO v_near_lo, v_near_hi, v_near_rel
        FROM unnest(v_existing_lo, v_existing_hi, v_existing_rel) AS e (lo, hi, rel)
        WHERE e.hi > v_near_from AND e.lo < v_near_to;
        v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_range.lo);
        WHILE v_slot.lo < v_range.hi LOOP
            v_iterations := v_iterations + 1;
            IF v_iterations > 100000 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'program_limit_exceeded',
                    MESSAGE = format('the requested window of %s spans more than 100000 partitions', p_parent),
                    HINT = 'Pass a later start or a smaller premake.';
            END IF;
            -- Clip to the key type's range: such bounds become MINVALUE/MAXVALUE.
            v_lo_lit := pgpart._coord_to_literal(v_key.key_type, v_slot.lo);
            v_hi_lit := pgpart._coord_to_literal(v_key.key_type, v_slot.hi);
            EXIT WHEN v_lo_lit = 'MAXVALUE';
            v_lo := CASE WHEN v_lo_lit = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
            v_hi := CASE WHEN v_hi_lit = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;

            SELECT bool_or(e.lo = v_lo AND e.hi = v_hi),
                   (array_agg(e.rel ORDER BY e.lo))[1]
            INTO v_exact, v_overlap
            FROM unnest(v_near_lo, v_near_hi, v_near_rel) AS e (lo, hi, rel)
            WHERE e.lo < v_hi AND e.hi > v_lo;
            IF v_overlap IS NULL AND NOT v_lo = ANY (v_new_lo) AND v_range.lo <> v_first.lo
               AND to_regclass(format('%I.%I', v_schema, pgpart._relation_name(
                   v_relname, pgpart._slot_suffix(v_iv.kind, v_iv.step, v_frame, v_lo)))) IS NOT NULL THEN
                -- a gap below the window whose name is taken (typically by the
                -- table detached from it): leave the gap, check() reports it
                NULL;
            ELSIF v_overlap IS NULL AND NOT v_lo = ANY (v_new_lo) THEN
                v_new_lo := v_new_lo || v_lo;
                v_new_hi := v_new_hi || v_hi;
                -- a bounded run stops at its bound; otherwise refuse as soon as
                -- the cap is passed, not after walking a huge window
                EXIT WHEN cardinality(v_new_lo) >= v_part_cap;
            ELSIF NOT v_exact AND p_start IS NOT NULL AND v_slot.lo = v_first.lo THEN
                -- only an explicit start may not overlap a partition off the grid
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('partition for the range from %s to %s would overlap partition %s',
                                     pgpart._coord_to_text(v_key.key_type, v_zone, v_lo),
                                     pgpart._coord_to_text(v_key.key_type, v_zone, v_hi), v_overlap),
                    DETAIL = format('Partition %s is not on the grid of interval %L.', v_overlap, v_iv.canonical),
                    HINT = 'Pass a start that does not overlap it, or leave start out: slots taken by partitions off the grid are skipped.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
            EXIT WHEN v_hi = 'Infinity'::numeric;
            v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_slot.hi);
        END LOOP;
        EXIT WHEN cardinality(v_new_lo) >= v_part_cap;
    END LOOP;
    -- partitions are created in bound order
    SELECT array_agg(n.lo ORDER BY n.lo), array_agg(n.hi ORDER BY n.lo) INTO v_new_lo, v_new_hi
    FROM unnest(v_new_lo, v_new_hi) AS n (lo, hi);
    v_new_lo := coalesce(v_new_lo, '{}'::numeric []);
    v_new_hi := coalesce(v_new_hi, '{}'::numeric []);

    v_n := cardinality(v_new_lo);
    -- a default partition to create counts too, and every sub-partition
    v_total := v_n * (1 + v_leaves) + (coalesce(p_default_partition, false) AND v_default IS NULL)::integer;
    IF v_total > v_cap THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('more than %s new tables for %s requested, but at most %s are created in one transaction',
                             v_cap, p_parent, v_cap),
            DETAIL = format('Each new partition%s holds about ten locks until commit; thousands exhaust the shared lock '
                            'table.', CASE WHEN v_leaves > 0
                                           THEN format(' (here with its %s sub-partitions, %s tables)', v_leaves,
                                                       1 + v_leaves) ELSE '' END),
            HINT = format('Each call creates at most %s new tables: pass max_new => %s (the rest on the next calls), '
                          'a smaller premake, or a start (which also skips filling gaps below it), and call again.',
                          v_cap, greatest(1, (v_cap - 1) / (1 + v_leaves))),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- Names: byte-limited, and never an existing relation (DESIGN §5).
    FOR i IN 1 .. v_n LOOP
        v_name := pgpart._relation_name(v_relname, pgpart._slot_suffix(v_iv.kind, v_iv.step, v_frame, v_new_lo[i]));
        IF to_regclass(format('%I.%I', v_schema, v_name)) IS NOT NULL OR v_name = ANY (v_new_names) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I.%I already exists', v_schema, v_name),
                DETAIL = format('pgpart names the partition of %s for the range from %s to %s %I.', p_parent,
                                pgpart._coord_to_text(v_key.key_type, v_zone, v_new_lo[i]),
                                pgpart._coord_to_text(v_key.key_type, v_zone, v_new_hi[i]), v_name),
                HINT = 'Rename or drop that relation, or attach it yourself if it holds this range.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        v_new_names := v_new_names || v_name;
    END LOOP;
    IF coalesce(p_default_partition, false) AND v_default IS NULL THEN
        v_name := pgpart._relation_name(v_relname, '_default');
        IF to_regclass(format('%I.%I', v_schema, v_name)) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I.%I already exists', v_schema, v_name),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
    END IF;

    -- The plan. Locks first, in the documented order.
    FOR v_lock IN SELECT * FROM pgpart._lock_statements(p_parent) LOOP
        v_step := v_step + 1;
        st := ROW(v_step, NULL, NULL, NULL, 'lock', v_lock.statement, v_lock.locks, false)::pgpart.step;
        RETURN NEXT st;
    END LOOP;
    SELECT string_agg(l.locks, ', ') INTO v_parent_locks
    FROM pgpart._lock_statements(p_parent) AS l WHERE l.statement LIKE 'LOCK%';

    FOR i IN 1 .. v_n LOOP
        v_table := format('%I.%I', v_schema, v_new_names[i]);
        v_lo_lit := pgpart._coord_to_literal(v_key.key_type, v_new_lo[i]);
        v_hi_lit := pgpart._coord_to_literal(v_key.key_type, v_new_hi[i]);
        st.partition := v_table;
        st.lower_bound := pgpart._coord_to_text(v_key.key_type, v_zone, v_new_lo[i]);
        st.upper_bound := pgpart._coord_to_text(v_key.key_type, v_zone, v_new_hi[i]);
        IF v_default IS NOT NULL THEN
            v_step := v_step + 1;
            st.step := v_step;
            st.action := 'check default';
            st.statement := format('SELECT pgpart._check_default_rows(%L::regclass, %L, %L, %L)',
                                   v_default::text, v_key.key_column, v_lo_lit, v_hi_lit);
            st.locks := format('ACCESS SHARE on %s (index probe)', v_default);
            RETURN NEXT st;
        END IF;
        FOR v_sub IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES FROM (%s) TO (%s)', v_lo_lit, v_hi_lit), v_target_ts, v_reloptions,
            v_step + 1, v_subpartition, v_parent_locks)
        LOOP
            v_sub.lower_bound := st.lower_bound;
            v_sub.upper_bound := st.upper_bound;
            v_step := v_sub.step;
            RETURN NEXT v_sub;
        END LOOP;
    END LOOP;

    IF coalesce(p_default_partition, false) AND v_default IS NULL THEN
        v_table := format('%I.%I', v_schema, pgpart._relation_name(v_relname, '_default'));
        FOR st IN SELECT * FROM pgpart._new_partition_steps(p_parent, v_table, 'DEFAULT', v_target_ts, v_reloptions,
                                                             v_step + 1, NULL, v_parent_locks) LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    st := ROW(v_step, NULL, NULL, NULL, 'register policy',
              format('SELECT pgpart._save_range_policy(%L::regclass, %L, %L::regtype, %L, %L, %L, %s, %L, %L, %L)',
                     p_parent::text, v_key.key_column, v_key.key_type::text, v_iv.canonical, v_origin_text,
                     v_zone, v_premake, v_tablespace, v_reloptions, v_subpartition),
              'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
    RETURN NEXT st;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, timestamptz, jsonb, integer) IS
'Validates a create_range_partitions call and returns its ordered steps without changing anything.';
-- source: sql/src/41_run_steps.sql
-- pgpart._run_steps(steps, timeout, retries): executes a plan inside the
-- current transaction. The lock steps run first as one group under the lock
-- timeout, with retries (pgpart._acquire_locks); every other step is one
-- statement, run in order, still under the lock timeout so that nothing
-- waits unbounded. Steps marked top_level cannot run here.
CREATE FUNCTION pgpart._run_steps(p_steps pgpart.step[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    st pgpart.step;
BEGIN
    PERFORM pgpart._acquire_locks(
        array(SELECT s.statement FROM unnest(p_steps) AS s WHERE s.action = 'lock' ORDER BY s.step),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOREACH st IN ARRAY p_steps LOOP
        CONTINUE WHEN st.action = 'lock';
        IF st.top_level THEN
            RAISE EXCEPTION USING
                ERRCODE = 'active_sql_transaction',
                MESSAGE = format('step %s must run at top level: %s', st.step, st.statement),
                HINT = 'Run this plan with the Python client (online=True), which executes such steps outside a transaction.';
        END IF;
        EXECUTE st.statement;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._run_steps(pgpart.step[], interval, integer) IS
'Executes a plan in the current transaction: its locks as one group with timeout and retries, then each statement in order.';
-- source: sql/src/42_create_range_partitions.sql
-- pgpart.create_range_partitions(parent, interval, ...): creates the
-- partitions of a RANGE-partitioned table that its grid says should exist
-- now: the slot holding NOW_AT (for integer keys, the highest key value)
-- plus PREMAKE ahead, and any gap after the lowest existing partition.
-- Registers or updates the policy. Idempotent. Each partition is built
-- detached (indexes, owner) and then ATTACHed, so the parent is only ever
-- locked SHARE UPDATE EXCLUSIVE (DESIGN §3). With DRY_RUN, returns the plan.
-- With SUBPARTITION (kept in the policy) each new partition is itself
-- partitioned by hash or list and filled before it is attached. MAX_NEW
-- bounds a call (the slot of now and what follows first, then the most
-- recent gaps, as many as fit with their sub-partitions); without it more
-- than 200 new tables (partitions, sub-partitions, a default) are refused
-- (54000, pgpart._max_new_tables), and so is a premake above 1000 (22023).
CREATE FUNCTION pgpart.create_range_partitions(
    parent regclass,
    "interval" text,
    premake integer DEFAULT NULL,
    start text DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    tablespace name DEFAULT NULL,
    default_partition boolean DEFAULT false,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR $1;
    p_lock_timeout ALIAS FOR $10;
    p_lock_retries ALIAS FOR $11;
    p_dry_run ALIAS FOR $13;
    v_steps pgpart.step [];
    v_created jsonb;
BEGIN
    PERFORM pgpart._check_args(p_lock_timeout, p_lock_retries, $12);
    IF $3 IS NOT NULL THEN
        PERFORM pgpart._check_premake($3, p_parent);  -- before any lock (the planner checks the policy's)
    END IF;
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart._plan_range_partitions($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $14, $15);
        RETURN;
    END IF;
    -- Take the locks before planning, so that the plan cannot go stale:
    -- SHARE UPDATE EXCLUSIVE on the parent excludes any other ATTACH,
    -- DETACH or CREATE ... PARTITION OF until we commit.
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._range_key(p_parent);
    PERFORM pgpart._acquire_locks(array(SELECT l.statement FROM pgpart._lock_statements(p_parent) AS l),
                                  p_lock_timeout, p_lock_retries);
    v_steps := array(SELECT s FROM pgpart._plan_range_partitions($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $14, $15) AS s);
    PERFORM pgpart._run_steps(v_steps, p_lock_timeout, p_lock_retries);

    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created
    FROM unnest(v_steps) AS s WHERE s.action = 'attach';
    IF v_created IS NOT NULL THEN
        PERFORM pgpart._log(p_parent, 'create_range_partitions', 'ok', jsonb_build_object('created', v_created));
    END IF;
    RETURN QUERY
    SELECT s.step, s.partition, s.lower_bound, s.upper_bound, 'created', c.statement, s.locks, false
    FROM unnest(v_steps) AS s
    JOIN unnest(v_steps) AS c ON c.partition = s.partition AND c.action = 'create table'
    WHERE s.action = 'attach'
    ORDER BY s.step;
END
$body$;

COMMENT ON FUNCTION pgpart.create_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, integer, timestamptz, boolean, jsonb, integer) IS
'Creates the missing range partitions of PARENT (the slot of now_at plus premake ahead, and gaps), each built detached and then attached under short lock timeouts; registers the policy. dry_run returns the plan.';
-- source: sql/src/50_runway.sql
-- pgpart._reach(parent, from): how far the attached partitions of PARENT
-- reach from the coordinate FROM without a gap (FROM itself when no
-- partition holds it).
CREATE FUNCTION pgpart._reach(p_parent regclass, p_from numeric)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_reach numeric := p_from;
    r record;
BEGIN
    FOR r IN
        SELECT p.lower_coord, p.upper_coord FROM pgpart._partitions(p_parent) AS p
        WHERE NOT p.is_default AND NOT p.detach_pending
        ORDER BY p.lower_coord
    LOOP
        IF r.lower_coord <= v_reach AND r.upper_coord > v_reach THEN
            v_reach := r.upper_coord;
        END IF;
    END LOOP;
    RETURN v_reach;
END
$body$;

COMMENT ON FUNCTION pgpart._reach(regclass, numeric) IS
'How far the attached partitions of a parent reach from a coordinate without a gap.';

-- pgpart._runway(parent, now_at): how far ahead of "now" the partitions of a
-- managed RANGE parent reach without a gap: an interval for time keys, a
-- number of key values for integer keys (measured from the highest key
-- value, read under a short lock timeout; NULL when it could not be read).
CREATE FUNCTION pgpart._runway(p_parent regclass, p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_now numeric;
    v_reach numeric;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        BEGIN
            v_now := coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '50ms'), 0);
        EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
            RETURN NULL;  -- unknown: a partition is locked exclusively, or we may not read the parent
        END;
    ELSIF v_cfg.key_type = 'timestamptz'::regtype THEN
        v_now := extract(epoch FROM p_now_at);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone));
    END IF;
    v_reach := pgpart._reach(p_parent, v_now);
    IF v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        RETURN (v_reach - v_now)::text;
    END IF;
    RETURN date_trunc('second', pgpart._coord_to_ts(v_reach) - pgpart._coord_to_ts(v_now))::text;
END
$body$;

COMMENT ON FUNCTION pgpart._runway(regclass, timestamptz) IS
'How far the partitions of a managed range parent reach past now without a gap (interval, or key values for integer keys).';
-- source: sql/src/51_partition_info.sql
-- pgpart.partition_info(parent, now_at): one row per partition of PARENT
-- (or of every managed parent), sub-partitions under their partition, in
-- bound order. Read from the catalog only, so it answers while another
-- session holds ACCESS EXCLUSIVE on a partition (DESIGN §2): bounds from
-- pg_get_expr(relpartbound, 0), sizes from relpages, rows from reltuples.
-- Bounds of timestamptz keys are shown in the configured time zone, never in
-- the session's.
CREATE FUNCTION pgpart.partition_info(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (
    parent_table regclass,
    partition regclass,
    level integer,
    parent_partition regclass,
    lower_bound text,
    upper_bound text,
    bound text,
    is_default boolean,
    tablespace name,
    estimated_rows bigint,
    size_bytes bigint,
    detach_pending boolean,
    runway text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR $1;
    p_now_at ALIAS FOR $2;
    v_root regclass;
    v_zone text;
    v_runway text;
BEGIN
    -- now_at as the changing verbs take it: finite (22023 naming it)
    PERFORM pgpart._check_args(interval '1s', 0, p_now_at);
    FOR v_root IN
        SELECT p_parent WHERE p_parent IS NOT NULL
        UNION ALL
        SELECT c.parent FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE p_parent IS NULL
        ORDER BY 1
    LOOP
        SELECT c.time_zone INTO v_zone FROM pgpart.config AS c WHERE c.parent = v_root;
        v_runway := pgpart._runway(v_root, p_now_at);
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT
                p.partition AS node, p.relkind, 1 AS depth, v_root AS up, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                           ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                      p.partition::oid::bigint::numeric] AS sort_key
            FROM pgpart._partitions(v_root) AS p
            UNION ALL
            SELECT
                p.partition, p.relkind, t.depth + 1, t.node, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                t.sort_key || ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                                         ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                                    p.partition::oid::bigint::numeric]
            FROM tree AS t
            CROSS JOIN LATERAL pgpart._partitions(t.node) AS p
            WHERE t.relkind = 'p'
        )
        SELECT
            v_root,
            r.node,
            r.depth,
            CASE WHEN r.depth > 1 THEN r.up END,
            pgpart._coord_to_text(k.key_type, v_zone, r.lower_coord),
            pgpart._coord_to_text(k.key_type, v_zone, r.upper_coord),
            r.bound,
            r.is_default,
            coalesce(ts.spcname, dts.spcname),
            CASE WHEN c.relkind = 'r' AND c.reltuples >= 0 THEN c.reltuples::bigint END,
            CASE WHEN c.relkind = 'r' THEN
                (c.relpages::bigint + coalesce(toast.relpages, 0)
                 + coalesce((SELECT sum(ic.relpages) FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
                             WHERE ix.indrelid IN (c.oid, c.reltoastrelid)), 0))
                * current_setting('block_size')::bigint
            END,
            r.detach_pending,
            v_runway
        FROM tree AS r
        JOIN pg_class AS c ON c.oid = r.node
        LEFT JOIN pg_class AS toast ON toast.oid = c.reltoastrelid
        LEFT JOIN pg_tablespace AS ts ON ts.oid = c.reltablespace
        CROSS JOIN (SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
                    WHERE d.datname = current_database()) AS dts
        LEFT JOIN LATERAL (
            SELECT a.atttypid::regtype AS key_type
            FROM pg_partitioned_table AS pt
            JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
            WHERE pt.partrelid = r.up AND pt.partnatts = 1 AND pt.partstrat = 'r'
        ) AS k ON true
        ORDER BY r.sort_key;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.partition_info(regclass, timestamptz) IS
'One row per partition of PARENT (or of every managed parent) in bound order, from the catalog only: bounds in the configured zone, tablespace, estimated rows and size, detach-pending flag and runway. Never waits for a lock.';
-- source: sql/src/59_grid.sql
-- pgpart._grid(parent): the grid of a managed RANGE parent as the slot
-- functions take it: kind and step of the interval, the zone its calendar
-- follows (UTC below a day and for timestamp/date keys), the origin as a
-- coordinate, and the coordinate of "now" for a reference time.
CREATE FUNCTION pgpart._grid(
    p_parent regclass,
    p_now_at timestamptz,
    OUT key_type regtype,
    OUT kind text,
    OUT step numeric,
    OUT frame text,
    OUT origin numeric,
    OUT now_coord numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_iv record;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    v_iv := pgpart._parse_interval(v_cfg.key_type, v_cfg.partition_interval);
    key_type := v_cfg.key_type;
    kind := v_iv.kind;
    step := v_iv.step;
    frame := CASE WHEN v_cfg.key_type = 'timestamptz'::regtype AND v_iv.kind IN ('days', 'months')
                  THEN v_cfg.time_zone ELSE 'UTC' END;
    origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                   ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    now_coord := CASE WHEN v_iv.kind = 'integer' THEN NULL
                      WHEN v_cfg.key_type = 'timestamptz'::regtype THEN extract(epoch FROM p_now_at)
                      ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone)) END;
END
$body$;

COMMENT ON FUNCTION pgpart._grid(regclass, timestamptz) IS
'Grid of a managed range parent for the slot functions: kind, step, zone, origin and the coordinate of now (NULL for integer keys).';
-- source: sql/src/60_managed.sql
-- pgpart._managed(parent): the policy row of a parent pgpart manages, after
-- checking that the caller owns it; 55000 when there is none.
CREATE FUNCTION pgpart._managed(p_parent regclass)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Call pgpart.create_range_partitions for it first.',
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
    RETURN v_cfg;
END
$body$;

COMMENT ON FUNCTION pgpart._managed(regclass) IS
'Policy row of a managed parent the caller owns; 42501 or 55000 otherwise.';
-- source: sql/src/61_set_policy.sql
-- pgpart._merge_policy(old, ...) validates policy values and merges them into
-- a policy row; pgpart.set_policy(parent, ...) changes the policy of a managed
-- parent. A NULL argument keeps what is configured; retention => 'none'
-- clears the retention, and an empty name clears archive_schema,
-- archive_tablespace or tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing.
CREATE FUNCTION pgpart._merge_policy(
    p_old pgpart.config,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_parent regclass := p_old.parent;
    v_old pgpart.config := p_old;
    v_new pgpart.config;
    v_iv interval;
BEGIN
    v_new := v_old;

    IF $2 IS NOT NULL THEN
        IF lower(btrim($2)) = 'none' THEN
            v_new.retention := NULL;
        ELSIF v_old.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('retention does not apply to %s partitions of table %s', upper(v_old.strategy), p_parent),
                HINT = 'Retention expires ranges; LIST and HASH partitions hold no range to expire.';
        ELSIF v_old.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
            IF btrim($2) !~ '^\+?[0-9]{1,19}$' OR btrim($2)::numeric = 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for the integer key of %s', $2, p_parent),
                    HINT = 'Pass a positive whole number: how many key values below the highest to keep.';
            END IF;
            v_new.retention := btrim($2)::numeric::text;
        ELSE
            BEGIN
                v_iv := $2::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                v_iv := NULL;
            END;
            -- every field non-negative: '1 mon -29 days' would reach into the future
            IF v_iv IS NULL OR v_iv = interval '0' OR btrim($2) ~ '^[-+]?[0-9.]*$'
               OR extract(year FROM v_iv) < 0 OR extract(month FROM v_iv) < 0 OR extract(day FROM v_iv) < 0
               OR extract(epoch FROM v_iv - date_trunc('day', v_iv)) < 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for table %s', $2, p_parent),
                    HINT = 'Pass a positive interval with a unit and no negative part, such as ''30 days'' or ''6 months'', or ''none''.';
            END IF;
            v_new.retention := v_iv::text;
        END IF;
    END IF;

    IF $3 IS NOT NULL THEN
        IF $3 NOT IN ('detach', 'archive', 'drop') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid retention_action %L', $3),
                HINT = 'Pass ''detach'', ''archive'' or ''drop''.';
        END IF;
        v_new.retention_action := $3;
    END IF;

    -- destinations: never a system schema, pgpart or pg_global, only where
    -- the owner may create (checked again at the moment of use)
    IF $4 IS NOT NULL THEN
        v_new.archive_schema := nullif($4, '');
        PERFORM pgpart._require_archive_schema(p_parent, v_new.archive_schema);
    END IF;
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif($5, ''), 'archive tablespace');
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif($6, ''), 'tablespace');
    IF $5 IS NOT NULL THEN
        v_new.archive_tablespace := nullif($5, '');
    END IF;
    IF $6 IS NOT NULL THEN
        v_new.tablespace := nullif($6, '');
    END IF;

    IF $7 IS NOT NULL THEN
        -- bounded: maintenance and check() walk the grid premake slots ahead
        PERFORM pgpart._check_premake($7, p_parent);
        v_new.premake := $7;
    END IF;
    v_new.automatic_maintenance := coalesce($8, v_old.automatic_maintenance);
    v_new.analyze_after := coalesce($9, v_old.analyze_after);
    IF $10 IS NOT NULL THEN
        IF $10 NOT IN ('refuse', 'allow') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid referenced_retention %L', $10),
                HINT = 'Pass ''refuse'' (retention is refused while other tables reference the parent) or ''allow''.';
        END IF;
        v_new.referenced_retention := $10;
    END IF;
    v_new.reconcile := coalesce($11, v_old.reconcile);
    IF $12 IS TRUE AND (
        (SELECT c.relrowsecurity FROM pg_class AS c WHERE c.oid = p_parent)
        OR EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attacl IS NOT NULL)
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = 'It uses row-level security or column privileges; a grant on a partition would bypass them.',
            HINT = 'Grant access on the parent only: queries through the parent need no grant on partitions.';
    END IF;
    v_new.propagate_grants := coalesce($12, v_old.propagate_grants);
    IF $13 IS NOT NULL THEN
        IF $13 < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('move_large_bytes must not be negative, got %s', $13),
                HINT = 'Pass a size in bytes, such as 104857600 (100 MB).';
        END IF;
        v_new.move_large_bytes := $13;
    END IF;

    IF v_new.retention_action = 'archive' AND v_new.archive_schema IS NULL AND v_new.archive_tablespace IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('retention_action ''archive'' for table %s needs an archive schema or tablespace', p_parent),
            HINT = 'Pass archive_schema and/or archive_tablespace, or choose ''detach'' or ''drop''.';
    END IF;

    RETURN v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._merge_policy(pgpart.config, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint) IS
'Validates policy values (22023, 3F000, 42501, 0A000) and returns the policy row with them merged in; writes nothing.';

CREATE FUNCTION pgpart.set_policy(
    parent regclass,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL
)
RETURNS SETOF pgpart.config
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_old pgpart.config;
    v_new pgpart.config;
BEGIN
    v_old := pgpart._managed($1);
    v_new := pgpart._merge_policy(v_old, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);
    IF v_new IS DISTINCT FROM v_old THEN
        UPDATE pgpart.config AS c SET
            retention = v_new.retention,
            retention_action = v_new.retention_action,
            archive_schema = v_new.archive_schema,
            archive_tablespace = v_new.archive_tablespace,
            tablespace = v_new.tablespace,
            premake = v_new.premake,
            automatic_maintenance = v_new.automatic_maintenance,
            analyze_after = v_new.analyze_after,
            referenced_retention = v_new.referenced_retention,
            reconcile = v_new.reconcile,
            propagate_grants = v_new.propagate_grants,
            move_large_bytes = v_new.move_large_bytes,
            updated_at = now()
        WHERE c.parent = $1
        RETURNING * INTO v_new;
        PERFORM pgpart._log($1, 'set_policy', 'ok', jsonb_build_object('old', to_jsonb(v_old), 'new', to_jsonb(v_new)));
    END IF;
    RETURN NEXT v_new;
END
$body$;

COMMENT ON FUNCTION pgpart.set_policy(regclass, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint) IS
'Changes the lifecycle policy of a managed parent (retention, archive schema and tablespace, premake, maintenance switches); NULL keeps a value. Returns the policy row.';
-- source: sql/src/62_expired.sql
-- pgpart._expired_partitions(parent, now_at, timeout): the partitions of a
-- managed parent that retention removes: their whole range ends at or before
-- now_at minus the retention (calendar arithmetic in the configured zone),
-- or for integer keys at or below the highest key value minus the retention
-- distance. Never the default, never one already detaching, never the newest
-- partition by bound. Catalog only, except the integer key probe (each read
-- waits at most TIMEOUT).
CREATE FUNCTION pgpart._expired_partitions(p_parent regclass, p_now_at timestamptz, p_timeout interval)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_cutoff numeric;
    v_max numeric;
BEGIN
    -- an infinite now_at would expire every partition but the newest (every
    -- retention path comes through here: refuse it, 22023 naming now_at)
    PERFORM pgpart._check_args(coalesce(p_timeout, interval '1s'), 0, p_now_at);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.retention IS NULL THEN
        RETURN;
    END IF;
    IF v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_max := pgpart._max_key(p_parent, v_cfg.key_column, p_timeout);
        IF v_max IS NULL THEN
            RETURN;  -- an empty table has nothing to expire
        END IF;
        v_cutoff := v_max - v_cfg.retention::numeric;
    ELSIF v_cfg.key_type = 'timestamptz'::regtype THEN
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval)
                                       AT TIME ZONE v_cfg.time_zone);
    ELSE
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval));
    END IF;
    RETURN QUERY
    SELECT p.partition, p.lower_coord, p.upper_coord
    FROM pgpart._partitions(p_parent) AS p
    WHERE
        NOT p.is_default
        AND NOT p.detach_pending
        AND p.upper_coord <= v_cutoff
        AND p.upper_coord < (SELECT max(q.upper_coord) FROM pgpart._partitions(p_parent) AS q WHERE NOT q.is_default)
    ORDER BY p.lower_coord;
END
$body$;

COMMENT ON FUNCTION pgpart._expired_partitions(regclass, timestamptz, interval) IS
'Partitions of a managed parent whose whole range lies beyond its retention (never the default, the newest or a detaching one).';
-- source: sql/src/63_detach.sql
-- Detaching, the first half of retention (DESIGN §3, §4). A plain DETACH
-- holds ACCESS EXCLUSIVE on the parent until commit, so each detach is its
-- own transaction and nothing that could wait (archiving, dropping) shares
-- it. pgpart.log doubles as the journal that links a detached table to the
-- rest of its retention (archive or drop in a later transaction); every
-- journal entry is re-checked against the catalog before it is acted on.

-- pgpart._log_journal(parent, action, table, name, owner, detail): appends
-- a retention journal row to pgpart.log (columns journal_oid, journal_name,
-- journal_owner). For action 'detach' row-level security admits it only
-- while TABLE is a partition of PARENT with that name and owner; 'archive',
-- 'drop' and 'discard' rows close the entry of TABLE.
CREATE FUNCTION pgpart._log_journal(
    p_parent regclass,
    p_action text,
    p_table oid,
    p_name name,
    p_owner oid,
    p_detail jsonb
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.log (parent, parent_name, action, outcome, detail, journal_oid, journal_name, journal_owner)
    VALUES (p_parent, p_parent::text, p_action, 'ok', p_detail, p_table, p_name, p_owner);
END;

COMMENT ON FUNCTION pgpart._log_journal(regclass, text, oid, name, oid, jsonb) IS
'Appends a retention journal row (with the table''s identity) to pgpart.log in the name of the current role.';

-- pgpart._journal_detach(parent, partition): records that PARTITION is being
-- detached by retention and what must follow (the policy's action then).
-- The one writer of journal entries: it verifies, at this moment, that
-- PARTITION is a partition of PARENT (attached or detach pending) and
-- records its OID, name and owner, so an entry can never name a table that
-- pgpart did not find in the parent (nor one that does not exist yet), and
-- an entry is void once ownership changes. A partition owned by another role
-- than the parent's gets a history row only: retention never archives or
-- drops it.
CREATE FUNCTION pgpart._journal_detach(p_parent regclass, p_partition regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner oid;
    v_part_owner oid;
    v_name name;
    v_cfg pgpart.config;
    v_same boolean;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT c.relowner, c.relname INTO v_part_owner, v_name
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhrelid = p_partition AND i.inhparent = p_parent;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a partition of %s', p_partition, p_parent),
            DETAIL = 'Retention journals only a partition it is about to detach.',
            HINT = 'Run retention again: it plans from the catalog.';
    END IF;
    SELECT c.relowner INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    SELECT * INTO v_cfg FROM pgpart.config AS cfg WHERE cfg.parent = p_parent;
    v_same := v_part_owner = v_owner;
    PERFORM pgpart._log_journal(
        p_parent, 'detach',
        CASE WHEN v_same THEN p_partition::oid END,
        CASE WHEN v_same THEN v_name END,
        CASE WHEN v_same THEN v_owner END,
        jsonb_build_object(
            'partition_oid', p_partition::oid,
            'partition', p_partition::text,
            'bound', pg_get_expr((SELECT c.relpartbound FROM pg_class AS c WHERE c.oid = p_partition), 0),
            'then', CASE WHEN v_same THEN v_cfg.retention_action ELSE 'detach' END,
            'archive_schema', v_cfg.archive_schema,
            'archive_tablespace', v_cfg.archive_tablespace
        ) || CASE WHEN v_same THEN '{}'::jsonb
                  ELSE jsonb_build_object('kept', format('owned by %I, not by the owner of %s',
                                                         pg_get_userbyid(v_part_owner), p_parent)) END
    );
END
$body$;

COMMENT ON FUNCTION pgpart._journal_detach(regclass, regclass) IS
'Journals in pgpart.log that retention detaches a partition (verified to be one now, with its OID, name and owner) and the action that must follow.';

-- pgpart._detach_partition(parent, partition, timeout, retries): the SQL
-- path's detach: all locks first under the timeout with retries, then the
-- DETACH, journaled in the same transaction. The caller commits at once.
CREATE FUNCTION pgpart._detach_partition(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent, p_partition) AS l),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    PERFORM pgpart._journal_detach(p_parent, p_partition);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, p_partition);
END
$body$;

COMMENT ON FUNCTION pgpart._detach_partition(regclass, regclass, interval, integer) IS
'Detaches one partition (plain DETACH) after taking every lock it needs under a timeout with retries; journals it.';

-- pgpart._finalize_detach(parent, partition, timeout, retries): finishes a
-- DETACH ... CONCURRENTLY left pending by a timeout or a cancel.
CREATE FUNCTION pgpart._finalize_detach(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[
            format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)),
            format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent),
            format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition)
        ],
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s FINALIZE', p_parent, p_partition);
    PERFORM pgpart._log(p_parent, 'finalize', 'ok', jsonb_build_object('partition', p_partition::text));
END
$body$;

COMMENT ON FUNCTION pgpart._finalize_detach(regclass, regclass, interval, integer) IS
'Finishes a pending DETACH ... CONCURRENTLY (FINALIZE) under a lock timeout with retries.';

-- pgpart._journal(parent): the open retention journal entries of PARENT
-- whose archive or drop is still to come, each checked against the
-- catalog now. STATE is 'awaiting' (the table is detached and still the
-- one journaled: same OID, name and owner, and the parent still has that
-- owner), 'pending' (its DETACH CONCURRENTLY awaits FINALIZE) or 'stale'
-- (PROBLEM says why: gone, renamed, still attached, or an owner changed,
-- e.g. by REASSIGN OWNED): a stale entry is never acted on, only discarded.
-- Only rows that came through pgpart._journal_detach count: journal_oid
-- is set and row-level security verified it when it was written; older
-- rows and history rows without it are never honoured. An entry is open
-- until an 'archive', 'drop' or 'discard' row for its table follows it.
CREATE FUNCTION pgpart._journal(p_parent regclass)
RETURNS TABLE (
    entry bigint,
    detached oid,
    detached_name text,
    then_action text,
    archive_schema name,
    archive_tablespace name,
    state text,
    problem text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick calls it)
    RETURN QUERY
        SELECT
            l.id,
            l.journal_oid,
            coalesce(c.oid::regclass::text, l.detail ->> 'partition'),
            l.detail ->> 'then',
            (l.detail ->> 'archive_schema')::name,
            (l.detail ->> 'archive_tablespace')::name,
            CASE
                WHEN c.oid IS NULL OR pc.relowner <> l.journal_owner OR c.relowner <> l.journal_owner
                     OR c.relname <> l.journal_name OR c.relkind NOT IN ('r', 'p') THEN 'stale'
                WHEN c.relispartition AND EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN 'pending'
                WHEN c.relispartition THEN 'stale'
                ELSE 'awaiting'
            END,
            CASE
                WHEN c.oid IS NULL OR c.relkind NOT IN ('r', 'p') THEN
                    format('table %s (OID %s) no longer exists', l.detail ->> 'partition', l.journal_oid)
                WHEN pc.relowner <> l.journal_owner THEN
                    format('the owner of %s is now %I, not %I who owned it when %s was detached', p_parent,
                           pg_get_userbyid(pc.relowner), pg_get_userbyid(l.journal_owner), c.oid::regclass)
                WHEN c.relowner <> l.journal_owner THEN
                    format('table %s is now owned by %I, not %I', c.oid::regclass, pg_get_userbyid(c.relowner),
                           pg_get_userbyid(l.journal_owner))
                WHEN c.relname <> l.journal_name THEN
                    format('table %s (OID %s) was %I when it was detached', c.oid::regclass, c.oid, l.journal_name)
                WHEN c.relispartition AND NOT EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN format('table %s is attached: the journaled detach did not happen', c.oid::regclass)
            END
        FROM (
            SELECT DISTINCT ON (j.journal_oid) j.id, j.journal_oid, j.journal_name, j.journal_owner, j.detail
            FROM pgpart.log AS j
            WHERE j.parent = p_parent AND j.action = 'detach' AND j.journal_oid IS NOT NULL
            ORDER BY j.journal_oid, j.id DESC
        ) AS l
        JOIN pg_class AS pc ON pc.oid = p_parent
        LEFT JOIN pg_class AS c ON c.oid = l.journal_oid
        WHERE
            l.detail ->> 'then' IN ('archive', 'drop')
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = p_parent
                    AND done.action IN ('archive', 'drop', 'discard')
                    AND done.journal_oid = l.journal_oid
                    AND done.id > l.id
            )
        ORDER BY l.id;
END
$body$;

COMMENT ON FUNCTION pgpart._journal(regclass) IS
'Open retention journal entries of a parent, each checked against the catalog: awaiting, pending (FINALIZE due) or stale (never acted on).';

-- pgpart._detached_awaiting(parent): tables detached by retention whose
-- archive or drop has not happened yet: the journal entries still valid.
CREATE FUNCTION pgpart._detached_awaiting(p_parent regclass)
RETURNS TABLE (detached regclass, then_action text, archive_schema name, archive_tablespace name)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.archive_schema, j.archive_tablespace
        FROM pgpart._journal(p_parent) AS j
        WHERE j.state = 'awaiting'
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._detached_awaiting(regclass) IS
'Tables detached by retention still awaiting their archive or drop (journal entries still valid in the catalog).';

-- pgpart._discard_journal(parent, entry, timeout, retries): closes a stale
-- journal entry (pgpart._journal) with a 'discard' row saying why, so it is
-- reported once and never acted on. Re-checks that the entry is stale now;
-- a valid or closed entry is left alone. Holds the parent's advisory lock,
-- so a client in the middle of a retention run is not disturbed.
CREATE FUNCTION pgpart._discard_journal(p_parent regclass, p_entry bigint, p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    j record;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))],
        p_timeout, p_retries);
    SELECT * INTO j FROM pgpart._journal(p_parent) AS x WHERE x.entry = p_entry AND x.state = 'stale';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RAISE NOTICE 'pgpart: discarding the retention journal entry of % (%): %', j.detached_name, j.then_action, j.problem;
    PERFORM pgpart._log_journal(
        p_parent, 'discard', j.detached, NULL, NULL,
        jsonb_build_object('entry', p_entry, 'partition_oid', j.detached, 'table', j.detached_name,
                           'then', j.then_action, 'reason', j.problem));
END
$body$;

COMMENT ON FUNCTION pgpart._discard_journal(regclass, bigint, interval, integer) IS
'Closes a stale retention journal entry (its table gone, renamed, attached or its owner changed) without acting on it; logs why.';
-- source: sql/src/64_archive.sql
-- The second half of retention, always in a later transaction than the
-- detach: the detached table is no longer part of the parent, so the
-- ACCESS EXCLUSIVE it takes here blocks no writer of the parent.

-- pgpart._require_detached(parent, table): pgpart archives or drops only a
-- table its retention detached: one with a valid journal entry
-- (pgpart._journal: written by pgpart._journal_detach while the table was a
-- partition of PARENT, and still the same table, with the same owner as the
-- parent). Nothing else, whoever calls and whatever pgpart.log says
-- otherwise: the owner may write log rows, so only verified entries count.
CREATE FUNCTION pgpart._require_detached(p_parent regclass, p_table regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_state text;
    v_problem text;
BEGIN
    IF (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_table)
       IS DISTINCT FROM (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('table %s is not owned by the owner of %s', p_table, p_parent),
            HINT = 'pgpart archives or drops only tables detached from the parent, owned by its owner.';
    END IF;
    IF (SELECT c.relispartition FROM pg_class AS c WHERE c.oid = p_table) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is still a partition', p_table),
            HINT = 'Detach it first; pgpart archives or drops only detached tables.';
    END IF;
    SELECT j.state, j.problem INTO v_state, v_problem
    FROM pgpart._journal(p_parent) AS j WHERE j.detached = p_table::oid
    ORDER BY j.entry DESC LIMIT 1;
    IF v_state IS DISTINCT FROM 'awaiting' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s was not detached from %s by pgpart retention', p_table, p_parent),
            DETAIL = coalesce('Its journal entry is void: ' || v_problem || '.',
                              'No valid retention journal entry names it.'),
            HINT = 'pgpart archives or drops only tables its own retention detached; archive or drop this one by hand.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_detached(regclass, regclass) IS
'Raises 42501 unless the table belongs to the parent''s owner, 55000 while it is attached or when no valid retention journal entry names it.';

-- pgpart._archive_partition(parent, table, schema, tablespace, timeout,
-- retries): moves a detached table to the archive schema and/or tablespace,
-- its indexes too. A tablespace move rewrites the table under ACCESS
-- EXCLUSIVE on that table only.
CREATE FUNCTION pgpart._archive_partition(
    p_parent regclass,
    p_table regclass,
    p_schema name,
    p_tablespace name,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_name name;
    v_index regclass;
    v_rel regclass;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    PERFORM pgpart._require_detached(p_parent, p_table);
    -- the destination, checked now whoever runs this and wherever it came
    -- from (policy, journal, plan): never a system schema, pgpart or
    -- pg_global, only where the parent's owner may create
    PERFORM pgpart._require_archive_schema(p_parent, p_schema);
    PERFORM pgpart._require_owner_tablespace(p_parent, p_tablespace, 'archive tablespace');
    SELECT c.relname INTO v_name FROM pg_class AS c WHERE c.oid = p_table;
    IF p_schema IS NOT NULL AND to_regclass(format('%I.%I', p_schema, v_name)) IS NOT NULL
       AND to_regclass(format('%I.%I', p_schema, v_name)) <> p_table THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %I.%I already exists', p_schema, v_name),
            DETAIL = format('Archiving %s would move it there.', p_table),
            HINT = 'Rename or drop the table in the archive schema, then run retention again.';
    END IF;
    -- without ONLY: a sub-partitioned table locks its leaves too
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table)], p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- A sub-partitioned table moves with all its levels: SET SCHEMA and SET
    -- TABLESPACE on a partitioned table touch only that table.
    FOR v_rel IN
        WITH RECURSIVE tree AS (
            SELECT p_table::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel::regclass FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    LOOP
        IF p_schema IS NOT NULL AND p_schema <> (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n
                                                 ON n.oid = c.relnamespace WHERE c.oid = v_rel) THEN
            EXECUTE format('ALTER TABLE %s SET SCHEMA %I', v_rel, p_schema);
        END IF;
        IF p_tablespace IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s SET TABLESPACE %I', v_rel, p_tablespace);
            FOR v_index IN SELECT i.indexrelid::regclass FROM pg_index AS i WHERE i.indrelid = v_rel ORDER BY 1 LOOP
                EXECUTE format('ALTER INDEX %s SET TABLESPACE %I', v_index, p_tablespace);
            END LOOP;
        END IF;
    END LOOP;
    PERFORM pgpart._log_journal(p_parent, 'archive', p_table::oid, NULL, NULL,
                                jsonb_build_object('partition_oid', p_table::oid, 'table', p_table::text,
                                                   'schema', p_schema, 'tablespace', p_tablespace));
END
$body$;

COMMENT ON FUNCTION pgpart._archive_partition(regclass, regclass, name, name, interval, integer) IS
'Moves a detached partition and its indexes to the archive schema and/or tablespace, under a lock timeout with retries.';

-- pgpart._drop_detached(parent, table, timeout, retries): drops a table
-- retention detached earlier.
CREATE FUNCTION pgpart._drop_detached(p_parent regclass, p_table regclass, p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_name text := p_table::text;
    v_oid oid := p_table::oid;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    PERFORM pgpart._require_detached(p_parent, p_table);
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table)], p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('DROP TABLE %s', p_table);
    PERFORM pgpart._log_journal(p_parent, 'drop', v_oid, NULL, NULL,
                                jsonb_build_object('partition_oid', v_oid, 'table', v_name));
END
$body$;

COMMENT ON FUNCTION pgpart._drop_detached(regclass, regclass, interval, integer) IS
'Drops a table that retention detached earlier, under a lock timeout with retries.';
-- source: sql/src/65_retention_plan.sql
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
CREATE FUNCTION pgpart._retention_plan(
    p_parent regclass,
    p_now_at timestamptz,
    p_online boolean,
    p_timeout interval,
    p_retries integer
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
        FOR r IN SELECT e.partition FROM pgpart._expired_partitions(p_parent, p_now_at, p_timeout) AS e LOOP
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

COMMENT ON FUNCTION pgpart._retention_plan(regclass, timestamptz, boolean, interval, integer) IS
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
-- source: sql/src/66_detach_and_archive.sql
-- pgpart.detach_and_archive(parent, ...): retention for one managed parent.
-- With DRY_RUN it returns the whole plan (pgpart._retention_plan); with
-- ONLINE the plan uses DETACH ... CONCURRENTLY, which only a client at top
-- level can run (the Python client does). Otherwise it performs exactly ONE
-- step, the first of the plan, and returns it: each step must commit before
-- the next (a plain DETACH holds ACCESS EXCLUSIVE on the parent until
-- commit), so call it once per transaction, or use the procedure below.
CREATE FUNCTION pgpart.detach_and_archive(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    st pgpart.step;
BEGIN
    PERFORM pgpart._check_args($2, $3, $4);
    IF $5 THEN
        RETURN QUERY SELECT * FROM pgpart._retention_plan($1, $4, $6, $2, $3);
        RETURN;
    END IF;
    IF $6 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'online retention cannot run inside a function',
            DETAIL = 'DETACH ... CONCURRENTLY must run at top level, outside any transaction block.',
            HINT = 'Use dry_run => true, online => true and run each step in its own transaction '
                   '(pgpart.Client.detach_and_archive does), or call this without online.';
    END IF;
    SELECT * INTO st FROM pgpart._retention_plan($1, $4, false, $2, $3) AS s
    WHERE s.action <> 'analyze' ORDER BY s.step LIMIT 1;
    IF st.step IS NULL THEN
        RETURN;
    END IF;
    EXECUTE st.statement;
    RETURN NEXT st;
END
$body$;

COMMENT ON FUNCTION pgpart.detach_and_archive(regclass, interval, integer, timestamptz, boolean, boolean) IS
'Retention for one managed parent: dry_run returns the plan (online: with DETACH CONCURRENTLY for a client); otherwise performs exactly one step, the first due, and returns it.';

-- pgpart.detach_and_archive_proc(parent, ...): the whole retention plan of
-- a parent, one step per transaction (CALL it outside a transaction block).
-- A procedure cannot carry SET clauses, so it re-pins search_path after
-- every COMMIT and runs its DDL only through pgpart's helper functions.
CREATE PROCEDURE pgpart.detach_and_archive_proc(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
LANGUAGE plpgsql
AS $body$
DECLARE
    st pgpart.step;
    v_done integer := 0;
    v_analyze boolean;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    LOOP
        SELECT * INTO st FROM pgpart.detach_and_archive($1, $2, $3, $4) AS s;
        EXIT WHEN st.step IS NULL;
        v_done := v_done + 1;
        RAISE NOTICE 'pgpart: % %', st.action, st.partition;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF v_done > 100000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = format('retention of %s did not finish after %s steps', $1, v_done);
        END IF;
    END LOOP;
    SELECT c.analyze_after INTO v_analyze FROM pgpart.config AS c WHERE c.parent = $1;
    IF v_done > 0 AND v_analyze THEN
        PERFORM pgpart._analyze_bounded($1, $2);  -- bounded; a failure is logged, not raised
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart.detach_and_archive_proc(regclass, interval, integer, timestamptz) IS  -- noqa: LT01
'Runs the whole retention plan of a managed parent, committing after every step (detach, then archive or drop).';

-- pgpart._analyze(parent): ANALYZE of a partitioned parent, which
-- autovacuum never does, so the planner keeps row estimates for it.
CREATE FUNCTION pgpart._analyze(p_parent regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    EXECUTE format('ANALYZE %s', p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._analyze(regclass) IS
'ANALYZE of a partitioned parent (autovacuum never analyzes partitioned tables).';
-- source: sql/src/67_run_maintenance.sql
-- Maintenance of every managed parent (DESIGN §3, §6). Each parent's work is
-- done with its owner's rights, only while the policy's author still owns
-- the table, and inside its own subtransaction: a failure is logged (in
-- pgpart.log and as last_error on the policy row) and the others go on.

-- pgpart._maintenance_parents(parent): the parents to maintain: the one
-- given, or every managed parent with automatic maintenance on.
CREATE FUNCTION pgpart._maintenance_parents(p_parent regclass)
RETURNS SETOF regclass
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT c.parent FROM pgpart.config AS c
    JOIN pg_class AS pc ON pc.oid = c.parent
    WHERE
        c.strategy = 'range'
        AND ((p_parent IS NULL AND c.automatic_maintenance) OR c.parent = p_parent)
    ORDER BY c.parent;
$body$;

COMMENT ON FUNCTION pgpart._maintenance_parents(regclass) IS
'The parents maintenance acts on: the given one, or every managed parent with automatic maintenance on.';

-- pgpart._may_maintain(parent): NULL when maintenance may act on PARENT,
-- else the reason it may not: the policy's author no longer owns the table,
-- or the caller neither owns it nor is a superuser.
CREATE FUNCTION pgpart._may_maintain(p_parent regclass)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    -- PL/pgSQL, not SQL: called for every parent on every tick, its plan is
    -- cached for the session instead of made again on each call
    RETURN (
        SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = cfg.policy_author)
                 OR NOT pg_has_role(cfg.policy_author, c.relowner, 'USAGE')
                THEN format('policy author %I no longer owns table %s', cfg.policy_author, p_parent)
            WHEN NOT pg_has_role(current_user, c.relowner, 'USAGE')
                 AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
                THEN format('role %I may not maintain table %s', current_user, p_parent)
        END
        FROM pgpart.config AS cfg JOIN pg_class AS c ON c.oid = cfg.parent
        WHERE cfg.parent = p_parent
    );
END
$body$;

COMMENT ON FUNCTION pgpart._may_maintain(regclass) IS
'NULL if maintenance may act on the parent, else why not (policy author no longer owner, or caller not permitted).';

-- pgpart._become_owner(parent): a superuser running maintenance acts as the
-- table's owner (SET LOCAL ROLE), so it never does what the owner could
-- not (set_config('role', ..., true) is SET LOCAL ROLE). Returns the role to
-- switch back to. A subtransaction that fails
-- reverts the role by itself.
CREATE FUNCTION pgpart._become_owner(p_parent regclass)
RETURNS name
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name := current_user;
    v_owner name;
BEGIN
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    IF NOT pg_has_role(v_caller, v_owner, 'USAGE') OR
       ((SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = v_caller) AND v_caller <> v_owner) THEN
        PERFORM set_config('role', v_owner, true);
    END IF;
    RETURN v_caller;
END
$body$;

COMMENT ON FUNCTION pgpart._become_owner(regclass) IS
'Switches a superuser to the owner of the parent for its maintenance; returns the role to switch back to.';

-- pgpart._record_failure(parent, action, sqlstate, message): logs a failed
-- parent and keeps the error on its policy row for check().
CREATE FUNCTION pgpart._record_failure(p_parent regclass, p_action text, p_sqlstate text, p_message text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._log(p_parent, p_action, 'error', jsonb_build_object('sqlstate', p_sqlstate, 'message', p_message));
    UPDATE pgpart.config AS c
    SET last_error = format('%s: %s', p_sqlstate, p_message), last_error_at = now()
    WHERE c.parent = p_parent;
EXCEPTION WHEN OTHERS THEN
    -- called from a failure handler: failing to record (the lock table still
    -- full, the table dropped meanwhile) must not abort the run for the others
    RAISE WARNING 'pgpart: could not record the failure of % on %: % (%)', p_action, p_parent, SQLERRM, SQLSTATE;
END
$body$;

COMMENT ON FUNCTION pgpart._record_failure(regclass, text, text, text) IS
'Logs a failed maintenance action and records it as last_error on the policy row.';

-- pgpart.run_maintenance(parent, now_at, ...): the lock-light part of
-- maintenance, in one transaction: finish pending detaches, create the
-- partitions ahead (at most 200 per run: a run after a long pause catches
-- up over several runs, the slot of now first), bring partitions made by
-- others in step (reconcile); report the retention that is due (its detaches must
-- commit one by one: run_maintenance_proc or the Python client do them).
-- When nothing is due it reads only the catalog and takes no lock.
-- Every parent's work runs in subtransactions of its own: any failure,
-- statement timeouts (57014, see pgpart._statement_timed_out) and a full
-- lock table (53200) included, rolls back that parent's work only, is
-- logged and reported, and the others go on; a user's cancel stops the run.
CREATE FUNCTION pgpart.run_maintenance(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS TABLE (parent_table regclass, action text, partition text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_due boolean;
    -- rows of a parent's work, returned only once that work has succeeded
    v_actions text [];
    v_partitions text [];
    v_details text [];
    v_timed_out boolean;
    r record;
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN;  -- a standby has nothing to maintain
    END IF;
    PERFORM pgpart._check_args($3, $4, $2);
    IF $1 IS NOT NULL THEN
        PERFORM pgpart._managed($1);
    END IF;
    FOR v_parent IN SELECT * FROM pgpart._maintenance_parents($1) LOOP
        parent_table := v_parent;
        v_reason := pgpart._may_maintain(v_parent);
        IF v_reason IS NOT NULL THEN
            action := 'skipped';
            partition := NULL;
            detail := v_reason;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- Pending detaches first, in a subtransaction of their own: a later
        -- failure of this parent must not undo a finished detach.
        FOR r IN SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending LOOP
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                PERFORM pgpart._finalize_detach(v_parent, r.partition, $3, $4);
                PERFORM set_config('role', v_caller, true);
                action := 'finalized';
                partition := r.partition::text;
                detail := NULL;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE NOTICE 'pgpart: could not finish the detach of %: % %', r.partition, v_state, v_message;
                PERFORM pgpart._log(v_parent, 'finalize', CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    jsonb_build_object('partition', r.partition::text, 'sqlstate', v_state,
                                                       'message', v_message));
                action := CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END;
                partition := r.partition::text;
                detail := format('%s: %s', v_state, v_message);
                RETURN NEXT;
            END;
        END LOOP;
        v_actions := '{}';
        v_partitions := '{}';
        v_details := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else plan without locks first: when nothing is
            -- missing after all, no lock is taken.
            v_due := NOT pgpart._window_complete(v_parent, $2);
            IF v_due THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, $3, $2, NULL, 200) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due THEN
                FOR r IN
                    SELECT s.partition, s.lower_bound, s.upper_bound
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => $3, lock_retries => $4, now_at => $2,
                                                        max_new => 200) AS s
                LOOP
                    v_actions := v_actions || 'created'::text;
                    v_partitions := v_partitions || r.partition;
                    v_details := v_details || format('from %s to %s', r.lower_bound, r.upper_bound);
                END LOOP;
            END IF;
            FOR r IN SELECT e.partition FROM pgpart._expired_partitions(v_parent, $2, $3) AS e LOOP
                v_actions := v_actions || 'retention due'::text;
                v_partitions := v_partitions || r.partition::text;
                v_details := v_details || format('retention %s, then %s', v_cfg.retention, v_cfg.retention_action);
            END LOOP;
            -- detached earlier (an interrupted run), its archive or drop still to do
            FOR r IN SELECT a.detached, a.then_action FROM pgpart._detached_awaiting(v_parent) AS a LOOP
                v_actions := v_actions || 'retention due'::text;
                v_partitions := v_partitions || r.detached::text;
                v_details := v_details || format('detached, then %s', r.then_action);
            END LOOP;
            -- journal entries no longer valid: retention discards them (never acts on them)
            FOR r IN SELECT j.detached_name, j.problem FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale' LOOP
                action := 'retention due';
                partition := r.detached_name;
                detail := format('journal entry void, to discard: %s', r.problem);
                RETURN NEXT;
            END LOOP;
            PERFORM set_config('role', v_caller, true);
            IF v_cfg.last_error IS NOT NULL THEN
                UPDATE pgpart.config AS c SET last_error = NULL, last_error_at = NULL WHERE c.parent = v_parent;
            END IF;
            -- done: its rows are true now (a failure above would have undone them)
            FOR i IN 1 .. cardinality(v_actions) LOOP
                action := v_actions[i];
                partition := v_partitions[i];
                detail := v_details[i];
                RETURN NEXT;
            END LOOP;
        EXCEPTION
            WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
                RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_message;
                PERFORM pgpart._log(v_parent, 'maintenance', 'skipped', jsonb_build_object('sqlstate', '55P03',
                                                                                        'message', v_message));
                action := 'skipped';
                partition := NULL;
                detail := v_message;
                RETURN NEXT;
            WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                v_timed_out := v_state = '57014';
                RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                action := 'error';
                partition := NULL;
                detail := format('%s: %s', v_state, v_message);
                RETURN NEXT;
        END;
        -- Partitions made or changed by others, brought in step (reconcile) in
        -- a subtransaction of its own: its failure keeps what was created.
        -- (not after a statement timeout: the rest of that parent's work waits
        -- for the next run)
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent) THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                FOR r IN
                    SELECT x.partition, x.action, x.statement
                    FROM pgpart.reconcile(v_parent, lock_timeout => $3, lock_retries => $4) AS x
                LOOP
                    action := CASE WHEN r.action IN ('skipped large', 'skipped') THEN 'drift' ELSE 'reconciled' END;
                    partition := r.partition::text;
                    detail := r.action || coalesce(': ' || r.statement, '');
                    RETURN NEXT;
                END LOOP;
                PERFORM set_config('role', v_caller, true);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF v_state = '55P03' THEN
                    PERFORM pgpart._log(v_parent, 'reconcile', 'skipped',
                                        jsonb_build_object('sqlstate', v_state, 'message', v_message));
                ELSE
                    RAISE WARNING 'pgpart: reconcile of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'reconcile', v_state, v_message);
                END IF;
                action := CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END;
                partition := NULL;
                detail := format('reconcile: %s: %s', v_state, v_message);
                RETURN NEXT;
            END;
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(regclass, timestamptz, interval, integer) IS
'Lock-light maintenance in one transaction for one or every managed parent: finishes pending detaches, creates partitions ahead, reports retention due. A failing parent is logged and skipped.';

-- pgpart._retention_step(parent, now_at, timeout, retries): one retention
-- step of a parent, as its owner, for the procedure below; NULL when done.
CREATE FUNCTION pgpart._retention_step(
    p_parent regclass,
    p_now_at timestamptz,
    p_timeout interval,
    p_retries integer
)
RETURNS pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name;
    st pgpart.step;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    SELECT * INTO st FROM pgpart.detach_and_archive(p_parent, p_timeout, p_retries, p_now_at) AS s;
    PERFORM set_config('role', v_caller, true);
    RETURN st;
END
$body$;

COMMENT ON FUNCTION pgpart._retention_step(regclass, timestamptz, interval, integer) IS
'One retention step of a parent, performed as its owner; NULL when nothing is left.';

-- pgpart.run_maintenance_proc(parent, now_at, ...): all of maintenance, for
-- pg_cron and CALL: per parent, the lock-light part (run_maintenance), then
-- retention one step per transaction, then ANALYZE if the policy says so
-- (bounded, see pgpart._analyze_bounded). A parent that fails in any of
-- these (a statement timeout and a full lock table included) is logged and
-- the others go on; a user's cancel stops the run.
-- CALL it outside a transaction block. A procedure cannot carry SET
-- clauses: it re-pins search_path after each COMMIT and runs DDL only
-- through helper functions.
CREATE PROCEDURE pgpart.run_maintenance_proc(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parents regclass [];
    v_parent regclass;
    st pgpart.step;
    v_steps integer;
    v_state text;
    v_message text;
    v_fired text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.pg_is_in_recovery() THEN
        RETURN;
    END IF;
    PERFORM pgpart._check_args($3, $4, $2);
    IF $1 IS NOT NULL THEN
        PERFORM pgpart._managed($1);
    END IF;
    v_parents := ARRAY(SELECT pgpart._maintenance_parents($1));
    FOREACH v_parent IN ARRAY v_parents LOOP
        v_state := pgpart._may_maintain(v_parent);
        IF v_state IS NOT NULL THEN
            RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_state;
            CONTINUE;
        END IF;
        -- set when statement_timeout fires (pgpart._statement_timed_out)
        v_fired := pg_catalog.current_setting('pgpart.statement_timeout_fired', true);
        BEGIN
            -- isolated per parent inside; this catches what fails around it
            PERFORM pgpart.run_maintenance(v_parent, $2, $3, $4);
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;  -- a cancel stops the whole run
            END IF;
            RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
            PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
        END;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired THEN
            -- this parent took too long: the rest of its work waits for the next run
            RAISE NOTICE 'pgpart: % timed out: its retention waits for the next run', v_parent;
            CONTINUE;
        END IF;
        v_steps := 0;
        LOOP
            BEGIN
                st := pgpart._retention_step(v_parent, $2, $3, $4);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: retention of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'retention', v_state, v_message);
                st := NULL;
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            EXIT WHEN st.step IS NULL;
            v_steps := v_steps + 1;
            RAISE NOTICE 'pgpart: % % %', v_parent, st.action, st.partition;
            EXIT WHEN v_steps >= 100000;
        END LOOP;
        IF v_steps > 0 AND (SELECT c.analyze_after FROM pgpart.config AS c WHERE c.parent = v_parent)
           AND pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS NOT DISTINCT FROM v_fired THEN
            -- bounded, and its failure logged, never raised: it cannot abort the run
            PERFORM pgpart._analyze_bounded(v_parent, $3);
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END IF;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(regclass, timestamptz, interval, integer) IS  -- noqa: LT01
'All maintenance for pg_cron and CALL: per managed parent, pending detaches, partitions ahead, then retention one committed step at a time, then ANALYZE.';
-- source: sql/src/68_move_default.sql
-- Rows in the default partition (DESIGN §3): a range that has rows there
-- cannot get its partition until they move. One range per transaction:
-- lock the default (ACCESS EXCLUSIVE, under the lock timeout), build the
-- new table detached, move the rows with DELETE ... RETURNING into it,
-- attach, commit. Ranges still receiving live writes (the slot holding now
-- and later ones) go last.

-- pgpart.move_default_range(parent, ...): moves the rows of ONE range out of
-- the default partition into a new partition of the grid; returns it, or no
-- row when the default holds nothing more to move.
CREATE FUNCTION pgpart.move_default_range(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
RETURNS TABLE (partition text, lower_bound text, upper_bound text, rows_moved bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_default regclass;
    v_now_slot record;
    v_min numeric;
    v_grid record;
    v_slot record;
    v_lo_lit text;
    v_hi_lit text;
    v_step pgpart.step;
    v_table text;
    v_cols text;
    v_count bigint;
    v_where text;
    v_lo numeric;
    v_hi numeric;
    v_overlap regclass;
BEGIN
    PERFORM pgpart._check_args($2, $3, $4);
    v_cfg := pgpart._managed($1);
    -- ranges of the grid: a LIST or HASH parent has none (refused before any lock)
    IF v_cfg.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is partitioned by %s, not by RANGE', $1, upper(v_cfg.strategy)),
            DETAIL = 'move_default_range and move_default_rows move the rows of one range of the grid at a time.',
            HINT = 'For a LIST parent, create the new partition as a table, move the rows of its values into it '
                   '(DELETE ... RETURNING from the default partition), then ATTACH it, in one transaction.',
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = $1),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = $1);
    END IF;
    v_default := pgpart._default_partition($1);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    -- DELETE from the default and INSERT into the new table run triggers,
    -- constraints, index expressions ...: their code must be trusted
    PERFORM pgpart._guard_owner_code($1, 'move');
    PERFORM pgpart._acquire_locks(array(SELECT l.statement FROM pgpart._lock_statements($1) AS l), $2, $3);
    PERFORM pgpart._set_lock_timeout($2);

    -- The grid, and the slot holding now: it and later ones go last.
    v_grid := pgpart._grid($1, $4);
    v_now_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                               coalesce(v_grid.now_coord, 'Infinity'::numeric));

    -- The lowest row below the live ranges first, else the lowest of all
    -- (index probes on the key).
    EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, min(%I)::text) FROM ONLY %s WHERE %I < %s',
                   v_cfg.key_type, v_cfg.key_column, v_default, v_cfg.key_column,
                   pgpart._coord_to_literal(v_cfg.key_type, v_now_slot.lo))
    INTO v_min;
    IF v_min IS NULL THEN
        EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, min(%I)::text) FROM ONLY %s',
                       v_cfg.key_type, v_cfg.key_column, v_default)
        INTO v_min;
    END IF;
    IF v_min IS NULL THEN
        RETURN;
    END IF;
    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_min);
    v_lo_lit := pgpart._coord_to_literal(v_cfg.key_type, v_slot.lo);
    v_hi_lit := pgpart._coord_to_literal(v_cfg.key_type, v_slot.hi);

    v_lo := CASE WHEN v_lo_lit = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
    v_hi := CASE WHEN v_hi_lit = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;
    SELECT p.partition INTO v_overlap FROM pgpart._partitions($1) AS p
    WHERE NOT p.is_default AND p.lower_coord < v_hi AND p.upper_coord > v_lo
    LIMIT 1;
    IF v_overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('cannot create a partition of %s for the rows of the default partition from %s to %s',
                             $1, v_lo_lit, v_hi_lit),
            DETAIL = format('Partition %s, off the grid, overlaps that range.', v_overlap),
            HINT = 'Move those rows by hand, or detach the overlapping partition.';
    END IF;
    SELECT format('%I.%I', n.nspname, pgpart._relation_name(c.relname,
                  pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, v_lo)))
    INTO v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = $1;
    IF to_regclass(v_table) IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %s already exists', v_table),
            HINT = 'Rename or drop that relation, then move the rows again.';
    END IF;

    -- The partition for that slot, built as create_range_partitions builds
    -- one; the rows move into it just before it joins the parent.
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            $1, v_table, format('FOR VALUES FROM (%s) TO (%s)', v_lo_lit, v_hi_lit),
            pgpart._target_tablespace($1, v_cfg.tablespace), v_cfg.reloptions, 1, v_cfg.subpartition) AS s
        ORDER BY s.step
    LOOP
        IF v_step.action = 'attach' THEN
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
            FROM pg_attribute AS a
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
            v_where := concat_ws(' AND ',
                                 CASE WHEN v_lo_lit <> 'MINVALUE' THEN format('%I >= %s', v_cfg.key_column, v_lo_lit) END,
                                 CASE WHEN v_hi_lit <> 'MAXVALUE' THEN format('%I < %s', v_cfg.key_column, v_hi_lit) END);
            EXECUTE format('WITH moved AS (DELETE FROM ONLY %s WHERE %s RETURNING %s) '
                           'INSERT INTO %s (%s) SELECT %s FROM moved',
                           v_default, v_where, v_cols, v_table, v_cols, v_cols);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            partition := v_table;
            lower_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_lo);
            upper_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_hi);
            rows_moved := v_count;
        END IF;
        EXECUTE v_step.statement;
    END LOOP;
    PERFORM pgpart._log($1, 'move_default_range', 'ok',
                        jsonb_build_object('partition', v_table, 'rows', v_count));
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_range(regclass, interval, integer, timestamptz) IS
'Moves the rows of one range out of the default partition into a new partition of the grid (one transaction); returns it, or nothing when the default holds no more rows.';

-- pgpart.move_default_rows(parent, ...): moves every range out of the
-- default partition, one committed transaction per range, with a NOTICE per
-- range and a final count. CALL it outside a transaction block.
CREATE PROCEDURE pgpart.move_default_rows(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
LANGUAGE plpgsql
AS $body$
DECLARE
    r record;
    v_total bigint := 0::bigint;
    v_ranges integer := 0;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    LOOP
        SELECT * INTO r FROM pgpart.move_default_range($1, $2, $3, $4) AS m;
        EXIT WHEN r.partition IS NULL;
        v_total := v_total + r.rows_moved;
        v_ranges := v_ranges + 1;
        RAISE NOTICE 'pgpart: moved % rows into % (% to %)', r.rows_moved, r.partition, r.lower_bound, r.upper_bound;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    RAISE NOTICE 'pgpart: moved % rows out of the default partition of % into % partitions', v_total, $1, v_ranges;
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(regclass, interval, integer, timestamptz) IS  -- noqa: LT01
'Moves all rows out of the default partition into partitions of the grid, one committed transaction per range.';
-- source: sql/src/69_set_tablespace.sql
-- pgpart.set_tablespace(partition, tablespace, ...): moves a partition and
-- all its indexes to TABLESPACE (seed rule: a partition's local indexes
-- follow its tablespace). This is a BLOCKING REWRITE of that partition: it
-- holds ACCESS EXCLUSIVE on it while the files are copied, and every query
-- on the parent that is not pruned to other partitions waits meanwhile.
-- The lock itself is taken under the lock timeout with retries.
CREATE FUNCTION pgpart.set_tablespace(
    partition regclass,
    tablespace name,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_kind "char";
    v_index regclass;
    v_n integer := 1;
    st pgpart.step;
BEGIN
    PERFORM pgpart._require_owner($1);
    SELECT c.relkind INTO v_kind FROM pg_class AS c WHERE c.oid = $1;
    IF v_kind <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('%s is not a plain table', $1),
            HINT = 'Move each leaf partition of a partitioned partition on its own.';
    END IF;
    -- a partition: its move is logged under its parent (refused before anything)
    IF NOT EXISTS (SELECT 1 FROM pg_inherits AS i
                   JOIN pg_partitioned_table AS pt ON pt.partrelid = i.inhparent
                   WHERE i.inhrelid = $1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', $1),
            DETAIL = 'pgpart.set_tablespace moves partitions of partitioned tables.',
            HINT = format('Move a table of your own with ALTER TABLE %s SET TABLESPACE ... (a blocking rewrite).', $1),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = $1),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = $1);
    END IF;
    IF $2 IS NULL OR NOT EXISTS (SELECT 1 FROM pg_tablespace AS t WHERE t.spcname = $2) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %s does not exist', coalesce(quote_ident($2), 'NULL')),
            HINT = 'Pass the name of an existing tablespace.';
    END IF;
    PERFORM pgpart._check_args($3, $4, now());
    v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'lock',
                              format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', $1),
                              format('ACCESS EXCLUSIVE on %s', $1), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'set tablespace',
                              format('ALTER TABLE %s SET TABLESPACE %I', $1, $2),
                              format('ACCESS EXCLUSIVE on %s while its files are copied', $1), false)::pgpart.step;
    FOR v_index IN SELECT i.indexrelid::regclass FROM pg_index AS i WHERE i.indrelid = $1 ORDER BY 1 LOOP
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'set index tablespace',
                                  format('ALTER INDEX %s SET TABLESPACE %I', v_index, $2),
                                  format('ACCESS EXCLUSIVE on %s and %s while its files are copied', v_index, $1),
                                  false)::pgpart.step;
    END LOOP;
    IF NOT $5 THEN
        PERFORM pgpart._run_steps(v_steps, $3, $4);
        PERFORM pgpart._log(
            (SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = $1),
            'set_tablespace', 'ok', jsonb_build_object('partition', $1::text, 'tablespace', $2));
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.set_tablespace(regclass, name, interval, integer, boolean) IS
'Moves a partition and all its indexes to a tablespace: a blocking rewrite of that partition, its lock taken under a timeout with retries. dry_run returns the plan.';
-- source: sql/src/70_check.sql
-- pgpart.check(parent, now_at): compares policy with reality and returns
-- findings, each with a ready-to-run fix where one exists. Never raises for
-- a finding and never waits for a lock: it reads the catalog, and the few
-- reads of table data (rows in the default partition, the highest integer
-- key) run under a 10 ms lock timeout; what it could not read is reported
-- as a finding of its own.
CREATE FUNCTION pgpart.check(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_parent regclass;
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_reach numeric;
    v_default regclass;
    v_has_rows boolean;
    v_now numeric;
    v_at text;
    v_state text;
    v_message text;
BEGIN
    PERFORM pgpart._check_args(interval '1s', 0, $2);
    -- a fix acts as of the same reference time as the check that found it
    v_at := CASE WHEN $2 <> now() THEN format(', now_at => %L', $2) ELSE '' END;
    IF $1 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = $1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', $1),
            HINT = 'Call pgpart.create_range_partitions for it first.';
    END IF;

    -- The event trigger: without it, partitions made or changed by other tools
    -- come in step only through maintenance or pgpart.reconcile.
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger AS e
                   WHERE e.evtname = 'pgpart_ddl_command_end' AND e.evtenabled <> 'D'
                     AND e.evtfoid = to_regprocedure('pgpart._ddl_command_end()'))
       AND EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.reconcile AND ($1 IS NULL OR c.parent = $1)) THEN
        RETURN QUERY SELECT 'info', $1, NULL::regclass,
            'the event trigger pgpart_ddl_command_end is not active: partitions made or changed by other tools are '
            'brought in step only by maintenance or pgpart.reconcile',
            CASE WHEN EXISTS (SELECT 1 FROM pg_event_trigger AS e WHERE e.evtname = 'pgpart_ddl_command_end')
                 THEN 'ALTER EVENT TRIGGER pgpart_ddl_command_end ENABLE;  -- as a superuser'
                 ELSE 'CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end WHEN TAG IN (''CREATE TABLE'', '
                      '''ALTER TABLE'', ''CREATE INDEX'', ''ALTER INDEX'') EXECUTE FUNCTION pgpart._ddl_command_end();  '
                      '-- as a superuser' END;
    END IF;

    -- Policies whose table is gone.
    RETURN QUERY
    SELECT 'warning', NULL::regclass, NULL::regclass,
           format('policy for a table that no longer exists (OID %s)', c.parent::oid),
           format('DELETE FROM pgpart.config WHERE parent = %s;', c.parent::oid)
    FROM pgpart.config AS c
    WHERE $1 IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS pc WHERE pc.oid = c.parent);

    FOR v_parent IN
        SELECT c.parent FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE $1 IS NULL OR c.parent = $1 ORDER BY c.parent
    LOOP
      -- Each parent in a block of its own: one whose check fails (a statement
      -- timeout, the lock table full, a broken policy row) is reported as a
      -- finding and the others are still checked (57014: see
      -- pgpart._statement_timed_out; a cancel stops the whole check).
      BEGIN
        SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
        parent_table := v_parent;

        -- Owner code that the caller may not run (docs/security.md): pgpart
        -- refuses the work that would run it, so this parent's maintenance
        -- and fixes must run in a session authenticated as its owner.
        IF NOT pgpart._trusted_for(v_parent) THEN
            RETURN QUERY
            SELECT 'warning', v_parent, NULL::regclass,
                   format('pgpart refuses to %s this table as role %I: it would run code of role %s: %s',
                          CASE w.work WHEN 'move' THEN 'maintain, or move the rows of the default partition of,'
                                      ELSE 'maintain' END,
                          session_user, string_agg(DISTINCT quote_ident(u.function_owner), ', '),
                          string_agg(u.description, '; ' ORDER BY u.description)),
                   format('-- run pgpart for this table in a session authenticated as %I, e.g. SELECT '
                          'cron.schedule_in_database(''pgpart %s'', ''*/10 * * * *'', ''CALL pgpart.run_maintenance_proc()'', '
                          'current_database(), username => %L);', pg_get_userbyid(pc.relowner), pg_get_userbyid(pc.relowner),
                          pg_get_userbyid(pc.relowner))
            FROM pg_class AS pc
            CROSS JOIN LATERAL (
                SELECT CASE WHEN pgpart._default_partition(v_parent) IS NOT NULL THEN 'move'
                            WHEN v_cfg.strategy = 'range'
                                 AND v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                                THEN 'read'
                            ELSE 'ddl' END AS work
            ) AS w
            -- judged as maintenance meets it: a superuser's (or a stranger's)
            -- maintenance switches to the owner, a member's does not
            CROSS JOIN LATERAL pgpart._untrusted_code(
                v_parent, w.work, NULL,
                NOT pg_has_role(current_user, pc.relowner, 'USAGE')
                OR (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
            ) AS u
            WHERE pc.oid = v_parent
            GROUP BY w.work, pc.relowner;
        END IF;

        IF v_cfg.last_error IS NOT NULL THEN
            RETURN QUERY SELECT 'warning', v_parent, NULL::regclass,
                            format('last maintenance failed at %s: %s', v_cfg.last_error_at, v_cfg.last_error),
                            format('CALL pgpart.run_maintenance_proc(%L%s);', v_parent::text, v_at);
        END IF;

        -- A premake out of bounds (written into the policy row directly):
        -- maintenance refuses the parent; the runway is not walked.
        IF v_cfg.strategy = 'range' AND v_cfg.premake NOT BETWEEN 0 AND pgpart._max_premake() THEN
            RETURN QUERY SELECT 'urgent', v_parent, NULL::regclass,
                            format('premake %s is out of bounds (0 to %s): maintenance refuses this table',
                                   v_cfg.premake, pgpart._max_premake()),
                            format('SELECT * FROM pgpart.set_policy(%L, premake => %s);', v_parent::text,
                                   least(greatest(v_cfg.premake, 0), pgpart._max_premake()));
        END IF;

        -- Runway: the partitions must reach premake slots past the one of now.
        IF v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake() THEN
            v_grid := pgpart._grid(v_parent, $2);
            BEGIN
                v_now := coalesce(v_grid.now_coord,
                                  coalesce(pgpart._max_key(v_parent, v_cfg.key_column, interval '10ms'), 0));
                v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_now);
                FOR i IN 1 .. v_cfg.premake LOOP
                    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
                END LOOP;
                v_reach := pgpart._reach(v_parent, v_now);
                IF v_reach < v_slot.hi THEN
                    RETURN QUERY SELECT 
                        CASE WHEN v_reach <= v_now THEN 'urgent' ELSE 'warning' END, v_parent, NULL::regclass,
                        CASE WHEN v_reach <= v_now
                             THEN format('no partition holds the current key (%s): inserts fail or go to the default partition',
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now))
                             ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach),
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi)) END,
                        format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', v_parent::text,
                               v_cfg.partition_interval, v_at);
                END IF;
            EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
                RETURN QUERY SELECT 'info', v_parent, NULL::regclass,
                                'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
            END;

            -- Gaps between consecutive partitions.
            RETURN QUERY
            SELECT 'warning', v_parent, g.next_part,
                   format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                          pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi),
                          pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo), g.next_part),
                   format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', v_parent::text, v_cfg.partition_interval, v_at)
            FROM (
                SELECT p.upper_coord AS hi,
                       lead(p.lower_coord) OVER (ORDER BY p.lower_coord) AS next_lo,
                       lead(p.partition) OVER (ORDER BY p.lower_coord) AS next_part
                FROM pgpart._partitions(v_parent) AS p WHERE NOT p.is_default
            ) AS g
            WHERE g.next_lo > g.hi;

            -- Partitions off the grid (respected, but worth knowing).
            RETURN QUERY
            SELECT 'info', v_parent, p.partition,
                   format('partition off the grid of interval %L: its bounds are not one slot', v_cfg.partition_interval),
                   NULL::text
            FROM pgpart._partitions(v_parent) AS p
            CROSS JOIN LATERAL pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                                            p.lower_coord) AS s
            WHERE NOT p.is_default AND p.lower_coord > '-Infinity'::numeric
              AND (s.lo <> p.lower_coord OR (s.hi <> p.upper_coord AND p.upper_coord <> 'Infinity'::numeric));
        END IF;

        -- Rows in the default partition: every ATTACH scans it under ACCESS EXCLUSIVE.
        v_default := pgpart._default_partition(v_parent);
        IF v_default IS NOT NULL THEN
            BEGIN
                IF has_table_privilege(v_default, 'SELECT') THEN
                    PERFORM pgpart._guard_owner_code(v_parent, 'read');
                    EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s)', v_default) INTO v_has_rows;
                    IF v_has_rows THEN
                        RETURN QUERY SELECT 'urgent', v_parent, v_default,
                                        'the default partition holds rows: every new partition scans it under ACCESS EXCLUSIVE, '
                                        'and ranges with rows in it cannot be created',
                                        -- the move exists for the range grid only: a list value
                                        -- needs a partition chosen by hand (add_list_values)
                                        CASE WHEN v_cfg.strategy = 'range'
                                            THEN format('CALL pgpart.move_default_rows(%L%s);', v_parent::text, v_at) END;
                    END IF;
                ELSE
                    RETURN QUERY SELECT 'info', v_parent, v_default, 'rows in the default partition unknown: not permitted to read it',
                                    NULL::text;
                END IF;
            EXCEPTION
                WHEN lock_not_available THEN
                    RETURN QUERY SELECT 'info', v_parent, v_default, 'rows in the default partition unknown: it is locked',
                                        NULL::text;
                WHEN insufficient_privilege THEN
                    RETURN QUERY SELECT 'info', v_parent, v_default,
                                        'rows in the default partition unknown: reading them would run code of the '
                                        'table''s owner (see the finding on owner code)', NULL::text;
            END;
        END IF;

        -- Detaches left pending, and detached tables whose archive or drop is due.
        RETURN QUERY
        SELECT 'warning', v_parent, p.partition, 'detach pending: an interrupted DETACH ... CONCURRENTLY',
               format('ALTER TABLE %s DETACH PARTITION %s FINALIZE;', v_parent, p.partition)
        FROM pgpart._partitions(v_parent) AS p WHERE p.detach_pending;
        RETURN QUERY
        SELECT 'warning', v_parent, a.detached, format('detached by retention; its %s is still due', a.then_action),
               format('CALL pgpart.detach_and_archive_proc(%L%s);', v_parent::text, v_at)
        FROM pgpart._detached_awaiting(v_parent) AS a;
        -- journal entries no longer valid: retention discards them, never acts on them
        RETURN QUERY
        SELECT 'info', v_parent, j.detached::regclass, format('retention journal entry void: %s', j.problem),
               format('CALL pgpart.detach_and_archive_proc(%L%s);', v_parent::text, v_at)
        FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale';

        -- Every partition, at every level: indexes, owner, grants, validity.
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = v_parent
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        ),
        parts AS (
            SELECT c.oid, c.relkind, c.relowner, c.relacl,
                   coalesce(nullif(c.reltablespace, 0), d.dattablespace) AS spc
            FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
            CROSS JOIN pg_database AS d WHERE d.datname = current_database()
        ),
        findings AS (
            SELECT 'warning' AS sev, p.oid AS part,
                   format('index %s is in tablespace %s, its partition in %s', ix.indexrelid::regclass,
                          (SELECT t.spcname FROM pg_tablespace AS t
                           WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), d.dattablespace)),
                          (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)) AS problem,
                   format('ALTER INDEX %s SET TABLESPACE %I;', ix.indexrelid::regclass,
                          (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)) AS fix
            FROM parts AS p
            JOIN pg_index AS ix ON ix.indrelid = p.oid
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            CROSS JOIN pg_database AS d
            WHERE d.datname = current_database() AND p.relkind = 'r'
              AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> p.spc
            UNION ALL
            SELECT 'warning', p.oid,
                   format('owner %I differs from the parent''s owner %I', pg_get_userbyid(p.relowner),
                          pg_get_userbyid(pc.relowner)),
                   format('ALTER TABLE %s OWNER TO %I;', p.oid::regclass, pg_get_userbyid(pc.relowner))
            FROM parts AS p CROSS JOIN pg_class AS pc
            WHERE pc.oid = v_parent AND p.relowner <> pc.relowner
            UNION ALL
            SELECT DISTINCT 'urgent', p.oid,
                   format('role %s may read partition %s directly, bypassing the row-level security of %s',
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                          p.oid::regclass, v_parent),
                   format('REVOKE ALL ON %s FROM %s;', p.oid::regclass,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
            FROM parts AS p CROSS JOIN LATERAL aclexplode(p.relacl) AS a CROSS JOIN pg_class AS pc
            WHERE pc.oid = v_parent AND pc.relrowsecurity AND a.grantee <> p.relowner
            UNION ALL
            SELECT 'warning', ix.indrelid, format('index %s is invalid', ix.indexrelid::regclass),
                   CASE WHEN ic.relkind = 'I'
                        THEN format('-- create the missing partition indexes, then ALTER INDEX %s ATTACH PARTITION ...',
                                    ix.indexrelid::regclass)
                        -- a failed unique build fails again while its duplicates are there
                        WHEN ix.indisunique
                        THEN format('DROP INDEX CONCURRENTLY %s;  -- remove the duplicate keys, then create it again',
                                    ix.indexrelid::regclass)
                        ELSE format('REINDEX INDEX CONCURRENTLY %s;', ix.indexrelid::regclass) END
            FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE NOT ix.indisvalid AND (ix.indrelid = v_parent OR ix.indrelid IN (SELECT p.oid FROM parts AS p))
        )
        SELECT f.sev, v_parent, f.part::regclass, f.problem, f.fix FROM findings AS f;

        -- Drift that reconcile repairs and the findings above do not cover:
        -- replica identity, storage parameters, propagated grants, partitioned
        -- indexes of sub-partitioned partitions (the plan reads the catalog only).
        IF v_cfg.reconcile THEN
            RETURN QUERY
            SELECT CASE WHEN f.action = 'refused' THEN 'urgent' ELSE 'warning' END, v_parent, f.partition, f.detail,
                   CASE WHEN f.action = 'refused'
                        THEN format('SELECT * FROM pgpart.set_policy(%L, propagate_grants => false);', v_parent::text)
                        ELSE f.statement || ';' END
            FROM pgpart._reconcile_plan(v_parent, true) AS f
            WHERE f.action NOT IN ('set owner', 'set index tablespace')
               OR (f.action = 'set index tablespace'
                   AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = f.partition) = 'p')
            ORDER BY f.ord;
        END IF;

        -- Hash-partitioned tables (the parent, or a sub-partitioned partition)
        -- missing a remainder: rows that hash there cannot be inserted.
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT v_parent::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        ),
        kids AS (
            SELECT t.rel,
                   (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer AS modulus,
                   (regexp_match(p.bound, 'remainder (\d+)'))[1]::integer AS remainder
            FROM tree AS t
            JOIN pg_partitioned_table AS pt ON pt.partrelid = t.rel AND pt.partstrat = 'h'
            CROSS JOIN LATERAL pgpart._partitions(t.rel::regclass) AS p
        ),
        missing AS (
            SELECT m.rel, m.modulus, g.remainder
            FROM (SELECT k.rel, max(k.modulus) AS modulus FROM kids AS k GROUP BY k.rel) AS m
            CROSS JOIN LATERAL generate_series(0, m.modulus - 1) AS g (remainder)
            WHERE NOT EXISTS (SELECT 1 FROM kids AS k WHERE k.rel = m.rel AND g.remainder % k.modulus = k.remainder)
        )
        SELECT 'urgent', v_parent, CASE WHEN x.rel <> v_parent THEN x.rel::regclass END,
               format('%s has no hash partition for remainder %s of modulus %s: rows hashing there cannot be inserted',
                      x.rel::regclass, x.remainder, x.modulus),
               CASE WHEN x.rel = v_parent
                    THEN format('SELECT * FROM pgpart.create_hash_partitions(%L, %s);', v_parent::text, x.modulus)
                    ELSE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s);',
                                n.nspname, pgpart._relation_name(c.relname, '_h' || x.remainder), x.rel::regclass,
                                x.modulus, x.remainder) END
        FROM missing AS x
        JOIN pg_class AS c ON c.oid = x.rel
        JOIN pg_namespace AS n ON n.oid = c.relnamespace;

        -- Foreign keys to and from the parent, and publications.
        RETURN QUERY
        SELECT 'info', v_parent, NULL::regclass,
               CASE WHEN con.confrelid = v_parent
                    THEN format('referenced by %s (%s): retention is %s', con.conrelid::regclass, con.conname,
                                CASE v_cfg.referenced_retention WHEN 'refuse' THEN 'refused'
                                     ELSE 'allowed, and DETACH locks it ACCESS EXCLUSIVE' END)
                    ELSE format('references %s (%s): every ATTACH locks it SHARE ROW EXCLUSIVE', con.confrelid::regclass,
                                con.conname) END,
               NULL::text
        FROM pg_constraint AS con
        WHERE con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = v_parent OR con.confrelid = v_parent);
        RETURN QUERY
        SELECT 'info', v_parent, NULL::regclass,
               format('published by %I: a detached partition leaves the publication, and dropping it is not replicated',
                      pub.pubname),
               NULL::text
        FROM pg_publication AS pub
        WHERE pub.puballtables
           OR EXISTS (SELECT 1 FROM pg_publication_rel AS pr WHERE pr.prpubid = pub.oid AND pr.prrelid = v_parent)
           OR EXISTS (SELECT 1 FROM pg_publication_namespace AS pn JOIN pg_class AS c ON c.relnamespace = pn.pnnspid
                      WHERE pn.pnpubid = pub.oid AND c.oid = v_parent);
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
            RAISE;
        END IF;
        -- the findings returned before the failure stand; this one says the rest is unknown
        RETURN QUERY SELECT 'urgent', v_parent, NULL::regclass,
                        format('check of %s failed: %s: %s; its other findings are unknown', v_parent, v_state,
                               v_message),
                        NULL::text;
      END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.check(regclass, timestamptz) IS
'Findings (severity, parent, partition, problem, ready-to-run fix) comparing policy with the catalog: runway, gaps, off-grid partitions, rows in the default, pending detaches, index tablespaces, owners, grants under row-level security, invalid indexes, foreign keys, publications, orphan policies. Never waits for a lock.';
-- source: sql/src/71_ensure_range.sql
-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan.
CREATE FUNCTION pgpart.ensure_range(
    parent regclass,
    "interval" text DEFAULT NULL,
    premake integer DEFAULT NULL,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    default_partition boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_interval text;
    v_policy text;
    v_last bigint;
    v_old pgpart.config;
BEGIN
    PERFORM pgpart._require_owner($1);
    PERFORM pgpart._check_args($12, $13, $14);
    v_interval := coalesce($2, (SELECT c.partition_interval FROM pgpart.config AS c WHERE c.parent = $1));
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', $1),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.';
    END IF;
    -- the policy values are validated before anything, dry run or not
    SELECT c.* INTO v_old FROM pgpart.config AS c WHERE c.parent = $1;
    IF v_old.parent IS NULL THEN
        v_old.parent := $1;
        v_old.strategy := 'range';
        v_old.key_type := (pgpart._range_key($1)).key_type;
    END IF;
    PERFORM pgpart._merge_policy(v_old, $4, $5, $6, $7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    v_policy := concat_ws(', ', format('%L::regclass', $1::text),
                          'retention => ' || quote_literal($4), 'retention_action => ' || quote_literal($5),
                          'archive_schema => ' || quote_literal($6), 'archive_tablespace => ' || quote_literal($7));
    IF $15 THEN
        RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
            $1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, true);
        IF num_nonnulls($4, $5, $6, $7) > 0 THEN
            SELECT count(*) INTO v_last
            FROM pgpart.create_range_partitions($1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, true);
            RETURN NEXT ROW((v_last + 1)::integer, NULL, NULL, NULL, 'set policy', format('SELECT pgpart.set_policy(%s)', v_policy),
                            'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
        $1, v_interval, $3, NULL, $9, $10, $8, $11, NULL, $12, $13, $14, false);
    IF num_nonnulls($4, $5, $6, $7) > 0 THEN
        PERFORM pgpart.set_policy($1, retention => $4, retention_action => $5, archive_schema => $6,
                                  archive_tablespace => $7);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive) and creates the missing partitions, in one transaction. NULL keeps what is configured.';
-- source: sql/src/72_list_names.sql
-- pgpart._key_of(parent, strategy): the single key column and type of a
-- table partitioned by LIST ('l') or HASH ('h'), or an error saying why
-- pgpart cannot manage it that way (42P17, 0A000).
CREATE FUNCTION pgpart._key_of(
    p_parent regclass,
    p_strategy "char",
    OUT key_column name,
    OUT key_type regtype,
    OUT key_format text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_strategy "char";
    v_natts int2;
    v_attnum int2;
    v_schema name;
    v_table name;
    v_want text := CASE p_strategy WHEN 'l' THEN 'LIST' WHEN 'h' THEN 'HASH' ELSE 'RANGE' END;
BEGIN
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT pt.partstrat, pt.partnatts, pt.partattrs[0] INTO v_strategy, v_natts, v_attnum
    FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent;
    IF NOT FOUND OR v_strategy <> p_strategy THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned by %s', p_parent, v_want),
            DETAIL = CASE WHEN NOT FOUND THEN 'It is not partitioned.'
                          ELSE format('It is partitioned by %s.', CASE v_strategy WHEN 'l' THEN 'LIST'
                                                                      WHEN 'h' THEN 'HASH' ELSE 'RANGE' END) END,
            HINT = format('Create the table with PARTITION BY %s (column).', v_want),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    IF v_natts <> 1 OR v_attnum = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key of table %s is not a single column', p_parent),
            HINT = format('Partition by %s on one plain column.', v_want),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    SELECT a.attname, a.atttypid::regtype, format_type(a.atttypid, a.atttypmod) INTO key_column, key_type, key_format
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attnum = v_attnum;
    -- every caller casts values to this type and attaches partitions (dry
    -- runs too): a domain's CHECK, key code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl');
END
$body$;

COMMENT ON FUNCTION pgpart._key_of(regclass, "char") IS
'Key column, type and formatted type (with its modifier) of a table partitioned by LIST or HASH on one column; 42P17 or 0A000 otherwise.';

-- pgpart._value_suffix(value): the name suffix of a list partition for a
-- value or a group name: lower-case ASCII letters, digits and underscores;
-- whenever that changed anything (and for NULL, the empty string, values
-- over 40 characters, values ending like a hash, and 'default', which names
-- the default partition) a short stable hash of the original follows, so
-- 'a b', 'a_b', 'null' and NULL never collide.
CREATE FUNCTION pgpart._value_suffix(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT CASE
        WHEN p_value IS NULL THEN '_null_' || left(md5('pgpart:NULL'), 8)
        -- kept as it is only when sanitising changes nothing, it is short, and
        -- it cannot be mistaken for another value's hashed name
        WHEN p_value ~ '^[a-z0-9_]{1,40}$' AND p_value <> 'default' AND p_value !~ '_[0-9a-f]{8}$' THEN '_' || p_value
        ELSE '_' || left(regexp_replace(lower(p_value), '[^a-z0-9_]', '_', 'g'), 40) || '_' || left(md5('v:' || p_value), 8)
    END;
$body$;

COMMENT ON FUNCTION pgpart._value_suffix(text) IS
'Name suffix for a list value or group: sanitised, with a stable hash whenever sanitising changed anything.';

-- pgpart._list_values(bound): the values of a list partition bound as
-- printed by pg_get_expr ("FOR VALUES IN ('a', NULL, 'b''c')"), unquoted, in
-- order; NULL for NULL. Canonical text of the key type, as PostgreSQL prints it.
CREATE FUNCTION pgpart._list_values(p_bound text)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(
        CASE WHEN m[1] IS NOT NULL THEN replace(m[1], '''''', '''')
             WHEN m[2] = 'NULL' THEN NULL
             ELSE m[2] END
        ORDER BY ord)
    FROM regexp_matches(substring(p_bound FROM '^FOR VALUES IN \((.*)\)$'),
                        '''((?:[^'']|'''')*)''|([^,\s]+)', 'g') WITH ORDINALITY AS t (m, ord);
$body$;

COMMENT ON FUNCTION pgpart._list_values(text) IS
'Values of a LIST partition bound (as pg_get_expr prints it), unquoted; NULL stands for NULL.';

-- pgpart._bound_values(bound, key_type): the values of a list bound in the
-- same canonical form as requested values (char(n) loses its padding), so
-- the two compare equal.
CREATE FUNCTION pgpart._bound_values(p_bound text, p_key_type text)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(pgpart._canonical(p_key_type, v) ORDER BY o)
    FROM unnest(pgpart._list_values(p_bound)) WITH ORDINALITY AS t (v, o);
$body$;

COMMENT ON FUNCTION pgpart._bound_values(text, text) IS
'Values of a LIST partition bound, canonical for the key type (as requested values are).';

-- pgpart._canonical(key_type, value): a value as the key type prints it, so
-- that '01' and '1' compare equal for an integer key (22023 when invalid).
CREATE FUNCTION pgpart._canonical(p_key_type text, p_value text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_out text;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    -- the type with its modifier (char(2), numeric(5,2)) as the key has it
    EXECUTE format('SELECT %L::%s::text', p_value, p_key_type) INTO v_out;
    -- an explicit cast silently cuts a string to its length: refuse that
    -- (char(n) drops trailing blanks when read as text, which is no cut)
    IF p_key_type ~ '^character' AND v_out IS DISTINCT FROM p_value AND v_out IS DISTINCT FROM rtrim(p_value) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('value %L is too long for a list key of type %s', p_value, p_key_type),
            HINT = 'Pass values that fit the key column.';
    END IF;
    RETURN v_out;
EXCEPTION WHEN data_exception OR invalid_text_representation THEN
    RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = format('invalid value %L for a list key of type %s', p_value, p_key_type),
        DETAIL = SQLERRM,
        HINT = 'Pass values of the key column''s type.';
END
$body$;

COMMENT ON FUNCTION pgpart._canonical(text, text) IS
'A value in the canonical text form of the key type (22023 when it is not a valid value).';
-- source: sql/src/73_new_partition_steps.sql
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

-- pgpart._target_tablespace(parent, tablespace): where new partitions go:
-- the given (policy) tablespace, else the parent's, else the database
-- default; always a name, never the session's default_tablespace.
CREATE FUNCTION pgpart._target_tablespace(p_parent regclass, p_tablespace name)
RETURNS name
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT coalesce(p_tablespace, pt.spcname, dt.spcname)
    FROM pg_class AS c
    LEFT JOIN pg_tablespace AS pt ON pt.oid = c.reltablespace
    CROSS JOIN pg_database AS d
    JOIN pg_tablespace AS dt ON dt.oid = d.dattablespace
    WHERE c.oid = p_parent AND d.datname = current_database();
$body$;

COMMENT ON FUNCTION pgpart._target_tablespace(regclass, name) IS
'Tablespace for new partitions: the policy''s, else the parent''s, else the database default.';

-- pgpart._save_policy(parent, strategy, key, type, tablespace, reloptions):
-- registers or updates the policy row of a LIST or HASH parent.
CREATE FUNCTION pgpart._save_policy(
    p_parent regclass,
    p_strategy text,
    p_key_column name,
    p_key_type regtype,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    INSERT INTO pgpart.config AS c (parent, strategy, key_column, key_type, tablespace, reloptions, policy_author)
    VALUES (p_parent, p_strategy, p_key_column, p_key_type, p_tablespace, p_reloptions, current_user)
    ON CONFLICT (parent) DO UPDATE SET
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        updated_at = now()
    WHERE (c.tablespace, c.reloptions) IS DISTINCT FROM (excluded.tablespace, excluded.reloptions);
$body$;

COMMENT ON FUNCTION pgpart._save_policy(regclass, text, name, regtype, name, text[]) IS
'Registers or updates the policy row of a LIST or HASH parent.';
-- source: sql/src/74_list_partitions.sql
-- pgpart.create_list_partitions(parent, values, ...): the partitions of a
-- LIST-partitioned table: one per value (a JSON array, or a text[]), or one
-- per named group of values (a JSON object {"eu": ["de", "fr"], ...}).
-- Idempotent: a partition holding exactly the requested values is kept;
-- new values and groups are added. A value another partition holds: 42P17
-- naming it. More values for an existing group: 0A000 (see
-- pgpart.add_list_values, an explicitly blocking operation). Each partition
-- is built detached and attached (DESIGN §3); a default partition holding
-- rows of a new value refuses the call (23514).
CREATE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" jsonb,
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_steps pgpart.step [];
    st pgpart.step;
BEGIN
    PERFORM pgpart._check_args($6, $7, now());
    -- bounded before any lock is taken or any value read (54000)
    PERFORM pgpart._check_list_size($1, $2, 'the list request for table');
    IF NOT $8 THEN
        PERFORM pgpart._require_owner($1);
        PERFORM pgpart._key_of($1, 'l');
        PERFORM pgpart._acquire_locks(array(SELECT l.statement FROM pgpart._lock_statements($1) AS l), $6, $7);
    END IF;
    v_steps := array(SELECT s FROM pgpart._plan_list_partitions($1, $2, $3, $4, $5) AS s);
    IF $8 THEN
        FOREACH st IN ARRAY v_steps LOOP
            RETURN NEXT st;
        END LOOP;
        RETURN;
    END IF;
    PERFORM pgpart._run_steps(v_steps, $6, $7);
    IF EXISTS (SELECT 1 FROM unnest(v_steps) AS s WHERE s.action = 'attach') THEN
        PERFORM pgpart._log($1, 'create_list_partitions', 'ok',
                            jsonb_build_object('created', (SELECT jsonb_agg(s.partition ORDER BY s.step)
                                                           FROM unnest(v_steps) AS s WHERE s.action = 'attach')));
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        CONTINUE WHEN st.action <> 'attach';
        st.action := 'created';
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.create_list_partitions(regclass, jsonb, boolean, name, text[], interval, integer, boolean) IS
'Creates the LIST partitions of PARENT: one per value of a JSON array, or one per group of a JSON object; idempotent, each built detached then attached; registers the policy. dry_run returns the plan.';

-- pgpart.create_list_partitions(parent, values text[], ...): the same for
-- single values given as a text array (NULL elements included).
CREATE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" text[],
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT * FROM pgpart.create_list_partitions($1, to_jsonb($2), $3, $4, $5, $6, $7, $8);
$body$;

COMMENT ON FUNCTION pgpart.create_list_partitions(regclass, text[], boolean, name, text[], interval, integer, boolean) IS
'Creates one LIST partition per value of a text array (see the jsonb form).';

-- pgpart._list_request(key_type, values): the requested partitions, one row
-- per partition: its group name (NULL for a single value), its values in
-- the key type's canonical text, and the name suffix.
CREATE FUNCTION pgpart._list_request(p_key_type text, p_values jsonb)
RETURNS TABLE (group_name text, list_values text[], suffix text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_group text;
    v_members jsonb;
    v_element jsonb;
BEGIN
    IF jsonb_typeof(p_values) = 'array' THEN
        FOR v_element IN SELECT e FROM jsonb_array_elements(p_values) AS e LOOP
            IF jsonb_typeof(v_element) IN ('object', 'array') THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid list value %s', v_element),
                    HINT = 'Pass scalars, such as ["de", "fr"], or groups, such as {"eu": ["de", "fr"]}.';
            END IF;
            group_name := NULL;
            list_values := ARRAY[pgpart._canonical(p_key_type, v_element #>> '{}')];
            suffix := pgpart._value_suffix(list_values[1]);
            RETURN NEXT;
        END LOOP;
    ELSIF jsonb_typeof(p_values) = 'object' THEN
        FOR v_group, v_members IN SELECT e.key, e.value FROM jsonb_each(p_values) AS e ORDER BY e.key LOOP
            IF jsonb_typeof(v_members) <> 'array' THEN
                v_members := jsonb_build_array(v_members);
            END IF;
            IF jsonb_array_length(v_members) = 0
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(v_members) AS e WHERE jsonb_typeof(e) IN ('object', 'array')) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid values for group %L: %s', v_group, v_members),
                    HINT = 'Give each group a non-empty array of scalars, such as {"eu": ["de", "fr"]}.';
            END IF;
            group_name := v_group;
            list_values := array(SELECT pgpart._canonical(p_key_type, e #>> '{}') FROM jsonb_array_elements(v_members) AS e);
            suffix := pgpart._value_suffix(v_group);
            RETURN NEXT;
        END LOOP;
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid list values %s', coalesce(p_values::text, 'NULL')),
            HINT = 'Pass a JSON array of values, such as ["de", "fr"], or an object of groups, such as {"eu": ["de", "fr"]}.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._list_request(text, jsonb) IS
'The list partitions a call asks for: group name, canonical values and name suffix.';

-- pgpart._list_part: a list partition and its values (internal).
CREATE TYPE pgpart._list_part AS (partition regclass, list_values text []);

COMMENT ON TYPE pgpart._list_part IS 'A LIST partition and its values (internal).';

-- pgpart._list_literal(values): a FOR VALUES IN list of quoted literals.
CREATE FUNCTION pgpart._list_literal(p_values text[])
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT string_agg(coalesce(quote_literal(v), 'NULL'), ', ' ORDER BY o)
    FROM unnest(p_values) WITH ORDINALITY AS t (v, o);
$body$;

COMMENT ON FUNCTION pgpart._list_literal(text[]) IS
'Values as the comma-separated literals of FOR VALUES IN (...).';

-- pgpart._plan_list_partitions(...): validates a create_list_partitions call
-- and returns its steps, changing nothing.
CREATE FUNCTION pgpart._plan_list_partitions(
    p_parent regclass,
    p_values jsonb,
    p_default_partition boolean,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_key record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_default regclass;
    v_tablespace name;
    v_target name;
    v_name name;
    v_table text;
    v_holder regclass;
    v_value text;
    v_step integer := 0;
    v_seen text [] := '{}'::text [];
    v_seen_null boolean := false;
    v_existing pgpart._list_part [];
    v_new integer := 0;
    st pgpart.step;
    r record;
    e record;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_list_size(p_parent, p_values, 'the list request for table');
    v_key := pgpart._key_of(p_parent, 'l');
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NOT NULL AND v_cfg.strategy <> 'list' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s is managed by pgpart with strategy %s', p_parent, v_cfg.strategy),
            HINT = 'Delete its policy from pgpart.config first.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_tablespace := coalesce(p_tablespace, v_cfg.tablespace);
    PERFORM pgpart._require_tablespace(v_tablespace);
    v_target := pgpart._target_tablespace(p_parent, v_tablespace);
    PERFORM pgpart._with_clause(coalesce(p_reloptions, v_cfg.reloptions));  -- validates them before anything
    v_default := pgpart._default_partition(p_parent);

    -- The locks come first in the plan, in the documented order.
    FOR e IN SELECT * FROM pgpart._lock_statements(p_parent) LOOP
        v_step := v_step + 1;
        RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'lock', e.statement, e.locks, false)::pgpart.step;
    END LOOP;

    -- The existing partitions with their values.
    v_existing := array(SELECT ROW(p.partition, pgpart._bound_values(p.bound, v_key.key_format))::pgpart._list_part
                        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default);

    FOR r IN SELECT * FROM pgpart._list_request(v_key.key_format, p_values) LOOP
        -- a partition holding exactly these values already: nothing to do
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM unnest(v_existing) AS x
            WHERE (SELECT array_agg(v ORDER BY v NULLS FIRST) FROM unnest(x.list_values) AS v)
                  IS NOT DISTINCT FROM (SELECT array_agg(DISTINCT v ORDER BY v NULLS FIRST) FROM unnest(r.list_values) AS v)
        );
        v_name := pgpart._relation_name(v_relname, r.suffix);
        v_table := format('%I.%I', v_schema, v_name);
        IF r.group_name IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(v_existing) AS x WHERE x.partition = to_regclass(v_table)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('partition %s of group %L exists with other values than requested', v_table, r.group_name),
                DETAIL = format('It holds %s; requested: %s.',
                                pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                      WHERE x.partition = to_regclass(v_table))),
                                pgpart._list_literal(r.list_values)),
                HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                              'SELECT * FROM pgpart.add_list_values(%L, ...);', v_table),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOREACH v_value IN ARRAY r.list_values LOOP
            IF (v_value IS NULL AND v_seen_null) OR v_value = ANY (v_seen) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s is requested for two partitions of %s', coalesce(quote_literal(v_value), 'NULL'),
                                     p_parent),
                    HINT = 'List each value once.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
            v_seen_null := v_seen_null OR v_value IS NULL;
            v_seen := v_seen || v_value;
            SELECT x.partition INTO v_holder FROM unnest(v_existing) AS x
            WHERE EXISTS (SELECT 1 FROM unnest(x.list_values) AS v WHERE v IS NOT DISTINCT FROM v_value) LIMIT 1;
            IF v_holder IS NOT NULL AND v_holder::text IN (v_table, quote_ident(v_name)) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'feature_not_supported',
                    MESSAGE = format('partition %s exists with other values than requested', v_holder),
                    DETAIL = format('It holds %s; requested: %s.',
                                    pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                          WHERE x.partition = v_holder)),
                                    pgpart._list_literal(r.list_values)),
                    HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                                  'SELECT * FROM pgpart.add_list_values(%L, ...);', v_holder::text),
                    SCHEMA = v_schema, TABLE = v_relname;
            ELSIF v_holder IS NOT NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s of %s is already held by partition %s',
                                     coalesce(quote_literal(v_value), 'NULL'), p_parent, v_holder),
                    HINT = 'Leave that value out, or detach that partition first.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
        END LOOP;
        -- the cap on new tables in one transaction (pgpart._max_new_tables),
        -- the default partition included: refused as soon as it is passed
        v_new := v_new + 1;
        IF v_new + (coalesce(p_default_partition, false) AND v_default IS NULL)::integer > pgpart._max_new_tables() THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = format('more than %s new partitions of %s requested, but at most %s are created in one '
                                 'transaction', pgpart._max_new_tables(), p_parent, pgpart._max_new_tables()),
                DETAIL = 'Each new partition holds about ten locks until commit; thousands exhaust the shared lock table.',
                HINT = format('Pass the values in several calls of at most %s new partitions each: the partitions '
                              'already made are kept.', pgpart._max_new_tables()),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                DETAIL = format('pgpart names the partition of %s for %s %s.', p_parent,
                                coalesce('group ' || quote_literal(r.group_name), 'value'), pgpart._list_literal(r.list_values)),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        IF v_default IS NOT NULL THEN
            v_step := v_step + 1;
            RETURN NEXT ROW(v_step, v_table, NULL, NULL, 'check default',
                            format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                   v_default::text, v_key.key_column, r.list_values),
                            format('ACCESS SHARE on %s (index probe)', v_default), false)::pgpart.step;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES IN (%s)', pgpart._list_literal(r.list_values)),
            v_target, coalesce(p_reloptions, v_cfg.reloptions), v_step + 1)
        LOOP
            st.lower_bound := pgpart._list_literal(r.list_values);
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END LOOP;

    IF coalesce(p_default_partition, false) AND v_default IS NULL THEN
        v_name := pgpart._relation_name(v_relname, '_default');
        v_table := format('%I.%I', v_schema, v_name);
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, 'DEFAULT', v_target, coalesce(p_reloptions, v_cfg.reloptions), v_step + 1)
        LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'register policy',
                    format('SELECT pgpart._save_policy(%L::regclass, ''list'', %L, %L::regtype, %L, %L)',
                           p_parent::text, v_key.key_column, v_key.key_type::text, v_tablespace,
                           coalesce(p_reloptions, v_cfg.reloptions)),
                    'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_list_partitions(regclass, jsonb, boolean, name, text[]) IS
'Validates a create_list_partitions call and returns its steps without changing anything.';

-- pgpart._check_default_list_rows(default, key, values): refuses new list
-- values while the default partition holds rows of them (23514).
CREATE FUNCTION pgpart._check_default_list_rows(p_default regclass, p_key name, p_values text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint;
    v_where text;
BEGIN
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    v_where := concat_ws(' OR ',
                         CASE WHEN array_position(p_values, NULL) IS NOT NULL THEN format('%I IS NULL', p_key) END,
                         CASE WHEN EXISTS (SELECT 1 FROM unnest(p_values) AS v WHERE v IS NOT NULL)
                              THEN format('%I IN (%s)', p_key,
                                          (SELECT string_agg(quote_literal(v), ', ') FROM unnest(p_values) AS v
                                           WHERE v IS NOT NULL)) END);
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM ONLY %s WHERE %s LIMIT 1000000) AS s', p_default, v_where)
    INTO v_count;
    IF v_count > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('default partition %s holds %s rows for the new values %s', p_default, v_count,
                             pgpart._list_literal(p_values)),
            DETAIL = 'A partition for these values cannot be attached while the default partition holds their rows.',
            HINT = 'Move those rows out of the default partition first (INSERT them into a new table, DELETE them, '
                   'then attach it), one value per transaction.',
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_default),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_default);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_list_rows(regclass, name, text[]) IS
'Raises 23514 when the default partition holds rows of list values about to get their partition.';
-- source: sql/src/75_add_list_values.sql
-- pgpart.add_list_values(partition, values, ...): adds values to an existing
-- LIST partition. PostgreSQL cannot change a bound in place, so this is an
-- EXPLICITLY BLOCKING operation, in one short transaction:
--   1. lock the parent, the default partition and the partition ACCESS
--      EXCLUSIVE (under the lock timeout, with retries): every query on the
--      parent waits until commit;
--   2. give the partition a validated CHECK (key IS NOT NULL AND key IN
--      (old and new values)) - this scans the partition, under the lock;
--   3. DETACH it and ATTACH it again with the new bound: the CHECK implies the
--      bound, so ATTACH does not scan it again; drop the CHECK.
-- The IS NOT NULL matters: without it PostgreSQL does not see that the CHECK
-- implies a bound on a nullable key (verified), and would scan.
CREATE FUNCTION pgpart.add_list_values(
    partition regclass,
    "values" jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_parent regclass;
    v_key record;
    v_old text [];
    v_new text [];
    v_all text [];
    v_default regclass;
    v_holder regclass;
    v_value text;
    v_check text;
    v_con name := 'pgpart_add_list_values'::name;
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._check_args($3, $4, now());
    SELECT i.inhparent::regclass INTO v_parent FROM pg_inherits AS i WHERE i.inhrelid = $1;
    IF v_parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', $1),
            HINT = 'Pass a partition of a LIST-partitioned table.';
    END IF;
    PERFORM pgpart._require_owner(v_parent);
    v_key := pgpart._key_of(v_parent, 'l');
    -- bounded before any lock is taken or any value read (54000)
    PERFORM pgpart._check_list_size(v_parent, $2, 'the values to add to table');
    IF NOT $5 THEN
        -- lock first: the bound read below must not change before the re-attach
        PERFORM pgpart._acquire_locks(
            array(SELECT l.statement FROM pgpart._lock_statements(v_parent, $1) AS l), $3, $4);
    END IF;
    SELECT pgpart._bound_values(p.bound, v_key.key_format) INTO v_old FROM pgpart._partitions(v_parent) AS p WHERE p.partition = $1;
    IF v_old IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('partition %s is the default partition', $1),
            HINT = 'Values can be added only to a partition with a list of values.';
    END IF;
    IF $2 IS NULL OR jsonb_typeof($2) <> 'array' OR jsonb_array_length($2) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements($2) AS e WHERE jsonb_typeof(e) IN ('object', 'array')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid list values %s', coalesce($2::text, 'NULL')),
            HINT = 'Pass a non-empty JSON array of values, such as ["it", "es"].';
    END IF;
    v_new := array(SELECT pgpart._canonical(v_key.key_format, e #>> '{}') FROM jsonb_array_elements($2) AS e
                   WHERE NOT EXISTS (SELECT 1 FROM unnest(v_old) AS o
                                     WHERE o IS NOT DISTINCT FROM pgpart._canonical(v_key.key_format, e #>> '{}')));
    IF cardinality(v_new) = 0 THEN
        RETURN;  -- it holds them all already
    END IF;
    FOREACH v_value IN ARRAY v_new LOOP
        SELECT p.partition INTO v_holder FROM pgpart._partitions(v_parent) AS p
        WHERE NOT p.is_default AND p.partition <> $1
          AND EXISTS (SELECT 1 FROM unnest(pgpart._bound_values(p.bound, v_key.key_format)) AS v WHERE v IS NOT DISTINCT FROM v_value);
        IF v_holder IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_object_definition',
                MESSAGE = format('value %s of %s is already held by partition %s', coalesce(quote_literal(v_value), 'NULL'),
                                 v_parent, v_holder),
                HINT = 'Leave that value out.';
        END IF;
    END LOOP;
    v_all := v_old || v_new;
    v_default := pgpart._default_partition(v_parent);
    v_check := concat_ws(' OR ',
                         CASE WHEN array_position(v_all, NULL) IS NOT NULL THEN format('%I IS NULL', v_key.key_column) END,
                         format('(%I IS NOT NULL AND %I IN (%s))', v_key.key_column, v_key.key_column,
                                (SELECT string_agg(quote_literal(v), ', ') FROM unnest(v_all) AS v WHERE v IS NOT NULL)));

    FOR r IN SELECT l.statement, l.locks FROM pgpart._lock_statements(v_parent, $1) AS l LOOP
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'lock', r.statement, r.locks, false)::pgpart.step;
    END LOOP;
    IF v_default IS NOT NULL THEN
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'check default',
                                  format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                         v_default::text, v_key.key_column, v_new),
                                  format('ACCESS EXCLUSIVE on %s (held)', v_default), false)::pgpart.step;
    END IF;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'add check',
                              format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', $1, v_con, v_check),
                              format('ACCESS EXCLUSIVE on %s; scans it', $1), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'detach',
                              format('ALTER TABLE %s DETACH PARTITION %s', v_parent, $1),
                              format('ACCESS EXCLUSIVE on %s (until commit)', v_parent), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, $1::text, pgpart._list_literal(v_all), NULL, 'attach',
                              format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)', v_parent, $1,
                                     pgpart._list_literal(v_all)),
                              format('ACCESS EXCLUSIVE on %s (until commit); the CHECK spares the scan', v_parent),
                              false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, $1::text, NULL, NULL, 'drop check',
                              format('ALTER TABLE %s DROP CONSTRAINT %I', $1, v_con),
                              format('ACCESS EXCLUSIVE on %s', $1), false)::pgpart.step;
    IF NOT $5 THEN
        PERFORM pgpart._run_steps(v_steps, $3, $4);
        PERFORM pgpart._log(v_parent, 'add_list_values', 'ok',
                            jsonb_build_object('partition', $1::text, 'added', to_jsonb(v_new)));
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.add_list_values(regclass, jsonb, interval, integer, boolean) IS
'Adds values to a LIST partition: an explicitly blocking operation (ACCESS EXCLUSIVE on the parent for one short transaction; a validated CHECK spares the re-attach its scan). dry_run returns the plan.';
-- source: sql/src/76_hash_partitions.sql
-- pgpart.create_hash_partitions(parent, modulus, ...): the MODULUS
-- partitions of a HASH-partitioned table (remainders 0 .. modulus - 1),
-- named <parent>_h<remainder>, each built detached and attached (DESIGN §3).
-- Idempotent: missing remainders are added. The modulus of an existing set
-- cannot change (0A000). Hash-partitioned tables have no default partition.
CREATE FUNCTION pgpart.create_hash_partitions(
    parent regclass,
    modulus integer,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_key record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_tablespace name;
    v_moduli integer [];
    v_taken integer [];
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    v_table text;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._check_args($5, $6, now());
    PERFORM pgpart._require_owner($1);
    v_key := pgpart._key_of($1, 'h');
    IF NOT $7 THEN
        -- lock first, so that the partitions read below cannot change under us
        PERFORM pgpart._acquire_locks(array(SELECT l.statement FROM pgpart._lock_statements($1) AS l), $5, $6);
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = $1;
    IF $2 IS NULL OR $2 < 1 OR $2 > 1024 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('modulus must be between 1 and 1024, got %s', coalesce($2::text, 'NULL')),
            HINT = 'Pass the number of hash partitions, such as 4, 8 or 16.';
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = $1;
    IF v_cfg.parent IS NOT NULL AND v_cfg.strategy <> 'hash' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('table %s is managed by pgpart with strategy %s', $1, v_cfg.strategy),
            HINT = 'Delete its policy from pgpart.config first.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_tablespace := coalesce($3, v_cfg.tablespace);
    PERFORM pgpart._require_tablespace(v_tablespace);
    PERFORM pgpart._with_clause(coalesce($4, v_cfg.reloptions));  -- validates them before anything
    SELECT array_agg(DISTINCT (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer),
           array_agg((regexp_match(p.bound, 'remainder (\d+)'))[1]::integer)
    INTO v_moduli, v_taken
    FROM pgpart._partitions($1) AS p;
    IF v_moduli IS NOT NULL AND v_moduli <> ARRAY[$2] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the hash modulus of table %s from %s to %s', $1,
                             array_to_string(v_moduli, ', '), $2),
            DETAIL = 'Rows are placed by their hash modulo the modulus: another modulus means moving every row.',
            HINT = format('Call with modulus %s, or create a new table with the new modulus and copy the rows.',
                          v_moduli[1]),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    FOR r IN SELECT * FROM pgpart._lock_statements($1) LOOP
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, NULL, NULL, NULL, 'lock', r.statement, r.locks, false)::pgpart.step;
    END LOOP;
    FOR r IN SELECT g AS remainder FROM generate_series(0, $2 - 1) AS g WHERE NOT g = ANY (coalesce(v_taken, '{}')) LOOP
        v_table := format('%I.%I', v_schema, pgpart._relation_name(v_relname, '_h' || r.remainder));
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            $1, v_table, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', $2, r.remainder),
            pgpart._target_tablespace($1, v_tablespace), coalesce($4, v_cfg.reloptions), v_n + 1)
        LOOP
            st.lower_bound := format('remainder %s of %s', r.remainder, $2);
            v_n := st.step;
            v_steps := v_steps || st;
        END LOOP;
    END LOOP;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, NULL, NULL, NULL, 'register policy',
                              format('SELECT pgpart._save_policy(%L::regclass, ''hash'', %L, %L::regtype, %L, %L)',
                                     $1::text, v_key.key_column, v_key.key_type::text, v_tablespace,
                                     coalesce($4, v_cfg.reloptions)),
                              'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
    IF NOT $7 THEN
        PERFORM pgpart._run_steps(v_steps, $5, $6);
        IF EXISTS (SELECT 1 FROM unnest(v_steps) AS s WHERE s.action = 'attach') THEN
            PERFORM pgpart._log($1, 'create_hash_partitions', 'ok',
                                jsonb_build_object('modulus', $2, 'created',
                                                   (SELECT jsonb_agg(s.partition ORDER BY s.step)
                                                    FROM unnest(v_steps) AS s WHERE s.action = 'attach')));
        END IF;
    END IF;
    FOREACH st IN ARRAY v_steps LOOP
        IF NOT $7 THEN
            CONTINUE WHEN st.action <> 'attach';
            st.action := 'created';
        END IF;
        RETURN NEXT st;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.create_hash_partitions(regclass, integer, name, text[], interval, integer, boolean) IS
'Creates the missing HASH partitions (remainders 0 .. modulus - 1) of PARENT, each built detached then attached; refuses a modulus change. dry_run returns the plan.';
-- source: sql/src/77_subpartition.sql
-- Sub-partitioning: every new range partition of a parent with a
-- sub-partition spec is itself partitioned and filled before it is
-- attached, e.g. monthly by time, then by hash of a tenant. The spec lives
-- in pgpart.config.subpartition:
--   {"method": "hash", "key": "tenant_id", "modulus": 4}
--   {"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}
-- The new partition is a new, unattached table, so its sub-partitions are
-- created with PARTITION OF: no lock on anything the application uses.

-- pgpart._subpartition_spec(parent, spec): the validated, normalised spec.
CREATE FUNCTION pgpart._subpartition_spec(p_parent regclass, p_spec jsonb)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_method text := lower(p_spec ->> 'method');
    v_key name := (p_spec ->> 'key')::name;
    v_type text;
    v_typeid oid;
    v_modulus integer;
BEGIN
    IF p_spec IS NULL OR p_spec = 'null'::jsonb THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_spec) <> 'object' OR v_method IS NULL OR v_method NOT IN ('hash', 'list') OR v_key IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid sub-partition spec %s', p_spec),
            HINT = 'Pass {"method": "hash", "key": "col", "modulus": 4} or '
                   '{"method": "list", "key": "col", "values": {"group": ["value", ...]}}.';
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod), a.atttypid INTO v_type, v_typeid
    FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attname = v_key AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_type IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s has no column %I for sub-partitioning', p_parent, v_key),
            HINT = 'Name a column of the table as "key".';
    END IF;
    -- the column becomes a key, its values are cast: its type's code must be trusted
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl', ARRAY[v_key]);
    IF v_method = 'hash' THEN
        v_modulus := CASE WHEN p_spec ->> 'modulus' ~ '^[0-9]{1,4}$' THEN (p_spec ->> 'modulus')::integer END;
        IF v_modulus IS NULL OR v_modulus < 1 OR v_modulus > 1024 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid hash modulus in sub-partition spec %s', p_spec),
                HINT = 'Pass "modulus" between 1 and 1024, such as 4.';
        END IF;
        -- a type without a default hash operator class cannot be hashed
        IF NOT EXISTS (
            SELECT 1 FROM pg_opclass AS oc JOIN pg_am AS am ON am.oid = oc.opcmethod
            WHERE am.amname = 'hash' AND oc.opcdefault
              AND (oc.opcintype = v_typeid
                   OR EXISTS (SELECT 1 FROM pg_cast AS ca WHERE ca.castsource = v_typeid
                              AND ca.casttarget = oc.opcintype AND ca.castmethod = 'b'))
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('column %I of table %s has type %s, which has no hash operator class', v_key, p_parent,
                                 v_type),
                HINT = 'Sub-partition by hash on a column whose type can be hashed, or by list.';
        END IF;
        RETURN jsonb_build_object('method', 'hash', 'key', v_key, 'modulus', v_modulus);
    END IF;
    -- list: validated (and made canonical) by the same reader as create_list_partitions
    PERFORM pgpart._check_list_size(p_parent, p_spec -> 'values', 'the sub-partition spec for table');
    IF EXISTS (
        SELECT v FROM pgpart._list_request(v_type, p_spec -> 'values') AS q, unnest(q.list_values) AS v
        GROUP BY v HAVING count(*) > 1
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('a value appears twice in sub-partition spec %s', p_spec),
            HINT = 'List each value once.';
    END IF;
    RETURN jsonb_build_object('method', 'list', 'key', v_key, 'values', p_spec -> 'values');
END
$body$;

COMMENT ON FUNCTION pgpart._subpartition_spec(regclass, jsonb) IS
'Validates and normalises a sub-partition spec (hash with modulus, or list with values) for a parent.';

-- pgpart._subpartition_steps(parent, table, spec, tablespace, reloptions,
-- owner, first_step): the steps that fill a new partitioned partition TABLE
-- (not yet attached) with its sub-partitions, each owned by OWNER.
CREATE FUNCTION pgpart._subpartition_steps(
    p_parent regclass,
    p_table text,
    p_spec jsonb,
    p_tablespace name,
    p_reloptions text[],
    p_owner name,
    p_first_step integer
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_step integer := p_first_step;
    v_schema name := (parse_ident(p_table))[1]::name;
    v_base name := (parse_ident(p_table))[2]::name;
    v_type text;
    v_with text := '';
    v_leaf text;
    r record;
BEGIN
    v_with := pgpart._with_clause(p_reloptions);
    SELECT format_type(a.atttypid, a.atttypmod) INTO v_type FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attname = (p_spec ->> 'key');
    FOR r IN
        SELECT '_h' || g AS suffix, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', p_spec ->> 'modulus', g) AS bound
        FROM generate_series(0, (p_spec ->> 'modulus')::integer - 1) AS g
        WHERE p_spec ->> 'method' = 'hash'
        UNION ALL
        SELECT q.suffix, format('FOR VALUES IN (%s)', pgpart._list_literal(q.list_values))
        FROM pgpart._list_request(v_type, p_spec -> 'values') AS q
        WHERE p_spec ->> 'method' = 'list'
    LOOP
        v_leaf := format('%I.%I', v_schema, pgpart._relation_name(v_base, r.suffix));
        RETURN NEXT ROW(v_step, v_leaf, NULL, NULL, 'create sub-partition',
                        format('CREATE TABLE %s PARTITION OF %s %s%s TABLESPACE %I', v_leaf, p_table, r.bound, v_with,
                               p_tablespace),
                        format('ACCESS EXCLUSIVE on %s and %s (both new)', v_leaf, p_table), false)::pgpart.step;
        RETURN NEXT ROW(v_step + 1, v_leaf, NULL, NULL, 'set owner', format('ALTER TABLE %s OWNER TO %I', v_leaf, p_owner),
                        format('ACCESS EXCLUSIVE on %s (new, empty)', v_leaf), false)::pgpart.step;
        -- its indexes were made after the partitioned ones, which may name no
        -- tablespace: put them beside the leaf (it is empty: nothing to copy)
        RETURN NEXT ROW(v_step + 2, v_leaf, NULL, NULL, 'place indexes',
                        format('SELECT pgpart._indexes_follow_table(%L::regclass)', v_leaf),
                        format('ACCESS EXCLUSIVE on %s (new, empty)', v_leaf), false)::pgpart.step;
        v_step := v_step + 3;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._subpartition_steps(regclass, text, jsonb, name, text[], name, integer) IS
'Steps that fill a new, unattached partitioned partition with its hash or list sub-partitions.';

-- pgpart._indexes_follow_table(table): moves every index of TABLE into the
-- table's tablespace (seed rule: a partition's indexes follow it). Meant for
-- new, empty tables, where that copies nothing.
CREATE FUNCTION pgpart._indexes_follow_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT i.indexrelid::regclass AS index, coalesce(nullif(c.reltablespace, 0), d.dattablespace) AS spc
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indrelid
        JOIN pg_class AS ic ON ic.oid = i.indexrelid
        CROSS JOIN pg_database AS d
        WHERE i.indrelid = p_table AND d.datname = current_database()
          AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    LOOP
        EXECUTE format('ALTER INDEX %s SET TABLESPACE %I', r.index,
                       (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = r.spc));
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._indexes_follow_table(regclass) IS
'Moves the indexes of a (new, empty) table into the table''s tablespace.';
-- source: sql/src/80_reconcile_plan.sql
-- Reconcile, part 1: what is out of step (DESIGN §7, issue 4). PostgreSQL
-- leaves a partition made by CREATE TABLE ... PARTITION OF or ATTACH owned by
-- whoever ran it, its indexes wherever the parent's index or the session's
-- default_tablespace put them, with the default replica identity and no
-- grants. For every partition of a managed parent, at every level, the plan
-- below lists the statements that bring it in step with the parent and the
-- policy. It reads only the catalog (index sizes under a 10 ms lock
-- timeout), so check() may call it, and it never raises for a finding.

-- pgpart._fix: one line of a reconcile plan (internal).
CREATE TYPE pgpart._fix AS (
    ord bigint,
    partition regclass,
    action text,
    statement text,
    lock_mode text,
    detail text
);

COMMENT ON TYPE pgpart._fix IS
'One line of a reconcile plan: the partition, what is out of step, the statement that fixes it and the lock it needs on the partition (internal).';

-- pgpart._index_bytes(index): the size of an index, or NULL when it cannot
-- be read within 10 ms (pg_relation_size waits behind an ACCESS EXCLUSIVE
-- lock; DESIGN §2). NULL counts as large: it is reported, not moved.
CREATE FUNCTION pgpart._index_bytes(p_index oid)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10ms'
AS $body$
BEGIN
    RETURN pg_relation_size(p_index);
EXCEPTION WHEN lock_not_available THEN
    RETURN NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._index_bytes(oid) IS
'Size of an index in bytes, or NULL when it is locked for more than 10 ms.';

-- pgpart._reconcile_plan(parent, move_large): the statements that bring every
-- partition of PARENT (all levels; foreign tables aside) in step:
--   1. owner: the parent's owner;
--   2. each local index in its partition's tablespace (seed rule: the indexes
--      of a partition, partitioned ones included, follow the partition).
--      Moving a leaf index copies its files under ACCESS EXCLUSIVE: above the
--      policy's move_large_bytes (or of unknown size) it is 'skipped large'
--      with the statement as the fix, unless MOVE_LARGE. Partitioned indexes
--      have no files and always move;
--   3. replica identity: the parent's (USING INDEX: the partition's own index
--      attached to the parent's identity index; 'skipped' if it has none);
--   4. the policy's storage parameters (leaf partitions);
--   5. with propagate_grants, the parent's table grants (revokes first).
--      Refused ('refused', no grant lines) when the parent uses row-level
--      security or column privileges: a grant on a partition bypasses them.
-- lock_mode is the lock the statement needs on the partition (NULL: none is
-- taken beforehand). Returns nothing for a parent without a policy.
CREATE FUNCTION pgpart._reconcile_plan(p_parent regclass, p_move_large boolean)
RETURNS SETOF pgpart._fix
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- maintenance runs this for every parent on every tick: plan the catalog
-- query once per session, and never JIT-compile it (its set-returning
-- functions' row estimates would make it look expensive)
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $body$
DECLARE
    v_reloptions text[];
    v_grants boolean;
    v_large bigint;
BEGIN
    SELECT c.reloptions, c.propagate_grants, c.move_large_bytes
    INTO v_reloptions, v_grants, v_large
    FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel, 1 AS level FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid, t.level + 1 FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    ),
    db AS (
        SELECT d.dattablespace AS spc FROM pg_database AS d WHERE d.datname = current_database()
    ),
    par AS (
        SELECT
            c.relowner,
            coalesce(c.relacl, acldefault('r', c.relowner)) AS acl,
            c.relreplident,
            c.relrowsecurity OR EXISTS (
                SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL AND NOT a.attisdropped
            ) AS grants_refused,
            (SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = c.oid AND x.indisreplident) AS ident_index
        FROM pg_class AS c WHERE c.oid = p_parent
    ),
    parts AS (
        SELECT
            c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid, t.level,
            coalesce(nullif(c.reltablespace, 0), db.spc) AS spc
        FROM tree AS t
        JOIN pg_class AS c ON c.oid = t.rel
        CROSS JOIN db
        WHERE c.relkind IN ('r', 'p')
    ),
    owners AS (
        SELECT
            p.level, p.oid, 1 AS kind, 0::oid AS sub, 'set owner' AS action,
            format('ALTER TABLE %s OWNER TO %I', p.oid::regclass, pg_get_userbyid(par.relowner)) AS statement,
            'ACCESS EXCLUSIVE' AS lock_mode,
            format('owned by %I, the parent by %I', pg_get_userbyid(p.relowner), pg_get_userbyid(par.relowner)) AS detail
        FROM parts AS p CROSS JOIN par
        WHERE p.relowner <> par.relowner
    ),
    misplaced AS (
        SELECT
            p.level, p.oid, p.relkind, ix.indexrelid,
            (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc) AS target,
            (SELECT t.spcname FROM pg_tablespace AS t
             WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), db.spc)) AS current_spc
        FROM parts AS p
        JOIN pg_index AS ix ON ix.indrelid = p.oid
        JOIN pg_class AS ic ON ic.oid = ix.indexrelid
        CROSS JOIN db
        WHERE coalesce(nullif(ic.reltablespace, 0), db.spc) <> p.spc
    ),
    sized AS (
        SELECT m.*, b.bytes,
               m.relkind = 'r' AND NOT p_move_large AND (b.bytes IS NULL OR b.bytes > v_large) AS large
        FROM misplaced AS m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN m.relkind = 'r' AND NOT p_move_large THEN pgpart._index_bytes(m.indexrelid) END AS bytes
        ) AS b
    ),
    indexes AS (
        SELECT
            s.level, s.oid, 2 AS kind, s.indexrelid AS sub,
            CASE WHEN s.large THEN 'skipped large' ELSE 'set index tablespace' END AS action,
            format('ALTER INDEX %s SET TABLESPACE %I', s.indexrelid::regclass, s.target) AS statement,
            CASE WHEN NOT s.large AND s.relkind = 'r' THEN 'ACCESS EXCLUSIVE' END AS lock_mode,
            format('index %s is in tablespace %s, its partition in %s', s.indexrelid::regclass, s.current_spc, s.target)
            || CASE
                WHEN NOT s.large THEN ''
                WHEN s.bytes IS NULL THEN '; its size is unknown (it is locked): moving it rewrites it under ACCESS EXCLUSIVE'
                ELSE format('; it holds %s bytes, more than move_large_bytes (%s): moving it rewrites it under '
                            'ACCESS EXCLUSIVE; run the statement, or reconcile(move_large => true), when that may block',
                            s.bytes, v_large)
            END AS detail
        FROM sized AS s
    ),
    ident AS (
        SELECT
            p.level, p.oid, par.relreplident AS want, par.ident_index,
            (SELECT x.indexrelid FROM pg_index AS x
             WHERE x.indrelid = p.oid AND par.relreplident = 'i'
               AND par.ident_index IN (SELECT a.relid FROM pg_partition_ancestors(x.indexrelid) AS a)
             LIMIT 1) AS want_index,
            p.relreplident AS have,
            (SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = p.oid AND x.indisreplident LIMIT 1) AS have_index
        FROM parts AS p CROSS JOIN par
    ),
    idents AS (
        SELECT
            i.level, i.oid, 3 AS kind, 0::oid AS sub,
            CASE WHEN i.want = 'i' AND i.want_index IS NULL THEN 'skipped' ELSE 'set replica identity' END AS action,
            CASE i.want
                WHEN 'd' THEN format('ALTER TABLE %s REPLICA IDENTITY DEFAULT', i.oid::regclass)
                WHEN 'n' THEN format('ALTER TABLE %s REPLICA IDENTITY NOTHING', i.oid::regclass)
                WHEN 'f' THEN format('ALTER TABLE %s REPLICA IDENTITY FULL', i.oid::regclass)
                WHEN 'i' THEN format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', i.oid::regclass,
                                     (SELECT c.relname FROM pg_class AS c WHERE c.oid = i.want_index))
            END AS statement,
            CASE WHEN i.want <> 'i' OR i.want_index IS NOT NULL THEN 'ACCESS EXCLUSIVE' END AS lock_mode,
            CASE
                WHEN i.want = 'i' AND i.want_index IS NULL
                    THEN format('no index of the partition is attached to the replica identity index %s of the parent',
                                i.ident_index::regclass)
                ELSE format('replica identity %s, the parent''s is %s',
                            CASE i.have WHEN 'd' THEN 'DEFAULT' WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
                                 ELSE 'USING INDEX ' || i.have_index::regclass::text END,
                            CASE i.want WHEN 'd' THEN 'DEFAULT' WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
                                 ELSE 'USING INDEX ' || i.ident_index::regclass::text END)
            END AS detail
        FROM ident AS i
        WHERE i.have <> i.want OR (i.want = 'i' AND i.have_index IS DISTINCT FROM i.want_index)
    ),
    opts AS (
        -- names as PostgreSQL stores them; anything but a plain (toast.)name is
        -- never spliced into a statement
        SELECT lower(btrim(split_part(o, '=', 1))) AS name, btrim(substr(o, strpos(o, '=') + 1)) AS value
        FROM unnest(v_reloptions) AS o
        WHERE strpos(o, '=') > 0
    ),
    reloptions AS (
        SELECT
            p.level, p.oid, 4 AS kind, 0::oid AS sub, 'set reloptions' AS action,
            format('ALTER TABLE %s SET (%s)', p.oid::regclass,
                   string_agg(format('%s = %L', o.name, o.value), ', ' ORDER BY o.name)) AS statement,
            'SHARE UPDATE EXCLUSIVE' AS lock_mode,
            format('storage parameters of the policy not set: %s',
                   string_agg(o.name || '=' || o.value, ', ' ORDER BY o.name)) AS detail
        FROM parts AS p
        CROSS JOIN opts AS o
        LEFT JOIN pg_class AS tc ON tc.oid = p.reltoastrelid
        WHERE p.relkind = 'r'
          AND o.name ~ '^(toast\.)?[a-z_][a-z0-9_]*$'
          AND (o.name NOT LIKE 'toast.%' OR tc.oid IS NOT NULL)
          AND NOT coalesce(CASE WHEN o.name LIKE 'toast.%' THEN tc.reloptions ELSE p.reloptions END, '{}'::text[])
              @> ARRAY[regexp_replace(o.name, '^toast\.', '') || '=' || o.value]
        GROUP BY p.level, p.oid
    ),
    want AS (
        SELECT a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
        FROM par CROSS JOIN LATERAL aclexplode(par.acl) AS a
        GROUP BY a.grantee, a.privilege_type
    ),
    have AS (
        -- as the partition's ACL will read once its owner is the parent's
        SELECT
            p.oid,
            CASE WHEN a.grantee = p.relowner THEN par.relowner ELSE a.grantee END AS grantee,
            a.privilege_type,
            bool_or(a.is_grantable) AS grantable
        FROM parts AS p
        CROSS JOIN par
        CROSS JOIN LATERAL aclexplode(coalesce(p.relacl, acldefault('r', p.relowner))) AS a
        GROUP BY 1, 2, 3
    ),
    pairs AS (
        SELECT p.level, p.oid, w.grantee, w.privilege_type FROM parts AS p CROSS JOIN want AS w
        UNION
        SELECT p.level, p.oid, h.grantee, h.privilege_type FROM parts AS p JOIN have AS h ON h.oid = p.oid
    ),
    diff AS (
        SELECT
            pr.level, pr.oid, pr.grantee, pr.privilege_type,
            CASE
                WHEN w.grantee IS NULL THEN 5
                WHEN h.grantee IS NULL AND NOT w.grantable THEN 7
                WHEN h.grantee IS NULL OR (w.grantable AND NOT h.grantable) THEN 8
                WHEN NOT w.grantable AND h.grantable THEN 6
            END AS kind
        FROM pairs AS pr
        LEFT JOIN want AS w ON w.grantee = pr.grantee AND w.privilege_type = pr.privilege_type
        LEFT JOIN have AS h ON h.oid = pr.oid AND h.grantee = pr.grantee AND h.privilege_type = pr.privilege_type
    ),
    grants AS (
        SELECT
            d.level, d.oid, d.kind, d.grantee AS sub,
            CASE WHEN d.kind IN (5, 6) THEN 'revoke' ELSE 'grant' END AS action,
            format(CASE d.kind
                       WHEN 5 THEN 'REVOKE %s ON %s FROM %s CASCADE'
                       WHEN 6 THEN 'REVOKE GRANT OPTION FOR %s ON %s FROM %s CASCADE'
                       WHEN 7 THEN 'GRANT %s ON %s TO %s'
                       ELSE 'GRANT %s ON %s TO %s WITH GRANT OPTION'
                   END,
                   string_agg(d.privilege_type, ', ' ORDER BY d.privilege_type), d.oid::regclass,
                   CASE WHEN d.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(d.grantee)) END) AS statement,
            NULL::text AS lock_mode,
            'grants of the parent (propagate_grants)' AS detail
        FROM diff AS d CROSS JOIN par
        WHERE v_grants AND NOT par.grants_refused AND d.kind IS NOT NULL
        GROUP BY d.level, d.oid, d.kind, d.grantee
    ),
    refused AS (
        SELECT
            0 AS level, NULL::oid AS oid, 0 AS kind, 0::oid AS sub, 'refused' AS action, NULL::text AS statement,
            NULL::text AS lock_mode,
            format('propagate_grants is on, but table %s uses row-level security or column privileges: '
                   'a grant on a partition would bypass them', p_parent) AS detail
        FROM par
        WHERE v_grants AND par.grants_refused
    ),
    plan AS (
        SELECT * FROM refused
        UNION ALL SELECT * FROM owners
        UNION ALL SELECT * FROM indexes
        UNION ALL SELECT * FROM idents
        UNION ALL SELECT * FROM reloptions
        UNION ALL SELECT * FROM grants
    )
    SELECT
        row_number() OVER (ORDER BY pl.level, pl.oid, pl.kind, pl.sub),
        pl.oid::regclass, pl.action, pl.statement, pl.lock_mode, pl.detail
    FROM plan AS pl
    ORDER BY 1;
END
$body$;

COMMENT ON FUNCTION pgpart._reconcile_plan(regclass, boolean) IS
'What is out of step in the partitions of a managed parent (owner, index tablespaces, replica identity, storage parameters, grants) with the statement that fixes each; catalog only, never raises for a finding.';
-- source: sql/src/81_reconcile_apply.sql
-- pgpart._reconcile(parent, move_large, timeout, retries, dry_run): carries out
-- the reconcile plan of PARENT (pgpart._reconcile_plan), shared by
-- pgpart.reconcile and the event triggers; neither checks ownership nor logs.
-- When nothing is out of step it reads only the catalog and takes no lock.
-- Otherwise, lock-bounded (DESIGN §3): the advisory lock of the parent, then
-- LOCK TABLE ONLY each partition to change (OID order; ACCESS EXCLUSIVE, or
-- SHARE UPDATE EXCLUSIVE for storage parameters alone) as one group under
-- the lock timeout with retries; then plans again under those locks, so the
-- plan cannot be stale, and runs it. All or nothing: on an error or a lock
-- timeout nothing is changed. Refuses (0A000) grant propagation on a parent
-- with row-level security or column privileges. Its DDL runs with the event
-- triggers off (function-level SET, which reverts on return).
CREATE FUNCTION pgpart._reconcile(
    p_parent regclass,
    p_move_large boolean,
    p_timeout interval,
    p_retries integer,
    p_dry_run boolean
)
RETURNS TABLE (partition regclass, action text, statement text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
#variable_conflict use_column
DECLARE
    v_plan pgpart._fix [];
    v_steps pgpart.step [];
    v_refused text;
BEGIN
    v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    IF NOT p_dry_run AND EXISTS (
        SELECT 1 FROM unnest(v_plan) AS f WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
    ) THEN
        -- lock what the plan touches, then plan again under those locks
        PERFORM pgpart._acquire_locks(
            array(SELECT l.statement FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step),
            p_timeout, p_retries);
        v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    END IF;

    SELECT f.detail INTO v_refused FROM unnest(v_plan) AS f WHERE f.action = 'refused';
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = v_refused,
            HINT = format('Grant access on the parent only, and turn propagation off: '
                          'SELECT pgpart.set_policy(%L, propagate_grants => false);', p_parent::text),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;

    IF NOT p_dry_run THEN
        v_steps := array(SELECT l FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step)
                   || array(
                       SELECT ROW(1000000 + f.ord, f.partition::text, NULL, NULL, f.action, f.statement,
                                  f.lock_mode, false)::pgpart.step
                       FROM unnest(v_plan) AS f
                       WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
                       ORDER BY f.ord
                   );
        IF cardinality(v_steps) > 0 THEN
            PERFORM pgpart._run_steps(v_steps, p_timeout, p_retries);
        END IF;
    END IF;

    RETURN QUERY
    SELECT f.partition, f.action, f.statement, f.detail FROM unnest(v_plan) AS f ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._reconcile(regclass, boolean, interval, integer, boolean) IS
'Carries out the reconcile plan of a parent, lock-bounded and all or nothing, with the event triggers off; returns the plan. No ownership check, no log (internal).';

-- pgpart._reconcile_locks(parent, plan): the lock steps that precede a
-- reconcile plan: the parent's advisory lock, then each partition the plan
-- changes, ONLY, in OID order, in the strongest mode its statements need.
-- Empty when the plan changes nothing.
CREATE FUNCTION pgpart._reconcile_locks(p_parent regclass, p_plan pgpart._fix[])
RETURNS SETOF pgpart.step
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH parts AS (
        SELECT
            f.partition,
            CASE WHEN bool_or(f.lock_mode = 'ACCESS EXCLUSIVE') THEN 'ACCESS EXCLUSIVE'
                 ELSE 'SHARE UPDATE EXCLUSIVE' END AS mode
        FROM unnest(p_plan) AS f
        WHERE f.lock_mode IS NOT NULL AND f.action NOT IN ('skipped large', 'skipped', 'refused')
        GROUP BY f.partition
    ),
    locks AS (
        SELECT
            0::bigint AS n, NULL::text AS partition,
            format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)) AS statement,
            format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent) AS locks
        WHERE EXISTS (
            SELECT 1 FROM unnest(p_plan) AS f WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
        )
        UNION ALL
        SELECT
            row_number() OVER (ORDER BY p.partition::oid), p.partition::text,
            format('LOCK TABLE ONLY %s IN %s MODE', p.partition, p.mode),
            format('%s on %s', p.mode, p.partition)
        FROM parts AS p
    )
    SELECT ROW(l.n::integer + 1, l.partition, NULL, NULL, 'lock', l.statement, l.locks, false)::pgpart.step
    FROM locks AS l
    ORDER BY l.n;
$body$;

COMMENT ON FUNCTION pgpart._reconcile_locks(regclass, pgpart._fix[]) IS
'Lock steps before a reconcile plan: the parent''s advisory lock, then each partition to change (ONLY, OID order) in the mode it needs (internal).';
-- source: sql/src/82_reconcile.sql
-- pgpart.reconcile(parent, ...): brings every partition of a managed parent,
-- at every level, in step with the parent and the policy, and returns what it
-- changed (with DRY_RUN, what it would change): owner, local indexes in the
-- partition's tablespace, replica identity, the policy's storage parameters,
-- and the parent's grants when the policy propagates them. Idempotent: a
-- second call returns only what it may not do by itself. Moving an index
-- larger than the policy's move_large_bytes is a blocking rewrite: such moves
-- are returned as 'skipped large' with the statement to run, unless
-- MOVE_LARGE. Lock-bounded and all or nothing (pgpart._reconcile). The event
-- triggers run the same code after DDL on a managed parent; this function is
-- for the drift they cannot see (GRANT, REASSIGN OWNED, DDL while they were
-- off) and for servers without them.
CREATE FUNCTION pgpart.reconcile(
    parent regclass,
    move_large boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS TABLE (partition regclass, action text, statement text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_changes jsonb := '[]'::jsonb;
    r record;
BEGIN
    IF $2 IS NULL OR $5 IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'move_large and dry_run must not be NULL',
            HINT = 'Pass true or false.';
    END IF;
    IF $3 IS NULL OR $3 <= interval '0' OR $4 IS NULL OR $4 < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid lock_timeout %s or lock_retries %s',
                             coalesce($3::text, 'NULL'), coalesce($4::text, 'NULL')),
            HINT = 'Pass a positive lock_timeout such as ''200ms'' and lock_retries of 0 or more.';
    END IF;
    PERFORM pgpart._managed($1);

    FOR r IN SELECT * FROM pgpart._reconcile($1, $2, $3, $4, $5) AS x LOOP
        partition := r.partition;
        action := r.action;
        statement := r.statement;
        detail := r.detail;
        RETURN NEXT;
        IF r.action NOT IN ('skipped large', 'skipped') THEN
            v_changes := v_changes || jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                                         'statement', r.statement);
        END IF;
    END LOOP;
    IF NOT $5 AND jsonb_array_length(v_changes) > 0 THEN
        PERFORM pgpart._log($1, 'reconcile', 'ok', jsonb_build_object('source', 'reconcile', 'changes', v_changes));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.reconcile(regclass, boolean, interval, integer, boolean) IS
'Brings the partitions of a managed parent in step (owner, index tablespaces, replica identity, storage parameters, grants if propagated); returns what it changed, or with dry_run would change. Large index moves are reported unless move_large. Lock-bounded, all or nothing.';
-- source: sql/src/83_is_managed.sql
-- pgpart._is_managed(rel): whether REL is a parent pgpart manages with
-- reconcile on, i.e. whether the event triggers should act on it
-- (DESIGN §7). The triggers run as whoever ran the DDL, who may not be
-- allowed to read pgpart.config: they ask this SECURITY DEFINER helper, which
-- every role may call, before they touch any of pgpart's tables. It reveals
-- nothing more than pgpart.config, which every role may read, and takes a
-- bare OID: nothing in its argument is ever executed.
CREATE FUNCTION pgpart._is_managed(p_rel oid)
RETURNS boolean
LANGUAGE sql
STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS(
        SELECT 1 FROM pgpart.config AS c
        WHERE c.parent = $1::regclass AND c.reconcile
    );
END;

COMMENT ON FUNCTION pgpart._is_managed(oid) IS
'True when the relation is a managed parent whose partitions the event triggers keep in step (policy reconcile on). SECURITY DEFINER, callable by every role.';

GRANT EXECUTE ON FUNCTION pgpart._is_managed(oid) TO PUBLIC;
-- source: sql/src/84_log_event.sql
-- pgpart._log_event(parent, actor, commands, outcome, sqlstate, message,
-- changes): the one writer of the event triggers' entries in pgpart.log
-- (action 'reconcile', detail.source 'event trigger'). The triggers run as
-- whoever ran the DDL, who may not be allowed to write pgpart.log (or may
-- act on a partition it owns under a parent it does not own), so the entry
-- is written by this SECURITY DEFINER helper, which every role may call. It
-- writes nothing it cannot check: PARENT must be managed; ACTOR must be a
-- role the session may act as (session_user is a member of it) and must own
-- the parent or a relation of its partition tree; the other arguments have a
-- fixed shape and bounded size.
CREATE FUNCTION pgpart._log_event(
    p_parent regclass,
    p_actor name,
    p_commands text[],
    p_outcome text,
    p_sqlstate text,
    p_message text,
    p_changes jsonb
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_changes jsonb;
BEGIN
    IF p_outcome IS NULL OR p_outcome NOT IN ('ok', 'warning')
       OR (p_sqlstate IS NOT NULL AND p_sqlstate !~ '^[0-9A-Z]{5}$')
       OR (p_changes IS NOT NULL AND jsonb_typeof(p_changes) <> 'array')
       OR p_commands IS NULL
       OR NOT p_commands <@ ARRAY['CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'ALTER INDEX'] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid event trigger log entry',
            HINT = 'Only pgpart''s event triggers write these entries.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent);
    END IF;
    IF p_actor IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = p_actor)
       OR NOT pg_has_role(session_user, p_actor, 'MEMBER')
       OR NOT (
           (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = p_actor)
           OR EXISTS (
               SELECT 1 FROM pg_partition_tree(p_parent) AS t JOIN pg_class AS c ON c.oid = t.relid
               WHERE pg_has_role(p_actor, c.relowner, 'USAGE')
           )
       ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('role %s may not log events about table %s', coalesce(quote_ident(p_actor), 'NULL'),
                             p_parent),
            HINT = 'Only pgpart''s event triggers write these entries, in the name of the role that ran the DDL.';
    END IF;
    SELECT jsonb_agg(e.value ORDER BY e.n) INTO v_changes
    FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e (value, n)
    WHERE e.n <= 1000;
    INSERT INTO pgpart.log (parent, parent_name, actor, action, outcome, detail)
    VALUES (
        p_parent, p_parent::text, p_actor, 'reconcile', p_outcome,
        jsonb_strip_nulls(jsonb_build_object(
            'source', 'event trigger',
            'commands', to_jsonb(p_commands),
            'sqlstate', p_sqlstate,
            'message', left(p_message, 2000),
            'changes', v_changes,
            'changes_total', jsonb_array_length(p_changes)
        ))
    );
END
$body$;

COMMENT ON FUNCTION pgpart._log_event(regclass, name, text[], text, text, text, jsonb) IS
'Writes one event-trigger entry to pgpart.log (action reconcile) for a role that may not write it itself; checks the parent is managed and the actor is the session''s and owns part of its tree. SECURITY DEFINER, callable by every role.';

GRANT EXECUTE ON FUNCTION pgpart._log_event(regclass, name, text[], text, text, text, jsonb) TO PUBLIC;
-- source: sql/src/85_ddl_command_end.sql
-- pgpart._ddl_command_end(): the event trigger function (DESIGN §7). After
-- CREATE TABLE, ALTER TABLE, CREATE INDEX or ALTER INDEX by anyone, it brings
-- the partitions of the managed parents the command touched in step
-- (pgpart._reconcile): a new or attached partition gets the parent's owner
-- and its indexes in its tablespace; an index created on the parent moves
-- into each partition's tablespace; a partition moved to another tablespace
-- takes its indexes along; a new owner of the parent becomes the owner of
-- every partition. Event triggers cannot tell which partition an ATTACH
-- added, nor see the indexes it created, so the whole set is re-checked.
-- Moving a large index is a blocking rewrite: it is left, with a NOTICE and
-- an entry in pgpart.log, for pgpart.check() and reconcile(move_large).
--
-- It runs for every such command of every role, with that role's rights:
--   * it returns at once when pgpart.event_triggers is off (pgpart's own DDL
--     helpers set it with a function-level SET, which reverts on return;
--     pg_restore runs with PGOPTIONS='-c pgpart.event_triggers=off'), under
--     session_replication_role = replica, and for commands of extension
--     scripts;
--   * it decides from pg_catalog alone whether a partitioned table or a
--     partition was touched, then asks the SECURITY DEFINER
--     pgpart._is_managed, and touches none of pgpart's tables otherwise;
--     a role that may not use schema pgpart cannot ask, so its commands are
--     left alone (without a message) for check() and maintenance;
--   * no error escapes: a failure becomes a WARNING carrying its SQLSTATE,
--     logged through the SECURITY DEFINER pgpart._log_event, and the user's
--     command succeeds.
CREATE FUNCTION pgpart._ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_objects oid [];
    v_parents regclass [];
    v_commands text [];
    v_parent regclass;
    v_changes jsonb;
    v_skipped jsonb;
    v_large bigint;
    v_state text;
    v_message text;
BEGIN
    IF lower(coalesce(current_setting('pgpart.event_triggers', true), '')) IN ('off', 'false', 'no', '0')
       OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;

    -- pg_catalog alone. First, mostly through the system caches (cheap, and
    -- all that unrelated DDL pays): did the command touch a partitioned
    -- table, a partition, or an index of one? pg_partition_root is NULL for
    -- anything else, and for an index not attached to a parent index, whose
    -- table is looked up (the indexes CREATE TABLE reports come with their
    -- table).
    SELECT array_agg(cmd.objid), array_agg(DISTINCT cmd.command_tag)
    INTO v_objects, v_commands
    FROM pg_event_trigger_ddl_commands() AS cmd
    WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
      AND (
          pg_partition_root(cmd.objid) IS NOT NULL
          OR (cmd.command_tag IN ('CREATE INDEX', 'ALTER INDEX') AND EXISTS (
              SELECT 1 FROM pg_index AS x WHERE x.indexrelid = cmd.objid AND pg_partition_root(x.indrelid) IS NOT NULL
          ))
      );
    IF v_objects IS NULL THEN
        RETURN;
    END IF;
    -- Then every partitioned table above (or being) the table touched,
    -- directly or through one of its indexes.
    SELECT array_agg(DISTINCT a.relid ORDER BY a.relid) INTO v_parents
    FROM unnest(v_objects) AS o (objid)
    JOIN pg_class AS c ON c.oid = o.objid
    LEFT JOIN pg_index AS i ON i.indexrelid = c.oid
    JOIN pg_class AS t ON t.oid = coalesce(i.indrelid, c.oid)
    CROSS JOIN LATERAL pg_partition_ancestors(t.oid) AS a (relid)
    JOIN pg_class AS pc ON pc.oid = a.relid
    WHERE (t.relkind = 'p' OR t.relispartition) AND pc.relkind = 'p';
    IF v_parents IS NULL THEN
        RETURN;
    END IF;

    -- Managed parents only. A role that may not ask (no USAGE on schema
    -- pgpart, or no EXECUTE on the helper) cannot be told anything, and when
    -- the question itself fails nobody knows whether pgpart manages them:
    -- either way, nothing to say about them.
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE')
           OR NOT has_function_privilege('pgpart._is_managed(oid)', 'EXECUTE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT p.p FROM unnest(v_parents) AS p (p) WHERE pgpart._is_managed(p.p) ORDER BY p.p);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;

    FOREACH v_parent IN ARRAY v_parents LOOP
        v_changes := NULL;
        v_skipped := NULL;
        v_large := 0;
        v_state := NULL;
        v_message := NULL;
        BEGIN
            SELECT
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement))
                FILTER (WHERE r.action NOT IN ('skipped large', 'skipped')),
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement, 'detail', r.detail))
                FILTER (WHERE r.action IN ('skipped large', 'skipped')),
                count(*) FILTER (WHERE r.action = 'skipped large')
            INTO v_changes, v_skipped, v_large
            FROM pgpart._reconcile(v_parent, false, interval '200ms', 2, false) AS r;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            v_changes := NULL;
            v_skipped := NULL;
            v_large := 0;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not bring the partitions of %s in step: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded; pgpart changed nothing after it.',
                HINT = format('pgpart.check(%L) lists what is out of step; SELECT * FROM pgpart.reconcile(%L); '
                              'or maintenance repairs it.', v_parent::text, v_parent::text);
        END;
        IF v_large > 0 THEN
            RAISE NOTICE USING
                MESSAGE = format('pgpart: %s index(es) of partitions of %s left outside their partition''s tablespace: '
                                 'moving them rewrites them under ACCESS EXCLUSIVE', v_large, v_parent),
                HINT = format('When that may block, run SELECT * FROM pgpart.reconcile(%L, move_large => true); '
                              'pgpart.check(%L) lists each move.', v_parent::text, v_parent::text);
        END IF;
        CONTINUE WHEN v_changes IS NULL AND v_skipped IS NULL AND v_state IS NULL;
        BEGIN
            PERFORM pgpart._log_event(
                v_parent, current_user, v_commands, CASE WHEN v_state IS NULL THEN 'ok' ELSE 'warning' END,
                v_state, v_message, coalesce(v_changes, '[]'::jsonb) || coalesce(v_skipped, '[]'::jsonb));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not log the reconcile of %s: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded.';
        END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._ddl_command_end() IS
'Event trigger function: after DDL touching a managed parent or its partitions, brings the partitions in step (pgpart._reconcile); never raises, warns instead.';
-- source: sql/src/89_event_triggers.sql
-- The event triggers (DESIGN §7). Creating one needs a superuser: CREATE
-- EXTENSION creates them as extension members; the Python script install
-- runs these statements only where the role may, and warns otherwise.
-- Everything else works without them: pgpart.reconcile and maintenance repair
-- what they would have. Each statement stands alone (the script installer
-- recognises them one by one). sqlfluff cannot parse CREATE EVENT TRIGGER.
CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end  -- noqa: PRS
WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'ALTER INDEX')
EXECUTE FUNCTION pgpart._ddl_command_end();

COMMENT ON EVENT TRIGGER pgpart_ddl_command_end IS
'pgpart: after DDL on a managed parent or its partitions, brings every partition in step (owner, index tablespaces, replica identity, storage parameters, grants if propagated). Off with SET pgpart.event_triggers = off.';
