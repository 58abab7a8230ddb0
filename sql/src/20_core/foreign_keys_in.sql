-- pgpart._foreign_keys_in(rel): the foreign keys that reference REL, read
-- through pg_depend's index on the referenced object. pg_constraint has no
-- index on confrelid: `WHERE confrelid = rel` scans every constraint of the
-- database, which maintenance would do for each parent (15 ms per parent
-- with 1,000 managed parents, issue 16). A foreign key depends on each
-- referenced column, so it is found once per column: hence the IN.
CREATE FUNCTION pgpart._foreign_keys_in(p_rel oid)
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
