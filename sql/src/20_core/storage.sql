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
