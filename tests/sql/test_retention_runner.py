"""The one retention runner, pgpart._retention_step (issue 13, item 3): every
path (detach_and_archive, both procedures, the client online and on the SQL
path) loops over it; it chooses and runs each step under the parent's
advisory lock, returns online the DETACH ... CONCURRENTLY for the client to
run and continues after it, reports 'skipped' when another run holds the
parent, and ends with the policy's ANALYZE."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import pgpart
from fix_pg import Connect

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00:00+00"
LATER = "2024-03-20 12:00:00+00"
STEP = "step, partition, action, statement, top_level"


def make_daily(conn: Conn, action: str = "drop", analyze: bool = False) -> None:
    conn.execute("CREATE TABLE ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("SELECT pgpart.create_range_partitions('ev', '1 day', premake => 2, now_at => %s)", [NOW])
    conn.execute("CREATE SCHEMA IF NOT EXISTS archive")
    conn.execute(
        "SELECT pgpart.set_policy('ev', retention => '3 days', retention_action => %s, archive_schema => %s,"
        " analyze_after => %s)",
        [action, "archive" if action == "archive" else None, analyze],
    )
    conn.execute(
        "INSERT INTO ev SELECT %s::timestamptz + i * interval '1 hour' FROM generate_series(0, 35) AS i", [NOW]
    )
    # the partitions of 13 to 22 March, so that 10 to 16 March expire
    conn.execute("SELECT * FROM pgpart.run_maintenance(now_at => %s)", [LATER])


def runner(conn: Conn, online: bool = False, done: int = 0, **kw: Any) -> list[tuple[Any, ...]]:
    return conn.execute(
        f"SELECT {STEP} FROM pgpart._retention_step('public.ev', %s, %s, %s, p_online => %s, p_done => %s)",
        [LATER, kw.get("timeout", "200ms"), kw.get("retries", 10), online, done],
    ).fetchall()


def attached(conn: Conn) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname::text FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'ev'::regclass ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def exists(conn: Conn, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def plan(conn: Conn, online: bool = False) -> list[tuple[str | None, str]]:
    rows = conn.execute(
        "SELECT partition, action FROM pgpart.detach_and_archive('ev', now_at => %s, dry_run => true, online => %s)",
        [LATER, online],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_each_call_runs_the_first_step_of_the_plan(conn: Conn) -> None:
    make_daily(conn)
    expected = plan(conn)
    assert expected[:2] == [("public.ev_p20240310", "detach"), ("public.ev_p20240310", "drop")]
    done: list[tuple[str | None, str]] = []
    while rows := runner(conn, done=len(done)):
        [(_, partition, action, _, top_level)] = rows
        assert top_level is False
        done.append((partition, action))
    assert done == expected
    assert attached(conn)[0] == "ev_p20240317"
    assert not exists(conn, "public.ev_p20240310")


def test_online_it_returns_the_concurrent_detach_and_continues_after_it(conn: Conn) -> None:
    make_daily(conn)
    [journal, detach] = runner(conn, online=True)
    assert (journal[1], journal[2], journal[4]) == ("public.ev_p20240310", "journal", False)
    assert (detach[1], detach[2], detach[4]) == ("public.ev_p20240310", "detach", True)
    assert detach[3] == "ALTER TABLE public.ev DETACH PARTITION public.ev_p20240310 CONCURRENTLY"
    # the journal entry is written, the DETACH is not run: the caller runs it
    assert "ev_p20240310" in attached(conn)
    row = conn.execute(
        "SELECT count(*) FROM pgpart.log WHERE action = 'detach' AND journal_name = 'ev_p20240310'"
    ).fetchone()
    assert row == (1,)
    conn.execute(detach[3])
    # the runner continues with the drop of the table the client detached
    [drop] = runner(conn, online=True, done=2)
    assert (drop[1], drop[2]) == ("public.ev_p20240310", "drop")
    assert not exists(conn, "public.ev_p20240310")


def test_online_it_refuses_before_the_journal_when_a_transaction_would_block(conn: Conn, connect: Connect) -> None:
    make_daily(conn)
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM public.ev")
    with pytest.raises(psycopg.errors.LockNotAvailable) as info:
        runner(conn, online=True)
    assert f"pid {reader.info.backend_pid} " in (info.value.diag.message_detail or "")
    row = conn.execute("SELECT count(*) FROM pgpart.log WHERE action = 'detach'").fetchone()
    assert row == (0,)
    reader.rollback()
    # the SQL path does not use DETACH CONCURRENTLY: it is not refused
    assert runner(conn)[0][2] == "detach"


def test_another_run_holding_the_parent_makes_it_skip(conn: Conn, connect: Connect) -> None:
    make_daily(conn)
    holder = connect()
    holder.execute("SELECT pg_advisory_lock(pgpart.advisory_key('public.ev'::regclass))")
    before = attached(conn)
    [skipped] = runner(conn, timeout="10ms", retries=0)
    assert (skipped[0], skipped[2], skipped[3]) == (0, "skipped", None)
    assert attached(conn) == before
    row = conn.execute("SELECT outcome FROM pgpart.log WHERE action = 'retention' ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("skipped",)
    # the procedure stops at it without failing; the client reports it
    conn.execute("CALL pgpart.detach_and_archive_proc('ev', '10ms', 0, %s)", [LATER])
    assert attached(conn) == before
    report = pgpart.Client(conn).detach_and_archive(
        "public.ev", online=False, now_at=LATER, lock_timeout="10ms", lock_retries=0
    )
    assert [s.action for s in report.steps] == ["skipped"]
    holder.execute("SELECT pg_advisory_unlock_all()")


def test_the_policy_analyze_comes_last_once_work_was_done(conn: Conn) -> None:
    make_daily(conn, analyze=True)
    assert runner(conn, done=0)[0][2] == "detach"
    # nothing is left after the work of the whole run: then ANALYZE, once
    conn.execute("CALL pgpart.detach_and_archive_proc('ev', now_at => %s)", [LATER])
    [analyze] = runner(conn, done=5)
    assert analyze[2] == "analyze"
    assert analyze[3].startswith("SELECT pgpart._analyze_bounded(")
    # a run that did nothing does not analyze
    assert runner(conn, done=0) == []


@pytest.mark.parametrize("path", ["proc", "function", "client sql", "client online", "maintain sql", "maintain online"])
def test_every_path_does_the_same_steps(conn: Conn, path: str) -> None:
    make_daily(conn, action="archive")
    expected = [(p, a) for p, a in plan(conn) if a != "journal"]
    client = pgpart.Client(conn)
    done: list[tuple[str | None, str]]
    if path == "proc":
        conn.execute("CALL pgpart.detach_and_archive_proc('ev', now_at => %s)", [LATER])
        done = [(r[0], r[1]) for r in conn.execute(
            "SELECT journal_oid::regclass::text, action FROM pgpart.log"
            " WHERE action IN ('detach', 'archive') ORDER BY id"
        ).fetchall()]  # fmt: skip
        done = [(p.replace("archive.", "public."), a) for p, a in done]
    elif path == "function":
        done = []
        while rows := conn.execute(
            "SELECT partition, action FROM pgpart.detach_and_archive('ev', now_at => %s)", [LATER]
        ).fetchall():
            done += [(r[0], r[1]) for r in rows]
    elif path.startswith("client"):
        report = client.detach_and_archive("public.ev", online=path.endswith("online"), now_at=LATER)
        done = [(s.partition, s.action) for s in report.steps if s.action != "journal"]
    else:
        maintained = client.maintain("public.ev", online=path.endswith("online"), now_at=LATER)
        assert maintained.ok
        done = [(a.partition, a.action) for a in maintained.actions if a.action in ("detach", "archive")]
    assert done == expected
    assert attached(conn)[0] == "ev_p20240317"
    assert exists(conn, "archive.ev_p20240310")
