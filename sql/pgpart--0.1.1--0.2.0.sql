-- pgpart 0.1.1 -> 0.2.0. Run by ALTER EXTENSION pgpart UPDATE, or by
-- Client.install() over a script install. The result equals a fresh 0.2.0
-- install (tests/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit

-- Signatures that changed (run_maintenance gained dry_run and online and
-- the plan's columns; ensure_range takes everything create_range_partitions
-- takes): scripts/upgrade_draft.py drops the old ones before the routines.
-- check() returns a code column: CREATE OR REPLACE cannot change its columns.
DROP FUNCTION pgpart.check(regclass, timestamptz);

-- Routines, policies and comments new or changed since 0.1.1 (drafted by scripts/upgrade_draft.py).

DROP FUNCTION pgpart.run_maintenance(parent regclass, now_at timestamptz, lock_timeout interval, lock_retries integer);

DROP FUNCTION pgpart.ensure_range(parent regclass, "interval" text, premake integer, retention text, retention_action text, archive_schema name, archive_tablespace name, tablespace name, time_zone text, origin text, default_partition boolean, lock_timeout interval, lock_retries integer, now_at timestamptz, dry_run boolean);

-- new or changed since pgpart--0.1.1.sql
-- source: sql/src/10_schema/finding.sql
-- pgpart.finding_code: the stable code of each kind of finding of
-- pgpart.check(). Programs (the Django system checks, monitoring) branch on
-- the code, never on the English problem text, which may be reworded. The
-- list is the one source of truth: a check cannot return a code missing here
-- (the enum refuses it), and docs/check-codes.md documents exactly these
-- (tests/test_check_codes.py compares both). A new kind of finding adds its
-- code here (in an upgrade: ALTER TYPE pgpart.finding_code ADD VALUE) and a
-- row there. An enum rather than a domain over text: the list is readable
-- from the catalog (enum_range) and a new code is one ALTER TYPE.
CREATE TYPE pgpart.finding_code AS ENUM (
    'event_trigger_inactive',
    'orphan_policy',
    'owner_code',
    'maintenance_failed',
    'premake_out_of_bounds',
    'no_current_partition',
    'runway_short',
    'runway_unknown',
    'gap',
    'off_grid',
    'default_rows',
    'default_rows_unknown',
    'detach_pending',
    'detached_awaiting',
    'journal_stale',
    'index_tablespace',
    'owner_differs',
    'rls_bypass',
    'invalid_index',
    'drift',
    'grants_refused',
    'hash_remainder_missing',
    'referenced_by',
    'references',
    'published',
    'check_failed'
);

COMMENT ON TYPE pgpart.finding_code IS
'The stable code of a kind of finding of pgpart.check() (docs/check-codes.md): programs branch on it, not on the problem text.';

-- new or changed since pgpart--0.1.1.sql
-- pgpart.finding: one finding, the row every named check (pgpart._find_*)
-- returns, so that pgpart.check() is their union.
CREATE TYPE pgpart.finding AS (
    severity text,
    code pgpart.finding_code,
    parent_table regclass,
    partition regclass,
    problem text,
    fix text
);

COMMENT ON TYPE pgpart.finding IS
'One finding of a named check of pgpart.check(): severity, stable code, parent, partition, problem and ready-to-run fix.';

-- source: sql/src/20_core/error_report.sql
-- pgpart._error_report(sqlstate, message, detail, hint, schema, table): an
-- error caught by a verb that goes on (maintenance isolates each parent) as
-- the object it returns, so its caller gets the error itself (a typed error
-- in Python) rather than text to parse: the fields of PostgreSQL's error
-- report, empty ones left out.
CREATE OR REPLACE FUNCTION pgpart._error_report(
    p_sqlstate text,
    p_message text,
    p_detail text,
    p_hint text,
    p_schema text,
    p_table text
)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'sqlstate', nullif(p_sqlstate, ''),
        'message', p_message,
        'detail', nullif(p_detail, ''),
        'hint', nullif(p_hint, ''),
        'schema', nullif(p_schema, ''),
        'table', nullif(p_table, '')
    ));
$body$;

COMMENT ON FUNCTION pgpart._error_report(text, text, text, text, text, text) IS
'An error caught by a verb that goes on, as a jsonb object (sqlstate, message, detail, hint, schema, table) for its result.';

