-- pgpart._error_report(sqlstate, message, detail, hint, schema, table): an
-- error caught by a verb that goes on (maintenance isolates each parent) as
-- the object it returns, so its caller gets the error itself (a typed error
-- in Python) rather than text to parse: the fields of PostgreSQL's error
-- report, empty ones left out.
CREATE FUNCTION pgpart._error_report(
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
