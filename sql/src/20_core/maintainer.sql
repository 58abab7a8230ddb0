-- pgpart._may_maintain(parent): NULL when maintenance may act on PARENT,
-- else the reason it may not: the policy's author no longer owns the table,
-- or the caller neither owns it nor is a superuser.
CREATE FUNCTION pgpart._may_maintain(p_parent regclass)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    -- PL/pgSQL, not SQL: called for every parent on every tick, its plan is
    -- cached for the session instead of made again on each call
    RETURN (
        SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = cfg.policy_author)
                 OR NOT pg_has_role(cfg.policy_author, c.relowner, 'USAGE')
                THEN format('policy author %I no longer owns table %s', cfg.policy_author, p_parent)
            WHEN NOT pg_has_role(current_user, c.relowner, 'USAGE')
                 AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
                THEN format('role %I may not maintain table %s', current_user, p_parent)
        END
        FROM pgpart.config AS cfg JOIN pg_class AS c ON c.oid = cfg.parent
        WHERE cfg.parent = p_parent
    );
END
$body$;

COMMENT ON FUNCTION pgpart._may_maintain(regclass) IS
'NULL if maintenance may act on the parent, else why not (policy author no longer owner, or caller not permitted).';

-- pgpart._become_owner(parent): a superuser running maintenance acts as the
-- table's owner (SET LOCAL ROLE), so it never does what the owner could
-- not (set_config('role', ..., true) is SET LOCAL ROLE). Returns the role to
-- switch back to. A subtransaction that fails
-- reverts the role by itself.
CREATE FUNCTION pgpart._become_owner(p_parent regclass)
RETURNS name
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_caller name := current_user;
    v_owner name;
BEGIN
    SELECT pg_get_userbyid(c.relowner) INTO v_owner FROM pg_class AS c WHERE c.oid = p_parent;
    IF NOT pg_has_role(v_caller, v_owner, 'USAGE') OR
       ((SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = v_caller) AND v_caller <> v_owner) THEN
        PERFORM set_config('role', v_owner, true);
    END IF;
    RETURN v_caller;
END
$body$;

COMMENT ON FUNCTION pgpart._become_owner(regclass) IS
'Switches a superuser to the owner of the parent for its maintenance; returns the role to switch back to.';
