-- Splitting a converted table's legacy partition into grid partitions
-- (issue 18; docs/converting.md "Splitting the legacy partition"). The
-- legacy partition FROM (MINVALUE) TO (bound) cannot shrink without a
-- re-ATTACH, which scans it under ACCESS EXCLUSIVE unless a validated CHECK
-- proves the new bound, and no such CHECK can be validated while it still
-- takes rows of the ranges split off. So its rows are COPIED, one grid
-- range per short transaction, into tables built as pgpart builds
-- partitions (detached, their bound as a CHECK), and a row trigger on the
-- legacy partition mirrors later writes of each copied range; readers go
-- on reading the legacy partition throughout. Once every range is copied,
-- one swap transaction (catalog work only) detaches the legacy partition
-- and attaches the range tables, whose CHECKs prove their bounds. The
-- catalog is the progress record: a range table with its mirror trigger is
-- a copied range; a kill rolls back one range.

-- pgpart._split_legacy_of(parent): the legacy partition of PARENT (the leaf
-- whose lower bound is MINVALUE, as convert_to_partitioned makes it) with
-- its upper bound, or no row.
CREATE FUNCTION pgpart._split_legacy_of(
    p_parent regclass,
    OUT legacy regclass,
    OUT upper_literal text,
    OUT upper_coord numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    SELECT p.partition, p.upper_literal, p.upper_coord
    INTO legacy, upper_literal, upper_coord
    FROM pgpart._partitions(p_parent) AS p
    WHERE NOT p.is_default AND p.relkind = 'r' AND p.lower_literal = 'MINVALUE' AND p.upper_literal <> 'MAXVALUE'
    ORDER BY p.upper_coord
    LIMIT 1;
END
$body$;

COMMENT ON FUNCTION pgpart._split_legacy_of(regclass) IS
'The legacy partition of a parent (FROM MINVALUE, as convert_to_partitioned makes it) and its upper bound (internal).';

-- pgpart._split_floor(legacy): the floor constraint of a split
-- (CHECK (key >= floor), named pgpart_split_floor) and the floor's
-- coordinate, recorded in the constraint's comment; NULLs when absent.
CREATE FUNCTION pgpart._split_floor(p_legacy regclass, OUT floor_coord numeric, OUT validated boolean)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    SELECT r.recorded::numeric, r.validated INTO floor_coord, validated
    FROM pgpart._recorded_constraint(p_legacy, 'pgpart_split_floor', 'pgpart split floor: ') AS r;
END
$body$;

COMMENT ON FUNCTION pgpart._split_floor(regclass) IS
'The floor of a split of a legacy partition (every row at or above it) and whether its CHECK is validated (internal).';

-- pgpart._split_require(parent): the checks every split step makes first:
-- the caller owns PARENT, PARENT is a managed RANGE parent, and the
-- split's mirror triggers (the owner's code: they run as the owner) never
-- run code of a role in another role's session: the caller must be the
-- owner in its own session, unless the owner is a superuser (docs/
-- security.md). Returns the legacy partition (55000 when there is none).
CREATE FUNCTION pgpart._split_require(p_parent regclass)
RETURNS regclass
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_schema name;
    v_table name;
    v_owner name;
    v_legacy regclass;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) INTO v_schema, v_table, v_owner
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    IF NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not a converted table managed by pgpart', p_parent),
            DETAIL = 'split_legacy splits the legacy partition that convert_to_partitioned leaves.',
            HINT = format('Convert it first: SELECT * FROM pgpart.convert_to_partitioned(%L, key => ..., '
                          '"interval" => ...); or pgpart convert %s --key ... --interval ... --legacy split.',
                          p_parent::text, p_parent),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    IF NOT pgpart._trusted_for(p_parent)
       AND NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = v_owner) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('pgpart splits the legacy partition of %s only in a session of its owner %I',
                             p_parent, v_owner),
            DETAIL = 'The split installs triggers that run as the owner, and copies rows through the owner''s '
                     'indexes and constraints.',
            HINT = format('Run it in a session authenticated as %I (the Python client or pgpart split-legacy '
                          'with %I''s connection string).', v_owner, v_owner),
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    v_legacy := (SELECT l.legacy FROM pgpart._split_legacy_of(p_parent) AS l);
    IF v_legacy IS NULL
       AND NOT EXISTS (SELECT 1 FROM pgpart.log AS g WHERE g.parent = p_parent AND g.action = 'split_legacy') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s has no legacy partition to split', p_parent),
            DETAIL = 'No partition of it starts at MINVALUE, as the one convert_to_partitioned leaves does.',
            HINT = 'Nothing to do: its rows are in grid partitions already.',
            SCHEMA = v_schema, TABLE = v_table;
    END IF;
    RETURN v_legacy;
