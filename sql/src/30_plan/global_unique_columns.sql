-- pgpart._gu_follow_columns(constraint, renamed): keeps a global unique
-- constraint in step with its parent's columns after ALTER TABLE, called
-- by the event trigger (pgpart._gu_ddl_command_end). The statements its
-- triggers run name the columns, and the side table holds them with the
-- parent's types: after `RENAME COLUMN id TO uid` every write would fail
-- ("column n.id does not exist"), after `ALTER COLUMN id TYPE bigint` the
-- side table would refuse the wider values. RENAMED is the new name of the
-- column the command renamed (NULL for other commands): when exactly one of
-- the constraint's columns is gone from the parent, that is its old name
-- (a rename is one column per command). The side table's column is renamed
-- and retyped to match, and the constraint's row rewritten with its
-- statements (the row-level security policy admits only pgpart._gu_sql's
-- texts). Returns the statements run; raises when it cannot follow, so the
-- user's command fails rather than leave every write broken.
CREATE FUNCTION pgpart._gu_follow_columns(p_gu pgpart.global_unique, p_renamed name)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- (its own DDL on the side table: not for the event trigger)
SET "pgpart.event_triggers" = 'off'
AS $body$
DECLARE
    v_missing name [];
    v_gu pgpart.global_unique := p_gu;
    v_done text [] := ARRAY[]::text [];
    v_sql text;
BEGIN
    v_missing := array(
        SELECT u.c FROM unnest(p_gu.columns) AS u (c)
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                          WHERE a.attrelid = p_gu.parent AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped)
    );
    IF cardinality(v_missing) > 0 THEN
        IF cardinality(v_missing) > 1 OR p_renamed IS NULL OR p_renamed = ANY (p_gu.columns) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_not_in_prerequisite_state',
                MESSAGE = format('global unique constraint %I of table %s lost its column(s) %s',
                                 p_gu.constraint_name, p_gu.parent, array_to_string(v_missing, ', ')),
                DETAIL = 'pgpart follows one column renamed per command; its triggers name the columns.',
                HINT = format('Rename the column back, or drop the constraint first: '
                              'SELECT pgpart.drop_global_unique(%L, %L);', p_gu.parent::text, p_gu.constraint_name),
                SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                          WHERE c.oid = p_gu.parent),
                TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_gu.parent);
        END IF;
        v_sql := format('ALTER TABLE %s RENAME COLUMN %I TO %I', p_gu.side_table, v_missing[1], p_renamed);
        EXECUTE v_sql;
        v_done := array_append(v_done, v_sql);
        v_gu.columns := array_replace(p_gu.columns, v_missing[1], p_renamed);
    END IF;
    -- a column whose type (or collation) changed on the parent: the side
    -- table's follows (the parent's values were cast already, so are its)
    FOR v_sql IN
        SELECT format('ALTER TABLE %s ALTER COLUMN %I TYPE %s%s USING %I::%s', p_gu.side_table, pa.attname,
                      format_type(pa.atttypid, pa.atttypmod),
                      CASE WHEN pa.attcollation <> 0 THEN ' COLLATE ' || pa.attcollation::regcollation::text ELSE '' END,
                      pa.attname, format_type(pa.atttypid, pa.atttypmod))
        FROM unnest(v_gu.columns) AS u (c)
        JOIN pg_attribute AS pa ON pa.attrelid = p_gu.parent AND pa.attname = u.c
        JOIN pg_attribute AS sa ON sa.attrelid = p_gu.side_table AND sa.attname = u.c
        WHERE (pa.atttypid, pa.atttypmod, pa.attcollation) IS DISTINCT FROM (sa.atttypid, sa.atttypmod, sa.attcollation)
        ORDER BY pa.attnum
    LOOP
        EXECUTE v_sql;
        v_done := array_append(v_done, v_sql);
    END LOOP;
    IF v_gu.columns IS DISTINCT FROM p_gu.columns THEN
        UPDATE pgpart.global_unique AS g
        SET columns = v_gu.columns,
            insert_sql = pgpart._gu_sql(v_gu, 'insert'),
            delete_sql = pgpart._gu_sql(v_gu, 'delete'),
            -- the row's author must be the writer's (row-level security);
            -- the writer owns the parent, as the author did
            author = CASE WHEN pg_has_role(current_user, g.author, 'MEMBER') THEN g.author ELSE current_user END
        WHERE g.id = p_gu.id;
    END IF;
    RETURN v_done;
END
$body$;

COMMENT ON FUNCTION pgpart._gu_follow_columns(pgpart.global_unique, name) IS
'After ALTER TABLE on a parent with a global unique constraint: follows a renamed column and changed column types in the side table and the constraint''s statements; raises 55000 when it cannot (internal).';
