"""What pgpart's event triggers cost unrelated DDL (issue 4, item 5).

Runs 1,000 CREATE TABLE / DROP TABLE pairs on plain tables that pgpart does
not manage, once with the event trigger enabled and once with it disabled
(ALTER EVENT TRIGGER ... DISABLE), alternating, several times, on a
throwaway server; prints the median time of each and their ratio (target:
at most 1.05, issue 16). The database also holds a managed parent, so the trigger's
lookups meet a non-empty policy table. The machine's noise only ever adds
time, so the ratio of the fastest runs is printed too, and the trigger
function's own time per call (track_functions), which noise hardly touches.

    make install && .venv/bin/python bench/ddl_overhead.py [--pairs 1000] [--runs 7]

A benchmark, not a test: nothing asserts the ratio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pgcluster import PgServer

TRIGGER = "pgpart_ddl_command_end"
# Every event trigger of pgpart is switched together: unrelated DDL pays for all of them.
ALL_TRIGGERS = "SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'pgpart%' ORDER BY 1"


def one_run(conn: psycopg.Connection[Any], pairs: int) -> float:
    """Seconds for PAIRS autocommitted CREATE TABLE / DROP TABLE pairs."""
    start = time.perf_counter()
    for i in range(pairs):
        conn.execute(f"CREATE TABLE public.bench_{i} (id integer PRIMARY KEY, v text)")
        conn.execute(f"DROP TABLE public.bench_{i}")
    return time.perf_counter() - start


def set_trigger(conn: psycopg.Connection[Any], enabled: bool) -> None:
    """Enables or disables every event trigger of pgpart."""
    for (name,) in conn.execute(ALL_TRIGGERS).fetchall():
        conn.execute(f"ALTER EVENT TRIGGER {name} {'ENABLE' if enabled else 'DISABLE'}")


def ratio_interval(with_t: list[float], without_t: list[float]) -> tuple[float, float, float]:
    """The ratio with/without and its 95% confidence interval, from the
    interleaved pairs of runs: the mean of the pairs' log ratios with a
    Student t interval (pairing cancels the machine's slow drifts)."""
    logs = [math.log(a / b) for a, b in zip(with_t, without_t, strict=True)]
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(mean), math.nan, math.nan
    half = T95.get(len(logs) - 1, 1.96) * statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


# Student t, two-sided 95%, by degrees of freedom (beyond 30: the normal's 1.96).
T95 = {
    1: 12.71,
    2: 4.30,
    3: 3.18,
    4: 2.78,
    5: 2.57,
    6: 2.45,
    7: 2.36,
    8: 2.31,
    9: 2.26,
    10: 2.23,
    11: 2.20,
    12: 2.18,
    13: 2.16,
    14: 2.14,
    15: 2.13,
    16: 2.12,
    17: 2.11,
    18: 2.10,
    19: 2.09,
    20: 2.09,
    24: 2.06,
    29: 2.05,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1000, help="CREATE/DROP pairs per run (default 1000)")
    parser.add_argument("--runs", type=int, default=7, help="runs with and without the trigger (default 7)")
    args = parser.parse_args()

    with PgServer() as server:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        with psycopg.connect(server.dsn("bench"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pgpart")
            found = conn.execute("SELECT count(*) FROM pg_event_trigger WHERE evtname = %s", [TRIGGER]).fetchone()
            if not found or found[0] != 1:
                sys.exit(f"event trigger {TRIGGER} not installed: run `make install` with the current sources first")
            conn.execute(
                "CREATE TABLE public.managed (id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (id, ts))"
                " PARTITION BY RANGE (ts)"
            )
            conn.execute(
                "SELECT count(*) FROM pgpart.create_range_partitions('public.managed', '1 day', premake => 3,"
                " now_at => '2024-01-10')"
            )
            # warm up both paths (plan caches, catalog caches)
            for enabled in (True, False):
                set_trigger(conn, enabled)
                one_run(conn, min(args.pairs, 100))

            conn.execute("SET track_functions = 'pl'")
            conn.execute("SELECT pg_stat_reset()")
            timings: dict[bool, list[float]] = {True: [], False: []}
            for run in range(args.runs):
                order = (True, False) if run % 2 == 0 else (False, True)
                for enabled in order:
                    set_trigger(conn, enabled)
                    timings[enabled].append(one_run(conn, args.pairs))
            set_trigger(conn, True)
            conn.execute("SELECT pg_stat_force_next_flush()")
            own = conn.execute(
                "SELECT max(calls), sum(total_time) FROM pg_stat_user_functions"
                " WHERE schemaname = 'pgpart' AND funcname IN ('_ddl_command_end', '_gu_sql_drop')"
            ).fetchone()

    with_t = statistics.median(timings[True])
    without_t = statistics.median(timings[False])
    print(f"{args.pairs} CREATE TABLE/DROP TABLE pairs (autocommit), {args.runs} runs each")
    print(f"  with the event trigger:    median {with_t * 1000:8.1f} ms  ({with_t / args.pairs * 1e6:6.1f} us/pair)")
    print(
        f"  without the event trigger: median {without_t * 1000:8.1f} ms  ({without_t / args.pairs * 1e6:6.1f} us/pair)"
    )
    mean, low, high = ratio_interval(timings[True], timings[False])
    print(
        f"  ratio with/without: {with_t / without_t:.3f} median, "
        f"{min(timings[True]) / min(timings[False]):.3f} fastest runs, "
        f"{mean:.3f} paired mean (95% CI {low:.3f} - {high:.3f}; target <= 1.05)"
    )
    if own and own[0]:
        pairs, total_ms = own
        print(
            f"  the trigger functions themselves: {total_ms * 1000 / pairs:.1f} us per pair over {pairs} pairs"
            f" ({total_ms * 1000 / pairs / (without_t / args.pairs * 1e6) * 100:.1f}% of a pair without them)"
        )


if __name__ == "__main__":
    main()
