-- Where pgpart may put a table of someone else's: the archive schema, the
-- archive tablespace and the tablespace of new partitions. Checked when a
-- policy is set AND again at the moment of use, because pgpart.config and
-- the retention journal are writable by the table's owner (row-level
-- security lets an owner write rows about its own tables, bypassing
-- set_policy), and because whoever runs maintenance (a superuser, the
-- online client, the CLI) must never put a table where the table's owner
-- could not put it: never a system schema (it would shadow catalogs for
-- every user), never pgpart's own schema, never pg_global.

-- pgpart._require_archive_schema(parent, schema): raises unless SCHEMA is
-- a place the owner of PARENT may move tables to: 3F000 when it does not
-- exist, 22023 for a system schema (pg_catalog, information_schema, every
-- pg_* schema: pg_toast*, pg_temp*, ...) or pgpart's schema, 42501 when the
-- owner lacks CREATE on it. NULL passes (no schema asked for).
CREATE FUNCTION pgpart._require_archive_schema(p_parent regclass, p_schema name)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner name;
BEGIN
    IF p_schema IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    -- the pg_ prefix is reserved for system schemas (CREATE SCHEMA refuses it)
    IF p_schema LIKE 'pg\_%' OR p_schema IN ('information_schema', 'pgpart')
       OR p_schema = (SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace
                      WHERE e.extname = 'pgpart') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('schema %I is not a valid archive schema for table %s', p_schema, p_parent),
            DETAIL = 'System schemas and pgpart''s own schema never receive archived tables: '
                     'a table there would shadow catalogs or pgpart''s objects for every user.',
            HINT = format('Choose a schema of your own, such as CREATE SCHEMA archive AUTHORIZATION %I, '
                          'then SELECT pgpart.set_policy(%L, archive_schema => ''archive'').', v_owner, p_parent::text);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace AS n WHERE n.nspname = p_schema) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_schema_name',
            MESSAGE = format('schema %I does not exist', p_schema),
            HINT = format('CREATE SCHEMA %I first, owned by or writable for role %I.', p_schema, v_owner);
    END IF;
    IF NOT has_schema_privilege(v_owner, p_schema, 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create tables in schema %I', v_owner, p_parent, p_schema),
            DETAIL = 'pgpart moves a table only where its owner could move it itself, whoever runs maintenance.',
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I, or choose another archive schema.', p_schema, v_owner);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_archive_schema(regclass, name) IS
'Raises 3F000, 22023 (system schema or pgpart) or 42501 (owner lacks CREATE) unless the schema may receive archived tables of the parent.';

-- pgpart._require_owner_tablespace(parent, tablespace, what): raises unless
-- the owner of PARENT may create in TABLESPACE: 22023 when it does not
-- exist or is pg_global, 42501 when the owner lacks CREATE on it (the
-- database's default tablespace needs none, as in PostgreSQL). WHAT names
-- the setting in the message. NULL passes.
CREATE FUNCTION pgpart._require_owner_tablespace(p_parent regclass, p_tablespace name, p_what text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_owner name;
    v_oid oid;
BEGIN
    IF p_tablespace IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    SELECT t.oid INTO v_oid FROM pg_tablespace AS t WHERE t.spcname = p_tablespace;
    IF v_oid IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %I does not exist', p_tablespace),
            HINT = 'Create the tablespace first, or pass an existing one.';
    END IF;
    IF p_tablespace = 'pg_global' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace pg_global is not a valid %s for table %s', p_what, p_parent),
            DETAIL = 'pg_global holds only shared system catalogs.',
            HINT = 'Choose a tablespace of your own, or pg_default.';
    END IF;
    IF v_oid <> (SELECT d.dattablespace FROM pg_database AS d WHERE d.datname = current_database())
       AND NOT has_tablespace_privilege(v_owner, v_oid, 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create in tablespace %I (the %s)', v_owner, p_parent,
                             p_tablespace, p_what),
            DETAIL = 'pgpart puts a table only where its owner could put it itself, whoever runs maintenance.',
            HINT = format('GRANT CREATE ON TABLESPACE %I TO %I, or choose another tablespace.', p_tablespace, v_owner);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_owner_tablespace(regclass, name, text) IS
'Raises 22023 (missing or pg_global) or 42501 (owner lacks CREATE, outside the database default) unless the parent''s owner may use the tablespace.';
