"""Issue 12, item 2: the retention journal and the archive policy cannot be
turned against anyone.

pgpart_owner plays the attacker: it owns public.ev and may write pgpart.log
rows and its pgpart.config row directly (row-level security lets an owner
write about its own tables). The superuser plays the nightly job and runs
retention through every entry point: CALL run_maintenance_proc, SELECT
detach_and_archive (one step per call), CALL detach_and_archive_proc,
Client.maintain online and offline, and the `pgpart maintain` CLI (online
and --sql-path).

- Reproduction 2: a journal row or a config row written directly names
  pg_catalog (or pg_global) as the archive destination: no table ever lands
  there, the partition stays where it was, the failure is reported.
- Reproduction 3: journal rows forged for OIDs that do not exist yet, then
  REASSIGN OWNED BY pgpart_owner TO another role: nothing of the new owner
  is dropped; a genuine entry of the old owner is void and discarded.
- Ordinary retention (and an interrupted one) still works on every path.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from catalog import config, exists, partitions
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from pgcall import check, select, set_policy
from pgcluster import PgServer
from pgpart import cli
from sessions import temporary_role
from tables import create_daily, fill_days

Conn = psycopg.Connection[Any]

FIRST = "2024-03-01 12:00:00+00"  # partitions 1 to 5 March (premake 4)
LATER = "2024-03-06 12:00:00+00"  # with retention '2 days': 1, 2 and 3 March expire
EXPIRED = ["ev_p20240301", "ev_p20240302", "ev_p20240303"]
KEPT = ["ev_p20240304", "ev_p20240305"]

# Where no table of an ordinary role may ever be put by pgpart.
SYSTEM_PLACES = """
    SELECT c.oid::regclass::text FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relowner = %s::regrole
      AND (n.nspname LIKE 'pg\\_%%' OR n.nspname IN ('information_schema', 'pgpart')
           OR c.reltablespace = (SELECT t.oid FROM pg_tablespace AS t WHERE t.spcname = 'pg_global'))
"""


# --- the entry points ----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an entry point said: the SQLSTATE it raised (None if it did
    not raise) and what it printed or reported."""

    sqlstate: str | None
    text: str


@dataclass(frozen=True)
class Env:
    conn: Conn  # the superuser: the nightly job
    pg: PgServer
    dbname: str


Runner = Callable[[Env, str, str], Outcome]


def _proc(env: Env, parent: str, now_at: str) -> Outcome:
    try:
        env.conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s::timestamptz)", [now_at])
    except psycopg.Error as exc:
        return Outcome(exc.sqlstate, str(exc))
    return Outcome(None, "")


def _function(env: Env, parent: str, now_at: str) -> Outcome:
    # one step per call, each in its own transaction (autocommit)
    done: list[str] = []
    for _ in range(50):
        try:
            rows = env.conn.execute(
                "SELECT action, partition FROM pgpart.detach_and_archive(%s::regclass, now_at => %s::timestamptz)",
                [parent, now_at],
            ).fetchall()
        except psycopg.Error as exc:
            return Outcome(exc.sqlstate, str(exc))
        if not rows:
            return Outcome(None, "\n".join(done))
        done.append(f"{rows[0][0]} {rows[0][1]}")
    raise AssertionError(f"retention did not finish: {done}")


def _detach_proc(env: Env, parent: str, now_at: str) -> Outcome:
    try:
        env.conn.execute(
            "CALL pgpart.detach_and_archive_proc(%s::regclass, now_at => %s::timestamptz)", [parent, now_at]
        )
    except psycopg.Error as exc:
        return Outcome(exc.sqlstate, str(exc))
    return Outcome(None, "")


def _client(online: bool) -> Runner:
    def run(env: Env, parent: str, now_at: str) -> Outcome:
        report = pgpart.Client(env.conn).maintain(now_at=now_at, online=online)
        errors = [e.error.sqlstate if e.error is not None else None for e in report.errors]
        text = "\n".join(f"{a.parent_table} {a.action} {a.partition} {a.detail}" for a in report.actions)
        return Outcome(next((s for s in errors if s), "XX000" if errors else None), text)

    return run


