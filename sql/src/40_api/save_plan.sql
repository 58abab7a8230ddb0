-- pgpart.save_plan(parent, now_at, ...): the plan of all of maintenance
-- (pgpart.run_maintenance's dry run, unchanged) as a document to save,
-- review and apply later with pgpart.apply_plan, which runs exactly these
-- steps. WHY a document: a team reviews a plan before it runs; the
-- fingerprint of each table (pgpart._plan_fingerprint) lets apply_plan
-- refuse, changing nothing, once the tables or their policy changed. Every
-- parent maintenance would consider gets an entry, with its steps (maybe
-- none) and the failures the real run would meet ("problems": they are not
-- steps and are never run). now_at is fixed in the document: applying it
-- later does what maintenance would have done at now_at.
CREATE FUNCTION pgpart.save_plan(
    parent regclass DEFAULT NULL,
    now_at timestamptz DEFAULT now(),
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    online boolean DEFAULT false
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads (see run_maintenance)
SET jit = off
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_now_at ALIAS FOR now_at;
    p_timeout ALIAS FOR lock_timeout;
    p_retries ALIAS FOR lock_retries;
    p_online ALIAS FOR online;
    v_rows jsonb;
BEGIN
    IF p_online IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'online must not be NULL',
            DETAIL = 'online chooses how the plan detaches expired partitions: CONCURRENTLY (true) or not (false).',
            HINT = 'Pass online => true for a plan the Python client applies with DETACH ... CONCURRENTLY, else false.';
    END IF;
    -- argument checks, the parent's management and its dry run: all
    -- run_maintenance's own (one source of truth for the plan)
    SELECT coalesce(jsonb_agg(to_jsonb(m) || jsonb_build_object('ord', m.ordinality) ORDER BY m.ordinality), '[]')
    INTO v_rows
    FROM pgpart.run_maintenance(p_parent, p_now_at, p_timeout, p_retries, dry_run => true, online => p_online)
        WITH ORDINALITY AS m;
    RETURN jsonb_build_object(
        'format', 'pgpart-plan/1',
        'created_at', now(),
        'database', current_database(),
        'now_at', p_now_at,
        'online', p_online,
        'lock_timeout', p_timeout::text,
        'lock_retries', p_retries,
        'tables', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'table', t.parent::text,
                       'fingerprint', pgpart._plan_fingerprint(t.parent),
                       'steps', coalesce((
                           SELECT jsonb_agg(jsonb_build_object(
                                      'step', (r ->> 'step')::integer, 'partition', r -> 'partition',
                                      'lower_bound', r -> 'lower_bound', 'upper_bound', r -> 'upper_bound',
                                      'action', r -> 'action', 'statement', r -> 'statement',
                                      'locks', r -> 'locks', 'top_level', r -> 'top_level')
                                      ORDER BY (r ->> 'ord')::bigint)
                           FROM jsonb_array_elements(v_rows) AS r
                           WHERE (r ->> 'parent_table') = t.parent::text AND r ->> 'step' IS NOT NULL
                       ), '[]'),
                       'problems', coalesce((
                           SELECT jsonb_agg(jsonb_build_object(
                                      'action', r -> 'action', 'partition', r -> 'partition',
                                      'detail', r -> 'detail', 'error', r -> 'error')
                                      ORDER BY (r ->> 'ord')::bigint)
                           FROM jsonb_array_elements(v_rows) AS r
                           WHERE (r ->> 'parent_table') = t.parent::text AND r ->> 'step' IS NULL
                       ), '[]'))
                       ORDER BY t.parent)
            FROM pgpart._maintenance_parents(p_parent) AS t (parent)
        ), '[]')
    );
END
$body$;

COMMENT ON FUNCTION pgpart.save_plan(regclass, timestamptz, interval, integer, boolean) IS
'The dry-run plan of maintenance (run_maintenance) as a jsonb document with a fingerprint of each table''s partitions and policy, for pgpart.apply_plan to run exactly those steps later or refuse if anything changed.';
