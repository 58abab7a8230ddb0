"""ddl_overhead: what pgpart's event triggers cost unrelated DDL, measured
by bench/ddl_overhead.py's own procedure (its one_run and set_trigger, the
same pairs, runs, warm-up and alternation as its main()), here on the
shared server: 1,000 CREATE TABLE / DROP TABLE pairs on plain tables with
the event trigger enabled and disabled, in a database that also holds a
managed parent.
"""

from __future__ import annotations

from common import PGPART, Bench, Row, scalar

PAIRS, RUNS = 1000, 7  # ddl_overhead.py's defaults


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
        for enabled in (True, False):  # warm-up, as ddl_overhead.main
            d.set_trigger(conn, enabled)
            d.one_run(conn, min(PAIRS, 100))
        timings: dict[bool, list[float]] = {True: [], False: []}
        for run in range(RUNS):
            for enabled in (True, False) if run % 2 == 0 else (False, True):
                d.set_trigger(conn, enabled)
                timings[enabled].append(d.one_run(conn, PAIRS))
        d.set_trigger(conn, True)
    note = f"{PAIRS} CREATE TABLE/DROP TABLE pairs per run (bench/ddl_overhead.py)"
    floor = "event trigger disabled"
    return [
        Row("ddl_overhead", PGPART, timings[True], note + "; target < 1.1", floor=floor),
        Row("ddl_overhead", floor, timings[False], "ALTER EVENT TRIGGER ... DISABLE"),
    ]
