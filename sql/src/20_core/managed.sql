-- pgpart._managed(parent): the policy row of a parent pgpart manages, after
-- checking that the caller owns it; 55000 when there is none.
CREATE FUNCTION pgpart._managed(p_parent regclass)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
    v_cfg pgpart.config;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    SELECT * INTO v_cfg FROM pgpart.config AS c WHERE c.parent = p_parent;
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('table %s is not managed by pgpart', p_parent),
            DETAIL = 'It has no policy in pgpart.config.',
            HINT = 'Call pgpart.create_range_partitions for it first.',
            SCHEMA = (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE c.oid = p_parent),
            TABLE = (SELECT c.relname FROM pg_class AS c WHERE c.oid = p_parent);
    END IF;
    RETURN v_cfg;
END
$body$;

COMMENT ON FUNCTION pgpart._managed(regclass) IS
'Policy row of a managed parent the caller owns; 42501 or 55000 otherwise.';