def _cli(*options: str) -> Runner:
    def run(env: Env, parent: str, now_at: str) -> Outcome:
        done = subprocess.run(
            [sys.executable, "-m", "pgpart", "--dsn", env.pg.dsn(env.dbname, "postgres"), "maintain", "--now", now_at,
             *options],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode in (cli.EXIT_OK, cli.EXIT_PARTIAL), done.stderr
        return Outcome(None if done.returncode == cli.EXIT_OK else "partial", done.stdout + done.stderr)

    return run


RUNNERS: dict[str, Runner] = {
    "run_maintenance_proc": _proc,
    "detach_and_archive": _function,
    "detach_and_archive_proc": _detach_proc,
    "client_online": _client(True),
    "client_offline": _client(False),
    "cli": _cli(),
    "cli_sql_path": _cli("--sql-path"),
}


@pytest.fixture(params=sorted(RUNNERS))
def run(request: pytest.FixtureRequest, conn: Conn, pg: PgServer, dbname: str) -> Callable[[str, str], Outcome]:
    runner = RUNNERS[request.param]
    env = Env(conn, pg, dbname)
    return lambda parent, now_at: runner(env, parent, now_at)


# --- set-up and observations ------------------------------------------------------


@pytest.fixture
def ev(owner_conn: Conn, conn: Conn) -> Conn:
    """pgpart_owner's daily table public.ev, partitions 1-5 March with rows,
    its own archive schema attic, and a plain table public.accounts."""
    create_daily(owner_conn, "ev", premake=4, now_at=FIRST)
    fill_days(owner_conn, "ev", "2024-03-01", 5)
    conn.execute("CREATE SCHEMA attic AUTHORIZATION pgpart_owner")
    owner_conn.execute("CREATE TABLE public.accounts (id integer)")
    owner_conn.execute("INSERT INTO public.accounts VALUES (1)")
    return owner_conn


def where(conn: Conn, table: str) -> tuple[str, str, bool] | None:
    """(schema, tablespace, is a partition) of the table named TABLE in any schema, or None."""
    row = conn.execute(
        "SELECT n.nspname::text, coalesce(t.spcname, 'pg_default')::text, c.relispartition"
        " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace WHERE c.relname = %s",
        [table],
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def in_system_places(conn: Conn, role: str) -> list[str]:
    return [r[0] for r in conn.execute(SYSTEM_PLACES, [role]).fetchall()]


def open_entries(conn: Conn, parent: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            # names as the server's functions print them (schema-qualified), without public.
            "SELECT regexp_replace(detached_name, '^public[.]', ''), state FROM pgpart._journal(%s::regclass)"
            " ORDER BY entry",
            [parent],
        ).fetchall()
    ]


def last_error(conn: Conn, parent: str) -> str | None:
    row = config(conn, parent)
    assert row is not None
    value = row["last_error"]
    return None if value is None else str(value)


def assert_reported(outcome: Outcome, conn: Conn, parent: str, sqlstate: str, words: str) -> None:
    """The failure reached the caller (raised), or was logged and kept as
    last_error for check() when the path goes on with other parents."""
    if outcome.sqlstate in (None, "partial") or outcome.sqlstate != sqlstate:
        error = last_error(conn, parent)
        assert error is not None, outcome
        assert error.startswith(sqlstate), (outcome, error)
        assert words in error, (outcome, error)
        assert conn.execute(
            "SELECT count(*) FROM pgpart.log WHERE parent = %s::regclass AND outcome = 'error'", [parent]
        ).fetchone() != (0,)
    else:
        assert words in outcome.text, outcome


def plant_old_journal(owner: Conn, oids: str, then: str, **detail: str) -> None:
    """Journal rows as 0.1.0 wrote (and trusted) them: action 'detach' and a
    partition_oid in detail, for each OID of the SQL expression OIDS."""
    extra = sql.SQL("").join(sql.SQL(", {}, {}").format(sql.Literal(k), sql.Literal(v)) for k, v in detail.items())
    owner.execute(
        sql.SQL(
            "INSERT INTO pgpart.log (parent, parent_name, action, detail)"
            " SELECT 'public.ev', 'public.ev', 'detach', jsonb_build_object('partition_oid', o, 'partition',"
            " 'public.ev_p20000101', 'then', {}{}) FROM ({}) AS s(o)"
        ).format(sql.Literal(then), extra, sql.SQL(oids))
    )


# --- the journal accepts only what it can verify ----------------------------------------


def _journal_row(owner: Conn, table_oid: str, name: str, owner_role: str = "pgpart_owner") -> None:
    owner.execute(
        sql.SQL(
            "INSERT INTO pgpart.log (parent, parent_name, action, detail, journal_oid, journal_name, journal_owner)"
            " VALUES ('public.ev', 'public.ev', 'detach', '{{\"then\": \"drop\"}}', ({})::oid, {}, {}::regrole)"
        ).format(sql.SQL(table_oid), sql.Literal(name), sql.Literal(owner_role))
    )


def test_journal_entries_name_only_current_partitions(ev: Conn, conn: Conn) -> None:
    before = conn.execute("SELECT count(*) FROM pgpart.log").fetchone()
    refused = [
        # a plain table of the owner, not a partition
        ("'public.accounts'::regclass::oid", "accounts", "pgpart_owner"),
        # an OID that does not exist yet
        ("'public.accounts'::regclass::oid::bigint + 1000", "important", "pgpart_owner"),
        # a real partition, but under another name or owner than it has
        ("'public.ev_p20240301'::regclass::oid", "important", "pgpart_owner"),
        ("'public.ev_p20240301'::regclass::oid", "ev_p20240301", "pgpart_other"),
        # the parent itself
        ("'public.ev'::regclass::oid", "ev", "pgpart_owner"),
    ]
    for table_oid, name, role in refused:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _journal_row(ev, table_oid, name, role)
    assert conn.execute("SELECT count(*) FROM pgpart.log").fetchone() == before
    # pgpart's own writer refuses a table that is not a partition of the parent
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.accounts')")
    # the positive control: a current partition, as it is, is accepted
    _journal_row(ev, "'public.ev_p20240301'::regclass::oid", "ev_p20240301")
    ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240302')")
    rows = conn.execute(
        "SELECT journal_oid::regclass::text, journal_name::text, journal_owner::regrole::text FROM pgpart.log"
        " WHERE journal_oid IS NOT NULL ORDER BY id"
    ).fetchall()
    assert rows == [("ev_p20240301", "ev_p20240301", "pgpart_owner"), ("ev_p20240302", "ev_p20240302", "pgpart_owner")]


def test_drop_and_archive_helpers_act_only_on_journaled_tables(ev: Conn, conn: Conn) -> None:
    # pgpart_owner detaches a partition by hand: pgpart did not detach it
    ev.execute("ALTER TABLE ev DETACH PARTITION ev_p20240301")
    plant_old_journal(ev, "SELECT 'public.ev_p20240301'::regclass::oid", "drop")
    for statement in (
        "SELECT pgpart._drop_detached('public.ev', 'public.ev_p20240301', '200ms', 0)",
        "SELECT pgpart._archive_partition('public.ev', 'public.ev_p20240301', 'attic', NULL, '200ms', 0)",
    ):
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as info:
            conn.execute(statement)
        assert "not detached" in info.value.diag.message_primary
        assert info.value.diag.message_hint
    assert where(conn, "ev_p20240301") == ("public", "pg_default", False)


# --- reproduction 2: a superuser's retention must not move a table into pg_catalog -----


@pytest.mark.parametrize(
    "destination",
    [
        {"archive_schema": "pg_catalog"},
        {"archive_schema": "pgpart"},
        {"archive_schema": "information_schema"},
        {"archive_tablespace": "pg_global"},
    ],
    ids=lambda d: "-".join(d.values()),
)
def test_config_written_directly_cannot_send_partitions_to_system_places(
    ev: Conn, conn: Conn, run: Callable[[str, str], Outcome], destination: dict[str, str]
) -> None:
    set_policy(ev, "ev", retention="2 days", retention_action="drop")
    # the owner rewrites its policy row directly, bypassing set_policy
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in destination.items()
    )
    ev.execute(
        sql.SQL(
            "UPDATE pgpart.config SET retention_action = 'archive', {} WHERE parent = 'public.ev'::regclass"
        ).format(assignments)
    )
    # and plants 0.1.0-style journal rows naming its own plain table
    plant_old_journal(ev, "SELECT 'public.accounts'::regclass::oid", "archive", **destination)

    outcome = run("public.ev", LATER)

    assert in_system_places(conn, "pgpart_owner") == []
    assert where(conn, "accounts") == ("public", "pg_default", False)
    assert conn.execute("SELECT count(*) FROM public.accounts").fetchone() == (1,)
    # refused before anything was detached: the expired partitions are still attached
    assert all(where(conn, p) == ("public", "pg_default", True) for p in EXPIRED + KEPT)
    assert_reported(outcome, conn, "public.ev", "22023", next(iter(destination.values())))


