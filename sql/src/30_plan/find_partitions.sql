-- pgpart._partition_tree(parent): every table and partitioned table below
-- PARENT, at every level, with its owner, grants and effective tablespace.
-- Read from the catalog only (never waits for a lock); the checks on
-- indexes, owners and grants of partitions share it.
CREATE FUNCTION pgpart._partition_tree(p_parent regclass)
RETURNS TABLE (rel oid, relkind "char", relowner oid, relacl aclitem[], spc oid)
LANGUAGE plpgsql
STABLE
-- a tree is tens of tables, not the default thousand: joins to pg_index
-- and pg_class then take index scans instead of hashing the whole catalog
ROWS 20
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_level oid [] := ARRAY[p_parent::oid];
    v_tree oid [] := ARRAY[]::oid [];
BEGIN
    -- level by level with = ANY (array): index scans of pg_inherits and
    -- pg_class, so the cost follows the tree, not the catalog (a recursive
    -- CTE is estimated at thousands of rows and planned as sequential
    -- scans: check() over N parents then cost N times the whole catalog)
    LOOP
        v_level := array(SELECT i.inhrelid FROM pg_inherits AS i WHERE i.inhparent = ANY (v_level));
        EXIT WHEN cardinality(v_level) = 0;
        v_tree := v_tree || v_level;
    END LOOP;
    RETURN QUERY
    SELECT c.oid, c.relkind, c.relowner, c.relacl, coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    FROM pg_class AS c
    CROSS JOIN pg_database AS d
    WHERE c.oid = ANY (v_tree) AND c.relkind IN ('r', 'p') AND d.datname = current_database();
END
$body$;

COMMENT ON FUNCTION pgpart._partition_tree(regclass) IS
'Every table and partitioned table below a parent, at every level, with owner, grants and effective tablespace (internal).';

-- pgpart._find_index_tablespaces(parent): code 'index_tablespace'. An
-- index of a partition (at any level) in another tablespace than its
-- partition: moving a partition moves its indexes, an index left behind
-- fills the tablespace the partition was moved out of.
CREATE FUNCTION pgpart._find_index_tablespaces(p_parent regclass)
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
CREATE FUNCTION pgpart._find_partition_owners(p_parent regclass)
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
CREATE FUNCTION pgpart._find_rls_grants(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    -- most parents have no row-level security: no need to walk their tree
    IF NOT coalesce((SELECT pc.relrowsecurity FROM pg_class AS pc WHERE pc.oid = p_parent), false) THEN
        RETURN;
    END IF;
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
CREATE FUNCTION pgpart._find_invalid_indexes(p_parent regclass)
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
    -- = ANY (array): an index scan of pg_index per table of the tree (an OR
    -- with a subquery scanned the whole of pg_index once per parent)
    WHERE ix.indrelid = ANY (p_parent::oid || array(SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p))
      AND NOT ix.indisvalid;
END
$body$;

COMMENT ON FUNCTION pgpart._find_invalid_indexes(regclass) IS
'Finding invalid_index of pgpart.check(): invalid indexes of the parent or of its partitions, each with the fix for its cause (internal).';

-- pgpart._find_hash_remainders(parent): code 'hash_remainder_missing'
-- (urgent). A HASH-partitioned table (the parent, or a sub-partitioned
-- partition) missing a remainder: rows that hash there cannot be inserted.
CREATE FUNCTION pgpart._find_hash_remainders(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    -- neither HASH itself nor sub-partitioned (the common case): nothing
    -- to walk
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent AND pt.partstrat = 'h')
       AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
                       WHERE i.inhparent = p_parent AND c.relkind = 'p') THEN
        RETURN;
    END IF;
    RETURN QUERY
    -- the partitioned tables of the tree: pgpart._partition_tree reads it
    -- by index (a recursive CTE here scanned pg_inherits once per parent)
    WITH tree AS (
        SELECT p_parent::oid AS rel
        UNION ALL
        SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p WHERE p.relkind = 'p'
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
                THEN pgpart._fix_call('SELECT * FROM pgpart.create_hash_partitions', p_parent, format(', %s', x.modulus))
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
