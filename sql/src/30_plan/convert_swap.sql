-- pgpart._convert_swap(table, key, legacy_name, lock_timeout, lock_retries):
-- the swap of a conversion, in the caller's transaction: locks the plain
-- table ACCESS EXCLUSIVE (and its dependent views) under the lock timeout,
-- renames it to LEGACY_NAME, creates the partitioned parent under the
-- original name with everything the table had (columns, defaults,
-- identity continued from its last value, generated columns, NOT NULL and
-- CHECK constraints, indexes and unique keys, foreign keys out, triggers,
-- RLS, policies, grants, owner, comments, statistics targets, extended
-- statistics, replica identity, tablespace), attaches the old table as the
-- range partition FROM (MINVALUE) TO (the validated bound), then points
-- dependent views and publications at the parent. The legacy partition
-- loses its direct grants (read through the parent, as every partition).
-- Catalog work only: the bound was validated and every index the parent
-- adopts exists, so nothing here scans or copies rows. Returns the legacy
-- partition.
-- Unique keys without the partition key (pgpart._convert_unique_sets) go
-- through global unique constraints built before: incoming foreign keys
-- are pointed at their side tables (NOT VALID), a primary key becomes its
-- widened twin (columns, key), and the constraints are rebound to the
-- parent (pgpart._gu_rebind).
-- WHY one long function (~300 lines): every statement must run in this
-- order in one transaction, and each definition has to be read before the
-- rename changes how pg_get_*def prints the table's name; split up, the
-- captured texts would have to travel between functions.
CREATE FUNCTION pgpart._convert_swap(
    p_table regclass,
    p_key name,
    p_legacy_name name,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET datestyle = 'ISO, YMD'
-- ADD PRIMARY KEY USING INDEX tells that it renames the index: expected
SET client_min_messages = 'warning'
AS $body$
DECLARE
    v_rel record;
    v_schema name;
    v_name name;
    v_parent text;
    v_legacy regclass;
    v_names record;
    v_bound record;
    v_locks text [];
    v_before text [] := '{}'::text [];
    v_after text [] := '{}'::text [];
    v_late text [] := '{}'::text [];
    v_rec record;
    v_seq record;
    v_new name;
    v_i integer;
    v_stmt text;
    v_views integer := 0;
    v_pubs name [] := '{}'::name [];
    v_last bigint;
    v_called boolean;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    SELECT c.relname, n.nspname, pg_get_userbyid(c.relowner) AS owner, c.reltablespace, c.relrowsecurity,
           c.relforcerowsecurity, c.relreplident, c.relacl, obj_description(c.oid, 'pg_class') AS comment
    INTO v_rel
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    v_schema := v_rel.nspname;
    v_name := v_rel.relname;
    v_parent := format('%I.%I', v_schema, v_name);
    v_names := pgpart._convert_names(p_table);

    -- every lock first, as one group under the timeout with retries: the
    -- table, the views to recreate, the tables foreign keys out reference
    -- (first the tables whose foreign keys reference it and the side tables
    -- of its global unique constraints: pgpart._gu_repoint_foreign_keys)
    v_locks := array(SELECT DISTINCT format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', con.conrelid::regclass)
                     FROM pg_constraint AS con
                     WHERE con.confrelid = p_table AND con.contype = 'f' AND con.conrelid <> p_table)
        || array(SELECT format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', g.side_table)
                 FROM pgpart.global_unique AS g WHERE g.parent = p_table ORDER BY g.id)
        || ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_table)]
        || array(SELECT format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v.oid::regclass)
                 FROM pg_class AS v WHERE v.oid IN (SELECT pgpart._convert_views(p_table)) ORDER BY v.oid)
        || array(SELECT DISTINCT format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', con.confrelid::regclass)
                 FROM pg_constraint AS con
                 WHERE con.conrelid = p_table AND con.contype = 'f' AND con.confrelid <> p_table);
    PERFORM pgpart._acquire_locks(v_locks, p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);

    -- re-checked under the lock: nothing has changed since the plan
    PERFORM pgpart._convert_refuse(p_table, p_key);
    v_bound := pgpart._convert_recorded_bound(p_table);
    IF v_bound.bound_literal IS NULL OR NOT v_bound.validated
       OR NOT (SELECT a.attnotnull FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not ready for its swap', p_table),
            DETAIL = format('The key %I must be NOT NULL and the bound constraint %I validated first.',
                            p_key, v_names.bound),
            HINT = 'Run the steps of pgpart.convert_to_partitioned(..., dry_run => true) in order, or call it '
                   || 'without dry_run.',
            SCHEMA = v_schema, TABLE = v_name;
    END IF;

    -- unique keys without the partition key: their global unique
    -- constraints built, a primary key's widened index built
    FOR v_rec IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        v_new := pgpart._relation_name(v_rec.index_name::text, '_convert');
        IF NOT pgpart._gu_plain_ready(p_table, v_rec.columns)
           OR (v_rec.contype = 'p' AND NOT EXISTS (
                   SELECT 1 FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
                   WHERE x.indrelid = p_table AND ic.relname = v_new AND x.indisvalid)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('table %s is not ready for its swap: unique key %I lacks the partition key',
                                 p_table, v_rec.index_name),
                DETAIL = format('A valid global unique constraint on (%s)%s must exist first.',
                                array_to_string(v_rec.columns, ', '),
                                CASE WHEN v_rec.contype = 'p'
                                     THEN format(' and the unique index %I on (%s, %s)', v_new,
                                                 array_to_string(v_rec.columns, ', '), p_key) ELSE '' END),
                HINT = 'Run the steps of pgpart.convert_to_partitioned(..., dry_run => true) in order (Client.convert '
                       || 'or pgpart convert does).',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
    END LOOP;
    -- incoming foreign keys now reference the side tables (NOT VALID: the
    -- next plan validates them online), so the old unique keys can go: a
    -- primary key becomes its widened twin, the others are dropped (their
    -- global unique constraints keep the columns unique)
    PERFORM count(*) FROM pgpart._gu_repoint_foreign_keys(p_table, NULL, false, p_lock_timeout, p_lock_retries);
    FOR v_rec IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        IF v_rec.contype = 'p' THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                           p_table, v_rec.constraint_name, v_rec.constraint_name,
                           pgpart._relation_name(v_rec.index_name::text, '_convert'));
        ELSIF v_rec.contype = 'u' THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', p_table, v_rec.constraint_name);
        ELSE
            EXECUTE format('DROP INDEX %I.%I', v_schema, v_rec.index_name);
        END IF;
    END LOOP;

    -- 1. read every definition while the table still has its name
    -- indexes: those backing a primary key or unique constraint are added
    -- as constraints, the others as indexes; the old ones are renamed
    FOR v_rec IN
        SELECT x.indexrelid, ic.relname, con.oid AS con_oid, con.conname, x.indisreplident,
               obj_description(x.indexrelid, 'pg_class') AS idx_comment,
               obj_description(con.oid, 'pg_constraint') AS con_comment
        FROM pg_index AS x
        JOIN pg_class AS ic ON ic.oid = x.indexrelid
        LEFT JOIN pg_constraint AS con ON con.conindid = x.indexrelid AND con.conrelid = p_table
            AND con.contype IN ('p', 'u')
        WHERE x.indrelid = p_table
        ORDER BY (con.contype = 'p') DESC NULLS LAST, x.indexrelid
    LOOP
        v_i := 0;
        v_new := pgpart._relation_name(v_rec.relname::text, '_legacy');
        WHILE EXISTS (SELECT 1 FROM pg_class AS c
                      WHERE c.relname = v_new AND c.relnamespace = v_schema::regnamespace) LOOP
            v_i := v_i + 1;
            v_new := pgpart._relation_name(v_rec.relname::text, '_legacy' || v_i);
        END LOOP;
        v_before := v_before || format('ALTER INDEX %I.%I RENAME TO %I', v_schema, v_rec.relname, v_new);
        IF v_rec.con_oid IS NOT NULL THEN
            v_after := v_after || format('ALTER TABLE %s ADD CONSTRAINT %I %s', v_parent, v_rec.conname,
                                         pg_get_constraintdef(v_rec.con_oid));
            IF v_rec.con_comment IS NOT NULL THEN
                v_after := v_after || format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_rec.conname, v_parent,
                                             v_rec.con_comment);
            END IF;
        ELSE
            v_after := v_after || pg_get_indexdef(v_rec.indexrelid);
        END IF;
        IF v_rec.idx_comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON INDEX %I.%I IS %L', v_schema, v_rec.relname, v_rec.idx_comment);
        END IF;
        IF v_rec.indisreplident THEN
            v_after := v_after || format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', v_parent, v_rec.relname);
        END IF;
    END LOOP;
    IF v_rel.relreplident IN ('f', 'n') THEN
        v_after := v_after || format('ALTER TABLE %s REPLICA IDENTITY %s', v_parent,
                                     CASE v_rel.relreplident WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END);
    END IF;
    -- foreign keys out (before ATTACH: the old table's own key is adopted)
    FOR v_rec IN
        SELECT con.oid, con.conname, obj_description(con.oid, 'pg_constraint') AS comment
        FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.contype = 'f' ORDER BY con.oid
    LOOP
        v_after := v_after || format('ALTER TABLE %s ADD CONSTRAINT %I %s', v_parent, v_rec.conname,
                                     pg_get_constraintdef(v_rec.oid));
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_rec.conname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- row-level security and its policies
    IF v_rel.relrowsecurity THEN
        v_after := v_after || format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', v_parent);
    END IF;
    IF v_rel.relforcerowsecurity THEN
        v_after := v_after || format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', v_parent);
    END IF;
    FOR v_rec IN
        SELECT p.oid, p.polname, p.polpermissive, p.polcmd, pg_get_expr(p.polqual, p.polrelid) AS qual,
               pg_get_expr(p.polwithcheck, p.polrelid) AS withcheck,
               (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
                FROM unnest(p.polroles) AS r) AS roles,
               obj_description(p.oid, 'pg_policy') AS comment
        FROM pg_policy AS p WHERE p.polrelid = p_table ORDER BY p.oid
    LOOP
        v_after := v_after || format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', v_rec.polname, v_parent,
            CASE WHEN v_rec.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE v_rec.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                              WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
            v_rec.roles, ' USING (' || v_rec.qual || ')', ' WITH CHECK (' || v_rec.withcheck || ')');
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON POLICY %I ON %s IS %L', v_rec.polname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- triggers: dropped from the old table (else they would fire twice),
    -- created on the parent, which clones them to every partition
    FOR v_rec IN
        SELECT t.oid, t.tgname, t.tgenabled, obj_description(t.oid, 'pg_trigger') AS comment
        FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND NOT t.tgisinternal
          -- pgpart's own (global unique): pgpart._gu_rebind moves them
          AND NOT EXISTS (SELECT 1 FROM pg_proc AS f
                          WHERE f.oid = t.tgfoid AND f.pronamespace = 'pgpart'::regnamespace)
        ORDER BY t.oid
    LOOP
        v_before := v_before || format('DROP TRIGGER %I ON %s', v_rec.tgname, p_table);
        v_after := v_after || pg_get_triggerdef(v_rec.oid);
        IF v_rec.tgenabled <> 'O' THEN
            v_after := v_after || format('ALTER TABLE %s %s TRIGGER %I', v_parent,
                CASE v_rec.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END,
                v_rec.tgname);
        END IF;
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON TRIGGER %I ON %s IS %L', v_rec.tgname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- extended statistics (renamed on the old table, created on the parent)
    FOR v_rec IN
        SELECT s.oid, s.stxname, n.nspname, s.stxstattarget::integer AS target,
               obj_description(s.oid, 'pg_statistic_ext') AS comment
        FROM pg_statistic_ext AS s JOIN pg_namespace AS n ON n.oid = s.stxnamespace
        WHERE s.stxrelid = p_table ORDER BY s.oid
    LOOP
        v_i := 0;
        v_new := pgpart._relation_name(v_rec.stxname::text, '_legacy');
        WHILE EXISTS (SELECT 1 FROM pg_statistic_ext AS s
                      WHERE s.stxname = v_new AND s.stxnamespace = v_rec.nspname::regnamespace) LOOP
            v_i := v_i + 1;
            v_new := pgpart._relation_name(v_rec.stxname::text, '_legacy' || v_i);
        END LOOP;
        v_before := v_before || format('ALTER STATISTICS %I.%I RENAME TO %I', v_rec.nspname, v_rec.stxname, v_new);
        v_after := v_after || pg_get_statisticsobjdef(v_rec.oid);
        IF v_rec.target >= 0 THEN
            v_after := v_after || format('ALTER STATISTICS %I.%I SET STATISTICS %s', v_rec.nspname, v_rec.stxname,
                                         v_rec.target);
        END IF;
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON STATISTICS %I.%I IS %L', v_rec.nspname, v_rec.stxname,
                                         v_rec.comment);
        END IF;
    END LOOP;
    -- grants (table and columns), in the owner's name
    v_late := v_late || array(
        SELECT format('GRANT %s ON %s TO %s%s', a.privilege_type, v_parent,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                      CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM aclexplode(v_rel.relacl) AS a WHERE a.grantee <> (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_table));
    v_late := v_late || array(
        SELECT format('GRANT %s (%I) ON %s TO %s%s', a.privilege_type, att.attname, v_parent,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                      CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM pg_attribute AS att, aclexplode(att.attacl) AS a
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
        ORDER BY att.attnum);
    -- statistics targets of columns
    v_after := v_after || array(
        SELECT format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS %s', v_parent, att.attname, att.attstattarget)
        FROM pg_attribute AS att
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped AND att.attstattarget >= 0
        ORDER BY att.attnum);
    -- views: recreated against the parent (CREATE OR REPLACE keeps their
    -- owner, grants, comments and the views built on them)
    FOR v_rec IN
        SELECT v.oid, rtrim(pg_get_viewdef(v.oid), ';') AS def, v.reloptions
        FROM pg_class AS v WHERE v.oid IN (SELECT pgpart._convert_views(p_table)) ORDER BY v.oid
    LOOP
        v_late := v_late || format('CREATE OR REPLACE VIEW %s%s AS %s', v_rec.oid::regclass,
            CASE WHEN v_rec.reloptions IS NOT NULL
                 THEN format(' WITH (%s)', array_to_string(v_rec.reloptions, ', ')) ELSE '' END, v_rec.def);
        v_views := v_views + 1;
    END LOOP;
    -- publications: the parent replaces the old table in each
    FOR v_rec IN
        SELECT p.pubname, pg_get_expr(pr.prqual, pr.prrelid) AS qual,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute AS a
                WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2 [])) AS cols
        FROM pg_publication_rel AS pr JOIN pg_publication AS p ON p.oid = pr.prpubid
        WHERE pr.prrelid = p_table ORDER BY p.oid
    LOOP
        v_pubs := v_pubs || v_rec.pubname;
        v_late := v_late || format('ALTER PUBLICATION %I ADD TABLE %s%s%s', v_rec.pubname, v_parent,
                      ' (' || v_rec.cols || ')', ' WHERE (' || v_rec.qual || ')');
    END LOOP;

    -- 2. the old table: triggers and identity go, the key's NOT NULL proof
    --    (now redundant) goes, indexes and statistics step aside, rename
    FOR v_seq IN
        SELECT att.attname, att.attidentity, s.seqrelid::regclass AS seq, sn.nspname AS seq_schema,
               sc.relname AS seq_name, s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, s.seqcycle
        FROM pg_attribute AS att
        JOIN pg_depend AS d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table
            AND d.refobjsubid = att.attnum AND d.classid = 'pg_class'::regclass AND d.deptype IN ('i', 'a')
        JOIN pg_sequence AS s ON s.seqrelid = d.objid
        JOIN pg_class AS sc ON sc.oid = s.seqrelid
        JOIN pg_namespace AS sn ON sn.oid = sc.relnamespace
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped
    LOOP
        IF v_seq.attidentity IN ('a', 'd') THEN
            -- DROP IDENTITY drops its sequence: the parent's identity gets a
            -- new one of the same name, continued from the last value
            EXECUTE format('SELECT last_value, is_called FROM %s', v_seq.seq) INTO v_last, v_called;
            v_before := v_before || format('ALTER TABLE %s ALTER COLUMN %I DROP IDENTITY', p_table, v_seq.attname);
            v_after := v_after || format(
                'ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s '
                || 'MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
                v_parent, v_seq.attname, CASE v_seq.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                v_seq.seq_schema, v_seq.seq_name, v_seq.seqincrement, v_seq.seqmin, v_seq.seqmax, v_seq.seqstart,
                v_seq.seqcache, CASE WHEN v_seq.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
                || format('SELECT setval(%L::regclass, %s, %L)', format('%I.%I', v_seq.seq_schema, v_seq.seq_name),
                          v_last, v_called);
        ELSE
            -- a serial's sequence: owned by the parent's column from now on
            v_after := v_after || format('ALTER SEQUENCE %s OWNED BY %s.%I', v_seq.seq, v_parent, v_seq.attname);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_names.not_null) THEN
        v_before := v_before || format('ALTER TABLE %s DROP CONSTRAINT %I', p_table, v_names.not_null);
    END IF;
    FOREACH v_stmt IN ARRAY v_before LOOP
        EXECUTE v_stmt;
    END LOOP;
    EXECUTE format('ALTER TABLE %s RENAME TO %I', p_table, p_legacy_name);
    v_legacy := p_table;

    -- 3. the parent under the original name; the bound stays on the old
    --    table only (it is that partition's constraint)
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS '
                   'INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (%I)%s',
                   v_parent, v_legacy, p_key,
                   CASE WHEN v_rel.reltablespace <> 0
                        THEN format(' TABLESPACE %I', (SELECT t.spcname FROM pg_tablespace AS t
                                                       WHERE t.oid = v_rel.reltablespace)) ELSE '' END);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', v_parent, v_names.bound);
    IF v_rel.owner <> current_user::text THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', v_parent, v_rel.owner);
    END IF;
    IF v_rel.comment IS NOT NULL THEN
        EXECUTE format('COMMENT ON TABLE %s IS %L', v_parent, v_rel.comment);
    END IF;
    FOREACH v_stmt IN ARRAY v_after LOOP
        EXECUTE v_stmt;
    END LOOP;

    -- the global unique constraints follow the parent (before the ATTACH,
    -- which clones their row triggers to the old table)
    IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = v_legacy) THEN
        PERFORM pgpart._gu_rebind(v_legacy, v_parent::regclass);
    END IF;

    -- 4. attach: no scan (the validated bound implies the partition
    --    constraint) and no index build (each parent index adopts its twin)
    --    (pgpart._gu_attach: a global unique constraint's statement
    --    triggers leave the old table for the ATTACH, before PostgreSQL 17)
    PERFORM pgpart._gu_attach(v_parent::regclass, v_legacy,
                              format('FOR VALUES FROM (MINVALUE) TO (%s)', v_bound.bound_literal));
    -- the legacy partition is read through the parent, as every partition
    -- pgpart makes: its direct grants go (they would bypass the parent's
    -- row-level security, check()'s rls_bypass)
    FOR v_rec IN
        SELECT DISTINCT a.grantee
        FROM pg_class AS c, aclexplode(c.relacl) AS a
        WHERE c.oid = v_legacy AND a.grantee <> c.relowner
        UNION
        SELECT a.grantee
        FROM pg_attribute AS att, pg_class AS c, aclexplode(att.attacl) AS a
        WHERE att.attrelid = v_legacy AND c.oid = v_legacy AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s CASCADE', v_legacy,
                       CASE WHEN v_rec.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(v_rec.grantee)) END);
    END LOOP;
    FOREACH v_new IN ARRAY v_pubs LOOP
        EXECUTE format('ALTER PUBLICATION %I DROP TABLE %s', v_new, v_legacy);
    END LOOP;
    FOREACH v_stmt IN ARRAY v_late LOOP
        EXECUTE v_stmt;
    END LOOP;
    PERFORM pgpart._log(v_parent::regclass, 'convert', 'ok', jsonb_build_object(
        'legacy', v_legacy::text, 'key', p_key, 'bound', v_bound.bound_literal, 'views', v_views));
    RETURN v_legacy;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_swap(regclass, name, name, interval, integer) IS
'The swap of a conversion: renames the plain table, creates the partitioned parent under its name with everything it had, attaches the old table as the legacy range partition and re-points views and publications; catalog work only (internal).';
