"""Per-table isolation and bounds (issue 12, items 4 and 5).

Isolation: one parent whose maintenance fails by a statement timeout (57014)
or a full lock table (53200) is logged and reported while the others are
maintained; a user's cancel still stops the run; ANALYZE after retention is
bounded and never aborts the run; check() reports the others when one parent
cannot be checked.

Bounds: premake, lock_retries, list values and sub-partition leaves are
refused before any work (22023 / 54000 with a HINT), nothing changed.

Smaller defects: move_default_range on a LIST parent, set_tablespace on a
plain table, and an infinite now_at, each refused clearly and before anything.

Blocking is made deterministic by a second session holding a lock; a
statement timeout fires while the run waits for that lock under a long
lock_timeout. Nothing here asserts on time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from catalog import config, log_with_actor, partitions, snapshot
from clock import NOW
from fix_pg import Connect, MakeServer
from pgcall import (
    add_values,
    call,
    check,
    create_list,
    create_list_array,
    create_range,
    run_maintenance,
    select,
    set_policy,
)
from pgcluster import PgServer
from sessions import holds_access_exclusive, wait_until_waiting
from tables import create_daily, fill_days

Conn = psycopg.Connection[Any]

# With premake 2 at NOW (10 to 12 March) the partitions of 13 to 22 March are
# due ten days later, and with a 3-day retention 10 to 16 March expire.
LATER = "2024-03-20 12:00:00+00"
LATER_DAYS = [f"202403{d}" for d in range(13, 23)]


def day_partitions(parent: str, days: list[str]) -> list[str]:
    return [f"{parent}_p{d}" for d in days]


def rows_of(rows: list[tuple[str, str, str | None]], parent: str) -> list[tuple[str, str | None]]:
    return [(a, p) for t, a, p in rows if t == parent]


def details(c: Conn, **kwargs: Any) -> list[tuple[str, str, str | None]]:
    """(parent, action, detail) of each row of run_maintenance."""
    rows = select(c, "run_maintenance", None, **kwargs)
    return [(str(r["parent_table"]), r["action"], r["detail"]) for r in rows]


@pytest.fixture
def two_parents(owner_conn: Conn) -> Conn:
    """aa then bb (so aa is maintained first): daily, premake 2 at NOW, rows
    on 10 to 12 March, retention 3 days."""
    for name in ("aa", "bb"):
        create_daily(owner_conn, name)
        fill_days(owner_conn, name, "2024-03-10", 3)
        set_policy(owner_conn, name, retention="3 days")
    return owner_conn


@pytest.fixture
def holder(connect: Connect) -> Iterator[Conn]:
    """A superuser session in a transaction, for holding locks."""
    c = connect(autocommit=False)
    yield c
    c.rollback()


# --- isolation: statement timeout ----------------------------------------------------


# Must fire while aa waits for its lock, not before the run reaches it: long
# enough for the work before aa on a loaded machine (300 ms was not, on 2
# cores running three suites), short enough to keep the tests quick.
TIMEOUT = "2s"


def test_a_statement_timeout_in_one_parent_is_isolated_by_run_maintenance(
    two_parents: Conn, conn: Conn, holder: Conn
) -> None:
    holds_access_exclusive(holder, "aa")
    aa_before = partitions(conn, "aa")
    conn.execute(f"SET statement_timeout = '{TIMEOUT}'")
    # aa waits for its lock far longer than the statement may run
    rows = details(conn, now_at=LATER, lock_timeout="1 hour")
    conn.execute("RESET statement_timeout")
    aa = [(a, d) for t, a, d in rows if t == "aa"]
    assert [(a, (d or "")[:5]) for a, d in aa] == [("error", "57014")], rows
    # bb: maintained in full after aa's timeout
    assert [a for t, a, d in rows if t == "bb"].count("created") == 10
    assert partitions(conn, "bb") == day_partitions("bb", ["20240310", "20240311", "20240312", *LATER_DAYS])
    # aa: nothing changed, the failure logged and kept for check()
    assert partitions(conn, "aa") == aa_before
    errors = [e for e in log_with_actor(conn, "aa") if e["outcome"] == "error"]
    assert [(e["action"], e["detail"]["sqlstate"]) for e in errors] == [("maintenance", "57014")]
    cfg = config(conn, "aa")
    assert cfg is not None
    assert cfg["last_error"].startswith("57014")
    holder.rollback()
    findings = check(conn, now_at=LATER)
    assert any(f["parent_table"] == "aa" and "last maintenance failed" in f["problem"] for f in findings)
    assert not [f for f in findings if f["parent_table"] == "bb" and f["severity"] != "info"], findings


def test_a_statement_timeout_in_one_parent_is_isolated_by_the_procedure(
    two_parents: Conn, conn: Conn, holder: Conn
) -> None:
    holds_access_exclusive(holder, "aa")
    aa_before = partitions(conn, "aa")
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute(f"SET statement_timeout = '{TIMEOUT}'")
    with pytest.raises(psycopg.Error) as failed:  # after every parent (issue 15, item 5)
        call(conn, "run_maintenance_proc", None, now_at=LATER, lock_timeout="1 hour")
    assert failed.value.sqlstate == "PGM01"
    conn.execute("RESET statement_timeout")
    # bb: partitions ahead, then retention (10 to 16 March detached), as usual
    assert partitions(conn, "bb") == day_partitions("bb", [f"202403{d}" for d in range(17, 23)])
    assert [e["action"] for e in log_with_actor(conn, "bb") if e["outcome"] == "error"] == []
    # aa: untouched, its failure recorded; its retention waits for the next run
    assert partitions(conn, "aa") == aa_before
    assert [(e["action"], e["detail"]["sqlstate"]) for e in log_with_actor(conn, "aa") if e["outcome"] == "error"] == [
        ("maintenance", "57014")
    ]
    assert not [e for e in log_with_actor(conn, "aa") if e["action"] in ("detach", "retention")]
    assert any("aa timed out" in n for n in notices), notices
    cfg = config(conn, "aa")
    assert cfg is not None
    assert cfg["last_error"].startswith("57014")


@pytest.mark.parametrize("online", [True, False])
def test_a_statement_timeout_in_one_parent_is_isolated_by_the_client(
    two_parents: Conn, conn: Conn, holder: Conn, online: bool
) -> None:
    holds_access_exclusive(holder, "aa")
    aa_before = partitions(conn, "aa")
    conn.execute(f"SET statement_timeout = '{TIMEOUT}'")
    report = pgpart.Client(conn).maintain(now_at=LATER, lock_timeout="1 hour", online=online)
    conn.execute("RESET statement_timeout")
    assert {a.parent_table for a in report.errors} == {"aa"}
    assert all("57014" in (a.detail or "") for a in report.errors)
    assert partitions(conn, "aa") == aa_before
    # bb: partitions ahead, then retention, online or not
    assert partitions(conn, "bb") == day_partitions("bb", [f"202403{d}" for d in range(17, 23)])


def test_a_cancel_still_stops_the_whole_run(two_parents: Conn, conn: Conn, connect: Connect, holder: Conn) -> None:
    holds_access_exclusive(holder, "aa")
    before = snapshot(conn)
    runner = connect()
    pid = runner.info.backend_pid
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            run_maintenance(runner, now_at=LATER, lock_timeout="1 hour")
            outcome.append(None)
        except psycopg.Error as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_until_waiting(conn, pid, lambda: bool(outcome))
    conn.execute("SELECT pg_cancel_backend(%s)", [pid])
    thread.join()
    assert isinstance(outcome[0], psycopg.errors.QueryCanceled), outcome
    # the run stopped: bb was not maintained either, nothing was logged
    assert snapshot(conn) == before


# --- isolation: check() ---------------------------------------------------------------


def test_check_reports_the_others_when_one_parent_cannot_be_checked(two_parents: Conn, conn: Conn) -> None:
    run_maintenance(conn, now_at=LATER)
    call(conn, "run_maintenance_proc", None, now_at=LATER)
    healthy = [f for f in check(conn, now_at=LATER) if f["parent_table"] == "bb"]
    # a policy row broken by hand (its owner can write it): check() of aa fails
    conn.execute("UPDATE pgpart.config SET partition_interval = 'garbage' WHERE parent = 'aa'::regclass")
    findings = check(conn, now_at=LATER)
    broken = [f for f in findings if f["parent_table"] == "aa"]
    assert [f["severity"] for f in broken] == ["urgent"], broken
    assert broken[0]["problem"].startswith("check of public.aa failed: 22023")
    assert [f for f in findings if f["parent_table"] == "bb"] == healthy


def test_check_flags_a_premake_out_of_bounds_without_walking_it(two_parents: Conn, conn: Conn) -> None:
    conn.execute("UPDATE pgpart.config SET premake = 2147483647 WHERE parent = 'aa'::regclass")
    conn.execute("SET statement_timeout = '60s'")  # a safety net: the finding must come at once
    findings = check(conn, now_at=NOW)
    aa = [f for f in findings if f["parent_table"] == "aa"]
    assert [(f["severity"], f["fix"]) for f in aa] == [
        ("urgent", "SELECT * FROM pgpart.set_policy('public.aa', premake => 1000);")
    ]
    assert "premake 2147483647" in aa[0]["problem"]
    # maintenance refuses that parent (22023) and maintains the other
    rows = details(conn, now_at=LATER)
    assert [(a, (d or "")[:5]) for t, a, d in rows if t == "aa"] == [("error", "22023")]
    assert [a for t, a, d in rows if t == "bb"].count("created") == 10


# --- isolation: a full lock table, and ANALYZE ----------------------------------------------


@pytest.fixture(scope="module")
def small_locks(make_server: MakeServer) -> PgServer:
    """A server with a small shared lock table: max_locks_per_transaction 10
    (ANALYZE's budget: 10 x 50 connections / 2 = 250 relations)."""
    return make_server(max_locks_per_transaction=10)


@pytest.fixture(scope="module")
def tiny_locks(make_server: MakeServer, pg: PgServer) -> PgServer:
    """A server whose whole lock table holds a few hundred locks, so one
    parent can exhaust it; just enough for CREATE EXTENSION pgpart, which
    locks each object it comments (on PostgreSQL 15, 10 per transaction no
    longer sufficed once pgpart had 220 routines, 20 once it had 270 on 15
    and 16; 18 needs fewer, and more would let the parent below fit)."""
    with psycopg.connect(pg.dsn("postgres")) as c:
        row = c.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return make_server(
        max_locks_per_transaction=30 if int(row[0]) < 170000 else 20, max_connections=4,
        superuser_reserved_connections=0, max_wal_senders=0, max_worker_processes=1,
    )  # fmt: skip


_fresh_dbs = iter(range(1, 1_000_000))


def fresh_database(server: PgServer) -> Iterator[Conn]:
    """A fresh database with pgpart on SERVER, as superuser."""
    name = f"iso_{next(_fresh_dbs)}"
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    c = psycopg.connect(server.dsn(name), autocommit=True)
    c.execute("CREATE EXTENSION pgpart")
    yield c
    c.close()
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def small(small_locks: PgServer) -> Iterator[Conn]:
    yield from fresh_database(small_locks)


@pytest.fixture
def tiny(tiny_locks: PgServer) -> Iterator[Conn]:
    yield from fresh_database(tiny_locks)


@pytest.mark.parametrize("entry", ["function", "procedure"])
def test_a_full_lock_table_in_one_parent_is_isolated(tiny: Conn, entry: str) -> None:
    small = tiny
    small.execute("CREATE TABLE aa (ts timestamptz NOT NULL, v integer, PRIMARY KEY (ts, v)) PARTITION BY RANGE (ts)")
    small.execute("CREATE INDEX ON aa (v)")
    create_range(small, "aa", "1 day", premake=0, now_at=NOW, subpartition={"method": "hash", "key": "v", "modulus": 2})
    # 190 sub-partitions from now on: the next partition of aa is 191 new
    # tables (under the cap of 200), with their indexes far more locks than
    # this server's whole lock table holds (its exact size varies with the
    # shared memory left over: 101 tables fitted on some builds, so a margin)
    spec = {"method": "hash", "key": "v", "modulus": 190}
    create_range(small, "aa", "1 day", premake=0, now_at=NOW, subpartition=spec)
    cfg = config(small, "aa")
    assert cfg is not None
    assert cfg["subpartition"]["modulus"] == 190
    create_daily(small, "bb", premake=0)
    aa_before = partitions(small, "aa")
    tomorrow = "2024-03-11 12:00:00+00"
    if entry == "function":
        rows = details(small, now_at=tomorrow)
        assert [(a, (d or "")[:5]) for t, a, d in rows if t == "aa"] == [("error", "53200")], rows
        assert [a for t, a, d in rows if t == "bb"] == ["created"]
    else:
        with pytest.raises(psycopg.Error) as failed:  # after every parent (issue 15, item 5)
            call(small, "run_maintenance_proc", None, now_at=tomorrow)
        assert failed.value.sqlstate == "PGM01"
    assert partitions(small, "aa") == aa_before
    assert partitions(small, "bb") == ["bb_p20240310", "bb_p20240311"]
    assert [(e["action"], e["detail"]["sqlstate"]) for e in log_with_actor(small, "aa") if e["outcome"] == "error"] == [
        ("maintenance", "53200")
    ]


def inherited_stats(c: Conn, table: str) -> int:
    row = c.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s AND inherited", [table]).fetchone()
    assert row is not None
    return int(row[0])


def kept_and_expired(c: Conn) -> None:
    """aa then bb: daily, made at NOW through 22 March, a row a day on 10 to
    22 March, retention 3 days: at LATER 10 to 16 March expire, and the rows
    of 17 to 22 March stay for ANALYZE to see."""
    for name in ("aa", "bb"):
        create_daily(c, name, premake=12, columns="ts timestamptz NOT NULL, v integer NOT NULL")
        fill_days(c, name, "2024-03-10", 13, per_day=1)
        set_policy(c, name, retention="3 days")


def test_analyze_after_retention_is_skipped_above_the_lock_budget(small: Conn) -> None:
    kept_and_expired(small)
    # aa gets a partition (off pgpart's window) of 260 hash leaves: ANALYZE of aa
    # would lock more than half of max_locks_per_transaction x max_connections
    small.execute(
        "CREATE TABLE aa_far PARTITION OF aa FOR VALUES FROM ('2024-06-01') TO ('2024-06-02') PARTITION BY HASH (v)"
    )
    for r in range(260):
        small.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF aa_far FOR VALUES WITH (MODULUS 260, REMAINDER {})").format(
                sql.Identifier(f"aa_far_h{r}"), sql.Literal(r)
            )
        )
    call(small, "run_maintenance_proc", None, now_at=LATER)
    skipped = log_with_actor(small, "aa", "analyze")
    assert [e["outcome"] for e in skipped] == ["skipped"]
    assert "lock" in skipped[0]["detail"]["message"]
    assert inherited_stats(small, "aa") == 0
    # the run went on: bb maintained, its retention done and analyzed
    assert partitions(small, "bb")[0] == "bb_p20240317"
    assert inherited_stats(small, "bb") > 0
    # retention of aa itself was done
    assert next(p for p in partitions(small, "aa") if p.startswith("aa_p")) == "aa_p20240317"


