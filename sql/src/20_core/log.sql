-- pgpart._log(parent, action, outcome, detail): appends to pgpart.log in the
-- caller's name (row-level security checks it owns PARENT).
CREATE FUNCTION pgpart._log(p_parent regclass, p_action text, p_outcome text, p_detail jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO pgpart.log (parent, parent_name, action, outcome, detail)
    VALUES (p_parent, p_parent::text, p_action, p_outcome, p_detail);
END;

COMMENT ON FUNCTION pgpart._log(regclass, text, text, jsonb) IS
'Appends one entry to pgpart.log in the name of the current role.';
