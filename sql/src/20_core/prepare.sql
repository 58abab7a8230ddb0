-- pgpart._prepare(parent, strategy, lock_timeout, lock_retries, now_at, ...):
-- the first step of every verb's pipeline (prepare → plan → apply). It runs
-- each check of a call once, in the order callers see their errors, and
-- returns the checked call as a pgpart._target, so that planners and the
-- apply step never check or read it again:
--   1. who may act: the table's owner (42501), or with MAINTAINER a role
--      maintenance may act as (pgpart._may_maintain);
--   2. the lock arguments and the reference time (22023, before any lock);
--   3. with MANAGED, a policy must exist (55000);
--   4. with STRATEGY (the verbs that create partitions): the partitioning
--      and key (42P17, 0A000), the strategy of a saved policy (0A000), then
--      the tablespace (requested, else the policy's, which the owner must
--      be allowed to use) and where new partitions go;
--   5. with WORK, the owner-code guard (42501, docs/security.md);
--   6. the lock steps, in the one documented order (pgpart._lock_statements,
--      DETACHING for a verb that detaches a partition).
-- With LOCK (a real run) it then takes those locks, once
-- (pgpart._lock_target), so the plan that follows is made under them and
-- cannot go stale; a dry run takes none. A verb with checks of its own that
-- must come before any lock prepares without LOCK and locks after them.
CREATE FUNCTION pgpart._prepare(
    p_parent regclass,
    p_strategy text,
    p_lock_timeout interval DEFAULT '200ms',
    p_lock_retries integer DEFAULT 10,
    p_now_at timestamptz DEFAULT now(),
    p_tablespace name DEFAULT NULL,
    p_lock boolean DEFAULT false,
    p_detaching regclass DEFAULT NULL,
    p_work text DEFAULT NULL,
    p_managed boolean DEFAULT false,
    p_maintainer boolean DEFAULT false
)
RETURNS pgpart._target
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    t pgpart._target;
    v_cfg pgpart.config;
    v_reason text;
    v_key record;
BEGIN
    IF p_maintainer AND EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        v_reason := pgpart._may_maintain(p_parent);
        IF v_reason IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = format('cannot maintain table %s', p_parent),
                DETAIL = v_reason || '.',
                HINT = 'Run this as the table''s owner (or a superuser), and let the owner set the policy again.';
        END IF;
    ELSE
        PERFORM pgpart._require_owner(p_parent);
    END IF;
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);

    SELECT p_parent, n.nspname, c.relname, pg_get_userbyid(c.relowner)
    INTO t.parent, t.schema_name, t.table_name, t.owner
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NOT NULL THEN
        t.policy := v_cfg;
    ELSIF p_managed THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Call pgpart.create_range_partitions for it first.',
            SCHEMA = t.schema_name, TABLE = t.table_name;
    END IF;
    t.strategy := coalesce(p_strategy, v_cfg.strategy);
    t.key_column := v_cfg.key_column;
    t.key_type := v_cfg.key_type;
    t.key_format := v_cfg.key_type::text;
    t.time_zone := coalesce(v_cfg.time_zone, 'UTC');

    IF p_strategy IS NOT NULL THEN
        IF p_strategy = 'range' THEN
            v_key := pgpart._range_key(p_parent);
            t.key_format := v_key.key_type::text;
        ELSE
            v_key := pgpart._key_of(p_parent, left(p_strategy, 1)::"char");
            t.key_format := v_key.key_format;
        END IF;
        t.key_column := v_key.key_column;
        t.key_type := v_key.key_type;
        IF v_cfg.parent IS NOT NULL AND v_cfg.strategy <> p_strategy THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('table %s is managed by pgpart with strategy %s', p_parent, v_cfg.strategy),
                HINT = 'Use the verb of that strategy, or stop managing the table first (pgpart.unmanage).',
                SCHEMA = t.schema_name, TABLE = t.table_name;
        END IF;
        -- the requested tablespace, else the policy's; the policy's row is
        -- writable by the owner, so it must be one the owner may use,
        -- whoever runs this (a superuser's maintenance)
        t.tablespace := pgpart._require_tablespace(coalesce(p_tablespace, v_cfg.tablespace));
        IF p_tablespace IS NULL THEN
            PERFORM pgpart._require_owner_tablespace(p_parent, v_cfg.tablespace, 'tablespace');
        END IF;
        t.target_tablespace := pgpart._target_tablespace(p_parent, t.tablespace);
    END IF;
    IF p_work IS NOT NULL THEN
        PERFORM pgpart._guard_owner_code(p_parent, p_work);
    END IF;

    t.lock_steps := array(
        SELECT ROW(l.n::integer, NULL, NULL, NULL, 'lock', l.statement, l.locks, false)::pgpart.step
        FROM pgpart._lock_statements(p_parent, p_detaching) WITH ORDINALITY AS l (statement, locks, n)
        ORDER BY l.n
    );
    t.lock_timeout := p_lock_timeout;
    t.lock_retries := p_lock_retries;
    t.now_at := p_now_at;
    t.locked := false;
    IF p_lock THEN
        t := pgpart._lock_target(t);
    END IF;
    RETURN t;
END
$body$;

COMMENT ON FUNCTION pgpart._prepare(
    regclass, text, interval, integer, timestamptz, name, boolean, regclass, text, boolean, boolean
) IS
'Runs every check of a verb''s call once (who may act, lock arguments, policy, strategy and key, tablespace, owner-code guard), builds its lock steps and, for a real run, takes them; returns the checked call as a pgpart._target (internal).';

-- pgpart._lock_target(target): takes the target's lock steps as one group,
-- under its lock timeout with its retries (pgpart._acquire_locks), and
-- returns the target marked as holding them, so pgpart._apply does not take
-- them again.
CREATE FUNCTION pgpart._lock_target(p_target pgpart._target)
RETURNS pgpart._target
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    t pgpart._target := p_target;
BEGIN
    IF NOT t.locked THEN
        PERFORM pgpart._acquire_locks(array(SELECT s.statement FROM unnest(t.lock_steps) AS s ORDER BY s.step),
                                      t.lock_timeout, t.lock_retries);
        t.locked := true;
    END IF;
    RETURN t;
END
$body$;

COMMENT ON FUNCTION pgpart._lock_target(pgpart._target) IS
'Takes the lock steps of a prepared target (timeout, retries) and returns it marked locked (internal).';
