"""The one way the tests call pgpart's SQL functions and procedures.

Every call is composed by ``pgpart._calls.call``, the composer the Python
client uses: named notation with only the arguments given, every value a
parameter with an explicit cast (``ARG_TYPES``), so no call depends on how a
driver dumps a Python value. Two things tests need beyond the client: a
``None`` argument is passed as SQL NULL (the client leaves it out), and a
list goes as an array parameter; a Python dict or list for a jsonb argument
is dumped to JSON text first.

Positional arguments are named from ``POSITIONAL`` (parent, then interval,
values or modulus), so ``select(conn, "create_range_partitions", "ev",
"1 day", premake=2)`` reads as the SQL call would.

The shortcuts below (create_range, create_list, set_policy, ...) are
one-liners over ``rows``, ``select`` and ``statement``; they keep call sites
short and compose no SQL of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from clock import NOW
from pgpart._calls import call as compose

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]

# The SQL type of every argument of pgpart's functions and procedures.
ARG_TYPES: dict[str, str] = {
    "parent": "regclass",
    "partition": "regclass",
    "interval": "text",
    "values": "jsonb",
    "modulus": "integer",
    "premake": "integer",
    "start": "text",
    "time_zone": "text",
    "origin": "text",
    "tablespace": "name",
    "default_partition": "boolean",
    "reloptions": "text[]",
    "lock_timeout": "interval",
    "lock_retries": "integer",
    "now_at": "timestamptz",
    "dry_run": "boolean",
    "online": "boolean",
    "retention": "text",
    "retention_action": "text",
    "archive_schema": "name",
    "archive_tablespace": "name",
    "automatic_maintenance": "boolean",
    "analyze_after": "boolean",
    "referenced_retention": "text",
    "reconcile": "boolean",
    "propagate_grants": "boolean",
    "move_large_bytes": "bigint",
    "drain_default": "boolean",
    "drain_default_max_bytes": "bigint",
    "subpartition": "jsonb",
    "max_new": "integer",
    "move_large": "boolean",
    "epoch_unit": "text",
}

# The names of the positional arguments a test may give, by function.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "create_range_partitions": ("parent", "interval"),
    "ensure_range": ("parent", "interval"),
    "create_list_partitions": ("parent", "values"),
    "create_hash_partitions": ("parent", "modulus"),
    "add_list_values": ("partition", "values"),
    "set_tablespace": ("partition", "tablespace"),
}

# The columns of pgpart.step, for rows as dicts.
STEP_COLUMNS = ("step", "partition", "lower_bound", "upper_bound", "action", "statement", "locks", "top_level")


def statement(
    function: str,
    args: Mapping[str, Any],
    *,
    columns: str = "*",
    procedure: bool = False,
    types: Mapping[str, str] | None = None,
) -> tuple[psycopg.sql.Composed, list[Any]]:
    """The statement calling pgpart.FUNCTION with ARGS (name -> value, in
    order) and its parameters. TYPES overrides ARG_TYPES (e.g. the text[]
    form of create_list_partitions)."""
    kept: dict[str, Any] = {}  # stand-in text -> the value psycopg sends itself
    composed: list[tuple[str, str, object]] = []
    for name, value in args.items():
        cast = (types or {}).get(name) or ARG_TYPES[name]
        if value is None or (isinstance(value, (list, tuple)) and cast != "jsonb"):
            stand_in = f"\x01{len(kept)}\x01"
            kept[stand_in] = value
            value = stand_in
        elif cast == "jsonb" and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        composed.append((name, cast, value))
    query, params = compose(function, composed, columns, procedure=procedure)
    return query, [kept.get(p, p) if isinstance(p, str) else p for p in params]


def _named(function: str, positional: tuple[Any, ...], named: Mapping[str, Any]) -> dict[str, Any]:
    names = POSITIONAL.get(function, ("parent",))
    if len(positional) > len(names):
        raise TypeError(f"pgcall: {function} takes at most {len(names)} positional arguments ({', '.join(names)})")
    return {**dict(zip(names, positional, strict=False)), **named}


def rows(
    conn: Conn,
    function: str,
    *positional: Any,
    columns: str = "*",
    types: Mapping[str, str] | None = None,
    **named: Any,
) -> list[Row]:
    """SELECT COLUMNS FROM pgpart.FUNCTION(...): rows as tuples."""
    query, params = statement(function, _named(function, positional, named), columns=columns, types=types)
    return conn.execute(query, params).fetchall()


def select(conn: Conn, function: str, *positional: Any, **named: Any) -> list[dict[str, Any]]:
    """SELECT * FROM pgpart.FUNCTION(...): rows as dicts."""
    query, params = statement(function, _named(function, positional, named))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def call(
    conn: Conn, procedure: str, *positional: Any, on_notice: Callable[[str], None] | None = None, **named: Any
) -> list[str]:
    """CALL pgpart.PROCEDURE(...); returns the NOTICE texts it raised.
    ON_NOTICE, if given, sees each one as it arrives, while the procedure
    still runs."""
    notices: list[str] = []

    def keep(diag: psycopg.errors.Diagnostic) -> None:
        if diag.severity_nonlocalized == "NOTICE" and diag.message_primary is not None:
            notices.append(diag.message_primary)
            if on_notice is not None:
                on_notice(diag.message_primary)

    query, params = statement(procedure, _named(procedure, positional, named), procedure=True)
    conn.add_notice_handler(keep)
    try:
        conn.execute(query, params)
    finally:
        conn.remove_notice_handler(keep)
    return notices


# ---------------------------------------------------------------- shortcuts


def create_range(conn: Conn, parent: str | None, interval: str | None, **named: Any) -> list[Row]:
    """pgpart.create_range_partitions(parent, interval, ...): step rows as tuples."""
    return rows(conn, "create_range_partitions", parent, interval, **named)


def create_range_dicts(conn: Conn, parent: str, interval: str, **named: Any) -> list[dict[str, Any]]:
    """pgpart.create_range_partitions(parent, interval, ...): step rows as dicts."""
    return [dict(zip(STEP_COLUMNS, r, strict=True)) for r in create_range(conn, parent, interval, **named)]


def create_list(conn: Conn, parent: str, values: Any, **named: Any) -> list[Row]:
    """pgpart.create_list_partitions(parent, values::jsonb, ...); VALUES is a
    Python list/dict (dumped to JSON) or JSON text."""
    return rows(conn, "create_list_partitions", parent, values, **named)


def create_list_array(conn: Conn, parent: str, values: list[str | None], **named: Any) -> list[Row]:
    """The text[] form of pgpart.create_list_partitions."""
    return rows(conn, "create_list_partitions", parent, values, types={"values": "text[]"}, **named)


def add_values(conn: Conn, partition: str, values: Any, **named: Any) -> list[Row]:
    """pgpart.add_list_values(partition, values::jsonb, ...)."""
    return rows(conn, "add_list_values", partition, values, **named)


def create_hash(conn: Conn, parent: str, modulus: int | None, **named: Any) -> list[Row]:
    """pgpart.create_hash_partitions(parent, modulus, ...)."""
    return rows(conn, "create_hash_partitions", parent, modulus, **named)


def set_policy(conn: Conn, parent: str | None, **named: Any) -> dict[str, Any]:
    """pgpart.set_policy(parent, ...): its one row as a dict."""
    result = select(conn, "set_policy", parent, **named)
    assert len(result) == 1
    return result[0]


def run_maintenance(conn: Conn, parent: str | None = None, **named: Any) -> list[tuple[str, str, str | None]]:
    """(parent, action, partition) of each row of pgpart.run_maintenance (now_at NOW unless given)."""
    named.setdefault("now_at", NOW)
    result = rows(conn, "run_maintenance", parent, columns="parent_table::text, action, partition", **named)
    return [(r[0], r[1], r[2]) for r in result]


def check(conn: Conn, parent: str | None = None, now_at: str = NOW) -> list[dict[str, Any]]:
    """pgpart.check as dicts (severity, parent_table, partition, problem, fix), regclass columns as text."""
    query, params = statement(
        "check",
        {"parent": parent, "now_at": now_at},
        columns="severity, parent_table::text, partition::text, problem, fix",
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def names(rows: list[Row]) -> list[str]:
    """The partition column (second) of pgpart.step rows."""
    return [r[1] for r in rows]


def reconcile_dry_run(conn: Conn, parent: str) -> list[Row]:
    """What pgpart.reconcile would change under PARENT (its dry run):
    (partition, action, statement); nothing, for partitions pgpart made itself."""
    return rows(conn, "reconcile", parent, dry_run=True, columns="partition::text, action, statement")
