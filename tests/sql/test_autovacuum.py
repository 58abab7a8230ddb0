"""pgpart gets past a REAL autovacuum (issue 14 item 3).

A server of its own with autovacuum on (the suite's server has it off) and a
one-second naptime. The default partition of a range parent holds many dead
rows and per-table autovacuum settings that make a vacuum of it crawl
(cost_limit 1, cost_delay 100 ms: a page at a time), so a worker stays on it
for minutes. Waiting for the worker is bounded polling of
pg_stat_progress_vacuum, never an assertion on time. Creating a partition
needs ACCESS EXCLUSIVE on the default partition, which conflicts with the
worker's SHARE UPDATE EXCLUSIVE.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from fix_pg import MakeServer
from pgcluster import PgServer

Conn = psycopg.Connection[Any]
OWNER = "av_owner"
NOW = "2026-01-10 00:00+00"
# a vacuum of the default partition crawls; no regular autovacuum anywhere
# else needs it to (the naptime is the server's)
SLOW = (
    "autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1,"
    " autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0"
)


@pytest.fixture(scope="module")
def autovacuum_server(make_server: MakeServer) -> PgServer:
    server = make_server(autovacuum="on", autovacuum_naptime="1s", deadlock_timeout="1s")
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as c:
        c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(OWNER)))
    return server


_numbers = iter(range(1, 1_000_000))


@pytest.fixture
def db(autovacuum_server: PgServer) -> Iterator[str]:
    """A fresh database with pgpart, public writable by OWNER."""
    name = f"av_{next(_numbers)}"
    with psycopg.connect(autovacuum_server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(autovacuum_server.dsn(name), autocommit=True) as c:
        c.execute("CREATE EXTENSION pgpart")
        c.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(OWNER)))
    yield name
    with psycopg.connect(autovacuum_server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def su(autovacuum_server: PgServer, db: str) -> Iterator[Conn]:
    with psycopg.connect(autovacuum_server.dsn(db), autocommit=True) as c:
        yield c


@pytest.fixture
def owner(autovacuum_server: PgServer, db: str) -> Iterator[Conn]:
    with psycopg.connect(autovacuum_server.dsn(db, OWNER), autocommit=True) as c:
        yield c


def make_events(owner: Conn, *, wraparound: bool = False) -> None:
    """events, daily, with a default partition full of rows from 2000
    (outside every range pgpart creates) whose vacuum crawls. wraparound:
    regular autovacuum of the default is off instead and it gets old enough
    (autovacuum_freeze_max_age 100000, the least allowed) for an
    anti-wraparound autovacuum, which runs even then."""
    owner.execute("CREATE TABLE events (at timestamptz NOT NULL, pad text) PARTITION BY RANGE (at)")
    owner.execute(
        "SELECT pgpart.create_range_partitions('events', 'daily', premake => 1, now_at => %s,"
        " default_partition => true)",
        (NOW,),
    )
    if wraparound:
        owner.execute(
            "ALTER TABLE events_default SET (autovacuum_enabled = false, autovacuum_freeze_max_age = 100000,"
            " autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)"
        )
    else:
        owner.execute(f"ALTER TABLE events_default SET ({SLOW})")
    owner.execute(
        "INSERT INTO events SELECT timestamptz '2000-01-01' + g * interval '1 second', repeat('x', 100)"
        " FROM generate_series(1, 40000) AS g"
    )
    owner.execute("DELETE FROM events WHERE extract(second FROM at)::int % 2 = 0")
    if wraparound:
        # use up more than 100000 transaction ids, one committed transaction each
        owner.execute("DO $$ BEGIN FOR i IN 1..100500 LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$")


def vacuum_pid(su: Conn, table: str, *, other_than: int | None = None, timeout: float = 300) -> int:
    """The pid of the autovacuum worker vacuuming TABLE (another than
    OTHER_THAN), polling until one shows up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = su.execute(
            "SELECT v.pid FROM pg_stat_progress_vacuum AS v JOIN pg_stat_activity AS a USING (pid)"
            " WHERE v.relid = %s::regclass AND a.backend_type = 'autovacuum worker' AND v.pid <> %s",
            (table, other_than or 0),
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.2)
    pytest.fail(f"no autovacuum of {table} started within {timeout} s")


def still_vacuuming(su: Conn, pid: int, table: str) -> bool:
    return (
        su.execute(
            "SELECT 1 FROM pg_stat_progress_vacuum WHERE pid = %s AND relid = %s::regclass", (pid, table)
        ).fetchone()
        is not None
    )


