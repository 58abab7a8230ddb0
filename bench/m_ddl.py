"""ddl_overhead: what pgpart's event triggers cost unrelated DDL, measured
by bench/ddl_overhead.py's own procedure (its one_run and set_trigger, the
same pairs, runs, warm-up and alternation as its main()), here on the
shared server: 500 CREATE TABLE / DROP TABLE pairs on plain tables with
every event trigger of pgpart enabled and disabled, 15 runs of each,
interleaved, in a database that also holds a managed parent with a global
unique constraint. The ratio is the paired runs' mean with its 95% interval.

A third state, interleaved with the two: pgpart's event triggers disabled
and empty ones enabled in their place (same events, same tags, functions
that only RETURN): what any event trigger costs this DDL in PostgreSQL
itself (it collects the commands for pg_event_trigger_ddl_commands() and
calls the function), so that pgpart's own part can be told from it.
"""

from __future__ import annotations

from common import PGPART, Bench, Conn, Row, scalar

PAIRS, RUNS = 500, 15  # interleaved pairs of runs: enough for a 95% interval on a shared machine
EMPTY = "empty event triggers"
# pgpart's event triggers copied as empty ones (same event, same tags), created disabled
EMPTY_TRIGGERS = """
CREATE FUNCTION public.bench_empty() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$;
DO $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT evtname, evtevent, evttags FROM pg_event_trigger WHERE evtname LIKE 'pgpart%' LOOP
        EXECUTE format('CREATE EVENT TRIGGER %I ON %I%s EXECUTE FUNCTION public.bench_empty()',
                       'bench_empty_' || e.evtname, e.evtevent,
                       CASE WHEN e.evttags IS NULL THEN ''
                            ELSE ' WHEN TAG IN ('
                                 || (SELECT string_agg(quote_literal(t), ', ') FROM unnest(e.evttags) AS t)
                                 || ')' END);
        EXECUTE format('ALTER EVENT TRIGGER %I DISABLE', 'bench_empty_' || e.evtname);
    END LOOP;
END
$$
"""


def set_empty(conn: Conn, enabled: bool) -> None:
    for (name,) in conn.execute("SELECT evtname FROM pg_event_trigger WHERE evtname LIKE 'bench_empty_%'").fetchall():
        conn.execute(f"ALTER EVENT TRIGGER {name} {'ENABLE' if enabled else 'DISABLE'}")


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
        conn.execute(EMPTY_TRIGGERS)
        states = ("pgpart", "none", "empty")

        def state(name: str) -> None:
            d.set_trigger(conn, name == "pgpart")
            set_empty(conn, name == "empty")

        for name in states:  # warm-up, as ddl_overhead.main
            state(name)
            d.one_run(conn, min(PAIRS, 100))
        timings: dict[str, list[float]] = {name: [] for name in states}
        for run in range(RUNS):
            order = states[run % 3 :] + states[: run % 3]  # each state first, second and third in turn
            for name in order:
                state(name)
                timings[name].append(d.one_run(conn, PAIRS))
        state("pgpart")
    mean, low, high = d.ratio_interval(timings["pgpart"], timings["none"])
    e_mean, e_low, e_high = d.ratio_interval(timings["empty"], timings["none"])
    p_mean, p_low, p_high = d.ratio_interval(timings["pgpart"], timings["empty"])
    note = (
        f"{PAIRS} CREATE TABLE/DROP TABLE pairs per run, {RUNS} interleaved runs each (bench/ddl_overhead.py);"
        f" paired ratio {mean:.3f}, 95% CI {low:.3f} - {high:.3f}; against empty event triggers"
        f" {p_mean:.3f} ({p_low:.3f} - {p_high:.3f})"
    )
    floor = "event trigger disabled"
    return [
        Row("ddl_overhead", PGPART, timings["pgpart"], note + "; target <= 1.05", floor=floor),
        Row("ddl_overhead", floor, timings["none"], "ALTER EVENT TRIGGER ... DISABLE, all of pgpart's"),
        Row(
            "ddl_overhead",
            EMPTY,
            timings["empty"],
            f"pgpart's disabled, empty ones on the same events and tags; / disabled: paired ratio {e_mean:.3f},"
            f" 95% CI {e_low:.3f} - {e_high:.3f} (PostgreSQL's own cost of an event trigger)",
        ),
    ]
