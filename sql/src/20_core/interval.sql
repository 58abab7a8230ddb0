-- pgpart._parse_interval(key_type, text): validates a partition interval
-- against the key type and classifies it (DESIGN §5):
--   integer  - plain integer keys: a positive whole number of key units
--              (epoch integer and uuid keys take time intervals, as
--              timestamptz: their clock is 'instant', pgpart._key_clock)
--   seconds  - time keys: a time-only interval dividing 24 hours (UTC grid)
--   days     - whole days, weeks included (calendar of the configured zone)
--   months   - whole months, years included (calendar of the configured zone)
-- Mixed intervals ('1 mon 2 days', '1 day 12:00') have no stable calendar
-- meaning and are refused, as is a bare number for a time key ('1000'
-- would otherwise mean 16 min 40 s).
CREATE FUNCTION pgpart._parse_interval(
    p_key_type regtype,
    p_text text,
    p_epoch_unit text DEFAULT NULL,
    OUT canonical text,
    OUT kind text,
    OUT step numeric
)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    v_text text := lower(btrim(coalesce(p_text, '')));
    v_iv interval;
    v_months numeric;
    v_days numeric;
    v_secs numeric;
BEGIN
    IF pgpart._key_clock(p_key_type, p_epoch_unit) = 'integer' THEN
        IF v_text !~ '^\+?[0-9]{1,18}$' OR v_text::numeric = 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
                DETAIL = 'An integer key needs a positive whole number: the width of each partition.',
                HINT = 'Pass an interval such as ''1000''.';
        END IF;
        canonical := v_text::numeric::text;
        kind := 'integer';
        step := v_text::numeric;
        RETURN;
    END IF;

    -- Shorthands people write in cron-like settings.
    v_text := CASE v_text
        WHEN 'hourly' THEN '1 hour'
        WHEN 'daily' THEN '1 day'
        WHEN 'weekly' THEN '1 week'
        WHEN 'monthly' THEN '1 month'
        WHEN 'quarterly' THEN '3 months'
        WHEN 'yearly' THEN '1 year'
        ELSE v_text
    END;
    IF v_text ~ '^[-+]?[0-9.]*$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L for a key of type %s', p_text, p_key_type),
            DETAIL = 'A time key needs an interval with a unit.',
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END IF;
    BEGIN
        v_iv := v_text::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('invalid partition interval %L', p_text),
            DETAIL = SQLERRM,
            HINT = 'Pass an interval such as ''1 day'', ''1 hour'', ''15 minutes'', ''1 month''.';
    END;
    v_months := extract(year FROM v_iv) * 12 + extract(month FROM v_iv);
    v_days := extract(day FROM v_iv);
    v_secs := extract(hour FROM v_iv) * 3600 + extract(minute FROM v_iv) * 60 + extract(second FROM v_iv);
    canonical := v_iv::text;
    IF v_months > 0 AND v_days = 0 AND v_secs = 0 THEN
        kind := 'months';
        step := v_months;
    ELSIF v_months = 0 AND v_days > 0 AND v_secs = 0 THEN
        kind := 'days';
        step := v_days;
    ELSIF v_months = 0 AND v_days = 0 AND v_secs > 0 AND v_secs <= 86400
          AND v_secs = trunc(v_secs) AND 86400 % v_secs = 0 THEN
        kind := 'seconds';
        step := v_secs;
    ELSE
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('unsupported partition interval %L', p_text),
            DETAIL = 'An interval must be whole months, whole days, or whole seconds dividing 24 hours.',
            HINT = 'Pass an interval such as ''1 day'', ''7 days'', ''1 month'', ''3 months'', ''1 hour'' or ''15 minutes''.';
    END IF;
    IF (kind = 'months' AND step > 12000) OR (kind = 'days' AND step > 366000) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is too long', p_text),
            HINT = 'Pass an interval of at most a thousand years.';
    END IF;
    IF p_key_type = 'date'::regtype AND kind = 'seconds' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('partition interval %L is shorter than a day, but the key is a date', p_text),
            HINT = 'Use an interval of one day or more for a date key.';
    END IF;
END
$body$;

COMMENT ON FUNCTION pgpart._parse_interval(regtype, text, text) IS
'Validates a partition interval against the key type and classifies it as integer, seconds, days or months.';
