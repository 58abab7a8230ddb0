-- pgpart._validated_policy(old, ...): the policy row OLD with the given
-- values validated and merged in; writes nothing (pgpart.set_policy and
-- pgpart.ensure_range write it with pgpart._write_policy_change). A NULL
-- argument keeps what is configured; retention => 'none' clears the
-- retention, and an empty name clears archive_schema, archive_tablespace or
-- tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing.
-- Long (about 150 lines) on purpose: one validation block per policy value,
-- each with its own SQLSTATE, DETAIL and HINT, so every rule of a policy row
-- stays in one place.
CREATE FUNCTION pgpart._validated_policy(
    p_old pgpart.config,
    retention text DEFAULT NULL,
    retention_action text DEFAULT NULL,
    archive_schema name DEFAULT NULL,
    archive_tablespace name DEFAULT NULL,
    tablespace name DEFAULT NULL,
    premake integer DEFAULT NULL,
    automatic_maintenance boolean DEFAULT NULL,
    analyze_after boolean DEFAULT NULL,
    referenced_retention text DEFAULT NULL,
    reconcile boolean DEFAULT NULL,
    propagate_grants boolean DEFAULT NULL,
    move_large_bytes bigint DEFAULT NULL,
    drain_default boolean DEFAULT NULL,
    drain_default_max_bytes bigint DEFAULT NULL
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_retention ALIAS FOR retention;
    p_retention_action ALIAS FOR retention_action;
    p_archive_schema ALIAS FOR archive_schema;
    p_archive_tablespace ALIAS FOR archive_tablespace;
    p_tablespace ALIAS FOR tablespace;
    p_premake ALIAS FOR premake;
    p_automatic_maintenance ALIAS FOR automatic_maintenance;
    p_analyze_after ALIAS FOR analyze_after;
    p_referenced_retention ALIAS FOR referenced_retention;
    p_reconcile ALIAS FOR reconcile;
    p_propagate_grants ALIAS FOR propagate_grants;
    p_move_large_bytes ALIAS FOR move_large_bytes;
    p_drain_default ALIAS FOR drain_default;
    p_drain_default_max_bytes ALIAS FOR drain_default_max_bytes;
    p_parent regclass := p_old.parent;
    v_old pgpart.config := p_old;
    v_new pgpart.config;
    v_iv interval;
BEGIN
    v_new := v_old;

    IF p_retention IS NOT NULL THEN
        IF lower(btrim(p_retention)) = 'none' THEN
            v_new.retention := NULL;
        ELSIF v_old.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('retention does not apply to %s partitions of table %s', upper(v_old.strategy), p_parent),
                HINT = 'Retention expires ranges; LIST and HASH partitions hold no range to expire.';
        ELSIF pgpart._key_clock(v_old.key_type, v_old.epoch_unit) = 'integer' THEN
            IF btrim(p_retention) !~ '^\+?[0-9]{1,19}$' OR btrim(p_retention)::numeric = 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for the integer key of %s', p_retention, p_parent),
                    HINT = 'Pass a positive whole number: how many key values below the highest to keep.';
            END IF;
            v_new.retention := btrim(p_retention)::numeric::text;
        ELSE
            BEGIN
                v_iv := p_retention::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                v_iv := NULL;
            END;
            -- every field non-negative: '1 mon -29 days' would reach into the future
            IF v_iv IS NULL OR v_iv = interval '0' OR btrim(p_retention) ~ '^[-+]?[0-9.]*$'
               OR extract(year FROM v_iv) < 0 OR extract(month FROM v_iv) < 0 OR extract(day FROM v_iv) < 0
               OR extract(epoch FROM v_iv - date_trunc('day', v_iv)) < 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for table %s', p_retention, p_parent),
                    HINT = 'Pass a positive interval with a unit and no negative part, such as ''30 days'' or ''6 months'', or ''none''.';
            END IF;
            v_new.retention := v_iv::text;
        END IF;
    END IF;

    IF p_retention_action IS NOT NULL THEN
        IF p_retention_action NOT IN ('detach', 'archive', 'drop', 'export') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid retention_action %L', p_retention_action),
                HINT = 'Pass ''detach'', ''archive'', ''drop'' or ''export'' (Parquet files, docs/cold-tier.md).';
        END IF;
        v_new.retention_action := p_retention_action;
    END IF;

    -- destinations: never a system schema, pgpart or pg_global, only where
    -- the owner may create (checked again at the moment of use)
    IF p_archive_schema IS NOT NULL THEN
        v_new.archive_schema := nullif(p_archive_schema, '');
        PERFORM pgpart._require_archive_schema(p_parent, v_new.archive_schema);
    END IF;
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif(p_archive_tablespace, ''), 'archive tablespace');
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif(p_tablespace, ''), 'tablespace');
    IF p_archive_tablespace IS NOT NULL THEN
        v_new.archive_tablespace := nullif(p_archive_tablespace, '');
    END IF;
    IF p_tablespace IS NOT NULL THEN
        v_new.tablespace := nullif(p_tablespace, '');
    END IF;

    IF p_premake IS NOT NULL THEN
        -- bounded: maintenance and check() walk the grid premake slots ahead
        PERFORM pgpart._check_premake(p_premake, p_parent);
        v_new.premake := p_premake;
    END IF;
    v_new.automatic_maintenance := coalesce(p_automatic_maintenance, v_old.automatic_maintenance);
    v_new.analyze_after := coalesce(p_analyze_after, v_old.analyze_after);
    IF p_referenced_retention IS NOT NULL THEN
        IF p_referenced_retention NOT IN ('refuse', 'allow') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid referenced_retention %L', p_referenced_retention),
                HINT = 'Pass ''refuse'' (retention is refused while other tables reference the parent) or ''allow''.';
        END IF;
        v_new.referenced_retention := p_referenced_retention;
    END IF;
    v_new.reconcile := coalesce(p_reconcile, v_old.reconcile);
    IF p_propagate_grants IS TRUE AND (
        (SELECT c.relrowsecurity FROM pg_class AS c WHERE c.oid = p_parent)
        OR EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attacl IS NOT NULL)
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = 'It uses row-level security or column privileges; a grant on a partition would bypass them.',
            HINT = 'Grant access on the parent only: queries through the parent need no grant on partitions.';
    END IF;
    v_new.propagate_grants := coalesce(p_propagate_grants, v_old.propagate_grants);
    IF p_move_large_bytes IS NOT NULL THEN
        IF p_move_large_bytes < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('move_large_bytes must not be negative, got %s', p_move_large_bytes),
                HINT = 'Pass a size in bytes, such as 104857600 (100 MB).';
        END IF;
        v_new.move_large_bytes := p_move_large_bytes;
    END IF;

    -- drain_default: rows of the default move into the grid, which LIST
    -- and HASH parents have none of (a switch off is always accepted)
    IF p_drain_default AND v_old.strategy <> 'range' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('drain_default does not apply to %s partitions of table %s', upper(v_old.strategy),
                             p_parent),
            DETAIL = 'Draining moves rows of the default partition into new ranges of the grid.',
            HINT = 'Leave drain_default off for this table.';
    END IF;
    v_new.drain_default := coalesce(p_drain_default, v_old.drain_default);
    IF p_drain_default_max_bytes IS NOT NULL THEN
        IF p_drain_default_max_bytes < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('drain_default_max_bytes must not be negative, got %s', p_drain_default_max_bytes),
                HINT = 'Pass a size in bytes, such as 67108864 (64 MB).';
        END IF;
        v_new.drain_default_max_bytes := p_drain_default_max_bytes;
    END IF;

    IF v_new.retention_action = 'archive' AND v_new.archive_schema IS NULL AND v_new.archive_tablespace IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('retention_action ''archive'' for table %s needs an archive schema or tablespace', p_parent),
            HINT = 'Pass archive_schema and/or archive_tablespace, or choose ''detach'' or ''drop''.';
    END IF;

    RETURN v_new;
END
$body$;

COMMENT ON FUNCTION pgpart._validated_policy(
    pgpart.config, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint, boolean, bigint
) IS
'Validates policy values (22023, 3F000, 42501, 0A000) and returns the policy row with them merged in; writes nothing.';
