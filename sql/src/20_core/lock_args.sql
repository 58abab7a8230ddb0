-- pgpart._check_lock_args(lock_timeout, lock_retries, now_at): the arguments every
-- changing verb shares, checked before any lock is taken (a lock_timeout of
-- 0 would mean "wait forever" to PostgreSQL).
CREATE FUNCTION pgpart._check_lock_args(p_lock_timeout interval, p_lock_retries integer, p_now_at timestamptz)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 hour' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_timeout must be positive and at most an hour, got %s',
                             coalesce(p_lock_timeout::text, 'NULL')),
            HINT = 'Pass a short interval such as ''200ms'': writers queue behind a waiting lock for that long.';
    END IF;
    -- bounded: a run must end even when another session holds a lock for good
    IF p_lock_retries IS NULL OR p_lock_retries < 0 OR p_lock_retries > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('lock_retries must be between 0 and 1000, got %s', coalesce(p_lock_retries::text, 'NULL')),
            HINT = 'Pass how many times to retry a lock that timed out, such as 10.';
    END IF;
    IF p_now_at IS NULL OR NOT isfinite(p_now_at) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('now_at must be a finite time, got %s', coalesce(p_now_at::text, 'NULL')),
            HINT = 'Leave now_at out to use now(), or pass the reference time to act as of.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._check_lock_args(interval, integer, timestamptz) IS
'Checks the lock_timeout, lock_retries and now_at arguments shared by the changing verbs (22023).';
