-- pgpart._convert_boundary(table, key, interval, zone, origin, epoch_unit,
-- now_at): where the old table's range ends once it is the legacy
-- partition: the end of the grid slot AFTER the one holding the later of
-- now_at and the largest key (integer keys: the largest key). The spare
-- slot is the margin for rows written between the bound's validation and
-- the swap. Returns the bound as a FOR VALUES literal, as text for
-- ensure_range's start, and the largest key. WHY here: the grid functions
-- need a registered policy (_grid); the table is not registered yet, so
-- this mirrors _plan_range's choice of zone, frame and origin.
CREATE FUNCTION pgpart._convert_boundary(
    p_table regclass,
    p_key name,
    p_interval text,
    p_time_zone text,
    p_origin text,
    p_epoch_unit text,
    p_now_at timestamptz,
    OUT bound_literal text,
    OUT bound_text text,
    OUT bound_coord numeric,
    OUT floor_coord numeric,
    OUT max_key text
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
AS $body$
DECLARE
    v_type regtype;
    v_iv record;
    v_clock text;
    v_zone text;
    v_frame text;
    v_origin numeric;
    v_coord numeric;
    v_slot record;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key AND NOT a.attisdropped;
    v_iv := pgpart._parse_interval(v_type, p_interval, p_epoch_unit);
    v_clock := pgpart._key_clock(v_type, p_epoch_unit);
    v_zone := pgpart._check_zone(coalesce(p_time_zone, 'UTC'));
    v_frame := CASE WHEN v_clock = 'instant' AND v_iv.kind IN ('days', 'months') THEN v_zone ELSE 'UTC' END;
    IF p_origin IS NOT NULL THEN
        v_origin := pgpart._input_to_coord(v_type, v_zone, p_origin, 'origin', p_epoch_unit);
        IF v_clock = 'instant' THEN
            v_origin := extract(epoch FROM (pgpart._coord_to_ts(v_origin) AT TIME ZONE v_frame));
        END IF;
    ELSE
        v_origin := pgpart._default_origin(v_iv.kind, v_iv.step);
    END IF;
    -- ONLY: a plain table; reads what is committed, without a lock beyond
    -- ACCESS SHARE (an index on the key makes it cheap)
    EXECUTE format('SELECT max(%I)::text FROM ONLY %s', p_key, p_table) INTO max_key;
    v_coord := pgpart._literal_to_coord(v_type, max_key, p_epoch_unit);
    IF v_iv.kind <> 'integer' THEN
        v_coord := greatest(v_coord, CASE WHEN v_clock = 'instant' THEN extract(epoch FROM p_now_at)
                                          ELSE extract(epoch FROM (p_now_at AT TIME ZONE v_zone)) END);
    END IF;
    v_coord := coalesce(v_coord, 0);
    v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_coord);
    floor_coord := v_slot.hi;
    v_slot := pgpart._slot(v_iv.kind, v_iv.step, v_frame, v_origin, v_slot.hi);
    bound_coord := v_slot.hi;
    bound_literal := pgpart._coord_to_literal(v_type, bound_coord, p_epoch_unit);
    bound_text := pgpart._coord_to_text(v_type, v_zone, bound_coord, p_epoch_unit);
END
$body$;

COMMENT ON FUNCTION pgpart._convert_boundary(regclass, name, text, text, text, text, timestamptz) IS
'Upper bound of the legacy partition a conversion makes: the end of the grid slot after the one holding now_at or the largest key (internal).';

-- pgpart._convert_add_bound(table, key, literal): adds (or replaces) the
-- bound constraint CHECK (key < literal) NOT VALID and records the literal
-- in the constraint's comment, where the swap reads it back. One statement
-- for the plan: the ALTER takes ACCESS EXCLUSIVE only for the catalog
-- change (NOT VALID: no scan); VALIDATE is the plan's next, online step.
CREATE FUNCTION pgpart._convert_add_bound(p_table regclass, p_key name, p_literal text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_name name := (pgpart._convert_names(p_table)).bound;
    v_type regtype;
BEGIN
    PERFORM pgpart._require_owner(p_table);
    SELECT a.atttypid::regtype INTO v_type
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key AND NOT a.attisdropped;
    IF v_type IS NULL OR p_literal IN ('MINVALUE', 'MAXVALUE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cannot bound column %I of %s by %s', p_key, p_table, p_literal),
            DETAIL = 'The bound must be a value of the key column.',
            HINT = 'Plan the conversion again with pgpart.convert_to_partitioned(..., dry_run => true).';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_name) THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (%I < %s::%s) NOT VALID',
                       p_table, v_name, v_name, p_key, p_literal, v_type);
    ELSE
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I < %s::%s) NOT VALID',
                       p_table, v_name, p_key, p_literal, v_type);
    END IF;
    EXECUTE format('COMMENT ON CONSTRAINT %I ON %s IS %L', v_name, p_table, 'pgpart convert bound ' || p_literal);
