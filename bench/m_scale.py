"""maintain at scale: what a maintenance tick costs per managed parent when
nothing (or 1%) is due, with and without the set-based filter
pgpart._due_parents (issue 16, item 1).

For each N (default 50 and 1,000): N daily parents x 10 partitions (today
and 9 ahead) and 100 rows each, built once into a template database; every
measure runs in a warm session on a copy of it. Measures, medians of REPS:

  due_parents      SELECT FROM pgpart._due_parents(now())           (the filter alone)
  noop_full        SELECT FROM pgpart.run_maintenance(now_at => now())  (today: every parent)
  noop_filtered    run_maintenance only for the parents _due_parents returns
                   (what a wired tick costs when nothing is due)
  due1_full        1% of the parents miss their newest partition: run_maintenance
                   over all, dry run (the state stays the same between repetitions)
  due1_filtered    the same, only for the due parents
  partition_info_all, check_all   pgpart.partition_info() and pgpart.check() over every parent

--partitions P (default 10) gives each parent P partitions: the 10 above
and P - 10 past days made with PARTITION OF (how the no-op tick grows with
the partitions of a parent). --baseline FILE runs the filter measures
(due_parents, noop_proc: CALL pgpart.run_maintenance_proc(), noop_filtered)
once more, in another copy of the same database where FILE's SQL was run
first (e.g. the previous version's functions, CREATE OR REPLACE), for a
before/after ratio from one run.

The *_full measures plan every parent; above --full-up-to parents (default
1,000) they are skipped: at 10,000 parents one such tick takes minutes.
`make bench-scale` runs 50, 1,000 and 10,000 parents (10,000 parents x 10
partitions, their indexes and TOAST tables: about 300,000 relations, ~3 GB
in the data directory under /dev/shm or the temporary directory; built by
plain DDL in batches, then registered with pgpart).

Usage (PostgreSQL 18 of the project virtualenv, never 15):
  PG_CONFIG=$(scripts/pg_config_for.sh 18) .venv/bin/python bench/m_scale.py [--parents 50,1000] [--reps 5]
  make bench-scale   (the same with --parents 50,1000,10000)
pgpart must be installed in that server (make test PG=18 or make install).
Writes bench/results/scale.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from common import SETTINGS, Bench, Conn, PgServer, scalar

HERE = Path(__file__).resolve().parent
# The fixture is made by plain DDL in batches with pgpart's event triggers
# off, then registered: create_range_partitions finds every slot of its
# window present (same names and bounds as its own) and only records the
# policy; the past days are adopted as they are. Made one by one through
# pgpart, 10,000 parents took over an hour.
BATCH = 50
TABLES = """
DO $$
DECLARE
    t text;
    d timestamptz;
BEGIN
    FOR i IN {lo}..{hi} LOOP
        t := format('t%s', lpad(i::text, 5, '0'));
        EXECUTE format('CREATE TABLE %I (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL,'
                       ' payload text, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts)', t);
        EXECUTE format('CREATE INDEX ON %I (ts)', t);
        FOR d IN SELECT generate_series(date_trunc('day', now()) - interval '{past} days',
                                        date_trunc('day', now()) + interval '9 days', interval '1 day') LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           t || '_p' || to_char(d, 'YYYYMMDD'), t, d, d + interval '1 day');
        END LOOP;
        EXECUTE format('INSERT INTO %I (ts, payload) SELECT now(), ''row '' || g FROM generate_series(1, 100) AS g', t);
    END LOOP;
