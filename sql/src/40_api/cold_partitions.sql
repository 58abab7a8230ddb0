-- pgpart.cold_partitions(parent): what lives in the cold tier: every
-- partition of PARENT (or of any parent) exported to a Parquet file and
-- dropped, read from pgpart.log (the 'export' rows pgpart.record_export
-- writes, with the manifest), newest first, with the last restore of that
-- file if any ('restore' rows the client writes). The log is the only
-- record once the table is dropped; the file itself lives outside the
-- database, where the manifest's location says.
CREATE FUNCTION pgpart.cold_partitions(parent regclass DEFAULT NULL)
RETURNS TABLE (
    parent_table regclass,
    parent_name text,
    partition_name text,
    bound text,
    row_count bigint,
    checksum text,
    location text,
    exported_at timestamptz,
    restored_at timestamptz,
    manifest jsonb
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT
            e.parent, e.parent_name, e.detail ->> 'table', e.detail ->> 'bound', (e.detail ->> 'rows')::bigint,
            e.detail ->> 'checksum', e.detail ->> 'location', e.logged_at,
            (SELECT max(r.logged_at) FROM pgpart.log AS r
             WHERE
                 r.parent = e.parent AND r.action = 'restore' AND r.outcome = 'ok' AND r.id > e.id
                 AND r.detail ->> 'checksum' = e.detail ->> 'checksum'
                 AND r.detail ->> 'location' = e.detail ->> 'location'),
            e.detail
        FROM pgpart.log AS e
        WHERE e.action = 'export' AND e.outcome = 'ok' AND (p_parent IS NULL OR e.parent = p_parent)
        ORDER BY e.id DESC;
END
$body$;

COMMENT ON FUNCTION pgpart.cold_partitions(regclass) IS
'Partitions exported to Parquet files and dropped (the cold tier), from pgpart.log: bound, rows, checksum, file location, when exported and last restored.';
