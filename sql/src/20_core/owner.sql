-- pgpart._require_owner(rel): the caller must own REL (or be a member of
-- its owning role), as PostgreSQL itself requires for ALTER TABLE, ATTACH
-- and DETACH. Checked first, so a refused call changes nothing.
CREATE FUNCTION pgpart._require_owner(p_rel regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner oid;
    v_schema name;
    v_table name;
BEGIN
    IF p_rel IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'the table must not be NULL',
            HINT = 'Pass the table as a name, such as ''public.events''.';
    END IF;
    SELECT c.relowner, n.nspname, c.relname
    INTO v_owner, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_table',
            MESSAGE = format('relation with OID %s does not exist', p_rel::oid),
            HINT = 'The table may have been dropped concurrently.';
    END IF;
    IF NOT pg_has_role(current_user, v_owner, 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('must be owner of table %s', p_rel),
            DETAIL = format('Table %s is owned by role %I; current role is %I.',
                            p_rel, pg_get_userbyid(v_owner), current_user),
            HINT = format('Run this as role %I or as a member of it.', pg_get_userbyid(v_owner)),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_owner(regclass) IS
'Raises 42501 unless the current role owns the table or is a member of its owner.';
