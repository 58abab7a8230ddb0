"""Integer range keys holding Unix time (issue 19, item 2): the policy's
epoch_unit ('s', 'ms', 'us') makes a bigint (or, for seconds, integer) key
gridded exactly as a timestamptz would be, calendar intervals and time zones
included; names and partition_info bounds are times; integer is refused for
milliseconds and microseconds, smallint always; the unit cannot change under
partitions."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

import pgpart
from catalog import config_row, count
from catalog import info_with_bound as parts
from cli_runner import dsn
from cli_runner import pgpart as pgpart_command
from pgcall import call, check, select, set_policy
from pgcluster import PgServer

Conn = psycopg.Connection[Any]

SCALE = {"s": 1, "ms": 1000, "us": 1000000}
BERLIN_NOW = "2024-03-30 12:00:00+01"  # the day before Berlin's spring change


def make_table(conn: Conn, name: str, key_type: str = "bigint", schema: str = "public") -> str:
    conn.execute(
        sql.SQL("CREATE TABLE {}.{} (ts {} NOT NULL, payload text) PARTITION BY RANGE (ts)").format(
            sql.Identifier(schema), sql.Identifier(name), sql.SQL(key_type)
        )
    )
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name)).as_string(conn)


def raw_bounds(conn: Conn, parent: str) -> list[tuple[str, str]]:
    """The FOR VALUES bounds as the catalog holds them, in order."""
    rows = conn.execute(
        "SELECT m[1], m[2] FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid,"
        " regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''?([^'')]*)''?\\) TO \\(''?([^'')]*)''?\\)') AS m"
        " WHERE i.inhparent = %s::regclass ORDER BY m[1]::numeric",
        [parent],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("interval", ["1 day", "1 month", "1 hour"])
def test_bigint_ms_bounds_equal_timestamptz_bounds_across_dst(conn: Conn, interval: str) -> None:
    make_table(conn, "e")
    make_table(conn, "t", "timestamptz")
    kw: dict[str, Any] = {"premake": 3, "time_zone": "Europe/Berlin", "now_at": BERLIN_NOW}
    if interval == "1 hour":
        kw["now_at"] = "2024-03-31 00:30:00+01"  # Berlin skips 02:00-03:00 local, two hours on
    select(conn, "create_range_partitions", "e", interval, epoch_unit="ms", **kw)
    select(conn, "create_range_partitions", "t", interval, **kw)
    e, t = parts(conn, "public.e"), parts(conn, "public.t")
    assert [(n[1:], lo, hi) for n, lo, hi, _ in e] == [(n[1:], lo, hi) for n, lo, hi, _ in t]
    # the stored bounds, converted from milliseconds, are the timestamptz ones
    converted = conn.execute(
        "SELECT array_agg(to_timestamp(b[1]::numeric / 1000)::text || '|' || to_timestamp(b[2]::numeric / 1000)::text"
        " ORDER BY b[1]::numeric) FROM unnest(%s::text[], %s::text[]) AS b(l, h), LATERAL (SELECT ARRAY[l, h]) AS x(b)",
        [[lo for lo, _ in raw_bounds(conn, "public.e")], [hi for _, hi in raw_bounds(conn, "public.e")]],
    ).fetchone()
    expected = conn.execute(
        "SELECT array_agg(l::timestamptz::text || '|' || h::timestamptz::text ORDER BY l::timestamptz)"
        " FROM unnest(%s::text[], %s::text[]) AS b(l, h)",
        [[lo for _, lo, _, _ in t], [hi for _, _, hi, _ in t]],
    ).fetchone()
    assert converted == expected
    if interval == "1 day":
        assert raw_bounds(conn, "public.e")[1] == ("1711839600000", "1711922400000")  # a 23-hour day
    cfg = config_row(conn, "public.e")
    assert cfg is not None and cfg["epoch_unit"] == "ms"


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_slot_edges_in_each_unit(conn: Conn, unit: str) -> None:
    make_table(conn, "e")
    select(conn, "create_range_partitions", "e", "1 day", premake=1, epoch_unit=unit, time_zone="Europe/Berlin",
           now_at=BERLIN_NOW)  # fmt: skip
    for (name, *_), (lo, hi) in zip(parts(conn, "public.e"), raw_bounds(conn, "public.e"), strict=True):
        conn.execute("INSERT INTO public.e (ts) VALUES (%s), (%s)", [int(lo), int(hi) - 1])
        where = conn.execute(
            "SELECT array_agg(DISTINCT tableoid::regclass::text) FROM public.e WHERE ts IN (%s, %s)",
            [int(lo), int(hi) - 1],
        ).fetchone()
        assert where == ([name],)
    assert raw_bounds(conn, "public.e")[0][0] == str(1711753200 * SCALE[unit])  # 2024-03-30 00:00 Berlin
    with pytest.raises(errors.CheckViolation):
        conn.execute("INSERT INTO public.e (ts) VALUES (%s)", [int(raw_bounds(conn, "public.e")[-1][1])])


def test_integer_seconds_warns_of_2038(conn: Conn) -> None:
    make_table(conn, "e", "integer")
    warnings: list[str] = []
    conn.add_notice_handler(lambda d: warnings.append(f"{d.severity_nonlocalized} {d.message_primary}"))
    select(conn, "create_range_partitions", "e", "1 month", epoch_unit="s", now_at=BERLIN_NOW)
    assert any(w.startswith("WARNING") and "2038-01-19" in w for w in warnings), warnings
    assert [n for n, *_ in parts(conn, "public.e")][0] == "e_p20240301"


@pytest.mark.parametrize(
    ("key_type", "unit", "error"),
    [
        ("integer", "ms", errors.FeatureNotSupported),
        ("integer", "us", errors.FeatureNotSupported),
        ("smallint", "s", errors.FeatureNotSupported),
        ("bigint", "ns", errors.InvalidParameterValue),
        ("timestamptz", "s", errors.FeatureNotSupported),
    ],
)
def test_refused_units(conn: Conn, key_type: str, unit: str, error: type[Exception]) -> None:
    make_table(conn, "e", key_type)
    with pytest.raises(error) as exc:
        select(conn, "create_range_partitions", "e", "1 day", epoch_unit=unit, now_at=BERLIN_NOW)
    assert exc.value.diag.message_hint  # type: ignore[attr-defined]
    assert config_row(conn, "public.e") is None
    assert parts(conn, "public.e") == []


def test_unit_cannot_change_under_partitions(conn: Conn) -> None:
    make_table(conn, "e")
    select(conn, "create_range_partitions", "e", "1 day", premake=1, epoch_unit="ms", now_at=BERLIN_NOW)
    with pytest.raises(errors.InvalidParameterValue) as exc:
        set_policy(conn, "e", epoch_unit="us")
    assert "partitions" in (exc.value.diag.message_hint or "")
    with pytest.raises(errors.InvalidParameterValue):
        select(conn, "create_range_partitions", "e", "1 day", epoch_unit="s", now_at=BERLIN_NOW)
    assert set_policy(conn, "e", epoch_unit="ms")["epoch_unit"] == "ms"  # the same unit: nothing changes
    # a call without it keeps the configured unit (maintenance, ensure)
    select(conn, "ensure_range", "e", premake=2, now_at=BERLIN_NOW)
    cfg = config_row(conn, "public.e")
    assert cfg is not None and cfg["epoch_unit"] == "ms" and cfg["premake"] == 2
    assert len(parts(conn, "public.e")) == 3
    # without partitions the unit may change
    make_table(conn, "f")
    select(conn, "create_range_partitions", "f", "1 day", premake=0, epoch_unit="ms", now_at=BERLIN_NOW)
    conn.execute("DROP TABLE public.f_p20240330")
    assert set_policy(conn, "f", epoch_unit="us")["epoch_unit"] == "us"


def test_adopting_partitions_that_hold_unix_time(conn: Conn) -> None:
    make_table(conn, "e")
    conn.execute("CREATE TABLE public.e_mine PARTITION OF public.e FOR VALUES FROM (1710028800000) TO (1710115200000)")
    created = select(conn, "create_range_partitions", "e", "1 day", premake=1, epoch_unit="ms",
                     now_at="2024-03-10 12:00+00")  # fmt: skip
    assert [r["partition"] for r in created] == ["public.e_p20240311"]
    assert raw_bounds(conn, "public.e") == [("1710028800000", "1710115200000"), ("1710115200000", "1710201600000")]
    # a plain-number retention does not survive the change to Unix time
    make_table(conn, "n")
    select(conn, "ensure_range", "n", "1000", premake=0, retention="5000", now_at="2024-03-10 12:00+00")
    conn.execute("DROP TABLE public.n_p0")
    with pytest.raises(errors.InvalidParameterValue):
        set_policy(conn, "n", epoch_unit="ms")


def test_bounds_whatever_the_session_time_zone(conn: Conn) -> None:
    seen = []
    for i, zone in enumerate(["UTC", "America/New_York", "Pacific/Chatham"]):
        conn.execute("SELECT set_config('timezone', %s, false)", [zone])
        make_table(conn, f"e{i}")
        select(conn, "create_range_partitions", f"e{i}", "1 day", premake=2, epoch_unit="us",
               time_zone="Europe/Berlin", start="2024-03-30", now_at=BERLIN_NOW)  # fmt: skip
        seen.append((raw_bounds(conn, f"public.e{i}"), [(n[2:], lo, hi) for n, lo, hi, _ in parts(conn, f"public.e{i}")]))
    conn.execute("RESET timezone")
    assert seen[0] == seen[1] == seen[2]


def test_retention_runway_check_and_default_moves(conn: Conn) -> None:
    make_table(conn, "e")
    select(conn, "ensure_range", "e", "1 day", premake=1, retention="2 days", retention_action="drop",
           default_partition=True, epoch_unit="ms", now_at="2024-03-10 12:00+00")  # fmt: skip
    # rows of days ahead of the partitions go to the default ...
    conn.execute("INSERT INTO public.e (ts) SELECT (extract(epoch FROM '2024-03-12 00:00+00'::timestamptz) * 1000)::bigint"
                 " + h * 3600000 FROM generate_series(0, 47) AS h")  # fmt: skip
    conn.execute("ANALYZE public.e")
    assert any("default" in f["problem"] for f in check(conn, "public.e", now_at="2024-03-10 12:00+00"))
    # ... and move into partitions of the grid
    call(conn, "move_default_rows", "e", now_at="2024-03-10 12:00+00")
    assert count(conn, "public", "e_default") == 0
    assert count(conn, "public", "e_p20240312") == 24 and count(conn, "public", "e_p20240313") == 24
    # four days on: check sees no current partition, maintenance creates ahead by time and drops the expired
    assert any(f["problem"].startswith("no partition holds") for f in check(conn, "public.e", now_at="2024-03-16 12:00+00"))
    conn.execute("SELECT * FROM pgpart.run_maintenance('public.e', now_at => '2024-03-16 12:00+00')")
    call(conn, "run_maintenance_proc", "e", now_at="2024-03-16 12:00+00")
    assert [n for n, *_ in parts(conn, "public.e")] == ["e_p20240314", "e_p20240315", "e_p20240316", "e_p20240317"]
    assert check(conn, "public.e", now_at="2024-03-16 12:00+00") == []
    runway = conn.execute("SELECT DISTINCT runway FROM pgpart.partition_info('public.e', '2024-03-16 12:00+00')")
    assert runway.fetchall() == [("1 day 12:00:00",)]
    metric = conn.execute("SELECT pgpart.metrics('2024-03-16 12:00+00')").fetchone()
    assert metric is not None and 'pgpart_runway_seconds{table="public.e"} 129600' in metric[0]
    # a retention must be a time for an epoch key
    with pytest.raises(errors.InvalidParameterValue):
        set_policy(conn, "e", retention="1000")


def test_hostile_names(conn: Conn) -> None:
    conn.execute('CREATE SCHEMA "Sch""ema; --"')
    parent = make_table(conn, "Ev 'e'\"; DROP TABLE x; --", schema='Sch"ema; --')
    select(conn, "create_range_partitions", parent, "15 minutes", premake=1, epoch_unit="us",
           now_at="2024-03-10 12:07+00")  # fmt: skip
    assert [n for n, *_ in parts(conn, parent)] == [
        "Ev 'e'\"; DROP TABLE x; --_p20240310_1200", "Ev 'e'\"; DROP TABLE x; --_p20240310_1215"]  # fmt: skip
    assert raw_bounds(conn, parent)[0] == ("1710072000000000", "1710072900000000")


def test_client_and_command_pass_the_epoch_unit(pg: PgServer, dbname: str, conn: Conn) -> None:
    make_table(conn, "e")
    make_table(conn, "f")
    report = pgpart.Client(conn).ensure("public.e", interval="1 day", premake=1, epoch_unit="ms",
                                        now_at="2024-03-10 12:00+00")  # fmt: skip
    assert report.created == ["public.e_p20240310", "public.e_p20240311"]
    assert ("epoch_unit", None, "ms") in [(c.field, c.old, c.new) for c in report.policy_changes]
    done = pgpart_command(*dsn(pg, dbname), "ensure", "public.f", "--interval", "1 hour", "--premake", "0",
                          "--epoch-unit", "s", "--now", "2024-03-10 12:30+00")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert raw_bounds(conn, "public.f") == [("1710072000", "1710075600")]
    refused = pgpart_command(*dsn(pg, dbname), "ensure", "public.f", "--epoch-unit", "ms")
    assert refused.returncode != 0 and "epoch unit" in refused.stderr
