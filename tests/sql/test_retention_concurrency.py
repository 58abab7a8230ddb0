"""Two retention runs on one parent exclude each other (issue 14, item 1).

Every pairing of retention's entry points (the procedure, a loop over the
step function, the client offline and online) is started at the same
moment on a parent with many expired partitions: a third session holds the
parent's advisory lock (``pgpart.advisory_key``) until both runs wait for
it, then lets go. Whatever the interleaving, no run fails, nothing is
logged as an error (no ``last_error``), every expired partition is
detached and dropped (or archived) exactly once, and a run that did not do
the work reports ``skipped`` or found nothing to do.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

import pgpart
from fix_pg import Connect
from pgcall import call
from tables import make_events

Conn = psycopg.Connection[Any]

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
DAYS = 24  # partitions NOW .. NOW + DAYS days
LATER = NOW + dt.timedelta(days=20)  # retention 1 day: 19 partitions expired
EXPIRED = 19
ROUNDS = 5
# long enough that the runs outwait the third session and each other's steps
LOCK_TIMEOUT = "5s"

ENTRY_POINTS = ("procedure", "step_function", "client_offline", "client_online")


@dataclass
class Outcome:
    """What one run did: the (action, partition) of each step it reports,
    whether it reported ``skipped``, and its exception, if any."""

    steps: list[tuple[str, str | None]] = field(default_factory=list)
    skipped: bool = False
    error: BaseException | None = None


def _procedure(conn: Conn, table: str) -> Outcome:
    out = Outcome()
    notices = call(conn, "run_maintenance_proc", table, now_at=LATER, lock_timeout=LOCK_TIMEOUT)
    prefix = f"pgpart: {table} "
    for n in notices:
        if n.startswith("pgpart: skipping retention of"):
            out.skipped = True
        elif n.startswith(prefix):
            action, _, partition = n[len(prefix) :].partition(" ")
            out.steps.append((action, partition or None))
    return out


def _step_function(conn: Conn, table: str) -> Outcome:
    out = Outcome()
    while True:
        row = conn.execute(
            "SELECT action, partition FROM pgpart.detach_and_archive(%s::regclass, lock_timeout => %s::interval,"
            " now_at => %s::timestamptz)",
            [table, LOCK_TIMEOUT, LATER],
        ).fetchone()
        if row is None:
            return out
        if row[0] == "skipped":
            out.skipped = True
            return out
        out.steps.append((row[0], row[1]))


def _client(online: bool) -> Callable[[Conn, str], Outcome]:
    def run(conn: Conn, table: str) -> Outcome:
        report = pgpart.Client(conn).maintain(table, online=online, now_at=LATER, lock_timeout=LOCK_TIMEOUT)
        assert report.ok, report.errors
        out = Outcome()
        for a in report.actions:
            if a.action == "skipped":
                out.skipped = True
            elif a.action in ("journal", "detach", "drop", "archive", "finalize", "analyze"):
                out.steps.append((a.action, a.partition))
        return out

    return run


RUNNERS: dict[str, Callable[[Conn, str], Outcome]] = {
    "procedure": _procedure,
    "step_function": _step_function,
    "client_offline": _client(False),
    "client_online": _client(True),
}


def _prepare(conn: Conn, table: str, action: str) -> list[str]:
    """TABLE with a daily partition from NOW on for DAYS days, a few rows in
    each, retention 1 day; the names of the partitions expired at LATER."""
    make_events(conn, table)
    client = pgpart.Client(conn)
    client.ensure(f"public.{table}", interval="1 day", premake=DAYS, now_at=NOW)
    conn.execute(
        f"INSERT INTO public.{table} (created_at, payload)"
        " SELECT %s::timestamptz + d * interval '1 day' + interval '1 hour', 'x'"
        f" FROM generate_series(0, {DAYS}) AS d, generate_series(1, 3)",
        [NOW],
    )
    if action == "archive":
        conn.execute("CREATE SCHEMA IF NOT EXISTS archive")
    client.ensure(
        f"public.{table}", premake=2, retention="1 day", retention_action=action, now_at=NOW,
        archive_schema="archive" if action == "archive" else None,
    )  # fmt: skip
    plan = client.detach_and_archive(f"public.{table}", online=False, dry_run=True, now_at=LATER)
    expired = [s.partition for s in plan.steps if s.action == "detach"]
    assert len(expired) == EXPIRED, plan.steps
    return [p for p in expired if p is not None]


def _start_together(holder: Conn, table: str, pids: list[int], threads: list[threading.Thread]) -> None:
    """Release the advisory lock HOLDER keeps on TABLE once every backend of
    PIDS has been seen waiting for it (or its thread has ended)."""
    seen: set[int] = set()
    while len(seen) < len(pids) and all(t.is_alive() for t in threads):
        rows = holder.execute(
            "SELECT l.pid FROM pg_catalog.pg_locks AS l WHERE l.locktype = 'advisory' AND NOT l.granted"
            " AND l.pid = ANY(%s)",
            [pids],
        ).fetchall()
        seen |= {r[0] for r in rows}
    holder.execute("SELECT pg_catalog.pg_advisory_unlock(pgpart.advisory_key(%s::regclass))", [table])


def _race(connect: Connect, table: str, first: str, second: str) -> tuple[Outcome, Outcome]:
    holder = connect()
    holder.execute("SELECT pg_catalog.pg_advisory_lock(pgpart.advisory_key(%s::regclass))", [table])
    conns = [connect(), connect()]
    outcomes = [Outcome(), Outcome()]
    barrier = threading.Barrier(2)

    def run(i: int, name: str) -> None:
        barrier.wait()
        try:
            outcomes[i] = RUNNERS[name](conns[i], table)
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcomes[i] = Outcome(error=exc)

    threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate((first, second))]
    for t in threads:
        t.start()
    _start_together(holder, table, [c.info.backend_pid for c in conns], threads)
    for t in threads:
        t.join()
    for c in [holder, *conns]:
        c.close()
    return outcomes[0], outcomes[1]


def _journal(conn: Conn, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT action, coalesce(detail ->> 'partition', detail ->> 'table', journal_name::text)"
        " FROM pgpart.log WHERE parent_name = %s AND action IN ('detach', 'drop', 'archive') ORDER BY id",
        [f"{table}"],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


PAIRINGS = list(itertools.combinations_with_replacement(ENTRY_POINTS, 2))


@pytest.mark.parametrize(("first", "second"), PAIRINGS, ids=[f"{a}+{b}" for a, b in PAIRINGS])
def test_two_runs_on_one_parent_do_the_work_once(connect: Connect, conn: Conn, first: str, second: str) -> None:
    for n in range(ROUNDS):
        action = "archive" if n == ROUNDS - 1 else "drop"
        table = f"ev{n}"
        parent = f"public.{table}"
        expired = _prepare(conn, table, action)
        one, two = _race(connect, parent, first, second)
        assert one.error is None, one.error
        assert two.error is None, two.error

        # nothing logged as an error, no last_error
        errors = conn.execute(
            "SELECT action, detail::text FROM pgpart.log WHERE parent_name = %s AND outcome = 'error'", [parent]
        ).fetchall()
        assert errors == []
        last_error = conn.execute(
            "SELECT last_error FROM pgpart.config WHERE parent = %s::regclass", [parent]
        ).fetchone()
        assert last_error == (None,)

        # every expired partition detached and dropped/archived exactly once,
        # the rest still attached, nothing left behind
        remaining = {
            r[0]
            for r in conn.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [parent]
            ).fetchall()
        }
        assert not remaining & set(expired)
        assert len(remaining) == DAYS + 1 - EXPIRED
        left = conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class AS c"
            " WHERE c.relname LIKE %s AND c.relkind = 'r' AND NOT c.relispartition",
            [f"{table}_p%"],
        ).fetchall()
        if action == "drop":
            assert left == []
        else:
            assert sorted(r[0] for r in left) == sorted(p.replace("public.", "archive.") for p in expired)
        journal = _journal(conn, parent)
        for verb in ("detach", action):
            # an archive row names the table where it now is
            done = sorted(p.replace("archive.", "public.") for a, p in journal if a == verb)
            assert done == sorted(expired), (verb, journal)

        # between them the two runs report each step once; a run that did
        # not work reported skipped or found nothing to do
        reported = [s for s in one.steps + two.steps if s[0] in ("detach", action)]
        assert len(reported) == len(set(reported)) == 2 * EXPIRED, (one, two)
        # the run that did less: skipped, or nothing left when it got the lock
        loser = min((one, two), key=lambda o: len(o.steps))
        assert loser.skipped or len(loser.steps) < 2 * EXPIRED


def test_a_run_that_cannot_get_the_lock_reports_skipped(connect: Connect, conn: Conn) -> None:
    """While another session holds the parent's advisory lock, each entry
    point waits at most its lock timeout, reports skipped and changes
    nothing; it is logged as skipped, never as an error."""
    expired = _prepare(conn, "evs", "drop")
    holder = connect()
    holder.execute("SELECT pg_catalog.pg_advisory_lock(pgpart.advisory_key('public.evs'))")
    before = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.evs'::regclass").fetchone()

    row = conn.execute(
        "SELECT step, action, statement, locks FROM pgpart.detach_and_archive('public.evs',"
        " lock_timeout => '10ms', lock_retries => 1, now_at => %s::timestamptz)",
        [LATER],
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in row] == [(0, "skipped", None)]
    assert "held by another pgpart run" in row[0][3]

    notices = call(conn, "run_maintenance_proc", "public.evs", now_at=LATER, lock_timeout="10ms", lock_retries=1)
    assert "pgpart: skipping retention of public.evs: another pgpart run holds its advisory lock" in notices

    client = pgpart.Client(conn)
    for online in (False, True):
        report = client.maintain("public.evs", online=online, now_at=LATER, lock_timeout="10ms", lock_retries=1)
        assert report.ok
        assert [a.action for a in report.actions if a.action != "retention due"] == ["skipped"]
    retention = client.detach_and_archive("public.evs", online=True, now_at=LATER, lock_timeout="10ms", lock_retries=1)
    assert [s.action for s in retention.steps] == ["skipped"]

    after = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.evs'::regclass").fetchone()
    assert after == before
    assert len(expired) == EXPIRED
    outcomes = conn.execute(
        "SELECT outcome, count(*) FROM pgpart.log WHERE parent_name = 'public.evs' AND action = 'retention'"
        " GROUP BY outcome"
    ).fetchall()
    assert outcomes == [("skipped", 5)]
    assert conn.execute("SELECT last_error FROM pgpart.config WHERE parent = 'public.evs'::regclass").fetchone() == (
        None,
    )
    holder.close()
