"""An online detach that gives up (issue 14, item 2).

``DETACH ... CONCURRENTLY`` marks its partition "detach pending" in its first
transaction, then waits for every transaction using the parent. The client
does not start it while such a transaction is predictably long (55P03,
nothing changed, not even a journal entry); when it does give up after the
mark, it finishes the detach with FINALIZE at once, or else reports the
partition left pending and what it waits for, without retrying for long.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import pgpart
from catalog import count_rows, partition_names
from clock import CLIENT_NOW
from fix_pg import Connect
from pgpart import errors
from tables import DAY, EXPIRED, make_events, managed_events

Conn = psycopg.Connection[Any]


def pending(conn: Conn) -> list[str]:
    rows = conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'public.events'::regclass"
        " AND inhdetachpending"
    ).fetchall()
    return [r[0] for r in rows]


def journal_rows(conn: Conn) -> int:
    return count_rows(conn, "pgpart.log WHERE parent_name = 'public.events' AND action = 'detach'")


def test_a_reader_on_the_parent_stops_the_detach_before_it_starts(conn: Conn, connect: Connect) -> None:
    client = managed_events(conn, retention_action="drop")
    before = count_rows(conn, "public.events")
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM public.events")  # and stays idle in its transaction
    report = client.maintain("public.events", now_at=CLIENT_NOW)
    [failure] = report.errors
    assert isinstance(failure.error, errors.LockTimeoutError)
    assert "DETACH CONCURRENTLY would wait for sessions using events" in failure.error.message
    assert f"pid {reader.info.backend_pid} " in (failure.error.detail or "")
    assert "idle in transaction" in (failure.error.detail or "")
    # nothing changed: no partition pending, none detached, no journal entry
    assert pending(conn) == []
    assert partition_names(conn, "public.events")[:3] == EXPIRED
    assert journal_rows(conn) == 0
    assert count_rows(conn, "public.events") == before
    reader.rollback()
    assert client.maintain("public.events", now_at=CLIENT_NOW).ok
    assert EXPIRED[0] not in partition_names(conn, "public.events")
    reader.close()


def test_a_reader_on_the_partition_stops_the_detach_before_it_starts(conn: Conn, connect: Connect) -> None:
    """DETACH CONCURRENTLY would wait for a reader of the partition itself
    too (it left the partition pending in a first version of this test)."""
    client = managed_events(conn, retention_action="drop")
    reader = connect(autocommit=False)
    reader.execute(f"SELECT count(*) FROM public.{EXPIRED[0]}")
    report = client.maintain("public.events", now_at=CLIENT_NOW)
    [failure] = report.errors
    assert isinstance(failure.error, errors.LockTimeoutError)
    assert f"not detaching public.{EXPIRED[0]}" in failure.error.message
    assert f"pid {reader.info.backend_pid} " in (failure.error.detail or "")
    assert pending(conn) == []
    assert partition_names(conn, "public.events")[:3] == EXPIRED
    assert journal_rows(conn) == 0
    reader.rollback()
    assert client.maintain("public.events", now_at=CLIENT_NOW).ok
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    assert count_rows(conn, f"pg_class WHERE relname = '{EXPIRED[0]}'") == 0
    reader.close()


def test_a_detach_left_pending_is_reported_with_what_it_waits_for(
    owner_conn: Conn, connect: Connect, conn: Conn
) -> None:
    """A session the client cannot see the state of (another role, without
    pg_read_all_stats) is not foreseen: the detach starts, gives up waiting
    for it, FINALIZE gives up too, and the error names the partition left
    pending and the session. Meanwhile the parent no longer shows its rows
    and refuses inserts into its range; the partition itself is readable."""
    make_events(owner_conn)
    client = pgpart.Client(owner_conn)
    client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW - 5 * DAY)
    client.ensure("public.events", premake=1, retention="2 days", retention_action="drop", now_at=CLIENT_NOW)
    owner_conn.execute(
        "INSERT INTO public.events (created_at, payload)"
        " SELECT timestamptz '2025-03-05 06:00+00' + d * interval '1 day' + i * interval '1 minute', 'old'"
        " FROM generate_series(0, 4) AS d, generate_series(1, 10) AS i"
    )
    owner_conn.execute("GRANT SELECT ON public.events TO pgpart_other")
    rows_before = count_rows(owner_conn, "public.events")
    in_partition = count_rows(owner_conn, f"public.{EXPIRED[0]}")
    reader = connect("pgpart_other", autocommit=False)
    reader.execute("SELECT count(*) FROM public.events")
    report = client.maintain("public.events", now_at=CLIENT_NOW, lock_retries=0)
    [failure] = report.errors
    assert isinstance(failure.error, errors.LockTimeoutError)
    assert f"partition public.{EXPIRED[0]} of events is left DETACH PENDING" in failure.error.message
    assert f"pid {reader.info.backend_pid} (another role's session)" in (failure.error.detail or "")
    assert "FINALIZE" in (failure.error.hint or "")
    assert pending(conn) == [EXPIRED[0]]

    # what readers and writers see while it is pending
    assert count_rows(conn, "public.events") == rows_before - in_partition
    assert count_rows(conn, f"public.{EXPIRED[0]}") == in_partition
    with pytest.raises(psycopg.errors.CheckViolation):  # 23514
        conn.execute("INSERT INTO public.events (created_at, payload) VALUES ('2025-03-05 12:00+00', 'late')")

    reader.rollback()
    assert client.maintain("public.events", now_at=CLIENT_NOW).ok  # finishes it, then the rest
    assert pending(conn) == []
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    reader.close()
