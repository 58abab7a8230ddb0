-- pgpart.drop_global_unique(parent, constraint_name, ...): removes a
-- global unique constraint: its triggers (on every table carrying one:
-- the parent, its partitioned tables, every table recorded), its row in
-- pgpart.global_unique and its side table. DROP TRIGGER locks the parent
-- and each partition ACCESS EXCLUSIVE, under the lock timeout. A foreign
-- key referencing the side table makes it fail (2BP01): drop that first.
CREATE FUNCTION pgpart.drop_global_unique(
    parent regclass,
    constraint_name name,
    lock_timeout interval DEFAULT '200ms',
    lock_retries integer DEFAULT 10
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $body$
DECLARE
    p_parent ALIAS FOR parent;
    p_name ALIAS FOR constraint_name;
    p_lock_timeout ALIAS FOR lock_timeout;
    p_lock_retries ALIAS FOR lock_retries;
    v_gu pgpart.global_unique;
BEGIN
    PERFORM pgpart._require_owner(p_parent);
    PERFORM pgpart._check_lock_args(p_lock_timeout, p_lock_retries, now());
    SELECT g.* INTO v_gu FROM pgpart.global_unique AS g WHERE g.parent = p_parent AND g.constraint_name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'undefined_object',
            MESSAGE = format('global unique constraint %I on %s does not exist', p_name, p_parent),
            HINT = 'pgpart.global_unique_info() lists the constraints.';
    END IF;
    PERFORM pgpart._acquire_locks(ARRAY[format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent)],
                                  p_lock_timeout, p_lock_retries);
    PERFORM pgpart._set_lock_timeout(p_lock_timeout);
    DELETE FROM pgpart.global_unique AS g WHERE g.id = v_gu.id;
    PERFORM pgpart._gu_uninstall(v_gu);
    IF EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = v_gu.side_table) THEN
        EXECUTE format('DROP TABLE %s', v_gu.side_table);
    END IF;
    PERFORM pgpart._log(p_parent, 'drop_global_unique', 'ok', jsonb_build_object('constraint', p_name));
END
$body$;

COMMENT ON FUNCTION pgpart.drop_global_unique(regclass, name, interval, integer) IS
'Removes a global unique constraint: its triggers, its registration and its side table.';
