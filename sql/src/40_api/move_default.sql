-- Rows in the default partition (DESIGN §3): a range that has rows there
-- cannot get its partition until they move. One range per transaction:
-- lock the default (ACCESS EXCLUSIVE, under the lock timeout), build the
-- new table detached, move the rows with DELETE ... RETURNING into it,
-- attach, commit. Ranges still receiving live writes (the slot holding now
-- and later ones) go last.

-- pgpart.move_default_range(parent, ...): moves the rows of ONE range out of
-- the default partition into a new partition of the grid; returns it, or no
-- row when the default holds nothing more to move.
-- Long (about 140 lines): choosing the range (grid, live slots last, index
-- probes), its checks and its steps belong to one transaction's decision.
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
    v_now_slot record;
    v_min numeric;
    v_grid record;
    v_slot record;
    v_lo_lit text;
    v_hi_lit text;
    v_step pgpart.step;
    v_table text;
    v_cols text;
    v_count bigint;
    v_where text;
    v_lo numeric;
    v_hi numeric;
    v_overlap regclass;
BEGIN
    -- prepare (owner, lock arguments, a policy) → checks of this verb →
    -- lock → choose the range and run its steps (the rows move between
    -- building the table and attaching it, so this verb runs its steps
    -- itself and counts the rows moved)
    v_target := pgpart._prepare(p_parent, NULL, p_lock_timeout, p_lock_retries, p_now_at, p_managed => true);
    v_cfg := v_target.policy;
    -- ranges of the grid: a LIST or HASH parent has none (refused before any lock)
    IF v_cfg.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is partitioned by %s, not by RANGE', p_parent, upper(v_cfg.strategy)),
            DETAIL = 'move_default_range and move_default_rows move the rows of one range of the grid at a time.',
            HINT = 'For a LIST parent, create the new partition as a table, move the rows of its values into it '
                   '(DELETE ... RETURNING from the default partition), then ATTACH it, in one transaction.',
            SCHEMA = v_target.schema_name, TABLE = v_target.table_name;
    END IF;
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

    -- The grid, and the slot holding now: it and later ones go last.
    v_grid := pgpart._grid(p_parent, p_now_at);
    v_now_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                               coalesce(v_grid.now_coord, 'Infinity'::numeric));

    -- The lowest row below the live ranges first, else the lowest of all
    -- (index probes on the key).
    EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, min(%I)::text) FROM ONLY %s WHERE %I < %s',
                   v_cfg.key_type, v_cfg.key_column, v_default, v_cfg.key_column,
                   pgpart._coord_to_literal(v_cfg.key_type, v_now_slot.lo))
    INTO v_min;
    IF v_min IS NULL THEN
        EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, min(%I)::text) FROM ONLY %s',
                       v_cfg.key_type, v_cfg.key_column, v_default)
        INTO v_min;
    END IF;
    IF v_min IS NULL THEN
        RETURN;
    END IF;
    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_min);
    v_lo_lit := pgpart._coord_to_literal(v_cfg.key_type, v_slot.lo);
    v_hi_lit := pgpart._coord_to_literal(v_cfg.key_type, v_slot.hi);

    v_lo := CASE WHEN v_lo_lit = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
    v_hi := CASE WHEN v_hi_lit = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;
    SELECT p.partition INTO v_overlap FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default AND p.lower_coord < v_hi AND p.upper_coord > v_lo
    LIMIT 1;
    IF v_overlap IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('cannot create a partition of %s for the rows of the default partition from %s to %s',
                             p_parent, v_lo_lit, v_hi_lit),
            DETAIL = format('Partition %s, off the grid, overlaps that range.', v_overlap),
            HINT = 'Move those rows by hand, or detach the overlapping partition.';
    END IF;
    v_table := format('%I.%I', v_target.schema_name,
                      pgpart._relation_name(v_target.table_name,
                                            pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, v_lo)));
    IF to_regclass(v_table) IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('relation %s already exists', v_table),
            HINT = 'Rename or drop that relation, then move the rows again.';
    END IF;

    -- The partition for that slot, built as create_range_partitions builds
    -- one; the rows move into it just before it joins the parent.
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES FROM (%s) TO (%s)', v_lo_lit, v_hi_lit),
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
                                 CASE WHEN v_lo_lit <> 'MINVALUE' THEN format('%I >= %s', v_cfg.key_column, v_lo_lit) END,
                                 CASE WHEN v_hi_lit <> 'MAXVALUE' THEN format('%I < %s', v_cfg.key_column, v_hi_lit) END);
            EXECUTE format('WITH moved AS (DELETE FROM ONLY %s WHERE %s RETURNING %s) '
                           'INSERT INTO %s (%s) SELECT %s FROM moved',
                           v_default, v_where, v_cols, v_table, v_cols, v_cols);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            partition := v_table;
            lower_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_lo);
            upper_bound := pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_hi);
            rows_moved := v_count;
        END IF;
        EXECUTE v_step.statement;
    END LOOP;
    PERFORM pgpart._gu_sync_tree(p_parent);  -- the moved rows' values, released by the DELETE, recorded again
    PERFORM pgpart._log(p_parent, 'move_default_range', 'ok',
                        jsonb_build_object('partition', v_table, 'rows', v_count));
    RETURN NEXT;
END
$body$;

COMMENT ON FUNCTION pgpart.move_default_range(regclass, interval, integer, timestamptz) IS
'Moves the rows of one range out of the default partition into a new partition of the grid (one transaction); returns it, or nothing when the default holds no more rows.';

-- pgpart.move_default_rows(parent, ...): moves every range out of the
-- default partition, one committed transaction per range, with a NOTICE per
-- range and a final count. CALL it outside a transaction block.
CREATE PROCEDURE pgpart.move_default_rows(
    parent regclass,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10,
    now_at timestamptz DEFAULT now()
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    p_now_at ALIAS FOR now_at;
    r record;
    v_total bigint := 0::bigint;
    v_ranges integer := 0;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- up front: inside a transaction block it could not commit (25001)
    CALL pgpart._refuse_transaction_block(
        'pgpart.move_default_rows',
        'It commits after each range it moves, which a procedure can do only when called by CALL '
        'outside BEGIN ... COMMIT and not from a function.',
        'CALL it outside a transaction block (autocommit), or inside one call '
        'SELECT * FROM pgpart.move_default_range(parent) once per transaction.');
    LOOP
        SELECT * INTO r FROM pgpart.move_default_range(p_parent, p_lock_timeout, p_lock_retries, p_now_at) AS m;
        EXIT WHEN r.partition IS NULL;
        v_total := v_total + r.rows_moved;
        v_ranges := v_ranges + 1;
        RAISE NOTICE 'pgpart: moved % rows into % (% to %)', r.rows_moved, r.partition, r.lower_bound, r.upper_bound;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    RAISE NOTICE 'pgpart: moved % rows out of the default partition of % into % partitions', v_total, p_parent, v_ranges;
END
$body$;

COMMENT ON PROCEDURE pgpart.move_default_rows(regclass, interval, integer, timestamptz) IS  -- noqa: LT01
'Moves all rows out of the default partition into partitions of the grid, one committed transaction per range.';
