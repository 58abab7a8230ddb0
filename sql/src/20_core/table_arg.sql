-- pgpart._table_arg(name, found, search_path, verb): the table a verb was
-- given by name, or pgpart's 42P01 when there is none. The verbs take their
-- table as regclass, and a literal that names no table fails in the cast,
-- before pgpart is even called, with PostgreSQL's bare "relation does not
-- exist". So each verb that takes a table also has an overload taking the
-- name as text (an unknown-typed literal picks it: PostgreSQL prefers the
-- string category), which resolves the name with pg_catalog.to_regclass in
-- the CALLER's search_path (that overload has no SET clause: a pinned one
-- would resolve 'events' in pg_catalog) and passes the result here. A NULL
-- name is a NULL table (every table, for the verbs that accept it).
CREATE FUNCTION pgpart._table_arg(p_name text, p_found regclass, p_search_path text, p_verb text)
RETURNS regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_found IS NULL AND p_name IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_table',
            MESSAGE = format('table "%s" does not exist', p_name),
            DETAIL = format('%s looked the name up with search_path %s.', p_verb, p_search_path),
            HINT = 'Check the name and its schema: write schema.table (e.g. ''public.events''), and double-quote '
                   'names with capitals; SELECT DISTINCT parent_table FROM pgpart.partition_info() lists the '
                   'tables pgpart manages.';
    END IF;
    RETURN p_found;
END
$body$;

COMMENT ON FUNCTION pgpart._table_arg(text, regclass, text, text) IS
'The table a verb was given by name (resolved by its text overload in the caller''s search_path), or 42P01 naming it with a HINT (internal).';
