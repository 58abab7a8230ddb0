"""Moving rows out of the default partition, planned before it is done
(issue 15): pgpart.move_default_plan lists the ranges move_default_rows
would create and move into, in its order, with exact row counts, and
changes nothing; the procedure's dry_run NOTICEs that plan, moves and
commits nothing (so it runs inside a transaction block too); the real run
then does exactly the planned ranges and reports "range k of n" with the
rows moved so far; the client and the CLI carry the same plan and total."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

import pgpart
from catalog import count, log, snapshot
from cli_runner import dsn
from cli_runner import pgpart as pgpart_cli
from clock import UTC
from fix_pg import Connect
from pgcall import call, select
from pgcluster import PgServer
from pgpart.errors import UndefinedTableError
from sessions import wait_until_waiting
from tables import create_events

Conn = psycopg.Connection[Any]

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)

# rows in the default: two past days, one live day after premake, and the
# days far ahead; (lower bound, rows) per range, in the order they move
ROWS = {
    "2024-03-07 05:00+00": 2,
    "2024-03-08 23:59:59.999999+00": 3,  # the last microsecond of its day
    "2024-03-13 00:00+00": 1,  # the first microsecond of its day (after premake: live)
    "2024-04-01 10:00+00": 4,
}
PLAN = [
    (1, "public.ev_p20240307", "2024-03-07 00:00:00+00", "2024-03-08 00:00:00+00", 2, None),
    (2, "public.ev_p20240308", "2024-03-08 00:00:00+00", "2024-03-09 00:00:00+00", 3, None),
    (3, "public.ev_p20240313", "2024-03-13 00:00:00+00", "2024-03-14 00:00:00+00", 1, None),
    (4, "public.ev_p20240401", "2024-04-01 00:00:00+00", "2024-04-02 00:00:00+00", 4, None),
]


def setup(conn: Conn, name: str = "ev") -> None:
    """NAME: daily partitions for today and tomorrow, a default, and ROWS in the default."""
    create_events(conn, name)
    parent = conn.execute("SELECT quote_ident(%s)", [name]).fetchone()[0]  # type: ignore[index]
    select(conn, "create_range_partitions", parent, "daily", premake=1, default_partition=True, now_at=NOW)
    for when, n in ROWS.items():
        conn.execute(
            psycopg.sql.SQL(
                "INSERT INTO {} (created, payload) SELECT %s::timestamptz, 'old' FROM generate_series(1, %s)"
            ).format(psycopg.sql.Identifier(name)),
            [when, n],
        )


def plan(conn: Conn, parent: str = "ev", **named: Any) -> list[tuple[Any, ...]]:
    """pgpart.move_default_plan(PARENT, now_at => NOW, ...) as tuples."""
    args = "".join(f", {k} => %({k})s" for k in named)
    return conn.execute(
        f"SELECT step, partition, lower_bound, upper_bound, rows_to_move, problem"
        f" FROM pgpart.move_default_plan(%(parent)s::regclass, now_at => %(now)s{args})",
        {"parent": parent, "now": NOW, **named},
    ).fetchall()


def test_plan_lists_the_ranges_in_order_with_exact_counts_and_changes_nothing(conn: Conn) -> None:
    setup(conn)
    before = snapshot(conn)
    assert plan(conn) == PLAN
    # count_rows => false: the same ranges, no counts
    assert plan(conn, count_rows=False) == [(*p[:4], None, None) for p in PLAN]
    assert snapshot(conn) == before
    assert count(conn, "public", "ev_default") == sum(ROWS.values())

    # the real moves are exactly the planned ranges, in the planned order
    moved = []
    while result := select(conn, "move_default_range", "ev", now_at=NOW):
        moved.append(tuple(result[0].values()))
    assert moved == [(p[1], p[2], p[3], p[4]) for p in PLAN]
    assert plan(conn) == []
    assert count(conn, "public", "ev_default") == 0


def test_dry_run_notices_the_plan_and_moves_nothing(conn: Conn) -> None:
    setup(conn)
    before = snapshot(conn)
    notices = call(conn, "move_default_rows", "ev", now_at=NOW, dry_run=True)
    assert notices == [
        "pgpart: dry run: range 1: would move 2 rows into public.ev_p20240307"
        " (2024-03-07 00:00:00+00 to 2024-03-08 00:00:00+00)",
        "pgpart: dry run: range 2: would move 3 rows into public.ev_p20240308"
        " (2024-03-08 00:00:00+00 to 2024-03-09 00:00:00+00)",
        "pgpart: dry run: range 3: would move 1 rows into public.ev_p20240313"
        " (2024-03-13 00:00:00+00 to 2024-03-14 00:00:00+00)",
        "pgpart: dry run: range 4: would move 4 rows into public.ev_p20240401"
        " (2024-04-01 00:00:00+00 to 2024-04-02 00:00:00+00)",
        "pgpart: dry run: would move 10 rows out of the default partition of public.ev into 4 partitions"
        " (exact counts now; nothing moved)",
    ]
    assert snapshot(conn) == before
    assert log(conn, "ev", "move_default_range") == []


def test_dry_run_inside_a_transaction_block_commits_nothing(conn: Conn, connect: Connect) -> None:
    setup(conn)
    before = snapshot(conn)
    inside = connect(autocommit=False)
    inside.execute("SELECT 1")  # a transaction is open
    notices = call(inside, "move_default_rows", "ev", now_at=NOW, dry_run=True)
    assert len(notices) == 5
    assert inside.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    inside.rollback()
    assert snapshot(conn) == before
    # the real run there is still refused up front
    inside.execute("SELECT 1")
    with pytest.raises(errors.ActiveSqlTransaction):
        call(inside, "move_default_rows", "ev", now_at=NOW)
    inside.rollback()
    with pytest.raises(errors.InvalidParameterValue, match="dry_run must not be NULL"):
        call(conn, "move_default_rows", "ev", now_at=NOW, dry_run=None)


def test_progress_says_range_k_of_n_and_the_rows_so_far(conn: Conn) -> None:
    setup(conn)
    notices = call(conn, "move_default_rows", "ev", now_at=NOW)
    assert notices == [
        "pgpart: range 1 of 4: moved 2 rows into public.ev_p20240307"
        " (2024-03-07 00:00:00+00 to 2024-03-08 00:00:00+00); 2 rows moved so far",
        "pgpart: range 2 of 4: moved 3 rows into public.ev_p20240308"
        " (2024-03-08 00:00:00+00 to 2024-03-09 00:00:00+00); 5 rows moved so far",
        "pgpart: range 3 of 4: moved 1 rows into public.ev_p20240313"
        " (2024-03-13 00:00:00+00 to 2024-03-14 00:00:00+00); 6 rows moved so far",
        "pgpart: range 4 of 4: moved 4 rows into public.ev_p20240401"
        " (2024-04-01 00:00:00+00 to 2024-04-02 00:00:00+00); 10 rows moved so far",
        "pgpart: moved 10 rows out of the default partition of public.ev into 4 partitions",
    ]
    assert count(conn, "public", "ev_default") == 0
    # each range committed on its own: one journal entry each, in the planned order
    assert [r["detail"]["partition"] for r in log(conn, "ev", "move_default_range")] == [p[1] for p in PLAN]


def test_progress_when_rows_arrive_during_the_run(conn: Conn, connect: Connect) -> None:
    # a writer's row for a new range, committed after the total was planned:
    # the run moves it too, and says so instead of "range 5 of 4"
    setup(conn)
    writer = connect(autocommit=False)
    writer.execute("INSERT INTO ev (created, payload) VALUES ('2024-05-01 10:00+00', 'late')")  # into the default
    mover = connect()
    with ThreadPoolExecutor(max_workers=1) as pool:
        run = pool.submit(call, mover, "move_default_rows", "ev", now_at=NOW, lock_timeout="10s")
        # the first move waits for the writer's lock on the default; then it commits
        wait_until_waiting(conn, mover.info.backend_pid, run.done)
        assert not run.done(), run.result()
        writer.commit()
        notices = run.result()
    assert [n.split(":")[1] for n in notices[:-1]] == [
        " range 1 of 4",
        " range 2 of 4",
        " range 3 of 4",
        " range 4 of 4",
        " range 5 (4 planned at start)",
    ]
    assert notices[4].startswith(
        "pgpart: range 5 (4 planned at start): moved 1 rows into public.ev_p20240501 (2024-05-01 00:00:00+00 to"
    )
    assert notices[-1] == "pgpart: moved 11 rows out of the default partition of public.ev into 5 partitions"
    assert count(conn, "public", "ev_default") == 0


def test_plan_says_where_the_move_would_stop(conn: Conn) -> None:
    setup(conn)
    # a table already named like the third range's partition: the move stops there (42P07)
    conn.execute("CREATE TABLE public.ev_p20240313 (x integer)")
    rows = plan(conn)
    assert [r[:5] for r in rows] == [p[:5] for p in PLAN]
    assert [r[5] for r in rows] == [
        None,
        None,
        "42P07: relation public.ev_p20240313 already exists: the move stops here",
        None,
    ]
    notices = call(conn, "move_default_rows", "ev", now_at=NOW, dry_run=True)
    assert notices[2].endswith("; 42P07: relation public.ev_p20240313 already exists: the move stops here")
    with pytest.raises(errors.DuplicateTable, match=r"public\.ev_p20240313"):
        call(conn, "move_default_rows", "ev", now_at=NOW)
    # the two ranges before it were moved and committed
    assert plan(conn) == [(1, *PLAN[2][1:5], rows[2][5]), (2, *PLAN[3][1:])]


def test_plan_of_a_parent_without_default_or_rows_and_of_a_list_parent(conn: Conn) -> None:
    create_events(conn, "plain")
    select(conn, "create_range_partitions", "plain", "daily", premake=1, now_at=NOW)
    assert plan(conn, "plain") == []
    create_events(conn, "empty")
    select(conn, "create_range_partitions", "empty", "daily", premake=1, default_partition=True, now_at=NOW)
    assert plan(conn, "empty") == []
    assert call(conn, "move_default_rows", "empty", now_at=NOW, dry_run=True) == [
        "pgpart: dry run: would move 0 rows out of the default partition of public.empty into 0 partitions"
        " (exact counts now; nothing moved)"
    ]
    conn.execute("CREATE TABLE li (k text NOT NULL) PARTITION BY LIST (k)")
    select(conn, "create_list_partitions", "li", ["a"], default_partition=True)
    with pytest.raises(errors.InvalidObjectDefinition, match="not by RANGE"):
        plan(conn, "li")


def test_plan_needs_the_owner_and_hostile_names(conn: Conn, owner_conn: Conn, other_conn: Conn) -> None:
    name = 'Ev "x"; drop'
    setup(owner_conn, name)
    quoted = '"Ev ""x""; drop"'
    with pytest.raises(errors.InsufficientPrivilege):
        other_conn.execute("SELECT * FROM pgpart.move_default_plan(%s::regclass, now_at => %s)", [quoted, NOW])
    rows = owner_conn.execute(
        "SELECT partition, rows_to_move FROM pgpart.move_default_plan(%s::regclass, now_at => %s)", [quoted, NOW]
    ).fetchall()
    assert rows == [(f'public."{name.replace(chr(34), 2 * chr(34))}_p{d}"', n) for d, n in
                    [("20240307", 2), ("20240308", 3), ("20240313", 1), ("20240401", 4)]]  # fmt: skip
    notices = call(owner_conn, "move_default_rows", quoted, now_at=NOW)
    assert notices[-1] == f"pgpart: moved 10 rows out of the default partition of public.{quoted} into 4 partitions"


# --- the client and the command line ------------------------------------------------------


def test_client_dry_run_and_total(conn: Conn) -> None:
    setup(conn)
    client = pgpart.Client(conn)
    before = snapshot(conn)
    planned = client.move_default_rows("public.ev", now_at=NOW, dry_run=True)
    assert [(m.number, m.partition, m.lower_bound, m.upper_bound, m.rows_moved, m.problem) for m in planned] == PLAN
    assert {(m.total, m.dry_run) for m in planned} == {(4, True)}
    assert snapshot(conn) == before

    seen: list[tuple[int, int, int]] = []
    moved = client.move_default_rows("public.ev", now_at=NOW, progress=lambda r, n: seen.append((n, r.number, r.total)))
    assert [(m.partition, m.rows_moved) for m in moved] == [(p[1], p[4]) for p in PLAN]
    assert seen == [(1, 1, 4), (2, 2, 4), (3, 3, 4), (4, 4, 4)]
    assert {m.dry_run for m in moved} == {False}
    assert client.move_default_rows("public.ev", now_at=NOW, dry_run=True) == []
    with pytest.raises(UndefinedTableError):
        client.move_default_rows("public.nope", dry_run=True)


def test_cli_maintain_move_default_rows_dry_run(pg: PgServer, dbname: str, conn: Conn) -> None:
    setup(conn)
    before = snapshot(conn)
    args = [*dsn(pg, dbname), "maintain", "public.ev", "--move-default-rows", "--now", NOW.isoformat()]
    dry = pgpart_cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "public.ev: 10 rows to move out of the default partition into 4 partitions (exact counts now)"
    assert re.split(r"\s{2,}", lines[1].strip()) == ["range", "partition", "from", "to", "rows", "problem"]
    assert [re.split(r"\s{2,}", line.strip()) for line in lines[2:6]] == [[str(p[0]), *p[1:4], str(p[4])] for p in PLAN]
    assert snapshot(conn) == before
    as_json = pgpart_cli(*args, "--dry-run", "--json")
    assert as_json.returncode == 0, as_json.stderr
    moves = json.loads(as_json.stdout)["move_default_rows"]
    assert [(m["partition"], m["rows_moved"], m["total"], m["dry_run"]) for m in moves] == [
        (p[1], p[4], 4, True) for p in PLAN
    ]
    assert snapshot(conn) == before

    real = pgpart_cli(*args)
    assert real.returncode == 0, real.stderr
    progress = [line for line in real.stderr.splitlines() if "moved" in line]
    assert progress == [
        f"[{p[0]}] moved {p[4]} rows to {p[1]} ({p[0]} of 4 ranges; {so_far} rows so far)"
        for p, so_far in zip(PLAN, [2, 5, 6, 10], strict=True)
    ]
    assert count(conn, "public", "ev_default") == 0
    with conn.cursor(row_factory=dict_row) as cur:
        assert cur.execute("SELECT count(*) AS n FROM ev WHERE payload = 'old'").fetchone() == {"n": 10}
