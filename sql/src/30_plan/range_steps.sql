-- pgpart._range_steps(...): the steps of a range plan once everything is
-- decided and checked: the lock steps in the documented order; when there
-- is a default partition, one probe of it for all the new ranges
-- (pgpart._check_default_ranges; one per slot on the slot-by-slot path);
-- for each slot (with its name from pgpart._range_names) the steps that
-- build and attach the partition and its sub-partitions; the default partition when one is to be created; last
-- POLICY_STATEMENT, the registration of the policy. LOCK_STEPS are the
-- target's (pgpart._prepare), numbered from 1. Refuses nothing: every check
-- ran before (DESIGN §3, §6). Set-based (issue 16): the steps of one
-- partition are planned once and copied for every slot, and the bounds of
-- time keys are written without a helper call per slot; sub-partitions (and
-- names the copy cannot stand for) are planned slot by slot.
CREATE FUNCTION pgpart._range_steps(
    p_parent regclass,
    p_lock_steps pgpart.step[],
    p_schema name,
    p_relname name,
    p_key_type regtype,
    p_key_column name,
    p_zone text,
    p_default regclass,
    p_slots pgpart._range[],
    p_names name[],
    p_tablespace name,
    p_reloptions text[],
    p_subpartition jsonb,
    p_create_default boolean,
    p_policy_statement text,
    p_epoch_unit text DEFAULT NULL
)
RETURNS SETOF pgpart.step
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET timezone = 'UTC'
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_step integer := 0;
    v_parent_locks text;
    v_table text;
    v_lo_lit text;
    v_hi_lit text;
    v_sub pgpart.step;
    st pgpart.step;
    -- the steps of one partition are planned once, for a placeholder table
    -- and bound, then copied per slot: the parent's catalog (indexes,
    -- owner, owner-code guard) is read once per plan, not once per slot
    v_name_mark constant text := format('%I.%I', p_schema, p_relname || chr(1) || 'pgpart');
    v_bound_mark constant text := chr(2) || 'pgpart bound';
    v_template pgpart.step [];
    v_probe constant integer := (p_default IS NOT NULL)::integer;
    v_per integer;
    -- time keys: bounds written here rather than by a helper per slot
    v_inline constant boolean := p_key_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype);
    v_tbl text [];
    v_lo_lits text [];
    v_hi_lits text [];
    v_lo_txt text [];
    v_hi_txt text [];
