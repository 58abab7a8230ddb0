"""maintain_50x29 and maintain_noop: what one maintenance call costs.

maintain_50x29: 50 daily parents, each with the partitions of today and
tomorrow and 100 rows at now, whose premake is raised from 1 to 30: one
maintenance call creates 29 partitions for each (1,450). pgpart: CALL
pgpart.run_maintenance_proc() (commits per parent); pg_partman: CALL
partman.run_maintenance_proc() (commits per parent). The floor is pgpart's
own statements for each parent (from its dry-run plan, see
common.plan_statements), one transaction per parent, all in one script, in
the same database with pgpart dropped.

maintain_noop: the call every cron tick pays when nothing is due, in a warm
session: 50 parents x 10 partitions (today and 9 ahead), and 5 parents x
1,000 partitions (990 past days as well), 100 rows at now in each.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from collections.abc import Callable

from common import (
    PARTMAN,
    PGPART,
    PGPART_DEFAULT,
    TABLE_DDL,
    Bench,
    Case,
    Conn,
    Row,
    day_literal,
    plan_statements,
    result,
    scalar,
    statement,
)
from psycopg import sql

ROWS = "INSERT INTO {t} (ts, payload) SELECT now(), 'row ' || g FROM generate_series(1, 100) AS g"
PGPART_MAINTAIN = "CALL pgpart.run_maintenance_proc()"
PARTMAN_MAINTAIN = "CALL partman.run_maintenance_proc(p_jobmon => false)"
FLOOR = "floor: lock-safe DDL"
FLOOR_DEFAULT = "floor: lock-safe DDL + default"
# The floor's statements run by pgpart's executor (pgpart._run_steps) in the
# pgpart database, in a new session and in one that has just planned all of
# maintenance: where the time above the floor goes (see docs/benchmarks.md).
VIA_RUN_STEPS = "ref: floor statements by _run_steps, new session"
VIA_RUN_STEPS_WARM = "ref: the same after a maintenance dry run"

# range partitions that are not the default, over every parent
RANGE_PARTITIONS = (
    "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE c.relispartition AND c.relkind = 'r' AND n.nspname = 'public'"
    " AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'"
)


def parents(n: int) -> list[str]:
    return [f"t{i:02d}" for i in range(1, n + 1)]


def pgpart_parents(conn: Conn, n: int, premake: int, default: bool) -> None:
    for t in parents(n):
        conn.execute(TABLE_DDL.format(t=t))
        conn.execute(
            f"SELECT count(*) FROM pgpart.create_range_partitions('{t}', 'daily', premake => {premake}"
            f"{', default_partition => true' if default else ''})"
        )
        conn.execute(ROWS.format(t=t))


def partman_parents(conn: Conn, n: int, premake: int, today: dt.date) -> None:
    for t in parents(n):
        conn.execute(TABLE_DDL.format(t=t))
        conn.execute(
            "SELECT partman.create_parent(%s, 'ts', 'native', 'daily', p_premake => %s,"
            " p_start_partition => %s, p_jobmon => false)",
            [f"public.{t}", premake, today.isoformat()],
        )
        conn.execute(ROWS.format(t=t))


def past_partitions(conn: Conn, n: int, days: int, today: dt.date, suffix: str) -> None:
    """DAYS partitions before today for each parent, made with PARTITION OF
    (fast; each manager's own naming, SUFFIX a strftime format)."""
    for t in parents(n):
        statements = []
        for i in range(1, days + 1):
            lo, hi = today - dt.timedelta(days=i), today - dt.timedelta(days=i - 1)
            statements.append(
                f"CREATE TABLE {t}_p{lo.strftime(suffix)} PARTITION OF {t}"
                f" FOR VALUES FROM ({day_literal(lo)}) TO ({day_literal(hi)})"
            )
        conn.execute(";\n".join(["BEGIN", *statements, "COMMIT"]))


def run_steps_script(plans: list[list[str]]) -> str:
    """Each parent's statements through pgpart._run_steps, one transaction each."""
    script = []
    for plan in plans:
        steps = sql.SQL(
            "SELECT pgpart._run_steps(array(SELECT ROW(u.n, NULL, NULL, NULL, 'step', u.s, NULL, false)::pgpart.step"
            " FROM unnest({}::text[]) WITH ORDINALITY AS u (s, n) ORDER BY u.n), '200ms', 10)"
        ).format(sql.Literal(plan))
        script += ["BEGIN", steps.as_string(), "COMMIT"]
    return ";\n".join(script)


def run_create(b: Bench) -> list[Row]:
    n, expected = 50, 50 * 31
    scripts: dict[bool, list[str]] = {}
    plans: list[list[str]] = []  # without a default

    def build_pgpart(default: bool) -> Callable[[Conn], None]:
        def build(conn: Conn) -> None:
            pgpart_parents(conn, n, 1, default)
            script = []
            for t in parents(n):
                conn.execute(f"SELECT count(*) FROM pgpart.set_policy('{t}', premake => 30)")
                plan = plan_statements(
                    conn,
                    f"SELECT statement FROM pgpart.create_range_partitions('{t}', 'daily', dry_run => true)"
                    " ORDER BY step",
                )
                script += ["BEGIN", *plan, "COMMIT"]
                if not default:
                    plans.append(plan)
            scripts[default] = script

        return build

    def build_partman(conn: Conn) -> None:
        partman_parents(conn, n, 1, b.today)
        conn.execute("UPDATE partman.part_config SET premake = 30")

    for default in (False, True):
        b.template(f"maint_pgpart_{default:d}", build_pgpart(default), base="base_pgpart")
        b.template(
            f"maint_floor_{default:d}", lambda c: c.execute("DROP EXTENSION pgpart"), base=f"maint_pgpart_{default:d}"
        )
    b.template("maint_partman", build_partman, base="base_partman")

    def check(conn: Conn) -> str | None:
        got = scalar(conn, RANGE_PARTITIONS)
        return None if got == expected else f"CHECK FAILED: {got} range partitions, expected {expected}"

    got = b.compare(
        [
            Case(PGPART, "maint_pgpart_0", statement(PGPART_MAINTAIN), check),
            Case(FLOOR, "maint_floor_0", statement(";\n".join(scripts[False])), check),
            Case(PGPART_DEFAULT, "maint_pgpart_1", statement(PGPART_MAINTAIN), check),
            Case(FLOOR_DEFAULT, "maint_floor_1", statement(";\n".join(scripts[True])), check),
            Case(PARTMAN, "maint_partman", statement(PARTMAN_MAINTAIN), check),
            Case(VIA_RUN_STEPS, "maint_pgpart_0", statement(run_steps_script(plans)), check),
            Case(
                VIA_RUN_STEPS_WARM,
                "maint_pgpart_0",
                statement(run_steps_script(plans)),
                check,
                setup=statement("SELECT count(*) FROM pgpart.run_maintenance(dry_run => true)"),
            ),
        ]
    )
    as_script = "pgpart's plans as one script, one transaction per parent"
    floor = statistics.median(got[FLOOR][0]) if got[FLOOR][0] else math.nan

    def of_floor(name: str) -> str:
        samples = got[name][0]
        return f"{statistics.median(samples) / floor:.2f}x the floor" if samples else "no sample"

    return [
        result("maintain_50x29", got, PGPART, PGPART_MAINTAIN, floor=FLOOR),
        result("maintain_50x29", got, FLOOR, as_script),
        result("maintain_50x29", got, PGPART_DEFAULT, PGPART_MAINTAIN, partman=PARTMAN, floor=FLOOR_DEFAULT),
        result("maintain_50x29", got, FLOOR_DEFAULT, as_script),
        result("maintain_50x29", got, PARTMAN, PARTMAN_MAINTAIN),
        result(
            "maintain_50x29",
            got,
            VIA_RUN_STEPS,
            f"{of_floor(VIA_RUN_STEPS)}: the floor's statements in pgpart's database, by pgpart._run_steps"
            " in a session that has run nothing else",
        ),
        result(
            "maintain_50x29",
            got,
            VIA_RUN_STEPS_WARM,
            f"{of_floor(VIA_RUN_STEPS_WARM)}: the same in a session that has just run"
            " pgpart.run_maintenance(dry_run => true) (untimed): its PL/pgSQL plans are cached",
        ),
    ]


def timed_call(conn: Conn, call: str) -> float:
    start = time.perf_counter()
    conn.execute(call)
    return time.perf_counter() - start


NOOP_SIZES = ((50, 10), (5, 1000))  # parents x partitions per parent


def run_noop(b: Bench) -> list[Row | str]:
    for n, per in NOOP_SIZES:
        past = per - 10

        def build_pgpart(conn: Conn, n: int = n, past: int = past, default: bool = False) -> None:
            pgpart_parents(conn, n, 9, default)
            # the event triggers would re-check the whole set after each one
            conn.execute("SET pgpart.event_triggers = off")
            past_partitions(conn, n, past, b.today, "%Y%m%d")

        def build_partman(conn: Conn, n: int = n, past: int = past) -> None:
            partman_parents(conn, n, 9, b.today)
            past_partitions(conn, n, past, b.today, "%Y_%m_%d")

        b.template(f"noop_{n}_pgpart_0", build_pgpart, base="base_pgpart")
        b.template(f"noop_{n}_pgpart_1", lambda c, f=build_pgpart: f(c, default=True), base="base_pgpart")
        b.template(f"noop_{n}_partman", build_partman, base="base_partman")

    rows: list[Row | str] = []
    medians: dict[tuple[str, int], float] = {}
    for n, per in NOOP_SIZES:
        measure = f"maintain_noop {n}x{per}"
        for template, name, call in (
            (f"noop_{n}_pgpart_0", PGPART, PGPART_MAINTAIN),
            (f"noop_{n}_pgpart_1", PGPART_DEFAULT, PGPART_MAINTAIN),
            (f"noop_{n}_partman", PARTMAN, PARTMAN_MAINTAIN),
        ):
            with b.fresh(template) as conn:
                before = scalar(conn, RANGE_PARTITIONS)
                samples = [timed_call(conn, call)]
                # The first call warms this session's caches and is dropped;
                # when calls take seconds that is noise, and it counts.
                # Cheap calls get more repetitions, for a steadier median.
                slow = samples[0] >= 1
                samples = samples if slow else []
                while len(samples) < (b.reps if slow else max(b.reps, 5)):
                    samples.append(timed_call(conn, call))
                after = scalar(conn, RANGE_PARTITIONS)
            note = call + (f"; CHECK FAILED: {after - before} partitions created" if after != before else "")
            if before != n * per:
                note += f"; CHECK FAILED: {before} partitions, expected {n * per}"
            row = Row(measure, name, samples, note, partman=None if name == PARTMAN else PARTMAN)
            rows.append(row)
            medians[name, per] = row.median

    lines = [
        "maintain_noop, cost per parent and slope (extra cost per partition of a parent, from 10 to 1,000"
        " partitions per parent):",
        "",
        "| contestant | per parent, 10 partitions | per parent, 1,000 partitions | slope per partition |",
        "|---|---:|---:|---:|",
    ]
    for name in (PGPART, PGPART_DEFAULT, PARTMAN):
        small, big = medians[name, 10] / 50, medians[name, 1000] / 5
        lines.append(f"| {name} | {small * 1000:.2f} ms | {big * 1000:.2f} ms | {(big - small) / 990 * 1e6:.1f} µs |")
    rows.append("\n".join(lines) + "\n")
    return rows
