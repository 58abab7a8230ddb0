"""A default partition that heals itself (issue 19, item 3): with the
policy's drain_default, one maintenance run (function, procedure, client)
moves the rows of a burst beyond the premake window out of the default
partition into partitions of their own; writers keep writing (they wait at
the parent, never fail); a default above drain_default_max_bytes is left
alone with a finding whose fix works; a run killed between ranges is
finished by the next; off by default."""

from __future__ import annotations

import itertools
import threading
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

import pgpart
from catalog import log
from cli_runner import dsn
from cli_runner import pgpart as pgpart_command
from fix_pg import Connect
from pgcall import call, rows, select, set_policy
from pgcluster import PgServer
from pgpart import cli
from sessions import Writer, wait_until_waiting
from tables import create_events

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00:00+00"
TODAY = date(2024, 3, 10)
BURST = [TODAY + timedelta(days=d) for d in range(10, 21)]  # beyond the premake window (2 days)
PER_DAY = 40
HOSTILE = 'Ev "Drain"; --x'


def qualified(conn: Conn, name: str) -> str:
    """public.NAME as pgpart writes it (format's %I, as a regclass's text)."""
    row = conn.execute("SELECT format('%%I.%%I', 'public', %s::text)", [name]).fetchone()
    assert row is not None
    return str(row[0])


def setup(conn: Conn, name: str = "ev", drain: bool = True, **policy: Any) -> str:
    """NAME: daily partitions for today and 2 ahead, a default partition, the
    burst's rows (PER_DAY a day, days +10..+20) in the default; drain_default
    set as DRAIN. Returns the parent's regclass text."""
    create_events(conn, name)
    parent = qualified(conn, name)
    select(conn, "create_range_partitions", parent, "daily", premake=2, default_partition=True, now_at=NOW)
    if drain or policy:
        set_policy(conn, parent, drain_default=drain, **policy)
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (created, payload) "
            "SELECT d + interval '1 hour' + g * interval '30 minutes', 'burst' "
            "FROM unnest(%s::date[]) AS d, generate_series(0, %s - 1) AS g"
        ).format(sql.Identifier(name)),
        [BURST, PER_DAY],
    )
    assert in_default(conn, name) == len(BURST) * PER_DAY
    return parent


def in_default(conn: Conn, name: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier("public", f"{name}_default")))
    found = row.fetchone()
    assert found is not None
    return int(found[0])


def per_table(conn: Conn, name: str) -> dict[str, int]:
    """{partition: rows} of the burst's rows."""
    found = conn.execute(
        sql.SQL("SELECT tableoid::regclass::text, count(*) FROM {} WHERE payload = 'burst' GROUP BY 1").format(
            sql.Identifier(name)
        )
    ).fetchall()
    return {r[0]: r[1] for r in found}


def day_partition(conn: Conn, name: str, d: date) -> str:
    return qualified(conn, f"{name}_p{d:%Y%m%d}").removeprefix("public.")


def assert_drained(conn: Conn, name: str, days: list[date] = BURST) -> None:
    assert in_default(conn, name) == 0
    assert per_table(conn, name) == {day_partition(conn, name, d): PER_DAY for d in days}


def watch_moves(conn: Conn) -> None:
    """Records the top-level transaction (pg_current_xact_id, the same in a
    subtransaction) of every move pgpart logs, in moves_seen."""
    conn.execute("CREATE TABLE moves_seen (xid xid8)")
    conn.execute("GRANT INSERT ON moves_seen TO PUBLIC")
    conn.execute(
        "CREATE FUNCTION see_move() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN INSERT INTO public.moves_seen VALUES (pg_current_xact_id()); RETURN NULL; END$$"
    )
    conn.execute(
        "CREATE TRIGGER see_move AFTER INSERT ON pgpart.log FOR EACH ROW"
        " WHEN (NEW.action = 'move_default_range') EXECUTE FUNCTION see_move()"
    )


def transactions_of_moves(conn: Conn) -> tuple[int, int]:
    """(ranges moved, top-level transactions that moved them) since watch_moves."""
    row = conn.execute("SELECT count(*), count(DISTINCT xid) FROM moves_seen").fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]))