@pytest.mark.parametrize(
    "destination",
    [{"archive_schema": "pg_catalog"}, {"archive_tablespace": "pg_global"}, {"archive_schema": "locked"}],
    ids=lambda d: "-".join(d.values()),
)
def test_bad_destination_in_a_journal_entry_is_refused_at_archive_time(
    ev: Conn, conn: Conn, run: Callable[[str, str], Outcome], destination: dict[str, str]
) -> None:
    # a schema the owner may not create in: archiving there would use the
    # superuser's rights, not the owner's
    conn.execute("CREATE SCHEMA locked")
    # A genuine entry (the partition is one of ev's when journaled) that
    # records a bad destination, written while the config row said so.
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in destination.items()
    )
    ev.execute(
        sql.SQL(
            "UPDATE pgpart.config SET retention_action = 'archive', {} WHERE parent = 'public.ev'::regclass"
        ).format(assignments)
    )
    ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240301')")
    ev.execute("ALTER TABLE ev DETACH PARTITION ev_p20240301")
    ev.execute(
        "UPDATE pgpart.config SET retention_action = 'detach', archive_schema = NULL, archive_tablespace = NULL"
        " WHERE parent = 'public.ev'::regclass"
    )
    assert open_entries(conn, "public.ev") == [("ev_p20240301", "awaiting")]

    outcome = run("public.ev", LATER)

    assert in_system_places(conn, "pgpart_owner") == []
    # detached and untouched, still awaiting (a fixed destination can finish it)
    assert where(conn, "ev_p20240301") == ("public", "pg_default", False)
    assert conn.execute("SELECT count(*) FROM public.ev_p20240301").fetchone() == (3,)
    assert open_entries(conn, "public.ev") == [("ev_p20240301", "awaiting")]
    sqlstate = "42501" if destination.get("archive_schema") == "locked" else "22023"
    assert_reported(outcome, conn, "public.ev", sqlstate, next(iter(destination.values())))


