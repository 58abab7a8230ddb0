-- pgpart._record_failure(parent, action, sqlstate, message): logs a failed
-- parent and keeps the error on its policy row for check().
CREATE FUNCTION pgpart._record_failure(p_parent regclass, p_action text, p_sqlstate text, p_message text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._log(p_parent, p_action, 'error', jsonb_build_object('sqlstate', p_sqlstate, 'message', p_message));
    UPDATE pgpart.config AS c
    SET last_error = format('%s: %s', p_sqlstate, p_message), last_error_at = now()
    WHERE c.parent = p_parent;
EXCEPTION WHEN OTHERS THEN
    -- called from a failure handler: failing to record (the lock table still
    -- full, the table dropped meanwhile) must not abort the run for the others
    RAISE WARNING 'pgpart: could not record the failure of % on %: % (%)', p_action, p_parent, SQLERRM, SQLSTATE;
END
$body$;

COMMENT ON FUNCTION pgpart._record_failure(regclass, text, text, text) IS
'Logs a failed maintenance action and records it as last_error on the policy row.';
