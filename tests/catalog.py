"""Readers of the catalog, the tests' oracle: what pgpart did is read here
straight from pg_class, pg_inherits, pg_index, pg_tablespace and pgpart's
own tables, never through pgpart's readers (partition_info, check), so a
test does not take pgpart's word for what pgpart did.

Partitions: ``partitions`` (regclass text), ``partition_names`` (relname),
``partition_bounds`` (relname, bound under TimeZone UTC), ``bounds`` (relname
-> bound as the session prints it), ``bounds_in_order``, ``attached`` (with
detach-pending), ``tree``/``leaves`` (every level), ``tree_with_indexes``.
Whole-database snapshots of what a refused call must leave as it was:
``snapshot`` and ``snapshot_with_oids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from clock import GRID_NOW

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]


# ---------------------------------------------------------------- partitions


def partitions(conn: psycopg.Connection[Any], parent: str) -> list[str]:
    """Direct partitions of PARENT, by name."""
    rows = conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1",
        [parent],
    ).fetchall()
    return [r[0] for r in rows]


def partition_bounds(conn: Conn, parent: str) -> list[tuple[str, str]]:
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
    return [name for name, _ in partition_bounds(conn, parent)]


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


def info(conn: Conn, parent: str) -> list[tuple[str, str, str]]:
    """(partition name, lower_bound, upper_bound) from pgpart.partition_info, in its order."""
    rows = conn.execute(
        """
        SELECT c.relname::text, i.lower_bound, i.upper_bound
        FROM pgpart.partition_info(%s::regclass, %s::timestamptz) AS i
        JOIN pg_class AS c ON c.oid = i.partition
        """,
        (parent, GRID_NOW),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def info_with_bound(conn: Conn, parent: str) -> list[tuple[str, str, str, str]]:
    """(relname, lower_bound, upper_bound, bound) of the non-default partitions
    from pgpart.partition_info, in its order (the bounds shown as times and
    the stored ones, for keys that are not times: uuid, epoch integers)."""
    rows = conn.execute(
        "SELECT c.relname::text, i.lower_bound, i.upper_bound, i.bound"
        " FROM pgpart.partition_info(%s::regclass) AS i JOIN pg_class AS c ON c.oid = i.partition"
        " WHERE NOT i.is_default",
        [parent],
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


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


@dataclass(frozen=True)
class Part:
    name: str  # relname (schema public unless said otherwise)
    bound: str  # pg_get_expr(relpartbound) under TimeZone UTC
    detach_pending: bool


def attached(conn: Conn, parent: str) -> list[Part]:
    """Direct partitions of PARENT in bound order (default last), straight from the catalog."""
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        rows = conn.execute(
            """
            SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid), i.inhdetachpending
            FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass
            ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', pg_get_expr(c.relpartbound, c.oid)
            """,
            [parent],
        ).fetchall()
    return [Part(*r) for r in rows]


def tree_with_indexes(conn: Conn, parent: str) -> list[dict[str, Any]]:
    """Every table of the partition tree under PARENT (all levels, PARENT
    excluded) and each of its indexes: name, kind, tablespace ('' for the
    database default), owner."""
    rows = conn.execute(
        """
        WITH RECURSIVE t AS (
            SELECT i.inhrelid AS rel FROM pg_inherits AS i WHERE i.inhparent = %s::regclass
            UNION ALL
            SELECT i.inhrelid FROM t JOIN pg_inherits AS i ON i.inhparent = t.rel
        ),
        rels AS (
            SELECT t.rel AS oid, t.rel AS tab FROM t
            UNION ALL
            SELECT x.indexrelid, t.rel FROM t JOIN pg_index AS x ON x.indrelid = t.rel
        )
        SELECT c.relname::text, c.relkind::text, coalesce(s.spcname::text, ''),
               pg_get_userbyid(c.relowner)::text, r.tab::regclass::text
        FROM rels AS r JOIN pg_class AS c ON c.oid = r.oid
        LEFT JOIN pg_tablespace AS s ON s.oid = c.reltablespace
        ORDER BY 1
        """,
        [parent],
    ).fetchall()
    return [{"name": r[0], "kind": r[1], "tablespace": r[2], "owner": r[3], "table": r[4]} for r in rows]


def out_of_step(conn: Conn, parent: str) -> list[str]:
    """What breaks the rules pgpart keeps: every partition owned by the
    parent's owner; every index of a partition in that partition's
    tablespace. Empty when everything is in step."""
    owner = conn.execute("SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = %s::regclass", [parent])
    parent_owner = owner.fetchone()[0]  # type: ignore[index]
    rels = tree_with_indexes(conn, parent)
    tables = {r["name"]: r for r in rels if r["kind"] in ("r", "p")}
    problems = []
    for r in rels:
        if r["kind"] in ("r", "p") and r["owner"] != parent_owner:
            problems.append(f"{r['name']} owned by {r['owner']}, parent by {parent_owner}")
        if r["kind"] in ("i", "I"):
            table = tables[r["table"].split(".")[-1]]
            if r["tablespace"] != table["tablespace"]:
                problems.append(
                    f"{r['name']} in {r['tablespace'] or 'default'}, {table['name']} in "
                    f"{table['tablespace'] or 'default'}"
                )
    return sorted(problems)


# ---------------------------------------------------------------- relations


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    oid: int
    tablespace: str  # 'pg_default' when the database default
    is_partition: bool
    index_tablespaces: tuple[str, ...]  # one per index, in index name order


def tables(conn: Conn, like: str) -> dict[str, Table]:
    """Every ordinary table whose name is LIKE the pattern, in any schema, by name."""
    rows = conn.execute(
        """
        SELECT n.nspname::text, c.relname::text, c.oid::int8,
               coalesce(t.spcname, 'pg_default')::text, c.relispartition,
               array(SELECT coalesce(it.spcname, 'pg_default')::text
                     FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
                     LEFT JOIN pg_tablespace AS it ON it.oid = ic.reltablespace
                     WHERE x.indrelid = c.oid ORDER BY ic.relname)
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace
        WHERE c.relkind = 'r' AND c.relname LIKE %s
        ORDER BY 2
        """,
        [like],
    ).fetchall()
    return {r[1]: Table(r[0], r[1], r[2], r[3], r[4], tuple(r[5])) for r in rows}


def count(conn: Conn, schema: str, table: str, only: bool = True) -> int:
    query = sql.SQL("SELECT count(*) FROM {} {}.{}").format(
        sql.SQL("ONLY" if only else ""), sql.Identifier(schema), sql.Identifier(table)
    )
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def exists(c: Conn, relation: str) -> bool:
    return c.execute("SELECT to_regclass(%s) IS NOT NULL", [relation]).fetchone() == (True,)


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


# ---------------------------------------------------------------- pgpart's tables


def config(c: Conn, parent: str) -> dict[str, Any] | None:
    """The policy row of PARENT (as jsonb, so every column compares)."""
    row = c.execute(
        "SELECT to_jsonb(cfg) FROM pgpart.config AS cfg WHERE cfg.parent = to_regclass(%s)", [parent]
    ).fetchone()
    return None if row is None else row[0]


def config_row(conn: Conn, parent: str) -> dict[str, Any] | None:
    cur = conn.execute("SELECT * FROM pgpart.config WHERE parent = %s::regclass", (parent,))
    row = cur.fetchone()
    if row is None:
        return None
    assert cur.description is not None
    return {d.name: v for d, v in zip(cur.description, row, strict=True)}


def log(conn: Conn, parent: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
    """pgpart.log rows (parent as text), oldest first, optionally filtered."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT l.id, l.parent::text AS parent, l.action, l.outcome, l.detail
            FROM pgpart.log AS l
            WHERE (%(p)s::text IS NULL OR l.parent = %(p)s::regclass)
              AND (%(a)s::text IS NULL OR l.action = %(a)s)
            ORDER BY l.id
            """,
            {"p": parent, "a": action},
        ).fetchall()


def log_with_actor(c: Conn, parent: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
    """Rows of pgpart.log, oldest first, optionally for one (existing) parent and action."""
    query = """
        SELECT id, parent_name, actor::text, action, outcome, detail FROM pgpart.log AS l
        WHERE (%(parent)s::text IS NULL OR l.parent = to_regclass(%(parent)s::text))
          AND (%(action)s::text IS NULL OR l.action = %(action)s::text)
        ORDER BY l.id
    """
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"parent": parent, "action": action}).fetchall()


def log_actions(conn: Conn, parent: str) -> list[tuple[str, str]]:
    """(action, outcome) of every pgpart.log entry of PARENT, oldest first."""
    rows = conn.execute(
        "SELECT action, outcome FROM pgpart.log WHERE parent = %s::regclass ORDER BY id", [parent]
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def log_entries(conn: Conn, parent: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
    """pgpart.log entries of action 'reconcile' (optionally of one parent and source), oldest first."""
    rows = conn.execute(
        "SELECT actor::text, outcome, detail FROM pgpart.log WHERE action = 'reconcile'"
        " AND (%s::text IS NULL OR parent = %s::regclass) AND (%s::text IS NULL OR detail->>'source' = %s)"
        " ORDER BY id",
        [parent, parent, source, source],
    ).fetchall()
    return [{"actor": r[0], "outcome": r[1], "detail": r[2]} for r in rows]


# ---------------------------------------------------------------- snapshots


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


def snapshot_with_oids(conn: Conn) -> dict[str, Any]:
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


def count_rows(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def archived(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute("SELECT relname FROM pg_class WHERE relnamespace = 'archive'::regnamespace AND relkind = 'r'")
    return sorted(r[0] for r in rows.fetchall())