BAD_DESTINATIONS: list[tuple[dict[str, str], str]] = [
    ({"archive_schema": "pg_catalog"}, "22023"),
    ({"archive_schema": "pgpart"}, "22023"),
    ({"archive_schema": "information_schema"}, "22023"),
    ({"archive_schema": "pg_toast"}, "22023"),
    ({"archive_schema": "pg_temp_1"}, "22023"),
    ({"archive_schema": "pg_toast_temp_1"}, "22023"),
    ({"archive_schema": "locked"}, "42501"),
    ({"archive_tablespace": "pg_global"}, "22023"),
    ({"tablespace": "pg_global"}, "22023"),
]


@pytest.mark.parametrize(("destination", "sqlstate"), BAD_DESTINATIONS, ids=lambda d: str(d))
@pytest.mark.parametrize("caller", ["superuser", "owner"])
def test_set_policy_refuses_system_places(
    ev: Conn, conn: Conn, caller: str, destination: dict[str, str], sqlstate: str
) -> None:
    conn.execute("CREATE SCHEMA locked")
    c = conn if caller == "superuser" else ev
    before = config(conn, "public.ev")
    with pytest.raises(psycopg.Error) as info:
        set_policy(c, "public.ev", retention="2 days", retention_action="archive", **destination)
    assert info.value.sqlstate == sqlstate, info.value.diag.message_primary
    assert next(iter(destination.values())) in (info.value.diag.message_primary or "")
    assert info.value.diag.message_hint
    assert config(conn, "public.ev") == before