END
$body$;

COMMENT ON FUNCTION pgpart._split_require(regclass) IS
'Checks a split of a legacy partition may run (owner, a managed range parent, the owner''s session) and returns the legacy partition (internal).';

-- pgpart._split_ranges(parent, legacy, floor): the grid slots from the one
-- holding FLOOR up to the legacy bound, each with its table's name, the
-- literals and values of its bounds, whether it is copied (its table and
-- its mirror trigger exist) and a row estimate (the legacy partition's
-- reltuples spread evenly: no scan). 42P07 for a name held by another
-- relation.
CREATE FUNCTION pgpart._split_ranges(p_parent regclass, p_legacy regclass, p_floor numeric)
RETURNS TABLE (
    ordinal integer, lo numeric, hi numeric, lower_literal text, upper_literal text, relation text,
    copied boolean, rows_estimate bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_cfg pgpart.config;
    v_grid record;
    v_top numeric;
    v_slot record;
    v_at numeric := p_floor;
    v_schema name;
    v_table name;
    v_tuples numeric;
    v_rel regclass;
    v_n integer := 0;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    v_grid := pgpart._grid(p_parent, now());
    v_top := (SELECT l.upper_coord FROM pgpart._split_legacy_of(p_parent) AS l);
    SELECT n.nspname, c.relname INTO v_schema, v_table
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    SELECT greatest(c.reltuples, 0)::numeric INTO v_tuples FROM pg_class AS c WHERE c.oid = p_legacy;
    WHILE v_at < v_top LOOP
        v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_at);
        v_n := v_n + 1;
        ordinal := v_n;
        lo := v_slot.lo;
        hi := least(v_slot.hi, v_top);
        lower_literal := pgpart._coord_to_literal(v_cfg.key_type, lo, v_cfg.epoch_unit);
        upper_literal := pgpart._coord_to_literal(v_cfg.key_type, hi, v_cfg.epoch_unit);
        relation := format('%I.%I', v_schema,
                           pgpart._relation_name(v_table, pgpart._slot_suffix(v_grid.kind, v_grid.step,
                                                                              v_grid.frame, lo)));
        v_rel := to_regclass(relation);
        copied := v_rel IS NOT NULL AND EXISTS (
            SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = p_legacy AND t.tgname = 'pgpart_split_' || v_rel::oid);
        IF v_rel IS NOT NULL AND NOT copied THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_table',
                MESSAGE = format('relation %s already exists', relation),
                DETAIL = format('pgpart names the partition of %s for the range from %s to %s so.', p_parent,
                                lower_literal, upper_literal),
                HINT = 'Rename or drop that relation, then split again.',
                SCHEMA = v_schema, TABLE = v_table;
        END IF;
        rows_estimate := CASE WHEN v_top > p_floor THEN round(v_tuples * (hi - lo) / (v_top - p_floor))::bigint END;
        RETURN NEXT;
        v_at := v_slot.hi;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._split_ranges(regclass, regclass, numeric) IS
'The grid ranges a split of a legacy partition copies, from the floor to its bound: names, bounds, whether copied, estimated rows (internal).';