END
$$
"""
REGISTER = (
    "SELECT count(*) FROM generate_series({lo}, {hi}) AS g,"
    " pgpart.create_range_partitions(format('t%s', lpad(g::text, 5, '0'))::regclass, '1 day', premake => 9)"
)
DUE = "SELECT count(*) FROM pgpart._due_parents(now())"
PROC = "CALL pgpart.run_maintenance_proc()"
FULL = "SELECT count(*) FROM pgpart.run_maintenance(now_at => now(){dry})"
INFO = "SELECT count(*) FROM pgpart.partition_info()"
CHECK = "SELECT count(*) FROM pgpart.check()"
FILTERED = (
    "SELECT count(*) FROM pgpart._due_parents(now()) AS d"
    " CROSS JOIN LATERAL pgpart.run_maintenance(d.parent, now_at => now(){dry}) AS m"
)


def build(n: int, partitions: int) -> Callable[[Conn], None]:
    def fill(conn: Conn) -> None:
        conn.execute("CREATE EXTENSION pgpart")
        conn.execute("SET pgpart.event_triggers = off")
        for lo in range(0, n, BATCH):
            conn.execute(TABLES.format(lo=lo, hi=min(n, lo + BATCH) - 1, past=partitions - 10))
        conn.execute("RESET pgpart.event_triggers")
        for lo in range(0, n, BATCH):
            made = scalar(conn, REGISTER.format(lo=lo, hi=min(n, lo + BATCH) - 1))
            assert made == 0, f"{made} partitions made while registering parents {lo}.. (expected all present)"
        # The bench server runs without autovacuum, which on a real server
        # analyzes the catalogs after such growth: with statistics of an
        # empty catalog the planner scans pg_class and pg_inherits whole for
        # every parent (check() took 66 ms per parent at 10,000 parents, 7 ms
        # after this)
        conn.execute(
            "ANALYZE pg_catalog.pg_class, pg_catalog.pg_inherits, pg_catalog.pg_index,"
            " pg_catalog.pg_constraint, pg_catalog.pg_depend, pg_catalog.pg_attribute, pg_catalog.pg_trigger"
        )

    return fill


def make_due(conn: Conn, n: int) -> int:
    """1% of the parents (at least one) lose their newest partition."""
    due = max(1, n // 100)
    for i in range(0, n, n // due)[:due]:
        newest = scalar(
            conn,
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass"
            " ORDER BY inhrelid::regclass::text DESC LIMIT 1",
            [f"t{i:05d}"],
        )
        conn.execute(f"DROP TABLE {newest}")
    return due


def timed(conn: Conn, query: str, reps: int) -> tuple[float, int]:
    """Median seconds of REPS runs of QUERY after one warm-up, and its count
    (0 for a CALL)."""
    call = query.startswith("CALL")
    count = 0 if call else int(scalar(conn, query))
    if call:
        conn.execute(query)
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        conn.execute(query) if call else scalar(conn, query)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parents", default="50,1000", help="comma-separated numbers of parents")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--full-up-to",
        type=int,
        default=1000,
        help="run the *_full measures (every parent planned) only up to this many parents (default 1000:"
        " at 10,000 parents one full tick takes minutes)",
    )
    parser.add_argument("--partitions", type=int, default=10, help="partitions per parent (at least 10)")
    parser.add_argument("--baseline", type=Path, help="SQL run in a second copy for the before/after rows")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scale.md")
    args = parser.parse_args()
    if args.partitions < 10:
        parser.error("--partitions: at least 10")
    sizes = [int(x) for x in args.parents.split(",")]
    lines = [
        "# pgpart at scale: the maintenance tick per parent, with and without pgpart._due_parents",
        "",
        f"bench/m_scale.py --parents {args.parents} --partitions {args.partitions} --reps {args.reps}"
        f"{f' --baseline {args.baseline}' if args.baseline else ''}; medians in a warm session;"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start.",
        "",
        "| parents | measure | parents due | ms | ms per parent | ratio to noop_full (or to the baseline) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    with PgServer(SETTINGS) as server:
        b = Bench(server, args.reps)
        version = scalar(b.connect("postgres"), "SHOW server_version")
        lines.insert(3, f"Server: PostgreSQL {version}.")
        for n in sizes:
            t0 = time.perf_counter()
            template = b.template(f"scale_{n}", build(n, args.partitions))
            print(f"built {n} parents in {time.perf_counter() - t0:.0f} s", flush=True)
            results: list[tuple[str, float, int]] = []
            if args.baseline:
                with b.fresh(template) as conn:
                    conn.execute(args.baseline.read_text())
                    results.append(("due_parents (baseline)", *timed(conn, DUE, args.reps)))
                    results.append(("noop_proc (baseline)", *timed(conn, PROC, args.reps)))
                    results.append(("noop_filtered (baseline)", *timed(conn, FILTERED.format(dry=""), args.reps)))
            with b.fresh(template) as conn:
                full = n <= args.full_up_to
                results.append(("due_parents", *timed(conn, DUE, args.reps)))
                results.append(("noop_proc", *timed(conn, PROC, args.reps)))
                if full:
                    results.append(("noop_full", *timed(conn, FULL.format(dry=""), args.reps)))
                results.append(("noop_filtered", *timed(conn, FILTERED.format(dry=""), args.reps)))
                results.append(("partition_info_all", *timed(conn, INFO, args.reps)))
                results.append(("check_all", *timed(conn, CHECK, args.reps)))
                due = make_due(conn, n)
                if full:
                    results.append(("due1_full", *timed(conn, FULL.format(dry=", dry_run => true"), args.reps)))
                results.append(("due1_filtered", *timed(conn, FILTERED.format(dry=", dry_run => true"), args.reps)))
                found = int(scalar(conn, DUE))
                assert found == due, f"{found} parents due, {due} made due"
            by_name = {name: seconds for name, seconds, _ in results}
            for name, seconds, _count in results:
                ref = by_name.get("due1_full" if name.startswith("due1") else "noop_full")
                if args.baseline and not name.endswith("(baseline)"):
                    ref = by_name.get(f"{name} (baseline)", ref)
                due_now = due if name.startswith("due1") else 0
                ratio = f"{seconds / ref:.3f}" if ref and name.startswith(("noop", "due")) else ""
                lines.append(
                    f"| {n} | {name} | {due_now} | {seconds * 1000:.1f} | {seconds * 1000 / n:.3f} | {ratio} |"
                )
                print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
