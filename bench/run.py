"""pgpart against pg_partman 4.7 and hand-written SQL, side by side (`make bench`).

Starts one throwaway server (scripts/pgcluster.py), builds each fixture once
into a template database, runs every measure for every contestant several
times in fresh copies, and prints a table of medians with the ratios
pgpart/pg_partman and pgpart/floor; writes it, with the server version and
settings, to bench/results/latest.md. Needs pgpart installed (`make
install`) and pg_partman's Debian package (bench/deps.sh); `make bench` does
both.

    .venv/bin/python bench/run.py [--reps 3] [--only create_365,writer_stall] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import m_convert
import m_create
import m_ddl
import m_load
import m_maintain
import m_move
import m_parquet
import m_stall
import m_unique
from common import DEFAULT_SETTINGS, SETTINGS, Bench, PgServer, Row, scalar

Result = Row | str  # a table row, or a markdown block printed after the table

MEASURES: dict[str, Callable[[Bench], list[Result]]] = {
    "create_365": m_create.run,
    "maintain_50x29": m_maintain.run_create,
    "maintain_noop": m_maintain.run_noop,
    "default_move_1M": m_move.run,
    "load_1M": m_load.run,
    "convert_1M": m_convert.run,
    "parquet_1M": m_parquet.run,
    "writer_stall": m_stall.run,
    "ddl_overhead": m_ddl.run,
    "unique_insert": m_unique.run_insert,
    "unique_copy": m_unique.run_copy,
    "unique_naive_10": m_unique.run_naive_10,
    "unique_naive_1000": m_unique.run_naive_1000,
}

HERE = Path(__file__).resolve().parent


def base_templates(b: Bench, patch: str) -> None:
    b.template("base_pgpart", lambda c: c.execute("CREATE EXTENSION pgpart" + (f";\n{patch}" if patch else "")))
    # pg_partman may be missing (e.g. on a server from a wheel): only the
    # measures comparing with it need it, and they fail without it
    with b.connect("postgres") as conn:
        has_partman = scalar(conn, "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'")
    if has_partman:
        b.template(
            "base_partman", lambda c: c.execute("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman")
        )
    else:
        print("pg_partman is not available: the measures comparing with it will fail", flush=True)
    b.template("base_plain", lambda c: None)


def fmt(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(rows: list[Row]) -> list[str]:
    medians = {(r.measure, r.contestant): r.median for r in rows}

    def ratio(r: Row, other: str | None) -> str:
        if not other or math.isnan(value := r.median / medians.get((r.measure, other), math.nan)):
            return ""
        return f"{value:.2f}"

    lines = [
        "| measure | contestant | median | min - max | n | pgpart / pg_partman | pgpart / floor | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        spread = f"{fmt(min(r.samples))} - {fmt(max(r.samples))}" if r.samples else ""
        lines.append(
            f"| {r.measure} | {r.contestant} | {fmt(r.median)} | {spread}"
            f" | {len(r.samples)} | {ratio(r, r.partman)} | {ratio(r, r.floor)} | {r.note} |"
        )
    return lines


EMPTY = "''"


READING = [
    "Which row compares with which: pg_partman 4.7 always creates a default partition, so the pgpart / pg_partman"
    ' ratio is taken on the "pgpart + default" row (create_365, maintain_50x29, default_move_1M); maintain_noop'
    " compares both pgpart rows with it (a default changes nothing when nothing is due). Each pgpart row's"
    " pgpart / floor ratio is against the floor with the same partitions (with or without a default). The floors"
    " are pgpart's own statements, taken from its dry-run plans (locks, CREATE TABLE ... LIKE, primary key,"
    " indexes, owner, ATTACH; not its policy bookkeeping nor its default-row probe), sent as one script with the"
    ' same transactions, in a database without pgpart (no event triggers). "ref:" rows are references, not'
    " lock-safe. writer_stall runs pgpart without a default partition (a default rules out DETACH CONCURRENTLY),"
    " pg_partman with its own.",
]

# Targets of issue 7: pgpart / pg_partman at most (noop: 10x faster, else
# faster), pgpart / floor at most.
PARTMAN_TARGET = {"maintain_noop": 0.1}
FLOOR_TARGET = {"ddl_overhead": 1.05}


def targets(rows: list[Row]) -> list[str]:
    medians = {(r.measure, r.contestant): r.median for r in rows}
    lines = ["Targets (from the table; a ratio is pgpart's median over the other's):", ""]
    for r in rows:
        if r.measure.startswith(("unique_", "convert_")):
            # targets of their own: throughput (unique_), writers never failing (convert_: in the notes)
            continue
        for other, bounds, default, label in (
            (r.partman, PARTMAN_TARGET, 1.0, "pg_partman"),
            (r.floor, FLOOR_TARGET, 1.2, "floor"),
        ):
            if not other:
                continue
            bound = next((v for k, v in bounds.items() if r.measure.startswith(k)), default)
            value = r.median / medians.get((r.measure, other), math.nan)
            verdict = "met" if value <= bound else ("not measured" if math.isnan(value) else "MISSED")
            lines.append(
                f"- {r.measure}, {r.contestant} / {other}: {value:.2f}"
                f" ({'below' if bound == 1.0 else 'at most'} {bound:g} vs {label}): {verdict}"
            )
    return lines


def environment(b: Bench) -> list[str]:
    names = sorted({*DEFAULT_SETTINGS, *SETTINGS, "work_mem", "maintenance_work_mem", "jit"})
    with b.connect("base_plain_info") as conn:
        version = scalar(conn, "SELECT version()")
        settings = [(n, scalar(conn, "SELECT current_setting(%s)", [n])) for n in names]
        versions = conn.execute(
            "SELECT name, default_version FROM pg_available_extensions"
            " WHERE name IN ('pgpart', 'pg_partman') ORDER BY name"
        ).fetchall()
    return [
        f"- server: {version}",
        f"- extensions: {', '.join(f'{n} {v}' for n, v in versions)}",
        f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start, {platform.platform()};"
        f" data directory in {'/dev/shm (memory)' if b.server.host.startswith('/dev/shm') else b.server.host}",
        "- settings: " + ", ".join(f"{n}={s or EMPTY}" for n, s in settings),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each timed action (default 3)")
    parser.add_argument("--only", default="", help="comma-separated measures, default all: " + ", ".join(MEASURES))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.md")
    parser.add_argument(
        "--small", action="store_true", help="a tenth of the rows, where a measure offers it (a quick try)"
    )
    parser.add_argument(
        "--patch",
        type=Path,
        help="SQL run in every pgpart database after CREATE EXTENSION"
        " (to try a change of pgpart's functions without installing it; noted in the results)",
    )
    args = parser.parse_args()
    chosen = [m for m in args.only.split(",") if m] or list(MEASURES)
    unknown = set(chosen) - set(MEASURES)
    if unknown:
        sys.exit(f"unknown measures: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    results: list[Result] = []
    timings: list[str] = []
    with PgServer(SETTINGS) as server:
        b = Bench(server, args.reps, small=args.small)
        base_templates(b, args.patch.read_text() if args.patch else "")
        b.admin("CREATE DATABASE base_plain_info TEMPLATE base_plain")
        env = environment(b)
        print("\n".join(env), flush=True)
        for name in chosen:
            t0 = time.perf_counter()
            print(f"== {name}", flush=True)
            out = MEASURES[name](b)
            for r in out:
                if isinstance(r, Row):
                    print(f"   {r.contestant:<36} {fmt(r.median):>10}  {r.note}", flush=True)
            results += out
            timings.append(f"{name} {time.perf_counter() - t0:.0f} s")
    total = time.perf_counter() - started

    rows = [r for r in results if isinstance(r, Row)]
    blocks = [r for r in results if isinstance(r, str)]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            "# pgpart benchmark: pgpart, pg_partman and hand-written SQL",
            "",
            f"Run {now} by `make bench` (bench/run.py --reps {args.reps}{' --small' if args.small else ''});"
            f" {total:.0f} s ({'; '.join(timings)}).",
            *([f"**pgpart patched with {args.patch}** (not the installed extension alone)."] if args.patch else []),
            "Medians of the repetitions, wall time at the client (statement sent to result received, commit included);"
            f" load average {os.getloadavg()[0]:.2f} at the end.",
            "",
            *env,
            "",
            *table(rows),
            "",
            *READING,
            "",
            *targets(rows),
            "",
            *("\n".join(blocks).splitlines()),
            "",
        ]
    )
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
