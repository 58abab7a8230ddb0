"""Range parents keyed on UUIDv7 (issue 19, item 1): gridded as timestamptz
is, bounds the smallest uuid of each slot's first millisecond (the 48-bit
prefix, then zeros), names and partition_info bounds as times in the
configured zone, values at slot edges in the right partition, plan-time
pruning through pgpart.uuid_floor, retention, default-row moves and check().

UUIDv7 values are made in SQL by a helper of the test database (15 and 16
have no uuidv7()); on 18 they are compared with uuidv7()'s own."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from catalog import config_row, count
from catalog import info_with_bound as parts
from pgcall import call, check, select, set_policy

Conn = psycopg.Connection[Any]

BERLIN_NOW = "2024-03-30 12:00:00+01"  # the day before Berlin's spring change (a 23-hour day)


def uuid_helpers(conn: Conn) -> None:
    """test_uuidv7(ts, lowest): a UUIDv7 of TS's millisecond: the smallest
    (lowest => true: version 7, variant 10, every other bit zero), the
    largest (false: every random bit one), or random bits (NULL)."""
    conn.execute(
        """
        CREATE FUNCTION public.test_uuidv7(ts timestamptz, lowest boolean DEFAULT NULL) RETURNS uuid
        LANGUAGE sql VOLATILE AS $$
            SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0')
                    || CASE WHEN lowest THEN '7000' || '8' || repeat('0', 15)
                            WHEN NOT lowest THEN '7fff' || 'b' || repeat('f', 15)
                            ELSE '7' || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int)
                                 || substr(md5(random()::text), 1, 15) END)::uuid
        $$
        """
    )


def make_table(conn: Conn, name: str, key_type: str = "uuid", schema: str = "public") -> str:
    conn.execute(
        sql.SQL("CREATE TABLE {}.{} (id {} NOT NULL, payload text, PRIMARY KEY (id)) PARTITION BY RANGE (id)").format(
            sql.Identifier(schema), sql.Identifier(name), sql.SQL(key_type)
        )
    )
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name)).as_string(conn)


def partition_of(conn: Conn, parent: str, value: str) -> str:
    row = conn.execute(
        sql.SQL("SELECT tableoid::regclass::text FROM {} WHERE id = %s::uuid").format(sql.SQL(parent)), [value]
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("interval", ["1 day", "1 month", "1 hour"])
def test_uuid_grid_matches_timestamptz_across_dst(conn: Conn, interval: str) -> None:
    make_table(conn, "u")
    make_table(conn, "t", "timestamptz")
    kw = {"premake": 2, "time_zone": "Europe/Berlin", "now_at": BERLIN_NOW}
    if interval == "1 hour":
        kw["now_at"] = "2024-03-31 00:30:00+01"  # 01:00 UTC: the hour Berlin skips follows
    select(conn, "create_range_partitions", "u", interval, **kw)
    select(conn, "create_range_partitions", "t", interval, **kw)
    u, t = parts(conn, "public.u"), parts(conn, "public.t")
    # same names (u_ for t_), same bounds shown in the configured zone
    assert [(n[1:], lo, hi) for n, lo, hi, _ in u] == [(n[1:], lo, hi) for n, lo, hi, _ in t]
    # uuid bounds: the smallest uuid of the timestamptz bound's millisecond
    for (_, _, _, ubound), (_, lo, hi, _) in zip(u, t, strict=True):
        expected = conn.execute(
            "SELECT format('FOR VALUES FROM (%%L) TO (%%L)', pgpart.uuid_floor(%s), pgpart.uuid_floor(%s))", [lo, hi]
        ).fetchone()
        assert expected is not None and ubound == expected[0]
        assert ubound.endswith("-0000-0000-000000000000')")
    if interval == "1 day":
        assert [n for n, *_ in u] == ["u_p20240330", "u_p20240331", "u_p20240401"]
        assert u[1][1:3] == ("2024-03-31 00:00:00+01", "2024-04-01 00:00:00+02")  # 23 hours
    assert config_row(conn, "public.u")["key_type"] == "uuid"


def test_slot_edges_land_in_their_partition(conn: Conn) -> None:
    uuid_helpers(conn)
    make_table(conn, "u")
    select(conn, "create_range_partitions", "u", "1 day", premake=2, time_zone="Europe/Berlin", now_at=BERLIN_NOW)
    for name, lo, hi, _ in parts(conn, "public.u"):
        first = conn.execute("SELECT public.test_uuidv7(%s::timestamptz, true)::text", [lo]).fetchone()
        last = conn.execute(
            "SELECT public.test_uuidv7(%s::timestamptz - interval '1 millisecond', false)::text", [hi]
        ).fetchone()
        assert first is not None and last is not None
        conn.execute("INSERT INTO public.u (id) VALUES (%s), (%s)", [first[0], last[0]])
        assert partition_of(conn, "public.u", first[0]) == f"{name}"
        assert partition_of(conn, "public.u", last[0]) == f"{name}"
    # the millisecond after the last partition has none
    hi = parts(conn, "public.u")[-1][2]
    with pytest.raises(errors.CheckViolation):
        conn.execute("INSERT INTO public.u (id) VALUES (public.test_uuidv7(%s::timestamptz, true))", [hi])


def test_uuidv7_of_the_server(conn: Conn) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("uuidv7() is PostgreSQL 18's")
    uuid_helpers(conn)
    make_table(conn, "u")
    select(conn, "create_range_partitions", "u", "1 hour", premake=3, now_at="now")
    conn.execute(
        "INSERT INTO public.u (id) SELECT uuidv7(make_interval(mins => m)) FROM generate_series(0, 179) AS m"
    )
    # every row sits in the partition whose time range holds its timestamp,
    # and where a helper-made uuid of the same millisecond sits
    wrong = conn.execute(
        """
        SELECT u.id FROM public.u AS u
        JOIN pgpart.partition_info('public.u') AS i ON i.partition = u.tableoid
        WHERE NOT (uuid_extract_timestamp(u.id) >= i.lower_bound::timestamptz
                   AND uuid_extract_timestamp(u.id) < i.upper_bound::timestamptz)
        """
    ).fetchall()
    assert wrong == []
    assert count(conn, "public", "u", only=False) == 180
    # the floor sorts before every uuidv7() of its millisecond
    assert conn.execute(
        "SELECT bool_and(pgpart.uuid_floor(uuid_extract_timestamp(id)) <= id) FROM public.u"
    ).fetchone() == (True,)


def test_uuid_floor_prunes_at_plan_time(conn: Conn) -> None:
    make_table(conn, "u")
    select(conn, "create_range_partitions", "u", "1 day", premake=3, now_at="2026-01-01 12:00+00")
    names = [n for n, *_ in parts(conn, "public.u")]
    assert names == ["u_p20260101", "u_p20260102", "u_p20260103", "u_p20260104"]
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN (COSTS OFF) SELECT * FROM public.u"
            " WHERE id >= pgpart.uuid_floor('2026-01-03') AND id < pgpart.uuid_floor('2026-01-04')"
        ).fetchall()
    )
    assert "u_p20260103" in plan
    assert not any(n in plan for n in names if n != "u_p20260103"), plan
    assert "Subplans Removed" not in plan  # pruned when planned, not when run
    row = conn.execute(
        "SELECT pgpart.uuid_floor('2026-01-03 00:00:00.0019+00')::text,"
        " pgpart.uuid_floor('infinity'), provolatile FROM pg_proc WHERE oid = 'pgpart.uuid_floor'::regproc"
    ).fetchone()
    assert row == ("019b8127-6001-0000-0000-000000000000", None, "i")
    with pytest.raises(errors.DatetimeFieldOverflow):
        conn.execute("SELECT pgpart.uuid_floor('1969-12-31 23:59:59+00')")


def test_bounds_whatever_the_session_time_zone(conn: Conn) -> None:
    seen = []
    for i, zone in enumerate(["UTC", "America/New_York", "Asia/Kathmandu"]):
        conn.execute("SELECT set_config('timezone', %s, false)", [zone])
        make_table(conn, f"u{i}")
        select(conn, "create_range_partitions", f"u{i}", "1 month", premake=1, time_zone="Europe/Berlin",
               start="2024-03-01", now_at=BERLIN_NOW)  # fmt: skip
        seen.append([(n[2:], lo, hi, b) for n, lo, hi, b in parts(conn, f"public.u{i}")])
    conn.execute("RESET timezone")
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][0][1] == "2024-03-01 00:00:00+01"


def test_not_version_7_lands_by_its_first_48_bits(conn: Conn) -> None:
    uuid_helpers(conn)
    make_table(conn, "u")
    select(conn, "create_range_partitions", "u", "1 day", premake=1, default_partition=True,
           now_at="2024-03-10 12:00+00")  # fmt: skip
    # a version 4 uuid: its first 48 bits are random, so it lands wherever
    # they point as a time: here (ff...) far in the future, in the default
    conn.execute("INSERT INTO public.u (id) VALUES ('ffffffff-ffff-4fff-bfff-ffffffffffff')")
    # one whose first 48 bits fall in a partition's day lands there, v7 or not
    conn.execute("INSERT INTO public.u (id) VALUES (overlay(public.test_uuidv7('2024-03-10 06:00+00')::text"
                 " PLACING '4' FROM 15 FOR 1)::uuid)")  # fmt: skip
    assert partition_of(conn, "public.u", "ffffffff-ffff-4fff-bfff-ffffffffffff") == "u_default"
    where = conn.execute("SELECT tableoid::regclass::text FROM public.u WHERE id::text LIKE '%-4%' "
                         "AND id::text NOT LIKE 'ffff%'").fetchone()  # fmt: skip
    assert where == ("u_p20240310",)
    conn.execute("ANALYZE public.u")
    codes = {f["problem"].split(":")[0] for f in check(conn, "public.u", now_at="2024-03-10 12:00+00")}
    assert any("default" in c for c in codes), codes


def test_retention_maintenance_and_default_moves(conn: Conn) -> None:
    uuid_helpers(conn)
    make_table(conn, "u")
    select(conn, "ensure_range", "u", "1 day", premake=1, retention="2 days", retention_action="drop",
           default_partition=True, now_at="2024-03-10 12:00+00")  # fmt: skip
    # rows for days no partition holds yet go to the default
    conn.execute("INSERT INTO public.u (id) SELECT public.test_uuidv7('2024-03-12 00:00+00'::timestamptz"
                 " + make_interval(hours => h)) FROM generate_series(0, 47) AS h")  # fmt: skip
    call(conn, "move_default_rows", "u", now_at="2024-03-10 12:00+00")
    assert count(conn, "public", "u_default") == 0
    assert count(conn, "public", "u_p20240312") == 24 and count(conn, "public", "u_p20240313") == 24
    # days later: maintenance creates ahead by time and drops what expired
    conn.execute("SELECT * FROM pgpart.run_maintenance('public.u', now_at => '2024-03-14 12:00+00')")
    call(conn, "run_maintenance_proc", "u", now_at="2024-03-14 12:00+00")
    names = [n for n, *_ in parts(conn, "public.u")]
    assert names == ["u_p20240312", "u_p20240313", "u_p20240314", "u_p20240315"]
    assert check(conn, "public.u", now_at="2024-03-14 12:00+00") == []
    runway = conn.execute("SELECT DISTINCT runway FROM pgpart.partition_info('public.u', '2024-03-14 12:00+00')")
    assert runway.fetchall() == [("1 day 12:00:00",)]
    metric = conn.execute("SELECT pgpart.metrics('2024-03-14 12:00+00')").fetchone()
    assert metric is not None and 'pgpart_runway_seconds{table="public.u"} 129600' in metric[0]


def test_hostile_names(conn: Conn) -> None:
    uuid_helpers(conn)
    conn.execute('CREATE SCHEMA "Sch""ema; --"')
    parent = make_table(conn, "Ev 'u'\"; DROP TABLE x; --", schema='Sch"ema; --')
    select(conn, "create_range_partitions", parent, "1 hour", premake=1, now_at="2024-03-10 12:00+00")
    conn.execute(sql.SQL("INSERT INTO {} (id) VALUES (public.test_uuidv7('2024-03-10 12:59:59.999+00', false))").format(
        sql.SQL(parent)))  # fmt: skip
    assert [n for n, *_ in parts(conn, parent)] == [
        "Ev 'u'\"; DROP TABLE x; --_p20240310_1200", "Ev 'u'\"; DROP TABLE x; --_p20240310_1300"]  # fmt: skip
    assert count(conn, 'Sch"ema; --', "Ev 'u'\"; DROP TABLE x; --_p20240310_1200") == 1


def test_epoch_unit_is_refused_for_uuid(conn: Conn) -> None:
    make_table(conn, "u")
    with pytest.raises(errors.FeatureNotSupported):
        select(conn, "create_range_partitions", "u", "1 day", epoch_unit="ms", now_at="2024-03-10 12:00+00")
    select(conn, "create_range_partitions", "u", "1 day", now_at="2024-03-10 12:00+00")
    with pytest.raises(errors.InvalidParameterValue):
        select(conn, "create_range_partitions", "u", "1000", now_at="2024-03-10 12:00+00")
    with pytest.raises(errors.FeatureNotSupported):
        set_policy(conn, "u", epoch_unit="s")
