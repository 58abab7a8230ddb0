\echo Use "CREATE EXTENSION pgpart_probe" to load this file. \quit
-- Everything an extension script may do that pgpart's event triggers see:
-- a type, functions, an operator, a partitioned table with a partition and
-- an index. None of it is pgpart's business.
CREATE TYPE pair AS (k text, v text);
CREATE FUNCTION pair_get(pair, text) RETURNS text LANGUAGE sql IMMUTABLE
AS 'SELECT CASE WHEN ($1).k = $2 THEN ($1).v END';
CREATE OPERATOR -> (LEFTARG = pair, RIGHTARG = text, FUNCTION = pair_get);
CREATE TABLE probe_log (id integer NOT NULL, p pair) PARTITION BY RANGE (id);
CREATE TABLE probe_log_1 PARTITION OF probe_log FOR VALUES FROM (0) TO (100);
CREATE INDEX probe_log_id ON probe_log (id);
