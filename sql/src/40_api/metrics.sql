-- pgpart.metrics(now_at): the state of every managed parent as Prometheus
-- text exposition (format 0.0.4), for a scrape job or node_exporter's
-- textfile collector (docs/operations.md). WHY in SQL: monitoring reads the
-- same catalog truth as check() and never waits for a lock (DESIGN §2):
-- runway from the partitions' bounds (integer keys: the highest key under a
-- 50 ms lock timeout, NaN when it could not be read), rows in default
-- partitions from the catalog's estimate (reltuples; NaN before the first
-- ANALYZE; never a scan), pending detaches from pg_inherits, the last
-- successful maintenance from pgpart.log, check()'s findings counted by
-- severity (check() reads table data only under a 10 ms lock timeout).
-- Label values are escaped as the format requires (pgpart._metric_label).
CREATE FUNCTION pgpart.metrics(now_at timestamptz DEFAULT now())
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- catalog reads (see partition_info)
SET jit = off
SET lock_timeout = '50ms'
SET intervalstyle = 'postgres'
AS $body$
DECLARE
    p_now_at ALIAS FOR now_at;
BEGIN
    PERFORM pgpart._check_lock_args(interval '1s', 0, p_now_at);
    RETURN (
        WITH managed AS MATERIALIZED (
            SELECT c.parent, c.strategy, pgpart._key_clock(c.key_type, c.epoch_unit) AS clock, c.last_error,
                   format('table="%s"', pgpart._metric_label(c.parent::text)) AS label
            FROM pgpart.config AS c JOIN pg_class AS pc ON pc.oid = c.parent
        ),
        runway AS MATERIALIZED (
            SELECT m.parent, m.label, m.clock, pgpart._runway(m.parent, p_now_at) AS runway
            FROM managed AS m WHERE m.strategy = 'range'
        ),
        findings AS MATERIALIZED (
            SELECT f.severity, count(*) AS n FROM pgpart.check(NULL, p_now_at) AS f GROUP BY f.severity
        ),
        families (ord, name, help) AS (
            VALUES
            (1, 'pgpart_managed_tables', 'Tables pgpart manages (rows of pgpart.config whose table exists).'),
            (2, 'pgpart_partitions', 'Direct partitions of a managed table, the default partition included.'),
            (3, 'pgpart_runway_seconds',
             'How far ahead of now the partitions of a managed range table with a time key reach without a gap; '
             'NaN: unknown.'),
            (4, 'pgpart_runway_keys',
             'How many key values above the highest one the partitions of a managed range table with an integer '
             'key reach without a gap; NaN: unknown (the table was locked).'),
            (5, 'pgpart_default_rows',
             'Estimated rows in the default partition (pg_class.reltuples, never a scan); NaN: not analyzed yet.'),
            (6, 'pgpart_detach_pending', 'Partitions left detach pending (finished by the next maintenance run).'),
            (7, 'pgpart_last_maintenance_success_timestamp_seconds',
             'Unix time of the newest successful maintenance work on the table recorded in pgpart.log; 0: none.'),
            (8, 'pgpart_maintenance_failing', '1 when the last maintenance of the table failed (pgpart.check shows why).'),
            (9, 'pgpart_findings', 'Findings of pgpart.check() by severity.')
        ),
        samples (ord, sub, labels, value) AS (
            SELECT 1, '', '', count(*)::numeric FROM managed
            UNION ALL
            SELECT 2, m.parent::text, m.label,
                   (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = m.parent)::numeric
            FROM managed AS m
            UNION ALL
            SELECT 3, r.parent::text, r.label, extract(epoch FROM r.runway::interval)
            FROM runway AS r WHERE r.clock <> 'integer'
            UNION ALL
            SELECT 4, r.parent::text, r.label, r.runway::numeric
            FROM runway AS r WHERE r.clock = 'integer'
            UNION ALL
            SELECT 5, m.parent::text,
                   format('%s,partition="%s"', m.label, pgpart._metric_label(d.oid::regclass::text)),
                   CASE WHEN d.reltuples >= 0 THEN d.reltuples::numeric END
            FROM managed AS m
            JOIN pg_class AS d ON d.oid = pgpart._default_partition(m.parent)
            UNION ALL
            SELECT 6, m.parent::text, m.label,
                   (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = m.parent AND i.inhdetachpending)::numeric
            FROM managed AS m
            UNION ALL
            SELECT 7, m.parent::text, m.label,
                   coalesce(extract(epoch FROM (
                       SELECT max(l.logged_at) FROM pgpart.log AS l
                       WHERE l.parent = m.parent AND l.outcome = 'ok'
                         AND l.action IN ('maintenance', 'create_range_partitions', 'finalize', 'detach', 'archive',
                                          'drop', 'discard', 'retention', 'reconcile', 'analyze', 'apply_plan')
                   )), 0)
            FROM managed AS m
            UNION ALL
            SELECT 8, m.parent::text, m.label, (m.last_error IS NOT NULL)::integer::numeric
            FROM managed AS m
            UNION ALL
            SELECT 9, s.o::text, format('severity="%s"', s.severity),
                   coalesce((SELECT f.n FROM findings AS f WHERE f.severity = s.severity), 0)::numeric
            FROM unnest(ARRAY['urgent', 'warning', 'info']) WITH ORDINALITY AS s (severity, o)
        )
        SELECT string_agg(x.line, E'\n' ORDER BY x.ord, x.kind, x.sub) || E'\n'
        FROM (
            SELECT f.ord, 0 AS kind, '' AS sub,
                   format(E'# HELP %s %s\n# TYPE %s gauge', f.name, f.help, f.name) AS line
            FROM families AS f
            UNION ALL
            SELECT s.ord, 1, s.sub,
                   format('%s%s %s', f.name, CASE WHEN s.labels <> '' THEN '{' || s.labels || '}' ELSE '' END,
                          coalesce(trim_scale(s.value)::text, 'NaN'))
            FROM samples AS s JOIN families AS f ON f.ord = s.ord
        ) AS x
    );
END
$body$;

COMMENT ON FUNCTION pgpart.metrics(timestamptz) IS
'Prometheus text exposition of every managed table: runway, estimated rows in default partitions, pending detaches, last successful maintenance (unix time), failing maintenance, findings by severity. Never waits for a lock.';

-- pgpart._metric_label(value): VALUE escaped for a label of the Prometheus
-- text format (backslash, double quote and newline), so that any table name
-- yields a parseable line.
CREATE FUNCTION pgpart._metric_label(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $body$
    SELECT replace(replace(replace(p_value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
$body$;

COMMENT ON FUNCTION pgpart._metric_label(text) IS
'A value escaped for a Prometheus label (backslash, double quote, newline).';
