"""Django integration: the ORM and the admin on partitioned models."""

from __future__ import annotations

import datetime as dt

from django_helpers import query


def _month_start(moment: dt.datetime, months_ahead: int = 0) -> dt.datetime:
    month = moment.month - 1 + months_ahead
    return dt.datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=dt.timezone.utc)


def _partition_of(table: str, pk: int) -> str:
    rows = query(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
    assert len(rows) == 1
    return str(rows[0][0])


def test_orm_round_trip_on_a_range_partitioned_model(migrated_db: str) -> None:
    from django.db.models import Count
    from testapp.models import Event, EventNote

    this_month = _month_start(dt.datetime.now(dt.timezone.utc))
    next_month = _month_start(this_month, 1)
    later = _month_start(this_month, 2)

    first = Event.objects.create(created_at=this_month + dt.timedelta(days=3, hours=7), kind="open")
    assert first.id is not None
    assert first.pk == first.id
    assert _partition_of("testapp_event", first.id) == f"testapp_event_p{this_month:%Y%m%d}"

    batch = Event.objects.bulk_create(
        [Event(created_at=start + dt.timedelta(hours=n), kind=f"k{n % 3}") for start in (this_month, next_month, later)
         for n in range(40)]
    )  # fmt: skip
    ids = [e.id for e in batch] + [first.id]
    assert all(i is not None for i in ids)
    assert len(set(ids)) == len(ids) == 121  # one identity sequence for every partition
    # Before PostgreSQL 17 partitions have no identity; from 17 on they take
    # the parent's. Either way there is one sequence, the parent's.
    (server_version,) = query("SELECT current_setting('server_version_num')::integer")[0]
    assert query(
        "SELECT count(*) FROM pg_attribute AS a JOIN pg_inherits AS i ON i.inhrelid = a.attrelid"
        " WHERE i.inhparent = 'testapp_event'::regclass AND a.attidentity <> ''"
    ) == [(3 if server_version >= 170000 else 0,)]
    assert query("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'testapp\\_event\\_%'") == [(1,)]
    per_partition = dict(query("SELECT tableoid::regclass::text, count(*) FROM testapp_event GROUP BY 1"))
    assert per_partition == {
        f"testapp_event_p{this_month:%Y%m%d}": 41,
        f"testapp_event_p{next_month:%Y%m%d}": 40,
        f"testapp_event_p{later:%Y%m%d}": 40,
    }

    in_next = Event.objects.filter(created_at__gte=next_month, created_at__lt=later)
    assert in_next.count() == 40
    plan = in_next.explain()
    assert f"testapp_event_p{next_month:%Y%m%d}" in plan
    assert f"testapp_event_p{this_month:%Y%m%d}" not in plan
    assert f"testapp_event_p{later:%Y%m%d}" not in plan

    # get(pk=...) with Django's `id`, save(), update(), and a row that moves.
    again = Event.objects.get(pk=first.id)
    again.kind = "changed"
    again.save()
    assert Event.objects.get(id=first.id).kind == "changed"
    assert in_next.filter(kind="k0").update(kind="k9") == 14
    again.created_at = later + dt.timedelta(days=1)
    again.save(update_fields=["created_at"])
    assert _partition_of("testapp_event", first.id) == f"testapp_event_p{later:%Y%m%d}"
    assert dict(Event.objects.values_list("kind").annotate(n=Count("id")))["k9"] == 14

    # A ForeignKey with db_constraint=False: joins and Django's cascade work.
    EventNote.objects.create(event=again, text="hello")
    note = EventNote.objects.select_related("event").get()
    assert note.event.id == first.id
    assert list(again.notes.values_list("text", flat=True)) == ["hello"]
    _, by_model = Event.objects.filter(id=first.id).delete()
    assert by_model == {"testapp.EventNote": 1, "testapp.Event": 1}
    assert Event.objects.filter(created_at__gte=next_month).delete()[0] == 80
    assert Event.objects.count() == 40


def test_integer_list_hash_and_composite_models(migrated_db: str) -> None:
    from testapp.models import Measurement, Order, Reading, Visit

    readings = Reading.objects.bulk_create([Reading(batch=b, value=1.0) for b in (0, 999, 1000, 2999)])
    assert [_partition_of("testapp_reading", r.id) for r in readings] == [
        "testapp_reading_p0", "testapp_reading_p0", "testapp_reading_p1000", "testapp_reading_p2000",
    ]  # fmt: skip
    assert "testapp_reading_p1000" in Reading.objects.filter(batch__gte=1000, batch__lt=2000).explain()
    assert "testapp_reading_p0 " not in Reading.objects.filter(batch__gte=1000, batch__lt=2000).explain() + " "

    orders = [Order.objects.create(region=r, amount="9.50") for r in ("de", "fr", "us", "jp")]
    assert [_partition_of("testapp_order", o.id) for o in orders] == [
        "testapp_order_eu", "testapp_order_eu", "testapp_order_us", "testapp_order_default",
    ]  # fmt: skip
    assert Order.objects.filter(region="us").get().id == orders[2].id

    visits = Visit.objects.bulk_create([Visit(user_id=u, path="/") for u in range(20)])
    assert {_partition_of("testapp_visit", v.id) for v in visits} == {f"testapp_visit_h{i}" for i in range(4)}

    today = dt.datetime.now(dt.timezone.utc).date()
    Measurement.objects.create(id=1, taken_on=today, value=2.5)
    Measurement.objects.create(id=2, taken_on=today, value=3.5)
    assert Measurement.objects.get(pk=(1, today)).value == 2.5
    Measurement.objects.filter(pk=(2, today)).update(value=4.0)
    assert Measurement.objects.get(id=2).value == 4.0


def test_admin_changelist_and_change_page(migrated_db: str) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from testapp.models import Event, Order

    event = Event.objects.create(created_at=dt.datetime.now(dt.timezone.utc), kind="admin-visible")
    order = Order.objects.create(region="fr", amount="1.00")
    User.objects.create_superuser("admin", "admin@example.com", "secret")
    client = Client()
    assert client.login(username="admin", password="secret")

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/admin/testapp/event/")
        assert page.status_code == 200
        assert b"admin-visible" in page.content
        change = client.get(f"/admin/testapp/event/{event.id}/change/")
        assert change.status_code == 200
        assert b"admin-visible" in change.content
    # Requests run the application's queries only: nothing of pgpart.
    assert not [q for q in captured.captured_queries if "pgpart" in q["sql"]]

    now = dt.datetime.now(dt.timezone.utc)
    saved = client.post(
        f"/admin/testapp/event/{event.id}/change/",
        {"created_at_0": now.strftime("%Y-%m-%d"), "created_at_1": "12:00:00", "kind": "edited", "payload": '{"a": 1}'},
    )
    assert saved.status_code == 302
    assert Event.objects.get(id=event.id).kind == "edited"

    assert client.get("/admin/testapp/order/").status_code == 200
    assert client.get(f"/admin/testapp/order/{order.id}/change/").status_code == 200