def maintenance(conn: Conn, parent: str | None, **named: Any) -> list[dict[str, Any]]:
    named.setdefault("now_at", NOW)
    return select(conn, "run_maintenance", parent, **named)


# --- one run, each entry point -----------------------------------------------------------


@pytest.mark.parametrize("name", ["ev", HOSTILE])
def test_one_function_run_drains_the_burst(connect: Connect, name: str) -> None:
    conn = connect()
    parent = setup(conn, name)
    watch_moves(conn)
    result = maintenance(conn, parent)
    moved = [r for r in result if r["action"] == "moved"]
    assert [r["partition"] for r in moved] == [qualified(conn, f"{name}_p{d:%Y%m%d}") for d in BURST]
    assert all(f"{PER_DAY} rows moved" in r["detail"] for r in moved)
    assert_drained(conn, name)
    assert transactions_of_moves(conn) == (len(BURST), 1)  # the function: all in its one transaction
    # each range logged by the move (the existing move logging)
    assert [e["detail"]["rows"] for e in log(conn, parent, "move_default_range")] == [PER_DAY] * len(BURST)
    # nothing left: the next run does nothing more
    assert [r for r in maintenance(conn, parent) if r["action"] == "moved"] == []


def test_one_procedure_run_drains_the_burst(connect: Connect) -> None:
    conn = connect()
    parent = setup(conn, HOSTILE)
    watch_moves(conn)
    notes = call(conn, "run_maintenance_proc", parent, now_at=NOW)
    assert len([n for n in notes if "drain_default: moved" in n]) == len(BURST), notes
    moves = conn.execute(
        "SELECT count(*), count(DISTINCT xmin::text) FROM pgpart.log WHERE action = 'move_default_range'"
    )
    assert moves.fetchone() == (len(BURST), len(BURST))
    assert_drained(conn, HOSTILE)


def test_one_maintenance_of_every_table_drains_the_burst(connect: Connect) -> None:
    """No table named: the due filter finds the parent by its default's rows."""
    conn = connect()
    setup(conn)
    call(conn, "run_maintenance_proc", now_at=NOW)
    assert_drained(conn, "ev")
    conn2 = connect()
    setup(conn2, "ev2")
    assert [r for r in maintenance(conn2, None) if r["action"] == "moved"] != []
    assert_drained(conn2, "ev2")


def test_one_client_run_drains_the_burst(connect: Connect) -> None:
    """The option set by Client.ensure (the CLI's ensure --drain-default),
    then one Client.maintain."""
    conn = connect()
    setup(conn, drain=False)
    client = pgpart.Client(conn)
    watch_moves(conn)
    report = client.ensure("ev", drain_default=True, now_at=datetime.fromisoformat(NOW))
    assert [(c.field, c.old, c.new) for c in report.policy_changes] == [("drain_default", False, True)]
    maintained = client.maintain("ev", online=True, now_at=datetime.fromisoformat(NOW))
    # one range per transaction: each move logged by a transaction of its own
    moves = conn.execute(
        "SELECT count(*), count(DISTINCT xmin::text) FROM pgpart.log WHERE action = 'move_default_range'"
    )
    assert moves.fetchone() == (len(BURST), len(BURST))
    assert conn.execute("SELECT current_setting('pgpart.drain_done', true)").fetchone() in ((None,), ("",))
    assert len([a for a in maintained.actions if a.action == "moved"]) == len(BURST)
    assert_drained(conn, "ev")


def test_off_by_default(connect: Connect) -> None:
    conn = connect()
    parent = setup(conn, drain=False)
    policy = conn.execute(
        "SELECT drain_default, drain_default_max_bytes FROM pgpart.config WHERE parent = %s::regclass", [parent]
    ).fetchone()
    assert policy == (False, 64 * 1024 * 1024)
    assert [r for r in maintenance(conn, parent) if r["action"] in ("moved", "move", "skipped")] == []
    call(conn, "run_maintenance_proc", parent, now_at=NOW)
    assert in_default(conn, "ev") == len(BURST) * PER_DAY


