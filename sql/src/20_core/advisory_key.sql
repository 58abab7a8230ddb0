-- pgpart.advisory_key(parent): the advisory-lock key that serialises pgpart's
-- work on one parent. The SQL verbs take it per transaction, the Python
-- client per session; both derive it here, so they exclude each other.
-- High 32 bits: 'pgpt' (0x70677074); low 32 bits: the parent's OID.
CREATE FUNCTION pgpart.advisory_key(parent regclass)
RETURNS bigint
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (1885827188::bigint << 32) | parent::oid::bigint;

COMMENT ON FUNCTION pgpart.advisory_key(regclass) IS
'Advisory-lock key pgpart holds while it changes the partitions of PARENT (shared by the SQL verbs and the Python client).';
