"""run_maintenance_proc and detach_and_archive_proc as a scheduler sees them
(issue 15, items 3-5): a failed table fails the CALL once every table is
done, a table skipped because another run holds it does not, a transaction
block is refused up front with a hint, an empty run says so, dry_run
notices the plan and changes nothing; a missing table is a pgpart error
in the client."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

import pgpart
from fix_pg import Connect
from pgpart import errors

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00:00+00"
# Ten days on: the partitions of 13 to 22 March are due, and with a 3-day
# retention those of 10 to 16 March have expired.
LATER = "2024-03-20 12:00:00+00"


def make_daily(
    conn: Conn, name: str, *, retention: str | None = "3 days", columns: str = "ts timestamptz NOT NULL"
) -> None:
    conn.execute(f"CREATE TABLE {name} ({columns}) PARTITION BY RANGE (ts)")
    conn.execute("SELECT pgpart.create_range_partitions(%s, '1 day', premake => 2, now_at => %s)", [name, NOW])
    if retention is not None:
        conn.execute("SELECT pgpart.set_policy(%s, retention => %s, retention_action => 'drop')", [name, retention])
    conn.execute(
        f"INSERT INTO {name} (ts) SELECT %s::timestamptz + i * interval '1 hour' FROM generate_series(0, 50) AS i",
        [NOW],
    )


def partitions(conn: Conn, parent: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname::text FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass ORDER BY 1",
        [parent],
    ).fetchall()
    return [r[0] for r in rows]


def notices(conn: Conn) -> list[str]:
    seen: list[str] = []
    conn.add_notice_handler(lambda d: seen.append(d.message_primary or ""))
    return seen


def state(conn: Conn) -> tuple[Any, ...]:
    """What a refused or dry run must leave alone: every relation, the log, the policies."""
    return (
        conn.execute(
            "SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ).fetchone(),
        conn.execute("SELECT count(*) FROM pgpart.log").fetchone(),
        conn.execute("SELECT array_agg(c::text ORDER BY parent) FROM pgpart.config AS c").fetchone(),
    )


@pytest.mark.parametrize(
    "statement",
    [
        "CALL pgpart.run_maintenance_proc(now_at => '2024-03-20 12:00+00')",
        "CALL pgpart.detach_and_archive_proc('ev', now_at => '2024-03-20 12:00+00')",
    ],
)
def test_a_transaction_block_is_refused_up_front_with_a_hint(conn: Conn, statement: str) -> None:
    make_daily(conn, "ev")
    before = state(conn)
    with pytest.raises(pg_errors.ActiveSqlTransaction) as info, conn.transaction():
        conn.execute(statement)
    assert "cannot run inside a transaction block" in info.value.diag.message_primary
    assert "outside a transaction block" in (info.value.diag.message_hint or "")
    assert state(conn) == before
    # outside a block it runs
    conn.execute(statement)
    assert "ev_p20240310" not in partitions(conn, "ev")


def test_move_default_rows_in_a_transaction_block_is_refused_up_front(conn: Conn) -> None:
    make_daily(conn, "ev")
    before = state(conn)
    with pytest.raises(pg_errors.ActiveSqlTransaction) as info, conn.transaction():
        conn.execute("CALL pgpart.move_default_rows('ev')")
    assert info.value.diag.message_primary == "pgpart.move_default_rows cannot run inside a transaction block"
    assert "move_default_range" in (info.value.diag.message_hint or "")
    assert state(conn) == before
    conn.execute("CALL pgpart.move_default_rows('ev')")  # outside a block it runs (nothing to move)


def test_a_do_block_at_top_level_may_call_it(conn: Conn) -> None:
    make_daily(conn, "ev")
    conn.execute("DO $$ BEGIN CALL pgpart.run_maintenance_proc(now_at => '2024-03-20 12:00+00'); END $$")
    assert "ev_p20240322" in partitions(conn, "ev")
    assert "ev_p20240310" not in partitions(conn, "ev")


def test_nothing_managed_says_so(conn: Conn) -> None:
    seen = notices(conn)
    conn.execute("CALL pgpart.run_maintenance_proc()")
    assert any("nothing to maintain" in n for n in seen), seen


def test_a_failed_table_fails_the_call_after_the_others_are_done(owner_conn: Conn, conn: Conn) -> None:
    """b's retention is refused (a foreign key references it); a, after it
    in no particular order, is maintained and committed all the same, and
    the CALL then fails naming b only, so pg_cron's history shows it."""
    make_daily(owner_conn, "a")
    make_daily(owner_conn, "b", columns="ts timestamptz NOT NULL, PRIMARY KEY (ts)")
    owner_conn.execute("CREATE TABLE child (ts timestamptz REFERENCES b)")
    with pytest.raises(psycopg.Error) as info:
        conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s)", [LATER])
    assert info.value.sqlstate == "PGM01"
    assert "public.b" in info.value.diag.message_primary
    assert "public.a" not in info.value.diag.message_primary
    assert "pgpart.check()" in (info.value.diag.message_hint or "")
    # a: caught up and its retention applied; b: partitions created, nothing detached
    assert "a_p20240322" in partitions(conn, "a")
    assert "a_p20240310" not in partitions(conn, "a")
    assert "b_p20240322" in partitions(conn, "b")
    assert "b_p20240310" in partitions(conn, "b")
    row = conn.execute("SELECT last_error FROM pgpart.config WHERE parent = 'b'::regclass").fetchone()
    assert row is not None
    assert row[0]
    assert row[0].startswith("0A000")
    codes = [r[0] for r in conn.execute("SELECT code::text FROM pgpart.check(now_at => %s)", [LATER]).fetchall()]
    assert "maintenance_failed" in codes
    # the client's report of the same failure is typed, and the others go on
    report = pgpart.Client(conn).maintain(now_at=LATER, online=False)
    assert [e.parent_table for e in report.errors] == ["b"]


