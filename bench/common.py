"""What every measure shares: the server, template databases, timing, results.

Each contestant works in its own database, copied from a template built
once (CREATE DATABASE ... TEMPLATE), so every repetition starts from the same
state and pays nothing for the fixture. pg_partman and the hand-written
floors get databases without pgpart, so pgpart's event triggers cost only
pgpart.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pgcluster import DEFAULT_SETTINGS, PgServer  # noqa: F401 (DEFAULT_SETTINGS re-exported for run.py)

Conn = psycopg.Connection[Any]

# Added to scripts/pgcluster.py's DEFAULT_SETTINGS (fsync off, autovacuum off,
# UTC). pg_partman makes all children of one call in one transaction and
# needs a bigger lock table (its docs say so); the others are the research
# benchmark's settings (/work/shared/research/pg_partman.md §8).
SETTINGS: dict[str, object] = {
    "shared_buffers": "256MB",
    "max_locks_per_transaction": 512,
    "max_wal_size": "4GB",
    "max_connections": 50,
}

# The table every measure partitions, as in the research benchmark: an
# identity id, a timestamptz key, a text payload, PRIMARY KEY (id, ts), an
# index on ts.
TABLE_DDL = """
CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL, payload text,
                  PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);
CREATE INDEX ON {t} (ts);
"""

PGPART = "pgpart"
PGPART_DEFAULT = "pgpart + default"
PARTMAN = "pg_partman 4.7"


@dataclass
class Row:
    """One line of the results table: a contestant's samples for a measure."""

    measure: str
    contestant: str
    samples: list[float]
    note: str = ""
    partman: str | None = None  # the contestant this row's pgpart/pg_partman ratio divides by
    floor: str | None = None  # the contestant its pgpart/floor ratio divides by

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan


@dataclass
class Bench:
    """The server, the repetitions asked for, today's date (UTC, the zone of
    every grid here), and the databases made from templates."""

    server: PgServer
    reps: int
    small: bool = False  # run.py --small: measures that offer it use a tenth of their rows
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())
    _dbs: int = 0

    def connect(self, db: str, autocommit: bool = True) -> Conn:
        return psycopg.connect(self.server.dsn(db), autocommit=autocommit)

    def admin(self, statement: str) -> None:
        with self.connect("postgres") as conn:
            conn.execute(statement)

    def template(self, name: str, build: Callable[[Conn], None], base: str = "template0") -> str:
        """Database NAME copied from BASE and filled by BUILD, kept as a template."""
        self.admin(f"CREATE DATABASE {name} TEMPLATE {base}")
        with self.connect(name) as conn:
            build(conn)
            conn.execute("CHECKPOINT")
        self.admin(f"ALTER DATABASE {name} IS_TEMPLATE true ALLOW_CONNECTIONS false")
        return name

    def template_once(self, name: str, build: Callable[[Conn], None], base: str = "template0") -> str:
        """Bench.template, unless a measure run before made NAME already."""
        with self.connect("postgres") as conn:
            if scalar(conn, "SELECT count(*) FROM pg_database WHERE datname = %s", [name]):
                return name
        return self.template(name, build, base)

    @contextmanager
    def fresh(self, template: str, big: bool = False) -> Iterator[Conn]:
        """A connection to a new copy of TEMPLATE, dropped afterwards. BIG:
        copy the files (FILE_COPY) instead of WAL-logging every page."""
        self._dbs += 1
        name = f"run_{self._dbs}"
        strategy = " STRATEGY = FILE_COPY" if big else ""
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template}{strategy}")
        try:
            with self.connect(name) as conn:
                yield conn
        finally:
            self.admin(f"DROP DATABASE {name} WITH (FORCE)")

    def compare(self, cases: Sequence[Case], reps: int | None = None) -> dict[str, tuple[list[float], str]]:
        """REPS (default: self.reps) samples of each case's action, each in a
        fresh copy of its template, the cases interleaved (A B C A B C ...)
        so that a change of machine load hits them alike. Returns, per case
        name, the timings and the complaints of its check ("" when none)."""
        samples: dict[str, list[float]] = {c.name: [] for c in cases}
        problems: dict[str, set[str]] = {c.name: set() for c in cases}
        for _ in range(reps or self.reps):
            for case in cases:
                with self.fresh(case.template, case.big) as conn:
                    if case.setup is not None:
                        case.setup(conn)  # not timed
                    start = time.perf_counter()
                    try:
                        case.action(conn)
                    except psycopg.Error as e:  # reported, and the others go on
                        problems[case.name].add(f"FAILED: {e.sqlstate} {str(e).splitlines()[0]}")
                        continue
                    samples[case.name].append(time.perf_counter() - start)
                    if case.check is not None and (problem := case.check(conn)):
                        problems[case.name].add(problem)
        return {name: (samples[name], "; ".join(sorted(problems[name]))) for name in samples}


@dataclass
class Case:
    """One contestant's timed ACTION on a fresh copy of TEMPLATE; CHECK
    returns a complaint about the end state, or None. BIG: the template is
    copied file by file (STRATEGY FILE_COPY) rather than WAL-logged. SETUP
    runs first in the same session, untimed."""

    name: str
    template: str
    action: Callable[[Conn], Any]
    check: Callable[[Conn], str | None] | None = None
    big: bool = False
    setup: Callable[[Conn], Any] | None = None


def statement(sql: str) -> Callable[[Conn], None]:
    """An action running SQL: one statement, or a script (see run_script)."""

    def action(conn: Conn) -> None:
        run_script(conn, [sql])

    return action


def note(text: str, problem: str) -> str:
    return f"{text}; {problem}" if problem else text


def result(
    measure: str,
    got: dict[str, tuple[list[float], str]],
    name: str,
    text: str,
    partman: str | None = None,
    floor: str | None = None,
) -> Row:
    """The row of case NAME from Bench.compare's GOT, TEXT its note."""
    samples, problem = got[name]
    return Row(measure, name, samples, note(text, problem), partman=partman, floor=floor)


def run_script(conn: Conn, statements: Sequence[str]) -> None:
    """STATEMENTS sent as one script: one round trip, the simple query
    protocol (psycopg uses it for a query without parameters); BEGIN and
    COMMIT in the script make the transactions."""
    try:
        conn.execute(";\n".join(statements))
    except psycopg.Error:
        conn.execute("ROLLBACK")  # a failed script leaves its transaction open
        raise


def scalar(conn: Conn, query: str, params: Sequence[Any] | None = None) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def partition_count(conn: Conn, parent: str) -> int:
    return int(scalar(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [parent]))


def day_literal(day: dt.date) -> str:
    return f"'{day.isoformat()} 00:00:00+00'"


def plan_statements(conn: Conn, query: str) -> list[str]:
    """The statements of a pgpart dry-run plan (QUERY selects statement, in
    step order), without those that call pgpart itself: the policy
    registration and, with a default partition, the index probe for rows of
    the new range in it (ATTACH itself refuses such rows). What is left is
    the DDL a careful person would write by hand: the locks, CREATE TABLE
    ... LIKE, primary key, indexes, owner, ATTACH."""
    return [s for (s,) in conn.execute(query).fetchall() if "pgpart." not in s]
