-- pgpart._find_global_unique(parent): the findings about global unique
-- constraints (of PARENT, or all; managed by pgpart or not), each cheap
-- (catalog only, no row counted) and each with a fix that makes it go:
--   global_unique_broken     the side table, its unique index or the
--                            parent's triggers are missing, invalid or
--                            disabled: writes are not checked (urgent);
--   global_unique_building   the existing rows are not all copied yet;
--   global_unique_partition  a leaf partition (or the plain table
--                            itself) is not recorded (made or attached
--                            while nothing could record it: its values
--                            are unchecked, urgent);
--   global_unique_detached   a detached table still holds values;
--   global_unique_stale      a partition was dropped while recorded: its
--                            values may still be taken;
--   global_unique_grants     a role that writes the parent lacks rights on
--                            the side table: its writes fail (urgent).
CREATE FUNCTION pgpart._find_global_unique(p_parent regclass)
RETURNS SETOF pgpart.finding
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $body$
DECLARE
    v_gu pgpart.global_unique;
    v_repair text;
    v_problem text;
    v_table regclass;
BEGIN
    -- constraints of a dropped table (the event trigger could not remove them)
    RETURN QUERY
        SELECT 'urgent', 'global_unique_broken'::pgpart.finding_code, NULL::regclass, NULL::regclass,
               format('global unique constraint %I belongs to a dropped table (OID %s)', g.constraint_name,
                      g.parent::oid),
               concat(CASE WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.side_table)
                           THEN format('DROP TABLE %s; ', g.side_table) END,
                      format('DELETE FROM pgpart.global_unique WHERE id = %s', g.id))
        FROM pgpart.global_unique AS g
        WHERE p_parent IS NULL AND NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.id;
    FOR v_gu IN
        SELECT g.* FROM pgpart.global_unique AS g
        WHERE (p_parent IS NULL OR g.parent = p_parent) AND EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = g.parent)
        ORDER BY g.parent, g.constraint_name
    LOOP
        v_repair := format('SELECT * FROM pgpart.add_global_unique(%L, %L, %L, nulls_not_distinct => %s, build => %s)',
                           v_gu.parent::text, v_gu.columns::text, v_gu.constraint_name,
                           CASE WHEN v_gu.nulls_not_distinct THEN 'true' ELSE 'false' END,
                           CASE WHEN v_gu.state = 'valid' THEN 'true' ELSE 'false' END);
        v_problem := CASE
            WHEN NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table)
                THEN 'its side table is gone'
            WHEN NOT EXISTS (SELECT 1 FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid
                             WHERE i.indrelid = v_gu.side_table AND i.indisunique AND i.indisvalid
                               AND ic.relname = v_gu.constraint_name)
                THEN format('its side table %s has no valid unique index %I', v_gu.side_table, v_gu.constraint_name)
            WHEN EXISTS (SELECT 1 FROM unnest(v_gu.columns) AS u (c)
                         WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                                           WHERE a.attrelid = v_gu.parent AND a.attname = u.c AND a.attnum > 0
                                             AND NOT a.attisdropped))
                THEN format('a column of %s was renamed or dropped: writes fail', v_gu.columns::text)
            WHEN v_gu.insert_sql <> pgpart._gu_sql(v_gu, 'insert') OR v_gu.delete_sql <> pgpart._gu_sql(v_gu, 'delete')
                THEN format('its side table was renamed to %s', v_gu.side_table)
            WHEN NOT pgpart._gu_installed(v_gu)
                THEN 'a trigger of it is missing or disabled'
        END;
        IF v_problem IS NOT NULL THEN
            RETURN QUERY SELECT 'urgent', 'global_unique_broken'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('global unique constraint %I on %s is not enforced: %s', v_gu.constraint_name, v_gu.parent,
                       v_problem),
                CASE WHEN v_problem LIKE 'a column of %' THEN
                         format('SELECT pgpart.drop_global_unique(%L, %L); -- then add it again with the columns'' '
                                'new names', v_gu.parent::text, v_gu.constraint_name)
                     WHEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN v_repair
                     ELSE format('SELECT pgpart.drop_global_unique(%L, %L); %s', v_gu.parent::text,
                                 v_gu.constraint_name, v_repair) END;
            CONTINUE;
        END IF;
        IF v_gu.state = 'building' THEN
            RETURN QUERY SELECT 'warning', 'global_unique_building'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('global unique constraint %I on %s is still building: new writes are checked, '
                       'existing rows are not all copied', v_gu.constraint_name, v_gu.parent),
                format('CALL pgpart.build_global_unique(%L, %L)', v_gu.parent::text, v_gu.constraint_name);
        END IF;
        FOR v_table IN
            SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l) EXCEPT SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m)
        LOOP
            RETURN QUERY SELECT 'urgent', 'global_unique_partition'::pgpart.finding_code, v_gu.parent, v_table,
                format('%s %s is not recorded by global unique constraint %I: its values are not checked',
                       CASE WHEN v_table = v_gu.parent THEN 'table' ELSE 'partition' END, v_table,
                       v_gu.constraint_name),
                v_repair;
        END LOOP;
        FOR v_table IN
            SELECT m.m FROM pgpart._gu_marked(v_gu) AS m (m) EXCEPT SELECT l.l FROM pgpart._gu_leaves(v_gu) AS l (l)
        LOOP
            RETURN QUERY SELECT 'warning', 'global_unique_detached'::pgpart.finding_code, v_gu.parent, v_table,
                format('table %s is no longer a partition of %s but its values still count for global unique '
                       'constraint %I', v_table, v_gu.parent, v_gu.constraint_name),
                v_repair;
        END LOOP;
        IF v_gu.stale_since IS NOT NULL THEN
            RETURN QUERY SELECT 'warning', 'global_unique_stale'::pgpart.finding_code, v_gu.parent, NULL::regclass,
                format('a partition of %s was dropped while attached (%s): its values may still be taken by global '
                       'unique constraint %I', v_gu.parent, v_gu.stale_since, v_gu.constraint_name),
                left(v_repair, -1) || ', prune => true)';
        END IF;
        RETURN QUERY SELECT 'urgent', 'global_unique_grants'::pgpart.finding_code, v_gu.parent, NULL::regclass,
            format('a role that writes %s lacks rights on side table %s of global unique constraint %I: '
                   'its writes fail', v_gu.parent, v_gu.side_table, v_gu.constraint_name),
            string_agg(s.s, '; ')
        FROM pgpart._gu_grant_statements(v_gu) AS s (s)
        HAVING count(*) > 0;
    END LOOP;
END
$body$;

COMMENT ON FUNCTION pgpart._find_global_unique(regclass) IS
'Findings global_unique_broken, _building, _partition, _detached, _stale and _grants of pgpart.check() (internal).';
