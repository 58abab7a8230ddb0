"""writer_stall: do writers stall while maintenance creates ahead and applies
retention, with a long reader on the parent?

Two writers insert one row at a time (autocommit, lock_timeout = '2s', a
5 ms pause between inserts) into the partition of now. After 1 s a reader
opens a transaction, reads the whole parent (SELECT count(*): ACCESS SHARE
on the parent and every partition) and holds it 5 s. After 1.5 s
maintenance starts: 3 partitions ahead are due (premake raised from 2 to 5)
and 3 are past a 7-day retention whose action is drop. The writers stop 1 s
after both the reader and maintenance are done.

Contestants (none but pg_partman has a default partition):
- pgpart, SQL path: CALL pgpart.run_maintenance_proc();
- pgpart, online client: pgpart.Client(conn).maintain(online=True)
  (run_maintenance, then DETACH ... CONCURRENTLY and DROP from the client);
- pg_partman: CALL partman.run_maintenance_proc() with retention 7 days,
  retention_keep_table = false;
- naive DDL: CREATE TABLE ... PARTITION OF for the new days, DROP TABLE of
  the expired partitions, autocommit, no lock_timeout.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import psycopg
from common import PARTMAN, TABLE_DDL, Bench, Conn, day_literal, run_script

WRITERS, PAUSE, LOCK_TIMEOUT = 2, 0.005, "2s"
READER_AT, READER_HOLDS, MAINTAIN_AT, TAIL = 1.0, 5.0, 1.5, 1.0
PAST, AHEAD, NEW_AHEAD, RETENTION = 10, 2, 5, 7  # days
BOUND = 0.3  # s: pgpart's lock_timeout (200 ms) plus one catalog step
ROWS = "INSERT INTO ws (ts, payload) SELECT now(), 'seed' FROM generate_series(1, 100)"

# attached range partitions of ws, by where they lie
STATE = """
SELECT count(*) FILTER (WHERE hi <= %(expired)s), count(*) FILTER (WHERE lo >= %(new)s),
       (SELECT count(*) FROM pg_class AS c WHERE c.relname LIKE 'ws\\_p%%' AND c.relkind = 'r'
        AND NOT c.relispartition)
FROM (SELECT (regexp_match(b, 'FROM \\(''(.*)''\\) TO'))[1]::timestamptz AS lo,
             (regexp_match(b, 'TO \\(''(.*)''\\)'))[1]::timestamptz AS hi
      FROM (SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_inherits AS i JOIN pg_class AS c
            ON c.oid = i.inhrelid WHERE i.inhparent = 'ws'::regclass) AS s
      WHERE b <> 'DEFAULT') AS p
