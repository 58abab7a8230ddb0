"""Partitioned models of the test project, one per kind pgpart supports."""
# ruff: noqa: RUF012  (Django's class-level lists: Meta options, migrations, admin)

from django.db import models


class Event(models.Model):
    """RANGE by a DateTimeField, monthly; Django's `id` stays the pk (admin)."""

    created_at = models.DateTimeField()
    kind = models.CharField(max_length=20, default="click")
    payload = models.JSONField(default=dict)

    class Partitioning:
        key = "created_at"
        interval = "1 month"
        premake = 2
        retention = "3 months"
        retention_action = "drop"

    class Meta:
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class Reading(models.Model):
    """RANGE by an integer: partitions of 1000 values of `batch`."""

    batch = models.IntegerField()
    value = models.FloatField()

    class Partitioning:
        key = "batch"
        interval = 1000
        premake = 2


class Measurement(models.Model):
    """Opt-in CompositePrimaryKey (id, key): not usable in Django 5.2's admin."""

    pk = models.CompositePrimaryKey("id", "taken_on")
    id = models.BigIntegerField()
    taken_on = models.DateField()
    value = models.FloatField()

    class Partitioning:
        key = "taken_on"
        interval = "monthly"
        premake = 1


class EventNote(models.Model):
    """A plain table referring to a partitioned one: not enforced by the
    database (db_constraint=False), as PostgreSQL cannot."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, db_constraint=False, related_name="notes")
    text = models.TextField()


class Order(models.Model):
    """LIST partitioning, with named groups and a default partition."""

    region = models.CharField(max_length=2)
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    class Partitioning:
        method = "list"
        key = "region"
        values = {"eu": ["de", "fr"], "us": ["us"]}
        default_partition = True


class Visit(models.Model):
    """HASH partitioning in 4, psqlextra's declaration name."""

    user_id = models.BigIntegerField()
    path = models.CharField(max_length=200)

    class PartitioningMeta:
        method = "hash"
        key = ["user_id"]
        modulus = 4
