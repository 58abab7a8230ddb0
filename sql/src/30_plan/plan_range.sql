-- pgpart._plan_range(target, interval, ...): the RANGE planner: returns the
-- plan of a create_range_partitions call prepared by pgpart._prepare,
-- changing nothing. The target carries what every verb checks (owner, key,
-- strategy, policy row, tablespace, lock steps, lock timeout, now); this
-- function checks what only a range call has (grid, caps, storage
-- parameters, privileges, "now"), then runs the pipeline of pure pieces
--   _range_window        the window from start (or now) to premake ahead,
--                        then the gaps below it
--   _range_missing_slots the slots of those ranges no partition covers
--   _range_names         their names, refusing taken ones
--   _range_steps         the target's locks, build/check/attach per slot,
--                        default partition, policy registration.
-- Long (about 220 lines): the range-specific checks, in the order callers
-- see their errors, each with its own SQLSTATE, DETAIL and HINT; the
-- planning itself is in the four pieces.
CREATE FUNCTION pgpart._plan_range(
    p_target pgpart._target,
    p_interval text,
    p_premake integer,
    p_start text,
    p_time_zone text,
    p_origin text,
    p_default_partition boolean,
    p_reloptions text[],
    p_subpartition jsonb DEFAULT NULL,
    p_max_new integer DEFAULT NULL,
    -- maintenance's dry run: the work of this many transactions of at most
    -- max_new each, as run_maintenance_proc and the client catch up
    p_transactions integer DEFAULT 1,
    -- an integer key holding Unix time ('s', 'ms', 'us'); NULL keeps the
    -- policy's
    p_epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    -- at most this many new tables in one transaction, sub-partitions
    -- included: each takes about ten locks, and the shared lock table is
    -- sized for a few thousand (pgpart._max_new_tables)
    v_cap constant integer := pgpart._max_new_tables();
    -- the new partitions that fit under it: fewer with sub-partitions
    v_part_cap integer;
    v_leaves integer;
    p_parent constant regclass := p_target.parent;
    v_key record;
    v_iv record;
    v_cfg pgpart.config;
    v_schema name;
    v_relname name;
    v_owner name;
    v_zone text;
    v_frame text;
    v_origin numeric;
    v_origin_text text;
    v_premake integer;
    v_tablespace name;
    v_target_ts name;
    v_reloptions text [];
    v_subpartition jsonb;
    v_default regclass;
    v_has_partitions boolean;
    v_existing_lo numeric [];
    v_existing_hi numeric [];
    v_existing_rel regclass [];
    v_now numeric;
    v_start numeric;
    v_ranges pgpart._range [];
    v_slots pgpart._range [];
    v_names name [];
    v_create_default boolean;
    v_n integer;
    v_total integer;
    v_unit text;
    v_clock text;
BEGIN
    SELECT p_target.key_column AS key_column, p_target.key_type AS key_type INTO v_key;
    v_schema := p_target.schema_name;
    v_relname := p_target.table_name;
    v_owner := p_target.owner;
    v_cfg := p_target.policy;

    SELECT array_agg(p.lower_coord ORDER BY p.lower_coord),
           array_agg(p.upper_coord ORDER BY p.lower_coord),
           array_agg(p.partition ORDER BY p.lower_coord)
    INTO v_existing_lo, v_existing_hi, v_existing_rel
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default;
    v_has_partitions := coalesce(cardinality(v_existing_rel), 0) > 0;
    v_default := pgpart._default_partition(p_parent);

    -- The key's clock: an epoch unit given is checked (and cannot change
    -- under partitions), else the policy's holds (pgpart._key_clock).
    v_unit := coalesce(pgpart._check_epoch_unit(p_parent, v_key.key_type, p_epoch_unit,
                                                v_has_partitions AND v_cfg.parent IS NOT NULL, v_cfg.epoch_unit),
                       v_cfg.epoch_unit);
    v_clock := pgpart._key_clock(v_key.key_type, v_unit);
    IF v_unit IS NOT NULL AND v_cfg.epoch_unit IS NULL AND v_has_partitions THEN
        -- adopting a table whose partitions already hold Unix time: their
        -- bounds were read as plain numbers (no policy said otherwise)
        v_existing_lo := array(SELECT x.lo / pgpart._epoch_scale(v_unit)
                               FROM unnest(v_existing_lo) WITH ORDINALITY AS x (lo, n) ORDER BY x.n);
        v_existing_hi := array(SELECT x.hi / pgpart._epoch_scale(v_unit)
                               FROM unnest(v_existing_hi) WITH ORDINALITY AS x (hi, n) ORDER BY x.n);
    END IF;

    -- The grid: interval, zone, origin.
    v_iv := pgpart._parse_interval(v_key.key_type, p_interval, v_unit);
    v_zone := pgpart._check_zone(coalesce(p_time_zone, v_cfg.time_zone, 'UTC'));
    v_frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months')
                    THEN v_zone ELSE 'UTC' END;
    IF p_origin IS NOT NULL THEN
        v_origin := pgpart._input_to_coord(v_key.key_type, v_zone, p_origin, 'origin', v_unit);
        IF v_clock = 'instant' THEN
            -- the origin is kept as a wall time of the grid's own zone
            v_origin := extract(epoch FROM (pgpart._coord_to_ts(v_origin) AT TIME ZONE v_frame));
        END IF;
    ELSIF v_cfg.grid_origin IS NOT NULL AND v_cfg.partition_interval = v_iv.canonical THEN
        v_origin := CASE WHEN v_iv.kind = 'integer' THEN v_cfg.grid_origin::numeric
                         ELSE extract(epoch FROM v_cfg.grid_origin::timestamp) END;
    ELSE
        v_origin := pgpart._default_origin(v_iv.kind, v_iv.step);
    END IF;
    v_origin_text := CASE WHEN v_iv.kind = 'integer' THEN v_origin::text
                          ELSE to_char(pgpart._coord_to_ts(v_origin) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END;

    -- A grid cannot change under existing partitions (DESIGN §5).
    IF v_cfg.parent IS NOT NULL AND v_has_partitions
       AND (v_cfg.partition_interval IS DISTINCT FROM v_iv.canonical
            OR v_cfg.grid_origin IS DISTINCT FROM v_origin_text
            OR (v_frame <> 'UTC' AND v_cfg.time_zone IS DISTINCT FROM v_zone)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot change the partition grid of table %s', p_parent),
            DETAIL = format('Configured: interval %L, origin %L, time zone %L; requested: interval %L, origin %L, time zone %L.',
                            v_cfg.partition_interval, v_cfg.grid_origin, v_cfg.time_zone,
                            v_iv.canonical, v_origin_text, v_zone),
            HINT = 'Call again with the configured interval, origin and time zone (or leave them out); the grid of a table with partitions stays fixed.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    -- Policy values: a NULL argument keeps what is configured.
    v_premake := coalesce(p_premake, v_cfg.premake, 4);
    -- bounded before the grid is walked premake slots ahead (a value in the
    -- policy row is checked too: an owner can write that row directly)
    PERFORM pgpart._check_premake(v_premake, p_parent);
    v_reloptions := coalesce(p_reloptions, v_cfg.reloptions);
    PERFORM pgpart._with_clause(v_reloptions);  -- validates them before anything
    v_subpartition := coalesce(pgpart._subpartition_spec(p_parent, p_subpartition), v_cfg.subpartition);
    -- Sub-partitions count in the cap: a partition and its leaves are built
    -- in the same transaction.
    v_leaves := pgpart._subpartition_leaves(v_subpartition);
    v_part_cap := v_cap / (1 + v_leaves);
    IF v_part_cap < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('each new partition of %s would have %s sub-partitions, more than the %s new tables one '
                             'transaction may create', p_parent, v_leaves, v_cap),
            DETAIL = 'A partition and its sub-partitions are built in one transaction; each new table holds about ten '
                     'locks until commit, and thousands exhaust the shared lock table.',
            HINT = format('Use a sub-partition spec with at most %s sub-partitions (a smaller modulus, fewer list '
                          'groups).', v_cap - 1),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    -- where new partitions go: the target's tablespace (requested, else the
    -- policy's), else the parent's, else the database default
    v_tablespace := p_target.tablespace;
    v_target_ts := p_target.target_tablespace;

    -- Privileges: checked up front so a refused call leaves nothing behind.
    PERFORM pgpart._require_create_privileges(p_parent, v_schema, v_relname, v_owner, v_target_ts);

    -- "Now": the reference time, or for integer keys the highest key value.
    IF v_iv.kind = 'integer' THEN
        BEGIN
            -- an empty table: its "now" is the start given, else where its
            -- partitions begin, else 0 (DESIGN §5); so a call without start
            -- after one with it changes nothing
            v_now := coalesce(pgpart._max_key(p_parent, v_key.key_column, p_target.lock_timeout),
                              pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start', v_unit),
                              (SELECT min(lo) FROM unnest(v_existing_lo) AS lo WHERE lo > '-Infinity'::numeric), 0);
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION USING
                ERRCODE = 'lock_not_available',
                MESSAGE = format('could not read the highest key of %s within %s', p_parent, p_target.lock_timeout),
                DETAIL = 'A partition is locked by another session (ACCESS EXCLUSIVE).',
                HINT = 'Retry later, or pass start so the highest key need not be read.',
                SCHEMA = v_schema, TABLE = v_relname;
        END;
    ELSIF v_clock = 'instant' THEN
        v_now := extract(epoch FROM p_target.now_at);
    ELSE
        v_now := extract(epoch FROM (p_target.now_at AT TIME ZONE v_zone));
    END IF;

    -- The window and the gaps below it, the slots of them no partition
    -- covers, their names, then the steps (DESIGN §5).
    IF p_start IS NOT NULL THEN
        v_start := pgpart._input_to_coord(v_key.key_type, v_zone, p_start, 'start', v_unit);
    END IF;
    v_ranges := pgpart._range_window(v_iv.kind, v_iv.step, v_frame, v_origin, v_now, v_start, v_premake,
                                     v_existing_lo, v_existing_hi);
    IF p_max_new IS NOT NULL AND (p_max_new < 1 OR p_max_new > v_cap) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('max_new must be between 1 and %s, got %s', v_cap, p_max_new),
            HINT = 'Pass how many partitions one call may create at most, or leave it out.';
    END IF;
    IF p_max_new IS NOT NULL THEN
        -- a bounded run makes what fits under the cap with its sub-partitions
        v_part_cap := least(p_max_new, v_part_cap) * greatest(p_transactions, 1);
    ELSE
        -- one more than fits: enough to refuse the call below
        v_part_cap := v_part_cap + 1;
    END IF;
    v_slots := pgpart._range_missing_slots(
        p_parent, v_schema, v_relname, v_key.key_type, v_zone, v_iv.kind, v_iv.step, v_frame, v_origin,
        v_iv.canonical, v_ranges, p_start IS NOT NULL, v_existing_lo, v_existing_hi, v_existing_rel, v_part_cap,
        v_unit);

    v_n := cardinality(v_slots);
    v_create_default := coalesce(p_default_partition, false) AND v_default IS NULL;
    -- a default partition to create counts too, and every sub-partition
    v_total := v_n * (1 + v_leaves) + v_create_default::integer;
    IF v_total > v_cap * greatest(p_transactions, 1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('more than %s new tables for %s requested, but at most %s are created in one transaction',
                             v_cap, p_parent, v_cap),
            DETAIL = format('Each new partition%s holds about ten locks until commit; thousands exhaust the shared lock '
                            'table.', CASE WHEN v_leaves > 0
                                           THEN format(' (here with its %s sub-partitions, %s tables)', v_leaves,
                                                       1 + v_leaves) ELSE '' END),
            HINT = format('Each call creates at most %s new tables: pass max_new => %s (the rest on the next calls), '
                          'a smaller premake, or a start (which also skips filling gaps below it), and call again.',
                          v_cap, greatest(1, (v_cap - 1) / (1 + v_leaves))),
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;

    v_names := pgpart._range_names(p_parent, v_schema, v_relname, v_key.key_type, v_zone, v_iv.kind, v_iv.step,
                                   v_frame, v_slots, v_create_default, v_unit);

    RETURN QUERY SELECT * FROM pgpart._range_steps(
        p_parent, p_target.lock_steps, v_schema, v_relname, v_key.key_type, v_key.key_column, v_zone, v_default, v_slots, v_names,
        v_target_ts, v_reloptions, v_subpartition, v_create_default,
        format('SELECT pgpart._register_range_policy(%L::regclass, %L, %L::regtype, %L, %L, %L, %s, %L, %L, %L%s)',
               p_parent::text, v_key.key_column, v_key.key_type::text, v_iv.canonical, v_origin_text,
               v_zone, v_premake, v_tablespace, v_reloptions, v_subpartition,
               CASE WHEN v_unit IS NOT NULL THEN format(', p_epoch_unit => %L', v_unit) ELSE '' END),
        v_unit);
END
$body$;

COMMENT ON FUNCTION pgpart._plan_range(pgpart._target, text, integer, text, text, text, boolean, text[], jsonb, integer, integer, text) IS
'The RANGE planner: checks what only a range call has and returns the ordered steps of a prepared create_range_partitions call, changing nothing (internal).';

-- pgpart._plan_range_partitions(parent, interval, ...): prepare and plan in
-- one call, changing nothing and taking no lock: for callers that ask "is
-- anything missing?" before they lock (maintenance; TRANSACTIONS: its dry run
-- plans that many transactions of at most max_new each).
CREATE FUNCTION pgpart._plan_range_partitions(
    p_parent regclass,
    p_interval text,
    p_premake integer,
    p_start text,
    p_time_zone text,
    p_origin text,
    p_tablespace name,
    p_default_partition boolean,
    p_reloptions text[],
    p_lock_timeout interval,
    p_now_at timestamptz,
    p_subpartition jsonb DEFAULT NULL,
    p_max_new integer DEFAULT NULL,
    p_transactions integer DEFAULT 1
)
RETURNS SETOF pgpart.step
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT s.*
    FROM pgpart._plan_range(
        pgpart._prepare(p_parent, 'range', p_lock_timeout, 0, p_now_at, p_tablespace),
        p_interval, p_premake, p_start, p_time_zone, p_origin, p_default_partition, p_reloptions, p_subpartition,
        p_max_new, p_transactions) AS s;
$body$;

COMMENT ON FUNCTION pgpart._plan_range_partitions(regclass, text, integer, text, text, text, name, boolean, text[], interval, timestamptz, jsonb, integer, integer) IS
'Prepares and plans a create_range_partitions call without locks or changes (internal).';