-- pgpart._split_add_floor(parent, floor): the split's first step: CHECK
-- (key >= floor) NOT VALID on the legacy partition (a catalog change under
-- ACCESS EXCLUSIVE), so no row lands below the first range while the split
-- runs; the next step validates it online. FLOOR is the slot of the
-- lowest key when planned.
CREATE FUNCTION pgpart._split_add_floor(
    p_parent regclass,
    p_floor numeric,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_legacy)],
                                  p_lock_timeout, p_lock_retries);
    IF (SELECT f.floor_coord FROM pgpart._split_floor(v_legacy) AS f) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pgpart_split_floor CHECK (%I >= %s) NOT VALID', v_legacy,
                   v_cfg.key_column, pgpart._coord_to_literal(v_cfg.key_type, p_floor, v_cfg.epoch_unit));
    EXECUTE format('COMMENT ON CONSTRAINT pgpart_split_floor ON %s IS %L', v_legacy, 'pgpart split floor: ' || p_floor);
END
$body$;

COMMENT ON FUNCTION pgpart._split_add_floor(regclass, numeric, interval, integer) IS
'First step of a split: CHECK (key >= floor) NOT VALID on the legacy partition, its floor recorded in its comment (internal).';

-- pgpart._split_validate_floor(parent): validates the floor constraint
-- online (SHARE UPDATE EXCLUSIVE: readers and writers go on). A row
-- written below the floor between the plan and the constraint fails the
-- validation: then the constraint is dropped and the next plan starts
-- lower (a NOTICE says so); nothing else was done.
CREATE FUNCTION pgpart._split_validate_floor(p_parent regclass, p_lock_timeout interval)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
BEGIN
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    BEGIN
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT pgpart_split_floor', v_legacy);
        RETURN true;
    EXCEPTION WHEN check_violation THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_floor', v_legacy);
        RAISE NOTICE 'pgpart: rows arrived below the floor of the split of %; it is planned again', p_parent;
        RETURN false;
    END;
END
$body$;

COMMENT ON FUNCTION pgpart._split_validate_floor(regclass, interval) IS
'Validates the floor constraint of a split online; drops it (to be planned lower) when rows arrived below it (internal).';

-- pgpart._split_mirror_function(legacy, parent): the trigger function that
-- mirrors writes of a copied range from the legacy partition into its
-- range table, made once per legacy partition, in its schema, owned by
-- the table's owner and SECURITY DEFINER: it runs with the owner's rights
-- (the writers have none on the range tables, which get no grants), never
-- with the writer's, and runs only pgpart's text. TG_ARGV: the range
-- table, its lower and upper bound values. A TRUNCATE truncates the range
-- table. Rows are matched by the
-- primary key, else by their whole text (one scan of one range table).
CREATE FUNCTION pgpart._split_mirror_function(p_legacy regclass, p_parent regclass)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_cfg pgpart.config;
    v_schema name;
    v_owner name;
    v_name name;
    v_fn text;
    v_cols text;
    v_vals text;
    v_match text;
    v_key text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    SELECT n.nspname, pg_get_userbyid(c.relowner), pgpart._relation_name(c.relname::text, '_pgpart_split')
    INTO v_schema, v_owner, v_name
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_legacy;
    v_fn := format('%I.%I', v_schema, v_name);
    IF to_regprocedure(v_fn || '()') IS NOT NULL THEN
        RETURN v_fn;
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('($1).%I', a.attname), ', ' ORDER BY a.attnum)
    INTO v_cols, v_vals
    FROM pg_attribute AS a
    WHERE a.attrelid = p_legacy AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
    SELECT format('(%s) = (%s)', string_agg(format('u.%I', a.attname), ', ' ORDER BY k.n),
                  string_agg(format('($1).%I', a.attname), ', ' ORDER BY k.n))
    INTO v_match
    FROM pg_index AS x
    CROSS JOIN LATERAL unnest(x.indkey::int2 []) WITH ORDINALITY AS k (attnum, n)
    JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = p_legacy AND x.indisprimary;
    IF v_match IS NULL THEN
        SELECT format('ROW(%s)::text = ROW(%s)::text', string_agg(format('u.%I', a.attname), ', ' ORDER BY a.attnum),
                      string_agg(format('($1).%I', a.attname), ', ' ORDER BY a.attnum))
        INTO v_match
        FROM pg_attribute AS a WHERE a.attrelid = p_legacy AND a.attnum > 0 AND NOT a.attisdropped;
    END IF;
    v_key := quote_ident(v_cfg.key_column);
    EXECUTE format($f$CREATE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $pgpart_split$
BEGIN
    -- pgpart: mirrors writes of one copied range (TG_ARGV: table, lower,
    -- upper) while the legacy partition is split (docs/converting.md)
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('TRUNCATE %%s', TG_ARGV[0]);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.%2$s >= TG_ARGV[1]::%3$s AND OLD.%2$s < TG_ARGV[2]::%3$s THEN
        EXECUTE format('DELETE FROM %%1$s AS t WHERE t.ctid = (SELECT u.ctid FROM %%1$s AS u WHERE %%2$s LIMIT 1)',
                       TG_ARGV[0], %4$L) USING OLD;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.%2$s >= TG_ARGV[1]::%3$s AND NEW.%2$s < TG_ARGV[2]::%3$s THEN
        EXECUTE format('INSERT INTO %%s (%%s) SELECT %%s', TG_ARGV[0], %5$L, %6$L) USING NEW;
    END IF;
    RETURN NULL;
END
$pgpart_split$$f$, v_fn, v_key, v_cfg.key_type, v_match, v_cols, v_vals);
    EXECUTE format('REVOKE ALL ON FUNCTION %s() FROM PUBLIC', v_fn);
    IF v_owner <> current_user THEN
        EXECUTE format('ALTER FUNCTION %s() OWNER TO %I', v_fn, v_owner);
    END IF;
    EXECUTE format('COMMENT ON FUNCTION %s() IS %L', v_fn,
                   format('pgpart: mirrors writes of the legacy partition %s into its copied ranges while it is '
                          'split; dropped by the swap.', p_legacy));
    RETURN v_fn;
