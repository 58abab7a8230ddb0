"""Shared by test_policy.py, test_maintenance.py and test_check.py: calling the
lifecycle functions with typed named arguments, reading pgpart.config and
pgpart.log, and daily test tables made through create_range_partitions.

Time only ever comes from ``now_at``; the wall clock never decides a test."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]

NOW = "2024-03-10 12:00:00+00"

# The SQL type of every named argument of the lifecycle API, so each
# placeholder gets a cast and nothing depends on how psycopg dumps a value.
ARG_TYPES: dict[str, str] = {
    "retention": "text",
    "retention_action": "text",
    "archive_schema": "name",
    "archive_tablespace": "name",
    "tablespace": "name",
    "premake": "integer",
    "automatic_maintenance": "boolean",
    "analyze_after": "boolean",
    "referenced_retention": "text",
    "reconcile": "boolean",
    "propagate_grants": "boolean",
    "move_large_bytes": "bigint",
    "lock_timeout": "interval",
    "lock_retries": "integer",
    "now_at": "timestamptz",
    "dry_run": "boolean",
    "online": "boolean",
    "interval": "text",
    "start": "text",
    "time_zone": "text",
    "origin": "text",
    "default_partition": "boolean",
    "reloptions": "text[]",
}


def _args(first: str, firsts: list[Any], kwargs: dict[str, Any]) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for value in firsts:
        parts.append(sql.SQL("%s::" + first))
        params.append(value)
    for name, value in kwargs.items():
        parts.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(ARG_TYPES[name])))
        params.append(value)
    return sql.SQL(", ").join(parts), params


def select(c: Conn, function: str, parent: str | None, **kwargs: Any) -> list[dict[str, Any]]:
    """SELECT * FROM pgpart.<function>(parent::regclass, name => value, ...) as dicts."""
    args, params = _args("regclass", [parent], kwargs)
    query = sql.SQL("SELECT * FROM pgpart.{}({})").format(sql.Identifier(function), args)
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def call(c: Conn, procedure: str, parent: str | None, **kwargs: Any) -> None:
    """CALL pgpart.<procedure>(parent::regclass, name => value, ...) (autocommit connection)."""
    args, params = _args("regclass", [parent], kwargs)
    c.execute(sql.SQL("CALL pgpart.{}({})").format(sql.Identifier(procedure), args), params)


def set_policy(c: Conn, parent: str | None, **kwargs: Any) -> dict[str, Any]:
    rows = select(c, "set_policy", parent, **kwargs)
    assert len(rows) == 1
    return rows[0]


def run_maintenance(c: Conn, parent: str | None = None, **kwargs: Any) -> list[tuple[str, str, str | None]]:
    """(parent, action, partition) of each row of run_maintenance."""
    kwargs.setdefault("now_at", NOW)
    args, params = _args("regclass", [parent], kwargs)
    query = sql.SQL("SELECT parent_table::text, action, partition FROM pgpart.run_maintenance({})").format(args)
    return [(r[0], r[1], r[2]) for r in c.execute(query, params).fetchall()]


def check(c: Conn, parent: str | None = None, now_at: str = NOW) -> list[dict[str, Any]]:
    """pgpart.check as dicts, regclass columns as text."""
    query = """
        SELECT severity, parent_table::text, partition::text, problem, fix
        FROM pgpart.check(%s::regclass, %s::timestamptz)
    """
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (parent, now_at)).fetchall()


def config(c: Conn, parent: str) -> dict[str, Any] | None:
    """The policy row of PARENT (as jsonb, so every column compares)."""
    row = c.execute(
        "SELECT to_jsonb(cfg) FROM pgpart.config AS cfg WHERE cfg.parent = to_regclass(%s)", [parent]
    ).fetchone()
    return None if row is None else row[0]


def log(c: Conn, parent: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
    """Rows of pgpart.log, oldest first, optionally for one (existing) parent and action."""
    query = """
        SELECT id, parent_name, actor::text, action, outcome, detail FROM pgpart.log AS l
        WHERE (%(parent)s::text IS NULL OR l.parent = to_regclass(%(parent)s::text))
          AND (%(action)s::text IS NULL OR l.action = %(action)s::text)
        ORDER BY l.id
    """
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"parent": parent, "action": action}).fetchall()


def partitions(c: Conn, parent: str) -> list[str]:
    """Direct partitions of PARENT, by name (regclass text, so schema-less in public)."""
    rows = c.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1", [parent]
    ).fetchall()
    return [r[0] for r in rows]


def exists(c: Conn, relation: str) -> bool:
    return c.execute("SELECT to_regclass(%s) IS NOT NULL", [relation]).fetchone() == (True,)


def create_daily(
    c: Conn,
    name: str,
    premake: int = 2,
    now_at: str = NOW,
    columns: str = "ts timestamptz NOT NULL, v integer",
    **kwargs: Any,
) -> list[str]:
    """CREATE TABLE name (columns) PARTITION BY RANGE (ts) and its daily
    partitions; returns the partitions created."""
    c.execute(sql.SQL("CREATE TABLE {} ({}) PARTITION BY RANGE (ts)").format(sql.Identifier(name), sql.SQL(columns)))
    args, params = _args("regclass", [name], {"interval": "1 day", "premake": premake, "now_at": now_at, **kwargs})
    query = sql.SQL("SELECT partition FROM pgpart.create_range_partitions({})").format(args)
    return [r[0] for r in c.execute(query, params).fetchall()]


def fill_days(c: Conn, table: str, first: str, days: int, per_day: int = 3) -> int:
    """Inserts PER_DAY rows at noon UTC on each of DAYS days from FIRST (a date)."""
    c.execute(
        sql.SQL(
            "INSERT INTO {} (ts, v) SELECT d + interval '12 hours' + g * interval '1 minute', g"
            " FROM generate_series(%s::date, %s::date + %s - 1, interval '1 day') AS d,"
            " generate_series(1, %s) AS g"
        ).format(sql.Identifier(table)),
        [first, first, days, per_day],
    )
    return days * per_day


def holds_access_exclusive(holder: Conn, *relations: str) -> None:
    """Makes HOLDER (a non-autocommit connection) hold ACCESS EXCLUSIVE on
    RELATIONS until it rolls back."""
    assert not holder.autocommit
    for rel in relations:
        holder.execute(sql.SQL("LOCK TABLE ONLY {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(rel)))
