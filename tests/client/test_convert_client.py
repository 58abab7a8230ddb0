"""Client.convert and `pgpart convert` (issue 18): the dry run shows the
plan and changes nothing; a run converts and reports its steps; a second
run has nothing to do; a refusal is the server's error, exit code 3."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

import pgpart
from cli_runner import dsn
from cli_runner import pgpart as pgpart_command
from pgcluster import PgServer

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00:00+00"


def create(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL,"
                 " PRIMARY KEY (id, ts))")  # fmt: skip
    conn.execute("INSERT INTO ev (ts) SELECT %s::timestamptz - g * interval '1 hour' FROM generate_series(1, 100) g",
                 [NOW])  # fmt: skip


def kind(conn: Conn) -> str:
    row = conn.execute("SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass").fetchone()
    assert row is not None
    return str(row[0])


def test_client_dry_run_then_run(conn: Conn) -> None:
    create(conn)
    client = pgpart.Client(conn)
    plan = client.convert("ev", key="ts", interval="1 day", now_at=NOW, dry_run=True)
    assert [(s.action, s.transaction) for s in plan] == [
        ("bound (proof)", "own"), ("validate bound", "own"), ("swap", "swap"),
        ("register policy, premake partitions", "swap"),
    ]  # fmt: skip
    assert all(s.locks for s in plan)
    assert kind(conn) == "r"
    seen: list[tuple[int, int]] = []
    done = client.convert("ev", key="ts", interval="1 day", now_at=NOW, premake=1,
                          progress=lambda s, n, t: seen.append((n, t)))  # fmt: skip
    assert [s.action for s in done] == [s.action for s in plan]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert kind(conn) == "p"
    assert client.convert("ev", key="ts", interval="1 day", now_at=NOW) == []
    assert client.info("ev")[0].partition == "ev_legacy"


def test_client_refuses_inside_a_transaction(connect: Any) -> None:
    c = connect(autocommit=False)
    create(c)
    with pytest.raises(pgpart.errors.TransactionStateError):
        pgpart.Client(c).convert("ev", key="ts", interval="1 day", now_at=NOW)
    c.rollback()


def test_client_refusal_is_the_servers_error(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id int, ts timestamptz NOT NULL)")
    conn.execute("CREATE UNIQUE INDEX ev_pkey ON ev (id) WHERE id > 0")
    with pytest.raises(pgpart.PgpartError) as exc:
        pgpart.Client(conn).convert("ev", key="ts", interval="1 day", now_at=NOW)
    assert exc.value.sqlstate == "0A000"
    assert exc.value.hint
    assert kind(conn) == "r"


def test_cli_dry_run_run_and_json(pg: PgServer, dbname: str, conn: Conn) -> None:
    create(conn)
    res = pgpart_command(*dsn(pg, dbname), "convert", "ev", "--key", "ts", "--interval", "1 day", "--now", NOW,
                         "--dry-run")  # fmt: skip
    assert res.returncode == 0, res.stderr
    for word in ("plan", "validate bound", "swap"):
        assert word in res.stdout
    assert kind(conn) == "r"
    res = pgpart_command(*dsn(pg, dbname), "convert", "ev", "--key", "ts", "--interval", "1 day", "--now", NOW,
                         "--premake", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "[step 3/4] swap (swap)" in res.stderr
    assert "converted" in res.stdout
    assert kind(conn) == "p"
    res = pgpart_command(*dsn(pg, dbname), "convert", "ev", "--key", "ts", "--interval", "1 day", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


def test_cli_refusal_exit_code(pg: PgServer, dbname: str, conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id int, ts timestamptz NOT NULL)")
    conn.execute("CREATE UNIQUE INDEX ev_pkey ON ev (id) WHERE id > 0")
    res = pgpart_command(*dsn(pg, dbname), "convert", "ev", "--key", "ts", "--interval", "1 day")
    assert res.returncode == 3
    assert "ev_pkey" in res.stderr
    res = pgpart_command(*dsn(pg, dbname), "convert", "ev", "--interval", "1 day")
    assert res.returncode == 64  # --key is required
