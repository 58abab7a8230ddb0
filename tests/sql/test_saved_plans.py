"""Saved plans (issue 15 item 7): ``pgpart maintain --dry-run --save FILE``
/ ``pgpart.save_plan()`` / ``Client.save_plan`` write maintenance's plan with
a fingerprint of each table's partitions and policy; ``pgpart apply FILE`` /
``CALL pgpart.apply_plan(plan)`` / ``Client.apply_plan`` run exactly those
steps, and refuse, changing nothing, when the tables or the policy changed or
the file was edited."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

import pgpart
from fix_pg import Connect
from pgpart import cli, errors

Conn = psycopg.Connection[Any]
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
LATER = dt.datetime(2026, 1, 6, tzinfo=dt.timezone.utc)


def make_ev(conn: Conn) -> pgpart.Client:
    """ev: daily, premake 2 from START, retention 3 days then drop: at LATER
    five partitions are due and two expired."""
    conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts)")
    client = pgpart.Client(conn)
    client.ensure("public.ev", interval="1 day", premake=2, now_at=START)
    client.set_policy("public.ev", retention="3 days", retention_action="drop")
    conn.execute("INSERT INTO public.ev VALUES ('2026-01-01 06:00+00', 'old'), ('2026-01-03 06:00+00', 'kept')")
    return client


def partitions(conn: Conn) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname::text FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'public.ev'::regclass ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def catalog_state(conn: Conn) -> tuple[list[str], object, object]:
    """Everything a refused apply must leave as it was."""
    policy = conn.execute(
        "SELECT to_jsonb(c) FROM pgpart.config AS c WHERE c.parent = 'public.ev'::regclass"
    ).fetchone()
    tables = conn.execute(
        "SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relname ~ '^ev'"
    ).fetchone()
    return partitions(conn), policy, tables


def run_cli(conn: Conn, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    dsn = conn.info.dsn
    code = cli.main(["--dsn", dsn, *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_save_then_apply_runs_exactly_the_plan(conn: Conn, tmp_path: Path) -> None:
    make_ev(conn)
    plan_file = tmp_path / "plan.json"
    code, out, err = run_cli(conn, "maintain", "--dry-run", "--save", str(plan_file), "--now", LATER.isoformat())
    assert code == 0, err
    assert f"plan saved to {plan_file}" in out
    assert partitions(conn) == ["ev_p20260101", "ev_p20260102", "ev_p20260103"]  # a dry run changes nothing
    plan = json.loads(plan_file.read_text())
    assert plan["format"] == "pgpart-plan/1"
    assert plan["online"] is True
    (entry,) = plan["tables"]
    assert entry["table"] == "public.ev"
    assert set(entry["fingerprint"]) == {"partitions", "policy"}
    # the saved steps are the dry run's, unchanged
    dry = pgpart.Client(conn).maintain("public.ev", dry_run=True, now_at=LATER)
    assert [(s["action"], s["statement"]) for s in entry["steps"]] == [
        (s.action, s.statement) for s in dict(dry.plans)["public.ev"]
    ]

    code, out, err = run_cli(conn, "apply", str(plan_file))
    assert code == 0, err
    assert partitions(conn) == [f"ev_p202601{d:02d}" for d in range(3, 9)]
    assert conn.execute("SELECT v FROM public.ev").fetchall() == [("kept",)]
    assert not conn.execute("SELECT to_regclass('public.ev_p20260101')").fetchone()[0]  # type: ignore[index]
    logged = conn.execute("SELECT count(*) FROM pgpart.log WHERE action = 'apply_plan' AND outcome = 'ok'").fetchone()
    assert logged is not None
    assert logged[0] > 0

    # applied once: the catalog changed, so the same file is refused
    before = catalog_state(conn)
    code, out, err = run_cli(conn, "apply", str(plan_file))
    assert code == 3
    assert "[55000]" in err
    assert "partitions of table public.ev changed" in err
    assert catalog_state(conn) == before


def test_sql_save_and_call_apply_plan(conn: Conn) -> None:
    make_ev(conn)
    row = conn.execute("SELECT pgpart.save_plan('public.ev', now_at => %s)", [LATER]).fetchone()
    assert row is not None
    plan = row[0]
    assert plan["online"] is False
    assert not any(s["top_level"] for s in plan["tables"][0]["steps"])
    conn.execute("CALL pgpart.apply_plan(%s::jsonb)", [json.dumps(plan)])
    assert partitions(conn) == [f"ev_p202601{d:02d}" for d in range(3, 9)]


def test_call_apply_plan_refuses_an_online_plan(conn: Conn) -> None:
    client = make_ev(conn)
    plan = client.save_plan("public.ev", now_at=LATER, online=True)
    assert any(s["top_level"] for s in plan["tables"][0]["steps"])
    before = catalog_state(conn)
    with pytest.raises(psycopg.errors.FeatureNotSupported) as info:
        conn.execute("CALL pgpart.apply_plan(%s::jsonb)", [json.dumps(plan)])
    assert "pgpart apply" in (info.value.diag.message_hint or "")
    assert catalog_state(conn) == before
    # the client applies it, DETACH ... CONCURRENTLY at top level
    report = client.apply_plan(plan)
    assert ("detach", "public.ev_p20260101") in [(a.action, a.partition) for a in report.actions]
    assert partitions(conn) == [f"ev_p202601{d:02d}" for d in range(3, 9)]


def test_policy_changed_since_the_plan_is_refused(conn: Conn) -> None:
    client = make_ev(conn)
    plan = client.save_plan("public.ev", now_at=LATER)
    client.set_policy("public.ev", retention="30 days")
    before = catalog_state(conn)
    with pytest.raises(errors.PgpartError) as info:
        client.apply_plan(plan)
    assert info.value.sqlstate == "55000"
    assert "policy of table public.ev changed" in str(info.value)
    assert info.value.hint
    assert "new plan" in info.value.hint
    assert catalog_state(conn) == before


def test_partition_added_since_the_plan_is_refused(conn: Conn) -> None:
    client = make_ev(conn)
    plan = client.save_plan(now_at=LATER)
    conn.execute("CREATE TABLE public.ev_hand PARTITION OF public.ev FOR VALUES FROM ('2026-02-01') TO ('2026-02-02')")
    before = catalog_state(conn)
    with pytest.raises(errors.PgpartError) as info:
        client.apply_plan(plan)
    assert info.value.sqlstate == "55000"
    assert "partitions of table public.ev changed" in str(info.value)
    assert catalog_state(conn) == before


def test_an_edited_plan_runs_nothing(conn: Conn) -> None:
    """The fingerprint still matches, but a statement was replaced: only
    statements pgpart generates now are run, so nothing runs."""
    client = make_ev(conn)
    plan = client.save_plan(now_at=LATER, online=False)
    steps = plan["tables"][0]["steps"]
    attach = next(s for s in steps if s["action"] == "attach")
    attach["statement"] = "DROP TABLE public.ev_p20260103"
    before = catalog_state(conn)
    with pytest.raises(errors.PgpartError) as info:
        client.apply_plan(plan)
    assert info.value.sqlstate == "55000"
    assert "not the plan pgpart makes" in str(info.value)
    assert info.value.detail
    assert "DROP TABLE public.ev_p20260103" in info.value.detail
    assert catalog_state(conn) == before
    # an extra step appended is refused the same way
    plan = client.save_plan(now_at=LATER, online=False)
    plan["tables"][0]["steps"].append({**steps[0], "step": 99, "statement": "SELECT 1"})
    with pytest.raises(errors.PgpartError):
        client.apply_plan(plan)
    assert catalog_state(conn) == before


def test_not_a_plan_and_usage_errors(conn: Conn, tmp_path: Path) -> None:
    client = make_ev(conn)
    with pytest.raises(errors.InvalidArgumentError):
        client.apply_plan({"format": "something else"})
    other = client.save_plan(now_at=LATER)
    other["database"] = "elsewhere"
    with pytest.raises(errors.PgpartError) as info:
        client.apply_plan(other)
    assert info.value.sqlstate == "55000"
    assert "elsewhere" in str(info.value)
    code, _, err = run_cli(conn, "maintain", "--save", str(tmp_path / "p.json"))
    assert code == 64
    assert "--save needs --dry-run" in err
    (tmp_path / "bad.json").write_text("not json")
    code, _, err = run_cli(conn, "apply", str(tmp_path / "bad.json"))
    assert code == 64
    assert "cannot read plan file" in err


def test_apply_plan_needs_a_maintainer(conn: Conn, connect: Connect) -> None:
    """Applying acts like maintenance: a role that may not maintain the
    table is refused before anything runs."""
    conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("ALTER TABLE public.ev OWNER TO pgpart_owner")
    owner = pgpart.Client(connect("pgpart_owner"))
    owner.ensure("public.ev", interval="1 day", premake=2, now_at=START)
    plan = owner.save_plan(now_at=LATER, online=False)
    before = partitions(conn)
    with pytest.raises(errors.PgpartError) as info:
        pgpart.Client(connect("pgpart_other")).apply_plan(plan)
    assert info.value.sqlstate == "42501"
    assert partitions(conn) == before
    owner.apply_plan(plan)
    assert len(partitions(conn)) > len(before)


def test_another_run_holding_the_table_applies_nothing(conn: Conn, connect: Connect) -> None:
    """Another pgpart run holds the table's advisory lock: the client and the
    procedure give up after the plan's lock timeout, changing nothing."""
    client = make_ev(conn)
    plan = client.save_plan("public.ev", now_at=LATER, online=False, lock_timeout="50ms", lock_retries=0)
    other = connect()
    other.execute("SELECT pg_advisory_lock(pgpart.advisory_key('public.ev'))")
    before = catalog_state(conn)
    with pytest.raises(errors.LockTimeoutError) as info:
        client.apply_plan(plan)
    assert "another pgpart run" in str(info.value)
    assert catalog_state(conn) == before
    with pytest.raises(psycopg.errors.LockNotAvailable):
        conn.execute("CALL pgpart.apply_plan(%s::jsonb)", [json.dumps(plan)])
    assert catalog_state(conn) == before
    other.execute("SELECT pg_advisory_unlock(pgpart.advisory_key('public.ev'))")
    client.apply_plan(plan)
    assert partitions(conn) == [f"ev_p202601{d:02d}" for d in range(3, 9)]
