"""Other sessions and roles a test plays against pgpart: notice capture, a
session holding locks, a reader that an online detach waits for, a writer
inserting while maintenance runs, throwaway roles. Waits are on the
server's state (pg_locks), never on time."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from fix_pg import Connect

Conn = psycopg.Connection[Any]


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


def holds_access_exclusive(holder: Conn, *relations: str) -> None:
    """Makes HOLDER (a non-autocommit connection) hold ACCESS EXCLUSIVE on
    RELATIONS until it rolls back."""
    assert not holder.autocommit
    for rel in relations:
        holder.execute(sql.SQL("LOCK TABLE ONLY {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(rel)))


def wait_until_waiting(admin: Conn, pid: int, done: Any) -> None:
    """Returns once backend PID waits for a lock (by state, never by time);
    DONE() tells that the call ended early, which the caller then reports."""
    for _ in range(100_000):
        row = admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid]).fetchone()
        if row != (0,) or done():
            return
    raise AssertionError(f"backend {pid} never waited for a lock")


@contextmanager
def busy_reader(connect: Connect, table: str) -> Iterator[Conn]:
    """A reader of TABLE whose transaction is young and active (it waits for
    an advisory lock a third session holds) until the block ends: an online
    detach does not foresee it, starts, and then waits for it. For tests
    that need a detach left pending."""
    gate = connect()
    gate.execute("SELECT pg_catalog.pg_advisory_lock(14, 2)")
    reader = connect(autocommit=False)
    reader.execute(f"SELECT count(*) FROM {table}")
    waiting = threading.Thread(target=reader.execute, args=("SELECT pg_catalog.pg_advisory_lock(14, 2)",))
    waiting.start()
    pid = reader.info.backend_pid
    seen = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted)"
    while waiting.is_alive() and gate.execute(seen, [pid]).fetchone() != (True,):
        pass
    try:
        yield reader
    finally:
        gate.execute("SELECT pg_catalog.pg_advisory_unlock(14, 2)")
        waiting.join()
        reader.rollback()
        reader.close()
        gate.close()


def unique_role_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextmanager
def temporary_role(admin: psycopg.Connection[Any], prefix: str, *member_of: str) -> Iterator[str]:
    """A LOGIN role that exists only for the block. Roles are cluster-wide, so
    the name is unique and the role is dropped (with what it owns in ADMIN's
    database) even when the test fails."""
    name = unique_role_name(prefix)
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    try:
        for role in member_of:
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(name)))
        yield name
    finally:
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@dataclass
class Writer:
    """A session inserting single rows, one per autocommit transaction, with
    its own lock_timeout, so that a stall shows as 55P03 rather than as a
    timing. The key of each row comes from `target()` (read before every
    insert). It stops when `stop` is set or after `limit` rows. With
    `paced`, it inserts only as many rows as `allow()` granted so far and
    waits for more (so its rows spread over every step of the main thread
    rather than running out of `limit` early)."""

    conn: Conn
    target: Callable[[], Any]
    limit: int = 3000
    column: str = "created"
    table: str = "ev"
    payload: str = "writer"
    paced: bool = False
    allowed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    inserted: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _progress: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self.conn.execute("SET lock_timeout = '1s'")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        query = sql.SQL("INSERT INTO {} ({}, payload) VALUES (%s, %s) RETURNING id").format(
            sql.Identifier(self.table), sql.Identifier(self.column)
        )
        try:
            while not self.stop.is_set() and len(self.inserted) < self.limit:
                if self.paced:
                    with self._progress:
                        self._progress.wait_for(lambda: len(self.inserted) < self.allowed or self.stop.is_set())
                    if self.stop.is_set():
                        break
                row = self.conn.execute(query, [self.target(), self.payload]).fetchone()
                assert row is not None
                with self._progress:
                    self.inserted.append(int(row[0]))
                    self._progress.notify_all()
        except BaseException as exc:  # reported by finish()
            self.errors.append(exc)
        finally:
            with self._progress:
                self.stop.set()
                self._progress.notify_all()

    def allow(self, rows: int) -> None:
        """Grants a paced writer ROWS more inserts."""
        with self._progress:
            self.allowed += rows
            self._progress.notify_all()

    def wait_for(self, rows: int) -> None:
        """Blocks until the writer has inserted at least ROWS rows in all, or
        stopped (its limit reached or an error): makes sure writes really
        happen between maintenance steps, without sleeping."""
        with self._progress:
            self._progress.wait_for(lambda: len(self.inserted) >= rows or self.stop.is_set(), timeout=60)

    def finish(self) -> list[int]:
        with self._progress:
            self.stop.set()
            self._progress.notify_all()
        assert self._thread is not None
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "writer did not stop"
        assert self.errors == [], f"a writer insert failed: {self.errors!r}"
        return self.inserted
