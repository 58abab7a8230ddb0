"""pgpart.partition_info: one row per partition, in bound order, from the
catalog only, so it answers while another session holds ACCESS EXCLUSIVE
on a partition (DESIGN §2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.rows import dict_row

import pgcall
from capabilities import require_jit, require_library
from fix_pg import Connect
from fix_tablespace import MakeTablespace

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00+00"
COLUMNS = [
    "parent_table", "partition", "level", "parent_partition", "lower_bound", "upper_bound", "bound",
    "is_default", "tablespace", "estimated_rows", "size_bytes", "detach_pending", "runway",
]


def info(c: Conn, parent: str | None = None, now_at: str = NOW) -> list[dict[str, Any]]:
    """partition_info as dicts; regclass columns as text."""
    query = """
        SELECT parent_table::text, partition::text, level, parent_partition::text, lower_bound, upper_bound,
               bound, is_default, tablespace::text, estimated_rows, size_bytes, detach_pending, runway
        FROM pgpart.partition_info(%s::regclass, %s)
    """
    with c.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (parent, now_at)).fetchall()
    assert all(list(r) == COLUMNS for r in rows)
    return rows


def daily(c: Conn, name: str = "ev", **kw: Any) -> list[str]:
    if name not in [r[0] for r in c.execute("SELECT relname::text FROM pg_class").fetchall()]:
        c.execute(
            sql.SQL("CREATE TABLE {} (id bigint, created timestamptz NOT NULL, t text) PARTITION BY RANGE (created)").format(
                sql.Identifier(name)
            )
        )
    kw = {"now_at": NOW, **kw}
    return [r[0] for r in pgcall.rows(c, "create_range_partitions", name, "daily", columns="partition", **kw)]


def test_rows_in_bound_order_default_last(conn: Conn) -> None:
    # OIDs in another order than bounds: the default and the 12th first, then the
    # 10th (and the gap above it, the 11th), then the 8th (and the 9th)
    daily(conn, premake=0, now_at="2024-03-12 12:00+00", default_partition=True)
    daily(conn, premake=0)
    daily(conn, premake=0, now_at="2024-03-08 12:00+00")
    rows = info(conn, "ev")
    assert [r["partition"] for r in rows] == [f"ev_p202403{d:02}" for d in range(8, 13)] + ["ev_default"]
    assert [r["is_default"] for r in rows] == [False] * 5 + [True]
    assert {r["parent_table"] for r in rows} == {"ev"}
    assert {r["level"] for r in rows} == {1}
    assert {r["parent_partition"] for r in rows} == {None}
    assert [(r["lower_bound"], r["upper_bound"]) for r in rows] == [
        *((f"2024-03-{d:02} 00:00:00+00", f"2024-03-{d + 1:02} 00:00:00+00") for d in range(8, 13)),
        (None, None),
    ]
    assert rows[0]["bound"] == "FOR VALUES FROM ('2024-03-08 00:00:00+00') TO ('2024-03-09 00:00:00+00')"
    assert rows[-1]["bound"] == "DEFAULT"
    assert {r["tablespace"] for r in rows} == {"pg_default"}
    assert {r["detach_pending"] for r in rows} == {False}


def test_bounds_in_the_configured_zone_whatever_the_session(conn: Conn) -> None:
    conn.execute("SET TimeZone = 'Asia/Tokyo'")
    daily(conn, premake=2, time_zone="America/New_York", now_at="2024-03-09 12:00-05")
    rows = info(conn, "ev", now_at="2024-03-09 12:00-05")
    assert [(r["partition"], r["lower_bound"], r["upper_bound"]) for r in rows] == [
        ("ev_p20240309", "2024-03-09 00:00:00-05", "2024-03-10 00:00:00-05"),
        ("ev_p20240310", "2024-03-10 00:00:00-05", "2024-03-11 00:00:00-04"),  # 23 hours
        ("ev_p20240311", "2024-03-11 00:00:00-04", "2024-03-12 00:00:00-04"),
    ]
    # runway: from now_at (17:00 UTC on the 9th) to the 12th 04:00 UTC
    assert {r["runway"] for r in rows} == {"2 days 11:00:00"}


def test_runway_of_a_daily_table(conn: Conn) -> None:
    daily(conn, premake=3)  # the 10th to the 13th: reaches 2024-03-14 00:00
    assert {r["runway"] for r in info(conn, "ev")} == {"3 days 12:00:00"}
    # a partition beyond a gap does not lengthen the runway
    conn.execute("CREATE TABLE ev_far PARTITION OF ev FOR VALUES FROM ('2024-03-20 00:00+00') TO ('2024-03-21 00:00+00')")
    rows = info(conn, "ev")
    assert rows[-1]["partition"] == "ev_far"
    assert {r["runway"] for r in rows} == {"3 days 12:00:00"}
    # measured from now_at
    assert {r["runway"] for r in info(conn, "ev", now_at="2024-03-13 18:00+00")} == {"06:00:00"}
    # nothing holds now_at: no runway
    assert {r["runway"] for r in info(conn, "ev", now_at="2024-03-15 00:00+00")} == {"00:00:00"}
    assert {r["runway"] for r in info(conn, "ev", now_at="2024-03-01 00:00+00")} == {"00:00:00"}


def test_runway_equals_last_contiguous_upper_bound_minus_now(conn: Conn) -> None:
    daily(conn, premake=5)
    rows = info(conn, "ev")
    upper = conn.execute("SELECT %s::timestamptz - %s::timestamptz", (rows[-1]["upper_bound"], NOW)).fetchone()
    assert upper == (timedelta(days=5, hours=12),)
    assert {r["runway"] for r in rows} == {"5 days 12:00:00"}


def int_table(c: Conn) -> None:
    c.execute("CREATE TABLE ik (id bigint NOT NULL, v int) PARTITION BY RANGE (id)")
    c.execute("CREATE INDEX ON ik (id)")
    c.execute("SELECT pgpart.create_range_partitions('ik', '100', premake => 2)")  # [0,100) [100,200) [200,300)
    c.execute("INSERT INTO ik SELECT g, g FROM generate_series(1, 150) AS g")


def test_runway_of_an_integer_table(conn: Conn) -> None:
    int_table(conn)
    rows = info(conn, "ik")
    assert [r["partition"] for r in rows] == ["ik_p0", "ik_p100", "ik_p200"]
    assert [(r["lower_bound"], r["upper_bound"]) for r in rows] == [("0", "100"), ("100", "200"), ("200", "300")]
    assert {r["runway"] for r in rows} == {"150"}  # from the highest key, 150, to 300


def test_reader_with_select_on_the_parent(owner_conn: Conn, other_conn: Conn) -> None:
    """Access goes through the parent (DESIGN §6: partitions get no grants),
    so a role allowed to read the parent must get the integer runway too."""
    int_table(owner_conn)
    owner_conn.execute("GRANT SELECT ON ik TO pgpart_other")
    assert other_conn.execute("SELECT max(id) FROM ik").fetchone() == (150,)
    rows = info(other_conn, "ik")
    assert [r["partition"] for r in rows] == ["ik_p0", "ik_p100", "ik_p200"]
    assert {r["runway"] for r in rows} == {"150"}


def test_role_without_privileges_still_gets_every_row(owner_conn: Conn, other_conn: Conn) -> None:
    """partition_info reads the catalog, which everyone may read: a role
    that may not read a table's rows still gets its partitions; only the
    integer runway, which needs the highest key, is unknown."""
    int_table(owner_conn)
    daily(owner_conn, premake=1)
    rows = info(other_conn)
    assert sorted((r["parent_table"], r["partition"], r["runway"]) for r in rows) == [
        ("ev", "ev_p20240310", "1 day 12:00:00"),
        ("ev", "ev_p20240311", "1 day 12:00:00"),
        ("ik", "ik_p0", None),
        ("ik", "ik_p100", None),
        ("ik", "ik_p200", None),
    ]


@pytest.mark.parametrize("locked", ["ev_p20240311", "ev_default", "ev"])
def test_answers_while_a_partition_is_locked(connect: Connect, locked: str) -> None:
    admin = connect()
    daily(admin, premake=2, default_partition=True)
    admin.execute("INSERT INTO ev VALUES (1, '2024-03-11 01:00+00', 'x'), (2, '2030-01-01', 'y')")
    admin.execute("ANALYZE ev")
    expected = info(admin, "ev")

    locker = connect(autocommit=False)
    locker.execute(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")  # the parent: with every partition

    reader = connect()
    reader.execute("SET lock_timeout = '2s'")
    assert info(reader, "ev") == expected
    assert info(reader) == expected  # every managed parent
    assert {r["runway"] for r in expected} == {"2 days 12:00:00"}
    locker.rollback()


def test_integer_runway_unknown_while_the_newest_partition_is_locked(connect: Connect) -> None:
    admin = connect()
    int_table(admin)
    locker = connect(autocommit=False)
    locker.execute("LOCK TABLE ik_p200 IN ACCESS EXCLUSIVE MODE")  # the highest key is probed from the top

    reader = connect()
    reader.execute("SET lock_timeout = '2s'")
    rows = info(reader, "ik")
    assert [r["partition"] for r in rows] == ["ik_p0", "ik_p100", "ik_p200"]
    assert {r["runway"] for r in rows} == {None}  # unknown, not an error
    locker.rollback()
    assert {r["runway"] for r in info(reader, "ik")} == {"150"}


def test_estimated_rows_and_size(conn: Conn) -> None:
    daily(conn, premake=1)
    rows = info(conn, "ev")
    assert [r["estimated_rows"] for r in rows] == [None, None]  # never analyzed: unknown
    conn.execute("INSERT INTO ev SELECT g, '2024-03-10 01:00+00', repeat('x', 100) FROM generate_series(1, 1000) AS g")
    conn.execute("CREATE INDEX ON ev (id)")
    conn.execute("VACUUM ANALYZE ev")
    rows = info(conn, "ev")
    assert [r["estimated_rows"] for r in rows] == [1000, 0]
    # After VACUUM, relpages are exact: the size is the main fork of the
    # table, its TOAST table and every index of both.
    for r in rows:
        exact = conn.execute(
            """
            SELECT sum(pg_relation_size(x.oid))
            FROM pg_class AS c
            CROSS JOIN LATERAL (
                SELECT c.oid UNION ALL SELECT c.reltoastrelid WHERE c.reltoastrelid <> 0
                UNION ALL SELECT i.indexrelid FROM pg_index AS i WHERE i.indrelid IN (c.oid, c.reltoastrelid)
            ) AS x (oid)
            WHERE c.oid = %s::regclass
            """,
            (r["partition"],),
        ).fetchone()
        assert exact is not None
        assert r["size_bytes"] == exact[0]
    assert rows[0]["size_bytes"] > rows[1]["size_bytes"] > 0


def test_tablespace_names(conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    daily(conn, premake=1, tablespace=tablespace, default_partition=True)
    conn.execute("CREATE TABLE ev_old PARTITION OF ev FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-03-02 00:00+00')")
    conn.execute(
        "CREATE TABLE ev_px PARTITION OF ev FOR VALUES FROM ('2024-03-02 00:00+00') TO ('2024-03-03 00:00+00')"
        " TABLESPACE pg_default"
    )
    rows = info(conn, "ev")
    assert [(r["partition"], r["tablespace"]) for r in rows] == [
        ("ev_old", "pg_default"),
        ("ev_px", "pg_default"),
        ("ev_p20240310", tablespace),
        ("ev_p20240311", tablespace),
        ("ev_default", tablespace),
    ]


def test_detach_pending(connect: Connect) -> None:
    """A DETACH ... CONCURRENTLY that times out in its second transaction
    leaves the partition "detach pending": the first transaction committed
    the flag, the second waits for every transaction that uses the parent."""
    admin = connect()
    daily(admin, premake=2)
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM ev")
    detacher = connect()
    detacher.execute("SET lock_timeout = '100ms'")
    with pytest.raises(errors.LockNotAvailable):
        detacher.execute("ALTER TABLE ev DETACH PARTITION ev_p20240311 CONCURRENTLY")
    reader.rollback()
    rows = info(admin, "ev")
    assert [(r["partition"], r["detach_pending"]) for r in rows] == [
        ("ev_p20240310", False),
        ("ev_p20240311", True),
        ("ev_p20240312", False),
    ]
    # a pending partition is on its way out: the runway stops before it
    assert {r["runway"] for r in rows} == {"12:00:00"}


def test_without_parent_lists_every_managed_parent(conn: Conn) -> None:
    daily(conn, "ev", premake=1)
    daily(conn, "ev2", premake=0)
    conn.execute("CREATE TABLE raw (id int, created timestamptz) PARTITION BY RANGE (created)")
    conn.execute("CREATE TABLE raw_1 PARTITION OF raw FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')")
    rows = info(conn)
    assert sorted((r["parent_table"], r["partition"]) for r in rows) == [
        ("ev", "ev_p20240310"),
        ("ev", "ev_p20240311"),
        ("ev2", "ev2_p20240310"),
    ]
    # grouped by parent, each in bound order
    assert [r["parent_table"] for r in rows] in (["ev", "ev", "ev2"], ["ev2", "ev", "ev"])


def test_unmanaged_partitioned_table_passed_explicitly(conn: Conn) -> None:
    conn.execute("CREATE TABLE raw (id int, created date) PARTITION BY RANGE (created)")
    conn.execute("CREATE TABLE raw_2 PARTITION OF raw FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')")
    conn.execute("CREATE TABLE raw_1 PARTITION OF raw FOR VALUES FROM (MINVALUE) TO ('2024-02-01')")
    conn.execute("CREATE TABLE raw_d PARTITION OF raw DEFAULT")
    rows = info(conn, "raw")
    assert [(r["partition"], r["lower_bound"], r["upper_bound"], r["is_default"]) for r in rows] == [
        ("raw_1", "MINVALUE", "2024-02-01", False),
        ("raw_2", "2024-02-01", "2024-03-01", False),
        ("raw_d", None, None, True),
    ]
    assert {r["runway"] for r in rows} == {None}  # no policy, no runway
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (0,)


def test_sub_partitions_under_their_partition(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id bigint, kind text, created timestamptz NOT NULL) PARTITION BY RANGE (created)")
    conn.execute(
        "CREATE TABLE ev_sub PARTITION OF ev FOR VALUES FROM ('2024-03-09 00:00+00') TO ('2024-03-10 00:00+00')"
        " PARTITION BY LIST (kind)"
    )
    conn.execute("CREATE TABLE ev_sub_b PARTITION OF ev_sub FOR VALUES IN ('b')")
    conn.execute("CREATE TABLE ev_sub_a PARTITION OF ev_sub FOR VALUES IN ('a')")
    daily(conn, premake=0)
    rows = info(conn, "ev")
    assert [(r["partition"], r["level"], r["parent_partition"]) for r in rows][:1] == [("ev_sub", 1, None)]
    assert sorted((r["partition"], r["level"], r["parent_partition"]) for r in rows[1:3]) == [
        ("ev_sub_a", 2, "ev_sub"),
        ("ev_sub_b", 2, "ev_sub"),
    ]
    assert [(r["partition"], r["level"]) for r in rows[3:]] == [("ev_p20240310", 1)]
    assert rows[0]["estimated_rows"] is None and rows[0]["size_bytes"] is None  # no storage of its own


def test_plain_table_is_refused_by_name(conn: Conn) -> None:
    conn.execute("CREATE TABLE plain (id int)")
    with pytest.raises(errors.WrongObjectType) as raised:
        info(conn, "plain")
    assert raised.value.diag.message_primary == "public.plain is not a partitioned table"
    assert raised.value.diag.message_hint and "PARTITION BY" in raised.value.diag.message_hint
    assert raised.value.diag.table_name == "plain"


def test_partitioned_table_without_partitions_gives_no_rows(conn: Conn) -> None:
    conn.execute("CREATE TABLE bare (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    assert info(conn, "bare") == []


def test_missing_table(conn: Conn) -> None:
    with pytest.raises(errors.UndefinedTable):
        info(conn, "no_such_table")


def test_not_jit_compiled(conn: Conn) -> None:
    """partition_info's catalog query is tiny, but its set-returning
    functions are estimated at 1000 rows each and the recursive tree at
    hundreds of thousands, which pushes the plan past jit_above_cost: every
    call then spends about 0.4 s compiling (measured on PostgreSQL 15 with
    LLVM). Checked without timing: auto_explain shows whether JIT ran."""
    require_jit(conn)  # the PyPI wheels' servers (16, 18) are built without it
    daily(conn, premake=3)
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    require_library(conn, "auto_explain")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_nested_statements = on")
    conn.execute("SET auto_explain.log_level = notice")
    conn.execute("SET client_min_messages = notice")
    assert len(info(conn, "ev")) == 4
    plans = [n for n in notices if "plan:" in n]
    assert len(plans) > 1  # the nested statements were seen
    assert [p for p in plans if "JIT:" in p] == []


def test_catalog_readers_turn_jit_off(conn: Conn) -> None:
    """The structural half of test_not_jit_compiled, on every server (with
    or without JIT): the catalog readers carry SET jit = off."""
    # by name: check and run_maintenance also have a text overload (each must carry it)
    rows = conn.execute(
        "SELECT p.proname, bool_and('jit=off' = ANY (p.proconfig)) FROM pg_proc AS p"
        " WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proname IN ('partition_info', 'check', 'run_maintenance')"
        " GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("check", True), ("partition_info", True), ("run_maintenance", True)]