END
$body$;

COMMENT ON FUNCTION pgpart._split_mirror_function(regclass, regclass) IS
'Makes (once) the SECURITY DEFINER trigger function, owned by the table owner, that mirrors writes of copied ranges of a legacy partition into their tables (internal).';

-- pgpart._split_copy_range(parent, lo, hi, ...): copies ONE grid range of
-- the legacy partition, in the caller's transaction: locks the legacy
-- partition against writers only (SHARE ROW EXCLUSIVE: readers go on;
-- writers of other partitions too), builds the range's table as pgpart
-- builds a partition (LIKE the parent, owner, tablespace, indexes) with
-- its bound as a CHECK (made on the empty table: valid at once), copies
-- the range's rows into it and installs the mirror trigger for later
-- writes. Bounded work: one slot's rows. Returns the rows copied (0 when
-- the range was copied already).
CREATE FUNCTION pgpart._split_copy_range(
    p_parent regclass,
    p_lo numeric,
    p_hi numeric,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
    v_range record;
    v_floor record;
    v_step pgpart.step;
    v_rel regclass;
    v_cols text;
    v_count bigint;
    v_fn text;
    v_lo_value text;
    v_hi_value text;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', v_legacy)],
                                  p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    IF NOT coalesce(v_floor.validated, false) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the split of %s has no validated floor yet', p_parent),
            HINT = 'Run the steps of pgpart.split_legacy(..., dry_run => true) in order.';
    END IF;
    SELECT * INTO v_range FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r
    WHERE r.lo = p_lo AND r.hi = p_hi;
    IF v_range.ordinal IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s to %s is not a range of the split of %s', p_lo, p_hi, p_parent),
            HINT = 'Plan again: SELECT * FROM pgpart.split_legacy(..., dry_run => true).';
    END IF;
    IF v_range.copied THEN
        RETURN 0::bigint;
    END IF;
    FOR v_step IN
        SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_range.relation,
            format('FOR VALUES FROM (%s) TO (%s)', v_range.lower_literal, v_range.upper_literal),
            pgpart._target_tablespace(p_parent, v_cfg.tablespace), v_cfg.reloptions, 1) AS s
        WHERE s.action NOT IN ('attach', 'replica identity')
        ORDER BY s.step
    LOOP
        EXECUTE v_step.statement;
    END LOOP;
    v_rel := v_range.relation::regclass;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pgpart_split_range CHECK (%I >= %s AND %I < %s)', v_rel,
                   v_cfg.key_column, v_range.lower_literal, v_cfg.key_column, v_range.upper_literal);
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
    FROM pg_attribute AS a
    WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s WHERE %I >= %s AND %I < %s', v_rel, v_cols, v_cols,
                   v_legacy, v_cfg.key_column, v_range.lower_literal, v_cfg.key_column, v_range.upper_literal);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_fn := pgpart._split_mirror_function(v_legacy, p_parent);
    EXECUTE format('SELECT (%s::%s)::text, (%s::%s)::text', v_range.lower_literal, v_cfg.key_type,
                   v_range.upper_literal, v_cfg.key_type) INTO v_lo_value, v_hi_value;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s(%L, %L, %L)',
                   'pgpart_split_' || v_rel::oid, v_legacy, v_fn, v_rel::text, v_lo_value, v_hi_value);
    -- TRUNCATE of the legacy partition (or of the parent) empties the copy too
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s(%L, %L, %L)',
                   'pgpart_split_truncate_' || v_rel::oid, v_legacy, v_fn, v_rel::text, v_lo_value, v_hi_value);
    PERFORM pgpart._log(p_parent, 'split_legacy_range', 'ok',
                        jsonb_build_object('table', v_rel::text, 'rows', v_count, 'range', v_range.ordinal));
    RETURN v_count;
