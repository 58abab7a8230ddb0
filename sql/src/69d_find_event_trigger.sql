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
