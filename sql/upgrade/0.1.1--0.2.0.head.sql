-- pgpart 0.1.1 -> 0.2.0. Run by ALTER EXTENSION pgpart UPDATE, or by
-- Client.install() over a script install. The result equals a fresh 0.2.0
-- install (tests/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit

