"""Uniqueness across partitions for Django models (docs/django.md, "Unique
fields and foreign keys across partitions").

PostgreSQL refuses a unique constraint on a partitioned table that lacks the
partition key. A partitioned model's ``unique=True`` field, ``unique_together``
or ``UniqueConstraint`` (plain fields, no condition, expressions, include or
deferrable) without the key is made a *global* unique constraint by the
extension (``pgpart.add_global_unique``: a side table with a real unique
index, kept by triggers); so is its primary key when an enforced relation
targets it (the table's primary key is (pk, key)). This module says which
uniqueness of a model is global, and its constraint's name, from the models
alone (no database), so
``makemigrations``, ``sqlmigrate`` and the system checks agree with
``migrate``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import models

from .declaration import STATE_OPTION, DeclarationError, Spec, key_field, spec_of

__all__ = [
    "MAX_NAME",
    "GlobalUniqueSpec",
    "declared_global_uniques",
    "gkey_name",
    "global_uniques",
    "pk_global_unique",
    "plain_unique",
    "referenced_by_pk",
    "referenced_global_unique",
    "state_spec",
    "unique_sql_hidden",
]

#: PostgreSQL's identifier limit minus "_values" (the side table's suffix)
MAX_NAME = 63 - len("_values")


@dataclass(frozen=True)
class GlobalUniqueSpec:
    """One global unique constraint of a model: its name (the side table is
    ``<name>_values``) and the model's field names, in order."""

    name: str
    fields: tuple[str, ...]

    @property
    def side_table(self) -> str:
        return f"{self.name}_values"


def gkey_name(table: str, columns: tuple[str, ...] | list[str]) -> str:
    """``<table>_<columns>_gkey`` (the extension's default), shortened with
    a hash when longer than MAX_NAME bytes, so the side table's name fits."""
    name = f"{table}_{'_'.join(columns)}_gkey"
    if len(name.encode()) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    head = name.encode()[: MAX_NAME - len(digest) - len("__gkey")].decode(errors="ignore")
    return f"{head}_{digest}_gkey"


def plain_unique(constraint: models.UniqueConstraint) -> bool:
    """A UniqueConstraint a global constraint can stand for: plain fields."""
    return bool(constraint.fields) and not (
        constraint.expressions
        or constraint.condition is not None
        or getattr(constraint, "include", None)
        or constraint.deferrable is not None
        or getattr(constraint, "opclasses", None)
    )


def state_spec(state: Any, model: type[models.Model]) -> Spec | None:
    """MODEL's declaration as migration state STATE records it (historical
    models rendered from a state have no ``Partitioning`` class), or, without
    a state, as the model class declares it. None: not partitioned (or a
    broken declaration, which the system checks report)."""
    if state is None:
        try:
            return spec_of(model)
        except DeclarationError:
            return None
    model_state = state.models.get((model._meta.app_label, model._meta.model_name))
    stored = None if model_state is None else model_state.options.get(STATE_OPTION)
    return None if stored is None else Spec.from_dict(stored)


def declared_global_uniques(model: type[models.Model], spec: Spec | None = None) -> list[GlobalUniqueSpec]:
    """The global unique constraints MODEL's own uniqueness needs: its
    ``unique=True`` fields, ``unique_together`` and plain
    ``UniqueConstraint`` without the partition key (empty for a model that
    is not partitioned)."""
    if spec is None:
        spec = state_spec(None, model)
        if spec is None:
            return []
    key = key_field(model, spec)
    meta = model._meta
    table = meta.db_table
    out: list[GlobalUniqueSpec] = []
    seen: set[tuple[str, ...]] = set()

    def add(field_names: tuple[str, ...], name: str | None) -> None:
        if key.name in field_names or key.attname in field_names or field_names in seen:
            return
        seen.add(field_names)
        columns = [str(getattr(meta.get_field(f), "column", f)) for f in field_names]
        out.append(GlobalUniqueSpec(name or gkey_name(table, columns), field_names))

    for field in meta.local_fields:
        if field.unique and not field.primary_key and field is not key:
            add((field.name,), None)
    for names in meta.unique_together:
        add(tuple(names), None)
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and plain_unique(constraint):
            add(tuple(constraint.fields), constraint.name)
    return out


