"""What pgpart's event triggers cost unrelated DDL (issue 4, item 5).

Runs 1,000 CREATE TABLE / DROP TABLE pairs on plain tables that pgpart does
not manage, once with the event trigger enabled and once with it disabled
(ALTER EVENT TRIGGER ... DISABLE), alternating, several times, on a
throwaway server; prints the median time of each and their ratio (target:
under 1.1). The database also holds a managed parent, so the trigger's
lookups meet a non-empty policy table. The machine's noise only ever adds
time, so the ratio of the fastest runs is printed too, and the trigger
function's own time per call (track_functions), which noise hardly touches.

    make install && .venv/bin/python bench/ddl_overhead.py [--pairs 1000] [--runs 7]

A benchmark, not a test: nothing asserts the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from pgcluster import PgServer

TRIGGER = "pgpart_ddl_command_end"


def one_run(conn: psycopg.Connection[Any], pairs: int) -> float:
    """Seconds for PAIRS autocommitted CREATE TABLE / DROP TABLE pairs."""
    start = time.perf_counter()
    for i in range(pairs):
        conn.execute(f"CREATE TABLE public.bench_{i} (id integer PRIMARY KEY, v text)")
        conn.execute(f"DROP TABLE public.bench_{i}")
    return time.perf_counter() - start


def set_trigger(conn: psycopg.Connection[Any], enabled: bool) -> None:
    conn.execute(f"ALTER EVENT TRIGGER {TRIGGER} {'ENABLE' if enabled else 'DISABLE'}")


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
                "SELECT calls, total_time FROM pg_stat_user_functions"
                " WHERE schemaname = 'pgpart' AND funcname = '_ddl_command_end'"
            ).fetchone()

    with_t = statistics.median(timings[True])
    without_t = statistics.median(timings[False])
    print(f"{args.pairs} CREATE TABLE/DROP TABLE pairs (autocommit), {args.runs} runs each")
    print(f"  with the event trigger:    median {with_t * 1000:8.1f} ms  ({with_t / args.pairs * 1e6:6.1f} us/pair)")
    print(
        f"  without the event trigger: median {without_t * 1000:8.1f} ms  ({without_t / args.pairs * 1e6:6.1f} us/pair)"
    )
    print(
        f"  ratio with/without: {with_t / without_t:.3f} median, "
        f"{min(timings[True]) / min(timings[False]):.3f} fastest runs (target < 1.1)"
    )
    if own and own[0]:
        calls, total_ms = own
        print(
            f"  the trigger function itself: {total_ms * 1000 / calls:.1f} us per call over {calls} calls"
            f" ({total_ms * 1000 / calls / (without_t / args.pairs * 1e6) * 100:.1f}% of a pair without it)"
        )


if __name__ == "__main__":
    main()
