"""Django integration: the model's own API (``Event.partitioning``), bulk
loads that ensure their partitions first, and upserts on partitioned models
(issue 20, items 4 and 5)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from django_helpers import partitions, query

UTC = dt.timezone.utc


def _month_start(moment: dt.datetime, months_ahead: int = 0) -> dt.datetime:
    month = moment.month - 1 + months_ahead
    return dt.datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _names(table: str) -> list[str]:
    return [name for name, _ in partitions(table)]


def _bare(names: list[str] | set[str | None]) -> set[str]:
    """Partition names as the catalog spells them (steps qualify them: public.x)."""
    return {str(n).removeprefix("public.") for n in names}


def test_every_partitioned_model_has_the_api_and_plain_models_do_not(migrated_db: str) -> None:
    from testapp.models import Event, EventNote, Order, Reading, Visit

    from pgpart.django.partitioning import PartitioningAPI

    for model in (Event, Reading, Order, Visit):
        api = model.partitioning  # type: ignore[attr-defined]
        assert isinstance(api, PartitioningAPI)
        assert api.model is model
        assert api.table == model._meta.db_table
    assert not hasattr(EventNote, "partitioning")
    # on an instance: the API of its class
    assert Event(kind="x").partitioning.model is Event  # type: ignore[attr-defined]


def test_partitions_are_typed_rows_read_from_the_catalog(migrated_db: str) -> None:
    from testapp.models import Event, Order

    from pgpart.types import PartitionInfo

    rows = Event.partitioning.partitions()  # type: ignore[attr-defined]
    assert rows
    assert all(isinstance(r, PartitionInfo) for r in rows)
    assert [r.partition for r in rows] == _names("testapp_event")  # bound order, as the catalog's
    this_month = _month_start(dt.datetime.now(UTC))
    first = rows[0]
    assert dt.datetime.fromisoformat(str(first.lower_bound)) <= this_month
    assert first.tablespace is not None
    assert first.size_bytes is not None
    assert first.estimated_rows is None  # never analyzed: unknown, not 0
    query("ANALYZE testapp_event")
    assert Event.partitioning.partitions()[0].estimated_rows == 0  # type: ignore[attr-defined]
    assert first.runway is not None  # premake 2: the partitions reach ahead of now
    order_rows = Order.partitioning.partitions()  # type: ignore[attr-defined]
    assert {r.partition for r in order_rows} == {"testapp_order_eu", "testapp_order_us", "testapp_order_default"}
    assert [r.is_default for r in order_rows].count(True) == 1


def test_ensure_dry_run_changes_nothing_and_ensure_applies_the_declaration(migrated_db: str) -> None:
    from testapp.models import Event

    api = Event.partitioning  # type: ignore[attr-defined]
    before = _names("testapp_event")
    later = _month_start(dt.datetime.now(UTC), 6)
    plan = api.ensure(now_at=later, dry_run=True)
    assert plan.dry_run
    assert plan.planned  # partitions up to six months ahead, plus premake
    assert _names("testapp_event") == before
    report = api.ensure(now_at=later)
    assert report.created == plan.planned
    assert set(_names("testapp_event")) == set(before) | _bare(report.created)
    assert f"testapp_event_p{_month_start(later, 2):%Y%m%d}" in _names("testapp_event")
    # idempotent
    assert api.ensure(now_at=later).created == []


def test_maintain_check_and_retention_now(migrated_db: str) -> None:
    from testapp.models import Event

    api = Event.partitioning  # type: ignore[attr-defined]
    this_month = _month_start(dt.datetime.now(UTC))
    assert api.check() == [f for f in api.check() if f.severity == "info"]
    # half a year later: partitions to create ahead, and expired ones (retention 3 months, drop)
    later = _month_start(this_month, 6)
    plan = api.maintain(dry_run=True, now_at=later)
    assert plan.dry_run
    planned = [s for _, steps in plan.plans for s in steps]
    assert planned
    assert _names("testapp_event")[0] == f"testapp_event_p{this_month:%Y%m%d}"  # nothing changed
    findings = api.check(now_at=later)
    assert "no_current_partition" in {f.code for f in findings}

    report = api.maintain(now_at=later, apply_retention=False)
    assert report.ok, report.errors
    assert [a for a in report.actions if a.action == "retention due"]
    assert f"testapp_event_p{this_month:%Y%m%d}" in _names("testapp_event")  # retention not applied

    retention = api.detach(now_at=later)
    assert not retention.dry_run
    dropped = _bare({s.partition for s in retention.steps if s.action == "drop"})
    assert f"testapp_event_p{this_month:%Y%m%d}" in dropped
    assert f"testapp_event_p{this_month:%Y%m%d}" not in _names("testapp_event")
    assert query("SELECT to_regclass(%s)", [f"testapp_event_p{this_month:%Y%m%d}"]) == [(None,)]
    assert not [f for f in api.check(now_at=later) if f.severity != "info"]


@pytest.fixture
def tablespace(pg: Any, migrated_db: str) -> Iterator[str]:
    """A tablespace the Django role may create in (dropped afterwards: the
    test moves what it put there back first)."""
    name = f"ts_{migrated_db}"
    location = Path(pg.datadir).parent / name
    location.mkdir()
    if os.geteuid() == 0:
        shutil.chown(location, "postgres", "postgres")
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(location)))
        )
        admin.execute(sql.SQL("GRANT CREATE ON TABLESPACE {} TO pgpart_owner").format(sql.Identifier(name)))
        yield name
        admin.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))
    shutil.rmtree(location, ignore_errors=True)


def test_set_tablespace_moves_one_partition_of_the_model(migrated_db: str, tablespace: str) -> None:
    from testapp.models import Event, Reading

    from pgpart.errors import InvalidArgumentError

    api = Event.partitioning  # type: ignore[attr-defined]
    name = _names("testapp_event")[0]
    Event.objects.create(created_at=_month_start(dt.datetime.now(UTC)) + dt.timedelta(hours=1), kind="moved")
    plan = api.set_tablespace(name, tablespace, dry_run=True)
    assert any(tablespace in s.statement for s in plan)
    assert query("SELECT reltablespace FROM pg_class WHERE relname = %s", [name]) == [(0,)]
    api.set_tablespace(name, tablespace)
    by_name = {r.partition: r.tablespace for r in api.partitions()}
    assert by_name[name] == tablespace
    assert (
        query(
            "SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid"
            " JOIN pg_tablespace AS t ON t.oid = c.reltablespace WHERE i.indrelid = %s::regclass AND t.spcname = %s",
            [name, tablespace],
        )[0][0]
        >= 1
    )  # its indexes follow
    assert Event.objects.get(kind="moved").kind == "moved"
    with pytest.raises(InvalidArgumentError):
        Reading.partitioning.set_tablespace(name, tablespace)  # type: ignore[attr-defined]  # not its partition
    api.set_tablespace(name, "pg_default")
    assert {r.partition: r.tablespace for r in api.partitions()}[name] != tablespace


class _ToReplica:
    """A router sending every read and write of testapp.Event to "replica"."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "replica" if model._meta.label == "testapp.Event" else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "replica" if model._meta.label == "testapp.Event" else None