END
$body$;

COMMENT ON FUNCTION pgpart._split_copy_range(regclass, numeric, numeric, interval, integer) IS
'Copies one grid range of a legacy partition into its new table (built detached, bound as CHECK) and installs its mirror trigger, in one short transaction (internal).';

-- pgpart._split_swap(parent, keep, ...): the split's last step, one short
-- transaction of catalog work: locks the parent and the legacy partition
-- ACCESS EXCLUSIVE (and every range table) under the lock timeout, checks
-- every range is copied (the validated floor proves no row lies below the
-- first), drops the mirror triggers, DETACHes the legacy partition and
-- ATTACHes each range table (no scan: its CHECK proves the bound; no index
-- build: each parent index adopts its twin), then drops the legacy table
-- or, with KEEP, leaves it detached. Global unique constraints: their
-- side tables hold values, not rows; the rows only change tables, so the
-- legacy partition is unmarked without releasing its values and each range
-- table is marked without copying (pgpart._gu_mark). Returns the number
-- of range tables attached.
CREATE FUNCTION pgpart._split_swap(
    p_parent regclass,
    p_keep boolean,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET "pgpart.event_triggers" = 'off'
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_floor record;
    v_gu pgpart.global_unique;
    v_trigger name;
    v_fn text;
    v_n integer := 0;
    v_rows bigint := 0::bigint;
    v_tables text [];
    v_lower text [];
    v_upper text [];
BEGIN
    IF v_legacy IS NULL THEN
        RETURN 0;
    END IF;
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    IF NOT coalesce(v_floor.validated, false)
       OR EXISTS (SELECT 1 FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r WHERE NOT r.copied) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('the legacy partition %s of %s is not ready for its swap', v_legacy, p_parent),
            DETAIL = 'Every range must be copied first.',
            HINT = 'Run the steps of pgpart.split_legacy(..., dry_run => true) in order.';
    END IF;
    PERFORM pgpart._acquire_locks(
        ARRAY[format('SELECT pg_catalog.pg_advisory_xact_lock(%s)', pgpart.advisory_key(p_parent)),
              format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent),
              format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', v_legacy)]
        || array(SELECT format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', r.relation)
                 FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r ORDER BY r.ordinal),
        p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    -- read before the DETACH (the ranges end at the legacy bound)
    SELECT array_agg(r.relation ORDER BY r.ordinal), array_agg(r.lower_literal ORDER BY r.ordinal),
           array_agg(r.upper_literal ORDER BY r.ordinal)
    INTO v_tables, v_lower, v_upper
    FROM pgpart._split_ranges(p_parent, v_legacy, v_floor.floor_coord) AS r;
    -- the mirror triggers and their function go first (catalog only)
    FOR v_trigger IN
        SELECT t.tgname FROM pg_trigger AS t
        WHERE t.tgrelid = v_legacy AND t.tgname LIKE 'pgpart\_split\_%' ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, v_legacy);
    END LOOP;
    v_fn := pgpart._split_mirror_function(v_legacy, p_parent);
    EXECUTE format('DROP FUNCTION %s()', v_fn);
    FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_parent ORDER BY g.id LOOP
        PERFORM pgpart._gu_unmark(v_gu, v_legacy);
    END LOOP;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, v_legacy);
    FOR v_i IN 1 .. coalesce(cardinality(v_tables), 0) LOOP
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', p_parent,
                       v_tables[v_i], v_lower[v_i], v_upper[v_i]);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_range', v_tables[v_i]);
        IF (SELECT c.relreplident FROM pg_class AS c WHERE c.oid = p_parent) <> 'd' THEN
            PERFORM pgpart._copy_replica_identity(v_tables[v_i]::regclass);
        END IF;
        FOR v_gu IN SELECT g.* FROM pgpart.global_unique AS g WHERE g.parent = p_parent ORDER BY g.id LOOP
            PERFORM pgpart._gu_mark(v_gu, v_tables[v_i]::regclass);
        END LOOP;
        v_n := v_n + 1;
    END LOOP;
    SELECT greatest(c.reltuples, 0)::bigint INTO v_rows FROM pg_class AS c WHERE c.oid = v_legacy;
    PERFORM pgpart._log(p_parent, 'split_legacy', 'ok', jsonb_build_object(
        'legacy', v_legacy::text, 'ranges', v_n, 'kept', p_keep, 'rows_estimate', v_rows));
    IF p_keep THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pgpart_split_floor', v_legacy);
        EXECUTE format('DROP INDEX IF EXISTS %I.%I',
                       (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                        WHERE c.oid = v_legacy),
                       (SELECT pgpart._relation_name(c.relname::text, '_pgpart_split_key') FROM pg_class AS c
                        WHERE c.oid = v_legacy));
    ELSE
        EXECUTE format('DROP TABLE %s', v_legacy);
    END IF;
    RETURN v_n;
