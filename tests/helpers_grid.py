"""Shared helpers for the grid, time-zone and name tests of create_range_partitions.

Everything here reads the catalog directly (pg_inherits, pg_class,
pg_get_expr under TimeZone UTC), never through pgpart's own readers, so the
tests have an independent oracle.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql

from helpers_args import ARG_TYPES as _ARG_TYPES

Conn = psycopg.Connection[Any]

# The reference "now" of every time test: a Wednesday, mid-month, mid-quarter.
NOW = "2024-05-15 10:37:00+00"


STEP_COLUMNS = ("step", "partition", "lower_bound", "upper_bound", "action", "statement", "locks", "top_level")


def ident(*parts: str) -> str:
    """A (possibly qualified) relation name as regclass input text, quoted as SQL needs."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def quote_ident(name: str) -> str:
    """PostgreSQL's quote_ident for names that are not keywords: bare when
    lower-case ASCII letters, digits and underscores, else double-quoted."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """format('%I.%I', schema, name): how pgpart prints a partition's name."""
    return quote_ident(schema) + "." + quote_ident(name)


def create(conn: Conn, parent: str, interval: str, **kw: Any) -> list[dict[str, Any]]:
    """Calls pgpart.create_range_partitions with named arguments; rows as dicts."""
    args = [sql.SQL("{}::regclass").format(sql.Literal(parent)), sql.Literal(interval)]
    for name, value in kw.items():
        args.append(sql.SQL("{} => {}::{}").format(sql.Identifier(name), sql.Literal(value), sql.SQL(_ARG_TYPES[name])))
    query = sql.SQL("SELECT * FROM pgpart.create_range_partitions({})").format(sql.SQL(", ").join(args))
    cur = conn.execute(query)
    return [dict(zip(STEP_COLUMNS, row, strict=True)) for row in cur.fetchall()]


def partitions(conn: Conn, parent: str) -> list[tuple[str, str]]:
    """(relname, bound) of every direct partition, bounds deparsed under TimeZone UTC, by name."""
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        conn.execute("SET LOCAL datestyle = 'ISO, YMD'")
        rows = conn.execute(
            """
            SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass
            ORDER BY c.relname
            """,
            (parent,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def partition_names(conn: Conn, parent: str) -> list[str]:
    return [name for name, _ in partitions(conn, parent)]


def bounds_in_order(conn: Conn, parent: str) -> list[tuple[str, str, str]]:
    """(relname, lower, upper) as UTC text, ordered by the lower bound (for timestamptz keys)."""
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        rows = conn.execute(
            """
            SELECT c.relname::text, m[1], m[2]
            FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid,
                 regexp_match(pg_get_expr(c.relpartbound, c.oid),
                              '^FOR VALUES FROM \\(''(.*)''\\) TO \\(''(.*)''\\)$') AS m
            WHERE i.inhparent = %s::regclass
            ORDER BY m[1]::timestamptz
            """,
            (parent,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def range_bound(key_type: str, lower: str, upper: str) -> str:
    """The bound as pg_get_expr prints it: integer (int4) constants bare unless
    negative, every other constant quoted; MINVALUE/MAXVALUE bare."""

    def lit(v: str) -> str:
        if v in ("MINVALUE", "MAXVALUE"):
            return v
        if key_type == "integer" and not v.startswith("-"):
            return v
        return "'" + v + "'"

    return f"FOR VALUES FROM ({lit(lower)}) TO ({lit(upper)})"


def snapshot(conn: Conn) -> dict[str, Any]:
    """Everything a pgpart call could change: user relations (with oids, so a
    drop-and-recreate shows), partition bounds, pgpart.config and pgpart.log."""
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        rels = conn.execute(
            """
            SELECT n.nspname::text, c.relname::text, c.relkind::text, c.oid::bigint,
                   pg_get_expr(c.relpartbound, c.oid), i.inhparent::bigint
            FROM pg_class AS c
            JOIN pg_namespace AS n ON n.oid = c.relnamespace
            LEFT JOIN pg_inherits AS i ON i.inhrelid = c.oid
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgpart')
              AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
            ORDER BY 1, 2
            """
        ).fetchall()
        config = conn.execute("SELECT to_jsonb(c)::text FROM pgpart.config AS c ORDER BY parent::oid").fetchall()
        log = conn.execute("SELECT to_jsonb(l)::text FROM pgpart.log AS l ORDER BY id").fetchall()
    return {"relations": rels, "config": config, "log": log}


def config_row(conn: Conn, parent: str) -> dict[str, Any] | None:
    cur = conn.execute("SELECT * FROM pgpart.config WHERE parent = %s::regclass", (parent,))
    row = cur.fetchone()
    if row is None:
        return None
    assert cur.description is not None
    return {d.name: v for d, v in zip(cur.description, row, strict=True)}


def info(conn: Conn, parent: str) -> list[tuple[str, str, str]]:
    """(partition name, lower_bound, upper_bound) from pgpart.partition_info, in its order."""
    rows = conn.execute(
        """
        SELECT c.relname::text, i.lower_bound, i.upper_bound
        FROM pgpart.partition_info(%s::regclass, %s::timestamptz) AS i
        JOIN pg_class AS c ON c.oid = i.partition
        """,
        (parent, NOW),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
