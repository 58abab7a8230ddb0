-- pgpart._fix_now_at(now_at): the ", now_at => ..." argument that a fix
-- carries, so that it acts as of the same reference time as the check that
-- found it (empty when that time is now). Shared by the named checks.
CREATE FUNCTION pgpart._fix_now_at(p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- the literal must not depend on the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN CASE WHEN p_now_at <> now() THEN format(', now_at => %L', p_now_at) ELSE '' END;
END
$body$;

COMMENT ON FUNCTION pgpart._fix_now_at(timestamptz) IS
'The now_at argument a fix of pgpart.check() carries: empty when the check ran as of now (internal).';

-- pgpart._fix_call(call, parent, args, now_at): the text of a fix (or a
-- HINT) that calls a pgpart verb on PARENT, written once for every check:
-- CALL || '(' || PARENT as a literal || ARGS || the now_at argument || ');',
-- e.g. _fix_call('CALL pgpart.run_maintenance_proc', 't', '', now_at).
-- ARGS starts with ', ' when not empty; a NULL NOW_AT adds nothing.
CREATE FUNCTION pgpart._fix_call(
    p_call text, p_parent regclass, p_args text DEFAULT '', p_now_at timestamptz DEFAULT NULL
)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN format('%s(%L%s%s);', p_call, p_parent::text, p_args, pgpart._fix_now_at(p_now_at));
END
$body$;

COMMENT ON FUNCTION pgpart._fix_call(text, regclass, text, timestamptz) IS
'The text of a fix that calls a pgpart verb on a parent, with the now_at argument of the check (internal).';
