-- pgpart.upsert_global_unique(parent, constraint_name, new_row,
-- update_columns, max_retries): INSERT ... ON CONFLICT for a global unique
-- key. PostgreSQL cannot use a global constraint as an ON CONFLICT arbiter
-- (its index is on the side table), so this is the classic merge loop:
-- UPDATE the row holding NEW_ROW's key values (every partition is probed:
-- an index on the key columns in each partition keeps that cheap); if none,
-- INSERT it; if the INSERT meets the global constraint (another session
-- inserted the key first, and committed: the side table's unique index
-- waited for it), start again, and the UPDATE now sees that row (READ
-- COMMITTED takes a new snapshot per statement). Only this constraint's
-- 23505 is retried. Under REPEATABLE READ or SERIALIZABLE the row committed
-- by the other session stays invisible, so after MAX_RETRIES it raises 40001:
-- retry the transaction. NEW_ROW is a jsonb object of column values (the
-- key columns required); UPDATE_COLUMNS (default: every other column given)
-- are set on conflict, none means "do nothing". Returns 'inserted',
-- 'updated' or 'unchanged'. Values and names only through USING and %I.
CREATE FUNCTION pgpart.upsert_global_unique(
    parent regclass,
    constraint_name name,
    new_row jsonb,
    update_columns name[] DEFAULT NULL,
    max_retries integer DEFAULT 10
)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_row ALIAS FOR new_row;
    p_update ALIAS FOR update_columns;
    p_retries ALIAS FOR max_retries;
    v_gu pgpart.global_unique;
    v_keys name[];
    v_set name[];
    v_bad name;
    v_n bigint;
    v_constraint text;
BEGIN
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints.';
    END IF;
    IF p_row IS NULL OR jsonb_typeof(p_row) <> 'object' OR p_retries IS NULL OR p_retries < 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'new_row must be a jsonb object and max_retries at least 1',
            HINT = 'Pass the row as jsonb_build_object(''email'', ..., ''name'', ...).';
    END IF;
    v_keys := array(SELECT k::name FROM jsonb_object_keys(p_row) AS j (k) ORDER BY k);
    SELECT k INTO v_bad FROM unnest(v_keys || coalesce(p_update, '{}')) AS u (k)
    WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = p_parent AND a.attname = u.k AND a.attnum > 0 AND NOT a.attisdropped)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_column',
            MESSAGE = format('column %I of table %s does not exist', v_bad, p_parent),
            HINT = 'Name columns of the parent table in new_row and update_columns.';
    END IF;
    IF NOT v_gu.columns <@ v_keys OR NOT coalesce(p_update, '{}') <@ v_keys THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('new_row must give the key columns %s and every column of update_columns',
                             v_gu.columns::text),
            HINT = 'Add them to new_row.';
    END IF;
    v_set := coalesce(p_update, array(SELECT k FROM unnest(v_keys) AS u (k) WHERE NOT k = ANY (v_gu.columns)));
    FOR v_try IN 1..p_retries LOOP
        IF cardinality(v_set) > 0 THEN
            EXECUTE format('UPDATE %s AS t SET %s FROM jsonb_populate_record(NULL::%s, $1) AS r WHERE %s',
                           p_parent,
                           (SELECT string_agg(format('%1$I = r.%1$I', c), ', ') FROM unnest(v_set) AS u (c)),
                           p_parent, pgpart._gu_match(v_gu, 't', 'r'))
            USING p_row;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            IF v_n > 0 THEN
                RETURN 'updated';
            END IF;
        END IF;
        BEGIN
            EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1) AS r', p_parent,
                           (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_keys) AS u (c)),
                           (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(v_keys) AS u (c)), p_parent)
            USING p_row;
            RETURN 'inserted';
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM v_gu.constraint_name THEN
                RAISE;
            END IF;
            IF cardinality(v_set) = 0 THEN
                RETURN 'unchanged';
            END IF;
        END;
    END LOOP;
    RAISE EXCEPTION USING
        ERRCODE = 'serialization_failure',
        MESSAGE = format('could not upsert into %s by global unique constraint %I: the row holding the key is '
                         'not visible to this transaction', p_parent, p_name),
        DETAIL = format('The key was taken by a transaction committed after this one''s snapshot (%s attempts).',
                        p_retries),
        HINT = 'Retry the transaction (REPEATABLE READ or SERIALIZABLE), or upsert under READ COMMITTED.';
END
$body$;

COMMENT ON FUNCTION pgpart.upsert_global_unique(regclass, name, jsonb, name[], integer) IS
'INSERT ... ON CONFLICT by a global unique constraint: updates the row holding the key, else inserts, retrying when a concurrent insert took the key; returns inserted, updated or unchanged.';
