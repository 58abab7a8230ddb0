"""pgpart.run_maintenance(dry_run => true): the plan of all of maintenance,
from the same loop as the real run, and Client.maintain(dry_run=True) built
on it; ensure_range taking every argument of create_range_partitions
(issue 13, item 3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

import pgcall
import pgpart
from fix_pg import Connect
from pgpart import errors

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
EXPIRED = ["public.ev_p20250305", "public.ev_p20250306", "public.ev_p20250307"]


def make_ev(conn: Conn, *, retention_action: str = "archive", analyze_after: bool = True) -> pgpart.Client:
    """ev: daily partitions from 03-05 to 03-11, rows in the first five,
    retention 2 days (at NOW the partitions of 03-05 to 03-07 are expired);
    premake 3 (at NOW, 03-12 and 03-13 are due)."""
    conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts)")
    conn.execute("CREATE INDEX ON public.ev (ts)")
    conn.execute("CREATE SCHEMA archive")
    client = pgpart.Client(conn)
    client.ensure("public.ev", interval="1 day", premake=6, now_at=NOW - 5 * DAY)
    client.ensure(
        "public.ev", premake=3, retention="2 days", retention_action=retention_action,
        archive_schema="archive" if retention_action == "archive" else None, now_at=NOW - 5 * DAY,
    )  # fmt: skip
    client.set_policy("public.ev", analyze_after=analyze_after)
    conn.execute(
        "INSERT INTO public.ev (ts, v) SELECT timestamptz '2025-03-05 06:00+00' + d * interval '1 day', 'old'"
        " FROM generate_series(0, 4) AS d"
    )
    return client


def plan_rows(conn: Conn, **kwargs: Any) -> list[dict[str, Any]]:
    columns = (
        "parent_table::text AS parent_table, step, action, partition, lower_bound, upper_bound,"
        " statement, locks, top_level, detail, error"
    )
    query, params = pgcall.statement("run_maintenance", {**kwargs, "dry_run": True}, columns=columns)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def catalog(conn: Conn) -> list[Any]:
    """Everything a run could change: relations, partitions, policy, log."""
    return [
        conn.execute(
            "SELECT c.oid::regclass::text, c.relkind, c.relispartition FROM pg_class AS c"
            " WHERE c.relnamespace IN ('public'::regnamespace, 'archive'::regnamespace) ORDER BY 1"
        ).fetchall(),
        conn.execute("SELECT inhrelid::regclass::text, inhdetachpending FROM pg_inherits ORDER BY 1").fetchall(),
        conn.execute("SELECT to_jsonb(c)::text FROM pgpart.config AS c ORDER BY parent").fetchall(),
        conn.execute("SELECT count(*) FROM pgpart.log").fetchall(),
    ]


def test_dry_run_changes_nothing_and_runs_read_only(conn: Conn, connect: Connect) -> None:
    make_ev(conn)
    before = catalog(conn)
    reader = connect(autocommit=False)
    reader.execute("SET TRANSACTION READ ONLY")
    rows = plan_rows(reader, parent="public.ev", now_at=NOW)
    reader.rollback()
    assert [r["step"] for r in rows] == list(range(1, len(rows) + 1))
    assert catalog(conn) == before


def test_creation_agrees_with_the_real_run(conn: Conn) -> None:
    make_ev(conn)
    plan = plan_rows(conn, parent="public.ev", now_at=NOW)
    creation = [r for r in plan if r["action"] in ("create table", "attach")]
    assert [r["partition"] for r in creation if r["action"] == "attach"] == [
        "public.ev_p20250312",
        "public.ev_p20250313",
    ]
    with conn.cursor(row_factory=dict_row) as cur:
        done = cur.execute(
            "SELECT * FROM pgpart.run_maintenance('public.ev', %s) WHERE action = 'created'", [NOW]
        ).fetchall()
    # the same partitions, in the same order, made by the same statements
    assert [(r["partition"], r["statement"]) for r in done] == [
        (r["partition"], r["statement"]) for r in creation if r["action"] == "create table"
    ]
    assert [(r["lower_bound"], r["upper_bound"]) for r in done] == [
        (r["lower_bound"], r["upper_bound"]) for r in creation if r["action"] == "attach"
    ]
    # the creation now done, a plan has nothing left of it
    assert not [r for r in plan_rows(conn, parent="public.ev", now_at=NOW) if r["action"] == "attach"]


@pytest.mark.parametrize("online", [False, True])
def test_the_whole_plan_agrees_with_the_real_run(conn: Conn, online: bool) -> None:
    client = make_ev(conn)
    report = client.maintain("public.ev", dry_run=True, online=online, now_at=NOW)
    assert report.dry_run
    assert report.ok
    assert report.actions == ()
    [(parent, steps)] = report.plans
    assert parent == "public.ev"
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    retention = [s for s in steps if s.action in ("journal", "detach", "archive", "analyze")]
    expected = ["journal", "detach", "archive"] if online else ["detach", "archive"]
    assert [(s.action, s.partition) for s in retention] == [
        *[(a, p) for p in EXPIRED for a in expected],
        ("analyze", None),
    ]
    assert all(s.top_level == (online and s.action == "detach") for s in steps)
    # creation comes first, retention last, as the real run does them
    assert steps.index(retention[0]) > max(i for i, s in enumerate(steps) if s.action == "attach")

    done = client.maintain("public.ev", online=online, now_at=NOW)
    assert done.ok, done.errors
    assert [a.partition for a in done.actions if a.action == "created"] == [
        s.partition for s in steps if s.action == "attach"
    ]
    # every retention step planned, in order, with the very statement planned
    assert [(a.action, a.partition, a.detail) for a in done.actions if a.action in [*expected, "analyze"]] == [
        (s.action, s.partition, s.statement) for s in retention
    ]
    assert client.maintain("public.ev", dry_run=True, online=online, now_at=NOW).plans == (("public.ev", ()),)


def make_pending(conn: Conn, connect: Connect, client: pgpart.Client) -> None:
    """Leaves the first expired partition "detach pending": an online detach
    interrupted while a reader holds the parent."""
    from sessions import busy_reader  # a reader the detach does not foresee (issue 14)

    with busy_reader(connect, "public.ev"):
        conn.execute("SET statement_timeout = '1s'")
        with pytest.raises(errors.QueryCanceledError):
            client.detach_and_archive("public.ev", now_at=NOW, lock_timeout="10min", lock_retries=0)
        conn.execute("RESET statement_timeout")
    assert [p.partition for p in client.info("public.ev", now_at=NOW) if p.detach_pending] == [
        EXPIRED[0].removeprefix("public.")
    ]


def test_finalize_agrees_with_the_real_run(conn: Conn, connect: Connect) -> None:
    client = make_ev(conn, retention_action="drop", analyze_after=False)
    make_pending(conn, connect, client)
    [(_, steps)] = client.maintain("public.ev", dry_run=True, online=False, now_at=NOW).plans
    assert (steps[0].step, steps[0].action, steps[0].partition) == (1, "finalize", EXPIRED[0])
    assert [s.action for s in steps].count("finalize") == 1
    retention = [(s.action, s.partition, s.statement) for s in steps if s.action in ("detach", "drop")]
    assert [(a, p) for a, p, _ in retention] == [
        ("drop", EXPIRED[0]), ("detach", EXPIRED[1]), ("drop", EXPIRED[1]), ("detach", EXPIRED[2]),
        ("drop", EXPIRED[2]),
    ]  # fmt: skip

    done = client.maintain("public.ev", online=False, now_at=NOW)
    assert done.ok, done.errors
    assert [(a.action, a.partition) for a in done.actions if a.action == "finalized"] == [("finalized", EXPIRED[0])]
    assert [(a.action, a.partition, a.detail) for a in done.actions if a.action in ("detach", "drop")] == retention
    for name in EXPIRED:
        assert conn.execute("SELECT to_regclass(%s)", [name]).fetchone() == (None,)


def test_the_sql_plan_is_the_client_plan_for_every_parent(conn: Conn) -> None:
    client = make_ev(conn)
    conn.execute("CREATE TABLE public.quiet (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    client.ensure("public.quiet", interval="1 day", premake=1, now_at=NOW)
    report = client.maintain(dry_run=True, online=False, now_at=NOW)
    plans = dict(report.plans)
    assert set(plans) == {"ev"}  # quiet has nothing to do
    rows = plan_rows(conn, now_at=NOW)
    assert [(r["parent_table"], r["step"], r["action"], r["partition"], r["statement"]) for r in rows] == [
        ("ev", s.step, s.action, s.partition, s.statement) for s in plans["ev"]
    ]


def test_old_calls_keep_working(conn: Conn) -> None:
    make_ev(conn)
    positional = conn.execute(
        "SELECT parent_table::text, action, partition FROM pgpart.run_maintenance('public.ev', %s, '200ms', 10)"
        " WHERE action = 'created'",
        [NOW],
    ).fetchall()
    assert positional == [("ev", "created", "public.ev_p20250312"), ("ev", "created", "public.ev_p20250313")]
    named = conn.execute(
        "SELECT parent_table::text, action, partition, detail FROM pgpart.run_maintenance("
        "parent => 'public.ev', now_at => %s, lock_timeout => '1s', lock_retries => 3)",
        [NOW],
    ).fetchall()
    assert [(r[1], r[2]) for r in named] == [("retention due", p) for p in EXPIRED]
    conn.execute("CALL pgpart.run_maintenance_proc('public.ev', %s, '200ms', 10)", [NOW])
    assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ev'::regclass").fetchone() == (6,)


def test_online_is_for_a_dry_run_only(conn: Conn) -> None:
    make_ev(conn)
    before = catalog(conn)
    for dry_run, online in (("false", "true"), ("NULL", "false"), ("true", "NULL")):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
            conn.execute(f"SELECT * FROM pgpart.run_maintenance(dry_run => {dry_run}, online => {online})")
        assert info.value.diag.message_hint
    assert catalog(conn) == before


def test_a_failure_the_run_would_meet_is_in_the_plan(conn: Conn) -> None:
    client = make_ev(conn)
    conn.execute("ALTER TABLE public.ev ADD UNIQUE (ts)")
    conn.execute("CREATE TABLE public.child (ts timestamptz REFERENCES public.ev (ts))")
    before = catalog(conn)
    report = client.maintain("public.ev", dry_run=True, online=False, now_at=NOW)
    [failure] = report.errors
    assert isinstance(failure.error, errors.FeatureNotSupportedError)
    assert failure.error.sqlstate == "0A000"
    assert failure.error.hint
    assert "foreign key" in failure.error.message
    assert failure.parent_table == "public.ev"
    # the creation is still planned: retention fails on its own, as in the real run
    [(_, steps)] = report.plans
    assert [s.partition for s in steps if s.action == "attach"] == ["public.ev_p20250312", "public.ev_p20250313"]
    assert not [s for s in steps if s.action == "detach"]
    assert catalog(conn) == before


# --- ensure_range takes what create_range_partitions takes -------------------------


def test_ensure_range_with_subpartition_and_max_new(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.sp (ts timestamptz NOT NULL, region text NOT NULL) PARTITION BY RANGE (ts)")
    sub = '{"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}'
    plan = owner_conn.execute(
        "SELECT action, partition FROM pgpart.ensure_range('public.sp', '1 day', premake => 2,"
        " retention => '30 days', subpartition => %s, max_new => 2, now_at => %s, dry_run => true)",
        [sub, NOW],
    ).fetchall()
    # at most two new partitions in this call: the slot of now first
    assert [p for a, p in plan if a == "attach"] == ["public.sp_p20250310", "public.sp_p20250311"]
    assert plan[-1][0] == "set policy"
    done = owner_conn.execute(
        "SELECT partition FROM pgpart.ensure_range('public.sp', '1 day', premake => 2, retention => '30 days',"
        " subpartition => %s, max_new => 2, now_at => %s)",
        [sub, NOW],
    ).fetchall()
    assert done == [("public.sp_p20250310",), ("public.sp_p20250311",)]
    assert owner_conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'public.sp_p20250310'::regclass ORDER BY 1"
    ).fetchall() == [("sp_p20250310_eu",), ("sp_p20250310_us",)]
    row = owner_conn.execute(
        "SELECT subpartition ->> 'method', retention::text FROM pgpart.config WHERE parent = 'public.sp'::regclass"
    ).fetchone()
    assert row == ("list", "30 days")
    # the next call makes the rest, sub-partitioned as the policy keeps it
    client = pgpart.Client(owner_conn)
    assert client.ensure("public.sp", now_at=NOW).created == ["public.sp_p20250312"]
    assert owner_conn.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.sp_p20250312'::regclass"
    ).fetchone() == (2,)


def test_client_ensure_passes_every_creation_argument(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.hs (id bigint NOT NULL, ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    client = pgpart.Client(owner_conn)
    report = client.ensure(
        "public.hs", interval="1 day", premake=5, now_at=NOW, max_new=2, reloptions=["fillfactor=70"],
        subpartition={"method": "hash", "key": "id", "modulus": 2},
    )  # fmt: skip
    assert report.created == ["public.hs_p20250310", "public.hs_p20250311"]
    leaves = owner_conn.execute(
        "SELECT c.relname, c.reloptions FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'public.hs_p20250310'::regclass ORDER BY 1"
    ).fetchall()
    assert [name for name, _ in leaves] == ["hs_p20250310_h0", "hs_p20250310_h1"]
    assert all(options == ["fillfactor=70"] for _, options in leaves)

    owner_conn.execute("CREATE TABLE public.ik (k bigint NOT NULL) PARTITION BY RANGE (k)")
    assert client.ensure("public.ik", interval="100", premake=1, start="1000").created == [
        "public.ik_p1000",
        "public.ik_p1100",
    ]
    with pytest.raises(errors.InvalidArgumentError):
        client.ensure("public.ik", reloptions="fillfactor=70")


def test_a_newest_partition_that_expired_is_planned_as_the_real_run_drops_it(conn: Conn) -> None:
    # maintenance did not run for longer than the retention: even the newest
    # partition expired. The real run creates the days ahead first, so that
    # partition is no longer the newest and goes; the dry run must say so too
    # (it used to keep it: "never the newest partition")
    conn.execute("CREATE TABLE gone (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute(
        "SELECT pgpart.create_range_partitions('gone', '1 day', premake => 3, now_at => '2026-01-01 00:00+00')"
    )
    conn.execute("SELECT pgpart.set_policy('gone', retention => '3 days', retention_action => 'drop')")
    later = "2026-01-08 00:00+00"
    planned = conn.execute(
        "SELECT partition FROM pgpart.run_maintenance('gone', now_at => %s, dry_run => true)"
        " WHERE action = 'drop' ORDER BY step",
        [later],
    ).fetchall()
    assert [p for (p,) in planned] == [f"public.gone_p2026010{d}" for d in range(1, 5)]
    conn.execute("CALL pgpart.run_maintenance_proc('gone', now_at => %s)", [later])
    left = conn.execute(
        "SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_inherits AS i"
        " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'gone'::regclass"
    ).fetchone()
    assert left is not None
    assert not any(name.removeprefix("public.") in left[0] for (name,) in planned)  # the real run dropped those
    assert "gone_p20260105" in left[0]
