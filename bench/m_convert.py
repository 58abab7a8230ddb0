"""convert_1M: a plain 1,000,000-row table (`id bigint GENERATED ALWAYS AS
IDENTITY PRIMARY KEY`, rows over the 30 days before today, an index on the
key) turned into a daily-partitioned table of the same name while a writer
inserts into it (issue 18, item 5).

A writer thread inserts one row at a time (autocommit, lock_timeout = '1s',
a 5 ms pause) from before the conversion starts until it ends; every insert
is timed, a failed one counts with the time it took to fail. Each row's
note gives the time to the swap (from the start until the table's name is
the partitioned table), the writer's longest wait and failed inserts, and
the rows at the end (the table's rows plus the writer's, each exactly once).

Contestants:
- pgpart: pgpart.Client(conn).convert('big', key='ts', interval='1 day')
  (docs/converting.md): the old table becomes the legacy partition behind
  a constraint validated online; `id` stays unique across partitions
  through a global unique constraint.
- pgpart + split: the same, then Client.split_legacy('big') (the old rows
  into daily partitions, one short transaction per day while a trigger
  mirrors writes to the copied days, then one short swap): the time to
  the swap is the conversion's, the total includes the split.
- floor: offline, one transaction holding the table ACCESS EXCLUSIVE:
  rename, partitioned copy with its 35 daily partitions, INSERT ... SELECT,
  identity continued, old table dropped. Its primary key becomes (id, ts):
  `id` is no longer unique across partitions.
- pg_partman 4.7's documented route: a short swap (rename, partitioned copy,
  create_parent, identity continued), then CALL partman.partition_data_proc
  with p_source_table = the old table (batches of one day). Primary key
  (id, ts) as for the floor.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import psycopg
from common import PARTMAN, PGPART, Bench, Case, Conn, Row, day_literal, note, run_script, scalar

ROWS, DAYS, AHEAD = 1_000_000, 30, 4
PAUSE, LOCK_TIMEOUT = 0.005, "1s"
FLOOR = "floor: offline copy"
SPLIT = "pgpart + split"
TABLE = (
    "CREATE TABLE big (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts timestamptz NOT NULL, payload text);"
    " CREATE INDEX big_ts ON big (ts)"
)
PARTITIONED = (
    "CREATE TABLE big (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL, payload text,"
    " PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts)"
)
CONTINUE_IDENTITY = "SELECT setval(pg_get_serial_sequence('big', 'id'), (SELECT max(id) FROM big_old))"


@dataclass
class Writer:
    """A thread inserting into `big` until stopped: its latencies and failures."""

    dsn: str
    latencies: list[float] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            while not self.stop.is_set():
                start = time.perf_counter()
                try:
                    conn.execute("INSERT INTO big (ts, payload) VALUES (now(), 'writer')")
                except psycopg.Error as e:
                    state = e.sqlstate or "?"
                    self.failed[state] = self.failed.get(state, 0) + 1
                self.latencies.append(time.perf_counter() - start)
                time.sleep(PAUSE)

    def __enter__(self) -> Writer:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        time.sleep(0.2)  # a few inserts before the conversion starts
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)
        self.stop.set()
        assert self.thread is not None
        self.thread.join()


@dataclass
class Tally:
    """What one contestant's runs saw, pooled over the repetitions."""

    to_swap: list[float] = field(default_factory=list)
    max_wait: float = 0.0
    failed: dict[str, int] = field(default_factory=dict)
    inserts: int = 0

    def add(self, writer: Writer, to_swap: float) -> None:
        self.to_swap.append(to_swap)
        self.max_wait = max([self.max_wait, *writer.latencies])
        self.inserts += len(writer.latencies)
        for state, n in writer.failed.items():
            self.failed[state] = self.failed.get(state, 0) + n

    def text(self) -> str:
        failed = sum(self.failed.values())
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.failed.items()))
        swap = sorted(self.to_swap)[len(self.to_swap) // 2] if self.to_swap else float("nan")
        return (
            f"to the swap {swap:.2f} s (median); writer: {self.inserts} inserts, {failed} failed"
            f"{f' ({states})' if states else ''}, longest wait {self.max_wait * 1000:.0f} ms"
        )


def days(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    first = today - dt.timedelta(days=DAYS)
    return list(pairwise(first + dt.timedelta(days=i) for i in range(DAYS + AHEAD + 1)))


def floor_script(today: dt.date) -> list[str]:
    return [
        "BEGIN",
        "LOCK TABLE big IN ACCESS EXCLUSIVE MODE",
        "ALTER TABLE big RENAME TO big_old",
        "ALTER INDEX big_ts RENAME TO big_old_ts",
        PARTITIONED,
        "CREATE INDEX big_ts ON big (ts)",
        *(
            f"CREATE TABLE big_p{lo:%Y%m%d} PARTITION OF big FOR VALUES FROM ({day_literal(lo)}) TO ({day_literal(hi)})"
            for lo, hi in days(today)
        ),
        "INSERT INTO big OVERRIDING SYSTEM VALUE SELECT id, ts, payload FROM big_old",
        CONTINUE_IDENTITY,
        "DROP TABLE big_old",
        "COMMIT",
    ]


def partman_swap(today: dt.date) -> list[str]:
    return [
        "BEGIN",
        "SET LOCAL lock_timeout = '1s'",
        "LOCK TABLE big IN ACCESS EXCLUSIVE MODE",
        "ALTER TABLE big RENAME TO big_old",
        "ALTER INDEX big_ts RENAME TO big_old_ts",
        PARTITIONED,
        "CREATE INDEX big_ts ON big (ts)",
        f"SELECT partman.create_parent('public.big', 'ts', 'native', 'daily', p_premake => {AHEAD},"
        f" p_start_partition => '{today - dt.timedelta(days=DAYS)}', p_jobmon => false)",
        CONTINUE_IDENTITY,
        "COMMIT",
    ]


def check(conn: Conn, writer_rows: Callable[[], int]) -> str | None:
    kind = scalar(conn, "SELECT relkind FROM pg_class WHERE oid = 'big'::regclass")
    total = scalar(conn, "SELECT count(*) FROM big WHERE payload <> 'writer'")
    dupes = scalar(conn, "SELECT count(*) FROM (SELECT id FROM big GROUP BY id HAVING count(*) > 1) AS d")
    written = scalar(conn, "SELECT count(*) FROM big WHERE payload = 'writer'")
    if (kind, total, dupes) != ("p", ROWS, 0) or written != writer_rows():
        return (
            f"CHECK FAILED: relkind {kind}, {total} of {ROWS} rows, {dupes} duplicate ids,"
            f" {written} of {writer_rows()} writer rows"
        )
    return None


def run(b: Bench) -> list[Row]:
    today = b.today
    start = day_literal(today - dt.timedelta(days=DAYS))

    def build(conn: Conn) -> None:
        run_script(conn, [TABLE])
        conn.execute(
            f"INSERT INTO big (ts, payload) SELECT {start}::timestamptz + (g - 1) * interval '{DAYS} days'"
            f" / {ROWS}, 'row ' || g FROM generate_series(1, {ROWS}) AS g"
        )
        conn.execute("VACUUM ANALYZE big")

    b.template("convert_pgpart", build, base="base_pgpart")
    b.template("convert_partman", build, base="base_partman")
    b.template("convert_plain", build, base="base_plain")
    tallies: dict[str, Tally] = {name: Tally() for name in (PGPART, SPLIT, FLOOR, PARTMAN)}
    ok: dict[str, int] = {}

    def contestant(name: str, swap: Callable[[Conn], None], after: Callable[[Conn], None]) -> Callable[[Conn], None]:
        def action(conn: Conn) -> None:
            with Writer(b.server.dsn(conn.info.dbname)) as writer:
                began = time.perf_counter()
                swap(conn)
                swapped = time.perf_counter() - began
                after(conn)
            tallies[name].add(writer, swapped)
            ok[name] = len(writer.latencies) - sum(writer.failed.values())

        return action

    def pgpart_convert(conn: Conn) -> None:
        import pgpart

        pgpart.Client(conn).convert("big", key="ts", interval="1 day", premake=AHEAD)

    def nothing(conn: Conn) -> None:
        pass

    def pgpart_split(conn: Conn) -> None:
        import pgpart

        pgpart.Client(conn).split_legacy("big")
        assert scalar(conn, "SELECT to_regclass('big_legacy') IS NULL"), "the legacy partition is left"

    def partman_move(conn: Conn) -> None:
        # alone: a procedure that commits cannot run inside a multi-statement script
        run_script(
            conn,
            [
                "CALL partman.partition_data_proc('public.big', p_source_table => 'public.big_old', p_wait => 0,"
                " p_quiet => true)"
            ],
        )
        run_script(conn, ["DROP TABLE big_old"])

    got = b.compare(
        [
            Case(
                PGPART,
                "convert_pgpart",
                contestant(PGPART, pgpart_convert, nothing),
                lambda c: check(c, lambda: ok[PGPART]),
                big=True,
            ),
            Case(
                SPLIT,
                "convert_pgpart",
                contestant(SPLIT, pgpart_convert, pgpart_split),
                lambda c: check(c, lambda: ok[SPLIT]),
                big=True,
            ),
            Case(
                FLOOR,
                "convert_plain",
                contestant(FLOOR, lambda c: run_script(c, floor_script(today)), nothing),
                lambda c: check(c, lambda: ok[FLOOR]),
                big=True,
            ),
            Case(
                PARTMAN,
                "convert_partman",
                contestant(PARTMAN, lambda c: run_script(c, partman_swap(today)), partman_move),
                lambda c: check(c, lambda: ok[PARTMAN]),
                big=True,
            ),
        ]
    )
    texts = {
        PGPART: "Client.convert: legacy partition kept whole, id unique across partitions",
        SPLIT: "Client.convert, then Client.split_legacy: every old row in its day's partition",
        FLOOR: "one locked transaction; id unique only with ts",
        PARTMAN: "swap, then partition_data_proc(p_source_table => old)",
    }
    rows = []
    for name in (PGPART, SPLIT, FLOOR, PARTMAN):
        samples, problem = got[name]
        text = note(f"{texts[name]}; {tallies[name].text()}", problem)
        rows.append(
            Row(
                "convert_1M",
                name,
                samples,
                text,
                partman=PARTMAN if name in (PGPART, SPLIT) else None,
                floor=FLOOR if name in (PGPART, SPLIT) else None,
            )
        )
    return rows
