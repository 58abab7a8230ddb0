"""default_move_1M: 1,000,000 rows over the 30 days before today, all in the
default partition, moved into partitions of their own (30 created).

Every contestant starts from a parent with the partitions of today and 4
ahead, a default partition holding the rows, VACUUM ANALYZE done. pgpart:
CALL pgpart.move_default_rows('mv'); pg_partman: CALL
partman.partition_data_proc('public.mv', p_wait => 0, p_quiet => true). The
floor is the same per-range sequence written by hand, one transaction per
day (lock the parent and the default, CREATE TABLE ... LIKE, primary key,
index, DELETE ... RETURNING into it, ATTACH, which scans what remains of the
default); for reference, a plain INSERT ... SELECT of the default's rows
into a fresh partitioned copy (its 30 partitions made in the same script).
"pgpart drain_default": the same rows drained by maintenance alone (policy
drain_default, its size limit raised above the default's heap): CALL
pgpart.run_maintenance_proc('mv') repeated until the default is empty (at
most 32 ranges a run: one run here), the runs timed together.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from common import (
    PARTMAN,
    PGPART_DEFAULT,
    TABLE_DDL,
    Bench,
    Case,
    Conn,
    Row,
    day_literal,
    result,
    run_script,
    scalar,
    statement,
)

ROWS, DAYS = 1_000_000, 30
FLOOR = "floor: per-range by hand"
REFERENCE = "ref: INSERT ... SELECT into a copy"
DRAIN = "pgpart drain_default"
LIKE = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION"
    " INCLUDING STATISTICS INCLUDING COMMENTS EXCLUDING IDENTITY EXCLUDING INDEXES"
)


def load(conn: Conn, today: dt.date) -> None:
    start = day_literal(today - dt.timedelta(days=DAYS))
    conn.execute(
        f"INSERT INTO mv (ts, payload) SELECT {start}::timestamptz + (g - 1) * interval '{DAYS} days'"
        f" / {ROWS}, 'row ' || g FROM generate_series(1, {ROWS}) AS g"
    )
    conn.execute("VACUUM ANALYZE mv")


def days(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(today - dt.timedelta(days=i), today - dt.timedelta(days=i - 1)) for i in range(DAYS, 0, -1)]


def floor_script(today: dt.date) -> list[str]:
    script = []
    for lo, hi in days(today):
        t, bound = f"mv_p{lo:%Y%m%d}", f"FROM ({day_literal(lo)}) TO ({day_literal(hi)})"
        script += [
            "BEGIN",
            "LOCK TABLE ONLY mv IN SHARE UPDATE EXCLUSIVE MODE",
            "LOCK TABLE ONLY mv_default IN ACCESS EXCLUSIVE MODE",
            f"CREATE TABLE {t} (LIKE mv {LIKE})",
            f"ALTER TABLE {t} ADD PRIMARY KEY (id, ts)",
            f"CREATE INDEX ON {t} (ts)",
            f"WITH moved AS (DELETE FROM ONLY mv_default WHERE ts >= {day_literal(lo)} AND ts < {day_literal(hi)}"
            f" RETURNING id, ts, payload) INSERT INTO {t} (id, ts, payload) SELECT id, ts, payload FROM moved",
            f"ALTER TABLE mv ATTACH PARTITION {t} FOR VALUES {bound}",
            "COMMIT",
        ]
    return script


def reference_script(today: dt.date) -> list[str]:
    return [
        "BEGIN",
        "CREATE TABLE mv_copy (id bigint NOT NULL, ts timestamptz NOT NULL, payload text, PRIMARY KEY (id, ts))"
        " PARTITION BY RANGE (ts)",
        "CREATE INDEX ON mv_copy (ts)",
        *(
            f"CREATE TABLE mv_copy_p{lo:%Y%m%d} PARTITION OF mv_copy FOR VALUES FROM ({day_literal(lo)})"
            f" TO ({day_literal(hi)})"
            for lo, hi in days(today)
        ),
        "INSERT INTO mv_copy SELECT id, ts, payload FROM ONLY mv_default",
        "COMMIT",
    ]


def check(conn: Conn) -> str | None:
    left = scalar(conn, "SELECT count(*) FROM ONLY mv_default")
    parts = scalar(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'mv'::regclass")
    total = scalar(conn, "SELECT count(*) FROM mv")
    if (left, parts, total) != (0, DAYS + 6, ROWS):
        return f"CHECK FAILED: {left} rows left in the default, {parts} partitions, {total} rows"
    return None


def check_reference(conn: Conn) -> str | None:
    got = scalar(conn, "SELECT count(*) FROM mv_copy")
    return None if got == ROWS else f"CHECK FAILED: {got} rows copied"


def run(b: Bench) -> list[Row]:
    today = b.today

    def build_pgpart(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="mv"))
        conn.execute(
            "SELECT count(*) FROM pgpart.create_range_partitions('mv', 'daily', premake => 4,"
            " default_partition => true)"
        )
        load(conn, today)

    def build_drain(conn: Conn) -> None:
        build_pgpart(conn)
        conn.execute(
            "SELECT count(*) FROM pgpart.set_policy('mv', drain_default => true, drain_default_max_bytes => 1073741824)"
        )

    def drain(conn: Conn) -> None:
        for _ in range(100):  # a run moves at most 32 ranges
            run_script(conn, ["CALL pgpart.run_maintenance_proc('mv')"])
            if scalar(conn, "SELECT count(*) FROM (SELECT FROM ONLY mv_default LIMIT 1) AS r") == 0:
                return

    def build_partman(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="mv"))
        conn.execute(
            "SELECT partman.create_parent('public.mv', 'ts', 'native', 'daily', p_premake => 4,"
            " p_start_partition => %s, p_jobmon => false)",
            [today.isoformat()],
        )
        load(conn, today)

    def build_plain(conn: Conn) -> None:
        conn.execute(TABLE_DDL.format(t="mv"))
        ahead = [today + dt.timedelta(days=i) for i in range(6)]
        run_script(
            conn,
            [
                f"CREATE TABLE mv_p{lo:%Y%m%d} PARTITION OF mv FOR VALUES FROM ({day_literal(lo)})"
                f" TO ({day_literal(hi)})"
                for lo, hi in pairwise(ahead)
            ]
            + ["CREATE TABLE mv_default PARTITION OF mv DEFAULT"],
        )
        load(conn, today)

    b.template("move_pgpart", build_pgpart, base="base_pgpart")
    b.template("move_drain", build_drain, base="base_pgpart")
    b.template("move_partman", build_partman, base="base_partman")
    b.template("move_plain", build_plain, base="base_plain")

    got = b.compare(
        [
            Case(PGPART_DEFAULT, "move_pgpart", statement("CALL pgpart.move_default_rows('mv')"), check, big=True),
            Case(DRAIN, "move_drain", drain, check, big=True),
            Case(FLOOR, "move_plain", statement(";\n".join(floor_script(today))), check, big=True),
            Case(REFERENCE, "move_plain", statement(";\n".join(reference_script(today))), check_reference, big=True),
            Case(
                PARTMAN,
                "move_partman",
                statement("CALL partman.partition_data_proc('public.mv', p_wait => 0, p_quiet => true)"),
                check,
                big=True,
            ),
        ]
    )
    return [
        result(
            "default_move_1M", got, PGPART_DEFAULT, "CALL pgpart.move_default_rows('mv')", partman=PARTMAN, floor=FLOOR
        ),
        result("default_move_1M", got, DRAIN, "CALL pgpart.run_maintenance_proc('mv') until drained", floor=FLOOR),
        result("default_move_1M", got, FLOOR, "30 transactions, one script"),
        result("default_move_1M", got, REFERENCE, "not a move: copies into a new table"),
        result("default_move_1M", got, PARTMAN, "CALL partman.partition_data_proc(p_wait => 0)"),
    ]
