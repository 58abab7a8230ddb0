-- pgpart._refuse_transaction_block(verb, detail, hint): the first statement
-- of a committing procedure. Inside a transaction block (or under a
-- function) a procedure cannot COMMIT, and PostgreSQL would say only
-- "invalid transaction termination" after the first table; this says so up
-- front (25001) with what to do. No SQL function tells whether a CALL may
-- commit, so it probes: a COMMIT inside a subtransaction always fails, and
-- PostgreSQL's message says which refusal applies (English lc_messages; with
-- another language the check is skipped and PostgreSQL's own error stays).
-- A procedure (it must run in the caller's CALL context) without SET
-- clauses: it pins search_path itself; nothing is committed.
CREATE PROCEDURE pgpart._refuse_transaction_block(p_verb text, p_detail text, p_hint text)
LANGUAGE plpgsql
AS $body$
DECLARE
    v_message text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        COMMIT;
    EXCEPTION WHEN invalid_transaction_termination THEN
        GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
    END;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF v_message = 'invalid transaction termination' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'active_sql_transaction',
            MESSAGE = format('%s cannot run inside a transaction block', p_verb),
            DETAIL = p_detail,
            HINT = p_hint;
    END IF;
END
$body$;

COMMENT ON PROCEDURE pgpart._refuse_transaction_block(text, text, text) IS  -- noqa: LT01
'Raises 25001 with the given DETAIL and HINT when the calling procedure could not COMMIT (called inside a transaction block or from a function); probes with a COMMIT in a subtransaction (internal).';
