-- pgpart._log_event(parent, actor, commands, outcome, sqlstate, message,
-- changes): the one writer of the event triggers' entries in pgpart.log
-- (action 'reconcile', detail.source 'event trigger'). The triggers run as
-- whoever ran the DDL, who may not be allowed to write pgpart.log (or may
-- act on a partition it owns under a parent it does not own), so the entry
-- is written by this SECURITY DEFINER helper, which every role may call. It
-- writes nothing it cannot check: PARENT must be managed; ACTOR must be a
-- role the session may act as (session_user is a member of it) and must own
-- the parent or a relation of its partition tree; the other arguments have a
-- fixed shape and bounded size.
CREATE FUNCTION pgpart._log_event(
    p_parent regclass,
    p_actor name,
    p_commands text[],
    p_outcome text,
    p_sqlstate text,
    p_message text,
    p_changes jsonb
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_changes jsonb;
BEGIN
    IF p_outcome IS NULL OR p_outcome NOT IN ('ok', 'warning')
       OR (p_sqlstate IS NOT NULL AND p_sqlstate !~ '^[0-9A-Z]{5}$')
       OR (p_changes IS NOT NULL AND jsonb_typeof(p_changes) <> 'array')
       OR p_commands IS NULL
       OR NOT p_commands <@ ARRAY['CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'ALTER INDEX'] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'invalid event trigger log entry',
            HINT = 'Only pgpart''s event triggers write these entries.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent);
    END IF;
    IF p_actor IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles AS r WHERE r.rolname = p_actor)
       OR NOT pg_has_role(session_user, p_actor, 'MEMBER')
       OR NOT (
           (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = p_actor)
           OR EXISTS (
               SELECT 1 FROM pg_partition_tree(p_parent) AS t JOIN pg_class AS c ON c.oid = t.relid
               WHERE pg_has_role(p_actor, c.relowner, 'USAGE')
           )
       ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('role %s may not log events about table %s', coalesce(quote_ident(p_actor), 'NULL'),
                             p_parent),
            HINT = 'Only pgpart''s event triggers write these entries, in the name of the role that ran the DDL.';
    END IF;
    SELECT jsonb_agg(e.value ORDER BY e.n) INTO v_changes
    FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e (value, n)
    WHERE e.n <= 1000;
    INSERT INTO pgpart.log (parent, parent_name, actor, action, outcome, detail)
    VALUES (
        p_parent, p_parent::text, p_actor, 'reconcile', p_outcome,
        jsonb_strip_nulls(jsonb_build_object(
            'source', 'event trigger',
            'commands', to_jsonb(p_commands),
            'sqlstate', p_sqlstate,
            'message', left(p_message, 2000),
            'changes', v_changes,
            'changes_total', jsonb_array_length(p_changes)
        ))
    );
END
$body$;

COMMENT ON FUNCTION pgpart._log_event(regclass, name, text[], text, text, text, jsonb) IS
'Writes one event-trigger entry to pgpart.log (action reconcile) for a role that may not write it itself; checks the parent is managed and the actor is the session''s and owns part of its tree. SECURITY DEFINER, callable by every role.';

GRANT EXECUTE ON FUNCTION pgpart._log_event(regclass, name, text[], text, text, text, jsonb) TO PUBLIC;
