"""ddl_overhead: what pgpart's event triggers cost unrelated DDL, measured
by bench/ddl_overhead.py's own procedure (its one_run and set_trigger, the
same pairs, runs, warm-up and alternation as its main()), here on the
shared server: 500 CREATE TABLE / DROP TABLE pairs on plain tables with
every event trigger of pgpart enabled and disabled, 15 runs of each,
interleaved, in a database that also holds a managed parent with a global
unique constraint. The ratio is the paired runs' mean with its 95% interval.
"""

from __future__ import annotations

from common import PGPART, Bench, Row, scalar

PAIRS, RUNS = 500, 15  # interleaved pairs of runs: enough for a 95% interval on a shared machine


def run(b: Bench) -> list[Row | str]:
    try:
        import ddl_overhead as d
    except ImportError as e:
        return [f"ddl_overhead: not run, bench/ddl_overhead.py missing ({e}).\n"]

    with b.fresh("base_pgpart") as conn:
        if scalar(conn, "SELECT count(*) FROM pg_event_trigger WHERE evtname = %s", [d.TRIGGER]) != 1:
            return [f"ddl_overhead: not run, event trigger {d.TRIGGER} not installed.\n"]
        conn.execute(
            "CREATE TABLE public.managed (id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (id, ts))"
            " PARTITION BY RANGE (ts)"
        )
        conn.execute(
            "SELECT count(*) FROM pgpart.create_range_partitions('public.managed', '1 day', premake => 3,"
            " now_at => '2024-01-10')"
        )
        conn.execute("ALTER TABLE public.managed ADD COLUMN email text")
        conn.execute("SELECT count(*) FROM pgpart.add_global_unique('public.managed', ARRAY['email'])")
        for enabled in (True, False):  # warm-up, as ddl_overhead.main
            d.set_trigger(conn, enabled)
            d.one_run(conn, min(PAIRS, 100))
        timings: dict[bool, list[float]] = {True: [], False: []}
        for run in range(RUNS):
            for enabled in (True, False) if run % 2 == 0 else (False, True):
                d.set_trigger(conn, enabled)
                timings[enabled].append(d.one_run(conn, PAIRS))
        d.set_trigger(conn, True)
    mean, low, high = d.ratio_interval(timings[True], timings[False])
    note = (
        f"{PAIRS} CREATE TABLE/DROP TABLE pairs per run, {RUNS} interleaved runs each (bench/ddl_overhead.py);"
        f" paired ratio {mean:.3f}, 95% CI {low:.3f} - {high:.3f}"
    )
    floor = "event trigger disabled"
    return [
        Row("ddl_overhead", PGPART, timings[True], note + "; target <= 1.05", floor=floor),
        Row("ddl_overhead", floor, timings[False], "ALTER EVENT TRIGGER ... DISABLE, all of pgpart's"),
    ]
