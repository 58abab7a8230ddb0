-- Reconcile, part 1: what is out of step (DESIGN §7, issue 4). PostgreSQL
-- leaves a partition made by CREATE TABLE ... PARTITION OF or ATTACH owned by
-- whoever ran it, its indexes wherever the parent's index or the session's
-- default_tablespace put them, with the default replica identity and no
-- grants. For every partition of a managed parent, at every level, the plan
-- below lists the statements that bring it in step with the parent and the
-- policy. It reads only the catalog (index sizes under a 10 ms lock
-- timeout), so check() may call it, and it never raises for a finding.

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
-- Long (about 235 lines): one part per kind of drift listed above, all in one
-- ordered plan over one reading of the partition tree.
CREATE FUNCTION pgpart._reconcile_plan(p_parent regclass, p_move_large boolean)
RETURNS SETOF pgpart._fix
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- maintenance runs this for every parent on every tick: plan the catalog
-- query once per session, and never JIT-compile it (its set-returning
-- functions' row estimates would make it look expensive)
SET jit = off
SET plan_cache_mode = force_generic_plan
-- and one parent's tree is a few rows of each catalog: index lookups only.
-- The recursive tree's row estimate (thousands) otherwise picks hash joins
-- over whole-catalog scans: 100 ms per parent with 1,000 parents, 1.5 ms
-- with these (issue 16)
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
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
