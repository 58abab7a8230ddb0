-- pgpart 0.1.0 -> 0.1.1 (security release). Run by ALTER EXTENSION pgpart
-- UPDATE, or by Client.install() over a script install. The result equals a
-- fresh 0.1.1 install (tests/test_upgrade.py compares their fingerprints).
\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \quit

-- The retention journal (pgpart.log): a 'detach' row is honoured only with
-- the identity of the table it names, checked when it is written (policy
-- log_journal, created below with the routines).
ALTER TABLE pgpart.log
ADD COLUMN journal_oid oid,
ADD COLUMN journal_name name,
ADD COLUMN journal_owner oid;

-- 0.1.0's journal rows carried no identity, so none is honoured any more.
-- The ones that can still be verified are kept: the latest 'detach' row of a
-- table that is, now, a partition of that parent (attached or detach
-- pending) with the parent's owner, which 0.1.1 would have journaled the same
-- way. A table 0.1.0 detached but never archived or dropped stays as it is:
-- it is listed here, for its owner to archive or drop by hand.
UPDATE pgpart.log AS l
SET journal_oid = c.oid, journal_name = c.relname, journal_owner = c.relowner
FROM pg_catalog.pg_inherits AS i
INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
INNER JOIN pg_catalog.pg_class AS p ON i.inhparent = p.oid
WHERE
    l.action = 'detach'
    AND l.outcome = 'ok'
    AND (l.detail ->> 'partition_oid')::oid = c.oid
    AND i.inhparent = l.parent
    AND c.relowner = p.relowner
    AND l.id = (
        SELECT max(l2.id) FROM pgpart.log AS l2
        WHERE l2.action = 'detach' AND l2.detail ->> 'partition_oid' = l.detail ->> 'partition_oid'
    );

DO $upgrade$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT ON (l.detail ->> 'partition_oid') l.parent_name, c.oid::regclass AS tbl
        FROM pgpart.log AS l
        INNER JOIN pg_catalog.pg_class AS c ON c.oid = (l.detail ->> 'partition_oid')::oid
        WHERE
            l.action = 'detach' AND l.journal_oid IS NULL
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i WHERE i.inhrelid = c.oid)
        ORDER BY l.detail ->> 'partition_oid', l.id DESC
    LOOP
        -- WARNING: CREATE/ALTER EXTENSION run their script with client_min_messages = warning
        RAISE WARNING 'pgpart 0.1.1: table % was detached from % by retention and not yet archived or dropped',
            r.tbl, r.parent_name
            USING HINT = 'Retention no longer acts on tables journaled by 0.1.0: archive or drop it by hand.';
    END LOOP;
END
$upgrade$;

