"""pgpart.check's stable codes: every kind of finding is provoked with plain
SQL and found by its code, with the severity docs/check-codes.md gives it;
the named check that produces it, called alone, returns the same finding;
and the documented codes are exactly those the SQL can produce (the enum
pgpart.finding_code, which every named check's rows must satisfy)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

import pgpart
from clock import NOW
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from paths import REPO_ROOT
from pgcall import run_maintenance, select, set_policy
from pgcluster import PgServer
from pgpart.output import print_findings
from sessions import holds_access_exclusive
from tables import create_daily, fill_days

Conn = psycopg.Connection[Any]

ROOT = REPO_ROOT
DOC = ROOT / "docs" / "check-codes.md"
SOURCES = ROOT / "sql" / "src"
LATER = "2024-03-20 12:00:00+00"


def documented() -> dict[str, str]:
    """{code: severity} of the table in docs/check-codes.md."""
    rows = re.findall(r"^\| `([a-z_]+)` \| (urgent|warning|info) \|", DOC.read_text(), re.MULTILINE)
    codes = dict(rows)
    assert len(codes) == len(rows), "a code documented twice"
    return codes


def findings(c: Conn, parent: str | None = "ev", now_at: str = NOW) -> list[dict[str, Any]]:
    """pgpart.check as dicts, regclass columns as text."""
    query = """
        SELECT severity, code, parent_table::text, partition::text, problem, fix
        FROM pgpart.check(%s::regclass, %s::timestamptz)
    """
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (parent, now_at)).fetchall()


def named(c: Conn, function: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of the named check pgpart.<function>(args...), as check() gives them."""
    placeholders = sql.SQL(", ").join(sql.Placeholder() for _ in args)
    query = sql.SQL(
        "SELECT severity, code::text, parent_table::text, partition::text, problem, fix FROM pgpart.{}({})"
    ).format(sql.Identifier(function), placeholders)
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, args).fetchall()


