"""load_1M: a CSV file of 1,000,000 rows spread over the 365 days before
today (a backfill of last year) loaded into a daily-partitioned table.

pgpart: ``pgpart.Client(conn).load('ld', file, batch_rows=100000)`` on a
table whose partitions start today: each batch's partitions are created
first (365 in all), then the batch is sent with COPY in its own
transaction. The floor: the same file sent with one COPY into a table whose
365 partitions already exist (made in the template, not timed), so the ratio
is what making sure every row has its partition costs on top of COPY alone.
Neither has a default partition: a row without a partition would fail the
load, and the check counts every row in place.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from itertools import pairwise
from pathlib import Path

from common import PGPART, TABLE_DDL, Bench, Case, Conn, Row, day_literal, result, run_script, scalar

import pgpart

ROWS, DAYS = 1_000_000, 365
FLOOR = "floor: one COPY, partitions made before"


def write_file(path: Path, today: dt.date) -> None:
    start = dt.datetime.combine(today - dt.timedelta(days=DAYS), dt.time(), dt.timezone.utc)
    step = dt.timedelta(days=DAYS) / ROWS
    with path.open("w", newline="") as f:
        for i in range(ROWS):
            # out of order within each tenth, as exports often are
            at = start + step * ((i * 7919) % ROWS)
            f.write(f"{at.isoformat()},row {i}\n")


def check(conn: Conn) -> str | None:
    total = scalar(conn, "SELECT count(*) FROM ld")
    parts = scalar(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ld'::regclass")
    if total != ROWS or parts < DAYS:
        return f"CHECK FAILED: {total} rows, {parts} partitions"
    return None


def run(b: Bench) -> list[Row]:
    today = b.today
    workdir = Path(tempfile.mkdtemp(prefix="pgpart-bench-load-"))
    path = workdir / "rows.csv"
    write_file(path, today)

    def build_pgpart(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="ld"))
        conn.execute("SELECT count(*) FROM pgpart.create_range_partitions('ld', 'daily', premake => 4)")

    def build_plain(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="ld"))
        days = [today - dt.timedelta(days=i) for i in range(DAYS, -5, -1)]
        run_script(
            conn,
            [
                f"CREATE TABLE ld_p{lo:%Y%m%d} PARTITION OF ld FOR VALUES FROM ({day_literal(lo)})"
                f" TO ({day_literal(hi)})"
                for lo, hi in pairwise(days)
            ],
        )

    def load_pgpart(conn: Conn) -> None:
        with path.open(newline="") as f:
            pgpart.Client(conn).load("ld", f, columns=["ts", "payload"], batch_rows=100_000)

    def copy_alone(conn: Conn) -> None:
        with (
            path.open(newline="") as f,
            conn.cursor() as cur,
            cur.copy("COPY ld (ts, payload) FROM STDIN (FORMAT csv)") as copy,
        ):
            while block := f.read(1 << 20):
                copy.write(block)

    b.template("load_pgpart", build_pgpart, base="base_pgpart")
    b.template("load_plain", build_plain, base="base_plain")
    try:
        got = b.compare(
            [
                Case(PGPART, "load_pgpart", load_pgpart, check, big=True),
                Case(FLOOR, "load_plain", copy_alone, check, big=True),
            ]
        )
    finally:
        path.unlink()
        workdir.rmdir()
    return [
        result("load_1M", got, PGPART, "Client.load / pgpart load: 10 batches, 365 partitions made", floor=FLOOR),
        result("load_1M", got, FLOOR, "COPY alone into the 365 partitions made before"),
    ]