END
$body$;

COMMENT ON FUNCTION pgpart._convert_add_bound(regclass, name, text) IS
'Adds the NOT VALID bound constraint CHECK (key < bound) a conversion validates before its swap, recording the bound (internal).';

-- pgpart._convert_recorded_bound(table): the bound literal recorded by
-- _convert_add_bound, and whether its constraint is validated (NULLs when
-- there is none).
CREATE FUNCTION pgpart._convert_recorded_bound(p_table regclass, OUT bound_literal text, OUT validated boolean)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT r.recorded, r.validated
    FROM pgpart._recorded_constraint(p_table, (pgpart._convert_names(p_table)).bound, 'pgpart convert bound ') AS r;
$body$;

COMMENT ON FUNCTION pgpart._convert_recorded_bound(regclass) IS
'The bound a conversion recorded on its helper constraint, and whether that constraint is validated (internal).';

-- pgpart._convert_refuse(table, key): raises 0A000 listing every refusal
-- of _convert_refusals (nothing is changed), else returns.
CREATE FUNCTION pgpart._convert_refuse(p_table regclass, p_key name)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_problems text;
    v_hints text;
    v_n integer;
BEGIN
    SELECT string_agg(r.problem, '; '), string_agg(DISTINCT r.hint, ' '), count(*)::integer
    INTO v_problems, v_hints, v_n
    FROM pgpart._convert_refusals(p_table, p_key) AS r;
    IF v_n > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot convert table %s to a partitioned table: %s', p_table, v_problems),
            DETAIL = format('%s problem(s) found; nothing was changed.', v_n),
            HINT = v_hints;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_refuse(regclass, name) IS
'Refuses (0A000) a conversion whose table has anything convert_to_partitioned cannot carry, naming every object (internal).';

-- pgpart._convert_plan(table, key, interval, zone, origin, epoch_unit,
-- now_at, legacy_name, lock_timeout, lock_retries, policy): the ordered
-- steps that turn a plain table into a pgpart-managed partitioned table
-- under the same name, re-planned from the catalog each time (a step whose
-- effect is present is left out, so a killed run resumes by planning
-- again). TRANSACTION says how each runs: 'own' (its own short
-- transaction), 'autocommit' (at top level: CREATE INDEX CONCURRENTLY, a
-- procedure that commits), 'swap' (all such steps in one transaction).
-- POLICY holds ensure_range's named arguments for the policy step. WHY a
-- planner apart from the verb: the Python client runs the same steps one
-- transaction at a time (docs/converting.md).
CREATE FUNCTION pgpart._convert_plan(
    p_table regclass,
    p_key name,
    p_interval text,
    p_time_zone text,
    p_origin text,
    p_epoch_unit text,
    p_now_at timestamptz,
    p_legacy_name name,
    p_lock_timeout interval,
    p_lock_retries integer,
    p_policy jsonb
)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_names record;
    v_b record;
    v_rec record;
    v_notnull boolean;
    v_nn record;
    v_has_null boolean;
    v_rows bigint;
    v_n integer := 0;
    v_literal text;
    v_legacy name;
    v_schema name;
    v_relname name;
    v_args text;
    v_u record;
    v_gu_name name;
    v_gu_state text;
    v_wide name;
    v_valid boolean;
