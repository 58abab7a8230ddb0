"""The partition lifecycle (issue 3): maintenance ahead, retention in every
mode, the one-step function form and its plan, online plans, detaches left
pending. Time moves only through now_at; blocking is made deterministic
with sessions holding transactions open, never with sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from catalog import Part, attached, count, log, snapshot, tables
from clock import UTC
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from names import day_bound, day_name
from pgcall import call, select
from tables import create_events

Conn = psycopg.Connection[Any]

BASE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
PREMAKE = 2
RETENTION = timedelta(days=3)
# Days advanced before each maintenance: day by day, then by weeks (a long
# pause makes partitions that are expired as soon as they are created).
ADVANCES = [1, 1, 1, 7, 7, 14]


def rows_per_day(d: date) -> int:
    return 2 + d.toordinal() % 5


def insert_day(conn: Conn, d: date, n: int, payload: str = "seed") -> None:
    """N rows spread over day D (UTC), at least an hour apart."""
    start = datetime(d.year, d.month, d.day, tzinfo=UTC)
    conn.execute(
        """
        INSERT INTO ev (created, payload)
        SELECT %s::timestamptz + g * interval '1 hour' + interval '7 minutes', %s FROM generate_series(0, %s - 1) AS g
        """,
        [start, payload, n],
    )


@dataclass
class Model:
    """What the catalog must hold: attached days, detached days, rows per day."""

    attached: list[date]
    detached: list[date] = field(default_factory=list)
    rows: dict[date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Mode:
    action: str
    schema: bool = False  # archive to schema "archive"
    tablespace: bool = False  # archive to a tablespace (and new partitions to another)


MODES = {
    "detach": Mode("detach"),
    "archive_schema": Mode("archive", schema=True),
    "archive_tablespace": Mode("archive", tablespace=True),
    "archive_schema_and_tablespace": Mode("archive", schema=True, tablespace=True),
    "drop": Mode("drop"),
}


@pytest.mark.parametrize("mode_name", list(MODES))
def test_lifecycle_days_and_weeks(conn: Conn, make_tablespace: MakeTablespace, mode_name: str) -> None:
    mode = MODES[mode_name]
    create_events(conn)
    created = select(conn, "create_range_partitions", "ev", "daily", premake=PREMAKE, now_at=BASE)
    first = BASE.date()
    model = Model(attached=[first + timedelta(days=i) for i in range(PREMAKE + 1)])
    assert [r["partition"] for r in created] == [f"public.{day_name('ev', d)}" for d in model.attached]

    policy: dict[str, Any] = {"retention": "3 days", "retention_action": mode.action}
    attach_ts = archive_ts = None
    if mode.schema:
        conn.execute("CREATE SCHEMA archive")
        policy["archive_schema"] = "archive"
    if mode.tablespace:
        attach_ts, archive_ts = make_tablespace("attach"), make_tablespace("archive")
        policy |= {"archive_tablespace": archive_ts, "tablespace": attach_ts}
    cfg = select(conn, "set_policy", "ev", **policy)
    assert cfg[0]["retention"] == "3 days"
    assert cfg[0]["retention_action"] == mode.action

    # rows in every partition, including the future ones
    for d in model.attached:
        model.rows[d] = rows_per_day(d)
        insert_day(conn, d, model.rows[d])

    oids: dict[date, int] = {}
    now = BASE
    for advance in ADVANCES:
        now += timedelta(days=advance)
        for t in tables(conn, "ev_p%").values():
            if t.is_partition:
                oids[date(int(t.name[4:8]), int(t.name[8:10]), int(t.name[10:12]))] = t.oid

        # the function: creates ahead, reports what retention is due
        new = [
            model.attached[-1] + timedelta(days=i)
            for i in range(1, (now.date() - model.attached[-1]).days + PREMAKE + 1)
        ]
        kept_before = model.attached + new
        due = [
            d
            for d in kept_before[:-1]
            if datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1) <= now - RETENTION
        ]
        result = select(conn, "run_maintenance", "ev", now_at=now)
        assert [(r["parent_table"], r["action"], r["partition"]) for r in result] == (
            [("ev", "created", f"public.{day_name('ev', d)}") for d in new]
            + [("ev", "retention due", f"public.{day_name('ev', d)}") for d in due]
        )
        for d in new:
            model.rows[d] = rows_per_day(d)
            insert_day(conn, d, model.rows[d])
        for t in tables(conn, "ev_p%").values():
            if t.is_partition:
                oids[date(int(t.name[4:8]), int(t.name[8:10]), int(t.name[10:12]))] = t.oid

        # the procedure: the same lock-light part (nothing left to create), then retention
        notices = call(conn, "run_maintenance_proc", "ev", now_at=now)
        model.attached = [d for d in kept_before if d not in due]
        model.detached += due
        steps_per_partition = 1 if mode.action == "detach" else 2
        assert len([n for n in notices if n.startswith("pgpart:")]) == steps_per_partition * len(due)

        # partitions ahead: the slot of now plus PREMAKE, nothing expired left
        assert attached(conn, "ev") == [Part(day_name("ev", d), day_bound(d), False) for d in model.attached]
        assert model.attached[-1] == now.date() + timedelta(days=PREMAKE)
        found = tables(conn, "ev_p%")
        for d in model.attached:
            t = found[day_name("ev", d)]
            assert (t.schema, t.is_partition) == ("public", True)
            assert count(conn, "public", t.name) == model.rows[d], d
            if attach_ts is not None and d > first + timedelta(days=PREMAKE):
                # created after the policy named an attach tablespace: there, indexes too
                assert (t.tablespace, t.index_tablespaces) == (attach_ts, (attach_ts, attach_ts)), t

        # every expired partition where the policy sends it, its rows all there
        for d in model.detached:
            name = day_name("ev", d)
            if mode.action == "drop":
                assert name not in found
                continue
            t = found[name]
            assert t.oid == oids[d]
            assert not t.is_partition
            assert t.schema == ("archive" if mode.schema else "public")
            expected_ts = archive_ts if mode.tablespace else "pg_default"
            assert t.tablespace == expected_ts
            assert t.index_tablespaces == (expected_ts, expected_ts), t  # both indexes kept, moved with the table
            assert count(conn, t.schema, name) == model.rows[d], d

        total = count(conn, "public", "ev", only=False)
        kept = sum(model.rows[d] for d in model.attached)
        assert total == kept

    assert len(model.detached) > 10

    # the journal: one detach per expired partition, each with what followed
    detaches = log(conn, "ev", "detach")
    assert sorted(int(r["detail"]["partition_oid"]) for r in detaches) == sorted(oids[d] for d in model.detached)
    assert {r["detail"]["then"] for r in detaches} == {mode.action}
    assert {r["outcome"] for r in detaches} == {"ok"}
    follow = log(conn, "ev", mode.action) if mode.action != "detach" else []
    if mode.action == "detach":
        assert log(conn, "ev", "archive") == []
        assert log(conn, "ev", "drop") == []
    else:
        assert sorted(int(r["detail"]["partition_oid"]) for r in follow) == sorted(oids[d] for d in model.detached)
        for r in follow:
            detach_id = next(x["id"] for x in detaches if x["detail"]["partition_oid"] == r["detail"]["partition_oid"])
            assert r["id"] > detach_id  # archived or dropped after the detach was journaled
    if mode.action == "archive":
        assert {r["detail"]["schema"] for r in follow} == {"archive" if mode.schema else None}
        assert {r["detail"]["tablespace"] for r in follow} == {archive_ts}
    assert [r for r in log(conn, "ev") if r["outcome"] != "ok"] == []
    # the parent was analyzed after the changes (analyze_after is on by default)
    assert conn.execute("SELECT EXISTS (SELECT 1 FROM pg_statistic WHERE starelid = 'ev'::regclass)").fetchone() == (
        True,
    )
    # nothing left to do at the last now_at
    assert select(conn, "run_maintenance", "ev", now_at=now) == []
    assert select(conn, "detach_and_archive", "ev", now_at=now, dry_run=True) == []


def test_retention_boundary_is_calendar_arithmetic_in_the_zone(conn: Conn) -> None:
    # New York: DST starts 2024-03-10 02:00, so that local day lasts 23 hours
    create_events(conn)
    select(
        conn,
        "create_range_partitions",
        "ev",
        "daily",
        premake=5,
        time_zone="America/New_York",
        now_at="2024-03-08 12:00-05",
    )
    select(conn, "set_policy", "ev", retention="1 day")

    def due(now_at: str) -> list[str]:
        return [
            r["partition"]
            for r in select(conn, "detach_and_archive", "ev", now_at=now_at, dry_run=True)
            if r["action"] == "detach"
        ]

    # local midnight of the 11th minus one calendar day is the upper bound of the 9th: expired (<=)
    assert due("2024-03-11 00:00:00-04") == ["public.ev_p20240308", "public.ev_p20240309"]
    assert due("2024-03-10 23:59:59.999999-04") == ["public.ev_p20240308"]
    # in UTC: the 9th ends at 05:00Z on the 10th
    assert due("2024-03-11 04:00:00+00") == ["public.ev_p20240308", "public.ev_p20240309"]


def test_newest_partition_never_expires(conn: Conn) -> None:
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    select(conn, "set_policy", "ev", retention="1 day", retention_action="drop")
    plan = select(conn, "detach_and_archive", "ev", now_at="2025-01-01 00:00+00", dry_run=True)
    assert [(r["action"], r["partition"]) for r in plan] == [
        ("detach", "public.ev_p20240310"),
        ("drop", "public.ev_p20240310"),
        ("detach", "public.ev_p20240311"),
        ("drop", "public.ev_p20240311"),
        ("detach", "public.ev_p20240312"),
        ("drop", "public.ev_p20240312"),
        ("analyze", None),
    ]
    call(conn, "detach_and_archive_proc", "ev", now_at="2025-01-01 00:00+00")
    assert [p.name for p in attached(conn, "ev")] == ["ev_p20240313"]
    assert select(conn, "detach_and_archive", "ev", now_at="2030-01-01 00:00+00", dry_run=True) == []


def test_integer_key_retention_below_the_highest_key(conn: Conn) -> None:
    create_events(conn, key_type="bigint")
    created = select(conn, "create_range_partitions", "ev", "1000", premake=2)
    assert [r["partition"] for r in created] == ["public.ev_p0", "public.ev_p1000", "public.ev_p2000"]
    conn.execute("INSERT INTO ev (id, payload) SELECT g, 'seed' FROM generate_series(0, 2999) AS g")
    # the highest key (2999) is in slot 2000: two more ahead
    assert [(r["action"], r["partition"]) for r in select(conn, "run_maintenance", "ev")] == [
        ("created", "public.ev_p3000"),
        ("created", "public.ev_p4000"),
    ]
    conn.execute("INSERT INTO ev (id, payload) SELECT g, 'seed' FROM generate_series(3000, 4000) AS g")

    # highest key 4000: retention 2001 keeps what ends above 1999
    select(conn, "set_policy", "ev", retention="2001", retention_action="drop")
    result = select(conn, "run_maintenance", "ev")
    assert [(r["action"], r["partition"]) for r in result] == [
        ("created", "public.ev_p5000"),
        ("created", "public.ev_p6000"),
        ("retention due", "public.ev_p0"),
    ]
    # retention 2000: the partition ending exactly at 2000 goes too
    select(conn, "set_policy", "ev", retention="2000")
    assert [(r["action"], r["partition"]) for r in select(conn, "run_maintenance", "ev")] == [
        ("retention due", "public.ev_p0"),
        ("retention due", "public.ev_p1000"),
    ]
    call(conn, "run_maintenance_proc", "ev")
    assert [p.name for p in attached(conn, "ev")] == ["ev_p2000", "ev_p3000", "ev_p4000", "ev_p5000", "ev_p6000"]
    assert next(p.bound for p in attached(conn, "ev")) == "FOR VALUES FROM ('2000') TO ('3000')"
    assert sorted(tables(conn, "ev_p%")) == ["ev_p2000", "ev_p3000", "ev_p4000", "ev_p5000", "ev_p6000"]
    assert [count(conn, "public", f"ev_p{k}") for k in (2000, 3000, 4000, 5000, 6000)] == [1000, 1000, 1, 0, 0]
    assert len(log(conn, "ev", "drop")) == 2
    assert select(conn, "run_maintenance", "ev") == []


def test_maintenance_of_every_managed_parent_by_weeks(conn: Conn) -> None:
    # no parent given: every managed parent with automatic maintenance on
    create_events(conn, "ev")
    create_events(conn, "wk")
    create_events(conn, "off")
    select(conn, "create_range_partitions", "ev", "daily", premake=1, now_at=BASE)
    select(conn, "create_range_partitions", "wk", "weekly", premake=2, now_at=BASE)  # BASE is a Sunday
    select(conn, "create_range_partitions", "off", "daily", premake=1, now_at=BASE)
    select(conn, "set_policy", "wk", retention="2 weeks", retention_action="drop")
    select(conn, "set_policy", "off", automatic_maintenance=False, retention="1 day")
    conn.execute(
        "INSERT INTO wk (created, payload) SELECT %s::timestamptz + g * interval '1 day', 'seed' "
        "FROM generate_series(-6, 14) AS g",
        [BASE],
    )
    assert [p.name for p in attached(conn, "wk")] == ["wk_p20240304", "wk_p20240311", "wk_p20240318"]
    off_before = attached(conn, "off")

    now = BASE + timedelta(weeks=2)  # Sunday 24 March: the week of the 18th plus two
    result = select(conn, "run_maintenance", now_at=now)
    assert [(r["parent_table"], r["action"], r["partition"]) for r in result] == (
        [("ev", "created", f"public.ev_p202403{d}") for d in range(12, 26)]
        + [("wk", "created", "public.wk_p20240325"), ("wk", "created", "public.wk_p20240401")]
    )
    call(conn, "run_maintenance_proc", now_at=now)  # nothing expired yet: the week of the 4th ends on the 11th
    assert next(p.name for p in attached(conn, "wk")) == "wk_p20240304"

    now += timedelta(weeks=1)  # the 31st: cut-off the 17th at noon
    call(conn, "run_maintenance_proc", now_at=now)
    assert attached(conn, "wk") == [
        Part(
            f"wk_p{d:%Y%m%d}", f"FOR VALUES FROM ('{d} 00:00:00+00') TO ('{d + timedelta(weeks=1)} 00:00:00+00')", False
        )
        for d in (date(2024, 3, 11), date(2024, 3, 18), date(2024, 3, 25), date(2024, 4, 1), date(2024, 4, 8))
    ]
    assert "wk_p20240304" not in tables(conn, "wk_p%")
    assert [count(conn, "public", f"wk_p202403{d}") for d in (11, 18)] == [7, 7]
    assert [p.name for p in attached(conn, "ev")][-1] == "ev_p20240401"
    assert attached(conn, "off") == off_before  # automatic maintenance off: left alone
    assert log(conn, "off", "detach") == []


def test_maintenance_catches_up_after_a_long_pause(conn: Conn) -> None:
    # ten days without maintenance on an hourly grid: 240 slots missing, more
    # than one transaction creates; maintenance creates a bounded number per
    # run and the next runs catch up, without failing
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "hourly", premake=2, now_at=BASE)
    now = BASE + timedelta(days=10)
    actions: list[str] = []
    for _ in range(5):
        rows = select(conn, "run_maintenance", "ev", now_at=now)
        actions += [r["action"] for r in rows]
        if rows == []:
            break
    assert "error" not in actions
    assert actions.count("created") == 240
    parts = attached(conn, "ev")
    assert parts[-1].name == f"ev_p{now + timedelta(hours=2):%Y%m%d_%H%M}"
    assert len(parts) == 3 + 240
    assert [r for r in log(conn, "ev") if r["outcome"] != "ok"] == []


# ---------------------------------------------------------------- the function form and its plan


def _plan(conn: Conn, now_at: str, **kw: Any) -> list[dict[str, Any]]:
    return select(conn, "detach_and_archive", "ev", now_at=now_at, dry_run=True, **kw)


def _without_number(steps: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["partition"], s["action"], s["statement"], s["locks"], s["top_level"]) for s in steps]


def test_function_form_performs_exactly_one_step_per_call(conn: Conn) -> None:
    now_at = "2024-03-13 12:00+00"
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    insert_day(conn, date(2024, 3, 10), 5)
    insert_day(conn, date(2024, 3, 11), 7)
    conn.execute("CREATE SCHEMA archive")
    select(conn, "set_policy", "ev", retention="1 day", retention_action="archive", archive_schema="archive")

    before = snapshot(conn)
    plan = _plan(conn, now_at)
    assert _plan(conn, now_at) == plan
    assert snapshot(conn) == before  # a dry run changes nothing, not even the log
    assert [s["step"] for s in plan] == list(range(1, len(plan) + 1))
    assert [(s["action"], s["partition"]) for s in plan] == [
        ("detach", "public.ev_p20240310"),
        ("archive", "public.ev_p20240310"),
        ("detach", "public.ev_p20240311"),
        ("archive", "public.ev_p20240311"),
        ("analyze", None),
    ]
    assert {s["top_level"] for s in plan} == {False}
    detach = plan[0]["locks"]
    assert "ACCESS EXCLUSIVE on public.ev (until commit)" in detach
    assert "ACCESS EXCLUSIVE on public.ev_p20240310" in detach
    assert "ACCESS EXCLUSIVE on public.ev_p20240310 (detached)" in plan[1]["locks"]

    done: list[tuple[Any, ...]] = []
    while True:
        remaining = _plan(conn, now_at)
        result = select(conn, "detach_and_archive", "ev", now_at=now_at)  # its own transaction (autocommit)
        if not result:
            break
        assert len(result) == 1
        assert result[0]["step"] == 1
        assert _without_number(result) == _without_number(remaining[:1])
        done += _without_number(result)
        # what is left is the rest of the plan, in the same order (analyze only after another step)
        rest = remaining[1:] if any(s["action"] != "analyze" for s in remaining[1:]) else []
        assert _without_number(_plan(conn, now_at)) == _without_number(rest)
        if len(done) == 1:
            # only the detach happened: the table waits in public for its archive step
            t = tables(conn, "ev_p20240310")["ev_p20240310"]
            assert (t.schema, t.is_partition) == ("public", False)
        assert len(done) <= 4
    assert done == _without_number(plan[:4])  # everything but analyze, one call each
    found = tables(conn, "ev_p%")
    assert [(n, t.schema) for n, t in found.items() if not t.is_partition] == [
        ("ev_p20240310", "archive"),
        ("ev_p20240311", "archive"),
    ]
    assert count(conn, "archive", "ev_p20240310") == 5
    assert count(conn, "archive", "ev_p20240311") == 7
    assert _plan(conn, now_at) == []


def test_detach_locks_listed_once_each(conn: Conn) -> None:
    create_events(conn)
    conn.execute("CREATE TABLE ref (id int PRIMARY KEY)")
    conn.execute("ALTER TABLE ev ADD COLUMN ref_id int REFERENCES ref (id)")
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE, default_partition=True)
    select(conn, "set_policy", "ev", retention="1 day")
    plan = _plan(conn, "2024-03-12 12:00+00")
    assert [(s["action"], s["partition"]) for s in plan] == [("detach", "public.ev_p20240310"), ("analyze", None)]
    locks = [lock.strip() for lock in plan[0]["locks"].split(", ")]
    # documented order: parent, tables linked by foreign keys, default, partition
    assert locks == [
        "ACCESS EXCLUSIVE on public.ev (until commit)",
        "SHARE ROW EXCLUSIVE on public.ref (foreign key)",
        "ACCESS EXCLUSIVE on public.ev_default (default partition)",
        "ACCESS EXCLUSIVE on public.ev_p20240310",
    ]


def test_online_plan(conn: Conn) -> None:
    now_at = "2024-03-12 12:00+00"
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    insert_day(conn, date(2024, 3, 10), 4)
    select(conn, "set_policy", "ev", retention="1 day", retention_action="drop")

    before = snapshot(conn)
    plan = _plan(conn, now_at, online=True)
    assert snapshot(conn) == before
    assert [(s["action"], s["partition"], s["top_level"]) for s in plan] == [
        ("journal", "public.ev_p20240310", False),
        ("detach", "public.ev_p20240310", True),
        ("drop", "public.ev_p20240310", False),
        ("analyze", None, False),
    ]
    assert plan[1]["statement"] == "ALTER TABLE public.ev DETACH PARTITION public.ev_p20240310 CONCURRENTLY"
    assert "SHARE UPDATE EXCLUSIVE" in plan[1]["locks"]
    assert "ACCESS EXCLUSIVE on public.ev " not in plan[1]["locks"]

    # online without dry_run: refused, nothing changed
    with pytest.raises(errors.FeatureNotSupported):
        select(conn, "detach_and_archive", "ev", now_at=now_at, online=True)
    assert snapshot(conn) == before

    # a client runs the plan, one autocommit statement per step, the detach at top level
    for s in plan:
        conn.execute(s["statement"])
    assert [p.name for p in attached(conn, "ev")] == ["ev_p20240311", "ev_p20240312", "ev_p20240313"]
    assert "ev_p20240310" not in tables(conn, "ev_p%")
    assert [r["detail"]["then"] for r in log(conn, "ev", "detach")] == ["drop"]
    assert len(log(conn, "ev", "drop")) == 1
    assert _plan(conn, now_at, online=True) == []


def test_online_plan_with_a_default_partition_detaches_plainly(conn: Conn) -> None:
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE, default_partition=True)
    select(conn, "set_policy", "ev", retention="1 day")
    plan = _plan(conn, "2024-03-12 12:00+00", online=True)
    assert [(s["action"], s["partition"], s["top_level"]) for s in plan] == [
        ("detach", "public.ev_p20240310", False),
        ("analyze", None, False),
    ]
    assert "CONCURRENTLY" not in plan[0]["statement"]
    assert plan[0]["statement"].startswith("SELECT pgpart._detach_partition(")
    assert "ACCESS EXCLUSIVE on public.ev_default (default partition)" in plan[0]["locks"]
    assert _plan(conn, "2024-03-12 12:00+00", online=True) == _plan(conn, "2024-03-12 12:00+00")


def test_online_detach_lists_the_referenced_table_it_locks(conn: Conn) -> None:
    # DETACH ... CONCURRENTLY takes SHARE ROW EXCLUSIVE on a table the parent
    # references (a session holding it makes the detach time out)
    create_events(conn)
    conn.execute("CREATE TABLE ref (id int PRIMARY KEY)")
    conn.execute("ALTER TABLE ev ADD COLUMN ref_id int REFERENCES ref (id)")
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    select(conn, "set_policy", "ev", retention="1 day")
    plan = _plan(conn, "2024-03-12 12:00+00", online=True)
    detach = next(s for s in plan if s["action"] == "detach")
    assert detach["top_level"]
    assert "public.ref" in detach["locks"]


# ---------------------------------------------------------------- detach pending


def _leave_pending(connect: Connect, partition: str) -> Conn:
    """Makes DETACH ... CONCURRENTLY of PARTITION stop half-way: a reader
    transaction on the parent (returned, still open) makes its wait for older
    snapshots outlast a statement_timeout."""
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM ev")
    detacher = connect()
    detacher.execute("SET statement_timeout = '500ms'")
    with pytest.raises(errors.QueryCanceled):
        detacher.execute(f"ALTER TABLE ev DETACH PARTITION {partition} CONCURRENTLY")
    detacher.close()
    return reader


def _pending(conn: Conn) -> list[str]:
    rows = conn.execute("SELECT partition::text FROM pgpart.partition_info('ev') WHERE detach_pending ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


def test_detach_pending_is_shown_and_finalized_by_the_next_run(connect: Connect) -> None:
    conn = connect()
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    insert_day(conn, date(2024, 3, 10), 6)
    now_at = "2024-03-11 12:00+00"
    select(conn, "run_maintenance", "ev", now_at=now_at)

    reader = _leave_pending(connect, "ev_p20240310")
    assert _pending(conn) == ["ev_p20240310"]
    findings = select(conn, "check", "ev", now_at=now_at)
    pending = [f for f in findings if f["partition"] == "ev_p20240310"]
    assert len(pending) == 1
    assert "pending" in pending[0]["problem"]
    assert "FINALIZE" in pending[0]["fix"]
    assert [f for f in findings if f["severity"] == "urgent"] == []

    # while the reader is there, the finalize cannot get its locks: skipped, nothing changed
    result = select(conn, "run_maintenance", "ev", now_at=now_at, lock_timeout="20ms", lock_retries=1)
    assert [(r["action"], r["partition"]) for r in result] == [("skipped", "public.ev_p20240310")]
    assert _pending(conn) == ["ev_p20240310"]
    skipped = log(conn, "ev", "finalize")
    assert [(r["outcome"], r["detail"]["sqlstate"]) for r in skipped] == [("skipped", "55P03")]

    reader.rollback()
    result = select(conn, "run_maintenance", "ev", now_at=now_at)
    assert [(r["action"], r["partition"]) for r in result] == [("finalized", "public.ev_p20240310")]
    assert _pending(conn) == []
    assert [p.name for p in attached(conn, "ev")] == ["ev_p20240311", "ev_p20240312", "ev_p20240313", "ev_p20240314"]
    t = tables(conn, "ev_p20240310")["ev_p20240310"]
    assert not t.is_partition
    assert count(conn, "public", "ev_p20240310") == 6
    assert [r["outcome"] for r in log(conn, "ev", "finalize")] == ["skipped", "ok"]
    assert [f for f in select(conn, "check", "ev", now_at=now_at) if f["partition"] == "ev_p20240310"] == []
    assert select(conn, "run_maintenance", "ev", now_at=now_at) == []


def test_detach_pending_in_the_middle_is_finalized(connect: Connect) -> None:
    # the pending partition is not the oldest: once finalized, its slot is a
    # gap that creation would fill with a table of the same name
    conn = connect()
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    insert_day(conn, date(2024, 3, 11), 3)
    reader = _leave_pending(connect, "ev_p20240311")
    reader.rollback()
    # two days on, the freed slot lies below the window: a gap whose name the
    # detached table holds, left alone (check() reports the gap)
    result = select(conn, "run_maintenance", "ev", now_at=BASE + timedelta(days=2))
    assert "error" not in [r["action"] for r in result]
    assert ("finalized", "public.ev_p20240311") in [(r["action"], r["partition"]) for r in result]
    assert _pending(conn) == []
    assert count(conn, "public", "ev_p20240311") == 3
    assert [r for r in log(conn, "ev") if r["outcome"] == "error"] == []


def test_interrupted_online_retention_is_finished_by_the_procedure(connect: Connect) -> None:
    # a client ran the online plan but its DETACH CONCURRENTLY was cancelled
    # half-way: the journal says what must follow, the next run does it
    conn = connect()
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    insert_day(conn, date(2024, 3, 10), 6)
    conn.execute("CREATE SCHEMA archive")
    select(conn, "set_policy", "ev", retention="1 day", retention_action="archive", archive_schema="archive")
    now_at = "2024-03-12 12:00+00"
    plan = _plan(conn, now_at, online=True)
    assert [s["action"] for s in plan] == ["journal", "detach", "archive", "analyze"]
    conn.execute(plan[0]["statement"])
    reader = _leave_pending(connect, "ev_p20240310")
    assert plan[1]["statement"].endswith("CONCURRENTLY")
    assert _pending(conn) == ["ev_p20240310"]
    # the journal says what follows: the same plan finishes the detach and archives
    assert [s["action"] for s in _plan(conn, now_at)][:2] == ["finalize", "archive"]
    reader.rollback()

    call(conn, "detach_and_archive_proc", "ev", now_at=now_at)
    assert _pending(conn) == []
    t = tables(conn, "ev_p20240310")["ev_p20240310"]
    assert (t.schema, t.is_partition) == ("archive", False)
    assert count(conn, "archive", "ev_p20240310") == 6
    assert [r["action"] for r in log(conn, "ev") if r["action"] in ("detach", "finalize", "archive")] == [
        "detach",
        "finalize",
        "archive",
    ]
    assert _plan(conn, now_at) == []


def test_table_detached_by_an_interrupted_run_is_reported_due(connect: Connect) -> None:
    # a retention run that stopped after its detach: maintenance reports the
    # table as due, so a client acting on 'retention due' finishes it
    conn = connect()
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=3, now_at=BASE)
    select(conn, "set_policy", "ev", retention="1 day", retention_action="drop")
    now_at = "2024-03-12 12:00+00"
    first = select(conn, "detach_and_archive", "ev", now_at=now_at)
    assert [(s["action"], s["partition"]) for s in first] == [("detach", "public.ev_p20240310")]
    due = [(r["action"], r["partition"], r["detail"]) for r in select(conn, "run_maintenance", "ev", now_at=now_at)]
    assert ("retention due", "public.ev_p20240310", "detached, then drop") in due
    call(conn, "detach_and_archive_proc", "ev", now_at=now_at)
    assert tables(conn, "ev_p20240310") == {}
