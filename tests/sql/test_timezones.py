"""Time zones (DESIGN §5): the session's TimeZone never changes what is
created; day-or-longer grids follow the local calendar of the configured
zone across DST changes; sub-day grids are UTC; `start` without an offset is
read in the configured zone; partition_info shows bounds in that zone.

America/New_York, 2024: clocks go forward on 2024-03-10 at 07:00 UTC (that
local day lasts 23 h) and back on 2024-11-03 at 06:00 UTC (25 h).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from catalog import Conn, bounds_in_order, config_row, partition_bounds
from clock import GRID_NOW
from fix_pg import Connect
from pgcall import create_range_dicts

SESSION_ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]


def session(connect: Connect, zone: str) -> Conn:
    c = connect()
    c.execute("SELECT set_config('timezone', %s, false)", (zone,))
    return c


def utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("+00", "+00:00"))


def assert_contiguous_utc_grid(rows: list[tuple[str, str, str]], width: timedelta) -> None:
    names = [name for name, _, _ in rows]
    assert len(set(names)) == len(names)
    for name, lo, hi in rows:
        assert utc(hi) - utc(lo) == width, name
        assert name.endswith(utc(lo).strftime("_p%Y%m%d_%H%M")), name
    for (_, _, hi), (_, lo, _) in zip(rows, rows[1:]):
        assert hi == lo


@pytest.mark.parametrize(
    ("key_type", "interval", "kw"),
    [
        ("timestamptz", "1 day", {}),
        ("timestamptz", "1 hour", {}),
        ("timestamptz", "1 month", {"time_zone": "America/New_York"}),
        ("timestamptz", "1 day", {"time_zone": "Asia/Kolkata", "start": "2024-05-12"}),
        ("timestamptz", "1 hour", {"time_zone": "America/New_York", "start": "2024-05-15 03:00"}),
        ("timestamptz", "1 week", {"time_zone": "Europe/Berlin"}),
        ("timestamptz", "10 days", {"time_zone": "America/New_York", "origin": "2024-01-01"}),
        ("timestamp", "1 day", {"time_zone": "Asia/Kolkata"}),
        ("timestamp", "1 hour", {"time_zone": "America/New_York", "start": "2024-05-15 03:00"}),
        ("date", "1 day", {"time_zone": "Pacific/Kiritimati"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()) or "defaults",
)
def test_session_timezone_changes_nothing(connect: Connect, key_type: str, interval: str, kw: dict[str, str]) -> None:
    results = []
    for i, zone in enumerate(SESSION_ZONES):
        c = session(connect, zone)
        parent = f"t{i}"
        c.execute(f"CREATE TABLE {parent} (k {key_type} NOT NULL) PARTITION BY RANGE (k)")
        rows = create_range_dicts(c, parent, interval, premake=2, now_at=GRID_NOW, **kw)
        returned = [(r["partition"].removeprefix(f"public.{parent}"), r["lower_bound"], r["upper_bound"]) for r in rows]
        results.append(returned)

    reader = session(connect, "UTC")
    catalog = [
        [(name.removeprefix(f"t{i}"), bound) for name, bound in partition_bounds(reader, f"t{i}")]
        for i in range(len(SESSION_ZONES))
    ]
    assert catalog[0], "nothing was created"
    assert catalog[1] == catalog[0]
    assert catalog[2] == catalog[0]
    assert results[1] == results[0]
    assert results[2] == results[0]
    configs = []
    for i in range(len(SESSION_ZONES)):
        cfg = config_row(reader, f"t{i}")
        assert cfg is not None
        configs.append({k: cfg[k] for k in ("partition_interval", "grid_origin", "time_zone", "premake")})
    assert configs[1] == configs[0] and configs[2] == configs[0]


def test_session_timezone_does_not_leak_into_kolkata_daily_bounds(connect: Connect) -> None:
    # The exact values, so the previous test cannot pass by being equally wrong everywhere.
    c = session(connect, "America/New_York")
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "ev", "1 day", premake=1, now_at=GRID_NOW, time_zone="Asia/Kolkata")
    assert bounds_in_order(session(connect, "UTC"), "ev") == [
        ("ev_p20240515", "2024-05-14 18:30:00+00", "2024-05-15 18:30:00+00"),
        ("ev_p20240516", "2024-05-15 18:30:00+00", "2024-05-16 18:30:00+00"),
    ]


@pytest.mark.parametrize("session_zone", SESSION_ZONES)
def test_daily_new_york_across_dst(connect: Connect, session_zone: str) -> None:
    c = session(connect, session_zone)
    for t in ("spring", "fall"):
        c.execute(f"CREATE TABLE {t} (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "spring", "1 day", premake=2, now_at="2024-03-09 12:00-05", time_zone="America/New_York")
    create_range_dicts(c, "fall", "1 day", premake=2, now_at="2024-11-02 12:00-04", time_zone="America/New_York")

    reader = session(connect, "UTC")
    assert bounds_in_order(reader, "spring") == [
        ("spring_p20240309", "2024-03-09 05:00:00+00", "2024-03-10 05:00:00+00"),
        ("spring_p20240310", "2024-03-10 05:00:00+00", "2024-03-11 04:00:00+00"),  # 23 h
        ("spring_p20240311", "2024-03-11 04:00:00+00", "2024-03-12 04:00:00+00"),
    ]
    assert bounds_in_order(reader, "fall") == [
        ("fall_p20241102", "2024-11-02 04:00:00+00", "2024-11-03 04:00:00+00"),
        ("fall_p20241103", "2024-11-03 04:00:00+00", "2024-11-04 05:00:00+00"),  # 25 h
        ("fall_p20241104", "2024-11-04 05:00:00+00", "2024-11-05 05:00:00+00"),
    ]

    # shown at local midnight with the local offset, whatever the session's zone
    info = [
        row
        for parent in ("spring", "fall")
        for row in c.execute(
            "SELECT partition::text, lower_bound, upper_bound FROM pgpart.partition_info(%s)", (parent,)
        ).fetchall()
    ]
    assert info == [
        ("spring_p20240309", "2024-03-09 00:00:00-05", "2024-03-10 00:00:00-05"),
        ("spring_p20240310", "2024-03-10 00:00:00-05", "2024-03-11 00:00:00-04"),
        ("spring_p20240311", "2024-03-11 00:00:00-04", "2024-03-12 00:00:00-04"),
        ("fall_p20241102", "2024-11-02 00:00:00-04", "2024-11-03 00:00:00-04"),
        ("fall_p20241103", "2024-11-03 00:00:00-04", "2024-11-04 00:00:00-05"),
        ("fall_p20241104", "2024-11-04 00:00:00-05", "2024-11-05 00:00:00-05"),
    ]

    # rows late in the local day stay in that day's partition
    c.execute(
        "INSERT INTO spring VALUES ('2024-03-10 23:30-04'), ('2024-03-10 00:00-05'), ('2024-03-11 00:00-04');"
        "INSERT INTO fall VALUES ('2024-11-03 23:30-05'), ('2024-11-03 01:30-05'), ('2024-11-03 01:30-04')"
    )
    routed = c.execute(
        "SELECT tableoid::regclass::text, count(*) FROM spring GROUP BY 1"
        " UNION ALL SELECT tableoid::regclass::text, count(*) FROM fall GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert routed == [("fall_p20241103", 3), ("spring_p20240310", 2), ("spring_p20240311", 1)]


def test_monthly_new_york_bounds_follow_the_offset(connect: Connect) -> None:
    c = session(connect, "Asia/Kolkata")
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "ev", "1 month", premake=1, now_at="2024-03-05 12:00+00", time_zone="America/New_York")
    assert bounds_in_order(session(connect, "UTC"), "ev") == [
        ("ev_p20240301", "2024-03-01 05:00:00+00", "2024-04-01 04:00:00+00"),
        ("ev_p20240401", "2024-04-01 04:00:00+00", "2024-05-01 04:00:00+00"),
    ]


@pytest.mark.parametrize(
    ("now_at", "start", "first_utc", "count"),
    [
        # 00:00 EST is 05:00 UTC; the jump is at 07:00 UTC
        ("2024-03-10 06:30+00", "2024-03-10 00:00", "2024-03-10 05:00:00+00", 5),
        # 00:00 EDT is 04:00 UTC; local 01:00-02:00 happens twice (05:00 and 06:00 UTC)
        ("2024-11-03 05:30+00", "2024-11-03 00:00", "2024-11-03 04:00:00+00", 5),
    ],
    ids=["spring", "fall"],
)
def test_hourly_new_york_is_a_plain_utc_grid(
    connect: Connect, now_at: str, start: str, first_utc: str, count: int
) -> None:
    c = session(connect, "America/New_York")
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    rows = create_range_dicts(c, "ev", "1 hour", premake=3, now_at=now_at, start=start, time_zone="America/New_York")
    assert len(rows) == count
    catalog = bounds_in_order(session(connect, "UTC"), "ev")
    assert len(catalog) == count
    assert catalog[0][1] == first_utc
    assert_contiguous_utc_grid(catalog, timedelta(hours=1))
    assert [r["partition"] for r in rows] == [f"public.{name}" for name, _, _ in catalog]


def test_hourly_new_york_covers_both_dst_days_without_gaps(connect: Connect) -> None:
    c = session(connect, "Asia/Kolkata")
    for t in ("spring", "fall"):
        c.execute(f"CREATE TABLE {t} (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    # whole local days: 23 and 25 hourly partitions
    create_range_dicts(c, "spring", "1 hour", premake=22, now_at="2024-03-10 00:00-05", time_zone="America/New_York")
    create_range_dicts(c, "fall", "1 hour", premake=24, now_at="2024-11-03 00:00-04", time_zone="America/New_York")
    reader = session(connect, "UTC")
    spring, fall = bounds_in_order(reader, "spring"), bounds_in_order(reader, "fall")
    assert len(spring) == 23 and len(fall) == 25
    assert_contiguous_utc_grid(spring, timedelta(hours=1))
    assert_contiguous_utc_grid(fall, timedelta(hours=1))
    assert (spring[0][1], spring[-1][2]) == ("2024-03-10 05:00:00+00", "2024-03-11 04:00:00+00")
    assert (fall[0][1], fall[-1][2]) == ("2024-11-03 04:00:00+00", "2024-11-04 05:00:00+00")
    # every instant of the local day lands in a partition
    c.execute(
        "INSERT INTO spring SELECT g FROM generate_series("
        "'2024-03-10 00:00-05'::timestamptz, '2024-03-10 23:59-04', '7 minutes') AS g;"
        "INSERT INTO fall SELECT g FROM generate_series("
        "'2024-11-03 00:00-04'::timestamptz, '2024-11-03 23:59-05', '7 minutes') AS g"
    )
    # the ambiguous local hour 01:xx is two partitions, with distinct (UTC) names
    info = c.execute(
        "SELECT partition::text, lower_bound FROM pgpart.partition_info('fall')"
        " WHERE lower_bound LIKE '2024-11-03 01:%'"
    ).fetchall()
    assert info == [
        ("fall_p20241103_0500", "2024-11-03 01:00:00-04"),
        ("fall_p20241103_0600", "2024-11-03 01:00:00-05"),
    ]


@pytest.mark.parametrize(
    ("session_zone", "start", "first_utc"),
    [
        ("Asia/Kolkata", "2024-03-10 00:00", "2024-03-10 05:00:00+00"),  # read in New York
        ("UTC", "2024-03-10 00:00", "2024-03-10 05:00:00+00"),
        ("Asia/Kolkata", "2024-03-10 00:00+00", "2024-03-10 00:00:00+00"),  # explicit offset wins
        ("America/New_York", "2024-03-10 04:00+05:30", "2024-03-09 22:00:00+00"),
    ],
)
def test_start_without_offset_is_read_in_the_configured_zone(
    connect: Connect, session_zone: str, start: str, first_utc: str
) -> None:
    c = session(connect, session_zone)
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(
        c, "ev", "1 hour", premake=0, now_at="2024-03-10 06:30+00", start=start, time_zone="America/New_York"
    )
    catalog = bounds_in_order(session(connect, "UTC"), "ev")
    assert catalog[0][1] == first_utc
    assert catalog[-1][1] == "2024-03-10 06:00:00+00"  # the slot of now_at, premake 0
    assert_contiguous_utc_grid(catalog, timedelta(hours=1))


def test_daily_start_without_offset_is_a_local_date(connect: Connect) -> None:
    # Session in Kolkata (+05:30), grid in New York: '2024-03-08' is the New York day.
    c = session(connect, "Asia/Kolkata")
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "ev", "1 day", premake=0, now_at="2024-03-09 12:00-05", start="2024-03-08",
           time_zone="America/New_York")
    assert bounds_in_order(session(connect, "UTC"), "ev") == [
        ("ev_p20240308", "2024-03-08 05:00:00+00", "2024-03-09 05:00:00+00"),
        ("ev_p20240309", "2024-03-09 05:00:00+00", "2024-03-10 05:00:00+00"),
    ]


@pytest.mark.parametrize("session_zone", SESSION_ZONES)
def test_partition_info_uses_the_configured_zone(connect: Connect, session_zone: str) -> None:
    setup = session(connect, "UTC")
    setup.execute("CREATE TABLE ny (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    setup.execute("CREATE TABLE kol (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    setup.execute("CREATE TABLE plain (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(setup, "ny", "1 hour", premake=1, now_at="2024-03-10 06:30+00", time_zone="America/New_York")
    create_range_dicts(setup, "kol", "1 month", premake=0, now_at=GRID_NOW, time_zone="Asia/Kolkata")
    create_range_dicts(setup, "plain", "1 day", premake=0, now_at=GRID_NOW)

    c = session(connect, session_zone)
    rows = c.execute(
        "SELECT parent_table::text, partition::text, lower_bound, upper_bound FROM pgpart.partition_info()"
        " ORDER BY 1, 2"
    ).fetchall()
    assert rows == [
        ("kol", "kol_p20240501", "2024-05-01 00:00:00+05:30", "2024-06-01 00:00:00+05:30"),
        ("ny", "ny_p20240310_0600", "2024-03-10 01:00:00-05", "2024-03-10 03:00:00-04"),
        ("ny", "ny_p20240310_0700", "2024-03-10 03:00:00-04", "2024-03-10 04:00:00-04"),
        ("plain", "plain_p20240515", "2024-05-15 00:00:00+00", "2024-05-16 00:00:00+00"),
    ]
    # the session's own setting is untouched afterwards
    assert c.execute("SHOW timezone").fetchone() == (session_zone,)


def test_returned_bounds_use_the_configured_zone(connect: Connect) -> None:
    c = session(connect, "Asia/Kolkata")
    c.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    rows = create_range_dicts(c, "ev", "1 day", premake=1, now_at="2024-03-09 12:00-05", time_zone="America/New_York")
    assert [(r["lower_bound"], r["upper_bound"]) for r in rows] == [
        ("2024-03-09 00:00:00-05", "2024-03-10 00:00:00-05"),
        ("2024-03-10 00:00:00-05", "2024-03-11 00:00:00-04"),
    ]
    assert c.execute("SHOW timezone").fetchone() == ("Asia/Kolkata",)


@pytest.mark.parametrize(
    ("now_at", "expected"),
    [
        # São Paulo 2018: clocks went forward at local midnight of 2018-11-04 (23 h day)...
        ("2018-11-03 12:00-03", [
            ("sp_p20181103", "2018-11-03 03:00:00+00", "2018-11-04 03:00:00+00"),
            ("sp_p20181104", "2018-11-04 03:00:00+00", "2018-11-05 02:00:00+00"),
            ("sp_p20181105", "2018-11-05 02:00:00+00", "2018-11-06 02:00:00+00"),
        ]),
        # ...and back at local midnight of 2019-02-17 (so 2019-02-16 lasts 25 h)
        ("2019-02-15 12:00-02", [
            ("sp_p20190215", "2019-02-15 02:00:00+00", "2019-02-16 02:00:00+00"),
            ("sp_p20190216", "2019-02-16 02:00:00+00", "2019-02-17 03:00:00+00"),
            ("sp_p20190217", "2019-02-17 03:00:00+00", "2019-02-18 03:00:00+00"),
        ]),
    ],
    ids=["midnight-missing", "midnight-repeated"],
)
def test_daily_where_dst_changes_at_midnight(connect: Connect, now_at: str, expected: list[Any]) -> None:
    c = session(connect, "UTC")
    c.execute("CREATE TABLE sp (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "sp", "1 day", premake=2, now_at=now_at, time_zone="America/Sao_Paulo")
    assert bounds_in_order(c, "sp") == expected


def test_daily_in_a_zone_that_skipped_a_whole_day(connect: Connect) -> None:
    # Samoa moved across the date line: 2011-12-29 24:00 (-10) was followed by
    # 2011-12-31 00:00 (+14). There is no local 2011-12-30, hence no partition
    # for it, no empty range and no duplicate name.
    c = session(connect, "UTC")
    c.execute("CREATE TABLE ws (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    create_range_dicts(c, "ws", "1 day", premake=2, now_at="2011-12-29 12:00-10", time_zone="Pacific/Apia")
    assert bounds_in_order(c, "ws") == [
        ("ws_p20111229", "2011-12-29 10:00:00+00", "2011-12-30 10:00:00+00"),
        ("ws_p20111231", "2011-12-30 10:00:00+00", "2011-12-31 10:00:00+00"),
        ("ws_p20120101", "2011-12-31 10:00:00+00", "2012-01-01 10:00:00+00"),
    ]