BEGIN
    FOREACH st IN ARRAY p_lock_steps LOOP
        v_step := st.step;
        RETURN NEXT st;
    END LOOP;
    SELECT string_agg(l.locks, ', ' ORDER BY l.step) INTO v_parent_locks
    FROM unnest(p_lock_steps) AS l WHERE l.statement LIKE 'LOCK%';

    IF coalesce(cardinality(p_slots), 0) > 0 AND p_subpartition IS NULL THEN
        v_template := array(
            SELECT s FROM pgpart._new_partition_steps(p_parent, v_name_mark, v_bound_mark, p_tablespace, p_reloptions,
                                                      1, NULL, v_parent_locks) AS s
            ORDER BY s.step
        );
        -- the copy replaces text: each placeholder must stand exactly where
        -- the table and the bound go (a name quoted inside a literal, or one
        -- holding the placeholder's characters, takes the slow path below)
        IF EXISTS (
            SELECT 1 FROM unnest(v_template) AS t
            WHERE (length(t.statement) - length(replace(t.statement, v_name_mark, ''))) / length(v_name_mark) <> 1
               OR (length(t.statement) - length(replace(t.statement, v_bound_mark, ''))) / length(v_bound_mark)
                  <> (t.action = 'attach')::integer
        ) THEN
            v_template := NULL;
        END IF;
    END IF;

    IF v_template IS NOT NULL THEN
        v_per := cardinality(v_template);
        -- the bounds as FOR VALUES literals and as text, once per distinct
        -- coordinate and without a helper call for time keys (issue 16):
        -- what pgpart._coord_to_literal and pgpart._coord_to_text return
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', coalesce(p_zone, 'UTC'), true);  -- reverts on return (SET clause)
        END IF;
        WITH coord AS (
            SELECT c.v,
                   CASE WHEN NOT v_inline THEN pgpart._coord_to_literal(p_key_type, c.v, p_epoch_unit)
                        WHEN c.v = '-Infinity'::numeric THEN 'MINVALUE'
                        WHEN c.v = 'Infinity'::numeric THEN 'MAXVALUE'
                        WHEN p_key_type = 'date'::regtype THEN quote_literal(to_char(c.wall, 'YYYY-MM-DD'))
                        ELSE quote_literal(to_char(c.wall, CASE WHEN c.v = trunc(c.v) THEN 'YYYY-MM-DD HH24:MI:SS'
                                                                ELSE 'YYYY-MM-DD HH24:MI:SS.US' END)
                                           || CASE WHEN p_key_type = 'timestamptz'::regtype THEN '+00' ELSE '' END)
                   END AS lit,
                   CASE WHEN NOT v_inline THEN pgpart._coord_to_text(p_key_type, p_zone, c.v, p_epoch_unit)
                        WHEN c.v = '-Infinity'::numeric THEN 'MINVALUE'
                        WHEN c.v = 'Infinity'::numeric THEN 'MAXVALUE'
                        WHEN p_key_type = 'timestamptz'::regtype THEN c.ts::text
                        WHEN p_key_type = 'timestamp'::regtype THEN c.wall::text
                        ELSE c.wall::date::text
                   END AS txt
            FROM (
                SELECT u.v, t.ts, t.ts AT TIME ZONE 'UTC' AS wall
                FROM (SELECT DISTINCT b.v FROM unnest(p_slots) AS x, LATERAL (VALUES (x.lo), (x.hi)) AS b (v)) AS u
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN v_inline AND u.v NOT IN ('Infinity'::numeric, '-Infinity'::numeric)
                                THEN to_timestamp(trunc(u.v)::float8) + make_interval(secs => (u.v - trunc(u.v))::float8)
                           END AS ts
                ) AS t
            ) AS c
        )
        SELECT array_agg(format('%I.%I', p_schema, nm.name) ORDER BY x.n), array_agg(l.lit ORDER BY x.n),
               array_agg(h.lit ORDER BY x.n), array_agg(l.txt ORDER BY x.n), array_agg(h.txt ORDER BY x.n)
        INTO v_tbl, v_lo_lits, v_hi_lits, v_lo_txt, v_hi_txt
        FROM unnest(p_slots) WITH ORDINALITY AS x (lo, hi, n)
        JOIN unnest(p_names) WITH ORDINALITY AS nm (name, n) ON nm.n = x.n
        JOIN coord AS l ON l.v = x.lo
        JOIN coord AS h ON h.v = x.hi;
        IF p_key_type = 'timestamptz'::regtype THEN
            PERFORM set_config('timezone', 'UTC', true);
        END IF;
        -- one probe of the default for all the new ranges, before the
        -- first is built (pgpart._check_default_ranges)
        IF v_probe = 1 THEN
            v_step := v_step + 1;
            RETURN NEXT ROW(
                v_step, CASE WHEN cardinality(v_tbl) = 1 THEN v_tbl[1] END, v_lo_txt[1], v_hi_txt[cardinality(v_hi_txt)],
                'check default',
                CASE WHEN cardinality(v_tbl) = 1
                     THEN format('SELECT pgpart._check_default_rows(%L::regclass, %L, %L, %L)',
                                 p_default::text, p_key_column, v_lo_lits[1], v_hi_lits[1])
                     ELSE format('SELECT pgpart._check_default_ranges(%L::regclass, %L, %L::text[], %L::text[])',
                                 p_default::text, p_key_column, v_lo_lits, v_hi_lits) END,
                format('ACCESS SHARE on %s (index probe%s)', p_default,
                       CASE WHEN cardinality(v_tbl) > 1 THEN format(' of %s ranges', cardinality(v_tbl)) ELSE '' END),
                false)::pgpart.step;
        END IF;
        RETURN QUERY
        WITH slot AS (
            SELECT u.* FROM unnest(v_tbl, v_lo_lits, v_hi_lits, v_lo_txt, v_hi_txt) WITH ORDINALITY
                AS u (tbl, lo_lit, hi_lit, lo_text, hi_text, n)
        )
        SELECT v_step + (slot.n::integer - 1) * v_per + t.step, slot.tbl, slot.lo_text, slot.hi_text,
               t.action,
               replace(replace(t.statement, v_name_mark, slot.tbl), v_bound_mark,
                       format('FOR VALUES FROM (%s) TO (%s)', slot.lo_lit, slot.hi_lit)),
               replace(t.locks, v_name_mark, slot.tbl), t.top_level
        FROM slot CROSS JOIN unnest(v_template) AS t
        ORDER BY 1;
        v_step := v_step + cardinality(p_slots) * v_per;
    END IF;

    FOR i IN 1 .. CASE WHEN v_template IS NULL THEN coalesce(cardinality(p_slots), 0) ELSE 0 END LOOP
        v_table := format('%I.%I', p_schema, p_names[i]);
        v_lo_lit := pgpart._coord_to_literal(p_key_type, (p_slots[i]).lo, p_epoch_unit);
        v_hi_lit := pgpart._coord_to_literal(p_key_type, (p_slots[i]).hi, p_epoch_unit);
        st.partition := v_table;
        st.lower_bound := pgpart._coord_to_text(p_key_type, p_zone, (p_slots[i]).lo, p_epoch_unit);
        st.upper_bound := pgpart._coord_to_text(p_key_type, p_zone, (p_slots[i]).hi, p_epoch_unit);
        IF p_default IS NOT NULL THEN
            v_step := v_step + 1;
            st.step := v_step;
            st.action := 'check default';
            st.statement := format('SELECT pgpart._check_default_rows(%L::regclass, %L, %L, %L)',
                                   p_default::text, p_key_column, v_lo_lit, v_hi_lit);
            st.locks := format('ACCESS SHARE on %s (index probe)', p_default);
            RETURN NEXT st;
        END IF;
        FOR v_sub IN SELECT * FROM pgpart._new_partition_steps(
            p_parent, v_table, format('FOR VALUES FROM (%s) TO (%s)', v_lo_lit, v_hi_lit), p_tablespace, p_reloptions,
            v_step + 1, p_subpartition, v_parent_locks)
        LOOP
            v_sub.lower_bound := st.lower_bound;
            v_sub.upper_bound := st.upper_bound;
            v_step := v_sub.step;
            RETURN NEXT v_sub;
        END LOOP;
    END LOOP;

    IF p_create_default THEN
        v_table := format('%I.%I', p_schema, pgpart._relation_name(p_relname, '_default'));
        FOR st IN SELECT * FROM pgpart._new_partition_steps(p_parent, v_table, 'DEFAULT', p_tablespace, p_reloptions,
                                                             v_step + 1, NULL, v_parent_locks) LOOP
            v_step := st.step;
            RETURN NEXT st;
        END LOOP;
    END IF;

    v_step := v_step + 1;
    st := ROW(v_step, NULL, NULL, NULL, 'register policy', p_policy_statement,
              'ROW EXCLUSIVE on pgpart.config', false)::pgpart.step;
    RETURN NEXT st;
END
$body$;

COMMENT ON FUNCTION pgpart._range_steps(
    regclass, pgpart.step[], name, name, regtype, name, text, regclass, pgpart._range[], name[], name, text[], jsonb, boolean, text,
    text
) IS 'The ordered steps of a range plan: locks, each new partition (default-partition probe, build, attach), the default partition, the policy registration.';
