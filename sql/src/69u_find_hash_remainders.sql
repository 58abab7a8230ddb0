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
