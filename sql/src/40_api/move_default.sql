-- Rows in the default partition (DESIGN §3): a range that has rows there
-- cannot get its partition until they move. One range per transaction:
-- lock the default (ACCESS EXCLUSIVE, under the lock timeout), build the
-- new table detached, move the rows with DELETE ... RETURNING into it,
-- attach, commit. Ranges still receiving live writes (the slot holding now
-- and later ones) go last.

-- pgpart.move_default_range(parent, ...): moves the rows of ONE range out of
-- the default partition into a new partition of the grid; returns it, or no
-- row when the default holds nothing more to move. The range is the first
-- of pgpart._default_ranges (the planner its dry run, move_default_plan,
-- lists in full), chosen under the lock on the default.
CREATE FUNCTION pgpart.move_default_range(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
RETURNS TABLE (partition text, lower_bound text, upper_bound text, rows_moved bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- pgpart's own DDL: the event triggers leave it alone (reverts on return)
SET "pgpart.event_triggers" = 'off'
SET lock_timeout = '200ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    v_target pgpart._target;
    v_cfg pgpart.config;
    v_default regclass;
    v_range record;
    v_step pgpart.step;
    v_cols text;
    v_count bigint;
    v_where text;
BEGIN
    -- prepare (owner, lock arguments, a policy) → checks of this verb →
    -- lock → choose the range and run its steps (the rows move between
    -- building the table and attaching it, so this verb runs its steps
    -- itself and counts the rows moved)
    v_target := pgpart._prepare(p_parent, NULL, p_lock_timeout, p_lock_retries, p_now_at, p_managed => true);
    v_cfg := v_target.policy;
    PERFORM pgpart._require_move_grid(v_target);
    v_default := pgpart._default_partition(p_parent);
    IF v_default IS NULL THEN
        RETURN;
    END IF;
    -- DELETE from the default and INSERT into the new table run triggers,
    -- constraints, index expressions ...: their code must be trusted (only
    -- checked when there is a default to move rows out of)
    PERFORM pgpart._guard_owner_code(p_parent, 'move');
    v_target := pgpart._lock_target(v_target);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);

    -- the first range of the plan (the lowest row's slot; live ranges last)
    SELECT * INTO v_range FROM pgpart._default_ranges(p_parent, p_now_at, false, 1) AS d;
    IF v_range.ordinal IS NULL THEN
        RETURN;
    END IF;
    IF v_range.overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('cannot create a partition of %s for the rows of the default partition from %s to %s',
                             p_parent, v_range.lower_literal, v_range.upper_literal),
            DETAIL = format('Partition %s, off the grid, overlaps that range.', v_range.overlap),
            HINT = 'Move those rows by hand, or detach the overlapping partition.';
    END IF;
    IF v_range.taken THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %s already exists', v_range.relation),
            HINT = 'Rename or drop that relation, then move the rows again.';
    END IF;

    -- The partition for that slot, built as create_range_partitions builds
    -- one; the rows move into it just before it joins the parent.
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_range.relation,
            format('FOR VALUES FROM (%s) TO (%s)', v_range.lower_literal, v_range.upper_literal),
            pgpart._target_tablespace(p_parent, v_cfg.tablespace), v_cfg.reloptions, 1, v_cfg.subpartition,
            (SELECT string_agg(l.locks, ', ' ORDER BY l.step) FROM unnest(v_target.lock_steps) AS l
             WHERE l.statement LIKE 'LOCK%')) AS s
        ORDER BY s.step
    LOOP
        IF v_step.action = 'attach' THEN
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
            FROM pg_attribute AS a
            WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
            v_where := concat_ws(' AND ',
                                 CASE WHEN v_range.lower_literal <> 'MINVALUE'
                                     THEN format('%I >= %s', v_cfg.key_column, v_range.lower_literal) END,
                                 CASE WHEN v_range.upper_literal <> 'MAXVALUE'
                                     THEN format('%I < %s', v_cfg.key_column, v_range.upper_literal) END,
                                 format('%I IS NOT NULL', v_cfg.key_column));
            EXECUTE format('WITH moved AS (DELETE FROM ONLY %s WHERE %s RETURNING %s) '
                           'INSERT INTO %s (%s) SELECT %s FROM moved',
                           v_default, v_where, v_cols, v_range.relation, v_cols, v_cols);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            partition := v_range.relation;
            lower_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_range.lo, v_cfg.epoch_unit);
            upper_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_range.hi, v_cfg.epoch_unit);
            rows_moved := v_count;
        END IF;
        EXECUTE v_step.statement;
    END LOOP;
    PERFORM pgpart._gu_sync_tree(p_parent);  -- the moved rows' values, released by the DELETE, recorded again
    PERFORM pgpart._log(p_parent, 'move_default_range', 'ok',
                        jsonb_build_object('partition', v_range.relation, 'rows', v_count));
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_range(regclass, interval, integer, timestamptz) IS
'Moves the rows of one range out of the default partition into a new partition of the grid (one transaction); returns it, or nothing when the default holds no more rows.';