def gone(su: Conn, pid: int, table: str, timeout: float = 60) -> bool:
    """Whether worker PID stops vacuuming TABLE (a cancelled worker ends its
    transaction at once; bounded polling for the process table to show it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not still_vacuuming(su, pid, table):
            return True
        time.sleep(0.1)
    return False


def partitions(su: Conn) -> list[str]:
    rows = su.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'events'::regclass ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def cancels(su: Conn) -> list[tuple[str, str, int]]:
    rows = su.execute(
        "SELECT parent::text, detail->>'by', (detail->>'pid')::int FROM pgpart.log"
        " WHERE action = 'autovacuum_cancel' ORDER BY id"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def create_one_more(conn: Conn, premake: int) -> list[str]:
    rows = conn.execute(
        "SELECT partition FROM pgpart.create_range_partitions('events', 'daily', premake => %s, now_at => %s,"
        " lock_timeout => '200ms', lock_retries => 2)",
        (premake, NOW),
    ).fetchall()
    return [r[0] for r in rows]


def test_owner_gets_past_autovacuum_once_then_lets_the_next_vacuum_finish(su: Conn, owner: Conn) -> None:
    make_events(owner)
    pid = vacuum_pid(su, "events_default")
    # the owner may not signal the worker: one longer attempt, PostgreSQL
    # cancels the worker after deadlock_timeout
    assert create_one_more(owner, 2) == ["public.events_p20260112"]
    assert gone(su, pid, "events_default")
    assert cancels(su) == [("events_default", "deadlock_timeout", pid)]

    # the cancelled vacuum left the dead rows: a new worker comes. pgpart
    # cancelled the last one, so it lets this one finish: 55P03, nothing done
    second = vacuum_pid(su, "events_default", other_than=pid)
    before = partitions(su)
    with pytest.raises(psycopg.errors.LockNotAvailable) as exc:
        create_one_more(owner, 3)
    assert "lets this one finish" in (exc.value.diag.message_detail or "")
    assert still_vacuuming(su, second, "events_default")
    assert partitions(su) == before
    assert cancels(su) == [("events_default", "deadlock_timeout", pid)]

    # a vacuum of the table that finishes ends the memory: the next one may be cancelled
    su.execute("ALTER TABLE events_default SET (autovacuum_enabled = false)")
    su.execute("SELECT pg_terminate_backend(%s)", (second,))
    assert gone(su, second, "events_default")
    su.execute("VACUUM events_default")
    assert su.execute("SELECT pgpart._autovacuum_cancelled_last('events_default')").fetchone() == (False,)


def test_superuser_cancels_the_worker_itself(su: Conn, owner: Conn) -> None:
    make_events(owner)
    pid = vacuum_pid(su, "events_default")
    assert create_one_more(su, 2) == ["public.events_p20260112"]
    assert gone(su, pid, "events_default")
    assert cancels(su) == [("events_default", "pg_cancel_backend", pid)]


def test_another_blocker_besides_autovacuum_gets_no_longer_attempt(
    su: Conn, owner: Conn, autovacuum_server: PgServer, db: str
) -> None:
    make_events(owner)
    pid = vacuum_pid(su, "events_default")
    with psycopg.connect(autovacuum_server.dsn(db)) as reader:
        reader.execute("SELECT count(*) FROM events_default")  # ACCESS SHARE, transaction left open
        with pytest.raises(psycopg.errors.LockNotAvailable):
            create_one_more(owner, 2)
        reader.rollback()
    assert still_vacuuming(su, pid, "events_default")
    assert cancels(su) == []


@pytest.mark.parametrize("role", ["superuser", "owner"])
def test_anti_wraparound_autovacuum_is_never_cancelled(su: Conn, owner: Conn, role: str) -> None:
    make_events(owner, wraparound=True)
    pid = vacuum_pid(su, "events_default")
    row = su.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    assert row is not None
    assert "(to prevent wraparound)" in row[0]
    before = partitions(su)
    with pytest.raises(psycopg.errors.LockNotAvailable) as exc:
        create_one_more(su if role == "superuser" else owner, 2)
    assert "pgpart never cancels one" in (exc.value.diag.message_detail or "")
    assert still_vacuuming(su, pid, "events_default")
    assert partitions(su) == before
    assert cancels(su) == []


def test_member_of_pg_signal_autovacuum_worker_cancels_it_itself(
    su: Conn, owner: Conn, autovacuum_server: PgServer, db: str
) -> None:
    if su.execute("SELECT to_regrole('pg_signal_autovacuum_worker')").fetchone() == (None,):
        pytest.skip("pg_signal_autovacuum_worker exists from PostgreSQL 18 on (before, only a superuser may)")
    # may signal autovacuum workers and read their query (to rule out wraparound)
    su.execute(sql.SQL("GRANT pg_signal_autovacuum_worker, pg_read_all_stats TO {}").format(sql.Identifier(OWNER)))
    try:
        make_events(owner)
        pid = vacuum_pid(su, "events_default")
        assert create_one_more(owner, 2) == ["public.events_p20260112"]
        assert gone(su, pid, "events_default")
        assert cancels(su) == [("events_default", "pg_cancel_backend", pid)]
    finally:
        su.execute(
            sql.SQL("REVOKE pg_signal_autovacuum_worker, pg_read_all_stats FROM {}").format(sql.Identifier(OWNER))
        )
