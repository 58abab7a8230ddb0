"""run_maintenance, run_maintenance_proc and detach_and_archive around the
edges: foreign keys, ownership, concurrent runs, a failing parent, no-op
runs under locks, the automatic_maintenance switch, and bad input for every
lifecycle function (each refused before anything changes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog import config, exists, log_with_actor, partitions, snapshot
from clock import NOW
from fix_pg import Connect
from pgcall import call, run_maintenance, select, set_policy
from sessions import holds_access_exclusive, temporary_role
from tables import create_daily, fill_days

Conn = psycopg.Connection[Any]

# Ten days after NOW: with premake 2 at NOW (10, 11, 12 March) the partitions
# of 13 to 22 March are due, and with a 3-day retention 10 and 11 March are
# expired (12 March is the newest by bound until the new ones exist).
LATER = "2024-03-20 12:00:00+00"


def created(rows: list[tuple[str, str, str | None]], parent: str) -> list[str | None]:
    return [p for t, a, p in rows if t == parent and a == "created"]


# --- foreign keys -------------------------------------------------------------------


@pytest.fixture
def referenced(owner_conn: Conn) -> Conn:
    """ev (daily, 10-12 March, retention 3 days, with rows) referenced by
    child; plain (daily, same shape, unreferenced) with the same policy."""
    c = owner_conn
    for name in ("ev", "plain"):
        create_daily(c, name, columns="ts timestamptz NOT NULL, v integer NOT NULL, PRIMARY KEY (ts, v)")
        fill_days(c, name, "2024-03-10", 3)
        set_policy(c, name, retention="3 days")
    c.execute("CREATE TABLE child (ts timestamptz, v integer, FOREIGN KEY (ts, v) REFERENCES ev)")
    return c


def test_retention_of_a_referenced_parent_is_refused(referenced: Conn, conn: Conn) -> None:
    before = snapshot(conn)
    for dry_run in (False, True):
        with pytest.raises(psycopg.errors.FeatureNotSupported) as info:
            select(referenced, "detach_and_archive", "ev", now_at=LATER, dry_run=dry_run)
        assert info.value.diag.message_hint
        assert "child" in (info.value.diag.message_detail or "")
    assert snapshot(conn) == before


def test_maintenance_logs_the_refusal_and_goes_on(referenced: Conn, conn: Conn) -> None:
    plain_before = partitions(conn, "plain")
    # every table is done, then the CALL fails naming ev (issue 15, item 5)
    with pytest.raises(psycopg.Error) as failed:
        call(conn, "run_maintenance_proc", None, now_at=LATER)
    assert failed.value.sqlstate == "PGM01"
    assert "public.ev" in failed.value.diag.message_primary
    assert "plain" not in failed.value.diag.message_primary
    # ev: partitions ahead created, nothing detached, the refusal recorded
    assert partitions(conn, "ev") == [f"ev_p202403{d}" for d in range(10, 23)]
    errors = [e for e in log_with_actor(conn, "ev") if e["outcome"] == "error"]
    assert [(e["action"], e["detail"]["sqlstate"]) for e in errors] == [("retention", "0A000")]
    cfg = config(conn, "ev")
    assert cfg is not None and cfg["last_error"].startswith("0A000") and cfg["last_error_at"] is not None
    # plain: maintained in full, whatever ev did
    # (created up to 22 March first, so the cut-off of 17 March 12:00 expires 10 to 16 March)
    assert plain_before == ["plain_p20240310", "plain_p20240311", "plain_p20240312"]
    assert partitions(conn, "plain") == [f"plain_p202403{d}" for d in range(17, 23)]
    assert exists(conn, "plain_p20240310")  # detached, not dropped (action 'detach')
    cfg = config(conn, "plain")
    assert cfg is not None and cfg["last_error"] is None
    # the lock-light function only reports what is due, without an error
    rows = run_maintenance(referenced, "ev", now_at=LATER)
    assert rows == [("ev", "retention due", f"public.ev_p202403{d}") for d in range(10, 17)]


def test_referenced_parent_detaches_when_allowed(referenced: Conn, conn: Conn) -> None:
    set_policy(referenced, "ev", referenced_retention="allow")
    # rows referencing 12 March only (never expired here)
    referenced.execute("INSERT INTO child SELECT ts, v FROM ev WHERE ts >= '2024-03-12'")
    plan = select(referenced, "detach_and_archive", "ev", now_at=LATER, dry_run=True)
    detaches = [s for s in plan if s["action"] == "detach"]
    assert [s["partition"] for s in detaches] == ["public.ev_p20240310", "public.ev_p20240311"]
    for s in detaches:
        # the plan names the lock DETACH takes on the referencing table
        assert "ACCESS EXCLUSIVE on public.child" in s["locks"]
    call(referenced, "detach_and_archive_proc", "ev", now_at=LATER)
    assert partitions(conn, "ev") == ["ev_p20240312"]
    assert exists(conn, "ev_p20240310") and exists(conn, "ev_p20240311")
    assert referenced.execute("SELECT count(*) FROM child").fetchone() == (3,)
    assert config(conn, "ev")["last_error"] is None  # type: ignore[index]


def test_detach_plan_lists_each_lock_once(referenced: Conn) -> None:
    set_policy(referenced, "ev", referenced_retention="allow")
    plan = select(referenced, "detach_and_archive", "ev", now_at=LATER, dry_run=True)
    detaches = [s for s in plan if s["action"] == "detach"]
    assert detaches
    for s in detaches:
        locks = [x.strip() for x in s["locks"].split(", ")]
        assert len(locks) == len(set(locks)), s["locks"]
        assert locks[0] == "ACCESS EXCLUSIVE on public.ev (until commit)"


def test_referenced_rows_stop_the_detach_cleanly(referenced: Conn, conn: Conn) -> None:
    set_policy(referenced, "ev", referenced_retention="allow")
    referenced.execute("INSERT INTO child SELECT ts, v FROM ev WHERE ts < '2024-03-11'")
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        select(referenced, "detach_and_archive", "ev", now_at=LATER)
    assert snapshot(conn) == before


def test_parent_referencing_another_table_detaches(owner_conn: Conn, conn: Conn) -> None:
    c = owner_conn
    c.execute("CREATE TABLE dim (id integer PRIMARY KEY)")
    c.execute("INSERT INTO dim SELECT generate_series(1, 3)")
    create_daily(c, "ev", columns="ts timestamptz NOT NULL, v integer REFERENCES dim")
    fill_days(c, "ev", "2024-03-10", 3)
    set_policy(c, "ev", retention="3 days", retention_action="drop")
    plan = select(c, "detach_and_archive", "ev", now_at=LATER, dry_run=True)
    assert [(s["action"], s["partition"]) for s in plan] == [
        ("detach", "public.ev_p20240310"),
        ("drop", "public.ev_p20240310"),
        ("detach", "public.ev_p20240311"),
        ("drop", "public.ev_p20240311"),
        ("analyze", None),
    ]
    assert all("public.dim" in s["locks"] for s in plan if s["action"] == "detach")
    call(c, "detach_and_archive_proc", "ev", now_at=LATER)
    assert partitions(conn, "ev") == ["ev_p20240312"]
    assert not exists(conn, "ev_p20240310") and not exists(conn, "ev_p20240311")
    assert c.execute("SELECT count(*) FROM ev").fetchone() == (3,)
    assert c.execute("SELECT count(*) FROM dim").fetchone() == (3,)
    assert [e["action"] for e in log_with_actor(conn, "ev") if e["action"] in ("detach", "drop")] == [
        "detach",
        "drop",
        "detach",
        "drop",
    ]


# --- ownership --------------------------------------------------------------------


def test_policy_of_a_former_owner_is_not_acted_on(owner_conn: Conn, connect: Connect, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    fill_days(owner_conn, "ev", "2024-03-10", 3)
    set_policy(owner_conn, "ev", retention="3 days", retention_action="drop")
    conn.execute("ALTER TABLE ev OWNER TO pgpart_other")
    before = snapshot(conn)
    assert run_maintenance(conn, now_at=LATER) == [("ev", "skipped", None)]
    assert run_maintenance(conn, "ev", now_at=LATER) == [("ev", "skipped", None)]
    call(conn, "run_maintenance_proc", None, now_at=LATER)
    call(conn, "run_maintenance_proc", "ev", now_at=LATER)
    # the new owner's maintenance does not act on a policy it did not write either
    other = connect("pgpart_other")
    assert run_maintenance(other, "ev", now_at=LATER) == [("ev", "skipped", None)]
    call(other, "run_maintenance_proc", "ev", now_at=LATER)
    assert snapshot(conn) == before
    # once the new owner writes the policy, it is acted on again
    conn.execute("GRANT CREATE ON SCHEMA public TO pgpart_other")
    conn.execute("UPDATE pgpart.config SET policy_author = 'pgpart_other' WHERE parent = 'ev'::regclass")
    assert created(run_maintenance(conn, now_at=LATER), "ev")


def test_policy_author_member_of_the_owner_role_is_acted_on(connect: Connect, conn: Conn) -> None:
    with temporary_role(conn, "pgpart_member", "pgpart_owner") as member:
        c = connect(member)
        c.execute("SET ROLE pgpart_owner")
        c.execute("CREATE TABLE ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
        c.execute("RESET ROLE")
        c.execute(
            "SELECT pgpart.create_range_partitions('ev', '1 day', premake => 2, now_at => %s::timestamptz)", [NOW]
        )
        assert conn.execute(
            "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'ev_p20240310'"
        ).fetchone() == ("pgpart_owner",)
        assert config(conn, "ev")["policy_author"] == member  # type: ignore[index]
        assert created(run_maintenance(conn, now_at=LATER), "ev")
        c.close()
        conn.execute("DROP TABLE ev")


def test_superuser_maintenance_acts_as_the_owner(owner_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    fill_days(owner_conn, "ev", "2024-03-10", 3)
    set_policy(owner_conn, "ev", retention="3 days", retention_action="drop")
    rows = run_maintenance(conn, now_at=LATER)
    new = created(rows, "ev")
    assert len(new) == 10
    owners = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner)::text FROM pg_inherits AS i JOIN pg_class AS c"
        " ON c.oid = i.inhrelid WHERE i.inhparent = 'ev'::regclass"
    ).fetchall()
    assert owners == [("pgpart_owner",)]
    # the procedure too: retention done and logged in the owner's name
    call(conn, "run_maintenance_proc", None, now_at=LATER)
    assert not exists(conn, "ev_p20240310")
    entries = [e for e in log_with_actor(conn, "ev") if e["action"] in ("create_range_partitions", "detach", "drop")]
    assert entries and {e["actor"] for e in entries} == {"pgpart_owner"}
    # and the session is itself again afterwards
    assert conn.execute("SELECT current_user::text").fetchone() == ("postgres",)


def test_non_owner_cannot_maintain_anothers_table(owner_conn: Conn, other_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    before = snapshot(conn)
    assert run_maintenance(other_conn, now_at=LATER) == [("ev", "skipped", None)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_maintenance(other_conn, "ev", now_at=LATER)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        call(other_conn, "run_maintenance_proc", "ev", now_at=LATER)
    for function in ("detach_and_archive", "move_default_range"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            select(other_conn, function, "ev", now_at=LATER)
    assert snapshot(conn) == before


def test_maintenance_of_every_parent_by_a_role_owning_only_some(owner_conn: Conn, other_conn: Conn, conn: Conn) -> None:
    # e.g. one pg_cron job per role: each role's run maintains its own tables
    # and passes over the others', for the function and the procedure alike
    conn.execute("GRANT CREATE ON SCHEMA public TO pgpart_other")
    create_daily(owner_conn, "ev")
    create_daily(other_conn, "mine")
    before = partitions(conn, "ev")
    rows = run_maintenance(other_conn, now_at=LATER)
    assert ("ev", "skipped", None) in rows
    assert len(created(rows, "mine")) == 10
    call(other_conn, "run_maintenance_proc", None, now_at="2024-03-21 12:00+00")
    assert "mine_p20240323" in partitions(conn, "mine")
    assert partitions(conn, "ev") == before
    assert [e for e in log_with_actor(conn) if e["outcome"] == "error"] == []


# --- concurrent runs ------------------------------------------------------------------


def test_run_skips_while_another_run_holds_the_parent(owner_conn: Conn, connect: Connect, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    holder = connect("pgpart_owner")
    holder.execute("SELECT pg_advisory_lock(pgpart.advisory_key('ev'))")
    before = partitions(conn, "ev")
    rows = run_maintenance(owner_conn, now_at=LATER, lock_timeout="50ms", lock_retries=1)
    assert rows == [("ev", "skipped", None)]
    assert partitions(conn, "ev") == before
    skipped = log_with_actor(conn, "ev", "maintenance")
    assert [(e["outcome"], e["detail"]["sqlstate"]) for e in skipped] == [("skipped", "55P03")]
    assert config(conn, "ev")["last_error"] is None  # type: ignore[index]
    holder.execute("SELECT pg_advisory_unlock(pgpart.advisory_key('ev'))")
    # now both, one after the other: the first creates, the second has nothing to do
    first = run_maintenance(owner_conn, now_at=LATER)
    second = run_maintenance(holder, now_at=LATER)
    assert len(created(first, "ev")) == 10
    assert second == []
    assert len(partitions(conn, "ev")) == 13
    assert [e for e in log_with_actor(conn, "ev") if e["outcome"] == "error"] == []


def test_run_skips_while_another_run_is_in_its_transaction(owner_conn: Conn, connect: Connect, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    create_daily(owner_conn, "ev2")
    first = connect("pgpart_owner", autocommit=False)
    rows = run_maintenance(first, "ev", now_at=LATER)
    assert len(created(rows, "ev")) == 10
    # the second run meets the first one's advisory lock on ev, not on ev2
    second = run_maintenance(owner_conn, now_at=LATER, lock_timeout="50ms", lock_retries=1)
    assert ("ev", "skipped", None) in second
    assert len(created(second, "ev2")) == 10
    assert not [r for r in second if r[0] == "ev" and r[1] != "skipped"]
    first.commit()
    assert run_maintenance(owner_conn, now_at=LATER) == []
    names = partitions(conn, "ev")
    assert len(names) == len(set(names)) == 13
    assert [e for e in log_with_actor(conn) if e["outcome"] == "error"] == []


# --- a failing parent -------------------------------------------------------------------


def test_failing_parent_is_logged_and_the_others_go_on(owner_conn: Conn, conn: Conn) -> None:
    c = owner_conn
    create_daily(c, "a")
    create_daily(c, "b")
    c.execute("CREATE TABLE a_p20240321 (ts timestamptz NOT NULL, v integer)")  # squats a name ahead of now (a gap below would be skipped)
    rows = run_maintenance(c, now_at=LATER)
    errors = [r for r in rows if r[1] == "error"]
    assert [(t, p) for t, _, p in errors] == [("a", None)]
    assert not created(rows, "a")
    assert len(created(rows, "b")) == 10
    detail = c.execute("SELECT detail FROM pgpart.run_maintenance('a', %s::timestamptz)", [LATER]).fetchone()
    assert detail is not None and detail[0].startswith("42P07")
    entries = [e for e in log_with_actor(conn, "a") if e["outcome"] == "error"]
    assert entries and {(e["action"], e["detail"]["sqlstate"]) for e in entries} == {("maintenance", "42P07")}
    cfg = config(conn, "a")
    assert cfg is not None and cfg["last_error"].startswith("42P07") and cfg["last_error_at"] is not None
    assert partitions(conn, "a") == ["a_p20240310", "a_p20240311", "a_p20240312"]
    # the procedure records it the same way, and goes on too
    with pytest.raises(psycopg.Error) as failed:  # after every table (issue 15, item 5)
        call(c, "run_maintenance_proc", None, now_at="2024-03-21 12:00+00")
    assert failed.value.sqlstate == "PGM01"
    assert "b_p20240323" in partitions(conn, "b")
    assert config(conn, "a")["last_error"].startswith("42P07")  # type: ignore[index]
    # fixed: the next run creates and clears last_error
    c.execute("DROP TABLE a_p20240321")
    rows = run_maintenance(c, now_at=LATER)
    assert len(created(rows, "a")) == 10
    cfg = config(conn, "a")
    assert cfg is not None and cfg["last_error"] is None and cfg["last_error_at"] is None


# --- nothing due --------------------------------------------------------------------


def test_nothing_due_returns_nothing_and_changes_nothing(owner_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    set_policy(owner_conn, "ev", retention="30 days")
    before = snapshot(conn)
    assert run_maintenance(owner_conn, now_at=NOW) == []
    assert run_maintenance(owner_conn, "ev", now_at=NOW) == []
    assert run_maintenance(conn, now_at=NOW) == []
    assert snapshot(conn) == before


@pytest.mark.parametrize(
    "locked",
    [["ev_p20240311"], ["ev_p20240310", "ev_default"], ["ev_default"]],
    ids=["partition", "partition-and-default", "default"],
)
def test_no_op_maintenance_takes_no_lock(owner_conn: Conn, connect: Connect, conn: Conn, locked: list[str]) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    create_daily(owner_conn, "other")
    set_policy(owner_conn, "ev", retention="30 days")
    fill_days(owner_conn, "ev", "2024-03-10", 3)
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, *locked)
    maintainer = connect("pgpart_owner")
    maintainer.execute("SET lock_timeout = '2s'")
    before = snapshot(conn)
    assert run_maintenance(maintainer, now_at=NOW) == []
    assert run_maintenance(maintainer, "ev", now_at=NOW) == []
    # the procedure form too, when nothing is due
    call(maintainer, "run_maintenance_proc", None, now_at=NOW)
    assert snapshot(conn) == before
    holder.rollback()


def test_no_op_maintenance_of_an_integer_key_under_a_lock_answers(
    owner_conn: Conn, connect: Connect, conn: Conn
) -> None:
    # "now" of an integer key is its highest value, which must be read: a
    # locked newest partition makes it unknown, reported, never waited for
    owner_conn.execute("CREATE TABLE iv (id bigint NOT NULL PRIMARY KEY) PARTITION BY RANGE (id)")
    owner_conn.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    owner_conn.execute("INSERT INTO iv SELECT generate_series(1, 150)")
    owner_conn.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, "iv_p100")
    maintainer = connect("pgpart_owner")
    maintainer.execute("SET lock_timeout = '2s'")
    before = partitions(conn, "iv")
    rows = run_maintenance(maintainer, "iv", lock_timeout="20ms", lock_retries=1)
    assert {a for _, a, _ in rows} <= {"skipped"}
    assert partitions(conn, "iv") == before
    holder.rollback()


# --- automatic_maintenance ------------------------------------------------------------


def test_automatic_maintenance_off(owner_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev")
    create_daily(owner_conn, "ison")
    fill_days(owner_conn, "ev", "2024-03-10", 3)
    set_policy(owner_conn, "ev", automatic_maintenance=False, retention="3 days", retention_action="drop")
    before = partitions(conn, "ev")
    rows = run_maintenance(owner_conn, now_at=LATER)
    assert {t for t, _, _ in rows} == {"ison"}
    call(owner_conn, "run_maintenance_proc", None, now_at=LATER)
    assert partitions(conn, "ev") == before
    # named, it is maintained
    rows = run_maintenance(owner_conn, "ev", now_at=LATER)
    assert len(created(rows, "ev")) == 10
    call(owner_conn, "run_maintenance_proc", "ev", now_at=LATER)
    assert not exists(conn, "ev_p20240310") and not exists(conn, "ev_p20240311")


# --- rows in the default, long ago ------------------------------------------------------


def test_move_default_range_of_rows_far_below_now(owner_conn: Conn, conn: Conn) -> None:
    # the default holds a row of 1 January 2023, more than 200 daily slots
    # before now_at: its range alone is moved, nothing between is needed
    create_daily(owner_conn, "ev", default_partition=True)
    owner_conn.execute("INSERT INTO ev VALUES ('2023-01-01 12:00+00', 1), ('2024-03-01 12:00+00', 2)")
    rows = select(owner_conn, "move_default_range", "ev", now_at=NOW)
    assert [(r["partition"], r["rows_moved"]) for r in rows] == [("public.ev_p20230101", 1)]
    call(owner_conn, "move_default_rows", "ev", now_at=NOW)
    assert owner_conn.execute("SELECT count(*) FROM ONLY ev_default").fetchone() == (0,)
    assert owner_conn.execute("SELECT count(*) FROM ev").fetchone() == (2,)
    assert {"ev_p20230101", "ev_p20240301"} <= set(partitions(conn, "ev"))


# --- bad input for every lifecycle function -----------------------------------------


@pytest.fixture
def busy(owner_conn: Conn, conn: Conn) -> Conn:
    """ev with everything due at LATER: partitions to create, expired
    partitions, rows in its default partition; raw unmanaged."""
    c = owner_conn
    create_daily(c, "ev", default_partition=True, columns="ts timestamptz NOT NULL, v integer, PRIMARY KEY (ts, v)")
    fill_days(c, "ev", "2024-03-01", 12)  # 1-9 March go to the default
    set_policy(c, "ev", retention="3 days", retention_action="drop")
    c.execute("CREATE TABLE raw (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    c.execute("CREATE TABLE raw_p1 PARTITION OF raw FOR VALUES FROM ('2024-03-01') TO ('2024-03-02')")
    return c


Invoke = Callable[[Conn, str | None, dict[str, Any]], object]


def _select(function: str) -> Invoke:
    return lambda c, parent, kw: select(c, function, parent, **kw)


def _call(procedure: str) -> Invoke:
    return lambda c, parent, kw: call(c, procedure, parent, **kw)


def _set_tablespace(c: Conn, parent: str | None, kw: dict[str, Any]) -> object:
    # takes a partition: the one of 12 March of the given parent
    part = None if parent is None else f"{parent}_p20240312"
    if parent is not None and parent.isdigit():
        part = parent
    return select(c, "set_tablespace", part, tablespace="pg_default", **{k: v for k, v in kw.items() if k != "now_at"})


LIFECYCLE: dict[str, Invoke] = {
    "detach_and_archive": _select("detach_and_archive"),
    "detach_and_archive_proc": _call("detach_and_archive_proc"),
    "run_maintenance": _select("run_maintenance"),
    "run_maintenance_proc": _call("run_maintenance_proc"),
    "move_default_range": _select("move_default_range"),
    "move_default_rows": _call("move_default_rows"),
    "set_tablespace": _set_tablespace,
    "ensure_range": _select("ensure_range"),
}


def assert_refused(
    caller: Conn, observer: Conn, invoke: Invoke, parent: str | None, kw: dict[str, Any], sqlstate: str
) -> None:
    before = snapshot(observer)
    with pytest.raises(psycopg.Error) as info:
        invoke(caller, parent, kw)
    assert info.value.sqlstate == sqlstate, (info.value.diag.message_primary, info.value.diag.message_detail)
    assert snapshot(observer) == before
    assert caller.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("function", sorted(set(LIFECYCLE) - {"ensure_range", "set_tablespace"}))
def test_unknown_parent(busy: Conn, conn: Conn, function: str) -> None:
    oid = busy.execute("SELECT 'raw'::regclass::oid::text").fetchone()[0]  # type: ignore[index]
    busy.execute("DROP TABLE raw")
    assert_refused(busy, conn, LIFECYCLE[function], oid, {"now_at": LATER}, "42P01")
    with pytest.raises(psycopg.errors.UndefinedTable):
        LIFECYCLE[function](busy, "public.no_such_table", {"now_at": LATER})


def test_unknown_partition_or_parent(busy: Conn, conn: Conn) -> None:
    oid = busy.execute("SELECT 'raw_p1'::regclass::oid::text").fetchone()[0]  # type: ignore[index]
    busy.execute("DROP TABLE raw_p1")
    assert_refused(busy, conn, LIFECYCLE["set_tablespace"], oid, {}, "42P01")
    oid = busy.execute("SELECT 'raw'::regclass::oid::text").fetchone()[0]  # type: ignore[index]
    busy.execute("DROP TABLE raw")
    assert_refused(busy, conn, LIFECYCLE["ensure_range"], oid, {"interval": "1 day", "now_at": LATER}, "42P01")
    assert_refused(busy, conn, LIFECYCLE["ensure_range"], oid, {"now_at": LATER}, "42P01")


@pytest.mark.parametrize("function", sorted(set(LIFECYCLE) - {"ensure_range", "set_tablespace"}))
def test_unmanaged_parent(busy: Conn, conn: Conn, function: str) -> None:
    assert_refused(busy, conn, LIFECYCLE[function], "raw", {"now_at": LATER}, "55000")


def test_unmanaged_parent_needs_an_interval_for_ensure_range(busy: Conn, conn: Conn) -> None:
    assert_refused(busy, conn, LIFECYCLE["ensure_range"], "raw", {"now_at": LATER}, "22023")


BAD_LOCK_ARGS: list[dict[str, Any]] = [
    {"lock_timeout": "0"},
    {"lock_timeout": "-1 second"},
    {"lock_timeout": None},
    {"lock_retries": -1},
    {"lock_retries": None},
]


@pytest.mark.parametrize("kw", BAD_LOCK_ARGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("function", sorted(LIFECYCLE))
def test_bad_lock_arguments(
    busy: Conn, conn: Conn, function: str, kw: dict[str, Any]
) -> None:
    assert_refused(busy, conn, LIFECYCLE[function], "ev", {"now_at": LATER, **kw}, "22023")


@pytest.mark.parametrize("procedure", ["run_maintenance", "run_maintenance_proc"])
def test_bad_lock_arguments_without_a_parent(busy: Conn, conn: Conn, procedure: str) -> None:
    for kw in BAD_LOCK_ARGS:
        assert_refused(busy, conn, LIFECYCLE[procedure], None, {"now_at": LATER, **kw}, "22023")


@pytest.mark.parametrize("function", sorted(set(LIFECYCLE) - {"set_tablespace"}))
def test_null_now_at(busy: Conn, conn: Conn, function: str) -> None:
    # no reference time is no "now": the call changes nothing, and if it
    # refuses, it does so as a bad argument (22023), not with an internal error
    before = snapshot(conn)
    try:
        LIFECYCLE[function](busy, "ev", {"now_at": None})
    except psycopg.Error as exc:
        assert exc.sqlstate == "22023", (exc.sqlstate, exc.diag.message_primary)
    assert snapshot(conn) == before


def test_online_retention_cannot_run_in_a_function(busy: Conn, conn: Conn) -> None:
    assert_refused(busy, conn, _select("detach_and_archive"), "ev", {"now_at": LATER, "online": True}, "0A000")


def test_procedures_need_an_autocommit_session(busy: Conn, connect: Connect, conn: Conn) -> None:
    c = connect("pgpart_owner", autocommit=False)
    before = snapshot(conn)
    # pgpart's own procedures say so up front (25001, with a hint; issue 15, item 4)
    for procedure, refusal in (
        ("detach_and_archive_proc", psycopg.errors.ActiveSqlTransaction),
        ("run_maintenance_proc", psycopg.errors.ActiveSqlTransaction),
        ("move_default_rows", psycopg.errors.ActiveSqlTransaction),
    ):
        with pytest.raises(refusal):
            call(c, procedure, "ev", now_at=LATER)
        c.rollback()
    assert snapshot(conn) == before


def test_sql_injection_free_names(owner_conn: Conn, conn: Conn) -> None:
    # a parent whose name needs quoting goes through every verb
    c = owner_conn
    c.execute('CREATE TABLE "Ev; x" (ts timestamptz NOT NULL, v integer) PARTITION BY RANGE (ts)')
    c.execute(
        """SELECT pgpart.create_range_partitions('"Ev; x"', '1 day', premake => 2, default_partition => true,
                 now_at => %s::timestamptz)""",
        [NOW],
    )
    c.execute("""INSERT INTO "Ev; x" VALUES ('2024-03-01 12:00+00', 1), ('2024-03-10 12:00+00', 2)""")
    set_policy(c, '"Ev; x"', retention="3 days", retention_action="drop")
    call(c, "move_default_rows", '"Ev; x"', now_at=NOW)
    call(c, "run_maintenance_proc", '"Ev; x"', now_at=LATER)
    names = [
        r[0]
        for r in c.execute(
            sql.SQL("SELECT relname::text FROM pg_class WHERE relname LIKE {} ORDER BY 1").format(sql.Literal("Ev; x%"))
        ).fetchall()
    ]
    assert "Ev; x_p20240301" not in names and "Ev; x_p20240310" not in names
    assert "Ev; x_p20240322" in names
    assert c.execute('SELECT count(*) FROM "Ev; x"').fetchone() == (0,)
    assert [e for e in log_with_actor(conn) if e["outcome"] == "error"] == []