END
$body$;

COMMENT ON FUNCTION pgpart._split_swap(regclass, boolean, interval, integer) IS
'Last step of a split: detaches the legacy partition and attaches the copied range tables in one short transaction (catalog work only), then drops or keeps the old table (internal).';

-- pgpart._split_plan(parent, keep, lock_timeout, lock_retries): the steps
-- left of the split of PARENT's legacy partition, planned from the catalog
-- (a step whose effect is present is left out): an index on the key of
-- the legacy partition when none leads with it (CONCURRENTLY, at top
-- level), the floor, its validation, each range not yet copied ('copy range k of n', with the
-- estimated rows), then the swap. Empty once split.
CREATE FUNCTION pgpart._split_plan(
    p_parent regclass,
    p_keep boolean,
    p_lock_timeout interval,
    p_lock_retries integer
)
RETURNS TABLE (step integer, action text, statement text, locks text, transaction text, rows_estimate bigint)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
AS $body$
#variable_conflict use_column
DECLARE
    v_legacy regclass := pgpart._split_require(p_parent);
    v_cfg pgpart.config;
    v_grid record;
    v_floor record;
    v_floor_coord numeric;
    v_min text;
    v_total integer;
    v_range record;
    v_n integer := 0;
    v_args text := format('%L::interval, %s', p_lock_timeout, p_lock_retries);
    v_index name;
    v_schema name;
    v_valid boolean;
