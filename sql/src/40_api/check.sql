-- pgpart.check(parent, now_at): compares policy with reality and returns
-- findings, each with a ready-to-run fix where one exists. Never raises for
-- a finding and never waits for a lock: it reads the catalog, and the few
-- reads of table data (rows in the default partition, the highest integer
-- key) run under a 10 ms lock timeout; what it could not read is reported
-- as a finding of its own.
CREATE FUNCTION pgpart.check(parent regclass DEFAULT NULL, now_at timestamptz DEFAULT now())
RETURNS TABLE (severity text, parent_table regclass, partition regclass, problem text, fix text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads: JIT would compile them for row estimates of set-returning
-- functions that never come true (seconds for a millisecond query)
SET jit = off
SET lock_timeout = '10ms'
SET timezone = 'UTC'
AS $body$
#variable_conflict use_column
DECLARE
    v_parent regclass;
    v_cfg pgpart.config;
    v_grid record;
    v_slot record;
    v_reach numeric;
    v_default regclass;
    v_has_rows boolean;
    v_now numeric;
    v_at text;
    v_state text;
    v_message text;
BEGIN
    PERFORM pgpart._check_args(interval '1s', 0, $2);
    -- a fix acts as of the same reference time as the check that found it
    v_at := CASE WHEN $2 <> now() THEN format(', now_at => %L', $2) ELSE '' END;
    IF $1 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.parent = $1) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', $1),
            HINT = 'Call pgpart.create_range_partitions for it first.';
    END IF;

    -- The event trigger: without it, partitions made or changed by other tools
    -- come in step only through maintenance or pgpart.reconcile.
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger AS e
                   WHERE e.evtname = 'pgpart_ddl_command_end' AND e.evtenabled <> 'D'
                     AND e.evtfoid = to_regprocedure('pgpart._ddl_command_end()'))
       AND EXISTS (SELECT 1 FROM pgpart.config AS c WHERE c.reconcile AND ($1 IS NULL OR c.parent = $1)) THEN
        RETURN QUERY SELECT 'info', $1, NULL::regclass,
            'the event trigger pgpart_ddl_command_end is not active: partitions made or changed by other tools are '
            'brought in step only by maintenance or pgpart.reconcile',
            CASE WHEN EXISTS (SELECT 1 FROM pg_event_trigger AS e WHERE e.evtname = 'pgpart_ddl_command_end')
                 THEN 'ALTER EVENT TRIGGER pgpart_ddl_command_end ENABLE;  -- as a superuser'
                 ELSE 'CREATE EVENT TRIGGER pgpart_ddl_command_end ON ddl_command_end WHEN TAG IN (''CREATE TABLE'', '
                      '''ALTER TABLE'', ''CREATE INDEX'', ''ALTER INDEX'') EXECUTE FUNCTION pgpart._ddl_command_end();  '
                      '-- as a superuser' END;
    END IF;

    -- Policies whose table is gone.
    RETURN QUERY
    SELECT 'warning', NULL::regclass, NULL::regclass,
           format('policy for a table that no longer exists (OID %s)', c.parent::oid),
           format('DELETE FROM pgpart.config WHERE parent = %s;', c.parent::oid)
    FROM pgpart.config AS c
    WHERE $1 IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS pc WHERE pc.oid = c.parent);

    FOR v_parent IN
        SELECT c.parent FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        WHERE $1 IS NULL OR c.parent = $1 ORDER BY c.parent
    LOOP
      -- Each parent in a block of its own: one whose check fails (a statement
      -- timeout, the lock table full, a broken policy row) is reported as a
      -- finding and the others are still checked (57014: see
      -- pgpart._statement_timed_out; a cancel stops the whole check).
      BEGIN
        SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = v_parent;
        parent_table := v_parent;

        -- Owner code that the caller may not run (docs/security.md): pgpart
        -- refuses the work that would run it, so this parent's maintenance
        -- and fixes must run in a session authenticated as its owner.
        IF NOT pgpart._trusted_for(v_parent) THEN
            RETURN QUERY
            SELECT 'warning', v_parent, NULL::regclass,
                   format('pgpart refuses to %s this table as role %I: it would run code of role %s: %s',
                          CASE w.work WHEN 'move' THEN 'maintain, or move the rows of the default partition of,'
                                      ELSE 'maintain' END,
                          session_user, string_agg(DISTINCT quote_ident(u.function_owner), ', '),
                          string_agg(u.description, '; ' ORDER BY u.description)),
                   format('-- run pgpart for this table in a session authenticated as %I, e.g. SELECT '
                          'cron.schedule_in_database(''pgpart %s'', ''*/10 * * * *'', ''CALL pgpart.run_maintenance_proc()'', '
                          'current_database(), username => %L);', pg_get_userbyid(pc.relowner), pg_get_userbyid(pc.relowner),
                          pg_get_userbyid(pc.relowner))
            FROM pg_class AS pc
            CROSS JOIN LATERAL (
                SELECT CASE WHEN pgpart._default_partition(v_parent) IS NOT NULL THEN 'move'
                            WHEN v_cfg.strategy = 'range'
                                 AND v_cfg.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)
                                THEN 'read'
                            ELSE 'ddl' END AS work
            ) AS w
            -- judged as maintenance meets it: a superuser's (or a stranger's)
            -- maintenance switches to the owner, a member's does not
            CROSS JOIN LATERAL pgpart._untrusted_code(
                v_parent, w.work, NULL,
                NOT pg_has_role(current_user, pc.relowner, 'USAGE')
                OR (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
            ) AS u
            WHERE pc.oid = v_parent
            GROUP BY w.work, pc.relowner;
        END IF;

        IF v_cfg.last_error IS NOT NULL THEN
            RETURN QUERY SELECT 'warning', v_parent, NULL::regclass,
                            format('last maintenance failed at %s: %s', v_cfg.last_error_at, v_cfg.last_error),
                            format('CALL pgpart.run_maintenance_proc(%L%s);', v_parent::text, v_at);
        END IF;

        -- A premake out of bounds (written into the policy row directly):
        -- maintenance refuses the parent; the runway is not walked.
        IF v_cfg.strategy = 'range' AND v_cfg.premake NOT BETWEEN 0 AND pgpart._max_premake() THEN
            RETURN QUERY SELECT 'urgent', v_parent, NULL::regclass,
                            format('premake %s is out of bounds (0 to %s): maintenance refuses this table',
                                   v_cfg.premake, pgpart._max_premake()),
                            format('SELECT * FROM pgpart.set_policy(%L, premake => %s);', v_parent::text,
                                   least(greatest(v_cfg.premake, 0), pgpart._max_premake()));
        END IF;

        -- Runway: the partitions must reach premake slots past the one of now.
        IF v_cfg.strategy = 'range' AND v_cfg.premake BETWEEN 0 AND pgpart._max_premake() THEN
            v_grid := pgpart._grid(v_parent, $2);
            BEGIN
                v_now := coalesce(v_grid.now_coord,
                                  coalesce(pgpart._max_key(v_parent, v_cfg.key_column, interval '10ms'), 0));
                v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_now);
                FOR i IN 1 .. v_cfg.premake LOOP
                    v_slot := pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin, v_slot.hi);
                END LOOP;
                v_reach := pgpart._reach(v_parent, v_now);
                IF v_reach < v_slot.hi THEN
                    RETURN QUERY SELECT 
                        CASE WHEN v_reach <= v_now THEN 'urgent' ELSE 'warning' END, v_parent, NULL::regclass,
                        CASE WHEN v_reach <= v_now
                             THEN format('no partition holds the current key (%s): inserts fail or go to the default partition',
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_now))
                             ELSE format('runway shorter than premake %s: partitions reach %s, expected %s', v_cfg.premake,
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_reach),
                                         pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, v_slot.hi)) END,
                        format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', v_parent::text,
                               v_cfg.partition_interval, v_at);
                END IF;
            EXCEPTION WHEN lock_not_available OR insufficient_privilege THEN
                RETURN QUERY SELECT 'info', v_parent, NULL::regclass,
                                'runway unknown: the highest key could not be read (locked or not permitted)', NULL::text;
            END;

            -- Gaps between consecutive partitions.
            RETURN QUERY
            SELECT 'warning', v_parent, g.next_part,
                   format('gap from %s to %s before partition %s: its rows fail or go to the default partition',
                          pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.hi),
                          pgpart._coord_to_text(v_cfg.key_type, v_cfg.time_zone, g.next_lo), g.next_part),
                   format('SELECT * FROM pgpart.create_range_partitions(%L, %L%s);', v_parent::text, v_cfg.partition_interval, v_at)
            FROM (
                SELECT p.upper_coord AS hi,
                       lead(p.lower_coord) OVER (ORDER BY p.lower_coord) AS next_lo,
                       lead(p.partition) OVER (ORDER BY p.lower_coord) AS next_part
                FROM pgpart._partitions(v_parent) AS p WHERE NOT p.is_default
            ) AS g
            WHERE g.next_lo > g.hi;

            -- Partitions off the grid (respected, but worth knowing).
            RETURN QUERY
            SELECT 'info', v_parent, p.partition,
                   format('partition off the grid of interval %L: its bounds are not one slot', v_cfg.partition_interval),
                   NULL::text
            FROM pgpart._partitions(v_parent) AS p
            CROSS JOIN LATERAL pgpart._slot(v_grid.kind, v_grid.step, v_grid.frame, v_grid.origin,
                                            p.lower_coord) AS s
            WHERE NOT p.is_default AND p.lower_coord > '-Infinity'::numeric
              AND (s.lo <> p.lower_coord OR (s.hi <> p.upper_coord AND p.upper_coord <> 'Infinity'::numeric));
        END IF;

        -- Rows in the default partition: every ATTACH scans it under ACCESS EXCLUSIVE.
        v_default := pgpart._default_partition(v_parent);
        IF v_default IS NOT NULL THEN
            BEGIN
                IF has_table_privilege(v_default, 'SELECT') THEN
                    PERFORM pgpart._guard_owner_code(v_parent, 'read');
                    EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s)', v_default) INTO v_has_rows;
                    IF v_has_rows THEN
                        RETURN QUERY SELECT 'urgent', v_parent, v_default,
                                        'the default partition holds rows: every new partition scans it under ACCESS EXCLUSIVE, '
                                        'and ranges with rows in it cannot be created',
                                        -- the move exists for the range grid only: a list value
                                        -- needs a partition chosen by hand (add_list_values)
                                        CASE WHEN v_cfg.strategy = 'range'
                                            THEN format('CALL pgpart.move_default_rows(%L%s);', v_parent::text, v_at) END;
                    END IF;
                ELSE
                    RETURN QUERY SELECT 'info', v_parent, v_default, 'rows in the default partition unknown: not permitted to read it',
                                    NULL::text;
                END IF;
            EXCEPTION
                WHEN lock_not_available THEN
                    RETURN QUERY SELECT 'info', v_parent, v_default, 'rows in the default partition unknown: it is locked',
                                        NULL::text;
                WHEN insufficient_privilege THEN
                    RETURN QUERY SELECT 'info', v_parent, v_default,
                                        'rows in the default partition unknown: reading them would run code of the '
                                        'table''s owner (see the finding on owner code)', NULL::text;
            END;
        END IF;

        -- Detaches left pending, and detached tables whose archive or drop is due.
        RETURN QUERY
        SELECT 'warning', v_parent, p.partition, 'detach pending: an interrupted DETACH ... CONCURRENTLY',
               format('ALTER TABLE %s DETACH PARTITION %s FINALIZE;', v_parent, p.partition)
        FROM pgpart._partitions(v_parent) AS p WHERE p.detach_pending;
        RETURN QUERY
        SELECT 'warning', v_parent, a.detached, format('detached by retention; its %s is still due', a.then_action),
               format('CALL pgpart.detach_and_archive_proc(%L%s);', v_parent::text, v_at)
        FROM pgpart._detached_awaiting(v_parent) AS a;
        -- journal entries no longer valid: retention discards them, never acts on them
        RETURN QUERY
        SELECT 'info', v_parent, j.detached::regclass, format('retention journal entry void: %s', j.problem),
               format('CALL pgpart.detach_and_archive_proc(%L%s);', v_parent::text, v_at)
        FROM pgpart._journal(v_parent) AS j WHERE j.state = 'stale';

        -- Every partition, at every level: indexes, owner, grants, validity.
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = v_parent
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        ),
        parts AS (
            SELECT c.oid, c.relkind, c.relowner, c.relacl,
                   coalesce(nullif(c.reltablespace, 0), d.dattablespace) AS spc
            FROM tree AS t JOIN pg_class AS c ON c.oid = t.rel AND c.relkind IN ('r', 'p')
            CROSS JOIN pg_database AS d WHERE d.datname = current_database()
        ),
        findings AS (
            SELECT 'warning' AS sev, p.oid AS part,
                   format('index %s is in tablespace %s, its partition in %s', ix.indexrelid::regclass,
                          (SELECT t.spcname FROM pg_tablespace AS t
                           WHERE t.oid = coalesce(nullif(ic.reltablespace, 0), d.dattablespace)),
                          (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)) AS problem,
                   format('ALTER INDEX %s SET TABLESPACE %I;', ix.indexrelid::regclass,
                          (SELECT t.spcname FROM pg_tablespace AS t WHERE t.oid = p.spc)) AS fix
            FROM parts AS p
            JOIN pg_index AS ix ON ix.indrelid = p.oid
            JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            CROSS JOIN pg_database AS d
            WHERE d.datname = current_database() AND p.relkind = 'r'
              AND coalesce(nullif(ic.reltablespace, 0), d.dattablespace) <> p.spc
            UNION ALL
            SELECT 'warning', p.oid,
                   format('owner %I differs from the parent''s owner %I', pg_get_userbyid(p.relowner),
                          pg_get_userbyid(pc.relowner)),
                   format('ALTER TABLE %s OWNER TO %I;', p.oid::regclass, pg_get_userbyid(pc.relowner))
            FROM parts AS p CROSS JOIN pg_class AS pc
            WHERE pc.oid = v_parent AND p.relowner <> pc.relowner
            UNION ALL
            SELECT DISTINCT 'urgent', p.oid,
                   format('role %s may read partition %s directly, bypassing the row-level security of %s',
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                          p.oid::regclass, v_parent),
                   format('REVOKE ALL ON %s FROM %s;', p.oid::regclass,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
            FROM parts AS p CROSS JOIN LATERAL aclexplode(p.relacl) AS a CROSS JOIN pg_class AS pc
            WHERE pc.oid = v_parent AND pc.relrowsecurity AND a.grantee <> p.relowner
            UNION ALL
            SELECT 'warning', ix.indrelid, format('index %s is invalid', ix.indexrelid::regclass),
                   CASE WHEN ic.relkind = 'I'
                        THEN format('-- create the missing partition indexes, then ALTER INDEX %s ATTACH PARTITION ...',
                                    ix.indexrelid::regclass)
                        -- a failed unique build fails again while its duplicates are there
                        WHEN ix.indisunique
                        THEN format('DROP INDEX CONCURRENTLY %s;  -- remove the duplicate keys, then create it again',
                                    ix.indexrelid::regclass)
                        ELSE format('REINDEX INDEX CONCURRENTLY %s;', ix.indexrelid::regclass) END
            FROM pg_index AS ix JOIN pg_class AS ic ON ic.oid = ix.indexrelid
            WHERE NOT ix.indisvalid AND (ix.indrelid = v_parent OR ix.indrelid IN (SELECT p.oid FROM parts AS p))
        )
        SELECT f.sev, v_parent, f.part::regclass, f.problem, f.fix FROM findings AS f;

        -- Drift that reconcile repairs and the findings above do not cover:
        -- replica identity, storage parameters, propagated grants, partitioned
        -- indexes of sub-partitioned partitions (the plan reads the catalog only).
        IF v_cfg.reconcile THEN
            RETURN QUERY
            SELECT CASE WHEN f.action = 'refused' THEN 'urgent' ELSE 'warning' END, v_parent, f.partition, f.detail,
                   CASE WHEN f.action = 'refused'
                        THEN format('SELECT * FROM pgpart.set_policy(%L, propagate_grants => false);', v_parent::text)
                        ELSE f.statement || ';' END
            FROM pgpart._reconcile_plan(v_parent, true) AS f
            WHERE f.action NOT IN ('set owner', 'set index tablespace')
               OR (f.action = 'set index tablespace'
                   AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = f.partition) = 'p')
            ORDER BY f.ord;
        END IF;

        -- Hash-partitioned tables (the parent, or a sub-partitioned partition)
        -- missing a remainder: rows that hash there cannot be inserted.
        RETURN QUERY
        WITH RECURSIVE tree AS (
            SELECT v_parent::oid AS rel
            UNION ALL
            SELECT i.inhrelid FROM tree AS t JOIN pg_inherits AS i ON i.inhparent = t.rel
        ),
        kids AS (
            SELECT t.rel,
                   (regexp_match(p.bound, 'modulus (\d+)'))[1]::integer AS modulus,
                   (regexp_match(p.bound, 'remainder (\d+)'))[1]::integer AS remainder
            FROM tree AS t
            JOIN pg_partitioned_table AS pt ON pt.partrelid = t.rel AND pt.partstrat = 'h'
            CROSS JOIN LATERAL pgpart._partitions(t.rel::regclass) AS p
        ),
        missing AS (
            SELECT m.rel, m.modulus, g.remainder
            FROM (SELECT k.rel, max(k.modulus) AS modulus FROM kids AS k GROUP BY k.rel) AS m
            CROSS JOIN LATERAL generate_series(0, m.modulus - 1) AS g (remainder)
            WHERE NOT EXISTS (SELECT 1 FROM kids AS k WHERE k.rel = m.rel AND g.remainder % k.modulus = k.remainder)
        )
        SELECT 'urgent', v_parent, CASE WHEN x.rel <> v_parent THEN x.rel::regclass END,
               format('%s has no hash partition for remainder %s of modulus %s: rows hashing there cannot be inserted',
                      x.rel::regclass, x.remainder, x.modulus),
               CASE WHEN x.rel = v_parent
                    THEN format('SELECT * FROM pgpart.create_hash_partitions(%L, %s);', v_parent::text, x.modulus)
                    ELSE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s);',
                                n.nspname, pgpart._relation_name(c.relname, '_h' || x.remainder), x.rel::regclass,
                                x.modulus, x.remainder) END
        FROM missing AS x
        JOIN pg_class AS c ON c.oid = x.rel
        JOIN pg_namespace AS n ON n.oid = c.relnamespace;

        -- Foreign keys to and from the parent, and publications.
        RETURN QUERY
        SELECT 'info', v_parent, NULL::regclass,
               CASE WHEN con.confrelid = v_parent
                    THEN format('referenced by %s (%s): retention is %s', con.conrelid::regclass, con.conname,
                                CASE v_cfg.referenced_retention WHEN 'refuse' THEN 'refused'
                                     ELSE 'allowed, and DETACH locks it ACCESS EXCLUSIVE' END)
                    ELSE format('references %s (%s): every ATTACH locks it SHARE ROW EXCLUSIVE', con.confrelid::regclass,
                                con.conname) END,
               NULL::text
        FROM pg_constraint AS con
        WHERE con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = v_parent OR con.confrelid = v_parent);
        RETURN QUERY
        SELECT 'info', v_parent, NULL::regclass,
               format('published by %I: a detached partition leaves the publication, and dropping it is not replicated',
                      pub.pubname),
               NULL::text
        FROM pg_publication AS pub
        WHERE pub.puballtables
           OR EXISTS (SELECT 1 FROM pg_publication_rel AS pr WHERE pr.prpubid = pub.oid AND pr.prrelid = v_parent)
           OR EXISTS (SELECT 1 FROM pg_publication_namespace AS pn JOIN pg_class AS c ON c.relnamespace = pn.pnnspid
                      WHERE pn.pnpubid = pub.oid AND c.oid = v_parent);
      EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        IF v_state = '57014' AND NOT pgpart._statement_timed_out(v_message) THEN
            RAISE;
        END IF;
        -- the findings returned before the failure stand; this one says the rest is unknown
        RETURN QUERY SELECT 'urgent', v_parent, NULL::regclass,
                        format('check of %s failed: %s: %s; its other findings are unknown', v_parent, v_state,
                               v_message),
                        NULL::text;
      END;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart.check(regclass, timestamptz) IS
'Findings (severity, parent, partition, problem, ready-to-run fix) comparing policy with the catalog: runway, gaps, off-grid partitions, rows in the default, pending detaches, index tablespaces, owners, grants under row-level security, invalid indexes, foreign keys, publications, orphan policies. Never waits for a lock.';