def test_set_policy_accepts_the_owners_places(ev: Conn, conn: Conn) -> None:
    row = set_policy(conn, "public.ev", retention="2 days", retention_action="archive", archive_schema="attic",
                     archive_tablespace="pg_default", tablespace="pg_default")  # fmt: skip
    assert (row["archive_schema"], row["archive_tablespace"], row["tablespace"]) == (
        "attic",
        "pg_default",
        "pg_default",
    )


# --- reproduction 3: a previous owner's journal must not drop the new owner's tables -----


def test_forged_journal_void_after_reassign_owned(
    owner_conn: Conn, conn: Conn, connect: Connect, run: Callable[[str, str], Outcome]
) -> None:
    bob = owner_conn
    create_daily(bob, "ev", premake=4, now_at=FIRST)
    set_policy(bob, "ev", retention="30 days", retention_action="drop")
    # a genuine entry: ev_p20240305 is journaled as pgpart does, then bob detaches it himself
    bob.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240305')")
    bob.execute("ALTER TABLE ev DETACH PARTITION ev_p20240305")
    # forged entries for the OIDs that come next, as 0.1.0 honoured them
    bob.execute("CREATE TABLE public.probe (id integer)")
    row = bob.execute("SELECT 'public.probe'::regclass::oid::bigint").fetchone()
    assert row is not None
    probe = int(row[0])
    plant_old_journal(bob, f"SELECT generate_series({probe + 1}, {probe + 3000})::bigint", "drop")
    # the verified form refuses them
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _journal_row(bob, str(probe + 40), "important_0")

    with temporary_role(conn, "alice") as alice:
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(alice)))
        conn.execute(sql.SQL("REASSIGN OWNED BY pgpart_owner TO {}").format(sql.Identifier(alice)))
        a = connect(alice)
        for i in range(20):
            a.execute(sql.SQL("CREATE TABLE public.{} (id integer)").format(sql.Identifier(f"important_{i}")))
            a.execute(sql.SQL("INSERT INTO public.{} VALUES (1)").format(sql.Identifier(f"important_{i}")))
        # alice takes the policy over (create_range_partitions records her as its author)
        a.execute("SELECT count(*) FROM pgpart.create_range_partitions('public.ev', '1 day', now_at => %s)", [LATER])
        theirs = (
            "SELECT oid::bigint, relname::text FROM pg_class WHERE relowner = %s::regrole AND relkind IN ('r', 'p')"
        )
        before = set(conn.execute(theirs, [alice]).fetchall())
        # the forged rows do name alice's new tables: 0.1.0 would have dropped them
        assert {name for oid, name in before if probe < oid <= probe + 3000} >= {f"important_{i}" for i in range(20)}
        assert open_entries(conn, "public.ev") == [("ev_p20240305", "stale")]

        outcome = run("public.ev", LATER)

        assert outcome.sqlstate is None, outcome
        after = set(conn.execute(theirs, [alice]).fetchall())
        assert before <= after, before - after
        assert where(conn, "ev_p20240305") == ("public", "pg_default", False)
        assert [conn.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(f"important_{i}")))
                .fetchone() for i in range(20)] == [(1,)] * 20  # fmt: skip
        # bob's genuine entry is void: discarded once, saying why, never acted on
        assert open_entries(conn, "public.ev") == []
        discards = conn.execute(
            "SELECT regexp_replace(detail ->> 'table', '^public[.]', ''), detail ->> 'reason' FROM pgpart.log"
            " WHERE action = 'discard'"
        ).fetchall()
        assert [d[0] for d in discards] == ["ev_p20240305"], discards
        assert "pgpart_owner" in discards[0][1], discards
        assert alice in discards[0][1], discards
        # and a second run finds nothing more to do with it
        run("public.ev", LATER)
        assert conn.execute("SELECT count(*) FROM pgpart.log WHERE action = 'discard'").fetchone() == (1,)
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'pgpart_owner'").fetchone() == (False,)