def test_dry_run_shows_the_drain_and_moves_nothing(connect: Connect) -> None:
    conn = connect()
    parent = setup(conn)
    plan = [r for r in maintenance(conn, parent, dry_run=True) if r["action"] == "move"]
    assert [r["partition"] for r in plan] == [qualified(conn, f"ev_p{d:%Y%m%d}") for d in BURST]
    assert [r["step"] for r in plan] == list(range(1, len(BURST) + 1))
    assert all(f"{PER_DAY} rows to move" in r["detail"] for r in plan)
    assert all(r["statement"].startswith("SELECT * FROM pgpart.move_default_range(") for r in plan)
    assert in_default(conn, "ev") == len(BURST) * PER_DAY
    # the statement of the plan moves the first range
    conn.execute(plan[0]["statement"])
    assert in_default(conn, "ev") == (len(BURST) - 1) * PER_DAY


def test_policy_values_are_checked(connect: Connect) -> None:
    conn = connect()
    parent = setup(conn, drain=False)
    with pytest.raises(errors.InvalidParameterValue):
        set_policy(conn, parent, drain_default_max_bytes=-1)
    conn.execute("CREATE TABLE lv (k text) PARTITION BY LIST (k)")
    rows(conn, "create_list_partitions", "lv", '["a"]')
    with pytest.raises(errors.InvalidParameterValue):
        set_policy(conn, "lv", drain_default=True)
    # ensure_range passes them on
    select(conn, "ensure_range", parent, drain_default=True, drain_default_max_bytes=1000000, now_at=NOW)
    policy = conn.execute(
        "SELECT drain_default, drain_default_max_bytes FROM pgpart.config WHERE parent = %s::regclass", [parent]
    ).fetchone()
    assert policy == (True, 1000000)


# --- the size limit ------------------------------------------------------------------------


def findings(conn: Conn, parent: str) -> list[dict[str, Any]]:
    return [f for f in select(conn, "check", parent, now_at=NOW) if f["code"] == "default_too_large_to_drain"]


@pytest.mark.parametrize("fix", ["move", "raise the limit"])
def test_a_default_above_the_limit_is_left_alone_with_a_finding(connect: Connect, fix: str) -> None:
    conn = connect()
    parent = setup(conn, drain_default_max_bytes=0)
    result = maintenance(conn, parent)
    skipped = [r for r in result if r["action"] == "skipped"]
    assert len(skipped) == 1, result
    assert "drain_default_max_bytes (0)" in skipped[0]["detail"]
    assert [r for r in result if r["action"] == "moved"] == []
    assert in_default(conn, "ev") == len(BURST) * PER_DAY
    # so does a dry run, and the procedure
    assert [r["action"] for r in maintenance(conn, parent, dry_run=True) if r["action"] in ("move", "skipped")] == [
        "skipped"
    ]
    call(conn, "run_maintenance_proc", parent, now_at=NOW)
    assert in_default(conn, "ev") == len(BURST) * PER_DAY
    [finding] = findings(conn, parent)
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_default"
    assert finding["fix"].startswith("CALL pgpart.move_default_rows(")
    assert "drain_default_max_bytes =>" in finding["problem"]
    if fix == "move":
        conn.execute(finding["fix"])
    else:
        set_policy(conn, parent, drain_default_max_bytes=64 * 1024 * 1024)
        assert findings(conn, parent) == []
        maintenance(conn, parent)
    assert findings(conn, parent) == []
    assert_drained(conn, "ev")


# --- writers and interruptions ---------------------------------------------------------------


def test_a_concurrent_writer_only_waits(connect: Connect) -> None:
    """A writer inserting into today's partition and into the ranges being
    drained, one row per transaction, never fails (lock_timeout 1 s: a stall
    would show as 55P03), and every row ends in its own partition."""
    conn = connect()
    parent = setup(conn)
    targets = itertools.cycle(
        [datetime(2024, 3, 10, 13, tzinfo=datetime.fromisoformat(NOW).tzinfo)]
        + [datetime(d.year, d.month, d.day, 7, tzinfo=datetime.fromisoformat(NOW).tzinfo) for d in BURST]
    )
    lock = threading.Lock()

    def target() -> datetime:
        with lock:
            return next(targets)

    writer = Writer(connect(), target=target, limit=100_000).start()
    writer.wait_for(50)  # writing before the drain starts ...
    call(conn, "run_maintenance_proc", parent, now_at=NOW)
    writer.wait_for(len(writer.inserted) + 50)  # ... and after it ended
    inserted = writer.finish()
    assert in_default(conn, "ev") == 0
    counted = conn.execute("SELECT count(*) FROM ev WHERE payload = 'writer'").fetchone()
    assert counted == (len(inserted),)
    assert_drained(conn, "ev")


