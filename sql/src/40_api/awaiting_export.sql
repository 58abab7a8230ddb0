-- pgpart.awaiting_export(parent): the tables detached for export that the
-- client may export now (pgpart._awaiting_export), of PARENT or of every
-- managed parent. Catalog and journal only; the client's exporter
-- (Client.export_partition, pgpart export, pgpart maintain) reads this.
CREATE FUNCTION pgpart.awaiting_export(parent regclass DEFAULT NULL)
RETURNS TABLE (parent_table regclass, partition regclass, detached_at timestamptz, bound text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $body$
#variable_conflict use_column
DECLARE
    p_parent ALIAS FOR parent;
BEGIN
    RETURN QUERY
        SELECT c.parent, a.detached, a.detached_at, a.bound
        FROM pgpart.config AS c
        CROSS JOIN LATERAL pgpart._awaiting_export(c.parent) AS a
        WHERE (p_parent IS NULL OR c.parent = p_parent) AND c.strategy = 'range'
        ORDER BY c.parent::text, a.entry;
END
$body$;

COMMENT ON FUNCTION pgpart.awaiting_export(regclass) IS
'Tables detached for export whose Parquet file the client may write now (of one managed parent, or all).';