BEGIN
    IF v_legacy IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    -- each range is read by an index range scan: without an index led by
    -- the key, every copy would scan the whole legacy partition while its
    -- writers wait; so one is built online first (on the legacy partition
    -- only; it goes with it)
    SELECT n.nspname, pgpart._relation_name(c.relname::text, '_pgpart_split_key') INTO v_schema, v_index
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = v_legacy;
    SELECT x.indisvalid INTO v_valid
    FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
    WHERE x.indrelid = v_legacy AND ic.relname = v_index;
    IF FOUND AND NOT v_valid THEN  -- a build that was killed
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'drop invalid index ' || v_index,
            format('DROP INDEX CONCURRENTLY %I.%I', v_schema, v_index),
            format('SHARE UPDATE EXCLUSIVE on %s', v_legacy), 'autocommit', NULL::bigint;
    END IF;
    IF NOT coalesce(v_valid, false) AND NOT EXISTS (
        SELECT 1 FROM pg_index AS x
        JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
        WHERE x.indrelid = v_legacy AND x.indisvalid AND x.indpred IS NULL AND a.attname = v_cfg.key_column
          AND (SELECT m.amname FROM pg_class AS ic JOIN pg_am AS m ON m.oid = ic.relam
               WHERE ic.oid = x.indexrelid) = 'btree') THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'index the key',
            format('CREATE INDEX CONCURRENTLY %I ON %s (%I)', v_index, v_legacy, v_cfg.key_column),
            format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans it)', v_legacy), 'autocommit',
            (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class AS c WHERE c.oid = v_legacy);
    END IF;
    v_grid := pgpart._grid(p_parent, now());
    SELECT * INTO v_floor FROM pgpart._split_floor(v_legacy) AS f;
    v_floor_coord := v_floor.floor_coord;
    IF v_floor_coord IS NULL THEN
        -- the slot of the lowest key (an index probe with an index on it)
        EXECUTE format('SELECT (SELECT %I FROM ONLY %s ORDER BY 1 LIMIT 1)::text', v_cfg.key_column, v_legacy)
        INTO v_min;
        v_floor_coord := coalesce(
            (pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                          pgpart._literal_to_coord(v_cfg.key_type, v_min, v_cfg.epoch_unit))).lo,
            (SELECT l.upper_coord FROM pgpart._split_legacy_of(p_parent) AS l));
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'split floor',
            format('SELECT pgpart._split_add_floor(%L::regclass, %s, %s)', p_parent::text, v_floor_coord, v_args),
            format('ACCESS EXCLUSIVE on %s (catalog only)', v_legacy), 'own', NULL::bigint;
    END IF;
    IF NOT coalesce(v_floor.validated, false) THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'validate split floor',
            format('SELECT pgpart._split_validate_floor(%L::regclass, %L::interval)', p_parent::text, p_lock_timeout),
            format('SHARE UPDATE EXCLUSIVE on %s (a scan; readers and writers go on)', v_legacy), 'own',
            (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class AS c WHERE c.oid = v_legacy);
    END IF;
    SELECT count(*)::integer INTO v_total FROM pgpart._split_ranges(p_parent, v_legacy, v_floor_coord) AS r;
    IF v_total > pgpart._max_new_tables() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = format('the legacy partition %s of %s spans %s ranges of the grid, more than the %s one swap '
                             'may attach', v_legacy, p_parent, v_total, pgpart._max_new_tables()),
            DETAIL = 'The swap attaches every range table in one transaction, holding a few locks for each.',
            HINT = 'Keep the legacy partition until retention drops it, or delete its oldest rows first.';
    END IF;
    FOR v_range IN
        SELECT * FROM pgpart._split_ranges(p_parent, v_legacy, v_floor_coord) AS r WHERE NOT r.copied ORDER BY r.ordinal
    LOOP
        v_n := v_n + 1;
        step := v_n;
        action := format('copy range %s of %s', v_range.ordinal, v_total);
        statement := format('SELECT pgpart._split_copy_range(%L::regclass, %s, %s, %s)', p_parent::text, v_range.lo,
                            v_range.hi, v_args);
        locks := format('SHARE ROW EXCLUSIVE on %s (writers of it wait; readers go on), ACCESS EXCLUSIVE on %s (new)',
                        v_legacy, v_range.relation);
        transaction := 'own';
        rows_estimate := v_range.rows_estimate;
        RETURN NEXT;
    END LOOP;
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, CASE WHEN p_keep THEN 'swap (keep the legacy table detached)' ELSE 'swap' END,
        format('SELECT pgpart._split_swap(%L::regclass, %L::boolean, %s)', p_parent::text, p_keep, v_args),
        format('ACCESS EXCLUSIVE on %s, %s and the %s range tables (catalog only)', p_parent, v_legacy, v_total),
        'own', NULL::bigint;
END
$body$;

COMMENT ON FUNCTION pgpart._split_plan(regclass, boolean, interval, integer) IS
'The steps left of the split of a legacy partition, planned from the catalog: floor, its validation, one copy per range, the swap (internal).';
