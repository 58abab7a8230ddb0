"""Django: a ForeignKey to a partitioned model by its primary key, enforced
by the database (issue 17 item 4; docs/django.md "Unique fields and foreign
keys across partitions").

The partitioned table's primary key is (id, key): `id` alone is unique only
per partition, so PostgreSQL cannot reference it. pgpart makes the pk a
global unique constraint (``<table>_id_gkey``) as soon as an enforced
relation targets it, and the relation's foreign key references its side
table. Each test is a small project of its own (tests/django_shop.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from django_shop import Shop, make_shop

EVENT = """

class Event(models.Model):
    created = models.DateTimeField()

    class Partitioning:
        key = "created"
        interval = "1 month"
        premake = 2
"""

TICKETS = """

class Ticket(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE)
    seat = models.IntegerField()


class Hold(models.Model):
    event = models.ForeignKey(Event, on_delete=models.PROTECT)
"""

# Django in the project's environment: the collector's CASCADE and PROTECT
COLLECTOR = """
from django.db.models import ProtectedError
from shop.models import Event, Hold, Ticket
first, second = Event.objects.order_by("created")
print("CASCADE", first.delete())
try:
    second.delete()
    print("deleted")
except ProtectedError:
    print("PROTECTED", Event.objects.count(), Hold.objects.count())
"""


def test_foreign_keys_by_pk_to_a_new_partitioned_model(pg: Any, dbname: str, tmp_path: Path) -> None:
    shop = make_shop(pg, dbname, tmp_path, ["shop"])
    shop.models("shop", EVENT + TICKETS)
    shop.ok("check")  # no pgpart.E004
    made = shop.ok("makemigrations", "shop")
    assert "Make id of Event unique across partitions (shop_event_id_gkey)" in made
    assert "Point the foreign key of Ticket.event at shop_event_id_gkey_values" in made
    assert "Point the foreign key of Hold.event at shop_event_id_gkey_values" in made
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")

    shown = shop.ok("sqlmigrate", "shop", "0001")
    assert "pgpart.add_global_unique(parent => 'shop_event'::regclass, columns => '{\"id\"}'::name[]" in shown
    assert shown.count('REFERENCES "shop_event_id_gkey_values" ("id") DEFERRABLE INITIALLY DEFERRED') == 2
    assert 'REFERENCES "shop_event"' not in shown

    shop.ok("migrate", "shop")
    assert shop.global_uniques("shop_event") == [("shop_event_id_gkey", ["id"])]
    assert shop.query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid IN ('shop_ticket'::regclass, 'shop_hold'::regclass) ORDER BY 1"
    ) == [("shop_hold", "shop_event_id_gkey_values"), ("shop_ticket", "shop_event_id_gkey_values")]
    _enforced(shop)

    # Django's collector: CASCADE deletes the tickets, PROTECT refuses
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        ids = [r[0] for r in c.execute("SELECT id FROM shop_event ORDER BY created").fetchall()]
        c.execute("DELETE FROM shop_hold")
        c.execute("INSERT INTO shop_hold (event_id) VALUES (%s)", [ids[1]])
    out = shop.ok("shell", "-c", COLLECTOR)
    assert "CASCADE (2, {'shop.Ticket': 1, 'shop.Event': 1})" in out
    assert "PROTECTED 1 1" in out

    # backwards and forwards again
    shop.ok("migrate", "shop", "zero")
    assert shop.query("SELECT to_regclass('shop_event_id_gkey_values'), to_regclass('shop_event')") == [(None, None)]
    shop.ok("migrate", "shop")
    assert shop.global_uniques("shop_event") == [("shop_event_id_gkey", ["id"])]

    # every model deleted: the foreign keys, then the pk's constraint, then the partitioned table
    shop.models("shop", "")
    made = shop.ok("makemigrations", "shop")
    assert "Remove the global unique constraint shop_event_id_gkey of Event" in made
    deleting = shop.migration("shop", "0002")
    assert deleting.index("RemoveGlobalUnique(") < deleting.index("DeletePartitionedModel(")
    shop.ok("migrate", "shop")
    assert shop.query("SELECT to_regclass('shop_event_id_gkey_values'), to_regclass('shop_event')") == [(None, None)]
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info()") == [(0,)]
    shop.ok("migrate", "shop", "0001")  # and back
    assert shop.global_uniques("shop_event") == [("shop_event_id_gkey", ["id"])]


def _enforced(shop: Shop) -> None:
    """Rows in two partitions; a duplicate id across partitions and a ticket
    of a missing event are refused."""
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        (first,) = c.execute("INSERT INTO shop_event (created) VALUES (now()) RETURNING id").fetchone() or ()
        c.execute("INSERT INTO shop_event (created) VALUES (now() + interval '1 month')")
        assert c.execute("SELECT count(DISTINCT tableoid) FROM shop_event").fetchone() == (2,)
        with pytest.raises(psycopg.errors.UniqueViolation) as dup:  # the same id, next month's partition
            c.execute("INSERT INTO shop_event (id, created) VALUES (%s, now() + interval '1 month')", [first])
        assert dup.value.diag.constraint_name == "shop_event_id_gkey"
        c.execute("INSERT INTO shop_ticket (event_id, seat) VALUES (%s, 1)", [first])
        c.execute("INSERT INTO shop_hold (event_id) VALUES (%s)", [first])
        with psycopg.connect(shop.dsn) as tx:  # a missing event: refused at commit
            tx.execute("INSERT INTO shop_ticket (event_id, seat) VALUES (-1, 2)")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()
        with psycopg.connect(shop.dsn) as tx:  # a referenced event cannot go in SQL (NO ACTION, at commit)
            tx.execute("DELETE FROM shop_event WHERE id = %s", [first])
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()
        # a row moving to another partition keeps its entry (deferred NO ACTION)
        c.execute("UPDATE shop_event SET created = created + interval '1 month' WHERE id = %s", [first])
        assert c.execute("SELECT count(*) FROM shop_ticket WHERE event_id = %s", [first]).fetchone() == (1,)


CRM_LEAD = """
from shop.models import Event


