-- pgpart 0.1.0 -> 0.1.1 (security release). Run by ALTER EXTENSION pgpart
-- UPDATE, or by Client.install() over a script install. The result must equal
-- a fresh 0.1.1 install (tests/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit
