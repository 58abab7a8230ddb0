-- pgpart._check_default_rows(default, key, lower, upper): refuses a new
-- range when the default partition already holds rows for it (ATTACH would
-- fail anyway, after scanning the whole default under ACCESS EXCLUSIVE).
-- An index on the key makes the EXISTS probe cheap; the count is only
-- taken when there is something to report.
CREATE FUNCTION pgpart._check_default_rows(
    p_default regclass,
    p_key name,
    p_lower text,
    p_upper text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_found boolean;
    v_count bigint;
    v_where text;
    v_schema name;
    v_table name;
BEGIN
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    v_where := concat_ws(' AND ',
                         CASE WHEN p_lower <> 'MINVALUE' THEN format('%I >= %s', p_key, p_lower) END,
                         CASE WHEN p_upper <> 'MAXVALUE' THEN format('%I < %s', p_key, p_upper) END,
                         format('%I IS NOT NULL', p_key));
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', p_default, v_where) INTO v_found;
    IF v_found THEN
        EXECUTE format('SELECT count(*) FROM %s WHERE %s', p_default, v_where) INTO v_count;
        SELECT n.nspname, c.relname INTO v_schema, v_table
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.oid = p_default;
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('default partition %s holds %s rows for the new range from %s to %s',
                             p_default, v_count, p_lower, p_upper),
            DETAIL = 'A partition for this range cannot be attached while the default partition holds its rows.',
            -- an unmanaged parent: move_default_rows needs a policy first
            HINT = coalesce(
                pgpart._unmanaged_default_hint(
                    (SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default), p_lower, p_upper),
                format('Move them out first, one range per transaction: CALL pgpart.move_default_rows(%L);',
                       (SELECT i.inhparent::regclass::text FROM pg_inherits AS i WHERE i.inhrelid = p_default))),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_rows(regclass, name, text, text) IS
'Raises 23514 when the default partition holds rows of a range about to be created.';

-- pgpart._check_default_ranges(default, key, lowers, uppers): the same
-- refusal for every range a plan creates, in one probe of the default
-- (adjacent ranges merged, so a run of new slots is one index range scan)
-- instead of one probe per range; only when rows are found is each range
-- probed again, for the error that names the first one holding rows.
-- The plan's probe runs before its first ATTACH; each ATTACH checks the
-- default again itself, so nothing is lost against a probe per range.
CREATE FUNCTION pgpart._check_default_ranges(
    p_default regclass,
    p_key name,
    p_lowers text[],
    p_uppers text[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_found boolean;
    v_where text;
BEGIN
    IF cardinality(p_lowers) IS DISTINCT FROM cardinality(p_uppers) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s lower bounds but %s upper bounds for the default partition %s',
                             cardinality(p_lowers), cardinality(p_uppers), p_default),
            HINT = 'Pass one lower and one upper bound per range.';
    END IF;
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    -- runs of adjacent ranges (one's upper bound is the next one's lower) merged
    SELECT string_agg('(' || concat_ws(' AND ',
                                       CASE WHEN r.lo <> 'MINVALUE' THEN format('%I >= %s', p_key, r.lo) END,
                                       CASE WHEN r.hi <> 'MAXVALUE' THEN format('%I < %s', p_key, r.hi) END,
                                       format('%I IS NOT NULL', p_key)) || ')', ' OR ')
    INTO v_where
    FROM (
        SELECT (array_agg(g.lo ORDER BY g.n))[1] AS lo, (array_agg(g.hi ORDER BY g.n DESC))[1] AS hi
        FROM (
            -- a run starts where a range's lower bound is not the previous upper
            SELECT b.lo, b.hi, b.n,
                   count(*) FILTER (WHERE b.lo IS DISTINCT FROM b.prev_hi) OVER (ORDER BY b.n) AS run
            FROM (
                SELECT u.lo, u.hi, u.n, lag(u.hi) OVER (ORDER BY u.n) AS prev_hi
                FROM unnest(p_lowers, p_uppers) WITH ORDINALITY AS u (lo, hi, n)
            ) AS b
        ) AS g
        GROUP BY g.run
    ) AS r;
    IF v_where IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %s)', p_default, v_where) INTO v_found;
    IF v_found THEN
        -- the error of the first range holding rows, with its count
        FOR i IN 1 .. cardinality(p_lowers) LOOP
            PERFORM pgpart._check_default_rows(p_default, p_key, p_lowers[i], p_uppers[i]);
        END LOOP;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_ranges(regclass, name, text[], text[]) IS
'Raises 23514 when the default partition holds rows of any of the ranges about to be created (one probe for all; the error names the first such range).';

-- pgpart._default_ranges(parent, now_at, count_rows, max_ranges): the ranges
-- of the grid that hold rows of PARENT's default partition, in the order
-- move_default_range moves them, so its dry run (move_default_plan), the
-- progress total of move_default_rows and the move itself agree. Ascending
-- by key: the past ranges come first and the live ones (the slot of now and
-- later) last, by construction. One index probe per range (min of the key
-- above the previous range: a loose index scan; without an index on the key
-- each probe scans the default). COUNT_ROWS adds the exact count of each
-- range (one range scan each). Per range, what would stop its move:
-- OVERLAP, a partition off the grid overlapping it (42P17), and TAKEN, a
-- relation already named like its new partition (42P07). Rows with a NULL
-- key stay in the default (no range holds them). Reads only; no lock of its
-- own (a caller that moves has the default locked already).
CREATE FUNCTION pgpart._default_ranges(
    p_parent regclass,
    p_now_at timestamptz,
    p_count_rows boolean DEFAULT false,
    p_max_ranges integer DEFAULT NULL
)
RETURNS TABLE (
    ordinal integer,
    lo numeric,
    hi numeric,
    lower_literal text,
    upper_literal text,
    relation text,
    row_count bigint,
    overlap regclass,
    taken boolean
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_default regclass;
    v_schema name;
    v_table name;
    v_grid record;
    v_slot record;
    v_min numeric;
    v_from text;  -- the literal the next probe starts at (NULL: the lowest row)
    v_where text;
    v_n integer := 0;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    v_default := pgpart._default_partition(p_parent);
    IF v_cfg.parent IS NULL OR v_default IS NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    v_grid := pgpart._grid(p_parent, p_now_at);
    LOOP
        EXIT WHEN v_n >= p_max_ranges;
        -- ORDER BY ... LIMIT 1, not min(): uuid has no min() before 18
        EXECUTE format('SELECT pgpart._literal_to_coord(%L::regtype, (SELECT %I FROM ONLY %s WHERE %I IS NOT NULL%s '
                       'ORDER BY 1 LIMIT 1)::text, %L)',
                       v_cfg.key_type, v_cfg.key_column, v_default, v_cfg.key_column,
                       CASE WHEN v_from IS NOT NULL THEN format(' AND %I >= %s', v_cfg.key_column, v_from) END,
                       v_cfg.epoch_unit)
        INTO v_min;
        EXIT WHEN v_min IS NULL;
        v_n := v_n + 1;
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_min);
        ordinal := v_n;
        lower_literal := pgpart._coord_to_literal(v_cfg.key_type, v_slot.lo, v_cfg.epoch_unit);
        upper_literal := pgpart._coord_to_literal(v_cfg.key_type, v_slot.hi, v_cfg.epoch_unit);
        lo := CASE WHEN lower_literal = 'MINVALUE' THEN '-Infinity'::numeric ELSE v_slot.lo END;
        hi := CASE WHEN upper_literal = 'MAXVALUE' THEN 'Infinity'::numeric ELSE v_slot.hi END;
        relation := format('%I.%I', v_schema,
                           pgpart._relation_name(v_table,
                                                 pgpart._slot_suffix(v_grid.kind, v_grid.step, v_grid.frame, lo)));
        overlap := (SELECT p.partition FROM pgpart._partitions(p_parent) AS p
                    WHERE NOT p.is_default AND p.lower_coord < hi AND p.upper_coord > lo
                    ORDER BY p.lower_coord LIMIT 1);
        taken := to_regclass(relation) IS NOT NULL;
        row_count := NULL;
        IF p_count_rows THEN
            v_where := concat_ws(' AND ',
                                 CASE WHEN lower_literal <> 'MINVALUE'
                                     THEN format('%I >= %s', v_cfg.key_column, lower_literal) END,
                                 CASE WHEN upper_literal <> 'MAXVALUE'
                                     THEN format('%I < %s', v_cfg.key_column, upper_literal) END,
                                 format('%I IS NOT NULL', v_cfg.key_column));
            EXECUTE format('SELECT count(*) FROM ONLY %s WHERE %s', v_default, v_where) INTO row_count;
        END IF;
        RETURN NEXT;
        EXIT WHEN upper_literal = 'MAXVALUE';
        v_from := upper_literal;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._default_ranges(regclass, timestamptz, boolean, integer) IS
'The ranges of the grid holding rows of the default partition, in the order move_default_range moves them, with what would stop each move and, on request, exact row counts (internal).';

-- pgpart._require_move_grid(target): rows move out of the default into
-- ranges of the grid; a LIST or HASH parent has none (42P17, before any lock).
CREATE FUNCTION pgpart._require_move_grid(p_target pgpart._target)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF (p_target.policy).strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_object_definition',
            MESSAGE = format('table %s is partitioned by %s, not by RANGE', p_target.parent,
                             upper((p_target.policy).strategy)),
            DETAIL = 'move_default_range and move_default_rows move the rows of one range of the grid at a time.',
            HINT = 'For a LIST parent, create the new partition as a table, move the rows of its values into it '
                   '(DELETE ... RETURNING from the default partition), then ATTACH it, in one transaction.',
            SCHEMA = p_target.schema_name, TABLE = p_target.table_name;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._require_move_grid(pgpart._target) IS
'Raises 42P17 unless the prepared parent is a RANGE parent, whose default rows can move into ranges of the grid (internal).';

-- pgpart._unmanaged_default_hint(parent, width): the way forward for a
-- parent pgpart does not manage yet whose default partition holds rows
-- (issue 18's hint loop: create_range_partitions refused the ranges of
-- those rows and named move_default_rows, which needs a policy): register
-- the policy with partitions that start past the default's largest key,
-- then move the rows. WIDTH (a slot's lower and upper bound literals, when
-- the caller planned one) makes the suggested start concrete: the largest
-- key plus two slots, past the slot holding it whatever the grid's
-- alignment. NULL when the parent is managed or its default is empty.
CREATE FUNCTION pgpart._unmanaged_default_hint(p_parent regclass, p_lower text DEFAULT NULL, p_upper text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_default regclass := pgpart._default_partition(p_parent);
    v_key name;
    v_type regtype;
    v_max text;
    v_start text;
    v_width text;
BEGIN
    IF v_default IS NULL OR EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent) THEN
        RETURN NULL;
    END IF;
    SELECT a.attname, a.atttypid::regtype INTO v_key, v_type
    FROM pg_partitioned_table AS pt
    JOIN pg_attribute AS a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent;
    EXECUTE format('SELECT max(%I)::text FROM %s', v_key, v_default) INTO v_max;
    IF v_max IS NULL THEN
        RETURN NULL;
    END IF;
    p_lower := btrim(p_lower, '''');
    p_upper := btrim(p_upper, '''');
    IF p_lower IN ('MINVALUE', 'MAXVALUE') OR p_upper IN ('MINVALUE', 'MAXVALUE') THEN
        p_lower := NULL;
    END IF;
    IF v_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        v_start := (v_max::numeric + 2 * (p_upper::numeric - p_lower::numeric))::text;
        v_width := (p_upper::numeric - p_lower::numeric)::text;
    ELSIF v_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        v_start := (v_max::timestamptz + 2 * (p_upper::timestamptz - p_lower::timestamptz))::text;
        v_width := justify_hours(p_upper::timestamptz - p_lower::timestamptz)::text;
    END IF;
    RETURN format('%s is not managed yet, and move_default_rows needs its policy: register it first with '
                  'partitions that start past the default''s rows (its largest key is %s): SELECT * FROM '
                  'pgpart.create_range_partitions(%L, %L, start => %L, default_partition => true); then CALL '
                  'pgpart.move_default_rows(%L); which moves the default''s rows into partitions of their own.',
                  p_parent, v_max, p_parent::text, coalesce(v_width, '<interval>'),
                  coalesce(v_start, format('<a value past %s>', v_max)), p_parent::text);
END
$body$;

COMMENT ON FUNCTION pgpart._unmanaged_default_hint(regclass, text, text) IS
'The HINT for an unmanaged parent whose default partition holds rows: register the policy with partitions past those rows, then move_default_rows (internal).';
