-- pgpart.key_time(parent, value): the instant a key value of PARENT stands
-- for on its grid, for keys whose values are not times themselves: a
-- UUIDv7 (its millisecond prefix) or an integer holding Unix time in the
-- policy's epoch_unit; a timestamptz key's value is itself. The client
-- asks it to turn the lowest and highest keys of a bulk load into the
-- times ensure_range plans by (Client.ensure_covering, Client.load), so the
-- conversion lives here once. 22023 for keys without an instant (plain
-- integers; timestamp and date, whose wall time is read in the policy's
-- zone by ensure_range itself) and for an unmanaged table.
CREATE FUNCTION pgpart.key_time(parent regclass, value text)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_value ALIAS FOR value;
    v_cfg pgpart.config;
BEGIN
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent AND c.strategy = 'range';
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('table %s is not a RANGE table managed by pgpart', p_parent),
            HINT = 'Manage it first: SELECT * FROM pgpart.ensure_range(...).';
    END IF;
    IF pgpart._key_clock(v_cfg.key_type, v_cfg.epoch_unit) IS DISTINCT FROM 'instant' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('the key %I of table %s (%s) is not on an instant''s clock', v_cfg.key_column,
                             p_parent, v_cfg.key_type),
            DETAIL = 'key_time converts uuid (UUIDv7), epoch integer and timestamptz keys.',
            HINT = 'Pass integer keys as numbers and timestamp or date keys as they are.';
    END IF;
    RETURN pgpart._coord_to_ts(pgpart._literal_to_coord(v_cfg.key_type, p_value, v_cfg.epoch_unit));
END
$body$;

COMMENT ON FUNCTION pgpart.key_time(regclass, text) IS
'The instant a key value of a managed range parent stands for (UUIDv7 prefix, epoch integer in its unit, or the timestamptz itself); 22023 for other keys.';
