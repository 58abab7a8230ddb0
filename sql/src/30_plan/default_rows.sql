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
            HINT = format('Move them out first, one range per transaction: CALL pgpart.move_default_rows(%L);',
                          (SELECT i.inhparent::regclass::text FROM pg_inherits AS i WHERE i.inhrelid = p_default)),
            SCHEMA = v_schema,
            TABLE = v_table;
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_rows(regclass, name, text, text) IS
'Raises 23514 when the default partition holds rows of a range about to be created.';