def test_a_table_held_by_another_run_is_skipped_not_failed(conn: Conn, connect: Connect) -> None:
    make_daily(conn, "ev")
    holder = connect()
    holder.execute("SELECT pg_advisory_lock(pgpart.advisory_key('public.ev'::regclass))")
    before = partitions(conn, "ev")
    seen = notices(conn)
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s, lock_timeout => '10ms', lock_retries => 0)", [LATER])
    assert partitions(conn, "ev") == before  # nothing done, and no error raised
    assert any("skipping" in n for n in seen), seen
    outcomes = conn.execute(
        "SELECT DISTINCT outcome FROM pgpart.log WHERE parent = 'ev'::regclass AND id > 0"
    ).fetchall()
    assert ("error",) not in outcomes
    holder.execute("SELECT pg_advisory_unlock_all()")
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s)", [LATER])
    assert "ev_p20240310" not in partitions(conn, "ev")


def test_dry_run_notices_the_plan_and_changes_nothing(conn: Conn) -> None:
    make_daily(conn, "ev")
    before = state(conn)
    plan = conn.execute(
        "SELECT statement FROM pgpart.run_maintenance(now_at => %s, dry_run => true) WHERE statement IS NOT NULL",
        [LATER],
    ).fetchall()
    seen = notices(conn)
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s, dry_run => true)", [LATER])
    assert state(conn) == before
    dry = [n for n in seen if n.startswith("pgpart: dry run:")]
    assert len(dry) == len(plan) > 0
    for (statement,), notice in zip(plan, dry, strict=False):
        assert notice.endswith(statement)
    seen.clear()
    conn.execute("CALL pgpart.detach_and_archive_proc('ev', now_at => %s, dry_run => true)", [LATER])
    assert state(conn) == before
    steps = conn.execute(
        "SELECT statement FROM pgpart.detach_and_archive('ev', now_at => %s, dry_run => true)", [LATER]
    ).fetchall()
    assert [n for n in seen if n.startswith("pgpart: dry run:")]
    assert len(seen) == len(steps)
    with pytest.raises(pg_errors.InvalidParameterValue):
        conn.execute("CALL pgpart.run_maintenance_proc(dry_run => NULL)")


def test_a_missing_table_is_a_pgpart_error_naming_it(conn: Conn) -> None:
    client = pgpart.Client(conn)
    for verb in (client.maintain, client.detach_and_archive):
        with pytest.raises(errors.UndefinedTableError) as info:
            verb("public.no_such_table")  # type: ignore[operator]
        assert "public.no_such_table" in info.value.message
        assert info.value.hint
