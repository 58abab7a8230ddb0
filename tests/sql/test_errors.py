"""Every error path of pgpart.create_range_partitions: the SQLSTATE, the DETAIL
and HINT where the code gives them, SCHEMA and TABLE where the code sets them,
and that a refused call changed nothing (relations, partition tree,
pgpart.config, pgpart.log). Argument errors are checked both for a real run
and for dry_run, which must refuse exactly what a real run refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from catalog import Snapshot, partitions, snapshot
from fix_pg import Connect
from pgcall import create_range

NOW = "2024-03-10 12:00:00+00"

# Tables created by every test of this module, owned by pgpart_owner.
TABLES = """
CREATE TABLE public.ev (ts timestamptz NOT NULL, v integer) PARTITION BY RANGE (ts);
CREATE TABLE public.tv (ts timestamp NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE public.dv (d date NOT NULL) PARTITION BY RANGE (d);
CREATE TABLE public.iv (id bigint NOT NULL) PARTITION BY RANGE (id);
"""


@pytest.fixture
def owner(owner_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    owner_conn.execute(TABLES)
    return owner_conn


@dataclass
class Refusal:
    """What a refused call must report."""

    sqlstate: str
    detail: bool = False
    hint: bool = False
    # (schema, table) when the code sets SCHEMA and TABLE
    table: tuple[str, str] | None = None
    # substrings the message must contain (names and counts, never whole texts)
    message_has: list[str] = field(default_factory=list)


def assert_refused(
    caller: psycopg.Connection[Any],
    observer: psycopg.Connection[Any],
    parent: str | None,
    interval: str | None,
    kwargs: dict[str, Any],
    expected: Refusal,
) -> psycopg.Error:
    before: Snapshot = snapshot(observer)
    with pytest.raises(psycopg.Error) as info:
        create_range(caller, parent, interval, **kwargs)
    exc = info.value
    diag = exc.diag
    assert exc.sqlstate == expected.sqlstate, (diag.message_primary, diag.message_detail)
    if expected.detail:
        assert diag.message_detail, diag.message_primary
    if expected.hint:
        assert diag.message_hint, diag.message_primary
    if expected.table is not None:
        assert (diag.schema_name, diag.table_name) == expected.table
    for text in expected.message_has:
        assert text in (diag.message_primary or "")
    assert snapshot(observer) == before
    # the session is usable afterwards (autocommit: the statement rolled back)
    assert caller.execute("SELECT 1").fetchone() == (1,)
    return exc


DRY_RUN = pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry_run"])


# --- the table itself ---------------------------------------------------------


@DRY_RUN
def test_missing_table(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool) -> None:
    assert_refused(owner, conn, "public.no_such_table", "1 day", {"dry_run": dry_run, "now_at": NOW}, Refusal("42P01"))


@DRY_RUN
@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE public.target (ts timestamptz NOT NULL)",
        "CREATE VIEW public.target AS SELECT now() AS ts",
        # a leaf partition of some other table is not partitioned either
        (
            "CREATE TABLE public.other_parent (ts timestamptz) PARTITION BY RANGE (ts);"
            " CREATE TABLE public.target PARTITION OF public.other_parent"
            " FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"
        ),
    ],
    ids=["plain-table", "view", "leaf-partition"],
)
def test_not_partitioned(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], ddl: str, dry_run: bool
) -> None:
    owner.execute(ddl)
    assert_refused(
        owner,
        conn,
        "public.target",
        "1 day",
        {"dry_run": dry_run, "now_at": NOW},
        Refusal("42P17", detail=True, hint=True, table=("public", "target")),
    )


@DRY_RUN
@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE public.target (k integer) PARTITION BY LIST (k)",
        "CREATE TABLE public.target (k integer) PARTITION BY HASH (k)",
    ],
    ids=["list", "hash"],
)
def test_not_range_partitioned(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], ddl: str, dry_run: bool
) -> None:
    owner.execute(ddl)
    assert_refused(
        owner,
        conn,
        "public.target",
        "10",
        {"dry_run": dry_run},
        Refusal("42P17", detail=True, hint=True, table=("public", "target")),
    )


@DRY_RUN
@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE public.target (a integer, b integer) PARTITION BY RANGE (a, b)",
        "CREATE TABLE public.target (a integer) PARTITION BY RANGE ((a + 1))",
        "CREATE TABLE public.target (a integer, b integer) PARTITION BY RANGE (a, (b * 2))",
        "CREATE TABLE public.target (k text) PARTITION BY RANGE (k)",
        "CREATE TABLE public.target (k numeric) PARTITION BY RANGE (k)",
    ],
    ids=["two-columns", "expression", "column-and-expression", "text-key", "numeric-key"],
)
def test_unsupported_key(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], ddl: str, dry_run: bool
) -> None:
    owner.execute(ddl)
    assert_refused(
        owner,
        conn,
        "public.target",
        "10",
        {"dry_run": dry_run},
        Refusal("0A000", detail=True, hint=True, table=("public", "target")),
    )


@DRY_RUN
def test_caller_not_owner(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    assert_refused(
        other_conn,
        conn,
        "public.ev",
        "1 day",
        {"dry_run": dry_run, "now_at": NOW},
        Refusal("42501", detail=True, hint=True, table=("public", "ev")),
    )


@DRY_RUN
def test_managed_with_another_strategy(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    conn.execute(
        "INSERT INTO pgpart.config (parent, strategy, key_column, key_type, policy_author)"
        " VALUES ('public.ev', 'list', 'ts', 'timestamptz', 'pgpart_owner')"
    )
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"dry_run": dry_run, "now_at": NOW},
        Refusal("0A000", hint=True, table=("public", "ev")),
    )


# --- arguments ------------------------------------------------------------------

H = Refusal("22023", hint=True)
DH = Refusal("22023", detail=True, hint=True)
PLAIN = Refusal("22023")

ARGUMENT_ERRORS = [
    # premake
    pytest.param("ev", "1 day", {"premake": -1}, H, id="premake--1"),
    # intervals of time keys
    pytest.param("ev", "", {}, DH, id="interval-empty"),
    pytest.param("ev", None, {}, DH, id="interval-null"),
    pytest.param("ev", "abc", {}, DH, id="interval-abc"),
    pytest.param("ev", "1000", {}, DH, id="interval-bare-number-time"),
    pytest.param("tv", "1000", {}, DH, id="interval-bare-number-timestamp"),
    pytest.param("ev", "1 mon 2 days", {}, DH, id="interval-months-and-days"),
    pytest.param("ev", "1 day 12:00", {}, DH, id="interval-days-and-hours"),
    pytest.param("ev", "1.5 days", {}, DH, id="interval-fractional-days"),
    pytest.param("ev", "7 minutes", {}, DH, id="interval-7-minutes"),
    pytest.param("ev", "25 hours", {}, DH, id="interval-25-hours"),
    pytest.param("ev", "0.5 seconds", {}, DH, id="interval-half-second"),
    pytest.param("ev", "0 days", {}, DH, id="interval-zero"),
    pytest.param("ev", "-1 day", {}, DH, id="interval-negative"),
    pytest.param("ev", "-1 month", {}, DH, id="interval-negative-month"),
    pytest.param("ev", "infinity", {}, DH, id="interval-infinity"),
    pytest.param("dv", "1 hour", {}, H, id="interval-hour-for-date"),
    pytest.param("dv", "15 minutes", {}, H, id="interval-minutes-for-date"),
    # intervals of integer keys
    pytest.param("iv", "0", {}, DH, id="interval-int-0"),
    pytest.param("iv", "-5", {}, DH, id="interval-int--5"),
    pytest.param("iv", "x", {}, DH, id="interval-int-x"),
    pytest.param("iv", "", {}, DH, id="interval-int-empty"),
    pytest.param("iv", None, {}, DH, id="interval-int-null"),
    pytest.param("iv", "1.5", {}, DH, id="interval-int-fraction"),
    pytest.param("iv", "1 day", {}, DH, id="interval-int-time"),
    pytest.param("iv", "99999999999999999999", {}, DH, id="interval-int-huge"),
    # time zone
    pytest.param("ev", "1 day", {"time_zone": "Mars/Base"}, H, id="zone-mars"),
    pytest.param("ev", "1 day", {"time_zone": ""}, H, id="zone-empty"),
    # start
    pytest.param("ev", "1 day", {"start": "yesterday-ish"}, DH, id="start-garbage"),
    pytest.param("ev", "1 day", {"start": "2024-02-30"}, DH, id="start-feb-30"),
    pytest.param("ev", "1 day", {"start": ""}, DH, id="start-empty"),
    pytest.param("dv", "1 day", {"start": "2024-13-01"}, DH, id="start-date-month-13"),
    pytest.param("iv", "10", {"start": "abc"}, H, id="start-int-abc"),
    pytest.param("iv", "10", {"start": "1.5"}, H, id="start-int-fraction"),
    pytest.param("iv", "10", {"start": "99999999999999999999"}, H, id="start-int-huge"),
    # origin
    pytest.param("ev", "10 days", {"origin": "abc"}, DH, id="origin-garbage"),
    pytest.param("tv", "10 days", {"origin": "2024-01-32"}, DH, id="origin-jan-32"),
    pytest.param("iv", "10", {"origin": "x"}, H, id="origin-int-x"),
    # tablespace
    pytest.param("ev", "1 day", {"tablespace": "no_such_tablespace"}, H, id="tablespace-unknown"),
    # reloptions
    pytest.param("ev", "1 day", {"reloptions": ["fillfactor"]}, H, id="reloptions-no-value"),
    pytest.param("ev", "1 day", {"reloptions": ["fillfactor="]}, H, id="reloptions-empty-value"),
    pytest.param("ev", "1 day", {"reloptions": ["=90"]}, H, id="reloptions-no-name"),
    pytest.param("ev", "1 day", {"reloptions": ["fill factor=90"]}, H, id="reloptions-space"),
    # lock_timeout (no other session holds a lock here)
    pytest.param("ev", "1 day", {"lock_timeout": "0"}, H, id="lock-timeout-0"),
    pytest.param("ev", "1 day", {"lock_timeout": None}, H, id="lock-timeout-null"),
    pytest.param("ev", "1 day", {"lock_timeout": "-1 s"}, H, id="lock-timeout-negative"),
    # lock_retries
    pytest.param("ev", "1 day", {"lock_retries": -1}, PLAIN, id="lock-retries--1"),
    pytest.param("ev", "1 day", {"lock_retries": None}, PLAIN, id="lock-retries-null"),
]


@DRY_RUN
@pytest.mark.parametrize(("parent", "interval", "kwargs", "expected"), ARGUMENT_ERRORS)
def test_bad_argument(
    owner: psycopg.Connection[Any],
    conn: psycopg.Connection[Any],
    parent: str,
    interval: str | None,
    kwargs: dict[str, Any],
    expected: Refusal,
    dry_run: bool,
) -> None:
    assert_refused(owner, conn, f"public.{parent}", interval, {**kwargs, "now_at": NOW, "dry_run": dry_run}, expected)


def test_negative_lock_timeout_has_pgpart_hint_in_real_run(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    # the parametrized case above only checks the SQLSTATE for a real run too;
    # this one pins the documented message: pgpart's own, with its HINT
    exc = assert_refused(owner, conn, "public.ev", "1 day", {"lock_timeout": "-1 s", "now_at": NOW}, H)
    assert "lock_timeout must be positive" in (exc.diag.message_primary or "")


def test_zero_lock_timeout_is_refused_before_waiting(
    owner: psycopg.Connection[Any], connect: Connect, conn: psycopg.Connection[Any]
) -> None:
    holder = connect("pgpart_owner", autocommit=False)
    holder.execute("LOCK TABLE public.ev IN ACCESS EXCLUSIVE MODE")
    # A guard, not a timing: the call must be refused without waiting at all;
    # if it waits for the lock, the guard turns the hang into 57014.
    owner.execute("SET statement_timeout = '3s'")
    assert_refused(owner, conn, "public.ev", "1 day", {"lock_timeout": "0", "now_at": NOW}, H)
    holder.rollback()


@DRY_RUN
def test_unknown_reloption_fails_at_creation(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    kwargs = {"reloptions": ["nonsense=1"], "premake": 2, "now_at": NOW, "dry_run": dry_run}
    if dry_run:
        # well-formed name=value: only PostgreSQL knows the names; the plan shows it
        before = snapshot(conn)
        steps = create_range(owner, "public.ev", "1 day", **kwargs)
        assert any("nonsense" in s[5] for s in steps if s[4] == "create table")
        assert snapshot(conn) == before
    else:
        assert_refused(owner, conn, "public.ev", "1 day", kwargs, Refusal("22023"))


def test_reloption_value_cannot_inject_sql(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    # the value is quoted as a literal: the plan shows it quoted, and running
    # it is PostgreSQL's "invalid value" (22023), not a table in pg_global
    value = "90) TABLESPACE pg_global --"
    steps = create_range(
        owner, "public.ev", "1 day", premake=0, now_at=NOW, dry_run=True, reloptions=[f"fillfactor={value}"]
    )
    create = [s[5] for s in steps if s[4] == "create table"]
    assert create
    assert all(f"fillfactor = '{value}'" in c for c in create)
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 0, "now_at": NOW, "reloptions": [f"fillfactor={value}"]},
        Refusal("22023"),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": "infinity"},
        {"start": "-infinity"},
        {"origin": "infinity"},
    ],
    ids=["start-infinity", "start-minus-infinity", "origin-infinity"],
)
def test_infinite_start_or_origin(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], kwargs: dict[str, Any]
) -> None:
    interval = "10 days" if "origin" in kwargs else "1 day"
    assert_refused(
        owner, conn, "public.ev", interval, {**kwargs, "now_at": NOW, "dry_run": True}, Refusal("22023", hint=True)
    )


@pytest.mark.parametrize("now_at", [None, "infinity"], ids=["null", "infinity"])
def test_bad_now_at(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], now_at: str | None) -> None:
    assert_refused(owner, conn, "public.ev", "1 day", {"now_at": now_at, "dry_run": True}, Refusal("22023"))


def test_interval_too_long(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    assert_refused(owner, conn, "public.dv", "100000000 years", {"now_at": NOW, "dry_run": True}, Refusal("22023"))


# --- state: grid, names, default, limits, locks --------------------------------


def _make(owner: psycopg.Connection[Any], parent: str, interval: str, **kwargs: Any) -> list[Any]:
    rows = create_range(owner, parent, interval, **kwargs)
    assert rows, "setup created nothing"
    return rows


@DRY_RUN
@pytest.mark.parametrize(
    ("parent", "first", "second"),
    [
        ("ev", {"interval": "1 day"}, {"interval": "1 week"}),
        ("ev", {"interval": "1 day"}, {"interval": "1 day", "time_zone": "Europe/Berlin"}),
        ("ev", {"interval": "10 days"}, {"interval": "10 days", "origin": "2024-01-01"}),
        ("ev", {"interval": "1 hour"}, {"interval": "30 minutes"}),
        ("iv", {"interval": "10"}, {"interval": "20"}),
        ("iv", {"interval": "10"}, {"interval": "10", "origin": "5"}),
    ],
    ids=["interval", "zone", "origin", "sub-day", "integer-width", "integer-origin"],
)
def test_grid_change_under_partitions(
    owner: psycopg.Connection[Any],
    conn: psycopg.Connection[Any],
    parent: str,
    first: dict[str, Any],
    second: dict[str, Any],
    dry_run: bool,
) -> None:
    first = dict(first)
    _make(owner, f"public.{parent}", first.pop("interval"), premake=1, now_at=NOW, **first)
    second = dict(second)
    assert_refused(
        owner,
        conn,
        f"public.{parent}",
        second.pop("interval"),
        {**second, "premake": 1, "now_at": NOW, "dry_run": dry_run},
        Refusal("0A000", detail=True, hint=True, table=("public", parent)),
    )


@DRY_RUN
@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE public.ev_p20240311 (x integer)",
        "CREATE SEQUENCE public.ev_p20240311",
        "CREATE VIEW public.ev_p20240311 AS SELECT 1 AS x",
    ],
    ids=["table", "sequence", "view"],
)
def test_name_collision(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], ddl: str, dry_run: bool) -> None:
    owner.execute(ddl)
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 2, "now_at": NOW, "dry_run": dry_run},
        Refusal("42P07", detail=True, hint=True, table=("public", "ev_p20240311")),
    )


@DRY_RUN
def test_default_partition_name_collision(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    owner.execute("CREATE TABLE public.ev_default (x integer)")
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 1, "default_partition": True, "now_at": NOW, "dry_run": dry_run},
        Refusal("42P07", hint=True, table=("public", "ev_default")),
    )


@DRY_RUN
def test_explicit_start_overlapping_partition_off_grid(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    owner.execute(
        "CREATE TABLE public.ev_odd PARTITION OF public.ev"
        " FOR VALUES FROM ('2024-03-10 06:00+00') TO ('2024-03-10 18:00+00')"
    )
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"start": "2024-03-10", "premake": 1, "now_at": NOW, "dry_run": dry_run},
        Refusal("42P17", detail=True, hint=True, table=("public", "ev")),
    )


def test_default_holds_rows_for_new_range(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    _make(owner, "public.ev", "1 day", premake=0, default_partition=True, now_at=NOW)
    owner.execute(
        "INSERT INTO public.ev VALUES ('2024-03-11 05:00+00', 1), ('2024-03-11 06:00+00', 2),"
        " ('2024-03-11 07:00+00', 3), ('2024-03-20 00:00+00', 4)"
    )
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 1, "now_at": NOW},
        Refusal("23514", detail=True, hint=True, table=("public", "ev_default"), message_has=["ev_default", " 3 "]),
    )
    # the rows stayed where they were
    assert owner.execute("SELECT count(*) FROM ONLY public.ev_default").fetchone() == (4,)


def test_default_rows_hint_names_the_tool(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    _make(owner, "public.ev", "1 day", premake=0, default_partition=True, now_at=NOW)
    owner.execute("INSERT INTO public.ev VALUES ('2024-03-11 05:00+00', 1)")
    exc = assert_refused(owner, conn, "public.ev", "1 day", {"premake": 1, "now_at": NOW}, Refusal("23514", hint=True))
    assert "pgpart.move_default_r" in (exc.diag.message_hint or "")


def test_default_rows_do_not_block_dry_run(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    # dry_run plans the probe; it reports, it does not refuse
    _make(owner, "public.ev", "1 day", premake=0, default_partition=True, now_at=NOW)
    owner.execute("INSERT INTO public.ev VALUES ('2024-03-11 05:00+00', 1)")
    before = snapshot(conn)
    steps = create_range(owner, "public.ev", "1 day", premake=1, now_at=NOW, dry_run=True)
    assert [s[4] for s in steps].count("check default") == 1
    assert snapshot(conn) == before


@DRY_RUN
def test_cap_exceeded(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool) -> None:
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 200, "now_at": NOW, "dry_run": dry_run},
        Refusal("54000", detail=True, hint=True, table=("public", "ev")),
    )


def test_cap_boundary_is_200(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    steps = create_range(owner, "public.ev", "1 day", premake=199, now_at=NOW, dry_run=True)
    assert [s[4] for s in steps].count("attach") == 200


def with_rows_at_zero(owner: psycopg.Connection[Any], interval: str = "10") -> None:
    """Give public.iv a partition at 0 and a row: an empty integer table's
    "now" would otherwise be the start itself (DESIGN §5)."""
    owner.execute(
        "SELECT pgpart.create_range_partitions('public.iv', %s, premake => 0, start => '0')", (interval,)
    )
    owner.execute("INSERT INTO public.iv VALUES (0)")


@DRY_RUN
def test_cap_exceeded_by_start_far_back(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    with_rows_at_zero(owner)  # "now" is then key 0, far above the start
    assert_refused(
        owner,
        conn,
        "public.iv",
        "10",
        {"start": "-5000", "premake": 0, "dry_run": dry_run},
        Refusal("54000", detail=True, hint=True, table=("public", "iv")),
    )


def test_window_too_wide(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    # 200000 slots requested: far beyond the cap of 200, refused with 54000.
    # A guard, not a timing: a refusal that first walks the whole window
    # quadratically shows up as 57014 instead of 54000.
    with_rows_at_zero(owner, "1")
    owner.execute("SET statement_timeout = '10s'")
    assert_refused(
        owner,
        conn,
        "public.iv",
        "1",
        {"start": "-200000", "premake": 0},
        Refusal("54000", hint=True),
    )


def test_lock_not_obtained(owner: psycopg.Connection[Any], connect: Connect, conn: psycopg.Connection[Any]) -> None:
    holder = connect("pgpart_owner", autocommit=False)
    holder.execute("LOCK TABLE public.ev IN ACCESS EXCLUSIVE MODE")
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 1, "lock_timeout": "10ms", "lock_retries": 1, "now_at": NOW},
        Refusal("55P03", detail=True, hint=True),
    )
    holder.rollback()


# --- an error in the middle of a multi-partition call ---------------------------

FIVE = [f"ev_p202403{day}" for day in range(10, 15)]


def test_collision_on_third_of_five_creates_none(owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    owner.execute("CREATE TABLE public.ev_p20240312 (x integer)")
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 4, "now_at": NOW},
        Refusal("42P07", detail=True, hint=True, table=("public", "ev_p20240312")),
    )
    assert partitions(conn, "public.ev") == []
    # the same call succeeds once the obstacle is gone: the refusal was about it
    owner.execute("DROP TABLE public.ev_p20240312")
    rows = create_range(owner, "public.ev", "1 day", premake=4, now_at=NOW)
    assert [r[1] for r in rows] == [f"public.{n}" for n in FIVE]


def test_default_rows_for_third_of_five_creates_none(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    owner.execute("CREATE TABLE public.ev_default PARTITION OF public.ev DEFAULT")
    owner.execute("INSERT INTO public.ev VALUES ('2024-03-12 05:00+00', 1), ('2024-03-12 23:59:59+00', 2)")
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 4, "now_at": NOW},
        Refusal("23514", detail=True, hint=True, table=("public", "ev_default"), message_has=["ev_default", " 2 "]),
    )
    assert partitions(conn, "public.ev") == ["ev_default"]
    for name in FIVE:
        assert conn.execute("SELECT to_regclass(%s)", [f"public.{name}"]).fetchone() == (None,)
    # once the rows are gone the same call creates all five
    owner.execute("DELETE FROM public.ev_default")
    rows = create_range(owner, "public.ev", "1 day", premake=4, now_at=NOW)
    assert [r[1] for r in rows] == [f"public.{n}" for n in FIVE]


def test_unknown_reloption_on_later_partition_leaves_nothing(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    # PostgreSQL refuses the option when the first CREATE TABLE runs; with a
    # default partition planned too, the statement fails after the lock steps
    assert_refused(
        owner,
        conn,
        "public.ev",
        "1 day",
        {"premake": 4, "reloptions": ["fillfactor=90", "nonsense=1"], "default_partition": True, "now_at": NOW},
        Refusal("22023"),
    )
    assert partitions(conn, "public.ev") == []
