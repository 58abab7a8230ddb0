"""parquet_1M: the cold tier (docs/cold-tier.md) on one partition of 1,000,000
rows (BENCH_PARQUET_ROWS overrides the count, e.g. for a quick try).

The table is the benchmark's usual one (identity id, timestamptz key, text
payload, PRIMARY KEY (id, ts), index on ts) plus a numeric(12, 2), a jsonb
and an integer[] column, all the rows in yesterday's partition. Measured,
each in a child process of its own so its peak memory (ru_maxrss) is its
own:
- "pgpart export": Client.export_partition (write, read back and verify,
  detach, re-check, drop);
- "pgpart restore": Client.restore_partition of that file (load into a
  temporary table, verify, create, insert, attach);
- the floor: COPY (SELECT ... ORDER BY ts) TO STDOUT (FORMAT csv) streamed
  through gzip (level 6) into a file, no verification.
A second export of a tenth of the rows shows whether memory stays flat.
Reported besides the times: file sizes against the table's size
(pg_total_relation_size, indexes included, and the heap alone) and peak RSS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import TABLE_DDL, Bench, Conn, Row, scalar

ROWS = int(os.environ.get("BENCH_PARQUET_ROWS", "1000000"))
EXPORT, RESTORE, FLOOR = "pgpart export", "pgpart restore", "floor: COPY csv + gzip"
REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import gzip, json, os, resource, sys, time
import psycopg
sys.path.insert(0, sys.argv[5])
import pgpart
what, dsn, table, target = sys.argv[1:5]
with psycopg.connect(dsn, autocommit=True) as conn:
    client = pgpart.Client(conn)
    start = time.perf_counter()
    size = 0
    if what == "export":
        manifest = client.export_partition("pq", table, to=target)
        size = manifest["file_bytes"]
    elif what == "restore":
        client.restore_partition("pq", target)
    else:
        with gzip.open(target, "wb", compresslevel=6) as out, conn.cursor() as cur:
            with cur.copy(f"COPY (SELECT * FROM {table} ORDER BY ts) TO STDOUT (FORMAT csv)") as copy:
                for chunk in copy:
                    out.write(chunk)
        size = os.path.getsize(target)
    elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "bytes": size,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(what: str, dsn: str, table: str, target: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, what, dsn, table, target, str(REPO / "python")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def build(rows: int, yesterday: dt.date) -> Callable[[Conn], None]:
    def fill(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="pq"))
        conn.execute("ALTER TABLE pq ADD COLUMN amount numeric(12, 2), ADD COLUMN doc jsonb, ADD COLUMN tags integer[]")
        conn.execute(
            "SELECT count(*) FROM pgpart.ensure_range('pq', '1 day', premake => 1, now_at => %s)",
            [f"{yesterday.isoformat()} 12:00+00"],
        )
        conn.execute(
            "INSERT INTO pq (ts, payload, amount, doc, tags)"
            f" SELECT %s::timestamptz + (g - 1) * interval '1 day' / {rows}, 'row ' || g || ' ' || md5(g::text),"
            " (g %% 100000) / 100.0, jsonb_build_object('g', g, 'odd', g %% 2 = 1), ARRAY[g %% 7, g %% 11]"
            f" FROM generate_series(1, {rows}) AS g",
            [f"{yesterday.isoformat()} 00:00+00"],
        )
        conn.execute("VACUUM ANALYZE pq")

    return fill


def run(b: Bench) -> list[Row | str]:
    yesterday = b.today - dt.timedelta(days=1)
    partition = f"public.pq_p{yesterday:%Y%m%d}"
    b.template("parquet_full", build(ROWS, yesterday), base="base_pgpart")
    b.template("parquet_tenth", build(ROWS // 10, yesterday), base="base_pgpart")
    samples: dict[str, list[float]] = {EXPORT: [], RESTORE: [], FLOOR: []}
    last: dict[str, dict[str, float]] = {}
    sizes: dict[str, int] = {}
    problems: set[str] = set()
    for _ in range(b.reps):
        with tempfile.TemporaryDirectory() as tmp, b.fresh("parquet_full", big=True) as conn:
            dsn = conn.info.dsn
            sizes = {
                "total": int(scalar(conn, "SELECT pg_total_relation_size(%s)", [partition])),
                "heap": int(scalar(conn, "SELECT pg_relation_size(%s)", [partition])),
            }
            floor = child("floor", dsn, partition, str(Path(tmp) / "floor.csv.gz"))
            export = child("export", dsn, partition, tmp)
            restore = child("restore", dsn, partition, str(Path(tmp) / f"{partition}.manifest.json"))
            if scalar(conn, "SELECT count(*) FROM pq") != ROWS:
                problems.add("CHECK FAILED: rows after restore")
            for name, got in ((EXPORT, export), (RESTORE, restore), (FLOOR, floor)):
                samples[name].append(got["seconds"])
                last[name] = got
    with tempfile.TemporaryDirectory() as tmp, b.fresh("parquet_tenth", big=True) as conn:
        tenth = child("export", conn.info.dsn, partition, tmp)
    note = "; ".join(sorted(problems))
    rows: list[Row | str] = [
        Row("parquet_1M", EXPORT, samples[EXPORT], note or "write, read back + verify, detach, re-check, drop",
            floor=FLOOR),
        Row("parquet_1M", RESTORE, samples[RESTORE], note or "load, verify, create, insert, attach", floor=FLOOR),
        Row("parquet_1M", FLOOR, samples[FLOOR], "no verification, no drop"),
    ]  # fmt: skip
    mib = 1024 * 1024
    rows.append(
        "\n".join([
            f"parquet_1M ({ROWS:,} rows; the partition: {sizes['total'] / mib:.1f} MiB with indexes,"
            f" heap {sizes['heap'] / mib:.1f} MiB):",
            "",
            "| contestant | file | file / heap | peak RSS of the process |",
            "|---|---:|---:|---:|",
            f"| {EXPORT} (zstd) | {last[EXPORT]['bytes'] / mib:.1f} MiB | {last[EXPORT]['bytes'] / sizes['heap']:.2f}"
            f" | {last[EXPORT]['peak_rss_kib'] / 1024:.0f} MiB |",
            f"| {RESTORE} | | | {last[RESTORE]['peak_rss_kib'] / 1024:.0f} MiB |",
            f"| {FLOOR} | {last[FLOOR]['bytes'] / mib:.1f} MiB | {last[FLOOR]['bytes'] / sizes['heap']:.2f}"
            f" | {last[FLOOR]['peak_rss_kib'] / 1024:.0f} MiB |",
            f"| {EXPORT}, {ROWS // 10:,} rows | {tenth['bytes'] / mib:.1f} MiB | | {tenth['peak_rss_kib'] / 1024:.0f}"
            " MiB |",
            "",
            "Memory stays flat when the export of ten times the rows peaks at about the same RSS (one batch of"
            " 50,000 rows is in memory at a time).",
        ])
    )  # fmt: skip
    return rows


def main() -> None:
    """Only this measure, on its own server (no pg_partman needed): writes
    bench/results/parquet.md. PG_CONFIG picks the server, e.g.
    PG_CONFIG=$(scripts/pg_config_for.sh 18) .venv/bin/python bench/m_parquet.py --reps 3"""
    import argparse
    import time

    import run as bench_run  # the table and environment of `make bench`
    from common import SETTINGS, PgServer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "parquet.md")
    args = parser.parse_args()
    started = time.perf_counter()
    with PgServer(SETTINGS) as server:
        b = Bench(server, args.reps)
        b.template("base_pgpart", lambda c: c.execute("CREATE EXTENSION pgpart"))
        b.template("base_plain", lambda c: None)
        b.admin("CREATE DATABASE base_plain_info TEMPLATE base_plain")
        env = bench_run.environment(b)
        out = run(b)
    table = [r for r in out if isinstance(r, Row)]
    blocks = [r for r in out if isinstance(r, str)]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "# pgpart benchmark: the cold tier (Parquet export and restore)",
        "",
        f"Run {now} by bench/m_parquet.py --reps {args.reps} ({time.perf_counter() - started:.0f} s); the same"
        " measure runs in `make bench` as parquet_1M. Medians, wall time in the child process doing the work.",
        "",
        *env,
        "",
        *bench_run.table(table),
        "",
        *blocks,
        "",
    ])  # fmt: skip
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
