"""The fingerprint of everything pgpart puts in a database (DESIGN §8):
functions with their bodies and settings, tables, columns, constraints,
indexes, policies, types, triggers, event triggers, grants, comments,
extension membership. Two installs are the same when their fingerprints are.
Used by the install tests (extension vs script) and the upgrade tests
(fresh vs upgraded)."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg

FINGERPRINT = """
SELECT 'schema', n.nspname::text, jsonb_build_object(
    'acl', n.nspacl::text[], 'comment', obj_description(n.oid, 'pg_namespace'), 'owner', n.nspowner::regrole::text)
FROM pg_namespace AS n WHERE n.nspname = 'pgpart'
UNION ALL
SELECT 'function', p.oid::regprocedure::text, jsonb_build_object(
    'definition', pg_get_functiondef(p.oid), 'config', p.proconfig, 'security_definer', p.prosecdef,
    'volatility', p.provolatile, 'strict', p.proisstrict, 'parallel', p.proparallel, 'leakproof', p.proleakproof,
    'kind', p.prokind, 'acl', p.proacl::text[], 'comment', obj_description(p.oid, 'pg_proc'),
    'owner', p.proowner::regrole::text)
FROM pg_proc AS p WHERE p.pronamespace = 'pgpart'::regnamespace
UNION ALL
SELECT 'relation', c.relname::text, jsonb_build_object(
    'kind', c.relkind, 'persistence', c.relpersistence, 'row_security', c.relrowsecurity,
    'force_row_security', c.relforcerowsecurity, 'acl', c.relacl::text[], 'options', c.reloptions,
    'comment', obj_description(c.oid, 'pg_class'), 'owner', c.relowner::regrole::text,
    'replica_identity', c.relreplident)
FROM pg_class AS c WHERE c.relnamespace = 'pgpart'::regnamespace
UNION ALL
SELECT 'column', c.relname || '.' || a.attname, jsonb_build_object(
    'number', a.attnum, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
    'default', pg_get_expr(d.adbin, d.adrelid), 'identity', a.attidentity, 'generated', a.attgenerated,
    'collation', a.attcollation::regcollation::text, 'acl', a.attacl::text[],
    'comment', col_description(c.oid, a.attnum))
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'pgpart'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', coalesce(r.relname, t.typname) || '.' || k.conname, jsonb_build_object(
    'definition', pg_get_constraintdef(k.oid), 'comment', obj_description(k.oid, 'pg_constraint'))
FROM pg_constraint AS k
LEFT JOIN pg_class AS r ON r.oid = k.conrelid
LEFT JOIN pg_type AS t ON t.oid = k.contypid
WHERE k.connamespace = 'pgpart'::regnamespace
UNION ALL
SELECT 'index', i.indexrelid::regclass::text, jsonb_build_object('definition', pg_get_indexdef(i.indexrelid))
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'pgpart'::regnamespace
UNION ALL
SELECT 'policy', p.tablename || '.' || p.policyname, jsonb_build_object(
    'permissive', p.permissive, 'roles', p.roles::text[], 'command', p.cmd, 'using', p.qual,
    'with_check', p.with_check)
FROM pg_policies AS p WHERE p.schemaname = 'pgpart'
UNION ALL
SELECT 'type', t.typname::text, jsonb_build_object(
    'type', t.typtype, 'acl', t.typacl::text[], 'comment', obj_description(t.oid, 'pg_type'),
    'owner', t.typowner::regrole::text)
FROM pg_type AS t WHERE t.typnamespace = 'pgpart'::regnamespace
UNION ALL
SELECT 'trigger', g.tgrelid::regclass || '.' || g.tgname, jsonb_build_object('definition', pg_get_triggerdef(g.oid))
FROM pg_trigger AS g JOIN pg_class AS c ON c.oid = g.tgrelid
WHERE c.relnamespace = 'pgpart'::regnamespace AND NOT g.tgisinternal
UNION ALL
SELECT 'event trigger', e.evtname::text, jsonb_build_object(
    'event', e.evtevent, 'function', e.evtfoid::regprocedure::text, 'enabled', e.evtenabled,
    'tags', e.evttags, 'owner', e.evtowner::regrole::text,
    'comment', obj_description(e.oid, 'pg_event_trigger'))
FROM pg_event_trigger AS e
UNION ALL
SELECT 'extension member', pg_describe_object(d.classid, d.objid, d.objsubid), '{}'::jsonb
FROM pg_depend AS d JOIN pg_extension AS x ON x.oid = d.refobjid
WHERE d.refclassid = 'pg_extension'::regclass AND x.extname = 'pgpart' AND d.deptype = 'e'
UNION ALL
SELECT 'extension', x.extname::text, jsonb_build_object(
    'version', x.extversion, 'config', (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
                                        FROM unnest(x.extconfig) AS c))
FROM pg_extension AS x WHERE x.extname = 'pgpart'
"""

Fingerprint = dict[tuple[str, str], dict[str, Any]]


def _normalise(value: Any, owner: str) -> Any:
    """The installing role's name replaced by OWNER (in ACL items and owner fields)."""
    if isinstance(value, str):
        if value == owner:
            return "OWNER"
        # aclitem text: grantee=privileges/grantor
        match = re.fullmatch(r"(\"?[^=]*\"?)=([A-Za-z*]*)/(.+)", value)
        if match:
            grantee, privileges, grantor = match.groups()
            return f"{'OWNER' if grantee == owner else grantee}={privileges}/{'OWNER' if grantor == owner else grantor}"
        return value
    if isinstance(value, list):
        return [_normalise(v, owner) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v, owner) for k, v in value.items()}
    return value


def fingerprint(conn: psycopg.Connection[Any], owner: str) -> Fingerprint:
    rows = conn.execute(FINGERPRINT).fetchall()
    result: Fingerprint = {}
    for kind, name, detail in rows:
        assert (kind, name) not in result, (kind, name)
        result[(kind, name)] = _normalise(detail if isinstance(detail, dict) else json.loads(detail), owner)
    return result


def differences(extension: Fingerprint, script: Fingerprint) -> set[str]:
    found: set[str] = set()
    for key in extension.keys() - script.keys():
        found.add(f"only in the extension install: {key[0]} {key[1]}")
    for key in script.keys() - extension.keys():
        found.add(f"only in the script install: {key[0]} {key[1]}")
    for key in extension.keys() & script.keys():
        a, b = extension[key], script[key]
        for field in sorted(a.keys() | b.keys()):
            if a.get(field) != b.get(field):
                found.add(f"differs: {key[0]} {key[1]} {field}")
    return found
