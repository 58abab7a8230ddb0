"""The pgpart command against the test server: every sub-command, exit codes,
--json output, and the connection from --dsn or the libpq environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psycopg

from catalog import archived
from cli_runner import dsn, pgpart
from clock import CLI_NOW
from fix_pg import Connect, FreshDatabase
from pgcluster import PgServer
from pgpart import cli
from tables import EXPIRED, make_events, managed_events


def test_install(pg: PgServer, dbname: str, fresh_database: FreshDatabase) -> None:
    done = pgpart(*dsn(pg, dbname), "install")
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "nothing to do" in done.stdout
    fresh = fresh_database()
    done = pgpart("install", "--method", "script", *dsn(pg, fresh))  # --dsn after the command works too
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "installed with the script shipped with this package" in done.stdout


def test_ensure_with_options(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    conn.execute("CREATE TABLE public.plain (id int)")
    args = [*dsn(pg, dbname), "ensure", "public.events", "--interval", "1 day", "--premake", "1", "--now", CLI_NOW]
    plan = pgpart(*args, "--dry-run")
    assert plan.returncode == cli.EXIT_OK, plan.stderr
    assert "ATTACH PARTITION public.events_p20250311" in plan.stdout
    first = pgpart(*args)
    assert first.returncode == cli.EXIT_OK, first.stderr
    assert first.stdout == "public.events: created public.events_p20250310, public.events_p20250311\n"
    second = pgpart(*args, "--json")
    assert second.returncode == cli.EXIT_OK
    assert json.loads(second.stdout) == [{"table": "public.events", "created": [], "policy_changes": {}, "steps": []}]
    # a policy change alone is reported field by field, never as "up to date"
    third = pgpart(*args[:-4], "--retention", "30 days", "--retention-action", "drop", "--now", CLI_NOW)
    assert third.returncode == cli.EXIT_OK, third.stderr
    assert third.stdout == (
        "public.events: policy retention: none -> 30 days\n"
        "public.events: policy retention_action: detach -> drop\n"
    )

    failed = pgpart(*dsn(pg, dbname), "ensure", "public.plain", "--interval", "1 day")
    assert failed.returncode == cli.EXIT_ERROR
    assert "[42P17]" in failed.stderr and "HINT: " in failed.stderr
    assert pgpart(*dsn(pg, dbname), "ensure").returncode == cli.EXIT_USAGE


def test_ensure_from_a_policy_file(pg: PgServer, dbname: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    make_events(conn)
    make_events(conn, "clicks")
    conn.execute("CREATE TABLE public.plain (id int)")
    policies = tmp_path / "policies.toml"
    policies.write_text(
        '[defaults]\npremake = 1\n\n[tables."public.events"]\ninterval = "1 day"\nretention = "30 days"\n\n'
        '[tables."public.clicks"]\ninterval = "1 day"\npremake = 0\ntime_zone = "Europe/Berlin"\n'
    )
    done = pgpart(*dsn(pg, dbname), "ensure", "--file", str(policies), "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert done.stdout.splitlines() == [
        "public.events: created public.events_p20250310, public.events_p20250311",
        "public.clicks: created public.clicks_p20250310",
    ]
    row = conn.execute("SELECT retention FROM pgpart.config WHERE parent = 'public.events'::regclass").fetchone()
    assert row == ("30 days",)

    policies.write_text('[tables."public.events"]\ninterval = "1 day"\n\n[tables."public.plain"]\ninterval = "1 day"\n')
    partial = pgpart(*dsn(pg, dbname), "ensure", "--file", str(policies), "--now", CLI_NOW)
    assert partial.returncode == cli.EXIT_PARTIAL
    assert "public.events: up to date" in partial.stdout
    assert "public.plain" in partial.stderr and "[42P17]" in partial.stderr

    policies.write_text('[tables."public.events"]\nintervall = "1 day"\n')
    bad = pgpart(*dsn(pg, dbname), "ensure", "--file", str(policies))
    assert bad.returncode == cli.EXIT_USAGE and "unknown key 'intervall'" in bad.stderr


def test_info(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    managed_events(conn)
    conn.execute("ANALYZE public.events")
    done = pgpart(*dsn(pg, dbname), "info", "public.events", "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_OK, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("events: 7 partitions, ") and "runway 1 day 12:00:00" in lines[0]
    assert lines[0].endswith(", tablespace pg_default")  # one for all: said once, not per row
    assert lines[1].split() == ["partition", "from", "to", "rows", "size"]
    assert lines[2].split()[:4] == ["events_p20250305", "2025-03-05", "00:00:00+00", "2025-03-06"]
    assert lines[2].split()[5] == "10"
    as_json = pgpart(*dsn(pg, dbname), "info", "--json", "--now", CLI_NOW)
    rows = json.loads(as_json.stdout)
    assert [r["partition"] for r in rows][:3] == EXPIRED
    assert set(rows[0]) >= {"lower_bound", "upper_bound", "estimated_rows", "size_bytes", "tablespace", "runway"}


def test_info_of_a_plain_table_is_an_error(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE public.plain (id int)")
    done = pgpart(*dsn(pg, dbname), "info", "public.plain")
    assert done.returncode == cli.EXIT_ERROR
    assert "plain is not a partitioned table" in done.stderr and "HINT" in done.stderr.upper()


def test_check_exit_codes(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    conn.execute("CREATE TABLE public.unmanaged (t timestamptz) PARTITION BY RANGE (t)")
    assert pgpart(*dsn(pg, dbname), "ensure", "public.events", "--interval", "1 day", "--now", CLI_NOW).returncode == 0
    clean = pgpart(*dsn(pg, dbname), "check", "--now", CLI_NOW)
    assert clean.returncode == cli.EXIT_OK, clean.stdout + clean.stderr
    # seeded problem: a month later the partitions have run out
    late = pgpart(*dsn(pg, dbname), "check", "--now", "2025-04-10 12:00+00")
    assert late.returncode in (cli.EXIT_WARNING, cli.EXIT_URGENT), late.stdout + late.stderr
    findings = json.loads(pgpart(*dsn(pg, dbname), "check", "--json", "--now", "2025-04-10 12:00+00").stdout)
    assert findings and {f["severity"] for f in findings} <= {"urgent", "warning", "info"}
    expected = cli.EXIT_URGENT if any(f["severity"] == "urgent" for f in findings) else cli.EXIT_WARNING
    assert late.returncode == expected
    assert all(f["parent_table"] == "events" for f in findings)
    unknown = pgpart(*dsn(pg, dbname), "check", "public.unmanaged")
    assert unknown.returncode == cli.EXIT_ERROR and "[55000]" in unknown.stderr


def test_maintain(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    managed_events(conn)
    plan = pgpart(*dsn(pg, dbname), "maintain", "--dry-run", "--now", CLI_NOW)
    assert plan.returncode == cli.EXIT_OK, plan.stderr
    assert "ALTER TABLE public.events DETACH PARTITION public.events_p20250305 CONCURRENTLY" in plan.stdout
    assert "(top level)" in plan.stdout
    assert archived(conn) == []
    as_json = json.loads(pgpart(*dsn(pg, dbname), "maintain", "--dry-run", "--json", "--now", CLI_NOW).stdout)
    assert as_json["dry_run"] and as_json["plans"][0]["table"] == "events"

    done = pgpart(*dsn(pg, dbname), "maintain", "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "[1/" in done.stderr  # progress
    assert "detach" in done.stdout and "public.events_p20250307" in done.stdout
    assert archived(conn) == EXPIRED
    again = pgpart(*dsn(pg, dbname), "maintain", "--now", CLI_NOW, "--quiet")
    assert again.returncode == cli.EXIT_OK and again.stderr == ""


def test_maintain_with_a_failing_table(
    pg: PgServer, dbname: str, conn: psycopg.Connection[Any], connect: Connect
) -> None:
    managed_events(conn)
    other = connect()
    other.execute("SELECT pg_advisory_lock(pgpart.advisory_key('public.events'))")
    # another run holds the table: skipped, not a failure (issue 14)
    done = pgpart(*dsn(pg, dbname), "maintain", "--now", CLI_NOW, "--lock-retries", "0")
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "skipped" in done.stdout
    assert "another pgpart run" in done.stdout
    sql_path = pgpart(*dsn(pg, dbname), "maintain", "--now", CLI_NOW, "--sql-path", "--lock-timeout", "10ms")
    assert sql_path.returncode in (cli.EXIT_OK, cli.EXIT_PARTIAL)
    other.execute("SELECT pg_advisory_unlock_all()")
    assert pgpart(*dsn(pg, dbname), "maintain", "--now", CLI_NOW, "--sql-path").returncode == cli.EXIT_OK
    assert archived(conn) == EXPIRED


def test_demo(pg: PgServer, dbname: str) -> None:
    done = pgpart(*dsn(pg, dbname), "demo")
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "$ pgpart info pgpart_demo.events" in done.stdout
    assert "$ pgpart maintain --dry-run pgpart_demo.events" in done.stdout
    # the whole life of a table: days ahead made, expired ones dropped, a finding fixed
    assert "drop            | 4     | pgpart_demo.events_p20260101 | pgpart_demo.events_p20260104" in done.stdout
    assert "urgent: default_rows" in done.stdout and "warning: gap" in done.stdout
    assert done.stdout.count("(0 findings)") == 1  # the last check, after the fixes
    assert "pgpart_demo.events_p20260115 | 2026-01-15 10:00:00+00" in done.stdout  # the row moved out of the default
    assert max(len(line) for line in done.stdout.splitlines()) <= 100  # readable in a 100-column terminal
    assert pgpart(*dsn(pg, dbname), "demo").returncode == cli.EXIT_ERROR  # the schema exists
    assert pgpart(*dsn(pg, dbname), "demo", "--reset").returncode == cli.EXIT_OK


def test_connection_from_the_libpq_environment(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    env = {**os.environ, "PGHOST": pg.host, "PGPORT": str(pg.port), "PGDATABASE": dbname, "PGUSER": "postgres"}
    done = pgpart("ensure", "public.events", "--interval", "1 day", "--premake", "0", "--now", CLI_NOW, env=env)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert done.stdout == "public.events: created public.events_p20250310\n"


def test_usage_and_connection_errors(pg: PgServer, dbname: str) -> None:
    assert pgpart().returncode == cli.EXIT_USAGE
    assert pgpart("frobnicate").returncode == cli.EXIT_USAGE
    assert pgpart(*dsn(pg, dbname), "maintain", "--lock-retries", "many").returncode == cli.EXIT_USAGE
    nowhere = pgpart("--dsn", pg.dsn("no_such_database"), "info")
    assert nowhere.returncode == cli.EXIT_ERROR and "no_such_database" in nowhere.stderr
    version = pgpart("--version")
    assert version.returncode == 0 and version.stdout.startswith("pgpart ")


def test_the_console_script_is_declared() -> None:
    from importlib.metadata import entry_points

    [script] = [e for e in entry_points(group="console_scripts") if e.name == "pgpart"]
    assert script.value == "pgpart.cli:main"


def test_maintain_moves_default_rows(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    args = [*dsn(pg, dbname), "ensure", "public.events", "--interval", "1 day", "--premake", "0", "--now", CLI_NOW]
    assert pgpart(*args, "--default-partition").returncode == cli.EXIT_OK
    conn.execute("INSERT INTO public.events (created_at) VALUES ('2025-04-01 10:00+00')")
    done = pgpart(*dsn(pg, dbname), "maintain", "public.events", "--move-default-rows", "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert "[1] moved 1 rows to public.events_p20250401" in done.stderr
    assert pgpart(*dsn(pg, dbname), "maintain", "--move-default-rows").returncode == cli.EXIT_USAGE
