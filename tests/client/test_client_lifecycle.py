"""Client lifecycle verbs on the real server: check, detach_and_archive and
maintain, online (DETACH CONCURRENTLY, step by step, advisory lock) and on
the SQL path. Blocking is made deterministic with a second session holding a
transaction open; nothing is timed."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

import pgpart
from catalog import archived, count_rows, partition_names
from clock import CLIENT_NOW
from fix_pg import Connect
from pgpart import errors
from tables import DAY, EXPIRED, make_events, managed_events


def advisory_locks(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_check_returns_typed_findings(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=2, now_at=CLIENT_NOW)
    assert [f for f in client.check("public.events", now_at=CLIENT_NOW) if f.severity != "info"] == []
    # a year later the runway is long gone
    findings = client.check("public.events", now_at=CLIENT_NOW + 365 * DAY)
    assert findings and all(isinstance(f, pgpart.Finding) for f in findings)
    assert {f.severity for f in findings} <= {"urgent", "warning", "info"}
    assert any(f.severity in ("urgent", "warning") for f in findings)
    assert all(f.parent_table == "events" for f in findings)
    assert client.check(now_at=CLIENT_NOW + 365 * DAY) == findings
    conn.execute("CREATE TABLE public.unmanaged (t timestamptz) PARTITION BY RANGE (t)")
    with pytest.raises(errors.NotManagedError):
        client.check("public.unmanaged")


def test_retention_dry_run_plans_a_concurrent_detach(conn: psycopg.Connection[Any]) -> None:
    client = managed_events(conn)
    report = client.detach_and_archive("public.events", dry_run=True, now_at=CLIENT_NOW)
    assert report.dry_run and report.online
    detaches = [s for s in report.steps if s.action == "detach"]
    assert [s.partition for s in detaches] == [f"public.{p}" for p in EXPIRED]
    assert all(s.top_level and s.statement.endswith("CONCURRENTLY") for s in detaches)
    assert [s.action for s in report.steps if s.partition == f"public.{EXPIRED[0]}"] == ["journal", "detach", "archive"]
    sql_path = client.detach_and_archive("public.events", online=False, dry_run=True, now_at=CLIENT_NOW)
    assert not any(s.top_level for s in sql_path.steps)
    assert partition_names(conn, "public.events")[:3] == EXPIRED  # nothing changed


def test_online_maintenance_with_a_writer(conn: psycopg.Connection[Any], connect: Connect) -> None:
    client = managed_events(conn)
    before = count_rows(conn, "public.events")
    writer = connect()
    writer.execute("SET lock_timeout = '1s'")
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def write() -> None:
        n = 0
        try:
            while not stop.is_set() or n < 20:
                writer.execute("INSERT INTO public.events (created_at, payload) VALUES ('2025-03-10 13:00+00', 'new')")
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        written.append(n)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        seen: list[tuple[int, int]] = []
        report = client.maintain(now_at=CLIENT_NOW, progress=lambda step, i, n: seen.append((i, n)))
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert report.ok, report.errors
    executed = [a for a in report.actions if a.action == "detach"]
    assert [a.partition for a in executed] == [f"public.{p}" for p in EXPIRED]
    assert all(a.detail and a.detail.endswith("CONCURRENTLY") for a in executed)
    assert seen and seen[-1][0] == seen[-1][1]
    assert archived(conn) == EXPIRED
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    # counts conserved: 30 rows archived, everything else still in the parent
    assert sum(count_rows(conn, f"archive.{p}") for p in EXPIRED) == 30
    assert count_rows(conn, "public.events") == before - 30 + written[0]
    assert advisory_locks(conn) == 0
    # and a second run has nothing left to do
    again = client.maintain(now_at=CLIENT_NOW)
    assert again.ok and [a for a in again.actions if a.action in ("detach", "retention due")] == []


def test_interrupted_online_detach_is_finished_by_the_next_run(conn: psycopg.Connection[Any], connect: Connect) -> None:
    client = managed_events(conn, retention_action="drop")
    from sessions import busy_reader  # a reader the detach does not foresee (issue 14)

    with busy_reader(connect, "public.events"):  # holds its snapshot and locks until it ends
        conn.execute("SET statement_timeout = '1s'")
        with pytest.raises(errors.QueryCanceledError):
            client.detach_and_archive("public.events", now_at=CLIENT_NOW, lock_timeout="10min", lock_retries=0)
        conn.execute("RESET statement_timeout")
        pending = [p.partition for p in client.info("public.events", now_at=CLIENT_NOW) if p.detach_pending]
        assert pending == [EXPIRED[0]]
        assert advisory_locks(conn) == 0

    report = client.maintain("public.events", now_at=CLIENT_NOW)
    assert report.ok, report.errors
    assert ("finalized", f"public.{EXPIRED[0]}") in [(a.action, a.partition) for a in report.actions]
    assert [p.partition for p in client.info("public.events", now_at=CLIENT_NOW) if p.detach_pending] == []
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    for name in EXPIRED:
        assert conn.execute("SELECT to_regclass(%s)", [f"public.{name}"]).fetchone() == (None,)  # dropped
    assert count_rows(conn, "public.events") == 20


def test_online_work_refuses_a_connection_inside_a_transaction(connect: Connect) -> None:
    setup = connect()
    managed_events(setup)
    conn = connect(autocommit=False)
    conn.execute("INSERT INTO public.events (created_at, payload) VALUES ('2025-03-10 13:00+00', 'mine')")
    client = pgpart.Client(conn)
    for call in (
        lambda: client.maintain(now_at=CLIENT_NOW),
        lambda: client.detach_and_archive("public.events", now_at=CLIENT_NOW),
        lambda: client.maintain(online=False, now_at=CLIENT_NOW),
    ):
        with pytest.raises(errors.TransactionStateError) as info:
            call()
        assert info.value.sqlstate == "25001" and info.value.hint
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert count_rows(conn, "public.events WHERE payload = 'mine'") == 1  # still the caller's open transaction
    conn.rollback()
    assert count_rows(conn, "public.events WHERE payload = 'mine'") == 0
    assert partition_names(conn, "public.events")[0] == EXPIRED[0]


def test_settings_are_restored(connect: Connect) -> None:
    conn = connect(autocommit=False)
    managed_events(connect())
    conn.execute("SET lock_timeout = '3s'")
    conn.commit()
    report = pgpart.Client(conn).maintain(now_at=CLIENT_NOW)
    assert report.ok
    assert conn.autocommit is False
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert conn.execute("SHOW lock_timeout").fetchone() == ("3s",)
    conn.rollback()
    assert advisory_locks(conn) == 0

    fresh = connect()
    pgpart.Client(fresh).maintain(now_at=CLIENT_NOW)
    assert fresh.execute("SELECT setting, source FROM pg_settings WHERE name = 'lock_timeout'").fetchone() == (
        "0",
        "default",
    )


def test_the_advisory_lock_excludes_other_runs(conn: psycopg.Connection[Any], connect: Connect) -> None:
    client = managed_events(conn)
    other = connect()
    other.execute("SELECT pg_advisory_lock(pgpart.advisory_key('public.events'))")
    # the second run waits at most its lock timeout, then reports skipped
    # (not an error): the run holding the lock does the work (issue 14)
    skipped = client.detach_and_archive("public.events", now_at=CLIENT_NOW, lock_retries=0)
    assert [s.action for s in skipped.steps] == ["skipped"]
    assert "held by another pgpart run" in (skipped.steps[0].locks or "")
    assert partition_names(conn, "public.events")[:3] == EXPIRED
    report = client.maintain(now_at=CLIENT_NOW, lock_retries=0)
    assert [a.action for a in report.actions if a.action in ("skipped", "error")] == ["skipped"]
    assert report.ok
    other.execute("SELECT pg_advisory_unlock(pgpart.advisory_key('public.events'))")
    assert client.maintain(now_at=CLIENT_NOW).ok
    assert archived(conn) == EXPIRED
    assert advisory_locks(conn) == 0


def test_the_sql_path(conn: psycopg.Connection[Any]) -> None:
    client = managed_events(conn)
    report = client.detach_and_archive("public.events", online=False, now_at=CLIENT_NOW)
    assert not report.online and not report.dry_run
    assert [s.partition for s in report.steps if s.action == "detach"] == [f"public.{p}" for p in EXPIRED]
    assert not any(s.top_level for s in report.steps)
    assert report.detached == [f"public.{p}" for p in EXPIRED]
    assert archived(conn) == EXPIRED
    assert client.detach_and_archive("public.events", online=False, now_at=CLIENT_NOW).steps == ()


def test_maintain_on_the_sql_path(conn: psycopg.Connection[Any]) -> None:
    client = managed_events(conn)
    report = client.maintain(online=False, now_at=CLIENT_NOW)
    assert not report.online and report.ok
    assert report.actions  # read back from pgpart.log
    assert archived(conn) == EXPIRED


def test_maintain_dry_run(conn: psycopg.Connection[Any]) -> None:
    client = managed_events(conn)
    report = client.maintain(dry_run=True, now_at=CLIENT_NOW + DAY)
    assert report.dry_run and report.actions == ()
    [(parent, steps)] = report.plans
    assert parent == "events"
    actions = [s.action for s in steps]
    assert "attach" in actions  # 03-12 is due a day later
    assert [s.partition for s in steps if s.action == "detach"] == [
        f"public.{p}" for p in [*EXPIRED, "events_p20250308"]
    ]
    assert partition_names(conn, "public.events")[:3] == EXPIRED and archived(conn) == []


def test_move_default_rows(conn: psycopg.Connection[Any], connect: Connect) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=0, default_partition=True, now_at=CLIENT_NOW)
    conn.execute(
        "INSERT INTO public.events (created_at) VALUES ('2025-04-01 10:00+00'), ('2025-04-01 11:00+00'),"
        " ('2025-04-03 10:00+00')"
    )
    seen: list[int] = []
    moved = client.move_default_rows("public.events", now_at=CLIENT_NOW, progress=lambda r, n: seen.append(n))
    assert [(m.partition, m.rows_moved) for m in moved] == [
        ("public.events_p20250401", 2),
        ("public.events_p20250403", 1),
    ]
    assert all(isinstance(m, pgpart.MovedRange) for m in moved)
    assert seen == [1, 2]
    assert count_rows(conn, "public.events_default") == 0 and count_rows(conn, "public.events") == 3
    assert client.move_default_rows("public.events", now_at=CLIENT_NOW) == []
    inside = connect(autocommit=False)
    inside.execute("SELECT 1")
    with pytest.raises(errors.TransactionStateError):
        pgpart.Client(inside).move_default_rows("public.events")
