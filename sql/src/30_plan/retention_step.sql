-- pgpart._retention_step(parent, now_at, timeout, retries, online, as_owner,
-- done): THE retention runner. Every path that applies retention (the
-- detach_and_archive function, both procedures, the Python client online
-- and on the SQL path) only loops over this function, one call per
-- transaction, until it returns no row: it alone chooses and runs the next
-- step (DESIGN §3, §4).
--
-- It takes the parent's advisory lock (pgpart.advisory_key, the key every
-- pgpart run of the parent takes) under the lock timeout with retries and
-- only then plans (pgpart._retention_plan), so a second run waits for the
-- first one's step to commit and sees what it changed: two runs never act
-- on the same partition. Not obtained: one 'skipped' step (step 0, no
-- statement; logged, not an error) and nothing changed.
--
-- Rows returned: the step it ran; with ONLINE, when the next step must run at
-- top level (DETACH ... CONCURRENTLY, after its journal step), that step too,
-- NOT run (top_level true): the caller runs it in a transaction of its own,
-- then calls again, which continues with the archive or drop. The client
-- holds the advisory lock for its session meanwhile, so the xact-level lock
-- taken here is granted to it at once. With ONLINE the journal step is
-- written only when no predictably long transaction would hold up the
-- DETACH (pgpart._refuse_if_detach_blocked, checked with the caller's view
-- of pg_stat_activity).
-- When nothing is left and DONE (the steps the caller ran so far) > 0, the
-- ANALYZE the policy asks for is run (bounded, never raising) and returned
-- as an 'analyze' step: the caller stops after it.
-- AS_OWNER (maintenance): only while maintenance may act on the parent
-- (pgpart._may_maintain, else 'skipped' with the reason), as the table's
-- owner (pgpart._become_owner).
CREATE FUNCTION pgpart._retention_step(
    p_parent regclass,
    p_now_at timestamptz,
    p_timeout interval,
    p_retries integer,
    p_online boolean DEFAULT false,
    p_as_owner boolean DEFAULT false,
    p_done integer DEFAULT 0
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name := current_user;
    v_reason text;
    v_message text;
    v_plan pgpart.step [];
    st pgpart.step;
BEGIN
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, p_now_at);
    IF p_as_owner THEN
        v_reason := pgpart._may_maintain(p_parent);
        IF v_reason IS NOT NULL THEN
            RAISE NOTICE 'pgpart: skipping retention of %: %', p_parent, v_reason;
            RETURN NEXT ROW(0, NULL, NULL, NULL, 'skipped', NULL, v_reason, false)::pgpart.step;
            RETURN;
        END IF;
        v_caller := pgpart._become_owner(p_parent);
    END IF;
    BEGIN
        -- held until commit; the plan below is read after the wait, so it
        -- sees what another run's committed step changed
        PERFORM pgpart._acquire_locks(
            ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))],
            p_timeout, p_retries);
    EXCEPTION WHEN lock_not_available THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
        RAISE NOTICE 'pgpart: skipping retention of %: another pgpart run holds its advisory lock', p_parent;
        PERFORM pgpart._log(p_parent, 'retention', 'skipped',
                            jsonb_build_object('sqlstate', '55P03', 'message', v_message,
                                               'reason', 'another pgpart run holds the advisory lock of the parent'));
        PERFORM set_config('role', v_caller, true);
        RETURN NEXT ROW(0, NULL, NULL, NULL, 'skipped', NULL,
                        format('advisory lock %s (pgpart, %s): held by another pgpart run (%s)',
                               pgpart.advisory_key(p_parent), p_parent, v_message),
                        false)::pgpart.step;
        RETURN;
    END;
    -- the next step, and the one after it (a top-level detach follows its journal step)
    v_plan := array(
        SELECT s FROM pgpart._retention_plan(p_parent, p_now_at, p_online, p_timeout, p_retries) AS s
        WHERE s.action <> 'analyze' ORDER BY s.step LIMIT 2
    );
    IF cardinality(v_plan) = 0 THEN
        IF p_done > 0 AND (SELECT c.analyze_after FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
            -- bounded, its failure logged and not raised
            PERFORM pgpart._analyze_bounded(p_parent, p_timeout);
            RETURN NEXT ROW(p_done + 1, NULL, NULL, NULL, 'analyze',
                            format('SELECT pgpart._analyze_bounded(%L::regclass, %L)', p_parent::text, p_timeout),
                            format('SHARE UPDATE EXCLUSIVE on %s and its partitions', p_parent), false)::pgpart.step;
        END IF;
        PERFORM set_config('role', v_caller, true);
        RETURN;
    END IF;
    st := v_plan[1];
    IF NOT st.top_level THEN
        IF p_online AND st.action = 'journal' THEN
            -- before the journal entry of the detach exists: as the caller,
            -- who may see more of pg_stat_activity than the owner
            PERFORM set_config('role', v_caller, true);
            PERFORM pgpart._refuse_if_detach_blocked(p_parent, st.partition::regclass, p_timeout);
            IF p_as_owner THEN
                PERFORM pgpart._become_owner(p_parent);
            END IF;
        END IF;
        EXECUTE st.statement;
        RETURN NEXT st;
        st := v_plan[2];
    END IF;
    IF st.top_level THEN
        RETURN NEXT st;  -- for the caller to run at top level
    END IF;
    PERFORM set_config('role', v_caller, true);
END
$body$;

COMMENT ON FUNCTION pgpart._retention_step(regclass, timestamptz, interval, integer, boolean, boolean, integer) IS
'The one retention runner: under the parent''s advisory lock, plans and runs the next retention step and returns it (online: also the DETACH CONCURRENTLY that follows, for the caller to run at top level); a ''skipped'' step 0 when another run holds the lock; the policy''s ANALYZE once nothing is left; no row when done.';