def pk_global_unique(model: type[models.Model], spec: Spec) -> GlobalUniqueSpec | None:
    """The global unique constraint on partitioned MODEL's primary key
    (``<table>_<pk column>_gkey``) that an enforced relation by the pk
    needs: the table's primary key is (pk, key), unique per partition only.
    None when the pk is the key itself or composite."""
    pk = model._meta.pk
    if pk is None or isinstance(pk, models.CompositePrimaryKey) or pk.column is None:
        return None
    if pk.column == key_field(model, spec).column:
        return None
    return GlobalUniqueSpec(gkey_name(model._meta.db_table, [pk.column]), (pk.name,))


def _enforced_pk_relation(field: Any) -> bool:
    """FIELD is a ForeignKey/OneToOneField the database enforces, by its
    target model's primary key, declared on a model of its own (the
    auto-created table of a many-to-many is not: pgpart.E004)."""
    if not (field.is_relation and field.many_to_one and getattr(field, "db_constraint", False)):
        return False
    target_meta: Any = getattr(field.related_model, "_meta", None)  # None: a lazy reference not resolved
    if target_meta is None or target_meta.pk is None or field.model._meta.auto_created:
        return False
    return bool(field.target_field.name == target_meta.pk.name)


def referenced_by_pk(model: type[models.Model]) -> list[Any]:
    """The relations (fields of other models, or of MODEL itself) that the
    database enforces by MODEL's primary key."""
    out = []
    for rel in model._meta.related_objects:
        field = rel.field
        if field.model._meta.proxy or not field.concrete:
            continue
        if _enforced_pk_relation(field):
            out.append(field)
    return out


def global_uniques(
    model: type[models.Model], spec: Spec | None = None, *, referenced: bool = True
) -> list[GlobalUniqueSpec]:
    """Every global unique constraint MODEL's table has: its own uniqueness
    without the key (declared_global_uniques) and, when REFERENCED and an
    enforced relation targets its primary key, the pk's (pk_global_unique)."""
    if spec is None:
        spec = state_spec(None, model)
        if spec is None:
            return []
    out = declared_global_uniques(model, spec)
    if referenced and referenced_by_pk(model):
        pk = pk_global_unique(model, spec)
        if pk is not None and pk.fields not in {gu.fields for gu in out}:
            out.append(pk)
    return out


def referenced_global_unique(field: Any, state: Any = None) -> GlobalUniqueSpec | None:
    """The global unique constraint a relation's target column has alone
    (a ForeignKey to a partitioned model: to a unique field, or to its pk
    when the relation is enforced), else None. STATE: the migration state
    FIELD's model was rendered from (None: the project's models)."""
    target = getattr(field, "related_model", None)
    if not isinstance(target, type):
        return None
    spec = state_spec(state, target)
    if spec is None:
        return None
    target_field = field.target_field
    for gu in declared_global_uniques(target, spec):
        if gu.fields == (target_field.name,):
            return gu
    if _enforced_pk_relation(field):
        return pk_global_unique(target, spec)
    return None


class unique_sql_hidden:
    """While Django writes a partitioned model's table SQL: its global
    uniqueness is left out (``unique=True`` of those fields, their
    ``unique_together`` and ``UniqueConstraint``), as PostgreSQL would refuse
    it; the migration adds the global constraints instead. MODEL is the
    migration's rendered model; everything is restored on exit."""

    def __init__(self, model: type[models.Model], spec: Spec) -> None:
        self.model = model
        self.uniques = global_uniques(model, spec)

    def __enter__(self) -> None:
        meta = self.model._meta
        single = {gu.fields[0] for gu in self.uniques if len(gu.fields) == 1}
        groups = {gu.fields for gu in self.uniques}
        names = {gu.name for gu in self.uniques}
        # Field.unique is a cached_property over _unique: set both
        self._fields = [f for f in meta.local_fields if f.name in single and getattr(f, "_unique", False)]
        for f in self._fields:
            f._unique = False  # type: ignore[attr-defined]
            f.__dict__["unique"] = False
        self._unique_together = meta.unique_together
        meta.unique_together = tuple(t for t in meta.unique_together if tuple(t) not in groups)
        self._constraints = meta.constraints
        meta.constraints = [
            c for c in meta.constraints if not (isinstance(c, models.UniqueConstraint) and c.name in names)
        ]

    def __exit__(self, *exc: object) -> None:
        meta = self.model._meta
        for f in self._fields:
            f._unique = True  # type: ignore[attr-defined]
            f.__dict__.pop("unique", None)
        meta.unique_together = self._unique_together
        meta.constraints = self._constraints
