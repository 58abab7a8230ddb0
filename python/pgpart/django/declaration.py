"""How a model declares its partitioning: an inner ``class Partitioning:``.

.. code-block:: python

    class Event(models.Model):
        created_at = models.DateTimeField()

        class Partitioning:
            method = "range"          # "range" (default), "list" or "hash"
            key = "created_at"        # one column; ["created_at"] is accepted too
            interval = "1 month"      # range: a PostgreSQL interval, or a width for integer keys
            premake = 3               # range: partitions kept ahead of the current one
            retention = "13 months"   # range: optional
            retention_action = "detach"   # "detach" (default), "archive" or "drop"
            archive_schema = None     # where "archive" moves expired partitions
            archive_tablespace = None
            tablespace = None         # where new partitions go
            time_zone = None          # the zone of the calendar grid (pgpart's default: UTC)
            origin = None             # anchor of intervals such as "10 days"
            default_partition = False # range and list
            drain_default = False     # range: maintenance moves the default's rows into their partitions
            values = None             # list: ["de", "fr"] or {"eu": ["de", "fr"], "us": ["us"]}
            modulus = None            # hash: the number of partitions
            subpartition = None       # range: {"method": "hash", "key": "tenant_id", "modulus": 4}
            epoch_unit = None         # range over an integer field holding Unix time: "s", "ms" or "us"

A range key may be a ``DateTimeField``, a ``DateField``, an integer field
(plain numbers, or Unix time with ``epoch_unit``) or a ``UUIDField`` holding
UUIDv7 values; uuid and epoch keys are gridded by time as a
``DateTimeField`` is (intervals such as ``"1 day"``).

psqlextra's name ``PartitioningMeta`` is accepted as well (its ``method``
may be psqlextra's enum; its ``key`` a list of one column), on models that
are not django-postgres-extra's own (see :func:`declaration_class`).

The declaration is only read here and validated by the system checks
(:mod:`pgpart.django.checks`), never at import time, so a broken declaration
never stops ``manage.py`` from starting. Values are passed to the extension
as written: bounds, names and what an interval means are decided there.

Primary key: by default Django keeps its ``id`` as the model's pk (so
``get(pk=...)`` and the admin work) while the database primary key is
``(id, key)``, as PostgreSQL requires of every unique constraint of a
partitioned table. ``id`` is then unique because its identity sequence is
shared by all partitions, not because the database enforces it. A
``models.CompositePrimaryKey`` containing the key is honoured as declared
(opt-in: Django's admin, 5.2 and 6.x, refuses such models).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import models

__all__ = [
    "DECLARATION_NAMES",
    "METHODS",
    "STATE_OPTION",
    "DeclarationError",
    "Spec",
    "declaration_class",
    "is_partitioned",
    "spec_of",
]

#: the inner class names read, in order of preference
DECLARATION_NAMES = ("Partitioning", "PartitioningMeta")

METHODS = ("range", "list", "hash")

#: the key of a model state's options under which migrations keep the
#: partitioning (a leading underscore: Django's Options ignores it when a
#: historical model is rendered, and no Django operation compares it)
STATE_OPTION = "_pgpart_partitioning"


class DeclarationError(ValueError):
    """A declaration that cannot be read. ``check_id`` says which system
    check reports it (pgpart.E001 for the key, pgpart.E006 for the rest)."""

    def __init__(self, message: str, *, check_id: str = "pgpart.E006", hint: str | None = None) -> None:
        super().__init__(message)
        self.check_id = check_id
        self.hint = hint


@dataclass(frozen=True)
class Spec:
    """A partitioning declaration, as plain values (what migrations store)."""

    method: str
    key: str
    interval: str | int | None = None
    premake: int | None = None
    retention: str | int | None = None
    retention_action: str | None = None
    archive_schema: str | None = None
    archive_tablespace: str | None = None
    tablespace: str | None = None
    time_zone: str | None = None
    origin: str | None = None
    default_partition: bool = False
    values: list[Any] | dict[str, Any] | None = None
    modulus: int | None = None
    subpartition: dict[str, Any] | None = field(default=None)
    epoch_unit: str | None = None
    drain_default: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The declaration as a dict of the values that were set (what
        ``CreatePartitionedModel`` and ``AlterPartitioning`` serialize)."""
        out: dict[str, Any] = {"method": self.method, "key": self.key}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in out or value is None or (f.name in ("default_partition", "drain_default") and value is False):
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Spec:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise DeclarationError(f"unknown partitioning option(s): {', '.join(unknown)}")
        return cls(**dict(data))


def declaration_class(model: type[models.Model]) -> type | None:
    """The model's ``Partitioning`` (or ``PartitioningMeta``) class, its own
    or inherited from an abstract base; None when the model is not
    partitioned. A concrete parent's declaration is not inherited by a
    multi-table child (the child has a table of its own).

    A django-postgres-extra model (one of psqlextra's model classes among its
    bases) is pgpart's only once it declares ``Partitioning``: its
    ``PartitioningMeta`` is psqlextra's own (no interval, psqlextra's
    partitioning manager), so before that pgpart leaves the model alone."""
    psqlextra = any(klass.__module__.split(".")[0] == "psqlextra" for klass in model.__mro__)
    names = ("Partitioning",) if psqlextra else DECLARATION_NAMES
    for klass in model.__mro__:
        for name in names:
            declared = vars(klass).get(name)
            if declared is None:
                continue
            if klass is not model and _is_concrete_model(klass):
                return None
            if not isinstance(declared, type):
                raise DeclarationError(f"{name} must be a class, not {type(declared).__name__}")
            return declared
    return None


def _is_concrete_model(klass: type) -> bool:
    meta = getattr(klass, "_meta", None)
    return meta is not None and not meta.abstract


def is_partitioned(model: type[models.Model]) -> bool:
    """Whether MODEL declares partitioning (even a broken declaration)."""
    try:
        return declaration_class(model) is not None and not model._meta.proxy
    except DeclarationError:
        return True


def spec_of(model: type[models.Model]) -> Spec | None:
    """MODEL's declaration, read and validated; None when the model is not
    partitioned (or is a proxy). Raises DeclarationError."""
    if model._meta.proxy:
        return None
    declared = declaration_class(model)
    if declared is None:
        return None
    attrs = {name: value for name, value in vars(declared).items() if not name.startswith("_")}
    method = attrs.pop("method", "range")
    key = attrs.pop("key", None)
    spec = _build(_method(method), _key(key), attrs)
    _check_key_field(model, spec)
    return spec


def _method(value: object) -> str:
    # psqlextra's PostgresPartitioningMethod is an enum whose values are these names.
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or value.lower() not in METHODS:
        raise DeclarationError(
            f"unknown partitioning method {value!r}",
            hint='Use method = "range", "list" or "hash".',
        )
    return value.lower()


def _key(value: object) -> str:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise DeclarationError(
                f"pgpart partitions by one column, got key = {list(value)!r}",
                check_id="pgpart.E001",
                hint='Name one field, e.g. key = "created_at".',
            )
        value = value[0]
    if not isinstance(value, str) or not value:
        raise DeclarationError(
            "the partition key is missing" if value is None else f"invalid partition key {value!r}",
            check_id="pgpart.E001",
            hint='Name the field rows are partitioned by, e.g. key = "created_at".',
        )
    return value


_OPTIONAL_STR = (
    "retention_action", "archive_schema", "archive_tablespace", "tablespace", "time_zone", "origin", "epoch_unit",
)  # fmt: skip


def _build(method: str, key: str, attrs: dict[str, Any]) -> Spec:
    known = {f.name for f in fields(Spec)} - {"method", "key"}
    unknown = sorted(set(attrs) - known)
    if unknown:
        raise DeclarationError(
            f"unknown Partitioning attribute(s): {', '.join(unknown)}",
            hint="Known attributes: method, key, " + ", ".join(f.name for f in fields(Spec) if f.name in known) + ".",
        )
    for name in _OPTIONAL_STR:
        if attrs.get(name) is not None and not isinstance(attrs[name], str):
            raise DeclarationError(f"{name} must be a string, got {attrs[name]!r}")
    premake = attrs.get("premake")
    if premake is not None and (isinstance(premake, bool) or not isinstance(premake, int) or premake < 0):
        raise DeclarationError(f"premake must be a whole number >= 0, got {premake!r}")
    default_partition = attrs.get("default_partition", False)
    if not isinstance(default_partition, bool):
        raise DeclarationError(f"default_partition must be True or False, got {default_partition!r}")
    if not isinstance(attrs.get("drain_default", False), bool):
        raise DeclarationError(f"drain_default must be True or False, got {attrs['drain_default']!r}")
    for name in ("interval", "retention"):
        value = attrs.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise DeclarationError(f"{name} must be a string or a whole number, got {value!r}")

    def refuse(names: tuple[str, ...], hint: str) -> None:
        given = [n for n in names if attrs.get(n) not in (None, False)]
        if given:
            raise DeclarationError(f"{', '.join(given)} do(es) not apply to {method.upper()} partitioning", hint=hint)

    if method == "range":
        refuse(("values", "modulus"), 'values are for method = "list", modulus for method = "hash".')
        if attrs.get("interval") in (None, ""):
            raise DeclarationError(
                "RANGE partitioning needs an interval",
                hint='e.g. interval = "1 month" (time keys) or interval = 1000 (integer keys).',
            )
        sub = attrs.get("subpartition")
        if sub is not None and not isinstance(sub, dict):
            raise DeclarationError(f"subpartition must be a dict, got {sub!r}")
    else:
        refuse(
            ("interval", "premake", "retention", "retention_action", "archive_schema", "archive_tablespace",
             "time_zone", "origin", "subpartition", "epoch_unit", "drain_default"),
            "Retention and intervals apply to RANGE partitioning only.",
        )  # fmt: skip
    if method == "list":
        refuse(("modulus",), 'modulus is for method = "hash".')
        values = attrs.get("values")
        if not isinstance(values, (list, dict)) or not values:
            raise DeclarationError(
                "LIST partitioning needs values",
                hint='e.g. values = ["de", "fr"] or values = {"eu": ["de", "fr"], "us": ["us"]}.',
            )
    if method == "hash":
        refuse(("values", "default_partition"), "HASH partitioning has no values and no default partition.")
        modulus = attrs.get("modulus")
        if isinstance(modulus, bool) or not isinstance(modulus, int) or modulus < 1:
            raise DeclarationError(
                f"HASH partitioning needs a modulus (a whole number >= 1), got {modulus!r}",
                hint="e.g. modulus = 8.",
            )
    return Spec(method=method, key=key, **attrs)


# Range keys pgpart grids over: timestamptz, timestamp, date, uuid (UUIDv7,
# gridded by time), and integers (by time with an epoch_unit).
_TIME_TYPES = ("DateTimeField", "DateField", "UUIDField")
_INTEGER_TYPES = (
    "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField", "AutoField", "BigAutoField", "SmallAutoField",
)  # fmt: skip


def key_field(model: type[models.Model], spec: Spec) -> models.Field[Any, Any]:
    """The concrete local field named by the declaration's key."""
    try:
        found = model._meta.get_field(spec.key)
    except Exception as exc:  # FieldDoesNotExist
        raise DeclarationError(
            f"the partition key {spec.key!r} is not a field of {model._meta.label}",
            check_id="pgpart.E001",
            hint="Name a concrete field of this model.",
        ) from exc
    if not isinstance(found, models.Field) or not found.concrete or found.model is not model or found.many_to_many:
        raise DeclarationError(
            f"the partition key {spec.key!r} is not a column of {model._meta.db_table}",
            check_id="pgpart.E001",
            hint="Name a concrete field declared on this model (not a relation's reverse, a many-to-many "
            "or an inherited field).",
        )
    return found


def key_column(model: type[models.Model], spec: Spec) -> str:
    """The database column of the declaration's key (see key_field)."""
    column = key_field(model, spec).column
    if column is None:  # a concrete field has one (Django 6's stubs type it Optional)
        raise DeclarationError(
            f"the partition key {spec.key!r} has no column in {model._meta.db_table}",
            check_id="pgpart.E001",
            hint="Name a concrete field declared on this model.",
        )
    return column


def key_kind(key: models.Field[Any, Any]) -> str | None:
    """ "time", "integer" or None (another type) for a range key field."""
    target: models.Field[Any, Any] = key
    if key.is_relation:
        target = key.target_field  # type: ignore[attr-defined]  # the referenced column's type
    kind = target.get_internal_type()
    if kind in _TIME_TYPES:
        return "time"
    if kind in _INTEGER_TYPES:
        return "integer"
    return None


def _check_key_field(model: type[models.Model], spec: Spec) -> None:
    key = key_field(model, spec)
    if spec.method != "range":
        return
    kind = key_kind(key)
    if kind is None:
        raise DeclarationError(
            f"RANGE partitioning over {key.get_internal_type()} {spec.key!r} is not supported",
            check_id="pgpart.E001",
            hint="pgpart ranges over DateTimeField, DateField, UUIDField (UUIDv7) and integer fields; use LIST or "
            "HASH for others.",
        )
    if spec.epoch_unit is not None:
        if kind != "integer":
            raise DeclarationError(
                f"epoch_unit applies to integer keys, not to {key.get_internal_type()} {spec.key!r}",
                hint="Leave epoch_unit out for this key.",
            )
        kind = "time"  # Unix time: gridded by time intervals
    if kind == "time" and not isinstance(spec.interval, str):
        raise DeclarationError(
            f"the interval of time key {spec.key!r} must be a string with a unit, got {spec.interval!r}",
            hint='e.g. interval = "1 month", "1 day" or "monthly".',
        )
    if kind == "integer" and isinstance(spec.interval, int) and spec.interval < 1:
        raise DeclarationError(f"the interval of integer key {spec.key!r} must be positive, got {spec.interval!r}")
