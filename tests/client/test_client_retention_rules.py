"""Retention by size and rows, its grace period and reattach_partition from
the Python client and the pgpart command (issue 21, item 1): the policy
arguments of Client.set_policy / Client.ensure / ``pgpart ensure``, the
reason of each retention step in a maintenance dry run (``why:`` in the
command's plan), the grace period's check() finding, and
Client.reattach_partition / ``pgpart reattach``."""

from __future__ import annotations

import json
from typing import Any

import psycopg

import pgpart
from catalog import partition_names
from cli_runner import dsn
from cli_runner import pgpart as run_pgpart
from clock import CLI_NOW, CLIENT_NOW
from pgcluster import PgServer
from tables import managed_events

ROWS_RULE = ["events_p20250305", "events_p20250306", "events_p20250307"]


def rules_policy(conn: psycopg.Connection[Any]) -> pgpart.Client:
    """events (50 rows over 5 days, see managed_events) kept to at most 20
    rows, dropped after a grace period of 3 days; age no longer counts."""
    client = managed_events(conn, retention_action="drop")
    policy = client.set_policy(
        "public.events", retention="none", retention_max_rows=20, retention_grace="3 days", retention_action="drop"
    )
    assert (policy["retention"], policy["retention_max_rows"], policy["retention_grace"]) == (None, 20, "3 days")
    conn.execute("ANALYZE public.events")
    return client


def test_dry_run_says_which_rule(conn: psycopg.Connection[Any]) -> None:
    client = rules_policy(conn)
    report = client.maintain("public.events", dry_run=True, now_at=CLIENT_NOW)
    [(_, steps)] = report.plans
    detaches = [s for s in steps if s.action in ("journal", "detach")]
    assert [s.partition for s in detaches if s.action == "detach"] == [f"public.{p}" for p in ROWS_RULE]
    assert all(s.reason is not None and s.reason.startswith("rows: ") for s in detaches)
    assert not [s for s in steps if s.action == "drop"]  # the grace period comes first


def test_grace_then_reattach(conn: psycopg.Connection[Any]) -> None:
    client = rules_policy(conn)
    client.maintain("public.events", now_at=CLIENT_NOW)
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    waiting = [f for f in client.check("public.events", now_at=CLIENT_NOW) if f.code == "retention_grace"]
    assert [f.partition for f in waiting] == ROWS_RULE
    plan = client.reattach_partition("public.events", "public.events_p20250307", dry_run=True)
    assert [s.action for s in plan] == ["check", "attach", "drop check", "journal"]
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    client.set_policy("public.events", retention_max_rows=1000)
    done = client.reattach_partition("public.events", "public.events_p20250307", lock_timeout="1s")
    assert [s.action for s in done] == ["check", "attach", "drop check", "journal"]
    assert partition_names(conn, "public.events")[0] == "events_p20250307"
    waiting = [f for f in client.check("public.events", now_at=CLIENT_NOW) if f.code == "retention_grace"]
    assert [f.partition for f in waiting] == ROWS_RULE[:2]


def test_cli_options_plan_and_reattach(conn: psycopg.Connection[Any], pg: PgServer, dbname: str) -> None:
    managed_events(conn, retention_action="drop")
    conn.execute("ANALYZE public.events")
    args = ["ensure", "public.events", "--retention", "none", "--retention-max-rows", "20"]
    done = run_pgpart(*dsn(pg, dbname), *args, "--retention-grace", "3 days", "--now", CLI_NOW)
    assert done.returncode == 0, done.stderr
    assert "retention_max_rows: none -> 20" in done.stdout
    plan = run_pgpart(*dsn(pg, dbname), "maintain", "public.events", "--dry-run", "--now", CLI_NOW)
    assert plan.returncode == 0, plan.stderr
    assert "why: rows: the partitions hold 50 rows, more than retention_max_rows 20" in plan.stdout
    done = run_pgpart(*dsn(pg, dbname), "maintain", "public.events", "--now", CLI_NOW, "--quiet")
    assert done.returncode == 0, done.stderr
    reattach = ["reattach", "public.events", "public.events_p20250305"]
    plan = run_pgpart(*dsn(pg, dbname), *reattach, "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    assert [s["action"] for s in json.loads(plan.stdout)] == ["check", "attach", "drop check", "journal"]
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    done = run_pgpart(*dsn(pg, dbname), *reattach)
    assert done.returncode == 0, done.stderr
    assert "reattached public.events_p20250305" in done.stdout
    assert partition_names(conn, "public.events")[0] == "events_p20250305"
