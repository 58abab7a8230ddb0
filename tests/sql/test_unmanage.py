"""pgpart.unmanage and Client.unmanage: stop managing a table, keep its
partitions (issue 13, item 3/4: Django's DeletePartitionedModel no longer
deletes from pgpart.config itself)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import psycopg
import pytest

import pgpart
from catalog import partitions
from fix_pg import Connect
from pgpart import errors

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)


def _managed(conn: Conn, name: str = "public.owned") -> list[str]:
    conn.execute(f"CREATE TABLE {name} (ts timestamptz NOT NULL, v integer) PARTITION BY RANGE (ts)")
    pgpart.Client(conn).ensure(name, interval="1 day", premake=2, retention="30 days", now_at=NOW)
    return partitions(conn, name)


def _policy(conn: Conn, parent: str) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT partition_interval, premake, retention FROM pgpart.config WHERE parent = %s::regclass", [parent]
    ).fetchone()


def _unmanage_log(conn: Conn) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT parent_name, actor::text, outcome, detail FROM pgpart.log WHERE action = 'unmanage' ORDER BY id"
    ).fetchall()


# --- SQL ---------------------------------------------------------------------------


def test_unmanage_removes_the_policy_and_keeps_the_partitions(owner_conn: Conn) -> None:
    parts = _managed(owner_conn)
    assert len(parts) == 3
    before = _policy(owner_conn, "public.owned")
    assert before == ("1 day", 2, "30 days")

    planned = owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned', dry_run => true)").fetchall()
    assert len(planned) == 1
    parent, action, applied, partition_count, policy = planned[0]
    assert (str(parent), action, applied, partition_count) == ("owned", "unmanage", False, 3)
    assert (policy["partition_interval"], policy["premake"], policy["retention"]) == before
    assert _policy(owner_conn, "public.owned") == before  # a dry run changes nothing
    assert _unmanage_log(owner_conn) == []

    done = owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned')").fetchall()
    assert [(a, ap, n) for _, a, ap, n, _ in done] == [("unmanage", True, 3)]
    assert done[0][4] == policy
    assert _policy(owner_conn, "public.owned") is None
    assert partitions(owner_conn, "public.owned") == parts  # still attached
    [(name, actor, outcome, detail)] = _unmanage_log(owner_conn)
    assert (name, actor, outcome, detail["partitions"]) == ("public.owned", "pgpart_owner", "ok", 3)
    assert detail["policy"]["retention"] == "30 days"

    # Not managed any more: maintenance of every table leaves it alone, of it alone refuses.
    maintained = owner_conn.execute("SELECT parent_table::text FROM pgpart.run_maintenance()").fetchall()
    assert ("owned",) not in maintained
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        owner_conn.execute("SELECT * FROM pgpart.run_maintenance('public.owned')").fetchall()


def test_unmanage_of_a_table_without_policy(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.plain (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
        owner_conn.execute("SELECT * FROM pgpart.unmanage('public.plain')")
    diag = raised.value.diag
    assert diag.message_hint is not None
    assert "missing_ok" in diag.message_hint
    assert (diag.schema_name, diag.table_name) == ("public", "plain")
    rows = owner_conn.execute("SELECT * FROM pgpart.unmanage('public.plain', missing_ok => true)").fetchall()
    assert rows == []
    assert _unmanage_log(owner_conn) == []
    with pytest.raises(psycopg.errors.UndefinedTable):
        owner_conn.execute("SELECT * FROM pgpart.unmanage('public.nowhere')")


def test_only_the_owner_may_unmanage(owner_conn: Conn, other_conn: Conn) -> None:
    _managed(owner_conn)
    before = _policy(owner_conn, "public.owned")
    for dry_run in (True, False):
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
            other_conn.execute("SELECT * FROM pgpart.unmanage('public.owned', dry_run => %s)", [dry_run])
        diag = raised.value.diag
        assert diag.message_hint is not None
        assert "pgpart_owner" in diag.message_hint
        assert diag.table_name == "owned"
    assert _policy(owner_conn, "public.owned") == before
    assert _unmanage_log(owner_conn) == []


def test_null_arguments_are_refused(owner_conn: Conn) -> None:
    _managed(owner_conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned', dry_run => NULL)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        owner_conn.execute("SELECT * FROM pgpart.unmanage(NULL)")
    assert _policy(owner_conn, "public.owned") is not None


def test_unmanage_waits_for_no_one_while_pgpart_works_on_the_table(owner_conn: Conn, connect: Connect) -> None:
    _managed(owner_conn)
    worker = connect("pgpart_owner", autocommit=False)
    worker.execute("SELECT pg_advisory_xact_lock(pgpart.advisory_key('public.owned'))")  # as maintenance holds it
    with pytest.raises(psycopg.errors.LockNotAvailable) as raised:
        owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned')")
    assert raised.value.diag.message_hint is not None
    assert _policy(owner_conn, "public.owned") is not None
    worker.rollback()
    assert len(owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned')").fetchall()) == 1


def test_a_pending_detach_is_refused(owner_conn: Conn, connect: Connect) -> None:
    parts = _managed(owner_conn)
    # DETACH ... CONCURRENTLY stopped half-way (as in test_lifecycle.py): an
    # open reader makes its wait for older snapshots outlast a statement_timeout.
    reader = connect("pgpart_owner", autocommit=False)
    reader.execute("SELECT count(*) FROM public.owned")
    detacher = connect("pgpart_owner")
    detacher.execute("SET statement_timeout = '300ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        detacher.execute(f"ALTER TABLE public.owned DETACH PARTITION {parts[0]} CONCURRENTLY")
    reader.rollback()
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
        owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned')")
    diag = raised.value.diag
    assert diag.message_detail is not None
    assert parts[0] in diag.message_detail
    assert diag.message_hint is not None
    assert "FINALIZE" in diag.message_hint
    assert _policy(owner_conn, "public.owned") is not None
    owner_conn.execute(f"ALTER TABLE public.owned DETACH PARTITION {parts[0]} FINALIZE")
    assert len(owner_conn.execute("SELECT * FROM pgpart.unmanage('public.owned')").fetchall()) == 1


def test_unmanage_is_documented_and_pinned(conn: Conn) -> None:
    row = conn.execute(
        "SELECT obj_description(p.oid, 'pg_proc'), p.proconfig, p.prosecdef FROM pg_proc AS p"
        " WHERE p.oid = 'pgpart.unmanage(regclass, boolean, boolean)'::regprocedure"
    ).fetchone()
    assert row is not None
    comment, config, secdef = row
    assert comment
    assert "leaves its partitions" in comment
    assert config == ["search_path=pg_catalog, pg_temp"]
    assert secdef is False


# --- Client ------------------------------------------------------------------------


def test_client_unmanage(owner_conn: Conn, other_conn: Conn) -> None:
    parts = _managed(owner_conn)
    client = pgpart.Client(owner_conn)
    assert client.policy("public.owned") is not None

    with pytest.raises(errors.PermissionDeniedError) as raised:
        pgpart.Client(other_conn).unmanage("public.owned")
    assert raised.value.sqlstate == "42501"
    assert raised.value.hint

    planned = client.unmanage("public.owned", dry_run=True)
    assert isinstance(planned, pgpart.types.Unmanaged)
    assert (planned.parent_table, planned.applied, planned.partitions) == ("owned", False, 3)
    assert planned.policy["retention"] == "30 days"
    assert client.policy("public.owned") is not None

    done = client.unmanage("public.owned")
    assert done is not None
    assert done.applied
    assert done.policy == planned.policy
    assert client.policy("public.owned") is None
    assert partitions(owner_conn, "public.owned") == parts

    with pytest.raises(errors.NotManagedError) as missing:
        client.unmanage("public.owned")
    assert missing.value.sqlstate == "55000"
    assert missing.value.table == "public.owned"
    assert client.unmanage("public.owned", missing_ok=True) is None

    # Managed again by ensure, with the partitions it left.
    again = client.ensure("public.owned", interval="1 day", premake=2, now_at=NOW)
    assert again.created == []
    assert client.policy("public.owned") is not None


def test_client_unmanage_inside_the_callers_transaction(connect: Connect) -> None:
    owner = connect("pgpart_owner")
    _managed(owner)
    tx = connect("pgpart_owner", autocommit=False)
    client = pgpart.Client(tx)
    assert client.unmanage("public.owned") is not None
    tx.rollback()  # the client never commits the caller's work
    assert _policy(owner, "public.owned") is not None


def test_client_policy_and_set_policy(owner_conn: Conn) -> None:
    _managed(owner_conn)
    client = pgpart.Client(owner_conn)
    policy = client.policy("public.owned")
    assert policy is not None
    assert (policy["partition_interval"], policy["premake"], policy["retention"]) == ("1 day", 2, "30 days")
    saved = client.set_policy("public.owned", retention="none", premake=5)
    assert (saved["retention"], saved["premake"]) == (None, 5)
    assert client.policy("public.owned") == saved
    assert json.loads(json.dumps(saved)) == saved  # plain JSON values
    owner_conn.execute("CREATE TABLE public.plain (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    assert client.policy("public.plain") is None
    assert client.installed_version() == pgpart.__version__
