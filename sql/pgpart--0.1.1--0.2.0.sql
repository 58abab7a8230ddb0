-- pgpart 0.1.1 -> 0.2.0. Run by ALTER EXTENSION pgpart UPDATE, or by
-- Client.install() over a script install. The result equals a fresh 0.2.0
-- install (tests/sql/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit

-- Signatures that changed (run_maintenance gained dry_run and online and
-- the plan's columns; ensure_range takes everything create_range_partitions
-- takes): scripts/upgrade_draft.py drops the old ones before the routines.
-- check() returns a code column: CREATE OR REPLACE cannot change its columns.
DROP FUNCTION pgpart.check(regclass, timestamptz);


-- New policy columns, at the end of pgpart.config as in a fresh install
-- (the routines below name them; their CREATE TABLE is skipped).
ALTER TABLE pgpart.config ADD COLUMN epoch_unit text CHECK (epoch_unit IN ('s', 'ms', 'us'));
ALTER TABLE pgpart.config
    ADD COLUMN drain_default boolean NOT NULL DEFAULT false,
    ADD COLUMN drain_default_max_bytes bigint NOT NULL DEFAULT 67108864 CHECK (drain_default_max_bytes >= 0);
ALTER TABLE pgpart.config
    ADD COLUMN retention_max_bytes bigint CHECK (retention_max_bytes > 0),
    ADD COLUMN retention_max_rows bigint CHECK (retention_max_rows > 0),
    ADD COLUMN retention_grace interval CHECK (retention_grace > interval '0');
-- retention_action 'export' (the Parquet cold tier)
ALTER TABLE pgpart.config DROP CONSTRAINT config_retention_action_check;
ALTER TABLE pgpart.config ADD CONSTRAINT config_retention_action_check
    CHECK (retention_action IN ('detach', 'archive', 'drop', 'export'));
-- Routines, policies and comments new or changed since 0.1.1 (drafted by scripts/upgrade_draft.py).

DROP FUNCTION pgpart._parse_interval(p_key_type regtype, p_text text, OUT canonical text, OUT kind text, OUT step numeric);

DROP FUNCTION pgpart._literal_to_coord(p_key_type regtype, p_literal text);

DROP FUNCTION pgpart._coord_to_literal(p_key_type regtype, p_coord numeric);

DROP FUNCTION pgpart._coord_to_text(p_key_type regtype, p_zone text, p_coord numeric);

DROP FUNCTION pgpart._input_to_coord(p_key_type regtype, p_zone text, p_text text, p_what text);

DROP FUNCTION pgpart._check_args(p_lock_timeout interval, p_lock_retries integer, p_now_at timestamptz);

DROP FUNCTION pgpart._plan_range_partitions(p_parent regclass, p_interval text, p_premake integer, p_start text, p_time_zone text, p_origin text, p_tablespace name, p_default_partition boolean, p_reloptions text[], p_lock_timeout interval, p_now_at timestamptz, p_subpartition jsonb, p_max_new integer);

DROP FUNCTION pgpart.create_range_partitions(parent regclass, "interval" text, premake integer, start text, time_zone text, origin text, tablespace name, default_partition boolean, reloptions text[], lock_timeout interval, lock_retries integer, now_at timestamptz, dry_run boolean, subpartition jsonb, max_new integer);

DROP FUNCTION pgpart._grid(p_parent regclass, p_now_at timestamptz, OUT key_type regtype, OUT kind text, OUT step numeric, OUT frame text, OUT origin numeric, OUT now_coord numeric);

DROP FUNCTION pgpart._merge_policy(p_old pgpart.config, retention text, retention_action text, archive_schema name, archive_tablespace name, tablespace name, premake integer, automatic_maintenance boolean, analyze_after boolean, referenced_retention text, reconcile boolean, propagate_grants boolean, move_large_bytes bigint);

DROP FUNCTION pgpart.set_policy(parent regclass, retention text, retention_action text, archive_schema name, archive_tablespace name, tablespace name, premake integer, automatic_maintenance boolean, analyze_after boolean, referenced_retention text, reconcile boolean, propagate_grants boolean, move_large_bytes bigint);

DROP FUNCTION pgpart._expired_partitions(p_parent regclass, p_now_at timestamptz, p_timeout interval);

DROP FUNCTION pgpart._retention_plan(p_parent regclass, p_now_at timestamptz, p_online boolean, p_timeout interval, p_retries integer);

DROP PROCEDURE pgpart.detach_and_archive_proc(parent regclass, lock_timeout interval, lock_retries integer, now_at timestamptz);

DROP FUNCTION pgpart.run_maintenance(parent regclass, now_at timestamptz, lock_timeout interval, lock_retries integer);

DROP FUNCTION pgpart._retention_step(p_parent regclass, p_now_at timestamptz, p_timeout interval, p_retries integer);

DROP PROCEDURE pgpart.run_maintenance_proc(parent regclass, now_at timestamptz, lock_timeout interval, lock_retries integer);

DROP PROCEDURE pgpart.move_default_rows(parent regclass, lock_timeout interval, lock_retries integer, now_at timestamptz);

DROP FUNCTION pgpart.ensure_range(parent regclass, "interval" text, premake integer, retention text, retention_action text, archive_schema name, archive_tablespace name, tablespace name, time_zone text, origin text, default_partition boolean, lock_timeout interval, lock_retries integer, now_at timestamptz, dry_run boolean);

DROP FUNCTION pgpart._plan_list_partitions(p_parent regclass, p_values jsonb, p_default_partition boolean, p_tablespace name, p_reloptions text[]);

DROP FUNCTION pgpart._reconcile(p_parent regclass, p_move_large boolean, p_timeout interval, p_retries integer, p_dry_run boolean);

-- new or changed since pgpart--0.1.1.sql
-- source: sql/src/10_schema/due_cache.sql
-- pgpart.due_cache: what pgpart._due_parents read from a time-keyed
-- parent's partition bounds (issue 16, item 1). Deparsing every bound
-- (pg_get_expr) made a no-op tick cost ~20 µs per partition; the summary
-- below changes only when a partition is attached or detached, so it is
-- kept with a fingerprint of the parent's pg_inherits rows (each child's oid
-- and the row's xmin: ATTACH, DETACH and DETACH CONCURRENTLY all write a
-- new row) and the key's type. A row is used only while the fingerprint
-- read from the catalog equals the stored one: it cannot drift, and a lost
-- or stale row only costs one recomputation. Not dumped (a cache).
CREATE TABLE pgpart.due_cache (
    parent oid PRIMARY KEY,
    partitions bigint NOT NULL,
    fingerprint numeric NOT NULL,
    -- of the partitions other than the default (detaching ones included):
    -- a hole between two of them, the lowest lower and highest upper bound,
    -- as coordinates (pgpart._literal_to_coord's)
    has_gap boolean,
    first_lo numeric,
    last_hi numeric,
    -- the lowest upper bound of a partition retention may detach (not
    -- detaching, not the newest): due as 'expired' once at or below the cut-off
    oldest_hi numeric,
    -- the premake window [window_lo, window_hi) computed for a now in the
    -- slot [window_lo, window_until), for the policy fields in window_key
    -- (pgpart._grid's inputs): valid for every now in that slot; NULL where
    -- the set-based coverage test does not apply
    window_key text,
    window_lo numeric,
    window_hi numeric,
    window_until numeric
);

COMMENT ON TABLE pgpart.due_cache IS
'Cache of pgpart._due_parents: a summary of each time-keyed parent''s partition bounds, used only while the fingerprint of its pg_inherits rows is unchanged (internal).';

-- new or changed since pgpart--0.1.1.sql
-- Row-level security as on pgpart.config: everyone reads, only a role that
-- may maintain the table (its owner or a member of the owning role) writes
-- its row, so nobody can make another owner's parent look covered.
ALTER TABLE pgpart.due_cache ENABLE ROW LEVEL SECURITY;

-- new or changed since pgpart--0.1.1.sql
CREATE POLICY due_cache_read ON pgpart.due_cache FOR SELECT USING (true);

-- new or changed since pgpart--0.1.1.sql
CREATE POLICY due_cache_write ON pgpart.due_cache FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = due_cache.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = due_cache.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
);

-- The row of a table that no longer exists stays until a superuser's tick
-- (RLS bypassed) deletes it: harmless, as an OID used again by another
-- table does not match the fingerprint.

REVOKE ALL ON pgpart.due_cache FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.due_cache TO PUBLIC;

-- new or changed since pgpart--0.1.1.sql
-- pgpart._due_tree: what pgpart._due_tree() reads from one managed parent's
-- partitions in its one pass over them, for pgpart._due_parents.
CREATE TYPE pgpart._due_tree AS (
    parent oid,
    -- the bounds cache's fingerprint (pgpart.due_cache)
    partitions bigint,
    fingerprint numeric,
    -- a partition is detaching (DETACH ... CONCURRENTLY to finish)
    pending boolean,
    -- the partitions the drift checks read row by row
    detail oid []
);

COMMENT ON TYPE pgpart._due_tree IS
'What pgpart._due_tree() reads from one managed parent''s partitions, for pgpart._due_parents (internal).';

-- new or changed since pgpart--0.1.1.sql
-- source: sql/src/10_schema/finding.sql
-- pgpart.finding_code: the stable code of each kind of finding of
-- pgpart.check(). Programs (the Django system checks, monitoring) branch on
-- the code, never on the English problem text, which may be reworded. The
-- list is the one source of truth: a check cannot return a code missing here
-- (the enum refuses it), and docs/check-codes.md documents exactly these
-- (tests/sql/test_check_codes.py compares both). A new kind of finding adds its
-- code here (in an upgrade: ALTER TYPE pgpart.finding_code ADD VALUE) and a
-- row there. An enum rather than a domain over text: the list is readable
-- from the catalog (enum_range) and a new code is one ALTER TYPE.
CREATE TYPE pgpart.finding_code AS ENUM (
    'event_trigger_inactive',
    'orphan_policy',
    'owner_code',
    'maintenance_failed',
    'premake_out_of_bounds',
    'no_current_partition',
    'runway_short',
    'runway_unknown',
    'gap',
    'off_grid',
    'default_rows',
    'default_rows_unknown',
    'default_too_large_to_drain',
    'detach_pending',
    'detached_awaiting',
    'journal_stale',
    'retention_grace',
    'index_tablespace',
    'owner_differs',
    'rls_bypass',
    'invalid_index',
    'drift',
    'grants_refused',
    'hash_remainder_missing',
    'referenced_by',
    'references',
    'published',
    'global_unique_broken',
    'global_unique_building',
    'global_unique_partition',
    'global_unique_detached',
    'global_unique_stale',
    'global_unique_grants',
    'check_failed'
);

COMMENT ON TYPE pgpart.finding_code IS
'The stable code of a kind of finding of pgpart.check() (docs/check-codes.md): programs branch on it, not on the problem text.';

-- new or changed since pgpart--0.1.1.sql
-- pgpart.finding: one finding, the row every named check (pgpart._find_*)
-- returns, so that pgpart.check() is their union.
CREATE TYPE pgpart.finding AS (
    severity text,
    code pgpart.finding_code,
    parent_table regclass,
    partition regclass,
    problem text,
    fix text
);

COMMENT ON TYPE pgpart.finding IS
'One finding of a named check of pgpart.check(): severity, stable code, parent, partition, problem and ready-to-run fix.';

-- new or changed since pgpart--0.1.1.sql
-- source: sql/src/10_schema/global_unique.sql
-- pgpart.global_unique: one row per global unique constraint
-- (pgpart.add_global_unique, docs/global-unique.md). PostgreSQL refuses a
-- unique index on a partitioned table unless it includes the partition key,
-- so the values live in a side table (owned by the parent's owner, in the
-- parent's schema) under a real unique index named after the constraint,
-- kept by row triggers on the parent (cloned to every partition) and a
-- TRUNCATE trigger on each leaf partition. This row only names the pieces
-- and the build's state; what is attached where is read from the catalog
-- (the TRUNCATE trigger "pgpart_gu_<id>" marks a table whose values the side
-- table holds), so nothing here can drift from reality unnoticed.
CREATE TABLE pgpart.global_unique (
    -- names the triggers (pgpart_gu_<id>): the side table's OID when made,
    -- kept as data (no sequence), so a restore keeps names and rows in step
    id bigint PRIMARY KEY,
    parent regclass NOT NULL,
    -- the constraint: the side table's unique index carries this name, so a
    -- violation reads like PostgreSQL's own
    constraint_name name NOT NULL,
    side_table regclass NOT NULL,
    columns name[] NOT NULL CHECK (cardinality(columns) BETWEEN 1 AND 32),
    nulls_not_distinct boolean NOT NULL DEFAULT false,
    -- the statements the row trigger runs, built once (pgpart._gu_sql):
    -- row-level security admits only these exact texts for the row's side
    -- table and columns (policy global_unique_write, 20_core), so the
    -- trigger runs them as stored, without building them per row
    insert_sql text NOT NULL,
    delete_sql text NOT NULL,
    -- 'building': the triggers record every write, existing rows are still
    -- being copied (build holds where a resumed build starts); 'valid': done
    state text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'valid')),
    build jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- a partition was dropped while attached: its values may still be
    -- reserved (pgpart.add_global_unique(..., prune => true) releases them)
    stale_since timestamptz,
    author name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (parent, constraint_name)
);

COMMENT ON TABLE pgpart.global_unique IS
'Global unique constraints (pgpart.add_global_unique): parent, columns, the side table holding the values under a unique index named after the constraint, and the build state.';

-- new or changed since pgpart--0.1.1.sql
-- Row-level security as on pgpart.config: everyone reads (every writer's
-- trigger looks its constraint up), only the parent's owner (or a member of
-- the owning role) writes, and the side table must belong to the same owner,
-- so no row here can point a writer's trigger at another owner's table.
ALTER TABLE pgpart.global_unique ENABLE ROW LEVEL SECURITY;

-- new or changed since pgpart--0.1.1.sql
CREATE POLICY global_unique_read ON pgpart.global_unique FOR SELECT USING (true);

-- new or changed since pgpart--0.1.1.sql
-- The write policy (global_unique_write) is created in 20_core/global_unique.sql:
-- it also checks the stored statements with pgpart._gu_sql.

-- The constraint of a table that no longer exists may be forgotten by its
-- author (no owner is left to check).
CREATE POLICY global_unique_forget ON pgpart.global_unique FOR DELETE
USING (
    NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE c.oid = global_unique.parent
    )
    AND pg_catalog.pg_has_role(current_user, author, 'MEMBER')
);

REVOKE ALL ON pgpart.global_unique FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON pgpart.global_unique TO PUBLIC;

-- new or changed since pgpart--0.1.1.sql
SELECT pg_catalog.pg_extension_config_dump('pgpart.global_unique', '');

-- new or changed since pgpart--0.1.1.sql
-- pgpart._target: what the preparation step (pgpart._prepare) hands to a
-- planner and to the apply step, once every check of a call has passed:
-- the parent and its owner, strategy and key, the saved policy row (NULL
-- when unmanaged), the resolved tablespaces, the lock steps in the one
-- documented order (DESIGN §3), the lock arguments and the reference time.
-- One value carries the call through prepare → plan → apply, so no step
-- re-reads or re-checks what an earlier one decided (internal).
CREATE TYPE pgpart._target AS (
    parent regclass,
    schema_name name,
    table_name name,
    owner name,
    strategy text,
    key_column name,
    key_type regtype,
    key_format text,
    time_zone text,
    policy pgpart.config,
    tablespace name,
    target_tablespace name,
    lock_steps pgpart.step [],
    lock_timeout interval,
    lock_retries integer,
    now_at timestamptz,
    locked boolean
);

COMMENT ON TYPE pgpart._target IS
'A checked call of a verb: parent, owner, strategy, key, policy row (or NULL), tablespace (requested or the policy''s) and where new partitions go, lock steps, lock timeout and retries, reference time, and whether the locks are held (internal).';

-- source: sql/src/20_core/autovacuum.sql
-- Getting past autovacuum (issue 14 item 3). An autovacuum worker holds
-- SHARE UPDATE EXCLUSIVE on the table it vacuums, which conflicts with every
-- lock pgpart takes on a table. PostgreSQL cancels such a worker itself, but
-- only once a blocked lock request has waited deadlock_timeout (1 s by
-- default), far longer than pgpart's lock timeout (200 ms), so without help
-- pgpart never gets past a long autovacuum. These helpers let
-- pgpart._acquire_locks make ONE longer attempt (deadlock_timeout plus its
-- lock timeout) when an autovacuum worker is the only blocker, cancel the
-- worker first where the role may, never touch an anti-wraparound vacuum and
-- never cancel vacuum on the same table twice in a row.

-- pgpart._lock_conflicts(held, wanted): whether a lock of mode HELD (as
-- pg_locks.mode spells it, e.g. 'ShareUpdateExclusiveLock') conflicts with
-- a request of mode WANTED (same spelling): PostgreSQL's table-lock conflict
-- matrix, so that a session holding a compatible lock is not counted as a
-- blocker.
CREATE OR REPLACE FUNCTION pgpart._lock_conflicts(p_held text, p_wanted text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT ARRAY[p_held] <@ CASE p_wanted
        WHEN 'AccessShareLock' THEN ARRAY['AccessExclusiveLock']
        WHEN 'RowShareLock' THEN ARRAY['ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'RowExclusiveLock' THEN
            ARRAY['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'ShareUpdateExclusiveLock' THEN
            ARRAY['ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                  'AccessExclusiveLock']
        WHEN 'ShareLock' THEN
            ARRAY['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                  'AccessExclusiveLock']
        WHEN 'ShareRowExclusiveLock' THEN
            ARRAY['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                  'ExclusiveLock', 'AccessExclusiveLock']
        WHEN 'ExclusiveLock' THEN
            ARRAY['RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
                  'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
        ELSE
            ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
                  'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']
    END;
$body$;

COMMENT ON FUNCTION pgpart._lock_conflicts(text, text) IS
'Whether a table lock of the first mode conflicts with a request of the second (pg_locks spelling).';

-- pgpart._autovacuum_blocker(statement): the autovacuum worker that is the
-- ONLY session standing in the way of STATEMENT (a 'LOCK TABLE [ONLY] rel IN
-- mode MODE' of pgpart._lock_statements), or no row: not a table lock, no
-- autovacuum on that table, or another session also holds or awaits a
-- conflicting lock (then cancelling the worker would not help).
-- Visibility: a role without pg_read_all_stats sees neither backend_type nor
-- query of an autovacuum worker, only its pid in pg_stat_progress_vacuum and
-- a NULL usesysid (client backends always show theirs) and its locks in
-- pg_locks; that is how the worker is recognised then. Whether it prevents
-- wraparound shows only in pg_stat_activity.query; when that is hidden the
-- table's xid / multixact age against the freeze limits stands in for it.
CREATE OR REPLACE FUNCTION pgpart._autovacuum_blocker(p_statement text)
RETURNS TABLE (rel regclass, pid integer, wraparound boolean, query text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_match text[];
    v_rel regclass;
    v_wanted text;
BEGIN
    v_match := regexp_match(p_statement, '^LOCK TABLE (?:ONLY )?(.+) IN ([A-Z ]+) MODE$');
    IF v_match IS NULL THEN
        RETURN;  -- an advisory lock: only other pgpart runs hold those
    END IF;
    v_rel := to_regclass(v_match[1]);
    v_wanted := replace(initcap(v_match[2]), ' ', '') || 'Lock';
    IF v_rel IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH holders AS (
        SELECT
            l.pid,
            a.query,
            l.pid IN (SELECT v.pid FROM pg_stat_progress_vacuum AS v)
            AND (a.backend_type = 'autovacuum worker' OR (a.backend_type IS NULL AND a.usesysid IS NULL))
                AS autovacuum
        FROM pg_locks AS l
        LEFT JOIN pg_stat_activity AS a ON l.pid = a.pid
        WHERE
            l.locktype = 'relation'
            AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
            AND l.relation = v_rel
            AND l.pid <> pg_backend_pid()
            AND pgpart._lock_conflicts(l.mode, v_wanted)
    )
    SELECT
        v_rel,
        h.pid,
        CASE
            WHEN h.query LIKE 'autovacuum:%' THEN h.query LIKE '%(to prevent wraparound)%'
            ELSE (
                SELECT
                    age(c.relfrozenxid) > least(
                        current_setting('autovacuum_freeze_max_age')::bigint,
                        coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) AS o
                                  WHERE o.option_name = 'autovacuum_freeze_max_age'), 'infinity'::numeric))
                    OR mxid_age(c.relminmxid) > least(
                        current_setting('autovacuum_multixact_freeze_max_age')::bigint,
                        coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) AS o
                                  WHERE o.option_name = 'autovacuum_multixact_freeze_max_age'), 'infinity'::numeric))
                FROM pg_class AS c WHERE c.oid = v_rel
            )
        END,
        h.query
    FROM holders AS h
    WHERE h.autovacuum AND NOT EXISTS (SELECT 1 FROM holders AS o WHERE NOT o.autovacuum)
    LIMIT 1;
END
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_blocker(text) IS
'The autovacuum worker that alone blocks a LOCK TABLE statement of pgpart (table, pid, whether it prevents wraparound), or no row.';

-- pgpart._autovacuum_cancelled_last(rel): whether the last vacuum of REL that
-- pgpart got out of its way (a pgpart.log row 'autovacuum_cancel') is more
-- recent than the last vacuum of REL that finished. Then pgpart lets the
-- running one finish: cancelling every vacuum of a table that pgpart keeps
-- touching would starve it of vacuum.
CREATE OR REPLACE FUNCTION pgpart._autovacuum_cancelled_last(p_rel regclass)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT coalesce(max(g.logged_at), '-infinity') > coalesce(
        greatest(pg_stat_get_last_autovacuum_time(p_rel), pg_stat_get_last_vacuum_time(p_rel)), '-infinity')
    FROM pgpart.log AS g
    WHERE g.parent = p_rel AND g.action = 'autovacuum_cancel';
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_cancelled_last(regclass) IS
'Whether pgpart cancelled a vacuum of the table after the last vacuum of it that finished.';

-- pgpart._may_signal_autovacuum(): whether the current role may cancel an
-- autovacuum worker with pg_cancel_backend: a superuser, or (PostgreSQL 18
-- and later, where the role exists) a member of pg_signal_autovacuum_worker.
-- Before 18 a pg_signal_backend member is refused, so it does not count.
CREATE OR REPLACE FUNCTION pgpart._may_signal_autovacuum()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        coalesce((SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user), false)
        OR coalesce(pg_has_role(current_user, to_regrole('pg_signal_autovacuum_worker'), 'USAGE'), false);
$body$;

COMMENT ON FUNCTION pgpart._may_signal_autovacuum() IS
'Whether the current role may cancel an autovacuum worker (superuser; on 18+ pg_signal_autovacuum_worker).';

-- pgpart._autovacuum_yield(statement, timeout): called by _acquire_locks
-- when STATEMENT timed out. If an autovacuum worker alone blocks it and may
-- be cancelled, records the cancel in pgpart.log (the memory that stops a
-- second cancel in a row; written in the caller's transaction, so a call
-- that fails afterwards forgets it), cancels the worker itself where the
-- role may and the query shows it is no anti-wraparound vacuum, and returns
-- the lock timeout for one more attempt: deadlock_timeout plus TIMEOUT (at
-- least 500 ms), long enough for PostgreSQL to cancel the worker itself when
-- pgpart could not. Writers queue behind that attempt for as long (README
-- "Locks"). Otherwise returns a NULL timeout. NOTE says what happened, for
-- the 55P03 that may follow.
CREATE OR REPLACE FUNCTION pgpart._autovacuum_yield(p_statement text, p_timeout interval, OUT timeout interval, OUT note text)
RETURNS record
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    b record;
    v_how text := 'PostgreSQL after deadlock_timeout';
    v_explicit boolean;
BEGIN
    SELECT * INTO b FROM pgpart._autovacuum_blocker(p_statement);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF b.wraparound THEN
        note := format('An autovacuum to prevent wraparound of %s (pid %s) holds it; pgpart never cancels one.',
                       b.rel, b.pid);
        RETURN;
    END IF;
    IF pgpart._autovacuum_cancelled_last(b.rel) THEN
        note := format('An autovacuum of %s (pid %s) holds it; pgpart cancelled the previous vacuum of that table '
                       'and lets this one finish.', b.rel, b.pid);
        RETURN;
    END IF;
    v_explicit := b.query LIKE 'autovacuum:%' AND pgpart._may_signal_autovacuum();
    BEGIN
        PERFORM pgpart._log(b.rel, 'autovacuum_cancel', 'ok',
                            jsonb_build_object('pid', b.pid, 'query', b.query, 'statement', p_statement,
                                               'by', CASE WHEN v_explicit THEN 'pg_cancel_backend'
                                                          ELSE 'deadlock_timeout' END));
    EXCEPTION WHEN insufficient_privilege OR read_only_sql_transaction THEN
        note := format('An autovacuum of %s (pid %s) holds it; role %I cannot record a cancel in pgpart.log, '
                       'so pgpart does not cancel it.', b.rel, b.pid, current_user);
        RETURN;
    END;
    IF v_explicit THEN
        BEGIN
            PERFORM pg_cancel_backend(b.pid);
            v_how := 'pgpart (pg_cancel_backend)';
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;  -- PostgreSQL cancels it after deadlock_timeout
        END;
    END IF;
    timeout := current_setting('deadlock_timeout')::interval + greatest(p_timeout, interval '500ms');
    note := format('An autovacuum of %s (pid %s) held it; cancelled by %s.', b.rel, b.pid, v_how);
END
$body$;

COMMENT ON FUNCTION pgpart._autovacuum_yield(text, interval) IS
'When an autovacuum worker alone blocks a pgpart lock: records and (where allowed) cancels it, returns the timeout of one longer attempt.';

-- pgpart._premake_in_bounds(premake): 0 <= premake <= _max_premake() (NULL
-- for NULL), the one test shared by the argument check below and by
-- check(), which reports a premake written into pgpart.config directly.
CREATE OR REPLACE FUNCTION pgpart._premake_in_bounds(p_premake integer)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT p_premake BETWEEN 0 AND pgpart._max_premake();
$body$;

COMMENT ON FUNCTION pgpart._premake_in_bounds(integer) IS
'Whether a premake is between 0 and pgpart._max_premake() (NULL for NULL).';

-- pgpart._fix_premake(parent, premake): the set_policy call that brings an
-- out-of-bounds PREMAKE of PARENT to the nearest allowed value (the HINT of
-- _check_premake and the fix of check()'s premake_out_of_bounds).
CREATE OR REPLACE FUNCTION pgpart._fix_premake(p_parent regclass, p_premake integer)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._fix_call('SELECT * FROM pgpart.set_policy', p_parent,
                            format(', premake => %s', least(greatest(p_premake, 0), pgpart._max_premake())));
$body$;

COMMENT ON FUNCTION pgpart._fix_premake(regclass, integer) IS
'The set_policy call that brings an out-of-bounds premake to the nearest allowed value.';

-- pgpart._check_premake(premake, parent): 22023 unless 0 <= premake <=
-- _max_premake(). Called by set_policy and by the planner (which also
-- covers a value written into pgpart.config directly), before any loop.
CREATE OR REPLACE FUNCTION pgpart._check_premake(p_premake integer, p_parent regclass)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF NOT pgpart._premake_in_bounds(p_premake) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('premake of table %s must be between 0 and %s, got %s', p_parent,
                             pgpart._max_premake(), p_premake),
            DETAIL = 'premake counts the partitions kept ready ahead of the current one.',
            HINT = format('Pass a premake from 0 to %s: %s', pgpart._max_premake(),
                          pgpart._fix_premake(p_parent, p_premake));
    END IF;
END
$body$;

-- source: sql/src/20_core/convert_catalog.sql
-- pgpart._convert_names(table): the names of the two helper CHECK
-- constraints a conversion adds to the plain table before its swap: the
-- key's NOT NULL proof and the upper bound that lets ATTACH skip its scan.
-- WHY fixed names: a resumed conversion finds its own work in the catalog.
CREATE OR REPLACE FUNCTION pgpart._convert_names(p_table regclass, OUT not_null name, OUT bound name)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
-- a string body: this file loads before names.sql
AS $body$
    SELECT
        pgpart._relation_name(c.relname::text, '_pgpart_key_not_null'),
        pgpart._relation_name(c.relname::text, '_pgpart_bound')
    FROM pg_class AS c WHERE c.oid = p_table;
$body$;

COMMENT ON FUNCTION pgpart._convert_names(regclass) IS
'Names of the helper CHECK constraints a conversion adds to a plain table: the key''s NOT NULL proof and the upper bound (internal).';

-- pgpart._convert_refusals(table, key): everything about a plain table that
-- convert_to_partitioned cannot carry over to a partitioned parent, one row
-- per object, read from the catalog (pg_depend, pg_constraint, pg_index, ...).
-- WHY one reader: the dry run lists every refusal at once, and the swap
-- re-checks the same list under its lock, so nothing is changed when any
-- row exists (issue 18: "refused up front ... and nothing is changed").
CREATE OR REPLACE FUNCTION pgpart._convert_refusals(p_table regclass, p_key name)
RETURNS TABLE (object text, problem text, hint text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_rel record;
    v_key record;
BEGIN
    SELECT c.relkind, c.relpersistence, c.relispartition, c.reloftype, c.reltype, c.relhasrules
    INTO v_rel
    FROM pg_class AS c WHERE c.oid = p_table;
    IF v_rel.relkind IS DISTINCT FROM 'r' THEN
        RETURN QUERY SELECT p_table::text,
            format('%s is not an ordinary table (relkind %s)', p_table, v_rel.relkind),
            CASE WHEN v_rel.relkind = 'p'
                 THEN format('It is partitioned already: manage it with pgpart.ensure_range(%L, ...).', p_table::text)
                 ELSE 'Only a plain table can be converted.' END;
        RETURN;
    END IF;
    IF v_rel.relispartition THEN
        RETURN QUERY SELECT p_table::text, format('%s is a partition', p_table),
            'Convert the parent, or detach the partition first.';
    END IF;
    IF v_rel.relpersistence <> 'p' THEN
        RETURN QUERY SELECT p_table::text,
            format('%s is %s', p_table, CASE v_rel.relpersistence WHEN 'u' THEN 'UNLOGGED' ELSE 'TEMPORARY' END),
            'A partitioned table cannot be unlogged or temporary: ALTER TABLE ... SET LOGGED first.';
    END IF;
    IF v_rel.reloftype <> 0 THEN
        RETURN QUERY SELECT p_table::text, format('%s is a typed table (OF %s)', p_table, v_rel.reloftype::regtype),
            'ALTER TABLE ... NOT OF first.';
    END IF;
    RETURN QUERY
    SELECT i.inhrelid::regclass::text, format('%s inherits from or is inherited by %s',
                                                 i.inhrelid::regclass, i.inhparent::regclass),
           'Inheritance cannot be carried to a partitioned table: ALTER TABLE ... NO INHERIT first.'
    FROM pg_inherits AS i WHERE i.inhparent = p_table OR i.inhrelid = p_table;

    SELECT a.attname, a.atttypid::regtype AS typ, a.attgenerated INTO v_key
    FROM pg_attribute AS a
    WHERE a.attrelid = p_table AND a.attname = p_key AND a.attnum > 0 AND NOT a.attisdropped;
    IF v_key.attname IS NULL THEN
        RETURN QUERY SELECT p_table::text, format('table %s has no column %I', p_table, p_key),
            'Pass key => one of the table''s columns.';
    ELSIF pgpart._key_clock(v_key.typ) IS NULL THEN
        RETURN QUERY SELECT format('%s.%I', p_table, p_key),
            format('column %I of %s has type %s, which pgpart cannot range-partition', p_key, p_table, v_key.typ),
            'Use a timestamptz, timestamp, date, uuid, smallint, integer or bigint column as the key.';
    ELSIF v_key.attgenerated <> '' THEN
        RETURN QUERY SELECT format('%s.%I', p_table, p_key),
            format('column %I of %s is generated', p_key, p_table),
            'Partition by a stored column.';
    END IF;

    -- unique keys without the partition key are carried through a global
    -- unique constraint (pgpart._convert_unique_sets) when they are plain
    -- column lists; others (partial, on expressions, deferrable) are not
    RETURN QUERY
    SELECT ic.relname::text,
           format('unique index %I of %s does not include the key column %I and is %s', ic.relname, p_table, p_key,
                  concat_ws(', ', CASE WHEN x.indpred IS NOT NULL THEN 'partial' END,
                            CASE WHEN 0 = ANY (x.indkey::int2 []) THEN 'on expressions' END,
                            CASE WHEN NOT x.indimmediate THEN 'deferrable' END)),
           'A partitioned table''s unique keys must include the partition key, and pgpart keeps only plain column '
           || 'lists unique across partitions: add the key column to it, or drop it before converting.'
    FROM pg_index AS x
    JOIN pg_class AS ic ON ic.oid = x.indexrelid
    WHERE x.indrelid = p_table AND x.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_table AND a.attname = p_key AND a.attnum = ANY (x.indkey::int2 []))
      AND x.indexrelid NOT IN (SELECT u.index_oid FROM pgpart._convert_unique_sets(p_table, p_key) AS u)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conindid = x.indexrelid AND con.contype = 'x');
    RETURN QUERY
    SELECT con.conname::text, format('exclusion constraint %I of %s is not carried over', con.conname, p_table),
           'Drop it before converting, and add it to the partitions afterwards.'
    FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.contype = 'x';
    RETURN QUERY
    SELECT con.conname::text, format('constraint %I of %s is NOT VALID', con.conname, p_table),
           format('Validate it first: ALTER TABLE %s VALIDATE CONSTRAINT %I.', p_table, con.conname)
    FROM pg_constraint AS con
    WHERE con.conrelid = p_table AND NOT con.convalidated AND con.contype IN ('c', 'f')
      -- the conversion's own helpers (validated by its plan)
      AND con.conname NOT IN (SELECT n.not_null FROM pgpart._convert_names(p_table) AS n
                              UNION ALL SELECT n.bound FROM pgpart._convert_names(p_table) AS n);
    RETURN QUERY
    SELECT con.conname::text, format('constraint %I of %s is NO INHERIT', con.conname, p_table),
           'A partitioned table cannot have NO INHERIT constraints: drop it, or add it again without NO INHERIT.'
    FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.connoinherit AND con.contype = 'c';
    -- foreign keys of other tables referencing this one: carried when they
    -- reference a unique key carried through a global unique constraint
    -- with NO ACTION or RESTRICT (pgpart._gu_foreign_key_plan: a cascading
    -- action would fire when a row moves between partitions)
    RETURN QUERY
    SELECT con.conname::text,
           format('foreign key %I of %s references %s%s', con.conname, con.conrelid::regclass, p_table,
                  CASE WHEN con.confupdtype NOT IN ('a', 'r') OR con.confdeltype NOT IN ('a', 'r')
                       THEN ' with a cascading or SET action' ELSE ' by a key that includes the partition key' END),
           'Incoming foreign keys are carried when they reference a unique key without the partition key (made '
           || 'unique across partitions) with NO ACTION or RESTRICT: drop it or recreate it so before converting.'
    FROM pg_constraint AS con
    WHERE con.confrelid = p_table AND con.contype = 'f' AND con.conrelid <> p_table AND con.conparentid = 0
      AND (con.confupdtype NOT IN ('a', 'r') OR con.confdeltype NOT IN ('a', 'r')
           OR NOT EXISTS (
               SELECT 1 FROM pgpart._convert_unique_sets(p_table, p_key) AS u
               WHERE (SELECT array_agg(c ORDER BY c) FROM unnest(u.columns) AS c)
                     = (SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_attribute AS a
                        WHERE a.attrelid = p_table AND a.attnum = ANY (con.confkey))));
    -- rules on the table itself
    RETURN QUERY
    SELECT r.rulename::text, format('rule %I on %s is not carried over', r.rulename, p_table),
           'Drop the rule (a trigger on the partitioned table can replace it).'
    FROM pg_rewrite AS r WHERE r.ev_class = p_table;
    -- row triggers with transition tables cannot live on a partitioned table
    RETURN QUERY
    SELECT t.tgname::text, format('trigger %I on %s is a row trigger with transition tables', t.tgname, p_table),
           'PostgreSQL refuses it on a partitioned table: make it a statement trigger, or drop it first.'
    FROM pg_trigger AS t
    WHERE t.tgrelid = p_table AND NOT t.tgisinternal AND (t.tgtype & 1) = 1
      AND (t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL);
    -- a partitioned table in a publication may have a row filter or column
    -- list only when the publication publishes via the partition root
    RETURN QUERY
    SELECT p.pubname::text,
           format('publication %I lists %s with a %s but does not publish via the partition root', p.pubname,
                  p_table, CASE WHEN pr.prqual IS NOT NULL THEN 'row filter' ELSE 'column list' END),
           format('ALTER PUBLICATION %I SET (publish_via_partition_root = true) first, or drop the filter.',
                  p.pubname)
    FROM pg_publication_rel AS pr JOIN pg_publication AS p ON p.oid = pr.prpubid
    WHERE pr.prrelid = p_table AND NOT p.pubviaroot AND (pr.prqual IS NOT NULL OR pr.prattrs IS NOT NULL);
    -- dependents by OID that the swap does not recreate: materialized views,
    -- SQL-standard function bodies, policies and rules of other tables,
    -- the table's row type used elsewhere
    RETURN QUERY
    SELECT DISTINCT r.ev_class::regclass::text,
           format('materialized view %s depends on %s', r.ev_class::regclass, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d
    JOIN pg_rewrite AS r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
    JOIN pg_class AS v ON v.oid = r.ev_class
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table AND r.ev_class <> p_table
      AND v.relkind = 'm';
    RETURN QUERY
    SELECT DISTINCT d.objid::regprocedure::text,
           format('function %s depends on %s (a SQL-standard body or the table''s row type)',
                  d.objid::regprocedure, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d
    WHERE d.classid = 'pg_proc'::regclass
      AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table)
           OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = v_rel.reltype));
    RETURN QUERY
    SELECT DISTINCT format('%I on %s', p.polname, p.polrelid::regclass),
           format('policy %I on %s refers to %s', p.polname, p.polrelid::regclass, p_table),
           'Drop it before converting and create it again afterwards.'
    FROM pg_depend AS d JOIN pg_policy AS p ON d.classid = 'pg_policy'::regclass AND p.oid = d.objid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table AND p.polrelid <> p_table;
    RETURN QUERY
    SELECT DISTINCT format('%s.%I', a.attrelid::regclass, a.attname),
           format('column %I of %s has the row type of %s', a.attname, a.attrelid::regclass, p_table),
           'The row type stays with the old table: change that column''s type first.'
    FROM pg_attribute AS a
    WHERE a.atttypid = v_rel.reltype AND a.attrelid <> p_table AND NOT a.attisdropped;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_refusals(regclass, name) IS
'What convert_to_partitioned cannot carry from a plain table to a partitioned one: one row per object, with the problem and a hint (internal).';

-- pgpart._convert_views(table): the views that read the table directly
-- (through a rewrite rule depending on it). They follow the table by OID,
-- so a conversion recreates them against the new parent.
CREATE OR REPLACE FUNCTION pgpart._convert_views(p_table regclass)
RETURNS SETOF oid
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT DISTINCT r.ev_class
    FROM pg_depend AS d
    INNER JOIN pg_rewrite AS r ON d.objid = r.oid
    INNER JOIN pg_class AS v ON r.ev_class = v.oid
    WHERE
        d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = p_table AND r.ev_class <> p_table AND v.relkind = 'v';
$body$;

COMMENT ON FUNCTION pgpart._convert_views(regclass) IS
'Views reading a table directly: a conversion recreates them against the new parent (internal).';

-- pgpart._convert_unique_sets(table, key): the unique keys of a plain table
-- that lack the partition key and that a conversion carries through a
-- global unique constraint on the same columns: non-partial, non-deferrable
-- unique indexes on plain columns (a primary key, a unique constraint or a
-- bare unique index). A primary key is also widened to (columns, key).
CREATE OR REPLACE FUNCTION pgpart._convert_unique_sets(p_table regclass, p_key name)
RETURNS TABLE (index_oid oid, index_name name, constraint_name name, contype "char", columns name[])
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        x.indexrelid,
        ic.relname,
        con.conname,
        con.contype,
        (
            SELECT array_agg(a.attname ORDER BY u.n)
            FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS u (attnum, n)
            INNER JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND u.attnum = a.attnum
            WHERE u.n <= x.indnkeyatts
        )
    FROM pg_index AS x
    INNER JOIN pg_class AS ic ON x.indexrelid = ic.oid
    LEFT JOIN pg_constraint AS con
        ON
            x.indexrelid = con.conindid AND x.indrelid = con.conrelid
            AND con.contype IN ('p', 'u')
    WHERE
        x.indrelid = p_table AND x.indisunique AND x.indpred IS NULL AND x.indimmediate
        AND NOT (0 = any(x.indkey::int2[]))
        AND NOT EXISTS (
            SELECT 1 FROM pg_attribute AS a
            WHERE a.attrelid = x.indrelid AND a.attname = p_key AND a.attnum = any(x.indkey::int2[])
        )
    ORDER BY con.contype = 'p' DESC NULLS LAST, x.indexrelid;
$body$;

COMMENT ON FUNCTION pgpart._convert_unique_sets(regclass, name) IS
'Unique keys of a plain table without the partition key that a conversion carries through global unique constraints (internal).';

-- source: sql/src/20_core/coordinates.sql
-- Coordinates: every range bound is handled internally as one numeric, so
-- that overlap, gap and grid logic is written once for every key type.
--   integer keys: the value itself
--   timestamptz:  seconds since the Unix epoch (an instant)
--   uuid (UUIDv7): the 48-bit millisecond prefix as seconds since the epoch
--   integers holding epoch seconds/milliseconds/microseconds (the policy's
--   epoch_unit 's', 'ms', 'us'): the value as seconds since the epoch
--   timestamp, date: seconds since 1970-01-01 00:00 of the wall time
-- MINVALUE/MAXVALUE and infinite timestamps are -Infinity/Infinity.
-- Conversions to and from text are pinned to UTC and ISO, never to the
-- session's TimeZone or DateStyle (DESIGN §5).

-- pgpart._key_clock(key_type, epoch_unit): what a range key measures, the
-- one question every place that used to list key types asks:
--   'instant' an instant on the time line (timestamptz, uuid, an integer
--             with an epoch unit): gridded in the configured zone, "now" is
--             the reference time;
--   'wall'    a wall time without zone (timestamp, date): gridded on the
--             plain calendar;
--   'integer' a plain number (smallint, integer, bigint without an epoch
--             unit): "now" is the highest key value.
-- NULL: not a key type pgpart manages by range.
CREATE OR REPLACE FUNCTION pgpart._key_clock(p_key_type regtype, p_epoch_unit text DEFAULT NULL)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
    WHEN p_key_type IN ('timestamptz'::regtype, 'uuid'::regtype) THEN 'instant'
    WHEN p_key_type IN ('timestamp'::regtype, 'date'::regtype) THEN 'wall'
    WHEN p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
        THEN CASE WHEN p_epoch_unit IS NULL THEN 'integer' ELSE 'instant' END
END;

COMMENT ON FUNCTION pgpart._key_clock(regtype, text) IS
'What a range key measures: instant (timestamptz, uuid, epoch integers), wall (timestamp, date) or integer; NULL for other types.';

-- pgpart._epoch_scale(epoch_unit): key units per second of an epoch
-- integer key (NULL without a unit).
CREATE OR REPLACE FUNCTION pgpart._epoch_scale(p_epoch_unit text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE p_epoch_unit WHEN 's' THEN 1 WHEN 'ms' THEN 1000 WHEN 'us' THEN 1000000 END;

COMMENT ON FUNCTION pgpart._epoch_scale(text) IS
'Key units per second of an epoch integer key: 1 (s), 1000 (ms), 1000000 (us); NULL otherwise.';

-- pgpart._uuid_coord(uuid text): the coordinate of a uuid: its first 48
-- bits (a UUIDv7's Unix milliseconds) as seconds. Any uuid has one, so a
-- value that is not version 7 lands by those bits like any other.
CREATE OR REPLACE FUNCTION pgpart._uuid_coord(p_uuid text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN ('x' || lpad(left(replace(p_uuid::uuid::text, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0;

COMMENT ON FUNCTION pgpart._uuid_coord(text) IS
'Coordinate of a uuid: its 48-bit millisecond prefix (UUIDv7) as seconds since the epoch.';

-- pgpart._check_epoch_unit(parent, key_type, epoch_unit, has_partitions,
-- configured): refuses an epoch unit the key cannot hold (smallint: none;
-- integer: seconds only, with a WARNING that it ends on 2038-01-19; a
-- non-integer key: none) and a change of unit under existing partitions.
CREATE OR REPLACE FUNCTION pgpart._check_epoch_unit(
    p_parent regclass,
    p_key_type regtype,
    p_epoch_unit text,
    p_has_partitions boolean,
    p_configured text
)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_epoch_unit IS NULL THEN
        RETURN NULL;
    ELSIF p_epoch_unit NOT IN ('s', 'ms', 'us') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid epoch_unit %L for table %s', p_epoch_unit, p_parent),
            DETAIL = 'An integer key may hold Unix time in seconds, milliseconds or microseconds.',
            HINT = 'Pass epoch_unit => ''s'', ''ms'' or ''us'' (or leave it out for plain numbers).';
    ELSIF pgpart._key_clock(p_key_type) IS DISTINCT FROM 'integer' THEN  -- not a plain integer type
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('epoch_unit applies to integer keys, but the key of table %s is %s', p_parent, p_key_type),
            HINT = 'Leave epoch_unit out for this table.';
    ELSIF p_key_type = 'smallint'::regtype THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('a smallint key of table %s cannot hold Unix time', p_parent),
            DETAIL = 'smallint ends at 32767: nine hours after 1970 in seconds.',
            HINT = 'Use a bigint key for epoch seconds, milliseconds or microseconds.';
    ELSIF p_key_type = 'integer'::regtype AND p_epoch_unit <> 's' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('an integer key of table %s cannot hold Unix time in %s', p_parent,
                             CASE p_epoch_unit WHEN 'ms' THEN 'milliseconds' ELSE 'microseconds' END),
            DETAIL = 'integer ends at 2147483647: 25 days after 1970 in milliseconds.',
            HINT = 'Use a bigint key (ALTER TABLE ... ALTER COLUMN ... TYPE bigint), or epoch_unit => ''s''.';
    END IF;
    IF p_has_partitions AND p_epoch_unit IS DISTINCT FROM p_configured THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cannot change the epoch unit of table %s, which has partitions', p_parent),
            DETAIL = format('Configured: %s; requested: %L.', coalesce(quote_literal(p_configured), 'none'),
                            p_epoch_unit),
            HINT = 'The bounds of existing partitions were computed in the configured unit: leave epoch_unit out, '
                   'or pass the configured one.';
    END IF;
    IF p_key_type = 'integer'::regtype THEN
        RAISE WARNING USING
            MESSAGE = format('the integer key of table %s holds Unix seconds only until 2038-01-19 03:14:07 UTC',
                             p_parent),
            HINT = 'Change the key to bigint before then (ALTER TABLE ... ALTER COLUMN ... TYPE bigint).';
    END IF;
    RETURN p_epoch_unit;
END
$body$;

COMMENT ON FUNCTION pgpart._check_epoch_unit(regclass, regtype, text, boolean, text) IS
'Validates the epoch unit of an integer range key (22023/0A000; WARNING for integer seconds, which end in 2038) and refuses changing it under partitions.';

-- pgpart._literal_to_coord(key_type, literal): the coordinate of a bound
-- as printed by pg_get_expr (quotes removed) or of a key value's text.
CREATE OR REPLACE FUNCTION pgpart._literal_to_coord(p_key_type regtype, p_literal text, p_epoch_unit text DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    -- not STRICT: a NULL epoch unit is the common case
    IF p_literal IS NULL OR p_key_type IS NULL THEN
        RETURN NULL;
    ELSIF p_literal = 'MINVALUE' THEN
        RETURN '-Infinity'::numeric;
    ELSIF p_literal = 'MAXVALUE' THEN
        RETURN 'Infinity'::numeric;
    END IF;
    RETURN CASE p_key_type
        WHEN 'timestamptz'::regtype THEN extract(epoch FROM p_literal::timestamptz)
        WHEN 'timestamp'::regtype THEN extract(epoch FROM p_literal::timestamp)
        WHEN 'date'::regtype THEN extract(epoch FROM p_literal::date::timestamp)
        WHEN 'uuid'::regtype THEN pgpart._uuid_coord(p_literal)
        ELSE CASE WHEN p_epoch_unit IS NULL THEN p_literal::numeric
                  ELSE p_literal::numeric / pgpart._epoch_scale(p_epoch_unit) END
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._literal_to_coord(regtype, text, text) IS
'Coordinate of a bound literal or key value of the given key type.';

-- pgpart._coord_to_literal(key_type, coord): the bound as SQL text for
-- FOR VALUES: a quoted literal with an explicit UTC offset for timestamptz
-- (so the session TimeZone cannot shift it), or MINVALUE/MAXVALUE when the
-- value lies beyond the type's range. An epoch integer key's bound is the
-- coordinate in its unit; a uuid key's is the smallest uuid of the bound's
-- millisecond: the 48-bit prefix followed by zeros (it sorts before every
-- UUIDv7 of that millisecond, as btree orders uuids by their bytes).
CREATE OR REPLACE FUNCTION pgpart._coord_to_literal(p_key_type regtype, p_coord numeric, p_epoch_unit text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_min numeric;
    v_max numeric;
    v_ts timestamp;
    v_format text;
    v_value numeric;
BEGIN
    -- not STRICT: a NULL epoch unit is the common case
    IF p_coord IS NULL OR p_key_type IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_key_type = 'uuid'::regtype THEN
        v_value := floor(p_coord * 1000);  -- -Infinity and Infinity stay so
        IF v_value < 0 THEN
            RETURN 'MINVALUE';
        ELSIF v_value >= 281474976710656 THEN  -- 2^48 milliseconds: year 10889
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal((lpad(to_hex(v_value::bigint), 12, '0') || repeat('0', 20))::uuid::text);
    END IF;
    IF p_key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
        v_value := CASE WHEN p_epoch_unit IS NULL THEN p_coord ELSE p_coord * pgpart._epoch_scale(p_epoch_unit) END;
        IF v_value < v_min THEN
            RETURN 'MINVALUE';
        ELSIF v_value > v_max THEN
            RETURN 'MAXVALUE';
        END IF;
        RETURN quote_literal(trunc(v_value)::text);
    END IF;
    IF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    v_ts := pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC';
    v_format := CASE WHEN p_coord = trunc(p_coord) THEN 'YYYY-MM-DD HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI:SS.US' END;
    RETURN quote_literal(CASE p_key_type
        WHEN 'timestamptz'::regtype THEN to_char(v_ts, v_format) || '+00'
        WHEN 'timestamp'::regtype THEN to_char(v_ts, v_format)
        ELSE to_char(v_ts, 'YYYY-MM-DD')
    END);
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_literal(regtype, numeric, text) IS
'A coordinate as a FOR VALUES bound of the given key type (quoted literal, MINVALUE or MAXVALUE).';

-- pgpart._coord_to_text(key_type, zone, coord, epoch_unit): a bound for
-- people and programs: instants (timestamptz, uuid, epoch integers) as a
-- time in the configured zone with its offset, other types as their plain
-- value. Never depends on the session's settings.
CREATE OR REPLACE FUNCTION pgpart._coord_to_text(p_key_type regtype, p_zone text, p_coord numeric, p_epoch_unit text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
BEGIN
    IF p_coord IS NULL THEN
        RETURN NULL;
    ELSIF p_coord = '-Infinity'::numeric THEN
        RETURN 'MINVALUE';
    ELSIF p_coord = 'Infinity'::numeric THEN
        RETURN 'MAXVALUE';
    END IF;
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
        -- reverted when this function returns (its SET clause)
        PERFORM set_config('timezone', coalesce(p_zone, 'UTC'), true);
        RETURN pgpart._coord_to_ts(p_coord)::text;
    ELSIF p_key_type = 'timestamp'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::text;
    ELSIF p_key_type = 'date'::regtype THEN
        RETURN (pgpart._coord_to_ts(p_coord) AT TIME ZONE 'UTC')::date::text;
    END IF;
    RETURN p_coord::text;
END
$body$;

COMMENT ON FUNCTION pgpart._coord_to_text(regtype, text, numeric, text) IS
'A bound as text: instants (timestamptz, uuid, epoch integers) in the given zone with its UTC offset, other key types as plain values.';

-- pgpart._text_to_coord(key_type, epoch_unit, text): the inverse of
-- pgpart._coord_to_text (the lower_bound and upper_bound of plan steps).
CREATE OR REPLACE FUNCTION pgpart._text_to_coord(p_key_type regtype, p_epoch_unit text, p_text text)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
        RETURN pgpart._literal_to_coord('timestamptz'::regtype, p_text);
    END IF;
    RETURN pgpart._literal_to_coord(p_key_type, p_text);
END
$body$;

COMMENT ON FUNCTION pgpart._text_to_coord(regtype, text, text) IS
'Coordinate of a bound shown by pgpart._coord_to_text (instants as times with their offset).';

-- pgpart._input_to_coord(key_type, zone, text): a value given by a caller
-- (start, origin). Time text without an offset is read in ZONE, never in
-- the session's TimeZone (instants: timestamptz, uuid and epoch integer
-- keys take a time); plain integer keys take a whole number.
CREATE OR REPLACE FUNCTION pgpart._input_to_coord(
    p_key_type regtype, p_zone text, p_text text, p_what text, p_epoch_unit text DEFAULT NULL
)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_ts timestamptz;
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'integer' THEN
        IF btrim(p_text) !~ '^[-+]?[0-9]{1,19}$' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
                HINT = 'Pass a whole number.';
        END IF;
        RETURN btrim(p_text)::numeric;
    END IF;
    BEGIN
        IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'instant' THEN
            PERFORM set_config('timezone', p_zone, true);
            v_ts := p_text::timestamptz;
        ELSE
            -- timestamp and date keys: the wall time as written, read as UTC
            v_ts := p_text::timestamp AT TIME ZONE 'UTC';
        END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L for a key of type %s', p_what, p_text, p_key_type),
            DETAIL = SQLERRM,
            HINT = 'Pass a date or time such as ''2024-01-01'' or ''2024-01-01 06:00''.';
    END;
    IF NOT isfinite(v_ts) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %L: it must be a finite time', p_what, p_text),
            HINT = 'Pass a date or time such as ''2024-01-01''.';
    END IF;
    RETURN extract(epoch FROM v_ts);
END
$body$;

COMMENT ON FUNCTION pgpart._input_to_coord(regtype, text, text, text, text) IS
'Coordinate of a caller-given start or origin, read in the configured zone for instant keys (timestamptz, uuid, epoch integers).';

-- pgpart._runway(parent, now_at): how far ahead of "now" the partitions of a
-- managed RANGE parent reach without a gap: an interval for time keys, a
-- number of key values for integer keys (measured from the highest key
-- value, read under a short lock timeout; NULL when it could not be read).
CREATE OR REPLACE FUNCTION pgpart._runway(p_parent regclass, p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_now numeric;
    v_reach numeric;
    v_clock text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN NULL;
    END IF;
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    IF v_clock = 'integer' THEN
        BEGIN
            v_now := coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '50ms'), 0);
        EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
            RETURN NULL;  -- unknown: a partition is locked exclusively, or we may not read the parent
        END;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_now_at);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone));
    END IF;
    v_reach := pgpart._reach(p_parent, v_now);
    IF v_clock = 'integer' THEN
        RETURN (v_reach - v_now)::text;
    END IF;
    RETURN date_trunc('second', pgpart._coord_to_ts(v_reach) - pgpart._coord_to_ts(v_now))::text;
END
$body$;

-- source: sql/src/20_core/error_report.sql
-- pgpart._error_report(sqlstate, message, detail, hint, schema, table): an
-- error caught by a verb that goes on (maintenance isolates each parent) as
-- the object it returns, so its caller gets the error itself (a typed error
-- in Python) rather than text to parse: the fields of PostgreSQL's error
-- report, empty ones left out.
CREATE OR REPLACE FUNCTION pgpart._error_report(
    p_sqlstate text,
    p_message text,
    p_detail text,
    p_hint text,
    p_schema text,
    p_table text
)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'sqlstate', nullif(p_sqlstate, ''),
        'message', p_message,
        'detail', nullif(p_detail, ''),
        'hint', nullif(p_hint, ''),
        'schema', nullif(p_schema, ''),
        'table', nullif(p_table, '')
    ));
$body$;

COMMENT ON FUNCTION pgpart._error_report(text, text, text, text, text, text) IS
'An error caught by a verb that goes on, as a jsonb object (sqlstate, message, detail, hint, schema, table) for its result.';

-- source: sql/src/20_core/fixes.sql
-- pgpart._fix_now_at(now_at): the ", now_at => ..." argument that a fix
-- carries, so that it acts as of the same reference time as the check that
-- found it (empty when that time is now). Shared by the named checks.
CREATE OR REPLACE FUNCTION pgpart._fix_now_at(p_now_at timestamptz)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- the literal must not depend on the caller's time zone
SET timezone = 'UTC'
AS $body$
BEGIN
    RETURN CASE WHEN p_now_at <> now() THEN format(', now_at => %L', p_now_at) ELSE '' END;
END
$body$;

COMMENT ON FUNCTION pgpart._fix_now_at(timestamptz) IS
'The now_at argument a fix of pgpart.check() carries: empty when the check ran as of now (internal).';

-- pgpart._fix_call(call, parent, args, now_at): the text of a fix (or a
-- HINT) that calls a pgpart verb on PARENT, written once for every check:
-- CALL || '(' || PARENT as a literal || ARGS || the now_at argument || ');',
-- e.g. _fix_call('CALL pgpart.run_maintenance_proc', 't', '', now_at).
-- ARGS starts with ', ' when not empty; a NULL NOW_AT adds nothing.
CREATE OR REPLACE FUNCTION pgpart._fix_call(
    p_call text, p_parent regclass, p_args text DEFAULT '', p_now_at timestamptz DEFAULT NULL
)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN format('%s(%L%s%s);', p_call, p_parent::text, p_args, pgpart._fix_now_at(p_now_at));
END
$body$;

COMMENT ON FUNCTION pgpart._fix_call(text, regclass, text, timestamptz) IS
'The text of a fix that calls a pgpart verb on a parent, with the now_at argument of the check (internal).';

-- source: sql/src/20_core/foreign_keys_in.sql
-- pgpart._foreign_keys_in(rel): the foreign keys that reference REL, read
-- through pg_depend's index on the referenced object. pg_constraint has no
-- index on confrelid: `WHERE confrelid = rel` scans every constraint of the
-- database, which maintenance would do for each parent (15 ms per parent
-- with 1,000 managed parents, issue 16). A foreign key depends on each
-- referenced column, so it is found once per column: hence the IN.
CREATE OR REPLACE FUNCTION pgpart._foreign_keys_in(p_rel oid)
RETURNS SETOF pg_catalog.pg_constraint
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT con.*
    FROM pg_constraint AS con
    WHERE
        con.oid IN (
            SELECT d.objid FROM pg_depend AS d
            WHERE
                d.refclassid = 'pg_class'::regclass AND d.refobjid = p_rel
                AND d.classid = 'pg_constraint'::regclass
        )
        AND con.contype = 'f' AND con.confrelid = p_rel
$body$;

COMMENT ON FUNCTION pgpart._foreign_keys_in(oid) IS
'The foreign keys referencing a table, found through pg_depend''s index (pg_constraint has none on confrelid) (internal).';

-- source: sql/src/20_core/global_unique.sql
-- Global unique constraints, the core (docs/global-unique.md): looking a
-- constraint up for a trigger, the statements that keep its side table, and
-- the trigger functions themselves. The trigger functions belong to the
-- extension's owner (trusted code) and are SECURITY INVOKER: they run with
-- the writer's rights, so a writer needs rights on the side table, granted
-- alongside its rights on the parent (pgpart._gu_grant_statements). Their
-- only argument is the constraint's id: everything they execute is built
-- here from pgpart.global_unique (identifiers through %I, the side table as
-- a regclass), never taken from a trigger argument, and they act only for a
-- table of the constraint's parent tree (or one its owner owns), so an owner
-- cannot point them at anyone else's table.

-- pgpart._gu_lookup(id, rel): the constraint a trigger on REL serves, after
-- the checks above; 55000 otherwise (a trigger copied by hand, a constraint
-- dropped under it).
CREATE OR REPLACE FUNCTION pgpart._gu_lookup(p_id bigint, p_rel oid)
RETURNS pgpart.global_unique
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
BEGIN
    SELECT g.* INTO v_gu
    FROM pgpart.global_unique AS g
    JOIN pg_class AS pc ON pc.oid = g.parent
    JOIN pg_class AS sc ON sc.oid = g.side_table
    JOIN pg_class AS rc ON rc.oid = p_rel
    WHERE g.id = p_id
      AND sc.relowner = pc.relowner AND sc.relnamespace = pc.relnamespace
      AND (rc.relowner = pc.relowner
           OR g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_rel) AS a (relid)));
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('pgpart global unique constraint %s does not serve table %s', p_id, p_rel::regclass),
            DETAIL = 'The trigger names a constraint that no longer exists, or belongs to another table.',
            HINT = 'pgpart.global_unique_info() lists the constraints; drop the stray trigger.';
    END IF;
    RETURN v_gu;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_lookup(bigint, oid) IS
'The global unique constraint a trigger on the relation serves (same owner for parent and side table, relation in the parent''s tree or of the same owner); 55000 otherwise (internal).';

-- pgpart._gu_match(constraint, a, b): the condition "A's values equal B's"
-- for aliases A and B: equality, and for NULLS NOT DISTINCT NULL matching
-- NULL too.
CREATE OR REPLACE FUNCTION pgpart._gu_match(p_gu pgpart.global_unique, p_a text, p_b text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN (
        SELECT string_agg(
            CASE WHEN p_gu.nulls_not_distinct
                THEN format('(%1$I.%3$I = %2$I.%3$I OR (%1$I.%3$I IS NULL AND %2$I.%3$I IS NULL))', p_a, p_b, u.c)
                ELSE format('%1$I.%3$I = %2$I.%3$I', p_a, p_b, u.c) END,
            ' AND ' ORDER BY u.n)
        FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_match(pgpart.global_unique, text, text) IS
'The condition that two aliases hold the same values of a global unique constraint''s columns (internal).';

-- pgpart._gu_sql(constraint, kind): the statement of KIND that keeps the
-- side table: 'insert' records the rows of the transition table pgpart_new
-- (rows with a NULL in the columns are not recorded unless NULLS NOT
-- DISTINCT), 'delete' releases those of pgpart_old that hold no NULL (the
-- trigger releases the others row by row with 'delete_json'), both set-based:
-- one statement per written statement, whatever its row count. With $1 a
-- jsonb object of the values: 'count_json' (rows of the parent holding
-- them, for the build) and 'delete_json' (one entry, NULL matching NULL:
-- the NULL tests on $1 fold into constants when EXECUTE plans with the
-- value, so it probes the side table's unique index).
CREATE OR REPLACE FUNCTION pgpart._gu_sql(p_gu pgpart.global_unique, p_kind text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cols text := (SELECT string_agg(quote_ident(u.c), ', ' ORDER BY u.n)
                    FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
BEGIN
    CASE p_kind
        WHEN 'insert' THEN
            RETURN format(
                'INSERT INTO %s (%s) SELECT %s FROM pgpart_new AS n%s', p_gu.side_table, v_cols,
                (SELECT string_agg(format('n.%I', u.c), ', ' ORDER BY u.n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)),
                CASE WHEN NOT p_gu.nulls_not_distinct THEN
                    ' WHERE ' || (SELECT string_agg(format('n.%I IS NOT NULL', u.c), ' AND ' ORDER BY u.n)
                                  FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)) ELSE '' END);
        WHEN 'delete' THEN
            RETURN format(
                'DELETE FROM %s AS s USING pgpart_old AS o WHERE %s', p_gu.side_table,
                (SELECT string_agg(format('s.%1$I = o.%1$I', u.c), ' AND ' ORDER BY u.n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)));
        -- $1 a jsonb object of the values (rows read by EXECUTE have no named type)
        WHEN 'count_json' THEN
            RETURN format('SELECT count(*) FROM %s AS t, jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                          p_gu.parent, p_gu.side_table, pgpart._gu_match(p_gu, 't', 'r'));
        WHEN 'delete_json' THEN
            RETURN format('DELETE FROM %s AS t USING jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                          p_gu.side_table, p_gu.side_table, pgpart._gu_match(p_gu, 't', 'r'));
    END CASE;
    RETURN NULL;  -- not reached: CASE without a match raises 20000
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sql(pgpart.global_unique, text) IS
'The statement that keeps a global unique constraint''s side table: insert or delete the rows of a trigger''s transition table, or count or delete the values passed as $1 (internal).';

-- new or changed since pgpart--0.1.1.sql
-- Writing pgpart.global_unique (row-level security, as on pgpart.config):
-- only the parent's owner (or a member of the owning role) writes a row,
-- in its own name, and the side table must belong to the same owner, in
-- the parent's schema, so no row can point a writer's trigger at another
-- owner's table. The statements stored in the row are run by every writer's
-- trigger with the writer's rights: the row is admitted only when they are
-- exactly what pgpart._gu_sql builds from its side table and columns, so the
-- owner cannot store other SQL there. Here, not in 10_schema: the policy
-- calls pgpart._gu_sql.
CREATE POLICY global_unique_write ON pgpart.global_unique FOR ALL
USING (
    EXISTS (
        SELECT 1 FROM pg_catalog.pg_class AS c
        WHERE
            c.oid = global_unique.parent
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
)
WITH CHECK (
    pg_catalog.pg_has_role(current_user, author, 'MEMBER')
    AND EXISTS (
        SELECT 1
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_class AS s ON global_unique.side_table = s.oid
        WHERE
            c.oid = global_unique.parent
            AND s.relowner = c.relowner
            AND s.relnamespace = c.relnamespace
            AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    )
    AND insert_sql = pgpart._gu_sql(
        (
            id, parent, constraint_name, side_table, columns, nulls_not_distinct, '', '', state, build,
            stale_since, author, created_at
        )::pgpart.global_unique,
        'insert'
    )
    AND delete_sql = pgpart._gu_sql(
        (
            id, parent, constraint_name, side_table, columns, nulls_not_distinct, '', '', state, build,
            stale_since, author, created_at
        )::pgpart.global_unique,
        'delete'
    )
);

-- pgpart._gu_row(): the trigger of a global unique constraint, FOR EACH
-- STATEMENT with transition tables (pgpart_new, pgpart_old), AFTER INSERT,
-- AFTER UPDATE and AFTER DELETE, on the parent and on every table of its
-- tree (PostgreSQL fires only the statement triggers of the table a
-- statement names, and does not clone them to partitions). Set-based: one
-- INSERT into the side table for the rows a statement inserted (COPY
-- included), whose unique index refuses a value another row holds (23505
-- naming the constraint and the value, waiting for an uncommitted writer of
-- the same value like any unique index); one DELETE for the rows it
-- deleted. An UPDATE releases the values its old rows held and its new rows
-- do not (EXCEPT ALL), then records the new ones: values are checked as a
-- set at the end of the statement, so a swap succeeds, and a row moved to
-- another partition (captured by PostgreSQL as an UPDATE of the parent) with
-- its values unchanged leaves its entry untouched. The name is kept from the
-- row trigger it replaced; a ROW trigger calling it is refused (55000).
CREATE OR REPLACE FUNCTION pgpart._gu_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_insert text;
    v_delete text;
    v_parent oid;
    v_side oid;
    v_columns name [];
    v_nnd boolean;
    v_parent_owner oid;
    v_parent_schema oid;
    v_side_owner oid;
    v_side_schema oid;
    v_cols text;
    v_old text := '';
    v_new text := '';
    v_delete_one text;
    v_changed boolean;
    v_row jsonb;
BEGIN
    -- pgpart._gu_lookup's checks, as single-row lookups with cached plans
    -- (one query joining them all costs no less: measured, docs "Cost"):
    -- the constraint exists, its side table is the parent owner's, in its
    -- schema, and this table is the parent owner's or in the parent's tree
    SELECT g.insert_sql, g.delete_sql, g.parent::oid, g.side_table::oid, g.columns, g.nulls_not_distinct
    INTO v_insert, v_delete, v_parent, v_side, v_columns, v_nnd
    FROM pgpart.global_unique AS g WHERE g.id = TG_ARGV[0]::bigint;
    SELECT c.relowner, c.relnamespace INTO v_parent_owner, v_parent_schema FROM pg_class AS c WHERE c.oid = v_parent;
    SELECT c.relowner, c.relnamespace INTO v_side_owner, v_side_schema FROM pg_class AS c WHERE c.oid = v_side;
    -- (plain comparisons first: PL/pgSQL evaluates them without a query;
    -- a statement on the parent itself needs no third lookup)
    IF v_parent_owner IS NULL OR v_side_owner IS DISTINCT FROM v_parent_owner
       OR v_side_schema IS DISTINCT FROM v_parent_schema THEN
        PERFORM pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID);  -- raises 55000
    END IF;
    IF TG_RELID <> v_parent THEN
        IF v_parent_owner IS DISTINCT FROM (SELECT c.relowner FROM pg_class AS c WHERE c.oid = TG_RELID)
           AND NOT v_parent IN (SELECT a.relid FROM pg_partition_ancestors(TG_RELID) AS a (relid)) THEN
            PERFORM pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID);  -- raises 55000
        END IF;
    END IF;
    IF TG_LEVEL <> 'STATEMENT' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('trigger %I on %s calls pgpart._gu_row() for each row', TG_NAME, TG_RELID::regclass),
            DETAIL = 'pgpart._gu_row() works FOR EACH STATEMENT, with transition tables pgpart_new and pgpart_old.',
            HINT = 'Drop the trigger; pgpart.add_global_unique() installs the ones it needs.';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_cols := (SELECT string_agg(quote_ident(u.c), ', ' ORDER BY u.n)
                   FROM unnest(v_columns) WITH ORDINALITY AS u (c, n));
        -- values unchanged (an update of other columns, rows moved): nothing
        -- to do, and the side table is not touched, so a writer allowed to
        -- update only other columns needs no right on it (old and new hold
        -- as many rows: one difference is empty when the other is)
        EXECUTE format('SELECT EXISTS (SELECT %1$s FROM pgpart_old EXCEPT ALL SELECT %1$s FROM pgpart_new)', v_cols)
        INTO v_changed;
        IF NOT v_changed THEN
            RETURN NULL;
        END IF;
        -- only what changed: the values released, the values taken
        v_old := format('WITH pgpart_old AS (SELECT %1$s FROM pgpart_old EXCEPT ALL SELECT %1$s FROM pgpart_new) ',
                        v_cols);
        v_new := format('WITH pgpart_new AS (SELECT %1$s FROM pgpart_new EXCEPT ALL SELECT %1$s FROM pgpart_old) ',
                        v_cols);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        EXECUTE v_old || v_delete;
        -- NULLS NOT DISTINCT: entries holding a NULL, one by one (NULL = NULL
        -- is not true in the set-based DELETE above)
        IF v_nnd THEN
            v_delete_one := pgpart._gu_sql(pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID), 'delete_json');
            FOR v_row IN EXECUTE format(
                '%sSELECT to_jsonb(o) FROM (SELECT %s FROM pgpart_old) AS o WHERE %s', v_old,
                (SELECT string_agg(quote_ident(u.c), ', ') FROM unnest(v_columns) AS u (c)),
                (SELECT string_agg(format('o.%I IS NULL', u.c), ' OR ') FROM unnest(v_columns) AS u (c)))
            LOOP
                EXECUTE v_delete_one USING v_row;
            END LOOP;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE v_new || v_insert;
    END IF;
    RETURN NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_row() IS
'Statement trigger of a global unique constraint (transition tables pgpart_new, pgpart_old): records, releases or moves the values a statement wrote in the side table, set-based (argument: the constraint''s id).';

-- pgpart._gu_forget(constraint, table): deletes from the side table the
-- values TABLE's rows hold (they are unique, so they are that table's):
-- before a TRUNCATE, after a DETACH. One join for rows without NULLs, then
-- row by row for the few with NULLs (NULLS NOT DISTINCT only). Returns how
-- many entries went.
CREATE OR REPLACE FUNCTION pgpart._gu_forget(p_gu pgpart.global_unique, p_table regclass)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint;
    v_more bigint := 0::bigint;
    v_row jsonb;
BEGIN
    EXECUTE format('DELETE FROM %s AS s USING ONLY %s AS t WHERE %s', p_gu.side_table, p_table,
                   (SELECT string_agg(format('s.%1$I = t.%1$I', c), ' AND ') FROM unnest(p_gu.columns) AS u (c)));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF p_gu.nulls_not_distinct THEN
        FOR v_row IN EXECUTE format(
            'SELECT to_jsonb(t) FROM (SELECT %s FROM ONLY %s WHERE %s) AS t',
            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(p_gu.columns) AS u (c)), p_table,
            (SELECT string_agg(format('%I IS NULL', c), ' OR ') FROM unnest(p_gu.columns) AS u (c)))
        LOOP
            EXECUTE pgpart._gu_sql(p_gu, 'delete_json') USING v_row;
            GET DIAGNOSTICS v_more = ROW_COUNT;
            v_count := v_count + v_more;
        END LOOP;
    END IF;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_forget(pgpart.global_unique, regclass) IS
'Deletes from a global unique constraint''s side table the values a table''s rows hold (before TRUNCATE, after DETACH); returns the count (internal).';

-- pgpart._gu_truncate(): the BEFORE TRUNCATE trigger of a global unique
-- constraint on each leaf partition (TRUNCATE fires no row triggers, and
-- PostgreSQL does not clone TRUNCATE triggers to partitions, so pgpart
-- installs it on each, and the event trigger on partitions made by hand).
-- It releases the partition's values while its rows are still there: a
-- scan of the partition, the cost of TRUNCATE with a global constraint.
-- Its name, pgpart_gu_<id>_truncate, also marks the tables whose values the
-- side table holds (pgpart._gu_sync).
CREATE OR REPLACE FUNCTION pgpart._gu_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._gu_forget(pgpart._gu_lookup(TG_ARGV[0]::bigint, TG_RELID), TG_RELID::regclass);
    RETURN NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_truncate() IS
'BEFORE TRUNCATE trigger of a global unique constraint on a leaf partition: releases the partition''s values; its name marks the tables the side table holds values of.';

-- source: sql/src/20_core/grid.sql
-- pgpart._grid(parent): the grid of a managed RANGE parent as the slot
-- functions take it: kind and step of the interval, the zone its calendar
-- follows (UTC below a day and for timestamp/date keys), the origin as a
-- coordinate, the coordinate of "now" for a reference time (NULL for plain
-- integer keys) and the key's epoch unit (for the coordinate conversions).
CREATE OR REPLACE FUNCTION pgpart._grid(
    p_parent regclass,
    p_now_at timestamptz,
    OUT key_type regtype,
    OUT kind text,
    OUT step numeric,
    OUT frame text,
    OUT origin numeric,
    OUT now_coord numeric,
    OUT epoch_unit text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_iv record;
    v_clock text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    v_iv := pgpart._parse_interval(v_cfg.key_type, v_cfg.partition_interval, v_cfg.epoch_unit);
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    key_type := v_cfg.key_type;
    epoch_unit := v_cfg.epoch_unit;
    kind := v_iv.kind;
    step := v_iv.step;
    frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months')
                  THEN v_cfg.time_zone ELSE 'UTC' END;
    origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                   ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    now_coord := CASE WHEN v_iv.kind = 'integer' THEN NULL
                      WHEN v_clock = 'instant' THEN extract(epoch FROM p_now_at)
                      ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone)) END;
END
$body$;

COMMENT ON FUNCTION pgpart._grid(regclass, timestamptz) IS
'Grid of a managed range parent for the slot functions: kind, step, zone, origin, the coordinate of now (NULL for integer keys) and the epoch unit.';

-- source: sql/src/20_core/interval.sql
-- pgpart._parse_interval(key_type, text): validates a partition interval
-- against the key type and classifies it (DESIGN §5):
--   integer  - plain integer keys: a positive whole number of key units
--              (epoch integer and uuid keys take time intervals, as
--              timestamptz: their clock is 'instant', pgpart._key_clock)
--   seconds  - time keys: a time-only interval dividing 24 hours (UTC grid)
--   days     - whole days, weeks included (calendar of the configured zone)
--   months   - whole months, years included (calendar of the configured zone)
-- Mixed intervals ('1 mon 2 days', '1 day 12:00') have no stable calendar
-- meaning and are refused, as is a bare number for a time key ('1000'
-- would otherwise mean 16 min 40 s).
CREATE OR REPLACE FUNCTION pgpart._parse_interval(
    p_key_type regtype,
    p_text text,
    p_epoch_unit text DEFAULT NULL,
    OUT canonical text,
    OUT kind text,
    OUT step numeric
)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_text text := lower(btrim(coalesce(p_text, '')));
    v_iv interval;
    v_months numeric;
    v_days numeric;
    v_secs numeric;
BEGIN
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'integer' THEN
        IF v_text !~ '^\+?[0-9]{1,18}$' OR v_text::numeric = 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
                DETAIL = 'An integer key needs a positive whole number: the width of each partition.',
                HINT = 'Pass an interval such as ''1000''.';
        END IF;
        canonical := v_text::numeric::text;
        kind := 'integer';
        step := v_text::numeric;
        RETURN;
    END IF;

    -- Shorthands people write in cron-like settings.
    v_text := CASE v_text
        WHEN 'hourly' THEN '1 hour'
        WHEN 'daily' THEN '1 day'
        WHEN 'weekly' THEN '1 week'
        WHEN 'monthly' THEN '1 month'
        WHEN 'quarterly' THEN '3 months'
        WHEN 'yearly' THEN '1 year'
        ELSE v_text
    END;
    IF v_text ~ '^[-+]?[0-9.]*$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
            DETAIL = 'A time key needs an interval with a unit.',
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END IF;
    BEGIN
        v_iv := v_text::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L', p_text),
            DETAIL = SQLERRM,
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END;
    v_months := extract(year FROM v_iv) * 12 + extract(month FROM v_iv);
    v_days := extract(day FROM v_iv);
    v_secs := extract(hour FROM v_iv) * 3600 + extract(minute FROM v_iv) * 60 + extract(second FROM v_iv);
    canonical := v_iv::text;
    IF v_months > 0 AND v_days = 0 AND v_secs = 0 THEN
        kind := 'months';
        step := v_months;
    ELSIF v_months = 0 AND v_days > 0 AND v_secs = 0 THEN
        kind := 'days';
        step := v_days;
    ELSIF v_months = 0 AND v_days = 0 AND v_secs > 0 AND v_secs <= 86400
          AND v_secs = trunc(v_secs) AND 86400 % v_secs = 0 THEN
        kind := 'seconds';
        step := v_secs;
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unsupported partition interval %L', p_text),
            DETAIL = 'An interval must be whole months, whole days, or whole seconds dividing 24 hours.',
            HINT = 'Pass an interval such as ''1 day'', ''7 days'', ''1 month'', ''3 months'', ''1 hour'' or ''15 minutes''.';
    END IF;
    IF (kind = 'months' AND step > 12000) OR (kind = 'days' AND step > 366000) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is too long', p_text),
            HINT = 'Pass an interval of at most a thousand years.';
    END IF;
    IF p_key_type = 'date'::regtype AND kind = 'seconds' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is shorter than a day, but the key is a date', p_text),
            HINT = 'Use an interval of one day or more for a date key.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._parse_interval(regtype, text, text) IS
'Validates a partition interval against the key type and classifies it as integer, seconds, days or months.';

-- source: sql/src/20_core/lock_args.sql
-- pgpart._check_lock_args(lock_timeout, lock_retries, now_at): the arguments every
-- changing verb shares, checked before any lock is taken (a lock_timeout of
-- 0 would mean "wait forever" to PostgreSQL).
CREATE OR REPLACE FUNCTION pgpart._check_lock_args(p_lock_timeout interval, p_lock_retries integer, p_now_at timestamptz)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 hour' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_timeout must be positive and at most an hour, got %s',
                             coalesce(p_lock_timeout::text, 'NULL')),
            HINT = 'Pass a short interval such as ''200ms'': writers queue behind a waiting lock for that long.';
    END IF;
    -- bounded: a run must end even when another session holds a lock for good
    IF p_lock_retries IS NULL OR p_lock_retries < 0 OR p_lock_retries > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_retries must be between 0 and 1000, got %s', coalesce(p_lock_retries::text, 'NULL')),
            HINT = 'Pass how many times to retry a lock that timed out, such as 10.';
    END IF;
    IF p_now_at IS NULL OR NOT isfinite(p_now_at) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('now_at must be a finite time, got %s', coalesce(p_now_at::text, 'NULL')),
            HINT = 'Leave now_at out to use now(), or pass the reference time to act as of.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_lock_args(interval, integer, timestamptz) IS
'Checks the lock_timeout, lock_retries and now_at arguments shared by the changing verbs (22023).';

-- source: sql/src/20_core/lock_statements.sql
-- pgpart._lock_statements(parent, detaching): the locks pgpart takes before
-- it changes the partitions of PARENT, in the one documented order (DESIGN §3):
--   1. the per-parent advisory lock (excludes other pgpart runs);
--   2. the parent, ONLY (without ONLY every partition would be locked,
--      conflicting with autovacuum): SHARE UPDATE EXCLUSIVE like ATTACH, or
--      ACCESS EXCLUSIVE (held until commit) when DETACHING a partition;
--   3. tables linked by foreign keys, in OID order, SHARE ROW EXCLUSIVE as
--      ATTACH takes them when it clones the constraints; a DETACH takes the
--      referencing ones ACCESS EXCLUSIVE;
--   4. the default partition, ACCESS EXCLUSIVE, which ATTACH and DETACH
--      re-check;
--   5. when DETACHING, that partition, ACCESS EXCLUSIVE.
CREATE OR REPLACE FUNCTION pgpart._lock_statements(p_parent regclass, p_detaching regclass DEFAULT NULL)
RETURNS TABLE (statement text, locks text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_default regclass;
    v_detach boolean := p_detaching IS NOT NULL;
BEGIN
    statement := format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent));
    locks := format('advisory lock %s (pgpart, %s)', pgpart.advisory_key(p_parent), p_parent);
    RETURN NEXT;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent);
        locks := format('ACCESS EXCLUSIVE on %s (until commit)', p_parent);
    ELSE
        statement := format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent);
        locks := format('SHARE UPDATE EXCLUSIVE on %s', p_parent);
    END IF;
    RETURN NEXT;
    RETURN QUERY
    SELECT format('LOCK TABLE ONLY %s IN %s MODE', t.rel::regclass, t.mode),
           format('%s on %s (foreign key)', t.mode, t.rel::regclass)
    FROM (
        SELECT con.confrelid AS rel, 'SHARE ROW EXCLUSIVE' AS mode FROM pg_constraint AS con
        WHERE con.conrelid = p_parent AND con.contype = 'f' AND con.conparentid = 0
        UNION
        SELECT con.conrelid, CASE WHEN v_detach THEN 'ACCESS EXCLUSIVE' ELSE 'SHARE ROW EXCLUSIVE' END
        FROM pgpart._foreign_keys_in(p_parent) AS con
        WHERE con.conparentid = 0
    ) AS t
    WHERE t.rel <> p_parent::oid
    ORDER BY t.rel;
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NOT NULL THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_default);
        locks := format('ACCESS EXCLUSIVE on %s (default partition)', v_default);
        RETURN NEXT;
    END IF;
    IF v_detach THEN
        statement := format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_detaching);
        locks := format('ACCESS EXCLUSIVE on %s', p_detaching);
        RETURN NEXT;
    END IF;
END
$body$;

-- source: sql/src/20_core/locks.sql
-- pgpart._acquire_locks(statements, timeout, retries): runs lock statements
-- (LOCK TABLE ONLY ..., pg_advisory_xact_lock(...)) in the given order as
-- one group, each waiting at most TIMEOUT. If any wait times out, the whole
-- group is released (its subtransaction rolls back, which releases locks
-- taken in it), the function sleeps a growing, jittered moment so queued
-- writers get through, and tries again; after RETRIES retries it raises
-- 55P03 and leaves nothing behind (DESIGN §3).
-- Autovacuum: when the statement that timed out is blocked by an autovacuum
-- worker alone, pgpart._autovacuum_yield may grant ONE extra attempt in
-- which that statement waits deadlock_timeout + TIMEOUT, so that PostgreSQL
-- (or pgpart, where the role may) cancels the worker; never for an
-- anti-wraparound vacuum, never twice in a row on one table. The other
-- statements keep TIMEOUT, and the attempt does not count as a retry.
CREATE OR REPLACE FUNCTION pgpart._acquire_locks(p_statements text[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_attempt integer := 0;
    v_current text;
    v_statement text;
    v_yield record;
    v_long_statement text;   -- the statement of the one longer attempt
    v_long_timeout interval;
    v_yielded boolean := false;
    v_note text;
BEGIN
    PERFORM pgpart._set_lock_timeout(p_timeout);
    LOOP
        BEGIN
            FOREACH v_statement IN ARRAY p_statements LOOP
                v_current := v_statement;
                IF v_statement = v_long_statement THEN
                    -- set_config inside this block: a timeout rolls it back too
                    PERFORM pgpart._set_lock_timeout(v_long_timeout);
                    v_long_statement := NULL;
                    EXECUTE v_statement;
                    PERFORM pgpart._set_lock_timeout(p_timeout);
                ELSE
                    EXECUTE v_statement;
                END IF;
            END LOOP;
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            v_long_statement := NULL;
            IF NOT v_yielded THEN
                SELECT * INTO v_yield FROM pgpart._autovacuum_yield(v_current, p_timeout);
                v_note := v_yield.note;
                IF v_yield.timeout IS NOT NULL THEN
                    v_yielded := true;
                    v_long_statement := v_current;
                    v_long_timeout := v_yield.timeout;
                END IF;
            END IF;
            IF v_long_statement IS NULL THEN
                v_attempt := v_attempt + 1;
            END IF;
            IF v_attempt > p_retries THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'lock_not_available',
                    MESSAGE = format('could not obtain a lock within %s after %s attempts', p_timeout, v_attempt),
                    DETAIL = format('Waiting for: %s. Another session holds a conflicting lock.', v_current)
                             || coalesce(' ' || v_note, ''),
                    HINT = 'Nothing was changed. Retry later, or pass a longer lock_timeout or more lock_retries.';
            END IF;
        END;
        IF v_long_statement IS NULL THEN
            -- back off: 10 ms, 20 ms, ... up to 500 ms, with jitter
            PERFORM pg_sleep(least(0.5, 0.01 * v_attempt * (1 + random())));
        END IF;
    END LOOP;
END
$body$;

-- source: sql/src/20_core/partitions.sql
-- pgpart._partitions(parent): the direct partitions of PARENT with their
-- bounds, read from the catalog only, so it never waits for a lock
-- (DESIGN §2): pg_get_expr(relpartbound, 0) deparses the bound without
-- opening the relation, which is safe because bounds hold only constants.
-- For RANGE parents on a supported key the bounds are also given as
-- coordinates; LIST and HASH bounds are left as text.
CREATE OR REPLACE FUNCTION pgpart._partitions(p_parent regclass)
RETURNS TABLE (
    partition regclass,
    relkind "char",
    is_default boolean,
    detach_pending boolean,
    bound text,
    lower_literal text,
    upper_literal text,
    lower_coord numeric,
    upper_coord numeric
)
LANGUAGE plpgsql
STABLE
ROWS 100
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_key_type regtype;
    v_strategy "char";
    v_coords boolean;
    -- an epoch integer key's unit (from the policy): its values / v_scale
    -- are seconds (NULL: plain integers)
    v_scale numeric;
BEGIN
    SELECT pt.partstrat, a.atttypid::regtype INTO v_strategy, v_key_type
    FROM pg_partitioned_table AS pt
    LEFT JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent AND pt.partnatts = 1;
    v_coords := v_strategy = 'r' AND pgpart._key_clock(v_key_type) IS NOT NULL;
    IF v_coords AND pgpart._key_clock(v_key_type) = 'integer' THEN
        -- only an integer key may hold Unix time (the policy says so)
        SELECT pgpart._epoch_scale(c.epoch_unit) INTO v_scale FROM pgpart.config AS c WHERE c.parent = p_parent;
    END IF;
    RETURN QUERY
    WITH children AS (
        SELECT
            c.oid::regclass AS partition,
            c.relkind,
            i.inhdetachpending AS detach_pending,
            pg_get_expr(c.relpartbound, 0) AS bound
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = p_parent AND c.relkind IN ('r', 'p', 'f')
    ),
    -- MATERIALIZED: inlined, every reference below would run the regex again
    parsed AS MATERIALIZED (
        SELECT
            ch.*,
            regexp_match(ch.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m
        FROM children AS ch
    ),
    literals AS MATERIALIZED (
        SELECT
            p.partition, p.relkind, p.detach_pending, p.bound,
            -- a quoted literal loses its quotes and doubled quotes
            CASE WHEN p.m[1] ~ '^''.*''$' THEN replace(substr(p.m[1], 2, length(p.m[1]) - 2), '''''', '''')
                 ELSE p.m[1] END AS lower_literal,
            CASE WHEN p.m[2] ~ '^''.*''$' THEN replace(substr(p.m[2], 2, length(p.m[2]) - 2), '''''', '''')
                 ELSE p.m[2] END AS upper_literal
        FROM parsed AS p
    )
    SELECT
        l.partition,
        l.relkind,
        l.bound = 'DEFAULT',
        l.detach_pending,
        l.bound,
        l.lower_literal,
        l.upper_literal,
        -- pgpart._literal_to_coord inlined: this runs for every partition of
        -- every parent on each maintenance, and a function call per bound
        -- (with its SET clauses) cost ~75 us; the SET timezone and datestyle
        -- of this function hold here
        CASE WHEN NOT v_coords OR l.lower_literal IS NULL THEN NULL
             WHEN l.lower_literal = 'MINVALUE' THEN '-Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.lower_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.lower_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.lower_literal::date::timestamp)
             -- pgpart._uuid_coord inlined: the 48-bit millisecond prefix
             WHEN v_key_type = 'uuid'::regtype
                 THEN ('x' || lpad(left(replace(l.lower_literal, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
             WHEN v_scale IS NOT NULL THEN l.lower_literal::numeric / v_scale
             ELSE l.lower_literal::numeric END,
        CASE WHEN NOT v_coords OR l.upper_literal IS NULL THEN NULL
             WHEN l.upper_literal = 'MAXVALUE' THEN 'Infinity'::numeric
             WHEN v_key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.upper_literal::timestamptz)
             WHEN v_key_type = 'timestamp'::regtype THEN extract(epoch FROM l.upper_literal::timestamp)
             WHEN v_key_type = 'date'::regtype THEN extract(epoch FROM l.upper_literal::date::timestamp)
             -- pgpart._uuid_coord inlined: the 48-bit millisecond prefix
             WHEN v_key_type = 'uuid'::regtype
                 THEN ('x' || lpad(left(replace(l.upper_literal, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
             WHEN v_scale IS NOT NULL THEN l.upper_literal::numeric / v_scale
             ELSE l.upper_literal::numeric END
    FROM literals AS l
    ORDER BY l.bound = 'DEFAULT', 8, l.partition::oid;
END
$body$;

-- source: sql/src/20_core/policy.sql
-- pgpart._register_range_policy(...): registers or updates the range policy of
-- PARENT in pgpart.config. Row-level security lets a role write only the
-- policy of tables it owns; the author is recorded so that maintenance can
-- re-check it (DESIGN §6).
CREATE OR REPLACE FUNCTION pgpart._register_range_policy(
    p_parent regclass,
    p_key_column name,
    p_key_type regtype,
    p_interval text,
    p_origin text,
    p_time_zone text,
    p_premake integer,
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL,
    -- the epoch unit of an integer key ('s', 'ms', 'us'), NULL for others
    p_epoch_unit text DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.config AS c (
        parent, strategy, key_column, key_type, partition_interval, grid_origin,
        time_zone, premake, tablespace, reloptions, subpartition, policy_author, epoch_unit
    )
    VALUES (
        p_parent, 'range', p_key_column, p_key_type, p_interval, p_origin,
        p_time_zone, p_premake, p_tablespace, p_reloptions, p_subpartition, current_user, p_epoch_unit
    )
    ON CONFLICT (parent) DO UPDATE SET
        strategy = excluded.strategy,
        key_column = excluded.key_column,
        key_type = excluded.key_type,
        partition_interval = excluded.partition_interval,
        grid_origin = excluded.grid_origin,
        time_zone = excluded.time_zone,
        premake = excluded.premake,
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        subpartition = excluded.subpartition,
        policy_author = excluded.policy_author,
        epoch_unit = excluded.epoch_unit,
        updated_at = now()
    WHERE (
        c.strategy, c.key_column, c.key_type, c.partition_interval, c.grid_origin,
        c.time_zone, c.premake, c.tablespace, c.reloptions, c.subpartition, c.policy_author, c.epoch_unit
    )
    IS DISTINCT FROM
    (
        excluded.strategy, excluded.key_column, excluded.key_type, excluded.partition_interval,
        excluded.grid_origin, excluded.time_zone, excluded.premake, excluded.tablespace,
        excluded.reloptions, excluded.subpartition, excluded.policy_author, excluded.epoch_unit
    );
END;

COMMENT ON FUNCTION pgpart._register_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb, text) IS
'Registers or updates the range policy of a parent in pgpart.config.';

-- pgpart._register_list_hash_policy(parent, strategy, key, type, tablespace,
-- reloptions): registers or updates the policy row of a LIST or HASH parent.
CREATE OR REPLACE FUNCTION pgpart._register_list_hash_policy(
    p_parent regclass,
    p_strategy text,
    p_key_column name,
    p_key_type regtype,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    INSERT INTO pgpart.config AS c (parent, strategy, key_column, key_type, tablespace, reloptions, policy_author)
    VALUES (p_parent, p_strategy, p_key_column, p_key_type, p_tablespace, p_reloptions, current_user)
    ON CONFLICT (parent) DO UPDATE SET
        tablespace = excluded.tablespace,
        reloptions = excluded.reloptions,
        updated_at = now()
    WHERE (c.tablespace, c.reloptions) IS DISTINCT FROM (excluded.tablespace, excluded.reloptions);
$body$;

COMMENT ON FUNCTION pgpart._register_list_hash_policy(regclass, text, name, regtype, name, text[]) IS
'Registers or updates the policy row of a LIST or HASH parent.';

-- pgpart._write_policy_change(old, new): writes into the policy row of the
-- parent the lifecycle values in which NEW (pgpart._validated_policy of OLD)
-- differs from OLD, onto the row as it is now (locked FOR UPDATE: a verb may
-- have registered or changed the row since OLD was read), and logs
-- set_policy with the row before and after. Returns the row. Values are
-- validated before (pgpart._validated_policy): this only writes.
CREATE OR REPLACE FUNCTION pgpart._write_policy_change(p_old pgpart.config, p_new pgpart.config)
RETURNS pgpart.config
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cur pgpart.config;
    v_res pgpart.config;
BEGIN
    SELECT * INTO v_cur FROM pgpart.config AS c WHERE c.parent = p_new.parent FOR UPDATE;
    v_res := v_cur;
    IF p_new.retention IS DISTINCT FROM p_old.retention THEN
        v_res.retention := p_new.retention;
    END IF;
    IF p_new.retention_action IS DISTINCT FROM p_old.retention_action THEN
        v_res.retention_action := p_new.retention_action;
    END IF;
    IF p_new.archive_schema IS DISTINCT FROM p_old.archive_schema THEN
        v_res.archive_schema := p_new.archive_schema;
    END IF;
    IF p_new.archive_tablespace IS DISTINCT FROM p_old.archive_tablespace THEN
        v_res.archive_tablespace := p_new.archive_tablespace;
    END IF;
    IF p_new.tablespace IS DISTINCT FROM p_old.tablespace THEN
        v_res.tablespace := p_new.tablespace;
    END IF;
    IF p_new.premake IS DISTINCT FROM p_old.premake THEN
        v_res.premake := p_new.premake;
    END IF;
    IF p_new.automatic_maintenance IS DISTINCT FROM p_old.automatic_maintenance THEN
        v_res.automatic_maintenance := p_new.automatic_maintenance;
    END IF;
    IF p_new.analyze_after IS DISTINCT FROM p_old.analyze_after THEN
        v_res.analyze_after := p_new.analyze_after;
    END IF;
    IF p_new.referenced_retention IS DISTINCT FROM p_old.referenced_retention THEN
        v_res.referenced_retention := p_new.referenced_retention;
    END IF;
    IF p_new.reconcile IS DISTINCT FROM p_old.reconcile THEN
        v_res.reconcile := p_new.reconcile;
    END IF;
    IF p_new.propagate_grants IS DISTINCT FROM p_old.propagate_grants THEN
        v_res.propagate_grants := p_new.propagate_grants;
    END IF;
    IF p_new.move_large_bytes IS DISTINCT FROM p_old.move_large_bytes THEN
        v_res.move_large_bytes := p_new.move_large_bytes;
    END IF;
    IF p_new.epoch_unit IS DISTINCT FROM p_old.epoch_unit THEN
        v_res.epoch_unit := p_new.epoch_unit;
    END IF;
    IF p_new.drain_default IS DISTINCT FROM p_old.drain_default THEN
        v_res.drain_default := p_new.drain_default;
    END IF;
    IF p_new.drain_default_max_bytes IS DISTINCT FROM p_old.drain_default_max_bytes THEN
        v_res.drain_default_max_bytes := p_new.drain_default_max_bytes;
    END IF;
    IF p_new.retention_max_bytes IS DISTINCT FROM p_old.retention_max_bytes THEN
        v_res.retention_max_bytes := p_new.retention_max_bytes;
    END IF;
    IF p_new.retention_max_rows IS DISTINCT FROM p_old.retention_max_rows THEN
        v_res.retention_max_rows := p_new.retention_max_rows;
    END IF;
    IF p_new.retention_grace IS DISTINCT FROM p_old.retention_grace THEN
        v_res.retention_grace := p_new.retention_grace;
    END IF;
    IF v_res IS DISTINCT FROM v_cur THEN
        UPDATE pgpart.config AS c SET
            retention = v_res.retention,
            retention_action = v_res.retention_action,
            archive_schema = v_res.archive_schema,
            archive_tablespace = v_res.archive_tablespace,
            tablespace = v_res.tablespace,
            premake = v_res.premake,
            automatic_maintenance = v_res.automatic_maintenance,
            analyze_after = v_res.analyze_after,
            referenced_retention = v_res.referenced_retention,
            reconcile = v_res.reconcile,
            propagate_grants = v_res.propagate_grants,
            move_large_bytes = v_res.move_large_bytes,
            epoch_unit = v_res.epoch_unit,
            drain_default = v_res.drain_default,
            drain_default_max_bytes = v_res.drain_default_max_bytes,
            retention_max_bytes = v_res.retention_max_bytes,
            retention_max_rows = v_res.retention_max_rows,
            retention_grace = v_res.retention_grace,
            updated_at = now()
        WHERE c.parent = v_cur.parent
        RETURNING * INTO v_res;
        PERFORM pgpart._log(v_cur.parent, 'set_policy', 'ok',
                            jsonb_build_object('old', to_jsonb(v_cur), 'new', to_jsonb(v_res)));
    END IF;
    RETURN v_res;
END
$body$;

COMMENT ON FUNCTION pgpart._write_policy_change(pgpart.config, pgpart.config) IS
'Writes the lifecycle values in which a validated policy row differs from the old one into the current row, and logs set_policy (internal).';

-- pgpart._save_range_policy(...) and pgpart._save_policy(...): the names
-- the "register policy" step of plans returned before 0.2.0 calls (plan
-- texts are API for plans already returned, docs/architecture.md); they do
-- what the renamed functions do.
CREATE OR REPLACE FUNCTION pgpart._save_range_policy(
    p_parent regclass,
    p_key_column name,
    p_key_type regtype,
    p_interval text,
    p_origin text,
    p_time_zone text,
    p_premake integer,
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._register_range_policy(p_parent, p_key_column, p_key_type, p_interval, p_origin, p_time_zone,
                                         p_premake, p_tablespace, p_reloptions, p_subpartition);
$body$;

COMMENT ON FUNCTION pgpart._save_range_policy(regclass, name, regtype, text, text, text, integer, name, text[], jsonb) IS
'Former name of pgpart._register_range_policy, kept for plans returned before 0.2.0 (internal).';

CREATE OR REPLACE FUNCTION pgpart._save_policy(
    p_parent regclass,
    p_strategy text,
    p_key_column name,
    p_key_type regtype,
    p_tablespace name,
    p_reloptions text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT pgpart._register_list_hash_policy(p_parent, p_strategy, p_key_column, p_key_type, p_tablespace,
                                             p_reloptions);
$body$;

COMMENT ON FUNCTION pgpart._save_policy(regclass, text, name, regtype, name, text[]) IS
'Former name of pgpart._register_list_hash_policy, kept for plans returned before 0.2.0 (internal).';

-- source: sql/src/20_core/prepare.sql
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
CREATE OR REPLACE FUNCTION pgpart._prepare(
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
CREATE OR REPLACE FUNCTION pgpart._lock_target(p_target pgpart._target)
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

-- source: sql/src/20_core/range_key.sql
-- pgpart._range_key(parent): the single key column and its type of a
-- RANGE-partitioned table, or an error saying why pgpart cannot manage it.
CREATE OR REPLACE FUNCTION pgpart._range_key(
    p_parent regclass,
    OUT key_column name,
    OUT key_type regtype
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_strategy "char";
    v_natts int2;
    v_attnum int2;
    v_kind "char";
    v_schema name;
    v_table name;
BEGIN
    SELECT c.relkind, n.nspname, c.relname INTO v_kind, v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_parent;
    SELECT pt.partstrat, pt.partnatts, pt.partattrs[0]
    INTO v_strategy, v_natts, v_attnum
    FROM pg_partitioned_table AS pt
    WHERE pt.partrelid = p_parent;
    IF v_kind IS DISTINCT FROM 'p' OR NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned', p_parent),
            DETAIL = 'pgpart manages tables created with PARTITION BY.',
            HINT = 'Create the table with PARTITION BY RANGE (column), then call pgpart again.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_strategy <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned by RANGE', p_parent),
            DETAIL = format('It is partitioned by %s.',
                            CASE v_strategy WHEN 'l' THEN 'LIST' WHEN 'h' THEN 'HASH' END),
            HINT = 'Range partitions need a table created with PARTITION BY RANGE (column).',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    IF v_natts <> 1 OR v_attnum = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key of table %s is not a single column', p_parent),
            DETAIL = 'pgpart manages range partitioning on one plain column.',
            HINT = 'Partition by a single timestamptz, timestamp, date, uuid, smallint, integer or bigint column.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT a.attname, a.atttypid::regtype INTO key_column, key_type
    FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attnum = v_attnum;
    IF pgpart._key_clock(key_type) IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition key column %I of table %s has unsupported type %s',
                             key_column, p_parent, key_type),
            DETAIL = 'Range keys may be timestamptz, timestamp, date, uuid (UUIDv7), smallint, integer or bigint.',
            HINT = 'Partition by a column of one of those types.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

-- source: sql/src/20_core/recorded_constraint.sql
-- pgpart._recorded_constraint(table, constraint, prefix): what pgpart
-- recorded in the comment of one of its helper CHECK constraints (the text
-- after PREFIX) and whether the constraint is validated; NULLs when there
-- is none. The conversion's bound and the split's floor are kept so, in the
-- catalog beside the constraint they describe.
CREATE OR REPLACE FUNCTION pgpart._recorded_constraint(
    p_table regclass, p_constraint name, p_prefix text, OUT recorded text, OUT validated boolean
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        substr(d.description, length(p_prefix) + 1),
        con.convalidated
    FROM pg_constraint AS con
    INNER JOIN pg_description AS d ON con.oid = d.objoid AND d.classoid = 'pg_constraint'::regclass
    WHERE
        con.conrelid = p_table AND con.contype = 'c' AND con.conname = p_constraint
        AND starts_with(d.description, p_prefix);
$body$;

COMMENT ON FUNCTION pgpart._recorded_constraint(regclass, name, text) IS
'The value pgpart recorded in the comment of one of its helper CHECK constraints, and whether that constraint is validated (internal).';

-- source: sql/src/20_core/table_arg.sql
-- pgpart._table_arg(name, found, search_path, verb): the table a verb was
-- given by name, or pgpart's 42P01 when there is none. The verbs take their
-- table as regclass, and a literal that names no table fails in the cast,
-- before pgpart is even called, with PostgreSQL's bare "relation does not
-- exist". So each verb that takes a table also has an overload taking the
-- name as text (an unknown-typed literal picks it: PostgreSQL prefers the
-- string category), which resolves the name with pg_catalog.to_regclass in
-- the CALLER's search_path (that overload has no SET clause: a pinned one
-- would resolve 'events' in pg_catalog) and passes the result here. A NULL
-- name is a NULL table (every table, for the verbs that accept it).
CREATE OR REPLACE FUNCTION pgpart._table_arg(p_name text, p_found regclass, p_search_path text, p_verb text)
RETURNS regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_found IS NULL AND p_name IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_table',
            MESSAGE = format('table "%s" does not exist', p_name),
            DETAIL = format('%s looked the name up with search_path %s.', p_verb, p_search_path),
            HINT = 'Check the name and its schema: write schema.table (e.g. ''public.events''), and double-quote '
                   'names with capitals; SELECT DISTINCT parent_table FROM pgpart.partition_info() lists the '
                   'tables pgpart manages.';
    END IF;
    RETURN p_found;
END
$body$;

COMMENT ON FUNCTION pgpart._table_arg(text, regclass, text, text) IS
'The table a verb was given by name (resolved by its text overload in the caller''s search_path), or 42P01 naming it with a HINT (internal).';

-- source: sql/src/20_core/transaction_block.sql
-- pgpart._refuse_transaction_block(verb, detail, hint): the first statement
-- of a committing procedure. Inside a transaction block (or under a
-- function) a procedure cannot COMMIT, and PostgreSQL would say only
-- "invalid transaction termination" after the first table; this says so up
-- front (25001) with what to do. No SQL function tells whether a CALL may
-- commit, so it probes: a COMMIT inside a subtransaction always fails, and
-- PostgreSQL's message says which refusal applies (English lc_messages; with
-- another language the check is skipped and PostgreSQL's own error stays).
-- A procedure (it must run in the caller's CALL context) without SET
-- clauses: it pins search_path itself; nothing is committed.
CREATE OR REPLACE PROCEDURE pgpart._refuse_transaction_block(p_verb text, p_detail text, p_hint text)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_message text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        COMMIT;
    EXCEPTION WHEN invalid_transaction_termination THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
    END;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF v_message = 'invalid transaction termination' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'active_sql_transaction',
            MESSAGE = format('%s cannot run inside a transaction block', p_verb),
            DETAIL = p_detail,
            HINT = p_hint;
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart._refuse_transaction_block(text, text, text) IS  -- noqa: LT01
'Raises 25001 with the given DETAIL and HINT when the calling procedure could not COMMIT (called inside a transaction block or from a function); probes with a COMMIT in a subtransaction (internal).';

-- pgpart._untrusted_code(parent, work, columns): each function of an
-- untrusted role (neither a superuser nor session_user) that WORK ('ddl',
-- 'read' or 'move', see the top of this file) on PARENT and every table
-- under it would run, with the piece of the table that calls it. COLUMNS
-- names further columns of PARENT about to become a partition key (a
-- sub-partition spec), whose values pgpart casts. AS_OWNER judges whether
-- row-level security applies for the table's owner (what maintenance,
-- which switches to the owner, would meet) instead of the current role.
-- Catalog reads only.
CREATE OR REPLACE FUNCTION pgpart._untrusted_code(
    p_parent regclass,
    p_work text,
    p_columns name[] DEFAULT NULL,
    p_as_owner boolean DEFAULT false
)
RETURNS TABLE (piece text, function regprocedure, function_owner name, description text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_read boolean := p_work IN ('read', 'move');
    v_move boolean := p_work = 'move';
    v_tree oid [];
BEGIN
    IF p_work IS NULL OR p_work NOT IN ('ddl', 'read', 'move') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unknown kind of work %L', p_work),
            HINT = 'Pass ''ddl'', ''read'' or ''move''.';
    END IF;
    -- the tree from pg_inherits, not pg_partition_tree(), which locks
    -- every partition (reading the catalog never waits for a lock)
    v_tree := array(
        WITH RECURSIVE tree (rel) AS (
            SELECT p_parent::oid
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT t.rel FROM tree AS t
    );
    -- moving rows fires the triggers of global unique constraints, which
    -- write their side tables: those tables' code runs too
    IF v_move THEN
        v_tree := v_tree || array(SELECT g.side_table::oid FROM pgpart.global_unique AS g
                                  WHERE g.parent = ANY (v_tree) ORDER BY g.id);
    END IF;
    RETURN QUERY
    WITH RECURSIVE start (piece, classid, objid) AS (
        -- ddl: the partition key of every partitioned table of the tree
        SELECT 'partition key of ' || pg_describe_object('pg_class'::regclass, c.oid, 0),
               'pg_partitioned_table'::regclass::oid, c.oid
        FROM pg_class AS c WHERE c.oid = ANY (v_tree) AND c.relkind = 'p'
        UNION ALL
        -- ddl: columns about to become a key (their values are cast)
        SELECT format('type %s of %s', a.atttypid::regtype, pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum)),
               'pg_type'::regclass::oid, a.atttypid
        FROM pg_attribute AS a
        WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid >= 16384
          AND (a.attname = ANY (p_columns)
               OR a.attname = (SELECT cfg.subpartition ->> 'key' FROM pgpart.config AS cfg WHERE cfg.parent = p_parent))
        UNION ALL
        -- read: the row-level security policies of the tables read
        SELECT 'row-level security ' || pg_describe_object('pg_policy'::regclass, pol.oid, 0),
               'pg_policy'::regclass::oid, pol.oid
        FROM pg_policy AS pol
        JOIN pg_class AS c ON c.oid = pol.polrelid
        JOIN pg_roles AS o ON o.oid = c.relowner
        WHERE v_read AND c.oid = ANY (v_tree) AND c.relrowsecurity
          -- not for a superuser or the owner of a table without FORCE: RLS
          -- does not apply to them (row_security_active knows the rules)
          AND CASE WHEN p_as_owner THEN c.relforcerowsecurity AND NOT o.rolsuper AND NOT o.rolbypassrls
                   ELSE row_security_active(c.oid) END
        UNION ALL
        -- move: triggers (and their WHEN clauses); a partition's clone of a
        -- parent's trigger runs the same code and is not listed again
        SELECT pg_describe_object('pg_trigger'::regclass, tg.oid, 0), 'pg_trigger'::regclass::oid, tg.oid
        FROM pg_trigger AS tg WHERE v_move AND tg.tgrelid = ANY (v_tree) AND tg.tgenabled <> 'D' AND tg.tgparentid = 0
        UNION ALL
        -- move: CHECK constraints, each expression once (every partition
        -- has the parent's), the parent's first
        (SELECT DISTINCT ON (con.conbin::text)
            pg_describe_object('pg_constraint'::regclass, con.oid, 0), 'pg_constraint'::regclass::oid, con.oid
         FROM pg_constraint AS con WHERE v_move AND con.conrelid = ANY (v_tree) AND con.contype = 'c'
         ORDER BY con.conbin::text, con.conrelid <> p_parent, con.oid)
        UNION ALL
        -- move: generated columns, each expression once
        (SELECT DISTINCT ON (ad.adbin::text)
            pg_describe_object('pg_attrdef'::regclass, ad.oid, 0), 'pg_attrdef'::regclass::oid, ad.oid
         FROM pg_attrdef AS ad JOIN pg_attribute AS a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
         WHERE v_move AND ad.adrelid = ANY (v_tree) AND a.attgenerated <> ''
         ORDER BY ad.adbin::text, ad.adrelid <> p_parent, ad.oid)
        UNION ALL
        -- move: columns of user types (domains run their CHECKs), each type once
        (SELECT DISTINCT ON (a.atttypid)
            format('type %s of %s', a.atttypid::regtype,
                   pg_describe_object('pg_class'::regclass, a.attrelid, a.attnum)),
            'pg_type'::regclass::oid, a.atttypid
         FROM pg_attribute AS a
         WHERE v_move AND a.attrelid = ANY (v_tree) AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid >= 16384
         ORDER BY a.atttypid, a.attrelid <> p_parent, a.attrelid, a.attnum)
        UNION ALL
        -- move: indexes (expressions, predicates, operator classes); a
        -- partition's index attached to a parent's index has its definition
        SELECT pg_describe_object('pg_class'::regclass, ix.indexrelid, 0), 'pg_class'::regclass::oid, ix.indexrelid
        FROM pg_index AS ix
        WHERE v_move AND ix.indrelid = ANY (v_tree)
          AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = ix.indexrelid)
    ),
    walk (piece, classid, objid, seen) AS (
        SELECT s.piece, s.classid, s.objid,
               array_cat(array(SELECT 'pg_class'::regclass::oid::text || '/' || t FROM unnest(v_tree) AS t),
                         ARRAY[s.classid::text || '/' || s.objid])
        FROM start AS s
        UNION ALL
        SELECT w.piece, e.classid, e.objid, w.seen || (e.classid::text || '/' || e.objid)
        FROM walk AS w
        CROSS JOIN LATERAL pgpart._code_edges(w.classid, w.objid, v_read, p_as_owner) AS e
        WHERE w.classid <> 'pg_proc'::regclass
          AND NOT (e.classid::text || '/' || e.objid) = ANY (w.seen)
          AND cardinality(w.seen) < cardinality(v_tree) + 32
    )
    SELECT DISTINCT w.piece, p.oid::regprocedure, r.rolname,
           format('%s calls function %s owned by role %I', w.piece, p.oid::regprocedure, r.rolname)
    FROM walk AS w
    JOIN pg_proc AS p ON p.oid = w.objid
    JOIN pg_roles AS r ON r.oid = p.proowner
    WHERE w.classid = 'pg_proc'::regclass AND NOT r.rolsuper AND r.rolname <> session_user
    ORDER BY 1, 2;
END
$body$;

-- source: sql/src/20_core/validated_policy.sql
-- pgpart._validated_policy(old, ...): the policy row OLD with the given
-- values validated and merged in; writes nothing (pgpart.set_policy and
-- pgpart.ensure_range write it with pgpart._write_policy_change). A NULL
-- argument keeps what is configured; retention => 'none' clears the
-- retention, and an empty name clears archive_schema, archive_tablespace or
-- tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing.
-- Long (about 150 lines) on purpose: one validation block per policy value,
-- each with its own SQLSTATE, DETAIL and HINT, so every rule of a policy row
-- stays in one place.
CREATE OR REPLACE FUNCTION pgpart._validated_policy(
    p_old pgpart.config,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_premake ALIAS FOR premake;
    p_automatic_maintenance ALIAS FOR automatic_maintenance;
    p_analyze_after ALIAS FOR analyze_after;
    p_referenced_retention ALIAS FOR referenced_retention;
    p_reconcile ALIAS FOR reconcile;
    p_propagate_grants ALIAS FOR propagate_grants;
    p_move_large_bytes ALIAS FOR move_large_bytes;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_parent regclass := p_old.parent;
    v_old pgpart.config := p_old;
    v_new pgpart.config;
    v_iv interval;
BEGIN
    v_new := v_old;

    IF p_retention IS NOT NULL THEN
        IF lower(btrim(p_retention)) = 'none' THEN
            v_new.retention := NULL;
        ELSIF v_old.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('retention does not apply to %s partitions of table %s', upper(v_old.strategy), p_parent),
                HINT = 'Retention expires ranges; LIST and HASH partitions hold no range to expire.';
        ELSIF pgpart._key_clock(v_old.key_type, v_old.epoch_unit) = 'integer' THEN
            IF btrim(p_retention) !~ '^\+?[0-9]{1,19}$' OR btrim(p_retention)::numeric = 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for the integer key of %s', p_retention, p_parent),
                    HINT = 'Pass a positive whole number: how many key values below the highest to keep.';
            END IF;
            v_new.retention := btrim(p_retention)::numeric::text;
        ELSE
            BEGIN
                v_iv := p_retention::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                v_iv := NULL;
            END;
            -- every field non-negative: '1 mon -29 days' would reach into the future
            IF v_iv IS NULL OR v_iv = interval '0' OR btrim(p_retention) ~ '^[-+]?[0-9.]*$'
               OR extract(year FROM v_iv) < 0 OR extract(month FROM v_iv) < 0 OR extract(day FROM v_iv) < 0
               OR extract(epoch FROM v_iv - date_trunc('day', v_iv)) < 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for table %s', p_retention, p_parent),
                    HINT = 'Pass a positive interval with a unit and no negative part, such as ''30 days'' or ''6 months'', or ''none''.';
            END IF;
            v_new.retention := v_iv::text;
        END IF;
    END IF;

    IF p_retention_action IS NOT NULL THEN
        IF p_retention_action NOT IN ('detach', 'archive', 'drop', 'export') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid retention_action %L', p_retention_action),
                HINT = 'Pass ''detach'', ''archive'', ''drop'' or ''export'' (Parquet files, docs/cold-tier.md).';
        END IF;
        v_new.retention_action := p_retention_action;
    END IF;

    -- destinations: never a system schema, pgpart or pg_global, only where
    -- the owner may create (checked again at the moment of use)
    IF p_archive_schema IS NOT NULL THEN
        v_new.archive_schema := nullif(p_archive_schema, '');
        PERFORM pgpart._require_archive_schema(p_parent, v_new.archive_schema);
    END IF;
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif(p_archive_tablespace, ''), 'archive tablespace');
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif(p_tablespace, ''), 'tablespace');
    IF p_archive_tablespace IS NOT NULL THEN
        v_new.archive_tablespace := nullif(p_archive_tablespace, '');
    END IF;
    IF p_tablespace IS NOT NULL THEN
        v_new.tablespace := nullif(p_tablespace, '');
    END IF;

    IF p_premake IS NOT NULL THEN
        -- bounded: maintenance and check() walk the grid premake slots ahead
        PERFORM pgpart._check_premake(p_premake, p_parent);
        v_new.premake := p_premake;
    END IF;
    v_new.automatic_maintenance := coalesce(p_automatic_maintenance, v_old.automatic_maintenance);
    v_new.analyze_after := coalesce(p_analyze_after, v_old.analyze_after);
    IF p_referenced_retention IS NOT NULL THEN
        IF p_referenced_retention NOT IN ('refuse', 'allow') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid referenced_retention %L', p_referenced_retention),
                HINT = 'Pass ''refuse'' (retention is refused while other tables reference the parent) or ''allow''.';
        END IF;
        v_new.referenced_retention := p_referenced_retention;
    END IF;
    v_new.reconcile := coalesce(p_reconcile, v_old.reconcile);
    IF p_propagate_grants IS TRUE AND (
        (SELECT c.relrowsecurity FROM pg_class AS c WHERE c.oid = p_parent)
        OR EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attacl IS NOT NULL)
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = 'It uses row-level security or column privileges; a grant on a partition would bypass them.',
            HINT = 'Grant access on the parent only: queries through the parent need no grant on partitions.';
    END IF;
    v_new.propagate_grants := coalesce(p_propagate_grants, v_old.propagate_grants);
    IF p_move_large_bytes IS NOT NULL THEN
        IF p_move_large_bytes < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('move_large_bytes must not be negative, got %s', p_move_large_bytes),
                HINT = 'Pass a size in bytes, such as 104857600 (100 MB).';
        END IF;
        v_new.move_large_bytes := p_move_large_bytes;
    END IF;

    -- drain_default: rows of the default move into the grid, which LIST
    -- and HASH parents have none of (a switch off is always accepted)
    IF p_drain_default AND v_old.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('drain_default does not apply to %s partitions of table %s', upper(v_old.strategy),
                             p_parent),
            DETAIL = 'Draining moves rows of the default partition into new ranges of the grid.',
            HINT = 'Leave drain_default off for this table.';
    END IF;
    v_new.drain_default := coalesce(p_drain_default, v_old.drain_default);
    IF p_drain_default_max_bytes IS NOT NULL THEN
        IF p_drain_default_max_bytes < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('drain_default_max_bytes must not be negative, got %s', p_drain_default_max_bytes),
                HINT = 'Pass a size in bytes, such as 67108864 (64 MB).';
        END IF;
        v_new.drain_default_max_bytes := p_drain_default_max_bytes;
    END IF;

    IF v_new.retention_action = 'archive' AND v_new.archive_schema IS NULL AND v_new.archive_tablespace IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('retention_action ''archive'' for table %s needs an archive schema or tablespace', p_parent),
            HINT = 'Pass archive_schema and/or archive_tablespace, or choose ''detach'' or ''drop''.';
    END IF;

    RETURN v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._validated_policy(
    pgpart.config, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint, boolean, bigint
) IS
'Validates policy values (22023, 3F000, 42501, 0A000) and returns the policy row with them merged in; writes nothing.';

-- source: sql/src/20_core/window.sql
-- pgpart._window_complete(parent, now_at): true when every slot from the one
-- holding NOW_AT through PREMAKE ahead has its partition, under pgpart's
-- name and with exactly that slot's bounds. It looks those few partitions
-- up by name instead of reading every bound, so the maintenance call that
-- finds nothing to do costs the same for 10 partitions or 10,000 (gaps
-- further back are filled by create_range_partitions and reported by check).
-- False when unsure: the caller then plans in full.
CREATE OR REPLACE FUNCTION pgpart._window_complete(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_schema name;
    v_relname name;
    v_part oid;
    v_bound text;
    v_first numeric;
    v_count bigint;
    v_default regclass;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    v_grid := pgpart._grid(p_parent, p_now_at);
    IF v_cfg.parent IS NULL OR v_grid.now_coord IS NULL OR v_cfg.subpartition IS NOT NULL
       OR v_cfg.premake NOT BETWEEN 0 AND pgpart._max_premake() THEN
        -- integer keys need the highest key; sub-partitions their leaves; a
        -- premake out of bounds is refused by the planner, not walked here
        RETURN false;
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_grid.now_coord);
    FOR i IN 0 .. v_cfg.premake LOOP
        v_part := to_regclass(format('%I.%I', v_schema, pgpart._relation_name(
            v_relname, pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, v_slot.lo))));
        SELECT pg_get_expr(c.relpartbound, 0) INTO v_bound
        FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
        WHERE h.inhrelid = v_part AND h.inhparent = p_parent AND NOT h.inhdetachpending;
        IF v_bound IS DISTINCT FROM format('FOR VALUES FROM (%s) TO (%s)',
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.lo, v_grid.epoch_unit),
                                           pgpart._coord_to_literal(v_grid.key_type, v_slot.hi, v_grid.epoch_unit)) THEN
            RETURN false;
        END IF;
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
    END LOOP;
    -- No gap below the window either: as many partitions as grid slots from
    -- the oldest one to the window's end. pgpart's names sort by date, so the
    -- oldest is found without reading every bound; anything else (a name of
    -- another scheme, a partition off the grid) makes the counts differ, and
    -- the caller then plans in full.
    v_default := pgpart._default_partition(p_parent);
    SELECT c.oid, pgpart._literal_to_coord(v_grid.key_type, (regexp_match(pg_get_expr(c.relpartbound, 0),
                                                             '^FOR VALUES FROM \(''?([^'')]*)''?\)'))[1],
                                           v_grid.epoch_unit)
    INTO v_part, v_first
    FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
    WHERE h.inhparent = p_parent AND c.oid IS DISTINCT FROM v_default
    ORDER BY c.relname
    LIMIT 1;
    SELECT count(*) INTO v_count
    FROM pg_inherits AS h WHERE h.inhparent = p_parent AND h.inhrelid IS DISTINCT FROM v_default;
    RETURN v_first IS NOT NULL AND v_count = pgpart._slots_between(v_grid.kind, v_grid.step, v_grid.frame,
                                                                   v_first, v_slot.lo);
END
$body$;

-- source: sql/src/30_plan/apply.sql
-- pgpart._apply(target, steps, verb, detail): the last step of every verb's
-- pipeline (prepare → plan → apply). It takes the plan's lock steps that the
-- target does not hold yet (a target prepared with locks holds its own: they
-- are taken once), runs the other steps in order (pgpart._run_steps, under
-- the lock timeout), and logs one entry for VERB: DETAIL plus the number of
-- steps run and a digest of their statements, so the log says exactly which
-- plan ran (a dry run's plan has the same digest). A NULL DETAIL logs
-- nothing (a call that changed nothing).
CREATE OR REPLACE FUNCTION pgpart._apply(
    p_target pgpart._target,
    p_steps pgpart.step[],
    p_verb text,
    p_detail jsonb
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_held text [] := CASE WHEN p_target.locked
                           THEN array(SELECT s.statement FROM unnest(p_target.lock_steps) AS s)
                           ELSE '{}'::text [] END;
    v_missing text [];
BEGIN
    v_missing := array(SELECT s.statement FROM unnest(p_steps) AS s
                       WHERE s.action = 'lock' AND NOT s.statement = ANY (v_held) ORDER BY s.step);
    IF cardinality(v_missing) > 0 THEN
        PERFORM pgpart._acquire_locks(v_missing, p_target.lock_timeout, p_target.lock_retries);
    END IF;
    PERFORM pgpart._run_steps(
        array(SELECT s FROM unnest(p_steps) AS s WHERE s.action <> 'lock' ORDER BY s.step),
        p_target.lock_timeout, p_target.lock_retries);
    -- new partitions join the parent's global unique constraints (the event
    -- triggers leave pgpart's own DDL alone)
    PERFORM pgpart._gu_sync_tree(p_target.parent);
    IF p_detail IS NOT NULL THEN
        PERFORM pgpart._log(p_target.parent, p_verb, 'ok',
                            p_detail || jsonb_build_object('steps', coalesce(cardinality(p_steps), 0),
                                                           'plan_md5', pgpart._plan_digest(p_steps)));
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._apply(pgpart._target, pgpart.step[], text, jsonb) IS
'Runs a verb''s plan: takes its locks not yet held, runs its steps in order under the lock timeout, logs the verb with the plan''s digest (internal).';

-- pgpart._plan_digest(steps): md5 of a plan's statements in step order: what
-- a real run logs, so a dry run can be compared with what ran.
CREATE OR REPLACE FUNCTION pgpart._plan_digest(p_steps pgpart.step[])
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT md5(coalesce(string_agg(s.statement, E'\n' ORDER BY s.step), ''))
    FROM unnest(p_steps) AS s;
$body$;

COMMENT ON FUNCTION pgpart._plan_digest(pgpart.step[]) IS
'md5 of the statements of a plan in step order; logged by pgpart._apply (internal).';

-- pgpart._apply_range(target, steps): applies a range plan (pgpart._apply,
-- logged as create_range_partitions with the partitions it created) and
-- returns one 'created' row per partition attached, carrying the CREATE
-- TABLE statement: what create_range_partitions and ensure_range report.
CREATE OR REPLACE FUNCTION pgpart._apply_range(p_target pgpart._target, p_steps pgpart.step[])
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_created jsonb;
BEGIN
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created
    FROM unnest(p_steps) AS s WHERE s.action = 'attach';
    -- logged when it created something (re-registering a policy is not news)
    PERFORM pgpart._apply(p_target, p_steps, 'create_range_partitions',
                          CASE WHEN v_created IS NOT NULL THEN jsonb_build_object('created', v_created) END);
    -- one sort by partition (a join of the plan with itself would cost the
    -- square of its length)
    RETURN QUERY
    SELECT a.step, a.partition, a.lower_bound, a.upper_bound, 'created', a.created, a.locks, false
    FROM (
        SELECT s.step, s.partition, s.lower_bound, s.upper_bound, s.action, s.locks,
               max(CASE WHEN s.action = 'create table' THEN s.statement END)
                   OVER (PARTITION BY s.partition) AS created
        FROM unnest(p_steps) AS s
    ) AS a
    WHERE a.action = 'attach'
    ORDER BY a.step;
END
$body$;

COMMENT ON FUNCTION pgpart._apply_range(pgpart._target, pgpart.step[]) IS
'Applies a range plan (logged as create_range_partitions) and returns a created row per partition attached (internal).';

-- source: sql/src/30_plan/convert_plan.sql
-- pgpart._convert_boundary(table, key, interval, zone, origin, epoch_unit,
-- now_at): where the old table's range ends once it is the legacy
-- partition: the end of the grid slot AFTER the one holding the later of
-- now_at and the largest key (integer keys: the largest key). The spare
-- slot is the margin for rows written between the bound's validation and
-- the swap. Returns the bound as a FOR VALUES literal, as text for
-- ensure_range's start, and the largest key. WHY here: the grid functions
-- need a registered policy (_grid); the table is not registered yet, so
-- this mirrors _plan_range's choice of zone, frame and origin.
CREATE OR REPLACE FUNCTION pgpart._convert_boundary(
    p_table regclass,
    p_key name,
    p_interval text,
    p_time_zone text,
    p_origin text,
    p_epoch_unit text,
    p_now_at timestamptz,
    OUT bound_literal text,
    OUT bound_text text,
    OUT bound_coord numeric,
    OUT floor_coord numeric,
    OUT max_key text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_type regtype;
    v_iv record;
    v_clock text;
    v_zone text;
    v_frame text;
    v_origin numeric;
    v_coord numeric;
    v_slot record;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key AND NOT a.attisdropped;
    v_iv := pgpart._parse_interval(v_type, p_interval, p_epoch_unit);
    v_clock := pgpart._key_clock(v_type, p_epoch_unit);
    v_zone := pgpart._check_zone(coalesce(p_time_zone, 'UTC'));
    v_frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months') THEN v_zone ELSE 'UTC' END;
    IF p_origin IS NOT NULL THEN
        v_origin := pgpart._input_to_coord(v_type, v_zone, p_origin, 'origin', p_epoch_unit);
        IF v_clock = 'instant' THEN
            v_origin := extract(epoch FROM (pgpart._coord_to_ts(v_origin) AT TIME ZONE v_frame));
        END IF;
    ELSE
        v_origin := pgpart._default_origin(v_iv.kind, v_iv.step);
    END IF;
    -- ONLY: a plain table; reads what is committed, without a lock beyond
    -- ACCESS SHARE (an index on the key makes it cheap)
    EXECUTE format('SELECT max(%I)::text FROM ONLY %s', p_key, p_table) INTO max_key;
    v_coord := pgpart._literal_to_coord(v_type, max_key, p_epoch_unit);
    IF v_iv.kind <> 'integer' THEN
        v_coord := greatest(v_coord, CASE WHEN v_clock = 'instant' THEN extract(epoch FROM p_now_at)
                                          ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_zone)) END);
    END IF;
    v_coord := coalesce(v_coord, 0);
    v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_coord);
    floor_coord := v_slot.hi;
    v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_slot.hi);
    bound_coord := v_slot.hi;
    bound_literal := pgpart._coord_to_literal(v_type, bound_coord, p_epoch_unit);
    bound_text := pgpart._coord_to_text(v_type, v_zone, bound_coord, p_epoch_unit);
END
$body$;

COMMENT ON FUNCTION pgpart._convert_boundary(regclass, name, text, text, text, text, timestamptz) IS
'Upper bound of the legacy partition a conversion makes: the end of the grid slot after the one holding now_at or the largest key (internal).';

-- pgpart._convert_add_bound(table, key, literal): adds (or replaces) the
-- bound constraint CHECK (key < literal) NOT VALID and records the literal
-- in the constraint's comment, where the swap reads it back. One statement
-- for the plan: the ALTER takes ACCESS EXCLUSIVE only for the catalog
-- change (NOT VALID: no scan); VALIDATE is the plan's next, online step.
CREATE OR REPLACE FUNCTION pgpart._convert_add_bound(p_table regclass, p_key name, p_literal text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_name name := (pgpart._convert_names(p_table)).bound;
    v_type regtype;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    SELECT a.atttypid::regtype INTO v_type
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key AND NOT a.attisdropped;
    IF v_type IS NULL OR p_literal IN ('MINVALUE', 'MAXVALUE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cannot bound column %I of %s by %s', p_key, p_table, p_literal),
            DETAIL = 'The bound must be a value of the key column.',
            HINT = 'Plan the conversion again with pgpart.convert_to_partitioned(..., dry_run => true).';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_name) THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (%I < %s::%s) NOT VALID',
                       p_table, v_name, v_name, p_key, p_literal, v_type);
    ELSE
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I < %s::%s) NOT VALID',
                       p_table, v_name, p_key, p_literal, v_type);
    END IF;
    EXECUTE format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_name, p_table, 'pgpart convert bound ' || p_literal);
END
$body$;

COMMENT ON FUNCTION pgpart._convert_add_bound(regclass, name, text) IS
'Adds the NOT VALID bound constraint CHECK (key < bound) a conversion validates before its swap, recording the bound (internal).';

-- pgpart._convert_recorded_bound(table): the bound literal recorded by
-- _convert_add_bound, and whether its constraint is validated (NULLs when
-- there is none).
CREATE OR REPLACE FUNCTION pgpart._convert_recorded_bound(p_table regclass, OUT bound_literal text, OUT validated boolean)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT r.recorded, r.validated
    FROM pgpart._recorded_constraint(p_table, (pgpart._convert_names(p_table)).bound, 'pgpart convert bound ') AS r;
$body$;

COMMENT ON FUNCTION pgpart._convert_recorded_bound(regclass) IS
'The bound a conversion recorded on its helper constraint, and whether that constraint is validated (internal).';

-- pgpart._convert_refuse(table, key): raises 0A000 listing every refusal
-- of _convert_refusals (nothing is changed), else returns.
CREATE OR REPLACE FUNCTION pgpart._convert_refuse(p_table regclass, p_key name)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_problems text;
    v_hints text;
    v_n integer;
BEGIN
    SELECT string_agg(r.problem, '; '), string_agg(DISTINCT r.hint, ' '), count(*)::integer
    INTO v_problems, v_hints, v_n
    FROM pgpart._convert_refusals(p_table, p_key) AS r;
    IF v_n > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot convert table %s to a partitioned table: %s', p_table, v_problems),
            DETAIL = format('%s problem(s) found; nothing was changed.', v_n),
            HINT = v_hints;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_refuse(regclass, name) IS
'Refuses (0A000) a conversion whose table has anything convert_to_partitioned cannot carry, naming every object (internal).';

-- pgpart._convert_plan(table, key, interval, zone, origin, epoch_unit,
-- now_at, legacy_name, lock_timeout, lock_retries, policy): the ordered
-- steps that turn a plain table into a pgpart-managed partitioned table
-- under the same name, re-planned from the catalog each time (a step whose
-- effect is present is left out, so a killed run resumes by planning
-- again). TRANSACTION says how each runs: 'own' (its own short
-- transaction), 'autocommit' (at top level: CREATE INDEX CONCURRENTLY, a
-- procedure that commits), 'swap' (all such steps in one transaction).
-- POLICY holds ensure_range's named arguments for the policy step. WHY a
-- planner apart from the verb: the Python client runs the same steps one
-- transaction at a time (docs/converting.md).
CREATE OR REPLACE FUNCTION pgpart._convert_plan(
    p_table regclass,
    p_key name,
    p_interval text,
    p_time_zone text,
    p_origin text,
    p_epoch_unit text,
    p_now_at timestamptz,
    p_legacy_name name,
    p_lock_timeout interval,
    p_lock_retries integer,
    p_policy jsonb
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_names record;
    v_b record;
    v_rec record;
    v_notnull boolean;
    v_nn record;
    v_has_null boolean;
    v_rows bigint;
    v_n integer := 0;
    v_literal text;
    v_legacy name;
    v_schema name;
    v_relname name;
    v_args text;
    v_u record;
    v_gu_name name;
    v_gu_state text;
    v_wide name;
    v_valid boolean;
BEGIN
    SELECT n.nspname, c.relname, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END
    INTO v_schema, v_relname, v_rows
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    PERFORM pgpart._convert_refuse(p_table, p_key);
    -- the plan reads the table (its largest key, NULL keys): its row-level
    -- security policies' code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_table, 'read');
    v_legacy := coalesce(p_legacy_name, pgpart._relation_name(v_relname::text, '_legacy'));
    IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.relname = v_legacy AND c.relnamespace = (
                   SELECT c2.relnamespace FROM pg_class AS c2 WHERE c2.oid = p_table)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('cannot name the old table %I: a relation of that name exists in schema %I',
                             v_legacy, v_schema),
            DETAIL = format('The old table %s becomes the partition %I.', p_table, v_legacy),
            HINT = 'Pass legacy_name => a free name.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_names := pgpart._convert_names(p_table);

    -- 1. the key must be NOT NULL: a validated CHECK proves it online, then
    --    SET NOT NULL uses that proof instead of scanning under its lock
    SELECT a.attnotnull INTO v_notnull
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key;
    IF NOT v_notnull THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NULL)', p_table, p_key) INTO v_has_null;
        IF v_has_null THEN
            RAISE EXCEPTION USING
                ERRCODE = 'not_null_violation',
                MESSAGE = format('cannot convert table %s: its key column %I holds NULLs', p_table, p_key),
                DETAIL = 'A partition key cannot be NULL; nothing was changed.',
                HINT = format('Fill or delete those rows (WHERE %I IS NULL), then convert again.', p_key),
                SCHEMA = v_schema, TABLE = v_relname, COLUMN = p_key;
        END IF;
        SELECT con.convalidated INTO v_nn
        FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_names.not_null;
        IF NOT FOUND THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'key not null (proof)',
                format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID',
                       p_table, v_names.not_null, p_key),
                format('ACCESS EXCLUSIVE on %s (catalog only)', p_table), 'own', NULL::bigint;
        END IF;
        IF NOT coalesce(v_nn.convalidated, false) THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'validate key not null',
                format('ALTER TABLE %s VALIDATE CONSTRAINT %I', p_table, v_names.not_null),
                format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table), 'own', v_rows;
        END IF;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'set key not null',
            format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', p_table, p_key),
            format('ACCESS EXCLUSIVE on %s (no scan: the validated CHECK proves it)', p_table), 'own', NULL::bigint;
    END IF;

    -- 2. unique keys without the partition key: a global unique constraint
    --    on their columns, built online; a primary key is also widened to
    --    (columns, key) by a unique index built CONCURRENTLY, which the swap
    --    makes the primary key (no build under its lock)
    FOR v_u IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        SELECT g.constraint_name, g.state INTO v_gu_name, v_gu_state
        FROM pgpart.global_unique AS g
        WHERE g.parent = p_table
          AND (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS c)
              = (SELECT array_agg(c ORDER BY c) FROM unnest(v_u.columns) AS c)
        ORDER BY g.id LIMIT 1;
        IF NOT FOUND THEN
            v_gu_name := pgpart._relation_name(v_relname || '_' || array_to_string(v_u.columns, '_'), '_gkey');
            v_gu_state := NULL;
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'global unique ' || v_gu_name,
                format('SELECT count(*) FROM pgpart.add_global_unique(%L::regclass, %L::name[], %L, build => false, '
                       'lock_timeout => %L, lock_retries => %s)',
                       p_table::text, v_u.columns, v_gu_name, p_lock_timeout, p_lock_retries),
                format('SHARE ROW EXCLUSIVE on %s (catalog only: triggers)', p_table), 'own', NULL::bigint;
        END IF;
        IF v_gu_state IS DISTINCT FROM 'valid' THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'build global unique ' || v_gu_name,
                format('CALL pgpart.build_global_unique(%L::regclass, %L)', p_table::text, v_gu_name),
                format('FOR SHARE on page batches of %s (writers go on; commits per batch)', p_table),
                'autocommit', v_rows;
        END IF;
        IF v_u.contype = 'p' THEN
            v_wide := pgpart._relation_name(v_u.index_name::text, '_convert');
            SELECT x.indisvalid INTO v_valid
            FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
            WHERE x.indrelid = p_table AND ic.relname = v_wide;
            IF FOUND AND NOT v_valid THEN  -- a build that was killed
                v_n := v_n + 1;
                RETURN QUERY SELECT v_n, 'drop invalid index ' || v_wide,
                    format('DROP INDEX CONCURRENTLY %I.%I', v_schema, v_wide),
                    format('SHARE UPDATE EXCLUSIVE on %s', p_table), 'autocommit', NULL::bigint;
            END IF;
            IF NOT coalesce(v_valid, false) THEN
                v_n := v_n + 1;
                RETURN QUERY SELECT v_n, 'widen primary key',
                    format('CREATE UNIQUE INDEX CONCURRENTLY %I ON %s (%s)', v_wide, p_table,
                           (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_u.columns || p_key) AS c)),
                    format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table),
                    'autocommit', v_rows;
            END IF;
            v_valid := NULL;
        END IF;
    END LOOP;
    -- the incoming foreign keys, checked once the constraints exist
    IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = p_table) THEN
        PERFORM count(*) FROM pgpart._gu_foreign_key_plan(p_table);
    END IF;

    -- 3. the bound: CHECK (key < bound) validated online, so ATTACH skips
    --    its scan; a recorded bound is kept while it still lies ahead
    v_b := pgpart._convert_boundary(p_table, p_key, p_interval, p_time_zone, p_origin, p_epoch_unit, p_now_at);
    SELECT * INTO v_rec FROM pgpart._convert_recorded_bound(p_table);
    v_literal := v_rec.bound_literal;
    IF v_literal IS NULL
       OR pgpart._literal_to_coord((SELECT a.atttypid::regtype FROM pg_attribute AS a
                                    WHERE a.attrelid = p_table AND a.attname = p_key),
                                   trim(BOTH '''' FROM v_literal), p_epoch_unit) < v_b.floor_coord THEN
        v_literal := v_b.bound_literal;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'bound (proof)',
            format('SELECT pgpart._convert_add_bound(%L::regclass, %L, %L)', p_table::text, p_key, v_literal),
            format('ACCESS EXCLUSIVE on %s (catalog only)', p_table), 'own', NULL::bigint;
        v_rec.validated := false;
    END IF;
    IF NOT v_rec.validated THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'validate bound',
            format('ALTER TABLE %s VALIDATE CONSTRAINT %I', p_table, v_names.bound),
            format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table), 'own', v_rows;
    END IF;

    -- 4. the swap and the policy, one transaction
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, 'swap',
        format('SELECT pgpart._convert_swap(%L::regclass, %L, %L, %L::interval, %s)',
               p_table::text, p_key, v_legacy, p_lock_timeout, p_lock_retries),
        format('ACCESS EXCLUSIVE on %s and its dependent views (catalog only: no scan, no copy)', p_table),
        'swap', NULL::bigint;
    SELECT string_agg(format('%I => %L', e.key, e.value), ', ' ORDER BY e.key) INTO v_args
    FROM jsonb_each_text(coalesce(p_policy, '{}')) AS e WHERE e.value IS NOT NULL;
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, 'register policy, premake partitions',
        format('SELECT count(*) FROM pgpart.ensure_range(%L::regclass, "interval" => %L, start => %L, '
               'time_zone => %L, origin => %L, epoch_unit => %L, now_at => %L, lock_timeout => %L, '
               'lock_retries => %s%s)',
               format('%I.%I', v_schema, v_relname), p_interval, v_b.bound_text, p_time_zone, p_origin,
               p_epoch_unit, p_now_at, p_lock_timeout, p_lock_retries,
               CASE WHEN v_args IS NOT NULL THEN ', ' || v_args ELSE '' END),
        format('SHARE UPDATE EXCLUSIVE on %I.%I (held already)', v_schema, v_relname), 'swap', NULL::bigint;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_plan(
    regclass, name, text, text, text, text, timestamptz, name, interval, integer, jsonb
) IS
'The steps converting a plain table to a partitioned one, planned from the catalog (done steps left out): key NOT NULL, bound validated online, swap, policy (internal).';

-- pgpart._convert_followups(parent): what is left after a conversion's
-- swap: the foreign keys pointed at the side tables of PARENT's global
-- unique constraints NOT VALID in the swap, each validated online (SHARE
-- UPDATE EXCLUSIVE on the referencing table: its writers go on). Nothing
-- once they are valid, so a finished conversion plans no step.
CREATE OR REPLACE FUNCTION pgpart._convert_followups(p_parent regclass)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        (row_number() OVER (ORDER BY con.conrelid, con.conname))::integer,
        'validate foreign key ' || con.conname,
        format('ALTER TABLE %s VALIDATE CONSTRAINT %I', con.conrelid::regclass, con.conname),
        format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans it)', con.conrelid::regclass),
        'own',
        (
            SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END FROM pg_class AS c
            WHERE c.oid = con.conrelid
        )
    FROM pg_constraint AS con
    INNER JOIN pgpart.global_unique AS g ON con.confrelid = g.side_table
    WHERE
        g.parent = p_parent AND con.contype = 'f' AND NOT con.convalidated AND con.conparentid = 0
        AND coalesce((to_jsonb(con) ->> 'conenforced')::boolean, true)
    ORDER BY con.conrelid, con.conname;
$body$;

COMMENT ON FUNCTION pgpart._convert_followups(regclass) IS
'After a conversion''s swap: the foreign keys pointed at its global unique constraints'' side tables, to validate online (internal).';

-- source: sql/src/30_plan/convert_swap.sql
-- pgpart._convert_swap(table, key, legacy_name, lock_timeout, lock_retries):
-- the swap of a conversion, in the caller's transaction: locks the plain
-- table ACCESS EXCLUSIVE (and its dependent views) under the lock timeout,
-- renames it to LEGACY_NAME, creates the partitioned parent under the
-- original name with everything the table had (columns, defaults,
-- identity continued from its last value, generated columns, NOT NULL and
-- CHECK constraints, indexes and unique keys, foreign keys out, triggers,
-- RLS, policies, grants, owner, comments, statistics targets, extended
-- statistics, replica identity, tablespace), attaches the old table as the
-- range partition FROM (MINVALUE) TO (the validated bound), then points
-- dependent views and publications at the parent. The legacy partition
-- loses its direct grants (read through the parent, as every partition).
-- Catalog work only: the bound was validated and every index the parent
-- adopts exists, so nothing here scans or copies rows. Returns the legacy
-- partition.
-- Unique keys without the partition key (pgpart._convert_unique_sets) go
-- through global unique constraints built before: incoming foreign keys
-- are pointed at their side tables (NOT VALID), a primary key becomes its
-- widened twin (columns, key), and the constraints are rebound to the
-- parent (pgpart._gu_rebind).
-- WHY one long function (~300 lines): every statement must run in this
-- order in one transaction, and each definition has to be read before the
-- rename changes how pg_get_*def prints the table's name; split up, the
-- captured texts would have to travel between functions.
CREATE OR REPLACE FUNCTION pgpart._convert_swap(
    p_table regclass,
    p_key name,
    p_legacy_name name,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET datestyle = 'ISO, YMD'
-- ADD PRIMARY KEY USING INDEX tells that it renames the index: expected
SET client_min_messages = 'warning'
AS $body$
DECLARE
    v_rel record;
    v_schema name;
    v_name name;
    v_parent text;
    v_legacy regclass;
    v_names record;
    v_bound record;
    v_locks text [];
    v_before text [] := '{}'::text [];
    v_after text [] := '{}'::text [];
    v_late text [] := '{}'::text [];
    v_rec record;
    v_seq record;
    v_new name;
    v_i integer;
    v_stmt text;
    v_views integer := 0;
    v_pubs name [] := '{}'::name [];
    v_last bigint;
    v_called boolean;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    SELECT c.relname, n.nspname, pg_get_userbyid(c.relowner) AS owner, c.reltablespace, c.relrowsecurity,
           c.relforcerowsecurity, c.relreplident, c.relacl, obj_description(c.oid, 'pg_class') AS comment
    INTO v_rel
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    v_schema := v_rel.nspname;
    v_name := v_rel.relname;
    v_parent := format('%I.%I', v_schema, v_name);
    v_names := pgpart._convert_names(p_table);

    -- every lock first, as one group under the timeout with retries: the
    -- table, the views to recreate, the tables foreign keys out reference
    -- (first the tables whose foreign keys reference it and the side tables
    -- of its global unique constraints: pgpart._gu_repoint_foreign_keys)
    v_locks := array(SELECT DISTINCT format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', con.conrelid::regclass)
                     FROM pg_constraint AS con
                     WHERE con.confrelid = p_table AND con.contype = 'f' AND con.conrelid <> p_table)
        || array(SELECT format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', g.side_table)
                 FROM pgpart.global_unique AS g WHERE g.parent = p_table ORDER BY g.id)
        || ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_table)]
        || array(SELECT format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v.oid::regclass)
                 FROM pg_class AS v WHERE v.oid IN (SELECT pgpart._convert_views(p_table)) ORDER BY v.oid)
        || array(SELECT DISTINCT format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', con.confrelid::regclass)
                 FROM pg_constraint AS con
                 WHERE con.conrelid = p_table AND con.contype = 'f' AND con.confrelid <> p_table);
    PERFORM pgpart._acquire_locks(v_locks, p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);

    -- re-checked under the lock: nothing has changed since the plan
    PERFORM pgpart._convert_refuse(p_table, p_key);
    v_bound := pgpart._convert_recorded_bound(p_table);
    IF v_bound.bound_literal IS NULL OR NOT v_bound.validated
       OR NOT (SELECT a.attnotnull FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not ready for its swap', p_table),
            DETAIL = format('The key %I must be NOT NULL and the bound constraint %I validated first.',
                            p_key, v_names.bound),
            HINT = 'Run the steps of pgpart.convert_to_partitioned(..., dry_run => true) in order, or call it '
                   || 'without dry_run.',
            SCHEMA = v_schema, TABLE = v_name;
    END IF;

    -- unique keys without the partition key: their global unique
    -- constraints built, a primary key's widened index built
    FOR v_rec IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        v_new := pgpart._relation_name(v_rec.index_name::text, '_convert');
        IF NOT pgpart._gu_plain_ready(p_table, v_rec.columns)
           OR (v_rec.contype = 'p' AND NOT EXISTS (
                   SELECT 1 FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
                   WHERE x.indrelid = p_table AND ic.relname = v_new AND x.indisvalid)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('table %s is not ready for its swap: unique key %I lacks the partition key',
                                 p_table, v_rec.index_name),
                DETAIL = format('A valid global unique constraint on (%s)%s must exist first.',
                                array_to_string(v_rec.columns, ', '),
                                CASE WHEN v_rec.contype = 'p'
                                     THEN format(' and the unique index %I on (%s, %s)', v_new,
                                                 array_to_string(v_rec.columns, ', '), p_key) ELSE '' END),
                HINT = 'Run the steps of pgpart.convert_to_partitioned(..., dry_run => true) in order (Client.convert '
                       || 'or pgpart convert does).',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
    END LOOP;
    -- incoming foreign keys now reference the side tables (NOT VALID: the
    -- next plan validates them online), so the old unique keys can go: a
    -- primary key becomes its widened twin, the others are dropped (their
    -- global unique constraints keep the columns unique)
    PERFORM count(*) FROM pgpart._gu_repoint_foreign_keys(p_table, NULL, false, p_lock_timeout, p_lock_retries);
    FOR v_rec IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        IF v_rec.contype = 'p' THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                           p_table, v_rec.constraint_name, v_rec.constraint_name,
                           pgpart._relation_name(v_rec.index_name::text, '_convert'));
        ELSIF v_rec.contype = 'u' THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', p_table, v_rec.constraint_name);
        ELSE
            EXECUTE format('DROP INDEX %I.%I', v_schema, v_rec.index_name);
        END IF;
    END LOOP;

    -- 1. read every definition while the table still has its name
    -- indexes: those backing a primary key or unique constraint are added
    -- as constraints, the others as indexes; the old ones are renamed
    FOR v_rec IN
        SELECT x.indexrelid, ic.relname, con.oid AS con_oid, con.conname, x.indisreplident,
               obj_description(x.indexrelid, 'pg_class') AS idx_comment,
               obj_description(con.oid, 'pg_constraint') AS con_comment
        FROM pg_index AS x
        JOIN pg_class AS ic ON ic.oid = x.indexrelid
        LEFT JOIN pg_constraint AS con ON con.conindid = x.indexrelid AND con.conrelid = p_table
            AND con.contype IN ('p', 'u')
        WHERE x.indrelid = p_table
        ORDER BY (con.contype = 'p') DESC NULLS LAST, x.indexrelid
    LOOP
        v_i := 0;
        v_new := pgpart._relation_name(v_rec.relname::text, '_legacy');
        WHILE EXISTS (SELECT 1 FROM pg_class AS c
                      WHERE c.relname = v_new AND c.relnamespace = v_schema::regnamespace) LOOP
            v_i := v_i + 1;
            v_new := pgpart._relation_name(v_rec.relname::text, '_legacy' || v_i);
        END LOOP;
        v_before := v_before || format('ALTER INDEX %I.%I RENAME TO %I', v_schema, v_rec.relname, v_new);
        IF v_rec.con_oid IS NOT NULL THEN
            v_after := v_after || format('ALTER TABLE %s ADD CONSTRAINT %I %s', v_parent, v_rec.conname,
                                         pg_get_constraintdef(v_rec.con_oid));
            IF v_rec.con_comment IS NOT NULL THEN
                v_after := v_after || format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_rec.conname, v_parent,
                                             v_rec.con_comment);
            END IF;
        ELSE
            v_after := v_after || pg_get_indexdef(v_rec.indexrelid);
        END IF;
        IF v_rec.idx_comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON INDEX %I.%I IS %L', v_schema, v_rec.relname, v_rec.idx_comment);
        END IF;
        IF v_rec.indisreplident THEN
            v_after := v_after || format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', v_parent, v_rec.relname);
        END IF;
    END LOOP;
    IF v_rel.relreplident IN ('f', 'n') THEN
        v_after := v_after || format('ALTER TABLE %s REPLICA IDENTITY %s', v_parent,
                                     CASE v_rel.relreplident WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END);
    END IF;
    -- foreign keys out (before ATTACH: the old table's own key is adopted)
    FOR v_rec IN
        SELECT con.oid, con.conname, obj_description(con.oid, 'pg_constraint') AS comment
        FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.contype = 'f' ORDER BY con.oid
    LOOP
        v_after := v_after || format('ALTER TABLE %s ADD CONSTRAINT %I %s', v_parent, v_rec.conname,
                                     pg_get_constraintdef(v_rec.oid));
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_rec.conname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- row-level security and its policies
    IF v_rel.relrowsecurity THEN
        v_after := v_after || format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', v_parent);
    END IF;
    IF v_rel.relforcerowsecurity THEN
        v_after := v_after || format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', v_parent);
    END IF;
    FOR v_rec IN
        SELECT p.oid, p.polname, p.polpermissive, p.polcmd, pg_get_expr(p.polqual, p.polrelid) AS qual,
               pg_get_expr(p.polwithcheck, p.polrelid) AS withcheck,
               (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
                FROM unnest(p.polroles) AS r) AS roles,
               obj_description(p.oid, 'pg_policy') AS comment
        FROM pg_policy AS p WHERE p.polrelid = p_table ORDER BY p.oid
    LOOP
        v_after := v_after || format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', v_rec.polname, v_parent,
            CASE WHEN v_rec.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE v_rec.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                              WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
            v_rec.roles, ' USING (' || v_rec.qual || ')', ' WITH CHECK (' || v_rec.withcheck || ')');
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON POLICY %I ON %s IS %L', v_rec.polname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- triggers: dropped from the old table (else they would fire twice),
    -- created on the parent, which clones them to every partition
    FOR v_rec IN
        SELECT t.oid, t.tgname, t.tgenabled, obj_description(t.oid, 'pg_trigger') AS comment
        FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND NOT t.tgisinternal
          -- pgpart's own (global unique): pgpart._gu_rebind moves them
          AND NOT EXISTS (SELECT 1 FROM pg_proc AS f
                          WHERE f.oid = t.tgfoid AND f.pronamespace = 'pgpart'::regnamespace)
        ORDER BY t.oid
    LOOP
        v_before := v_before || format('DROP TRIGGER %I ON %s', v_rec.tgname, p_table);
        v_after := v_after || pg_get_triggerdef(v_rec.oid);
        IF v_rec.tgenabled <> 'O' THEN
            v_after := v_after || format('ALTER TABLE %s %s TRIGGER %I', v_parent,
                CASE v_rec.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END,
                v_rec.tgname);
        END IF;
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON TRIGGER %I ON %s IS %L', v_rec.tgname, v_parent, v_rec.comment);
        END IF;
    END LOOP;
    -- extended statistics (renamed on the old table, created on the parent)
    FOR v_rec IN
        SELECT s.oid, s.stxname, n.nspname, s.stxstattarget::integer AS target,
               obj_description(s.oid, 'pg_statistic_ext') AS comment
        FROM pg_statistic_ext AS s JOIN pg_namespace AS n ON n.oid = s.stxnamespace
        WHERE s.stxrelid = p_table ORDER BY s.oid
    LOOP
        v_i := 0;
        v_new := pgpart._relation_name(v_rec.stxname::text, '_legacy');
        WHILE EXISTS (SELECT 1 FROM pg_statistic_ext AS s
                      WHERE s.stxname = v_new AND s.stxnamespace = v_rec.nspname::regnamespace) LOOP
            v_i := v_i + 1;
            v_new := pgpart._relation_name(v_rec.stxname::text, '_legacy' || v_i);
        END LOOP;
        v_before := v_before || format('ALTER STATISTICS %I.%I RENAME TO %I', v_rec.nspname, v_rec.stxname, v_new);
        v_after := v_after || pg_get_statisticsobjdef(v_rec.oid);
        IF v_rec.target >= 0 THEN
            v_after := v_after || format('ALTER STATISTICS %I.%I SET STATISTICS %s', v_rec.nspname, v_rec.stxname,
                                         v_rec.target);
        END IF;
        IF v_rec.comment IS NOT NULL THEN
            v_after := v_after || format('COMMENT ON STATISTICS %I.%I IS %L', v_rec.nspname, v_rec.stxname,
                                         v_rec.comment);
        END IF;
    END LOOP;
    -- grants (table and columns), in the owner's name
    v_late := v_late || array(
        SELECT format('GRANT %s ON %s TO %s%s', a.privilege_type, v_parent,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                      CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM aclexplode(v_rel.relacl) AS a WHERE a.grantee <> (SELECT c.relowner FROM pg_class AS c WHERE c.oid = p_table));
    v_late := v_late || array(
        SELECT format('GRANT %s (%I) ON %s TO %s%s', a.privilege_type, att.attname, v_parent,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                      CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM pg_attribute AS att, aclexplode(att.attacl) AS a
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
        ORDER BY att.attnum);
    -- statistics targets of columns
    v_after := v_after || array(
        SELECT format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS %s', v_parent, att.attname, att.attstattarget)
        FROM pg_attribute AS att
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped AND att.attstattarget >= 0
        ORDER BY att.attnum);
    -- views: recreated against the parent (CREATE OR REPLACE keeps their
    -- owner, grants, comments and the views built on them)
    FOR v_rec IN
        SELECT v.oid, rtrim(pg_get_viewdef(v.oid), ';') AS def, v.reloptions
        FROM pg_class AS v WHERE v.oid IN (SELECT pgpart._convert_views(p_table)) ORDER BY v.oid
    LOOP
        v_late := v_late || format('CREATE OR REPLACE VIEW %s%s AS %s', v_rec.oid::regclass,
            CASE WHEN v_rec.reloptions IS NOT NULL
                 THEN format(' WITH (%s)', array_to_string(v_rec.reloptions, ', ')) ELSE '' END, v_rec.def);
        v_views := v_views + 1;
    END LOOP;
    -- publications: the parent replaces the old table in each
    FOR v_rec IN
        SELECT p.pubname, pg_get_expr(pr.prqual, pr.prrelid) AS qual,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute AS a
                WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2 [])) AS cols
        FROM pg_publication_rel AS pr JOIN pg_publication AS p ON p.oid = pr.prpubid
        WHERE pr.prrelid = p_table ORDER BY p.oid
    LOOP
        v_pubs := v_pubs || v_rec.pubname;
        v_late := v_late || format('ALTER PUBLICATION %I ADD TABLE %s%s%s', v_rec.pubname, v_parent,
                      ' (' || v_rec.cols || ')', ' WHERE (' || v_rec.qual || ')');
    END LOOP;

    -- 2. the old table: triggers and identity go, the key's NOT NULL proof
    --    (now redundant) goes, indexes and statistics step aside, rename
    FOR v_seq IN
        SELECT att.attname, att.attidentity, s.seqrelid::regclass AS seq, sn.nspname AS seq_schema,
               sc.relname AS seq_name, s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, s.seqcycle
        FROM pg_attribute AS att
        JOIN pg_depend AS d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p_table
            AND d.refobjsubid = att.attnum AND d.classid = 'pg_class'::regclass AND d.deptype IN ('i', 'a')
        JOIN pg_sequence AS s ON s.seqrelid = d.objid
        JOIN pg_class AS sc ON sc.oid = s.seqrelid
        JOIN pg_namespace AS sn ON sn.oid = sc.relnamespace
        WHERE att.attrelid = p_table AND att.attnum > 0 AND NOT att.attisdropped
    LOOP
        IF v_seq.attidentity IN ('a', 'd') THEN
            -- DROP IDENTITY drops its sequence: the parent's identity gets a
            -- new one of the same name, continued from the last value
            EXECUTE format('SELECT last_value, is_called FROM %s', v_seq.seq) INTO v_last, v_called;
            v_before := v_before || format('ALTER TABLE %s ALTER COLUMN %I DROP IDENTITY', p_table, v_seq.attname);
            v_after := v_after || format(
                'ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s '
                || 'MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
                v_parent, v_seq.attname, CASE v_seq.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                v_seq.seq_schema, v_seq.seq_name, v_seq.seqincrement, v_seq.seqmin, v_seq.seqmax, v_seq.seqstart,
                v_seq.seqcache, CASE WHEN v_seq.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
                || format('SELECT setval(%L::regclass, %s, %L)', format('%I.%I', v_seq.seq_schema, v_seq.seq_name),
                          v_last, v_called);
        ELSE
            -- a serial's sequence: owned by the parent's column from now on
            v_after := v_after || format('ALTER SEQUENCE %s OWNED BY %s.%I', v_seq.seq, v_parent, v_seq.attname);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_names.not_null) THEN
        v_before := v_before || format('ALTER TABLE %s DROP CONSTRAINT %I', p_table, v_names.not_null);
    END IF;
    FOREACH v_stmt IN ARRAY v_before LOOP
        EXECUTE v_stmt;
    END LOOP;
    EXECUTE format('ALTER TABLE %s RENAME TO %I', p_table, p_legacy_name);
    v_legacy := p_table;

    -- 3. the parent under the original name; the bound stays on the old
    --    table only (it is that partition's constraint)
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS '
                   'INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (%I)%s',
                   v_parent, v_legacy, p_key,
                   CASE WHEN v_rel.reltablespace <> 0
                        THEN format(' TABLESPACE %I', (SELECT t.spcname FROM pg_tablespace AS t
                                                       WHERE t.oid = v_rel.reltablespace)) ELSE '' END);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', v_parent, v_names.bound);
    IF v_rel.owner <> current_user::text THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', v_parent, v_rel.owner);
    END IF;
    IF v_rel.comment IS NOT NULL THEN
        EXECUTE format('COMMENT ON TABLE %s IS %L', v_parent, v_rel.comment);
    END IF;
    FOREACH v_stmt IN ARRAY v_after LOOP
        EXECUTE v_stmt;
    END LOOP;

    -- the global unique constraints follow the parent (before the ATTACH,
    -- which clones their row triggers to the old table)
    IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = v_legacy) THEN
        PERFORM pgpart._gu_rebind(v_legacy, v_parent::regclass);
    END IF;

    -- 4. attach: no scan (the validated bound implies the partition
    --    constraint) and no index build (each parent index adopts its twin)
    --    (pgpart._gu_attach: a global unique constraint's statement
    --    triggers leave the old table for the ATTACH, before PostgreSQL 17)
    PERFORM pgpart._gu_attach(v_parent::regclass, v_legacy,
                              format('FOR VALUES FROM (MINVALUE) TO (%s)', v_bound.bound_literal));
    -- the legacy partition is read through the parent, as every partition
    -- pgpart makes: its direct grants go (they would bypass the parent's
    -- row-level security, check()'s rls_bypass)
    FOR v_rec IN
        SELECT DISTINCT a.grantee
        FROM pg_class AS c, aclexplode(c.relacl) AS a
        WHERE c.oid = v_legacy AND a.grantee <> c.relowner
        UNION
        SELECT a.grantee
        FROM pg_attribute AS att, pg_class AS c, aclexplode(att.attacl) AS a
        WHERE att.attrelid = v_legacy AND c.oid = v_legacy AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s CASCADE', v_legacy,
                       CASE WHEN v_rec.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(v_rec.grantee)) END);
    END LOOP;
    FOREACH v_new IN ARRAY v_pubs LOOP
        EXECUTE format('ALTER PUBLICATION %I DROP TABLE %s', v_new, v_legacy);
    END LOOP;
    FOREACH v_stmt IN ARRAY v_late LOOP
        EXECUTE v_stmt;
    END LOOP;
    PERFORM pgpart._log(v_parent::regclass, 'convert', 'ok', jsonb_build_object(
        'legacy', v_legacy::text, 'key', p_key, 'bound', v_bound.bound_literal, 'views', v_views));
    RETURN v_legacy;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_swap(regclass, name, name, interval, integer) IS
'The swap of a conversion: renames the plain table, creates the partitioned parent under its name with everything it had, attaches the old table as the legacy range partition and re-points views and publications; catalog work only (internal).';

-- source: sql/src/30_plan/default_rows.sql
-- pgpart._check_default_rows(default, key, lower, upper): refuses a new
-- range when the default partition already holds rows for it (ATTACH would
-- fail anyway, after scanning the whole default under ACCESS EXCLUSIVE).
-- An index on the key makes the EXISTS probe cheap; the count is only
-- taken when there is something to report.
CREATE OR REPLACE FUNCTION pgpart._check_default_rows(
    p_default regclass,
    p_key name,
    p_lower text,
    p_upper text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_found boolean;
    v_count bigint;
    v_where text;
    v_schema name;
    v_table name;
BEGIN
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    v_where := concat_ws(' AND ',
                         CASE WHEN p_lower <> 'MINVALUE' THEN format('%I >= %s', p_key, p_lower) END,
                         CASE WHEN p_upper <> 'MAXVALUE' THEN format('%I < %s', p_key, p_upper) END,
                         format('%I IS NOT NULL', p_key));
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', p_default, v_where) INTO v_found;
    IF v_found THEN
        EXECUTE format('SELECT count(*) FROM %s WHERE %s', p_default, v_where) INTO v_count;
        SELECT n.nspname, c.relname INTO v_schema, v_table
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.oid = p_default;
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('default partition %s holds %s rows for the new range from %s to %s',
                             p_default, v_count, p_lower, p_upper),
            DETAIL = 'A partition for this range cannot be attached while the default partition holds its rows.',
            -- an unmanaged parent: move_default_rows needs a policy first
            HINT = coalesce(
                pgpart._unmanaged_default_hint(
                    (SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default), p_lower, p_upper),
                format('Move them out first, one range per transaction: CALL pgpart.move_default_rows(%L);',
                       (SELECT i.inhparent::regclass::text FROM pg_inherits AS i WHERE i.inhrelid = p_default))),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

-- pgpart._check_default_ranges(default, key, lowers, uppers): the same
-- refusal for every range a plan creates, in one probe of the default
-- (adjacent ranges merged, so a run of new slots is one index range scan)
-- instead of one probe per range; only when rows are found is each range
-- probed again, for the error that names the first one holding rows.
-- The plan's probe runs before its first ATTACH; each ATTACH checks the
-- default again itself, so nothing is lost against a probe per range.
CREATE OR REPLACE FUNCTION pgpart._check_default_ranges(
    p_default regclass,
    p_key name,
    p_lowers text[],
    p_uppers text[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_found boolean;
    v_where text;
BEGIN
    IF cardinality(p_lowers) IS DISTINCT FROM cardinality(p_uppers) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s lower bounds but %s upper bounds for the default partition %s',
                             cardinality(p_lowers), cardinality(p_uppers), p_default),
            HINT = 'Pass one lower and one upper bound per range.';
    END IF;
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    -- runs of adjacent ranges (one's upper bound is the next one's lower) merged
    SELECT string_agg('(' || concat_ws(' AND ',
                                       CASE WHEN r.lo <> 'MINVALUE' THEN format('%I >= %s', p_key, r.lo) END,
                                       CASE WHEN r.hi <> 'MAXVALUE' THEN format('%I < %s', p_key, r.hi) END,
                                       format('%I IS NOT NULL', p_key)) || ')', ' OR ')
    INTO v_where
    FROM (
        SELECT (array_agg(g.lo ORDER BY g.n))[1] AS lo, (array_agg(g.hi ORDER BY g.n DESC))[1] AS hi
        FROM (
            -- a run starts where a range's lower bound is not the previous upper
            SELECT b.lo, b.hi, b.n,
                   count(*) FILTER (WHERE b.lo IS DISTINCT FROM b.prev_hi) OVER (ORDER BY b.n) AS run
            FROM (
                SELECT u.lo, u.hi, u.n, lag(u.hi) OVER (ORDER BY u.n) AS prev_hi
                FROM unnest(p_lowers, p_uppers) WITH ORDINALITY AS u (lo, hi, n)
            ) AS b
        ) AS g
        GROUP BY g.run
    ) AS r;
    IF v_where IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', p_default, v_where) INTO v_found;
    IF v_found THEN
        -- the error of the first range holding rows, with its count
        FOR i IN 1 .. cardinality(p_lowers) LOOP
            PERFORM pgpart._check_default_rows(p_default, p_key, p_lowers[i], p_uppers[i]);
        END LOOP;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_ranges(regclass, name, text[], text[]) IS
'Raises 23514 when the default partition holds rows of any of the ranges about to be created (one probe for all; the error names the first such range).';

-- pgpart._default_ranges(parent, now_at, count_rows, max_ranges): the ranges
-- of the grid that hold rows of PARENT's default partition, in the order
-- move_default_range moves them, so its dry run (move_default_plan), the
-- progress total of move_default_rows and the move itself agree. Ascending
-- by key: the past ranges come first and the live ones (the slot of now and
-- later) last, by construction. One index probe per range (min of the key
-- above the previous range: a loose index scan; without an index on the key
-- each probe scans the default). COUNT_ROWS adds the exact count of each
-- range (one range scan each). Per range, what would stop its move:
-- OVERLAP, a partition off the grid overlapping it (42P17), and TAKEN, a
-- relation already named like its new partition (42P07). Rows with a NULL
-- key stay in the default (no range holds them). Reads only; no lock of its
-- own (a caller that moves has the default locked already).
CREATE OR REPLACE FUNCTION pgpart._default_ranges(
    p_parent regclass,
    p_now_at timestamptz,
    p_count_rows boolean DEFAULT false,
    p_max_ranges integer DEFAULT NULL
)
RETURNS TABLE (
    ordinal integer,
    lo numeric,
    hi numeric,
    lower_literal text,
    upper_literal text,
    relation text,
    row_count bigint,
    overlap regclass,
    taken boolean
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_default regclass;
    v_schema name;
    v_table name;
    v_grid record;
    v_slot record;
    v_min numeric;
    v_from text;  -- the literal the next probe starts at (NULL: the lowest row)
    v_where text;
    v_n integer := 0;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    v_default := pgpart._default_partition(p_parent);
    IF v_cfg.parent IS NULL OR v_default IS NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    v_grid := pgpart._grid(p_parent, p_now_at);
    LOOP
        EXIT WHEN v_n >= p_max_ranges;
        -- ORDER BY ... LIMIT 1, not min(): uuid has no min() before 18
        EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, (SELECT %I FROM ONLY %s WHERE %I IS NOT NULL%s '
                       'ORDER BY 1 LIMIT 1)::text, %L)',
                       v_cfg.key_type, v_cfg.key_column, v_default, v_cfg.key_column,
                       CASE WHEN v_from IS NOT NULL THEN format(' AND %I >= %s', v_cfg.key_column, v_from) END,
                       v_cfg.epoch_unit)
        INTO v_min;
        EXIT WHEN v_min IS NULL;
        v_n := v_n + 1;
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_min);
        ordinal := v_n;
        lower_literal := pgpart._coord_to_literal(v_cfg.key_type, v_slot.lo, v_cfg.epoch_unit);
        upper_literal := pgpart._coord_to_literal(v_cfg.key_type, v_slot.hi, v_cfg.epoch_unit);
        lo := CASE WHEN lower_literal = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
        hi := CASE WHEN upper_literal = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;
        relation := format('%I.%I', v_schema,
                           pgpart._relation_name(v_table,
                                                 pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, lo)));
        overlap := (SELECT p.partition FROM pgpart._partitions(p_parent) AS p
                    WHERE NOT p.is_default AND p.lower_coord < hi AND p.upper_coord > lo
                    ORDER BY p.lower_coord LIMIT 1);
        taken := to_regclass(relation) IS NOT NULL;
        row_count := NULL;
        IF p_count_rows THEN
            v_where := concat_ws(' AND ',
                                 CASE WHEN lower_literal <> 'MINVALUE'
                                     THEN format('%I >= %s', v_cfg.key_column, lower_literal) END,
                                 CASE WHEN upper_literal <> 'MAXVALUE'
                                     THEN format('%I < %s', v_cfg.key_column, upper_literal) END,
                                 format('%I IS NOT NULL', v_cfg.key_column));
            EXECUTE format('SELECT count(*) FROM ONLY %s WHERE %s', v_default, v_where) INTO row_count;
        END IF;
        RETURN NEXT;
        EXIT WHEN upper_literal = 'MAXVALUE';
        v_from := upper_literal;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._default_ranges(regclass, timestamptz, boolean, integer) IS
'The ranges of the grid holding rows of the default partition, in the order move_default_range moves them, with what would stop each move and, on request, exact row counts (internal).';

-- pgpart._require_move_grid(target): rows move out of the default into
-- ranges of the grid; a LIST or HASH parent has none (42P17, before any lock).
CREATE OR REPLACE FUNCTION pgpart._require_move_grid(p_target pgpart._target)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF (p_target.policy).strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is partitioned by %s, not by RANGE', p_target.parent,
                             upper((p_target.policy).strategy)),
            DETAIL = 'move_default_range and move_default_rows move the rows of one range of the grid at a time.',
            HINT = 'For a LIST parent, create the new partition as a table, move the rows of its values into it '
                   '(DELETE ... RETURNING from the default partition), then ATTACH it, in one transaction.',
            SCHEMA = p_target.schema_name, TABLE = p_target.table_name;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_move_grid(pgpart._target) IS
'Raises 42P17 unless the prepared parent is a RANGE parent, whose default rows can move into ranges of the grid (internal).';

-- pgpart._unmanaged_default_hint(parent, width): the way forward for a
-- parent pgpart does not manage yet whose default partition holds rows
-- (issue 18's hint loop: create_range_partitions refused the ranges of
-- those rows and named move_default_rows, which needs a policy): register
-- the policy with partitions that start past the default's largest key,
-- then move the rows. WIDTH (a slot's lower and upper bound literals, when
-- the caller planned one) makes the suggested start concrete: the largest
-- key plus two slots, past the slot holding it whatever the grid's
-- alignment. NULL when the parent is managed or its default is empty.
CREATE OR REPLACE FUNCTION pgpart._unmanaged_default_hint(p_parent regclass, p_lower text DEFAULT NULL, p_upper text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_default regclass := pgpart._default_partition(p_parent);
    v_key name;
    v_type regtype;
    v_max text;
    v_start text;
    v_width text;
BEGIN
    IF v_default IS NULL OR EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RETURN NULL;
    END IF;
    SELECT a.attname, a.atttypid::regtype INTO v_key, v_type
    FROM pg_partitioned_table AS pt
    JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent;
    EXECUTE format('SELECT max(%I)::text FROM %s', v_key, v_default) INTO v_max;
    IF v_max IS NULL THEN
        RETURN NULL;
    END IF;
    p_lower := btrim(p_lower, '''');
    p_upper := btrim(p_upper, '''');
    IF p_lower IN ('MINVALUE', 'MAXVALUE') OR p_upper IN ('MINVALUE', 'MAXVALUE') THEN
        p_lower := NULL;
    END IF;
    IF v_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_start := (v_max::numeric + 2 * (p_upper::numeric - p_lower::numeric))::text;
        v_width := (p_upper::numeric - p_lower::numeric)::text;
    ELSIF v_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        v_start := (v_max::timestamptz + 2 * (p_upper::timestamptz - p_lower::timestamptz))::text;
        v_width := justify_hours(p_upper::timestamptz - p_lower::timestamptz)::text;
    END IF;
    RETURN format('%s is not managed yet, and move_default_rows needs its policy: register it first with '
                  'partitions that start past the default''s rows (its largest key is %s): SELECT * FROM '
                  'pgpart.create_range_partitions(%L, %L, start => %L, default_partition => true); then CALL '
                  'pgpart.move_default_rows(%L); which moves the default''s rows into partitions of their own.',
                  p_parent, v_max, p_parent::text, coalesce(v_width, '<interval>'),
                  coalesce(v_start, format('<a value past %s>', v_max)), p_parent::text);
END
$body$;

COMMENT ON FUNCTION pgpart._unmanaged_default_hint(regclass, text, text) IS
'The HINT for an unmanaged parent whose default partition holds rows: register the policy with partitions past those rows, then move_default_rows (internal).';

-- pgpart._detach_partition(parent, partition, timeout, retries): the SQL
-- path's detach: all locks first under the timeout with retries, then the
-- DETACH, journaled in the same transaction. The caller commits at once.
CREATE OR REPLACE FUNCTION pgpart._detach_partition(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent, p_partition) AS l),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    PERFORM pgpart._journal_detach(p_parent, p_partition);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
END
$body$;

-- pgpart._finalize_detach(parent, partition, timeout, retries): finishes a
-- DETACH ... CONCURRENTLY left pending by a timeout or a cancel; nothing
-- when, once its locks are held, the detach is no longer pending.
CREATE OR REPLACE FUNCTION pgpart._finalize_detach(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[
            format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)),
            format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent),
            format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition)
        ],
        p_timeout, p_retries);
    -- re-checked under the advisory lock: another run may have finished it
    -- while this one waited
    IF NOT EXISTS (
        SELECT 1 FROM pg_inherits AS i
        WHERE i.inhrelid = p_partition AND i.inhparent = p_parent AND i.inhdetachpending
    ) THEN
        RETURN;
    END IF;
    PERFORM pgpart._set_lock_timeout(p_timeout);
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s FINALIZE', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
    PERFORM pgpart._log(p_parent, 'finalize', 'ok', jsonb_build_object('partition', p_partition::text));
END
$body$;

-- pgpart._journal(parent): the open retention journal entries of PARENT
-- whose archive or drop is still to come, each checked against the
-- catalog now. STATE is 'awaiting' (the table is detached and still the
-- one journaled: same OID, name and owner, and the parent still has that
-- owner), 'pending' (its DETACH CONCURRENTLY awaits FINALIZE) or 'stale'
-- (PROBLEM says why: gone, renamed, still attached, or an owner changed,
-- e.g. by REASSIGN OWNED): a stale entry is never acted on, only discarded.
-- Only rows that came through pgpart._journal_detach count: journal_oid
-- is set and row-level security verified it when it was written; older
-- rows and history rows without it are never honoured. An entry is open
-- until an 'archive', 'drop', 'export' or 'discard' row for its table
-- follows it.
CREATE OR REPLACE FUNCTION pgpart._journal(p_parent regclass)
RETURNS TABLE (
    entry bigint,
    detached oid,
    detached_name text,
    then_action text,
    archive_schema name,
    archive_tablespace name,
    state text,
    problem text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick calls it)
    RETURN QUERY
        SELECT
            l.id,
            l.journal_oid,
            coalesce(c.oid::regclass::text, l.detail ->> 'partition'),
            l.detail ->> 'then',
            (l.detail ->> 'archive_schema')::name,
            (l.detail ->> 'archive_tablespace')::name,
            CASE
                WHEN c.oid IS NULL OR pc.relowner <> l.journal_owner OR c.relowner <> l.journal_owner
                     OR c.relname <> l.journal_name OR c.relkind NOT IN ('r', 'p') THEN 'stale'
                WHEN c.relispartition AND EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN 'pending'
                WHEN c.relispartition THEN 'stale'
                ELSE 'awaiting'
            END,
            CASE
                WHEN c.oid IS NULL OR c.relkind NOT IN ('r', 'p') THEN
                    format('table %s (OID %s) no longer exists', l.detail ->> 'partition', l.journal_oid)
                WHEN pc.relowner <> l.journal_owner THEN
                    format('the owner of %s is now %I, not %I who owned it when %s was detached', p_parent,
                           pg_get_userbyid(pc.relowner), pg_get_userbyid(l.journal_owner), c.oid::regclass)
                WHEN c.relowner <> l.journal_owner THEN
                    format('table %s is now owned by %I, not %I', c.oid::regclass, pg_get_userbyid(c.relowner),
                           pg_get_userbyid(l.journal_owner))
                WHEN c.relname <> l.journal_name THEN
                    format('table %s (OID %s) was %I when it was detached', c.oid::regclass, c.oid, l.journal_name)
                WHEN c.relispartition AND NOT EXISTS (
                    SELECT 1 FROM pg_inherits AS i
                    WHERE i.inhrelid = c.oid AND i.inhparent = p_parent AND i.inhdetachpending
                ) THEN format('table %s is attached: the journaled detach did not happen', c.oid::regclass)
            END
        FROM (
            SELECT DISTINCT ON (j.journal_oid) j.id, j.journal_oid, j.journal_name, j.journal_owner, j.detail
            FROM pgpart.log AS j
            WHERE j.parent = p_parent AND j.action = 'detach' AND j.journal_oid IS NOT NULL
            ORDER BY j.journal_oid, j.id DESC
        ) AS l
        JOIN pg_class AS pc ON pc.oid = p_parent
        LEFT JOIN pg_class AS c ON c.oid = l.journal_oid
        WHERE
            l.detail ->> 'then' IN ('archive', 'drop', 'export')
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = p_parent
                    AND done.action IN ('archive', 'drop', 'discard', 'reattach', 'export')
                    AND done.journal_oid = l.journal_oid
                    AND done.id > l.id
            )
        ORDER BY l.id;
END
$body$;

-- pgpart._detached_awaiting(parent): tables detached by retention whose
-- archive or drop has not happened yet: the journal entries still valid.
-- Not those awaiting export: only the client can write Parquet, so SQL
-- retention leaves them to it (pgpart._awaiting_export).
CREATE OR REPLACE FUNCTION pgpart._detached_awaiting(p_parent regclass)
RETURNS TABLE (detached regclass, then_action text, archive_schema name, archive_tablespace name)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.archive_schema, j.archive_tablespace
        FROM pgpart._journal(p_parent) AS j
        -- 'export' entries wait for the client (pgpart._awaiting_export)
        WHERE j.state = 'awaiting' AND j.then_action IN ('archive', 'drop')
        ORDER BY j.entry;
END
$body$;

-- pgpart._refuse_if_detach_blocked(parent, partition, timeout): raises 55P03,
-- naming them, when sessions that a DETACH ... CONCURRENTLY of PARTITION
-- would wait for are predictably long: they hold a lock on the parent or the
-- partition and are idle in a transaction, or in one older than TIMEOUT.
-- Online retention checks this before it journals a detach and before each
-- attempt of the DETACH, so a partition is left "detach pending" as rarely
-- as possible. Sessions of other roles whose state this role cannot see
-- (without pg_read_all_stats) are not counted: the risk is reduced, not
-- removed.
CREATE OR REPLACE FUNCTION pgpart._refuse_if_detach_blocked(p_parent regclass, p_partition regclass, p_timeout interval)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_blockers text;
BEGIN
    SELECT string_agg(format('pid %s (%s, %s, transaction open for %s)', a.pid, a.usename, a.state,
                             date_trunc('second', now() - a.xact_start)), '; ' ORDER BY a.pid)
    INTO v_blockers
    FROM pg_stat_activity AS a
    WHERE
        a.pid <> pg_backend_pid()
        AND a.pid IN (
            SELECT l.pid FROM pg_locks AS l
            WHERE
                l.locktype = 'relation' AND l.granted
                AND l.relation IN (p_parent, coalesce(p_partition, p_parent))
                AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
        )
        AND (a.state LIKE 'idle in transaction%' OR now() - a.xact_start > p_timeout);
    IF v_blockers IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('not detaching %s: DETACH CONCURRENTLY would wait for sessions using %I', p_partition,
                             (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent)),
            DETAIL = format('Waiting for: %s (holding locks on %s or %s). Nothing was changed.', v_blockers, p_parent,
                            p_partition),
            HINT = 'Retry when those transactions have ended (or end them), or run retention on the SQL path.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._refuse_if_detach_blocked(regclass, regclass, interval) IS
'Raises 55P03 naming the sessions when a DETACH CONCURRENTLY of the partition would wait for a predictably long transaction (idle in one, or older than the lock timeout).';

-- source: sql/src/30_plan/drain_default.sql
-- A default partition that heals itself (issue 19, item 3; docs/operations.md
-- "A default partition that heals itself"): with the policy's drain_default
-- on, every maintenance run moves rows out of the default partition into
-- new partitions of the grid, one range per transaction where the entry
-- point can commit (pgpart._drain_default_step in 40_api/run_maintenance.sql).
-- Bounded in lock time, not only in rows: each ATTACH scans the whole heap
-- of the default under ACCESS EXCLUSIVE, so the drain runs only while that
-- heap is at most drain_default_max_bytes; above it, nothing moves and
-- check() says what to do (default_too_large_to_drain).

-- pgpart._drain_max_ranges(): at most this many ranges move per maintenance
-- run and parent (a constant, not a setting: it bounds one run's work and,
-- in the function form, the locks one transaction holds; a bigger burst
-- drains over the following runs).
CREATE OR REPLACE FUNCTION pgpart._drain_max_ranges()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT 32;
$body$;

COMMENT ON FUNCTION pgpart._drain_max_ranges() IS
'At most this many ranges of the default partition are drained per maintenance run and parent (internal).';

-- pgpart._drain_state(parent, lock_timeout): whether maintenance drains the
-- default partition of PARENT now, and why not. STATE is 'off' (policy off,
-- not RANGE, or no default), 'empty' (no row with a key: a NULL key stays in
-- the default), 'drain', 'too large' (rows, but the default's heap, what
-- ATTACH scans, is above the limit) or 'locked' (the default could not be
-- read within LOCK_TIMEOUT: pg_relation_size and the probe wait behind an
-- ACCESS EXCLUSIVE). Reads the default (one probe for a row with a key):
-- callers run it as the table's owner, or guard the owner's code first.
CREATE OR REPLACE FUNCTION pgpart._drain_state(p_parent regclass, p_lock_timeout interval)
RETURNS TABLE (state text, default_partition regclass, heap_bytes bigint, max_bytes bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_has_rows boolean;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    default_partition := pgpart._default_partition(p_parent);
    max_bytes := v_cfg.drain_default_max_bytes;
    IF NOT coalesce(v_cfg.drain_default, false) OR v_cfg.strategy <> 'range' OR default_partition IS NULL THEN
        state := 'off';
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NOT NULL)', default_partition,
                       v_cfg.key_column)
        INTO v_has_rows;
        -- the heap of every leaf of the default (a default may itself be
        -- partitioned): what each ATTACH scans, dead rows included
        SELECT coalesce(sum(pg_relation_size(t.relid)), 0)::bigint INTO heap_bytes
        FROM pg_partition_tree(default_partition) AS t WHERE t.isleaf;
    EXCEPTION WHEN lock_not_available THEN
        state := 'locked';
        RETURN NEXT;
        RETURN;
    END;
    state := CASE WHEN NOT v_has_rows THEN 'empty' WHEN heap_bytes > max_bytes THEN 'too large' ELSE 'drain' END;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_state(regclass, interval) IS
'Whether maintenance drains the default partition of a parent now (drain, empty, off, too large, locked), with the default''s heap size and the policy''s limit (internal).';

-- pgpart._drain_lock_statements(parent): the lock group of one drained
-- range: pgpart._lock_statements (the one documented order) with the
-- parent taken SHARE ROW EXCLUSIVE instead of SHARE UPDATE EXCLUSIVE. That
-- mode waits for open writes on the parent and makes new writers wait at
-- the parent, before they look at its partitions: once the range commits
-- they route their rows into the new partition. Without it a writer whose
-- row goes to the default waits on the default's lock and then fails 23514
-- (PostgreSQL re-checks the default's narrowed constraint; DESIGN §10.6).
-- Readers are not blocked by it (only by the default's lock, as always).
CREATE OR REPLACE FUNCTION pgpart._drain_lock_statements(p_parent regclass)
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT array_agg(
        CASE WHEN l.statement = format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', p_parent)
            THEN format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', p_parent)
            ELSE l.statement END
        ORDER BY l.n
    )
    FROM pgpart._lock_statements(p_parent) WITH ORDINALITY AS l (statement, locks, n);
$body$;

COMMENT ON FUNCTION pgpart._drain_lock_statements(regclass) IS
'The lock statements of one drained range: as any change of partitions, with the parent SHARE ROW EXCLUSIVE so that writers wait instead of failing (internal).';

-- pgpart._drain_too_large(state): the report of a drain refused for size,
-- shared by maintenance's 'skipped' row and check()'s finding.
CREATE OR REPLACE FUNCTION pgpart._drain_too_large(p_default regclass, p_bytes bigint, p_max bigint)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT format('drain_default: the default partition %s holds rows and %s bytes of heap, more than '
                  'drain_default_max_bytes (%s): each range''s ATTACH would scan it all under ACCESS EXCLUSIVE, '
                  'so nothing is drained', p_default, p_bytes, p_max);
$body$;

COMMENT ON FUNCTION pgpart._drain_too_large(regclass, bigint, bigint) IS
'The text reporting a drain of the default partition refused for its size (internal).';

-- pgpart._find_default_drain(parent, now_at): code
-- 'default_too_large_to_drain': the policy drains the default, it holds
-- rows, and its heap is above drain_default_max_bytes, so maintenance
-- drains nothing. The fix moves the rows by hand (one range per
-- transaction, in a quiet hour); raising the limit is the alternative,
-- named in the problem. Reads under a 10 ms lock timeout: a locked or
-- unreadable default gives no finding here (default_rows_unknown says so).
CREATE OR REPLACE FUNCTION pgpart._find_default_drain(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
AS $body$
DECLARE
    v_state record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.drain_default)
       OR pgpart._default_partition(p_parent) IS NULL
       OR NOT has_table_privilege(pgpart._default_partition(p_parent), 'SELECT') THEN
        RETURN;
    END IF;
    BEGIN
        -- reading the default runs its row-level security policies (docs/security.md)
        PERFORM pgpart._guard_owner_code(p_parent, 'read');
        SELECT * INTO v_state FROM pgpart._drain_state(p_parent, interval '10ms');
    EXCEPTION WHEN insufficient_privilege THEN
        RETURN;
    END;
    IF v_state.state = 'too large' THEN
        RETURN QUERY SELECT 'warning', 'default_too_large_to_drain'::pgpart.finding_code, p_parent,
                            v_state.default_partition,
                            pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                            || format('; move the rows in a quiet hour (the fix), or raise the limit: '
                                      'SELECT * FROM pgpart.set_policy(%L, drain_default_max_bytes => %s);',
                                      p_parent::text, v_state.heap_bytes),
                            pgpart._fix_call('CALL pgpart.move_default_rows', p_parent, '', p_now_at);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_default_drain(regclass, timestamptz) IS
'Finding default_too_large_to_drain of pgpart.check(): the policy drains the default partition, but it holds rows and is above drain_default_max_bytes (internal).';

-- pgpart._due_drain(parent): for pgpart._due_parents, whether maintenance
-- has rows of the default partition to drain (or to report as too large or
-- locked), as the table's owner; a probe that fails counts as due
-- (maintenance reports it). Asked only of parents with drain_default on
-- and a default partition: one probe of the default's rows per tick.
CREATE OR REPLACE FUNCTION pgpart._due_drain(p_parent regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name;
    v_state text;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    v_caller := pgpart._become_owner(p_parent);  -- the probe reads the table: as its owner
    SELECT d.state INTO v_state FROM pgpart._drain_state(p_parent, interval '200ms') AS d;
    PERFORM set_config('role', v_caller, true);
    RETURN v_state NOT IN ('off', 'empty');
EXCEPTION WHEN OTHERS THEN
    RETURN true;
END
$body$;

COMMENT ON FUNCTION pgpart._due_drain(regclass) IS
'Whether maintenance has rows of the default partition to drain (policy drain_default), or to report; true when the probe fails (internal).';

-- source: sql/src/30_plan/due.sql
-- The no-op tick (issue 16, item 1): which managed parents have anything for
-- maintenance to do, found for all of them at once by one set-based catalog
-- query, so a tick where nothing is due costs a few catalog reads instead of
-- planning every parent. The catalog stays the only truth: the one thing
-- kept between ticks (pgpart.due_cache, what the bounds say) is used only
-- while a fingerprint read from the catalog shows they have not changed.
-- The oracle is pgpart.run_maintenance(parent, now_at, dry_run => true): a
-- parent is due exactly when that dry run returns a row, or when its last
-- run failed (the real run then clears last_error) - tests/test_due_parents.py.

-- pgpart._due_creation(parent, now_at): the exact answer for the parents the
-- set-based coverage test cannot settle (integer keys, sub-partitions, a gap
-- or an uncovered window, a premake out of bounds): whether maintenance would
-- create a partition, asked of the planner maintenance itself runs. A
-- refusal counts as due: maintenance reports it as an error row.
CREATE OR REPLACE FUNCTION pgpart._due_creation(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto  -- not pgpart._due_parents' setting: the planners run as in maintenance
AS $body$
DECLARE
    v_interval text;
    v_caller name;
    v_due boolean;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    -- the same two stages as run_maintenance, as the table's owner (it may
    -- read the table: never with the caller's rights, docs/security.md)
    v_caller := pgpart._become_owner(p_parent);
    v_due := NOT pgpart._window_complete(p_parent, p_now_at);
    IF v_due THEN
        SELECT c.partition_interval INTO v_interval FROM pgpart.config AS c WHERE c.parent = p_parent;
        v_due := EXISTS (
            SELECT 1 FROM pgpart._plan_range_partitions(
                p_parent, v_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, interval '200ms',
                p_now_at, NULL, 200) AS s
            WHERE s.action = 'attach'
        );
    END IF;
    PERFORM set_config('role', v_caller, true);
    RETURN v_due;
EXCEPTION WHEN OTHERS THEN
    RETURN true;  -- maintenance would report this failure: due (the role reverts with the subtransaction)
END
$body$;

COMMENT ON FUNCTION pgpart._due_creation(regclass, timestamptz) IS
'Whether maintenance would create a partition of the parent (or fail trying), asked of the range planner; for the parents _due_parents cannot settle from the catalog alone (internal).';

-- pgpart._due_integer_retention(parent, now_at): whether retention of an
-- integer-keyed parent, or of one with retention by size or rows, has a
-- partition to detach. Its cut-off depends on the highest key value (an
-- index probe of the table) or on partition sizes, which no catalog query
-- can give; a probe that fails counts as due (maintenance reports it).
CREATE OR REPLACE FUNCTION pgpart._due_integer_retention(p_parent regclass, p_now_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto  -- not pgpart._due_parents' setting: the planners run as in maintenance
AS $body$
DECLARE
    v_caller name;
    v_due boolean;
BEGIN
    IF pgpart._may_maintain(p_parent) IS NOT NULL THEN
        RETURN true;  -- maintenance reports the skip
    END IF;
    v_caller := pgpart._become_owner(p_parent);  -- the probe reads the table: as its owner
    v_due := EXISTS (SELECT 1 FROM pgpart._expired_partitions(p_parent, p_now_at, interval '200ms'));
    PERFORM set_config('role', v_caller, true);
    RETURN v_due;
EXCEPTION WHEN OTHERS THEN
    RETURN true;
END
$body$;

COMMENT ON FUNCTION pgpart._due_integer_retention(regclass, timestamptz) IS
'Whether an integer-keyed parent has partitions beyond its retention (probes the highest key); true when the probe fails (internal).';

-- pgpart._window_range(kind, step, zone, origin, now, premake): the range
-- [lo, hi) from the slot holding NOW through PREMAKE slots ahead, by
-- arithmetic on the slot index (as pgpart._slot counts slots) instead of
-- one pgpart._slot call per slot: called for every parent on every tick.
CREATE OR REPLACE FUNCTION pgpart._window_range(
    p_kind text,
    p_step numeric,
    p_zone text,
    p_origin numeric,
    p_now numeric,
    p_premake integer
)
RETURNS pgpart._range
LANGUAGE plpgsql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_first record;
    v_origin timestamp;
    v_wall timestamp;
    v_k numeric;
    v_months numeric;
BEGIN
    v_first := pgpart._slot(p_kind, p_step, p_zone, p_origin, p_now);
    IF p_kind IN ('integer', 'seconds') THEN
        RETURN ROW(v_first.lo, v_first.lo + (p_premake + 1) * p_step)::pgpart._range;
    END IF;
    -- the wall time of the first slot's start, then the end of the slot
    -- PREMAKE after it, counted from the origin as pgpart._slot counts
    v_origin := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    v_wall := pgpart._coord_to_ts(v_first.lo) AT TIME ZONE p_zone;
    IF p_kind = 'days' THEN
        v_k := round(extract(epoch FROM (v_wall - v_origin)) / 86400);
        RETURN ROW(v_first.lo, extract(epoch FROM (
            (v_origin + make_interval(days => (v_k + (p_premake + 1) * p_step)::int)) AT TIME ZONE p_zone
        )))::pgpart._range;
    END IF;
    v_months := (extract(year FROM v_wall) - extract(year FROM v_origin)) * 12
                + extract(month FROM v_wall) - extract(month FROM v_origin);
    RETURN ROW(v_first.lo, extract(epoch FROM (
        (v_origin + make_interval(months => (v_months + (p_premake + 1) * p_step)::int)) AT TIME ZONE p_zone
    )))::pgpart._range;
END
$body$;

COMMENT ON FUNCTION pgpart._window_range(text, numeric, text, numeric, numeric, integer) IS
'The premake window [lo, hi): from the grid slot holding now through premake slots ahead, computed without iterating (internal).';

-- pgpart._placed_indexes(): every index placed in a tablespace other than
-- the database's default (reltablespace 0 stands for that one), with its
-- table, found through pg_class's index on reltablespace: usually none, so
-- pgpart._due_parents need not read every index of every partition. The
-- planner's statistics of pg_class are often stale (a seq scan of all of
-- it looks cheaper): the settings keep the lookups on the indexes.
CREATE OR REPLACE FUNCTION pgpart._placed_indexes()
RETURNS TABLE (indrelid oid, spc oid)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $body$
    SELECT ix.indrelid, ic.reltablespace
    FROM pg_tablespace AS ts
    JOIN pg_class AS ic ON ic.reltablespace = ts.oid
    JOIN pg_index AS ix ON ix.indexrelid = ic.oid
    WHERE ts.spcname <> 'pg_global' AND ic.relkind IN ('i', 'I')
$body$;

COMMENT ON FUNCTION pgpart._placed_indexes() IS
'Indexes in a tablespace other than the database''s default, with their tables, found by index lookups (internal).';

-- pgpart._due_tree(): for every parent automatic maintenance acts on, one
-- pass over its partitions (pg_inherits, and their pg_class rows where the
-- policy reconciles), reduced to a few values (pgpart._due_tree, the type):
-- what pgpart._due_parents needs from every partition, the fingerprint of
-- the bounds cache and the drift checks alike, so neither reads them again.
-- Materialising every partition's row and scanning it once per kind of
-- drift cost three times the catalog reads themselves. STABLE: it reads
-- with the snapshot of the query calling it, so the fingerprint and the
-- bounds that query reads are the same state of the catalog.
CREATE OR REPLACE FUNCTION pgpart._due_tree()
RETURNS SETOF pgpart._due_tree
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- index lookups only, whatever the catalog's statistics say: a hash join
-- over a scan of all of pg_class per parent is what stale statistics pick
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $body$
BEGIN
    RETURN QUERY
    SELECT m.parent, t.partitions, t.fingerprint, t.pending, d.detail
    FROM (
        SELECT
            c.parent::oid AS parent, c.reconcile, pc.relowner, pc.relreplident,
            -- a policy whose checks compare every partition's row (grants,
            -- storage parameters, a replica identity index)
            c.reconcile AND (c.propagate_grants OR cardinality(c.reloptions) > 0 OR pc.relreplident = 'i')
                AS all_rows,
            hashtext(c.key_type::text || '/' || coalesce(c.epoch_unit, ''))::bigint AS seed
        FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE c.strategy = 'range' AND c.automatic_maintenance
    ) AS m
    CROSS JOIN LATERAL (
        SELECT
            count(*) AS partitions,
            -- each child and the xmin of its row (a new one for every
            -- ATTACH and DETACH), seeded with the key's type: the bounds'
            -- coordinates depend on it (hash_record_extended: the xid hashed
            -- as it is, not through its text, a third of this pass's cost)
            coalesce(sum(hash_record_extended(ROW(i.inhrelid, i.xmin), m.seed)), 0) AS fingerprint,
            coalesce(bool_or(i.inhdetachpending), false) AS pending,
            array_agg(i.inhrelid) AS children
        FROM pg_inherits AS i
        WHERE i.inhparent = m.parent
    ) AS t
    CROSS JOIN LATERAL (
        -- the partitions the checks read row by row: a partitioned one (its
        -- partitions are read from it), one outside the database's default
        -- tablespace (its indexes are read), one whose owner or replica
        -- identity is unlike the parent's (found drifting there), every one
        -- where all_rows. One aggregate with one filter (one per kind of
        -- drift cost half as much again); the rows found by one index scan
        -- for all the children (= ANY), not one per child (a nested loop:
        -- twice the time). Nothing read where the policy does not reconcile.
        SELECT
            array_agg(c.oid) FILTER (
                WHERE m.all_rows OR c.relkind = 'p' OR c.reltablespace <> 0
                OR c.relowner <> m.relowner OR c.relreplident <> m.relreplident
            ) AS detail
        FROM pg_class AS c
        WHERE m.reconcile AND c.oid = ANY (t.children)
    ) AS d;
END
$body$;

COMMENT ON FUNCTION pgpart._due_tree() IS
'One pass over the partitions of every parent automatic maintenance acts on: the bounds cache''s fingerprint, a pending detach, and the few partitions the drift checks must read row by row (internal).';

-- pgpart._due_parents(now_at): every parent automatic maintenance acts on
-- (pgpart._maintenance_parents(NULL)) that has anything due at NOW_AT, with
-- the reasons, all parents at once:
--   'not permitted'      maintenance would skip it (pgpart._may_maintain);
--   'detach pending'     a DETACH ... CONCURRENTLY to finish;
--   'partitions missing' a slot of the premake window or a gap to create;
--   'expired'            partitions beyond retention;
--   'retention refused'  retention on a table referenced by foreign keys;
--   'journal'            a retention journal entry to act on or discard;
--   'owner', 'index tablespace', 'replica identity', 'reloptions', 'grants',
--   'grants refused'     drift reconcile would repair or report (each kind
--                        pgpart._reconcile_plan plans, mirrored here);
--   'last error'         the last run failed;
--   'default rows'       rows of the default partition to drain (drain_default);
--   'unknown'            the query itself failed (every parent, see the end).
-- Set-based: the drift, retention, journal and coverage tests read the
-- catalog once for all parents; per parent only constant-cost helpers run
-- (the grid, the window's bounds). Per partition it reads only index
-- entries and catalog rows (pg_inherits, pg_class): the bounds are deparsed
-- only when the parent's partitions changed since the last tick
-- (pgpart.due_cache), and an index is read only when it or its table lies
-- outside the database's default tablespace. Two kinds are not decided here and are
-- asked per parent, only where the catalog cannot settle them: creation for
-- integer keys, sub-partitioned parents and any parent whose partitions do
-- not cover the window without a gap (pgpart._due_creation), and retention
-- for integer keys (pgpart._due_integer_retention).
-- Long (about 440 lines): the bounds' summaries first, then one CTE per kind of due work above, each mirroring
-- the planner it stands for, in one query over one reading of the tree.
CREATE OR REPLACE FUNCTION pgpart._due_parents(p_now_at timestamptz)
RETURNS TABLE (parent regclass, reasons text[])
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
-- its two long queries planned once per session, not on every tick: a
-- custom plan (the default for the first five calls) cost more than running
-- them. The per-parent helpers it calls plan as usual (plan_cache_mode =
-- auto on pgpart._due_creation and pgpart._due_integer_retention).
SET plan_cache_mode = force_generic_plan
-- bounds are deparsed and read back in UTC, ISO (as pgpart._partitions does)
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_state text;
    v_message text;
    v_sums pgpart.due_cache[];
    v_fresh pgpart.due_cache[];
    v_trees pgpart._due_tree[];
    v_lock_timeout text;
BEGIN
    -- 1. What the bounds of each time-keyed parent say (pgpart.due_cache):
    -- the stored summary while the fingerprint of the parent's pg_inherits
    -- rows (a few index entries per partition, no deparsing) still matches,
    -- else read from the bounds themselves (pgpart._partitions inlined:
    -- SQL per partition, no function call) and stored for the next tick.
    -- The one pass over every parent's partitions (pgpart._due_tree) is
    -- read here, in the snapshot the bounds are read in, and kept for step 2.
    WITH tr AS MATERIALIZED (
        SELECT t FROM pgpart._due_tree() AS t
    ),
    m AS (
        SELECT
            c.parent, c.key_type, c.epoch_unit, c.premake,
            -- the set-based coverage test applies (else the planner is asked)
            c.subpartition IS NULL AND c.premake BETWEEN 0 AND pgpart._max_premake() AS windowed,
            -- everything pgpart._grid and the window depend on, but now
            ROW(c.key_type, c.epoch_unit, c.partition_interval, c.time_zone, c.grid_origin, c.premake)::text
                AS window_key,
            -- now's coordinate, as pgpart._grid reckons it for a time key
            CASE WHEN c.clock = 'instant' THEN extract(epoch FROM p_now_at)
                 ELSE extract(epoch FROM (p_now_at AT TIME ZONE c.time_zone)) END AS now_coord
        FROM (
            SELECT c.*, pgpart._key_clock(c.key_type, c.epoch_unit) AS clock
            FROM pgpart.config AS c
            JOIN pg_class AS pc ON pc.oid = c.parent
            WHERE c.strategy = 'range' AND c.automatic_maintenance
            OFFSET 0  -- one call per parent
        ) AS c
        WHERE c.clock IN ('instant', 'wall')
    ),
    fp AS MATERIALIZED (
        SELECT
            m.parent, m.key_type, m.epoch_unit, m.premake, m.windowed, m.window_key, m.now_coord,
            (tr.t).partitions, (tr.t).fingerprint
        FROM m JOIN tr ON (tr.t).parent = m.parent
    ),
    cached AS MATERIALIZED (
        SELECT
            fp.*,
            d AS cache,
            d.partitions IS NOT DISTINCT FROM fp.partitions AND d.fingerprint IS NOT DISTINCT FROM fp.fingerprint
                AS bounds_hit,
            -- the window is the same for every now in the slot that holds it
            NOT fp.windowed OR coalesce(
                d.window_key = fp.window_key AND fp.now_coord >= d.window_lo AND fp.now_coord < d.window_until, false
            ) AS window_hit
        FROM fp LEFT JOIN pgpart.due_cache AS d ON d.parent = fp.parent
    ),
    miss AS MATERIALIZED (
        SELECT ca.* FROM cached AS ca WHERE NOT ca.bounds_hit
    ),
    children AS MATERIALIZED (
        SELECT mi.parent, i.inhrelid, i.inhdetachpending AS detach_pending, pg_get_expr(c.relpartbound, 0) AS bound
        FROM miss AS mi
        JOIN pg_inherits AS i ON i.inhparent = mi.parent
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE c.relkind IN ('r', 'p', 'f')
    ),
    -- split, not a regular expression (its backtracking costs twice the
    -- deparsing): time literals hold no ") TO ("; a quoted literal loses its
    -- quotes
    literals AS MATERIALIZED (
        SELECT
            ch.parent, ch.inhrelid, ch.detach_pending, ch.bound = 'DEFAULT' AS is_default,
            btrim(substr(split_part(ch.bound, ') TO (', 1), length('FOR VALUES FROM (') + 1), '''') AS lo,
            btrim(rtrim(split_part(ch.bound, ') TO (', 2), ')'), '''') AS hi
        FROM children AS ch
    ),
    bounds AS MATERIALIZED (
        SELECT
            l.parent, l.inhrelid, l.detach_pending,
            CASE WHEN l.lo = 'MINVALUE' THEN '-Infinity'::numeric
                 WHEN mi.key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.lo::timestamptz)
                 WHEN mi.key_type = 'timestamp'::regtype THEN extract(epoch FROM l.lo::timestamp)
                 -- pgpart._uuid_coord and an epoch unit's scale, inlined
                 WHEN mi.key_type = 'uuid'::regtype
                     THEN ('x' || lpad(left(replace(l.lo, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
                 WHEN mi.epoch_unit IS NOT NULL THEN l.lo::numeric / pgpart._epoch_scale(mi.epoch_unit)
                 ELSE extract(epoch FROM l.lo::date::timestamp) END AS lo,
            CASE WHEN l.hi = 'MAXVALUE' THEN 'Infinity'::numeric
                 WHEN mi.key_type = 'timestamptz'::regtype THEN extract(epoch FROM l.hi::timestamptz)
                 WHEN mi.key_type = 'timestamp'::regtype THEN extract(epoch FROM l.hi::timestamp)
                 WHEN mi.key_type = 'uuid'::regtype
                     THEN ('x' || lpad(left(replace(l.hi, '-', ''), 12), 16, '0'))::bit(64)::bigint / 1000.0
                 WHEN mi.epoch_unit IS NOT NULL THEN l.hi::numeric / pgpart._epoch_scale(mi.epoch_unit)
                 ELSE extract(epoch FROM l.hi::date::timestamp) END AS hi
        FROM literals AS l JOIN miss AS mi ON mi.parent = l.parent
        WHERE NOT l.is_default
    ),
    ordered AS MATERIALIZED (  -- once, not once per parent joined
        SELECT
            b.parent, b.lo, b.hi, b.detach_pending,
            max(b.hi) OVER (PARTITION BY b.parent ORDER BY b.lo ROWS UNBOUNDED PRECEDING) AS reach,
            lead(b.lo) OVER (PARTITION BY b.parent ORDER BY b.lo) AS next_lo,
            max(b.hi) OVER (PARTITION BY b.parent) AS newest_hi
        FROM bounds AS b
    ),
    fresh_bounds AS MATERIALIZED (
        SELECT
            mi.parent,
            coalesce(bool_or(o.next_lo > o.reach), false) AS has_gap,
            min(o.lo) AS first_lo,
            max(o.hi) AS last_hi,
            -- as pgpart._expired_partitions: not the default, not
            -- detaching, not the newest
            min(o.hi) FILTER (WHERE NOT o.detach_pending AND o.hi < o.newest_hi) AS oldest_hi
        FROM miss AS mi LEFT JOIN ordered AS o ON o.parent = mi.parent
        GROUP BY mi.parent
    ),
    -- the premake window [lo, hi) and the end of the slot holding now
    fresh_windows AS MATERIALIZED (  -- computed once, not once per row joined
        SELECT w.parent, r.lo, r.hi, f.hi AS until
        FROM (
            SELECT ca.parent, g.kind, g.step, g.frame, g.origin, g.now_coord, ca.premake
            FROM cached AS ca
            CROSS JOIN LATERAL pgpart._grid(ca.parent, p_now_at) AS g
            WHERE ca.windowed AND NOT ca.window_hit
            OFFSET 0  -- one call per parent, not one per column read
        ) AS w
        CROSS JOIN LATERAL pgpart._window_range(w.kind, w.step, w.frame, w.origin, w.now_coord, w.premake) AS r
        CROSS JOIN LATERAL pgpart._window_range(w.kind, w.step, w.frame, w.origin, w.now_coord, 0) AS f
    ),
    sums AS (
        SELECT
            ROW(
                ca.parent, ca.partitions, ca.fingerprint,
                CASE WHEN ca.bounds_hit THEN (ca.cache).has_gap ELSE fb.has_gap END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).first_lo ELSE fb.first_lo END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).last_hi ELSE fb.last_hi END,
                CASE WHEN ca.bounds_hit THEN (ca.cache).oldest_hi ELSE fb.oldest_hi END,
                CASE WHEN ca.windowed THEN ca.window_key END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_lo ELSE fw.lo END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_hi ELSE fw.hi END,
                CASE WHEN NOT ca.windowed THEN NULL WHEN ca.window_hit THEN (ca.cache).window_until ELSE fw.until END
            )::pgpart.due_cache AS s,
            NOT (ca.bounds_hit AND ca.window_hit) AS changed
        FROM cached AS ca
        LEFT JOIN fresh_bounds AS fb ON fb.parent = ca.parent
        LEFT JOIN fresh_windows AS fw ON fw.parent = ca.parent
    )
    SELECT array_agg(s.s), array_agg(s.s) FILTER (WHERE s.changed), (SELECT array_agg(tr.t) FROM tr)
    INTO v_sums, v_fresh, v_trees
    FROM sums AS s;
    -- stored for the next tick, where the caller may write the row (a
    -- cache: the tick goes on without it, e.g. in a read-only transaction,
    -- or when a concurrent tick holds the row: never waits for it)
    IF v_fresh IS NOT NULL AND NOT current_setting('transaction_read_only')::boolean THEN
        v_lock_timeout := current_setting('lock_timeout');
        BEGIN
            PERFORM set_config('lock_timeout', '10ms', true);
            INSERT INTO pgpart.due_cache AS d
            SELECT f.*
            FROM unnest(v_fresh) AS f JOIN pg_class AS c ON c.oid = f.parent
            WHERE pg_has_role(current_user, c.relowner, 'USAGE')
            ON CONFLICT (parent) DO UPDATE SET
                partitions = excluded.partitions, fingerprint = excluded.fingerprint, has_gap = excluded.has_gap,
                first_lo = excluded.first_lo, last_hi = excluded.last_hi, oldest_hi = excluded.oldest_hi,
                window_key = excluded.window_key, window_lo = excluded.window_lo, window_hi = excluded.window_hi,
                window_until = excluded.window_until;
            -- rows of tables that no longer exist (RLS: only where it is bypassed)
            DELETE FROM pgpart.due_cache AS d
            WHERE NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = d.parent);
            PERFORM set_config('lock_timeout', v_lock_timeout, true);
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- the subtransaction's rollback restores lock_timeout too
        END;
    END IF;
    -- 2. Everything due, all parents at once.
    -- PL/pgSQL, not SQL: its plan is cached for the session (every tick runs it)
    RETURN QUERY
    WITH m AS MATERIALIZED (
        -- as pgpart._maintenance_parents(NULL)
        SELECT c.*, pc.relowner, pc.relacl, pc.relreplident, pc.relrowsecurity,
               pgpart._key_clock(c.key_type, c.epoch_unit) AS clock
        FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE c.strategy = 'range' AND c.automatic_maintenance
    ),
    db AS (
        SELECT d.dattablespace AS spc FROM pg_database AS d WHERE d.datname = current_database()
    ),
    -- maintenance skips (and reports) a parent as pgpart._may_maintain says
    refused AS (
        SELECT m.parent, 'not permitted' AS reason
        FROM m
        WHERE CASE  -- CASE: pg_has_role raises for a role that no longer exists
            WHEN NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = m.policy_author) THEN true
            WHEN NOT pg_has_role(m.policy_author, m.relowner, 'USAGE') THEN true
            ELSE NOT pg_has_role(current_user, m.relowner, 'USAGE')
                AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
        END
    ),
    -- what every parent's partitions say (step 1, pgpart._due_tree)
    tree AS MATERIALIZED (
        SELECT m.parent, t.pending, t.detail
        FROM unnest(v_trees) AS t JOIN m ON m.parent = t.parent
    ),
    pending AS (
        SELECT t.parent, 'detach pending' AS reason FROM tree AS t WHERE t.pending
    ),
    failed AS (
        SELECT m.parent, 'last error' AS reason FROM m WHERE m.last_error IS NOT NULL
    ),
    -- the bounds' summaries (step 1)
    sums AS MATERIALIZED (
        SELECT s.* FROM unnest(v_sums) AS s
    ),
    -- Creation. A time-keyed parent without sub-partitions whose partitions
    -- cover one unbroken range that holds the whole premake window has no
    -- slot to create (the planner fills the window and the gaps between
    -- partitions, nothing else); every other parent asks the planner.
    covered AS (
        SELECT s.parent
        FROM sums AS s
        WHERE NOT s.has_gap AND s.first_lo <= s.window_lo AND s.last_hi >= s.window_hi
    ),
    -- Surely due, without asking the planner: a slot of the window that no
    -- partition can overlap, because no partition reaches the window, or
    -- the highest one ends inside it on a slot boundary. The planner creates
    -- that slot (or fails trying, an error row: due as well).
    surely AS (
        SELECT s.parent
        FROM sums AS s
        WHERE
            s.window_lo IS NOT NULL
            AND (
                s.last_hi IS NULL OR s.last_hi <= s.window_lo
                OR (s.last_hi < s.window_hi AND s.last_hi = (
                    SELECT (pgpart._slot(g.kind, g.step, g.frame, g.origin, s.last_hi)).lo
                    FROM pgpart._grid(s.parent::regclass, p_now_at) AS g
                ))
            )
    ),
    creation AS (
        SELECT m.parent, 'partitions missing' AS reason
        FROM m
        WHERE
            m.parent NOT IN (SELECT c.parent FROM covered AS c)
            AND (m.parent IN (SELECT su.parent FROM surely AS su) OR pgpart._due_creation(m.parent, p_now_at))
    ),
    -- Retention, as pgpart._expired_partitions: a partition (not the
    -- default, not detaching, not the newest) ending at or before the cut-off
    cutoffs AS (
        SELECT
            m.parent,
            CASE WHEN m.clock = 'instant'
                     THEN extract(epoch FROM ((p_now_at AT TIME ZONE m.time_zone) - m.retention::interval)
                                             AT TIME ZONE m.time_zone)
                 ELSE extract(epoch FROM ((p_now_at AT TIME ZONE m.time_zone) - m.retention::interval)) END AS cutoff
        FROM m
        WHERE m.retention IS NOT NULL AND m.clock IN ('instant', 'wall')
    ),
    expired AS (
        SELECT c.parent, 'expired' AS reason
        FROM cutoffs AS c JOIN sums AS s ON s.parent = c.parent
        WHERE s.oldest_hi <= c.cutoff
        UNION ALL
        SELECT m.parent, 'expired'
        FROM m
        WHERE
            (m.retention IS NOT NULL AND m.clock = 'integer'
             -- retention by size or rows reads partition sizes: asked of the planner too
             OR m.retention_max_bytes IS NOT NULL OR m.retention_max_rows IS NOT NULL)
            AND pgpart._due_integer_retention(m.parent, p_now_at)
    ),
    -- retention of a parent other tables reference is refused, every time
    -- (pgpart._retention_plan), which maintenance reports
    retention_refused AS (
        SELECT m.parent, 'retention refused' AS reason
        FROM m
        WHERE
            (m.retention IS NOT NULL OR m.retention_max_bytes IS NOT NULL OR m.retention_max_rows IS NOT NULL)
            AND m.referenced_retention = 'refuse'
            AND EXISTS (
                SELECT 1 FROM pg_constraint AS con
                WHERE con.confrelid = m.parent AND con.contype = 'f' AND con.conparentid = 0
            )
    ),
    -- an open journal entry (pgpart._journal) is due whatever its state:
    -- 'awaiting' is archived or dropped, 'stale' discarded, 'pending' has a
    -- pending detach
    journal AS (
        SELECT DISTINCT j.parent, 'journal' AS reason
        FROM pgpart.log AS j
        JOIN m ON m.parent = j.parent
        WHERE
            j.action = 'detach' AND j.journal_oid IS NOT NULL
            AND j.detail ->> 'then' IN ('archive', 'drop')
            -- not while its grace period lasts (pgpart._grace_until)
            AND j.logged_at + coalesce(m.retention_grace, interval '0') <= greatest(p_now_at, now())
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS later
                WHERE
                    later.parent = j.parent AND later.action = 'detach'
                    AND later.journal_oid = j.journal_oid AND later.id > j.id
            )
            AND NOT EXISTS (
                SELECT 1 FROM pgpart.log AS done
                WHERE
                    done.parent = j.parent
                    AND done.action IN ('archive', 'drop', 'discard', 'reattach')
                    AND done.journal_oid = j.journal_oid
                    AND done.id > j.id
            )
    ),
    -- Drift: each kind pgpart._reconcile_plan plans, for every partition at
    -- every level of the parents whose policy reconciles. Read by index
    -- lookups from the managed parents down (indexes: pgpart._placed_indexes),
    -- never by a scan of all of pg_class or pg_index, so the cost follows the
    -- managed partitions, not the size of the database.
    level1 AS MATERIALIZED (  -- the partitions tree.detail names (usually none)
        SELECT
            t.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
            c.reltablespace
        FROM tree AS t
        CROSS JOIN LATERAL unnest(t.detail) AS d (oid)
        JOIN pg_class AS c ON c.oid = d.oid
    ),
    -- the levels below, only under a partitioned partition (a recursion
    -- over every partition would cost as much again)
    deeper AS (
        WITH RECURSIVE t AS (
            SELECT
                l.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
                c.reltablespace
            FROM level1 AS l
            JOIN pg_inherits AS i ON i.inhparent = l.oid
            JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE l.relkind = 'p'
            UNION ALL
            SELECT
                t.parent, c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid,
                c.reltablespace
            FROM t
            JOIN pg_inherits AS i ON i.inhparent = t.oid
            JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE t.relkind = 'p'  -- only a partitioned table has partitions
        )
        SELECT * FROM t
    ),
    parts AS MATERIALIZED (
        SELECT
            t.parent, t.oid, t.relkind, t.relowner, t.relacl, t.relreplident, t.reloptions, t.reltoastrelid,
            t.reltablespace, coalesce(nullif(t.reltablespace, 0), (SELECT db.spc FROM db)) AS spc
        FROM (SELECT * FROM level1 UNION ALL SELECT * FROM deeper) AS t
        WHERE t.relkind IN ('r', 'p')
    ),
    owners AS (
        SELECT DISTINCT p.parent, 'owner' AS reason
        FROM parts AS p JOIN m ON m.parent = p.parent
        WHERE p.relowner <> m.relowner
    ),
    -- An index in another tablespace than its partition: one of the two is
    -- outside the database's default (reltablespace 0 stands for it), so
    -- only such relations are read (pg_class has an index on reltablespace),
    -- not every index of every partition: the indexes of a partition outside
    -- the default (tree.detail names it), and the indexes outside it, traced
    -- up to their managed parent (pg_partition_ancestors: a few index
    -- entries each, and usually there are none).
    index_spaces AS (
        SELECT DISTINCT x.parent, 'index tablespace' AS reason
        FROM (
            SELECT p.parent, p.spc, ic.reltablespace
            FROM parts AS p
            JOIN pg_index AS ix ON ix.indrelid = p.oid
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE p.reltablespace <> 0
            UNION ALL
            SELECT m.parent, coalesce(nullif(c.reltablespace, 0), (SELECT db.spc FROM db)), x.spc
            FROM pgpart._placed_indexes() AS x
            -- OFFSET 0: looked up by each index's table, never a scan of pg_class
            CROSS JOIN LATERAL (
                SELECT c.oid, c.reltablespace FROM pg_class AS c
                WHERE c.oid = x.indrelid AND c.relispartition AND c.relkind IN ('r', 'p')
                OFFSET 0
            ) AS c
            CROSS JOIN LATERAL pg_partition_ancestors(c.oid) AS a
            JOIN m ON m.parent = a.relid
            WHERE m.reconcile AND a.relid <> c.oid
        ) AS x
        CROSS JOIN db
        WHERE coalesce(nullif(x.reltablespace, 0), db.spc) <> x.spc
    ),
    idents AS (
        SELECT DISTINCT i.parent, 'replica identity' AS reason
        FROM (
            SELECT
                p.parent, m.relreplident AS want, p.relreplident AS have,
                -- CASE: looked up only when the parent's identity is an index
                CASE WHEN m.relreplident = 'i' THEN (
                    SELECT x.indexrelid FROM pg_index AS x
                    WHERE
                        x.indrelid = p.oid
                        AND (SELECT y.indexrelid FROM pg_index AS y WHERE y.indrelid = m.parent AND y.indisreplident)
                        IN (SELECT a.relid FROM pg_partition_ancestors(x.indexrelid) AS a)
                    LIMIT 1
                ) END AS want_index,
                CASE WHEN m.relreplident = 'i' THEN (
                    SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = p.oid AND x.indisreplident LIMIT 1
                ) END AS have_index
            FROM parts AS p JOIN m ON m.parent = p.parent
        ) AS i
        WHERE i.have <> i.want OR (i.want = 'i' AND i.have_index IS DISTINCT FROM i.want_index)
    ),
    opts AS MATERIALIZED (  -- usually empty: then no partition is read here
        SELECT
            m.parent,
            lower(btrim(split_part(o, '=', 1))) AS name,
            btrim(substr(o, strpos(o, '=') + 1)) AS value
        FROM m CROSS JOIN LATERAL unnest(m.reloptions) AS o
        WHERE m.reconcile AND strpos(o, '=') > 0
    ),
    storage AS (
        SELECT DISTINCT p.parent, 'reloptions' AS reason
        FROM opts AS o
        JOIN parts AS p ON p.parent = o.parent
        WHERE
            p.relkind = 'r'
            AND o.name ~ '^(toast\.)?[a-z_][a-z0-9_]*$'
            AND (o.name NOT LIKE 'toast.%' OR p.reltoastrelid <> 0)
            -- the TOAST table read only for a toast.* option
            AND NOT coalesce(CASE WHEN o.name LIKE 'toast.%'
                                  THEN (SELECT tc.reloptions FROM pg_class AS tc WHERE tc.oid = p.reltoastrelid)
                                  ELSE p.reloptions END, '{}'::text [])
            @> ARRAY [regexp_replace(o.name, '^toast\.', '') || '=' || o.value]
    ),
    grant_parents AS (
        SELECT
            m.parent, m.relowner, coalesce(m.relacl, acldefault('r', m.relowner)) AS acl,
            m.relrowsecurity OR EXISTS (
                SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = m.parent AND a.attacl IS NOT NULL AND NOT a.attisdropped
            ) AS grants_refused
        FROM m
        WHERE m.reconcile AND m.propagate_grants
    ),
    grants_refused AS (
        SELECT g.parent, 'grants refused' AS reason FROM grant_parents AS g WHERE g.grants_refused
    ),
    -- the partition's grants as they will read once its owner is the
    -- parent's, against the parent's: any difference is a grant or revoke
    want AS (
        SELECT g.parent, a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
        FROM grant_parents AS g CROSS JOIN LATERAL aclexplode(g.acl) AS a
        WHERE NOT g.grants_refused
        GROUP BY 1, 2, 3
    ),
    have AS (
        SELECT
            p.parent, p.oid,
            CASE WHEN a.grantee = p.relowner THEN g.relowner ELSE a.grantee END AS grantee,
            a.privilege_type,
            bool_or(a.is_grantable) AS grantable
        FROM parts AS p
        JOIN grant_parents AS g ON g.parent = p.parent
        CROSS JOIN LATERAL aclexplode(coalesce(p.relacl, acldefault('r', p.relowner))) AS a
        WHERE NOT g.grants_refused
        GROUP BY 1, 2, 3, 4
    ),
    grants AS (
        SELECT DISTINCT d.parent, 'grants' AS reason
        FROM (
            (SELECT p.parent, p.oid, w.grantee, w.privilege_type, w.grantable
             FROM parts AS p JOIN want AS w ON w.parent = p.parent
             EXCEPT
             SELECT h.parent, h.oid, h.grantee, h.privilege_type, h.grantable FROM have AS h)
            UNION ALL
            (SELECT h.parent, h.oid, h.grantee, h.privilege_type, h.grantable FROM have AS h
             EXCEPT
             SELECT p.parent, p.oid, w.grantee, w.privilege_type, w.grantable
             FROM parts AS p JOIN want AS w ON w.parent = p.parent)
        ) AS d
    ),
    -- rows of the default partition to drain (policy drain_default): one
    -- probe of the default per such parent (pgpart._due_drain)
    drain AS (
        SELECT m.parent, 'default rows' AS reason
        FROM m JOIN pg_partitioned_table AS pt ON pt.partrelid = m.parent
        WHERE m.drain_default AND pt.partdefid <> 0 AND pgpart._due_drain(m.parent)
    ),
    due AS (
        SELECT * FROM refused
        UNION ALL SELECT * FROM pending
        UNION ALL SELECT * FROM creation
        UNION ALL SELECT * FROM expired
        UNION ALL SELECT * FROM retention_refused
        UNION ALL SELECT * FROM journal
        UNION ALL SELECT * FROM owners
        UNION ALL SELECT * FROM index_spaces
        UNION ALL SELECT * FROM idents
        UNION ALL SELECT * FROM storage
        UNION ALL SELECT * FROM grants_refused
        UNION ALL SELECT * FROM grants
        UNION ALL SELECT * FROM failed
        UNION ALL SELECT * FROM drain
    )
    SELECT d.parent, array_agg(DISTINCT d.reason ORDER BY d.reason)
    FROM due AS d
    GROUP BY d.parent
    ORDER BY d.parent;
EXCEPTION WHEN OTHERS THEN
    -- One query for all parents fails for all of them (e.g. a policy row
    -- edited by hand into an unreadable interval): never let one parent stop
    -- the others' maintenance. Every parent is then due ('unknown') and gets
    -- its per-parent work, which isolates the failure to its own parent.
    -- (Nothing was returned yet: the final sort reads every row first.)
    -- (a cancel or a statement timeout is not among OTHERS: it stops the tick)
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
    RAISE WARNING 'pgpart: the due-parents filter failed (% %): every parent is maintained', v_state, v_message;
    RETURN QUERY
    SELECT c.parent, ARRAY['unknown']
    FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
    WHERE c.strategy = 'range' AND c.automatic_maintenance
    ORDER BY c.parent;
END
$body$;

COMMENT ON FUNCTION pgpart._due_parents(timestamptz) IS
'The parents automatic maintenance acts on that have anything due at now_at (missing partitions, retention, pending detaches, journal entries, drift reconcile repairs, a failed last run), with the reasons; one set-based catalog query (internal).';

-- source: sql/src/30_plan/expired.sql
-- pgpart._expiry(parent, now_at, timeout, planned_upper): the partitions of
-- a managed range parent that retention removes, each with the rule that
-- expires it (REASON). A partition expires if ANY rule of the policy
-- expires it:
--   age   its whole range ends at or before now_at minus the retention
--         (calendar arithmetic in the configured zone), or for integer keys
--         at or below the highest key value minus the retention distance;
--   bytes / rows  (retention_max_bytes, retention_max_rows) the partitions
--         together hold more than the limit: the oldest expire first until
--         the rest fits (pgpart._partition_volume; the default never counts).
-- Never the default, never one already detaching, never the newest
-- partition by bound (PLANNED_UPPER: a dry run's partitions to be created
-- first count, as they will exist when the real run gets here), never one
-- holding now_at (for integer keys: the highest key value) or later.
-- Catalog only, except the integer key probe and the volume of partitions
-- (each read waits at most TIMEOUT for its lock).
-- Long (about 130 lines): the three rules share one reading of the
-- partitions and one set of exclusions, so they cannot disagree on those.
CREATE OR REPLACE FUNCTION pgpart._expiry(
    p_parent regclass, p_now_at timestamptz, p_timeout interval, p_planned_upper numeric DEFAULT NULL
)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric, reason text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_clock text;
    v_cutoff numeric;
    v_max numeric;
    v_now numeric;
    v_newest numeric;
    v_total_bytes numeric;
    v_total_rows numeric;
    r record;
BEGIN
    -- an infinite now_at would expire every partition but the newest (every
    -- retention path comes through here: refuse it, 22023 naming now_at)
    PERFORM pgpart._check_lock_args(coalesce(p_timeout, interval '1s'), 0, p_now_at);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.retention IS NULL AND v_cfg.retention_max_bytes IS NULL AND v_cfg.retention_max_rows IS NULL THEN
        RETURN;
    END IF;
    v_clock := pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit);
    IF v_clock = 'integer' THEN
        v_max := pgpart._max_key(p_parent, v_cfg.key_column, p_timeout);
        IF v_max IS NULL THEN
            RETURN;  -- an empty table has nothing to expire
        END IF;
        v_now := v_max;
        v_cutoff := v_max - v_cfg.retention::numeric;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_now_at);
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval)
                                       AT TIME ZONE v_cfg.time_zone);
    ELSE
        v_now := extract(epoch FROM (p_now_at AT TIME ZONE v_cfg.time_zone));
        v_cutoff := extract(epoch FROM ((p_now_at AT TIME ZONE v_cfg.time_zone) - v_cfg.retention::interval));
    END IF;
    SELECT max(q.upper_coord) INTO v_newest FROM pgpart._partitions(p_parent) AS q WHERE NOT q.is_default;
    v_newest := greatest(v_newest, p_planned_upper);

    IF v_cfg.retention_max_bytes IS NULL AND v_cfg.retention_max_rows IS NULL THEN
        -- age alone: catalog only
        RETURN QUERY
        SELECT p.partition, p.lower_coord, p.upper_coord,
               format('age: older than %s', v_cfg.retention)
        FROM pgpart._partitions(p_parent) AS p
        WHERE
            NOT p.is_default
            AND NOT p.detach_pending
            AND p.upper_coord <= v_cutoff
            AND p.upper_coord < v_newest
        ORDER BY p.lower_coord;
        RETURN;
    END IF;

    -- volume rules: every partition but the default and those already
    -- detaching (retention is removing them) counts in the totals; the
    -- oldest eligible ones expire first
    FOR r IN
        SELECT p.partition, p.lower_coord, p.upper_coord, v.bytes, v.row_count,
               sum(v.bytes) OVER () AS total_bytes, sum(v.row_count) OVER () AS total_rows
        FROM pgpart._partitions(p_parent) AS p
        CROSS JOIN LATERAL pgpart._partition_volume(p.partition, p_timeout) AS v
        WHERE NOT p.is_default AND NOT p.detach_pending
        ORDER BY p.lower_coord
    LOOP
        IF v_total_bytes IS NULL THEN
            v_total_bytes := r.total_bytes;
            v_total_rows := r.total_rows;
        END IF;
        -- beyond these, nothing expires (partitions are in key order)
        EXIT WHEN r.upper_coord > v_now OR r.upper_coord >= v_newest;
        IF v_cfg.retention IS NOT NULL AND r.upper_coord <= v_cutoff THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('age: older than %s', v_cfg.retention);
        ELSIF v_total_bytes > v_cfg.retention_max_bytes THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('size: the partitions hold %s, more than retention_max_bytes %s',
                                       pg_size_pretty(v_total_bytes),
                                       pg_size_pretty(v_cfg.retention_max_bytes::numeric));
        ELSIF v_total_rows > v_cfg.retention_max_rows THEN
            RETURN QUERY SELECT r.partition, r.lower_coord, r.upper_coord,
                                format('rows: the partitions hold %s rows, more than retention_max_rows %s',
                                       v_total_rows, v_cfg.retention_max_rows);
        ELSE
            -- the rest fits every volume rule and stays fitting; age cannot
            -- expire a later partition (ranges ascend): done
            EXIT;
        END IF;
        -- what is left once this one is gone
        v_total_bytes := v_total_bytes - r.bytes;
        v_total_rows := v_total_rows - r.row_count;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._expiry(regclass, timestamptz, interval, numeric) IS
'Partitions of a managed parent that retention removes and the rule that expires each (age, size, rows); never the default, the newest, a detaching one or one holding now.';

-- pgpart._expired_partitions(parent, now_at, timeout, planned_upper): the
-- partitions retention removes (pgpart._expiry without the reason), for the
-- callers that only need which ones.
CREATE OR REPLACE FUNCTION pgpart._expired_partitions(
    p_parent regclass, p_now_at timestamptz, p_timeout interval, p_planned_upper numeric DEFAULT NULL
)
RETURNS TABLE (partition regclass, lower_coord numeric, upper_coord numeric)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT e.partition, e.lower_coord, e.upper_coord
    FROM pgpart._expiry(p_parent, p_now_at, p_timeout, p_planned_upper) AS e;
$body$;

COMMENT ON FUNCTION pgpart._expired_partitions(regclass, timestamptz, interval, numeric) IS
'Partitions of a managed parent whose whole range lies beyond its retention (never the default, the newest or a detaching one).';

-- pgpart._partition_volume(partition, timeout): the bytes (heap, TOAST and
-- indexes, every level of a sub-partitioned one) and rows of a partition,
-- for the volume rules of retention. Rows are the planner's count
-- (pg_class.reltuples, kept by autovacuum and ANALYZE), counted exactly only
-- for a table never analyzed, and only when counting runs no code of its
-- owner (no row-level security on it) and the caller may read it; else such
-- a table counts 0 rows (ANALYZE it). Each read waits at most TIMEOUT for
-- its lock (pg_total_relation_size waits behind an ACCESS EXCLUSIVE).
CREATE OR REPLACE FUNCTION pgpart._partition_volume(p_partition regclass, p_timeout interval)
RETURNS TABLE (bytes bigint, row_count bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_column
DECLARE
    v_bytes bigint := 0::bigint;
    v_rows bigint := 0::bigint;
    v_n bigint;
    r record;
BEGIN
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOR r IN
        SELECT t.relid, c.reltuples, c.relrowsecurity
        FROM pg_partition_tree(p_partition) AS t
        JOIN pg_class AS c ON c.oid = t.relid
        WHERE t.isleaf AND c.relkind IN ('r', 'm')
    LOOP
        v_bytes := v_bytes + pg_total_relation_size(r.relid);
        IF r.reltuples >= 0 THEN
            v_rows := v_rows + r.reltuples::bigint;
        ELSIF NOT r.relrowsecurity AND has_table_privilege(r.relid, 'SELECT') THEN
            -- never analyzed (usually an empty new partition): count it (a
            -- plain count(*) runs no function of the table's owner)
            EXECUTE format('SELECT count(*) FROM ONLY %s', r.relid::regclass) INTO v_n;
            v_rows := v_rows + v_n;
        END IF;
    END LOOP;
    RETURN QUERY SELECT v_bytes, v_rows;
END
$body$;

COMMENT ON FUNCTION pgpart._partition_volume(regclass, interval) IS
'Bytes (heap, TOAST, indexes, all levels) and rows (planner count; exact when never analyzed) of a partition, for retention by size and rows; each lock waited for at most the timeout.';

-- pgpart._grace_until(parent, entry): when the archive or drop of the table
-- detached by retention journal ENTRY (a pgpart.log id) is due: the time of
-- its journaled detach plus the policy's retention_grace (read now: a
-- changed grace applies to tables already waiting). The journal is the
-- truth: no other record of the detach time is kept.
CREATE OR REPLACE FUNCTION pgpart._grace_until(p_parent regclass, p_entry bigint)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT l.logged_at + coalesce(c.retention_grace, interval '0')
    FROM pgpart.log AS l
    LEFT JOIN pgpart.config AS c ON c.parent = p_parent
    WHERE l.id = p_entry AND l.parent = p_parent;
$body$;

COMMENT ON FUNCTION pgpart._grace_until(regclass, bigint) IS
'When the archive or drop of a table detached by retention is due: its journaled detach time plus the policy''s grace period.';

-- pgpart._validated_retention_rules(policy, max_bytes, max_rows, grace):
-- POLICY with the volume rules and grace period of retention set as asked
-- (NULL keeps a value; 0, or a zero interval, clears it), each checked
-- (22023 naming the value) before anything is written. Only for RANGE
-- policies: list and hash partitions have no order to expire by.
CREATE OR REPLACE FUNCTION pgpart._validated_retention_rules(
    p_policy pgpart.config, p_max_bytes bigint, p_max_rows bigint, p_grace interval
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_new pgpart.config := p_policy;
BEGIN
    IF (p_max_bytes IS NOT NULL OR p_max_rows IS NOT NULL OR p_grace IS NOT NULL) AND v_new.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('retention rules do not apply to %s partitions of table %s', upper(v_new.strategy),
                             v_new.parent),
            DETAIL = 'Retention expires the oldest RANGE partitions; LIST and HASH partitions have no age.',
            HINT = 'Leave retention_max_bytes, retention_max_rows and retention_grace out here.';
    END IF;
    IF p_max_bytes < 0 OR p_max_rows < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid %s %s for table %s',
                             CASE WHEN p_max_bytes < 0 THEN 'retention_max_bytes' ELSE 'retention_max_rows' END,
                             CASE WHEN p_max_bytes < 0 THEN p_max_bytes ELSE p_max_rows END, v_new.parent),
            DETAIL = 'A volume limit is a positive number.',
            HINT = 'Pass a positive limit, or 0 to clear the rule.';
    END IF;
    IF p_grace < interval '0' OR isfinite(p_grace) IS false THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid retention_grace %s for table %s', p_grace, v_new.parent),
            DETAIL = 'A grace period is a finite, positive interval.',
            HINT = 'Pass e.g. retention_grace => ''7 days'', or ''0'' to clear it.';
    END IF;
    IF p_max_bytes IS NOT NULL THEN
        v_new.retention_max_bytes := nullif(p_max_bytes, 0);
    END IF;
    IF p_max_rows IS NOT NULL THEN
        v_new.retention_max_rows := nullif(p_max_rows, 0);
    END IF;
    IF p_grace IS NOT NULL THEN
        v_new.retention_grace := nullif(p_grace, interval '0');
    END IF;
    RETURN v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._validated_retention_rules(pgpart.config, bigint, bigint, interval) IS
'A policy row with the retention volume rules and grace period set as asked (0 clears), each validated (22023).';

-- source: sql/src/30_plan/export.sql
-- The cold tier's SQL side (docs/cold-tier.md): retention_action 'export'
-- detaches an expired partition (journaled like any retention detach, with
-- 'then' = 'export') and leaves it, detached and readable by name, for the
-- client: only a client can write a Parquet file. The client writes and
-- verifies the file, then pgpart.record_export logs the manifest and drops
-- the table. Nothing here reads table data.

-- pgpart._awaiting_export(parent): the tables that retention (or an
-- export of an attached partition) detached for export and that still wait
-- for it: journal entries still valid (pgpart._journal, state 'awaiting')
-- whose action is 'export', oldest first, with when they were detached and
-- their bound. THE selection of what the exporter may export now: a rule
-- that delays an export (a grace period) belongs here, so the client, the
-- dry run and check() all follow it.
CREATE OR REPLACE FUNCTION pgpart._awaiting_export(p_parent regclass)
RETURNS TABLE (detached regclass, entry bigint, detached_at timestamptz, bound text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.entry, l.logged_at, l.detail ->> 'bound'
        FROM pgpart._journal(p_parent) AS j
        JOIN pgpart.log AS l ON l.id = j.entry
        WHERE j.state = 'awaiting' AND j.then_action = 'export'
          -- the policy's grace period (retention_grace) first
          AND coalesce(pgpart._grace_until(p_parent, j.entry) <= now(), true)
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._awaiting_export(regclass) IS
'Tables detached for export (journal entries still valid, action export) that the client may export now, oldest first (internal).';

-- pgpart._detach_for_export(parent, partition, timeout, retries): detaches
-- PARTITION from PARENT (the lock-bounded plain DETACH of
-- pgpart._detach_partition) with a journal entry whose action is 'export',
-- whatever the policy says: the client calls it once the partition's file
-- is written and verified (Client.export_partition), so an export that
-- fails before leaves the partition attached. Only a leaf owned by the
-- parent's owner: the journal could not name another.
CREATE OR REPLACE FUNCTION pgpart._detach_for_export(
    p_parent regclass,
    p_partition regclass,
    p_timeout interval,
    p_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    v_part record;
BEGIN
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, now());
    PERFORM pgpart._require_owner(p_parent);
    SELECT c.relname, c.relowner, c.relkind, pc.relowner AS parent_owner,
           pg_get_expr(c.relpartbound, 0) AS bound
    INTO v_part
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    JOIN pg_class AS pc ON pc.oid = i.inhparent
    WHERE i.inhrelid = p_partition AND i.inhparent = p_parent AND NOT i.inhdetachpending;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a partition of %s', p_partition, p_parent),
            DETAIL = 'Only an attached partition is detached for export.',
            HINT = 'Pass a partition listed by pgpart.partition_info(parent).';
    END IF;
    IF v_part.relkind <> 'r' OR v_part.bound = 'DEFAULT' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('partition %s cannot be exported', p_partition),
            DETAIL = 'Only a leaf partition with bounds (not a default or sub-partitioned one) is exported.',
            HINT = 'Export the leaves of a sub-partitioned partition one by one.';
    END IF;
    IF v_part.relowner <> v_part.parent_owner THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('partition %s is not owned by the owner of %s', p_partition, p_parent),
            DETAIL = format('It is owned by %I.', pg_get_userbyid(v_part.relowner)),
            HINT = format('ALTER TABLE %s OWNER TO %I; then export it.', p_partition,
                          pg_get_userbyid(v_part.parent_owner));
    END IF;
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent, p_partition) AS l),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- the journal entry first: row-level security admits it only while the
    -- table is a partition of the parent
    PERFORM pgpart._log_journal(
        p_parent, 'detach', p_partition::oid, v_part.relname, v_part.relowner,
        jsonb_build_object('partition_oid', p_partition::oid, 'partition', p_partition::text,
                           'bound', v_part.bound, 'then', 'export'));
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, p_partition);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- a detached partition's values no longer count
END
$body$;

COMMENT ON FUNCTION pgpart._detach_for_export(regclass, regclass, interval, integer) IS
'Detaches a partition whose Parquet file the client has written and verified, journaled for export (plain DETACH under a lock timeout with retries).';

-- pgpart._find_export_awaiting(parent, now_at): code 'detached_awaiting'
-- for tables waiting for their export: SQL retention never exports, so the
-- fix names the client's command.
CREATE OR REPLACE FUNCTION pgpart._find_export_awaiting(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'warning', 'detached_awaiting'::pgpart.finding_code, p_parent, a.detached,
           format('detached by retention since %s; its export to Parquet is still due', a.detached_at),
           format('-- run the client: pgpart export %s --to DIRECTORY (or pgpart maintain with the parquet extra)',
                  p_parent)
    FROM pgpart._awaiting_export(p_parent) AS a
    WHERE p_now_at IS NOT NULL;
END
$body$;

COMMENT ON FUNCTION pgpart._find_export_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check() for tables detached for export whose Parquet file is still to be written (internal).';

-- source: sql/src/30_plan/find_default_rows.sql
-- pgpart._find_default_rows(parent, now_at): codes 'default_rows' (urgent:
-- the default partition holds rows, so every ATTACH scans it under ACCESS
-- EXCLUSIVE and ranges with rows in it cannot be created) and
-- 'default_rows_unknown' (not permitted to read it, it is locked, or
-- reading it would run the owner's code). The read runs under a 10 ms lock
-- timeout, so the check never waits.
-- STABLE: it only reads (a dynamic read of table data, in check()'s snapshot).
CREATE OR REPLACE FUNCTION pgpart._find_default_rows(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_default regclass;
    v_strategy text;
    v_has_rows boolean;
    v_unknown text;  -- why the rows could not be read
BEGIN
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    SELECT c.strategy INTO v_strategy FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT has_table_privilege(v_default, 'SELECT') THEN
        v_unknown := 'not permitted to read it';
    ELSE
        BEGIN
            PERFORM pgpart._guard_owner_code(p_parent, 'read');
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s)', v_default) INTO v_has_rows;
        EXCEPTION
            WHEN lock_not_available THEN
                v_unknown := 'it is locked';
            WHEN insufficient_privilege THEN
                v_unknown := 'reading them would run code of the table''s owner (see the finding on owner code)';
        END;
    END IF;
    IF v_unknown IS NOT NULL THEN
        RETURN QUERY SELECT 'info', 'default_rows_unknown'::pgpart.finding_code, p_parent, v_default,
                        'rows in the default partition unknown: ' || v_unknown, NULL::text;
    ELSIF v_has_rows THEN
        RETURN QUERY SELECT 'urgent', 'default_rows'::pgpart.finding_code, p_parent, v_default,
                        'the default partition holds rows: every new partition scans it under ACCESS EXCLUSIVE, '
                        'and ranges with rows in it cannot be created',
                        -- the move exists for the range grid only: a list value
                        -- needs a partition chosen by hand (add_list_values)
                        CASE WHEN v_strategy = 'range'
                            THEN pgpart._fix_call('CALL pgpart.move_default_rows', p_parent, '', p_now_at) END;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._find_default_rows(regclass, timestamptz) IS
'Findings default_rows and default_rows_unknown of pgpart.check(): rows in the default partition, or why they could not be read (internal).';

-- source: sql/src/30_plan/find_drift.sql
-- pgpart._find_drift(parent): codes 'drift' (what pgpart.reconcile would
-- repair: replica identity, storage parameters, propagated grants,
-- partitioned indexes of sub-partitioned partitions; the fix is the repair
-- statement) and 'grants_refused' (urgent: grants are not propagated under
-- row-level security). Only for a policy with reconcile on. Owners and
-- index tablespaces of plain partitions are left to the owner and
-- index_tablespace checks. The plan reads the catalog only.
-- VOLATILE, as pgpart._reconcile_plan it calls.
CREATE OR REPLACE FUNCTION pgpart._find_drift(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.reconcile) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT CASE WHEN f.action = 'refused' THEN 'urgent' ELSE 'warning' END,
           CASE WHEN f.action = 'refused' THEN 'grants_refused'::pgpart.finding_code
                ELSE 'drift'::pgpart.finding_code END,
           p_parent, f.partition, f.detail,
           CASE WHEN f.action = 'refused'
                THEN pgpart._fix_call('SELECT * FROM pgpart.set_policy', p_parent, ', propagate_grants => false')
                ELSE f.statement || ';' END
    FROM pgpart._reconcile_plan(p_parent, true) AS f
    WHERE f.action NOT IN ('set owner', 'set index tablespace')
       OR (f.action = 'set index tablespace'
           AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = f.partition) = 'p')
    ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._find_drift(regclass) IS
'Findings drift and grants_refused of pgpart.check(): what pgpart.reconcile would repair, or refuses, for a policy with reconcile on (internal).';

-- source: sql/src/30_plan/find_global_unique.sql
-- pgpart._find_global_unique(parent): the findings about global unique
-- constraints (of PARENT, or all; managed by pgpart or not), each cheap
-- (catalog only, no row counted) and each with a fix that makes it go:
--   global_unique_broken     the side table, its unique index or the
--                            parent's triggers are missing, invalid or
--                            disabled: writes are not checked (urgent);
--   global_unique_building   the existing rows are not all copied yet;
--   global_unique_partition  a leaf partition (or the plain table
--                            itself) is not recorded (made or attached
--                            while nothing could record it: its values
--                            are unchecked, urgent);
--   global_unique_detached   a detached table still holds values;
--   global_unique_stale      a partition was dropped while recorded: its
--                            values may still be taken;
--   global_unique_grants     a role that writes the parent lacks rights on
--                            the side table: its writes fail (urgent).
CREATE OR REPLACE FUNCTION pgpart._find_global_unique(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_repair text;
    v_problem text;
    v_table regclass;
BEGIN
    -- constraints of a dropped table (the event trigger could not remove them)
    RETURN QUERY
        SELECT 'urgent', 'global_unique_broken'::pgpart.finding_code, NULL::regclass, NULL::regclass,
               format('global unique constraint %I belongs to a dropped table (OID %s)', g.constraint_name,
                      g.parent::oid),
               concat(CASE WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
                           THEN format('DROP TABLE %s; ', g.side_table) END,
                      format('DELETE FROM pgpart.global_unique WHERE id = %s', g.id))
        FROM pgpart.global_unique AS g
        WHERE p_parent IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.id;
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE (p_parent IS NULL OR g.parent = p_parent) AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.parent, g.constraint_name
    LOOP
        v_repair := format('SELECT * FROM pgpart.add_global_unique(%L, %L, %L, nulls_not_distinct => %s, build => %s)',
                           v_gu.parent::text, v_gu.columns::text, v_gu.constraint_name,
                           CASE WHEN v_gu.nulls_not_distinct THEN 'true' ELSE 'false' END,
                           CASE WHEN v_gu.state = 'valid' THEN 'true' ELSE 'false' END);
        v_problem := CASE
            WHEN NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table)
                THEN 'its side table is gone'
            WHEN NOT EXISTS (SELECT 1 FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid
                             WHERE i.indrelid = v_gu.side_table AND i.indisunique AND i.indisvalid
                               AND ic.relname = v_gu.constraint_name)
                THEN format('its side table %s has no valid unique index %I', v_gu.side_table, v_gu.constraint_name)
            WHEN EXISTS (SELECT 1 FROM unnest(v_gu.columns) AS u (c)
                         WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                                           WHERE a.attrelid = v_gu.parent AND a.attname = u.c AND a.attnum > 0
                                             AND NOT a.attisdropped))
                THEN format('a column of %s was renamed or dropped: writes fail', v_gu.columns::text)
            WHEN v_gu.insert_sql <> pgpart._gu_sql(v_gu, 'insert') OR v_gu.delete_sql <> pgpart._gu_sql(v_gu, 'delete')
                THEN format('its side table was renamed to %s', v_gu.side_table)
            WHEN NOT pgpart._gu_installed(v_gu)
                THEN 'a trigger of it is missing or disabled'
        END;
        IF v_problem IS NOT NULL THEN
            RETURN QUERY SELECT 'urgent', 'global_unique_broken'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('global unique constraint %I on %s is not enforced: %s', v_gu.constraint_name, v_gu.parent,
                       v_problem),
                CASE WHEN v_problem LIKE 'a column of %' THEN
                         format('SELECT pgpart.drop_global_unique(%L, %L); -- then add it again with the columns'' '
                                'new names', v_gu.parent::text, v_gu.constraint_name)
                     WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN v_repair
                     ELSE format('SELECT pgpart.drop_global_unique(%L, %L); %s', v_gu.parent::text,
                                 v_gu.constraint_name, v_repair) END;
            CONTINUE;
        END IF;
        IF v_gu.state = 'building' THEN
            RETURN QUERY SELECT 'warning', 'global_unique_building'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('global unique constraint %I on %s is still building: new writes are checked, '
                       'existing rows are not all copied', v_gu.constraint_name, v_gu.parent),
                format('CALL pgpart.build_global_unique(%L, %L)', v_gu.parent::text, v_gu.constraint_name);
        END IF;
        FOR v_table IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            RETURN QUERY SELECT 'urgent', 'global_unique_partition'::pgpart.finding_code, v_gu.parent, v_table,
                format('%s %s is not recorded by global unique constraint %I: its values are not checked',
                       CASE WHEN v_table = v_gu.parent THEN 'table' ELSE 'partition' END, v_table,
                       v_gu.constraint_name),
                v_repair;
        END LOOP;
        FOR v_table IN
            SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m) EXCEPT SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
        LOOP
            RETURN QUERY SELECT 'warning', 'global_unique_detached'::pgpart.finding_code, v_gu.parent, v_table,
                format('table %s is no longer a partition of %s but its values still count for global unique '
                       'constraint %I', v_table, v_gu.parent, v_gu.constraint_name),
                v_repair;
        END LOOP;
        IF v_gu.stale_since IS NOT NULL THEN
            RETURN QUERY SELECT 'warning', 'global_unique_stale'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('a partition of %s was dropped while attached (%s): its values may still be taken by global '
                       'unique constraint %I', v_gu.parent, v_gu.stale_since, v_gu.constraint_name),
                left(v_repair, -1) || ', prune => true)';
        END IF;
        RETURN QUERY SELECT 'urgent', 'global_unique_grants'::pgpart.finding_code, v_gu.parent, NULL::regclass,
            format('a role that writes %s lacks rights on side table %s of global unique constraint %I: '
                   'its writes fail', v_gu.parent, v_gu.side_table, v_gu.constraint_name),
            string_agg(s.s, '; ')
        FROM pgpart._gu_grant_statements(v_gu) AS s (s)
        HAVING count(*) > 0;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._find_global_unique(regclass) IS
'Findings global_unique_broken, _building, _partition, _detached, _stale and _grants of pgpart.check() (internal).';

-- source: sql/src/30_plan/find_links.sql
-- pgpart._find_foreign_keys(parent): codes 'referenced_by' (a foreign key
-- points at the parent: retention is refused, or DETACH locks the
-- referencing table) and 'references' (the parent points at another table:
-- every ATTACH locks it). Information, no fix.
CREATE OR REPLACE FUNCTION pgpart._find_foreign_keys(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_referenced_retention text;
BEGIN
    SELECT c.referenced_retention INTO v_referenced_retention FROM pgpart.config AS c WHERE c.parent = p_parent;
    RETURN QUERY
    SELECT 'info',
           CASE WHEN con.confrelid = p_parent THEN 'referenced_by'::pgpart.finding_code
                ELSE 'references'::pgpart.finding_code END,
           p_parent, NULL::regclass,
           CASE WHEN con.confrelid = p_parent
                THEN format('referenced by %s (%s): retention is %s', con.conrelid::regclass, con.conname,
                            CASE v_referenced_retention WHEN 'refuse' THEN 'refused'
                                 ELSE 'allowed, and DETACH locks it ACCESS EXCLUSIVE' END)
                ELSE format('references %s (%s): every ATTACH locks it SHARE ROW EXCLUSIVE', con.confrelid::regclass,
                            con.conname) END,
           NULL::text
    FROM pg_constraint AS con
    -- foreign keys out by pg_constraint's index on conrelid, keys in through
    -- pgpart._foreign_keys_in (no index on confrelid: an OR scanned the
    -- whole of pg_constraint once per parent)
    WHERE con.oid IN (SELECT k.oid FROM pg_constraint AS k WHERE k.conrelid = p_parent
                      UNION
                      SELECT k.oid FROM pgpart._foreign_keys_in(p_parent) AS k)
      AND con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = p_parent OR con.confrelid = p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_foreign_keys(regclass) IS
'Findings referenced_by and references of pgpart.check(): foreign keys to and from the parent and the locks they cost (internal).';

-- pgpart._find_publications(parent): code 'published'. A publication
-- includes the parent: a detached partition leaves it, and dropping one is
-- not replicated. Information, no fix.
CREATE OR REPLACE FUNCTION pgpart._find_publications(p_parent regclass)
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
    SELECT 'info', 'published'::pgpart.finding_code, p_parent, NULL::regclass,
           format('published by %I: a detached partition leaves the publication, and dropping it is not replicated',
                  pub.pubname),
           NULL::text
    FROM pg_publication AS pub
    WHERE pub.puballtables
       OR EXISTS (SELECT 1 FROM pg_publication_rel AS pr WHERE pr.prpubid = pub.oid AND pr.prrelid = p_parent)
       OR EXISTS (SELECT 1 FROM pg_publication_namespace AS pn JOIN pg_class AS c ON c.relnamespace = pn.pnnspid
                  WHERE pn.pnpubid = pub.oid AND c.oid = p_parent);
END
$body$;

COMMENT ON FUNCTION pgpart._find_publications(regclass) IS
'Finding published of pgpart.check(): publications that include the parent, where detach and drop behave differently (internal).';

-- source: sql/src/30_plan/find_partitions.sql
-- pgpart._partition_tree(parent): every table and partitioned table below
-- PARENT, at every level, with its owner, grants and effective tablespace.
-- Read from the catalog only (never waits for a lock); the checks on
-- indexes, owners and grants of partitions share it.
CREATE OR REPLACE FUNCTION pgpart._partition_tree(p_parent regclass)
RETURNS TABLE (rel oid, relkind "char", relowner oid, relacl aclitem[], spc oid)
LANGUAGE plpgsql
STABLE
-- a tree is tens of tables, not the default thousand: joins to pg_index
-- and pg_class then take index scans instead of hashing the whole catalog
ROWS 20
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_level oid [] := ARRAY[p_parent::oid];
    v_tree oid [] := ARRAY[]::oid [];
BEGIN
    -- level by level with = ANY (array): index scans of pg_inherits and
    -- pg_class, so the cost follows the tree, not the catalog (a recursive
    -- CTE is estimated at thousands of rows and planned as sequential
    -- scans: check() over N parents then cost N times the whole catalog)
    LOOP
        v_level := array(SELECT i.inhrelid FROM pg_inherits AS i WHERE i.inhparent = ANY (v_level));
        EXIT WHEN cardinality(v_level) = 0;
        v_tree := v_tree || v_level;
    END LOOP;
    RETURN QUERY
    SELECT c.oid, c.relkind, c.relowner, c.relacl, coalesce(nullif(c.reltablespace, 0), d.dattablespace)
    FROM pg_class AS c
    CROSS JOIN pg_database AS d
    WHERE c.oid = ANY (v_tree) AND c.relkind IN ('r', 'p') AND d.datname = current_database();
END
$body$;

COMMENT ON FUNCTION pgpart._partition_tree(regclass) IS
'Every table and partitioned table below a parent, at every level, with owner, grants and effective tablespace (internal).';

-- pgpart._find_index_tablespaces(parent): code 'index_tablespace'. An
-- index of a partition (at any level) in another tablespace than its
-- partition: moving a partition moves its indexes, an index left behind
-- fills the tablespace the partition was moved out of.
CREATE OR REPLACE FUNCTION pgpart._find_index_tablespaces(p_parent regclass)
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
    SELECT 'warning', 'index_tablespace'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('index %s is in tablespace %s, its partition in %s', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t
                   WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), d.dattablespace)),
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)),
           format('ALTER INDEX %s SET TABLESPACE %I;', ix.indexrelid::regclass,
                  (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc))
    FROM pgpart._partition_tree(p_parent) AS p
    JOIN pg_index AS ix ON ix.indrelid = p.rel
    JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    CROSS JOIN pg_database AS d
    WHERE d.datname = current_database() AND p.relkind = 'r'
      AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> p.spc;
END
$body$;

COMMENT ON FUNCTION pgpart._find_index_tablespaces(regclass) IS
'Finding index_tablespace of pgpart.check(): indexes of partitions in another tablespace than their partition (internal).';

-- pgpart._find_partition_owners(parent): code 'owner_differs'. A
-- partition (at any level) owned by another role than the parent: pgpart
-- acts as the parent's owner, and such a partition escapes its grants.
CREATE OR REPLACE FUNCTION pgpart._find_partition_owners(p_parent regclass)
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
    SELECT 'warning', 'owner_differs'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('owner %I differs from the parent''s owner %I', pg_get_userbyid(p.relowner),
                  pg_get_userbyid(pc.relowner)),
           format('ALTER TABLE %s OWNER TO %I;', p.rel::regclass, pg_get_userbyid(pc.relowner))
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND p.relowner <> pc.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_partition_owners(regclass) IS
'Finding owner_differs of pgpart.check(): partitions owned by another role than their parent (internal).';

-- pgpart._find_rls_grants(parent): code 'rls_bypass' (urgent). On a
-- parent with row-level security, a role granted a partition directly reads
-- it without the parent's policies (they apply through the parent only).
CREATE OR REPLACE FUNCTION pgpart._find_rls_grants(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    -- most parents have no row-level security: no need to walk their tree
    IF NOT coalesce((SELECT pc.relrowsecurity FROM pg_class AS pc WHERE pc.oid = p_parent), false) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT DISTINCT 'urgent', 'rls_bypass'::pgpart.finding_code, p_parent, p.rel::regclass,
           format('role %s may read partition %s directly, bypassing the row-level security of %s',
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  p.rel::regclass, p_parent),
           format('REVOKE ALL ON %s FROM %s;', p.rel::regclass,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
    FROM pgpart._partition_tree(p_parent) AS p CROSS JOIN LATERAL aclexplode(p.relacl) AS a
    CROSS JOIN pg_class AS pc
    WHERE pc.oid = p_parent AND pc.relrowsecurity AND a.grantee <> p.relowner;
END
$body$;

COMMENT ON FUNCTION pgpart._find_rls_grants(regclass) IS
'Finding rls_bypass of pgpart.check(): grants on partitions that bypass the row-level security of their parent (internal).';

-- pgpart._find_invalid_indexes(parent): code 'invalid_index'. Invalid
-- indexes of the parent or of a partition at any level (a failed CREATE
-- INDEX CONCURRENTLY, a partitioned index missing a partition's index):
-- they cost writes and serve no read. The fix depends on why.
CREATE OR REPLACE FUNCTION pgpart._find_invalid_indexes(p_parent regclass)
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
    SELECT 'warning', 'invalid_index'::pgpart.finding_code, p_parent, ix.indrelid::regclass,
           format('index %s is invalid', ix.indexrelid::regclass),
           CASE WHEN ic.relkind = 'I'
                THEN format('-- create the missing partition indexes, then ALTER INDEX %s ATTACH PARTITION ...',
                            ix.indexrelid::regclass)
                -- a failed unique build fails again while its duplicates are there
                WHEN ix.indisunique
                THEN format('DROP INDEX CONCURRENTLY %s;  -- remove the duplicate keys, then create it again',
                            ix.indexrelid::regclass)
                ELSE format('REINDEX INDEX CONCURRENTLY %s;', ix.indexrelid::regclass) END
    FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
    -- = ANY (array): an index scan of pg_index per table of the tree (an OR
    -- with a subquery scanned the whole of pg_index once per parent)
    WHERE ix.indrelid = ANY (p_parent::oid || array(SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p))
      AND NOT ix.indisvalid;
END
$body$;

COMMENT ON FUNCTION pgpart._find_invalid_indexes(regclass) IS
'Finding invalid_index of pgpart.check(): invalid indexes of the parent or of its partitions, each with the fix for its cause (internal).';

-- pgpart._find_hash_remainders(parent): code 'hash_remainder_missing'
-- (urgent). A HASH-partitioned table (the parent, or a sub-partitioned
-- partition) missing a remainder: rows that hash there cannot be inserted.
CREATE OR REPLACE FUNCTION pgpart._find_hash_remainders(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
BEGIN
    -- neither HASH itself nor sub-partitioned (the common case): nothing
    -- to walk
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table AS pt WHERE pt.partrelid = p_parent AND pt.partstrat = 'h')
       AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
                       WHERE i.inhparent = p_parent AND c.relkind = 'p') THEN
        RETURN;
    END IF;
    RETURN QUERY
    -- the partitioned tables of the tree: pgpart._partition_tree reads it
    -- by index (a recursive CTE here scanned pg_inherits once per parent)
    WITH tree AS (
        SELECT p_parent::oid AS rel
        UNION ALL
        SELECT p.rel FROM pgpart._partition_tree(p_parent) AS p WHERE p.relkind = 'p'
    ),
    kids AS (
        SELECT t.rel,
               (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer AS modulus,
               (regexp_match(p.bound, 'remainder (\d+)'))[1]::integer AS remainder
        FROM tree AS t
        JOIN pg_partitioned_table AS pt ON pt.partrelid = t.rel AND pt.partstrat = 'h'
        CROSS JOIN LATERAL pgpart._partitions(t.rel::regclass) AS p
    ),
    missing AS (
        SELECT m.rel, m.modulus, g.remainder
        FROM (SELECT k.rel, max(k.modulus) AS modulus FROM kids AS k GROUP BY k.rel) AS m
        CROSS JOIN LATERAL generate_series(0, m.modulus - 1) AS g (remainder)
        WHERE NOT EXISTS (SELECT 1 FROM kids AS k WHERE k.rel = m.rel AND g.remainder % k.modulus = k.remainder)
    )
    SELECT 'urgent', 'hash_remainder_missing'::pgpart.finding_code, p_parent,
           CASE WHEN x.rel <> p_parent THEN x.rel::regclass END,
           format('%s has no hash partition for remainder %s of modulus %s: rows hashing there cannot be inserted',
                  x.rel::regclass, x.remainder, x.modulus),
           CASE WHEN x.rel = p_parent
                THEN pgpart._fix_call('SELECT * FROM pgpart.create_hash_partitions', p_parent, format(', %s', x.modulus))
                ELSE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s);',
                            n.nspname, pgpart._relation_name(c.relname, '_h' || x.remainder), x.rel::regclass,
                            x.modulus, x.remainder) END
    FROM missing AS x
    JOIN pg_class AS c ON c.oid = x.rel
    JOIN pg_namespace AS n ON n.oid = c.relnamespace;
END
$body$;

COMMENT ON FUNCTION pgpart._find_hash_remainders(regclass) IS
'Finding hash_remainder_missing of pgpart.check(): HASH-partitioned tables (the parent or a partition) missing a remainder (internal).';

-- source: sql/src/30_plan/find_policy.sql
-- pgpart._find_event_trigger(parent): code 'event_trigger_inactive'.
-- Without the event trigger, partitions made or changed by other tools come
-- in step only through maintenance or pgpart.reconcile; worth saying only
-- when some policy (PARENT's, or any when NULL) relies on reconcile.
CREATE OR REPLACE FUNCTION pgpart._find_event_trigger(p_parent regclass)
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
CREATE OR REPLACE FUNCTION pgpart._find_orphan_policies(p_parent regclass)
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
CREATE OR REPLACE FUNCTION pgpart._find_owner_code(p_parent regclass)
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
CREATE OR REPLACE FUNCTION pgpart._find_last_error(p_parent regclass, p_now_at timestamptz)
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
CREATE OR REPLACE FUNCTION pgpart._find_premake(p_parent regclass)
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

-- source: sql/src/30_plan/find_range.sql
-- pgpart._range_policy_walkable(parent): the policy row of PARENT when it is
-- a RANGE parent whose premake is in bounds, else NULL. The runway, gap and
-- off-grid checks look only at those: the premake check reports the others
-- (and maintenance refuses them), so no check walks an unbounded premake.
CREATE OR REPLACE FUNCTION pgpart._range_policy_walkable(p_parent regclass)
RETURNS pgpart.config
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT c.* FROM pgpart.config AS c
    WHERE c.parent = p_parent AND c.strategy = 'range' AND pgpart._premake_in_bounds(c.premake);
$body$;

COMMENT ON FUNCTION pgpart._range_policy_walkable(regclass) IS
'The policy row of a RANGE parent whose premake is in bounds, else NULL: what the runway, gap and off-grid checks look at (internal).';

-- pgpart._find_runway(parent, now_at): codes 'no_current_partition'
-- (urgent: no partition holds the current key), 'runway_short' (the
-- partitions do not reach premake slots past the one of now) and
-- 'runway_unknown' (the highest integer key could not be read: locked, or
-- not permitted). RANGE parents with a premake in bounds only (the premake
-- check reports the others). The highest key is read under a 10 ms lock
-- timeout, so the check never waits.
-- VOLATILE, as pgpart._max_key it calls (dynamic reads of table data).
CREATE OR REPLACE FUNCTION pgpart._find_runway(p_parent regclass, p_now_at timestamptz)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_now numeric;
    v_reach numeric;
BEGIN
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    -- outside the block below: a grid that cannot be read fails the check
    v_grid := pgpart._grid(p_parent, p_now_at);
    BEGIN
        v_now := coalesce(v_grid.now_coord, coalesce(pgpart._max_key(p_parent, v_cfg.key_column, interval '10ms'), 0));
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_now);
        FOR i IN 1 .. v_cfg.premake LOOP
            v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
        END LOOP;
        v_reach := pgpart._reach(p_parent, v_now);
        IF v_reach < v_slot.hi THEN
            RETURN QUERY SELECT
                CASE WHEN v_reach <= v_now THEN 'urgent' ELSE 'warning' END,
                CASE WHEN v_reach <= v_now THEN 'no_current_partition'::pgpart.finding_code
                     ELSE 'runway_short'::pgpart.finding_code END,
                p_parent, NULL::regclass,
                CASE WHEN v_reach <= v_now
                     THEN format('no partition holds the current key (%s): inserts fail or go to the default partition',
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now, v_cfg.epoch_unit))
                     ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach, v_cfg.epoch_unit),
                                 pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi, v_cfg.epoch_unit)) END,
                pgpart._fix_call('SELECT * FROM pgpart.create_range_partitions', p_parent,
                                 format(', %L', v_cfg.partition_interval), p_now_at);
        END IF;
    EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
        RETURN QUERY SELECT 'info', 'runway_unknown'::pgpart.finding_code, p_parent, NULL::regclass,
                        'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._find_runway(regclass, timestamptz) IS
'Findings no_current_partition, runway_short and runway_unknown of pgpart.check(): the RANGE partitions against the premake runway (internal).';

-- pgpart._find_gaps(parent, now_at): code 'gap'. Gaps between consecutive
-- RANGE partitions: rows there fail or go to the default partition. As the
-- runway check, only for a premake in bounds (maintenance refuses the rest).
CREATE OR REPLACE FUNCTION pgpart._find_gaps(p_parent regclass, p_now_at timestamptz)
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
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning', 'gap'::pgpart.finding_code, p_parent, g.next_part,
           format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi, v_cfg.epoch_unit),
                  pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo, v_cfg.epoch_unit), g.next_part),
           pgpart._fix_call('SELECT * FROM pgpart.create_range_partitions', p_parent,
                            format(', %L', v_cfg.partition_interval), p_now_at)
    FROM (
        SELECT p.upper_coord AS hi,
               lead(p.lower_coord) OVER (ORDER BY p.lower_coord) AS next_lo,
               lead(p.partition) OVER (ORDER BY p.lower_coord) AS next_part
        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default
    ) AS g
    WHERE g.next_lo > g.hi;
END
$body$;

COMMENT ON FUNCTION pgpart._find_gaps(regclass, timestamptz) IS
'Finding gap of pgpart.check(): a key range between two consecutive RANGE partitions that no partition holds (internal).';

-- pgpart._find_off_grid(parent, now_at): code 'off_grid'. RANGE partitions
-- whose bounds are not one slot of the grid: respected by every verb, but
-- worth knowing (no fix). Only for a premake in bounds, as the runway check.
CREATE OR REPLACE FUNCTION pgpart._find_off_grid(p_parent regclass, p_now_at timestamptz)
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
    v_grid record;
BEGIN
    v_cfg := pgpart._range_policy_walkable(p_parent);
    IF v_cfg.parent IS NULL THEN
        RETURN;
    END IF;
    v_grid := pgpart._grid(p_parent, p_now_at);
    RETURN QUERY
    SELECT 'info', 'off_grid'::pgpart.finding_code, p_parent, p.partition,
           format('partition off the grid of interval %L: its bounds are not one slot', v_cfg.partition_interval),
           NULL::text
    FROM pgpart._partitions(p_parent) AS p
    CROSS JOIN LATERAL pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, p.lower_coord) AS s
    WHERE NOT p.is_default AND p.lower_coord > '-Infinity'::numeric
      AND (s.lo <> p.lower_coord OR (s.hi <> p.upper_coord AND p.upper_coord <> 'Infinity'::numeric));
END
$body$;

COMMENT ON FUNCTION pgpart._find_off_grid(regclass, timestamptz) IS
'Finding off_grid of pgpart.check(): RANGE partitions whose bounds are not one slot of the grid (internal).';

-- source: sql/src/30_plan/find_retention.sql
-- pgpart._find_detach_pending(parent): code 'detach_pending'. A DETACH
-- ... CONCURRENTLY was interrupted: the partition stays half detached until
-- FINALIZE (maintenance finishes it too).
CREATE OR REPLACE FUNCTION pgpart._find_detach_pending(p_parent regclass)
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
    SELECT 'warning', 'detach_pending'::pgpart.finding_code, p_parent, p.partition,
           'detach pending: an interrupted DETACH ... CONCURRENTLY',
           format('ALTER TABLE %s DETACH PARTITION %s FINALIZE;', p_parent, p.partition)
    -- straight from pg_inherits by its index, without deparsing every
    -- partition's bound as pgpart._partitions does (PostgreSQL allows one
    -- pending detach per parent: no order to keep)
    FROM (SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
          WHERE i.inhparent = p_parent AND i.inhdetachpending AND c.relkind IN ('r', 'p', 'f')) AS p;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detach_pending(regclass) IS
'Finding detach_pending of pgpart.check(): partitions left half detached by an interrupted DETACH CONCURRENTLY (internal).';

-- pgpart._find_detached_awaiting(parent, now_at): code 'detached_awaiting'.
-- Tables that retention detached and whose archive or drop is due (the run
-- was interrupted between its steps, or no run came since the end of the
-- grace period): pgpart._follow_ups_due.
CREATE OR REPLACE FUNCTION pgpart._find_detached_awaiting(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'warning', 'detached_awaiting'::pgpart.finding_code, p_parent, a.detached,
           format('detached by retention; its %s is still due (since %s)', a.then_action, a.due_at),
           pgpart._fix_call('CALL pgpart.detach_and_archive_proc', p_parent, '', p_now_at)
    FROM pgpart._follow_ups_due(p_parent, p_now_at) AS a;
END
$body$;

COMMENT ON FUNCTION pgpart._find_detached_awaiting(regclass, timestamptz) IS
'Finding detached_awaiting of pgpart.check(): tables detached by retention whose archive or drop is still due (internal).';

-- pgpart._find_journal(parent, now_at): code 'journal_stale'. Retention
-- journal entries no longer valid (the table was dropped, renamed or
-- reattached by hand): retention discards them, never acts on them.
CREATE OR REPLACE FUNCTION pgpart._find_journal(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'info', 'journal_stale'::pgpart.finding_code, p_parent, j.detached::regclass,
           format('retention journal entry void: %s', j.problem),
           pgpart._fix_call('CALL pgpart.detach_and_archive_proc', p_parent, '', p_now_at)
    FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale';
END
$body$;

COMMENT ON FUNCTION pgpart._find_journal(regclass, timestamptz) IS
'Finding journal_stale of pgpart.check(): retention journal entries no longer valid, which retention discards (internal).';

-- pgpart._find_in_grace(parent, now_at): code 'retention_grace'. Tables
-- retention detached whose archive or drop waits for the end of the
-- policy's grace period (pgpart._in_grace): still readable by name, and
-- pgpart.reattach_partition brings one back meanwhile. Information only:
-- no fix (maintenance finishes them when they are due).
CREATE OR REPLACE FUNCTION pgpart._find_in_grace(p_parent regclass, p_now_at timestamptz)
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
    SELECT 'info', 'retention_grace'::pgpart.finding_code, p_parent, g.detached,
           format('detached by retention at %s; its %s waits for the grace period until %s '
                  '(to keep it: SELECT * FROM pgpart.reattach_partition(%L, %L))',
                  g.detached_at, g.then_action, g.due_at, p_parent::text, g.detached::text),
           NULL::text
    FROM pgpart._in_grace(p_parent, p_now_at) AS g;
END
$body$;

COMMENT ON FUNCTION pgpart._find_in_grace(regclass, timestamptz) IS
'Finding retention_grace of pgpart.check(): tables detached by retention waiting for the end of their grace period before their archive or drop (internal).';

-- source: sql/src/30_plan/global_unique.sql
-- Global unique constraints, the planning and upkeep layer
-- (docs/global-unique.md): installing the triggers, copying existing values
-- into the side table, keeping the set of recorded tables in step with the
-- partition tree, and the grants a writer needs on the side table.

-- pgpart._gu_statement_triggers(constraint, table): the constraint's
-- three statement triggers on TABLE, where missing: AFTER INSERT, UPDATE
-- and DELETE, FOR EACH STATEMENT with transition tables (PostgreSQL allows
-- one event per trigger with transition tables, and does not clone
-- statement triggers to partitions, so every table of the tree gets its
-- own: a statement fires only those of the table it names). CREATE
-- TRIGGER locks TABLE SHARE ROW EXCLUSIVE, under the caller's lock
-- timeout. Returns how many it created.
CREATE OR REPLACE FUNCTION pgpart._gu_statement_triggers(p_gu pgpart.global_unique, p_table regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_event text;
    v_count integer := 0;
BEGIN
    FOREACH v_event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger AS t
                       WHERE t.tgrelid = p_table AND t.tgname = format('pgpart_gu_%s_%s', p_gu.id, v_event)) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION pgpart._gu_row(%L)',
                           format('pgpart_gu_%s_%s', p_gu.id, v_event), upper(v_event), p_table,
                           CASE v_event WHEN 'insert' THEN 'NEW TABLE AS pgpart_new'
                                        WHEN 'update' THEN 'OLD TABLE AS pgpart_old NEW TABLE AS pgpart_new'
                                        ELSE 'OLD TABLE AS pgpart_old' END,
                           p_gu.id);
            v_count := v_count + 1;
        END IF;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_statement_triggers(pgpart.global_unique, regclass) IS
'Creates the missing statement triggers (insert, update, delete, with transition tables) of a global unique constraint on one table (internal).';

-- pgpart._gu_tables(constraint): the tables that carry the constraint's
-- statement triggers: the parent, every partitioned table of its tree,
-- every recorded table (pgpart._gu_marked: the leaf partitions, and
-- detached tables whose values still count until they are released), and
-- any other table still carrying them (a detached partitioned table).
CREATE OR REPLACE FUNCTION pgpart._gu_tables(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT p_gu.parent
        UNION
        SELECT t.relid::regclass FROM pg_partition_tree(p_gu.parent) AS t JOIN pg_class AS c ON c.oid = t.relid
        WHERE c.relkind = 'p'
        UNION
        SELECT m.m FROM pgpart._gu_marked(p_gu) AS m (m)
        UNION
        -- a partitioned table detached while its triggers stayed (until pgpart._gu_sync drops them)
        SELECT t.tgrelid::regclass FROM pg_trigger AS t
        WHERE t.tgname = format('pgpart_gu_%s_insert', p_gu.id) AND t.tgfoid = 'pgpart._gu_row()'::regprocedure
        ORDER BY 1;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_tables(pgpart.global_unique) IS
'The tables carrying a global unique constraint''s statement triggers: parent, partitioned tables of its tree, recorded tables (internal).';

-- pgpart._gu_install(constraint): the statement triggers on the parent,
-- on every partitioned table of its tree and on every recorded table,
-- where missing (a leaf partition gets them with its TRUNCATE trigger,
-- pgpart._gu_mark). CREATE TRIGGER locks each table SHARE ROW EXCLUSIVE
-- (under the caller's lock timeout): writers wait that long at most.
-- Returns how many triggers it created.
CREATE OR REPLACE FUNCTION pgpart._gu_install(p_gu pgpart.global_unique)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN (SELECT coalesce(sum(pgpart._gu_statement_triggers(p_gu, t.t)), 0)::integer
            FROM pgpart._gu_tables(p_gu) AS t (t));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_install(pgpart.global_unique) IS
'Creates the missing statement triggers of a global unique constraint on its parent, the partitioned tables of its tree and its recorded tables (internal).';

-- pgpart._gu_installed(constraint): whether every table that must carry
-- the constraint's statement triggers (pgpart._gu_tables) has all three,
-- enabled: otherwise some writes are not checked (check():
-- global_unique_broken, fixed by add_global_unique, which calls
-- pgpart._gu_install).
CREATE OR REPLACE FUNCTION pgpart._gu_installed(p_gu pgpart.global_unique)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN NOT EXISTS (
        SELECT 1 FROM pgpart._gu_tables(p_gu) AS t (t)
        CROSS JOIN unnest(ARRAY['insert', 'update', 'delete']) AS e (e)
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger AS tr
                          WHERE tr.tgrelid = t.t AND tr.tgname = format('pgpart_gu_%s_%s', p_gu.id, e.e)
                            AND tr.tgenabled <> 'D' AND tr.tgfoid = 'pgpart._gu_row()'::regprocedure));
END
$body$;

COMMENT ON FUNCTION pgpart._gu_installed(pgpart.global_unique) IS
'Whether every table that must carry a global unique constraint''s statement triggers has them, enabled (internal).';

-- pgpart._gu_mark(constraint, table): a leaf partition's statement
-- triggers (where missing) and its TRUNCATE trigger, whose name marks the
-- table as recorded in the side table.
CREATE OR REPLACE FUNCTION pgpart._gu_mark(p_gu pgpart.global_unique, p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    PERFORM pgpart._gu_statement_triggers(p_gu, p_table);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION pgpart._gu_truncate(%L)',
                   format('pgpart_gu_%s_truncate', p_gu.id), p_table, p_gu.id);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_mark(pgpart.global_unique, regclass) IS
'Creates the statement triggers and the TRUNCATE trigger of a global unique constraint on a leaf partition, which marks it as recorded (internal).';

-- pgpart._gu_unmark(constraint, table): drops every trigger of the
-- constraint on TABLE (a detached table once its values are released, or
-- the constraint dropped). DROP TRIGGER locks TABLE ACCESS EXCLUSIVE.
CREATE OR REPLACE FUNCTION pgpart._gu_unmark(p_gu pgpart.global_unique, p_table regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_trigger name;
BEGIN
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND NOT t.tgisinternal
          AND t.tgname IN (format('pgpart_gu_%s_insert', p_gu.id), format('pgpart_gu_%s_update', p_gu.id),
                           format('pgpart_gu_%s_delete', p_gu.id), format('pgpart_gu_%s_truncate', p_gu.id))
        ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, p_table);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_unmark(pgpart.global_unique, regclass) IS
'Drops every trigger of a global unique constraint on one table (internal).';

-- pgpart._gu_uninstall(constraint): drops every trigger of the constraint,
-- on every table carrying one (pgpart.drop_global_unique).
CREATE OR REPLACE FUNCTION pgpart._gu_uninstall(p_gu pgpart.global_unique)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN SELECT t.t FROM pgpart._gu_tables(p_gu) AS t (t) LOOP
        PERFORM pgpart._gu_unmark(p_gu, v_table);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_uninstall(pgpart.global_unique) IS
'Drops every trigger of a global unique constraint, on every table carrying one (internal).';

-- pgpart._gu_marked(constraint): every table carrying the constraint's
-- TRUNCATE trigger, attached or not: the tables whose values the side table
-- holds (catalog truth, no list kept anywhere).
CREATE OR REPLACE FUNCTION pgpart._gu_marked(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT t.tgrelid::regclass FROM pg_trigger AS t
        WHERE t.tgname = format('pgpart_gu_%s_truncate', p_gu.id)
          AND t.tgfoid = 'pgpart._gu_truncate()'::regprocedure
        ORDER BY t.tgrelid;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_marked(pgpart.global_unique) IS
'The tables carrying a global unique constraint''s TRUNCATE trigger, i.e. whose values its side table holds (internal).';

-- pgpart._gu_leaves(constraint): the leaf partitions (tables) of the parent;
-- for a plain table about to be converted (not a partition: pg_partition_tree
-- lists nothing for it) the table itself.
CREATE OR REPLACE FUNCTION pgpart._gu_leaves(p_gu pgpart.global_unique)
RETURNS SETOF regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        SELECT t.relid::regclass FROM pg_partition_tree(p_gu.parent) AS t JOIN pg_class AS c ON c.oid = t.relid
        WHERE t.isleaf AND c.relkind = 'r'
        UNION ALL
        SELECT c.oid::regclass FROM pg_class AS c
        WHERE c.oid = p_gu.parent AND c.relkind = 'r' AND NOT c.relispartition
        ORDER BY 1;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_leaves(pgpart.global_unique) IS
'The leaf partitions of a global unique constraint''s parent, or the parent itself when it is a plain table (internal).';

-- pgpart._gu_copy(constraint, table, from_block, to_block, missing_only):
-- copies the values of TABLE's rows (only pages [from, to) when given; with
-- MISSING_ONLY, the values of any row of the parent that the side table
-- lacks) into the side table with ON CONFLICT DO NOTHING, so a value a
-- writer recorded meanwhile is no error. Each value that was already there
-- is then counted in the parent: more than one row holding it is a
-- duplicate. Returns the first five duplicates as text (empty: none).
-- ON CONFLICT waits for an uncommitted writer of the same value, so a
-- conflict is decided on committed rows only. Online (a page range or
-- MISSING_ONLY) the rows read are locked FOR SHARE: a concurrent DELETE or
-- UPDATE of one waits for the batch, so its trigger then meets the copied
-- entry (without the lock it could delete nothing before the copy and leave
-- a stale entry behind).
CREATE OR REPLACE FUNCTION pgpart._gu_copy(
    p_gu pgpart.global_unique,
    p_table regclass,
    p_from bigint,
    p_to bigint,
    p_missing_only boolean
)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cols text := (SELECT string_agg(quote_ident(c), ', ' ORDER BY n)
                    FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n));
    v_where text [] := ARRAY[]::text [];
    v_row jsonb;
    v_n bigint;
    v_duplicates text [] := ARRAY[]::text [];
BEGIN
    IF NOT p_gu.nulls_not_distinct THEN
        v_where := v_where || array(SELECT format('t.%I IS NOT NULL', c) FROM unnest(p_gu.columns) AS u (c));
    END IF;
    IF p_from IS NOT NULL THEN
        v_where := v_where || format('t.ctid >= ''(%s,0)''::tid AND t.ctid < ''(%s,0)''::tid', p_from, p_to);
    END IF;
    IF p_missing_only THEN
        v_where := v_where || format(
            'NOT EXISTS (SELECT 1 FROM %s AS s WHERE %s)', p_gu.side_table,
            (SELECT string_agg(format('(s.%1$I = t.%1$I OR (s.%1$I IS NULL AND t.%1$I IS NULL))', c), ' AND ')
             FROM unnest(p_gu.columns) AS u (c)));
    END IF;
    FOR v_row IN EXECUTE format(
        'WITH src AS MATERIALIZED (SELECT %2$s FROM %3$s AS t%4$s), '
        'ins AS (INSERT INTO %1$s (%2$s) SELECT %2$s FROM src ON CONFLICT DO NOTHING RETURNING %2$s) '
        'SELECT to_jsonb(d) FROM (SELECT %2$s FROM src EXCEPT ALL SELECT %2$s FROM ins) AS d',
        p_gu.side_table, v_cols,
        CASE WHEN p_missing_only THEN p_gu.parent::text ELSE 'ONLY ' || p_table::text END,
        CASE WHEN cardinality(v_where) > 0 THEN ' WHERE ' || array_to_string(v_where, ' AND ') ELSE '' END
        -- online (writers at work): copy only rows still live, and keep them
        -- so until commit, so that a writer deleting or changing one waits
        -- and then releases the entry just copied, never leaving it stale
        || CASE WHEN p_from IS NOT NULL OR p_missing_only THEN ' FOR SHARE OF t' ELSE '' END)
    LOOP
        EXECUTE pgpart._gu_sql(p_gu, 'count_json') USING v_row INTO v_n;
        IF v_n > 1 THEN
            v_duplicates := v_duplicates || format(
                '(%s)=(%s)', v_cols,
                (SELECT string_agg(coalesce(v_row ->> c, 'null'), ', ' ORDER BY n)
                 FROM unnest(p_gu.columns) WITH ORDINALITY AS u (c, n)));
            EXIT WHEN cardinality(v_duplicates) >= 5;
        END IF;
    END LOOP;
    RETURN v_duplicates;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_copy(pgpart.global_unique, regclass, bigint, bigint, boolean) IS
'Copies a table''s values (a page range, or only the parent''s missing ones) into a global unique constraint''s side table; returns the first five duplicates found (internal).';

-- pgpart._gu_raise_duplicates(constraint, duplicates): 23505 naming the
-- constraint and the first duplicates, when there are any.
CREATE OR REPLACE FUNCTION pgpart._gu_raise_duplicates(p_gu pgpart.global_unique, p_duplicates text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF cardinality(p_duplicates) > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'unique_violation',
            MESSAGE = format('could not build global unique constraint %I on %s: duplicate values',
                             p_gu.constraint_name, p_gu.parent),
            DETAIL = format('Duplicated (first %s): %s.', cardinality(p_duplicates),
                            array_to_string(p_duplicates, '; ')),
            HINT = format('Remove or change the duplicate rows, then build again: CALL pgpart.build_global_unique(%L, %L); '
                          'or SELECT pgpart.drop_global_unique(%L, %L).',
                          p_gu.parent::text, p_gu.constraint_name, p_gu.parent::text, p_gu.constraint_name),
            CONSTRAINT = p_gu.constraint_name,
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_gu.parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_gu.parent);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_raise_duplicates(pgpart.global_unique, text[]) IS
'Raises 23505 naming a global unique constraint and its first duplicate values, when there are any (internal).';

-- pgpart._gu_sync(parent): brings every global unique constraint of PARENT
-- in step with its partition tree, whoever changed it: a leaf partition not
-- yet recorded (made or attached by hand, or by pgpart with the event
-- triggers off) gets its TRUNCATE trigger and its values copied (23505 when
-- one duplicates another partition's: the ATTACH then fails as it should);
-- a partitioned table new in the tree gets its statement triggers; a
-- recorded table that is no longer in the tree (detached) has its values
-- released and its triggers dropped. Called by the event trigger and by
-- pgpart's own attach and detach paths. Returns how many tables changed.
CREATE OR REPLACE FUNCTION pgpart._gu_sync(p_parent regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_table regclass;
    v_count integer := 0;
BEGIN
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent = p_parent AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
        ORDER BY g.id
    LOOP
        -- a partitioned table attached or made in the tree: its statement triggers
        FOR v_table IN
            SELECT t.relid::regclass FROM pg_partition_tree(p_parent) AS t JOIN pg_class AS c ON c.oid = t.relid
            WHERE c.relkind = 'p' ORDER BY t.relid
        LOOP
            v_count := v_count + least(pgpart._gu_statement_triggers(v_gu, v_table), 1);
        END LOOP;
        FOR v_table IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
            EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            -- writing the side table runs its code: refused (42501) when
            -- that would run an untrusted role's code with our rights
            PERFORM pgpart._guard_owner_code(v_gu.side_table, 'move');
            PERFORM pgpart._gu_mark(v_gu, v_table);
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_table, NULL, NULL, false));
            v_count := v_count + 1;
        END LOOP;
        FOR v_table IN
            SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
            EXCEPT SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
        LOOP
            -- the old table of a conversion, between pgpart._gu_rebind and
            -- its ATTACH in the same transaction: its values stay
            CONTINUE WHEN v_gu.build ->> 'rebind_xid' = pg_current_xact_id_if_assigned()::text
                AND v_table::oid = (v_gu.build ->> 'rebind')::oid;
            PERFORM pgpart._guard_owner_code(v_gu.side_table, 'move');
            PERFORM pgpart._gu_forget(v_gu, v_table);
            PERFORM pgpart._gu_unmark(v_gu, v_table);
            v_count := v_count + 1;
        END LOOP;
        -- a partitioned table detached: its statement triggers go (its
        -- leaves were released above)
        FOR v_table IN
            SELECT t.tgrelid::regclass FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
            WHERE t.tgname = format('pgpart_gu_%s_insert', v_gu.id) AND c.relkind = 'p'
            EXCEPT SELECT p.relid::regclass FROM pg_partition_tree(p_parent) AS p
        LOOP
            PERFORM pgpart._gu_unmark(v_gu, v_table);
            v_count := v_count + 1;
        END LOOP;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sync(regclass) IS
'Brings the global unique constraints of a parent in step with its partition tree: records new leaf partitions, releases the values of detached ones (internal).';

-- pgpart._gu_sync_tree(rel): pgpart._gu_sync for REL and every partitioned
-- table above it (a constraint may sit on any level). Cheap when no
-- constraint exists.
CREATE OR REPLACE FUNCTION pgpart._gu_sync_tree(p_rel regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count integer := 0;
    v_parent regclass;
BEGIN
    FOR v_parent IN
        SELECT DISTINCT g.parent FROM pgpart.global_unique AS g
        WHERE g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_rel) AS a (relid))
        ORDER BY g.parent
    LOOP
        v_count := v_count + pgpart._gu_sync(v_parent);
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sync_tree(regclass) IS
'pgpart._gu_sync for a relation and every partitioned table above it (internal).';

-- pgpart._gu_grant_statements(constraint): the GRANTs a role that writes
-- the parent is missing on the side table (the triggers run with the
-- writer's rights): INSERT for INSERT; SELECT and DELETE for DELETE and
-- TRUNCATE; all three for UPDATE (of the table or of one of the columns).
-- Direct grants only, as PostgreSQL lists them in the ACLs.
CREATE OR REPLACE FUNCTION pgpart._gu_grant_statements(p_gu pgpart.global_unique)
RETURNS SETOF text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY
        WITH parent_acl AS (
            SELECT a.grantee, a.privilege_type
            FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
            WHERE c.oid = p_gu.parent AND a.grantee <> c.relowner
            UNION
            SELECT a.grantee, a.privilege_type
            FROM pg_attribute AS att CROSS JOIN LATERAL aclexplode(att.attacl) AS a
            WHERE att.attrelid = p_gu.parent AND att.attname = ANY (p_gu.columns) AND a.privilege_type = 'UPDATE'
        ),
        needed AS (
            SELECT DISTINCT p.grantee, n.privilege
            FROM parent_acl AS p
            CROSS JOIN LATERAL unnest(CASE p.privilege_type
                WHEN 'INSERT' THEN ARRAY['INSERT']
                WHEN 'DELETE' THEN ARRAY['SELECT', 'DELETE']
                WHEN 'TRUNCATE' THEN ARRAY['SELECT', 'DELETE']
                WHEN 'UPDATE' THEN ARRAY['SELECT', 'INSERT', 'DELETE']
            END) AS n (privilege)
        ),
        missing AS (
            SELECT n.grantee, n.privilege FROM needed AS n
            EXCEPT
            SELECT a.grantee, a.privilege_type
            FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
            WHERE c.oid = p_gu.side_table
        )
        SELECT format('GRANT %s ON %s TO %s', string_agg(m.privilege, ', ' ORDER BY m.privilege), p_gu.side_table,
                      CASE WHEN m.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(m.grantee)) END)
        FROM missing AS m
        GROUP BY m.grantee
        ORDER BY m.grantee;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_grant_statements(pgpart.global_unique) IS
'The GRANT statements giving each role that writes a global unique constraint''s parent the rights its triggers need on the side table (internal).';

-- source: sql/src/30_plan/global_unique_columns.sql
-- pgpart._gu_follow_columns(constraint, renamed): keeps a global unique
-- constraint in step with its parent's columns after ALTER TABLE, called
-- by the event trigger (pgpart._gu_ddl_command_end). The statements its
-- triggers run name the columns, and the side table holds them with the
-- parent's types: after `RENAME COLUMN id TO uid` every write would fail
-- ("column n.id does not exist"), after `ALTER COLUMN id TYPE bigint` the
-- side table would refuse the wider values. RENAMED is the new name of the
-- column the command renamed (NULL for other commands): when exactly one of
-- the constraint's columns is gone from the parent, that is its old name
-- (a rename is one column per command). The side table's column is renamed
-- and retyped to match, and the constraint's row rewritten with its
-- statements (the row-level security policy admits only pgpart._gu_sql's
-- texts). Returns the statements run; raises when it cannot follow, so the
-- user's command fails rather than leave every write broken.
CREATE OR REPLACE FUNCTION pgpart._gu_follow_columns(p_gu pgpart.global_unique, p_renamed name)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- (its own DDL on the side table: not for the event trigger)
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_missing name [];
    v_gu pgpart.global_unique := p_gu;
    v_done text [] := ARRAY[]::text [];
    v_sql text;
BEGIN
    v_missing := array(
        SELECT u.c FROM unnest(p_gu.columns) AS u (c)
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                          WHERE a.attrelid = p_gu.parent AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped)
    );
    IF cardinality(v_missing) > 0 THEN
        IF cardinality(v_missing) > 1 OR p_renamed IS NULL OR p_renamed = ANY (p_gu.columns) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('global unique constraint %I of table %s lost its column(s) %s',
                                 p_gu.constraint_name, p_gu.parent, array_to_string(v_missing, ', ')),
                DETAIL = 'pgpart follows one column renamed per command; its triggers name the columns.',
                HINT = format('Rename the column back, or drop the constraint first: '
                              'SELECT pgpart.drop_global_unique(%L, %L);', p_gu.parent::text, p_gu.constraint_name),
                SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                          WHERE c.oid = p_gu.parent),
                TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_gu.parent);
        END IF;
        v_sql := format('ALTER TABLE %s RENAME COLUMN %I TO %I', p_gu.side_table, v_missing[1], p_renamed);
        EXECUTE v_sql;
        v_done := array_append(v_done, v_sql);
        v_gu.columns := array_replace(p_gu.columns, v_missing[1], p_renamed);
    END IF;
    -- a column whose type (or collation) changed on the parent: the side
    -- table's follows (the parent's values were cast already, so are its)
    FOR v_sql IN
        SELECT format('ALTER TABLE %s ALTER COLUMN %I TYPE %s%s USING %I::%s', p_gu.side_table, pa.attname,
                      format_type(pa.atttypid, pa.atttypmod),
                      CASE WHEN pa.attcollation <> 0 THEN ' COLLATE ' || pa.attcollation::regcollation::text ELSE '' END,
                      pa.attname, format_type(pa.atttypid, pa.atttypmod))
        FROM unnest(v_gu.columns) AS u (c)
        JOIN pg_attribute AS pa ON pa.attrelid = p_gu.parent AND pa.attname = u.c
        JOIN pg_attribute AS sa ON sa.attrelid = p_gu.side_table AND sa.attname = u.c
        WHERE (pa.atttypid, pa.atttypmod, pa.attcollation) IS DISTINCT FROM (sa.atttypid, sa.atttypmod, sa.attcollation)
        ORDER BY pa.attnum
    LOOP
        EXECUTE v_sql;
        v_done := array_append(v_done, v_sql);
    END LOOP;
    IF v_gu.columns IS DISTINCT FROM p_gu.columns THEN
        UPDATE pgpart.global_unique AS g
        SET columns = v_gu.columns,
            insert_sql = pgpart._gu_sql(v_gu, 'insert'),
            delete_sql = pgpart._gu_sql(v_gu, 'delete'),
            -- the row's author must be the writer's (row-level security);
            -- the writer owns the parent, as the author did
            author = CASE WHEN pg_has_role(current_user, g.author, 'MEMBER') THEN g.author ELSE current_user END
        WHERE g.id = p_gu.id;
    END IF;
    RETURN v_done;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_follow_columns(pgpart.global_unique, name) IS
'After ALTER TABLE on a parent with a global unique constraint: follows a renamed column and changed column types in the side table and the constraint''s statements; raises 55000 when it cannot (internal).';

-- source: sql/src/30_plan/global_unique_convert.sql
-- Global unique constraints across a conversion (issue 18,
-- docs/global-unique.md "On a plain table (before converting it)"): a
-- plain table gets its global unique constraint online (add_global_unique
-- with build => false, then build_global_unique) while it is still plain;
-- in the swap transaction pgpart._gu_rebind moves the constraint to the new
-- partitioned parent, and pgpart._gu_repoint_foreign_keys points the
-- foreign keys that referenced the old table at the side table, NOT VALID
-- (constant time: the side table is complete, so new rows are checked at
-- once), to be validated online afterwards.

-- pgpart._gu_plain_ready(table, columns): whether TABLE has a global unique
-- constraint (on COLUMNS, in any order, when given) and every such one is
-- built ('valid'), so a conversion may swap. Catalog only, never waits.
CREATE OR REPLACE FUNCTION pgpart._gu_plain_ready(p_table regclass, p_columns name[] DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN coalesce((
        SELECT bool_and(g.state = 'valid' AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table))
        FROM pgpart.global_unique AS g
        WHERE g.parent = p_table
          AND (p_columns IS NULL
               OR (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS u (c))
                  = (SELECT array_agg(c ORDER BY c) FROM unnest(p_columns) AS u (c)))
    ), false);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_plain_ready(regclass, name[]) IS
'Whether a table has a global unique constraint (on the given columns, when given) and all such are built (state valid): what a conversion polls before its swap (internal).';

-- pgpart._gu_holds_exclusive(rel): whether this transaction holds ACCESS
-- EXCLUSIVE on REL (the swap's precondition: nothing else writes meanwhile).
CREATE OR REPLACE FUNCTION pgpart._gu_holds_exclusive(p_rel regclass)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'relation'
          AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
          AND l.relation = p_rel::oid
          AND l.pid = pg_backend_pid()
          AND l.mode = 'AccessExclusiveLock'
          AND l.granted);
END
$body$;

COMMENT ON FUNCTION pgpart._gu_holds_exclusive(regclass) IS
'Whether the current transaction holds ACCESS EXCLUSIVE on a relation (internal).';

-- pgpart._gu_rebind(old, new_parent): in the swap transaction of a
-- conversion, moves every global unique constraint of the plain table OLD
-- to the partitioned table NEW_PARENT that OLD is about to become (or has
-- just become) a partition of. The caller holds ACCESS EXCLUSIVE on both
-- (checked), so no row is written meanwhile and nothing needs copying: the
-- side table already holds exactly OLD's values. The registration follows
-- NEW_PARENT, OLD's row triggers are dropped and made on NEW_PARENT instead
-- (PostgreSQL clones them to OLD at the ATTACH: no same-named trigger is
-- left to collide with), OLD keeps its TRUNCATE trigger (it stays
-- recorded), partitions NEW_PARENT already has are recorded, and writers of
-- NEW_PARENT get their rights on the side table. Before the ATTACH, the
-- event trigger would take OLD (recorded, not yet a partition) for a
-- detached table and release its values: the registration names OLD and
-- this transaction (build.rebind, build.rebind_xid) and pgpart._gu_sync
-- keeps OLD's values until then. Returns how many constraints moved.
-- A conversion copying OLD's triggers to NEW_PARENT should leave these out
-- (functions pgpart._gu_row and pgpart._gu_truncate): they move here. If
-- they were copied anyway, the row triggers are kept (same definition) and
-- a copied TRUNCATE trigger is dropped from NEW_PARENT.
-- About 130 lines: the checks come first and change nothing.
CREATE OR REPLACE FUNCTION pgpart._gu_rebind(p_old regclass, p_new_parent regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_old pg_class;
    v_new pg_class;
    v_old_schema name;
    v_new_schema name;
    v_gu pgpart.global_unique;
    v_bad name;
    v_attached boolean;
    v_leaf regclass;
    v_statement text;
    v_count integer := 0;
BEGIN
    PERFORM pgpart._require_owner(p_old);
    PERFORM pgpart._require_owner(p_new_parent);
    SELECT * INTO v_old FROM pg_class AS c WHERE c.oid = p_old;
    SELECT * INTO v_new FROM pg_class AS c WHERE c.oid = p_new_parent;
    v_old_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_old.relnamespace);
    v_new_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_new.relnamespace);
    IF v_new.relkind <> 'p' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not partitioned', p_new_parent),
            DETAIL = 'The global unique constraints of a converted table move to its new partitioned parent.',
            HINT = 'Pass the new partitioned parent as the second argument.',
            SCHEMA = v_new_schema, TABLE = v_new.relname;
    END IF;
    v_attached := EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = p_old AND i.inhparent = p_new_parent);
    IF v_old.relkind <> 'r' OR (v_old.relispartition AND NOT v_attached) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = format('%s is neither a plain table nor a partition of %s', p_old, p_new_parent),
            DETAIL = 'The constraints move from the old, plain table of a conversion to its new parent.',
            HINT = 'Pass the old (plain) table of the conversion as the first argument.',
            SCHEMA = v_old_schema, TABLE = v_old.relname;
    END IF;
    IF NOT (pgpart._gu_holds_exclusive(p_old) AND pgpart._gu_holds_exclusive(p_new_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('global unique constraints of %s cannot move to %s: the tables are not locked',
                             p_old, p_new_parent),
            DETAIL = 'The move must happen in the swap transaction, while nothing writes either table.',
            HINT = format('LOCK TABLE ONLY %s, %s IN ACCESS EXCLUSIVE MODE first, in the same transaction.',
                          p_old, p_new_parent),
            SCHEMA = v_old_schema, TABLE = v_old.relname;
    END IF;
    FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_old ORDER BY g.id LOOP
        IF v_gu.state <> 'valid' OR NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('global unique constraint %I on %s is not built', v_gu.constraint_name, p_old),
                DETAIL = format('Its state is %s: the side table does not hold every value yet.', v_gu.state),
                HINT = format('Finish it first: CALL pgpart.build_global_unique(%L, %L).', p_old::text,
                              v_gu.constraint_name),
                SCHEMA = v_old_schema, TABLE = v_old.relname, CONSTRAINT = v_gu.constraint_name;
        END IF;
        SELECT u.c INTO v_bad FROM unnest(v_gu.columns) AS u (c)
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_attribute AS n JOIN pg_attribute AS o ON o.attrelid = p_old AND o.attname = n.attname
            WHERE n.attrelid = p_new_parent AND n.attname = u.c AND n.attnum > 0 AND NOT n.attisdropped
              AND NOT o.attisdropped AND (n.atttypid, n.atttypmod, n.attcollation)
                                         = (o.atttypid, o.atttypmod, o.attcollation))
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'datatype_mismatch',
                MESSAGE = format('column %I of global unique constraint %I is missing from %s or has another type',
                                 v_bad, v_gu.constraint_name, p_new_parent),
                DETAIL = 'The side table keeps the values with their types and collations.',
                HINT = format('Create %s with the columns of %s, same types and collations.', p_new_parent, p_old),
                SCHEMA = v_new_schema, TABLE = v_new.relname, COLUMN = v_bad;
        END IF;
        IF (SELECT (c.relowner, c.relnamespace) FROM pg_class AS c WHERE c.oid = v_gu.side_table)
           IS DISTINCT FROM (v_new.relowner, v_new.relnamespace) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('side table %s of global unique constraint %I is not in the schema of %s '
                                 'or not owned by its owner', v_gu.side_table, v_gu.constraint_name, p_new_parent),
                DETAIL = 'A side table lives in its parent''s schema and belongs to the parent''s owner.',
                HINT = format('Create %s in the schema of %s and give it the same owner before the move.',
                              p_new_parent, p_old),
                SCHEMA = v_new_schema, TABLE = v_new.relname;
        END IF;
        IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g
                   WHERE g.parent = p_new_parent
                     AND (g.constraint_name = v_gu.constraint_name OR g.columns = v_gu.columns)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('%s already has a global unique constraint named %I or on columns %s',
                                 p_new_parent, v_gu.constraint_name, v_gu.columns::text),
                DETAIL = format('Global unique constraint %I of %s cannot move there.', v_gu.constraint_name, p_old),
                HINT = 'pgpart.global_unique_info() lists it; drop one of them.',
                SCHEMA = v_new_schema, TABLE = v_new.relname;
        END IF;

        UPDATE pgpart.global_unique AS g
        SET parent = p_new_parent,
            build = CASE WHEN v_attached THEN '{}'::jsonb
                         ELSE jsonb_build_object('rebind', p_old::oid, 'rebind_xid', pg_current_xact_id()::text) END
        WHERE g.id = v_gu.id
        RETURNING * INTO v_gu;
        -- cloned to OLD at the ATTACH (or now, when OLD is attached already);
        -- one cloned already (copied to the parent before the ATTACH) stays
        FOR v_statement IN
            SELECT format('DROP TRIGGER %I ON %s', t.tgname, p_old) FROM pg_trigger AS t
            WHERE t.tgrelid = p_old AND t.tgparentid = 0
              AND t.tgname IN (format('pgpart_gu_%s', v_gu.id), format('pgpart_gu_%s_update', v_gu.id))
            ORDER BY t.tgname
        LOOP
            EXECUTE v_statement;
        END LOOP;
        PERFORM pgpart._gu_install(v_gu);
        -- a TRUNCATE trigger copied to the parent with the table's other
        -- triggers would mark it as recorded: a partitioned table never is
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', format('pgpart_gu_%s_truncate', v_gu.id), p_new_parent);
        IF NOT EXISTS (SELECT 1 FROM pgpart._gu_marked(v_gu) AS m (m) WHERE m.m = p_old) THEN
            PERFORM pgpart._gu_mark(v_gu, p_old);
        END IF;
        -- partitions NEW_PARENT already has (empty when just made): recorded
        FOR v_leaf IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
            EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            PERFORM pgpart._gu_mark(v_gu, v_leaf);
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, NULL, NULL, false));
        END LOOP;
        FOR v_statement IN SELECT s.s FROM pgpart._gu_grant_statements(v_gu) AS s (s) LOOP
            EXECUTE v_statement;
        END LOOP;
        PERFORM pgpart._log(p_new_parent, 'rebind_global_unique', 'ok',
                            jsonb_build_object('constraint', v_gu.constraint_name, 'from', p_old::text,
                                               'from_oid', p_old::oid));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_rebind(regclass, regclass) IS
'In a conversion''s swap transaction (both tables locked ACCESS EXCLUSIVE): moves the built global unique constraints of the old plain table to the new partitioned parent, before or after the old table''s ATTACH; returns how many moved (internal).';

-- pgpart._gu_foreign_key_plan(old, new_parent): the foreign keys of other
-- tables that reference OLD, each with the statements that point it at the
-- side table of the global unique constraint on exactly its referenced
-- columns: drop, add again (same name, columns, MATCH, ON UPDATE/ON
-- DELETE, deferrability, comment) NOT VALID, and the VALIDATE to run
-- online afterwards (NULL when the key was not valid or not enforced
-- before). Changes nothing, so a conversion can call it before it starts
-- and refuse up front. Refused (0A000, naming the key):
--  * a key on other columns than a global unique constraint's;
--  * an action other than NO ACTION or RESTRICT: the side table's entries
--    are never updated, they are deleted and inserted again, also when an
--    UPDATE moves a row to another partition, so CASCADE, SET NULL and SET
--    DEFAULT would act on referencing rows whose referenced row still
--    exists (docs/global-unique.md);
--  * a partitioned referencing table before PostgreSQL 18 (no NOT VALID
--    foreign key on a partitioned table there).
-- A referencing table the caller cannot alter: 42501. A foreign key of OLD
-- to itself is not listed: it is one of the table's own constraints.
CREATE OR REPLACE FUNCTION pgpart._gu_foreign_key_plan(p_old regclass, p_new_parent regclass DEFAULT NULL)
RETURNS TABLE (
    fk name,
    referencing regclass,
    unique_constraint name,
    side_table regclass,
    drop_statement text,
    add_statement text,
    validate_statement text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_con record;
    v_gu pgpart.global_unique;
    v_enforced boolean;
    v_comment text;
BEGIN
    FOR v_con IN
        SELECT
            k.oid, k.conname, k.conrelid::regclass AS rel, k.confmatchtype, k.confupdtype, k.confdeltype,
            k.condeferrable, k.condeferred, k.convalidated, to_jsonb(k) ->> 'conenforced' AS enforced,
            rc.relkind, rc.relowner, rc.relname,
            (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = rc.relnamespace) AS nspname,
            (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.n)
             FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS from_cols,
            (SELECT array_agg(a.attname ORDER BY u.n)
             FROM unnest(k.confkey) WITH ORDINALITY AS u (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) AS to_cols
        FROM pg_constraint AS k JOIN pg_class AS rc ON rc.oid = k.conrelid
        WHERE k.contype = 'f' AND k.confrelid = p_old AND k.conrelid <> p_old AND k.conparentid = 0
        ORDER BY k.conrelid, k.conname
    LOOP
        SELECT g.* INTO v_gu FROM pgpart.global_unique AS g
        WHERE g.parent IN (p_old, p_new_parent)
          AND (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS u (c))
              = (SELECT array_agg(c ORDER BY c) FROM unnest(v_con.to_cols) AS u (c))
        ORDER BY g.id
        LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of %s references columns %s of %s, which no global unique '
                                 'constraint covers', v_con.conname, v_con.rel, v_con.to_cols::text, p_old),
                DETAIL = 'After the conversion only a global unique constraint''s side table can be referenced.',
                HINT = format('Add one first: pgpart.add_global_unique(%L, %L, build => false), then CALL '
                              'pgpart.build_global_unique; or drop the foreign key.', p_old::text,
                              v_con.to_cols::text),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF v_con.confupdtype NOT IN ('a', 'r') OR v_con.confdeltype NOT IN ('a', 'r') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of %s has ON UPDATE %s ON DELETE %s', v_con.conname, v_con.rel,
                                 pgpart._gu_fk_action(v_con.confupdtype), pgpart._gu_fk_action(v_con.confdeltype)),
                DETAIL = 'Through a global unique constraint a referenced value is deleted and inserted again '
                         'when its row moves to another partition: a cascading action would act on rows whose '
                         'referenced row still exists. Only NO ACTION and RESTRICT are carried.',
                HINT = format('Recreate it with NO ACTION (DEFERRABLE INITIALLY DEFERRED lets rows move between '
                              'partitions) before converting: ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT '
                              '%I FOREIGN KEY (%s) REFERENCES %s (%s) DEFERRABLE INITIALLY DEFERRED NOT VALID.',
                              v_con.rel, v_con.conname, v_con.conname, v_con.from_cols, p_old,
                              (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_con.to_cols) AS u (c))),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF v_con.relkind = 'p' AND current_setting('server_version_num')::integer < 180000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('foreign key %I of partitioned table %s cannot be pointed at a side table '
                                 'NOT VALID on this server', v_con.conname, v_con.rel),
                DETAIL = 'PostgreSQL before 18 refuses NOT VALID foreign keys on partitioned tables, and a valid '
                         'one would scan the table under lock.',
                HINT = 'Drop the foreign key before converting and add it again afterwards, or use PostgreSQL 18.',
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        IF NOT pg_has_role(current_user, v_con.relowner, 'USAGE') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = format('foreign key %I of %s cannot be changed: must be owner of table %s',
                                 v_con.conname, v_con.rel, v_con.rel),
                DETAIL = 'Its foreign key is dropped and added again, which needs the table''s owner.',
                HINT = format('Run the conversion as a member of role %I, or as a superuser.',
                              pg_get_userbyid(v_con.relowner)),
                SCHEMA = v_con.nspname, TABLE = v_con.relname, CONSTRAINT = v_con.conname;
        END IF;
        v_enforced := coalesce(v_con.enforced::boolean, true);
        v_comment := obj_description(v_con.oid, 'pg_constraint');
        fk := v_con.conname;
        referencing := v_con.rel;
        unique_constraint := v_gu.constraint_name;
        side_table := v_gu.side_table;
        drop_statement := format('ALTER TABLE %s DROP CONSTRAINT %I', v_con.rel, v_con.conname);
        add_statement := format(
            'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s)%s ON UPDATE %s ON DELETE %s%s%s',
            v_con.rel, v_con.conname, v_con.from_cols, v_gu.side_table,
            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_con.to_cols) AS u (c)),
            CASE v_con.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
            pgpart._gu_fk_action(v_con.confupdtype), pgpart._gu_fk_action(v_con.confdeltype),
            CASE WHEN v_con.condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'
                 WHEN v_con.condeferrable THEN ' DEFERRABLE' ELSE '' END,
            CASE WHEN NOT v_enforced THEN ' NOT ENFORCED' ELSE ' NOT VALID' END)
            || CASE WHEN v_comment IS NOT NULL
                    THEN format('; COMMENT ON CONSTRAINT %I ON %s IS %L', v_con.conname, v_con.rel, v_comment)
                    ELSE '' END;
        validate_statement := CASE WHEN v_enforced AND v_con.convalidated
                                   THEN format('ALTER TABLE %s VALIDATE CONSTRAINT %I', v_con.rel, v_con.conname)
                              END;
        RETURN NEXT;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_foreign_key_plan(regclass, regclass) IS
'The foreign keys of other tables referencing a table about to be converted, with the statements that point each at a global unique constraint''s side table NOT VALID and validate it later; refuses (0A000) what cannot be carried (internal).';

-- pgpart._gu_fk_action(code): a pg_constraint action code as SQL.
CREATE OR REPLACE FUNCTION pgpart._gu_fk_action(p_code "char")
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN CASE p_code WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                       WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_fk_action("char") IS
'A foreign key action code of pg_constraint as SQL (internal).';

-- pgpart._gu_repoint_foreign_keys(old, new_parent, validate, ...): in the
-- swap transaction, runs pgpart._gu_foreign_key_plan: each foreign key
-- referencing OLD is dropped and added again against the side table, NOT
-- VALID (constant time: no row is read; the side table holds every value
-- of OLD, so rows written from now on are checked at once). The
-- referencing tables are locked ACCESS EXCLUSIVE (dropping a foreign key
-- needs it) and the side tables SHARE ROW EXCLUSIVE, under the lock
-- timeout with retries, in one group; a conversion should take these locks
-- in its swap's lock group, before OLD's (a writer of a referencing table
-- that then waits for OLD would otherwise hold us up until the timeout).
-- Returns each key with its VALIDATE statement, to run online afterwards
-- (SHARE UPDATE EXCLUSIVE on the referencing table: writers go on); with
-- VALIDATE they are run here as well (a scan under this transaction's
-- locks: small tables and tests only).
CREATE OR REPLACE FUNCTION pgpart._gu_repoint_foreign_keys(
    p_old regclass,
    p_new_parent regclass,
    p_validate boolean DEFAULT false,
    p_lock_timeout interval DEFAULT '200ms',
    p_lock_retries integer DEFAULT 10
)
RETURNS TABLE (fk name, referencing regclass, statement text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_variable
DECLARE
    v_plan record;
    v_locks text [];
BEGIN
    PERFORM pgpart._require_owner(p_old);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_validate IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'validate must not be NULL',
            DETAIL = 'It says whether the foreign keys are validated here or returned to be validated online.',
            HINT = 'Pass false (validate online afterwards) or true.';
    END IF;
    -- the plan checks every key (and refuses) before anything is locked
    SELECT array_agg(l.statement ORDER BY l.ord, l.rel::oid) INTO v_locks
    FROM (
        SELECT DISTINCT 1 AS ord, p.referencing AS rel,
               format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p.referencing) AS statement
        FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p
        UNION
        SELECT DISTINCT 2, p.side_table, format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', p.side_table)
        FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p
    ) AS l;
    IF v_locks IS NULL THEN
        RETURN;
    END IF;
    PERFORM pgpart._acquire_locks(v_locks, p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- the plan is read whole before the loop changes the keys
    FOR v_plan IN SELECT p.* FROM pgpart._gu_foreign_key_plan(p_old, p_new_parent) AS p LOOP
        EXECUTE v_plan.drop_statement;
        EXECUTE v_plan.add_statement;
        IF p_validate AND v_plan.validate_statement IS NOT NULL THEN
            EXECUTE v_plan.validate_statement;
        END IF;
        PERFORM pgpart._log(coalesce(p_new_parent, p_old), 'repoint_foreign_key', 'ok',
                            jsonb_build_object('foreign_key', v_plan.fk, 'referencing', v_plan.referencing::text,
                                               'side_table', v_plan.side_table::text, 'validated', p_validate));
        fk := v_plan.fk;
        referencing := v_plan.referencing;
        statement := v_plan.validate_statement;
        RETURN NEXT;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_repoint_foreign_keys(regclass, regclass, boolean, interval, integer) IS
'In a conversion''s swap: points the foreign keys referencing the old table at the global unique constraints'' side tables, NOT VALID; returns the VALIDATE statements to run online afterwards (internal).';

-- pgpart._gu_attach(parent, table, bound): ALTER TABLE PARENT ATTACH
-- PARTITION TABLE BOUND for a table carrying global unique constraints'
-- statement triggers. Before PostgreSQL 17, ATTACH refuses a table with a
-- trigger that has transition tables: those triggers are dropped for the
-- ATTACH and made again right after it (pgpart._gu_install), in the same
-- transaction, under the ACCESS EXCLUSIVE lock the caller holds on TABLE,
-- so no write falls in between. BOUND is the partition bound clause, built
-- by the caller from quoted literals.
CREATE OR REPLACE FUNCTION pgpart._gu_attach(p_parent regclass, p_table regclass, p_bound text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_trigger name;
    v_gu pgpart.global_unique;
BEGIN
    IF NOT pgpart._gu_holds_exclusive(p_table) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('not attaching %s: the caller must hold it ACCESS EXCLUSIVE', p_table),
            HINT = 'Lock the table in the same transaction first (LOCK TABLE ... IN ACCESS EXCLUSIVE MODE).';
    END IF;
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = p_table AND t.tgfoid = 'pgpart._gu_row()'::regprocedure AND t.tgparentid = 0
        ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, p_table);
    END LOOP;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s %s', p_parent, p_table, p_bound);
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent = p_table OR g.parent IN (SELECT a.relid FROM pg_partition_ancestors(p_parent) AS a (relid))
        ORDER BY g.id
    LOOP
        PERFORM pgpart._gu_install(v_gu);
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_attach(regclass, regclass, text) IS
'ATTACH PARTITION of a table carrying global unique constraints'' statement triggers: dropped for the ATTACH (PostgreSQL before 17 refuses triggers with transition tables there) and made again in the same transaction (internal).';

-- source: sql/src/30_plan/plan_fingerprint.sql
-- pgpart._plan_fingerprint(parent): what a maintenance plan of PARENT is
-- computed from, as two digests: its partition tree (every partition at
-- every level: OID, name, kind, bound, detach-pending flag) and its policy
-- row (without the failure bookkeeping and timestamps, which do not shape a
-- plan). A saved plan (pgpart.save_plan) carries it and pgpart.apply_plan
-- refuses the plan when it no longer matches, so a plan is never applied to
-- tables or a policy that changed after it was reviewed. Read from the
-- catalog only (DESIGN §2): it never waits for a lock.
CREATE OR REPLACE FUNCTION pgpart._plan_fingerprint(p_parent regclass)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS node, i.inhdetachpending AS pending
        FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid, i.inhdetachpending
        FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.node
    )
    SELECT jsonb_build_object(
        'partitions', md5(coalesce((
            SELECT string_agg(
                       concat_ws(' ', c.oid::text, c.oid::regclass::text, c.relkind::text,
                                 coalesce(pg_get_expr(c.relpartbound, 0), ''), t.pending::text),
                       E'\n' ORDER BY c.oid)
            FROM tree AS t JOIN pg_class AS c ON c.oid = t.node
        ), '') || E'\n' || p_parent::oid::text || ' ' || p_parent::text),
        'policy', md5(coalesce((
            SELECT (to_jsonb(cfg) - 'last_error' - 'last_error_at' - 'updated_at' - 'created_at')::text
            FROM pgpart.config AS cfg WHERE cfg.parent = p_parent
        ), 'unmanaged'))
    );
$body$;

COMMENT ON FUNCTION pgpart._plan_fingerprint(regclass) IS
'Digests of what a maintenance plan of a parent is computed from: its partition tree (names, bounds, pending detaches) and its policy row; read from the catalog only.';

-- source: sql/src/30_plan/plan_hash.sql
-- pgpart._plan_hash(target, modulus, reloptions): the HASH planner: returns
-- the plan of a create_hash_partitions call prepared by pgpart._prepare,
-- changing nothing: the target's locks, then for each remainder of 0 ..
-- MODULUS - 1 that no partition holds, the steps that build
-- <parent>_h<remainder> detached and attach it, then the policy
-- registration. Refuses another modulus than the existing partitions' (0A000:
-- every row would move) and a taken name (42P07).
CREATE OR REPLACE FUNCTION pgpart._plan_hash(p_target pgpart._target, p_modulus integer, p_reloptions text[])
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    p_parent constant regclass := p_target.parent;
    v_schema constant name := p_target.schema_name;
    v_relname constant name := p_target.table_name;
    v_reloptions constant text [] := coalesce(p_reloptions, (p_target.policy).reloptions);
    v_moduli integer [];
    v_taken integer [];
    v_n integer := 0;
    v_table text;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    SELECT array_agg(DISTINCT (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer),
           array_agg((regexp_match(p.bound, 'remainder (\d+)'))[1]::integer)
    INTO v_moduli, v_taken
    FROM pgpart._partitions(p_parent) AS p;
    IF v_moduli IS NOT NULL AND v_moduli <> ARRAY[p_modulus] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the hash modulus of table %s from %s to %s', p_parent,
                             array_to_string(v_moduli, ', '), p_modulus),
            DETAIL = 'Rows are placed by their hash modulo the modulus: another modulus means moving every row.',
            HINT = format('Call with modulus %s, or create a new table with the new modulus and copy the rows.',
                          v_moduli[1]),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    FOREACH st IN ARRAY p_target.lock_steps LOOP
        v_n := st.step;
        RETURN NEXT st;
    END LOOP;
    FOR r IN SELECT g AS remainder FROM generate_series(0, p_modulus - 1) AS g WHERE NOT g = ANY (coalesce(v_taken, '{}')) LOOP
        v_table := format('%I.%I', v_schema, pgpart._relation_name(v_relname, '_h' || r.remainder));
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)', p_modulus, r.remainder),
            p_target.target_tablespace, v_reloptions, v_n + 1)
        LOOP
            st.lower_bound := format('remainder %s of %s', r.remainder, p_modulus);
            v_n := st.step;
            RETURN NEXT st;
        END LOOP;
    END LOOP;
    RETURN NEXT ROW(v_n + 1, NULL, NULL, NULL, 'register policy',
                    format('SELECT pgpart._register_list_hash_policy(%L::regclass, ''hash'', %L, %L::regtype, %L, %L)',
                           p_parent::text, p_target.key_column, p_target.key_type::text, p_target.tablespace,
                           v_reloptions),
                    'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_hash(pgpart._target, integer, text[]) IS
'The HASH planner: the steps of a prepared create_hash_partitions call (missing remainders built detached and attached, policy registration), changing nothing (internal).';

-- pgpart._plan_list(target, values, default_partition, reloptions): the
-- LIST planner: returns the plan of a create_list_partitions call prepared
-- by pgpart._prepare (owner, key, strategy, tablespace, lock steps checked
-- there), changing nothing.
-- Long (about 170 lines): it runs every check of the requested values in
-- order (groups, duplicates, holders, names, caps), each with its own
-- SQLSTATE, before it emits the steps; not yet split into pieces as the
-- range planner is.
CREATE OR REPLACE FUNCTION pgpart._plan_list(
    p_target pgpart._target,
    p_values jsonb,
    p_default_partition boolean,
    p_reloptions text[]
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    p_parent constant regclass := p_target.parent;
    v_key_column constant name := p_target.key_column;
    v_key_type constant regtype := p_target.key_type;
    v_key_format constant text := p_target.key_format;
    v_schema constant name := p_target.schema_name;
    v_relname constant name := p_target.table_name;
    v_tablespace constant name := p_target.tablespace;
    v_target constant name := p_target.target_tablespace;
    v_reloptions constant text [] := coalesce(p_reloptions, (p_target.policy).reloptions);
    v_default regclass;
    v_name name;
    v_table text;
    v_holder regclass;
    v_value text;
    v_step integer := 0;
    v_seen text [] := '{}'::text [];
    v_seen_null boolean := false;
    v_existing pgpart._list_part [];
    v_new integer := 0;
    st pgpart.step;
    r record;
BEGIN
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    v_default := pgpart._default_partition(p_parent);

    -- The locks come first in the plan, in the documented order.
    FOREACH st IN ARRAY p_target.lock_steps LOOP
        v_step := st.step;
        RETURN NEXT st;
    END LOOP;

    -- The existing partitions with their values.
    v_existing := array(SELECT ROW(p.partition, pgpart._bound_values(p.bound, v_key_format))::pgpart._list_part
                        FROM pgpart._partitions(p_parent) AS p WHERE NOT p.is_default);

    FOR r IN SELECT * FROM pgpart._list_request(v_key_format, p_values) LOOP
        -- a partition holding exactly these values already: nothing to do
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM unnest(v_existing) AS x
            WHERE (SELECT array_agg(v ORDER BY v NULLS FIRST) FROM unnest(x.list_values) AS v)
                  IS NOT DISTINCT FROM (SELECT array_agg(DISTINCT v ORDER BY v NULLS FIRST) FROM unnest(r.list_values) AS v)
        );
        v_name := pgpart._relation_name(v_relname, r.suffix);
        v_table := format('%I.%I', v_schema, v_name);
        IF r.group_name IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(v_existing) AS x WHERE x.partition = to_regclass(v_table)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('partition %s of group %L exists with other values than requested', v_table, r.group_name),
                DETAIL = format('It holds %s; requested: %s.',
                                pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                      WHERE x.partition = to_regclass(v_table))),
                                pgpart._list_literal(r.list_values)),
                HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                              'SELECT * FROM pgpart.add_list_values(%L, ...);', v_table),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        FOREACH v_value IN ARRAY r.list_values LOOP
            IF (v_value IS NULL AND v_seen_null) OR v_value = ANY (v_seen) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s is requested for two partitions of %s', coalesce(quote_literal(v_value), 'NULL'),
                                     p_parent),
                    HINT = 'List each value once.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
            v_seen_null := v_seen_null OR v_value IS NULL;
            v_seen := v_seen || v_value;
            SELECT x.partition INTO v_holder FROM unnest(v_existing) AS x
            WHERE EXISTS (SELECT 1 FROM unnest(x.list_values) AS v WHERE v IS NOT DISTINCT FROM v_value) LIMIT 1;
            IF v_holder IS NOT NULL AND v_holder::text IN (v_table, quote_ident(v_name)) THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'feature_not_supported',
                    MESSAGE = format('partition %s exists with other values than requested', v_holder),
                    DETAIL = format('It holds %s; requested: %s.',
                                    pgpart._list_literal((SELECT x.list_values FROM unnest(v_existing) AS x
                                                          WHERE x.partition = v_holder)),
                                    pgpart._list_literal(r.list_values)),
                    HINT = format('Adding values to a partition detaches and re-attaches it, blocking the table: '
                                  'SELECT * FROM pgpart.add_list_values(%L, ...);', v_holder::text),
                    SCHEMA = v_schema, TABLE = v_relname;
            ELSIF v_holder IS NOT NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('value %s of %s is already held by partition %s',
                                     coalesce(quote_literal(v_value), 'NULL'), p_parent, v_holder),
                    HINT = 'Leave that value out, or detach that partition first.',
                    SCHEMA = v_schema, TABLE = v_relname;
            END IF;
        END LOOP;
        -- the cap on new tables in one transaction (pgpart._max_new_tables),
        -- the default partition included: refused as soon as it is passed
        v_new := v_new + 1;
        IF v_new + (coalesce(p_default_partition, false) AND v_default IS NULL)::integer > pgpart._max_new_tables() THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = format('more than %s new partitions of %s requested, but at most %s are created in one '
                                 'transaction', pgpart._max_new_tables(), p_parent, pgpart._max_new_tables()),
                DETAIL = 'Each new partition holds about ten locks until commit; thousands exhaust the shared lock table.',
                HINT = format('Pass the values in several calls of at most %s new partitions each: the partitions '
                              'already made are kept.', pgpart._max_new_tables()),
                SCHEMA = v_schema, TABLE = v_relname;
        END IF;
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                DETAIL = format('pgpart names the partition of %s for %s %s.', p_parent,
                                coalesce('group ' || quote_literal(r.group_name), 'value'), pgpart._list_literal(r.list_values)),
                HINT = 'Rename or drop that relation, or attach it yourself.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        IF v_default IS NOT NULL THEN
            v_step := v_step + 1;
            RETURN NEXT ROW(v_step, v_table, NULL, NULL, 'check default',
                            format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                   v_default::text, v_key_column, r.list_values),
                            format('ACCESS SHARE on %s (index probe)', v_default), false)::pgpart.step;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES IN (%s)', pgpart._list_literal(r.list_values)),
            v_target, v_reloptions, v_step + 1)
        LOOP
            st.lower_bound := pgpart._list_literal(r.list_values);
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END LOOP;

    IF coalesce(p_default_partition, false) AND v_default IS NULL THEN
        v_name := pgpart._relation_name(v_relname, '_default');
        v_table := format('%I.%I', v_schema, v_name);
        IF to_regclass(v_table) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', v_table),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = v_schema, TABLE = v_name;
        END IF;
        FOR st IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, 'DEFAULT', v_target, v_reloptions, v_step + 1)
        LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'register policy',
                    format('SELECT pgpart._register_list_hash_policy(%L::regclass, ''list'', %L, %L::regtype, %L, %L)',
                           p_parent::text, v_key_column, v_key_type::text, v_tablespace,
                           v_reloptions),
                    'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._plan_list(pgpart._target, jsonb, boolean, text[]) IS
'The LIST planner: checks the requested values and returns the steps of a prepared create_list_partitions call, changing nothing (internal).';

-- source: sql/src/30_plan/plan_list_values.sql
-- pgpart._list_values_to_add(target, partition, values): the values
-- PARTITION of the target's LIST parent holds (OLD) and those of VALUES it
-- does not hold yet (NEW), in the key's canonical text. Refuses the default
-- partition (42P17) and anything but a non-empty JSON array of scalars
-- (22023).
CREATE OR REPLACE FUNCTION pgpart._list_values_to_add(
    p_target pgpart._target,
    p_partition regclass,
    p_values jsonb,
    OUT old_values text[],
    OUT new_values text[]
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_parent constant regclass := p_target.parent;
    v_old text [];
    v_new text [];
BEGIN
    SELECT pgpart._bound_values(p.bound, p_target.key_format) INTO v_old
    FROM pgpart._partitions(v_parent) AS p WHERE p.partition = p_partition;
    IF v_old IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('partition %s is the default partition', p_partition),
            HINT = 'Values can be added only to a partition with a list of values.';
    END IF;
    IF p_values IS NULL OR jsonb_typeof(p_values) <> 'array' OR jsonb_array_length(p_values) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_values) AS e WHERE jsonb_typeof(e) IN ('object', 'array')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid list values %s', coalesce(p_values::text, 'NULL')),
            HINT = 'Pass a non-empty JSON array of values, such as ["it", "es"].';
    END IF;
    v_new := array(SELECT pgpart._canonical(p_target.key_format, e #>> '{}') FROM jsonb_array_elements(p_values) AS e
                   WHERE NOT EXISTS (SELECT 1 FROM unnest(v_old) AS o
                                     WHERE o IS NOT DISTINCT FROM pgpart._canonical(p_target.key_format, e #>> '{}')));
    old_values := v_old;
    new_values := v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._list_values_to_add(pgpart._target, regclass, jsonb) IS
'The values a LIST partition holds and those of a request it does not hold yet; 42P17 for the default partition, 22023 for malformed values (internal).';

-- pgpart._plan_list_values(target, partition, old, new): the plan of an
-- add_list_values call prepared by pgpart._prepare (the target holds the
-- LIST parent, its key and the lock steps for detaching PARTITION),
-- changing nothing: the locks, a probe of the default partition, a
-- validated CHECK holding the old and new values, DETACH, ATTACH with the
-- new bound (the CHECK spares its scan), DROP of the CHECK. No step when
-- NEW is empty. Refuses values another partition holds (42P17).
CREATE OR REPLACE FUNCTION pgpart._plan_list_values(
    p_target pgpart._target,
    p_partition regclass,
    p_old text[],
    p_new text[]
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET jit = off
AS $body$
DECLARE
    v_parent constant regclass := p_target.parent;
    v_old constant text [] := p_old;
    v_new constant text [] := p_new;
    v_all text [];
    v_default regclass;
    v_holder regclass;
    v_value text;
    v_check text;
    v_con name := 'pgpart_add_list_values'::name;
    v_steps pgpart.step [] := '{}'::pgpart.step [];
    v_n integer := 0;
    st pgpart.step;
BEGIN
    IF cardinality(v_new) = 0 THEN
        RETURN;  -- it holds them all already
    END IF;
    FOREACH v_value IN ARRAY v_new LOOP
        SELECT p.partition INTO v_holder FROM pgpart._partitions(v_parent) AS p
        WHERE NOT p.is_default AND p.partition <> p_partition
          AND EXISTS (SELECT 1 FROM unnest(pgpart._bound_values(p.bound, p_target.key_format)) AS v WHERE v IS NOT DISTINCT FROM v_value);
        IF v_holder IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_object_definition',
                MESSAGE = format('value %s of %s is already held by partition %s', coalesce(quote_literal(v_value), 'NULL'),
                                 v_parent, v_holder),
                HINT = 'Leave that value out.';
        END IF;
    END LOOP;
    v_all := v_old || v_new;
    v_default := pgpart._default_partition(v_parent);
    v_check := concat_ws(' OR ',
                         CASE WHEN array_position(v_all, NULL) IS NOT NULL THEN format('%I IS NULL', p_target.key_column) END,
                         format('(%I IS NOT NULL AND %I IN (%s))', p_target.key_column, p_target.key_column,
                                (SELECT string_agg(quote_literal(v), ', ') FROM unnest(v_all) AS v WHERE v IS NOT NULL)));

    FOREACH st IN ARRAY p_target.lock_steps LOOP
        st.partition := p_partition::text;
        v_n := st.step;
        v_steps := v_steps || st;
    END LOOP;
    IF v_default IS NOT NULL THEN
        v_n := v_n + 1;
        v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'check default',
                                  format('SELECT pgpart._check_default_list_rows(%L::regclass, %L, %L)',
                                         v_default::text, p_target.key_column, v_new),
                                  format('ACCESS EXCLUSIVE on %s (held)', v_default), false)::pgpart.step;
    END IF;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'add check',
                              format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', p_partition, v_con, v_check),
                              format('ACCESS EXCLUSIVE on %s; scans it', p_partition), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'detach',
                              format('ALTER TABLE %s DETACH PARTITION %s', v_parent, p_partition),
                              format('ACCESS EXCLUSIVE on %s (until commit)', v_parent), false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, pgpart._list_literal(v_all), NULL, 'attach',
                              format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)', v_parent, p_partition,
                                     pgpart._list_literal(v_all)),
                              format('ACCESS EXCLUSIVE on %s (until commit); the CHECK spares the scan', v_parent),
                              false)::pgpart.step;
    v_n := v_n + 1;
    v_steps := v_steps || ROW(v_n, p_partition::text, NULL, NULL, 'drop check',
                              format('ALTER TABLE %s DROP CONSTRAINT %I', p_partition, v_con),
                              format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step;
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart._plan_list_values(pgpart._target, regclass, text[], text[]) IS
'The steps of a prepared add_list_values call (locks, default probe, CHECK, DETACH, ATTACH with the new bound, DROP CHECK), changing nothing (internal).';

-- source: sql/src/30_plan/plan_range.sql
-- pgpart._plan_range(target, interval, ...): the RANGE planner: returns the
-- plan of a create_range_partitions call prepared by pgpart._prepare,
-- changing nothing. The target carries what every verb checks (owner, key,
-- strategy, policy row, tablespace, lock steps, lock timeout, now); this
-- function checks what only a range call has (grid, caps, storage
-- parameters, privileges, "now"), then runs the pipeline of pure pieces
--   _range_window        the window from start (or now) to premake ahead,
--                        then the gaps below it
--   _range_missing_slots the slots of those ranges no partition covers
--   _range_names         their names, refusing taken ones
--   _range_steps         the target's locks, build/check/attach per slot,
--                        default partition, policy registration.
-- Long (about 220 lines): the range-specific checks, in the order callers
-- see their errors, each with its own SQLSTATE, DETAIL and HINT; the
-- planning itself is in the four pieces.
CREATE OR REPLACE FUNCTION pgpart._plan_range(
    p_target pgpart._target,
    p_interval text,
    p_premake integer,
    p_start text,
    p_time_zone text,
    p_origin text,
    p_default_partition boolean,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL,
    p_max_new integer DEFAULT NULL,
    -- maintenance's dry run: the work of this many transactions of at most
    -- max_new each, as run_maintenance_proc and the client catch up
    p_transactions integer DEFAULT 1,
    -- an integer key holding Unix time ('s', 'ms', 'us'); NULL keeps the
    -- policy's
    p_epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    -- at most this many new tables in one transaction, sub-partitions
    -- included: each takes about ten locks, and the shared lock table is
    -- sized for a few thousand (pgpart._max_new_tables)
    v_cap constant integer := pgpart._max_new_tables();
    -- the new partitions that fit under it: fewer with sub-partitions
    v_part_cap integer;
    v_leaves integer;
    p_parent constant regclass := p_target.parent;
    v_key record;
    v_iv record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_owner name;
    v_zone text;
    v_frame text;
    v_origin numeric;
    v_origin_text text;
    v_premake integer;
    v_tablespace name;
    v_target_ts name;
    v_reloptions text [];
    v_subpartition jsonb;
    v_default regclass;
    v_has_partitions boolean;
    v_existing_lo numeric [];
    v_existing_hi numeric [];
    v_existing_rel regclass [];
    v_now numeric;
    v_start numeric;
    v_ranges pgpart._range [];
    v_slots pgpart._range [];
    v_names name [];
    v_create_default boolean;
    v_n integer;
    v_total integer;
    v_unit text;
    v_clock text;
BEGIN
    SELECT p_target.key_column AS key_column, p_target.key_type AS key_type INTO v_key;
    v_schema := p_target.schema_name;
    v_relname := p_target.table_name;
    v_owner := p_target.owner;
    v_cfg := p_target.policy;

    SELECT array_agg(p.lower_coord ORDER BY p.lower_coord),
           array_agg(p.upper_coord ORDER BY p.lower_coord),
           array_agg(p.partition ORDER BY p.lower_coord)
    INTO v_existing_lo, v_existing_hi, v_existing_rel
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default;
    v_has_partitions := coalesce(cardinality(v_existing_rel), 0) > 0;
    v_default := pgpart._default_partition(p_parent);

    -- The key's clock: an epoch unit given is checked (and cannot change
    -- under partitions), else the policy's holds (pgpart._key_clock).
    v_unit := coalesce(pgpart._check_epoch_unit(p_parent, v_key.key_type, p_epoch_unit,
                                                v_has_partitions AND v_cfg.parent IS NOT NULL, v_cfg.epoch_unit),
                       v_cfg.epoch_unit);
    v_clock := pgpart._key_clock(v_key.key_type, v_unit);
    IF v_unit IS NOT NULL AND v_cfg.epoch_unit IS NULL AND v_has_partitions THEN
        -- adopting a table whose partitions already hold Unix time: their
        -- bounds were read as plain numbers (no policy said otherwise)
        v_existing_lo := array(SELECT x.lo / pgpart._epoch_scale(v_unit)
                               FROM unnest(v_existing_lo) WITH ORDINALITY AS x (lo, n) ORDER BY x.n);
        v_existing_hi := array(SELECT x.hi / pgpart._epoch_scale(v_unit)
                               FROM unnest(v_existing_hi) WITH ORDINALITY AS x (hi, n) ORDER BY x.n);
    END IF;

    -- The grid: interval, zone, origin.
    v_iv := pgpart._parse_interval(v_key.key_type, p_interval, v_unit);
    v_zone := pgpart._check_zone(coalesce(p_time_zone, v_cfg.time_zone, 'UTC'));
    v_frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months')
                    THEN v_zone ELSE 'UTC' END;
    IF p_origin IS NOT NULL THEN
        v_origin := pgpart._input_to_coord(v_key.key_type, v_zone, p_origin, 'origin', v_unit);
        IF v_clock = 'instant' THEN
            -- the origin is kept as a wall time of the grid's own zone
            v_origin := extract(epoch FROM (pgpart._coord_to_ts(v_origin) AT TIME ZONE v_frame));
        END IF;
    ELSIF v_cfg.grid_origin IS NOT NULL AND v_cfg.partition_interval = v_iv.canonical THEN
        v_origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                         ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    ELSE
        v_origin := pgpart._default_origin(v_iv.kind, v_iv.step);
    END IF;
    v_origin_text := CASE WHEN v_iv.kind = 'integer' THEN v_origin::text
                          ELSE to_char(pgpart._coord_to_ts(v_origin) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END;

    -- A grid cannot change under existing partitions (DESIGN §5).
    IF v_cfg.parent IS NOT NULL AND v_has_partitions
       AND (v_cfg.partition_interval IS DISTINCT FROM v_iv.canonical
            OR v_cfg.grid_origin IS DISTINCT FROM v_origin_text
            OR (v_frame <> 'UTC' AND v_cfg.time_zone IS DISTINCT FROM v_zone)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the partition grid of table %s', p_parent),
            DETAIL = format('Configured: interval %L, origin %L, time zone %L; requested: interval %L, origin %L, time zone %L.',
                            v_cfg.partition_interval, v_cfg.grid_origin, v_cfg.time_zone,
                            v_iv.canonical, v_origin_text, v_zone),
            HINT = 'Call again with the configured interval, origin and time zone (or leave them out); the grid of a table with partitions stays fixed.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- Policy values: a NULL argument keeps what is configured.
    v_premake := coalesce(p_premake, v_cfg.premake, 4);
    -- bounded before the grid is walked premake slots ahead (a value in the
    -- policy row is checked too: an owner can write that row directly)
    PERFORM pgpart._check_premake(v_premake, p_parent);
    v_reloptions := coalesce(p_reloptions, v_cfg.reloptions);
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    v_subpartition := coalesce(pgpart._subpartition_spec(p_parent, p_subpartition), v_cfg.subpartition);
    -- Sub-partitions count in the cap: a partition and its leaves are built
    -- in the same transaction.
    v_leaves := pgpart._subpartition_leaves(v_subpartition);
    v_part_cap := v_cap / (1 + v_leaves);
    IF v_part_cap < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('each new partition of %s would have %s sub-partitions, more than the %s new tables one '
                             'transaction may create', p_parent, v_leaves, v_cap),
            DETAIL = 'A partition and its sub-partitions are built in one transaction; each new table holds about ten '
                     'locks until commit, and thousands exhaust the shared lock table.',
            HINT = format('Use a sub-partition spec with at most %s sub-partitions (a smaller modulus, fewer list '
                          'groups).', v_cap - 1),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    -- where new partitions go: the target's tablespace (requested, else the
    -- policy's), else the parent's, else the database default
    v_tablespace := p_target.tablespace;
    v_target_ts := p_target.target_tablespace;

    -- Privileges: checked up front so a refused call leaves nothing behind.
    PERFORM pgpart._require_create_privileges(p_parent, v_schema, v_relname, v_owner, v_target_ts);

    -- "Now": the reference time, or for integer keys the highest key value.
    IF v_iv.kind = 'integer' THEN
        BEGIN
            -- an empty table: its "now" is the start given, else where its
            -- partitions begin, else 0 (DESIGN §5); so a call without start
            -- after one with it changes nothing
            v_now := coalesce(pgpart._max_key(p_parent, v_key.key_column, p_target.lock_timeout),
                              pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start', v_unit),
                              (SELECT min(lo) FROM unnest(v_existing_lo) AS lo WHERE lo > '-Infinity'::numeric), 0);
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION USING
                ERRCODE = 'lock_not_available',
                MESSAGE = format('could not read the highest key of %s within %s', p_parent, p_target.lock_timeout),
                DETAIL = 'A partition is locked by another session (ACCESS EXCLUSIVE).',
                HINT = 'Retry later, or pass start so the highest key need not be read.',
                SCHEMA = v_schema, TABLE = v_relname;
        END;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_target.now_at);
    ELSE
        v_now := extract(epoch FROM (p_target.now_at AT TIME ZONE v_zone));
    END IF;

    -- The window and the gaps below it, the slots of them no partition
    -- covers, their names, then the steps (DESIGN §5).
    IF p_start IS NOT NULL THEN
        v_start := pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start', v_unit);
    END IF;
    v_ranges := pgpart._range_window(v_iv.kind, v_iv.step, v_frame, v_origin, v_now, v_start, v_premake,
                                     v_existing_lo, v_existing_hi);
    IF p_max_new IS NOT NULL AND (p_max_new < 1 OR p_max_new > v_cap) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('max_new must be between 1 and %s, got %s', v_cap, p_max_new),
            HINT = 'Pass how many partitions one call may create at most, or leave it out.';
    END IF;
    IF p_max_new IS NOT NULL THEN
        -- a bounded run makes what fits under the cap with its sub-partitions
        v_part_cap := least(p_max_new, v_part_cap) * greatest(p_transactions, 1);
    ELSE
        -- one more than fits: enough to refuse the call below
        v_part_cap := v_part_cap + 1;
    END IF;
    v_slots := pgpart._range_missing_slots(
        p_parent, v_schema, v_relname, v_key.key_type, v_zone, v_iv.kind, v_iv.step, v_frame, v_origin,
        v_iv.canonical, v_ranges, p_start IS NOT NULL, v_existing_lo, v_existing_hi, v_existing_rel, v_part_cap,
        v_unit);

    v_n := cardinality(v_slots);
    v_create_default := coalesce(p_default_partition, false) AND v_default IS NULL;
    -- a default partition to create counts too, and every sub-partition
    v_total := v_n * (1 + v_leaves) + v_create_default::integer;
    IF v_total > v_cap * greatest(p_transactions, 1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('more than %s new tables for %s requested, but at most %s are created in one transaction',
                             v_cap, p_parent, v_cap),
            DETAIL = format('Each new partition%s holds about ten locks until commit; thousands exhaust the shared lock '
                            'table.', CASE WHEN v_leaves > 0
                                           THEN format(' (here with its %s sub-partitions, %s tables)', v_leaves,
                                                       1 + v_leaves) ELSE '' END),
            HINT = format('Each call creates at most %s new tables: pass max_new => %s (the rest on the next calls), '
                          'a smaller premake, or a start (which also skips filling gaps below it), and call again.',
                          v_cap, greatest(1, (v_cap - 1) / (1 + v_leaves))),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    v_names := pgpart._range_names(p_parent, v_schema, v_relname, v_key.key_type, v_zone, v_iv.kind, v_iv.step,
                                   v_frame, v_slots, v_create_default, v_unit);

    RETURN QUERY SELECT * FROM pgpart._range_steps(
        p_parent, p_target.lock_steps, v_schema, v_relname, v_key.key_type, v_key.key_column, v_zone, v_default, v_slots, v_names,
        v_target_ts, v_reloptions, v_subpartition, v_create_default,
        format('SELECT pgpart._register_range_policy(%L::regclass, %L, %L::regtype, %L, %L, %L, %s, %L, %L, %L%s)',
               p_parent::text, v_key.key_column, v_key.key_type::text, v_iv.canonical, v_origin_text,
               v_zone, v_premake, v_tablespace, v_reloptions, v_subpartition,
               CASE WHEN v_unit IS NOT NULL THEN format(', p_epoch_unit => %L', v_unit) ELSE '' END),
        v_unit);
END
$body$;

COMMENT ON FUNCTION pgpart._plan_range(pgpart._target, text, integer, text, text, text, boolean, text[], jsonb, integer, integer, text) IS
'The RANGE planner: checks what only a range call has and returns the ordered steps of a prepared create_range_partitions call, changing nothing (internal).';

-- pgpart._plan_range_partitions(parent, interval, ...): prepare and plan in
-- one call, changing nothing and taking no lock: for callers that ask "is
-- anything missing?" before they lock (maintenance; TRANSACTIONS: its dry run
-- plans that many transactions of at most max_new each).
CREATE OR REPLACE FUNCTION pgpart._plan_range_partitions(
    p_parent regclass,
    p_interval text,
    p_premake integer,
    p_start text,
    p_time_zone text,
    p_origin text,
    p_tablespace name,
    p_default_partition boolean,
    p_reloptions text[],
    p_lock_timeout interval,
    p_now_at timestamptz,
    p_subpartition jsonb DEFAULT NULL,
    p_max_new integer DEFAULT NULL,
    p_transactions integer DEFAULT 1
)
RETURNS SETOF pgpart.step
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT s.*
    FROM pgpart._plan_range(
        pgpart._prepare(p_parent, 'range', p_lock_timeout, 0, p_now_at, p_tablespace),
        p_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions, p_subpartition,
        p_max_new, p_transactions) AS s;
$body$;

COMMENT ON FUNCTION pgpart._plan_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, timestamptz, jsonb, integer, integer) IS
'Prepares and plans a create_range_partitions call without locks or changes (internal).';

-- source: sql/src/30_plan/plan_set_tablespace.sql
-- pgpart._plan_set_tablespace(partition, tablespace): the plan that moves
-- PARTITION and each of its indexes to TABLESPACE: ACCESS EXCLUSIVE on the
-- partition first (one lock step, so the wait is bounded by the lock
-- timeout), then ALTER TABLE ... SET TABLESPACE and ALTER INDEX ... SET
-- TABLESPACE per index, in OID order. Changes nothing.
CREATE OR REPLACE FUNCTION pgpart._plan_set_tablespace(p_partition regclass, p_tablespace name)
RETURNS SETOF pgpart.step
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT ROW(1, p_partition::text, NULL, NULL, 'lock',
               format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition),
               format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step
    UNION ALL
    SELECT ROW(2, p_partition::text, NULL, NULL, 'set tablespace',
               format('ALTER TABLE %s SET TABLESPACE %I', p_partition, p_tablespace),
               format('ACCESS EXCLUSIVE on %s while its files are copied', p_partition), false)::pgpart.step
    UNION ALL
    SELECT * FROM (
        SELECT ROW((2 + row_number() OVER (ORDER BY i.indexrelid))::integer, p_partition::text, NULL, NULL,
                   'set index tablespace',
                   format('ALTER INDEX %s SET TABLESPACE %I', i.indexrelid::regclass, p_tablespace),
                   format('ACCESS EXCLUSIVE on %s and %s while its files are copied', i.indexrelid::regclass,
                          p_partition), false)::pgpart.step
        FROM pg_index AS i WHERE i.indrelid = p_partition
    ) AS x;
$body$;

COMMENT ON FUNCTION pgpart._plan_set_tablespace(regclass, name) IS
'The steps that move a partition and its indexes to a tablespace (lock, SET TABLESPACE per relation), changing nothing (internal).';

-- source: sql/src/30_plan/range_missing_slots.sql
-- pgpart._range_missing_slots(...): the grid slots of RANGES (from
-- pgpart._range_window) that no partition covers, in bound order, at most
-- LIMIT of them. A slot overlapped by any existing partition is skipped, so a
-- partition off the grid is respected; only the first slot of an explicit
-- START may not overlap one (42P17). A gap below the window whose name is
-- taken (typically by the table detached from it) is left alone: check()
-- reports it. Bounds outside the key type's range are clipped to
-- -Infinity/Infinity (MINVALUE/MAXVALUE). Reads no table, only whether a
-- relation of a slot's name exists.
CREATE OR REPLACE FUNCTION pgpart._range_missing_slots(
    p_parent regclass,
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_zone text,
    p_kind text,
    p_step numeric,
    p_frame text,
    p_origin numeric,
    p_canonical text,
    p_ranges pgpart._range[],
    p_explicit_start boolean,
    p_existing_lo numeric[],
    p_existing_hi numeric[],
    p_existing_rel regclass[],
    p_limit integer,
    p_epoch_unit text DEFAULT NULL
)
RETURNS pgpart._range[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_first_lo constant numeric := (p_ranges[1]).lo;
    -- the grid origin as a wall time: slot K starts at origin + K steps
    v_origin_wall constant timestamp := pgpart._coord_to_ts(p_origin) AT TIME ZONE 'UTC';
    -- where bounds leave the key type's range (pgpart._coord_to_literal's
    -- MINVALUE/MAXVALUE): a bound times SCALE below MIN, or above MAX (at
    -- or above it when MAX_REACHED: a uuid's 2^48 milliseconds)
    v_scale numeric := 1::numeric;
    v_min numeric := '-Infinity'::numeric;
    v_max numeric := 'Infinity'::numeric;
    v_max_reached boolean := false;
    v_range pgpart._range;
    v_slot record;
    v_near_from numeric;
    v_near_to numeric;
    v_near_lo numeric [];
    v_near_hi numeric [];
    v_near_rel regclass [];
    v_k0 numeric;
    v_count numeric;
    v_wall timestamp;
    v_months numeric;
    v_new_lo numeric [] := '{}'::numeric [];
    v_new_hi numeric [] := '{}'::numeric [];
    v_iterations integer := 0;
    v_slots pgpart._range [];
BEGIN
    IF p_key_type = 'uuid'::regtype THEN
        v_scale := 1000;
        v_min := 0;
        v_max := 281474976710656;  -- 2^48 milliseconds: year 10889
        v_max_reached := true;
    ELSIF pgpart._key_clock(p_key_type) = 'integer' THEN
        v_scale := coalesce(pgpart._epoch_scale(p_epoch_unit), 1);
        v_max := CASE p_key_type
            WHEN 'smallint'::regtype THEN 32767
            WHEN 'integer'::regtype THEN 2147483647
            ELSE 9223372036854775807::numeric
        END;
        v_min := -v_max - 1;
    END IF;
    FOREACH v_range IN ARRAY p_ranges LOOP
        -- only the partitions that can touch this range are compared below
        v_near_from := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.lo)).lo;
        v_near_to := (pgpart._slot(p_kind, p_step, p_frame, p_origin, v_range.hi)).hi;
        SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}'),
               coalesce(array_agg(e.rel ORDER BY e.lo), '{}')
        INTO v_near_lo, v_near_hi, v_near_rel
        FROM unnest(p_existing_lo, p_existing_hi, p_existing_rel) AS e (lo, hi, rel)
        WHERE e.hi > v_near_from AND e.lo < v_near_to;
        -- The slots of the range in one query (issue 16: no helper call per
        -- slot): the index of the slot holding the range's start, as
        -- pgpart._slot finds it, then every slot from there that starts
        -- below the range's end; at most as many as the walk may still take.
        IF p_kind IN ('integer', 'seconds') THEN
            v_k0 := floor((v_range.lo - p_origin) / p_step);
            v_count := ceil((v_range.hi - (p_origin + v_k0 * p_step)) / p_step);
        ELSE
            v_wall := pgpart._coord_to_ts(v_range.lo) AT TIME ZONE p_frame;
            IF p_kind = 'days' THEN
                v_k0 := floor(extract(epoch FROM (v_wall - v_origin_wall)) / (p_step * 86400));
                -- a local day lasts 23 to 25 hours: a few more, cut below
                v_count := ceil((v_range.hi - v_range.lo) / (p_step * 86400)) + 3;
            ELSE
                v_months := (extract(year FROM v_wall) - extract(year FROM v_origin_wall)) * 12
                            + extract(month FROM v_wall) - extract(month FROM v_origin_wall);
                IF v_wall < v_origin_wall + make_interval(months => v_months::int) THEN
                    v_months := v_months - 1;
                END IF;
                v_k0 := floor(v_months / p_step);
                v_count := ceil((v_range.hi - v_range.lo) / (p_step * 28 * 86400)) + 3;
            END IF;
        END IF;
        v_count := least(v_count, 100001 - v_iterations + 1);
        FOR v_slot IN
            WITH raw AS (
                SELECT g.k, b.lo, b.hi
                FROM generate_series(v_k0, v_k0 + greatest(v_count, 1) - 1) AS g (k)
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN p_kind IN ('integer', 'seconds') THEN p_origin + g.k * p_step
                                WHEN p_kind = 'days'
                                THEN extract(epoch FROM ((v_origin_wall + make_interval(days => (g.k * p_step)::int))
                                                         AT TIME ZONE p_frame))
                                ELSE extract(epoch FROM ((v_origin_wall + make_interval(months => (g.k * p_step)::int))
                                                         AT TIME ZONE p_frame)) END AS lo,
                           CASE WHEN p_kind IN ('integer', 'seconds') THEN p_origin + (g.k + 1) * p_step
                                WHEN p_kind = 'days'
                                THEN extract(epoch FROM ((v_origin_wall
                                                          + make_interval(days => ((g.k + 1) * p_step)::int))
                                                         AT TIME ZONE p_frame))
                                ELSE extract(epoch FROM ((v_origin_wall
                                                          + make_interval(months => ((g.k + 1) * p_step)::int))
                                                         AT TIME ZONE p_frame)) END AS hi
                ) AS b
            ),
            clipped AS (
                SELECT raw.k, raw.lo AS raw_lo,
                       raw.lo * v_scale > v_max OR (v_max_reached AND raw.lo * v_scale >= v_max)
                       OR raw.lo = 'Infinity'::numeric AS lo_beyond,
                       CASE WHEN raw.lo * v_scale < v_min OR raw.lo = '-Infinity'::numeric
                            THEN '-Infinity'::numeric ELSE raw.lo END AS lo,
                       CASE WHEN raw.hi * v_scale > v_max OR (v_max_reached AND raw.hi * v_scale >= v_max)
                                 OR raw.hi = 'Infinity'::numeric
                            THEN 'Infinity'::numeric ELSE raw.hi END AS hi
                FROM raw
                -- a local day a zone skipped is an empty slot: the walk
                -- pgpart._slot makes never lands on it
                WHERE raw.lo < v_range.hi AND raw.hi > raw.lo
            )
            -- the partitions do not overlap, so the first one ending above
            -- a slot's start (a binary search: width_bucket) is the only
            -- one that can hold it exactly, and the first one overlapping it
            SELECT c.raw_lo, c.lo_beyond, c.lo, c.hi,
                   CASE WHEN v_near_lo[c.i] < c.hi THEN v_near_lo[c.i] = c.lo AND v_near_hi[c.i] = c.hi END AS exact,
                   CASE WHEN v_near_lo[c.i] < c.hi THEN v_near_rel[c.i] END AS overlap
            FROM (
                SELECT clipped.*,
                       CASE WHEN cardinality(v_near_hi) > 0 THEN width_bucket(clipped.lo, v_near_hi) ELSE 0 END + 1 AS i
                FROM clipped
            ) AS c
            ORDER BY c.k
        LOOP
            v_iterations := v_iterations + 1;
            IF v_iterations > 100000 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'program_limit_exceeded',
                    MESSAGE = format('the requested window of %s spans more than 100000 partitions', p_parent),
                    HINT = 'Pass a later start or a smaller premake.';
            END IF;
            -- beyond the key type's range: MAXVALUE ends the range
            EXIT WHEN v_slot.lo_beyond;
            IF v_slot.overlap IS NULL AND NOT v_slot.lo = ANY (v_new_lo) AND v_range.lo <> v_first_lo
               AND to_regclass(format('%I.%I', p_schema, pgpart._relation_name(
                   p_relname, pgpart._slot_suffix(p_kind, p_step, p_frame, v_slot.lo)))) IS NOT NULL THEN
                -- a gap below the window whose name is taken (typically by the
                -- table detached from it): leave the gap, check() reports it
                NULL;
            ELSIF v_slot.overlap IS NULL AND NOT v_slot.lo = ANY (v_new_lo) THEN
                v_new_lo := v_new_lo || v_slot.lo;
                v_new_hi := v_new_hi || v_slot.hi;
                -- a bounded run stops at its bound; otherwise the caller
                -- refuses as soon as the cap is passed, not after walking a
                -- huge window
                EXIT WHEN cardinality(v_new_lo) >= p_limit;
            ELSIF NOT v_slot.exact AND p_explicit_start AND v_slot.raw_lo = v_first_lo THEN
                -- only an explicit start may not overlap a partition off the grid
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_object_definition',
                    MESSAGE = format('partition for the range from %s to %s would overlap partition %s',
                                     pgpart._coord_to_text(p_key_type, p_zone, v_slot.lo, p_epoch_unit),
                                     pgpart._coord_to_text(p_key_type, p_zone, v_slot.hi, p_epoch_unit),
                                     v_slot.overlap),
                    DETAIL = format('Partition %s is not on the grid of interval %L.', v_slot.overlap, p_canonical),
                    HINT = 'Pass a start that does not overlap it, or leave start out: slots taken by partitions off the grid are skipped.',
                    SCHEMA = p_schema, TABLE = p_relname;
            END IF;
            EXIT WHEN v_slot.hi = 'Infinity'::numeric;
        END LOOP;
        EXIT WHEN cardinality(v_new_lo) >= p_limit;
    END LOOP;
    -- partitions are created in bound order
    SELECT coalesce(array_agg(ROW(n.lo, n.hi)::pgpart._range ORDER BY n.lo), '{}'::pgpart._range [])
    INTO v_slots
    FROM unnest(v_new_lo, v_new_hi) AS n (lo, hi);
    RETURN v_slots;
END
$body$;

COMMENT ON FUNCTION pgpart._range_missing_slots(
    regclass, name, name, regtype, text, text, numeric, text, numeric, text, pgpart._range[], boolean,
    numeric[], numeric[], regclass[], integer, text
) IS 'The grid slots of a range plan''s window and gaps that no partition covers, in bound order, at most limit of them.';

-- source: sql/src/30_plan/range_names.sql
-- pgpart._range_names(...): the names of the new partitions for SLOTS (from
-- pgpart._range_missing_slots), in the same order: byte-limited, and never
-- an existing relation or a name given twice (42P07, DESIGN §5). With
-- CREATE_DEFAULT the name of the default partition to create is checked too
-- (it is not returned: the step builder derives it the same way).
CREATE OR REPLACE FUNCTION pgpart._range_names(
    p_parent regclass,
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_zone text,
    p_kind text,
    p_step numeric,
    p_frame text,
    p_slots pgpart._range[],
    p_create_default boolean,
    p_epoch_unit text DEFAULT NULL
)
RETURNS name[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_name name;
    v_names name [];
    v_taken record;
BEGIN
    -- every name in one query (issue 16: no helper call per slot): the
    -- suffix of pgpart._slot_suffix, shortened by pgpart._relation_name only
    -- when too long; then the first name that is taken or given twice
    WITH named AS (
        SELECT x.n, x.lo, x.hi,
               CASE WHEN octet_length(p_relname || x.suffix) <= 63 THEN (p_relname || x.suffix)::name
                    ELSE pgpart._relation_name(p_relname, x.suffix) END AS name
        FROM (
            SELECT sl.n, sl.lo, sl.hi,
                   CASE WHEN p_kind = 'integer' OR sl.lo IN ('Infinity', '-Infinity')
                        THEN pgpart._slot_suffix(p_kind, p_step, p_frame, sl.lo)
                        -- pgpart._coord_to_ts, then the wall time of the name
                        ELSE '_p' || to_char(
                            (to_timestamp(trunc(sl.lo)::float8) + make_interval(secs => (sl.lo - trunc(sl.lo))::float8))
                            AT TIME ZONE CASE WHEN p_kind = 'seconds' THEN 'UTC' ELSE p_frame END,
                            CASE WHEN p_kind <> 'seconds' THEN 'YYYYMMDD'
                                 WHEN p_step % 60 = 0 THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD_HH24MISS' END)
                   END AS suffix
            FROM unnest(p_slots) WITH ORDINALITY AS sl (lo, hi, n)
        ) AS x
    )
    SELECT array_agg(d.name ORDER BY d.n) INTO v_names FROM named AS d;
    SELECT d.name, d.lo, d.hi INTO v_taken
    FROM (
        SELECT nm.name, sl.lo, sl.hi, nm.n, row_number() OVER (PARTITION BY nm.name ORDER BY nm.n) AS seen
        FROM unnest(v_names) WITH ORDINALITY AS nm (name, n)
        JOIN unnest(p_slots) WITH ORDINALITY AS sl (lo, hi, n) ON sl.n = nm.n
    ) AS d
    WHERE d.seen > 1 OR EXISTS (
        -- an index probe of pg_class by (name, schema)
        SELECT 1 FROM pg_class AS c
        WHERE c.relname = d.name AND c.relnamespace = (SELECT ns.oid FROM pg_namespace AS ns WHERE ns.nspname = p_schema)
    )
    ORDER BY d.n
    LIMIT 1;
    IF v_taken.name IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %I.%I already exists', p_schema, v_taken.name),
            DETAIL = format('pgpart names the partition of %s for the range from %s to %s %I.', p_parent,
                            pgpart._coord_to_text(p_key_type, p_zone, v_taken.lo, p_epoch_unit),
                            pgpart._coord_to_text(p_key_type, p_zone, v_taken.hi, p_epoch_unit), v_taken.name),
            HINT = 'Rename or drop that relation, or attach it yourself if it holds this range.',
            SCHEMA = p_schema, TABLE = v_taken.name;
    END IF;
    IF p_create_default THEN
        v_name := pgpart._relation_name(p_relname, '_default');
        IF to_regclass(format('%I.%I', p_schema, v_name)) IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I.%I already exists', p_schema, v_name),
                HINT = 'Rename or drop that relation, or attach it yourself as the default partition.',
                SCHEMA = p_schema, TABLE = v_name;
        END IF;
    END IF;
    RETURN coalesce(v_names, '{}'::name []);
END
$body$;

COMMENT ON FUNCTION pgpart._range_names(
    regclass, name, name, regtype, text, text, numeric, text, pgpart._range[], boolean, text
) IS 'Names of the new range partitions for the given slots; refuses a name that is taken (42P07).';

-- source: sql/src/30_plan/range_privileges.sql
-- pgpart._require_create_privileges(parent, schema, relname, owner,
-- tablespace): refuses (42501) a plan whose partitions could not be built:
-- the caller needs CREATE on the parent's schema, so does the parent's owner
-- (new partitions belong to it), and the caller needs CREATE on TABLESPACE
-- unless it is pg_default or the database's default. Checked by the range
-- planner before any DDL, so a refused call leaves nothing behind.
CREATE OR REPLACE FUNCTION pgpart._require_create_privileges(
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

-- source: sql/src/30_plan/range_steps.sql
-- pgpart._range_steps(...): the steps of a range plan once everything is
-- decided and checked: the lock steps in the documented order; when there
-- is a default partition, one probe of it for all the new ranges
-- (pgpart._check_default_ranges; one per slot on the slot-by-slot path);
-- for each slot (with its name from pgpart._range_names) the steps that
-- build and attach the partition and its sub-partitions; the default partition when one is to be created; last
-- POLICY_STATEMENT, the registration of the policy. LOCK_STEPS are the
-- target's (pgpart._prepare), numbered from 1. Refuses nothing: every check
-- ran before (DESIGN §3, §6). Set-based (issue 16): the steps of one
-- partition are planned once and copied for every slot, and the bounds of
-- time keys are written without a helper call per slot; sub-partitions (and
-- names the copy cannot stand for) are planned slot by slot.
CREATE OR REPLACE FUNCTION pgpart._range_steps(
    p_parent regclass,
    p_lock_steps pgpart.step[],
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_key_column name,
    p_zone text,
    p_default regclass,
    p_slots pgpart._range[],
    p_names name[],
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb,
    p_create_default boolean,
    p_policy_statement text,
    p_epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_step integer := 0;
    v_parent_locks text;
    v_table text;
    v_lo_lit text;
    v_hi_lit text;
    v_sub pgpart.step;
    st pgpart.step;
    -- the steps of one partition are planned once, for a placeholder table
    -- and bound, then copied per slot: the parent's catalog (indexes,
    -- owner, owner-code guard) is read once per plan, not once per slot
    v_name_mark constant text := format('%I.%I', p_schema, p_relname || chr(1) || 'pgpart');
    v_bound_mark constant text := chr(2) || 'pgpart bound';
    v_template pgpart.step [];
    v_probe constant integer := (p_default IS NOT NULL)::integer;
    v_per integer;
    -- time keys: bounds written here rather than by a helper per slot
    v_inline constant boolean := p_key_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype);
    v_tbl text [];
    v_lo_lits text [];
    v_hi_lits text [];
    v_lo_txt text [];
    v_hi_txt text [];
BEGIN
    FOREACH st IN ARRAY p_lock_steps LOOP
        v_step := st.step;
        RETURN NEXT st;
    END LOOP;
    SELECT string_agg(l.locks, ', ' ORDER BY l.step) INTO v_parent_locks
    FROM unnest(p_lock_steps) AS l WHERE l.statement LIKE 'LOCK%';

    IF coalesce(cardinality(p_slots), 0) > 0 AND p_subpartition IS NULL THEN
        v_template := array(
            SELECT s FROM pgpart._new_partition_steps(p_parent, v_name_mark, v_bound_mark, p_tablespace, p_reloptions,
                                                      1, NULL, v_parent_locks) AS s
            ORDER BY s.step
        );
        -- the copy replaces text: each placeholder must stand exactly where
        -- the table and the bound go (a name quoted inside a literal, or one
        -- holding the placeholder's characters, takes the slow path below)
        IF EXISTS (
            SELECT 1 FROM unnest(v_template) AS t
            WHERE (length(t.statement) - length(replace(t.statement, v_name_mark, ''))) / length(v_name_mark) <> 1
               OR (length(t.statement) - length(replace(t.statement, v_bound_mark, ''))) / length(v_bound_mark)
                  <> (t.action = 'attach')::integer
        ) THEN
            v_template := NULL;
        END IF;
    END IF;

    IF v_template IS NOT NULL THEN
        v_per := cardinality(v_template);
        -- the bounds as FOR VALUES literals and as text, once per distinct
        -- coordinate and without a helper call for time keys (issue 16):
        -- what pgpart._coord_to_literal and pgpart._coord_to_text return
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', coalesce(p_zone, 'UTC'), true);  -- reverts on return (SET clause)
        END IF;
        WITH coord AS (
            SELECT c.v,
                   CASE WHEN NOT v_inline THEN pgpart._coord_to_literal(p_key_type, c.v, p_epoch_unit)
                        WHEN c.v = '-Infinity'::numeric THEN 'MINVALUE'
                        WHEN c.v = 'Infinity'::numeric THEN 'MAXVALUE'
                        WHEN p_key_type = 'date'::regtype THEN quote_literal(to_char(c.wall, 'YYYY-MM-DD'))
                        ELSE quote_literal(to_char(c.wall, CASE WHEN c.v = trunc(c.v) THEN 'YYYY-MM-DD HH24:MI:SS'
                                                                ELSE 'YYYY-MM-DD HH24:MI:SS.US' END)
                                           || CASE WHEN p_key_type = 'timestamptz'::regtype THEN '+00' ELSE '' END)
                   END AS lit,
                   CASE WHEN NOT v_inline THEN pgpart._coord_to_text(p_key_type, p_zone, c.v, p_epoch_unit)
                        WHEN c.v = '-Infinity'::numeric THEN 'MINVALUE'
                        WHEN c.v = 'Infinity'::numeric THEN 'MAXVALUE'
                        WHEN p_key_type = 'timestamptz'::regtype THEN c.ts::text
                        WHEN p_key_type = 'timestamp'::regtype THEN c.wall::text
                        ELSE c.wall::date::text
                   END AS txt
            FROM (
                SELECT u.v, t.ts, t.ts AT TIME ZONE 'UTC' AS wall
                FROM (SELECT DISTINCT b.v FROM unnest(p_slots) AS x, LATERAL (VALUES (x.lo), (x.hi)) AS b (v)) AS u
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN v_inline AND u.v NOT IN ('Infinity'::numeric, '-Infinity'::numeric)
                                THEN to_timestamp(trunc(u.v)::float8) + make_interval(secs => (u.v - trunc(u.v))::float8)
                           END AS ts
                ) AS t
            ) AS c
        )
        SELECT array_agg(format('%I.%I', p_schema, nm.name) ORDER BY x.n), array_agg(l.lit ORDER BY x.n),
               array_agg(h.lit ORDER BY x.n), array_agg(l.txt ORDER BY x.n), array_agg(h.txt ORDER BY x.n)
        INTO v_tbl, v_lo_lits, v_hi_lits, v_lo_txt, v_hi_txt
        FROM unnest(p_slots) WITH ORDINALITY AS x (lo, hi, n)
        JOIN unnest(p_names) WITH ORDINALITY AS nm (name, n) ON nm.n = x.n
        JOIN coord AS l ON l.v = x.lo
        JOIN coord AS h ON h.v = x.hi;
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', 'UTC', true);
        END IF;
        -- one probe of the default for all the new ranges, before the
        -- first is built (pgpart._check_default_ranges)
        IF v_probe = 1 THEN
            v_step := v_step + 1;
            RETURN NEXT ROW(
                v_step, CASE WHEN cardinality(v_tbl) = 1 THEN v_tbl[1] END, v_lo_txt[1], v_hi_txt[cardinality(v_hi_txt)],
                'check default',
                CASE WHEN cardinality(v_tbl) = 1
                     THEN format('SELECT pgpart._check_default_rows(%L::regclass, %L, %L, %L)',
                                 p_default::text, p_key_column, v_lo_lits[1], v_hi_lits[1])
                     ELSE format('SELECT pgpart._check_default_ranges(%L::regclass, %L, %L::text[], %L::text[])',
                                 p_default::text, p_key_column, v_lo_lits, v_hi_lits) END,
                format('ACCESS SHARE on %s (index probe%s)', p_default,
                       CASE WHEN cardinality(v_tbl) > 1 THEN format(' of %s ranges', cardinality(v_tbl)) ELSE '' END),
                false)::pgpart.step;
        END IF;
        RETURN QUERY
        WITH slot AS (
            SELECT u.* FROM unnest(v_tbl, v_lo_lits, v_hi_lits, v_lo_txt, v_hi_txt) WITH ORDINALITY
                AS u (tbl, lo_lit, hi_lit, lo_text, hi_text, n)
        )
        SELECT v_step + (slot.n::integer - 1) * v_per + t.step, slot.tbl, slot.lo_text, slot.hi_text,
               t.action,
               replace(replace(t.statement, v_name_mark, slot.tbl), v_bound_mark,
                       format('FOR VALUES FROM (%s) TO (%s)', slot.lo_lit, slot.hi_lit)),
               replace(t.locks, v_name_mark, slot.tbl), t.top_level
        FROM slot CROSS JOIN unnest(v_template) AS t
        ORDER BY 1;
        v_step := v_step + cardinality(p_slots) * v_per;
    END IF;

    FOR i IN 1 .. CASE WHEN v_template IS NULL THEN coalesce(cardinality(p_slots), 0) ELSE 0 END LOOP
        v_table := format('%I.%I', p_schema, p_names[i]);
        v_lo_lit := pgpart._coord_to_literal(p_key_type, (p_slots[i]).lo, p_epoch_unit);
        v_hi_lit := pgpart._coord_to_literal(p_key_type, (p_slots[i]).hi, p_epoch_unit);
        st.partition := v_table;
        st.lower_bound := pgpart._coord_to_text(p_key_type, p_zone, (p_slots[i]).lo, p_epoch_unit);
        st.upper_bound := pgpart._coord_to_text(p_key_type, p_zone, (p_slots[i]).hi, p_epoch_unit);
        IF p_default IS NOT NULL THEN
            v_step := v_step + 1;
            st.step := v_step;
            st.action := 'check default';
            st.statement := format('SELECT pgpart._check_default_rows(%L::regclass, %L, %L, %L)',
                                   p_default::text, p_key_column, v_lo_lit, v_hi_lit);
            st.locks := format('ACCESS SHARE on %s (index probe)', p_default);
            RETURN NEXT st;
        END IF;
        FOR v_sub IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES FROM (%s) TO (%s)', v_lo_lit, v_hi_lit), p_tablespace, p_reloptions,
            v_step + 1, p_subpartition, v_parent_locks)
        LOOP
            v_sub.lower_bound := st.lower_bound;
            v_sub.upper_bound := st.upper_bound;
            v_step := v_sub.step;
            RETURN NEXT v_sub;
        END LOOP;
    END LOOP;

    IF p_create_default THEN
        v_table := format('%I.%I', p_schema, pgpart._relation_name(p_relname, '_default'));
        FOR st IN SELECT * FROM pgpart._new_partition_steps(p_parent, v_table, 'DEFAULT', p_tablespace, p_reloptions,
                                                             v_step + 1, NULL, v_parent_locks) LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    st := ROW(v_step, NULL, NULL, NULL, 'register policy', p_policy_statement,
              'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
    RETURN NEXT st;
END
$body$;

COMMENT ON FUNCTION pgpart._range_steps(
    regclass, pgpart.step[], name, name, regtype, name, text, regclass, pgpart._range[], name[], name, text[], jsonb, boolean, text,
    text
) IS 'The ordered steps of a range plan: locks, each new partition (default-partition probe, build, attach), the default partition, the policy registration.';

-- source: sql/src/30_plan/range_window.sql
-- pgpart._range_window(kind, step, frame, origin, now, start, premake,
-- existing_lo, existing_hi): the ranges of grid coordinates a range plan
-- must cover, in the order they are filled. First the window, from START
-- (else the slot of NOW) to PREMAKE slots after NOW; then, only without
-- START, every gap between existing partitions below the window, the most
-- recent first, so that a bounded run (max_new) creates what matters most
-- first. Gaps above the window (below a partition made ahead) come right
-- after the window, nearest first. Gaps are found in one pass over the sorted bounds, so the cost grows
-- with the number of gaps, not of partitions. Pure: reads no table; the first
-- range always starts at the first slot of the window (DESIGN §5).
CREATE OR REPLACE FUNCTION pgpart._range_window(
    p_kind text,
    p_step numeric,
    p_frame text,
    p_origin numeric,
    p_now numeric,
    p_start numeric,
    p_premake integer,
    p_existing_lo numeric[],
    p_existing_hi numeric[]
)
RETURNS pgpart._range[]
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_first record;
    v_slot record;
    v_ranges pgpart._range [];
BEGIN
    v_first := pgpart._slot(p_kind, p_step, p_frame, p_origin, coalesce(p_start, p_now));
    v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, p_now);
    FOR i IN 1 .. p_premake LOOP
        v_slot := pgpart._slot(p_kind, p_step, p_frame, p_origin, v_slot.hi);
    END LOOP;
    v_ranges := ARRAY[ROW(v_first.lo, greatest(v_slot.hi, v_first.hi))::pgpart._range];
    -- gaps above the window, below a partition made ahead of it (by hand, or
    -- by moving a far-future row out of the default): nearest first. Without
    -- them check()'s gap fix would change nothing.
    -- (the window counts as covered; the running max of upper bounds makes
    -- a partition spanning others hide the gaps it covers)
    SELECT v_ranges || coalesce(array_agg(ROW(greatest(g.gap_lo, v_ranges[1].hi), g.gap_hi)::pgpart._range
                                          ORDER BY g.gap_lo), '{}')
    INTO v_ranges
    FROM (
        SELECT max(e.hi) OVER (ORDER BY e.lo ROWS UNBOUNDED PRECEDING) AS gap_lo,
               lead(e.lo) OVER (ORDER BY e.lo) AS gap_hi
        FROM unnest(p_existing_lo || v_ranges[1].lo, p_existing_hi || v_ranges[1].hi) AS e (lo, hi)
    ) AS g
    WHERE g.gap_hi IS NOT NULL AND greatest(g.gap_lo, v_ranges[1].hi) < g.gap_hi;
    IF p_start IS NULL THEN
        SELECT v_ranges || array_agg(ROW(g.gap_lo, least(g.gap_hi, v_first.lo))::pgpart._range ORDER BY g.gap_lo DESC)
        INTO v_ranges
        FROM (
            SELECT e.hi AS gap_lo, coalesce(lead(e.lo) OVER (ORDER BY e.lo), 'Infinity'::numeric) AS gap_hi
            FROM unnest(p_existing_lo, p_existing_hi) AS e (lo, hi)
        ) AS g
        WHERE g.gap_lo < least(g.gap_hi, v_first.lo);
    END IF;
    RETURN v_ranges;
END
$body$;

COMMENT ON FUNCTION pgpart._range_window(text, numeric, text, numeric, numeric, numeric, integer, numeric[], numeric[])
IS 'The coordinate ranges a range plan covers: the window from start (or now) to premake slots ahead, the gaps above it (nearest first), then the gaps below it (newest first).';

-- source: sql/src/30_plan/reconcile_apply.sql
-- pgpart._apply_reconcile(parent, move_large, timeout, retries, dry_run): carries out
-- the reconcile plan of PARENT (pgpart._reconcile_plan), shared by
-- pgpart.reconcile and the event triggers; neither checks ownership nor logs.
-- When nothing is out of step it reads only the catalog and takes no lock.
-- Otherwise, lock-bounded (DESIGN §3): the advisory lock of the parent, then
-- LOCK TABLE ONLY each partition to change (OID order; ACCESS EXCLUSIVE, or
-- SHARE UPDATE EXCLUSIVE for storage parameters alone) as one group under
-- the lock timeout with retries; then plans again under those locks, so the
-- plan cannot be stale, and runs it. All or nothing: on an error or a lock
-- timeout nothing is changed. Refuses (0A000) grant propagation on a parent
-- with row-level security or column privileges. Its DDL runs with the event
-- triggers off (function-level SET, which reverts on return).
CREATE OR REPLACE FUNCTION pgpart._apply_reconcile(
    p_parent regclass,
    p_move_large boolean,
    p_timeout interval,
    p_retries integer,
    p_dry_run boolean
)
RETURNS TABLE (partition regclass, action text, statement text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
#variable_conflict use_column
DECLARE
    v_plan pgpart._fix [];
    v_steps pgpart.step [];
    v_refused text;
BEGIN
    v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    IF NOT p_dry_run AND EXISTS (
        SELECT 1 FROM unnest(v_plan) AS f WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
    ) THEN
        -- lock what the plan touches, then plan again under those locks
        PERFORM pgpart._acquire_locks(
            array(SELECT l.statement FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step),
            p_timeout, p_retries);
        v_plan := array(SELECT f FROM pgpart._reconcile_plan(p_parent, p_move_large) AS f ORDER BY f.ord);
    END IF;

    SELECT f.detail INTO v_refused FROM unnest(v_plan) AS f WHERE f.action = 'refused';
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = v_refused,
            HINT = format('Grant access on the parent only, and turn propagation off: '
                          'SELECT pgpart.set_policy(%L, propagate_grants => false);', p_parent::text),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;

    IF NOT p_dry_run THEN
        v_steps := array(SELECT l FROM pgpart._reconcile_locks(p_parent, v_plan) AS l ORDER BY l.step)
                   || array(
                       SELECT ROW(1000000 + f.ord, f.partition::text, NULL, NULL, f.action, f.statement,
                                  f.lock_mode, false)::pgpart.step
                       FROM unnest(v_plan) AS f
                       WHERE f.action NOT IN ('skipped large', 'skipped', 'refused')
                       ORDER BY f.ord
                   );
        IF cardinality(v_steps) > 0 THEN
            PERFORM pgpart._run_steps(v_steps, p_timeout, p_retries);
        END IF;
    END IF;

    RETURN QUERY
    SELECT f.partition, f.action, f.statement, f.detail FROM unnest(v_plan) AS f ORDER BY f.ord;
END
$body$;

COMMENT ON FUNCTION pgpart._apply_reconcile(regclass, boolean, interval, integer, boolean) IS
'Carries out the reconcile plan of a parent, lock-bounded and all or nothing, with the event triggers off; returns the plan. No ownership check, no log (internal).';

-- pgpart._reconcile_plan(parent, move_large): the statements that bring every
-- partition of PARENT (all levels; foreign tables aside) in step:
--   1. owner: the parent's owner;
--   2. each local index in its partition's tablespace (seed rule: the indexes
--      of a partition, partitioned ones included, follow the partition).
--      Moving a leaf index copies its files under ACCESS EXCLUSIVE: above the
--      policy's move_large_bytes (or of unknown size) it is 'skipped large'
--      with the statement as the fix, unless MOVE_LARGE. Partitioned indexes
--      have no files and always move;
--   3. replica identity: the parent's (USING INDEX: the partition's own index
--      attached to the parent's identity index; 'skipped' if it has none);
--   4. the policy's storage parameters (leaf partitions);
--   5. with propagate_grants, the parent's table grants (revokes first).
--      Refused ('refused', no grant lines) when the parent uses row-level
--      security or column privileges: a grant on a partition bypasses them.
-- lock_mode is the lock the statement needs on the partition (NULL: none is
-- taken beforehand). Returns nothing for a parent without a policy.
-- Long (about 235 lines): one part per kind of drift listed above, all in one
-- ordered plan over one reading of the partition tree.
CREATE OR REPLACE FUNCTION pgpart._reconcile_plan(p_parent regclass, p_move_large boolean)
RETURNS SETOF pgpart._fix
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- maintenance runs this for every parent on every tick: plan the catalog
-- query once per session, and never JIT-compile it (its set-returning
-- functions' row estimates would make it look expensive)
SET jit = off
SET plan_cache_mode = force_generic_plan
-- and one parent's tree is a few rows of each catalog: index lookups only.
-- The recursive tree's row estimate (thousands) otherwise picks hash joins
-- over whole-catalog scans: 100 ms per parent with 1,000 parents, 1.5 ms
-- with these (issue 16)
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $body$
DECLARE
    v_reloptions text[];
    v_grants boolean;
    v_large bigint;
BEGIN
    SELECT c.reloptions, c.propagate_grants, c.move_large_bytes
    INTO v_reloptions, v_grants, v_large
    FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT i.inhrelid AS rel, 1 AS level FROM pg_inherits AS i WHERE i.inhparent = p_parent
        UNION ALL
        SELECT i.inhrelid, t.level + 1 FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
    ),
    db AS (
        SELECT d.dattablespace AS spc FROM pg_database AS d WHERE d.datname = current_database()
    ),
    par AS (
        SELECT
            c.relowner,
            coalesce(c.relacl, acldefault('r', c.relowner)) AS acl,
            c.relreplident,
            c.relrowsecurity OR EXISTS (
                SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL AND NOT a.attisdropped
            ) AS grants_refused,
            (SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = c.oid AND x.indisreplident) AS ident_index
        FROM pg_class AS c WHERE c.oid = p_parent
    ),
    parts AS (
        SELECT
            c.oid, c.relkind, c.relowner, c.relacl, c.relreplident, c.reloptions, c.reltoastrelid, t.level,
            coalesce(nullif(c.reltablespace, 0), db.spc) AS spc
        FROM tree AS t
        JOIN pg_class AS c ON c.oid = t.rel
        CROSS JOIN db
        WHERE c.relkind IN ('r', 'p')
    ),
    owners AS (
        SELECT
            p.level, p.oid, 1 AS kind, 0::oid AS sub, 'set owner' AS action,
            format('ALTER TABLE %s OWNER TO %I', p.oid::regclass, pg_get_userbyid(par.relowner)) AS statement,
            'ACCESS EXCLUSIVE' AS lock_mode,
            format('owned by %I, the parent by %I', pg_get_userbyid(p.relowner), pg_get_userbyid(par.relowner)) AS detail
        FROM parts AS p CROSS JOIN par
        WHERE p.relowner <> par.relowner
    ),
    misplaced AS (
        SELECT
            p.level, p.oid, p.relkind, ix.indexrelid,
            (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc) AS target,
            (SELECT t.spcname FROM pg_tablespace AS t
             WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), db.spc)) AS current_spc
        FROM parts AS p
        JOIN pg_index AS ix ON ix.indrelid = p.oid
        JOIN pg_class AS ic ON ic.oid = ix.indexrelid
        CROSS JOIN db
        WHERE coalesce(nullif(ic.reltablespace, 0), db.spc) <> p.spc
    ),
    sized AS (
        SELECT m.*, b.bytes,
               m.relkind = 'r' AND NOT p_move_large AND (b.bytes IS NULL OR b.bytes > v_large) AS large
        FROM misplaced AS m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN m.relkind = 'r' AND NOT p_move_large THEN pgpart._index_bytes(m.indexrelid) END AS bytes
        ) AS b
    ),
    indexes AS (
        SELECT
            s.level, s.oid, 2 AS kind, s.indexrelid AS sub,
            CASE WHEN s.large THEN 'skipped large' ELSE 'set index tablespace' END AS action,
            format('ALTER INDEX %s SET TABLESPACE %I', s.indexrelid::regclass, s.target) AS statement,
            CASE WHEN NOT s.large AND s.relkind = 'r' THEN 'ACCESS EXCLUSIVE' END AS lock_mode,
            format('index %s is in tablespace %s, its partition in %s', s.indexrelid::regclass, s.current_spc, s.target)
            || CASE
                WHEN NOT s.large THEN ''
                WHEN s.bytes IS NULL THEN '; its size is unknown (it is locked): moving it rewrites it under ACCESS EXCLUSIVE'
                ELSE format('; it holds %s bytes, more than move_large_bytes (%s): moving it rewrites it under '
                            'ACCESS EXCLUSIVE; run the statement, or reconcile(move_large => true), when that may block',
                            s.bytes, v_large)
            END AS detail
        FROM sized AS s
    ),
    ident AS (
        SELECT
            p.level, p.oid, par.relreplident AS want, par.ident_index,
            (SELECT x.indexrelid FROM pg_index AS x
             WHERE x.indrelid = p.oid AND par.relreplident = 'i'
               AND par.ident_index IN (SELECT a.relid FROM pg_partition_ancestors(x.indexrelid) AS a)
             LIMIT 1) AS want_index,
            p.relreplident AS have,
            (SELECT x.indexrelid FROM pg_index AS x WHERE x.indrelid = p.oid AND x.indisreplident LIMIT 1) AS have_index
        FROM parts AS p CROSS JOIN par
    ),
    idents AS (
        SELECT
            i.level, i.oid, 3 AS kind, 0::oid AS sub,
            CASE WHEN i.want = 'i' AND i.want_index IS NULL THEN 'skipped' ELSE 'set replica identity' END AS action,
            CASE i.want
                WHEN 'd' THEN format('ALTER TABLE %s REPLICA IDENTITY DEFAULT', i.oid::regclass)
                WHEN 'n' THEN format('ALTER TABLE %s REPLICA IDENTITY NOTHING', i.oid::regclass)
                WHEN 'f' THEN format('ALTER TABLE %s REPLICA IDENTITY FULL', i.oid::regclass)
                WHEN 'i' THEN format('ALTER TABLE %s REPLICA IDENTITY USING INDEX %I', i.oid::regclass,
                                     (SELECT c.relname FROM pg_class AS c WHERE c.oid = i.want_index))
            END AS statement,
            CASE WHEN i.want <> 'i' OR i.want_index IS NOT NULL THEN 'ACCESS EXCLUSIVE' END AS lock_mode,
            CASE
                WHEN i.want = 'i' AND i.want_index IS NULL
                    THEN format('no index of the partition is attached to the replica identity index %s of the parent',
                                i.ident_index::regclass)
                ELSE format('replica identity %s, the parent''s is %s',
                            CASE i.have WHEN 'd' THEN 'DEFAULT' WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
                                 ELSE 'USING INDEX ' || i.have_index::regclass::text END,
                            CASE i.want WHEN 'd' THEN 'DEFAULT' WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
                                 ELSE 'USING INDEX ' || i.ident_index::regclass::text END)
            END AS detail
        FROM ident AS i
        WHERE i.have <> i.want OR (i.want = 'i' AND i.have_index IS DISTINCT FROM i.want_index)
    ),
    opts AS (
        -- names as PostgreSQL stores them; anything but a plain (toast.)name is
        -- never spliced into a statement
        SELECT lower(btrim(split_part(o, '=', 1))) AS name, btrim(substr(o, strpos(o, '=') + 1)) AS value
        FROM unnest(v_reloptions) AS o
        WHERE strpos(o, '=') > 0
    ),
    reloptions AS (
        SELECT
            p.level, p.oid, 4 AS kind, 0::oid AS sub, 'set reloptions' AS action,
            format('ALTER TABLE %s SET (%s)', p.oid::regclass,
                   string_agg(format('%s = %L', o.name, o.value), ', ' ORDER BY o.name)) AS statement,
            'SHARE UPDATE EXCLUSIVE' AS lock_mode,
            format('storage parameters of the policy not set: %s',
                   string_agg(o.name || '=' || o.value, ', ' ORDER BY o.name)) AS detail
        FROM parts AS p
        CROSS JOIN opts AS o
        LEFT JOIN pg_class AS tc ON tc.oid = p.reltoastrelid
        WHERE p.relkind = 'r'
          AND o.name ~ '^(toast\.)?[a-z_][a-z0-9_]*$'
          AND (o.name NOT LIKE 'toast.%' OR tc.oid IS NOT NULL)
          AND NOT coalesce(CASE WHEN o.name LIKE 'toast.%' THEN tc.reloptions ELSE p.reloptions END, '{}'::text[])
              @> ARRAY[regexp_replace(o.name, '^toast\.', '') || '=' || o.value]
        GROUP BY p.level, p.oid
    ),
    want AS (
        SELECT a.grantee, a.privilege_type, bool_or(a.is_grantable) AS grantable
        FROM par CROSS JOIN LATERAL aclexplode(par.acl) AS a
        GROUP BY a.grantee, a.privilege_type
    ),
    have AS (
        -- as the partition's ACL will read once its owner is the parent's
        SELECT
            p.oid,
            CASE WHEN a.grantee = p.relowner THEN par.relowner ELSE a.grantee END AS grantee,
            a.privilege_type,
            bool_or(a.is_grantable) AS grantable
        FROM parts AS p
        CROSS JOIN par
        CROSS JOIN LATERAL aclexplode(coalesce(p.relacl, acldefault('r', p.relowner))) AS a
        GROUP BY 1, 2, 3
    ),
    pairs AS (
        SELECT p.level, p.oid, w.grantee, w.privilege_type FROM parts AS p CROSS JOIN want AS w
        UNION
        SELECT p.level, p.oid, h.grantee, h.privilege_type FROM parts AS p JOIN have AS h ON h.oid = p.oid
    ),
    diff AS (
        SELECT
            pr.level, pr.oid, pr.grantee, pr.privilege_type,
            CASE
                WHEN w.grantee IS NULL THEN 5
                WHEN h.grantee IS NULL AND NOT w.grantable THEN 7
                WHEN h.grantee IS NULL OR (w.grantable AND NOT h.grantable) THEN 8
                WHEN NOT w.grantable AND h.grantable THEN 6
            END AS kind
        FROM pairs AS pr
        LEFT JOIN want AS w ON w.grantee = pr.grantee AND w.privilege_type = pr.privilege_type
        LEFT JOIN have AS h ON h.oid = pr.oid AND h.grantee = pr.grantee AND h.privilege_type = pr.privilege_type
    ),
    grants AS (
        SELECT
            d.level, d.oid, d.kind, d.grantee AS sub,
            CASE WHEN d.kind IN (5, 6) THEN 'revoke' ELSE 'grant' END AS action,
            format(CASE d.kind
                       WHEN 5 THEN 'REVOKE %s ON %s FROM %s CASCADE'
                       WHEN 6 THEN 'REVOKE GRANT OPTION FOR %s ON %s FROM %s CASCADE'
                       WHEN 7 THEN 'GRANT %s ON %s TO %s'
                       ELSE 'GRANT %s ON %s TO %s WITH GRANT OPTION'
                   END,
                   string_agg(d.privilege_type, ', ' ORDER BY d.privilege_type), d.oid::regclass,
                   CASE WHEN d.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(d.grantee)) END) AS statement,
            NULL::text AS lock_mode,
            'grants of the parent (propagate_grants)' AS detail
        FROM diff AS d CROSS JOIN par
        WHERE v_grants AND NOT par.grants_refused AND d.kind IS NOT NULL
        GROUP BY d.level, d.oid, d.kind, d.grantee
    ),
    refused AS (
        SELECT
            0 AS level, NULL::oid AS oid, 0 AS kind, 0::oid AS sub, 'refused' AS action, NULL::text AS statement,
            NULL::text AS lock_mode,
            format('propagate_grants is on, but table %s uses row-level security or column privileges: '
                   'a grant on a partition would bypass them', p_parent) AS detail
        FROM par
        WHERE v_grants AND par.grants_refused
    ),
    plan AS (
        SELECT * FROM refused
        UNION ALL SELECT * FROM owners
        UNION ALL SELECT * FROM indexes
        UNION ALL SELECT * FROM idents
        UNION ALL SELECT * FROM reloptions
        UNION ALL SELECT * FROM grants
    )
    SELECT
        row_number() OVER (ORDER BY pl.level, pl.oid, pl.kind, pl.sub),
        pl.oid::regclass, pl.action, pl.statement, pl.lock_mode, pl.detail
    FROM plan AS pl
    ORDER BY 1;
END
$body$;

-- source: sql/src/30_plan/retention_plan.sql
-- pgpart._retention_plan(parent, now_at, online, timeout, retries): the
-- ordered steps of retention for one managed parent, each one statement
-- meant to run in its own transaction (DESIGN §3, §4):
--   finalize  a detach left pending by an interrupted DETACH CONCURRENTLY;
--   discard   a journal entry no longer valid (pgpart._journal), never acted on;
--   archive / drop  tables detached earlier whose second half is due (its
--             grace period, retention_grace, over: pgpart._follow_ups_due);
--   detach    each expired partition (pgpart._expiry: by age, size or
--             rows): with ONLINE and no default partition a journal step
--             then DETACH ... CONCURRENTLY (top level: only a client can
--             run it), else the lock-bounded plain DETACH; each followed by
--             its archive or drop step unless a grace period delays it;
--   analyze   the parent, when the policy asks for it.
-- Long (about 145 lines): the kinds of step above must come out in this
-- order from one reading of the policy, the journal and pending detaches.
CREATE OR REPLACE FUNCTION pgpart._retention_plan(
    p_parent regclass,
    p_now_at timestamptz,
    p_online boolean,
    p_timeout interval,
    p_retries integer,
    p_planned_upper numeric DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_has_default boolean;
    v_step integer := 0;
    v_follow text;
    v_detach_locks text;
    st pgpart.step;
    r record;
    v_journal record;
    v_checked boolean := false;
BEGIN
    v_cfg := pgpart._managed(p_parent);
    v_has_default := pgpart._default_partition(p_parent) IS NOT NULL;

    FOR r IN SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i WHERE i.inhparent = p_parent AND i.inhdetachpending LOOP
        v_step := v_step + 1;
        st := ROW(v_step, r.partition::text, NULL, NULL, 'finalize',
                  format('SELECT pgpart._finalize_detach(%L::regclass, %L::regclass, %L, %s)',
                         p_parent::text, r.partition::text, p_timeout, p_retries),
                  format('SHARE UPDATE EXCLUSIVE on %s, ACCESS EXCLUSIVE on %s; waits for transactions using the parent',
                         p_parent, r.partition),
                  false)::pgpart.step;
        RETURN NEXT st;
        -- a journaled retention detach: its archive or drop follows at once
        SELECT j.then_action, j.archive_schema, j.archive_tablespace, j.entry
        INTO v_journal
        FROM pgpart._journal(p_parent) AS j
        WHERE j.detached = r.partition::oid AND j.state = 'pending'
        ORDER BY j.entry DESC
        LIMIT 1;
        -- (not while its grace period lasts: pgpart._follow_ups_due plans it then)
        IF v_journal.then_action IN ('archive', 'drop') AND pgpart._grace_until(p_parent, v_journal.entry) <= greatest(p_now_at, now()) THEN
            v_step := v_step + 1;
            st := pgpart._follow_up_step(v_step, p_parent, r.partition, v_journal.then_action, v_journal.archive_schema,
                                         v_journal.archive_tablespace, p_timeout, p_retries);
            RETURN NEXT st;
        END IF;
    END LOOP;

    -- journal entries no longer valid (table gone, renamed, still attached,
    -- an owner changed): never acted on, discarded with the reason
    FOR r IN SELECT j.entry, j.detached_name, j.problem FROM pgpart._journal(p_parent) AS j WHERE j.state = 'stale' LOOP
        v_step := v_step + 1;
        RETURN NEXT ROW(v_step, r.detached_name, NULL, NULL, 'discard',
                        format('SELECT pgpart._discard_journal(%L::regclass, %s, %L, %s)',
                               p_parent::text, r.entry, p_timeout, p_retries),
                        format('none on tables (journal entry void: %s)', r.problem), false)::pgpart.step;
    END LOOP;

    FOR r IN SELECT * FROM pgpart._follow_ups_due(p_parent, p_now_at) LOOP
        v_step := v_step + 1;
        st := pgpart._follow_up_step(v_step, p_parent, r.detached, r.then_action, r.archive_schema,
                                     r.archive_tablespace, p_timeout, p_retries);
        RETURN NEXT st;
    END LOOP;

    IF v_cfg.retention IS NOT NULL OR v_cfg.retention_max_bytes IS NOT NULL OR v_cfg.retention_max_rows IS NOT NULL THEN
        IF v_cfg.referenced_retention = 'refuse' AND EXISTS (
            SELECT 1 FROM pgpart._foreign_keys_in(p_parent) AS con WHERE con.conparentid = 0
        ) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'feature_not_supported',
                MESSAGE = format('retention on table %s is refused: other tables reference it by foreign key', p_parent),
                DETAIL = format('Referencing tables: %s.',
                                (SELECT string_agg(DISTINCT con.conrelid::regclass::text, ', ')
                                 FROM pgpart._foreign_keys_in(p_parent) AS con WHERE con.conparentid = 0)),
                HINT = 'DETACH takes ACCESS EXCLUSIVE on referencing tables and fails while rows reference the partition. '
                       'To proceed anyway: SELECT pgpart.set_policy(parent, referenced_retention => ''allow'').';
        END IF;
        SELECT string_agg(l.locks, ', ') INTO v_detach_locks
        FROM pgpart._lock_statements(p_parent, p_parent) AS l
        WHERE l.locks LIKE '%(foreign key)' OR l.locks LIKE '%(default partition)';
        FOR r IN SELECT e.partition FROM pgpart._expired_partitions(p_parent, p_now_at, p_timeout, p_planned_upper) AS e LOOP
            IF NOT v_checked THEN
                -- only the policy of the table's owner (as maintenance
                -- requires, whichever path runs retention): not one a former
                -- owner wrote before ALTER ... OWNER or REASSIGN OWNED
                PERFORM pgpart._require_policy_of_owner(p_parent, v_cfg.policy_author);
                -- a bad destination (pgpart.config is writable by the owner)
                -- refuses retention before anything is detached
                IF v_cfg.retention_action = 'archive' THEN
                    PERFORM pgpart._require_archive_schema(p_parent, v_cfg.archive_schema);
                    PERFORM pgpart._require_owner_tablespace(p_parent, v_cfg.archive_tablespace, 'archive tablespace');
                END IF;
                v_checked := true;
            END IF;
            IF p_online AND NOT v_has_default THEN
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'journal',
                                format('SELECT pgpart._journal_detach(%L::regclass, %L::regclass)',
                                       p_parent::text, r.partition::text),
                                'ROW EXCLUSIVE on pgpart.log', false)::pgpart.step;
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'detach',
                                format('ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY', p_parent, r.partition),
                                concat_ws(', ', format('SHARE UPDATE EXCLUSIVE on %s and %s', p_parent, r.partition),
                                          nullif(v_detach_locks, ''), 'waits for transactions using the parent'),
                                true)::pgpart.step;
            ELSE
                v_step := v_step + 1;
                RETURN NEXT ROW(v_step, r.partition::text, NULL, NULL, 'detach',
                                format('SELECT pgpart._detach_partition(%L::regclass, %L::regclass, %L, %s)',
                                       p_parent::text, r.partition::text, p_timeout, p_retries),
                                concat_ws(', ', format('ACCESS EXCLUSIVE on %s (until commit)', p_parent),
                                          nullif(v_detach_locks, ''), format('ACCESS EXCLUSIVE on %s', r.partition)),
                                false)::pgpart.step;
            END IF;
            v_follow := v_cfg.retention_action;
            -- with a grace period the table stays detached (readable by
            -- name, pgpart.reattach_partition brings it back) until it is due
            IF v_follow IN ('archive', 'drop') AND v_cfg.retention_grace IS NULL THEN
                v_step := v_step + 1;
                st := pgpart._follow_up_step(v_step, p_parent, r.partition, v_follow, v_cfg.archive_schema,
                                             v_cfg.archive_tablespace, p_timeout, p_retries);
                RETURN NEXT st;
            END IF;
        END LOOP;
    END IF;

    IF v_step > 0 AND v_cfg.analyze_after THEN
        v_step := v_step + 1;
        -- bounded, its failure logged and not raised (pgpart._analyze_bounded)
        RETURN NEXT ROW(v_step, NULL, NULL, NULL, 'analyze',
                        format('SELECT pgpart._analyze_bounded(%L::regclass, %L)', p_parent::text, p_timeout),
                        format('SHARE UPDATE EXCLUSIVE on %s and its partitions', p_parent), false)::pgpart.step;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._retention_plan(regclass, timestamptz, boolean, interval, integer, numeric) IS
'Ordered retention steps for a managed parent, each a single statement for its own transaction.';

-- pgpart._follow_ups_due(parent, now_at): the tables retention detached
-- (journal entries still valid, pgpart._journal) whose archive or drop is
-- due: their grace period (pgpart._grace_until) is over at NOW_AT or now,
-- whichever is later (a grace period passes in real time since the
-- journaled detach; a NOW_AT ahead of the clock asks what will be due
-- then, one behind it changes nothing). The one
-- selection of due follow-ups: the retention plan, check() and maintenance's
-- report read it. DUE_AT says since when.
CREATE OR REPLACE FUNCTION pgpart._follow_ups_due(p_parent regclass, p_now_at timestamptz)
RETURNS TABLE (
    detached regclass, then_action text, archive_schema name, archive_tablespace name, entry bigint,
    due_at timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.archive_schema, j.archive_tablespace, j.entry, g.due_at
        FROM pgpart._journal(p_parent) AS j
        CROSS JOIN LATERAL (SELECT pgpart._grace_until(p_parent, j.entry) AS due_at) AS g
        -- (an entry awaiting another action, e.g. a client's export, is not SQL retention's)
        WHERE j.state = 'awaiting' AND j.then_action IN ('archive', 'drop') AND g.due_at <= greatest(p_now_at, now())
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._follow_ups_due(regclass, timestamptz) IS
'Tables detached by retention whose archive or drop is due now: journal entries still valid whose grace period is over.';

-- pgpart._in_grace(parent, now_at): the tables retention detached whose
-- archive or drop waits for the end of their grace period (valid journal
-- entries, pgpart._journal, due after NOW_AT and now): readable by name, and
-- pgpart.reattach_partition can bring them back meanwhile.
CREATE OR REPLACE FUNCTION pgpart._in_grace(p_parent regclass, p_now_at timestamptz)
RETURNS TABLE (detached regclass, then_action text, entry bigint, detached_at timestamptz, due_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.detached::regclass, j.then_action, j.entry, l.logged_at, g.due_at
        FROM pgpart._journal(p_parent) AS j
        JOIN pgpart.log AS l ON l.id = j.entry
        CROSS JOIN LATERAL (SELECT pgpart._grace_until(p_parent, j.entry) AS due_at) AS g
        WHERE j.state = 'awaiting' AND g.due_at > greatest(p_now_at, now())
        ORDER BY j.entry;
END
$body$;

COMMENT ON FUNCTION pgpart._in_grace(regclass, timestamptz) IS
'Tables detached by retention whose archive or drop waits for the end of their grace period.';

-- pgpart._reattach_plan(parent, partition): the steps that attach again a
-- table retention detached from PARENT, at the bounds its journal entry
-- recorded: a CHECK constraint equal to the partition constraint (ATTACH
-- then skips its own scan of the table under the parent's lock), the
-- ATTACH, the CHECK dropped again, and the 'reattach' row that closes the
-- journal entry (its archive or drop never happens). Only a table with an
-- open, valid journal entry: detached by retention, same OID, name and
-- owner as then, not attached since (55000 otherwise). The bound text of
-- the entry is parsed, never run: each bound is one quoted literal, a
-- number, MINVALUE or MAXVALUE, quoted again here; a range now covered by
-- another partition is refused (55000 naming it).
-- Long (about 125 lines): the checks of the journal entry and of the
-- bounds each raise with their own message before any step is planned.
CREATE OR REPLACE FUNCTION pgpart._reattach_plan(p_parent regclass, p_partition regclass)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_entry record;
    v_rel record;
    v_bound text[];
    v_values text[] := ARRAY[NULL, NULL]::text[];
    v_lo numeric;
    v_hi numeric;
    v_overlap regclass;
    v_check text;
    v_name name := 'pgpart_reattach_check'::name;
    v_parent_locks text;
BEGIN
    v_cfg := pgpart._managed(p_parent);
    SELECT l.id, l.detail, l.journal_name, l.journal_owner, l.logged_at INTO v_entry
    FROM pgpart.log AS l
    WHERE l.parent = p_parent AND l.action = 'detach' AND l.journal_oid = p_partition::oid
    ORDER BY l.id DESC
    LIMIT 1;
    IF v_entry.id IS NULL OR EXISTS (
        SELECT 1 FROM pgpart.log AS done
        WHERE
            done.parent = p_parent AND done.journal_oid = p_partition::oid AND done.id > v_entry.id
            AND done.action IN ('archive', 'drop', 'discard', 'reattach')
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not waiting as a partition detached from %s by retention', p_partition,
                             p_parent),
            DETAIL = CASE WHEN v_entry.id IS NULL THEN 'No retention journal entry in pgpart.log names it.'
                          ELSE 'Its retention journal entry is closed (archived, dropped, discarded or reattached).'
                     END,
            HINT = 'pgpart re-attaches only tables its retention detached; attach any other one by hand '
                   '(ALTER TABLE ... ATTACH PARTITION ...).';
    END IF;
    SELECT c.relname, c.relowner, c.relispartition, c.relkind, pc.relowner AS parent_owner INTO v_rel
    FROM pg_class AS c CROSS JOIN pg_class AS pc
    WHERE c.oid = p_partition AND pc.oid = p_parent;
    IF v_rel.relispartition OR v_rel.relkind NOT IN ('r', 'p') OR v_rel.relname <> v_entry.journal_name
       OR v_rel.relowner <> v_entry.journal_owner OR v_rel.parent_owner <> v_entry.journal_owner THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is no longer the table retention detached from %s', p_partition, p_parent),
            DETAIL = format('When detached it was %I, owned by %I; now it is %I, owned by %I%s.', v_entry.journal_name,
                            pg_get_userbyid(v_entry.journal_owner), v_rel.relname, pg_get_userbyid(v_rel.relowner),
                            CASE WHEN v_rel.relispartition THEN ', and a partition again' ELSE '' END),
            HINT = 'Attach it by hand if it is still the right table (ALTER TABLE ... ATTACH PARTITION ...).';
    END IF;
    -- the bounds, parsed: a quoted literal (quotes doubled inside), a number, MINVALUE or MAXVALUE
    v_bound := regexp_match(v_entry.detail ->> 'bound',
                            '^FOR VALUES FROM \(((?:''(?:[^'']|'''')*'')|-?[0-9.]+|MINVALUE)\) '
                            'TO \(((?:''(?:[^'']|'''')*'')|-?[0-9.]+|MAXVALUE)\)$');
    IF v_bound IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the retention journal of %s holds no range bound pgpart can read for %s', p_parent,
                             p_partition),
            DETAIL = format('Journaled bound: %s.', coalesce(v_entry.detail ->> 'bound', 'none')),
            HINT = 'Attach it by hand (ALTER TABLE ... ATTACH PARTITION ... FOR VALUES FROM (...) TO (...)).';
    END IF;
    FOR i IN 1..2 LOOP
        v_values[i] := CASE WHEN v_bound[i] ~ '^''' THEN replace(substr(v_bound[i], 2, length(v_bound[i]) - 2),
                                                                     '''''', '''')
                            ELSE v_bound[i] END;
    END LOOP;
    v_lo := pgpart._literal_to_coord(v_cfg.key_type, v_values[1], v_cfg.epoch_unit);
    v_hi := pgpart._literal_to_coord(v_cfg.key_type, v_values[2], v_cfg.epoch_unit);
    SELECT p.partition INTO v_overlap
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default AND p.lower_coord < v_hi AND p.upper_coord > v_lo
    ORDER BY p.lower_coord
    LIMIT 1;
    IF v_overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('cannot re-attach %s to %s: partition %s now covers part of its range', p_partition,
                             p_parent, v_overlap),
            DETAIL = format('Its range when detached: %s.', v_entry.detail ->> 'bound'),
            HINT = format('Read the detached table by name, or move its rows into %s (INSERT INTO %s SELECT ...).',
                          p_parent, p_parent);
    END IF;
    v_check := concat_ws(' AND ', format('%I IS NOT NULL', v_cfg.key_column),
                         CASE WHEN v_values[1] <> 'MINVALUE'
                              THEN format('%I >= %L::%s', v_cfg.key_column, v_values[1], v_cfg.key_type) END,
                         CASE WHEN v_values[2] <> 'MAXVALUE'
                              THEN format('%I < %L::%s', v_cfg.key_column, v_values[2], v_cfg.key_type) END);
    SELECT string_agg(l.locks, ', ') INTO v_parent_locks
    FROM pgpart._lock_statements(p_parent) AS l WHERE l.statement LIKE 'LOCK%';
    RETURN NEXT ROW(1, p_partition::text, v_values[1], v_values[2], 'check',
                    format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', p_partition, v_name, v_check),
                    format('ACCESS EXCLUSIVE on %s (detached; reads it once)', p_partition), false)::pgpart.step;
    RETURN NEXT ROW(2, p_partition::text, v_values[1], v_values[2], 'attach',
                    format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', p_parent, p_partition,
                           CASE WHEN v_values[1] = 'MINVALUE' THEN 'MINVALUE' ELSE quote_literal(v_values[1]) END,
                           CASE WHEN v_values[2] = 'MAXVALUE' THEN 'MAXVALUE' ELSE quote_literal(v_values[2]) END),
                    v_parent_locks, false)::pgpart.step;
    RETURN NEXT ROW(3, p_partition::text, v_values[1], v_values[2], 'drop check',
                    format('ALTER TABLE %s DROP CONSTRAINT %I', p_partition, v_name),
                    format('ACCESS EXCLUSIVE on %s', p_partition), false)::pgpart.step;
    RETURN NEXT ROW(4, p_partition::text, v_values[1], v_values[2], 'journal',
                    format('SELECT pgpart._log_journal(%L::regclass, %L, %s, NULL, NULL, %L::jsonb)', p_parent::text,
                           'reattach', p_partition::oid,
                           jsonb_build_object('entry', v_entry.id, 'partition', p_partition::text,
                                              'bound', v_entry.detail ->> 'bound', 'detached_at', v_entry.logged_at)),
                    'ROW EXCLUSIVE on pgpart.log', false)::pgpart.step;
END
$body$;

COMMENT ON FUNCTION pgpart._reattach_plan(regclass, regclass) IS
'Steps that re-attach a table retention detached at its journaled bounds (validated CHECK first, ATTACH, CHECK dropped, journal entry closed); 55000 when it is not such a table or its range is taken.';

-- source: sql/src/30_plan/retention_step.sql
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
CREATE OR REPLACE FUNCTION pgpart._retention_step(
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

-- source: sql/src/30_plan/run_steps.sql
-- pgpart._run_steps(steps, timeout, retries): executes a plan inside the
-- current transaction. The lock steps run first as one group under the lock
-- timeout, with retries (pgpart._acquire_locks); every other step is one
-- statement, run in order, still under the lock timeout so that nothing
-- waits unbounded. Steps marked top_level cannot run here: refused before
-- anything runs. The statements go to the server a batch at a time (one
-- EXECUTE of several statements, each still parsed and run in turn): a
-- PL/pgSQL EXECUTE per statement adds about half the time of the DDL of
-- an empty table itself (issue 16). A newline before each separator ends any
-- line comment a statement closes with.
CREATE OR REPLACE FUNCTION pgpart._run_steps(p_steps pgpart.step[], p_timeout interval, p_retries integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    -- statements per EXECUTE: enough to make the call overhead vanish,
    -- few enough that no batch text grows large
    v_batch constant integer := 10;
    v_locks text [] := array(SELECT s.statement FROM unnest(p_steps) AS s WHERE s.action = 'lock' ORDER BY s.step);
    v_top pgpart.step;
    v_sql text;
BEGIN
    SELECT s.* INTO v_top FROM unnest(p_steps) AS s WHERE s.top_level AND s.action <> 'lock' ORDER BY s.step LIMIT 1;
    IF v_top.step IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'active_sql_transaction',
            MESSAGE = format('step %s must run at top level: %s', v_top.step, v_top.statement),
            HINT = 'Run this plan with the Python client (online=True), which executes such steps outside a transaction.';
    END IF;
    IF cardinality(v_locks) > 0 THEN  -- none when pgpart._apply took them
        PERFORM pgpart._acquire_locks(v_locks, p_timeout, p_retries);
    END IF;
    PERFORM pgpart._set_lock_timeout(p_timeout);
    FOR v_sql IN
        SELECT string_agg(b.statement, E'\n;\n' ORDER BY b.n)
        FROM (
            SELECT s.statement, row_number() OVER (ORDER BY s.ord) AS n
            FROM unnest(p_steps) WITH ORDINALITY AS s (step, partition, lower_bound, upper_bound, action, statement,
                                                       locks, top_level, ord)
            WHERE s.action <> 'lock'
        ) AS b
        GROUP BY (b.n - 1) / v_batch
        ORDER BY (b.n - 1) / v_batch
    LOOP
        EXECUTE v_sql;
    END LOOP;
END
$body$;

-- source: sql/src/30_plan/split_legacy.sql
-- Splitting a converted table's legacy partition into grid partitions
-- (issue 18; docs/converting.md "Splitting the legacy partition"). The
-- legacy partition FROM (MINVALUE) TO (bound) cannot shrink without a
-- re-ATTACH, which scans it under ACCESS EXCLUSIVE unless a validated CHECK
-- proves the new bound, and no such CHECK can be validated while it still
-- takes rows of the ranges split off. So its rows are COPIED, one grid
-- range per short transaction, into tables built as pgpart builds
-- partitions (detached, their bound as a CHECK), and a row trigger on the
-- legacy partition mirrors later writes of each copied range; readers go
-- on reading the legacy partition throughout. Once every range is copied,
-- one swap transaction (catalog work only) detaches the legacy partition
-- and attaches the range tables, whose CHECKs prove their bounds. The
-- catalog is the progress record: a range table with its mirror trigger is
-- a copied range; a kill rolls back one range.

-- pgpart._split_legacy_of(parent): the legacy partition of PARENT (the leaf
-- whose lower bound is MINVALUE, as convert_to_partitioned makes it) with
-- its upper bound, or no row.
CREATE OR REPLACE FUNCTION pgpart._split_legacy_of(
    p_parent regclass,
    OUT legacy regclass,
    OUT upper_literal text,
    OUT upper_coord numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    SELECT p.partition, p.upper_literal, p.upper_coord
    INTO legacy, upper_literal, upper_coord
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default AND p.relkind = 'r' AND p.lower_literal = 'MINVALUE' AND p.upper_literal <> 'MAXVALUE'
    ORDER BY p.upper_coord
    LIMIT 1;
END
$body$;

COMMENT ON FUNCTION pgpart._split_legacy_of(regclass) IS
'The legacy partition of a parent (FROM MINVALUE, as convert_to_partitioned makes it) and its upper bound (internal).';

-- pgpart._split_floor(legacy): the floor constraint of a split
-- (CHECK (key >= floor), named pgpart_split_floor) and the floor's
-- coordinate, recorded in the constraint's comment; NULLs when absent.
CREATE OR REPLACE FUNCTION pgpart._split_floor(p_legacy regclass, OUT floor_coord numeric, OUT validated boolean)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    SELECT r.recorded::numeric, r.validated INTO floor_coord, validated
    FROM pgpart._recorded_constraint(p_legacy, 'pgpart_split_floor', 'pgpart split floor: ') AS r;
END
$body$;

COMMENT ON FUNCTION pgpart._split_floor(regclass) IS
'The floor of a split of a legacy partition (every row at or above it) and whether its CHECK is validated (internal).';

-- pgpart._split_require(parent): the checks every split step makes first:
-- the caller owns PARENT, PARENT is a managed RANGE parent, and the
-- split's mirror triggers (the owner's code: they run as the owner) never
-- run code of a role in another role's session: the caller must be the
-- owner in its own session, unless the owner is a superuser (docs/
-- security.md). Returns the legacy partition (55000 when there is none).
CREATE OR REPLACE FUNCTION pgpart._split_require(p_parent regclass)
RETURNS regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_schema name;
    v_table name;
    v_owner name;
    v_legacy regclass;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) INTO v_schema, v_table, v_owner
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a converted table managed by pgpart', p_parent),
            DETAIL = 'split_legacy splits the legacy partition that convert_to_partitioned leaves.',
            HINT = format('Convert it first: SELECT * FROM pgpart.convert_to_partitioned(%L, key => ..., '
                          '"interval" => ...); or pgpart convert %s --key ... --interval ... --legacy split.',
                          p_parent::text, p_parent),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    IF NOT pgpart._trusted_for(p_parent)
       AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = v_owner) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('pgpart splits the legacy partition of %s only in a session of its owner %I',
                             p_parent, v_owner),
            DETAIL = 'The split installs triggers that run as the owner, and copies rows through the owner''s '
                     'indexes and constraints.',
            HINT = format('Run it in a session authenticated as %I (the Python client or pgpart split-legacy '
                          'with %I''s connection string).', v_owner, v_owner),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    v_legacy := (SELECT l.legacy FROM pgpart._split_legacy_of(p_parent) AS l);
    IF v_legacy IS NULL
       AND NOT EXISTS (SELECT 1 FROM pgpart.log AS g WHERE g.parent = p_parent AND g.action = 'split_legacy') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no legacy partition to split', p_parent),
            DETAIL = 'No partition of it starts at MINVALUE, as the one convert_to_partitioned leaves does.',
            HINT = 'Nothing to do: its rows are in grid partitions already.',
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    RETURN v_legacy;
END
$body$;

COMMENT ON FUNCTION pgpart._split_require(regclass) IS
'Checks a split of a legacy partition may run (owner, a managed range parent, the owner''s session) and returns the legacy partition (internal).';

-- pgpart._split_ranges(parent, legacy, floor): the grid slots from the one
-- holding FLOOR up to the legacy bound, each with its table's name, the
-- literals and values of its bounds, whether it is copied (its table and
-- its mirror trigger exist) and a row estimate (the legacy partition's
-- reltuples spread evenly: no scan). 42P07 for a name held by another
-- relation.
CREATE OR REPLACE FUNCTION pgpart._split_ranges(p_parent regclass, p_legacy regclass, p_floor numeric)
RETURNS TABLE (
    ordinal integer, lo numeric, hi numeric, lower_literal text, upper_literal text, relation text,
    copied boolean, rows_estimate bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_top numeric;
    v_slot record;
    v_at numeric := p_floor;
    v_schema name;
    v_table name;
    v_tuples numeric;
    v_rel regclass;
    v_n integer := 0;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    v_grid := pgpart._grid(p_parent, now());
    v_top := (SELECT l.upper_coord FROM pgpart._split_legacy_of(p_parent) AS l);
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    SELECT greatest(c.reltuples, 0)::numeric INTO v_tuples FROM pg_class AS c WHERE c.oid = p_legacy;
    WHILE v_at < v_top LOOP
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_at);
        v_n := v_n + 1;
        ordinal := v_n;
        lo := v_slot.lo;
        hi := least(v_slot.hi, v_top);
        lower_literal := pgpart._coord_to_literal(v_cfg.key_type, lo, v_cfg.epoch_unit);
        upper_literal := pgpart._coord_to_literal(v_cfg.key_type, hi, v_cfg.epoch_unit);
        relation := format('%I.%I', v_schema,
                           pgpart._relation_name(v_table, pgpart._slot_suffix(v_grid.kind, v_grid.step,
                                                                              v_grid.frame, lo)));
        v_rel := to_regclass(relation);
        copied := v_rel IS NOT NULL AND EXISTS (
            SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = p_legacy AND t.tgname = 'pgpart_split_' || v_rel::oid);
        IF v_rel IS NOT NULL AND NOT copied THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', relation),
                DETAIL = format('pgpart names the partition of %s for the range from %s to %s so.', p_parent,
                                lower_literal, upper_literal),
                HINT = 'Rename or drop that relation, then split again.',
                SCHEMA = v_schema, TABLE = v_table;
        END IF;
        rows_estimate := CASE WHEN v_top > p_floor THEN round(v_tuples * (hi - lo) / (v_top - p_floor))::bigint END;
        RETURN NEXT;
        v_at := v_slot.hi;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._split_ranges(regclass, regclass, numeric) IS
'The grid ranges a split of a legacy partition copies, from the floor to its bound: names, bounds, whether copied, estimated rows (internal).';

-- pgpart._split_add_floor(parent, floor): the split's first step: CHECK
-- (key >= floor) NOT VALID on the legacy partition (a catalog change under
-- ACCESS EXCLUSIVE), so no row lands below the first range while the split
-- runs; the next step validates it online. FLOOR is the slot of the
-- lowest key when planned.
CREATE OR REPLACE FUNCTION pgpart._split_add_floor(
    p_parent regclass,
    p_floor numeric,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_legacy)],
                                  p_lock_timeout, p_lock_retries);
    IF (SELECT f.floor_coord FROM pgpart._split_floor(v_legacy) AS f) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pgpart_split_floor CHECK (%I >= %s) NOT VALID', v_legacy,
                   v_cfg.key_column, pgpart._coord_to_literal(v_cfg.key_type, p_floor, v_cfg.epoch_unit));
    EXECUTE format('COMMENT ON CONSTRAINT pgpart_split_floor ON %s IS %L', v_legacy, 'pgpart split floor: ' || p_floor);
END
$body$;

COMMENT ON FUNCTION pgpart._split_add_floor(regclass, numeric, interval, integer) IS
'First step of a split: CHECK (key >= floor) NOT VALID on the legacy partition, its floor recorded in its comment (internal).';

-- pgpart._split_validate_floor(parent): validates the floor constraint
-- online (SHARE UPDATE EXCLUSIVE: readers and writers go on). A row
-- written below the floor between the plan and the constraint fails the
-- validation: then the constraint is dropped and the next plan starts
-- lower (a NOTICE says so); nothing else was done.
CREATE OR REPLACE FUNCTION pgpart._split_validate_floor(p_parent regclass, p_lock_timeout interval)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
BEGIN
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    BEGIN
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT pgpart_split_floor', v_legacy);
        RETURN true;
    EXCEPTION WHEN check_violation THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_floor', v_legacy);
        RAISE NOTICE 'pgpart: rows arrived below the floor of the split of %; it is planned again', p_parent;
        RETURN false;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._split_validate_floor(regclass, interval) IS
'Validates the floor constraint of a split online; drops it (to be planned lower) when rows arrived below it (internal).';

-- pgpart._split_mirror_function(legacy, parent): the trigger function that
-- mirrors writes of a copied range from the legacy partition into its
-- range table, made once per legacy partition, in its schema, owned by
-- the table's owner and SECURITY DEFINER: it runs with the owner's rights
-- (the writers have none on the range tables, which get no grants), never
-- with the writer's, and runs only pgpart's text. TG_ARGV: the range
-- table, its lower and upper bound values. A TRUNCATE truncates the range
-- table. Rows are matched by the
-- primary key, else by their whole text (one scan of one range table).
CREATE OR REPLACE FUNCTION pgpart._split_mirror_function(p_legacy regclass, p_parent regclass)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_schema name;
    v_owner name;
    v_name name;
    v_fn text;
    v_cols text;
    v_vals text;
    v_match text;
    v_key text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    SELECT n.nspname, pg_get_userbyid(c.relowner), pgpart._relation_name(c.relname::text, '_pgpart_split')
    INTO v_schema, v_owner, v_name
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_legacy;
    v_fn := format('%I.%I', v_schema, v_name);
    IF to_regprocedure(v_fn || '()') IS NOT NULL THEN
        RETURN v_fn;
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('($1).%I', a.attname), ', ' ORDER BY a.attnum)
    INTO v_cols, v_vals
    FROM pg_attribute AS a
    WHERE a.attrelid = p_legacy AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
    SELECT format('(%s) = (%s)', string_agg(format('u.%I', a.attname), ', ' ORDER BY k.n),
                  string_agg(format('($1).%I', a.attname), ', ' ORDER BY k.n))
    INTO v_match
    FROM pg_index AS x
    CROSS JOIN LATERAL unnest(x.indkey::int2 []) WITH ORDINALITY AS k (attnum, n)
    JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = p_legacy AND x.indisprimary;
    IF v_match IS NULL THEN
        SELECT format('ROW(%s)::text = ROW(%s)::text', string_agg(format('u.%I', a.attname), ', ' ORDER BY a.attnum),
                      string_agg(format('($1).%I', a.attname), ', ' ORDER BY a.attnum))
        INTO v_match
        FROM pg_attribute AS a WHERE a.attrelid = p_legacy AND a.attnum > 0 AND NOT a.attisdropped;
    END IF;
    v_key := quote_ident(v_cfg.key_column);
    EXECUTE format($f$CREATE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $pgpart_split$
BEGIN
    -- pgpart: mirrors writes of one copied range (TG_ARGV: table, lower,
    -- upper) while the legacy partition is split (docs/converting.md)
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('TRUNCATE %%s', TG_ARGV[0]);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.%2$s >= TG_ARGV[1]::%3$s AND OLD.%2$s < TG_ARGV[2]::%3$s THEN
        EXECUTE format('DELETE FROM %%1$s AS t WHERE t.ctid = (SELECT u.ctid FROM %%1$s AS u WHERE %%2$s LIMIT 1)',
                       TG_ARGV[0], %4$L) USING OLD;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.%2$s >= TG_ARGV[1]::%3$s AND NEW.%2$s < TG_ARGV[2]::%3$s THEN
        EXECUTE format('INSERT INTO %%s (%%s) SELECT %%s', TG_ARGV[0], %5$L, %6$L) USING NEW;
    END IF;
    RETURN NULL;
END
$pgpart_split$$f$, v_fn, v_key, v_cfg.key_type, v_match, v_cols, v_vals);
    EXECUTE format('REVOKE ALL ON FUNCTION %s() FROM PUBLIC', v_fn);
    IF v_owner <> current_user THEN
        EXECUTE format('ALTER FUNCTION %s() OWNER TO %I', v_fn, v_owner);
    END IF;
    EXECUTE format('COMMENT ON FUNCTION %s() IS %L', v_fn,
                   format('pgpart: mirrors writes of the legacy partition %s into its copied ranges while it is '
                          'split; dropped by the swap.', p_legacy));
    RETURN v_fn;
END
$body$;

COMMENT ON FUNCTION pgpart._split_mirror_function(regclass, regclass) IS
'Makes (once) the SECURITY DEFINER trigger function, owned by the table owner, that mirrors writes of copied ranges of a legacy partition into their tables (internal).';

-- pgpart._split_copy_range(parent, lo, hi, ...): copies ONE grid range of
-- the legacy partition, in the caller's transaction: locks the legacy
-- partition against writers only (SHARE ROW EXCLUSIVE: readers go on;
-- writers of other partitions too), builds the range's table as pgpart
-- builds a partition (LIKE the parent, owner, tablespace, indexes) with
-- its bound as a CHECK (made on the empty table: valid at once), copies
-- the range's rows into it and installs the mirror trigger for later
-- writes. Bounded work: one slot's rows. Returns the rows copied (0 when
-- the range was copied already).
CREATE OR REPLACE FUNCTION pgpart._split_copy_range(
    p_parent regclass,
    p_lo numeric,
    p_hi numeric,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
    v_range record;
    v_floor record;
    v_step pgpart.step;
    v_rel regclass;
    v_cols text;
    v_count bigint;
    v_fn text;
    v_lo_value text;
    v_hi_value text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', v_legacy)],
                                  p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    IF NOT coalesce(v_floor.validated, false) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the split of %s has no validated floor yet', p_parent),
            HINT = 'Run the steps of pgpart.split_legacy(..., dry_run => true) in order.';
    END IF;
    SELECT * INTO v_range FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r
    WHERE r.lo = p_lo AND r.hi = p_hi;
    IF v_range.ordinal IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s to %s is not a range of the split of %s', p_lo, p_hi, p_parent),
            HINT = 'Plan again: SELECT * FROM pgpart.split_legacy(..., dry_run => true).';
    END IF;
    IF v_range.copied THEN
        RETURN 0::bigint;
    END IF;
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_range.relation,
            format('FOR VALUES FROM (%s) TO (%s)', v_range.lower_literal, v_range.upper_literal),
            pgpart._target_tablespace(p_parent, v_cfg.tablespace), v_cfg.reloptions, 1) AS s
        WHERE s.action NOT IN ('attach', 'replica identity')
        ORDER BY s.step
    LOOP
        EXECUTE v_step.statement;
    END LOOP;
    v_rel := v_range.relation::regclass;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pgpart_split_range CHECK (%I >= %s AND %I < %s)', v_rel,
                   v_cfg.key_column, v_range.lower_literal, v_cfg.key_column, v_range.upper_literal);
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
    FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s WHERE %I >= %s AND %I < %s', v_rel, v_cols, v_cols,
                   v_legacy, v_cfg.key_column, v_range.lower_literal, v_cfg.key_column, v_range.upper_literal);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_fn := pgpart._split_mirror_function(v_legacy, p_parent);
    EXECUTE format('SELECT (%s::%s)::text, (%s::%s)::text', v_range.lower_literal, v_cfg.key_type,
                   v_range.upper_literal, v_cfg.key_type) INTO v_lo_value, v_hi_value;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s(%L, %L, %L)',
                   'pgpart_split_' || v_rel::oid, v_legacy, v_fn, v_rel::text, v_lo_value, v_hi_value);
    -- TRUNCATE of the legacy partition (or of the parent) empties the copy too
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
                   'pgpart_split_truncate_' || v_rel::oid, v_legacy, v_fn, v_rel::text, v_lo_value, v_hi_value);
    PERFORM pgpart._log(p_parent, 'split_legacy_range', 'ok',
                        jsonb_build_object('table', v_rel::text, 'rows', v_count, 'range', v_range.ordinal));
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._split_copy_range(regclass, numeric, numeric, interval, integer) IS
'Copies one grid range of a legacy partition into its new table (built detached, bound as CHECK) and installs its mirror trigger, in one short transaction (internal).';

-- pgpart._split_swap(parent, keep, ...): the split's last step, one short
-- transaction of catalog work: locks the parent and the legacy partition
-- ACCESS EXCLUSIVE (and every range table) under the lock timeout, checks
-- every range is copied (the validated floor proves no row lies below the
-- first), drops the mirror triggers, DETACHes the legacy partition and
-- ATTACHes each range table (no scan: its CHECK proves the bound; no index
-- build: each parent index adopts its twin), then drops the legacy table
-- or, with KEEP, leaves it detached. Global unique constraints: their
-- side tables hold values, not rows; the rows only change tables, so the
-- legacy partition is unmarked without releasing its values and each range
-- table is marked without copying (pgpart._gu_mark). Returns the number
-- of range tables attached.
CREATE OR REPLACE FUNCTION pgpart._split_swap(
    p_parent regclass,
    p_keep boolean,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_floor record;
    v_gu pgpart.global_unique;
    v_trigger name;
    v_fn text;
    v_n integer := 0;
    v_rows bigint := 0::bigint;
    v_tables text [];
    v_lower text [];
    v_upper text [];
BEGIN
    IF v_legacy IS NULL THEN
        RETURN 0;
    END IF;
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    IF NOT coalesce(v_floor.validated, false)
       OR EXISTS (SELECT 1 FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r WHERE NOT r.copied) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the legacy partition %s of %s is not ready for its swap', v_legacy, p_parent),
            DETAIL = 'Every range must be copied first.',
            HINT = 'Run the steps of pgpart.split_legacy(..., dry_run => true) in order.';
    END IF;
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)),
              format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent),
              format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_legacy)]
        || array(SELECT format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', r.relation)
                 FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r ORDER BY r.ordinal),
        p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- read before the DETACH (the ranges end at the legacy bound)
    SELECT array_agg(r.relation ORDER BY r.ordinal), array_agg(r.lower_literal ORDER BY r.ordinal),
           array_agg(r.upper_literal ORDER BY r.ordinal)
    INTO v_tables, v_lower, v_upper
    FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r;
    -- the mirror triggers and their function go first (catalog only)
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = v_legacy AND t.tgname LIKE 'pgpart\_split\_%' ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, v_legacy);
    END LOOP;
    v_fn := pgpart._split_mirror_function(v_legacy, p_parent);
    EXECUTE format('DROP FUNCTION %s()', v_fn);
    FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_parent ORDER BY g.id LOOP
        PERFORM pgpart._gu_unmark(v_gu, v_legacy);
    END LOOP;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, v_legacy);
    FOR v_i IN 1 .. coalesce(cardinality(v_tables), 0) LOOP
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', p_parent,
                       v_tables[v_i], v_lower[v_i], v_upper[v_i]);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_range', v_tables[v_i]);
        IF (SELECT c.relreplident FROM pg_class AS c WHERE c.oid = p_parent) <> 'd' THEN
            PERFORM pgpart._copy_replica_identity(v_tables[v_i]::regclass);
        END IF;
        FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_parent ORDER BY g.id LOOP
            PERFORM pgpart._gu_mark(v_gu, v_tables[v_i]::regclass);
        END LOOP;
        v_n := v_n + 1;
    END LOOP;
    SELECT greatest(c.reltuples, 0)::bigint INTO v_rows FROM pg_class AS c WHERE c.oid = v_legacy;
    PERFORM pgpart._log(p_parent, 'split_legacy', 'ok', jsonb_build_object(
        'legacy', v_legacy::text, 'ranges', v_n, 'kept', p_keep, 'rows_estimate', v_rows));
    IF p_keep THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_floor', v_legacy);
        EXECUTE format('DROP INDEX IF EXISTS %I.%I',
                       (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                        WHERE c.oid = v_legacy),
                       (SELECT pgpart._relation_name(c.relname::text, '_pgpart_split_key') FROM pg_class AS c
                        WHERE c.oid = v_legacy));
    ELSE
        EXECUTE format('DROP TABLE %s', v_legacy);
    END IF;
    RETURN v_n;
END
$body$;

COMMENT ON FUNCTION pgpart._split_swap(regclass, boolean, interval, integer) IS
'Last step of a split: detaches the legacy partition and attaches the copied range tables in one short transaction (catalog work only), then drops or keeps the old table (internal).';

-- pgpart._split_plan(parent, keep, lock_timeout, lock_retries): the steps
-- left of the split of PARENT's legacy partition, planned from the catalog
-- (a step whose effect is present is left out): an index on the key of
-- the legacy partition when none leads with it (CONCURRENTLY, at top
-- level), the floor, its validation, each range not yet copied ('copy range k of n', with the
-- estimated rows), then the swap. Empty once split.
CREATE OR REPLACE FUNCTION pgpart._split_plan(
    p_parent regclass,
    p_keep boolean,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS TABLE (step integer, action text, statement text, locks text, transaction text, rows_estimate bigint)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
    v_grid record;
    v_floor record;
    v_floor_coord numeric;
    v_min text;
    v_total integer;
    v_range record;
    v_n integer := 0;
    v_args text := format('%L::interval, %s', p_lock_timeout, p_lock_retries);
    v_index name;
    v_schema name;
    v_valid boolean;
BEGIN
    IF v_legacy IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    -- each range is read by an index range scan: without an index led by
    -- the key, every copy would scan the whole legacy partition while its
    -- writers wait; so one is built online first (on the legacy partition
    -- only; it goes with it)
    SELECT n.nspname, pgpart._relation_name(c.relname::text, '_pgpart_split_key') INTO v_schema, v_index
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = v_legacy;
    SELECT x.indisvalid INTO v_valid
    FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
    WHERE x.indrelid = v_legacy AND ic.relname = v_index;
    IF FOUND AND NOT v_valid THEN  -- a build that was killed
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'drop invalid index ' || v_index,
            format('DROP INDEX CONCURRENTLY %I.%I', v_schema, v_index),
            format('SHARE UPDATE EXCLUSIVE on %s', v_legacy), 'autocommit', NULL::bigint;
    END IF;
    IF NOT coalesce(v_valid, false) AND NOT EXISTS (
        SELECT 1 FROM pg_index AS x
        JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
        WHERE x.indrelid = v_legacy AND x.indisvalid AND x.indpred IS NULL AND a.attname = v_cfg.key_column
          AND (SELECT m.amname FROM pg_class AS ic JOIN pg_am AS m ON m.oid = ic.relam
               WHERE ic.oid = x.indexrelid) = 'btree') THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'index the key',
            format('CREATE INDEX CONCURRENTLY %I ON %s (%I)', v_index, v_legacy, v_cfg.key_column),
            format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans it)', v_legacy), 'autocommit',
            (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class AS c WHERE c.oid = v_legacy);
    END IF;
    v_grid := pgpart._grid(p_parent, now());
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    v_floor_coord := v_floor.floor_coord;
    IF v_floor_coord IS NULL THEN
        -- the slot of the lowest key (an index probe with an index on it)
        EXECUTE format('SELECT (SELECT %I FROM ONLY %s ORDER BY 1 LIMIT 1)::text', v_cfg.key_column, v_legacy)
        INTO v_min;
        v_floor_coord := coalesce(
            (pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                          pgpart._literal_to_coord(v_cfg.key_type, v_min, v_cfg.epoch_unit))).lo,
            (SELECT l.upper_coord FROM pgpart._split_legacy_of(p_parent) AS l));
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'split floor',
            format('SELECT pgpart._split_add_floor(%L::regclass, %s, %s)', p_parent::text, v_floor_coord, v_args),
            format('ACCESS EXCLUSIVE on %s (catalog only)', v_legacy), 'own', NULL::bigint;
    END IF;
    IF NOT coalesce(v_floor.validated, false) THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'validate split floor',
            format('SELECT pgpart._split_validate_floor(%L::regclass, %L::interval)', p_parent::text, p_lock_timeout),
            format('SHARE UPDATE EXCLUSIVE on %s (a scan; readers and writers go on)', v_legacy), 'own',
            (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class AS c WHERE c.oid = v_legacy);
    END IF;
    SELECT count(*)::integer INTO v_total FROM pgpart._split_ranges(p_parent, v_legacy, v_floor_coord) AS r;
    IF v_total > pgpart._max_new_tables() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('the legacy partition %s of %s spans %s ranges of the grid, more than the %s one swap '
                             'may attach', v_legacy, p_parent, v_total, pgpart._max_new_tables()),
            DETAIL = 'The swap attaches every range table in one transaction, holding a few locks for each.',
            HINT = 'Keep the legacy partition until retention drops it, or delete its oldest rows first.';
    END IF;
    FOR v_range IN
        SELECT * FROM pgpart._split_ranges(p_parent, v_legacy, v_floor_coord) AS r WHERE NOT r.copied ORDER BY r.ordinal
    LOOP
        v_n := v_n + 1;
        step := v_n;
        action := format('copy range %s of %s', v_range.ordinal, v_total);
        statement := format('SELECT pgpart._split_copy_range(%L::regclass, %s, %s, %s)', p_parent::text, v_range.lo,
                            v_range.hi, v_args);
        locks := format('SHARE ROW EXCLUSIVE on %s (writers of it wait; readers go on), ACCESS EXCLUSIVE on %s (new)',
                        v_legacy, v_range.relation);
        transaction := 'own';
        rows_estimate := v_range.rows_estimate;
        RETURN NEXT;
    END LOOP;
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, CASE WHEN p_keep THEN 'swap (keep the legacy table detached)' ELSE 'swap' END,
        format('SELECT pgpart._split_swap(%L::regclass, %L::boolean, %s)', p_parent::text, p_keep, v_args),
        format('ACCESS EXCLUSIVE on %s, %s and the %s range tables (catalog only)', p_parent, v_legacy, v_total),
        'own', NULL::bigint;
END
$body$;

COMMENT ON FUNCTION pgpart._split_plan(regclass, boolean, interval, integer) IS
'The steps left of the split of a legacy partition, planned from the catalog: floor, its validation, one copy per range, the swap (internal).';

-- source: sql/src/40_api/add_global_unique.sql
-- pgpart.add_global_unique(parent, columns, ...): makes COLUMNS unique
-- across every partition of PARENT, now and future (docs/global-unique.md).
-- PostgreSQL refuses such a unique index on a partitioned table unless it
-- includes the partition key; pgpart keeps the values in a side table with
-- a real unique index named after the constraint, so a violation is
-- PostgreSQL's own 23505 naming the constraint and the value. The side table
-- lives in the parent's schema and belongs to the parent's owner (it can be
-- the target of a foreign key); writers get on it the rights their triggers
-- need, mirrored from their rights on the parent.
--
-- One transaction: the triggers first, then (BUILD) the existing values,
-- copied while every partition is locked against writes (SHARE ROW
-- EXCLUSIVE, from the triggers' creation) -- fine for small tables. For a
-- large one, pass build => false (the triggers record every write from the
-- commit on) and run the online, resumable pgpart.build_global_unique.
-- Called again with the same name and columns it repairs what is missing
-- (triggers, partitions not recorded, values of detached ones; with PRUNE
-- the values of dropped partitions), so it is also check()'s fix.
-- PARENT may also be a plain table about to be converted (issue 18): its
-- own rows are then the tree, and pgpart._gu_rebind moves the constraint
-- to the new partitioned parent at the swap.
-- Long (about 160 lines): argument checks, the creation and the repair path
-- share the one verb.
CREATE OR REPLACE FUNCTION pgpart.add_global_unique(
    parent regclass,
    columns name[],
    constraint_name name DEFAULT NULL,
    nulls_not_distinct boolean DEFAULT false,
    build boolean DEFAULT true,
    prune boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS TABLE (unique_constraint name, side_table regclass, state text, partitions integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
#variable_conflict use_variable
DECLARE
    p_parent ALIAS FOR parent;
    p_columns ALIAS FOR columns;
    p_name ALIAS FOR constraint_name;
    p_nnd ALIAS FOR nulls_not_distinct;
    p_build ALIAS FOR build;
    p_prune ALIAS FOR prune;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_rel pg_class;
    v_schema name;
    v_name name;
    v_side name;
    v_gu pgpart.global_unique;
    v_leaf regclass;
    v_statement text;
    v_missing name;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    SELECT * INTO v_rel FROM pg_class AS c WHERE c.oid = p_parent;
    v_schema := (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = v_rel.relnamespace);
    -- a partitioned table, or a plain one about to be converted (its own
    -- rows are the "tree": docs/global-unique.md); not a partition, a view,
    -- a foreign table, nor a table in an inheritance tree
    IF NOT (v_rel.relkind = 'p'
            OR (v_rel.relkind = 'r' AND NOT v_rel.relispartition
                AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE p_parent IN (i.inhrelid, i.inhparent)))) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = format('relation %s is neither a partitioned table nor a plain table', p_parent),
            DETAIL = CASE WHEN v_rel.relispartition THEN 'It is a partition: the constraint belongs on the parent.'
                          WHEN v_rel.relkind = 'r' THEN 'It is part of an inheritance tree.'
                          ELSE 'A global unique constraint spans the partitions of a partitioned table, or the rows '
                               'of a plain table about to be converted.' END,
            HINT = CASE WHEN v_rel.relispartition THEN 'Add it to the partitioned table at the top of the tree.'
                        ELSE 'Name a partitioned table, or an ordinary table without inheritance.' END,
            SCHEMA = v_schema, TABLE = v_rel.relname;
    END IF;
    IF p_columns IS NULL OR cardinality(p_columns) NOT BETWEEN 1 AND 32
       OR array_position(p_columns, NULL) IS NOT NULL
       OR (SELECT count(DISTINCT c) FROM unnest(p_columns) AS u (c)) <> cardinality(p_columns) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid column list %s for a global unique constraint on %s',
                             coalesce(p_columns::text, 'NULL'), p_parent),
            HINT = 'Pass 1 to 32 distinct column names, e.g. ARRAY[''email''].';
    END IF;
    SELECT u.c INTO v_missing FROM unnest(p_columns) AS u (c)
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_parent AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_column',
            MESSAGE = format('column %I of table %s does not exist', v_missing, p_parent),
            HINT = 'Name columns of the parent table.',
            SCHEMA = v_schema, TABLE = v_rel.relname, COLUMN = v_missing;
    END IF;
    IF coalesce(p_nnd, false) AND current_setting('server_version_num')::integer < 150000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'NULLS NOT DISTINCT needs PostgreSQL 15 or later',
            HINT = 'Leave nulls_not_distinct false on this server.';
    END IF;
    IF p_build IS NULL OR p_prune IS NULL OR p_nnd IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'build, prune and nulls_not_distinct must not be NULL',
            HINT = 'Pass true or false.';
    END IF;

    -- built as text: a name longer than 63 bytes would be cut by the cast,
    -- so it is shortened with a hash of the whole first
    v_name := (SELECT CASE WHEN octet_length(t.n) > 63 THEN format('%s_%s_gkey', left(t.n, 40), left(md5(t.n), 8))
                           ELSE t.n END
               FROM (SELECT coalesce(p_name::text, format('%s_%s_gkey', v_rel.relname,
                                                          array_to_string(p_columns, '_'))) AS n) AS t)::name;
    v_side := (CASE WHEN octet_length(v_name) <= 56 THEN v_name || '_values'
                    ELSE format('%s_%s_values', left(v_name, 40), left(md5(v_name), 8)) END)::name;

    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = v_name;
    IF FOUND AND (v_gu.columns <> p_columns OR v_gu.nulls_not_distinct <> p_nnd) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_object',
            MESSAGE = format('global unique constraint %I on %s already exists with columns %s', v_name, p_parent,
                             v_gu.columns::text),
            HINT = format('Drop it first: SELECT pgpart.drop_global_unique(%L, %L), or choose another name.',
                          p_parent::text, v_name);
    END IF;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.columns = p_columns) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('columns %s of %s already have a global unique constraint', p_columns::text,
                                 p_parent),
                HINT = 'pgpart.global_unique_info() lists it.';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_class AS c
                   WHERE c.relnamespace = v_rel.relnamespace AND c.relname IN (v_name, v_side)) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %I or %I already exists in schema %I', v_name, v_side, v_schema),
                DETAIL = 'The side table and its unique index are named after the constraint.',
                HINT = 'Pass another constraint_name.';
        END IF;
        -- the side table: the columns with their types and collations
        EXECUTE format('CREATE TABLE %I.%I (%s)', v_schema, v_side,
                       (SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                                 CASE WHEN a.attcollation <> 0 THEN
                                                     (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                                                      FROM pg_collation AS co
                                                      JOIN pg_namespace AS cn ON cn.oid = co.collnamespace
                                                      WHERE co.oid = a.attcollation) ELSE '' END), ', ' ORDER BY u.n)
                        FROM unnest(p_columns) WITH ORDINALITY AS u (c, n)
                        JOIN pg_attribute AS a ON a.attrelid = p_parent AND a.attname = u.c));
        EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I UNIQUE %s(%s)', v_schema, v_side, v_name,
                       CASE WHEN p_nnd THEN 'NULLS NOT DISTINCT ' ELSE '' END,
                       (SELECT string_agg(quote_ident(c), ', ' ORDER BY n)
                        FROM unnest(p_columns) WITH ORDINALITY AS u (c, n)));
        IF (SELECT c.relowner FROM pg_class AS c WHERE c.oid = format('%I.%I', v_schema, v_side)::regclass)
           <> v_rel.relowner THEN
            EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', v_schema, v_side, pg_get_userbyid(v_rel.relowner));
        END IF;
        EXECUTE format('COMMENT ON TABLE %I.%I IS %L', v_schema, v_side,
                       format('pgpart: the values of global unique constraint %s on %s, kept by its triggers '
                              '(see pgpart.global_unique_info()). Do not write it directly.', v_name, p_parent));
        INSERT INTO pgpart.global_unique (id, parent, constraint_name, side_table, columns, nulls_not_distinct,
                                          insert_sql, delete_sql)
        SELECT s.side::oid, p_parent, v_name, s.side, p_columns, p_nnd,
               pgpart._gu_sql(ROW(0, p_parent, v_name, s.side, p_columns, p_nnd, '', '', 'building', '{}', NULL,
                                  current_user, now())::pgpart.global_unique, 'insert'),
               pgpart._gu_sql(ROW(0, p_parent, v_name, s.side, p_columns, p_nnd, '', '', 'building', '{}', NULL,
                                  current_user, now())::pgpart.global_unique, 'delete')
        FROM (SELECT format('%I.%I', v_schema, v_side)::regclass AS side) AS s
        RETURNING * INTO v_gu;
        FOR v_statement IN SELECT s.s FROM pgpart._gu_grant_statements(v_gu) AS s (s) LOOP
            EXECUTE v_statement;
        END LOOP;
    END IF;

    -- the stored statements follow a renamed side table
    IF v_gu.insert_sql <> pgpart._gu_sql(v_gu, 'insert') OR v_gu.delete_sql <> pgpart._gu_sql(v_gu, 'delete') THEN
        UPDATE pgpart.global_unique AS g
        SET insert_sql = pgpart._gu_sql(v_gu, 'insert'), delete_sql = pgpart._gu_sql(v_gu, 'delete')
        WHERE g.id = v_gu.id
        RETURNING * INTO v_gu;
    END IF;
    -- Writers wait at most the lock timeout: the triggers' creation locks
    -- the parent and each partition SHARE ROW EXCLUSIVE; a build keeps the
    -- whole tree so until commit, so that no write escapes the copy.
    PERFORM pgpart._acquire_locks(
        ARRAY[format('LOCK TABLE %s%s IN SHARE ROW EXCLUSIVE MODE', CASE WHEN p_build THEN '' ELSE 'ONLY ' END,
                     p_parent)],
        p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    PERFORM pgpart._gu_install(v_gu);
    -- detached tables release their values; new leaves are recorded (a
    -- building constraint's leaves are marked and copied below)
    IF v_gu.state = 'valid' THEN
        PERFORM pgpart._gu_sync(p_parent);
    ELSE
        FOR v_leaf IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            PERFORM pgpart._gu_mark(v_gu, v_leaf);
        END LOOP;
        PERFORM pgpart._gu_sync(p_parent);
        IF p_build THEN
            FOR v_leaf IN SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) LOOP
                PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, NULL, NULL, false));
            END LOOP;
            UPDATE pgpart.global_unique AS g SET state = 'valid', build = '{}'::jsonb WHERE g.id = v_gu.id
            RETURNING * INTO v_gu;
        END IF;
    END IF;
    IF p_prune THEN
        EXECUTE format('DELETE FROM %s AS s WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s)', v_gu.side_table,
                       p_parent,
                       (SELECT string_agg(format('(s.%1$I = t.%1$I OR (s.%1$I IS NULL AND t.%1$I IS NULL))', c),
                                          ' AND ')
                        FROM unnest(v_gu.columns) AS u (c)));
        UPDATE pgpart.global_unique AS g SET stale_since = NULL WHERE g.id = v_gu.id RETURNING * INTO v_gu;
    END IF;
    PERFORM pgpart._log(p_parent, 'add_global_unique', 'ok',
                        jsonb_build_object('constraint', v_name, 'columns', to_jsonb(p_columns),
                                           'state', v_gu.state, 'prune', p_prune));
    unique_constraint := v_name;
    side_table := v_gu.side_table;
    state := v_gu.state;
    partitions := (SELECT count(*) FROM pgpart._gu_marked(v_gu))::integer;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.add_global_unique(regclass, name[], name, boolean, boolean, boolean, interval, integer) IS
'Makes columns unique across every partition of a partitioned table, or across a plain table about to be converted (a side table with a unique index named after the constraint, kept by triggers); with build => false the existing rows are left to pgpart.build_global_unique; called again, repairs what is missing.';

-- source: sql/src/40_api/add_list_values.sql
-- pgpart.add_list_values(partition, values, ...): adds values to an existing
-- LIST partition. PostgreSQL cannot change a bound in place, so this is an
-- EXPLICITLY BLOCKING operation, in one short transaction:
--   1. lock the parent, the default partition and the partition ACCESS
--      EXCLUSIVE (under the lock timeout, with retries): every query on the
--      parent waits until commit;
--   2. give the partition a validated CHECK (key IS NOT NULL AND key IN
--      (old and new values)) - this scans the partition, under the lock;
--   3. DETACH it and ATTACH it again with the new bound: the CHECK implies the
--      bound, so ATTACH does not scan it again; drop the CHECK.
-- The IS NOT NULL matters: without it PostgreSQL does not see that the CHECK
-- implies a bound on a nullable key (verified), and would scan.
-- prepare → lock → plan (pgpart._list_values_to_add, _plan_list_values) →
-- apply, as every verb.
CREATE OR REPLACE FUNCTION pgpart.add_list_values(
    partition regclass,
    "values" jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_partition ALIAS FOR partition;
    p_values ALIAS FOR "values";
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parent regclass;
    v_key record;
    v_target pgpart._target;
    v_values record;
    v_steps pgpart.step [];
BEGIN
    SELECT i.inhparent::regclass INTO v_parent FROM pg_inherits AS i WHERE i.inhrelid = p_partition;
    IF v_parent IS NULL THEN
        -- argument errors come first, as for every verb (pgpart._prepare)
        PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', p_partition),
            HINT = 'Pass a partition of a LIST-partitioned table.';
    END IF;
    -- prepare (owner, lock arguments, the locks of a detach of p_partition)
    -- → the LIST key → bounded values (54000) → lock → plan → apply
    v_target := pgpart._prepare(v_parent, NULL, p_lock_timeout, p_lock_retries, now(), p_detaching => p_partition);
    v_key := pgpart._key_of(v_parent, 'l');
    v_target.strategy := 'list';
    v_target.key_column := v_key.key_column;
    v_target.key_type := v_key.key_type;
    v_target.key_format := v_key.key_format;
    PERFORM pgpart._check_list_size(v_parent, p_values, 'the values to add to table');
    IF NOT p_dry_run THEN
        -- lock first: the bound read by the plan must not change before the re-attach
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_values := pgpart._list_values_to_add(v_target, p_partition, p_values);
    v_steps := array(SELECT s FROM pgpart._plan_list_values(v_target, p_partition, v_values.old_values,
                                                            v_values.new_values) AS s);
    IF NOT p_dry_run AND cardinality(v_steps) > 0 THEN
        PERFORM pgpart._apply(v_target, v_steps, 'add_list_values',
                              jsonb_build_object('partition', p_partition::text, 'added', to_jsonb(v_values.new_values)));
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

-- source: sql/src/40_api/apply_plan.sql
-- Applying a saved maintenance plan (pgpart.save_plan): exactly its steps,
-- or nothing at all when the plan no longer describes the database.

-- pgpart._check_plan(plan): raises unless PLAN is a saved plan of this
-- database whose every table still has the fingerprint it was planned from
-- and whose steps are exactly those pgpart plans for it now (the same
-- run_maintenance dry run at the plan's now_at). WHY both: the fingerprint
-- names what changed (partitions or policy) in the error; the fresh plan
-- is what makes a file safe to apply: a statement runs only when pgpart
-- itself generates it now, so an edited file cannot run arbitrary SQL.
-- Reads only; every table is checked before anything is changed.
CREATE OR REPLACE FUNCTION pgpart._check_plan(p_plan jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_entry jsonb;
    v_parent regclass;
    v_now jsonb;
    v_fresh jsonb;
    v_saved jsonb;
    v_step integer;
    v_what text;
BEGIN
    IF p_plan IS NULL OR jsonb_typeof(p_plan) <> 'object' OR p_plan ->> 'format' IS DISTINCT FROM 'pgpart-plan/1'
       OR jsonb_typeof(p_plan -> 'tables') IS DISTINCT FROM 'array'
       OR jsonb_typeof(p_plan -> 'online') IS DISTINCT FROM 'boolean'
       OR p_plan ->> 'now_at' IS NULL OR p_plan ->> 'lock_timeout' IS NULL OR p_plan ->> 'lock_retries' IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'not a saved pgpart plan',
            DETAIL = format('Expected a jsonb object of format pgpart-plan/1 with tables, online, now_at, '
                            'lock_timeout and lock_retries; got format %s.',
                            coalesce(p_plan ->> 'format', 'none')),
            HINT = 'Make the plan with pgpart.save_plan() or pgpart maintain --dry-run --save FILE.';
    END IF;
    IF p_plan ->> 'database' IS DISTINCT FROM current_database() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('saved plan was made in database %s, not in %s',
                             coalesce(p_plan ->> 'database', 'NULL'), current_database()),
            DETAIL = 'A plan names tables of the database it was made in.',
            HINT = 'Apply it in that database, or make a new plan here.';
    END IF;
    FOR v_entry IN SELECT e FROM jsonb_array_elements(p_plan -> 'tables') AS e LOOP
        v_parent := to_regclass(v_entry ->> 'table');
        IF v_parent IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan is out of date: table %s no longer exists',
                                 coalesce(v_entry ->> 'table', 'NULL')),
                DETAIL = format('The plan was made at %s.', p_plan ->> 'created_at'),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it.';
        END IF;
        v_now := pgpart._plan_fingerprint(v_parent);
        IF v_now IS DISTINCT FROM v_entry -> 'fingerprint' THEN
            v_what := concat_ws(' and ',
                CASE WHEN v_now -> 'partitions' IS DISTINCT FROM v_entry -> 'fingerprint' -> 'partitions'
                     THEN 'partitions' END,
                CASE WHEN v_now -> 'policy' IS DISTINCT FROM v_entry -> 'fingerprint' -> 'policy'
                     THEN 'policy' END);
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan is out of date: the %s of table %s changed', v_what, v_parent),
                DETAIL = format('The plan was made at %s; nothing was applied.', p_plan ->> 'created_at'),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it.',
                SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                          WHERE c.oid = v_parent),
                TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = v_parent);
        END IF;
        v_fresh := pgpart.save_plan(v_parent, (p_plan ->> 'now_at')::timestamptz,
                                    (p_plan ->> 'lock_timeout')::interval, (p_plan ->> 'lock_retries')::integer,
                                    (p_plan ->> 'online')::boolean) -> 'tables' -> 0 -> 'steps';
        v_saved := v_entry -> 'steps';
        IF v_fresh IS DISTINCT FROM v_saved THEN
            SELECT min(n) INTO v_step
            FROM generate_series(0, greatest(jsonb_array_length(coalesce(v_fresh, '[]')),
                                             jsonb_array_length(CASE WHEN jsonb_typeof(v_saved) = 'array'
                                                                     THEN v_saved ELSE '[]' END))) AS n
            WHERE v_fresh -> n IS DISTINCT FROM v_saved -> n;
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('saved plan of table %s is not the plan pgpart makes for it now', v_parent),
                DETAIL = format('Step %s differs: saved %s, now %s. Only steps pgpart generates are run; '
                                'nothing was applied.',
                                v_step + 1, coalesce(v_saved -> v_step ->> 'statement', 'none'),
                                coalesce(v_fresh -> v_step ->> 'statement', 'none')),
                HINT = 'Make a new plan (pgpart maintain --dry-run --save FILE) and review it; do not edit plan files.';
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._check_plan(jsonb) IS
'Raises (55000, 22023) unless a saved plan matches the current fingerprint of each of its tables and the plan pgpart makes for them now; changes nothing.';

-- pgpart._apply_plan_steps(parent, steps, timeout, retries): one
-- transaction's worth of a checked saved plan of PARENT (pgpart._plan_groups),
-- run as maintenance runs it: only while the policy's author owns the table,
-- as its owner, under the parent's advisory lock, the plan's lock steps
-- first and every statement under the lock timeout (pgpart._run_steps);
-- logged as 'apply_plan'. Returns the steps run. Top-level steps (DETACH
-- ... CONCURRENTLY) cannot run here: the client runs those itself.
CREATE OR REPLACE FUNCTION pgpart._apply_plan_steps(p_parent regclass, p_steps jsonb, p_timeout interval, p_retries integer)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_steps pgpart.step [];
    v_reason text;
    v_caller name;
BEGIN
    v_steps := array(SELECT jsonb_populate_record(NULL::pgpart.step, s) FROM jsonb_array_elements(p_steps) AS s);
    IF EXISTS (SELECT 1 FROM unnest(v_steps) AS s WHERE s.top_level) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('saved plan of table %s has a step that must run at top level', p_parent),
            DETAIL = 'DETACH ... CONCURRENTLY (an online plan) cannot run inside a function or procedure.',
            HINT = 'Apply it with the Python client (pgpart apply FILE), or save the plan without online.';
    END IF;
    v_reason := pgpart._may_maintain(p_parent);
    IF v_reason IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('may not apply the saved plan of table %s', p_parent),
            DETAIL = v_reason || '.',
            HINT = 'Apply it as the table''s owner or a superuser.';
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent))], p_timeout,
        p_retries);
    PERFORM pgpart._run_steps(v_steps, p_timeout, p_retries);
    PERFORM pgpart._gu_sync_tree(p_parent);  -- global unique constraints follow the partitions
    PERFORM set_config('role', v_caller, true);
    PERFORM pgpart._log(p_parent, 'apply_plan', 'ok',
                        jsonb_build_object('steps', (SELECT jsonb_agg(jsonb_build_object('step', s.step,
                                                                                         'action', s.action,
                                                                                         'partition', s.partition))
                                                     FROM unnest(v_steps) AS s)));
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart._apply_plan_steps(regclass, jsonb, interval, integer) IS
'Runs one transaction''s worth of a checked saved plan of a parent as maintenance would (owner, advisory lock, lock timeout) and logs it.';

-- pgpart._plan_groups(steps): the steps of one table's saved plan cut into
-- transactions, in order: each retention step alone (DESIGN §3: a DETACH
-- commits before its archive or drop, every step of retention commits), the
-- steps between them (locks, creating and attaching partitions, the policy,
-- reconcile) together, as run_maintenance runs them in one transaction.
-- Steps without a statement (reported, not run) are left out.
CREATE OR REPLACE FUNCTION pgpart._plan_groups(p_steps jsonb)
RETURNS TABLE (grp integer, steps jsonb, top_level boolean)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    WITH s AS (
        SELECT
            e.value AS step, e.ord,
            (e.value ->> 'action') IN ('finalize', 'discard', 'journal', 'detach', 'archive', 'drop', 'analyze')
            OR coalesce((e.value ->> 'top_level')::boolean, false) AS alone
        FROM jsonb_array_elements(p_steps) WITH ORDINALITY AS e (value, ord)
        WHERE e.value ->> 'statement' IS NOT NULL
    ),
    -- a new group starts at every step that is alone and at the step after it
    b AS (
        SELECT s.*, s.alone OR coalesce(lag(s.alone) OVER (ORDER BY s.ord), false) AS starts
        FROM s
    ),
    g AS (
        SELECT b.*, sum(b.starts::integer) OVER (ORDER BY b.ord)::integer AS grp
        FROM b
    )
    SELECT g.grp, jsonb_agg(g.step ORDER BY g.ord), bool_or(coalesce((g.step ->> 'top_level')::boolean, false))
    FROM g GROUP BY g.grp ORDER BY g.grp;
$body$;

COMMENT ON FUNCTION pgpart._plan_groups(jsonb) IS
'The steps of a saved plan of one table cut into transactions: each retention step alone, the steps between them together.';

-- pgpart.apply_plan(plan): runs a saved plan (pgpart.save_plan) exactly:
-- first pgpart._check_plan for every table (out of date, edited, or made
-- elsewhere: an error and nothing changed), then each table's steps, one
-- transaction per group (pgpart._plan_groups), committing after each as
-- run_maintenance_proc does. A step that fails stops the run with its
-- error: what committed before stays (as after an interrupted maintenance
-- run), and the next maintenance run or a new plan carries on from the
-- catalog. Online plans (DETACH ... CONCURRENTLY) are refused (0A000)
-- before anything runs: the Python client applies those.
-- CALL it outside a transaction block. A procedure cannot carry SET
-- clauses: it re-pins search_path after each COMMIT and runs DDL only
-- through helper functions.
CREATE OR REPLACE PROCEDURE pgpart.apply_plan(plan jsonb)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_plan ALIAS FOR plan;
    v_entry jsonb;
    v_parent regclass;
    g record;
    v_timeout interval;
    v_retries integer;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pgpart._check_plan(p_plan);
    IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(p_plan OPERATOR(pg_catalog.->) 'tables') AS e,
                             pg_catalog.jsonb_array_elements(e OPERATOR(pg_catalog.->) 'steps') AS s
               WHERE (s OPERATOR(pg_catalog.->>) 'top_level')::boolean) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'saved plan has steps that must run at top level (DETACH ... CONCURRENTLY)',
            DETAIL = 'A procedure cannot run them; nothing was applied.',
            HINT = 'Apply it with the Python client (pgpart apply FILE), or save the plan without online.';
    END IF;
    v_timeout := (p_plan OPERATOR(pg_catalog.->>) 'lock_timeout')::interval;
    v_retries := (p_plan OPERATOR(pg_catalog.->>) 'lock_retries')::integer;
    FOR v_entry IN SELECT e FROM pg_catalog.jsonb_array_elements(p_plan OPERATOR(pg_catalog.->) 'tables') AS e LOOP
        v_parent := pg_catalog.to_regclass(v_entry OPERATOR(pg_catalog.->>) 'table');
        FOR g IN SELECT * FROM pgpart._plan_groups(v_entry OPERATOR(pg_catalog.->) 'steps') LOOP
            PERFORM pgpart._apply_plan_steps(v_parent, g.steps, v_timeout, v_retries);
            RAISE NOTICE 'pgpart: % applied % step(s)', v_parent, pg_catalog.jsonb_array_length(g.steps);
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END LOOP;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.apply_plan(jsonb) IS  -- noqa: LT01
'Runs a saved maintenance plan (pgpart.save_plan) exactly, one transaction per group of steps, after checking that every table still matches its fingerprint and the plan pgpart makes now; refuses, changing nothing, otherwise.';

-- source: sql/src/40_api/awaiting_export.sql
-- pgpart.awaiting_export(parent): the tables detached for export that the
-- client may export now (pgpart._awaiting_export), of PARENT or of every
-- managed parent. Catalog and journal only; the client's exporter
-- (Client.export_partition, pgpart export, pgpart maintain) reads this.
CREATE OR REPLACE FUNCTION pgpart.awaiting_export(parent regclass DEFAULT NULL)
RETURNS TABLE (parent_table regclass, partition regclass, detached_at timestamptz, bound text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT c.parent, a.detached, a.detached_at, a.bound
        FROM pgpart.config AS c
        CROSS JOIN LATERAL pgpart._awaiting_export(c.parent) AS a
        WHERE (p_parent IS NULL OR c.parent = p_parent) AND c.strategy = 'range'
        ORDER BY c.parent::text, a.entry;
END
$body$;

COMMENT ON FUNCTION pgpart.awaiting_export(regclass) IS
'Tables detached for export whose Parquet file the client may write now (of one managed parent, or all).';

-- source: sql/src/40_api/build_global_unique.sql
-- pgpart.build_global_unique(parent, constraint_name, batch_pages): copies
-- the existing values of a constraint made with build => false into its
-- side table, online and resumable, like CREATE UNIQUE INDEX CONCURRENTLY:
-- the triggers already record every write, so each leaf partition is read
-- in batches of BATCH_PAGES pages, each batch its own transaction (no lock
-- beyond a reader's), and the position is committed with it
-- (pgpart.global_unique.build), so a killed build resumes at the batch it
-- was in. A last pass copies the values the side table still lacks (rows an
-- UPDATE moved past the pages read, entries a writer released meanwhile),
-- then the constraint is 'valid'. A duplicate ends the build with 23505
-- naming the first values (like the index build, a write that duplicates a
-- not-yet-copied row is not refused at once: the build fails at the end);
-- the triggers stay, so remove the duplicates and call it again.
-- A procedure that commits: no SET clause (PostgreSQL refuses one), so it
-- pins search_path itself after every COMMIT and qualifies every name.
CREATE OR REPLACE PROCEDURE pgpart.build_global_unique(
    parent regclass,
    constraint_name name,
    batch_pages integer DEFAULT 1000
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_batch ALIAS FOR batch_pages;
    v_gu pgpart.global_unique;
    v_leaf regclass;
    v_leaves regclass [];
    v_from bigint;
    v_pages bigint;
BEGIN
    CALL pgpart._refuse_transaction_block(
        'pgpart.build_global_unique', 'It commits after every batch of pages.',
        'Call it outside a transaction block, or use pgpart.add_global_unique(..., build => true) in one.');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pgpart._require_owner(p_parent);
    IF p_batch IS NULL OR p_batch < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('batch_pages must be at least 1, not %s', coalesce(p_batch::text, 'NULL')),
            HINT = 'The default, 1000 pages (8 MB), keeps each transaction short.';
    END IF;
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints; pgpart.add_global_unique makes one.';
    END IF;
    IF v_gu.state = 'valid' THEN
        RAISE NOTICE 'global unique constraint % on % is already valid', pg_catalog.quote_ident(p_name), p_parent;
        RETURN;
    END IF;
    v_leaves := ARRAY(SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l));
    FOREACH v_leaf IN ARRAY v_leaves LOOP
        SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
        CONTINUE WHEN coalesce(v_gu.build -> 'done', '[]'::jsonb) OPERATOR(pg_catalog.?) (v_leaf::oid)::text
            OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class AS c WHERE c.oid = v_leaf);
        v_from := CASE WHEN (v_gu.build ->> 'at')::oid = v_leaf::oid THEN (v_gu.build ->> 'block')::bigint ELSE 0 END;
        -- pages written after the triggers were in place hold recorded rows
        -- only; the last pass catches the rest
        v_pages := pg_catalog.pg_relation_size(v_leaf)
                   / pg_catalog.current_setting('block_size')::bigint;
        WHILE v_from < v_pages LOOP
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, v_from, v_from + p_batch, false));
            v_from := v_from + p_batch;
            UPDATE pgpart.global_unique AS g
            SET build = pg_catalog.jsonb_build_object('done', coalesce(g.build -> 'done', '[]'::jsonb),
                                                      'at', v_leaf::oid, 'block', v_from)
            WHERE g.id = v_gu.id;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END LOOP;
        UPDATE pgpart.global_unique AS g
        SET build = pg_catalog.jsonb_build_object(
            'done', coalesce(g.build -> 'done', '[]'::jsonb) OPERATOR(pg_catalog.||)
                    pg_catalog.to_jsonb((v_leaf::oid)::text))
        WHERE g.id = v_gu.id;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
    PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, p_parent, NULL, NULL, true));
    UPDATE pgpart.global_unique AS g SET state = 'valid', build = '{}'::jsonb WHERE g.id = v_gu.id;
    PERFORM pgpart._log(p_parent, 'build_global_unique', 'ok',
                        pg_catalog.jsonb_build_object('constraint', p_name, 'partitions',
                                                      pg_catalog.cardinality(v_leaves)));
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
END
$body$;

COMMENT ON PROCEDURE pgpart.build_global_unique (regclass, name, integer) IS
'Copies the existing values of a global unique constraint into its side table online, in batches of pages each committed, resumable after a kill; 23505 names the first duplicates.';

-- source: sql/src/40_api/check.sql
-- pgpart.check(parent, now_at): compares policy with reality and returns
-- findings, each with a stable code (docs/check-codes.md) and a ready-to-run
-- fix where one exists. Never raises for a finding and never waits for a
-- lock: it reads the catalog, and the few reads of table data (rows in the
-- default partition, the highest integer key) run under a 10 ms lock
-- timeout; what it could not read is reported as a finding of its own.
-- It is the union of the named checks pgpart._find_* (one per kind of
-- finding, each testable alone); what it keeps is the loop over the parents
-- and the isolation of each parent's failure.
CREATE OR REPLACE FUNCTION pgpart.check(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, code text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    v_parent regclass;
    v_state text;
    v_message text;
BEGIN
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    IF p_parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            HINT = 'Call pgpart.create_range_partitions for it first.';
    END IF;

    -- Findings about the installation, not about one parent.
    RETURN QUERY
    SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
    FROM (
        SELECT * FROM pgpart._find_event_trigger(p_parent)
        UNION ALL SELECT * FROM pgpart._find_orphan_policies(p_parent)
        UNION ALL SELECT * FROM pgpart._find_global_unique(p_parent)
    ) AS f;

    FOR v_parent IN
        SELECT c.parent FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE p_parent IS NULL OR c.parent = p_parent ORDER BY c.parent
    LOOP
      -- Each parent in a block of its own: one whose check fails (a statement
      -- timeout, the lock table full, a broken policy row) is reported as a
      -- finding and the others are still checked (57014: see
      -- pgpart._statement_timed_out; a cancel stops the whole check).
      BEGIN
        -- UNION ALL runs its branches in this order: the findings come out
        -- grouped by kind, as they always have.
        RETURN QUERY
        SELECT f.severity, f.code::text, f.parent_table, f.partition, f.problem, f.fix
        FROM (
            SELECT * FROM pgpart._find_owner_code(v_parent)
            UNION ALL SELECT * FROM pgpart._find_last_error(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_premake(v_parent)
            UNION ALL SELECT * FROM pgpart._find_runway(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_gaps(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_off_grid(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_default_rows(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_default_drain(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_detach_pending(v_parent)
            UNION ALL SELECT * FROM pgpart._find_detached_awaiting(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_export_awaiting(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_journal(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_in_grace(v_parent, p_now_at)
            UNION ALL SELECT * FROM pgpart._find_index_tablespaces(v_parent)
            UNION ALL SELECT * FROM pgpart._find_partition_owners(v_parent)
            UNION ALL SELECT * FROM pgpart._find_rls_grants(v_parent)
            UNION ALL SELECT * FROM pgpart._find_invalid_indexes(v_parent)
            UNION ALL SELECT * FROM pgpart._find_drift(v_parent)
            UNION ALL SELECT * FROM pgpart._find_hash_remainders(v_parent)
            UNION ALL SELECT * FROM pgpart._find_foreign_keys(v_parent)
            UNION ALL SELECT * FROM pgpart._find_publications(v_parent)
        ) AS f;
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
            RAISE;
        END IF;
        -- the findings returned before the failure stand; this one says the rest is unknown
        RETURN QUERY SELECT 'urgent', 'check_failed'::pgpart.finding_code::text, v_parent, NULL::regclass,
                        format('check of %s failed: %s: %s; its other findings are unknown', v_parent, v_state,
                               v_message),
                        NULL::text;
      END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.check(regclass, timestamptz) IS
'Findings (severity, stable code, parent, partition, problem, ready-to-run fix) comparing policy with the catalog: runway, gaps, off-grid partitions, rows in the default, pending detaches, index tablespaces, owners, grants under row-level security, invalid indexes, foreign keys, publications, orphan policies; codes in docs/check-codes.md. Never waits for a lock.';

-- The overload taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table, where the regclass cast would fail before
-- check() is called (see pgpart._table_arg). No SET clause, so the name is
-- resolved in the caller's search_path, as the cast would; NULL checks
-- every table.
CREATE OR REPLACE FUNCTION pgpart.check(parent text, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, code text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
-- as the verb it calls (no SET search_path: see above)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.check(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.check'),
        p_now_at);
END
$body$;

COMMENT ON FUNCTION pgpart.check(text, timestamptz) IS
'check() with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL checks every table.';

-- source: sql/src/40_api/cold_partitions.sql
-- pgpart.cold_partitions(parent): what lives in the cold tier: every
-- partition of PARENT (or of any parent) exported to a Parquet file and
-- dropped, read from pgpart.log (the 'export' rows pgpart.record_export
-- writes, with the manifest), newest first, with the last restore of that
-- file if any ('restore' rows the client writes). The log is the only
-- record once the table is dropped; the file itself lives outside the
-- database, where the manifest's location says.
CREATE OR REPLACE FUNCTION pgpart.cold_partitions(parent regclass DEFAULT NULL)
RETURNS TABLE (
    parent_table regclass,
    parent_name text,
    partition_name text,
    bound text,
    row_count bigint,
    checksum text,
    location text,
    exported_at timestamptz,
    restored_at timestamptz,
    manifest jsonb
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT
            e.parent, e.parent_name, e.detail ->> 'table', e.detail ->> 'bound', (e.detail ->> 'rows')::bigint,
            e.detail ->> 'checksum', e.detail ->> 'location', e.logged_at,
            (SELECT max(r.logged_at) FROM pgpart.log AS r
             WHERE
                 r.parent = e.parent AND r.action = 'restore' AND r.outcome = 'ok' AND r.id > e.id
                 AND r.detail ->> 'checksum' = e.detail ->> 'checksum'
                 AND r.detail ->> 'location' = e.detail ->> 'location'),
            e.detail
        FROM pgpart.log AS e
        WHERE e.action = 'export' AND e.outcome = 'ok' AND (p_parent IS NULL OR e.parent = p_parent)
        ORDER BY e.id DESC;
END
$body$;

COMMENT ON FUNCTION pgpart.cold_partitions(regclass) IS
'Partitions exported to Parquet files and dropped (the cold tier), from pgpart.log: bound, rows, checksum, file location, when exported and last restored.';

-- source: sql/src/40_api/convert_to_partitioned.sql
-- pgpart.convert_to_partitioned(table, key, interval, ...): turns a plain
-- table into a pgpart-managed RANGE-partitioned table under the same name.
-- The old table becomes one "legacy" partition FROM (MINVALUE) TO a grid
-- bound after its largest key and after now_at; partitions from that bound
-- on follow the grid (ensure_range's policy arguments). The steps: the key
-- made NOT NULL through a validated CHECK, a CHECK (key < bound) validated
-- so ATTACH needs no scan, then one short swap transaction (docs/
-- converting.md). DRY_RUN returns the plan: each step's statement, locks,
-- transaction ('own' or 'swap') and rows it reads. WHY a function and a
-- client path: this function runs every step in ONE transaction, so the
-- table stays locked while its validations scan it (fine for small tables);
-- the Python client (Client.convert, `pgpart convert`) runs the same plan
-- one short transaction per step, so writers go on. Re-planned from the
-- catalog: a converted table returns no steps. LEGACY => 'split' then
-- splits the legacy partition (pgpart.split_legacy) in the same
-- transaction.
CREATE OR REPLACE FUNCTION pgpart.convert_to_partitioned(
    "table" regclass,
    key name,
    "interval" text,
    premake integer DEFAULT NULL,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    default_partition boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    legacy_name name DEFAULT NULL,
    legacy text DEFAULT 'keep'
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_table ALIAS FOR "table";
    p_key ALIAS FOR key;
    p_interval ALIAS FOR "interval";
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    v_kind "char";
    v_policy jsonb;
    v_step record;
    v_last integer;
    v_name text;
    v_reloptions text [];
    v_split boolean;
    v_more integer := 0;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF convert_to_partitioned.legacy IS NULL OR convert_to_partitioned.legacy NOT IN ('keep', 'split') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('legacy must be ''keep'' or ''split'', not %L', convert_to_partitioned.legacy),
            HINT = 'Pass legacy => ''keep'' (the old rows stay in one legacy partition) or ''split'' (they move into '
                   'partitions of the grid, pgpart.split_legacy).';
    END IF;
    v_split := convert_to_partitioned.legacy = 'split';
    IF p_key IS NULL OR p_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('converting %s needs a key column and an interval', p_table),
            HINT = 'Pass key => the column to partition by and "interval" => such as ''1 day''.';
    END IF;
    PERFORM pgpart._require_owner(p_table);
    SELECT c.relkind, c.reloptions, format('%I.%I', n.nspname, c.relname) INTO v_kind, v_reloptions, v_name
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    -- converted already (a resumed run): what is left is validating the
    -- foreign keys pointed at its global unique constraints
    IF v_kind = 'p' AND EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_table) THEN
        FOR v_step IN SELECT * FROM pgpart._convert_followups(p_table) LOOP
            IF NOT p_dry_run THEN
                PERFORM pgpart._set_lock_timeout(p_lock_timeout);
                EXECUTE v_step.statement;
            END IF;
            RETURN QUERY SELECT v_step.step, v_step.action, v_step.statement, v_step.locks, v_step.transaction,
                                v_step.rows_estimate;
            v_last := v_step.step;
        END LOOP;
        -- legacy => 'split': what is left of the split (its own plan)
        IF v_split AND (SELECT l.legacy FROM pgpart._split_legacy_of(p_table) AS l) IS NOT NULL THEN
            RETURN QUERY SELECT coalesce(v_last, 0) + s.step, s.action, s.statement, s.locks, s.transaction,
                                s.rows_estimate
                         FROM pgpart.split_legacy(p_table, lock_timeout => p_lock_timeout,
                                                  lock_retries => p_lock_retries, dry_run => p_dry_run) AS s;
        END IF;
        RETURN;
    END IF;
    v_policy := jsonb_strip_nulls(jsonb_build_object(
        'premake', convert_to_partitioned.premake,
        'retention', convert_to_partitioned.retention,
        'retention_action', convert_to_partitioned.retention_action,
        'archive_schema', convert_to_partitioned.archive_schema,
        'archive_tablespace', convert_to_partitioned.archive_tablespace,
        'tablespace', convert_to_partitioned.tablespace,
        'default_partition', convert_to_partitioned.default_partition,
        -- the old table's storage parameters go to the new partitions (a
        -- partitioned parent cannot hold them)
        'reloptions', coalesce(convert_to_partitioned.reloptions, v_reloptions)::text,
        'subpartition', convert_to_partitioned.subpartition,
        'max_new', convert_to_partitioned.max_new,
        'drain_default', convert_to_partitioned.drain_default,
        'drain_default_max_bytes', convert_to_partitioned.drain_default_max_bytes));
    IF NOT p_dry_run AND EXISTS (
        SELECT 1 FROM pgpart._convert_plan(
            p_table, p_key, p_interval, convert_to_partitioned.time_zone, convert_to_partitioned.origin,
            convert_to_partitioned.epoch_unit, p_now_at, convert_to_partitioned.legacy_name, p_lock_timeout,
            p_lock_retries, v_policy) AS p
        WHERE p.transaction = 'autocommit') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('converting %s needs steps that run outside a transaction', p_table),
            DETAIL = 'A unique key without the partition key is carried by a global unique constraint built online '
                     '(CALL pgpart.build_global_unique) and, for a primary key, a unique index built with CREATE '
                     'INDEX CONCURRENTLY; a function cannot run them.',
            HINT = format('Use the Python client (Client.convert) or the command: pgpart convert %s --key %s '
                          '--interval %s; or run the steps of this function''s dry_run in order.',
                          p_table, p_key, quote_literal(p_interval));
    END IF;
    IF NOT p_dry_run THEN
        -- one transaction: the table is locked first (with retries), so no
        -- step waits behind a writer; it stays locked until commit
        PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_table)],
                                      p_lock_timeout, p_lock_retries);
    END IF;
    -- the whole plan is read before its first step runs (a FOR over a
    -- function's result materializes it)
    FOR v_step IN
        SELECT * FROM pgpart._convert_plan(
            p_table, p_key, p_interval, convert_to_partitioned.time_zone, convert_to_partitioned.origin,
            convert_to_partitioned.epoch_unit, p_now_at, convert_to_partitioned.legacy_name, p_lock_timeout,
            p_lock_retries, v_policy)
    LOOP
        IF NOT p_dry_run THEN
            PERFORM pgpart._set_lock_timeout(p_lock_timeout);
            EXECUTE v_step.statement;
        END IF;
        step := v_step.step;
        action := v_step.action;
        statement := v_step.statement;
        locks := v_step.locks;
        transaction := v_step.transaction;
        rows_estimate := v_step.rows_estimate;
        RETURN NEXT;
        v_last := v_step.step;
    END LOOP;
    -- then what the swap left: foreign keys pointed at side tables, NOT
    -- VALID, validated here (in this transaction; the client runs each on
    -- its own)
    IF NOT p_dry_run AND v_last IS NOT NULL THEN
        -- by name: the old OID is the legacy partition now
        FOR v_step IN SELECT * FROM pgpart._convert_followups(v_name::regclass) LOOP
            PERFORM pgpart._set_lock_timeout(p_lock_timeout);
            EXECUTE v_step.statement;
            RETURN QUERY SELECT v_last + v_step.step, v_step.action, v_step.statement, v_step.locks,
                                v_step.transaction, v_step.rows_estimate;
            v_more := v_step.step;
        END LOOP;
    END IF;
    -- legacy => 'split': the legacy partition's rows into grid partitions,
    -- in this transaction too; its dry run can only be planned after the
    -- swap, so the plan names it as one step
    IF v_split AND v_last IS NOT NULL THEN
        IF p_dry_run THEN
            RETURN QUERY SELECT v_last + 1, 'split legacy partition',
                format('SELECT * FROM pgpart.split_legacy(%L::regclass)', v_name),
                'per range: SHARE ROW EXCLUSIVE on the legacy partition; the swap: ACCESS EXCLUSIVE on the parent '
                || '(see split_legacy''s dry run after the swap)', 'own', NULL::bigint;
        ELSE
            RETURN QUERY SELECT v_last + v_more + s.step, s.action, s.statement, s.locks, s.transaction, s.rows_estimate
                         FROM pgpart.split_legacy(v_name::regclass, lock_timeout => p_lock_timeout,
                                                  lock_retries => p_lock_retries) AS s;
        END IF;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.convert_to_partitioned(
    regclass, name, text, integer, text, text, name, name, name, text, text, boolean, interval, integer,
    timestamptz, boolean, text[], jsonb, integer, text, boolean, bigint, name, text
) IS
'Converts a plain table into a pgpart-managed range-partitioned table of the same name: the old table becomes the legacy partition up to a grid bound, later partitions follow the grid; one transaction (the client runs the same plan online); legacy => ''split'' then moves the legacy rows into grid partitions (split_legacy). dry_run returns the steps.';

-- source: sql/src/40_api/create_hash_partitions.sql
-- pgpart.create_hash_partitions(parent, modulus, ...): the MODULUS
-- partitions of a HASH-partitioned table (remainders 0 .. modulus - 1),
-- named <parent>_h<remainder>, each built detached and attached (DESIGN §3).
-- Idempotent: missing remainders are added. The modulus of an existing set
-- cannot change (0A000). Hash-partitioned tables have no default partition.
-- prepare → plan (pgpart._plan_hash) → apply, as every verb.
CREATE OR REPLACE FUNCTION pgpart.create_hash_partitions(
    parent regclass,
    modulus integer,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_modulus ALIAS FOR modulus;
    p_tablespace ALIAS FOR tablespace;
    p_reloptions ALIAS FOR reloptions;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_target pgpart._target;
    v_steps pgpart.step [];
    v_created jsonb;
BEGIN
    v_target := pgpart._prepare(p_parent, 'hash', p_lock_timeout, p_lock_retries, now(), p_tablespace);
    IF p_modulus IS NULL OR p_modulus < 1 OR p_modulus > 1024 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('modulus must be between 1 and 1024, got %s', coalesce(p_modulus::text, 'NULL')),
            HINT = 'Pass the number of hash partitions, such as 4, 8 or 16.';
    END IF;
    -- a real run plans under its locks: the partitions read cannot change
    IF NOT p_dry_run THEN
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_steps := array(SELECT s FROM pgpart._plan_hash(v_target, p_modulus, p_reloptions) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created FROM unnest(v_steps) AS s WHERE s.action = 'attach';
    PERFORM pgpart._apply(v_target, v_steps, 'create_hash_partitions',
                          CASE WHEN v_created IS NOT NULL
                               THEN jsonb_build_object('modulus', p_modulus, 'created', v_created) END);
    RETURN QUERY
    SELECT s.step, s.partition, s.lower_bound, s.upper_bound, 'created', s.statement, s.locks, s.top_level
    FROM unnest(v_steps) AS s WHERE s.action = 'attach' ORDER BY s.step;
END
$body$;

-- source: sql/src/40_api/create_list_partitions.sql
-- pgpart.create_list_partitions(parent, values, ...): the partitions of a
-- LIST-partitioned table: one per value (a JSON array, or a text[]), or one
-- per named group of values (a JSON object {"eu": ["de", "fr"], ...}).
-- Idempotent: a partition holding exactly the requested values is kept;
-- new values and groups are added. A value another partition holds: 42P17
-- naming it. More values for an existing group: 0A000 (see
-- pgpart.add_list_values, an explicitly blocking operation). Each partition
-- is built detached and attached (DESIGN §3); a default partition holding
-- rows of a new value refuses the call (23514).
CREATE OR REPLACE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" jsonb,
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET timezone = 'UTC'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_values ALIAS FOR "values";
    p_default_partition ALIAS FOR default_partition;
    p_tablespace ALIAS FOR tablespace;
    p_reloptions ALIAS FOR reloptions;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_target pgpart._target;
    v_steps pgpart.step [];
    v_created jsonb;
BEGIN
    -- prepare → plan → apply (docs/architecture.md); bounded before any lock
    -- is taken or any value read (54000); a real run plans under its locks
    PERFORM pgpart._check_list_size(p_parent, p_values, 'the list request for table');
    v_target := pgpart._prepare(p_parent, 'list', p_lock_timeout, p_lock_retries, now(), p_tablespace,
                                p_lock => NOT p_dry_run);
    v_steps := array(SELECT s FROM pgpart._plan_list(v_target, p_values, p_default_partition, p_reloptions) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    SELECT jsonb_agg(s.partition ORDER BY s.step) INTO v_created FROM unnest(v_steps) AS s WHERE s.action = 'attach';
    PERFORM pgpart._apply(v_target, v_steps, 'create_list_partitions',
                          CASE WHEN v_created IS NOT NULL THEN jsonb_build_object('created', v_created) END);
    RETURN QUERY
    SELECT s.step, s.partition, s.lower_bound, s.upper_bound, 'created', s.statement, s.locks, s.top_level
    FROM unnest(v_steps) AS s WHERE s.action = 'attach' ORDER BY s.step;
END
$body$;

-- pgpart.create_list_partitions(parent, values text[], ...): the same for
-- single values given as a text array (NULL elements included).
CREATE OR REPLACE FUNCTION pgpart.create_list_partitions(
    parent regclass,
    "values" text[],
    default_partition boolean DEFAULT false,
    tablespace name DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT * FROM pgpart.create_list_partitions(
        parent, to_jsonb("values"), default_partition, tablespace, reloptions, lock_timeout, lock_retries, dry_run);
$body$;

-- source: sql/src/40_api/create_range_partitions.sql
-- pgpart.create_range_partitions(parent, interval, ...): creates the
-- partitions of a RANGE-partitioned table that its grid says should exist
-- now: the slot holding NOW_AT (for integer keys, the highest key value)
-- plus PREMAKE ahead, and any gap after the lowest existing partition.
-- Registers or updates the policy. Idempotent. Each partition is built
-- detached (indexes, owner) and then ATTACHed, so the parent is only ever
-- locked SHARE UPDATE EXCLUSIVE (DESIGN §3). With DRY_RUN, returns the plan.
-- With SUBPARTITION (kept in the policy) each new partition is itself
-- partitioned by hash or list and filled before it is attached. MAX_NEW
-- bounds a call (the slot of now and what follows first, then the most
-- recent gaps, as many as fit with their sub-partitions); without it more
-- than 200 new tables (partitions, sub-partitions, a default) are refused
-- (54000, pgpart._max_new_tables), and so is a premake above 1000 (22023).
-- EPOCH_UNIT ('s', 'ms', 'us'; kept in the policy) declares an integer key
-- holding Unix time, gridded as a timestamptz; a uuid key (UUIDv7) is
-- gridded by time without it (pgpart._key_clock).
CREATE OR REPLACE FUNCTION pgpart.create_range_partitions(
    parent regclass,
    "interval" text,
    premake integer DEFAULT NULL,
    start text DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    tablespace name DEFAULT NULL,
    default_partition boolean DEFAULT false,
    reloptions text[] DEFAULT NULL,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_interval ALIAS FOR "interval";
    p_premake ALIAS FOR premake;
    p_start ALIAS FOR start;
    p_time_zone ALIAS FOR time_zone;
    p_origin ALIAS FOR origin;
    p_tablespace ALIAS FOR tablespace;
    p_default_partition ALIAS FOR default_partition;
    p_reloptions ALIAS FOR reloptions;
    p_now_at ALIAS FOR now_at;
    p_subpartition ALIAS FOR subpartition;
    p_max_new ALIAS FOR max_new;
    p_epoch_unit ALIAS FOR epoch_unit;
    v_target pgpart._target;
    v_steps pgpart.step [];
BEGIN
    -- prepare → plan → apply (docs/architecture.md). A real run is locked
    -- before it is planned: SHARE UPDATE EXCLUSIVE on the parent excludes
    -- any other ATTACH, DETACH or CREATE ... PARTITION OF until we commit,
    -- so the plan cannot go stale.
    IF p_premake IS NOT NULL THEN
        PERFORM pgpart._check_premake(p_premake, p_parent);  -- before any lock (the planner checks the policy's)
    END IF;
    v_target := pgpart._prepare(p_parent, 'range', p_lock_timeout, p_lock_retries, p_now_at, p_tablespace,
                                p_lock => NOT p_dry_run);
    v_steps := array(SELECT s FROM pgpart._plan_range(
            v_target, p_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions,
            p_subpartition, p_max_new, p_epoch_unit => p_epoch_unit) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pgpart._apply_range(v_target, v_steps);
END
$body$;

COMMENT ON FUNCTION pgpart.create_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, integer, timestamptz, boolean, jsonb, integer, text) IS
'Creates the missing range partitions of PARENT (the slot of now_at plus premake ahead, and gaps), each built detached and then attached under short lock timeouts; registers the policy. dry_run returns the plan.';

-- source: sql/src/40_api/detach_and_archive.sql
-- pgpart.detach_and_archive(parent, ...): retention for one managed parent.
-- With DRY_RUN it returns the whole plan (pgpart._retention_plan); with
-- ONLINE the plan uses DETACH ... CONCURRENTLY, which only a client at top
-- level can run (the Python client does). Otherwise it performs exactly ONE
-- step, the first of the plan, and returns it: each step must commit before
-- the next (a plain DETACH holds ACCESS EXCLUSIVE on the parent until
-- commit), so call it once per transaction, or use the procedure below.
-- That step is chosen and run by the one retention runner,
-- pgpart._retention_step: under the parent's advisory lock, so two runs on
-- one parent never act on the same partition (the second waits for the
-- first's step to commit and plans again); when the lock is not obtained
-- within the lock timeout (with retries) it returns a single 'skipped' step
-- (step 0, no statement) and changes nothing.
CREATE OR REPLACE FUNCTION pgpart.detach_and_archive(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart._retention_plan(p_parent, p_now_at, p_online, p_lock_timeout, p_lock_retries);
        RETURN;
    END IF;
    IF p_online THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = 'online retention cannot run inside a function',
            DETAIL = 'DETACH ... CONCURRENTLY must run at top level, outside any transaction block.',
            HINT = 'Use dry_run => true, online => true and run each step in its own transaction '
                   '(pgpart.Client.detach_and_archive does), or call this without online.';
    END IF;
    -- the one retention runner: under the advisory lock, one step
    RETURN QUERY SELECT * FROM pgpart._retention_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries);
END
$body$;

COMMENT ON FUNCTION pgpart.detach_and_archive(regclass, interval, integer, timestamptz, boolean, boolean) IS
'Retention for one managed parent: dry_run returns the plan (online: with DETACH CONCURRENTLY for a client); otherwise performs exactly one step, the first due, chosen under the parent''s advisory lock, and returns it (a ''skipped'' step 0 when another run holds that lock past the lock timeout).';

-- pgpart.detach_and_archive_proc(parent, ..., dry_run): the whole retention
-- of a parent, one step per transaction: it only loops over the retention
-- runner (pgpart._retention_step), then the policy's ANALYZE comes from it
-- too. DRY_RUN: the plan (pgpart._retention_plan) as NOTICEs, changing
-- nothing. CALL it outside a transaction block: inside one it says so up
-- front (25001). A procedure cannot carry SET clauses, so it re-pins
-- search_path after every COMMIT and runs its DDL only through pgpart's
-- helper functions.
CREATE OR REPLACE PROCEDURE pgpart.detach_and_archive_proc(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    v_steps pgpart.step [];
    v_done integer := 0;
    st pgpart.step;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.detach_and_archive_proc',
        'It commits after each retention step, which a procedure can do only when called by CALL '
        'outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one call '
        'SELECT * FROM pgpart.detach_and_archive(parent) once per transaction.');
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_dry_run THEN
        FOR st IN SELECT * FROM pgpart.detach_and_archive(p_parent, p_lock_timeout, p_lock_retries, p_now_at,
                                                          dry_run => true) LOOP
            RAISE NOTICE 'pgpart: dry run: % step % % %: %', p_parent, st.step, st.action,
                coalesce(st.partition, ''), st.statement;
        END LOOP;
        IF NOT FOUND THEN
            RAISE NOTICE 'pgpart: dry run: nothing to do for %', p_parent;
        END IF;
        RETURN;
    END IF;
    LOOP
        v_steps := ARRAY(SELECT s FROM pgpart._retention_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries,
                                                              p_done => v_done) AS s);
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        -- skipped: another run has the parent; analyze: the policy's, after the work (the last step)
        EXIT WHEN pg_catalog.cardinality(v_steps) = 0 OR v_steps[1].action IN ('skipped', 'analyze');
        v_done := v_done + 1;
        RAISE NOTICE 'pgpart: % %', v_steps[1].action, v_steps[1].partition;
        IF v_done > 100000 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'program_limit_exceeded',
                MESSAGE = pg_catalog.format('retention of %s did not finish after %s steps', p_parent, v_done),
                HINT = 'Report this as a pgpart bug, with the output of pgpart.check().';
        END IF;
    END LOOP;
END
$body$;

COMMENT ON PROCEDURE pgpart.detach_and_archive_proc(regclass, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'Runs the whole retention of a managed parent through the retention runner, committing after every step (detach, then archive or drop), then the policy''s ANALYZE; dry_run: the plan as NOTICEs.';

-- source: sql/src/40_api/drop_global_unique.sql
-- pgpart.drop_global_unique(parent, constraint_name, ...): removes a
-- global unique constraint: its triggers (on every table carrying one:
-- the parent, its partitioned tables, every table recorded), its row in
-- pgpart.global_unique and its side table. DROP TRIGGER locks the parent
-- and each partition ACCESS EXCLUSIVE, under the lock timeout. A foreign
-- key referencing the side table makes it fail (2BP01): drop that first.
CREATE OR REPLACE FUNCTION pgpart.drop_global_unique(
    parent regclass,
    constraint_name name,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_gu pgpart.global_unique;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints.';
    END IF;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent)],
                                  p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    DELETE FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
    PERFORM pgpart._gu_uninstall(v_gu);
    IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
        EXECUTE format('DROP TABLE %s', v_gu.side_table);
    END IF;
    PERFORM pgpart._log(p_parent, 'drop_global_unique', 'ok', jsonb_build_object('constraint', p_name));
END
$body$;

COMMENT ON FUNCTION pgpart.drop_global_unique(regclass, name, interval, integer) IS
'Removes a global unique constraint: its triggers, its registration and its side table.';

-- source: sql/src/40_api/ensure_range.sql
-- pgpart.ensure_range(parent, ...): the declarative verb: registers or
-- updates the whole policy of a RANGE parent and creates what is missing,
-- in one call and one transaction (create_range_partitions, then
-- set_policy). A NULL argument keeps what is configured; "interval" may be
-- NULL for a managed parent. DRY_RUN returns the plan. It takes every
-- argument create_range_partitions takes (START, RELOPTIONS, SUBPARTITION,
-- MAX_NEW, EPOCH_UNIT) and passes them on, so no caller has to compose the
-- two verbs. RETENTION_MAX_BYTES, RETENTION_MAX_ROWS and RETENTION_GRACE as
-- set_policy takes them (0 clears).
CREATE OR REPLACE FUNCTION pgpart.ensure_range(
    parent regclass,
    "interval" text DEFAULT NULL,
    premake integer DEFAULT NULL,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    time_zone text DEFAULT NULL,
    origin text DEFAULT NULL,
    default_partition boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false,
    start text DEFAULT NULL,
    reloptions text[] DEFAULT NULL,
    subpartition jsonb DEFAULT NULL,
    max_new integer DEFAULT NULL,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    retention_max_bytes bigint DEFAULT NULL,
    retention_max_rows bigint DEFAULT NULL,
    retention_grace interval DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_interval ALIAS FOR "interval";
    p_premake ALIAS FOR premake;
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_time_zone ALIAS FOR time_zone;
    p_origin ALIAS FOR origin;
    p_default_partition ALIAS FOR default_partition;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    p_start ALIAS FOR start;
    p_reloptions ALIAS FOR reloptions;
    p_subpartition ALIAS FOR subpartition;
    p_max_new ALIAS FOR max_new;
    p_epoch_unit ALIAS FOR epoch_unit;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_retention_max_bytes ALIAS FOR retention_max_bytes;
    p_retention_max_rows ALIAS FOR retention_max_rows;
    p_retention_grace ALIAS FOR retention_grace;
    v_target pgpart._target;
    v_interval text;
    v_old pgpart.config;
    v_new pgpart.config;
    v_steps pgpart.step [];
    v_lifecycle boolean := num_nonnulls(p_retention, p_retention_action, p_archive_schema, p_archive_tablespace,
                                        p_drain_default, p_drain_default_max_bytes, p_retention_max_bytes,
                                        p_retention_max_rows, p_retention_grace) > 0;
BEGIN
    -- prepare → validate the lifecycle values → lock (a real run) → plan →
    -- apply → write the lifecycle values: each check, the lock list, the
    -- locks, the policy merge and the plan happen once (docs/architecture.md)
    IF p_premake IS NOT NULL THEN
        PERFORM pgpart._check_premake(p_premake, p_parent);  -- before any lock (the planner checks the policy's)
    END IF;
    v_target := pgpart._prepare(p_parent, 'range', p_lock_timeout, p_lock_retries, p_now_at, p_tablespace);
    v_interval := coalesce(p_interval, (v_target.policy).partition_interval);
    IF v_interval IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not managed yet: an interval is needed', p_parent),
            HINT = 'Pass "interval", such as ''1 day'' or ''1000''.',
            SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
    END IF;
    -- the lifecycle values are validated before anything, dry run or not
    v_old := v_target.policy;
    IF v_old.parent IS NULL THEN
        v_old.parent := p_parent;
        v_old.strategy := 'range';
        v_old.key_type := v_target.key_type;
    END IF;
    -- retention is read by the key's clock: an epoch unit given counts (the
    -- planner checks it)
    v_old.epoch_unit := coalesce(p_epoch_unit, v_old.epoch_unit);
    v_new := pgpart._validated_policy(v_old, retention => p_retention, retention_action => p_retention_action,
                                      archive_schema => p_archive_schema, archive_tablespace => p_archive_tablespace,
                                      drain_default => p_drain_default,
                                      drain_default_max_bytes => p_drain_default_max_bytes);
    -- retention by size and rows, and its grace period (0 clears each)
    v_new := pgpart._validated_retention_rules(v_new, p_retention_max_bytes, p_retention_max_rows, p_retention_grace);
    IF NOT p_dry_run THEN
        v_target := pgpart._lock_target(v_target);
    END IF;
    v_steps := array(SELECT s FROM pgpart._plan_range(
            v_target, v_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions,
            p_subpartition, p_max_new, p_epoch_unit => p_epoch_unit) AS s);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_steps);
        IF v_lifecycle THEN
            RETURN NEXT ROW(
                coalesce(cardinality(v_steps), 0) + 1, NULL, NULL, NULL, 'set policy',
                format('SELECT pgpart.set_policy(%s)',
                       concat_ws(', ', format('%L::regclass', p_parent::text),
                                 'retention => ' || quote_literal(p_retention),
                                 'retention_action => ' || quote_literal(p_retention_action),
                                 'archive_schema => ' || quote_literal(p_archive_schema),
                                 'archive_tablespace => ' || quote_literal(p_archive_tablespace),
                                 'drain_default => ' || p_drain_default,
                                 'drain_default_max_bytes => ' || p_drain_default_max_bytes,
                                 'retention_max_bytes => ' || p_retention_max_bytes,
                                 'retention_max_rows => ' || p_retention_max_rows,
                                 'retention_grace => ' || quote_literal(p_retention_grace))),
                'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
        END IF;
        RETURN;
    END IF;
    -- logged as create_range_partitions (and set_policy below), as the two
    -- verbs ensure_range declares would log them
    RETURN QUERY SELECT * FROM pgpart._apply_range(v_target, v_steps);
    IF v_lifecycle THEN
        PERFORM pgpart._write_policy_change(v_old, v_new);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.ensure_range(
    regclass, text, integer, text, text, name, name, name, text, text, boolean, interval, integer, timestamptz, boolean,
    text, text[], jsonb, integer, text, boolean, bigint, bigint, bigint, interval
) IS
'Declarative: registers or updates the policy of a range parent (grid, premake, retention, archive, sub-partitioning) and creates the missing partitions, in one transaction; takes every argument of create_range_partitions. NULL keeps what is configured.';

-- source: sql/src/40_api/global_unique_info.sql
-- pgpart.global_unique_info(parent): the global unique constraints (of
-- PARENT, or all) as the catalog shows them: columns, side table, state,
-- how many leaf partitions are recorded, how many are not (made or attached
-- while nothing could record them) and how many recorded tables are no
-- longer partitions (detached while the event triggers were off). Reads the
-- catalog only, never waits for a lock.
CREATE OR REPLACE FUNCTION pgpart.global_unique_info(parent regclass DEFAULT NULL)
RETURNS TABLE (
    parent_table regclass,
    unique_constraint name,
    columns name[],
    nulls_not_distinct boolean,
    side_table regclass,
    state text,
    partitions integer,
    unrecorded_partitions integer,
    detached_recorded integer,
    stale_since timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT
            g.parent,
            g.constraint_name,
            g.columns,
            g.nulls_not_distinct,
            CASE WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table) THEN g.side_table END,
            g.state,
            (SELECT count(*)::integer FROM pgpart._gu_leaves(g) AS l (l)),
            (SELECT count(*)::integer FROM (SELECT l.l FROM pgpart._gu_leaves(g) AS l (l)
                                            EXCEPT SELECT m.m FROM pgpart._gu_marked(g) AS m (m)) AS x),
            (SELECT count(*)::integer FROM (SELECT m.m FROM pgpart._gu_marked(g) AS m (m)
                                            EXCEPT SELECT l.l FROM pgpart._gu_leaves(g) AS l (l)) AS x),
            g.stale_since
        FROM pgpart.global_unique AS g
        WHERE (p_parent IS NULL OR g.parent = p_parent)
          AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.parent, g.constraint_name;
END
$body$;

COMMENT ON FUNCTION pgpart.global_unique_info(regclass) IS
'The global unique constraints (of a parent, or all): columns, side table, state, leaf partitions recorded and not, detached tables still recorded, stale since. Catalog only.';

-- source: sql/src/40_api/key_time.sql
-- pgpart.key_time(parent, value): the instant a key value of PARENT stands
-- for on its grid, for keys whose values are not times themselves: a
-- UUIDv7 (its millisecond prefix) or an integer holding Unix time in the
-- policy's epoch_unit; a timestamptz key's value is itself. The client
-- asks it to turn the lowest and highest keys of a bulk load into the
-- times ensure_range plans by (Client.ensure_covering, Client.load), so the
-- conversion lives here once. 22023 for keys without an instant (plain
-- integers; timestamp and date, whose wall time is read in the policy's
-- zone by ensure_range itself) and for an unmanaged table.
CREATE OR REPLACE FUNCTION pgpart.key_time(parent regclass, value text)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_value ALIAS FOR value;
    v_cfg pgpart.config;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not a RANGE table managed by pgpart', p_parent),
            HINT = 'Manage it first: SELECT * FROM pgpart.ensure_range(...).';
    END IF;
    IF pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit) IS DISTINCT FROM 'instant' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the key %I of table %s (%s) is not on an instant''s clock', v_cfg.key_column,
                             p_parent, v_cfg.key_type),
            DETAIL = 'key_time converts uuid (UUIDv7), epoch integer and timestamptz keys.',
            HINT = 'Pass integer keys as numbers and timestamp or date keys as they are.';
    END IF;
    RETURN pgpart._coord_to_ts(pgpart._literal_to_coord(v_cfg.key_type, p_value, v_cfg.epoch_unit));
END
$body$;

COMMENT ON FUNCTION pgpart.key_time(regclass, text) IS
'The instant a key value of a managed range parent stands for (UUIDv7 prefix, epoch integer in its unit, or the timestamptz itself); 22023 for other keys.';

-- source: sql/src/40_api/metrics.sql
-- pgpart.metrics(now_at): the state of every managed parent as Prometheus
-- text exposition (format 0.0.4), for a scrape job or node_exporter's
-- textfile collector (docs/operations.md). WHY in SQL: monitoring reads the
-- same catalog truth as check() and never waits for a lock (DESIGN §2):
-- runway from the partitions' bounds (integer keys: the highest key under a
-- 50 ms lock timeout, NaN when it could not be read), rows in default
-- partitions from the catalog's estimate (reltuples; NaN before the first
-- ANALYZE; never a scan), pending detaches from pg_inherits, the last
-- successful maintenance from pgpart.log, check()'s findings counted by
-- severity (check() reads table data only under a 10 ms lock timeout).
-- Label values are escaped as the format requires (pgpart._metric_label).
CREATE OR REPLACE FUNCTION pgpart.metrics(now_at timestamptz DEFAULT now())
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads (see partition_info)
SET jit = off
SET lock_timeout = '50ms'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_now_at ALIAS FOR now_at;
BEGIN
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    RETURN (
        WITH managed AS MATERIALIZED (
            SELECT c.parent, c.strategy, pgpart._key_clock(c.key_type, c.epoch_unit) AS clock, c.last_error,
                   format('table="%s"', pgpart._metric_label(c.parent::text)) AS label
            FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        ),
        runway AS MATERIALIZED (
            SELECT m.parent, m.label, m.clock, pgpart._runway(m.parent, p_now_at) AS runway
            FROM managed AS m WHERE m.strategy = 'range'
        ),
        findings AS MATERIALIZED (
            SELECT f.severity, count(*) AS n FROM pgpart.check(NULL, p_now_at) AS f GROUP BY f.severity
        ),
        families (ord, name, help) AS (
            VALUES
            (1, 'pgpart_managed_tables', 'Tables pgpart manages (rows of pgpart.config whose table exists).'),
            (2, 'pgpart_partitions', 'Direct partitions of a managed table, the default partition included.'),
            (3, 'pgpart_runway_seconds',
             'How far ahead of now the partitions of a managed range table with a time key reach without a gap; '
             'NaN: unknown.'),
            (4, 'pgpart_runway_keys',
             'How many key values above the highest one the partitions of a managed range table with an integer '
             'key reach without a gap; NaN: unknown (the table was locked).'),
            (5, 'pgpart_default_rows',
             'Estimated rows in the default partition (pg_class.reltuples, never a scan); NaN: not analyzed yet.'),
            (6, 'pgpart_detach_pending', 'Partitions left detach pending (finished by the next maintenance run).'),
            (7, 'pgpart_last_maintenance_success_timestamp_seconds',
             'Unix time of the newest successful maintenance work on the table recorded in pgpart.log; 0: none.'),
            (8, 'pgpart_maintenance_failing', '1 when the last maintenance of the table failed (pgpart.check shows why).'),
            (9, 'pgpart_findings', 'Findings of pgpart.check() by severity.')
        ),
        samples (ord, sub, labels, value) AS (
            SELECT 1, '', '', count(*)::numeric FROM managed
            UNION ALL
            SELECT 2, m.parent::text, m.label,
                   (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = m.parent)::numeric
            FROM managed AS m
            UNION ALL
            SELECT 3, r.parent::text, r.label, extract(epoch FROM r.runway::interval)
            FROM runway AS r WHERE r.clock <> 'integer'
            UNION ALL
            SELECT 4, r.parent::text, r.label, r.runway::numeric
            FROM runway AS r WHERE r.clock = 'integer'
            UNION ALL
            SELECT 5, m.parent::text,
                   format('%s,partition="%s"', m.label, pgpart._metric_label(d.oid::regclass::text)),
                   CASE WHEN d.reltuples >= 0 THEN d.reltuples::numeric END
            FROM managed AS m
            JOIN pg_class AS d ON d.oid = pgpart._default_partition(m.parent)
            UNION ALL
            SELECT 6, m.parent::text, m.label,
                   (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = m.parent AND i.inhdetachpending)::numeric
            FROM managed AS m
            UNION ALL
            SELECT 7, m.parent::text, m.label,
                   coalesce(extract(epoch FROM (
                       SELECT max(l.logged_at) FROM pgpart.log AS l
                       WHERE l.parent = m.parent AND l.outcome = 'ok'
                         AND l.action IN ('maintenance', 'create_range_partitions', 'finalize', 'detach', 'archive',
                                          'drop', 'discard', 'retention', 'reconcile', 'analyze', 'apply_plan')
                   )), 0)
            FROM managed AS m
            UNION ALL
            SELECT 8, m.parent::text, m.label, (m.last_error IS NOT NULL)::integer::numeric
            FROM managed AS m
            UNION ALL
            SELECT 9, s.o::text, format('severity="%s"', s.severity),
                   coalesce((SELECT f.n FROM findings AS f WHERE f.severity = s.severity), 0)::numeric
            FROM unnest(ARRAY['urgent', 'warning', 'info']) WITH ORDINALITY AS s (severity, o)
        )
        SELECT string_agg(x.line, E'\n' ORDER BY x.ord, x.kind, x.sub) || E'\n'
        FROM (
            SELECT f.ord, 0 AS kind, '' AS sub,
                   format(E'# HELP %s %s\n# TYPE %s gauge', f.name, f.help, f.name) AS line
            FROM families AS f
            UNION ALL
            SELECT s.ord, 1, s.sub,
                   format('%s%s %s', f.name, CASE WHEN s.labels <> '' THEN '{' || s.labels || '}' ELSE '' END,
                          coalesce(trim_scale(s.value)::text, 'NaN'))
            FROM samples AS s JOIN families AS f ON f.ord = s.ord
        ) AS x
    );
END
$body$;

COMMENT ON FUNCTION pgpart.metrics(timestamptz) IS
'Prometheus text exposition of every managed table: runway, estimated rows in default partitions, pending detaches, last successful maintenance (unix time), failing maintenance, findings by severity. Never waits for a lock.';

-- pgpart._metric_label(value): VALUE escaped for a label of the Prometheus
-- text format (backslash, double quote and newline), so that any table name
-- yields a parseable line.
CREATE OR REPLACE FUNCTION pgpart._metric_label(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT replace(replace(replace(p_value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
$body$;

COMMENT ON FUNCTION pgpart._metric_label(text) IS
'A value escaped for a Prometheus label (backslash, double quote, newline).';

-- source: sql/src/40_api/move_default.sql
-- Rows in the default partition (DESIGN §3): a range that has rows there
-- cannot get its partition until they move. One range per transaction:
-- lock the default (ACCESS EXCLUSIVE, under the lock timeout), build the
-- new table detached, move the rows with DELETE ... RETURNING into it,
-- attach, commit. Ranges still receiving live writes (the slot holding now
-- and later ones) go last.

-- pgpart.move_default_range(parent, ...): moves the rows of ONE range out of
-- the default partition into a new partition of the grid; returns it, or no
-- row when the default holds nothing more to move. The range is the first
-- of pgpart._default_ranges (the planner its dry run, move_default_plan,
-- lists in full), chosen under the lock on the default.
CREATE OR REPLACE FUNCTION pgpart.move_default_range(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
RETURNS TABLE (partition text, lower_bound text, upper_bound text, rows_moved bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    v_target pgpart._target;
    v_cfg pgpart.config;
    v_default regclass;
    v_range record;
    v_step pgpart.step;
    v_cols text;
    v_count bigint;
    v_where text;
BEGIN
    -- prepare (owner, lock arguments, a policy) → checks of this verb →
    -- lock → choose the range and run its steps (the rows move between
    -- building the table and attaching it, so this verb runs its steps
    -- itself and counts the rows moved)
    v_target := pgpart._prepare(p_parent, NULL, p_lock_timeout, p_lock_retries, p_now_at, p_managed => true);
    v_cfg := v_target.policy;
    PERFORM pgpart._require_move_grid(v_target);
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    -- DELETE from the default and INSERT into the new table run triggers,
    -- constraints, index expressions ...: their code must be trusted (only
    -- checked when there is a default to move rows out of)
    PERFORM pgpart._guard_owner_code(p_parent, 'move');
    v_target := pgpart._lock_target(v_target);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);

    -- the first range of the plan (the lowest row's slot; live ranges last)
    SELECT * INTO v_range FROM pgpart._default_ranges(p_parent, p_now_at, false, 1) AS d;
    IF v_range.ordinal IS NULL THEN
        RETURN;
    END IF;
    IF v_range.overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('cannot create a partition of %s for the rows of the default partition from %s to %s',
                             p_parent, v_range.lower_literal, v_range.upper_literal),
            DETAIL = format('Partition %s, off the grid, overlaps that range.', v_range.overlap),
            HINT = 'Move those rows by hand, or detach the overlapping partition.';
    END IF;
    IF v_range.taken THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %s already exists', v_range.relation),
            HINT = 'Rename or drop that relation, then move the rows again.';
    END IF;

    -- The partition for that slot, built as create_range_partitions builds
    -- one; the rows move into it just before it joins the parent.
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_range.relation,
            format('FOR VALUES FROM (%s) TO (%s)', v_range.lower_literal, v_range.upper_literal),
            pgpart._target_tablespace(p_parent, v_cfg.tablespace), v_cfg.reloptions, 1, v_cfg.subpartition,
            (SELECT string_agg(l.locks, ', ' ORDER BY l.step) FROM unnest(v_target.lock_steps) AS l
             WHERE l.statement LIKE 'LOCK%')) AS s
        ORDER BY s.step
    LOOP
        IF v_step.action = 'attach' THEN
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
            FROM pg_attribute AS a
            WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
            v_where := concat_ws(' AND ',
                                 CASE WHEN v_range.lower_literal <> 'MINVALUE'
                                     THEN format('%I >= %s', v_cfg.key_column, v_range.lower_literal) END,
                                 CASE WHEN v_range.upper_literal <> 'MAXVALUE'
                                     THEN format('%I < %s', v_cfg.key_column, v_range.upper_literal) END,
                                 format('%I IS NOT NULL', v_cfg.key_column));
            EXECUTE format('WITH moved AS (DELETE FROM ONLY %s WHERE %s RETURNING %s) '
                           'INSERT INTO %s (%s) SELECT %s FROM moved',
                           v_default, v_where, v_cols, v_range.relation, v_cols, v_cols);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            partition := v_range.relation;
            lower_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_range.lo, v_cfg.epoch_unit);
            upper_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_range.hi, v_cfg.epoch_unit);
            rows_moved := v_count;
        END IF;
        EXECUTE v_step.statement;
    END LOOP;
    PERFORM pgpart._gu_sync_tree(p_parent);  -- the moved rows' values, released by the DELETE, recorded again
    PERFORM pgpart._log(p_parent, 'move_default_range', 'ok',
                        jsonb_build_object('partition', v_range.relation, 'rows', v_count));
    RETURN NEXT;
END
$body$;

-- The overload taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table (see pgpart._table_arg); no SET clause, so the
-- name is resolved in the caller's search_path, as the regclass cast would.
CREATE OR REPLACE FUNCTION pgpart.move_default_range(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
RETURNS TABLE (partition text, lower_bound text, upper_bound text, rows_moved bigint)
LANGUAGE plpgsql
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.move_default_range(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.move_default_range'),
        p_lock_timeout, p_lock_retries, p_now_at);
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_range(text, interval, integer, timestamptz) IS
'move_default_range with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';

-- pgpart.move_default_rows(parent, ..., dry_run): moves every range out of
-- the default partition, one committed transaction per range, with a NOTICE
-- per range ("range k of n", n planned at start by move_default_plan, and
-- the rows moved so far) and a final count. CALL it outside a transaction
-- block. DRY_RUN: the plan (move_default_plan, exact counts) as NOTICEs;
-- nothing moves and nothing commits, so it may run inside a transaction block.
CREATE OR REPLACE PROCEDURE pgpart.move_default_rows(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    r record;
    v_total bigint := 0::bigint;
    v_ranges integer := 0;
    v_planned integer;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_dry_run THEN
        FOR r IN SELECT * FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at) AS m ORDER BY m.step LOOP
            v_ranges := v_ranges + 1;
            v_total := v_total + r.rows_to_move;
            RAISE NOTICE 'pgpart: dry run: range %: would move % rows into % (% to %)%', r.step, r.rows_to_move,
                r.partition, r.lower_bound, r.upper_bound, coalesce('; ' || r.problem, '');
        END LOOP;
        RAISE NOTICE 'pgpart: dry run: would move % rows out of the default partition of % into % partitions '
                     '(exact counts now; nothing moved)', v_total, p_parent, v_ranges;
        RETURN;
    END IF;
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.move_default_rows',
        'It commits after each range it moves, which a procedure can do only when called by CALL '
        'outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one call '
        'SELECT * FROM pgpart.move_default_range(parent) once per transaction.');
    -- the total of the progress: the ranges planned now (rows written to the
    -- default meanwhile may add ranges: then "range k, n planned at start")
    SELECT count(*)::integer INTO v_planned
    FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at, count_rows => false) AS m;
    COMMIT;  -- releases the planner's reads before the first move locks the default
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    LOOP
        SELECT * INTO r FROM pgpart.move_default_range(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS m;
        EXIT WHEN r.partition IS NULL;
        v_total := v_total + r.rows_moved;
        v_ranges := v_ranges + 1;
        RAISE NOTICE 'pgpart: %: moved % rows into % (% to %); % rows moved so far',
            CASE WHEN v_ranges <= v_planned THEN pg_catalog.format('range %s of %s', v_ranges, v_planned)
                 ELSE pg_catalog.format('range %s (%s planned at start)', v_ranges, v_planned) END,
            r.rows_moved, r.partition, r.lower_bound, r.upper_bound, v_total;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    RAISE NOTICE 'pgpart: moved % rows out of the default partition of % into % partitions', v_total, p_parent, v_ranges;
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(regclass, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'Moves all rows out of the default partition into partitions of the grid, one committed transaction per range, with progress "range k of n"; dry_run: the plan (move_default_plan) as NOTICEs, nothing moved.';

-- The overload taking the table's name as text (see pgpart._table_arg): it
-- resolves the name before pinning search_path, then CALLs the procedure
-- above (a nested CALL may still commit).
CREATE OR REPLACE PROCEDURE pgpart.move_default_rows(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parent regclass := pgpart._table_arg(move_default_rows.parent, pg_catalog.to_regclass(move_default_rows.parent),
                                           pg_catalog.current_setting('search_path'), 'pgpart.move_default_rows');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    CALL pgpart.move_default_rows(v_parent, move_default_rows.lock_timeout, move_default_rows.lock_retries,
                                  move_default_rows.now_at, move_default_rows.dry_run);
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(text, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'move_default_rows with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';

-- source: sql/src/40_api/move_default_plan.sql
-- The dry run of moving rows out of the default partition (move_default.sql):
-- the ranges move_default_rows would create and move rows into, from the
-- planner the move itself uses (pgpart._default_ranges), so the plan and
-- the move agree.

-- pgpart.move_default_plan(parent, ...): the dry run of move_default_rows,
-- as rows: each range it would create and move rows into, in its order,
-- with the exact number of rows it holds now (COUNT_ROWS: one range scan
-- each; false lists the ranges only) and what would stop its move. Reads
-- the default (under the lock timeout, reporting 55P03 like a move would),
-- changes nothing and takes no lock of its own beyond the reads'.
CREATE OR REPLACE FUNCTION pgpart.move_default_plan(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    now_at timestamptz DEFAULT now(),
    count_rows boolean DEFAULT true
)
RETURNS TABLE (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    rows_to_move bigint,
    problem text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '200ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_now_at ALIAS FOR now_at;
    p_count_rows ALIAS FOR count_rows;
    v_target pgpart._target;
    v_cfg pgpart.config;
BEGIN
    -- an unmanaged parent whose default holds rows: the way forward (the
    -- create_range_partitions call that registers it without covering them)
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent)
       AND pgpart._unmanaged_default_hint(p_parent) IS NOT NULL THEN
        PERFORM pgpart._require_owner(p_parent);
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            DETAIL = 'Its default partition holds rows; moving them needs the policy (the grid of their partitions).',
            HINT = pgpart._unmanaged_default_hint(p_parent);
    END IF;
    -- the checks of the real move, in its order, then the planner it uses
    v_target := pgpart._prepare(p_parent, NULL, p_lock_timeout, 0, p_now_at, p_managed => true);
    v_cfg := v_target.policy;
    PERFORM pgpart._require_move_grid(v_target);
    IF p_count_rows IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('count_rows of pgpart.move_default_plan(%s) must not be NULL', p_parent),
            HINT = 'Pass true (exact counts, one range scan each) or false (the ranges only).',
            SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
    END IF;
    IF pgpart._default_partition(p_parent) IS NULL THEN
        RETURN;
    END IF;
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'read');
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    RETURN QUERY
    SELECT d.ordinal, d.relation,
           pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, d.lo, v_cfg.epoch_unit),
           pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, d.hi, v_cfg.epoch_unit),
           d.row_count,
           CASE WHEN d.overlap IS NOT NULL
                    THEN format('42P17: partition %s, off the grid, overlaps this range: the move stops here',
                                d.overlap)
                WHEN d.taken THEN format('42P07: relation %s already exists: the move stops here', d.relation)
           END
    FROM pgpart._default_ranges(p_parent, p_now_at, p_count_rows) AS d
    ORDER BY d.ordinal;
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_plan(regclass, interval, timestamptz, boolean) IS
'The dry run of move_default_rows as rows: each range it would create and move rows of the default partition into, in order, with the exact row count (count_rows) and what would stop its move; changes nothing.';

-- The overload taking the table's name as text (see pgpart._table_arg).
CREATE OR REPLACE FUNCTION pgpart.move_default_plan(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    now_at timestamptz DEFAULT now(),
    count_rows boolean DEFAULT true
)
RETURNS TABLE (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    rows_to_move bigint,
    problem text
)
LANGUAGE plpgsql
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_now_at ALIAS FOR now_at;
    p_count_rows ALIAS FOR count_rows;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.move_default_plan(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.move_default_plan'),
        p_lock_timeout, p_now_at, p_count_rows);
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_plan(text, interval, timestamptz, boolean) IS
'move_default_plan with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';

-- source: sql/src/40_api/partition_info.sql
-- pgpart.partition_info(parent, now_at): one row per partition of PARENT
-- (or of every managed parent), sub-partitions under their partition, in
-- bound order. Read from the catalog only, so it answers while another
-- session holds ACCESS EXCLUSIVE on a partition (DESIGN §2): bounds from
-- pg_get_expr(relpartbound, 0), sizes from relpages, rows from reltuples.
-- Bounds of instant keys (timestamptz, uuid, epoch integers) are shown as
-- times in the configured time zone, never in the session's; BOUND keeps
-- the raw FOR VALUES clause (a uuid key's uuid bounds, an epoch key's
-- numbers).
CREATE OR REPLACE FUNCTION pgpart.partition_info(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (
    parent_table regclass,
    partition regclass,
    level integer,
    parent_partition regclass,
    lower_bound text,
    upper_bound text,
    bound text,
    is_default boolean,
    tablespace name,
    estimated_rows bigint,
    size_bytes bigint,
    detach_pending boolean,
    runway text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    v_root regclass;
    v_zone text;
    v_unit text;
    v_runway text;
BEGIN
    -- now_at as the changing verbs take it: finite (22023 naming it)
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    -- a plain table has no partitions to show: say so rather than answer nothing
    IF p_parent IS NOT NULL AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = p_parent) <> 'p' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'wrong_object_type',
            MESSAGE = format('%s is not a partitioned table', p_parent),
            HINT = 'Pass a table made with PARTITION BY (or one of its partitions that is itself partitioned).',
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
    FOR v_root IN
        SELECT p_parent WHERE p_parent IS NOT NULL
        UNION ALL
        SELECT c.parent FROM pgpart.config AS c
        JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE p_parent IS NULL
        ORDER BY 1
    LOOP
        SELECT c.time_zone, c.epoch_unit INTO v_zone, v_unit FROM pgpart.config AS c WHERE c.parent = v_root;
        v_runway := pgpart._runway(v_root, p_now_at);
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT
                p.partition AS node, p.relkind, 1 AS depth, v_root AS up, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                           ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                      p.partition::oid::bigint::numeric] AS sort_key
            FROM pgpart._partitions(v_root) AS p
            UNION ALL
            SELECT
                p.partition, p.relkind, t.depth + 1, t.node, p.bound, p.is_default,
                p.detach_pending, p.lower_coord, p.upper_coord,
                t.sort_key || ARRAY[CASE WHEN p.is_default THEN 'Infinity'::numeric
                                         ELSE coalesce(p.lower_coord, p.partition::oid::bigint::numeric) END,
                                    p.partition::oid::bigint::numeric]
            FROM tree AS t
            CROSS JOIN LATERAL pgpart._partitions(t.node) AS p
            WHERE t.relkind = 'p'
        )
        SELECT
            v_root,
            r.node,
            r.depth,
            CASE WHEN r.depth > 1 THEN r.up END,
            pgpart._coord_to_text(k.key_type, v_zone, r.lower_coord, CASE WHEN r.up = v_root THEN v_unit END),
            pgpart._coord_to_text(k.key_type, v_zone, r.upper_coord, CASE WHEN r.up = v_root THEN v_unit END),
            r.bound,
            r.is_default,
            coalesce(ts.spcname, dts.spcname),
            CASE WHEN c.relkind = 'r' AND c.reltuples >= 0 THEN c.reltuples::bigint END,
            CASE WHEN c.relkind = 'r' THEN
                (c.relpages::bigint + coalesce(toast.relpages, 0)
                 + coalesce((SELECT sum(ic.relpages) FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
                             WHERE ix.indrelid IN (c.oid, c.reltoastrelid)), 0))
                * current_setting('block_size')::bigint
            END,
            r.detach_pending,
            v_runway
        FROM tree AS r
        -- LATERAL ... LIMIT 1 (here and for the key type below): looked up
        -- by index for each node of the tree. As plain joins, the planner,
        -- expecting a thousand-node tree, hashed the whole of pg_class and
        -- pg_partitioned_table once per parent: partition_info() over N
        -- parents cost N times the catalog.
        CROSS JOIN LATERAL (SELECT x.* FROM pg_class AS x WHERE x.oid = r.node LIMIT 1) AS c
        LEFT JOIN pg_class AS toast ON toast.oid = c.reltoastrelid
        LEFT JOIN pg_tablespace AS ts ON ts.oid = c.reltablespace
        CROSS JOIN (SELECT t.spcname FROM pg_database AS d JOIN pg_tablespace AS t ON t.oid = d.dattablespace
                    WHERE d.datname = current_database()) AS dts
        LEFT JOIN LATERAL (
            SELECT a.atttypid::regtype AS key_type
            FROM pg_partitioned_table AS pt
            JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
            WHERE pt.partrelid = r.up AND pt.partnatts = 1 AND pt.partstrat = 'r'
            LIMIT 1
        ) AS k ON true
        ORDER BY r.sort_key;
    END LOOP;
END
$body$;

-- source: sql/src/40_api/reattach_partition.sql
-- pgpart.reattach_partition(parent, partition, ...): brings back a table
-- that retention detached from PARENT (with a grace period it stays
-- detached, readable by name, until its archive or drop is due): attaches
-- it again at the bounds its journal entry recorded and closes that entry,
-- so retention never archives or drops it (pgpart._reattach_plan). Takes
-- every lock first in pgpart's one order (advisory lock, parent, tables
-- linked by foreign keys, default partition, the table) under LOCK_TIMEOUT
-- with LOCK_RETRIES, then validates a CHECK equal to the partition
-- constraint, so the ATTACH does not scan the table again. Writers of the
-- parent go on meanwhile (SHARE UPDATE EXCLUSIVE on it), except into a
-- default partition, which ATTACH locks and scans. DRY_RUN returns the steps
-- and changes nothing. A table the policy still expires is detached again
-- by the next maintenance run: a WARNING says so (change the policy first).
CREATE OR REPLACE FUNCTION pgpart.reattach_partition(
    parent regclass,
    partition regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_partition ALIAS FOR partition;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_plan pgpart.step [];
    st pgpart.step;
BEGIN
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, now());
    PERFORM pgpart._require_owner(p_parent);
    v_plan := array(SELECT s FROM pgpart._reattach_plan(p_parent, p_partition) AS s ORDER BY s.step);
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM unnest(v_plan);
        RETURN;
    END IF;
    -- the CHECK and the ATTACH evaluate key code: it must be trusted
    PERFORM pgpart._guard_owner_code(p_parent, 'ddl');
    PERFORM pgpart._acquire_locks(
        array(SELECT l.statement FROM pgpart._lock_statements(p_parent) AS l)
        || format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_partition),
        p_timeout, p_retries);
    PERFORM pgpart._set_lock_timeout(p_timeout);
    -- planned again under the locks: another run may have changed the tree or the journal meanwhile
    v_plan := array(SELECT s FROM pgpart._reattach_plan(p_parent, p_partition) AS s ORDER BY s.step);
    FOREACH st IN ARRAY v_plan LOOP
        EXECUTE st.statement;
        RETURN NEXT st;
    END LOOP;
    PERFORM pgpart._gu_sync_tree(p_parent);  -- its values count again for global unique constraints
    IF EXISTS (
        SELECT 1 FROM pgpart._expiry(p_parent, now(), p_timeout) AS e WHERE e.partition = p_partition
    ) THEN
        RAISE WARNING USING
            MESSAGE = format('pgpart: %s is expired under the retention policy of %s', p_partition, p_parent),
            DETAIL = 'The next maintenance run detaches it again.',
            HINT = 'To keep it, change the policy first: SELECT * FROM pgpart.set_policy(parent, retention => ..., '
                   'retention_max_bytes => ..., retention_max_rows => ...).';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart.reattach_partition(regclass, regclass, interval, integer, boolean) IS
'Attaches again, at its journaled bounds, a table retention detached (e.g. during its grace period) and closes its journal entry so it is never archived or dropped; locks under a timeout with retries; dry_run returns the steps.';

-- source: sql/src/40_api/reconcile.sql
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
CREATE OR REPLACE FUNCTION pgpart.reconcile(
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

-- source: sql/src/40_api/record_export.sql
-- pgpart.record_export(parent, partition, manifest, lock_timeout,
-- lock_retries): the last step of an export to the cold tier
-- (docs/cold-tier.md). The client has written PARTITION's rows to a
-- Parquet file and read the file back, verifying its row count and
-- checksum against the table (MANIFEST says so); this logs the manifest in
-- pgpart.log (action 'export', closing the table's journal entry, so
-- pgpart.cold_partitions lists it) and drops the table, in one transaction:
-- a failure or a kill before the commit leaves the table detached and
-- awaiting export, and the next export writes its file again.
-- Only a table retention detached for export (a valid journal entry with
-- action 'export'), whose row count is still the manifest's.
CREATE OR REPLACE FUNCTION pgpart.record_export(
    parent regclass,
    partition regclass,
    manifest jsonb,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
-- the row count below must see every row, or raise (42501), never fewer
SET row_security = off
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_partition ALIAS FOR partition;
    p_manifest ALIAS FOR manifest;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_name text := p_partition::text;
    v_oid oid := p_partition::oid;
    v_rows bigint;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_manifest IS NULL OR jsonb_typeof(p_manifest -> 'rows') IS DISTINCT FROM 'number'
       OR jsonb_typeof(p_manifest -> 'checksum') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_manifest -> 'location') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the manifest of the export of %s lacks rows, checksum or location', p_partition),
            DETAIL = 'The manifest must be the one the client wrote beside the verified file.',
            HINT = 'Export with pgpart.Client.export_partition or the pgpart export command.';
    END IF;
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._require_owner(p_partition);
    -- a detached table with a valid journal entry, else 42501/55000
    PERFORM pgpart._require_detached(p_parent, p_partition);
    IF NOT EXISTS (SELECT 1 FROM pgpart._awaiting_export(p_parent) AS a WHERE a.detached = p_partition) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not awaiting export', p_partition),
            DETAIL = 'Its retention journal entry asks for another action.',
            HINT = 'Only tables detached for export are dropped after their export.';
    END IF;
    PERFORM pgpart._acquire_locks(
        ARRAY[format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_partition)], p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- under the lock: nothing can change it any more before the drop
    EXECUTE format('SELECT count(*) FROM %s', p_partition) INTO v_rows;
    IF v_rows <> (p_manifest ->> 'rows')::bigint THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has %s rows, its export %s', p_partition, v_rows, p_manifest ->> 'rows'),
            DETAIL = 'Rows were written to the table after its export; nothing was dropped.',
            HINT = 'Export it again: the new file replaces the old one.';
    END IF;
    PERFORM pgpart._log_journal(p_parent, 'export', v_oid, NULL, NULL,
                                p_manifest || jsonb_build_object('partition_oid', v_oid, 'table', v_name));
    EXECUTE format('DROP TABLE %s', p_partition);
END
$body$;

COMMENT ON FUNCTION pgpart.record_export(regclass, regclass, jsonb, interval, integer) IS
'Records the verified Parquet export of a table detached for export (its manifest in pgpart.log) and drops the table, under a lock timeout.';

-- source: sql/src/40_api/run_maintenance.sql
-- Maintenance of every managed parent (DESIGN §3, §6). Each parent's work is
-- done with its owner's rights, only while the policy's author still owns
-- the table, and inside its own subtransaction: a failure is logged (in
-- pgpart.log and as last_error on the policy row) and the others go on.

-- pgpart.run_maintenance(parent, now_at, ...): the lock-light part of
-- maintenance, in one transaction: finish pending detaches, move the rows
-- of the default partition into their ranges where the policy says
-- drain_default (pgpart._drain_default_rows, at most
-- pgpart._drain_max_ranges() ranges, held until this transaction commits),
-- create the partitions ahead (at most 200 per call, the slot of now first:
-- run_maintenance_proc and the Python client call it again, one
-- transaction each, until a table is fully caught up), bring partitions made by
-- others in step (reconcile); report the retention that is due (its detaches must
-- commit one by one: run_maintenance_proc or the Python client do them).
-- When nothing is due it reads only the catalog and takes no lock.
-- Every parent's work runs in subtransactions of its own: any failure,
-- statement timeouts (57014, see pgpart._statement_timed_out) and a full
-- lock table (53200) included, rolls back that parent's work only, is
-- logged and reported (ERROR: the error as an object: sqlstate, message,
-- detail, hint, schema, table), and the others go on; a user's cancel stops
-- the run.
-- DRY_RUN: the plan of all of maintenance, changing nothing and taking no
-- lock: the same loop, the same decisions, each verb called in its dry-run
-- mode where the real run calls it for real (finalize, create_range_partitions,
-- reconcile; the partitions of the whole catch-up, past the 200 of one
-- transaction, as run_maintenance_proc and the client make them), then,
-- in place of "retention due", the retention steps that follow
-- (detach_and_archive's plan; ONLINE: with DETACH CONCURRENTLY, as the
-- Python client runs it). STEP numbers each parent's plan from 1; a
-- failure the real run would meet (e.g. retention refused) is an "error" row.
-- Dry run only: a pending detach and a journal entry both due make the
-- archive of the finalized table come first in the plan, after the other
-- journal entries in the real run.
-- Long (about 300 lines): each stage's real run and dry run sit side by side
-- in one per-parent loop with its subtransaction and error report, so the dry
-- run follows exactly the decisions of the real one.
CREATE OR REPLACE FUNCTION pgpart.run_maintenance(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    partition text,
    detail text,
    step integer,
    lower_bound text,
    upper_bound text,
    statement text,
    locks text,
    top_level boolean,
    error jsonb
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
    v_parent regclass;
    v_cfg pgpart.config;
    v_caller name;
    v_reason text;
    v_state text;
    v_message text;
    v_detail text;
    v_why jsonb;
    v_hint text;
    v_schema text;
    v_table text;
    v_due boolean;
    v_reasons text [];  -- why pgpart._due_parents found the parent due (NULL: named by the caller)
    -- rows of a parent's work, returned only once that work has succeeded
    v_rows pgpart.step [];
    v_plan pgpart.step [];
    v_details text [];
    v_timed_out boolean;
    v_n integer;  -- steps of the parent's plan so far (dry run)
    v_drain_failed boolean;  -- the drain stage failed: its last_error stays
    st pgpart.step;
    r record;
BEGIN
    IF p_dry_run IS NULL OR p_online IS NULL OR (p_online AND NOT p_dry_run) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid dry_run %s or online %s', coalesce(p_dry_run::text, 'NULL'),
                             coalesce(p_online::text, 'NULL')),
            DETAIL = 'online plans retention with DETACH ... CONCURRENTLY, which only a client can run: '
                     'it applies to a dry run only.',
            HINT = 'Pass dry_run => true with online => true, or leave online out.';
    END IF;
    IF pg_is_in_recovery() THEN
        RETURN;  -- a standby has nothing to maintain
    END IF;
    PERFORM pgpart._check_lock_args(p_timeout, p_retries, p_now_at);
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    -- every parent: only those with anything due (one catalog query,
    -- pgpart._due_parents), so a tick where nothing is due costs almost
    -- nothing per parent; a parent passed by name gets the whole pass
    FOR v_parent, v_reasons IN
        SELECT m.parent, NULL::text [] FROM pgpart._maintenance_parents(p_parent) AS m (parent) WHERE p_parent IS NOT NULL
        UNION ALL
        SELECT d.parent, d.reasons FROM pgpart._due_parents(p_now_at) AS d WHERE p_parent IS NULL
        ORDER BY 1
    LOOP
        v_n := 0;
        -- run_maintenance_proc ran the filter and hands this parent's reasons
        -- over ('<oid>:<reason>,<reason>', for its transaction only)
        IF v_reasons IS NULL
           AND split_part(current_setting('pgpart.due_reasons', true), ':', 1) = v_parent::oid::text THEN
            v_reasons := string_to_array(split_part(current_setting('pgpart.due_reasons', true), ':', 2), ',');
        END IF;
        v_reason := pgpart._may_maintain(v_parent);
        IF v_reason IS NOT NULL THEN
            RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_reason, NULL::integer, NULL::text, NULL::text,
                                NULL::text, NULL::text, NULL::boolean, NULL::jsonb;
            CONTINUE;
        END IF;
        -- Pending detaches first, each in a subtransaction of its own: a later
        -- failure of this parent must not undo a finished detach. The step is
        -- the one retention would plan (pgpart._retention_plan); run, or
        -- returned by a dry run.
        FOR r IN
            SELECT i.inhrelid::regclass AS partition FROM pg_inherits AS i
            WHERE i.inhparent = v_parent AND i.inhdetachpending
            ORDER BY i.inhrelid
        LOOP
            st := ROW(NULL, r.partition::text, NULL, NULL, 'finalize',
                      format('SELECT pgpart._finalize_detach(%L::regclass, %L::regclass, %L, %s)',
                             v_parent::text, r.partition::text, p_timeout, p_retries),
                      format('SHARE UPDATE EXCLUSIVE on %s, ACCESS EXCLUSIVE on %s; waits for transactions using the parent',
                             v_parent, r.partition),
                      false)::pgpart.step;
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                IF NOT p_dry_run THEN
                    EXECUTE st.statement;
                    st.action := 'finalized';
                END IF;
                PERFORM set_config('role', v_caller, true);
                IF p_dry_run THEN
                    v_n := v_n + 1;
                    st.step := v_n;
                END IF;
                RETURN QUERY SELECT v_parent, st.action, st.partition, NULL::text, st.step, st.lower_bound,
                                    st.upper_bound, st.statement, st.locks, st.top_level, NULL::jsonb;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: could not finish the detach of %: % %', r.partition, v_state, v_message;
                    PERFORM pgpart._log(v_parent, 'finalize', CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                        jsonb_build_object('partition', r.partition::text, 'sqlstate', v_state,
                                                           'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    r.partition::text, format('%s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, st.statement, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END LOOP;
        -- Rows of the default partition moved into their ranges first
        -- (policy drain_default; pgpart._drain_default_rows isolates each
        -- range), so that the window's ranges can be created after them
        v_drain_failed := false;
        FOR r IN SELECT * FROM pgpart._drain_default_rows(v_parent, p_now_at, p_timeout, p_retries, p_dry_run) AS d LOOP
            v_drain_failed := v_drain_failed OR r.action = 'error';
            v_n := v_n + p_dry_run::integer;
            RETURN QUERY SELECT v_parent, r.action, r.partition, r.detail, CASE WHEN p_dry_run THEN v_n END,
                                r.lower_bound, r.upper_bound, r.statement, r.locks,
                                CASE WHEN p_dry_run THEN false END, r.error;
        END LOOP;
        v_rows := '{}';
        v_details := '{}';
        v_plan := '{}';
        v_timed_out := false;
        BEGIN
            v_caller := pgpart._become_owner(v_parent);
            SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
            -- Nothing missing in the window: done, whatever the number of
            -- partitions. Else ask the planner without locks whether one
            -- partition is missing (max_new 1: the whole plan is made once,
            -- under the locks): when none is after all, no lock is taken.
            -- Not asked again when the tick's filter has just asked it
            -- (pgpart._due_parents, reason 'partitions missing'): the plan
            -- under the locks is the answer that counts, and it creates
            -- nothing when nothing is missing.
            v_due := coalesce('partitions missing' = ANY (v_reasons), false);
            IF NOT v_due AND NOT pgpart._window_complete(v_parent, p_now_at) THEN
                v_due := EXISTS (
                    SELECT 1 FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 1) AS s
                    WHERE s.action = 'attach'
                );
            END IF;
            IF v_due AND p_dry_run THEN
                -- the plan of the whole catch-up: run_maintenance_proc and the
                -- client repeat the real run, 200 new tables per transaction,
                -- until nothing is missing (at most 500 transactions: the
                -- 100,000 slots a window may span)
                v_plan := array(
                    SELECT s FROM pgpart._plan_range_partitions(
                        v_parent, v_cfg.partition_interval, NULL, NULL, NULL, NULL, NULL, false, NULL, p_timeout,
                        p_now_at, NULL, 200, 500) AS s
                    ORDER BY s.step
                );
            ELSIF v_due THEN
                -- the partitions created ('created'), at most 200 in this transaction
                v_plan := array(
                    SELECT s
                    FROM pgpart.create_range_partitions(v_parent, v_cfg.partition_interval,
                                                        lock_timeout => p_timeout, lock_retries => p_retries,
                                                        now_at => p_now_at, max_new => 200) AS s
                    ORDER BY s.step
                );
            END IF;
            IF v_due THEN
                FOREACH st IN ARRAY v_plan LOOP
                    v_rows := v_rows || st;
                    v_details := v_details || CASE
                        WHEN NOT p_dry_run THEN format('from %s to %s', st.lower_bound, st.upper_bound)
                    END;
                END LOOP;
            END IF;
            IF NOT p_dry_run THEN
                -- what retention will do next (a dry run plans its steps below)
                FOR r IN SELECT e.partition, e.reason FROM pgpart._expiry(v_parent, p_now_at, p_timeout) AS e LOOP
                    v_rows := v_rows || ROW(NULL, r.partition::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('%s, then %s%s', r.reason, v_cfg.retention_action,
                                                     CASE WHEN v_cfg.retention_grace IS NOT NULL
                                                              AND v_cfg.retention_action <> 'detach'
                                                          THEN format(' after a grace period of %s', v_cfg.retention_grace)
                                                     END);
                END LOOP;
                -- detached earlier (an interrupted run, or a grace period
                -- now over), its archive or drop still to do
                FOR r IN SELECT a.detached, a.then_action FROM pgpart._follow_ups_due(v_parent, p_now_at) AS a LOOP
                    v_rows := v_rows || ROW(NULL, r.detached::text, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('detached, then %s', r.then_action);
                END LOOP;
                -- journal entries no longer valid: retention discards them (never acts on them)
                FOR r IN SELECT j.detached_name, j.problem FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale' LOOP
                    v_rows := v_rows || ROW(NULL, r.detached_name, NULL, NULL, 'retention due', NULL, NULL, NULL)::pgpart.step;
                    v_details := v_details || format('journal entry void, to discard: %s', r.problem);
                END LOOP;
            END IF;
            PERFORM set_config('role', v_caller, true);
            IF NOT p_dry_run AND v_cfg.last_error IS NOT NULL AND NOT v_drain_failed THEN
                UPDATE pgpart.config AS c SET last_error = NULL, last_error_at = NULL WHERE c.parent = v_parent;
            END IF;
            -- done: its rows are true now (a failure above would have undone them)
            RETURN QUERY
            SELECT v_parent, u.action, u.partition, v_details[u.ord::integer],
                   CASE WHEN p_dry_run THEN v_n + u.ord::integer END,
                   u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
            FROM unnest(v_rows) WITH ORDINALITY
                AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
            ORDER BY u.ord;
            v_n := v_n + cardinality(v_rows);
        EXCEPTION
            WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                        v_hint = PG_EXCEPTION_HINT, v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF NOT p_dry_run THEN
                    RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_message;
                    PERFORM pgpart._log(v_parent, 'maintenance', 'skipped', jsonb_build_object('sqlstate', '55P03',
                                                                                            'message', v_message));
                END IF;
                RETURN QUERY SELECT v_parent, 'skipped', NULL::text, v_message, NULL::integer, NULL::text,
                                    NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report('55P03', v_message, v_detail, v_hint, v_schema, v_table);
            WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                v_timed_out := v_state = '57014';
                IF NOT p_dry_run THEN
                    RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('%s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
        END;
        -- Partitions made or changed by others, brought in step (reconcile) in
        -- a subtransaction of its own: its failure keeps what was created.
        -- (not after a statement timeout: the rest of that parent's work waits
        -- for the next run)
        -- (not when the tick's filter found no drift: the partitions made
        -- above are made in step, and drift since the filter waits for the
        -- next tick)
        IF NOT v_timed_out AND (SELECT c.reconcile FROM pgpart.config AS c WHERE c.parent = v_parent)
           AND (v_reasons IS NULL
                OR v_reasons && ARRAY['owner', 'index tablespace', 'replica identity', 'reloptions', 'grants',
                                      'grants refused', 'last error', 'unknown']) THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                FOR r IN
                    SELECT x.partition, x.action, x.statement, x.detail
                    FROM pgpart.reconcile(v_parent, lock_timeout => p_timeout, lock_retries => p_retries,
                                          dry_run => p_dry_run) AS x
                LOOP
                    IF p_dry_run THEN
                        v_n := v_n + 1;
                        RETURN QUERY SELECT v_parent, r.action, r.partition::text, r.detail, v_n, NULL::text,
                                            NULL::text, r.statement, NULL::text, false, NULL::jsonb;
                    ELSE
                        RETURN QUERY SELECT v_parent,
                                            CASE WHEN r.action IN ('skipped large', 'skipped') THEN 'drift' ELSE 'reconciled' END,
                                            r.partition::text, r.action || coalesce(': ' || r.statement, ''),
                                            NULL::integer, NULL::text, NULL::text, r.statement, NULL::text,
                                            NULL::boolean, NULL::jsonb;
                    END IF;
                END LOOP;
                PERFORM set_config('role', v_caller, true);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                IF p_dry_run THEN
                    NULL;  -- reported below, nothing recorded
                ELSIF v_state = '55P03' THEN
                    PERFORM pgpart._log(v_parent, 'reconcile', 'skipped',
                                        jsonb_build_object('sqlstate', v_state, 'message', v_message));
                ELSE
                    RAISE WARNING 'pgpart: reconcile of % failed: % %', v_parent, v_state, v_message;
                    PERFORM pgpart._record_failure(v_parent, 'reconcile', v_state, v_message);
                END IF;
                RETURN QUERY SELECT v_parent, CASE WHEN v_state = '55P03' THEN 'skipped' ELSE 'error' END,
                                    NULL::text, format('reconcile: %s: %s', v_state, v_message), NULL::integer,
                                    NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
        -- Dry run: the retention steps that follow (run_maintenance_proc and
        -- the clients run them one per transaction after this function),
        -- from the plan the retention step function executes
        -- (pgpart._retention_plan), less the pending detaches finished above.
        IF p_dry_run AND NOT v_timed_out THEN
            BEGIN
                v_caller := pgpart._become_owner(v_parent);
                -- (the partitions planned above count as made: the real run
                -- creates them before its retention)
                v_rows := array(
                    SELECT s FROM pgpart._retention_plan(
                        v_parent, p_now_at, p_online, p_timeout, p_retries,
                        (SELECT max(pgpart._text_to_coord(v_cfg.key_type, v_cfg.epoch_unit, a.upper_bound))
                         FROM unnest(v_plan) AS a WHERE a.action = 'attach')) AS s
                    WHERE s.action <> 'finalize'
                    ORDER BY s.step
                );
                IF NOT EXISTS (SELECT 1 FROM unnest(v_rows) AS s WHERE s.action <> 'analyze') THEN
                    v_rows := '{}';  -- ANALYZE follows retention work, not a finalize alone
                END IF;
                -- why each partition goes: the rule that expires it, or the grace period now over
                v_why := coalesce((
                    SELECT jsonb_object_agg(e.partition::text, e.reason)
                    FROM pgpart._expiry(v_parent, p_now_at, p_timeout,
                                        (SELECT max(pgpart._text_to_coord(v_cfg.key_type, v_cfg.epoch_unit, a.upper_bound))
                                         FROM unnest(v_plan) AS a WHERE a.action = 'attach')) AS e
                ), '{}'::jsonb) || coalesce((
                    SELECT jsonb_object_agg(f.detached::text, format('grace period over since %s', f.due_at))
                    FROM pgpart._follow_ups_due(v_parent, p_now_at) AS f
                    WHERE v_cfg.retention_grace IS NOT NULL
                ), '{}'::jsonb);
                PERFORM set_config('role', v_caller, true);
                RETURN QUERY
                SELECT v_parent, u.action, u.partition,
                       CASE WHEN u.action IN ('journal', 'detach', 'archive', 'drop') THEN v_why ->> u.partition END,
                       v_n + u.ord::integer,
                       u.lower_bound, u.upper_bound, u.statement, u.locks, u.top_level, NULL::jsonb
                FROM unnest(v_rows) WITH ORDINALITY
                    AS u (step, partition, lower_bound, upper_bound, action, statement, locks, top_level, ord)
                ORDER BY u.ord;
                v_n := v_n + cardinality(v_rows);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                        v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RETURN QUERY SELECT v_parent, 'error', NULL::text, format('retention: %s: %s', v_state, v_message),
                                    NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean,
                                    pgpart._error_report(v_state, v_message, v_detail, v_hint, v_schema, v_table);
            END;
        END IF;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(regclass, timestamptz, interval, integer, boolean, boolean) IS
'Lock-light maintenance in one transaction for one or every managed parent: finishes pending detaches, creates partitions ahead, reconciles, reports retention due; errors as objects (sqlstate, message, detail, hint). A failing parent is logged and skipped. dry_run: the plan of all maintenance, retention steps included (online: as a client runs them), changing nothing.';

-- pgpart.run_maintenance_proc(parent, now_at, ..., dry_run): all of
-- maintenance, for pg_cron and CALL. Per parent: the lock-light part
-- (run_maintenance; its drain of the default partition done first here,
-- one committed range per transaction), repeated in as many transactions
-- as it takes to catch up (each creates at most pgpart._max_new_tables() tables: a table far
-- behind is filled completely, never left with a gap); then retention, one
-- committed step at a time through the one retention runner
-- (pgpart._retention_step), then the policy's ANALYZE.
-- A parent that fails in any of these (a statement timeout and a full lock
-- table included) is logged and the others go on; a parent skipped because
-- another run holds it is not a failure. Once every parent is done, the
-- procedure raises PGM01 naming the failed ones, so a scheduler (pg_cron's
-- job history) shows the failure. A user's cancel stops the run.
-- DRY_RUN: the plan of pgpart.run_maintenance(dry_run => true) as NOTICEs,
-- changing nothing.
-- CALL it outside a transaction block: inside one (or from a function) it
-- cannot commit, and says so up front (25001) instead of PostgreSQL's
-- "invalid transaction termination" after the first parent. A procedure
-- cannot carry SET clauses (it could not commit): it re-pins search_path
-- after each COMMIT and runs DDL only through helper functions.
-- Long (about 150 lines): one loop per parent whose three stages each
-- commit and isolate their failures, and must stay in one procedure to
-- commit between them.
CREATE OR REPLACE PROCEDURE pgpart.run_maintenance_proc(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parents regclass [];
    v_parent regclass;
    -- per parent, why pgpart._due_parents found it due (comma-separated
    -- reasons); NULL for a parent named by the caller: every stage runs
    v_why text [];
    v_reasons text [];
    v_steps pgpart.step [];
    v_failed text [] := '{}'::text [];
    v_failing boolean;
    v_created integer;
    v_passes integer;
    v_done integer;
    v_state text;
    v_message text;
    v_fired text;
    v_drain text;  -- the action of the drained range (pgpart._drain_default_rows)
    r record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.run_maintenance_proc',
        'It commits after each table and each retention step, which a procedure can do only when '
        'called by CALL outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one use '
        'SELECT * FROM pgpart.run_maintenance() (the lock-light part, in your transaction).');
    IF pg_catalog.pg_is_in_recovery() THEN
        RETURN;
    END IF;
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, p_now_at);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_parent IS NOT NULL THEN
        PERFORM pgpart._managed(p_parent);
    END IF;
    v_parents := ARRAY(SELECT pgpart._maintenance_parents(p_parent));
    IF pg_catalog.cardinality(v_parents) = 0 THEN
        RAISE NOTICE USING
            MESSAGE = 'pgpart: nothing to maintain: no table is managed with automatic maintenance on',
            HINT = 'Manage a table with pgpart.create_range_partitions(...) or pgpart.ensure_range(...); '
                   'pgpart.set_policy(parent, automatic_maintenance => true) includes it.';
        RETURN;
    END IF;
    IF p_parent IS NULL THEN
        -- only the parents with anything due (see pgpart.run_maintenance)
        SELECT coalesce(array_agg(d.parent ORDER BY d.parent), '{}'),
               coalesce(array_agg(array_to_string(d.reasons, ',') ORDER BY d.parent), '{}')
        INTO v_parents, v_why
        FROM pgpart._due_parents(p_now_at) AS d;
    END IF;
    IF p_dry_run THEN
        FOR r IN
            SELECT * FROM pgpart.run_maintenance(p_parent, p_now_at, p_lock_timeout, p_lock_retries, dry_run => true)
        LOOP
            RAISE NOTICE 'pgpart: dry run: % %', r.parent_table, pg_catalog.concat_ws(' ', 'step ' || r.step, r.action,
                r.partition, ': ' || coalesce(r.statement, r.detail));
        END LOOP;
        IF NOT FOUND THEN
            RAISE NOTICE 'pgpart: dry run: nothing to do';
        END IF;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(v_parents) LOOP
        v_parent := v_parents[i];
        v_reasons := pg_catalog.string_to_array(v_why[i], ',');
        v_state := pgpart._may_maintain(v_parent);
        IF v_state IS NOT NULL THEN
            RAISE NOTICE 'pgpart: skipping %: %', v_parent, v_state;
            CONTINUE;
        END IF;
        -- set when statement_timeout fires (pgpart._statement_timed_out)
        v_fired := pg_catalog.current_setting('pgpart.statement_timeout_fired', true);
        v_failing := false;
        v_passes := 0;
        -- the default's rows first (policy drain_default), one committed
        -- range per transaction, at most pgpart._drain_max_ranges(); not
        -- when the filter found none to move (nor a failure to retry)
        LOOP
            EXIT WHEN NOT (v_reasons IS NULL OR v_reasons && ARRAY['default rows', 'last error', 'unknown']);
            v_passes := v_passes + 1;
            v_drain := NULL;
            BEGIN
                SELECT d.action, coalesce(d.partition || ': ', '') || d.detail INTO v_drain, v_message
                FROM pgpart._drain_default_rows(v_parent, p_now_at, p_lock_timeout, p_lock_retries, false, 1) AS d;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                PERFORM pgpart._record_failure(v_parent, 'drain_default', v_state, v_message);
                v_drain := 'error';
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            EXIT WHEN v_drain IS NULL;
            RAISE NOTICE 'pgpart: % drain_default: % %', v_parent, v_drain, v_message;
            v_failing := v_failing OR v_drain = 'error';
            EXIT WHEN v_drain <> 'moved' OR v_passes >= pgpart._drain_max_ranges();
        END LOOP;
        v_passes := 0;
        -- the lock-light part, once more per transaction while it creates
        -- tables and some are still missing (catch-up past the per-transaction cap)
        LOOP
            v_passes := v_passes + 1;
            v_created := 0;
            BEGIN
                -- isolated per parent inside (errors come back as rows); this catches what fails around it
                -- drained above, one range per transaction (pgpart._drain_default_rows)
                PERFORM pg_catalog.set_config('pgpart.drain_done', 'on', true);
                -- why the filter found the parent due, for run_maintenance
                -- (first pass only: later ones catch up what is still missing)
                PERFORM pg_catalog.set_config(
                    'pgpart.due_reasons',
                    CASE WHEN v_passes = 1 AND v_reasons IS NOT NULL
                         THEN v_parent::oid::text || ':' || pg_catalog.array_to_string(v_reasons, ',') ELSE '' END,
                    true);
                FOR r IN SELECT m.action FROM pgpart.run_maintenance(v_parent, p_now_at, p_lock_timeout, p_lock_retries) AS m
                LOOP
                    v_created := v_created + (r.action = 'created')::integer;
                    v_failing := v_failing OR r.action = 'error';
                END LOOP;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: maintenance of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'maintenance', v_state, v_message);
                v_failing := true;
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            -- 500 transactions of 200: the 100,000 slots a window may span at most;
            -- fewer than one transaction's cap created: nothing was left out
            EXIT WHEN v_failing OR v_created = 0 OR v_passes >= 500
                OR pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired
                OR v_created < pgpart._max_new_tables() / (1 + pgpart._subpartition_leaves(
                    (SELECT c.subpartition FROM pgpart.config AS c WHERE c.parent = v_parent)))
                OR pgpart._window_complete(v_parent, p_now_at);
        END LOOP;
        IF pg_catalog.current_setting('pgpart.statement_timeout_fired', true) IS DISTINCT FROM v_fired THEN
            -- this parent took too long: the rest of its work waits for the next run
            RAISE NOTICE 'pgpart: % timed out: its retention waits for the next run', v_parent;
            v_failed := v_failed || v_parent::text;
            CONTINUE;
        END IF;
        v_done := 0;
        LOOP
            -- retention, unless the filter found none of its work and the
            -- policy has no retention rule (with one, the partitions just
            -- made can expire the one that was the newest)
            EXIT WHEN v_reasons IS NOT NULL
                AND NOT v_reasons && ARRAY['expired', 'journal', 'detach pending', 'retention refused', 'last error',
                                           'unknown']
                AND NOT EXISTS (
                    SELECT 1 FROM pgpart.config AS c
                    WHERE c.parent = v_parent
                      AND (c.retention IS NOT NULL OR c.retention_max_bytes IS NOT NULL
                           OR c.retention_max_rows IS NOT NULL)
                );
            BEGIN
                v_steps := ARRAY(SELECT s FROM pgpart._retention_step(v_parent, p_now_at, p_lock_timeout, p_lock_retries,
                                                                      p_as_owner => true, p_done => v_done) AS s);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                    RAISE;  -- a cancel stops the whole run
                END IF;
                RAISE WARNING 'pgpart: retention of % failed: % %', v_parent, v_state, v_message;
                PERFORM pgpart._record_failure(v_parent, 'retention', v_state, v_message);
                v_failing := true;
                v_steps := '{}';
            END;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            -- skipped: another run holds the parent (logged, not an error)
            -- analyze: the policy's, after the work (the last step)
            EXIT WHEN pg_catalog.cardinality(v_steps) = 0 OR v_steps[1].action IN ('skipped', 'analyze');
            v_done := v_done + 1;
            RAISE NOTICE 'pgpart: % % %', v_parent, v_steps[1].action, v_steps[1].partition;
            EXIT WHEN v_done >= 100000;
        END LOOP;
        IF v_failing THEN
            v_failed := v_failed || v_parent::text;
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(v_failed) > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'PGM01',
            MESSAGE = pg_catalog.format('pgpart maintenance failed for %s table(s): %s',
                                        pg_catalog.cardinality(v_failed), pg_catalog.array_to_string(v_failed, ', ')),
            DETAIL = 'The other tables were maintained and committed; each failure was logged as it happened.',
            HINT = 'See SELECT * FROM pgpart.check() (code maintenance_failed) and the error rows of pgpart.log.';
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(regclass, timestamptz, interval, integer, boolean) IS  -- noqa: LT01
'All maintenance for pg_cron and CALL: per managed parent, the lock-light part until caught up, then retention one committed step at a time, then ANALYZE; raises PGM01 naming the failed tables at the end. dry_run: the plan as NOTICEs.';

-- The overloads taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table, where the regclass cast would fail before the
-- call (see pgpart._table_arg). No SET clause, so the name is resolved in
-- the caller's search_path, as the cast would; NULL maintains every table.
CREATE OR REPLACE FUNCTION pgpart.run_maintenance(
    parent text,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false,
    online boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    partition text,
    detail text,
    step integer,
    lower_bound text,
    upper_bound text,
    statement text,
    locks text,
    top_level boolean,
    error jsonb
)
LANGUAGE plpgsql
-- as the verb it calls (no SET search_path: see above)
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    p_online ALIAS FOR online;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.run_maintenance(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.run_maintenance'),
        p_now_at, p_lock_timeout, p_lock_retries, p_dry_run, p_online);
END
$body$;

COMMENT ON FUNCTION pgpart.run_maintenance(text, timestamptz, interval, integer, boolean, boolean) IS
'run_maintenance with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL maintains every table.';

-- It resolves the name before pinning search_path, then CALLs the procedure
-- above (a nested CALL may still commit).
CREATE OR REPLACE PROCEDURE pgpart.run_maintenance_proc(
    parent text,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parent regclass := pgpart._table_arg(
        run_maintenance_proc.parent, pg_catalog.to_regclass(run_maintenance_proc.parent),
        pg_catalog.current_setting('search_path'), 'pgpart.run_maintenance_proc');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    CALL pgpart.run_maintenance_proc(v_parent, run_maintenance_proc.now_at, run_maintenance_proc.lock_timeout,
                                     run_maintenance_proc.lock_retries, run_maintenance_proc.dry_run);
END
$body$;

COMMENT ON PROCEDURE pgpart.run_maintenance_proc(text, timestamptz, interval, integer, boolean) IS  -- noqa: LT01
'run_maintenance_proc with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path; NULL maintains every table.';

-- pgpart._drain_default_step(parent, now_at, lock_timeout, lock_retries):
-- one range of the default partition drained (policy drain_default,
-- 30_plan/drain_default.sql): the locks of pgpart._drain_lock_statements
-- (writers wait at the parent instead of failing), then
-- pgpart.move_default_range (build the table, DELETE ... RETURNING the
-- rows into it, ATTACH, logged in pgpart.log). Returns 'moved' with the
-- range and its rows, 'skipped' with the reason (policy refused, default
-- too large or locked), or no row when there is nothing to drain. Runs as
-- the table's owner. Its caller commits (or not: run_maintenance's
-- transaction holds every range it drains until it commits).
CREATE OR REPLACE FUNCTION pgpart._drain_default_step(
    p_parent regclass,
    p_now_at timestamptz,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS TABLE (
    action text, partition text, lower_bound text, upper_bound text, rows_moved bigint, detail text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    v_caller name;
    v_state record;
    v_moved record;
BEGIN
    detail := pgpart._may_maintain(p_parent);
    IF detail IS NOT NULL THEN
        action := 'skipped';
        RETURN NEXT;
        RETURN;
    END IF;
    v_caller := pgpart._become_owner(p_parent);
    SELECT * INTO v_state FROM pgpart._drain_state(p_parent, p_lock_timeout);
    IF v_state.state IN ('off', 'empty') THEN
        PERFORM set_config('role', v_caller, true);
        RETURN;
    END IF;
    IF v_state.state <> 'drain' THEN
        PERFORM set_config('role', v_caller, true);
        action := 'skipped';
        partition := v_state.default_partition::text;
        detail := CASE WHEN v_state.state = 'too large'
            THEN pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                 || ' (see pgpart.check(): default_too_large_to_drain)'
            ELSE format('drain_default: the default partition %s is locked: drained by a later run',
                        v_state.default_partition) END;
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM pgpart._acquire_locks(pgpart._drain_lock_statements(p_parent), p_lock_timeout, p_lock_retries);
    SELECT * INTO v_moved FROM pgpart.move_default_range(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS m;
    PERFORM set_config('role', v_caller, true);
    IF v_moved.partition IS NULL THEN
        RETURN;
    END IF;
    action := 'moved';
    partition := v_moved.partition;
    lower_bound := v_moved.lower_bound;
    upper_bound := v_moved.upper_bound;
    rows_moved := v_moved.rows_moved;
    detail := format('drain_default: %s rows moved from the default partition %s', v_moved.rows_moved,
                     v_state.default_partition);
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_default_step(regclass, timestamptz, interval, integer) IS
'Drains one range of the default partition of a parent whose policy has drain_default (writers wait, never fail): moved, skipped with the reason, or nothing to do (internal).';

-- pgpart._drain_default_rows(parent, now_at, lock_timeout, lock_retries,
-- dry_run, max_ranges): the drain stage of maintenance, rows in the shape
-- of run_maintenance's. Up to MAX_RANGES ranges, each in a subtransaction
-- of its own (a failure keeps the ranges moved before it, is logged and
-- kept as last_error, and ends the stage; a lock not obtained ends it as
-- 'skipped'). DRY_RUN: the ranges move_default_plan lists (exact counts),
-- each with the statement that moves it, or why nothing would move;
-- changes nothing. Nothing is done (no row) unless the policy has
-- drain_default on, or when the caller set pgpart.drain_done for its
-- transaction (run_maintenance_proc drains first, one range per
-- transaction, then calls run_maintenance; the Python client does the same
-- with P_MAX_RANGES 1, one call per transaction).
CREATE OR REPLACE FUNCTION pgpart._drain_default_rows(
    p_parent regclass,
    p_now_at timestamptz DEFAULT now(),
    p_lock_timeout interval DEFAULT '200ms',
    p_lock_retries integer DEFAULT 10,
    p_dry_run boolean DEFAULT false,
    p_max_ranges integer DEFAULT pgpart._drain_max_ranges()
)
RETURNS TABLE (
    action text, partition text, detail text, lower_bound text, upper_bound text, statement text, locks text,
    error jsonb
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
#variable_conflict use_column
DECLARE
    v_caller name;
    v_state record;
    v_n integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
    v_hint text;
    v_schema text;
    v_table text;
    r record;
BEGIN
    IF current_setting('pgpart.drain_done', true) = 'on'
       OR NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.drain_default) THEN
        RETURN;
    END IF;
    IF p_dry_run THEN
        BEGIN
            v_caller := pgpart._become_owner(p_parent);
            SELECT * INTO v_state FROM pgpart._drain_state(p_parent, p_lock_timeout);
            IF v_state.state IN ('too large', 'locked') THEN
                RETURN QUERY SELECT 'skipped', v_state.default_partition::text,
                    CASE WHEN v_state.state = 'too large'
                        THEN pgpart._drain_too_large(v_state.default_partition, v_state.heap_bytes, v_state.max_bytes)
                        ELSE format('drain_default: the default partition %s is locked', v_state.default_partition)
                    END, NULL::text, NULL::text, NULL::text, NULL::text, NULL::jsonb;
            ELSIF v_state.state = 'drain' THEN
                RETURN QUERY
                SELECT CASE WHEN m.problem IS NULL THEN 'move' ELSE 'error' END, m.partition,
                       coalesce(m.problem, format('drain_default: %s rows to move from the default partition %s',
                                                  m.rows_to_move, v_state.default_partition)),
                       m.lower_bound, m.upper_bound,
                       format('SELECT * FROM pgpart.move_default_range(%L::regclass, %L, %s, %L)', p_parent::text,
                              p_lock_timeout, p_lock_retries, p_now_at),
                       format('SHARE ROW EXCLUSIVE on %s (writers wait), ACCESS EXCLUSIVE on %s; the new '
                              'partition''s ATTACH scans the default', p_parent, v_state.default_partition),
                       NULL::jsonb
                FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at) AS m
                WHERE m.step <= p_max_ranges
                ORDER BY m.step;
            END IF;
            PERFORM set_config('role', v_caller, true);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                    v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
            RETURN QUERY SELECT CASE WHEN v_sqlstate = '55P03' THEN 'skipped' ELSE 'error' END, NULL::text,
                                format('drain_default: %s: %s', v_sqlstate, v_message), NULL::text, NULL::text,
                                NULL::text, NULL::text,
                                pgpart._error_report(v_sqlstate, v_message, v_detail, v_hint, v_schema, v_table);
        END;
        RETURN;
    END IF;
    WHILE v_n < p_max_ranges LOOP
        v_n := v_n + 1;
        BEGIN
            SELECT * INTO r FROM pgpart._drain_default_step(p_parent, p_now_at, p_lock_timeout, p_lock_retries) AS s;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                    v_schema = SCHEMA_NAME, v_table = TABLE_NAME;
            IF v_sqlstate = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
                RAISE;  -- a cancel stops the whole run
            END IF;
            IF v_sqlstate = '55P03' THEN
                RAISE NOTICE 'pgpart: drain_default of % skipped: %', p_parent, v_message;
                PERFORM pgpart._log(p_parent, 'drain_default', 'skipped',
                                    jsonb_build_object('sqlstate', v_sqlstate, 'message', v_message));
            ELSE
                RAISE WARNING 'pgpart: drain_default of % failed: % %', p_parent, v_sqlstate, v_message;
                PERFORM pgpart._record_failure(p_parent, 'drain_default', v_sqlstate, v_message);
            END IF;
            RETURN QUERY SELECT CASE WHEN v_sqlstate = '55P03' THEN 'skipped' ELSE 'error' END, NULL::text,
                                format('drain_default: %s: %s', v_sqlstate, v_message), NULL::text, NULL::text,
                                NULL::text, NULL::text,
                                pgpart._error_report(v_sqlstate, v_message, v_detail, v_hint, v_schema, v_table);
            RETURN;
        END;
        EXIT WHEN r.action IS NULL;
        RETURN QUERY SELECT r.action, r.partition, r.detail, r.lower_bound, r.upper_bound, NULL::text, NULL::text,
                            NULL::jsonb;
        EXIT WHEN r.action <> 'moved';
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._drain_default_rows(regclass, timestamptz, interval, integer, boolean, integer) IS
'The drain stage of maintenance (policy drain_default): up to max_ranges ranges moved out of the default partition, each isolated, as run_maintenance rows; dry_run: the ranges it would move (internal).';

-- source: sql/src/40_api/save_plan.sql
-- pgpart.save_plan(parent, now_at, ...): the plan of all of maintenance
-- (pgpart.run_maintenance's dry run, unchanged) as a document to save,
-- review and apply later with pgpart.apply_plan, which runs exactly these
-- steps. WHY a document: a team reviews a plan before it runs; the
-- fingerprint of each table (pgpart._plan_fingerprint) lets apply_plan
-- refuse, changing nothing, once the tables or their policy changed. Every
-- parent maintenance would consider gets an entry, with its steps (maybe
-- none) and the failures the real run would meet ("problems": they are not
-- steps and are never run). now_at is fixed in the document: applying it
-- later does what maintenance would have done at now_at.
CREATE OR REPLACE FUNCTION pgpart.save_plan(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    online boolean DEFAULT false
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads (see run_maintenance)
SET jit = off
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_online ALIAS FOR online;
    v_rows jsonb;
BEGIN
    IF p_online IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'online must not be NULL',
            DETAIL = 'online chooses how the plan detaches expired partitions: CONCURRENTLY (true) or not (false).',
            HINT = 'Pass online => true for a plan the Python client applies with DETACH ... CONCURRENTLY, else false.';
    END IF;
    -- argument checks, the parent's management and its dry run: all
    -- run_maintenance's own (one source of truth for the plan)
    SELECT coalesce(jsonb_agg(to_jsonb(m) || jsonb_build_object('ord', m.ordinality) ORDER BY m.ordinality), '[]')
    INTO v_rows
    FROM pgpart.run_maintenance(p_parent, p_now_at, p_timeout, p_retries, dry_run => true, online => p_online)
        WITH ORDINALITY AS m;
    RETURN jsonb_build_object(
        'format', 'pgpart-plan/1',
        'created_at', now(),
        'database', current_database(),
        'now_at', p_now_at,
        'online', p_online,
        'lock_timeout', p_timeout::text,
        'lock_retries', p_retries,
        'tables', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'table', t.parent::text,
                       'fingerprint', pgpart._plan_fingerprint(t.parent),
                       'steps', coalesce((
                           SELECT jsonb_agg(jsonb_build_object(
                                      'step', (r ->> 'step')::integer, 'partition', r -> 'partition',
                                      'lower_bound', r -> 'lower_bound', 'upper_bound', r -> 'upper_bound',
                                      'action', r -> 'action', 'statement', r -> 'statement',
                                      'locks', r -> 'locks', 'top_level', r -> 'top_level')
                                      ORDER BY (r ->> 'ord')::bigint)
                           FROM jsonb_array_elements(v_rows) AS r
                           WHERE (r ->> 'parent_table') = t.parent::text AND r ->> 'step' IS NOT NULL
                       ), '[]'),
                       'problems', coalesce((
                           SELECT jsonb_agg(jsonb_build_object(
                                      'action', r -> 'action', 'partition', r -> 'partition',
                                      'detail', r -> 'detail', 'error', r -> 'error')
                                      ORDER BY (r ->> 'ord')::bigint)
                           FROM jsonb_array_elements(v_rows) AS r
                           WHERE (r ->> 'parent_table') = t.parent::text AND r ->> 'step' IS NULL
                       ), '[]'))
                       ORDER BY t.parent)
            FROM pgpart._maintenance_parents(p_parent) AS t (parent)
        ), '[]')
    );
END
$body$;

COMMENT ON FUNCTION pgpart.save_plan(regclass, timestamptz, interval, integer, boolean) IS
'The dry-run plan of maintenance (run_maintenance) as a jsonb document with a fingerprint of each table''s partitions and policy, for pgpart.apply_plan to run exactly those steps later or refuse if anything changed.';

-- source: sql/src/40_api/set_policy.sql
-- pgpart.set_policy(parent, ...) changes the policy of a managed parent
-- (values validated by pgpart._validated_policy, written by
-- pgpart._write_policy_change). A NULL argument keeps what is configured;
-- retention => 'none' clears the retention, and an empty name clears
-- archive_schema, archive_tablespace or tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing. DRY_RUN returns
-- the policy row as the call would leave it, and writes nothing. EPOCH_UNIT
-- declares (or changes) the Unix time unit of an integer range key; refused
-- (22023) once the parent has partitions, whose bounds were computed in the
-- configured unit. RETENTION_MAX_BYTES / RETENTION_MAX_ROWS keep at most
-- that volume in the partitions, the oldest expiring first (0 clears the
-- rule); RETENTION_GRACE keeps an expired partition detached that long
-- before its archive or drop ('0' clears it). A partition expires if any
-- rule expires it (pgpart._expiry).
CREATE OR REPLACE FUNCTION pgpart.set_policy(
    parent regclass,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL,
    dry_run boolean DEFAULT false,
    epoch_unit text DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL,
    retention_max_bytes bigint DEFAULT NULL,
    retention_max_rows bigint DEFAULT NULL,
    retention_grace interval DEFAULT NULL
)
RETURNS SETOF pgpart.config
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_premake ALIAS FOR premake;
    p_automatic_maintenance ALIAS FOR automatic_maintenance;
    p_analyze_after ALIAS FOR analyze_after;
    p_referenced_retention ALIAS FOR referenced_retention;
    p_reconcile ALIAS FOR reconcile;
    p_propagate_grants ALIAS FOR propagate_grants;
    p_move_large_bytes ALIAS FOR move_large_bytes;
    p_dry_run ALIAS FOR dry_run;
    p_epoch_unit ALIAS FOR epoch_unit;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_retention_max_bytes ALIAS FOR retention_max_bytes;
    p_retention_max_rows ALIAS FOR retention_max_rows;
    p_retention_grace ALIAS FOR retention_grace;
    v_target pgpart._target;
    v_new pgpart.config;
BEGIN
    -- prepare (owner, a policy to change) → validate every value → write
    v_target := pgpart._prepare(p_parent, NULL, p_managed => true);
    v_new := pgpart._validated_policy(
        v_target.policy, p_retention, p_retention_action, p_archive_schema, p_archive_tablespace, p_tablespace,
        p_premake, p_automatic_maintenance, p_analyze_after, p_referenced_retention, p_reconcile, p_propagate_grants,
        p_move_large_bytes, p_drain_default, p_drain_default_max_bytes);
    IF p_epoch_unit IS NOT NULL THEN
        IF v_target.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('epoch_unit does not apply to %s partitions of table %s', upper(v_target.strategy),
                                 p_parent),
                HINT = 'An epoch unit grids an integer RANGE key by time; leave it out here.',
                SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
        END IF;
        v_new.epoch_unit := pgpart._check_epoch_unit(
            p_parent, v_new.key_type, p_epoch_unit,
            EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhparent = p_parent), v_new.epoch_unit);
        -- a retention is read by the key's clock: a distance of key values
        -- is no time (22023)
        PERFORM pgpart._validated_policy(v_new, retention => v_new.retention);
    END IF;
    v_new := pgpart._validated_retention_rules(v_new, p_retention_max_bytes, p_retention_max_rows,
                                                p_retention_grace);
    IF p_dry_run THEN
        RETURN NEXT v_new;  -- the row as it would be, nothing written
        RETURN;
    END IF;
    RETURN NEXT pgpart._write_policy_change(v_target.policy, v_new);
END
$body$;

COMMENT ON FUNCTION pgpart.set_policy(
    regclass, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint, boolean, text,
    boolean, bigint, bigint, bigint, interval
) IS
'Changes the lifecycle policy of a managed parent (retention by age, size, rows and its grace period, archive schema and tablespace, premake, maintenance switches); NULL keeps a value. Returns the policy row (with dry_run: as it would be, nothing written).';

-- source: sql/src/40_api/set_tablespace.sql
-- pgpart.set_tablespace(partition, tablespace, ...): moves a partition and
-- all its indexes to TABLESPACE (seed rule: a partition's local indexes
-- follow its tablespace). This is a BLOCKING REWRITE of that partition: it
-- holds ACCESS EXCLUSIVE on it while the files are copied, and every query
-- on the parent that is not pruned to other partitions waits meanwhile.
-- The lock itself is taken under the lock timeout with retries.
CREATE OR REPLACE FUNCTION pgpart.set_tablespace(
    partition regclass,
    tablespace name,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_partition ALIAS FOR partition;
    p_tablespace ALIAS FOR tablespace;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_parent regclass;
    v_kind "char";
    v_target pgpart._target;
    v_steps pgpart.step [];
BEGIN
    PERFORM pgpart._require_owner(p_partition);  -- the table that moves: 42501 first
    SELECT c.relkind INTO v_kind FROM pg_class AS c WHERE c.oid = p_partition;
    IF v_kind <> 'r' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('%s is not a plain table', p_partition),
            HINT = 'Move each leaf partition of a partitioned partition on its own.';
    END IF;
    -- a partition: its move is logged under its parent (refused before anything)
    SELECT i.inhparent::regclass INTO v_parent
    FROM pg_inherits AS i JOIN pg_partitioned_table AS pt ON pt.partrelid = i.inhparent
    WHERE i.inhrelid = p_partition;
    IF v_parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is not a partition', p_partition),
            DETAIL = 'pgpart.set_tablespace moves partitions of partitioned tables.',
            HINT = format('Move a table of your own with ALTER TABLE %s SET TABLESPACE ... (a blocking rewrite).', p_partition),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_partition),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_partition);
    END IF;
    IF p_tablespace IS NULL OR NOT EXISTS (SELECT 1 FROM pg_tablespace AS t WHERE t.spcname = p_tablespace) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('tablespace %s does not exist', coalesce(quote_ident(p_tablespace), 'NULL')),
            HINT = 'Pass the name of an existing tablespace.';
    END IF;
    -- prepare (the parent, whose log it writes; lock arguments) → plan →
    -- apply: the plan's only lock is the partition's, taken by _apply
    v_target := pgpart._prepare(v_parent, NULL, p_lock_timeout, p_lock_retries);
    v_steps := array(SELECT s FROM pgpart._plan_set_tablespace(p_partition, p_tablespace) AS s ORDER BY s.step);
    IF NOT p_dry_run THEN
        PERFORM pgpart._apply(v_target, v_steps, 'set_tablespace',
                              jsonb_build_object('partition', p_partition::text, 'tablespace', p_tablespace));
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_steps);
END
$body$;

-- source: sql/src/40_api/split_legacy.sql
-- pgpart.split_legacy(parent, max_ranges, keep_legacy, ...): moves the rows
-- of a converted table's legacy partition (FROM (MINVALUE) TO (bound), as
-- convert_to_partitioned leaves it) into partitions of the grid: a floor
-- constraint validated online, then each grid range copied in a short
-- transaction into its new table while a trigger mirrors later writes of
-- it, then one swap transaction of catalog work that detaches the legacy
-- partition and attaches the range tables (docs/converting.md). Readers
-- read the legacy partition until the swap: no row is ever in transit.
-- DRY_RUN returns the plan (each step's statement, locks and estimated
-- rows); else the steps run in the caller's transaction, at most
-- MAX_RANGES range copies per call (the swap only once none is left), and
-- the rows returned are the steps done, rows_estimate the rows copied; the
-- index on the key, CONCURRENTLY in the plan, is built plainly here. WHY
-- a function and a client path: as for convert_to_partitioned, one call is
-- one transaction; the Python client (Client.split_legacy, `pgpart
-- split-legacy`) runs one step per transaction, so call it for big tables,
-- or call this repeatedly with max_ranges. Re-planned from the catalog: a
-- killed split continues where it stopped; a split table plans nothing.
CREATE OR REPLACE FUNCTION pgpart.split_legacy(
    parent regclass,
    max_ranges integer DEFAULT NULL,
    keep_legacy boolean DEFAULT false,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    dry_run boolean DEFAULT false
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_max_ranges ALIAS FOR max_ranges;
    p_keep ALIAS FOR keep_legacy;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_dry_run ALIAS FOR dry_run;
    v_step record;
    v_copies integer := 0;
    v_rows bigint;
    v_n integer := 0;
BEGIN
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    IF p_max_ranges IS NOT NULL AND p_max_ranges < 1 OR p_keep IS NULL OR p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'max_ranges must be at least 1, keep_legacy and dry_run not NULL',
            HINT = 'Leave max_ranges out (every range), or pass a positive number.';
    END IF;
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM pgpart._split_plan(p_parent, p_keep, p_lock_timeout, p_lock_retries);
        RETURN;
    END IF;
    -- one step at a time, planned again after each (the floor may move)
    LOOP
        SELECT * INTO v_step FROM pgpart._split_plan(p_parent, p_keep, p_lock_timeout, p_lock_retries) AS s
        ORDER BY s.step LIMIT 1;
        EXIT WHEN v_step.step IS NULL;
        IF v_step.action LIKE 'copy range%' THEN
            EXIT WHEN v_copies >= p_max_ranges;
            v_copies := v_copies + 1;
        ELSIF v_step.action LIKE 'swap%' AND v_copies > 0 AND p_max_ranges IS NOT NULL AND v_copies >= p_max_ranges THEN
            EXIT;
        END IF;
        v_rows := NULL;
        IF v_step.transaction = 'autocommit' THEN
            -- in a transaction: the plain build, which holds SHARE on the
            -- legacy partition (its writers wait) until commit
            EXECUTE replace(v_step.statement, ' CONCURRENTLY ', ' ');
        ELSIF v_step.action LIKE 'copy range%' THEN
            EXECUTE v_step.statement INTO v_rows;
        ELSIF v_step.action = 'validate split floor' THEN
            EXECUTE v_step.statement;
        ELSE
            EXECUTE v_step.statement;
        END IF;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, v_step.action, v_step.statement, v_step.locks, v_step.transaction,
                            coalesce(v_rows, v_step.rows_estimate);
        EXIT WHEN v_step.action LIKE 'swap%';
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.split_legacy(regclass, integer, boolean, interval, integer, boolean) IS
'Moves the rows of a converted table''s legacy partition into grid partitions: floor, one copy per range with a mirror trigger, one catalog-only swap; dry_run returns the plan; at most max_ranges copies per call (one transaction; the client runs one step per transaction).';

-- source: sql/src/40_api/unmanage.sql
-- pgpart.unmanage(parent, dry_run, missing_ok): stop managing a table.
-- Removes its policy row and nothing else: the partitions stay as they are,
-- attached, and become ordinary partitions pgpart no longer creates, detaches
-- or reconciles. It exists so that programs (the Python client, Django's
-- DeletePartitionedModel) never write pgpart.config themselves: the owner
-- check, the wait for pgpart's own work on the table and the log entry live
-- here, once. A pending detach is refused (55000): once the policy is gone,
-- nothing would finish it. missing_ok makes a table without a policy a no-op
-- (no row returned), as DROP ... IF EXISTS does.
CREATE OR REPLACE FUNCTION pgpart.unmanage(
    parent regclass,
    dry_run boolean DEFAULT false,
    missing_ok boolean DEFAULT false
)
RETURNS TABLE (
    parent_table regclass,
    action text,
    applied boolean,
    partitions integer,
    policy jsonb
)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parent regclass := unmanage.parent;
    v_target pgpart._target;
    v_policy jsonb;
    v_partitions integer;
    v_pending text;
    v_schema name;
    v_table name;
BEGIN
    -- prepare: 42501 first, a refused call reveals nothing more; then this
    -- verb's own checks, its advisory lock without waiting, and the delete
    v_target := pgpart._prepare(v_parent, NULL);
    v_schema := v_target.schema_name;
    v_table := v_target.table_name;
    IF dry_run IS NULL OR missing_ok IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('dry_run and missing_ok of pgpart.unmanage(%s) must not be NULL', v_parent),
            HINT = 'Pass true or false.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    -- pgpart's own work on the table (maintenance, an online retention run
    -- holding the session lock) must not lose its policy half-way.
    IF NOT pg_try_advisory_xact_lock(pgpart.advisory_key(v_parent)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'lock_not_available',
            MESSAGE = format('pgpart is working on table %s', v_parent),
            DETAIL = format('Another session holds pgpart''s advisory lock %s on the table.',
                            pgpart.advisory_key(v_parent)),
            HINT = 'Retry when that maintenance or retention run has finished.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT to_jsonb(c) - 'last_error' - 'last_error_at' INTO v_policy
    FROM pgpart.config AS c WHERE c.parent = v_parent
    FOR UPDATE;
    IF v_policy IS NULL THEN
        IF missing_ok THEN
            RETURN;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', v_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Nothing to do; pass missing_ok => true to accept tables without a policy.',
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT string_agg(i.inhrelid::regclass::text, ', ' ORDER BY i.inhrelid::regclass::text)
    INTO v_pending
    FROM pg_inherits AS i WHERE i.inhparent = v_parent AND i.inhdetachpending;
    IF v_pending IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has a pending detach', v_parent),
            DETAIL = format('Partitions %s are being detached; without a policy nothing would finish it.',
                            v_pending),
            HINT = format('Finish it first: SELECT * FROM pgpart.run_maintenance(%L), '
                          'or ALTER TABLE %s DETACH PARTITION ... FINALIZE.', v_parent::text, v_parent),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
    SELECT count(*)::integer INTO v_partitions FROM pg_inherits AS i WHERE i.inhparent = v_parent;
    IF NOT dry_run THEN
        DELETE FROM pgpart.config AS c WHERE c.parent = v_parent;
        DELETE FROM pgpart.due_cache AS d WHERE d.parent = v_parent::oid;  -- the tick's cache (due.sql)
        PERFORM pgpart._log(v_parent, 'unmanage', 'ok',
                            jsonb_build_object('partitions', v_partitions, 'policy', v_policy));
    END IF;
    parent_table := v_parent;
    action := 'unmanage';
    applied := NOT dry_run;
    partitions := v_partitions;
    policy := v_policy;
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.unmanage(regclass, boolean, boolean) IS
'Stops managing a table: removes its policy (returned, and logged) and leaves its partitions attached. 42501 unless the caller owns the table, 55000 when it has no policy (unless missing_ok) or a detach is pending, 55P03 while pgpart works on it. dry_run changes nothing.';

-- source: sql/src/40_api/upsert_global_unique.sql
-- pgpart.upsert_global_unique(parent, constraint_name, new_row,
-- update_columns, max_retries): INSERT ... ON CONFLICT for a global unique
-- key. PostgreSQL cannot use a global constraint as an ON CONFLICT arbiter
-- (its index is on the side table), so this is the classic merge loop:
-- UPDATE the row holding NEW_ROW's key values (every partition is probed:
-- an index on the key columns in each partition keeps that cheap); if none,
-- INSERT it; if the INSERT meets the global constraint (another session
-- inserted the key first, and committed: the side table's unique index
-- waited for it), start again, and the UPDATE now sees that row (READ
-- COMMITTED takes a new snapshot per statement). Only this constraint's
-- 23505 is retried. Under REPEATABLE READ or SERIALIZABLE the row committed
-- by the other session stays invisible, so after MAX_RETRIES it raises 40001:
-- retry the transaction. NEW_ROW is a jsonb object of column values (the
-- key columns required); UPDATE_COLUMNS (default: every other column given)
-- are set on conflict, none means "do nothing". Returns 'inserted',
-- 'updated' or 'unchanged'. Values and names only through USING and %I.
CREATE OR REPLACE FUNCTION pgpart.upsert_global_unique(
    parent regclass,
    constraint_name name,
    new_row jsonb,
    update_columns name[] DEFAULT NULL,
    max_retries integer DEFAULT 10
)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_row ALIAS FOR new_row;
    p_update ALIAS FOR update_columns;
    p_retries ALIAS FOR max_retries;
    v_gu pgpart.global_unique;
    v_keys name[];
    v_set name[];
    v_bad name;
    v_n bigint;
    v_constraint text;
BEGIN
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints.';
    END IF;
    IF p_row IS NULL OR jsonb_typeof(p_row) <> 'object' OR p_retries IS NULL OR p_retries < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'new_row must be a jsonb object and max_retries at least 1',
            HINT = 'Pass the row as jsonb_build_object(''email'', ..., ''name'', ...).';
    END IF;
    v_keys := array(SELECT k::name FROM jsonb_object_keys(p_row) AS j (k) ORDER BY k);
    SELECT k INTO v_bad FROM unnest(v_keys || coalesce(p_update, '{}')) AS u (k)
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_parent AND a.attname = u.k AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_column',
            MESSAGE = format('column %I of table %s does not exist', v_bad, p_parent),
            HINT = 'Name columns of the parent table in new_row and update_columns.';
    END IF;
    IF NOT v_gu.columns <@ v_keys OR NOT coalesce(p_update, '{}') <@ v_keys THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('new_row must give the key columns %s and every column of update_columns',
                             v_gu.columns::text),
            HINT = 'Add them to new_row.';
    END IF;
    v_set := coalesce(p_update, array(SELECT k FROM unnest(v_keys) AS u (k) WHERE NOT k = ANY (v_gu.columns)));
    FOR v_try IN 1..p_retries LOOP
        IF cardinality(v_set) > 0 THEN
            EXECUTE format('UPDATE %s AS t SET %s FROM jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                           p_parent,
                           (SELECT string_agg(format('%1$I = r.%1$I', c), ', ') FROM unnest(v_set) AS u (c)),
                           p_parent, pgpart._gu_match(v_gu, 't', 'r'))
            USING p_row;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            IF v_n > 0 THEN
                RETURN 'updated';
            END IF;
        END IF;
        BEGIN
            EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1) AS r', p_parent,
                           (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_keys) AS u (c)),
                           (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(v_keys) AS u (c)), p_parent)
            USING p_row;
            RETURN 'inserted';
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM v_gu.constraint_name THEN
                RAISE;
            END IF;
            IF cardinality(v_set) = 0 THEN
                RETURN 'unchanged';
            END IF;
        END;
    END LOOP;
    RAISE EXCEPTION USING
        ERRCODE = 'serialization_failure',
        MESSAGE = format('could not upsert into %s by global unique constraint %I: the row holding the key is '
                         'not visible to this transaction', p_parent, p_name),
        DETAIL = format('The key was taken by a transaction committed after this one''s snapshot (%s attempts).',
                        p_retries),
        HINT = 'Retry the transaction (REPEATABLE READ or SERIALIZABLE), or upsert under READ COMMITTED.';
END
$body$;

COMMENT ON FUNCTION pgpart.upsert_global_unique(regclass, name, jsonb, name[], integer) IS
'INSERT ... ON CONFLICT by a global unique constraint: updates the row holding the key, else inserts, retrying when a concurrent insert took the key; returns inserted, updated or unchanged.';

-- source: sql/src/40_api/uuid_floor.sql
-- pgpart.uuid_floor(ts): the lowest uuid of TS's millisecond: its 48-bit
-- Unix millisecond prefix followed by zeros, which sorts before every UUIDv7
-- generated in that millisecond (btree orders uuids by their bytes) and is
-- exactly the lower bound pgpart gives a uuid-keyed partition starting
-- there. IMMUTABLE, so `WHERE id >= pgpart.uuid_floor('2026-01-01')` folds
-- to a constant and prunes partitions at plan time. NULL for a NULL or
-- infinite time; 22008 before 1970 or after the 48 bits (year 10889).
CREATE OR REPLACE FUNCTION pgpart.uuid_floor(ts timestamptz)
RETURNS uuid
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_ts ALIAS FOR ts;
    v_ms numeric;
BEGIN
    IF NOT isfinite(p_ts) THEN
        RETURN NULL;
    END IF;
    v_ms := floor(extract(epoch FROM p_ts) * 1000);
    IF v_ms < 0 OR v_ms >= 281474976710656 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'datetime_field_overflow',
            MESSAGE = format('time %s is outside the range of a UUIDv7 timestamp', p_ts),
            DETAIL = 'A UUIDv7 holds Unix milliseconds in 48 bits: from 1970-01-01 to 10889-08-02 UTC.',
            HINT = 'Pass a time between those.';
    END IF;
    RETURN (lpad(to_hex(v_ms::bigint), 12, '0') || repeat('0', 20))::uuid;
END
$body$;

COMMENT ON FUNCTION pgpart.uuid_floor(timestamptz) IS
'The lowest uuid of a time''s millisecond (48-bit Unix millisecond prefix, then zeros): sorts before every UUIDv7 of that millisecond; IMMUTABLE, so a filter on a uuid key prunes partitions at plan time.';

-- source: sql/src/50_event_triggers/30_ddl_command_end.sql
-- pgpart._ddl_command_end(): the event trigger function (DESIGN §7), the
-- only one after DDL: unrelated DDL pays one call and one look at the
-- command list, whatever pgpart does with partition trees (issue 16).
-- After CREATE TABLE, ALTER TABLE, CREATE INDEX or ALTER INDEX by anyone, it
-- first hands the partition trees the command touched to the global unique
-- constraints (pgpart._gu_ddl_command_end, docs/global-unique.md), then
-- brings the partitions of the managed parents in step
-- (pgpart._apply_reconcile): a new or attached partition gets the parent's
-- owner and its indexes in its tablespace; an index created on the parent moves
-- into each partition's tablespace; a partition moved to another tablespace
-- takes its indexes along; a new owner of the parent becomes the owner of
-- every partition. Event triggers cannot tell which partition an ATTACH
-- added, nor see the indexes it created, so the whole set is re-checked.
-- Moving a large index is a blocking rewrite: it is left, with a NOTICE and
-- an entry in pgpart.log, for pgpart.check() and reconcile(move_large).
--
-- It runs for every such command of every role, with that role's rights:
--   * it returns at once when pgpart.event_triggers is off (pgpart's own DDL
--     helpers set it with a function-level SET, which reverts on return;
--     pg_restore runs with PGOPTIONS='-c pgpart.event_triggers=off'), under
--     session_replication_role = replica, and for commands of extension
--     scripts;
--   * it decides from pg_catalog alone whether a partitioned table or a
--     partition was touched, then asks the SECURITY DEFINER
--     pgpart._is_managed, and touches none of pgpart's tables otherwise;
--     a role that may not use schema pgpart cannot ask, so its commands are
--     left alone (without a message) for check() and maintenance;
--   * no error escapes: a failure becomes a WARNING carrying its SQLSTATE,
--     logged through the SECURITY DEFINER pgpart._log_event, and the user's
--     command succeeds.
-- Long (about 130 lines): the early exits listed above and the error wrapper
-- must all live in the one function the event trigger calls.
CREATE OR REPLACE FUNCTION pgpart._ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parents regclass [];
    v_commands text [];
    v_parent regclass;
    v_changes jsonb;
    v_skipped jsonb;
    v_large bigint;
    v_state text;
    v_message text;
BEGIN
    -- First, what pgpart's own DDL sets (one expression, about 6 us: it runs
    -- ~4 statements per partition it makes, which should not pay the filter
    -- below). lower() of an unset parameter is not even called (NULL).
    IF lower(current_setting('pgpart.event_triggers', true)) IN ('off', 'false', 'no', '0')
       OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    -- Then pg_catalog alone, through the system caches: all that unrelated
    -- DDL pays (about 32 us per call on PG 15, track_functions, of which
    -- reading the command list is 11 us: in the fresh transaction of an
    -- autocommitted command every statement costs about 6 us and every
    -- expression 2-4 us, an aggregate node 10 us more; so one PERFORM and
    -- one IF, everything else after them: issue 16). Did the command
    -- touch a partitioned table, a partition, or an index of one?
    -- pg_partition_root is NULL for anything else, and for an index not
    -- attached to a parent index, whose table is looked up (only for the
    -- index tags: the indexes CREATE TABLE reports come with their table).
    IF TG_TAG IN ('CREATE INDEX', 'ALTER INDEX') THEN
        PERFORM FROM pg_event_trigger_ddl_commands() AS cmd
        WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
          AND (
              pg_partition_root(cmd.objid) IS NOT NULL
              OR EXISTS (
                  SELECT 1 FROM pg_index AS x
                  WHERE x.indexrelid = cmd.objid AND pg_partition_root(x.indrelid) IS NOT NULL
              )
          )
        LIMIT 1;
    ELSE
        PERFORM FROM pg_event_trigger_ddl_commands() AS cmd
        WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
          AND pg_partition_root(cmd.objid) IS NOT NULL
        LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT array_agg(DISTINCT cmd.command_tag ORDER BY cmd.command_tag) INTO v_commands
    FROM pg_event_trigger_ddl_commands() AS cmd;
    -- Then every partitioned table above (or being) a table the command
    -- touched, directly or through one of its indexes (commands on
    -- anything else find none).
    SELECT array_agg(DISTINCT a.relid ORDER BY a.relid) INTO v_parents
    FROM pg_event_trigger_ddl_commands() AS cmd
    JOIN pg_class AS c ON c.oid = cmd.objid
    LEFT JOIN pg_index AS i ON i.indexrelid = c.oid
    JOIN pg_class AS t ON t.oid = coalesce(i.indrelid, c.oid)
    CROSS JOIN LATERAL pg_partition_ancestors(t.oid) AS a (relid)
    JOIN pg_class AS pc ON pc.oid = a.relid
    WHERE cmd.classid = 'pg_class'::regclass AND NOT cmd.in_extension
      AND (t.relkind = 'p' OR t.relispartition) AND pc.relkind = 'p';
    IF v_parents IS NULL THEN
        RETURN;
    END IF;

    -- Managed parents only. A role that may not ask (no USAGE on schema
    -- pgpart, or no EXECUTE on the helper) cannot be told anything, and when
    -- the question itself fails nobody knows whether pgpart manages them:
    -- either way, nothing to say about them.
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE') THEN
            RETURN;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
    -- Global unique constraints of these trees (any tree, managed or not);
    -- a partition duplicating another's values is refused there (23505).
    PERFORM pgpart._gu_ddl_command_end(v_parents);
    BEGIN
        IF NOT has_function_privilege('pgpart._is_managed(oid)', 'EXECUTE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT p.p FROM unnest(v_parents) AS p (p) WHERE pgpart._is_managed(p.p) ORDER BY p.p);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;

    FOREACH v_parent IN ARRAY v_parents LOOP
        v_changes := NULL;
        v_skipped := NULL;
        v_large := 0;
        v_state := NULL;
        v_message := NULL;
        BEGIN
            SELECT
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement))
                FILTER (WHERE r.action NOT IN ('skipped large', 'skipped')),
                jsonb_agg(jsonb_build_object('partition', r.partition::text, 'action', r.action,
                                             'statement', r.statement, 'detail', r.detail))
                FILTER (WHERE r.action IN ('skipped large', 'skipped')),
                count(*) FILTER (WHERE r.action = 'skipped large')
            INTO v_changes, v_skipped, v_large
            FROM pgpart._apply_reconcile(v_parent, false, interval '200ms', 2, false) AS r;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            v_changes := NULL;
            v_skipped := NULL;
            v_large := 0;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not bring the partitions of %s in step: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded; pgpart changed nothing after it.',
                HINT = format('pgpart.check(%L) lists what is out of step; SELECT * FROM pgpart.reconcile(%L); '
                              'or maintenance repairs it.', v_parent::text, v_parent::text);
        END;
        IF v_large > 0 THEN
            RAISE NOTICE USING
                MESSAGE = format('pgpart: %s index(es) of partitions of %s left outside their partition''s tablespace: '
                                 'moving them rewrites them under ACCESS EXCLUSIVE', v_large, v_parent),
                HINT = format('When that may block, run SELECT * FROM pgpart.reconcile(%L, move_large => true); '
                              'pgpart.check(%L) lists each move.', v_parent::text, v_parent::text);
        END IF;
        CONTINUE WHEN v_changes IS NULL AND v_skipped IS NULL AND v_state IS NULL;
        BEGIN
            PERFORM pgpart._log_event(
                v_parent, current_user, v_commands, CASE WHEN v_state IS NULL THEN 'ok' ELSE 'warning' END,
                v_state, v_message, coalesce(v_changes, '[]'::jsonb) || coalesce(v_skipped, '[]'::jsonb));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not log the reconcile of %s: %s (SQLSTATE %s)',
                                 v_parent, v_message, v_state),
                DETAIL = 'Your command succeeded.';
        END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._ddl_command_end() IS
'Event trigger function: after DDL touching a managed parent or its partitions, brings the partitions in step (pgpart._apply_reconcile); never raises, warns instead.';

-- source: sql/src/50_event_triggers/40_global_unique.sql
-- pgpart._gu_ddl_command_end(parents): the global unique constraints'
-- part of the event trigger after DDL, called by pgpart._ddl_command_end
-- (one event trigger function for all: unrelated DDL pays one call) with
-- every partitioned table above (or being) a table the command touched. It
-- brings the constraints of those trees in step (pgpart._gu_sync): a
-- partition made or attached by hand gets its TRUNCATE trigger and its values
-- recorded, a detached one releases its values. It serves every partitioned
-- table with a global unique constraint, managed by pgpart or not. No error
-- escapes as an error but one: a partition whose values duplicate another's
-- is refused (23505), as a unique index refuses the row -- letting it in
-- would break the constraint silently; and a column of a constraint
-- renamed or retyped is followed (pgpart._gu_follow_columns) or the command
-- refused (55000).
CREATE OR REPLACE FUNCTION pgpart._gu_ddl_command_end(p_parents regclass[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_parents regclass [];
    v_parent regclass;
    v_follow record;
    v_state text;
    v_message text;
BEGIN
    BEGIN
        IF NOT has_schema_privilege('pgpart', 'USAGE') THEN
            RETURN;
        END IF;
        v_parents := array(SELECT DISTINCT g.parent FROM pgpart.global_unique AS g
                           WHERE g.parent = ANY (p_parents) ORDER BY g.parent);
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
    -- ALTER TABLE: a renamed or retyped column of a constraint is followed
    -- first; when it cannot be, the command fails (55000) rather than leave
    -- every later write to the table failing
    FOR v_follow IN
        SELECT g AS gu, (
            SELECT a.attname FROM pg_event_trigger_ddl_commands() AS cmd
            JOIN pg_attribute AS a ON a.attrelid = cmd.objid AND a.attnum = cmd.objsubid
            WHERE cmd.object_type = 'table column' AND cmd.objsubid > 0
              AND g.parent IN (SELECT t.relid FROM pg_partition_tree(cmd.objid) AS t)
            LIMIT 1
        ) AS renamed
        FROM pgpart.global_unique AS g
        WHERE g.parent = ANY (v_parents)
          AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
          AND EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() AS cmd WHERE cmd.command_tag = 'ALTER TABLE')
        ORDER BY g.id
    LOOP
        PERFORM pgpart._gu_follow_columns(v_follow.gu, v_follow.renamed);
    END LOOP;
    FOREACH v_parent IN ARRAY v_parents LOOP
        BEGIN
            PERFORM pgpart._gu_sync(v_parent);
        EXCEPTION
            WHEN unique_violation THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                RAISE WARNING USING
                    ERRCODE = v_state,
                    MESSAGE = format('pgpart: could not bring the global unique constraints of %s in step: %s '
                                     '(SQLSTATE %s)', v_parent, v_message, v_state),
                    DETAIL = 'Your command succeeded; partitions it added or detached may not be recorded.',
                    HINT = 'pgpart.check() lists what is out of step, with the fix.';
        END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_ddl_command_end(regclass[]) IS
'The event trigger''s part for global unique constraints: after CREATE/ALTER TABLE in these partition trees, records new partitions and releases detached ones (pgpart._gu_sync); follows a renamed or retyped column of a constraint (55000 when it cannot); refuses a partition with duplicate values (23505), warns otherwise.';

-- pgpart._gu_sql_drop(): a recorded table dropped (DROP TABLE of a
-- partition, or of a detached table still recorded) leaves its values in
-- the side table: the rows are gone, so nothing can tell which. The
-- constraint is marked stale (check() finding global_unique_stale; the fix
-- prunes the values no row holds). Detach first, then drop, to release them
-- at once (pgpart's retention does). A dropped parent takes its constraints
-- along: registration and side table (a warning when that fails, e.g. a
-- foreign key references the side table; check() then gives the fix).
CREATE OR REPLACE FUNCTION pgpart._gu_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_tables oid [];
    v_ids bigint [];
    v_state text;
    v_message text;
BEGIN
    -- The unrelated DROP TABLE stops here, after one statement and one IF
    -- (about 20 us per call on PG 15, track_functions; in this fresh
    -- transaction each further statement would cost about 6 us, each
    -- expression 2-4 us, a subquery more: issue 16; so the replica check
    -- comes after the filter). Nothing of a global unique constraint was
    -- dropped unless one of its triggers was (a parent's row triggers, a
    -- recorded table's TRUNCATE trigger), named pgpart_gu_<id>_<event>,
    -- which the trigger's object_identity begins with, unquoted. A parent
    -- whose triggers were dropped by hand first is left registered:
    -- check() reports it (global_unique_broken) with the fix.
    PERFORM FROM pg_event_trigger_dropped_objects() AS o
    WHERE o.object_type = 'trigger' AND o.object_identity LIKE 'pgpart\_gu\_%'
    LIMIT 1;
    IF NOT FOUND OR current_setting('session_replication_role') = 'replica' THEN
        RETURN;
    END IF;
    SELECT
        array_agg(o.objid) FILTER (WHERE o.classid = 'pg_class'::regclass),
        array_agg(DISTINCT substring(o.address_names[3] FROM '^pgpart_gu_([0-9]+)_truncate$')::bigint)
        FILTER (WHERE o.classid = 'pg_trigger'::regclass)
    INTO v_tables, v_ids
    FROM pg_event_trigger_dropped_objects() AS o
    WHERE o.classid = 'pg_class'::regclass AND o.object_type = 'table' AND o.objsubid = 0
       OR o.classid = 'pg_trigger'::regclass AND o.address_names[3] ~ '^pgpart_gu_[0-9]+_truncate$';
    -- a dropped parent: its constraints go, side tables included
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE g.parent::oid = ANY (v_tables)
        ORDER BY g.id
    LOOP
        BEGIN
            DELETE FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
            IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
                EXECUTE format('DROP TABLE %s', v_gu.side_table);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING USING
                ERRCODE = v_state,
                MESSAGE = format('pgpart: could not drop global unique constraint %I of the dropped table %s: %s '
                                 '(SQLSTATE %s)', v_gu.constraint_name, v_gu.parent::oid, v_message, v_state),
                DETAIL = 'Your command succeeded.',
                HINT = 'pgpart.check() gives the statements that remove what is left.';
        END;
    END LOOP;
    -- a TRUNCATE trigger of a global unique constraint, dropped with its table
    IF v_ids IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        UPDATE pgpart.global_unique AS g SET stale_since = coalesce(g.stale_since, now())
        WHERE g.id = ANY (v_ids) AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        RAISE WARNING USING
            ERRCODE = v_state,
            MESSAGE = format('pgpart: could not mark global unique constraints stale: %s (SQLSTATE %s)',
                             v_message, v_state),
            DETAIL = 'Your command succeeded; the dropped table''s values may still be taken.';
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_sql_drop() IS
'Event trigger function: a dropped table whose values a global unique constraint held marks that constraint stale (check() finding global_unique_stale); never raises.';

COMMENT ON EVENT TRIGGER pgpart_ddl_command_end IS
'pgpart: after DDL on a managed parent or its partitions, brings every partition in step (owner, index tablespaces, replica identity, storage parameters, grants if propagated); in any partition tree with global unique constraints, records new partitions and releases detached ones. Off with SET pgpart.event_triggers = off.';

-- new or changed since pgpart--0.1.1.sql
CREATE EVENT TRIGGER pgpart_gu_sql_drop ON sql_drop  -- noqa: PRS
WHEN TAG IN ('DROP TABLE')
EXECUTE FUNCTION pgpart._gu_sql_drop();

COMMENT ON EVENT TRIGGER pgpart_gu_sql_drop IS
'pgpart: a dropped table whose values a global unique constraint held marks the constraint stale (check() finding global_unique_stale).';