def test_analyze_waits_for_its_locks_at_most_lock_timeout(owner_conn: Conn, conn: Conn, holder: Conn) -> None:
    kept_and_expired(owner_conn)
    # a session holds a partition of aa that retention keeps: ANALYZE of aa must not wait for it
    holds_access_exclusive(holder, "aa_p20240320")
    call(conn, "run_maintenance_proc", None, now_at=LATER, lock_timeout="50ms", lock_retries=1)
    assert [e["outcome"] for e in log_with_actor(conn, "aa", "analyze")] == ["skipped"]
    assert partitions(conn, "aa")[0] == "aa_p20240317"
    assert partitions(conn, "bb")[0] == "bb_p20240317"
    assert inherited_stats(conn, "bb") > 0
    assert not [e for e in log_with_actor(conn) if e["outcome"] == "error"]


def test_a_failing_analyze_is_logged_and_the_run_goes_on(owner_conn: Conn, conn: Conn) -> None:
    kept_and_expired(owner_conn)
    # statistics on an expression of the owner's that fails: ANALYZE of aa fails
    owner_conn.execute(
        "CREATE FUNCTION boom(integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE"
        " AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$"
    )
    owner_conn.execute("CREATE STATISTICS aa_boom ON (boom(v)) FROM aa")
    call(conn, "run_maintenance_proc", None, now_at=LATER)
    assert [(e["outcome"], e["detail"]["sqlstate"]) for e in log_with_actor(conn, "aa", "analyze")] == [
        ("error", "P0001")
    ]
    cfg = config(conn, "aa")
    assert cfg is not None
    assert cfg["last_error"].startswith("P0001")
    # aa's retention was done; bb after it maintained, its retention done and analyzed
    assert partitions(conn, "aa")[0] == "aa_p20240317"
    assert partitions(conn, "bb")[0] == "bb_p20240317"
    assert inherited_stats(conn, "bb") > 0