def test_renamed_or_reattached_table_is_not_acted_on(ev: Conn, conn: Conn, run: Callable[[str, str], Outcome]) -> None:
    set_policy(ev, "ev", retention="2 days", retention_action="drop")
    ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240301')")
    ev.execute("ALTER TABLE ev DETACH PARTITION ev_p20240301")
    ev.execute("ALTER TABLE ev_p20240301 RENAME TO keep_me")  # the owner keeps it
    ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240302')")  # never detached
    assert open_entries(conn, "public.ev") == [("keep_me", "stale"), ("ev_p20240302", "stale")]
    # check() reports them, with the call that discards them
    void = [f for f in check(conn, "public.ev", now_at=LATER) if "journal entry void" in f["problem"]]
    assert [(f["severity"], f["partition"]) for f in void] == [("info", "keep_me"), ("info", "ev_p20240302")], void
    assert "ev_p20240301" in void[0]["problem"]
    assert "attached" in void[1]["problem"]
    assert "detach_and_archive_proc" in void[1]["fix"]

    outcome = run("public.ev", LATER)

    assert outcome.sqlstate is None, outcome
    assert where(conn, "keep_me") == ("public", "pg_default", False)
    assert conn.execute("SELECT count(*) FROM keep_me").fetchone() == (3,)
    # ev_p20240302 was discarded as journaled, then expired and dropped by a fresh, valid entry
    assert where(conn, "ev_p20240302") is None
    assert open_entries(conn, "public.ev") == []


# --- ordinary retention still works on every path --------------------------------------


