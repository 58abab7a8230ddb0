-- pgpart.build_global_unique(parent, constraint_name, batch_pages): copies
-- the existing values of a constraint made with build => false into its
-- side table, online and resumable, like CREATE UNIQUE INDEX CONCURRENTLY:
-- the triggers already record every write, so each leaf partition is read
-- in batches of BATCH_PAGES pages, each batch its own transaction (no lock
-- beyond a reader's), and the position is committed with it
-- (pgpart.global_unique.build), so a killed build resumes at the batch it
-- was in. A last pass copies the values the side table still lacks (rows an
-- UPDATE moved past the pages read, entries a writer released meanwhile),
-- then the constraint is 'valid'. A duplicate ends the build with 23505
-- naming the first values (like the index build, a write that duplicates a
-- not-yet-copied row is not refused at once: the build fails at the end);
-- the triggers stay, so remove the duplicates and call it again.
-- A procedure that commits: no SET clause (PostgreSQL refuses one), so it
-- pins search_path itself after every COMMIT and qualifies every name.
CREATE PROCEDURE pgpart.build_global_unique(
    parent regclass,
    constraint_name name,
    batch_pages integer DEFAULT 1000
)
LANGUAGE plpgsql
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_batch ALIAS FOR batch_pages;
    v_gu pgpart.global_unique;
    v_leaf regclass;
    v_leaves regclass [];
    v_from bigint;
    v_pages bigint;
BEGIN
    CALL pgpart._refuse_transaction_block(
        'pgpart.build_global_unique', 'It commits after every batch of pages.',
        'Call it outside a transaction block, or use pgpart.add_global_unique(..., build => true) in one.');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pgpart._require_owner(p_parent);
    IF p_batch IS NULL OR p_batch < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('batch_pages must be at least 1, not %s', coalesce(p_batch::text, 'NULL')),
            HINT = 'The default, 1000 pages (8 MB), keeps each transaction short.';
    END IF;
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints; pgpart.add_global_unique makes one.';
    END IF;
    IF v_gu.state = 'valid' THEN
        RAISE NOTICE 'global unique constraint % on % is already valid', pg_catalog.quote_ident(p_name), p_parent;
        RETURN;
    END IF;
    v_leaves := ARRAY(SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l));
    FOREACH v_leaf IN ARRAY v_leaves LOOP
        SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
        CONTINUE WHEN coalesce(v_gu.build -> 'done', '[]'::jsonb) OPERATOR(pg_catalog.?) (v_leaf::oid)::text
            OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class AS c WHERE c.oid = v_leaf);
        v_from := CASE WHEN (v_gu.build ->> 'at')::oid = v_leaf::oid THEN (v_gu.build ->> 'block')::bigint ELSE 0 END;
        -- pages written after the triggers were in place hold recorded rows
        -- only; the last pass catches the rest
        v_pages := pg_catalog.pg_relation_size(v_leaf)
                   / pg_catalog.current_setting('block_size')::bigint;
        WHILE v_from < v_pages LOOP
            PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, v_leaf, v_from, v_from + p_batch, false));
            v_from := v_from + p_batch;
            UPDATE pgpart.global_unique AS g
            SET build = pg_catalog.jsonb_build_object('done', coalesce(g.build -> 'done', '[]'::jsonb),
                                                      'at', v_leaf::oid, 'block', v_from)
            WHERE g.id = v_gu.id;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        END LOOP;
        UPDATE pgpart.global_unique AS g
        SET build = pg_catalog.jsonb_build_object(
            'done', coalesce(g.build -> 'done', '[]'::jsonb) OPERATOR(pg_catalog.||)
                    pg_catalog.to_jsonb((v_leaf::oid)::text))
        WHERE g.id = v_gu.id;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
    PERFORM pgpart._gu_raise_duplicates(v_gu, pgpart._gu_copy(v_gu, p_parent, NULL, NULL, true));
    UPDATE pgpart.global_unique AS g SET state = 'valid', build = '{}'::jsonb WHERE g.id = v_gu.id;
    PERFORM pgpart._log(p_parent, 'build_global_unique', 'ok',
                        pg_catalog.jsonb_build_object('constraint', p_name, 'partitions',
                                                      pg_catalog.cardinality(v_leaves)));
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
END
$body$;

COMMENT ON PROCEDURE pgpart.build_global_unique (regclass, name, integer) IS
'Copies the existing values of a global unique constraint into its side table online, in batches of pages each committed, resumable after a kill; 23505 names the first duplicates.';
