"""Django integration: the admin's partitions page of a partitioned model
(issue 20, item 6): content, permissions, read-only, catalog only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from django_helpers import partitions, query

PAGE = "/admin/testapp/event/partitions/"


def _user(name: str, *, staff: bool, perms: tuple[str, ...] = (), superuser: bool = False) -> Any:
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    if superuser:
        user = User.objects.create_superuser(name, f"{name}@example.com", "secret")
    else:
        user = User.objects.create_user(name, f"{name}@example.com", "secret", is_staff=staff)
        for codename in perms:
            user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="testapp"))
    client = Client()
    assert client.login(username=name, password="secret")
    return client


@pytest.fixture
def loaded(migrated_db: str) -> str:
    from testapp.models import Event, Order

    start = dt.datetime.now(dt.timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    Event.objects.bulk_create([Event(created_at=start + dt.timedelta(minutes=n), kind="k") for n in range(2000)])
    Order.objects.create(region="jp", amount="1.00")  # in the default partition: an urgent finding
    query("ANALYZE testapp_event")
    query("ANALYZE testapp_order")
    return migrated_db


def test_the_page_lists_partitions_in_bound_order_with_sizes_runway_and_findings(loaded: str) -> None:
    client = _user("admin", staff=True, superuser=True)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    names = [name for name, _ in partitions("testapp_event")]
    positions = [html.index(f"<code>{name}</code>") for name in names]
    assert positions == sorted(positions)  # bound order
    assert "runway" in html
    assert "2000" in html  # the estimated rows of this month's partition (after ANALYZE)
    widths = [int(w) for w in re.findall(r'style="width: (\d+)%"', html)]
    assert len(widths) == len(names)
    assert max(widths) == 100
    assert min(widths) < 100  # the filled partition is larger than the empty ones
    assert "Nothing to report." in html  # Event: no finding
    assert "pg_default" in html

    orders = client.get("/admin/testapp/order/partitions/").content.decode()
    assert "DEFAULT" in orders
    assert "default_rows" in orders  # the finding, with its fix
    from django.utils.html import escape
    from testapp.models import Order

    problems = [f.problem for f in Order.partitioning.check() if f.code == "default_rows"]  # type: ignore[attr-defined]
    assert len(problems) == 1
    assert escape(problems[0]) in orders

    # a finding with a ready fix: the runway shortened by detaching the last partition
    last = names[-1]
    query(f"ALTER TABLE testapp_event DETACH PARTITION {last}")
    from testapp.models import Event

    fixed = [f for f in Event.partitioning.check() if f.fix]  # type: ignore[attr-defined]
    assert fixed
    html = client.get(PAGE).content.decode()
    assert f"<code>{last}</code>" not in html
    for finding in fixed:
        assert f"<code>{escape(finding.code)}</code>" in html
        assert f"<code>{escape(finding.fix)}</code>" in html
    assert "Nothing to report." not in html

    changelist = client.get("/admin/testapp/event/").content.decode()
    assert f'href="{PAGE}"' in changelist


def test_the_page_is_for_staff_with_the_view_permission(loaded: str) -> None:
    from django.test import Client

    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert _user("plain", staff=True).get(PAGE).status_code == 403
    viewer = _user("viewer", staff=True, perms=("view_event",))
    assert viewer.get(PAGE).status_code == 200
    assert viewer.get("/admin/testapp/order/partitions/").status_code == 403  # no permission on Order
    assert _user("editor", staff=True, perms=("change_event",)).get(PAGE).status_code == 200  # change implies view
    not_staff = _user("outsider", staff=False, perms=("view_event",)).get(PAGE)
    assert not_staff.status_code == 302
    assert "/login/" in not_staff["Location"]


def test_the_page_is_read_only(loaded: str) -> None:
    client = _user("admin", staff=True, superuser=True)
    before = partitions("testapp_event")
    assert client.post(PAGE, {}).status_code == 405
    assert client.put(PAGE).status_code == 405
    assert partitions("testapp_event") == before


@pytest.fixture
def locked_partition(pg: Any, loaded: str) -> Iterator[str]:
    """This month's partition of testapp_event locked ACCESS EXCLUSIVE by
    another session, in a transaction held open until the test ends."""
    name = partitions("testapp_event")[0][0]
    with psycopg.connect(pg.dsn(loaded)) as other:
        other.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        yield name
        other.rollback()


def test_the_page_reads_the_catalog_only_and_never_waits_for_a_lock(locked_partition: str) -> None:
    from django.db import connection

    client = _user("admin", staff=True, superuser=True)
    # if the page waited for the lock, it would fail here (57014) instead of answering
    with connection.cursor() as cur:
        cur.execute("SET statement_timeout = '20s'")
    held = query(
        "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND mode = 'AccessExclusiveLock' AND granted",
        [locked_partition],
    )
    assert held == [(1,)]
    page = client.get(PAGE)
    assert page.status_code == 200
    assert f"<code>{locked_partition}</code>" in page.content.decode()