-- source: sql/src/30_plan/find_default_rows.sql
-- pgpart._find_default_rows(parent, now_at): codes 'default_rows' (urgent:
-- the default partition holds rows, so every ATTACH scans it under ACCESS
-- EXCLUSIVE and ranges with rows in it cannot be created) and
-- 'default_rows_unknown' (not permitted to read it, it is locked, or
-- reading it would run the owner's code). The read runs under a 10 ms lock
-- timeout, so the check never waits.
-- STABLE: it only reads (a dynamic read of table data, in check()'s snapshot).
CREATE OR REPLACE FUNCTION pgpart._find_default_rows(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_default regclass;
    v_strategy text;
    v_has_rows boolean;
BEGIN
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    SELECT c.strategy INTO v_strategy FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF has_table_privilege(v_default, 'SELECT') THEN
        PERFORM pgpart._guard_owner_code(p_parent, 'read');
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s)', v_default) INTO v_has_rows;
        IF v_has_rows THEN
            RETURN QUERY SELECT 'urgent', 'default_rows'::pgpart.finding_code, p_parent, v_default,
                            'the default partition holds rows: every new partition scans it under ACCESS EXCLUSIVE, '
                            'and ranges with rows in it cannot be created',
                            -- the move exists for the range grid only: a list value
                            -- needs a partition chosen by hand (add_list_values)
                            CASE WHEN v_strategy = 'range'
                                THEN format('CALL pgpart.move_default_rows(%L%s);', p_parent::text,
                                            pgpart._fix_now_at(p_now_at)) END;
        END IF;
    ELSE
        RETURN QUERY SELECT 'info', 'default_rows_unknown'::pgpart.finding_code, p_parent, v_default,
                        'rows in the default partition unknown: not permitted to read it', NULL::text;
    END IF;
EXCEPTION
    WHEN lock_not_available THEN
        RETURN QUERY SELECT 'info', 'default_rows_unknown'::pgpart.finding_code, p_parent, v_default,
                            'rows in the default partition unknown: it is locked', NULL::text;
    WHEN insufficient_privilege THEN
        RETURN QUERY SELECT 'info', 'default_rows_unknown'::pgpart.finding_code, p_parent, v_default,
                            'rows in the default partition unknown: reading them would run code of the '
                            'table''s owner (see the finding on owner code)', NULL::text;
END
$body$;

COMMENT ON FUNCTION pgpart._find_default_rows(regclass, timestamptz) IS
'Findings default_rows and default_rows_unknown of pgpart.check(): rows in the default partition, or why they could not be read (internal).';

-- source: sql/src/30_plan/find_drift.sql
-- pgpart._find_drift(parent): codes 'drift' (what pgpart.reconcile would
-- repair: replica identity, storage parameters, propagated grants,
-- partitioned indexes of sub-partitioned partitions; the fix is the repair
-- statement) and 'grants_refused' (urgent: grants are not propagated under
-- row-level security). Only for a policy with reconcile on. Owners and
-- index tablespaces of plain partitions are left to the owner and
-- index_tablespace checks. The plan reads the catalog only.
-- VOLATILE, as pgpart._reconcile_plan it calls.
CREATE OR REPLACE FUNCTION pgpart._find_drift(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.reconcile) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT CASE WHEN f.action = 'refused' THEN 'urgent' ELSE 'warning' END,
           CASE WHEN f.action = 'refused' THEN 'grants_refused'::pgpart.finding_code
                ELSE 'drift'::pgpart.finding_code END,
           p_parent, f.partition, f.detail,
           CASE WHEN f.action = 'refused'
                THEN format('SELECT * FROM pgpart.set_policy(%L, propagate_grants => false);', p_parent::text)
                ELSE f.statement || ';' END
    FROM pgpart._reconcile_plan(p_parent, true) AS f
    WHERE f.action NOT IN ('set owner', 'set index tablespace')
       OR (f.action = 'set index tablespace'
           AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = f.partition) = 'p')
    ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._find_drift(regclass) IS
'Findings drift and grants_refused of pgpart.check(): what pgpart.reconcile would repair, or refuses, for a policy with reconcile on (internal).';

-- source: sql/src/30_plan/find_links.sql
-- pgpart._find_foreign_keys(parent): codes 'referenced_by' (a foreign key
-- points at the parent: retention is refused, or DETACH locks the
-- referencing table) and 'references' (the parent points at another table:
-- every ATTACH locks it). Information, no fix.
CREATE OR REPLACE FUNCTION pgpart._find_foreign_keys(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_referenced_retention text;
BEGIN
    SELECT c.referenced_retention INTO v_referenced_retention FROM pgpart.config AS c WHERE c.parent = p_parent;
    RETURN QUERY
    SELECT 'info',
           CASE WHEN con.confrelid = p_parent THEN 'referenced_by'::pgpart.finding_code
                ELSE 'references'::pgpart.finding_code END,
           p_parent, NULL::regclass,
           CASE WHEN con.confrelid = p_parent
                THEN format('referenced by %s (%s): retention is %s', con.conrelid::regclass, con.conname,
                            CASE v_referenced_retention WHEN 'refuse' THEN 'refused'
                                 ELSE 'allowed, and DETACH locks it ACCESS EXCLUSIVE' END)
                ELSE format('references %s (%s): every ATTACH locks it SHARE ROW EXCLUSIVE', con.confrelid::regclass,
                            con.conname) END,
           NULL::text
    FROM pg_constraint AS con
    WHERE con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = p_parent OR con.confrelid = p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_foreign_keys(regclass) IS
'Findings referenced_by and references of pgpart.check(): foreign keys to and from the parent and the locks they cost (internal).';

-- pgpart._find_publications(parent): code 'published'. A publication
-- includes the parent: a detached partition leaves it, and dropping one is
-- not replicated. Information, no fix.
CREATE OR REPLACE FUNCTION pgpart._find_publications(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'info', 'published'::pgpart.finding_code, p_parent, NULL::regclass,
           format('published by %I: a detached partition leaves the publication, and dropping it is not replicated',
                  pub.pubname),
           NULL::text
    FROM pg_publication AS pub
    WHERE pub.puballtables
       OR EXISTS (SELECT 1 FROM pg_publication_rel AS pr WHERE pr.prpubid = pub.oid AND pr.prrelid = p_parent)
       OR EXISTS (SELECT 1 FROM pg_publication_namespace AS pn JOIN pg_class AS c ON c.relnamespace = pn.pnnspid
                  WHERE pn.pnpubid = pub.oid AND c.oid = p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_publications(regclass) IS
'Finding published of pgpart.check(): publications that include the parent, where detach and drop behave differently (internal).';

-- source: sql/src/30_plan/find_partitions.sql
-- pgpart._partition_tree(parent): every table and partitioned table below
-- PARENT, at every level, with its owner, grants and effective tablespace.
-- Read from the catalog only (never waits for a lock); the checks on
-- indexes, owners and grants of partitions share it.
CREATE OR REPLACE FUNCTION pgpart._partition_tree(p_parent regclass)
RETURNS TABLE (rel oid, relkind "char", relowner oid, relacl aclitem[], spc oid)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    )
    SELECT c.oid, c.relkind, c.relowner, c.relacl, coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
    CROSS JOIN pg_database AS d WHERE d.datname = current_database();
END
$body$;

COMMENT ON FUNCTION pgpart._partition_tree(regclass) IS
'Every table and partitioned table below a parent, at every level, with owner, grants and effective tablespace (internal).';

-- pgpart._find_index_tablespaces(parent): code 'index_tablespace'. An
-- index of a partition (at any level) in another tablespace than its
-- partition: moving a partition moves its indexes, an index left behind
-- fills the tablespace the partition was moved out of.
CREATE OR REPLACE FUNCTION pgpart._find_index_tablespaces(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'index_tablespace'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('index %s is in tablespace %s, its partition in %s', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t
                   WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), d.dattablespace)),
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)),
           format('ALTER INDEX %s SET TABLESPACE %I;', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc))
    FROM pgpart._partition_tree(p_parent) AS p
    JOIN pg_index AS ix ON ix.indrelid = p.rel
    JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    CROSS JOIN pg_database AS d
    WHERE d.datname = current_database() AND p.relkind = 'r'
      AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> p.spc;