def coded(rows: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    """The findings of ROWS with CODE, each asserted to have the documented severity."""
    found = [r for r in rows if r["code"] == code]
    severity = documented()[code]
    assert [r["severity"] for r in found] == [severity] * len(found), found
    return found


def the_finding(
    c: Conn, code: str, function: str, *args: Any, parent: str | None = "ev", now_at: str = NOW
) -> dict[str, Any]:
    """The one finding with CODE that check() returns for PARENT; FUNCTION
    (the named check, called with ARGS) returns it too."""
    rows = findings(c, parent, now_at)
    found = coded(rows, code)
    assert len(found) == 1, rows
    assert found[0] in named(c, function, *args), (found, named(c, function, *args))
    return found[0]


def drift(c: Conn, statement: str | sql.Composed) -> None:
    """STATEMENT with pgpart's event triggers off, so the drift it makes stays."""
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


# --- one source of truth ------------------------------------------------------------------


def test_documented_codes_are_the_codes_of_the_enum(conn: Conn) -> None:
    row = conn.execute("SELECT enum_range(NULL::pgpart.finding_code)::text[]").fetchone()
    assert row is not None
    assert row[0] == list(documented())  # the same codes, in the same order
    # the enum is enforced: a code outside it cannot be returned
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("SELECT 'no_such_code'::pgpart.finding_code")


def test_every_code_is_produced_by_some_check_and_none_other() -> None:
    """The codes written in the SQL sources (always as 'code'::pgpart.finding_code)
    are exactly the documented ones: none is listed that no check returns."""
    text = "\n".join(p.read_text() for p in sorted(SOURCES.rglob("*.sql")))
    written = set(re.findall(r"'([a-z_]+)'::pgpart\.finding_code", text))
    assert written == set(documented())


def test_check_returns_code_after_severity(conn: Conn) -> None:
    columns = conn.execute(
        "SELECT unnest(proargnames) FROM pg_proc WHERE oid = 'pgpart.check(regclass, timestamptz)'::regprocedure"
    ).fetchall()
    assert [c[0] for c in columns] == ["parent", "now_at", "severity", "code", "parent_table", "partition", "problem",
                                       "fix"]  # fmt: skip


# --- findings about the installation ---------------------------------------------------------


def test_event_trigger_inactive(owner: Conn, conn: Conn) -> None:
    conn.execute("ALTER EVENT TRIGGER pgpart_ddl_command_end DISABLE")
    finding = the_finding(owner, "event_trigger_inactive", "_find_event_trigger", "ev")
    assert "ENABLE" in finding["fix"]
    assert coded(findings(owner, None), "event_trigger_inactive")
    set_policy(owner, "ev", reconcile=False)  # nothing relies on it: no finding
    assert coded(findings(owner), "event_trigger_inactive") == []


def test_orphan_policy(owner: Conn, conn: Conn) -> None:
    oid = owner.execute("SELECT 'ev'::regclass::oid").fetchone()[0]  # type: ignore[index]
    owner.execute("DROP TABLE ev")
    [finding] = coded(findings(conn, None), "orphan_policy")
    assert str(oid) in finding["problem"]
    assert named(conn, "_find_orphan_policies", None) == [finding]


# --- the policy ---------------------------------------------------------------------------------


def test_owner_code(owner_conn: Conn, conn: Conn) -> None:
    c = owner_conn
    c.execute("CREATE FUNCTION owner_says_yes() RETURNS boolean LANGUAGE sql AS 'SELECT true'")
    c.execute("CREATE TABLE ik (id bigint NOT NULL) PARTITION BY RANGE (id)")
    c.execute("SELECT count(*) FROM pgpart.create_range_partitions('ik', '100', premake => 1, start => '0')")
    c.execute("ALTER TABLE ik ENABLE ROW LEVEL SECURITY")
    c.execute("ALTER TABLE ik FORCE ROW LEVEL SECURITY")
    c.execute("CREATE POLICY p ON ik USING (owner_says_yes())")
    # the superuser's maintenance would run the owner's function: refused, and said
    finding = the_finding(conn, "owner_code", "_find_owner_code", "ik", parent="ik")
    assert "owner_says_yes()" in finding["problem"]
    assert "pgpart_owner" in finding["fix"]
    # the owner's own session runs its own code: no finding
    assert coded(findings(c, "ik"), "owner_code") == []


def test_maintenance_failed(owner: Conn) -> None:
    owner.execute("CREATE TABLE ev_p20240321 (ts timestamptz NOT NULL, v integer NOT NULL)")  # squats a name
    assert [a for _, a, _ in run_maintenance(owner, now_at=LATER)] == ["error"]
    finding = the_finding(owner, "maintenance_failed", "_find_last_error", "ev", LATER, now_at=LATER)
    assert "42P07" in finding["problem"]
    assert "run_maintenance_proc" in finding["fix"]


def test_premake_out_of_bounds(owner: Conn, conn: Conn) -> None:
    conn.execute("UPDATE pgpart.config SET premake = 2147483647 WHERE parent = 'ev'::regclass")
    finding = the_finding(owner, "premake_out_of_bounds", "_find_premake", "ev")
    assert finding["fix"] == "SELECT * FROM pgpart.set_policy('public.ev', premake => 1000);"
    # the runway is not walked
    assert [r["code"] for r in findings(owner)] == ["premake_out_of_bounds"]
    assert named(owner, "_find_runway", "ev", NOW) == []


# --- runway, gaps, grid -------------------------------------------------------------------------


def test_no_current_partition(owner: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240310")
    finding = the_finding(owner, "no_current_partition", "_find_runway", "ev", NOW)
    assert coded(findings(owner), "runway_short") == []  # reported once, as the urgent one
    owner.execute(finding["fix"])
    assert findings(owner) == []


def test_runway_short(owner: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240312")
    finding = the_finding(owner, "runway_short", "_find_runway", "ev", NOW)
    assert "premake 2" in finding["problem"]
    owner.execute(finding["fix"])
    assert findings(owner) == []


def test_runway_unknown(owner_conn: Conn, connect: Connect) -> None:
    c = owner_conn
    c.execute("CREATE TABLE iv (id bigint NOT NULL PRIMARY KEY) PARTITION BY RANGE (id)")
    c.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    c.execute("INSERT INTO iv SELECT generate_series(1, 150)")
    c.execute("SELECT pgpart.create_range_partitions('iv', '100', premake => 2)")
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, "iv_p100")  # the highest key cannot be read
    checker = connect("pgpart_owner")
    finding = the_finding(checker, "runway_unknown", "_find_runway", "iv", NOW, parent="iv")
    assert finding["fix"] is None
    holder.rollback()
    assert findings(checker, "iv") == []


def test_gap(owner: Conn) -> None:
    select(owner, "create_range_partitions", "ev", interval="1 day", premake=0, now_at="2024-03-05 12:00+00")
    select(owner, "create_range_partitions", "ev", interval="1 day", now_at=NOW)
    owner.execute("DROP TABLE ev_p20240307")
    finding = the_finding(owner, "gap", "_find_gaps", "ev", NOW)
    assert finding["partition"] == "ev_p20240308"
    owner.execute(finding["fix"])
    assert findings(owner) == []


def test_off_grid(owner: Conn) -> None:
    owner.execute("CREATE TABLE ev_odd (LIKE ev INCLUDING ALL)")
    owner.execute("ALTER TABLE ev ATTACH PARTITION ev_odd FOR VALUES FROM ('2024-03-08') TO ('2024-03-10')")
    finding = the_finding(owner, "off_grid", "_find_off_grid", "ev", NOW)
    assert (finding["partition"], finding["fix"]) == ("ev_odd", None)


# --- the default partition ---------------------------------------------------------------------


def test_default_rows(owner_conn: Conn) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    fill_days(owner_conn, "ev", "2024-03-01", 1)
    finding = the_finding(owner_conn, "default_rows", "_find_default_rows", "ev", NOW)
    assert finding["partition"] == "ev_default"
    owner_conn.execute(finding["fix"])
    assert coded(findings(owner_conn), "default_rows") == []


def test_default_rows_unknown(owner_conn: Conn, other_conn: Conn, connect: Connect) -> None:
    create_daily(owner_conn, "ev", default_partition=True)
    fill_days(owner_conn, "ev", "2024-03-01", 1)
    # not permitted to read it
    finding = the_finding(other_conn, "default_rows_unknown", "_find_default_rows", "ev", NOW)
    assert "not permitted" in finding["problem"]
    # locked
    holder = connect(autocommit=False)
    holds_access_exclusive(holder, "ev_default")
    finding = the_finding(owner_conn, "default_rows_unknown", "_find_default_rows", "ev", NOW)
    assert "locked" in finding["problem"]
    holder.rollback()


# --- retention in progress ---------------------------------------------------------------------


def test_detach_pending(owner: Conn, connect: Connect) -> None:
    reader = connect("pgpart_owner", autocommit=False)
    reader.execute("SELECT count(*) FROM ev")
    detacher = connect("pgpart_owner")
    detacher.execute("SET statement_timeout = '300ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        detacher.execute("ALTER TABLE ev DETACH PARTITION ev_p20240310 CONCURRENTLY")
    reader.rollback()
    finding = the_finding(owner, "detach_pending", "_find_detach_pending", "ev")
    assert finding["partition"] == "ev_p20240310"
    assert "FINALIZE" in finding["fix"]


def test_detached_awaiting(owner: Conn) -> None:
    fill_days(owner, "ev", "2024-03-10", 3)
    select(owner, "create_range_partitions", "ev", interval="1 day", now_at=LATER, premake=2)
    set_policy(owner, "ev", retention="3 days", retention_action="drop")
    steps = select(owner, "detach_and_archive", "ev", now_at=LATER)  # the detach only, its drop left
    assert [s["action"] for s in steps] == ["detach"]
    finding = the_finding(owner, "detached_awaiting", "_find_detached_awaiting", "ev", LATER, now_at=LATER)
    assert finding["partition"] == "ev_p20240310"
    assert "detach_and_archive_proc" in finding["fix"]


def test_journal_stale(owner: Conn) -> None:
    set_policy(owner, "ev", retention="30 days", retention_action="drop")
    owner.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20240310')")  # never detached
    finding = the_finding(owner, "journal_stale", "_find_journal", "ev", NOW)
    assert finding["partition"] == "ev_p20240310"
    assert "detach_and_archive_proc" in finding["fix"]


# --- what partitions look like -----------------------------------------------------------------


def test_index_tablespace(owner: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    drift(owner, sql.SQL("ALTER INDEX ev_p20240311_pkey SET TABLESPACE {}").format(sql.Identifier(tablespace)))
    finding = the_finding(owner, "index_tablespace", "_find_index_tablespaces", "ev")
    assert finding["partition"] == "ev_p20240311"
    owner.execute(finding["fix"])
    assert findings(owner) == []


def test_owner_differs(owner: Conn, conn: Conn) -> None:
    drift(conn, "ALTER TABLE ev_p20240311 OWNER TO pgpart_other")
    finding = the_finding(owner, "owner_differs", "_find_partition_owners", "ev")
    assert finding["partition"] == "ev_p20240311"
    conn.execute(finding["fix"])
    assert findings(owner) == []


def test_rls_bypass(owner: Conn) -> None:
    owner.execute("ALTER TABLE ev ENABLE ROW LEVEL SECURITY")
    owner.execute("GRANT SELECT ON ev_p20240310 TO pgpart_other")
    finding = the_finding(owner, "rls_bypass", "_find_rls_grants", "ev")
    assert finding["partition"] == "ev_p20240310"
    owner.execute(finding["fix"])
    assert findings(owner) == []


def test_invalid_index(owner: Conn) -> None:
    owner.execute("CREATE INDEX ev_v ON ONLY ev (v)")  # invalid until every partition has it
    finding = the_finding(owner, "invalid_index", "_find_invalid_indexes", "ev")
    assert "ev_v" in finding["problem"]


def test_drift(owner: Conn) -> None:
    set_policy(owner, "ev", propagate_grants=True)
    owner.execute("GRANT SELECT ON ev TO pgpart_other")  # not propagated yet
    found = coded(findings(owner), "drift")
    assert found
    assert all(r["partition"] for r in found), found
    assert all(r in named(owner, "_find_drift", "ev") for r in found)
    for r in found:
        owner.execute(r["fix"])
    assert findings(owner) == []
    # a policy without reconcile: drift is not its business
    set_policy(owner, "ev", reconcile=False)
    owner.execute("GRANT UPDATE ON ev TO pgpart_other")
    assert named(owner, "_find_drift", "ev") == []


def test_grants_refused(owner: Conn) -> None:
    set_policy(owner, "ev", propagate_grants=True)
    owner.execute("ALTER TABLE ev ENABLE ROW LEVEL SECURITY")
    finding = the_finding(owner, "grants_refused", "_find_drift", "ev")
    owner.execute(finding["fix"])
    assert coded(findings(owner), "grants_refused") == []


def test_hash_remainder_missing(owner_conn: Conn) -> None:
    c = owner_conn
    c.execute("CREATE TABLE acct (tenant bigint NOT NULL, id bigint NOT NULL) PARTITION BY HASH (tenant)")
    c.execute("SELECT count(*) FROM pgpart.create_hash_partitions('acct', 4)")
    c.execute("ALTER TABLE acct DETACH PARTITION acct_h2")
    finding = the_finding(c, "hash_remainder_missing", "_find_hash_remainders", "acct", parent="acct")
    assert "remainder 2 of modulus 4" in finding["problem"]
    c.execute("DROP TABLE acct_h2")
    c.execute(finding["fix"])
    assert coded(findings(c, "acct"), "hash_remainder_missing") == []


def test_hash_remainder_missing_below_a_range_parent(owner: Conn) -> None:
    # the check walks the tree only below a HASH or sub-partitioned parent:
    # a RANGE parent's HASH sub-partition is still seen
    drift(
        owner,
        "CREATE TABLE ev_sub PARTITION OF ev FOR VALUES FROM ('2030-01-01') TO ('2030-01-02') PARTITION BY HASH (v)",
    )
    drift(owner, "CREATE TABLE ev_sub_h0 PARTITION OF ev_sub FOR VALUES WITH (MODULUS 2, REMAINDER 0)")
    finding = the_finding(owner, "hash_remainder_missing", "_find_hash_remainders", "ev")
    assert finding["partition"] == "ev_sub"
    assert "remainder 1 of modulus 2" in finding["problem"]
    owner.execute(finding["fix"])
    assert coded(findings(owner), "hash_remainder_missing") == []


# --- links to other objects ----------------------------------------------------------------------


def test_referenced_by_and_references(owner_conn: Conn) -> None:
    c = owner_conn
    c.execute("CREATE TABLE dim (id integer PRIMARY KEY)")
    create_daily(c, "ev", columns="ts timestamptz NOT NULL, v integer NOT NULL REFERENCES dim, PRIMARY KEY (ts, v)")
    c.execute("CREATE TABLE child (ts timestamptz, v integer, FOREIGN KEY (ts, v) REFERENCES ev)")
    referenced = the_finding(c, "referenced_by", "_find_foreign_keys", "ev")
    assert "public.child" in referenced["problem"]
    references = the_finding(c, "references", "_find_foreign_keys", "ev")
    assert "public.dim" in references["problem"]


def test_published(owner: Conn, conn: Conn) -> None:
    conn.execute("CREATE PUBLICATION pub FOR TABLE ev")
    finding = the_finding(owner, "published", "_find_publications", "ev")
    assert "pub" in finding["problem"]


# --- the parent's check failed ------------------------------------------------------------------


def test_check_failed_and_the_others_go_on(owner: Conn, conn: Conn) -> None:
    create_daily(owner, "ev2")
    conn.execute("UPDATE pgpart.config SET partition_interval = 'garbage' WHERE parent = 'ev'::regclass")
    rows = findings(conn, None)
    [failed] = coded(rows, "check_failed")
    assert failed["parent_table"] == "ev"
    assert failed["problem"].startswith("check of public.ev failed: 22023")
    assert [r for r in rows if r["parent_table"] == "ev2"] == []  # checked, and clean


# --- Python: the client, the pgpart command, Django -------------------------------------------


def test_client_findings_carry_the_code(owner: Conn) -> None:
    owner.execute("DROP TABLE ev_p20240310")
    [finding] = pgpart.Client(owner).check("ev", now_at=NOW)
    assert (finding.severity, finding.code, finding.parent_table) == ("urgent", "no_current_partition", "ev")


def test_the_pgpart_command_shows_the_code(owner: Conn, pg: PgServer, dbname: str) -> None:
    owner.execute("DROP TABLE ev_p20240312")
    command = [sys.executable, "-m", "pgpart", "--dsn", pg.dsn(dbname), "check", "ev", "--now", NOW]
    text = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert text.returncode == 1, text.stderr
    [line] = [x for x in text.stdout.splitlines() if x.startswith("WARNING")]
    assert line.endswith("[runway_short]"), line
    as_json = subprocess.run([*command, "--json"], capture_output=True, text=True, check=False, timeout=300)
    assert [f["code"] for f in json.loads(as_json.stdout)] == ["runway_short"]


def test_the_renderer_shows_the_code() -> None:
    out = io.StringIO()
    print_findings([pgpart.Finding("info", "off_grid", "ev", "ev_odd", "partition off the grid", None)], out)
    assert out.getvalue() == "INFO     ev ev_odd: partition off the grid [off_grid]\n"


def test_django_maps_documented_codes() -> None:
    from pgpart.django import checks

    assert set(checks.FINDING_IDS_BY_CODE) <= set(documented())
    assert {documented()[code] for code in checks.FINDING_IDS_BY_CODE} <= {"urgent", "warning"}
    assert {"pgpart.W110", "pgpart.W111", "pgpart.W112", "pgpart.W119"} == checks.FINDING_CHECK_IDS