BEGIN
    SELECT n.nspname, c.relname, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END
    INTO v_schema, v_relname, v_rows
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = p_table;
    PERFORM pgpart._convert_refuse(p_table, p_key);
    -- the plan reads the table (its largest key, NULL keys): its row-level
    -- security policies' code must be trusted (docs/security.md)
    PERFORM pgpart._guard_owner_code(p_table, 'read');
    v_legacy := coalesce(p_legacy_name, pgpart._relation_name(v_relname::text, '_legacy'));
    IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.relname = v_legacy AND c.relnamespace = (
                   SELECT c2.relnamespace FROM pg_class AS c2 WHERE c2.oid = p_table)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'duplicate_table',
            MESSAGE = format('cannot name the old table %I: a relation of that name exists in schema %I',
                             v_legacy, v_schema),
            DETAIL = format('The old table %s becomes the partition %I.', p_table, v_legacy),
            HINT = 'Pass legacy_name => a free name.',
            SCHEMA = v_schema, TABLE = v_relname;
    END IF;
    v_names := pgpart._convert_names(p_table);

    -- 1. the key must be NOT NULL: a validated CHECK proves it online, then
    --    SET NOT NULL uses that proof instead of scanning under its lock
    SELECT a.attnotnull INTO v_notnull
    FROM pg_attribute AS a WHERE a.attrelid = p_table AND a.attname = p_key;
    IF NOT v_notnull THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NULL)', p_table, p_key) INTO v_has_null;
        IF v_has_null THEN
            RAISE EXCEPTION USING
                ERRCODE = 'not_null_violation',
                MESSAGE = format('cannot convert table %s: its key column %I holds NULLs', p_table, p_key),
                DETAIL = 'A partition key cannot be NULL; nothing was changed.',
                HINT = format('Fill or delete those rows (WHERE %I IS NULL), then convert again.', p_key),
                SCHEMA = v_schema, TABLE = v_relname, COLUMN = p_key;
        END IF;
        SELECT con.convalidated INTO v_nn
        FROM pg_constraint AS con WHERE con.conrelid = p_table AND con.conname = v_names.not_null;
        IF NOT FOUND THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'key not null (proof)',
                format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID',
                       p_table, v_names.not_null, p_key),
                format('ACCESS EXCLUSIVE on %s (catalog only)', p_table), 'own', NULL::bigint;
        END IF;
        IF NOT coalesce(v_nn.convalidated, false) THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'validate key not null',
                format('ALTER TABLE %s VALIDATE CONSTRAINT %I', p_table, v_names.not_null),
                format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table), 'own', v_rows;
        END IF;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'set key not null',
            format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', p_table, p_key),
            format('ACCESS EXCLUSIVE on %s (no scan: the validated CHECK proves it)', p_table), 'own', NULL::bigint;
    END IF;

    -- 2. unique keys without the partition key: a global unique constraint
    --    on their columns, built online; a primary key is also widened to
    --    (columns, key) by a unique index built CONCURRENTLY, which the swap
    --    makes the primary key (no build under its lock)
    FOR v_u IN SELECT * FROM pgpart._convert_unique_sets(p_table, p_key) LOOP
        SELECT g.constraint_name, g.state INTO v_gu_name, v_gu_state
        FROM pgpart.global_unique AS g
        WHERE g.parent = p_table
          AND (SELECT array_agg(c ORDER BY c) FROM unnest(g.columns) AS c)
              = (SELECT array_agg(c ORDER BY c) FROM unnest(v_u.columns) AS c)
        ORDER BY g.id LIMIT 1;
        IF NOT FOUND THEN
            v_gu_name := pgpart._relation_name(v_relname || '_' || array_to_string(v_u.columns, '_'), '_gkey');
            v_gu_state := NULL;
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'global unique ' || v_gu_name,
                format('SELECT count(*) FROM pgpart.add_global_unique(%L::regclass, %L::name[], %L, build => false, '
                       'lock_timeout => %L, lock_retries => %s)',
                       p_table::text, v_u.columns, v_gu_name, p_lock_timeout, p_lock_retries),
                format('SHARE ROW EXCLUSIVE on %s (catalog only: triggers)', p_table), 'own', NULL::bigint;
        END IF;
        IF v_gu_state IS DISTINCT FROM 'valid' THEN
            v_n := v_n + 1;
            RETURN QUERY SELECT v_n, 'build global unique ' || v_gu_name,
                format('CALL pgpart.build_global_unique(%L::regclass, %L)', p_table::text, v_gu_name),
                format('FOR SHARE on page batches of %s (writers go on; commits per batch)', p_table),
                'autocommit', v_rows;
        END IF;
        IF v_u.contype = 'p' THEN
            v_wide := pgpart._relation_name(v_u.index_name::text, '_convert');
            SELECT x.indisvalid INTO v_valid
            FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
            WHERE x.indrelid = p_table AND ic.relname = v_wide;
            IF FOUND AND NOT v_valid THEN  -- a build that was killed
                v_n := v_n + 1;
                RETURN QUERY SELECT v_n, 'drop invalid index ' || v_wide,
                    format('DROP INDEX CONCURRENTLY %I.%I', v_schema, v_wide),
                    format('SHARE UPDATE EXCLUSIVE on %s', p_table), 'autocommit', NULL::bigint;
            END IF;
            IF NOT coalesce(v_valid, false) THEN
                v_n := v_n + 1;
                RETURN QUERY SELECT v_n, 'widen primary key',
                    format('CREATE UNIQUE INDEX CONCURRENTLY %I ON %s (%s)', v_wide, p_table,
                           (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_u.columns || p_key) AS c)),
                    format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table),
                    'autocommit', v_rows;
            END IF;
            v_valid := NULL;
        END IF;
    END LOOP;
    -- the incoming foreign keys, checked once the constraints exist
    IF EXISTS (SELECT 1 FROM pgpart.global_unique AS g WHERE g.parent = p_table) THEN
        PERFORM count(*) FROM pgpart._gu_foreign_key_plan(p_table);
    END IF;

    -- 3. the bound: CHECK (key < bound) validated online, so ATTACH skips
    --    its scan; a recorded bound is kept while it still lies ahead
    v_b := pgpart._convert_boundary(p_table, p_key, p_interval, p_time_zone, p_origin, p_epoch_unit, p_now_at);
    SELECT * INTO v_rec FROM pgpart._convert_recorded_bound(p_table);
    v_literal := v_rec.bound_literal;
    IF v_literal IS NULL
       OR pgpart._literal_to_coord((SELECT a.atttypid::regtype FROM pg_attribute AS a
                                    WHERE a.attrelid = p_table AND a.attname = p_key),
                                   trim(BOTH '''' FROM v_literal), p_epoch_unit) < v_b.floor_coord THEN
        v_literal := v_b.bound_literal;
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'bound (proof)',
            format('SELECT pgpart._convert_add_bound(%L::regclass, %L, %L)', p_table::text, p_key, v_literal),
            format('ACCESS EXCLUSIVE on %s (catalog only)', p_table), 'own', NULL::bigint;
        v_rec.validated := false;
    END IF;
    IF NOT v_rec.validated THEN
        v_n := v_n + 1;
        RETURN QUERY SELECT v_n, 'validate bound',
            format('ALTER TABLE %s VALIDATE CONSTRAINT %I', p_table, v_names.bound),
            format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans the table)', p_table), 'own', v_rows;
    END IF;

    -- 4. the swap and the policy, one transaction
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, 'swap',
        format('SELECT pgpart._convert_swap(%L::regclass, %L, %L, %L::interval, %s)',
               p_table::text, p_key, v_legacy, p_lock_timeout, p_lock_retries),
        format('ACCESS EXCLUSIVE on %s and its dependent views (catalog only: no scan, no copy)', p_table),
        'swap', NULL::bigint;
    SELECT string_agg(format('%I => %L', e.key, e.value), ', ' ORDER BY e.key) INTO v_args
    FROM jsonb_each_text(coalesce(p_policy, '{}')) AS e WHERE e.value IS NOT NULL;
    v_n := v_n + 1;
    RETURN QUERY SELECT v_n, 'register policy, premake partitions',
        format('SELECT count(*) FROM pgpart.ensure_range(%L::regclass, "interval" => %L, start => %L, '
               'time_zone => %L, origin => %L, epoch_unit => %L, now_at => %L, lock_timeout => %L, '
               'lock_retries => %s%s)',
               format('%I.%I', v_schema, v_relname), p_interval, v_b.bound_text, p_time_zone, p_origin,
               p_epoch_unit, p_now_at, p_lock_timeout, p_lock_retries,
               CASE WHEN v_args IS NOT NULL THEN ', ' || v_args ELSE '' END),
        format('SHARE UPDATE EXCLUSIVE on %I.%I (held already)', v_schema, v_relname), 'swap', NULL::bigint;
END
$body$;

COMMENT ON FUNCTION pgpart._convert_plan(
    regclass, name, text, text, text, text, timestamptz, name, interval, integer, jsonb
) IS
'The steps converting a plain table to a partitioned one, planned from the catalog (done steps left out): key NOT NULL, bound validated online, swap, policy (internal).';

-- pgpart._convert_followups(parent): what is left after a conversion's
-- swap: the foreign keys pointed at the side tables of PARENT's global
-- unique constraints NOT VALID in the swap, each validated online (SHARE
-- UPDATE EXCLUSIVE on the referencing table: its writers go on). Nothing
-- once they are valid, so a finished conversion plans no step.
CREATE FUNCTION pgpart._convert_followups(p_parent regclass)
RETURNS TABLE (
    step integer, action text, statement text, locks text, transaction text, rows_estimate bigint
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT
        (row_number() OVER (ORDER BY con.conrelid, con.conname))::integer,
        'validate foreign key ' || con.conname,
        format('ALTER TABLE %s VALIDATE CONSTRAINT %I', con.conrelid::regclass, con.conname),
        format('SHARE UPDATE EXCLUSIVE on %s (writers go on; scans it)', con.conrelid::regclass),
        'own',
        (
            SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END FROM pg_class AS c
            WHERE c.oid = con.conrelid
        )
    FROM pg_constraint AS con
    INNER JOIN pgpart.global_unique AS g ON con.confrelid = g.side_table
    WHERE
        g.parent = p_parent AND con.contype = 'f' AND NOT con.convalidated AND con.conparentid = 0
        AND coalesce((to_jsonb(con) ->> 'conenforced')::boolean, true)
    ORDER BY con.conrelid, con.conname;
$body$;

COMMENT ON FUNCTION pgpart._convert_followups(regclass) IS
'After a conversion''s swap: the foreign keys pointed at its global unique constraints'' side tables, to validate online (internal).';