-- The overload taking the table's name as text: pgpart's 42P01 for a name
-- that resolves to no table (see pgpart._table_arg); no SET clause, so the
-- name is resolved in the caller's search_path, as the regclass cast would.
CREATE FUNCTION pgpart.move_default_range(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
RETURNS TABLE (partition text, lower_bound text, upper_bound text, rows_moved bigint)
LANGUAGE plpgsql
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
BEGIN
    RETURN QUERY
    SELECT * FROM pgpart.move_default_range(
        pgpart._table_arg(p_parent, pg_catalog.to_regclass(p_parent), pg_catalog.current_setting('search_path'),
                          'pgpart.move_default_range'),
        p_lock_timeout, p_lock_retries, p_now_at);
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_range(text, interval, integer, timestamptz) IS
'move_default_range with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';

-- pgpart.move_default_rows(parent, ..., dry_run): moves every range out of
-- the default partition, one committed transaction per range, with a NOTICE
-- per range ("range k of n", n planned at start by move_default_plan, and
-- the rows moved so far) and a final count. CALL it outside a transaction
-- block. DRY_RUN: the plan (move_default_plan, exact counts) as NOTICEs;
-- nothing moves and nothing commits, so it may run inside a transaction block.
CREATE PROCEDURE pgpart.move_default_rows(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    p_dry_run ALIAS FOR dry_run;
    r record;
    v_total bigint := 0::bigint;
    v_ranges integer := 0;
    v_planned integer;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'dry_run must not be NULL',
            HINT = 'Pass dry_run => true for the plan, or leave it out.';
    END IF;
    IF p_dry_run THEN
        FOR r IN SELECT * FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at) AS m ORDER BY m.step LOOP
            v_ranges := v_ranges + 1;
            v_total := v_total + r.rows_to_move;
            RAISE NOTICE 'pgpart: dry run: range %: would move % rows into % (% to %)%', r.step, r.rows_to_move,
                r.partition, r.lower_bound, r.upper_bound, coalesce('; ' || r.problem, '');
        END LOOP;
        RAISE NOTICE 'pgpart: dry run: would move % rows out of the default partition of % into % partitions '
                     '(exact counts now; nothing moved)', v_total, p_parent, v_ranges;
        RETURN;
    END IF;
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.move_default_rows',
        'It commits after each range it moves, which a procedure can do only when called by CALL '
        'outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one call '
        'SELECT * FROM pgpart.move_default_range(parent) once per transaction.');
    -- the total of the progress: the ranges planned now (rows written to the
    -- default meanwhile may add ranges: then "range k, n planned at start")
    SELECT count(*)::integer INTO v_planned
    FROM pgpart.move_default_plan(p_parent, p_lock_timeout, p_now_at, count_rows => false) AS m;
    COMMIT;  -- releases the planner's reads before the first move locks the default
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    LOOP
        SELECT * INTO r FROM pgpart.move_default_range(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS m;
        EXIT WHEN r.partition IS NULL;
        v_total := v_total + r.rows_moved;
        v_ranges := v_ranges + 1;
        RAISE NOTICE 'pgpart: %: moved % rows into % (% to %); % rows moved so far',
            CASE WHEN v_ranges <= v_planned THEN pg_catalog.format('range %s of %s', v_ranges, v_planned)
                 ELSE pg_catalog.format('range %s (%s planned at start)', v_ranges, v_planned) END,
            r.rows_moved, r.partition, r.lower_bound, r.upper_bound, v_total;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    RAISE NOTICE 'pgpart: moved % rows out of the default partition of % into % partitions', v_total, p_parent, v_ranges;
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(regclass, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'Moves all rows out of the default partition into partitions of the grid, one committed transaction per range, with progress "range k of n"; dry_run: the plan (move_default_plan) as NOTICEs, nothing moved.';

-- The overload taking the table's name as text (see pgpart._table_arg): it
-- resolves the name before pinning search_path, then CALLs the procedure
-- above (a nested CALL may still commit).
CREATE PROCEDURE pgpart.move_default_rows(
    parent text,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now(),
    dry_run boolean DEFAULT false
)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_parent regclass := pgpart._table_arg(move_default_rows.parent, pg_catalog.to_regclass(move_default_rows.parent),
                                           pg_catalog.current_setting('search_path'), 'pgpart.move_default_rows');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    CALL pgpart.move_default_rows(v_parent, move_default_rows.lock_timeout, move_default_rows.lock_retries,
                                  move_default_rows.now_at, move_default_rows.dry_run);
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(text, interval, integer, timestamptz, boolean) IS  -- noqa: LT01
'move_default_rows with the table given by name: 42P01 with a HINT when no table has that name in the caller''s search_path.';
