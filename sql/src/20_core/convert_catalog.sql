-- pgpart._convert_names(table): the names of the two helper CHECK
-- constraints a conversion adds to the plain table before its swap: the
-- key's NOT NULL proof and the upper bound that lets ATTACH skip its scan.
-- WHY fixed names: a resumed conversion finds its own work in the catalog.
CREATE FUNCTION pgpart._convert_names(p_table regclass, OUT not_null name, OUT bound name)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
-- a string body: this file loads before names.sql
AS $body$
    SELECT
        pgpart._relation_name(c.relname::text, '_pgpart_key_not_null'),
        pgpart._relation_name(c.relname::text, '_pgpart_bound')
    FROM pg_class AS c WHERE c.oid = p_table;
$body$;

COMMENT ON FUNCTION pgpart._convert_names(regclass) IS
'Names of the helper CHECK constraints a conversion adds to a plain table: the key''s NOT NULL proof and the upper bound (internal).';

-- pgpart._convert_refusals(table, key): everything about a plain table that
-- convert_to_partitioned cannot carry over to a partitioned parent, one row
-- per object, read from the catalog (pg_depend, pg_constraint, pg_index, ...).
-- WHY one reader: the dry run lists every refusal at once, and the swap
-- re-checks the same list under its lock, so nothing is changed when any
-- row exists (issue 18: "refused up front ... and nothing is changed").
CREATE FUNCTION pgpart._convert_refusals(p_table regclass, p_key name)
RETURNS TABLE (object text, problem text, hint text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_rel record;
    v_key record;
BEGIN
    SELECT c.relkind, c.relpersistence, c.relispartition, c.reloftype, c.reltype, c.relhasrules
    INTO v_rel
    FROM pg_class AS c WHERE c.oid = p_table;
    IF v_rel.relkind IS DISTINCT FROM 'r' THEN
        RETURN QUERY SELECT p_table::text,
            format('%s is not an ordinary table (relkind %s)', p_table, v_rel.relkind),
            CASE WHEN v_rel.relkind = 'p'
                 THEN format('It is partitioned already: manage it with pgpart.ensure_range(%L, ...).', p_table::text)
                 ELSE 'Only a plain table can be converted.' END;
        RETURN;
    END IF;
    IF v_rel.relispartition THEN
        RETURN QUERY SELECT p_table::text, format('%s is a partition', p_table),
            'Convert the parent, or detach the partition first.';
    END IF;
    IF v_rel.relpersistence <> 'p' THEN
        RETURN QUERY SELECT p_table::text,
            format('%s is %s', p_table, CASE v_rel.relpersistence WHEN 'u' THEN 'UNLOGGED' ELSE 'TEMPORARY' END),
            'A partitioned table cannot be unlogged or temporary: ALTER TABLE ... SET LOGGED first.';
    END IF;
    IF v_rel.reloftype <> 0 THEN
        RETURN QUERY SELECT p_table::text, format('%s is a typed table (OF %s)', p_table, v_rel.reloftype::regtype),
            'ALTER TABLE ... NOT OF first.';
    END IF;
    RETURN QUERY
    SELECT i.inhrelid::regclass::text, format('%s inherits from or is inherited by %s',
                                                 i.inhrelid::regclass, i.inhparent::regclass),
           'Inheritance cannot be carried to a partitioned table: ALTER TABLE ... NO INHERIT first.'
    FROM pg_inherits AS i WHERE i.inhparent = p_table OR i.inhrelid = p_table;

    SELECT a.attname, a.atttypid::regtype AS typ, a.attgenerated INTO v_key
    FROM pg_attribute AS a
    WHERE a.attrelid = p_table AND a.attname = p_key AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_key.attname IS NULL THEN
        RETURN QUERY SELECT p_table::text, format('table %s has no column %I', p_table, p_key),
            'Pass key => one of the table''s columns.';
    ELSIF pgpart._key_clock(v_key.typ) IS NULL THEN
        RETURN QUERY SELECT format('%s.%I', p_table, p_key),
            format('column %I of %s has type %s, which pgpart cannot range-partition', p_key, p_table, v_key.typ),
            'Use a timestamptz, timestamp, date, uuid, smallint, integer or bigint column as the key.';
    ELSIF v_key.attgenerated <> '' THEN
        RETURN QUERY SELECT format('%s.%I', p_table, p_key),
            format('column %I of %s is generated', p_key, p_table),
            'Partition by a stored column.';
    END IF;

    -- unique keys without the partition key are carried through a global
    -- unique constraint (pgpart._convert_unique_sets) when they are plain
    -- column lists; others (partial, on expressions, deferrable) are not
    RETURN QUERY
    SELECT ic.relname::text,
           format('unique index %I of %s does not include the key column %I and is %s', ic.relname, p_table, p_key,
                  concat_ws(', ', CASE WHEN x.indpred IS NOT NULL THEN 'partial' END,
                            CASE WHEN 0 = ANY (x.indkey::int2 []) THEN 'on expressions' END,
                            CASE WHEN NOT x.indimmediate THEN 'deferrable' END)),
           'A partitioned table''s unique keys must include the partition key, and pgpart keeps only plain column '
           || 'lists unique across partitions: add the key column to it, or drop it before converting.'
    FROM pg_index AS x
    JOIN pg_class AS ic ON ic.oid = x.indexrelid
    WHERE x.indrelid = p_table AND x.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_table AND a.attname = p_key AND a.attnum = ANY (x.indkey::int2 []))
      AND x.indexrelid NOT IN (SELECT u.index_oid FROM pgpart._convert_unique_sets(p_table, p_key) AS u)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conindid = x.indexrelid AND con.contype = 'x');
    RETURN QUERY
    SELECT con.conname::text, format('exclusion constraint %I of %s is not carried over', con.conname, p_table),
           'Drop it before converting, and add it to the partitions afterwards.'
    FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.contype = 'x';
    RETURN QUERY
    SELECT con.conname::text, format('constraint %I of %s is NOT VALID', con.conname, p_table),
           format('Validate it first: ALTER TABLE %s VALIDATE CONSTRAINT %I.', p_table, con.conname)
    FROM pg_constraint AS con
    WHERE con.conrelid = p_table AND NOT con.convalidated AND con.contype IN ('c', 'f')
      -- the conversion's own helpers (validated by its plan)
      AND con.conname NOT IN (SELECT n.not_null FROM pgpart._convert_names(p_table) AS n
                              UNION ALL SELECT n.bound FROM pgpart._convert_names(p_table) AS n);
    RETURN QUERY
    SELECT con.conname::text, format('constraint %I of %s is NO INHERIT', con.conname, p_table),
           'A partitioned table cannot have NO INHERIT constraints: drop it, or add it again without NO INHERIT.'
    FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.connoinherit AND con.contype = 'c';
    -- foreign keys of other tables referencing this one: carried when they
    -- reference a unique key carried through a global unique constraint
    -- with NO ACTION or RESTRICT (pgpart._gu_foreign_key_plan: a cascading
    -- action would fire when a row moves between partitions)
    RETURN QUERY
    SELECT con.conname::text,
           format('foreign key %I of %s references %s%s', con.conname, con.conrelid::regclass, p_table,
                  CASE WHEN con.confupdtype NOT IN ('a', 'r') OR con.confdeltype NOT IN ('a', 'r')
                       THEN ' with a cascading or SET action' ELSE ' by a key that includes the partition key' END),
           'Incoming foreign keys are carried when they reference a unique key without the partition key (made '
           || 'unique across partitions) with NO ACTION or RESTRICT: drop it or recreate it so before converting.'
    FROM pg_constraint AS con
    WHERE con.confrelid = p_table AND con.contype = 'f' AND con.conrelid <> p_table AND con.conparentid = 0
      AND (con.confupdtype NOT IN ('a', 'r') OR con.confdeltype NOT IN ('a', 'r')
           OR NOT EXISTS (
               SELECT 1 FROM pgpart._convert_unique_sets(p_table, p_key) AS u
               WHERE (SELECT array_agg(c ORDER BY c) FROM unnest(u.columns) AS c)
                     = (SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_attribute AS a
                        WHERE a.attrelid = p_table AND a.attnum = ANY (con.confkey))));
    -- rules on the table itself
    RETURN QUERY
    SELECT r.rulename::text, format('rule %I on %s is not carried over', r.rulename, p_table),
           'Drop the rule (a trigger on the partitioned table can replace it).'
    FROM pg_rewrite AS r WHERE r.ev_class = p_table;
    -- row triggers with transition tables cannot live on a partitioned table
    RETURN QUERY
    SELECT t.tgname::text, format('trigger %I on %s is a row trigger with transition tables', t.tgname, p_table),
           'PostgreSQL refuses it on a partitioned table: make it a statement trigger, or drop it first.'
    FROM pg_trigger AS t
    WHERE t.tgrelid = p_table AND NOT t.tgisinternal AND (t.tgtype & 1) = 1
      AND (t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL);
    -- a partitioned table in a publication may have a row filter or column
    -- list only when the publication publishes via the partition root
    RETURN QUERY
    SELECT p.pubname::text,
           format('publication %I lists %s with a %s but does not publish via the partition root', p.pubname,
                  p_table, CASE WHEN pr.prqual IS NOT NULL THEN 'row filter' ELSE 'column list' END),
           format('ALTER PUBLICATION %I SET (publish_via_partition_root = true) first, or drop the filter.',
                  p.pubname)
    FROM pg_publication_rel AS pr JOIN pg_publication AS p ON p.oid = pr.prpubid
    WHERE pr.prrelid = p_table AND NOT p.pubviaroot AND (pr.prqual IS NOT NULL OR pr.prattrs IS NOT NULL);
    -- dependents by OID that the swap does not recreate: materialized views,
    -- SQL-standard function bodies, policies and rules of other tables,
    -- the table's row type used elsewhere
    RETURN QUERY
    SELECT DISTINCT r.ev_class::regclass::text,
           format('materialized view %s depends on %s', r.ev_class::regclass, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d
    JOIN pg_rewrite AS r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
    JOIN pg_class AS v ON v.oid = r.ev_class
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table AND r.ev_class <> p_table
      AND v.relkind = 'm';
    RETURN QUERY
    SELECT DISTINCT d.objid::regprocedure::text,
           format('function %s depends on %s (a SQL-standard body or the table''s row type)',
                  d.objid::regprocedure, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d
    WHERE d.classid = 'pg_proc'::regclass
      AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table)
           OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = v_rel.reltype));
    RETURN QUERY
    SELECT DISTINCT format('%I on %s', p.polname, p.polrelid::regclass),
           format('policy %I on %s refers to %s', p.polname, p.polrelid::regclass, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d JOIN pg_policy AS p ON d.classid = 'pg_policy'::regclass AND p.oid = d.objid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table AND p.polrelid <> p_table;
    RETURN QUERY
    SELECT DISTINCT format('%s.%I', a.attrelid::regclass, a.attname),
           format('column %I of %s has the row type of %s', a.attname, a.attrelid::regclass, p_table),
           'The row type stays with the old table: change that column''s type first.'
    FROM pg_attribute AS a
    WHERE a.atttypid = v_rel.reltype AND a.attrelid <> p_table AND NOT a.attisdropped;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_refusals(regclass, name) IS
'What convert_to_partitioned cannot carry from a plain table to a partitioned one: one row per object, with the problem and a hint (internal).';

-- pgpart._convert_views(table): the views that read the table directly
-- (through a rewrite rule depending on it). They follow the table by OID,
-- so a conversion recreates them against the new parent.
CREATE FUNCTION pgpart._convert_views(p_table regclass)
RETURNS SETOF oid
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT DISTINCT r.ev_class
    FROM pg_depend AS d
    INNER JOIN pg_rewrite AS r ON d.objid = r.oid
    INNER JOIN pg_class AS v ON r.ev_class = v.oid
    WHERE
        d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = p_table AND r.ev_class <> p_table AND v.relkind = 'v';
$body$;

COMMENT ON FUNCTION pgpart._convert_views(regclass) IS
'Views reading a table directly: a conversion recreates them against the new parent (internal).';

-- pgpart._convert_unique_sets(table, key): the unique keys of a plain table
-- that lack the partition key and that a conversion carries through a
-- global unique constraint on the same columns: non-partial, non-deferrable
-- unique indexes on plain columns (a primary key, a unique constraint or a
-- bare unique index). A primary key is also widened to (columns, key).
CREATE FUNCTION pgpart._convert_unique_sets(p_table regclass, p_key name)
RETURNS TABLE (index_oid oid, index_name name, constraint_name name, contype "char", columns name[])
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        x.indexrelid,
        ic.relname,
        con.conname,
        con.contype,
        (
            SELECT array_agg(a.attname ORDER BY u.n)
            FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS u (attnum, n)
            INNER JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND u.attnum = a.attnum
            WHERE u.n <= x.indnkeyatts
        )
    FROM pg_index AS x
    INNER JOIN pg_class AS ic ON x.indexrelid = ic.oid
    LEFT JOIN pg_constraint AS con
        ON
            x.indexrelid = con.conindid AND x.indrelid = con.conrelid
            AND con.contype IN ('p', 'u')
    WHERE
        x.indrelid = p_table AND x.indisunique AND x.indpred IS NULL AND x.indimmediate
        AND NOT (0 = any(x.indkey::int2[]))
        AND NOT EXISTS (
            SELECT 1 FROM pg_attribute AS a
            WHERE a.attrelid = x.indrelid AND a.attname = p_key AND a.attnum = any(x.indkey::int2[])
        )
    ORDER BY con.contype = 'p' DESC NULLS LAST, x.indexrelid;
$body$;

COMMENT ON FUNCTION pgpart._convert_unique_sets(regclass, name) IS
'Unique keys of a plain table without the partition key that a conversion carries through global unique constraints (internal).';
