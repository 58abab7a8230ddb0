-- pgpart._recorded_constraint(table, constraint, prefix): what pgpart
-- recorded in the comment of one of its helper CHECK constraints (the text
-- after PREFIX) and whether the constraint is validated; NULLs when there
-- is none. The conversion's bound and the split's floor are kept so, in the
-- catalog beside the constraint they describe.
CREATE FUNCTION pgpart._recorded_constraint(
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
