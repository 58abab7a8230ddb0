"""Client.maintain reports what this call did, from the rows the verbs
returned, never another session's work, with typed errors on every path
(issue 14, item 4). Blocking is made deterministic with a session holding a
lock; nothing is timed."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

import pgpart
from fix_pg import Connect
from pgpart import errors
from sessions import wait_until_waiting

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def make(conn: Conn, name: str) -> pgpart.Client:
    """NAME: daily partitions from 03-05 to 03-11, retention 2 days, archived
    (at NOW 03-05 to 03-07 are expired), premake 3 (03-12 and 03-13 due)."""
    conn.execute(f"CREATE TABLE public.{name} (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts)")
    conn.execute("CREATE SCHEMA IF NOT EXISTS archive")
    client = pgpart.Client(conn)
    client.ensure(f"public.{name}", interval="1 day", premake=6, now_at=NOW - 5 * DAY)
    client.ensure(
        f"public.{name}", premake=3, retention="2 days", retention_action="archive", archive_schema="archive",
        now_at=NOW - 5 * DAY,
    )  # fmt: skip
    return client


def plant_collision(conn: Conn, name: str) -> None:
    """A table in the way of NAME's next partition: its creation fails 42P07."""
    conn.execute(f"CREATE TABLE public.{name}_p20250312 (ts timestamptz NOT NULL, v text)")


def test_the_report_holds_only_this_calls_work(conn: Conn, connect: Connect) -> None:
    make(conn, "a")
    make(conn, "b")
    plant_collision(conn, "b")
    holder = connect(autocommit=False)
    holder.execute("LOCK TABLE public.a IN ACCESS EXCLUSIVE MODE")
    worker = connect()
    client = pgpart.Client(worker)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(client.maintain, "public.a", online=False, now_at=NOW, lock_timeout="5min", lock_retries=0)
        wait_until_waiting(conn, worker.info.backend_pid, future.done)
        assert not future.done()
        # while the client waits on 'a', another session maintains 'b', and fails there
        first = conn.execute("SELECT max(id) FROM pgpart.log").fetchone()
        other = connect()
        # it finishes b's work, then fails the CALL naming b (issue 15, item 5)
        with pytest.raises(psycopg.Error) as failed:
            other.execute("CALL pgpart.run_maintenance_proc('public.b', %s)", [NOW])
        assert failed.value.sqlstate == "PGM01"
        other_work = conn.execute(
            "SELECT action, outcome FROM pgpart.log WHERE id > %s AND parent = 'public.b'::regclass",
            [first[0] if first else 0],
        ).fetchall()
        assert ("maintenance", "error") in other_work
        assert ("archive", "ok") in other_work
        holder.rollback()
        report = future.result()
    assert report.ok, report.errors
    assert {a.parent_table for a in report.actions} == {"a"}
    assert [(a.action, a.partition) for a in report.actions] == [
        ("created", "public.a_p20250312"),
        ("created", "public.a_p20250313"),
        *[("retention due", f"public.a_p2025030{d}") for d in (5, 6, 7)],
        *[(action, f"public.a_p2025030{d}") for d in (5, 6, 7) for action in ("detach", "archive")],
        ("analyze", None),
    ]
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'archive'::regnamespace").fetchone() == (6,)


@pytest.mark.parametrize("online", [False, True])
def test_a_failure_is_a_typed_error(conn: Conn, online: bool) -> None:
    client = make(conn, "a")
    make(conn, "b")
    plant_collision(conn, "a")
    report = client.maintain(online=online, now_at=NOW)
    [failure] = report.errors
    assert failure.parent_table == "a"
    assert isinstance(failure.error, errors.DuplicateTableError)
    assert failure.error.sqlstate == "42P07"
    assert "a_p20250312" in failure.error.message
    assert failure.detail is not None
    assert failure.detail.startswith("42P07: ")
    # recorded for check(), as before; 'b' went on, retention included
    assert conn.execute(
        "SELECT last_error IS NOT NULL FROM pgpart.config WHERE parent = 'public.a'::regclass"
    ).fetchone() == (True,)
    assert ("created", "public.b_p20250312") in [(a.action, a.partition) for a in report.actions]
    assert ("archive", "public.b_p20250305") in [(a.action, a.partition) for a in report.actions]


@pytest.mark.parametrize("online", [False, True])
def test_a_retention_failure_is_a_typed_error(conn: Conn, online: bool) -> None:
    client = make(conn, "a")
    conn.execute("DROP SCHEMA archive")
    report = client.maintain("public.a", online=online, now_at=NOW)
    [failure] = report.errors
    assert failure.parent_table == "a"
    assert isinstance(failure.error, errors.PgpartError)
    assert failure.error.sqlstate == "3F000"
    assert "archive" in failure.error.message
    # the lock-light part was done and reported
    assert [a.partition for a in report.actions if a.action == "created"] == [
        "public.a_p20250312",
        "public.a_p20250313",
    ]
    row = conn.execute("SELECT last_error FROM pgpart.config WHERE parent = 'public.a'::regclass").fetchone()
    assert row is not None
    assert row[0].startswith("3F000")


def test_a_skip_carries_the_lock_error(conn: Conn, connect: Connect) -> None:
    client = make(conn, "a")
    holder = connect(autocommit=False)
    holder.execute("LOCK TABLE public.a IN ACCESS EXCLUSIVE MODE")
    report = client.maintain("public.a", online=False, now_at=NOW, lock_timeout="10ms", lock_retries=0)
    holder.rollback()
    [skipped] = [a for a in report.actions if a.action == "skipped"]
    assert isinstance(skipped.error, errors.LockTimeoutError)
    assert report.ok  # skipped, not failed: the next run does it
    rows = conn.execute(
        "SELECT action, error ->> 'sqlstate' FROM pgpart.run_maintenance('public.a', %s) WHERE error IS NOT NULL", [NOW]
    ).fetchall()
    assert rows == []  # without the holder, nothing fails