def _detach_pending(ev: Conn, connect: Connect, partition: str) -> None:
    """Leaves PARTITION detach pending as an interrupted online retention
    does: journaled, then DETACH CONCURRENTLY cancelled while a reader holds
    the parent (the reader blocks it; the timeout only ends the wait)."""
    ev.execute("SELECT pgpart._journal_detach('public.ev', %s::regclass)", [partition])
    reader = connect("pgpart_owner", autocommit=False)
    reader.execute("SELECT count(*) FROM ev")
    detacher = connect("pgpart_owner")
    detacher.execute("SET statement_timeout = '300ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        detacher.execute(sql.SQL("ALTER TABLE ev DETACH PARTITION {} CONCURRENTLY").format(sql.Identifier(partition)))
    reader.rollback()
    detacher.execute("RESET statement_timeout")
    assert ev.execute(
        "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = %s::regclass", [partition]
    ).fetchone() == (True,)


@pytest.mark.parametrize("interrupted", ["none", "detached", "pending"])
@pytest.mark.parametrize("then", ["archive", "drop"])
def test_ordinary_retention_still_works(
    ev: Conn, conn: Conn, connect: Connect, run: Callable[[str, str], Outcome], then: str, interrupted: str
) -> None:
    set_policy(ev, "ev", retention="2 days", retention_action=then,
               archive_schema="attic" if then == "archive" else None)  # fmt: skip
    if interrupted == "detached":
        # a previous run detached the first partition and stopped before its archive or drop
        steps = select(ev, "detach_and_archive", "public.ev", now_at=LATER)
        assert [(s["action"], s["partition"]) for s in steps] == [("detach", "public.ev_p20240301")]
        assert open_entries(conn, "public.ev") == [("ev_p20240301", "awaiting")]
    elif interrupted == "pending":
        _detach_pending(ev, connect, "ev_p20240301")
        assert open_entries(conn, "public.ev") == [("ev_p20240301", "pending")]

    outcome = run("public.ev", LATER)

    assert outcome.sqlstate is None, outcome
    for p in EXPIRED:
        assert where(conn, p) == (("attic", "pg_default", False) if then == "archive" else None), p
    for p in KEPT:
        assert where(conn, p) == ("public", "pg_default", True), p
    if then == "archive":
        assert conn.execute("SELECT count(*) FROM attic.ev_p20240301").fetchone() == (3,)
    assert open_entries(conn, "public.ev") == []
    assert last_error(conn, "public.ev") is None
    assert in_system_places(conn, "pgpart_owner") == []
    assert exists(conn, "public.accounts")
    assert partitions(conn, "public.ev")


# --- tablespaces the owner may not use ------------------------------------------------


def test_tablespace_the_owner_may_not_use(ev: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    ts = make_tablespace("locked")
    conn.execute(sql.SQL("REVOKE CREATE ON TABLESPACE {} FROM pgpart_owner").format(sql.Identifier(ts)))
    # set_policy refuses it, whoever asks
    for setting in ("archive_tablespace", "tablespace"):
        before = config(conn, "public.ev")
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
            set_policy(conn, "public.ev", **{setting: ts})
        assert ts in info.value.diag.message_primary
        assert info.value.diag.message_hint
        assert config(conn, "public.ev") == before
    # written directly into the policy row, it is refused when used: by a
    # superuser's maintenance creating partitions...
    ev.execute("UPDATE pgpart.config SET tablespace = %s WHERE parent = 'public.ev'::regclass", [ts])
    with pytest.raises(psycopg.Error) as failed:  # after every table (issue 15, item 5)
        conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s::timestamptz)", [LATER])
    assert failed.value.sqlstate == "PGM01"
    in_ts = "SELECT count(*) FROM pg_class WHERE reltablespace = (SELECT oid FROM pg_tablespace WHERE spcname = %s)"
    assert conn.execute(in_ts, [ts]).fetchone() == (0,)
    error = last_error(conn, "public.ev")
    assert error is not None
    assert error.startswith("42501")
    assert ts in error
    report = pgpart.Client(conn).maintain(now_at=LATER)
    assert [(e.detail or "")[:5] for e in report.errors] == ["42501"], report
    assert conn.execute(in_ts, [ts]).fetchone() == (0,)
    # ... and by archiving a detached partition
    ev.execute("UPDATE pgpart.config SET tablespace = NULL, retention_action = 'archive', archive_tablespace = %s"
               " WHERE parent = 'public.ev'::regclass", [ts])  # fmt: skip
    ev.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240301')")
    ev.execute("ALTER TABLE ev DETACH PARTITION ev_p20240301")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("CALL pgpart.detach_and_archive_proc('public.ev', now_at => %s::timestamptz)", [LATER])
    assert where(conn, "ev_p20240301") == ("public", "pg_default", False)
    assert conn.execute(in_ts, [ts]).fetchone() == (0,)


# --- a former owner's policy --------------------------------------------------------------


def test_policy_of_a_former_owner_is_applied_by_no_path(
    ev: Conn, conn: Conn, connect: Connect, run: Callable[[str, str], Outcome]
) -> None:
    set_policy(ev, "ev", retention="2 days", retention_action="drop")
    with temporary_role(conn, "alice") as alice:
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(alice)))
        conn.execute(sql.SQL("REASSIGN OWNED BY pgpart_owner TO {}").format(sql.Identifier(alice)))

        outcome = run("public.ev", LATER)

        # maintenance skips the parent; a direct retention call refuses it
        assert outcome.sqlstate in (None, "55000"), outcome
        if outcome.sqlstate == "55000":
            assert "no longer owns" in outcome.text, outcome
        for p in EXPIRED + KEPT:
            assert where(conn, p) == ("public", "pg_default", True), p
        # once the new owner adopts the policy, it is applied
        a = connect(alice)
        a.execute("UPDATE pgpart.config SET policy_author = current_user WHERE parent = 'public.ev'::regclass")
        assert run("public.ev", LATER).sqlstate is None
        assert [where(conn, p) for p in EXPIRED] == [None, None, None]
