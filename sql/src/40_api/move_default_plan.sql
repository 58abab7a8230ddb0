-- The dry run of moving rows out of the default partition (move_default.sql):
-- the ranges move_default_rows would create and move rows into, from the
-- planner the move itself uses (pgpart._default_ranges), so the plan and
-- the move agree.

-- pgpart.move_default_plan(parent, ...): the dry run of move_default_rows,
-- as rows: each range it would create and move rows into, in its order,
-- with the exact number of rows it holds now (COUNT_ROWS: one range scan
-- each; false lists the ranges only) and what would stop its move. Reads
-- the default (under the lock timeout, reporting 55P03 like a move would),
-- changes nothing and takes no lock of its own beyond the reads'.
CREATE FUNCTION pgpart.move_default_plan(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    now_at timestamptz DEFAULT now(),
    count_rows boolean DEFAULT true
)
RETURNS TABLE (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    rows_to_move bigint,
    problem text
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET lock_timeout = '200ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_now_at ALIAS FOR now_at;
    p_count_rows ALIAS FOR count_rows;
    v_target pgpart._target;
    v_cfg pgpart.config;
BEGIN
    -- an unmanaged parent whose default holds rows: the way forward (the
    -- create_range_partitions call that registers it without covering them)
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent)
       AND pgpart._unmanaged_default_hint(p_parent) IS NOT NULL THEN
        PERFORM pgpart._require_owner(p_parent);
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            DETAIL = 'Its default partition holds rows; moving them needs the policy (the grid of their partitions).',
            HINT = pgpart._unmanaged_default_hint(p_parent);
    END IF;
    -- the checks of the real move, in its order, then the planner it uses
    v_target := pgpart._prepare(p_parent, NULL, p_lock_timeout, 0, p_now_at, p_managed => true);
    v_cfg := v_target.policy;
    PERFORM pgpart._require_move_grid(v_target);
    IF p_count_rows IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('count_rows of pgpart.move_default_plan(%s) must not be NULL', p_parent),
            HINT = 'Pass true (exact counts, one range scan each) or false (the ranges only).',
            SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
    END IF;
    IF pgpart._default_partition(p_parent) IS NULL THEN
        RETURN;
    END IF;
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_parent, 'read');
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    RETURN QUERY
    SELECT d.ordinal, d.relation,
           pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, d.lo, v_cfg.epoch_unit),
           pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, d.hi, v_cfg.epoch_unit),
           d.row_count,
           CASE WHEN d.overlap IS NOT NULL
                    THEN format('42P17: partition %s, off the grid, overlaps this range: the move stops here',
                                d.overlap)
                WHEN d.taken THEN format('42P07: relation %s already exists: the move stops here', d.relation)
           END
    FROM pgpart._default_ranges(p_parent, p_now_at, p_count_rows) AS d
    ORDER BY d.ordinal;
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_plan(regclass, interval, timestamptz, boolean) IS
'The dry run of move_default_rows as rows: each range it would create and move rows of the default partition into, in order, with the exact row count (count_rows) and what would stop its move; changes nothing.';

-- The overload taking the table's name as text (see pgpart._table_arg).
CREATE FUNCTION pgpart.move_default_plan(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    now_at timestamptz DEFAULT now(),
    count_rows boolean DEFAULT true
)
RETURNS TABLE (
    step integer,
    partition text,
    lower_bound text,
    upper_bound text,
    rows_to_move bigint,
    problem text
)
LANGUAGE plpgsql
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_now_at ALIAS FOR now_at;
    p_count_rows ALIAS FOR count_rows;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.move_default_plan(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.move_default_plan'),
        p_lock_timeout, p_now_at, p_count_rows);
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_plan(text, interval, timestamptz, boolean) IS
'move_default_plan with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';
