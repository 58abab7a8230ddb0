-- pgpart._merge_policy(old, ...) validates policy values and merges them into
-- a policy row; pgpart.set_policy(parent, ...) changes the policy of a managed
-- parent. A NULL argument keeps what is configured; retention => 'none'
-- clears the retention, and an empty name clears archive_schema,
-- archive_tablespace or tablespace. Every value is validated before
-- anything is written, so a refused call changes nothing.
CREATE FUNCTION pgpart._merge_policy(
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
    move_large_bytes bigint DEFAULT NULL
)
RETURNS pgpart.config
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_parent regclass := p_old.parent;
    v_old pgpart.config := p_old;
    v_new pgpart.config;
    v_iv interval;
BEGIN
    v_new := v_old;

    IF $2 IS NOT NULL THEN
        IF lower(btrim($2)) = 'none' THEN
            v_new.retention := NULL;
        ELSIF v_old.strategy <> 'range' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('retention does not apply to %s partitions of table %s', upper(v_old.strategy), p_parent),
                HINT = 'Retention expires ranges; LIST and HASH partitions hold no range to expire.';
        ELSIF v_old.key_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
            IF btrim($2) !~ '^\+?[0-9]{1,19}$' OR btrim($2)::numeric = 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for the integer key of %s', $2, p_parent),
                    HINT = 'Pass a positive whole number: how many key values below the highest to keep.';
            END IF;
            v_new.retention := btrim($2)::numeric::text;
        ELSE
            BEGIN
                v_iv := $2::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                v_iv := NULL;
            END;
            -- every field non-negative: '1 mon -29 days' would reach into the future
            IF v_iv IS NULL OR v_iv = interval '0' OR btrim($2) ~ '^[-+]?[0-9.]*$'
               OR extract(year FROM v_iv) < 0 OR extract(month FROM v_iv) < 0 OR extract(day FROM v_iv) < 0
               OR extract(epoch FROM v_iv - date_trunc('day', v_iv)) < 0 THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'invalid_parameter_value',
                    MESSAGE = format('invalid retention %L for table %s', $2, p_parent),
                    HINT = 'Pass a positive interval with a unit and no negative part, such as ''30 days'' or ''6 months'', or ''none''.';
            END IF;
            v_new.retention := v_iv::text;
        END IF;
    END IF;

    IF $3 IS NOT NULL THEN
        IF $3 NOT IN ('detach', 'archive', 'drop') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid retention_action %L', $3),
                HINT = 'Pass ''detach'', ''archive'' or ''drop''.';
        END IF;
        v_new.retention_action := $3;
    END IF;

    -- destinations: never a system schema, pgpart or pg_global, only where
    -- the owner may create (checked again at the moment of use)
    IF $4 IS NOT NULL THEN
        v_new.archive_schema := nullif($4, '');
        PERFORM pgpart._require_archive_schema(p_parent, v_new.archive_schema);
    END IF;
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif($5, ''), 'archive tablespace');
    PERFORM pgpart._require_owner_tablespace(p_parent, nullif($6, ''), 'tablespace');
    IF $5 IS NOT NULL THEN
        v_new.archive_tablespace := nullif($5, '');
    END IF;
    IF $6 IS NOT NULL THEN
        v_new.tablespace := nullif($6, '');
    END IF;

    IF $7 IS NOT NULL THEN
        -- bounded: maintenance and check() walk the grid premake slots ahead
        PERFORM pgpart._check_premake($7, p_parent);
        v_new.premake := $7;
    END IF;
    v_new.automatic_maintenance := coalesce($8, v_old.automatic_maintenance);
    v_new.analyze_after := coalesce($9, v_old.analyze_after);
    IF $10 IS NOT NULL THEN
        IF $10 NOT IN ('refuse', 'allow') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('invalid referenced_retention %L', $10),
                HINT = 'Pass ''refuse'' (retention is refused while other tables reference the parent) or ''allow''.';
        END IF;
        v_new.referenced_retention := $10;
    END IF;
    v_new.reconcile := coalesce($11, v_old.reconcile);
    IF $12 IS TRUE AND (
        (SELECT c.relrowsecurity FROM pg_class AS c WHERE c.oid = p_parent)
        OR EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = p_parent AND a.attacl IS NOT NULL)
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('cannot propagate grants of table %s', p_parent),
            DETAIL = 'It uses row-level security or column privileges; a grant on a partition would bypass them.',
            HINT = 'Grant access on the parent only: queries through the parent need no grant on partitions.';
    END IF;
    v_new.propagate_grants := coalesce($12, v_old.propagate_grants);
    IF $13 IS NOT NULL THEN
        IF $13 < 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('move_large_bytes must not be negative, got %s', $13),
                HINT = 'Pass a size in bytes, such as 104857600 (100 MB).';
        END IF;
        v_new.move_large_bytes := $13;
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

COMMENT ON FUNCTION pgpart._merge_policy(pgpart.config, text, text, name, name, name, integer, boolean, boolean, text, boolean, boolean, bigint) IS
'Validates policy values (22023, 3F000, 42501, 0A000) and returns the policy row with them merged in; writes nothing.';