END
$body$;

COMMENT ON FUNCTION pgpart._find_index_tablespaces(regclass) IS
'Finding index_tablespace of pgpart.check(): indexes of partitions in another tablespace than their partition (internal).';

-- pgpart._find_partition_owners(parent): code 'owner_differs'. A
-- partition (at any level) owned by another role than the parent: pgpart
-- acts as the parent's owner, and such a partition escapes its grants.
CREATE OR REPLACE FUNCTION pgpart._find_partition_owners(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'owner_differs'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('owner %I differs from the parent''s owner %I', pg_get_userbyid(p.relowner),
                  pg_get_userbyid(pc.relowner)),
           format('ALTER TABLE %s OWNER TO %I;', p.rel::regclass, pg_get_userbyid(pc.relowner))
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND p.relowner <> pc.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_partition_owners(regclass) IS
'Finding owner_differs of pgpart.check(): partitions owned by another role than their parent (internal).';

-- pgpart._find_rls_grants(parent): code 'rls_bypass' (urgent). On a
-- parent with row-level security, a role granted a partition directly reads
-- it without the parent's policies (they apply through the parent only).
CREATE OR REPLACE FUNCTION pgpart._find_rls_grants(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT DISTINCT 'urgent', 'rls_bypass'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('role %s may read partition %s directly, bypassing the row-level security of %s',
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  p.rel::regclass, p_parent),
           format('REVOKE ALL ON %s FROM %s;', p.rel::regclass,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN LATERAL aclexplode(p.relacl) AS a
    CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND pc.relrowsecurity AND a.grantee <> p.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_rls_grants(regclass) IS
'Finding rls_bypass of pgpart.check(): grants on partitions that bypass the row-level security of their parent (internal).';

-- pgpart._find_invalid_indexes(parent): code 'invalid_index'. Invalid
-- indexes of the parent or of a partition at any level (a failed CREATE
-- INDEX CONCURRENTLY, a partitioned index missing a partition's index):
-- they cost writes and serve no read. The fix depends on why.
CREATE OR REPLACE FUNCTION pgpart._find_invalid_indexes(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'invalid_index'::pgpart.finding_code, p_parent, ix.indrelid::regclass,
           format('index %s is invalid', ix.indexrelid::regclass),
           CASE WHEN ic.relkind = 'I'
                THEN format('-- create the missing partition indexes, then ALTER INDEX %s ATTACH PARTITION ...',
                            ix.indexrelid::regclass)
                -- a failed unique build fails again while its duplicates are there
                WHEN ix.indisunique
                THEN format('DROP INDEX CONCURRENTLY %s;  -- remove the duplicate keys, then create it again',
                            ix.indexrelid::regclass)
                ELSE format('REINDEX INDEX CONCURRENTLY %s;', ix.indexrelid::regclass) END
    FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    WHERE NOT ix.indisvalid
      AND (ix.indrelid = p_parent OR ix.indrelid IN (SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p));
END
$body$;

COMMENT ON FUNCTION pgpart._find_invalid_indexes(regclass) IS
'Finding invalid_index of pgpart.check(): invalid indexes of the parent or of its partitions, each with the fix for its cause (internal).';

-- pgpart._find_hash_remainders(parent): code 'hash_remainder_missing'
-- (urgent). A HASH-partitioned table (the parent, or a sub-partitioned
-- partition) missing a remainder: rows that hash there cannot be inserted.
CREATE OR REPLACE FUNCTION pgpart._find_hash_remainders(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT p_parent::oid AS rel
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
    SELECT 'urgent', 'hash_remainder_missing'::pgpart.finding_code, p_parent,
           CASE WHEN x.rel <> p_parent THEN x.rel::regclass END,
           format('%s has no hash partition for remainder %s of modulus %s: rows hashing there cannot be inserted',
                  x.rel::regclass, x.remainder, x.modulus),
           CASE WHEN x.rel = p_parent
                THEN format('SELECT * FROM pgpart.create_hash_partitions(%L, %s);', p_parent::text, x.modulus)
                ELSE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s);',
                            n.nspname, pgpart._relation_name(c.relname, '_h' || x.remainder), x.rel::regclass,
                            x.modulus, x.remainder) END
    FROM missing AS x
    JOIN pg_class AS c ON c.oid = x.rel
    JOIN pg_namespace AS n ON n.oid = c.relnamespace;
END
$body$;

COMMENT ON FUNCTION pgpart._find_hash_remainders(regclass) IS
'Finding hash_remainder_missing of pgpart.check(): HASH-partitioned tables (the parent or a partition) missing a remainder (internal).';

-- source: sql/src/30_plan/find_policy.sql
-- pgpart._fix_now_at(now_at): the ", now_at => ..." argument that a fix
-- carries, so that it acts as of the same reference time as the check that
-- found it (empty when that time is now). Shared by the named checks.
CREATE OR REPLACE FUNCTION pgpart._fix_now_at(p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- the literal must not depend on the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN CASE WHEN p_now_at <> now() THEN format(', now_at => %L', p_now_at) ELSE '' END;
END
$body$;

COMMENT ON FUNCTION pgpart._fix_now_at(timestamptz) IS
'The now_at argument a fix of pgpart.check() carries: empty when the check ran as of now (internal).';

-- pgpart._find_event_trigger(parent): code 'event_trigger_inactive'.
-- Without the event trigger, partitions made or changed by other tools come
-- in step only through maintenance or pgpart.reconcile; worth saying only
-- when some policy (PARENT's, or any when NULL) relies on reconcile.
CREATE OR REPLACE FUNCTION pgpart._find_event_trigger(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger AS e
                   WHERE e.evtname = 'pgpart_ddl_command_end' AND e.evtenabled <> 'D'
                     AND e.evtfoid = to_regprocedure('pgpart._ddl_command_end()'))
       AND EXISTS (SELECT 1 FROM pgpart.config AS c
                   WHERE c.reconcile AND (p_parent IS NULL OR c.parent = p_parent)) THEN
        RETURN QUERY SELECT 'info', 'event_trigger_inactive'::pgpart.finding_code, p_parent, NULL::regclass,
            'the event trigger pgpart_ddl_command_end is not active: partitions made or changed by other tools are '
            'brought in step only by maintenance or pgpart.reconcile',
            CASE WHEN EXISTS (SELECT 1 FROM pg_event_trigger AS e WHERE e.evtname = 'pgpart_ddl_command_end')
                 THEN 'ALTER EVENT TRIGGER pgpart_ddl_command_end ENABLE;  -- as a superuser'
                 ELSE 'CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end WHEN TAG IN (''CREATE TABLE'', '
                      '''ALTER TABLE'', ''CREATE INDEX'', ''ALTER INDEX'') EXECUTE FUNCTION pgpart._ddl_command_end();  '
                      '-- as a superuser' END;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_event_trigger(regclass) IS
'Finding event_trigger_inactive of pgpart.check(): the DDL event trigger is missing or disabled while a policy relies on reconcile (internal).';

-- pgpart._find_orphan_policies(parent): code 'orphan_policy'. Policies
-- whose table is gone (dropped while the event triggers were off); only in
-- a check of every table (PARENT NULL), as a policy of PARENT cannot be one.
CREATE OR REPLACE FUNCTION pgpart._find_orphan_policies(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'orphan_policy'::pgpart.finding_code, NULL::regclass, NULL::regclass,
           format('policy for a table that no longer exists (OID %s)', c.parent::oid),
           format('DELETE FROM pgpart.config WHERE parent = %s;', c.parent::oid)
    FROM pgpart.config AS c
    WHERE p_parent IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS pc WHERE pc.oid = c.parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_orphan_policies(regclass) IS
'Finding orphan_policy of pgpart.check(): policies whose table no longer exists, in a check of every table (internal).';

-- pgpart._find_owner_code(parent): code 'owner_code'. Owner code
-- that the caller may not run (docs/security.md): pgpart refuses the work
-- that would run it, so this parent's maintenance and fixes must run in a
-- session authenticated as its owner.
CREATE OR REPLACE FUNCTION pgpart._find_owner_code(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
BEGIN
    IF pgpart._trusted_for(p_parent) THEN
        RETURN;
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    RETURN QUERY
    SELECT 'warning', 'owner_code'::pgpart.finding_code, p_parent, NULL::regclass,
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
        SELECT CASE WHEN pgpart._default_partition(p_parent) IS NOT NULL THEN 'move'
                    WHEN v_cfg.strategy = 'range'
                         AND v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                        THEN 'read'
                    ELSE 'ddl' END AS work
    ) AS w
    -- judged as maintenance meets it: a superuser's (or a stranger's)
    -- maintenance switches to the owner, a member's does not
    CROSS JOIN LATERAL pgpart._untrusted_code(
        p_parent, w.work, NULL,
        NOT pg_has_role(current_user, pc.relowner, 'USAGE')
        OR (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
    ) AS u
    WHERE pc.oid = p_parent
    GROUP BY w.work, pc.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_owner_code(regclass) IS
'Finding owner_code of pgpart.check(): maintenance of the table would run code of a role the caller may not run (internal).';

-- pgpart._find_last_error(parent, now_at): code 'maintenance_failed'. The
-- last maintenance of PARENT failed (pgpart.config.last_error): its fix
-- runs that maintenance again.
CREATE OR REPLACE FUNCTION pgpart._find_last_error(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
-- the time in the message is shown in UTC, whatever the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'maintenance_failed'::pgpart.finding_code, p_parent, NULL::regclass,
           format('last maintenance failed at %s: %s', c.last_error_at, c.last_error),
           format('CALL pgpart.run_maintenance_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.last_error IS NOT NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._find_last_error(regclass, timestamptz) IS
'Finding maintenance_failed of pgpart.check(): the last maintenance of the table failed (internal).';

-- pgpart._find_premake(parent): code 'premake_out_of_bounds'. A
-- premake out of bounds (written into the policy row directly): maintenance
-- refuses the parent, and the runway checks do not walk it.
CREATE OR REPLACE FUNCTION pgpart._find_premake(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'urgent', 'premake_out_of_bounds'::pgpart.finding_code, p_parent, NULL::regclass,
           format('premake %s is out of bounds (0 to %s): maintenance refuses this table',
                  c.premake, pgpart._max_premake()),
           format('SELECT * FROM pgpart.set_policy(%L, premake => %s);', p_parent::text,
                  least(greatest(c.premake, 0), pgpart._max_premake()))
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.strategy = 'range' AND c.premake NOT BETWEEN 0 AND pgpart._max_premake();
END
$body$;

COMMENT ON FUNCTION pgpart._find_premake(regclass) IS
'Finding premake_out_of_bounds of pgpart.check(): a premake outside 0 to the maximum, which maintenance refuses (internal).';

-- source: sql/src/30_plan/find_range.sql
-- pgpart._find_runway(parent, now_at): codes 'no_current_partition'
-- (urgent: no partition holds the current key), 'runway_short' (the
-- partitions do not reach premake slots past the one of now) and
-- 'runway_unknown' (the highest integer key could not be read: locked, or
-- not permitted). RANGE parents with a premake in bounds only (the premake
-- check reports the others). The highest key is read under a 10 ms lock
-- timeout, so the check never waits.
-- VOLATILE, as pgpart._max_key it calls (dynamic reads of table data).
CREATE OR REPLACE FUNCTION pgpart._find_runway(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_now numeric;
    v_reach numeric;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
        RETURN;
    END IF;
    -- outside the block below: a grid that cannot be read fails the check
    v_grid := pgpart._grid(p_parent, p_now_at);
    BEGIN
        v_now := coalesce(v_grid.now_coord, coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '10ms'), 0));
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_now);
        FOR i IN 1 .. v_cfg.premake LOOP
            v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
        END LOOP;
        v_reach := pgpart._reach(p_parent, v_now);
        IF v_reach < v_slot.hi THEN
            RETURN QUERY SELECT
                CASE WHEN v_reach <= v_now THEN 'urgent' ELSE 'warning' END,
                CASE WHEN v_reach <= v_now THEN 'no_current_partition'::pgpart.finding_code
                     ELSE 'runway_short'::pgpart.finding_code END,
                p_parent, NULL::regclass,
                CASE WHEN v_reach <= v_now
                     THEN format('no partition holds the current key (%s): inserts fail or go to the default partition',
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now))
                     ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach),
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi)) END,
                format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', p_parent::text,
                       v_cfg.partition_interval, pgpart._fix_now_at(p_now_at));
        END IF;
    EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
        RETURN QUERY SELECT 'info', 'runway_unknown'::pgpart.finding_code, p_parent, NULL::regclass,
                        'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._find_runway(regclass, timestamptz) IS
'Findings no_current_partition, runway_short and runway_unknown of pgpart.check(): the RANGE partitions against the premake runway (internal).';

-- pgpart._find_gaps(parent, now_at): code 'gap'. Gaps between consecutive
-- RANGE partitions: rows there fail or go to the default partition. As the
-- runway check, only for a premake in bounds (maintenance refuses the rest).
CREATE OR REPLACE FUNCTION pgpart._find_gaps(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning', 'gap'::pgpart.finding_code, p_parent, g.next_part,
           format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi),
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo), g.next_part),
           format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', p_parent::text, v_cfg.partition_interval,
                  pgpart._fix_now_at(p_now_at))
    FROM (
        SELECT p.upper_coord AS hi,
               lead(p.lower_coord) OVER (ORDER BY p.lower_coord) AS next_lo,
               lead(p.partition) OVER (ORDER BY p.lower_coord) AS next_part
        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default
    ) AS g
    WHERE g.next_lo > g.hi;
END
$body$;

COMMENT ON FUNCTION pgpart._find_gaps(regclass, timestamptz) IS
'Finding gap of pgpart.check(): a key range between two consecutive RANGE partitions that no partition holds (internal).';

-- pgpart._find_off_grid(parent, now_at): code 'off_grid'. RANGE partitions
-- whose bounds are not one slot of the grid: respected by every verb, but
-- worth knowing (no fix). Only for a premake in bounds, as the runway check.
CREATE OR REPLACE FUNCTION pgpart._find_off_grid(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT coalesce(v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake(), false) THEN
        RETURN;
    END IF;
    v_grid := pgpart._grid(p_parent, p_now_at);
    RETURN QUERY
    SELECT 'info', 'off_grid'::pgpart.finding_code, p_parent, p.partition,
           format('partition off the grid of interval %L: its bounds are not one slot', v_cfg.partition_interval),
           NULL::text
    FROM pgpart._partitions(p_parent) AS p
    CROSS JOIN LATERAL pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, p.lower_coord) AS s
    WHERE NOT p.is_default AND p.lower_coord > '-Infinity'::numeric
      AND (s.lo <> p.lower_coord OR (s.hi <> p.upper_coord AND p.upper_coord <> 'Infinity'::numeric));
END
$body$;

COMMENT ON FUNCTION pgpart._find_off_grid(regclass, timestamptz) IS
'Finding off_grid of pgpart.check(): RANGE partitions whose bounds are not one slot of the grid (internal).';

-- source: sql/src/30_plan/find_retention.sql
-- pgpart._find_detach_pending(parent): code 'detach_pending'. A DETACH
-- ... CONCURRENTLY was interrupted: the partition stays half detached until
-- FINALIZE (maintenance finishes it too).
CREATE OR REPLACE FUNCTION pgpart._find_detach_pending(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'detach_pending'::pgpart.finding_code, p_parent, p.partition,
           'detach pending: an interrupted DETACH ... CONCURRENTLY',
           format('ALTER TABLE %s DETACH PARTITION %s FINALIZE;', p_parent, p.partition)
    FROM pgpart._partitions(p_parent) AS p WHERE p.detach_pending;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detach_pending(regclass) IS
'Finding detach_pending of pgpart.check(): partitions left half detached by an interrupted DETACH CONCURRENTLY (internal).';

-- pgpart._find_detached_awaiting(parent, now_at): code 'detached_awaiting'.
-- Tables that retention detached and whose archive or drop is still due
-- (the run was interrupted between its steps).
CREATE OR REPLACE FUNCTION pgpart._find_detached_awaiting(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'detached_awaiting'::pgpart.finding_code, p_parent, a.detached,
           format('detached by retention; its %s is still due', a.then_action),
           format('CALL pgpart.detach_and_archive_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart._detached_awaiting(p_parent) AS a;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detached_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check(): tables detached by retention whose archive or drop is still due (internal).';

-- pgpart._find_journal(parent, now_at): code 'journal_stale'. Retention
-- journal entries no longer valid (the table was dropped, renamed or
-- reattached by hand): retention discards them, never acts on them.
CREATE OR REPLACE FUNCTION pgpart._find_journal(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'info', 'journal_stale'::pgpart.finding_code, p_parent, j.detached::regclass,
           format('retention journal entry void: %s', j.problem),
           format('CALL pgpart.detach_and_archive_proc(%L%s);', p_parent::text, pgpart._fix_now_at(p_now_at))
    FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale';
END
$body$;

COMMENT ON FUNCTION pgpart._find_journal(regclass, timestamptz) IS
'Finding journal_stale of pgpart.check(): retention journal entries no longer valid, which retention discards (internal).';

-- source: sql/src/40_api/check.sql
-- pgpart.check(parent, now_at): compares policy with reality and returns
-- findings, each with a stable code (docs/check-codes.md) and a ready-to-run
-- fix where one exists. Never raises for a finding and never waits for a
-- lock: it reads the catalog, and the few reads of table data (rows in the
-- default partition, the highest integer key) run under a 10 ms lock
-- timeout; what it could not read is reported as a finding of its own.
-- It is the union of the named checks pgpart._find_* (one per kind of
-- finding, each testable alone); what it keeps is the loop over the parents
-- and the isolation of each parent's failure.
CREATE OR REPLACE FUNCTION pgpart.check(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, code text, parent_table regclass, partition regclass, problem text, fix text)
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
    v_state text;
    v_message text;
BEGIN
    PERFORM pgpart._check_args(interval '1s', 0, $2);
    IF $1 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = $1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', $1),
            HINT = 'Call pgpart.create_range_partitions for it first.';
    END IF;

    -- Findings about the installation, not about one parent.
    RETURN QUERY
    SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
    FROM (
        SELECT * FROM pgpart._find_event_trigger($1)
        UNION ALL SELECT * FROM pgpart._find_orphan_policies($1)
    ) AS f;

    FOR v_parent IN
        SELECT c.parent FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE $1 IS NULL OR c.parent = $1 ORDER BY c.parent
    LOOP
      -- Each parent in a block of its own: one whose check fails (a statement
      -- timeout, the lock table full, a broken policy row) is reported as a
      -- finding and the others are still checked (57014: see
      -- pgpart._statement_timed_out; a cancel stops the whole check).
      BEGIN
        -- UNION ALL runs its branches in this order: the findings come out
        -- grouped by kind, as they always have.
        RETURN QUERY
        SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
        FROM (
            SELECT * FROM pgpart._find_owner_code(v_parent)
            UNION ALL SELECT * FROM pgpart._find_last_error(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_premake(v_parent)
            UNION ALL SELECT * FROM pgpart._find_runway(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_gaps(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_off_grid(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_default_rows(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_detach_pending(v_parent)
            UNION ALL SELECT * FROM pgpart._find_detached_awaiting(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_journal(v_parent, $2)
            UNION ALL SELECT * FROM pgpart._find_index_tablespaces(v_parent)
            UNION ALL SELECT * FROM pgpart._find_partition_owners(v_parent)
            UNION ALL SELECT * FROM pgpart._find_rls_grants(v_parent)
            UNION ALL SELECT * FROM pgpart._find_invalid_indexes(v_parent)
            UNION ALL SELECT * FROM pgpart._find_drift(v_parent)
            UNION ALL SELECT * FROM pgpart._find_hash_remainders(v_parent)
            UNION ALL SELECT * FROM pgpart._find_foreign_keys(v_parent)
            UNION ALL SELECT * FROM pgpart._find_publications(v_parent)
        ) AS f;
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
            RAISE;
        END IF;
        -- the findings returned before the failure stand; this one says the rest is unknown
        RETURN QUERY SELECT 'urgent', 'check_failed'::pgpart.finding_code::text, v_parent, NULL::regclass,
                        format('check of %s failed: %s: %s; its other findings are unknown', v_parent, v_state,
                               v_message),
                        NULL::text;
      END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.check(regclass, timestamptz) IS
'Findings (severity, stable code, parent, partition, problem, ready-to-run fix) comparing policy with the catalog: runway, gaps, off-grid partitions, rows in the default, pending detaches, index tablespaces, owners, grants under row-level security, invalid indexes, foreign keys, publications, orphan policies; codes in docs/check-codes.md. Never waits for a lock.';

-- source: sql/src/40_api/ensure_range.sql
-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan. It takes every
-- argument create_range_partitions takes (START, RELOPTIONS, SUBPARTITION,
-- MAX_NEW) and passes them on, so no caller has to compose the two verbs.
CREATE OR REPLACE FUNCTION pgpart.ensure_range(
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
    dry_run boolean DEFAULT false,
    start text DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL
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
            $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
            default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
            dry_run => true, subpartition => $18, max_new => $19);
        IF num_nonnulls($4, $5, $6, $7) > 0 THEN
            SELECT count(*) INTO v_last
            FROM pgpart.create_range_partitions(
                $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
                default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
                dry_run => true, subpartition => $18, max_new => $19);
            RETURN NEXT ROW((v_last + 1)::integer, NULL, NULL, NULL, 'set policy', format('SELECT pgpart.set_policy(%s)', v_policy),
                            'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart.create_range_partitions(
        $1, v_interval, premake => $3, start => $16, time_zone => $9, origin => $10, tablespace => $8,
        default_partition => $11, reloptions => $17, lock_timeout => $12, lock_retries => $13, now_at => $14,
        dry_run => false, subpartition => $18, max_new => $19);
    IF num_nonnulls($4, $5, $6, $7) > 0 THEN
        PERFORM pgpart.set_policy($1, retention => $4, retention_action => $5, archive_schema => $6,
                                  archive_tablespace => $7);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(
    regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean,
    text, text[], jsonb, integer
) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive, sub-partitioning) and creates the missing partitions, in one transaction; takes every argument of create_range_partitions. NULL keeps what is configured.';

-- source: sql/src/40_api/run_maintenance.sql
-- Maintenance of every managed parent (DESIGN §3, §6). Each parent's work is
-- done with its owner's rights, only while the policy's author still owns
-- the table, and inside its own subtransaction: a failure is logged (in
-- pgpart.log and as last_error on the policy row) and the others go on.

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
-- logged and reported (ERROR: the error as an object: sqlstate, message,
-- detail, hint, schema, table), and the others go on; a user's cancel stops
-- the run.
-- DRY_RUN: the plan of all of maintenance, changing nothing and taking no
-- lock: the same loop, the same decisions, each verb called in its dry-run
-- mode where the real run calls it for real (finalize, create_range_partitions,
-- reconcile), then, in place of "retention due", the retention steps that
-- follow (detach_and_archive's plan; ONLINE: with DETACH CONCURRENTLY, as
-- the Python client runs it). STEP numbers each parent's plan from 1; a
-- failure the real run would meet (e.g. retention refused) is an "error" row.
-- Dry run only: a pending detach and a journal entry both due make the
-- archive of the finalized table come first in the plan, after the other
-- journal entries in the real run.
CREATE OR REPLACE FUNCTION pgpart.run_maintenance(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    partition text,
    detail text,
    step integer,
    lower_bound text,
    upper_bound text,
    statement text,
    locks text,
    top_level boolean,
    error jsonb
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR $1;
    p_now_at ALIAS FOR $2;
    p_timeout ALIAS FOR $3;
    p_retries ALIAS FOR $4;
    p_dry_run ALIAS FOR $5;
    p_online ALIAS FOR $6;
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    v_due boolean;
    -- rows of a parent's work, returned only once that work has succeeded
    v_rows pgpart.step [];
    v_details text [];
    v_timed_out boolean;
    v_n integer;  -- steps of the parent's plan so far (dry run)
    st pgpart.step;
    r record;
BEGIN
    IF p_dry_run IS NULL OR p_online IS NULL OR (p_online AND NOT p_dry_run) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid dry_run %s or online %s', coalesce(p_dry_run::text, 'NULL'),
                             coalesce(p_online::text, 'NULL')),
            DETAIL = 'online plans retention with DETACH ... CONCURRENTLY, which only a client can run: '
                     'it applies to a dry run only.',
            HINT = 'Pass dry_run => true with online => true, or leave online out.';
    END IF;
    IF pg_is_in_recovery() THEN
        RETURN;  -- a standby has nothing to maintain
    END IF;
    PERFORM pgpart._check_args(p_timeout, p_retries, p_now_at);
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    FOR v_parent IN SELECT * FROM pgpart._maintenance_parents(p_parent) LOOP
        v_n := 0;
        v_reason := pgpart._may_maintain(v_parent);
        IF v_reason IS NOT NULL THEN
            RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_reason, NULL::integer, NULL::text, NULL::text,
                                NULL::text, NULL::text, NULL::boolean, NULL::jsonb;
            CONTINUE;
        END IF;
        -- Pending detaches first, each in a subtransaction of its own: a later
        -- failure of this parent must not undo a finished detach. The step is
        -- the one retention would plan (pgpart._retention_plan); run, or
        -- returned by a dry run.
        FOR r IN
            SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i
            WHERE i.inhparent = v_parent AND i.inhdetachpending
            ORDER BY i.inhrelid
        LOOP
            st := ROW(NULL, r.partition::text, NULL, NULL, 'finalize',
                      format('SELECT pgpart._finalize_detach(%L::regclass, %L::regclass, %L, %s)',
                             v_parent::text, r.partition::text, p_timeout, p_retries),
                      format('SHARE UPDATE EXCLUSIVE on %s, ACCESS EXCLUSIVE on %s; waits for transactions using the parent',
                             v_parent, r.partition),
                      false)::pgpart.step;
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                IF NOT p_dry_run THEN
                    EXECUTE st.statement;
                    st.action := 'finalized';
                END IF;
                PERFORM set_config('role', v_caller, true);
                IF p_dry_run THEN
                    v_n := v_n + 1;
                    st.step := v_n;
                END IF;
                RETURN QUERY SELECT v_parent, st.action, st.partition, NULL::text, st.step, st.lower_bound,
                                    st.upper_bound, st.statement, st.locks, st.top_level, NULL::jsonb;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: could not finish the detach of %: % %', r.partition, v_state, v_message;
                    PERFORM pgpart._log(v_parent, 'finalize', CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                        jsonb_build_object('partition', r.partition::text, 'sqlstate', v_state,
                                                           'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    r.partition::text, format('%s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, st.statement, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END LOOP;
        v_rows := '{}';
        v_details := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else plan without locks first: when nothing is
            -- missing after all, no lock is taken.
            v_due := NOT pgpart._window_complete(v_parent, p_now_at);
            IF v_due THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 200) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due THEN
                -- real: the partitions created ('created'); dry run: its plan
                FOR st IN
                    SELECT s.*
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => p_timeout, lock_retries => p_retries,
                                                        now_at => p_now_at, max_new => 200,
                                                        dry_run => p_dry_run) AS s
                    ORDER BY s.step
                LOOP
                    v_rows := v_rows || st;
                    v_details := v_details || CASE
                        WHEN NOT p_dry_run THEN format('from %s to %s', st.lower_bound, st.upper_bound)
                    END;
                END LOOP;
            END IF;
            IF NOT p_dry_run THEN
                -- what retention will do next (a dry run plans its steps below)
                FOR r IN SELECT e.partition FROM pgpart._expired_partitions(v_parent, p_now_at, p_timeout) AS e LOOP
                    v_rows := v_rows || ROW(NULL, r.partition::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('retention %s, then %s', v_cfg.retention, v_cfg.retention_action);
                END LOOP;
                -- detached earlier (an interrupted run), its archive or drop still to do
                FOR r IN SELECT a.detached, a.then_action FROM pgpart._detached_awaiting(v_parent) AS a LOOP
                    v_rows := v_rows || ROW(NULL, r.detached::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('detached, then %s', r.then_action);
                END LOOP;
                -- journal entries no longer valid: retention discards them (never acts on them)
                FOR r IN SELECT j.detached_name, j.problem FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale' LOOP
                    v_rows := v_rows || ROW(NULL, r.detached_name, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('journal entry void, to discard: %s', r.problem);
                END LOOP;
            END IF;
            PERFORM set_config('role', v_caller, true);
            IF NOT p_dry_run AND v_cfg.last_error IS NOT NULL THEN
                UPDATE pgpart.config AS c SET last_error = NULL, last_error_at = NULL WHERE c.parent = v_parent;
            END IF;
            -- done: its rows are true now (a failure above would have undone them)
            RETURN QUERY
            SELECT v_parent, u.action, u.partition, v_details[u.ord::integer],
                   CASE WHEN p_dry_run THEN v_n + u.ord::integer END,
                   u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
            FROM unnest(v_rows) WITH ORDINALITY
                AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
            ORDER BY u.ord;
            v_n := v_n + cardinality(v_rows);
        EXCEPTION
            WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                        v_hint = PG_EXCEPTION_HINT, v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_message;
                    PERFORM pgpart._log(v_parent, 'maintenance', 'skipped', jsonb_build_object('sqlstate', '55P03',
                                                                                            'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_message, NULL::integer, NULL::text,
                                    NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report('55P03', v_message, v_detail, v_hint, v_schema, v_table);
            WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                v_timed_out := v_state = '57014';
                IF NOT p_dry_run THEN
                    RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('%s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
        END;
        -- Partitions made or changed by others, brought in step (reconcile) in
        -- a subtransaction of its own: its failure keeps what was created.
        -- (not after a statement timeout: the rest of that parent's work waits
        -- for the next run)
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent) THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                FOR r IN
                    SELECT x.partition, x.action, x.statement, x.detail
                    FROM pgpart.reconcile(v_parent, lock_timeout => p_timeout, lock_retries => p_retries,
                                          dry_run => p_dry_run) AS x
                LOOP
                    IF p_dry_run THEN
                        v_n := v_n + 1;
                        RETURN QUERY SELECT v_parent, r.action, r.partition::text, r.detail, v_n, NULL::text,
                                            NULL::text, r.statement, NULL::text, false, NULL::jsonb;
                    ELSE
                        RETURN QUERY SELECT v_parent,
                                            CASE WHEN r.action IN ('skipped large', 'skipped') THEN 'drift' ELSE 'reconciled' END,
                                            r.partition::text, r.action || coalesce(': ' || r.statement, ''),
                                            NULL::integer, NULL::text, NULL::text, r.statement, NULL::text,
                                            NULL::boolean, NULL::jsonb;
                    END IF;
                END LOOP;
                PERFORM set_config('role', v_caller, true);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF p_dry_run THEN
                    NULL;  -- reported below, nothing recorded
                ELSIF v_state = '55P03' THEN
                    PERFORM pgpart._log(v_parent, 'reconcile', 'skipped',
                                        jsonb_build_object('sqlstate', v_state, 'message', v_message));
                ELSE
                    RAISE WARNING 'pgpart: reconcile of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'reconcile', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    NULL::text, format('reconcile: %s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
        -- Dry run: the retention steps that follow (run_maintenance_proc and
        -- the clients run them one per transaction after this function),
        -- from the plan the retention step function executes
        -- (detach_and_archive), less the pending detaches finished above.
        IF p_dry_run AND NOT v_timed_out THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                v_rows := array(
                    SELECT s FROM pgpart.detach_and_archive(v_parent, p_timeout, p_retries, p_now_at,
                                                            dry_run => true, online => p_online) AS s
                    WHERE s.action <> 'finalize'
                    ORDER BY s.step
                );
                IF NOT EXISTS (SELECT 1 FROM unnest(v_rows) AS s WHERE s.action <> 'analyze') THEN
                    v_rows := '{}';  -- ANALYZE follows retention work, not a finalize alone
                END IF;
                PERFORM set_config('role', v_caller, true);
                RETURN QUERY
                SELECT v_parent, u.action, u.partition, NULL::text, v_n + u.ord::integer,
                       u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
                FROM unnest(v_rows) WITH ORDINALITY
                    AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
                ORDER BY u.ord;
                v_n := v_n + cardinality(v_rows);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('retention: %s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(regclass, timestamptz, interval, integer, boolean, boolean) IS
'Lock-light maintenance in one transaction for one or every managed parent: finishes pending detaches, creates partitions ahead, reconciles, reports retention due; errors as objects (sqlstate, message, detail, hint). A failing parent is logged and skipped. dry_run: the plan of all maintenance, retention steps included (online: as a client runs them), changing nothing.';

-- source: sql/src/40_api/unmanage.sql
-- pgpart.unmanage(parent, dry_run, missing_ok): stop managing a table.
-- Removes its policy row and nothing else: the partitions stay as they are,
-- attached, and become ordinary partitions pgpart no longer creates, detaches
-- or reconciles. It exists so that programs (the Python client, Django's
-- DeletePartitionedModel) never write pgpart.config themselves: the owner
-- check, the wait for pgpart's own work on the table and the log entry live
-- here, once. A pending detach is refused (55000): once the policy is gone,
-- nothing would finish it. missing_ok makes a table without a policy a no-op
-- (no row returned), as DROP ... IF EXISTS does.
CREATE OR REPLACE FUNCTION pgpart.unmanage(
    parent regclass,
    dry_run boolean DEFAULT false,
    missing_ok boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    applied boolean,
    partitions integer,
    policy jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parent regclass := unmanage.parent;
    v_policy jsonb;
    v_partitions integer;
    v_pending text;
    v_schema name;
    v_table name;
BEGIN
    PERFORM pgpart._require_owner(v_parent);  -- 42501 first: a refused call reveals nothing more
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = v_parent;
    IF dry_run IS NULL OR missing_ok IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('dry_run and missing_ok of pgpart.unmanage(%s) must not be NULL', v_parent),
            HINT = 'Pass true or false.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    -- pgpart's own work on the table (maintenance, an online retention run
    -- holding the session lock) must not lose its policy half-way.
    IF NOT pg_try_advisory_xact_lock(pgpart.advisory_key(v_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('pgpart is working on table %s', v_parent),
            DETAIL = format('Another session holds pgpart''s advisory lock %s on the table.',
                            pgpart.advisory_key(v_parent)),
            HINT = 'Retry when that maintenance or retention run has finished.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT to_jsonb(c) - 'last_error' - 'last_error_at' INTO v_policy
    FROM pgpart.config AS c WHERE c.parent = v_parent
    FOR UPDATE;
    IF v_policy IS NULL THEN
        IF missing_ok THEN
            RETURN;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', v_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Nothing to do; pass missing_ok => true to accept tables without a policy.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT string_agg(i.inhrelid::regclass::text, ', ' ORDER BY i.inhrelid::regclass::text)
    INTO v_pending
    FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has a pending detach', v_parent),
            DETAIL = format('Partitions %s are being detached; without a policy nothing would finish it.',
                            v_pending),
            HINT = format('Finish it first: SELECT * FROM pgpart.run_maintenance(%L), '
                          'or ALTER TABLE %s DETACH PARTITION ... FINALIZE.', v_parent::text, v_parent),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT count(*)::integer INTO v_partitions FROM pg_inherits AS i WHERE i.inhparent = v_parent;
    IF NOT dry_run THEN
        DELETE FROM pgpart.config AS c WHERE c.parent = v_parent;
        PERFORM pgpart._log(v_parent, 'unmanage', 'ok',
                            jsonb_build_object('partitions', v_partitions, 'policy', v_policy));
    END IF;
    parent_table := v_parent;
    action := 'unmanage';
    applied := NOT dry_run;
    partitions := v_partitions;
    policy := v_policy;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.unmanage(regclass, boolean, boolean) IS
'Stops managing a table: removes its policy (returned, and logged) and leaves its partitions attached. 42501 unless the caller owns the table, 55000 when it has no policy (unless missing_ok) or a detach is pending, 55P03 while pgpart works on it. dry_run changes nothing.';

