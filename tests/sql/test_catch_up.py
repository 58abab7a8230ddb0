"""Full catch-up past the per-transaction cap (issue 15, item 3): one
transaction creates at most 200 tables, so run_maintenance_proc and the
client's maintain run as many transactions as it takes, and an hourly table
nine days behind is caught up with no gap; the dry run plans exactly what
the real run creates, past the cap too, without 54000."""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
import pytest

import pgpart

Conn = psycopg.Connection[Any]

START = "2024-03-01 00:30:00+00"
# nine days and a bit later: 9 * 24 + 5 = 221 hourly slots missing up to
# now, more than the 200 new tables of one transaction, plus premake
LATER = "2024-03-10 05:30:00+00"
PREMAKE = 3


def make_hourly(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("SELECT pgpart.create_range_partitions('ev', '1 hour', premake => %s, now_at => %s)", [PREMAKE, START])


def bounds(conn: Conn) -> list[tuple[str, str]]:
    """(lower, upper) of every partition of ev, in key order."""
    rows = conn.execute(
        "SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid),"
        " 'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)')) AS b"
        " FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'ev'::regclass"
    ).fetchall()
    return sorted((r[0][0], r[0][1]) for r in rows)


def partition_names(conn: Conn) -> set[str]:
    rows = conn.execute(
        "SELECT 'public.' || c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'ev'::regclass"
    ).fetchall()
    return {r[0] for r in rows}


def assert_caught_up(conn: Conn) -> None:
    b = bounds(conn)
    # no gap: each partition starts where the one before ends
    assert all(prev[1] == cur[0] for prev, cur in itertools.pairwise(b)), "a gap is left"
    # from the first partition through the slot of LATER and PREMAKE more
    hours = conn.execute(
        "SELECT extract(epoch FROM (date_trunc('hour', %s::timestamptz) - date_trunc('hour', %s::timestamptz))) / 3600",
        [LATER, START],
    ).fetchone()
    assert hours is not None
    assert len(b) == int(hours[0]) + 1 + PREMAKE


def planned(conn: Conn, online: bool = False) -> set[str]:
    rows = conn.execute(
        "SELECT action, partition, error FROM pgpart.run_maintenance(now_at => %s, dry_run => true, online => %s)",
        [LATER, online],
    ).fetchall()
    assert [r for r in rows if r[0] in ("error", "skipped")] == []  # no 54000, no refusal
    return {r[1] for r in rows if r[0] == "attach"}


def test_the_procedure_catches_up_fully_and_the_dry_run_agrees(conn: Conn) -> None:
    make_hourly(conn)
    before = partition_names(conn)
    plan = planned(conn)
    assert len(plan) > 200  # past the cap of one transaction
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s)", [LATER])
    assert_caught_up(conn)
    assert partition_names(conn) - before == plan
    # caught up: the next run plans nothing and creates nothing
    assert planned(conn) == set()
    logged = conn.execute(
        "SELECT count(*) FROM pgpart.log WHERE action = 'create_range_partitions' AND outcome = 'ok'"
    ).fetchone()
    assert logged is not None
    assert logged[0] >= 3


def test_one_call_of_the_function_stays_under_the_cap(conn: Conn) -> None:
    """run_maintenance itself is one transaction: at most 200 new tables, the
    slot of now first; the next call goes on where it stopped."""
    make_hourly(conn)
    rows = conn.execute("SELECT action FROM pgpart.run_maintenance(now_at => %s)", [LATER]).fetchall()
    assert sum(1 for r in rows if r[0] == "created") == 200
    rows = conn.execute("SELECT action FROM pgpart.run_maintenance(now_at => %s)", [LATER]).fetchall()
    assert 0 < sum(1 for r in rows if r[0] == "created") < 200
    assert_caught_up(conn)


@pytest.mark.parametrize("online", [False, True])
def test_the_client_catches_up_fully_and_its_dry_run_agrees(conn: Conn, online: bool) -> None:
    make_hourly(conn)
    before = partition_names(conn)
    client = pgpart.Client(conn)
    dry = client.maintain(now_at=LATER, dry_run=True, online=online)
    assert not dry.errors
    [(_, steps)] = dry.plans
    plan = {s.partition for s in steps if s.action == "attach"}
    assert len(plan) > 200
    report = client.maintain(now_at=LATER, online=online)
    assert report.ok
    assert_caught_up(conn)
    created = {a.partition for a in report.actions if a.action == "created"}
    assert partition_names(conn) - before == plan == created
