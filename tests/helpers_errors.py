"""Shared by test_errors.py and test_security.py: calling create_range_partitions
with named arguments, and snapshots of everything a refused call must leave as
it was (relations, partition tree, pgpart.config, pgpart.log)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from helpers_args import ARG_TYPES

Row = tuple[Any, ...]


def create_range_partitions(
    conn: psycopg.Connection[Any], parent: str | None, interval: str | None, **kwargs: Any
) -> list[Row]:
    """SELECT * FROM pgpart.create_range_partitions(parent, interval, name => value, ...)."""
    parts: list[sql.Composable] = [sql.SQL("%s::regclass"), sql.SQL("%s::text")]
    params: list[Any] = [parent, interval]
    for name, value in kwargs.items():
        parts.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(ARG_TYPES[name])))
        params.append(value)
    query = sql.SQL("SELECT * FROM pgpart.create_range_partitions({})").format(sql.SQL(", ").join(parts))
    return conn.execute(query, params).fetchall()


@dataclass(frozen=True)
class Snapshot:
    relations: list[Row]
    inherits: list[Row]
    config: list[Row]
    log: list[Row]


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Everything outside the system schemas (read as a superuser)."""
    relations = conn.execute(
        """
        SELECT n.nspname::text, c.relname::text, c.relkind::text, pg_get_userbyid(c.relowner)::text
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_(toast|temp)'
        ORDER BY 1, 2
        """
    ).fetchall()
    inherits = conn.execute(
        "SELECT inhparent::regclass::text, inhrelid::regclass::text FROM pg_inherits ORDER BY 1, 2"
    ).fetchall()
    config = conn.execute("SELECT to_jsonb(c)::text FROM pgpart.config AS c ORDER BY c.parent::oid").fetchall()
    log = conn.execute("SELECT to_jsonb(l)::text FROM pgpart.log AS l ORDER BY l.id").fetchall()
    return Snapshot(relations, inherits, config, log)


def partitions(conn: psycopg.Connection[Any], parent: str) -> list[str]:
    """Direct partitions of PARENT, by name."""
    rows = conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1",
        [parent],
    ).fetchall()
    return [r[0] for r in rows]


def unique_role_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextmanager
def temporary_role(admin: psycopg.Connection[Any], prefix: str, *member_of: str) -> Iterator[str]:
    """A LOGIN role that exists only for the block. Roles are cluster-wide, so
    the name is unique and the role is dropped (with what it owns in ADMIN's
    database) even when the test fails."""
    name = unique_role_name(prefix)
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    try:
        for role in member_of:
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(name)))
        yield name
    finally:
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