"""


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # every insert, failed ones too
    failed: dict[str, int] = field(default_factory=dict)  # SQLSTATE -> count
    maintain_seconds: list[float] = field(default_factory=list)
    results: list[str] = field(default_factory=list)


def writer(b: Bench, db: str, stop: threading.Event, out: Outcome, lock: threading.Lock) -> None:
    with psycopg.connect(b.server.dsn(db), autocommit=True, options=f"-c lock_timeout={LOCK_TIMEOUT}") as conn:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                conn.execute("INSERT INTO ws (ts, payload) VALUES (now(), 'writer')")
                state = None
            except psycopg.Error as e:
                state = e.sqlstate or "?"
            elapsed = time.perf_counter() - start
            with lock:
                out.latencies.append(elapsed)
                if state:
                    out.failed[state] = out.failed.get(state, 0) + 1
            time.sleep(PAUSE)


def reader(b: Bench, db: str) -> None:
    time.sleep(READER_AT)
    with psycopg.connect(b.server.dsn(db)) as conn:  # a transaction until commit
        conn.execute("SELECT count(*) FROM ws")
        time.sleep(READER_HOLDS)
        conn.commit()


def one_run(b: Bench, conn: Conn, maintain: Callable[[Conn], None], out: Outcome) -> None:
    db = conn.info.dbname
    stop, lock = threading.Event(), threading.Lock()
    threads = [threading.Thread(target=writer, args=(b, db, stop, out, lock)) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    read = threading.Thread(target=reader, args=(b, db))
    read.start()
    time.sleep(MAINTAIN_AT)
    start = time.perf_counter()
    error = ""
    try:
        maintain(conn)
    except (ImportError, AttributeError, TypeError):
        raise  # the client is missing: the caller reports it
    except Exception as e:  # reported in the table
        error = f"failed: {getattr(e, 'sqlstate', None) or type(e).__name__} {str(e).splitlines()[0]}"
    finally:
        out.maintain_seconds.append(time.perf_counter() - start)
        read.join()
        time.sleep(TAIL)
        stop.set()
        for t in threads:
            t.join()
    expired, created, detached = conn.execute(
        STATE, {"expired": b.today - dt.timedelta(days=RETENTION), "new": b.today + dt.timedelta(days=AHEAD + 1)}
    ).fetchone()
    text = f"created {created}/3, expired left attached {expired}/3"
    if detached:
        text += f", detached but not dropped {detached}"
    out.results.append(text + (f"; maintenance {error}" if error else ""))


def days(b: Bench) -> list[dt.date]:
    return [b.today + dt.timedelta(days=i) for i in range(-PAST, AHEAD + 2)]


def run(b: Bench) -> list[str]:
    start = (b.today - dt.timedelta(days=PAST)).isoformat()

    def build_pgpart(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="ws"))
        conn.execute(
            f"SELECT count(*) FROM pgpart.create_range_partitions('ws', 'daily', premake => {AHEAD},"
            f" start => '{start}')"
        )
        conn.execute(
            f"SELECT count(*) FROM pgpart.set_policy('ws', retention => '{RETENTION} days',"
            f" retention_action => 'drop', premake => {NEW_AHEAD})"
        )
        conn.execute(ROWS)

    def build_partman(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="ws"))
        conn.execute(
            "SELECT partman.create_parent('public.ws', 'ts', 'native', 'daily', p_premake => %s,"
            " p_start_partition => %s, p_jobmon => false)",
            [AHEAD, start],
        )
        conn.execute(
            f"UPDATE partman.part_config SET premake = {NEW_AHEAD}, retention = '{RETENTION} days',"
            " retention_keep_table = false"
        )
        conn.execute(ROWS)

    def build_plain(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="ws"))
        d = days(b)
        run_script(
            conn,
            [
                f"CREATE TABLE ws_p{lo:%Y%m%d} PARTITION OF ws FOR VALUES FROM ({day_literal(lo)})"
                f" TO ({day_literal(hi)})"
                for lo, hi in pairwise(d)
            ],
        )
        conn.execute(ROWS)

    def naive(conn: Conn) -> None:
        for i in range(AHEAD + 1, NEW_AHEAD + 1):
            lo, hi = b.today + dt.timedelta(days=i), b.today + dt.timedelta(days=i + 1)
            conn.execute(
                f"CREATE TABLE ws_p{lo:%Y%m%d} PARTITION OF ws FOR VALUES FROM ({day_literal(lo)})"
                f" TO ({day_literal(hi)})"
            )
        for i in range(PAST, RETENTION, -1):
            conn.execute(f"DROP TABLE ws_p{b.today - dt.timedelta(days=i):%Y%m%d}")

    def online(conn: Conn) -> None:
        import pgpart

        report = pgpart.Client(conn).maintain(online=True)
        errors = [a for a in report.actions if a.action == "error"]
        if errors:
            raise RuntimeError(f"maintain reported {errors}")

    b.template("stall_pgpart", build_pgpart, base="base_pgpart")
    b.template("stall_partman", build_partman, base="base_partman")
    b.template("stall_plain", build_plain, base="base_plain")

    contestants: list[tuple[str, str, Callable[[Conn], None]]] = [
        ("pgpart, SQL procedure", "stall_pgpart", lambda c: c.execute("CALL pgpart.run_maintenance_proc()")),
        ("pgpart, online client", "stall_pgpart", online),
        (PARTMAN, "stall_partman", lambda c: c.execute("CALL partman.run_maintenance_proc(p_jobmon => false)")),
        ("naive DDL", "stall_plain", naive),
    ]
    lines = [
        f"writer_stall: {WRITERS} writers (lock_timeout {LOCK_TIMEOUT}), a reader holding the parent"
        f" {READER_HOLDS:.0f} s, maintenance creating 3 ahead and dropping 3 expired; {b.reps} runs each, all"
        " inserts pooled (a failed insert counts with the time it took to fail):",
        "",
        "| contestant | inserts | failed | waited > 1 s | p50 | p99 | max | maintenance took | what maintenance did |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    outcomes = {name: Outcome() for name, _, _ in contestants}
    missing: dict[str, str] = {}
    for _ in range(b.reps):
        for name, template, maintain in contestants:  # interleaved, as Bench.compare
            if name in missing:
                continue
            try:
                with b.fresh(template) as conn:
                    one_run(b, conn, maintain, outcomes[name])
            except (ImportError, AttributeError, TypeError) as e:  # the client is not there (yet)
                missing[name] = f"{type(e).__name__}: {e}"
    worst = 0.0
    for name, _, _ in contestants:
        out = outcomes[name]
        if name in missing or not out.latencies:
            lines.append(f"| {name} | | | | | | | | not run: {missing.get(name, 'no inserts')} |")
            continue
        lat = sorted(out.latencies)
        failed = sum(out.failed.values())
        if name.startswith("pgpart"):
            worst = max(worst, lat[-1] + (failed > 0) * 1e9)
        lines.append(
            f"| {name} | {len(lat)} | {failed}{' (' + ', '.join(sorted(out.failed)) + ')' if failed else ''}"
            f" | {sum(x > 1 for x in lat)} | {lat[len(lat) // 2] * 1000:.1f} ms"
            f" | {lat[int(len(lat) * 0.99)] * 1000:.1f} ms | {lat[-1] * 1000:.0f} ms"
            f" | {statistics.median(out.maintain_seconds):.2f} s | {'; '.join(sorted(set(out.results)))} |"
        )
    verdict = "met" if worst <= BOUND else "MISSED"
    lines += [
        "",
        f"Target: no failed insert and no wait beyond pgpart's lock_timeout (200 ms) plus one catalog step"
        f" (taken as {BOUND * 1000:.0f} ms in all) under pgpart: {verdict}.",
    ]
    return ["\n".join(lines) + "\n"]
