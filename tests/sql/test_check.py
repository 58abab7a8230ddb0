"""pgpart.check: one test per finding. Each is provoked with plain SQL, its
severity asserted, and its fix, executed as it is, must make the finding go
away. check never raises for a finding and never waits for a lock."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog import config, snapshot
from clock import NOW
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from pgcall import check, run_maintenance, select, set_policy
from sessions import holds_access_exclusive
from tables import create_daily, fill_days

Conn = psycopg.Connection[Any]

LATER = "2024-03-20 12:00:00+00"

def matching(rows: list[dict[str, Any]], words: str, partition: str | None = None) -> list[dict[str, Any]]:
    """The findings whose problem mentions WORDS (and concern PARTITION, if given)."""
    return [r for r in rows if words in r["problem"] and (partition is None or r["partition"] == partition)]


def the_finding(
    c: Conn, words: str, parent: str | None = "ev", now_at: str = NOW, partition: str | None = None
) -> dict[str, Any]:
    rows = check(c, parent, now_at)
    found = matching(rows, words, partition)
    assert len(found) == 1, rows
    return found[0]


def apply_fix(c: Conn, finding: dict[str, Any]) -> None:
    """Runs the fix exactly as check gave it (autocommit: CALLs may commit)."""
    assert finding["fix"], finding
    c.execute(finding["fix"])


def assert_fixed(c: Conn, words: str, parent: str | None = "ev", now_at: str = NOW) -> None:
    rows = check(c, parent, now_at)
    assert matching(rows, words) == [], rows


def drift(c: Conn, statement: str | sql.Composable) -> None:
    """Runs STATEMENT with pgpart's event triggers off (as pg_restore would),
    so the drift it makes stays for check to find."""
    c.execute("SET pgpart.event_triggers = off")
    try:
        c.execute(statement)
    finally:
        c.execute("RESET pgpart.event_triggers")


@pytest.fixture
def owner(owner_conn: Conn) -> Conn:
    """ev: daily, 10 to 12 March (premake 2 at NOW), with a primary key."""
    create_daily(owner_conn, "ev", columns="ts timestamptz NOT NULL, v integer NOT NULL, PRIMARY KEY (ts, v)")
    return owner_conn


def test_clean_table_has_no_findings(owner: Conn, conn: Conn) -> None:
    fill_days(owner, "ev", "2024-03-10", 3)
    set_policy(owner, "ev", retention="30 days")
    assert check(owner, "ev") == []
    assert check(owner) == []
    assert check(conn) == []
    # the next day, after maintenance, still clean
    run_maintenance(owner, now_at="2024-03-11 12:00+00")
    assert check(owner, "ev", "2024-03-11 12:00+00") == []


def test_unmanaged_or_missing_table(owner: Conn, conn: Conn) -> None:
    owner.execute("CREATE TABLE raw (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as info:
        check(owner, "raw")
    assert info.value.diag.message_hint
    with pytest.raises(psycopg.errors.UndefinedTable):
        check(owner, "no_such_table")
    assert snapshot(conn) == before


def test_check_changes_nothing(owner: Conn, conn: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240312")
    before = snapshot(conn)
    assert check(owner, "ev")
    assert check(owner)
    assert snapshot(conn) == before


# --- runway, gaps, grid -----------------------------------------------------------


def test_runway_shorter_than_premake(owner: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240312")
    finding = the_finding(owner, "runway")
    assert finding["severity"] == "warning"
    assert finding["partition"] is None
    assert "2" in finding["problem"]  # the premake
    apply_fix(owner, finding)
    assert_fixed(owner, "runway")
    assert check(owner, "ev") == []


def test_no_partition_for_now(owner: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240310")
    finding = the_finding(owner, "no partition holds the current key")
    assert finding["severity"] == "urgent"
    apply_fix(owner, finding)
    assert_fixed(owner, "no partition holds the current key")
    assert check(owner, "ev") == []


def test_no_partition_for_a_later_now(owner: Conn) -> None:
    # nothing dropped: time moved on and maintenance did not run
    finding = the_finding(owner, "no partition holds the current key", now_at=LATER)
    assert finding["severity"] == "urgent"
    assert matching(check(owner, "ev", LATER), "runway") == []  # reported once, as the urgent one
    apply_fix(owner, finding)
    assert_fixed(owner, "no partition holds the current key", now_at=LATER)


def test_gap(owner: Conn) -> None:
    select(owner, "create_range_partitions", "ev", interval="1 day", premake=0, now_at="2024-03-05 12:00+00")
    select(owner, "create_range_partitions", "ev", interval="1 day", now_at=NOW)  # fills 6 to 9 March
    owner.execute("DROP TABLE ev_p20240307")
    rows = check(owner, "ev")
    gaps = matching(rows, "gap")
    assert len(gaps) == 1, rows
    assert gaps[0]["severity"] == "warning"
    assert gaps[0]["partition"] == "ev_p20240308"  # the partition after the gap
    assert rows == gaps  # nothing else: the runway from now is intact
    apply_fix(owner, gaps[0])
    assert check(owner, "ev") == []


def test_gap_above_the_window(owner: Conn) -> None:
    # a partition made well ahead (by hand, or by move_default_rows for a
    # far-future row): the days between the runway and it are a gap, and the
    # fix fills them (it once planned only gaps below the window)
    owner.execute("CREATE TABLE ev_p20240320 (LIKE ev INCLUDING ALL)")
    owner.execute("ALTER TABLE ev ATTACH PARTITION ev_p20240320 FOR VALUES FROM ('2024-03-20 00:00+00') TO ('2024-03-21 00:00+00')")
    gaps = matching(check(owner, "ev"), "gap")
    assert [(g["severity"], g["partition"]) for g in gaps] == [("warning", "ev_p20240320")], gaps
    apply_fix(owner, gaps[0])
    assert check(owner, "ev") == []
    made = owner.execute("SELECT count(*) FROM pgpart.partition_info('ev') WHERE lower_bound >= '2024-03-13'").fetchone()
    assert made == (8,)  # 13 to 19 March, and the one made by hand


def test_off_grid_partition(owner: Conn) -> None:
    # two days just below the lowest partition: no gap, no runway problem
    owner.execute("CREATE TABLE ev_odd (LIKE ev INCLUDING ALL)")
    owner.execute("ALTER TABLE ev ATTACH PARTITION ev_odd FOR VALUES FROM ('2024-03-08') TO ('2024-03-10')")
    # and half a day just above the highest
    owner.execute("CREATE TABLE ev_half (LIKE ev INCLUDING ALL)")
    owner.execute(
        "ALTER TABLE ev ATTACH PARTITION ev_half FOR VALUES FROM ('2024-03-13 00:00+00') TO ('2024-03-13 12:00+00')"
    )
    rows = check(owner, "ev")
    assert sorted((r["severity"], r["partition"]) for r in rows) == [("info", "ev_half"), ("info", "ev_odd")], rows
    assert all("grid" in r["problem"] for r in rows)
    assert all(r["fix"] is None for r in rows)


# --- the default partition --------------------------------------------------------


def test_rows_in_the_default(owner_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    assert check(owner_conn, "ev") == []
    fill_days(owner_conn, "ev", "2024-03-01", 2)  # 1 and 2 March: into the default
    finding = the_finding(owner_conn, "default partition holds rows")
    assert finding["severity"] == "urgent"
    assert finding["partition"] == "ev_default"
    assert "move_default_rows" in finding["fix"]
    apply_fix(owner_conn, finding)
    assert_fixed(owner_conn, "default partition holds rows")
    assert owner_conn.execute("SELECT count(*) FROM ONLY ev_default").fetchone() == (0,)
    assert owner_conn.execute("SELECT count(*) FROM ev").fetchone() == (6,)


def test_default_not_readable_is_reported_as_unknown(owner_conn: Conn, other_conn: Conn, conn: Conn) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    fill_days(owner_conn, "ev", "2024-03-01", 1)
    rows = check(other_conn, "ev")
    assert [(r["severity"], r["partition"]) for r in rows] == [("info", "ev_default")], rows
    assert "unknown" in rows[0]["problem"]


# --- retention in progress ----------------------------------------------------------


def test_detach_pending(owner: Conn, connect: Connect) -> None:
    reader = connect("pgpart_owner", autocommit=False)
    reader.execute("SELECT count(*) FROM ev")  # holds the parent, as an open reader does
    detacher = connect("pgpart_owner")
    detacher.execute("SET statement_timeout = '300ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        detacher.execute("ALTER TABLE ev DETACH PARTITION ev_p20240310 CONCURRENTLY")
    reader.rollback()
    detacher.execute("RESET statement_timeout")
    finding = the_finding(owner, "detach pending")
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_p20240310"
    apply_fix(owner, finding)
    assert_fixed(owner, "detach pending")
    assert owner.execute("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ev_p20240310'::regclass").fetchone() == (
        0,
    )


def test_detached_awaiting_its_archive_or_drop(owner: Conn, conn: Conn) -> None:
    fill_days(owner, "ev", "2024-03-10", 3)
    select(owner, "create_range_partitions", "ev", interval="1 day", now_at=LATER, premake=2)
    set_policy(owner, "ev", retention="3 days", retention_action="drop")
    # one step of retention only: the detach, its drop left for later
    steps = select(owner, "detach_and_archive", "ev", now_at=LATER)
    assert [(s["action"], s["partition"]) for s in steps] == [("detach", "public.ev_p20240310")]
    finding = the_finding(owner, "still due", now_at=LATER)
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_p20240310"
    assert "drop" in finding["problem"]
    kept = [
        r[0]
        for r in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ev'::regclass ORDER BY 1"
        ).fetchall()
    ]
    apply_fix(owner, finding)
    assert_fixed(owner, "still due", now_at=LATER)
    assert owner.execute("SELECT to_regclass('ev_p20240310')").fetchone() == (None,)
    # the fix finishes retention as of the check's now_at, no more
    after = [
        r[0]
        for r in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ev'::regclass ORDER BY 1"
        ).fetchall()
    ]
    assert set(after) == set(kept) - {f"ev_p202403{d}" for d in range(11, 17)}


def test_last_error(owner: Conn, conn: Conn) -> None:
    owner.execute("CREATE TABLE ev_p20240321 (ts timestamptz NOT NULL, v integer NOT NULL)")  # squats a name ahead of now (a gap below would be skipped)
    rows = run_maintenance(owner, now_at=LATER)
    assert [a for _, a, _ in rows] == ["error"]
    finding = the_finding(owner, "last maintenance failed", now_at=LATER)
    assert finding["severity"] == "warning"
    assert "42P07" in finding["problem"]
    owner.execute("DROP TABLE ev_p20240321")
    apply_fix(owner, finding)
    assert config(conn, "ev")["last_error"] is None  # type: ignore[index]
    assert check(owner, "ev", LATER) == []


# --- what partitions look like ------------------------------------------------------


def test_index_in_another_tablespace(owner: Conn, conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    drift(owner, sql.SQL("ALTER INDEX ev_p20240311_pkey SET TABLESPACE {}").format(sql.Identifier(tablespace)))
    finding = the_finding(owner, "tablespace")
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_p20240311"
    assert "ev_p20240311_pkey" in finding["problem"]
    apply_fix(owner, finding)
    assert check(owner, "ev") == []
    # and the other way round: the partition moved, its index left behind
    drift(owner, sql.SQL("ALTER TABLE ev_p20240312 SET TABLESPACE {}").format(sql.Identifier(tablespace)))
    finding = the_finding(owner, "tablespace")
    assert finding["partition"] == "ev_p20240312"
    apply_fix(owner, finding)
    assert check(owner, "ev") == []
    assert owner.execute(
        "SELECT t.spcname::text FROM pg_class AS c JOIN pg_tablespace AS t"
        " ON t.oid = c.reltablespace WHERE c.oid = 'ev_p20240312_pkey'::regclass"
    ).fetchone() == (tablespace,)


def test_partition_owner_differs(owner: Conn, conn: Conn) -> None:
    drift(conn, "ALTER TABLE ev_p20240311 OWNER TO pgpart_other")
    finding = the_finding(owner, "owner")
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_p20240311"
    apply_fix(conn, finding)  # giving a table away needs its owner or a superuser
    assert check(owner, "ev") == []


@pytest.mark.parametrize("grantee", ["pgpart_other", "PUBLIC"])
def test_partition_readable_around_row_level_security(owner: Conn, grantee: str) -> None:
    owner.execute("ALTER TABLE ev ENABLE ROW LEVEL SECURITY")
    owner.execute("GRANT SELECT ON ev TO pgpart_other")
    assert check(owner, "ev") == []  # grants on the parent are how RLS is meant to be used
    owner.execute(f"GRANT SELECT ON ev_p20240310 TO {grantee}")
    finding = the_finding(owner, "row-level security")
    assert finding["severity"] == "urgent"
    assert finding["partition"] == "ev_p20240310"
    assert grantee in finding["problem"]
    apply_fix(owner, finding)
    assert check(owner, "ev") == []
    # without row-level security, a grant on a partition is no finding
    owner.execute("ALTER TABLE ev DISABLE ROW LEVEL SECURITY")
    owner.execute(f"GRANT SELECT ON ev_p20240310 TO {grantee}")
    assert check(owner, "ev") == []


def test_invalid_index(owner: Conn) -> None:
    owner.execute("INSERT INTO ev VALUES ('2024-03-10 01:00+00', 1), ('2024-03-10 02:00+00', 1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        owner.execute("CREATE UNIQUE INDEX CONCURRENTLY ev_p20240310_v ON ev_p20240310 (v)")
    assert owner.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ev_p20240310_v'::regclass"
    ).fetchone() == (False,)
    finding = the_finding(owner, "invalid")
    assert finding["severity"] == "warning"
    assert finding["partition"] == "ev_p20240310"
    assert "ev_p20240310_v" in finding["problem"]
    apply_fix(owner, finding)
    assert check(owner, "ev") == []


def test_invalid_index_on_the_parent(owner: Conn) -> None:
    owner.execute("CREATE INDEX ev_v ON ONLY ev (v)")  # invalid until every partition has it
    finding = the_finding(owner, "invalid")
    assert finding["severity"] == "warning"
    assert "ev_v" in finding["problem"]
    assert finding["fix"]


# --- links to other objects ---------------------------------------------------------


def test_foreign_keys_to_and_from(owner_conn: Conn) -> None:
    c = owner_conn
    c.execute("CREATE TABLE dim (id integer PRIMARY KEY)")
    create_daily(c, "ev", columns="ts timestamptz NOT NULL, v integer NOT NULL REFERENCES dim, PRIMARY KEY (ts, v)")
    c.execute("CREATE TABLE child (ts timestamptz, v integer, FOREIGN KEY (ts, v) REFERENCES ev)")
    rows = check(c, "ev")
    assert {r["severity"] for r in rows} == {"info"}, rows
    assert {r["partition"] for r in rows} == {None}
    assert {r["fix"] for r in rows} == {None}
    assert len(matching(rows, "referenced by public.child")) == 1, rows
    assert len(matching(rows, "references public.dim")) == 1, rows
    assert len(rows) == 2
    # the referenced side says what retention would do
    assert "refused" in matching(rows, "referenced by")[0]["problem"]
    set_policy(c, "ev", referenced_retention="allow")
    assert "allowed" in matching(check(c, "ev"), "referenced by")[0]["problem"]


@pytest.mark.parametrize(
    "publication",
    [
        "CREATE PUBLICATION pub FOR TABLE ev",
        "CREATE PUBLICATION pub FOR TABLES IN SCHEMA public",
        "CREATE PUBLICATION pub FOR ALL TABLES",
    ],
    ids=["table", "schema", "all-tables"],
)
def test_publication(owner: Conn, conn: Conn, publication: str) -> None:
    conn.execute(publication)
    rows = check(owner, "ev")
    assert [(r["severity"], r["partition"], r["fix"]) for r in rows] == [("info", None, None)], rows
    assert "pub" in rows[0]["problem"]
    conn.execute("DROP PUBLICATION pub")
    assert check(owner, "ev") == []


def test_policy_of_a_dropped_table(owner: Conn, conn: Conn) -> None:
    owner.execute("CREATE TABLE keep (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    select(owner, "create_range_partitions", "keep", interval="1 day", premake=1, now_at=NOW)
    oid = owner.execute("SELECT 'ev'::regclass::oid").fetchone()[0]  # type: ignore[index]
    owner.execute("DROP TABLE ev")
    rows = check(conn)
    assert [(r["severity"], r["parent_table"], r["partition"]) for r in rows] == [("warning", None, None)], rows
    assert str(oid) in rows[0]["problem"]
    # checking one (live) parent does not report other parents' orphans
    assert check(conn, "keep") == []
    apply_fix(conn, rows[0])
    assert check(conn) == []
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (1,)


def test_policy_of_a_dropped_table_can_be_removed_by_its_author(owner: Conn, conn: Conn) -> None:
    # the role that dropped its table (not a superuser) runs the fix check gives it
    owner.execute("DROP TABLE ev")
    rows = check(owner)
    assert [(r["severity"], r["parent_table"]) for r in rows] == [("warning", None)], rows
    apply_fix(owner, rows[0])
    assert check(owner) == []
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (0,)


# --- never waits for a lock -----------------------------------------------------------


@pytest.mark.parametrize(
    "locked",
    [
        ["ev_p20240311"],
        ["ev_default"],
        ["ev_p20240310", "ev_p20240311", "ev_p20240312", "ev_default"],
    ],
    ids=["partition", "default", "everything-but-the-parent"],
)
def test_check_answers_under_access_exclusive(owner_conn: Conn, connect: Connect, locked: list[str]) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    fill_days(owner_conn, "ev", "2024-03-10", 3)
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, *locked)
    checker = connect("pgpart_owner")
    checker.execute("SET lock_timeout = '2s'")
    rows = check(checker, "ev")
    if "ev_default" in locked:
        assert [(r["severity"], r["partition"]) for r in rows] == [("info", "ev_default")], rows
        assert "unknown" in rows[0]["problem"]
    else:
        assert rows == []
    assert check(checker) == rows
    holder.rollback()
    assert check(checker, "ev") == []


def test_check_of_an_integer_key_answers_under_access_exclusive(owner_conn: Conn, connect: Connect) -> None:
    c = owner_conn
    c.execute("CREATE TABLE iv (id bigint NOT NULL PRIMARY KEY) PARTITION BY RANGE (id)")
    c.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    c.execute("INSERT INTO iv SELECT generate_series(1, 150)")
    c.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    assert check(c, "iv") == []
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, "iv_p100")  # the newest non-empty partition: "now" is unknown
    checker = connect("pgpart_owner")
    checker.execute("SET lock_timeout = '2s'")
    rows = check(checker, "iv")
    assert [(r["severity"], r["partition"]) for r in rows] == [("info", None)], rows
    assert "unknown" in rows[0]["problem"]
    holder.rollback()
    assert check(checker, "iv") == []


def test_null_now_at(owner: Conn, conn: Conn) -> None:
    # no reference time: either refused as a bad argument (22023), or
    # answered; never an internal error
    before = snapshot(conn)
    try:
        check(owner, "ev", None)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        assert exc.sqlstate == "22023", (exc.sqlstate, exc.diag.message_primary)
    assert snapshot(conn) == before