@pytest.fixture
def replica_alias(migrated_db: str) -> Iterator[list[str]]:
    """A second alias on the same database, the router above installed;
    yields the statements run on that alias."""
    from django.db import connections, router

    connections.settings["replica"] = dict(connections.settings["default"])
    seen: list[str] = []

    def record(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(statement)
        return execute(statement, params, many, context)

    saved = router.__dict__.get("routers")
    router.__dict__["routers"] = [_ToReplica()]
    try:
        with connections["replica"].execute_wrapper(record):
            yield seen
    finally:
        if saved is None:
            router.__dict__.pop("routers", None)
        else:
            router.__dict__["routers"] = saved
        connections["replica"].close()
        del connections["replica"]
        del connections.settings["replica"]


def test_calls_go_to_the_database_the_routers_choose(replica_alias: list[str]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from testapp.models import Event

    api = Event.partitioning  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as on_default:
        assert api.db_for_write() == api.db_for_read() == "replica"
        api.partitions()
        api.check()
        api.ensure(dry_run=True)
    assert not [q for q in on_default.captured_queries if "pgpart" in q["sql"]]
    assert any("partition_info" in s for s in replica_alias)
    assert any("check" in s for s in replica_alias)
    assert any("ensure_range" in s for s in replica_alias)
    # using() wins over the routers
    replica_alias.clear()
    with CaptureQueriesContext(connection) as on_default:
        api.using("default").partitions()
    assert any("partition_info" in q["sql"] for q in on_default.captured_queries)
    assert not replica_alias


def test_bulk_create_ensures_the_partitions_of_a_backfill_first(migrated_db: str) -> None:
    from django.db import IntegrityError, transaction
    from testapp.models import Event

    last_year = _month_start(dt.datetime.now(UTC), -14)
    rows = [Event(created_at=last_year + dt.timedelta(days=d, hours=3), kind="old") for d in range(0, 75, 5)]
    # Django alone: no partition holds those keys
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.bulk_create(rows[:1])
    before = set(_names("testapp_event"))
    created = Event.partitioning.bulk_create(rows, batch_size=4)  # type: ignore[attr-defined]
    assert len(created) == len(rows)
    new = set(_names("testapp_event")) - before
    assert {f"testapp_event_p{_month_start(last_year, m):%Y%m%d}" for m in range(3)} <= new
    per_partition = dict(query("SELECT tableoid::regclass::text, count(*) FROM testapp_event GROUP BY 1"))
    assert sum(per_partition.values()) == len(rows)
    assert per_partition[f"testapp_event_p{last_year:%Y%m%d}"] == 7  # days 0..30 of that month, every 5th
    # a second load into the same range creates nothing more
    Event.partitioning.bulk_create([Event(created_at=last_year, kind="again")])  # type: ignore[attr-defined]
    assert set(_names("testapp_event")) - before == new


def test_bulk_create_of_an_integer_keyed_model_beyond_its_partitions(migrated_db: str) -> None:
    from testapp.models import Reading

    Reading.partitioning.bulk_create([Reading(batch=b, value=0.5) for b in (5500, 9200, 7000)])  # type: ignore[attr-defined]
    names = set(_names("testapp_reading"))
    assert {f"testapp_reading_p{n}" for n in (5000, 6000, 7000, 8000, 9000)} <= names
    assert dict(query("SELECT batch, tableoid::regclass::text FROM testapp_reading")) == {
        5500: "testapp_reading_p5000", 9200: "testapp_reading_p9000", 7000: "testapp_reading_p7000",
    }  # fmt: skip


def test_upserts_and_ignored_conflicts_on_a_partitioned_model(migrated_db: str) -> None:
    from django.db import ProgrammingError, transaction
    from testapp.models import Event

    at = _month_start(dt.datetime.now(UTC)) + dt.timedelta(days=1)
    first = Event.objects.create(created_at=at, kind="first")
    # update_conflicts on a unique constraint that contains the key: the primary key (id, created_at)
    Event.partitioning.bulk_create(  # type: ignore[attr-defined]
        [Event(id=first.id, created_at=at, kind="updated"), Event(id=first.id + 1000, created_at=at, kind="new")],
        update_conflicts=True,
        unique_fields=["id", "created_at"],
        update_fields=["kind"],
    )
    assert dict(Event.objects.values_list("id", "kind")) == {first.id: "updated", first.id + 1000: "new"}
    # ignore_conflicts: the existing row is kept as it is
    Event.objects.bulk_create([Event(id=first.id, created_at=at, kind="ignored")], ignore_conflicts=True)
    assert Event.objects.get(id=first.id).kind == "updated"
    # unique fields without the key name no unique constraint: PostgreSQL refuses (42P10)
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        Event.objects.bulk_create(
            [Event(id=first.id, created_at=at, kind="x")],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["kind"],
        )
    assert getattr(refused.value.__cause__, "sqlstate", None) == "42P10"
    assert Event.objects.count() == 2


def test_client_ensure_covering_over_the_cap_and_refusals(owner_conn: psycopg.Connection[Any]) -> None:
    import pgpart
    from pgpart.errors import InvalidArgumentError

    owner_conn.autocommit = True
    owner_conn.execute("CREATE TABLE daily (id bigint, at date NOT NULL) PARTITION BY RANGE (at)")
    client = pgpart.Client(owner_conn)
    with pytest.raises(InvalidArgumentError):
        client.ensure_covering("daily", dt.date(2024, 1, 1), dt.date(2024, 2, 1))  # not managed yet
    client.ensure("daily", interval="1 day", premake=1, now_at="2025-06-01 12:00+00")
    calls: list[int] = []
    report = client.ensure_covering(
        "daily", dt.date(2024, 1, 1), dt.date(2024, 9, 1), max_new=90, progress=lambda r: calls.append(len(r.created))
    )
    assert len(calls) >= 3  # 245 days ahead of high's window: several bounded calls
    assert max(calls) <= 90
    have = {r[0] for r in owner_conn.execute(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'daily'::regclass"
    )}  # fmt: skip
    day = dt.date(2024, 1, 1)
    while day <= dt.date(2024, 9, 1):
        assert f"daily_p{day:%Y%m%d}" in have
        day += dt.timedelta(days=1)
    assert len(report.created) == sum(calls)
    # the policy is what it was (premake 1): ensure_covering changes no policy
    assert owner_conn.execute("SELECT premake FROM pgpart.config WHERE parent = 'daily'::regclass").fetchone() == (1,)
    owner_conn.execute("INSERT INTO daily VALUES (1, '2024-01-01'), (2, '2024-09-01')")
    assert client.ensure_covering("daily", dt.date(2024, 3, 1), dt.date(2024, 4, 1)).created == []
    with pytest.raises(InvalidArgumentError):
        client.ensure_covering("daily", 1, 2)  # a date key takes dates
