-- pgpart._check_default_list_rows(default, key, values): refuses new list
-- values while the default partition holds rows of them (23514).
CREATE FUNCTION pgpart._check_default_list_rows(p_default regclass, p_key name, p_values text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_count bigint;
    v_where text;
BEGIN
    -- reading the default runs its row-level security policies (docs/security.md)
    PERFORM pgpart._guard_owner_code((SELECT i.inhparent::regclass FROM pg_inherits AS i WHERE i.inhrelid = p_default),
                                     'read');
    v_where := concat_ws(' OR ',
                         CASE WHEN array_position(p_values, NULL) IS NOT NULL THEN format('%I IS NULL', p_key) END,
                         CASE WHEN EXISTS (SELECT 1 FROM unnest(p_values) AS v WHERE v IS NOT NULL)
                              THEN format('%I IN (%s)', p_key,
                                          (SELECT string_agg(quote_literal(v), ', ') FROM unnest(p_values) AS v
                                           WHERE v IS NOT NULL)) END);
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM ONLY %s WHERE %s LIMIT 1000000) AS s', p_default, v_where)
    INTO v_count;
    IF v_count > 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('default partition %s holds %s rows for the new values %s', p_default, v_count,
                             pgpart._list_literal(p_values)),
            DETAIL = 'A partition for these values cannot be attached while the default partition holds their rows.',
            HINT = 'Move those rows out of the default partition first (INSERT them into a new table, DELETE them, '
                   'then attach it), one value per transaction.',
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_default),
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_default);
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_default_list_rows(regclass, name, text[]) IS
'Raises 23514 when the default partition holds rows of list values about to get their partition.';
