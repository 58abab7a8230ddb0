"""pgpart.Client over psycopg 3: ensure, plan, info and the typed errors,
against the real server (a fresh database per test)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

import pgpart
from catalog import config_row, partition_names
from clock import CLIENT_NOW
from fix_pg import Connect
from pgpart import errors
from pgpart.client import POLICY_FIELDS
from tables import make_events


def test_ensure_twice_second_is_a_no_op(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    first = client.ensure("public.events", interval="1 day", premake=2, now_at=CLIENT_NOW)
    assert isinstance(first, pgpart.EnsureReport)
    assert first.changed and not first.dry_run
    assert first.created == ["public.events_p20250310", "public.events_p20250311", "public.events_p20250312"]
    assert all(isinstance(s, pgpart.Step) and s.action == "created" for s in first.steps)
    assert first.steps[0].lower_bound == "2025-03-10 00:00:00+00"
    before = partition_names(conn, "public.events")
    log_rows = conn.execute("SELECT count(*) FROM pgpart.log").fetchone()

    second = client.ensure("public.events", interval="1 day", premake=2, now_at=CLIENT_NOW)
    assert second.created == [] and not second.changed
    assert partition_names(conn, "public.events") == before
    assert conn.execute("SELECT count(*) FROM pgpart.log").fetchone() == log_rows
    # and leaving everything out keeps the policy as it is
    third = client.ensure("public.events", now_at=CLIENT_NOW)
    assert third.created == []
    assert config_row(conn, "public.events")["premake"] == 2


def test_ensure_updates_the_policy(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW)
    assert config_row(conn, "public.events")["premake"] == 1
    report = client.ensure("public.events", premake=3, now_at=CLIENT_NOW)
    assert report.created == ["public.events_p20250312", "public.events_p20250313"]
    assert report.policy_changes == (pgpart.PolicyChange("premake", 1, 3),) and not report.registered
    # a policy change alone is a change (it used to read "nothing changed")
    lifecycle = client.ensure("public.events", retention="60 days", retention_action="archive",
                              archive_schema="public", now_at=CLIENT_NOW)  # fmt: skip
    assert lifecycle.created == [] and lifecycle.changed
    assert [(c.field, c.old, c.new) for c in lifecycle.policy_changes] == [
        ("retention", None, "60 days"), ("retention_action", "detach", "archive"), ("archive_schema", None, "public"),
    ]  # fmt: skip
    shorter = client.ensure("public.events", retention="45 days", retention_action="drop", now_at=CLIENT_NOW)
    assert [(c.field, c.old, c.new) for c in shorter.policy_changes] == [
        ("retention", "60 days", "45 days"), ("retention_action", "archive", "drop"),
    ]  # fmt: skip
    assert not client.ensure("public.events", retention="45 days", now_at=CLIENT_NOW).changed
    assert config_row(conn, "public.events")["premake"] == 3
    assert config_row(conn, "public.events")["partition_interval"] == "1 day"


def test_ensure_without_time_zone_never_regrids(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=1, time_zone="Europe/Berlin", now_at=CLIENT_NOW)
    cfg, parts = config_row(conn, "public.events"), partition_names(conn, "public.events")
    assert cfg["time_zone"] == "Europe/Berlin"
    bounds = [(p.lower_bound, p.upper_bound) for p in client.info("public.events", now_at=CLIENT_NOW)]
    assert bounds[0] == ("2025-03-10 00:00:00+01", "2025-03-11 00:00:00+01")

    report = client.ensure("public.events", now_at=CLIENT_NOW)
    assert report.created == []
    assert client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW).created == []
    after = config_row(conn, "public.events")
    assert (after["time_zone"], after["grid_origin"], after["partition_interval"]) == (
        cfg["time_zone"], cfg["grid_origin"], cfg["partition_interval"],
    )  # fmt: skip
    assert partition_names(conn, "public.events") == parts
    assert [(p.lower_bound, p.upper_bound) for p in client.info("public.events", now_at=CLIENT_NOW)] == bounds


def test_ensure_on_a_plain_table_raises_the_typed_error_with_the_hint(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE public.plain (id int)")
    with pytest.raises(errors.InvalidDefinitionError) as info:
        pgpart.Client(conn).ensure("public.plain", interval="1 day")
    exc = info.value
    assert exc.sqlstate == "42P17"
    assert exc.hint  # the server's hint, whatever its words
    assert exc.table_name == "plain" and exc.schema_name == "public"
    assert exc.table == "public.plain"
    assert isinstance(exc.__cause__, psycopg.errors.InvalidObjectDefinition)
    assert exc.driver_error is exc.__cause__
    assert exc.hint in str(exc)
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (0,)


def test_errors_are_keyed_by_sqlstate(conn: psycopg.Connection[Any], connect: Connect) -> None:
    client = pgpart.Client(conn)
    with pytest.raises(errors.UndefinedTableError) as missing:
        client.ensure("public.nowhere", interval="1 day")
    assert missing.value.sqlstate == "42P01"

    make_events(conn)
    with pytest.raises(errors.InvalidArgumentError) as bad:
        client.ensure("public.events", interval="1 day", premake=-1, now_at=CLIENT_NOW)
    assert bad.value.sqlstate == "22023" and bad.value.hint

    other = pgpart.Client(connect("pgpart_other"))
    with pytest.raises(errors.PermissionDeniedError) as denied:
        other.ensure("public.events", interval="1 day", now_at=CLIENT_NOW)
    assert denied.value.sqlstate == "42501"
    assert partition_names(conn, "public.events") == []

    client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW)
    with pytest.raises(errors.FeatureNotSupportedError) as regrid:
        client.ensure("public.events", interval="1 hour", now_at=CLIENT_NOW)
    assert regrid.value.sqlstate == "0A000" and regrid.value.detail


def test_error_class_fallbacks() -> None:
    assert errors.error_class("55P03") is errors.LockTimeoutError
    assert errors.error_class("22007") is errors.InvalidArgumentError  # class 22
    assert errors.error_class("25P02") is errors.TransactionStateError  # class 25
    assert errors.error_class("XX000") is errors.PgpartError
    assert errors.error_class(None) is errors.PgpartError
    for sqlstate, cls in errors.SQLSTATE_CLASSES.items():
        assert cls.default_sqlstate == sqlstate
        assert issubclass(cls, errors.PgpartError)


def test_dry_run_returns_the_plan_and_changes_nothing(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    report = client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW, dry_run=True)
    assert report.dry_run and report.created == [] and not report.changed
    assert report.planned == ["public.events_p20250310", "public.events_p20250311"]
    actions = [s.action for s in report.steps]
    assert actions[0] == "lock" and "attach" in actions and actions[-1] == "register policy"
    assert [s.step for s in report.steps] == list(range(1, len(report.steps) + 1))
    assert not any(s.top_level for s in report.steps)
    assert client.plan("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW) == list(report.steps)
    assert partition_names(conn, "public.events") == []
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (0,)


def test_info_is_typed(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW)
    conn.execute("INSERT INTO public.events (created_at) VALUES ('2025-03-10 13:00+00'), ('2025-03-11 01:00+00')")
    conn.execute("ANALYZE public.events")
    rows = client.info("public.events", now_at=CLIENT_NOW)
    assert [type(r) for r in rows] == [pgpart.PartitionInfo, pgpart.PartitionInfo]
    first = rows[0]
    assert first.parent_table == "events" and first.partition == "events_p20250310"
    assert (first.level, first.parent_partition, first.is_default, first.detach_pending) == (1, None, False, False)
    assert first.estimated_rows == 1 and isinstance(first.size_bytes, int) and first.size_bytes > 0
    assert first.tablespace == "pg_default"
    assert first.bound and first.bound.startswith("FOR VALUES FROM")
    assert first.runway
    assert client.info(now_at=CLIENT_NOW) == rows  # every managed table
    assert client.info("public.events") != []  # now_at defaults to now()


def test_the_callers_transaction_is_the_callers(connect: Connect) -> None:
    conn = connect(autocommit=False)
    make_events(conn)
    client = pgpart.Client(conn)
    client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # nothing committed
    conn.rollback()
    assert conn.execute("SELECT to_regclass('public.events')").fetchone() == (None,)


def test_a_failed_call_inside_the_callers_transaction(connect: Connect) -> None:
    conn = connect(autocommit=False)
    make_events(conn)
    conn.commit()
    with pytest.raises(errors.InvalidArgumentError):
        pgpart.Client(conn).ensure("public.events", interval="1 day", premake=-1)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    conn.rollback()


def test_any_row_factory(connect: Connect) -> None:
    conn = connect(row_factory=dict_row)
    make_events(conn)
    client = pgpart.Client(conn)
    assert client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW).created == [
        "public.events_p20250310"
    ]
    assert client.info("public.events", now_at=CLIENT_NOW)[0].partition == "events_p20250310"


def test_now_at_must_be_aware(conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    with pytest.raises(errors.InvalidArgumentError):
        pgpart.Client(conn).ensure("public.events", interval="1 day", now_at=dt.datetime(2025, 3, 10))
    report = pgpart.Client(conn).ensure(
        "public.events", interval=dt.timedelta(days=1), premake=0, now_at="2025-03-10 12:00+00"
    )
    assert report.created == ["public.events_p20250310"]
    assert config_row(conn, "public.events")["partition_interval"] == "1 day"


def test_integer_keys(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE public.readings (id bigint NOT NULL, v int) PARTITION BY RANGE (id)")
    client = pgpart.Client(conn)
    report = client.ensure("public.readings", interval=1000, premake=1)
    assert report.created == ["public.readings_p0", "public.readings_p1000"]
    assert [p.lower_bound for p in client.info("public.readings")] == ["0", "1000"]


def test_policy_fields_are_the_config_columns_but_bookkeeping(conn: psycopg.Connection[Any]) -> None:
    # EnsureReport.policy_changes compares these: a new policy column must be listed
    columns = conn.execute(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = 'pgpart.config'::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    ).fetchall()
    bookkeeping = {"parent", "last_error", "last_error_at", "policy_author", "created_at", "updated_at"}
    assert POLICY_FIELDS == tuple(c for (c,) in columns if c not in bookkeeping)
