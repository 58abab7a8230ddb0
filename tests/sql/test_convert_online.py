"""Converting a table online (issue 18): while Client.convert runs the
plan step by step, a writer inserting with lock_timeout = '1s' never fails
and every row is there exactly once at the end (count and checksum); a
reader of old rows by key never misses one (its longest wait is reported,
not asserted); a conversion killed (pg_terminate_backend) before any step,
or while its swap waits for its lock, is finished by running it again."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from fix_pg import Connect
from pgpart._convert import ConvertStep
from sessions import Writer, wait_until_waiting

Conn = psycopg.Connection[Any]

NOW = datetime(2024, 3, 10, 12, tzinfo=timezone.utc)
ROWS = 3000
HOSTILE = 'Ev "Online"; --x'


def create(conn: Conn, name: str, nullable: bool = True) -> None:
    conn.execute(sql.SQL(
        "CREATE TABLE {} (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz{}, payload text,"
        " PRIMARY KEY (id{}))"
    ).format(sql.Identifier(name), sql.SQL("" if nullable else " NOT NULL"),
             sql.SQL("" if nullable else ", ts")))  # fmt: skip
    if nullable:  # the key cannot be in the primary key while it is nullable
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(name), sql.Identifier(name + "_pkey")))  # fmt: skip
    conn.execute(sql.SQL("CREATE INDEX ON {} (id)").format(sql.Identifier(name)))
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (ts, payload) SELECT %s::timestamptz - g * interval '1 minute', 'old ' || g"
            " FROM generate_series(1, %s) g"
        ).format(sql.Identifier(name)),
        [NOW, ROWS],
    )
    conn.execute(sql.SQL("ALTER TABLE {} OWNER TO pgpart_owner").format(sql.Identifier(name)))


def fingerprint(conn: Conn, name: str) -> tuple[int, str]:
    row = conn.execute(
        sql.SQL("SELECT count(*), md5(string_agg(id::text || ts::text || payload, ',' ORDER BY id)) FROM {}").format(
            sql.Identifier(name)
        )
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


class Reader:
    """Reads old rows by key and counts the table in a loop (lock_timeout
    1s), recording anything missing and its longest wait."""

    def __init__(self, conn: Conn, name: str, ids: list[int]) -> None:
        self.conn, self.name, self.ids = conn, name, ids
        self.stop = threading.Event()
        self.missing: list[str] = []
        self.errors: list[BaseException] = []
        self.longest = 0.0
        self.reads = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Reader:
        self.conn.execute("SET lock_timeout = '1s'")
        self._thread.start()
        return self

    def _run(self) -> None:
        by_key = sql.SQL("SELECT count(*) FROM {} WHERE id = ANY (%s)").format(sql.Identifier(self.name))
        total = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(self.name))
        try:
            for ids in itertools.cycle([self.ids[i::7] for i in range(7)]):
                if self.stop.is_set():
                    return
                t0 = time.monotonic()
                found = self.conn.execute(by_key, [ids]).fetchone()
                counted = self.conn.execute(total).fetchone()
                self.longest = max(self.longest, time.monotonic() - t0)
                self.reads += 1
                if found != (len(ids),):
                    self.missing.append(f"by key: {found} of {len(ids)}")
                if counted is None or counted[0] < ROWS:
                    self.missing.append(f"count: {counted}")
        except BaseException as exc:
            self.errors.append(exc)

    def finish(self) -> None:
        self.stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive()
        assert self.errors == [], self.errors
        assert self.missing == []
        assert self.reads > 0


@pytest.mark.parametrize("name", ["ev", HOSTILE])
def test_writer_and_reader_through_the_conversion(connect: Connect, conn: Conn, name: str) -> None:
    create(conn, name)
    ids = [r[0] for r in conn.execute(sql.SQL("SELECT id FROM {} ORDER BY id").format(sql.Identifier(name)))]
    stamps = itertools.count(1)
    writer = Writer(connect(), target=lambda: NOW - timedelta(seconds=next(stamps)), column="ts", table=name,
                    limit=100_000, paced=True)  # fmt: skip
    reader = Reader(connect(), name, ids).start()
    writer.start()
    steps: list[str] = []

    def progress(step: ConvertStep, number: int, total: int) -> None:
        # the writer inserts between every two steps
        writer.allow(20)
        writer.wait_for(len(writer.inserted) + 20)
        steps.append(step.action)

    owner = connect("pgpart_owner")
    done = pgpart.Client(owner).convert(
        sql.Identifier(name).as_string(owner), key="ts", interval="1 day", now_at=NOW, premake=2, lock_timeout="200ms",
        progress=progress,
    )  # fmt: skip
    writer.allow(20)
    writer.wait_for(len(writer.inserted) + 20)
    inserted = writer.finish()
    reader.finish()
    print(f"reader: {reader.reads} reads, longest wait {reader.longest * 1000:.0f} ms")
    assert [s.action for s in done] == steps
    assert "swap" in steps
    assert "validate bound" in steps
    assert conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = %s::regclass", [sql.Identifier(name).as_string(conn)]
    ).fetchone() == ("p",)
    # every row exactly once: the old ones and every insert of the writer
    count, _ = fingerprint(conn, name)
    assert count == ROWS + len(inserted)
    dup = conn.execute(sql.SQL("SELECT id FROM {} GROUP BY id HAVING count(*) > 1").format(sql.Identifier(name)))
    assert dup.fetchall() == []
    present = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE id = ANY (%s)").format(sql.Identifier(name)),
                           [inserted]).fetchone()  # fmt: skip
    assert present == (len(inserted),)
    # new rows after the swap land in the grid partitions
    conn.execute(sql.SQL("INSERT INTO {} (ts, payload) VALUES (%s, 'new')").format(sql.Identifier(name)),
                 [NOW + timedelta(days=2)])  # fmt: skip


def kill_before(admin: Conn, victim: Conn, at: int) -> Any:
    pid = victim.info.backend_pid

    def progress(step: ConvertStep, number: int, total: int) -> None:
        if number == at:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    return progress


@pytest.mark.parametrize("at", range(1, 7))
def test_killed_before_each_step_then_resumed(connect: Connect, conn: Conn, at: int) -> None:
    create(conn, "ev")
    before = fingerprint(conn, "ev")
    plan = pgpart.Client(conn).convert("ev", key="ts", interval="1 day", now_at=NOW, dry_run=True)
    assert len(plan) == 7  # key NOT NULL (3), bound (2), swap (2)
    victim = connect()
    with pytest.raises((pgpart.PgpartError, psycopg.Error)):
        pgpart.Client(victim).convert(
            "ev", key="ts", interval="1 day", now_at=NOW, progress=kill_before(conn, victim, at)
        )
    left = pgpart.Client(conn).convert("ev", key="ts", interval="1 day", now_at=NOW, dry_run=True)
    assert [s.action for s in left] == [s.action for s in plan[at - 1 :]]
    pgpart.Client(connect()).convert("ev", key="ts", interval="1 day", now_at=NOW)
    assert fingerprint(conn, "ev") == before
    assert conn.execute("SELECT count(*) FROM pgpart.config WHERE parent = 'ev'::regclass").fetchone() == (1,)


def test_killed_while_the_swap_waits_then_resumed(connect: Connect, conn: Conn) -> None:
    create(conn, "ev", nullable=False)
    before = fingerprint(conn, "ev")
    holder = connect(autocommit=False)
    victim = connect()
    started = threading.Event()

    def progress(step: ConvertStep, number: int, total: int) -> None:
        if step.action == "swap":
            holder.execute("SELECT count(*) FROM ev")  # ACCESS SHARE until it ends
            started.set()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            pgpart.Client(victim).convert("ev", key="ts", interval="1 day", now_at=NOW, lock_timeout="1s",
                                          lock_retries=100, progress=progress)  # fmt: skip
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(60)
    wait_until_waiting(conn, victim.info.backend_pid, lambda: not thread.is_alive())
    conn.execute("SELECT pg_terminate_backend(%s)", [victim.info.backend_pid])
    thread.join(60)
    assert failure
    holder.rollback()
    # nothing of the swap happened; running again finishes it
    assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass").fetchone() == ("r",)
    pgpart.Client(connect()).convert("ev", key="ts", interval="1 day", now_at=NOW)
    assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass").fetchone() == ("p",)
    assert fingerprint(conn, "ev") == before


def test_identity_primary_key_view_and_foreign_key_online(connect: Connect, conn: Conn) -> None:
    """The issue's "done when", at test size: an id identity primary key, a
    view and an incoming foreign key, a writer and a reader throughout: no
    failed insert, no row lost, id unique across partitions, the foreign key
    enforced against the global unique constraint and validated."""
    conn.execute(
        "CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts timestamptz NOT NULL, payload text)"
    )
    conn.execute(
        "INSERT INTO ev (ts, payload) SELECT %s::timestamptz - g * interval '1 minute', 'old ' || g"
        " FROM generate_series(1, %s) g",
        [NOW, ROWS],
    )
    conn.execute("CREATE TABLE line (ev_id bigint REFERENCES ev (id), item text)")
    conn.execute("INSERT INTO line SELECT g, 'item' FROM generate_series(1, 100) g")
    conn.execute("CREATE VIEW ev_view AS SELECT id, ts, payload FROM ev")
    ids = [r[0] for r in conn.execute("SELECT id FROM ev ORDER BY id")]
    stamps = itertools.count(1)
    writer = Writer(connect(), target=lambda: NOW - timedelta(seconds=next(stamps)), column="ts", table="ev",
                    limit=100_000, paced=True)  # fmt: skip
    reader = Reader(connect(), "ev_view", ids).start()
    writer.start()
    actions: list[str] = []

    def progress(step: ConvertStep, number: int, total: int) -> None:
        writer.allow(20)
        writer.wait_for(len(writer.inserted) + 20)
        actions.append(step.action)

    pgpart.Client(connect()).convert("ev", key="ts", interval="1 day", now_at=NOW, premake=2, progress=progress)
    writer.allow(20)
    writer.wait_for(len(writer.inserted) + 20)
    inserted = writer.finish()
    reader.finish()
    print(f"reader: {reader.reads} reads, longest wait {reader.longest * 1000:.0f} ms; steps {actions}")
    assert actions[:3] == ["global unique ev_id_gkey", "build global unique ev_id_gkey", "widen primary key"]
    assert actions[-1] == "validate foreign key line_ev_id_fkey"
    count, _ = fingerprint(conn, "ev")
    assert count == ROWS + len(inserted)
    assert conn.execute("SELECT count(*) FROM ev_view").fetchone() == (count,)
    assert conn.execute("SELECT count(*) FROM ev_id_gkey_values").fetchone() == (count,)
    assert conn.execute(
        "SELECT confrelid::regclass::text, convalidated FROM pg_constraint WHERE conname = 'line_ev_id_fkey'"
    ).fetchone() == ("ev_id_gkey_values", True)
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO ev (id, ts) OVERRIDING SYSTEM VALUE VALUES (1, %s)", [NOW + timedelta(days=2)])
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO line VALUES (%s, 'x')", [10**9])
    new = conn.execute("INSERT INTO ev (ts) VALUES (%s) RETURNING id", [NOW + timedelta(days=2)]).fetchone()
    assert new is not None
    assert new[0] > max(inserted)


def test_killed_while_the_index_builds_then_resumed(connect: Connect, conn: Conn) -> None:
    """CREATE INDEX CONCURRENTLY killed while it waits for a writer leaves an
    invalid index: the next run drops it (CONCURRENTLY) and builds it again."""
    conn.execute("CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts timestamptz NOT NULL)")
    conn.execute("INSERT INTO ev (ts) SELECT %s::timestamptz - g * interval '1 hour' FROM generate_series(1, 100) g",
                 [NOW])  # fmt: skip
    holder = connect(autocommit=False)
    victim = connect()
    started = threading.Event()

    def progress(step: ConvertStep, number: int, total: int) -> None:
        if step.action == "widen primary key":
            holder.execute("INSERT INTO ev (ts) VALUES (%s)", [NOW])  # open until rolled back
            started.set()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            pgpart.Client(victim).convert("ev", key="ts", interval="1 day", now_at=NOW, lock_timeout="30s",
                                          progress=progress)  # fmt: skip
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(60)
    wait_until_waiting(conn, victim.info.backend_pid, lambda: not thread.is_alive())
    conn.execute("SELECT pg_terminate_backend(%s)", [victim.info.backend_pid])
    thread.join(60)
    assert failure
    holder.rollback()
    invalid = conn.execute(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'ev'::regclass AND NOT indisvalid"
    ).fetchone()
    assert invalid == (1,)
    plan = pgpart.Client(conn).convert("ev", key="ts", interval="1 day", now_at=NOW, dry_run=True)
    assert [s.action for s in plan][:2] == ["drop invalid index ev_pkey_convert", "widen primary key"]
    pgpart.Client(connect()).convert("ev", key="ts", interval="1 day", now_at=NOW)
    assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass").fetchone() == ("p",)
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (100,)
