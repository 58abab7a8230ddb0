"""Shared by test_event_triggers.py and test_reconcile.py: two real
tablespaces, a managed parent owned by pgpart_owner, notice capture, and
readings of the catalog (where each index lies, who owns each partition).

Import the fixtures: ``from helpers_ddl import tablespaces  # noqa: F401``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgcluster import PgServer

Conn = psycopg.Connection[Any]
NOW = "2024-03-10 12:00:00+00"


@dataclass(frozen=True)
class Tablespaces:
    a: str
    b: str


@pytest.fixture
def tablespaces(pg: PgServer, conn: Conn, dbname: str) -> Iterator[Tablespaces]:
    """Two tablespaces in the server's private directory, on which
    pgpart_owner and pgpart_other have CREATE. Dropped afterwards, after every
    table of the test database (all in schema public) is gone."""
    names = [f"ts_{dbname}_a", f"ts_{dbname}_b"]
    locations = [Path(pg.datadir).parent / name for name in names]
    for name, location in zip(names, locations, strict=True):
        location.mkdir()
        if os.geteuid() == 0:
            shutil.chown(location, "postgres", "postgres")
        conn.execute(
            sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(location)))
        )
        conn.execute(
            sql.SQL("GRANT CREATE ON TABLESPACE {} TO pgpart_owner, pgpart_other").format(sql.Identifier(name))
        )
    yield Tablespaces(*names)
    conn.execute("SET lock_timeout = '10s'")
    conn.execute("SET pgpart.event_triggers = off")
    conn.execute("DROP SCHEMA public CASCADE")
    for name, location in zip(names, locations, strict=True):
        conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))
        shutil.rmtree(location, ignore_errors=True)


def make_parent(conn: Conn, name: str, owner: str = "pgpart_owner") -> str:
    """A RANGE parent on timestamptz with a primary key and a plain index,
    owned by OWNER, who gets CREATE on schema public (new partitions are
    owned by the parent's owner)."""
    table = sql.Identifier(name)
    conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(owner)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE public.{} (id bigint NOT NULL, ts timestamptz NOT NULL, v text, PRIMARY KEY (id, ts))"
            " PARTITION BY RANGE (ts)"
        ).format(table)
    )
    conn.execute(sql.SQL("CREATE INDEX {} ON public.{} (v)").format(sql.Identifier(f"{name}_v"), table))
    conn.execute(sql.SQL("ALTER TABLE public.{} OWNER TO {}").format(table, sql.Identifier(owner)))
    return f"public.{name}"


def manage(conn: Conn, parent: str, tablespace: str | None = None, premake: int = 1, **policy: Any) -> None:
    """Partitions for PARENT by pgpart (day 2024-03-10 plus PREMAKE), made by
    its owner through CONN; then set_policy(**POLICY) if given."""
    conn.execute(
        "SELECT count(*) FROM pgpart.create_range_partitions(%s::regclass, '1 day', premake => %s,"
        " tablespace => %s::name, now_at => %s)",
        [parent, premake, tablespace, NOW],
    )
    if policy:
        args = sql.SQL(", ").join(sql.SQL("{} => %s").format(sql.Identifier(k)) for k in policy)
        conn.execute(
            sql.SQL("SELECT count(*) FROM pgpart.set_policy(%s::regclass, {})").format(args),
            [parent, *policy.values()],
        )


@dataclass
class Notices:
    """Every notice a connection receives (severity, SQLSTATE, message)."""

    items: list[tuple[str, str, str]] = field(default_factory=list)

    def __call__(self, diag: psycopg.errors.Diagnostic) -> None:
        self.items.append((diag.severity_nonlocalized or "", diag.sqlstate or "", diag.message_primary or ""))

    def of(self, severity: str) -> list[tuple[str, str, str]]:
        return [n for n in self.items if n[0] == severity]


def notices(conn: Conn) -> Notices:
    found = Notices()
    conn.add_notice_handler(found)
    return found


def tree(conn: Conn, parent: str) -> list[dict[str, Any]]:
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
    rels = tree(conn, parent)
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


def log_entries(conn: Conn, parent: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
    """pgpart.log entries of action 'reconcile' (optionally of one parent and source), oldest first."""
    rows = conn.execute(
        "SELECT actor::text, outcome, detail FROM pgpart.log WHERE action = 'reconcile'"
        " AND (%s::text IS NULL OR parent = %s::regclass) AND (%s::text IS NULL OR detail->>'source' = %s)"
        " ORDER BY id",
        [parent, parent, source, source],
    ).fetchall()
    return [{"actor": r[0], "outcome": r[1], "detail": r[2]} for r in rows]
