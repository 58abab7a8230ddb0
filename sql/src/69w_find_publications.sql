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
