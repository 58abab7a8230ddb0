"""create_365: an empty daily timestamptz parent gets the partition of today
and 365 ahead (366 partitions).

pgpart creates at most 200 partitions per call (each holds about ten locks
until commit), so it takes two calls of
create_range_partitions(premake => 365, max_new => 183), each its own
transaction. The lock-safe floor is pgpart's own statements (from the
dry-run plans of those two calls, see common.plan_statements) sent as one
script with the same two transactions, in a database without pgpart.
CREATE TABLE ... PARTITION OF (one transaction, ACCESS EXCLUSIVE on the
parent) is for reference only. pg_partman: create_parent(p_premake => 365,
p_start_partition => today).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import pairwise

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
    partition_count,
    plan_statements,
    result,
    run_script,
    scalar,
    statement,
)

DAYS = 366  # today and 365 ahead
FLOOR = "floor: lock-safe DDL"
FLOOR_DEFAULT = "floor: lock-safe DDL + default"
PARTITION_OF = "ref: PARTITION OF"


def pgpart_call(default: bool, dry_run: bool = False) -> str:
    # 183 = 366 / 2; with a default partition, max_new => 200 would ask for
    # 201 new relations in the first call, which the cap refuses (54000)
    args = "premake => 365, max_new => 183" + (", default_partition => true" if default else "")
    if dry_run:
        return (
            f"SELECT statement FROM pgpart.create_range_partitions('ev', 'daily', {args}, dry_run => true)"
            " ORDER BY step"
        )
    return f"SELECT count(*) FROM pgpart.create_range_partitions('ev', 'daily', {args})"


def floor_script(b: Bench, default: bool) -> str:
    """pgpart's statements for its two calls, one transaction each."""
    script: list[str] = []
    with b.fresh("create_pgpart") as conn:
        for _ in range(2):
            script += ["BEGIN", *plan_statements(conn, pgpart_call(default, dry_run=True)), "COMMIT"]
            conn.execute(pgpart_call(default))
    return ";\n".join(script)


def partition_of_script(today: dt.date) -> str:
    days = [today + dt.timedelta(days=i) for i in range(DAYS + 1)]
    return ";\n".join(
        [
            "BEGIN",
            *(
                f"CREATE TABLE ev_p{lo:%Y%m%d} PARTITION OF ev"
                f" FOR VALUES FROM ({day_literal(lo)}) TO ({day_literal(hi)})"
                for lo, hi in pairwise(days)
            ),
            "COMMIT",
        ]
    )


def expect(n: int) -> Callable[[Conn], str | None]:
    def check(conn: Conn) -> str | None:
        got = partition_count(conn, "ev")
        return None if got == n else f"CHECK FAILED: {got} partitions, expected {n}"

    return check


def run(b: Bench) -> list[Row]:
    table = TABLE_DDL.format(t="ev")
    # pg_partman may be missing (PostgreSQL 18 from a wheel): the rest still runs
    with b.connect("postgres") as conn:
        has_partman = bool(scalar(conn, "SELECT count(*) FROM pg_database WHERE datname = 'base_partman'"))
    for contestant in ("pgpart", "partman", "plain") if has_partman else ("pgpart", "plain"):
        b.template(f"create_{contestant}", lambda c: c.execute(table), base=f"base_{contestant}")

    def twice(call: str) -> Callable[[Conn], None]:
        def action(conn: Conn) -> None:
            run_script(conn, [call])
            run_script(conn, [call])

        return action

    partman = (
        "SELECT partman.create_parent('public.ev', 'ts', 'native', 'daily', p_premake => 365,"
        f" p_start_partition => '{b.today.isoformat()}', p_jobmon => false)"
    )
    cases = [
        Case(PGPART, "create_pgpart", twice(pgpart_call(False)), expect(DAYS)),
        Case(FLOOR, "create_plain", statement(floor_script(b, False)), expect(DAYS)),
        Case(PGPART_DEFAULT, "create_pgpart", twice(pgpart_call(True)), expect(DAYS + 1)),
        Case(FLOOR_DEFAULT, "create_plain", statement(floor_script(b, True)), expect(DAYS + 1)),
        Case(PARTITION_OF, "create_plain", statement(partition_of_script(b.today)), expect(DAYS)),
        *([Case(PARTMAN, "create_partman", statement(partman), expect(DAYS + 1))] if has_partman else []),
    ]
    got = b.compare(cases, reps=max(b.reps, 5))  # cheap: more repetitions, a steadier median
    calls = "2 calls of max_new => 183 (200-per-call cap)"
    plan = "pgpart's plans as one script, same 2 transactions"
    return [
        result("create_365", got, PGPART, calls, floor=FLOOR),
        result("create_365", got, FLOOR, plan),
        result("create_365", got, PGPART_DEFAULT, calls, partman=PARTMAN if has_partman else None, floor=FLOOR_DEFAULT),
        result("create_365", got, FLOOR_DEFAULT, plan),
        result("create_365", got, PARTITION_OF, "not lock-safe (ACCESS EXCLUSIVE on the parent); one transaction"),
        *(
            [result("create_365", got, PARTMAN, "create_parent; makes a default and a template table too")]
            if has_partman
            else []
        ),
    ]