def test_a_run_killed_between_ranges_is_finished_by_the_next(connect: Connect) -> None:
    """The drain waits at the fourth range (a session creating a table of
    that name has not committed); killed there, the first three ranges stay
    moved and committed; the next run moves the rest."""
    conn = connect()
    parent = setup(conn)
    blocker = connect(autocommit=False)
    blocker.execute(sql.SQL("CREATE TABLE {} (x int)").format(sql.Identifier(f"ev_p{BURST[3]:%Y%m%d}")))
    runner = connect()
    pid = runner.info.backend_pid
    failure: list[BaseException] = []

    def run() -> None:
        try:
            call(runner, "run_maintenance_proc", parent, now_at=NOW, lock_timeout="1min")
        except BaseException as exc:  # the kill, checked below
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until_waiting(conn, pid, lambda: not thread.is_alive())
    assert thread.is_alive(), failure
    conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    thread.join(timeout=60)
    assert len(failure) == 1, failure
    assert isinstance(failure[0], psycopg.OperationalError), failure
    blocker.rollback()
    assert in_default(conn, "ev") == (len(BURST) - 3) * PER_DAY
    assert set(per_table(conn, "ev")) >= {day_partition(conn, "ev", d) for d in BURST[:3]}
    call(conn, "run_maintenance_proc", parent, now_at=NOW)
    assert_drained(conn, "ev")


def test_a_lock_timeout_stops_the_drain_and_the_next_run_finishes(connect: Connect) -> None:
    """The function form: the range that cannot be built within the lock
    timeout ends the drain as 'skipped' (logged); the ranges before it are
    moved; the next run finishes."""
    conn = connect()
    parent = setup(conn)
    blocker = connect(autocommit=False)
    blocker.execute(sql.SQL("CREATE TABLE {} (x int)").format(sql.Identifier(f"ev_p{BURST[5]:%Y%m%d}")))
    result = maintenance(conn, parent, lock_timeout="50ms", lock_retries=0)
    assert [r["action"] for r in result if r["action"] in ("moved", "skipped")] == ["moved"] * 5 + ["skipped"]
    assert in_default(conn, "ev") == (len(BURST) - 5) * PER_DAY
    assert [e["outcome"] for e in log(conn, parent, "drain_default")] == ["skipped"]
    blocker.rollback()
    maintenance(conn, parent)
    assert_drained(conn, "ev")


def test_declare_sets_and_clears_the_option(connect: Connect) -> None:
    """Client.declare (what Django's Partitioning declares): drain_default
    as declared, off when left out."""
    conn = connect()
    create_events(conn)
    client = pgpart.Client(conn)
    now_at = datetime.fromisoformat(NOW)
    client.declare("ev", interval="1 day", default_partition=True, drain_default=True, now_at=now_at)
    assert client.policy("ev")["drain_default"] is True  # type: ignore[index]
    client.declare("ev", interval="1 day", default_partition=True, now_at=now_at)
    assert client.policy("ev")["drain_default"] is False  # type: ignore[index]


def test_the_command_sets_the_option(pg: PgServer, dbname: str, connect: Connect) -> None:
    """pgpart ensure TABLE --drain-default / --no-drain-default."""
    conn = connect()
    create_events(conn)
    base = [*dsn(pg, dbname), "ensure", "public.ev", "--interval", "1 day", "--default-partition", "--now", NOW]
    done = pgpart_command(*base, "--drain-default")
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert conn.execute("SELECT drain_default FROM pgpart.config").fetchone() == (True,)
    done = pgpart_command(*base, "--no-drain-default")
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "policy drain_default: true -> false" in done.stdout
    assert conn.execute("SELECT drain_default FROM pgpart.config").fetchone() == (False,)
