-- pgpart.step: one step of a plan (DESIGN §4). Every verb that changes
-- anything can return its plan instead of running it (dry_run), and the
-- Python client executes plans step by step. Each step is exactly one SQL
-- statement; top_level marks statements PostgreSQL refuses inside a
-- function or transaction block (DETACH ... CONCURRENTLY).
CREATE TYPE pgpart.step AS (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    action text,
    statement text,
    locks text,
    top_level boolean
);

COMMENT ON TYPE pgpart.step IS
'One step of a pgpart plan: a single SQL statement, the partition it concerns, the locks it takes and whether it must run at top level.';

-- pgpart._range: a half-open range [lo, hi) of coordinates (internal).
CREATE TYPE pgpart._range AS (lo numeric, hi numeric);

COMMENT ON TYPE pgpart._range IS 'A half-open range [lo, hi) of bound coordinates (internal).';

-- pgpart._list_part: a list partition and its values (internal).
CREATE TYPE pgpart._list_part AS (partition regclass, list_values text []);

COMMENT ON TYPE pgpart._list_part IS 'A LIST partition and its values (internal).';

-- pgpart._fix: one line of a reconcile plan (internal).
CREATE TYPE pgpart._fix AS (
    ord bigint,
    partition regclass,
    action text,
    statement text,
    lock_mode text,
    detail text
);

COMMENT ON TYPE pgpart._fix IS
'One line of a reconcile plan: the partition, what is out of step, the statement that fixes it and the lock it needs on the partition (internal).';

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
