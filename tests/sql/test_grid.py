"""The grid of create_range_partitions (DESIGN §5): names, exact bounds,
premake counts, idempotence, gap filling, partitions off the grid, integer
keys near their limits, and the intervals that must be refused.

Bounds are checked against hand-written expectations, read back with
pg_get_expr(relpartbound, oid) under TimeZone UTC and through partition_info.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from catalog import Conn, config_row, info, partition_bounds, partition_names, snapshot_with_oids
from clock import GRID_NOW
from names import range_bound
from pgcall import create_range_dicts

PREMAKE = 3


@dataclass(frozen=True)
class Case:
    id: str
    key_type: str
    interval: str
    canonical: str  # pgpart.config.partition_interval
    edges: tuple[str, ...]  # slot boundaries as pg_get_expr prints them under UTC
    suffixes: tuple[str, ...]
    kw: tuple[tuple[str, str], ...] = ()
    grid_origin: str | None = None

    @property
    def slots(self) -> list[tuple[str, str, str]]:
        assert len(self.suffixes) == len(self.edges) - 1
        return list(zip(self.suffixes, self.edges[:-1], self.edges[1:], strict=True))

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.kw)

    @property
    def is_integer(self) -> bool:
        return self.key_type in ("smallint", "integer", "bigint")


def _tz(*edges: str) -> tuple[str, ...]:
    return tuple(e + "+00" for e in edges)


CASES = [
    Case(
        "daily", "timestamptz", "daily", "1 day",
        _tz("2024-05-15 00:00:00", "2024-05-16 00:00:00", "2024-05-17 00:00:00",
            "2024-05-18 00:00:00", "2024-05-19 00:00:00"),
        ("_p20240515", "_p20240516", "_p20240517", "_p20240518"),
    ),
    Case(
        "hourly", "timestamptz", "hourly", "01:00:00",
        _tz("2024-05-15 10:00:00", "2024-05-15 11:00:00", "2024-05-15 12:00:00",
            "2024-05-15 13:00:00", "2024-05-15 14:00:00"),
        ("_p20240515_1000", "_p20240515_1100", "_p20240515_1200", "_p20240515_1300"),
    ),
    Case(
        "15min", "timestamptz", "15 minutes", "00:15:00",
        _tz("2024-05-15 10:30:00", "2024-05-15 10:45:00", "2024-05-15 11:00:00",
            "2024-05-15 11:15:00", "2024-05-15 11:30:00"),
        ("_p20240515_1030", "_p20240515_1045", "_p20240515_1100", "_p20240515_1115"),
    ),
    Case(
        "weekly", "timestamptz", "weekly", "7 days",
        _tz("2024-05-13 00:00:00", "2024-05-20 00:00:00", "2024-05-27 00:00:00",
            "2024-06-03 00:00:00", "2024-06-10 00:00:00"),
        ("_p20240513", "_p20240520", "_p20240527", "_p20240603"),
    ),
    Case(
        "monthly", "timestamptz", "monthly", "1 mon",
        _tz("2024-05-01 00:00:00", "2024-06-01 00:00:00", "2024-07-01 00:00:00",
            "2024-08-01 00:00:00", "2024-09-01 00:00:00"),
        ("_p20240501", "_p20240601", "_p20240701", "_p20240801"),
    ),
    Case(
        "quarterly", "timestamptz", "quarterly", "3 mons",
        _tz("2024-04-01 00:00:00", "2024-07-01 00:00:00", "2024-10-01 00:00:00",
            "2025-01-01 00:00:00", "2025-04-01 00:00:00"),
        ("_p20240401", "_p20240701", "_p20241001", "_p20250101"),
    ),
    Case(
        "yearly", "timestamptz", "yearly", "1 year",
        _tz("2024-01-01 00:00:00", "2025-01-01 00:00:00", "2026-01-01 00:00:00",
            "2027-01-01 00:00:00", "2028-01-01 00:00:00"),
        ("_p20240101", "_p20250101", "_p20260101", "_p20270101"),
    ),
    Case(
        # 2024-01-01 + 13 * 10 days = 2024-05-10 holds 2024-05-15.
        "10days_origin", "timestamptz", "10 days", "10 days",
        _tz("2024-05-10 00:00:00", "2024-05-20 00:00:00", "2024-05-30 00:00:00",
            "2024-06-09 00:00:00", "2024-06-19 00:00:00"),
        ("_p20240510", "_p20240520", "_p20240530", "_p20240609"),
        kw=(("origin", "2024-01-01"),),
        grid_origin="2024-01-01 00:00:00",
    ),
    Case(
        "date_daily", "date", "1 day", "1 day",
        ("2024-05-15", "2024-05-16", "2024-05-17", "2024-05-18", "2024-05-19"),
        ("_p20240515", "_p20240516", "_p20240517", "_p20240518"),
    ),
    Case(
        "date_monthly", "date", "1 month", "1 mon",
        ("2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01", "2024-09-01"),
        ("_p20240501", "_p20240601", "_p20240701", "_p20240801"),
    ),
    Case(
        # 2024-01-03 + 13 * 10 days = 2024-05-12.
        "date_10days_origin", "date", "10 days", "10 days",
        ("2024-05-12", "2024-05-22", "2024-06-01", "2024-06-11", "2024-06-21"),
        ("_p20240512", "_p20240522", "_p20240601", "_p20240611"),
        kw=(("origin", "2024-01-03"),),
        grid_origin="2024-01-03 00:00:00",
    ),
    Case(
        "timestamp_hourly", "timestamp", "1 hour", "01:00:00",
        ("2024-05-15 10:00:00", "2024-05-15 11:00:00", "2024-05-15 12:00:00",
         "2024-05-15 13:00:00", "2024-05-15 14:00:00"),
        ("_p20240515_1000", "_p20240515_1100", "_p20240515_1200", "_p20240515_1300"),
    ),
    Case(
        "timestamp_weekly", "timestamp", "1 week", "7 days",
        ("2024-05-13 00:00:00", "2024-05-20 00:00:00", "2024-05-27 00:00:00",
         "2024-06-03 00:00:00", "2024-06-10 00:00:00"),
        ("_p20240513", "_p20240520", "_p20240527", "_p20240603"),
    ),
    *[
        Case(
            f"{t}_from_minus_3000", t, "1000", "1000",
            # an empty integer table: start stands for "now" (DESIGN §5), so premake 3 ahead of it
            ("-3000", "-2000", "-1000", "0", "1000"),
            ("_pm3000", "_pm2000", "_pm1000", "_p0"),
            kw=(("start", "-3000"),),
        )
        for t in ("smallint", "integer", "bigint")
    ],
]


def make_parent(conn: Conn, key_type: str, name: str = "ev") -> str:
    conn.execute(f"CREATE TABLE {name} (k {key_type} NOT NULL, payload text) PARTITION BY RANGE (k)")
    return name


def run(conn: Conn, case: Case, parent: str = "ev", **overrides: Any) -> list[dict[str, Any]]:
    kw: dict[str, Any] = {"premake": PREMAKE, "now_at": GRID_NOW, **case.kwargs, **overrides}
    return create_range_dicts(conn, parent, case.interval, **kw)


def expected_partitions(case: Case, parent: str = "ev", skip: tuple[int, ...] = ()) -> list[tuple[str, str]]:
    return sorted(
        (parent + suffix, range_bound(case.key_type, lo, hi))
        for i, (suffix, lo, hi) in enumerate(case.slots)
        if i not in skip
    )


@pytest.fixture(params=CASES, ids=lambda c: c.id)
def case(request: pytest.FixtureRequest) -> Case:
    c: Case = request.param
    return c


def test_creates_the_grid(conn: Conn, case: Case) -> None:
    make_parent(conn, case.key_type)
    rows = run(conn, case)

    assert [r["action"] for r in rows] == ["created"] * len(case.slots)
    assert [r["partition"] for r in rows] == [f"public.ev{s}" for s, _, _ in case.slots]
    # returned bounds: the configured zone is UTC, so they read like pg_get_expr's
    assert [(r["lower_bound"], r["upper_bound"]) for r in rows] == [(lo, hi) for _, lo, hi in case.slots]
    assert partition_bounds(conn, "ev") == expected_partitions(case)
    assert info(conn, "ev") == [("ev" + s, lo, hi) for s, lo, hi in case.slots]

    cfg = config_row(conn, "ev")
    assert cfg is not None
    assert cfg["partition_interval"] == case.canonical
    assert cfg["premake"] == PREMAKE
    assert cfg["key_column"] == "k"
    if case.grid_origin is not None:
        assert cfg["grid_origin"] == case.grid_origin


def test_premake_plus_one_on_an_empty_table(conn: Conn, case: Case) -> None:
    without_start = {k: v for k, v in case.kwargs.items() if k != "start"}
    for premake in (0, 2):
        parent = make_parent(conn, case.key_type, f"ev{premake}")
        rows = create_range_dicts(conn, parent, case.interval, premake=premake, now_at=GRID_NOW, **without_start)
        assert len(rows) == premake + 1
        assert len(partition_bounds(conn, parent)) == premake + 1
    if case.is_integer:
        # empty integer table: "now" is 0
        assert partition_names(conn, "ev2") == ["ev2_p0", "ev2_p1000", "ev2_p2000"]
    else:
        assert partition_names(conn, "ev0") == ["ev0" + case.slots[0][0]]
        assert partition_names(conn, "ev2") == sorted("ev2" + s for s, _, _ in case.slots[:3])


def test_second_call_is_idempotent(conn: Conn, case: Case) -> None:
    make_parent(conn, case.key_type)
    run(conn, case)
    before = snapshot_with_oids(conn)
    assert run(conn, case) == []
    assert snapshot_with_oids(conn) == before
    # also when the policy is taken from the configuration
    assert create_range_dicts(conn, "ev", case.interval, now_at=GRID_NOW) == []
    assert snapshot_with_oids(conn) == before


def test_gap_is_filled(conn: Conn, case: Case) -> None:
    make_parent(conn, case.key_type)
    run(conn, case)
    complete = partition_bounds(conn, "ev")
    gap = "ev" + case.slots[1][0]
    conn.execute(f"DROP TABLE {gap}")
    assert gap not in partition_names(conn, "ev")

    rows = run(conn, case)
    assert [r["partition"] for r in rows] == [f"public.{gap}"]
    assert partition_bounds(conn, "ev") == complete


def _midpoint(conn: Conn, key_type: str, lo: str, hi: str) -> str:
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        row = conn.execute(
            f"SELECT (%s::{key_type} + (%s::{key_type} - %s::{key_type}) / 2)::text", (lo, hi, lo)
        ).fetchone()
    assert row is not None
    return str(row[0])


def _attach_off_grid(conn: Conn, case: Case) -> tuple[str, str, str]:
    """Attaches, by hand, a partition from the middle of slot 1 to the middle of
    slot 2 (one-day slots of a date key have no middle: then slots 1 and 2 in one)."""
    (_, lo1, hi1), (_, lo2, hi2) = case.slots[1], case.slots[2]
    lo, hi = _midpoint(conn, case.key_type, lo1, hi1), _midpoint(conn, case.key_type, lo2, hi2)
    if lo == lo1:
        lo, hi = lo1, hi2
    conn.execute("CREATE TABLE odd_one (LIKE ev)")
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        conn.execute(
            f"ALTER TABLE ev ATTACH PARTITION odd_one FOR VALUES FROM ('{lo}') TO ('{hi}')"
        )
    bound = dict(partition_bounds(conn, "ev"))["odd_one"]
    return "odd_one", bound, lo


def test_off_grid_partition_is_skipped(conn: Conn, case: Case) -> None:
    make_parent(conn, case.key_type)
    odd, odd_bound, _ = _attach_off_grid(conn, case)

    # An explicit start whose slot overlaps it: 42P17, nothing created.
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.InvalidObjectDefinition):
        run(conn, case, start=case.slots[1][1])
    assert snapshot_with_oids(conn) == before
    assert config_row(conn, "ev") is None

    # Without such a start, the two slots it overlaps are skipped.
    rows = run(conn, case)
    assert len(rows) == len(case.slots) - 2
    assert partition_bounds(conn, "ev") == sorted([*expected_partitions(case, skip=(1, 2)), (odd, odd_bound)])

    # and again: nothing to do
    before = snapshot_with_oids(conn)
    assert run(conn, case) == []
    assert snapshot_with_oids(conn) == before


@pytest.mark.parametrize("key_type", ["smallint", "integer", "bigint"])
def test_integer_premake_counts_from_the_highest_key(conn: Conn, key_type: str) -> None:
    make_parent(conn, key_type)
    create_range_dicts(conn, "ev", "1000", premake=2)
    assert partition_names(conn, "ev") == ["ev_p0", "ev_p1000", "ev_p2000"]

    conn.execute("INSERT INTO ev (k) VALUES (10), (500)")
    assert create_range_dicts(conn, "ev", "1000") == []  # highest key 500: slot 0 plus 2 exist

    conn.execute("INSERT INTO ev (k) VALUES (2500)")
    rows = create_range_dicts(conn, "ev", "1000")
    assert [r["partition"] for r in rows] == ["public.ev_p3000", "public.ev_p4000"]
    assert dict(partition_bounds(conn, "ev"))["ev_p4000"] == range_bound(key_type, "4000", "5000")

    # premake given explicitly counts from the highest key too
    conn.execute("INSERT INTO ev (k) VALUES (4999)")
    rows = create_range_dicts(conn, "ev", "1000", premake=1)
    assert [r["partition"] for r in rows] == ["public.ev_p5000"]


@pytest.mark.parametrize(
    ("key_type", "maximum"),
    [("smallint", 32767), ("integer", 2147483647), ("bigint", 9223372036854775807)],
)
def test_integer_near_maximum_ends_with_maxvalue(conn: Conn, key_type: str, maximum: int) -> None:
    make_parent(conn, key_type)
    last = maximum // 1000 * 1000  # lower bound of the slot holding the maximum
    create_range_dicts(conn, "ev", "1000", premake=0, start=str(last - 2000))
    assert partition_names(conn, "ev") == [f"ev_p{last - 2000}"]
    conn.execute("INSERT INTO ev (k) VALUES (%s)", (last - 1500,))

    rows = create_range_dicts(conn, "ev", "1000", premake=3)
    assert [r["partition"] for r in rows] == [f"public.ev_p{last - 1000}", f"public.ev_p{last}"]
    assert rows[-1]["upper_bound"] == "MAXVALUE"
    assert dict(partition_bounds(conn, "ev")) == {
        f"ev_p{last - 2000}": range_bound(key_type, str(last - 2000), str(last - 1000)),
        f"ev_p{last - 1000}": range_bound(key_type, str(last - 1000), str(last)),
        f"ev_p{last}": range_bound(key_type, str(last), "MAXVALUE"),
    }

    # the maximum itself is routed, and another call is a no-op without error
    conn.execute("INSERT INTO ev (k) VALUES (%s)", (maximum,))
    row = conn.execute("SELECT tableoid::regclass::text FROM ev WHERE k = %s", (maximum,)).fetchone()
    assert row == (f"ev_p{last}",)
    before = snapshot_with_oids(conn)
    assert create_range_dicts(conn, "ev", "1000", premake=3) == []
    assert snapshot_with_oids(conn) == before


def test_smallint_start_below_minimum_gets_minvalue(conn: Conn) -> None:
    make_parent(conn, "smallint")
    rows = create_range_dicts(conn, "ev", "1000", premake=0, start="-32768")
    assert rows[0]["partition"] == "public.ev_pmin"
    assert (rows[0]["lower_bound"], rows[0]["upper_bound"]) == ("MINVALUE", "-32000")
    parts = dict(partition_bounds(conn, "ev"))
    assert parts["ev_pmin"] == "FOR VALUES FROM (MINVALUE) TO ('-32000')"
    assert len(parts) == 1  # the table is empty: start stands for "now", premake 0
    before = snapshot_with_oids(conn)
    assert create_range_dicts(conn, "ev", "1000", premake=0, start="-32768") == []
    assert snapshot_with_oids(conn) == before


def test_gap_before_now_is_filled_from_the_lowest_partition(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at="2024-05-10 12:00+00")
    assert partition_names(conn, "ev") == ["ev_p20240510"]
    rows = create_range_dicts(conn, "ev", "1 day", premake=1, now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == [f"public.ev_p202405{d}" for d in range(11, 17)]


def test_every_gap_below_now_is_filled(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at="2024-05-08 12:00+00")
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at=GRID_NOW)
    assert partition_names(conn, "ev") == [f"ev_p202405{d:02}" for d in range(8, 16)]
    complete = partition_bounds(conn, "ev")
    for day in ("09", "11", "12", "14"):
        conn.execute(f"DROP TABLE ev_p202405{day}")
    # an off-grid partition inside one of the gaps keeps its slot
    conn.execute("CREATE TABLE odd_one (LIKE ev)")
    conn.execute("ALTER TABLE ev ATTACH PARTITION odd_one FOR VALUES FROM ('2024-05-12 06:00+00') TO ('2024-05-12 18:00+00')")

    rows = create_range_dicts(conn, "ev", "1 day", now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == ["public.ev_p20240509", "public.ev_p20240511", "public.ev_p20240514"]
    assert partition_bounds(conn, "ev") == sorted(
        [p for p in complete if p[0] != "ev_p20240512"]
        + [("odd_one", "FOR VALUES FROM ('2024-05-12 06:00:00+00') TO ('2024-05-12 18:00:00+00')")]
    )


def test_explicit_start_does_not_fill_gaps_below_it(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at="2024-05-10 12:00+00")
    rows = create_range_dicts(conn, "ev", "1 day", premake=1, start="2024-05-14", now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == ["public.ev_p20240514", "public.ev_p20240515", "public.ev_p20240516"]
    # without start the gap is filled
    rows = create_range_dicts(conn, "ev", "1 day", now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == [f"public.ev_p202405{d}" for d in range(11, 14)]


@pytest.mark.parametrize(
    ("key_type", "interval"),
    [
        ("timestamptz", "1000"),  # a bare number is not 16 min 40 s
        ("timestamptz", "1 mon 2 days"),
        ("timestamptz", "1 day 12:00"),
        ("timestamptz", "1.5 days"),
        ("timestamptz", "7 minutes"),  # does not divide 24 hours
        ("timestamptz", "25 hours"),
        ("timestamptz", "0 days"),
        ("timestamptz", "-1 day"),
        ("timestamptz", "fortnightly"),
        ("timestamp", "7 minutes"),
        ("date", "1 hour"),  # shorter than a day for a date key
        ("date", "15 minutes"),
        ("integer", "1 day"),
        ("integer", "0"),
        ("integer", "-5"),
        ("bigint", "10.5"),
    ],
)
def test_invalid_interval_is_refused(conn: Conn, key_type: str, interval: str) -> None:
    make_parent(conn, key_type)
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        create_range_dicts(conn, "ev", interval, premake=1, now_at=GRID_NOW)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        create_range_dicts(conn, "ev", interval, premake=1, now_at=GRID_NOW, dry_run=True)
    assert snapshot_with_oids(conn) == before
    assert config_row(conn, "ev") is None


@pytest.mark.parametrize(
    "change",
    [
        {"interval": "1 hour"},
        {"interval": "2 days"},
        {"interval": "24 hours"},
        {"origin": "2024-01-02 06:00"},
        {"time_zone": "Europe/Berlin"},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_changing_the_grid_of_a_parent_with_partitions_is_refused(conn: Conn, change: dict[str, str]) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "1 day", premake=1, now_at=GRID_NOW)
    before = snapshot_with_oids(conn)
    kw = {k: v for k, v in change.items() if k != "interval"}
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        create_range_dicts(conn, "ev", change.get("interval", "1 day"), premake=5, now_at=GRID_NOW, **kw)
    assert snapshot_with_oids(conn) == before
    cfg = config_row(conn, "ev")
    assert cfg is not None and cfg["partition_interval"] == "1 day" and cfg["premake"] == 1


def test_grid_may_change_once_no_partition_is_left(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at=GRID_NOW)
    conn.execute("DROP TABLE ev_p20240515")
    rows = create_range_dicts(conn, "ev", "1 hour", premake=0, now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == ["public.ev_p20240515_1000"]
    cfg = config_row(conn, "ev")
    assert cfg is not None and cfg["partition_interval"] == "01:00:00"


@pytest.mark.parametrize(
    ("shorthand", "spelled_out"),
    [("daily", "1 day"), ("weekly", "7 days"), ("monthly", "1 month"), ("quarterly", "3 months"),
     ("yearly", "12 months"), ("hourly", "60 minutes")],
)
def test_shorthand_and_spelled_out_interval_are_the_same_grid(conn: Conn, shorthand: str, spelled_out: str) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", shorthand, premake=1, now_at=GRID_NOW)
    before = snapshot_with_oids(conn)
    assert create_range_dicts(conn, "ev", spelled_out, now_at=GRID_NOW) == []
    assert snapshot_with_oids(conn) == before


def test_dry_run_returns_the_plan_and_changes_nothing(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    conn.execute("ALTER TABLE ev ADD PRIMARY KEY (k)")
    conn.execute("CREATE INDEX ON ev (payload)")
    before = snapshot_with_oids(conn)

    steps = create_range_dicts(conn, "ev", "1 day", premake=2, now_at=GRID_NOW, dry_run=True)
    assert snapshot_with_oids(conn) == before
    assert partition_bounds(conn, "ev") == []
    assert config_row(conn, "ev") is None

    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    actions = [s["action"] for s in steps]
    assert actions[0] == "lock"
    assert actions[-1] == "register policy"
    per_partition = ["create table", "add constraint", "create index", "set owner", "attach"]
    assert actions == ["lock", "lock", *per_partition * 3, "register policy"]
    assert not any(s["top_level"] for s in steps)
    assert all(s["statement"] for s in steps)
    planned = [s["partition"] for s in steps if s["action"] == "attach"]
    planned_bounds = [(s["lower_bound"], s["upper_bound"]) for s in steps if s["action"] == "attach"]

    # the real run creates exactly what was planned
    rows = create_range_dicts(conn, "ev", "1 day", premake=2, now_at=GRID_NOW)
    assert [r["partition"] for r in rows] == planned
    assert [(r["lower_bound"], r["upper_bound"]) for r in rows] == planned_bounds
    assert planned == ["public.ev_p20240515", "public.ev_p20240516", "public.ev_p20240517"]

    # a dry run of a satisfied grid plans no partition
    steps = create_range_dicts(conn, "ev", "1 day", premake=2, now_at=GRID_NOW, dry_run=True)
    assert [s["action"] for s in steps] == ["lock", "lock", "register policy"]


def test_more_than_200_partitions_are_refused(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        create_range_dicts(conn, "ev", "1 hour", premake=200, now_at=GRID_NOW)
    assert snapshot_with_oids(conn) == before


def test_rows_route_to_the_slot_named_for_them(conn: Conn) -> None:
    make_parent(conn, "timestamptz")
    create_range_dicts(conn, "ev", "15 minutes", premake=3, now_at=GRID_NOW)
    conn.execute(
        "INSERT INTO ev (k) VALUES ('2024-05-15 10:30:00+00'), ('2024-05-15 10:44:59.999999+00'),"
        " ('2024-05-15 10:45:00+00'), ('2024-05-15 11:29:59+00')"
    )
    rows = conn.execute("SELECT tableoid::regclass::text, count(*) FROM ev GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("ev_p20240515_1030", 2), ("ev_p20240515_1045", 1), ("ev_p20240515_1115", 1)]
