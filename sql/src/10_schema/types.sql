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

GRANT USAGE ON SCHEMA pgpart TO PUBLIC;
