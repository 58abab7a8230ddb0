-- pgpart._find_owner_code(parent): code 'owner_code'. Owner code
-- that the caller may not run (docs/security.md): pgpart refuses the work
-- that would run it, so this parent's maintenance and fixes must run in a
-- session authenticated as its owner.
CREATE FUNCTION pgpart._find_owner_code(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
BEGIN
    IF pgpart._trusted_for(p_parent) THEN
        RETURN;
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    RETURN QUERY
    SELECT 'warning', 'owner_code'::pgpart.finding_code, p_parent, NULL::regclass,
           format('pgpart refuses to %s this table as role %I: it would run code of role %s: %s',
                  CASE w.work WHEN 'move' THEN 'maintain, or move the rows of the default partition of,'
                              ELSE 'maintain' END,
                  session_user, string_agg(DISTINCT quote_ident(u.function_owner), ', '),
                  string_agg(u.description, '; ' ORDER BY u.description)),
           format('-- run pgpart for this table in a session authenticated as %I, e.g. SELECT '
                  'cron.schedule_in_database(''pgpart %s'', ''*/10 * * * *'', ''CALL pgpart.run_maintenance_proc()'', '
                  'current_database(), username => %L);', pg_get_userbyid(pc.relowner), pg_get_userbyid(pc.relowner),
                  pg_get_userbyid(pc.relowner))
    FROM pg_class AS pc
    CROSS JOIN LATERAL (
        SELECT CASE WHEN pgpart._default_partition(p_parent) IS NOT NULL THEN 'move'
                    WHEN v_cfg.strategy = 'range'
                         AND v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                        THEN 'read'
                    ELSE 'ddl' END AS work
    ) AS w
    -- judged as maintenance meets it: a superuser's (or a stranger's)
    -- maintenance switches to the owner, a member's does not
    CROSS JOIN LATERAL pgpart._untrusted_code(
        p_parent, w.work, NULL,
        NOT pg_has_role(current_user, pc.relowner, 'USAGE')
        OR (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
    ) AS u
    WHERE pc.oid = p_parent
    GROUP BY w.work, pc.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_owner_code(regclass) IS
'Finding owner_code of pgpart.check(): maintenance of the table would run code of a role the caller may not run (internal).';