# --- bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize("premake", [2147483647, 1001, -1])
def test_set_policy_bounds_premake(two_parents: Conn, conn: Conn, premake: int) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
        set_policy(two_parents, "aa", premake=premake)
    assert "premake" in (info.value.diag.message_primary or "")
    assert "set_policy" in (info.value.diag.message_hint or "")
    assert snapshot(conn) == before
    assert set_policy(two_parents, "aa", premake=1000)["premake"] == 1000


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("function", ["create_range_partitions", "ensure_range"])
def test_verbs_bound_premake(owner_conn: Conn, conn: Conn, holder: Conn, function: str, dry_run: bool) -> None:
    owner_conn.execute("CREATE TABLE ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    before = snapshot(conn)
    # refused before any lock is waited for and before any planning (the
    # statement timeout is only a safety net: it would show as 57014)
    holds_access_exclusive(holder, "ev")
    owner_conn.execute("SET statement_timeout = '60s'")
    for premake in (2147483647, 1001, -1):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
            select(
                owner_conn, function, "ev", interval="1 day", premake=premake, now_at=NOW, dry_run=dry_run,
                lock_timeout="1 hour",
            )  # fmt: skip
        assert "premake" in (info.value.diag.message_primary or "")
        assert info.value.diag.message_hint
    holder.rollback()
    assert snapshot(conn) == before


@pytest.mark.parametrize("retries", [1001, 2147483647])
def test_lock_retries_are_bounded(two_parents: Conn, conn: Conn, retries: int) -> None:
    before = snapshot(conn)
    for function in ("run_maintenance", "create_range_partitions", "ensure_range", "move_default_range"):
        kwargs: dict[str, Any] = {"lock_retries": retries, "now_at": LATER}
        if function == "create_range_partitions":
            kwargs["interval"] = "1 day"
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            select(two_parents, function, "aa", **kwargs)
    assert snapshot(conn) == before


def make_list(owner: Conn, name: str = "li") -> None:
    owner.execute(sql.SQL("CREATE TABLE {} (k text) PARTITION BY LIST (k)").format(sql.Identifier(name)))


@pytest.mark.parametrize("dry_run", [False, True])
def test_list_values_count_in_the_cap(owner_conn: Conn, conn: Conn, dry_run: bool) -> None:
    make_list(owner_conn)
    create_list(owner_conn, "li", ["a"])
    before = snapshot(conn)
    many = [str(i) for i in range(100_000)]
    for request in (many, {"big": many}, {f"g{i}": [str(i)] for i in range(1001)}):
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
            create_list(owner_conn, "li", request, dry_run=dry_run)
        assert "1000" in (info.value.diag.message_hint or "")
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        create_list_array(owner_conn, "li", list(many), dry_run=dry_run)
    # 201 new partitions (or 200 and a default): one too many for a transaction
    for values, default in (([str(i) for i in range(201)], False), ([str(i) for i in range(200)], True)):
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
            create_list(owner_conn, "li", values, default_partition=default, dry_run=dry_run)
        assert "200" in (info.value.diag.message_hint or "")
    assert snapshot(conn) == before
    # 200 is the cap (planned only: building them is the lock test's business)
    plan = create_list(owner_conn, "li", [str(i) for i in range(200)], dry_run=True)
    assert sum(1 for r in plan if r[4] == "attach") == 200


def test_add_list_values_is_bounded(owner_conn: Conn, conn: Conn) -> None:
    make_list(owner_conn)
    create_list(owner_conn, "li", ["a"])
    before = snapshot(conn)
    for dry_run in (False, True):
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
            add_values(owner_conn, "li_a", [str(i) for i in range(100_000)], dry_run=dry_run)
        assert info.value.diag.message_hint
    assert snapshot(conn) == before


def subpartitioned(owner: Conn) -> None:
    owner.execute("CREATE TABLE sp (ts timestamptz NOT NULL, t integer) PARTITION BY RANGE (ts)")


@pytest.mark.parametrize("dry_run", [False, True])
def test_sub_partition_leaves_count_in_the_cap(owner_conn: Conn, conn: Conn, dry_run: bool) -> None:
    subpartitioned(owner_conn)
    before = snapshot(conn)
    query = (
        "SELECT * FROM pgpart.create_range_partitions('sp', '1 day', premake => %s, now_at => %s,"
        " subpartition => %s::jsonb, dry_run => %s)"
    )
    # premake 20 with modulus 1024: ~21,500 tables before; refused up front now
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
        owner_conn.execute(query, [20, NOW, json.dumps({"method": "hash", "key": "t", "modulus": 1024}), dry_run])
    assert "sub-partitions" in (info.value.diag.message_hint or "")
    # 21 partitions of 17 tables each: 357 > 200, and the hint says how to go on
    with pytest.raises(psycopg.errors.ProgramLimitExceeded) as info:
        owner_conn.execute(query, [20, NOW, json.dumps({"method": "hash", "key": "t", "modulus": 16}), dry_run])
    assert "max_new => 11" in (info.value.diag.message_hint or "")
    # a list sub-partition spec of 100,000 values
    spec = {"method": "list", "key": "t", "values": {"all": [str(i) for i in range(100_000)]}}
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        owner_conn.execute(query, [0, NOW, json.dumps(spec), dry_run])
    assert snapshot(conn) == before


def test_a_bounded_run_makes_what_fits_with_its_sub_partitions(owner_conn: Conn) -> None:
    subpartitioned(owner_conn)
    plan = owner_conn.execute(
        "SELECT action FROM pgpart.create_range_partitions('sp', '1 day', premake => 20, now_at => %s,"
        ' subpartition => \'{"method": "hash", "key": "t", "modulus": 16}\', max_new => 50, dry_run => true)',
        [NOW],
    ).fetchall()
    actions = [r[0] for r in plan]
    assert actions.count("attach") == 11  # 11 x 17 = 187 tables, 12 would be 204
    assert actions.count("create sub-partition") == 11 * 16


# --- smaller defects ---------------------------------------------------------------------


def test_move_default_range_refuses_a_list_parent(owner_conn: Conn, conn: Conn) -> None:
    make_list(owner_conn)
    create_list(owner_conn, "li", ["a"], default_partition=True)
    owner_conn.execute("INSERT INTO li VALUES ('b'), ('c')")
    before = snapshot(conn)
    for statement in (
        "SELECT * FROM pgpart.move_default_range('li')",
        "CALL pgpart.move_default_rows('li')",
    ):
        with pytest.raises(psycopg.errors.InvalidObjectDefinition) as info:
            owner_conn.execute(statement)
        diag = info.value.diag
        assert "LIST" in (diag.message_primary or "")
        assert diag.message_hint
        assert (diag.schema_name, diag.table_name) == ("public", "li")
    assert snapshot(conn) == before
    assert owner_conn.execute("SELECT count(*) FROM ONLY li_default").fetchone() == (2,)


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_set_tablespace_refuses_a_plain_table(owner_conn: Conn, conn: Conn, who: str) -> None:
    owner_conn.execute("CREATE TABLE plain (id integer PRIMARY KEY)")
    caller = owner_conn if who == "owner" else conn
    before = snapshot(conn)
    for dry_run in (False, True):
        with pytest.raises(psycopg.errors.InvalidObjectDefinition) as info:
            caller.execute("SELECT * FROM pgpart.set_tablespace('plain', 'pg_default', dry_run => %s)", [dry_run])
        assert "not a partition" in (info.value.diag.message_primary or "")
        assert info.value.diag.message_hint
    assert snapshot(conn) == before


INFINITE_NOW_AT = [
    ("select", "partition_info", {}),
    ("select", "check", {}),
    ("select", "run_maintenance", {}),
    ("select", "ensure_range", {}),
    ("select", "create_range_partitions", {"interval": "1 day"}),
    ("select", "detach_and_archive", {}),
    ("select", "detach_and_archive", {"dry_run": True}),
    ("select", "move_default_range", {}),
    ("call", "run_maintenance_proc", {}),
    ("call", "detach_and_archive_proc", {}),
    ("call", "move_default_rows", {}),
]


@pytest.mark.parametrize("now_at", ["infinity", "-infinity"])
@pytest.mark.parametrize(
    ("kind", "function", "kwargs"), INFINITE_NOW_AT, ids=[f[1] + str(f[2]) for f in INFINITE_NOW_AT]
)
def test_an_infinite_now_at_is_refused(
    two_parents: Conn, conn: Conn, now_at: str, kind: str, function: str, kwargs: dict[str, Any]
) -> None:
    before = snapshot(conn)
    run = select if kind == "select" else call
    with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
        run(two_parents, function, "aa", now_at=now_at, **kwargs)
    assert "now_at" in (info.value.diag.message_primary or "")
    assert snapshot(conn) == before
