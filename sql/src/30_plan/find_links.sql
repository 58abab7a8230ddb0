-- pgpart._find_foreign_keys(parent): codes 'referenced_by' (a foreign key
-- points at the parent: retention is refused, or DETACH locks the
-- referencing table) and 'references' (the parent points at another table:
-- every ATTACH locks it). Information, no fix.
CREATE FUNCTION pgpart._find_foreign_keys(p_parent regclass)
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
    -- foreign keys out by pg_constraint's index on conrelid, keys in through
    -- pgpart._foreign_keys_in (no index on confrelid: an OR scanned the
    -- whole of pg_constraint once per parent)
    WHERE con.oid IN (SELECT k.oid FROM pg_constraint AS k WHERE k.conrelid = p_parent
                      UNION
                      SELECT k.oid FROM pgpart._foreign_keys_in(p_parent) AS k)
      AND con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = p_parent OR con.confrelid = p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_foreign_keys(regclass) IS
'Findings referenced_by and references of pgpart.check(): foreign keys to and from the parent and the locks they cost (internal).';

-- pgpart._find_publications(parent): code 'published'. A publication
-- includes the parent: a detached partition leaves it, and dropping one is
-- not replicated. Information, no fix.
CREATE FUNCTION pgpart._find_publications(p_parent regclass)
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
