"""Shared by test_list.py, test_hash.py and test_subpartition.py: calling
create_list_partitions, add_list_values, create_hash_partitions and
create_range_partitions (with a sub-partition spec) with typed named
arguments, and readings of the catalog (direct partitions with their bounds,
the leaves of a tree, where every row lives, index attachment).

For snapshots of everything a refused call must leave as it was, use
helpers_errors.snapshot."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]

# The SQL type of every optional argument, so each placeholder gets a cast.
ARG_TYPES: dict[str, str] = {
    "default_partition": "boolean",
    "tablespace": "name",
    "reloptions": "text[]",
    "lock_timeout": "interval",
    "lock_retries": "integer",
    "dry_run": "boolean",
    "premake": "integer",
    "start": "text",
    "time_zone": "text",
    "origin": "text",
    "now_at": "timestamptz",
    "subpartition": "jsonb",
}


def as_json(value: Any) -> str | None:
    """VALUE as JSON text (None stays SQL NULL); a str is taken as JSON text already."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _call(conn: Conn, function: str, first: list[tuple[Any, str]], kwargs: dict[str, Any]) -> list[Row]:
    parts: list[sql.Composable] = [sql.SQL("%s::{}").format(sql.SQL(t)) for _, t in first]
    params: list[Any] = [v for v, _ in first]
    for name, value in kwargs.items():
        parts.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(ARG_TYPES[name])))
        params.append(as_json(value) if ARG_TYPES[name] == "jsonb" else value)
    query = sql.SQL("SELECT * FROM pgpart.{}({})").format(sql.Identifier(function), sql.SQL(", ").join(parts))
    return conn.execute(query, params).fetchall()


def create_list(conn: Conn, parent: str, values: Any, **kwargs: Any) -> list[Row]:
    """pgpart.create_list_partitions(parent, values::jsonb, name => value, ...);
    VALUES is a Python list/dict (dumped to JSON) or JSON text."""
    return _call(conn, "create_list_partitions", [(parent, "regclass"), (as_json(values), "jsonb")], kwargs)


def create_list_array(conn: Conn, parent: str, values: list[str | None], **kwargs: Any) -> list[Row]:
    """The text[] form of pgpart.create_list_partitions."""
    return _call(conn, "create_list_partitions", [(parent, "regclass"), (values, "text[]")], kwargs)


def add_values(conn: Conn, partition: str, values: Any, **kwargs: Any) -> list[Row]:
    """pgpart.add_list_values(partition, values::jsonb, name => value, ...)."""
    return _call(conn, "add_list_values", [(partition, "regclass"), (as_json(values), "jsonb")], kwargs)


def create_hash(conn: Conn, parent: str, modulus: int | None, **kwargs: Any) -> list[Row]:
    """pgpart.create_hash_partitions(parent, modulus, name => value, ...)."""
    return _call(conn, "create_hash_partitions", [(parent, "regclass"), (modulus, "integer")], kwargs)


def create_range(conn: Conn, parent: str, interval: str, **kwargs: Any) -> list[Row]:
    """pgpart.create_range_partitions(parent, interval, name => value, ...);
    subpartition may be a Python dict."""
    return _call(conn, "create_range_partitions", [(parent, "regclass"), (interval, "text")], kwargs)


def names(rows: list[Row]) -> list[str]:
    """The partition column (second) of pgpart.step rows."""
    return [r[1] for r in rows]


