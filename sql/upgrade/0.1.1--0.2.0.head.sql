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
