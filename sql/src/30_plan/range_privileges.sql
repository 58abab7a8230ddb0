-- pgpart._require_create_privileges(parent, schema, relname, owner,
-- tablespace): refuses (42501) a plan whose partitions could not be built:
-- the caller needs CREATE on the parent's schema, so does the parent's owner
-- (new partitions belong to it), and the caller needs CREATE on TABLESPACE
-- unless it is pg_default or the database's default. Checked by the range
-- planner before any DDL, so a refused call leaves nothing behind.
CREATE FUNCTION pgpart._require_create_privileges(
    p_parent regclass,
    p_schema name,
    p_relname name,
    p_owner name,
    p_tablespace name
)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF NOT has_schema_privilege(current_user, (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = p_parent), 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied to create partitions of %s in schema %I', p_parent, p_schema),
            DETAIL = format('Role %I lacks CREATE on schema %I.', current_user, p_schema),
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I.', p_schema, current_user),
            SCHEMA = p_schema, TABLE = p_relname;
    END IF;
    IF NOT has_schema_privilege(p_owner, (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = p_parent), 'CREATE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('owner %I of table %s may not create tables in schema %I', p_owner, p_parent, p_schema),
            DETAIL = 'New partitions are owned by the parent''s owner, which needs CREATE on the schema.',
            HINT = format('GRANT CREATE ON SCHEMA %I TO %I.', p_schema, p_owner),
            SCHEMA = p_schema, TABLE = p_relname;
    END IF;
    IF p_tablespace <> 'pg_default' AND NOT has_tablespace_privilege(current_user, p_tablespace, 'CREATE')
       AND p_tablespace <> (SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
                           WHERE d.datname = current_database()) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('permission denied for tablespace %I', p_tablespace),
            HINT = format('GRANT CREATE ON TABLESPACE %I TO %I, or choose another tablespace.', p_tablespace, current_user),
            SCHEMA = p_schema, TABLE = p_relname;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_create_privileges(regclass, name, name, name, name) IS
'Refuses (42501) a plan whose partitions the caller or the parent''s owner may not create in its schema or tablespace.';