def bounds(conn: Conn, parent: str) -> dict[str, str]:
    """Direct partitions of PARENT: name (without schema) -> bound as PostgreSQL prints it."""
    rows = conn.execute(
        """
        SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)
        FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = %s::regclass ORDER BY 1
        """,
        [parent],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def tree(conn: Conn, parent: str) -> list[Row]:
    """Every relation under PARENT: (name, relkind, direct parent name, bound), by name."""
    return conn.execute(
        """
        WITH RECURSIVE t AS (
            SELECT i.inhrelid AS rel, i.inhparent AS up FROM pg_inherits AS i
            JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass AND c.relkind IN ('r', 'p')
            UNION ALL
            SELECT i.inhrelid, i.inhparent FROM t JOIN pg_inherits AS i ON i.inhparent = t.rel
        )
        SELECT c.relname::text, c.relkind::text, u.relname::text, pg_get_expr(c.relpartbound, c.oid)
        FROM t JOIN pg_class AS c ON c.oid = t.rel JOIN pg_class AS u ON u.oid = t.up
        ORDER BY 1
        """,
        [parent],
    ).fetchall()


def leaves(conn: Conn, parent: str) -> list[str]:
    """Names of the leaf tables (relkind 'r') under PARENT, at any depth."""
    return [r[0] for r in tree(conn, parent) if r[1] == "r"]


def where_rows_are(conn: Conn, parent: str) -> dict[str, int]:
    """Row count per leaf (by name) of every row read through PARENT."""
    rows = conn.execute(
        sql.SQL(
            "SELECT c.relname::text, count(*) FROM {} AS t JOIN pg_class AS c ON c.oid = t.tableoid GROUP BY 1"
        ).format(sql.SQL(parent))
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def index_parents(conn: Conn, rel: str) -> list[tuple[str | None, str]]:
    """(parent index or None, index) for every index of REL."""
    return conn.execute(
        """
        SELECT inh.inhparent::regclass::text, i.indexrelid::regclass::text
        FROM pg_index AS i LEFT JOIN pg_inherits AS inh ON inh.inhrelid = i.indexrelid
        WHERE i.indrelid = %s::regclass ORDER BY 1, 2
        """,
        [rel],
    ).fetchall()


def index_names(conn: Conn, rel: str) -> list[str]:
    rows = conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass ORDER BY 1", [rel]
    )
    return [r[0] for r in rows.fetchall()]


def index_defs(conn: Conn, rel: str) -> list[str]:
    """Index definitions of REL with its name replaced by <p> and index names dropped."""
    rows = conn.execute(
        """
        SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON ', 'CREATE \\1INDEX ON ')
        FROM pg_index AS i WHERE i.indrelid = %s::regclass
        """,
        [rel],
    ).fetchall()
    return sorted(r[0].replace(rel, "<p>") for r in rows)


def constraints(conn: Conn, rel: str) -> list[Row]:
    """Constraints of REL (type, definition, validated, inherited count), without names."""
    rows = conn.execute(
        """
        SELECT con.contype::text, pg_get_constraintdef(con.oid), con.convalidated, con.coninhcount
        FROM pg_constraint AS con WHERE con.conrelid = %s::regclass
        """,
        [rel],
    ).fetchall()
    return sorted(rows)


def owner_of(conn: Conn, rel: str) -> str:
    row = conn.execute(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = %s::regclass", [rel]
    ).fetchone()
    assert row is not None
    return str(row[0])


def tablespace_of(conn: Conn, rel: str) -> str:
    """The tablespace REL is really in, the database default named."""
    row = conn.execute(
        """
        SELECT coalesce(t.spcname, (SELECT dt.spcname FROM pg_database AS d
                                    JOIN pg_tablespace AS dt ON dt.oid = d.dattablespace
                                    WHERE d.datname = current_database()))::text
        FROM pg_class AS c LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace
        WHERE c.oid = %s::regclass
        """,
        [rel],
    ).fetchone()
    assert row is not None
    return str(row[0])


def policy(conn: Conn, parent: str) -> dict[str, Any] | None:
    """The pgpart.config row of PARENT as a dict, or None."""
    row = conn.execute("SELECT to_jsonb(c) FROM pgpart.config AS c WHERE c.parent = %s::regclass", [parent]).fetchone()
    return None if row is None else row[0]


def log_actions(conn: Conn, parent: str) -> list[tuple[str, str]]:
    """(action, outcome) of every pgpart.log entry of PARENT, oldest first."""
    rows = conn.execute(
        "SELECT action, outcome FROM pgpart.log WHERE parent = %s::regclass ORDER BY id", [parent]
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def wait_until_waiting(admin: Conn, pid: int, done: Any) -> None:
    """Returns once backend PID waits for a lock (by state, never by time);
    DONE() tells that the call ended early, which the caller then reports."""
    for _ in range(100_000):
        row = admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid]).fetchone()
        if row != (0,) or done():
            return
    raise AssertionError(f"backend {pid} never waited for a lock")


def out_of_step(conn: Conn, parent: str) -> list[Row]:
    """What pgpart.reconcile would change under PARENT (its dry run): nothing,
    for partitions pgpart made itself."""
    return conn.execute(
        "SELECT partition::text, action, statement FROM pgpart.reconcile(%s::regclass, dry_run => true)", [parent]
    ).fetchall()
