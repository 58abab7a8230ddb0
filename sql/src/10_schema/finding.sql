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
