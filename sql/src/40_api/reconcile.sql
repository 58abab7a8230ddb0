-- pgpart.reconcile(parent, ...): brings every partition of a managed parent,
-- at every level, in step with the parent and the policy, and returns what it
-- changed (with DRY_RUN, what it would change): owner, local indexes in the
-- partition's tablespace, replica identity, the policy's storage parameters,
-- and the parent's grants when the policy propagates them. Idempotent: a
-- second call returns only what it may not do by itself. Moving an index
-- larger than the policy's move_large_bytes is a blocking rewrite: such moves
-- are returned as 'skipped large' with the statement to run, unless
-- MOVE_LARGE. Lock-bounded and all or nothing (pgpart._apply_reconcile). The event
-- triggers run the same code after DDL on a managed parent; this function is
-- for the drift they cannot see (GRANT, REASSIGN OWNED, DDL while they were
-- off) and for servers without them.
CREATE FUNCTION pgpart.reconcile(
    parent regclass,
    move_large boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS TABLE (partition regclass, action text, statement text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_move_large ALIAS FOR move_large;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_changes jsonb := '[]'::jsonb;
    r record;
BEGIN
    IF p_move_large IS NULL OR p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'move_large and dry_run must not be NULL',
            HINT = 'Pass true or false.';
    END IF;
    -- prepare (owner, lock arguments, a policy) → plan, lock what the plan
    -- touches, plan again under those locks and run (pgpart._apply_reconcile,
    -- shared with the event triggers: its locks depend on its plan) → log
    PERFORM pgpart._prepare(p_parent, NULL, p_lock_timeout, p_lock_retries, p_managed => true);

    FOR r IN SELECT * FROM pgpart._apply_reconcile(p_parent, p_move_large, p_lock_timeout, p_lock_retries, p_dry_run) AS x LOOP
        partition := r.partition;
        action := r.action;
        statement := r.statement;
        detail := r.detail;
        RETURN NEXT;
        IF r.action NOT IN ('skipped large', 'skipped') THEN
            v_changes := v_changes || jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                                         'statement', r.statement);
        END IF;
    END LOOP;
    IF NOT p_dry_run AND jsonb_array_length(v_changes) > 0 THEN
        PERFORM pgpart._log(p_parent, 'reconcile', 'ok', jsonb_build_object('source', 'reconcile', 'changes', v_changes));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.reconcile(regclass, boolean, interval, integer, boolean) IS
'Brings the partitions of a managed parent in step (owner, index tablespaces, replica identity, storage parameters, grants if propagated); returns what it changed, or with dry_run would change. Large index moves are reported unless move_large. Lock-bounded, all or nothing.';
