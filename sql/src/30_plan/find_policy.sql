-- pgpart._find_event_trigger(parent): code 'event_trigger_inactive'.
-- Without the event trigger, partitions made or changed by other tools come
-- in step only through maintenance or pgpart.reconcile; worth saying only
-- when some policy (PARENT's, or any when NULL) relies on reconcile.
CREATE FUNCTION pgpart._find_event_trigger(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger AS e
                   WHERE e.evtname = 'pgpart_ddl_command_end' AND e.evtenabled <> 'D'
                     AND e.evtfoid = to_regprocedure('pgpart._ddl_command_end()'))
       AND EXISTS (SELECT 1 FROM pgpart.config AS c
                   WHERE c.reconcile AND (p_parent IS NULL OR c.parent = p_parent)) THEN
        RETURN QUERY SELECT 'info', 'event_trigger_inactive'::pgpart.finding_code, p_parent, NULL::regclass,
            'the event trigger pgpart_ddl_command_end is not active: partitions made or changed by other tools are '
            'brought in step only by maintenance or pgpart.reconcile',
            CASE WHEN EXISTS (SELECT 1 FROM pg_event_trigger AS e WHERE e.evtname = 'pgpart_ddl_command_end')
                 THEN 'ALTER EVENT TRIGGER pgpart_ddl_command_end ENABLE;  -- as a superuser'
                 ELSE 'CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end WHEN TAG IN (''CREATE TABLE'', '
                      '''ALTER TABLE'', ''CREATE INDEX'', ''ALTER INDEX'') EXECUTE FUNCTION pgpart._ddl_command_end();  '
                      '-- as a superuser' END;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_event_trigger(regclass) IS
'Finding event_trigger_inactive of pgpart.check(): the DDL event trigger is missing or disabled while a policy relies on reconcile (internal).';

-- pgpart._find_orphan_policies(parent): code 'orphan_policy'. Policies
-- whose table is gone (dropped while the event triggers were off); only in
-- a check of every table (PARENT NULL), as a policy of PARENT cannot be one.
-- pgpart.config keeps only the OID of a dropped table; the finding names it
-- by its last known name, the newest pgpart.log entry about that OID since
-- the policy was made (an OID may have served an older table), else by the
-- OID alone. The fix removes the row: the policy's author (named in the
-- problem) or a superuser may delete it (row-level security,
-- config_forget), as no owner is left to ask.
CREATE FUNCTION pgpart._find_orphan_policies(p_parent regclass)
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
    SELECT 'warning', 'orphan_policy'::pgpart.finding_code, NULL::regclass, NULL::regclass,
           CASE WHEN l.parent_name IS NOT NULL
               THEN format('policy for table %s, which no longer exists (OID %s; its last known name, from '
                           'pgpart.log on %s; policy by %I)', l.parent_name, c.parent::oid,
                           to_char(l.logged_at, 'YYYY-MM-DD HH24:MI:SS"+00"'), c.policy_author)
               ELSE format('policy for a table that no longer exists (OID %s; no name in pgpart.log; policy by %I)',
                           c.parent::oid, c.policy_author)
           END,
           -- by OID only: a name (or role) may hold a line break, which
           -- would end a comment in the fix and run what follows
           format('DELETE FROM pgpart.config WHERE parent = %s;', c.parent::oid)
    FROM pgpart.config AS c
    LEFT JOIN LATERAL (
        SELECT g.parent_name, g.logged_at FROM pgpart.log AS g
        WHERE g.parent = c.parent AND g.parent_name IS NOT NULL AND g.logged_at >= c.created_at
        ORDER BY g.id DESC
        LIMIT 1
    ) AS l ON true
    WHERE p_parent IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS pc WHERE pc.oid = c.parent)
    ORDER BY c.parent::oid;
END
$body$;

COMMENT ON FUNCTION pgpart._find_orphan_policies(regclass) IS
'Finding orphan_policy of pgpart.check(): policies whose table no longer exists, named by their last known name in pgpart.log (else the OID), in a check of every table (internal).';

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
                         AND pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit) = 'integer'
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

-- pgpart._find_last_error(parent, now_at): code 'maintenance_failed'. The
-- last maintenance of PARENT failed (pgpart.config.last_error): its fix
-- runs that maintenance again.
CREATE FUNCTION pgpart._find_last_error(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
-- the time in the message is shown in UTC, whatever the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN QUERY
    SELECT 'warning', 'maintenance_failed'::pgpart.finding_code, p_parent, NULL::regclass,
           format('last maintenance failed at %s: %s', c.last_error_at, c.last_error),
           pgpart._fix_call('CALL pgpart.run_maintenance_proc', p_parent, '', p_now_at)
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.last_error IS NOT NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._find_last_error(regclass, timestamptz) IS
'Finding maintenance_failed of pgpart.check(): the last maintenance of the table failed (internal).';

-- pgpart._find_premake(parent): code 'premake_out_of_bounds'. A
-- premake out of bounds (written into the policy row directly): maintenance
-- refuses the parent, and the runway checks do not walk it.
CREATE FUNCTION pgpart._find_premake(p_parent regclass)
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
    SELECT 'urgent', 'premake_out_of_bounds'::pgpart.finding_code, p_parent, NULL::regclass,
           format('premake %s is out of bounds (0 to %s): maintenance refuses this table',
                  c.premake, pgpart._max_premake()),
           pgpart._fix_premake(p_parent, c.premake)
    FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.strategy = 'range' AND NOT pgpart._premake_in_bounds(c.premake);
END
$body$;

COMMENT ON FUNCTION pgpart._find_premake(regclass) IS
'Finding premake_out_of_bounds of pgpart.check(): a premake outside 0 to the maximum, which maintenance refuses (internal).';
