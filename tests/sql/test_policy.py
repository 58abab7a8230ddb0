"""pgpart.set_policy, pgpart.ensure_range and pgpart.set_tablespace: every
value validated (22023 with a HINT, or the SQLSTATE of the missing object),
and a refused call leaves the database exactly as it was (relations,
partition tree, pgpart.config, pgpart.log)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog import config, log_with_actor, partitions, snapshot
from clock import NOW
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from pgcall import select, set_policy
from tables import create_daily

Conn = psycopg.Connection[Any]


@pytest.fixture
def owner(owner_conn: Conn, conn: Conn) -> Conn:
    """pgpart_owner, with a managed daily table ev (timestamptz), a managed
    integer table iv (steps of 100) and an unmanaged partitioned table raw."""
    create_daily(owner_conn, "ev")
    owner_conn.execute("CREATE TABLE iv (id bigint NOT NULL) PARTITION BY RANGE (id)")
    owner_conn.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 1)")
    owner_conn.execute("CREATE TABLE raw (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("CREATE SCHEMA archive AUTHORIZATION pgpart_owner")
    return owner_conn


def assert_refused(
    caller: Conn, observer: Conn, function: str, parent: str | None, sqlstate: str, hint: bool = True, **kwargs: Any
) -> psycopg.Error:
    """FUNCTION(parent, **kwargs) raises SQLSTATE (with a HINT) and changes nothing."""
    before = snapshot(observer)
    with pytest.raises(psycopg.Error) as info:
        select(caller, function, parent, **kwargs)
    exc = info.value
    assert exc.sqlstate == sqlstate, (exc.diag.message_primary, exc.diag.message_detail)
    if hint:
        assert exc.diag.message_hint, exc.diag.message_primary
    assert snapshot(observer) == before
    assert caller.execute("SELECT 1").fetchone() == (1,)
    return exc


# --- set_policy: values ---------------------------------------------------------

REFUSED_VALUES: list[tuple[str, dict[str, Any], str]] = [
    # retention of a time key: a positive interval with a unit
    ("ev", {"retention": "-3 days"}, "22023"),
    ("ev", {"retention": "0 days"}, "22023"),
    ("ev", {"retention": "00:00:00"}, "22023"),
    ("ev", {"retention": "0"}, "22023"),
    ("ev", {"retention": "30"}, "22023"),
    ("ev", {"retention": "3.5"}, "22023"),
    ("ev", {"retention": "-1 mons"}, "22023"),
    ("ev", {"retention": "1 day -25 hours"}, "22023"),
    ("ev", {"retention": ""}, "22023"),
    ("ev", {"retention": "soon"}, "22023"),
    # retention of an integer key: a positive whole number
    ("iv", {"retention": "-5"}, "22023"),
    ("iv", {"retention": "0"}, "22023"),
    ("iv", {"retention": "1.5"}, "22023"),
    ("iv", {"retention": "10 days"}, "22023"),
    ("iv", {"retention": "1e3"}, "22023"),
    ("iv", {"retention": ""}, "22023"),
    ("iv", {"retention": "99999999999999999999"}, "22023"),
    # what to do with expired partitions
    ("ev", {"retention_action": "delete"}, "22023"),
    ("ev", {"retention_action": ""}, "22023"),
    ("ev", {"retention_action": "archive"}, "22023"),
    ("ev", {"retention": "7 days", "retention_action": "archive"}, "22023"),
    # where archived partitions and new partitions go
    ("ev", {"archive_schema": "no_such_schema"}, "3F000"),
    ("ev", {"retention_action": "archive", "archive_schema": "no_such_schema"}, "3F000"),
    ("ev", {"archive_tablespace": "no_such_tablespace"}, "22023"),
    ("ev", {"retention_action": "archive", "archive_tablespace": "no_such_tablespace"}, "22023"),
    ("ev", {"tablespace": "no_such_tablespace"}, "22023"),
    # the other switches
    ("ev", {"premake": -1}, "22023"),
    ("ev", {"referenced_retention": "sometimes"}, "22023"),
    ("ev", {"referenced_retention": ""}, "22023"),
    ("ev", {"move_large_bytes": -1}, "22023"),
    # a valid value does not get written when another one is refused
    ("ev", {"retention": "7 days", "premake": -1}, "22023"),
    ("ev", {"premake": 5, "retention": "-7 days"}, "22023"),
    ("ev", {"retention": "7 days", "move_large_bytes": -1}, "22023"),
]


@pytest.mark.parametrize(
    ("parent", "kwargs", "sqlstate"),
    REFUSED_VALUES,
    ids=[f"{p}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for p, kw, _ in REFUSED_VALUES],
)
def test_refused_value(owner: Conn, conn: Conn, parent: str, kwargs: dict[str, Any], sqlstate: str) -> None:
    assert_refused(owner, conn, "set_policy", parent, sqlstate, **kwargs)


def test_clearing_the_archive_place_of_an_archive_policy_is_refused(owner: Conn, conn: Conn) -> None:
    set_policy(owner, "ev", retention="7 days", retention_action="archive", archive_schema="archive")
    assert_refused(owner, conn, "set_policy", "ev", "22023", archive_schema="")
    # and the other way round: an archive tablespace alone is enough, clearing it is not
    set_policy(owner, "ev", archive_tablespace="pg_default", archive_schema="")
    assert_refused(owner, conn, "set_policy", "ev", "22023", archive_tablespace="")


def test_archive_schema_the_owner_may_not_create_in(owner: Conn, conn: Conn) -> None:
    conn.execute("CREATE SCHEMA locked")
    assert_refused(owner, conn, "set_policy", "ev", "42501", archive_schema="locked")


def test_tablespace_the_owner_may_not_create_in(owner: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    conn.execute(sql.SQL("REVOKE CREATE ON TABLESPACE {} FROM pgpart_owner").format(sql.Identifier(tablespace)))
    assert_refused(owner, conn, "set_policy", "ev", "42501", tablespace=tablespace)
    assert_refused(owner, conn, "set_policy", "ev", "42501", archive_tablespace=tablespace)


@pytest.mark.parametrize(
    "protection",
    [
        "ALTER TABLE ev ENABLE ROW LEVEL SECURITY",
        "GRANT SELECT (ts) ON ev TO pgpart_other",
    ],
    ids=["row-level-security", "column-grant"],
)
def test_propagate_grants_refused_on_a_protected_parent(owner: Conn, conn: Conn, protection: str) -> None:
    owner.execute(protection)
    exc = assert_refused(owner, conn, "set_policy", "ev", "0A000", propagate_grants=True)
    assert exc.diag.message_detail
    # turning it off (or leaving it off) stays allowed
    assert set_policy(owner, "ev", propagate_grants=False)["propagate_grants"] is False


def test_propagate_grants_on_a_plain_parent(owner: Conn) -> None:
    assert set_policy(owner, "ev", propagate_grants=True)["propagate_grants"] is True
    assert config(owner, "ev")["propagate_grants"] is True  # type: ignore[index]


# --- set_policy: the table ------------------------------------------------------


def test_unknown_parent(owner: Conn, conn: Conn) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.UndefinedTable):
        select(owner, "set_policy", "public.no_such_table", retention="7 days")
    assert snapshot(conn) == before
    # a regclass whose table was dropped after the call was written
    oid = owner.execute("SELECT 'raw'::regclass::oid").fetchone()[0]  # type: ignore[index]
    owner.execute("DROP TABLE raw")
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.UndefinedTable):
        owner.execute("SELECT * FROM pgpart.set_policy(%s::oid::regclass, retention => '7 days')", [oid])
    assert snapshot(conn) == before


def test_unmanaged_parent(owner: Conn, conn: Conn) -> None:
    assert_refused(owner, conn, "set_policy", "raw", "55000", retention="7 days")


def test_non_owner(owner: Conn, other_conn: Conn, conn: Conn) -> None:
    exc = assert_refused(other_conn, conn, "set_policy", "ev", "42501", retention="1 day", retention_action="drop")
    assert exc.diag.message_detail
    # writing the row directly is refused by row-level security, too
    other_conn.execute("UPDATE pgpart.config SET retention = '1 day' WHERE parent = 'ev'::regclass")
    assert config(conn, "ev")["retention"] is None  # type: ignore[index]


# --- set_policy: what it writes -------------------------------------------------


def test_values_are_written_and_logged(owner: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    before = config(owner, "ev")
    row = set_policy(
        owner,
        "ev",
        retention="1 week",
        retention_action="archive",
        archive_schema="archive",
        archive_tablespace=tablespace,
        tablespace=tablespace,
        premake=3,
        automatic_maintenance=False,
        analyze_after=False,
        referenced_retention="allow",
        reconcile=False,
        move_large_bytes=0,
    )
    after = config(owner, "ev")
    assert after is not None and before is not None
    expected = {
        "retention": "7 days",
        "retention_action": "archive",
        "archive_schema": "archive",
        "archive_tablespace": tablespace,
        "tablespace": tablespace,
        "premake": 3,
        "automatic_maintenance": False,
        "analyze_after": False,
        "referenced_retention": "allow",
        "reconcile": False,
        "move_large_bytes": 0,
    }
    assert {k: after[k] for k in expected} == expected
    assert {k: row[k] for k in expected} == expected
    # the grid and the author are untouched
    for k in ("partition_interval", "grid_origin", "time_zone", "key_column", "policy_author", "strategy"):
        assert after[k] == before[k]
    entries = log_with_actor(conn, "ev", "set_policy")
    assert len(entries) == 1
    assert entries[0]["actor"] == "pgpart_owner" and entries[0]["outcome"] == "ok"
    assert entries[0]["detail"]["old"]["retention"] is None
    assert entries[0]["detail"]["new"]["retention"] == "7 days"


def test_integer_retention_is_normalised(owner: Conn) -> None:
    assert set_policy(owner, "iv", retention="+0500")["retention"] == "500"
    assert set_policy(owner, "iv", retention=" 42 ")["retention"] == "42"


def test_none_clears_the_retention(owner: Conn) -> None:
    set_policy(owner, "ev", retention="30 days", retention_action="drop")
    row = set_policy(owner, "ev", retention="none")
    assert row["retention"] is None
    assert row["retention_action"] == "drop"
    assert config(owner, "ev")["retention"] is None  # type: ignore[index]
    set_policy(owner, "iv", retention="1000")
    assert set_policy(owner, "iv", retention="NONE")["retention"] is None


def test_empty_name_clears_it(owner: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    set_policy(owner, "ev", archive_schema="archive", archive_tablespace=tablespace, tablespace=tablespace)
    row = set_policy(owner, "ev", archive_schema="")
    assert (row["archive_schema"], row["archive_tablespace"], row["tablespace"]) == (None, tablespace, tablespace)
    row = set_policy(owner, "ev", archive_tablespace="", tablespace="")
    assert (row["archive_schema"], row["archive_tablespace"], row["tablespace"]) == (None, None, None)


def test_null_keeps_everything(owner: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    set_policy(
        owner,
        "ev",
        retention="30 days",
        retention_action="archive",
        archive_schema="archive",
        archive_tablespace=tablespace,
        tablespace=tablespace,
        premake=3,
        automatic_maintenance=False,
        analyze_after=False,
        referenced_retention="allow",
        propagate_grants=True,
        move_large_bytes=7,
    )
    before = snapshot(conn)
    row_before = config(conn, "ev")
    # every argument NULL: nothing changes, nothing is logged
    nulls = dict.fromkeys(
        [
            "retention",
            "retention_action",
            "archive_schema",
            "archive_tablespace",
            "tablespace",
            "premake",
            "automatic_maintenance",
            "analyze_after",
            "referenced_retention",
            "reconcile",
            "propagate_grants",
            "move_large_bytes",
        ]
    )
    set_policy(owner, "ev", **nulls)
    set_policy(owner, "ev")
    assert snapshot(conn) == before
    assert config(conn, "ev") == row_before
    # one value given: only that one changes
    set_policy(owner, "ev", premake=1)
    after = config(conn, "ev")
    assert after is not None and row_before is not None
    changed = {k for k in after if after[k] != row_before[k]}
    assert changed == {"premake", "updated_at"}


def test_setting_the_same_values_again_logs_nothing(owner: Conn, conn: Conn) -> None:
    set_policy(owner, "ev", retention="30 days", premake=3)
    before = snapshot(conn)
    set_policy(owner, "ev", retention="30 days", premake=3)
    assert snapshot(conn) == before


def test_mixed_sign_retention_never_expires_the_current_partition(owner: Conn) -> None:
    # '1 mon -29 days' compares as one positive day (a month counts 30 days),
    # but from 2023-03-01 it reaches one day into the FUTURE: Feb 2023 has 28
    # days. Either such a value is refused, or retention must not remove the
    # partition that holds now_at.
    now = "2023-03-01 12:00:00+00"
    owner.execute("CREATE TABLE ms (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    owner.execute(
        "SELECT pgpart.create_range_partitions('ms', '1 day', premake => 2, now_at => %s::timestamptz)", [now]
    )
    owner.execute("SELECT pgpart.create_range_partitions('ms', '1 day', premake => 0, now_at => '2023-02-26 12:00+00')")
    try:
        set_policy(owner, "ms", retention="1 mon -29 days", retention_action="drop")
    except psycopg.errors.InvalidParameterValue:
        return
    plan = select(owner, "detach_and_archive", "ms", now_at=now, dry_run=True)
    detached = {r["partition"] for r in plan if r["action"] == "detach"}
    assert detached <= {"public." + p for p in partitions(owner, "ms")}
    assert "public.ms_p20230301" not in detached, plan


# --- ensure_range -----------------------------------------------------------------


def test_ensure_range_sets_policy_and_creates_partitions(owner: Conn) -> None:
    owner.execute("CREATE TABLE er (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    rows = select(
        owner,
        "ensure_range",
        "er",
        interval="1 day",
        premake=1,
        retention="7 days",
        retention_action="archive",
        archive_schema="archive",
        now_at=NOW,
    )
    assert [r["partition"] for r in rows] == ["public.er_p20240310", "public.er_p20240311"]
    assert {r["action"] for r in rows} == {"created"}
    assert partitions(owner, "er") == ["er_p20240310", "er_p20240311"]
    cfg = config(owner, "er")
    assert cfg is not None
    assert (
        cfg["partition_interval"],
        cfg["premake"],
        cfg["retention"],
        cfg["retention_action"],
        cfg["archive_schema"],
    ) == ("1 day", 1, "7 days", "archive", "archive")
    # again, changing only the policy: no partition, the policy updated, the rest kept
    assert select(owner, "ensure_range", "er", retention="14 days", now_at=NOW) == []
    cfg = config(owner, "er")
    assert cfg is not None
    assert (cfg["retention"], cfg["retention_action"], cfg["archive_schema"]) == ("14 days", "archive", "archive")


def test_ensure_range_dry_run_lists_the_policy_step(owner: Conn, conn: Conn) -> None:
    owner.execute("CREATE TABLE er (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    before = snapshot(conn)
    plan = select(
        owner,
        "ensure_range",
        "er",
        interval="1 day",
        premake=1,
        retention="7 days",
        retention_action="drop",
        now_at=NOW,
        dry_run=True,
    )
    assert snapshot(conn) == before
    assert [r["step"] for r in plan] == list(range(1, len(plan) + 1))
    assert plan[-1]["action"] == "set policy"
    assert "pgpart.set_policy(" in plan[-1]["statement"]
    assert "'7 days'" in plan[-1]["statement"] and "'drop'" in plan[-1]["statement"]
    assert [r["partition"] for r in plan if r["action"] == "attach"] == ["public.er_p20240310", "public.er_p20240311"]
    # without policy values there is no policy step
    plan = select(owner, "ensure_range", "er", interval="1 day", premake=1, now_at=NOW, dry_run=True)
    assert "set policy" not in {r["action"] for r in plan}
    # the plan's statements, run in order in one transaction, do what the real run does
    plan = select(
        owner,
        "ensure_range",
        "er",
        interval="1 day",
        premake=1,
        retention="7 days",
        retention_action="drop",
        now_at=NOW,
        dry_run=True,
    )
    with owner.transaction():
        for step in plan:
            owner.execute(step["statement"])
    assert partitions(owner, "er") == ["er_p20240310", "er_p20240311"]
    cfg = config(owner, "er")
    assert cfg is not None and (cfg["retention"], cfg["retention_action"]) == ("7 days", "drop")


@pytest.mark.parametrize(
    ("kwargs", "sqlstate"),
    [
        ({"retention": "-7 days"}, "22023"),
        ({"retention_action": "archive"}, "22023"),
        ({"retention_action": "archive", "archive_schema": "no_such_schema"}, "3F000"),
        ({"retention": "7 days", "archive_tablespace": "no_such_tablespace"}, "22023"),
    ],
    ids=["negative-retention", "archive-nowhere", "missing-schema", "missing-tablespace"],
)
def test_ensure_range_refused_policy_creates_nothing(
    owner: Conn, conn: Conn, kwargs: dict[str, Any], sqlstate: str
) -> None:
    # a new table: neither its partitions nor its policy row may stay
    owner.execute("CREATE TABLE er (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    assert_refused(
        owner, conn, "ensure_range", "er", sqlstate, hint=False, interval="1 day", premake=1, now_at=NOW, **kwargs
    )
    assert partitions(conn, "er") == []
    assert config(conn, "er") is None
    # a managed table with partitions due (a later now_at): none is created
    assert_refused(owner, conn, "ensure_range", "ev", sqlstate, hint=False, now_at="2024-03-20 12:00+00", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "sqlstate"),
    [
        ({"retention": "-7 days"}, "22023"),
        ({"retention_action": "archive", "archive_schema": "no_such_schema"}, "3F000"),
    ],
    ids=["negative-retention", "missing-schema"],
)
def test_ensure_range_dry_run_refuses_what_a_real_run_refuses(
    owner: Conn, conn: Conn, kwargs: dict[str, Any], sqlstate: str
) -> None:
    assert_refused(owner, conn, "ensure_range", "ev", sqlstate, hint=False, now_at=NOW, dry_run=True, **kwargs)


def test_ensure_range_non_owner(owner: Conn, other_conn: Conn, conn: Conn) -> None:
    assert_refused(other_conn, conn, "ensure_range", "ev", "42501", retention="1 day", now_at="2024-03-20 12:00+00")
    assert_refused(other_conn, conn, "ensure_range", "raw", "42501", interval="1 day", now_at=NOW)


# --- set_tablespace -----------------------------------------------------------------


def relation_tablespaces(c: Conn, table: str) -> dict[str, str]:
    """The tablespace of TABLE and of each of its indexes."""
    rows = c.execute(
        """
        SELECT r.oid::regclass::text, coalesce(t.spcname, 'pg_default')::text
        FROM pg_class AS r LEFT JOIN pg_tablespace AS t ON t.oid = r.reltablespace
        WHERE r.oid = %(t)s::regclass
           OR r.oid IN (SELECT i.indexrelid FROM pg_index AS i WHERE i.indrelid = %(t)s::regclass)
        """,
        {"t": table},
    ).fetchall()
    return {r[0]: r[1] for r in rows}


@pytest.fixture
def indexed(owner_conn: Conn) -> Conn:
    create_daily(
        owner_conn,
        "ix",
        premake=1,
        columns="ts timestamptz NOT NULL, id integer NOT NULL, PRIMARY KEY (ts, id), UNIQUE (id, ts)",
    )
    owner_conn.execute("CREATE INDEX ix_id ON ix (id)")
    owner_conn.execute(
        "INSERT INTO ix SELECT %s::timestamptz + g * interval '1 second', g FROM generate_series(1, 100) AS g", [NOW]
    )
    return owner_conn


def test_set_tablespace_moves_the_partition_and_its_indexes(
    indexed: Conn, conn: Conn, make_tablespace: MakeTablespace
) -> None:
    tablespace = make_tablespace("a")
    before = relation_tablespaces(conn, "ix_p20240310")
    assert len(before) == 4 and set(before.values()) == {"pg_default"}
    steps = select(indexed, "set_tablespace", "ix_p20240310", tablespace=tablespace)
    after = relation_tablespaces(conn, "ix_p20240310")
    assert after == dict.fromkeys(before, tablespace)
    # the other partition did not move
    assert set(relation_tablespaces(conn, "ix_p20240311").values()) == {"pg_default"}
    assert [s["action"] for s in steps] == ["lock", "set tablespace"] + ["set index tablespace"] * 3
    assert indexed.execute("SELECT count(*) FROM ix").fetchone() == (100,)
    entries = log_with_actor(conn, "ix", "set_tablespace")
    assert len(entries) == 1 and entries[0]["detail"]["tablespace"] == tablespace
    assert entries[0]["actor"] == "pgpart_owner"
    # and back
    select(indexed, "set_tablespace", "ix_p20240310", tablespace="pg_default")
    assert set(relation_tablespaces(conn, "ix_p20240310").values()) == {"pg_default"}


def test_set_tablespace_dry_run(indexed: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    before = snapshot(conn)
    plan = select(indexed, "set_tablespace", "ix_p20240310", tablespace=tablespace, dry_run=True)
    assert snapshot(conn) == before
    assert set(relation_tablespaces(conn, "ix_p20240310").values()) == {"pg_default"}
    assert [s["step"] for s in plan] == [1, 2, 3, 4, 5]
    assert [s["action"] for s in plan] == ["lock", "set tablespace"] + ["set index tablespace"] * 3
    assert plan[0]["statement"] == "LOCK TABLE ONLY public.ix_p20240310 IN ACCESS EXCLUSIVE MODE"
    assert all("ACCESS EXCLUSIVE" in s["locks"] for s in plan)
    assert not any(s["top_level"] for s in plan)
    indexes = {s["statement"].split()[2] for s in plan[2:]}
    assert indexes == {"public." + i for i in relation_tablespaces(conn, "ix_p20240310")} - {"public.ix_p20240310"}
    # the plan, run as it is, does the move
    with indexed.transaction():
        for s in plan:
            indexed.execute(s["statement"])
    assert set(relation_tablespaces(conn, "ix_p20240310").values()) == {tablespace}


def test_set_tablespace_refusals(indexed: Conn, other_conn: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    assert_refused(other_conn, conn, "set_tablespace", "ix_p20240310", "42501", hint=True, tablespace=tablespace)
    assert_refused(indexed, conn, "set_tablespace", "ix_p20240310", "22023", tablespace="no_such_tablespace")
    assert_refused(indexed, conn, "set_tablespace", "ix_p20240310", "22023", tablespace=None)
    assert_refused(indexed, conn, "set_tablespace", "ix_p20240310", "22023", tablespace=tablespace, lock_timeout="0")
    assert_refused(
        indexed, conn, "set_tablespace", "ix_p20240310", "22023", tablespace=tablespace, lock_timeout="-1 second"
    )
    assert_refused(indexed, conn, "set_tablespace", "ix_p20240310", "22023", tablespace=tablespace, lock_retries=-1)
    # a partitioned table is not moved as a whole
    assert_refused(indexed, conn, "set_tablespace", "ix", "0A000", tablespace=tablespace)
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.UndefinedTable):
        select(indexed, "set_tablespace", "no_such_partition", tablespace=tablespace)
    assert snapshot(conn) == before


def test_set_tablespace_gives_up_on_a_held_lock(
    indexed: Conn, connect: Connect, conn: Conn, make_tablespace: MakeTablespace
) -> None:
    tablespace = make_tablespace("a")
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM ix_p20240310")  # ACCESS SHARE until rollback
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.LockNotAvailable) as info:
        select(indexed, "set_tablespace", "ix_p20240310", tablespace=tablespace, lock_timeout="20ms", lock_retries=2)
    assert info.value.diag.message_hint
    assert snapshot(conn) == before
    assert set(relation_tablespaces(conn, "ix_p20240310").values()) == {"pg_default"}
    reader.rollback()
    select(indexed, "set_tablespace", "ix_p20240310", tablespace=tablespace, lock_timeout="20ms", lock_retries=2)
    assert set(relation_tablespaces(conn, "ix_p20240310").values()) == {tablespace}


def test_set_policy_dry_run_returns_the_row_and_writes_nothing(owner: Conn, conn: Conn) -> None:
    before = config(conn, "ev")
    log_before = conn.execute("SELECT count(*) FROM pgpart.log").fetchone()
    planned = set_policy(owner, "ev", retention="45 days", retention_action="drop", dry_run=True)
    assert (planned["retention"], planned["retention_action"]) == ("45 days", "drop")
    assert config(conn, "ev") == before  # nothing written
    assert conn.execute("SELECT count(*) FROM pgpart.log").fetchone() == log_before
    done = set_policy(owner, "ev", retention="45 days", retention_action="drop")
    assert {k: v for k, v in done.items() if k != "updated_at"} == {
        k: v for k, v in planned.items() if k != "updated_at"
    }  # the dry run said exactly what the real call saved
    # a refused value is refused by the dry run too, naming it
    assert_refused(owner, conn, "set_policy", "ev", "22023", retention="soon", dry_run=True)