class Lead(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE)
"""

NOTE = """

class Note(models.Model):
    text = models.TextField(default="")
"""

NOTE_WITH_EVENT = """

class Note(models.Model):
    text = models.TextField(default="")
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True)
"""


def test_relations_by_pk_added_and_removed_later_from_another_app(pg: Any, dbname: str, tmp_path: Path) -> None:
    shop = make_shop(pg, dbname, tmp_path, ["shop", "crm"])
    shop.models("shop", EVENT)
    shop.models("crm", "")
    shop.ok("makemigrations", "shop")
    shop.ok("migrate")
    assert shop.global_uniques("shop_event") == []  # nothing references the pk yet

    # another app's model references Event by pk: shop gets AddGlobalUnique, crm's migration depends on it
    shop.models("crm", CRM_LEAD)
    shop.ok("check")
    made = shop.ok("makemigrations")
    assert "Make id of Event unique across partitions (shop_event_id_gkey)" in made
    assert "pgpart.django.operations.AddGlobalUnique(" in shop.migration("shop", "0002")
    assert "('shop', '0002_" in shop.migration("crm", "0001")
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")
    shown = shop.ok("sqlmigrate", "crm", "0001")
    assert 'REFERENCES "shop_event_id_gkey_values" ("id")' in shown
    shop.ok("migrate")
    assert shop.global_uniques("shop_event") == [("shop_event_id_gkey", ["id"])]
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        (event,) = c.execute("INSERT INTO shop_event (created) VALUES (now()) RETURNING id").fetchone() or ()
        c.execute("INSERT INTO crm_lead (event_id) VALUES (%s)", [event])
        with psycopg.connect(shop.dsn) as tx:
            tx.execute("INSERT INTO crm_lead (event_id) VALUES (-1)")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()

    # an enforced ForeignKey added to an existing model of the same app (AddField)
    shop.models("shop", EVENT + NOTE)
    shop.ok("makemigrations", "shop")
    shop.models("shop", EVENT + NOTE_WITH_EVENT)
    made = shop.ok("makemigrations", "shop")
    assert "GlobalUniqueAddField(" in shop.migration("shop", "0004")
    assert "AddGlobalUnique" not in shop.migration("shop", "0004")  # the pk already has one
    shop.ok("migrate")
    assert shop.query(
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = 'shop_note'::regclass"
    ) == [("shop_event_id_gkey_values",)]

    # the relations go: the constraint goes after the last one (crm's Lead, shop's Note.event)
    shop.models("crm", "")
    shop.models("shop", EVENT + NOTE)
    made = shop.ok("makemigrations")
    assert "Remove the global unique constraint shop_event_id_gkey of Event" in made
    removing = shop.migration("shop", "0005")
    assert "pgpart.django.operations.RemoveGlobalUnique(" in removing
    assert "('crm', '0002_" in removing  # after crm's Lead is deleted
    assert removing.index("RemoveField(") < removing.index("RemoveGlobalUnique(")
    shop.ok("migrate")
    assert shop.global_uniques("shop_event") == []
    assert shop.query("SELECT to_regclass('shop_event_id_gkey_values'), to_regclass('crm_lead')") == [(None, None)]
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")

    # and backwards: the constraint and the foreign keys to its side table come back
    shop.ok("migrate", "shop", "0004")
    assert shop.global_uniques("shop_event") == [("shop_event_id_gkey", ["id"])]
    shop.ok("migrate", "crm", "0001")  # crm's Lead made again
    assert shop.query(
        "SELECT conrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = 'shop_event_id_gkey_values'::regclass ORDER BY 1"
    ) == [("crm_lead",), ("shop_note",)]
