"""Broken declarations, one per system check (installed only by the check
tests). Each model's docstring names the check it provokes."""
# ruff: noqa: RUF012  (Django's class-level lists: Meta options, migrations, admin)

from django.db import models
from django.db.models.functions import Lower


class NoKey(models.Model):
    """pgpart.E001: no key."""

    ts = models.DateTimeField()

    class Partitioning:
        interval = "1 day"


class MissingField(models.Model):
    """pgpart.E001: the key is not a field."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "nope"
        interval = "1 day"


class TwoColumns(models.Model):
    """pgpart.E001: two key columns."""

    ts = models.DateTimeField()
    n = models.IntegerField()

    class Partitioning:
        key = ["ts", "n"]
        interval = "1 day"


class JsonKey(models.Model):
    """pgpart.E001: RANGE over a type pgpart cannot grid."""

    payload = models.JSONField()

    class Partitioning:
        key = "payload"
        interval = "1 day"


class BadMethod(models.Model):
    """pgpart.E006: unknown method."""

    ts = models.DateTimeField()

    class Partitioning:
        method = "bogus"
        key = "ts"


class BadInterval(models.Model):
    """pgpart.E006: a bare number as the interval of a time key."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = 1000


class Typo(models.Model):
    """pgpart.E006: an unknown attribute."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 day"
        premak = 3


class HashWithDefault(models.Model):
    """pgpart.E006: HASH with a default partition."""

    n = models.IntegerField()

    class Partitioning:
        method = "hash"
        key = "n"
        modulus = 4
        default_partition = True


class UniqueWithoutKey(models.Model):
    """pgpart.E003 twice: UniqueConstraints without the key that cannot be
    made global (a condition, an expression). A plain unique=True or
    UniqueConstraint becomes a global unique constraint instead."""

    ts = models.DateTimeField()
    code = models.CharField(max_length=10, unique=True)
    other = models.CharField(max_length=10)

    class Partitioning:
        key = "ts"
        interval = "1 day"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["other"], name="brokenapp_other_unique"),
            models.UniqueConstraint(fields=["other"], condition=models.Q(code="x"), name="brokenapp_other_if_x"),
            models.UniqueConstraint(Lower("other"), name="brokenapp_lower_other"),
        ]


class CompositeWithoutKey(models.Model):
    """pgpart.E003: a composite primary key without the key."""

    pk = models.CompositePrimaryKey("id", "code")
    id = models.BigIntegerField()
    code = models.CharField(max_length=10)
    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 day"


class Composite(models.Model):
    """pgpart.W001: a composite primary key while the admin is installed."""

    pk = models.CompositePrimaryKey("id", "ts")
    id = models.BigIntegerField()
    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 day"


class Target(models.Model):
    """A valid partitioned model, referenced below."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 month"


class EnforcedReference(models.Model):
    """No error: a ForeignKey to a partitioned model's pk, enforced (the pk
    gets a global unique constraint)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE)


class UnenforcedReference(models.Model):
    """No error: db_constraint=False."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, db_constraint=False)


class ManyTargets(models.Model):
    """pgpart.E004: a many-to-many to a partitioned model."""

    targets = models.ManyToManyField(Target)


class PlainCreated(models.Model):
    """pgpart.E002: its migration uses a plain CreateModel."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 day"


class Repartitioned(models.Model):
    """pgpart.E005: the key differs from the migration state."""

    ts = models.DateTimeField()
    ts2 = models.DateTimeField()

    class Partitioning:
        key = "ts2"
        interval = "1 day"


class NotPartitioned(models.Model):
    """pgpart.E101 (database): the test creates its table plain."""

    ts = models.DateTimeField()

    class Partitioning:
        key = "ts"
        interval = "1 day"


class OtherKey(models.Model):
    """pgpart.E102 (database): the test partitions its table by another column."""

    ts = models.DateTimeField()
    n = models.IntegerField()

    class Partitioning:
        key = "ts"
        interval = "1 day"
