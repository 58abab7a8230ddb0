"""Moving a django-postgres-extra (psqlextra) project to pgpart.

psqlextra creates partitioned tables with its own migration operations
(``PostgresCreatePartitionedModel``, ``PostgresAddRangePartition``,
``PostgresAddDefaultPartition``...) and keeps the partitioning in its own
model state (``partitioning_options``). This module reads that history
without importing psqlextra (duck typing on the operations' module and the
state's attribute), so:

- the system checks and the autodetector see a psqlextra-made table as
  partitioned (no false pgpart.E002);
- ``makemigrations`` emits :class:`~pgpart.django.operations.AdoptPartitionedModel`
  for a psqlextra model that gains a ``class Partitioning:``: ``migrate`` puts
  the existing table, its partitions and its default partition under a
  pgpart policy (rows untouched; missing partitions created);
- :func:`rewrite_migrations` (``manage.py pgpart rewrite-psqlextra-migrations``)
  rewrites the app's migration files without psqlextra's operations, bases
  and managers, so psqlextra can be removed afterwards. The database is not
  touched: the rewritten migrations are already applied, and partitions are
  not part of pgpart's migration state (the catalog is the truth).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models
from django.db.migrations import Migration
from django.db.migrations.operations.base import Operation

from .declaration import Spec, spec_of

__all__ = ["RewriteError", "Rewritten", "is_psqlextra", "psqlextra_partitioning", "rewrite_migrations"]

#: psqlextra's operations that only add or remove partitions: the catalog
#: keeps those, pgpart's migration state never does.
PARTITION_OPERATIONS = frozenset({
    "PostgresAddRangePartition", "PostgresAddListPartition", "PostgresAddHashPartition",
    "PostgresAddDefaultPartition", "PostgresDeleteRangePartition", "PostgresDeleteListPartition",
    "PostgresDeleteHashPartition", "PostgresDeleteDefaultPartition", "PostgresDeletePartition",
})  # fmt: skip


def is_psqlextra(thing: object) -> bool:
    """Whether THING (an object or a class) comes from psqlextra."""
    klass = thing if isinstance(thing, type) else type(thing)
    return klass.__module__.split(".")[0] == "psqlextra"


def psqlextra_partitioning(model_state: object) -> tuple[str, str] | None:
    """(method, key) of a model state psqlextra made partitioned
    (``partitioning_options``), else None."""
    options = getattr(model_state, "partitioning_options", None)
    if not isinstance(options, dict) or not options:
        return None
    method: Any = options.get("method", "range")
    if isinstance(method, enum.Enum):
        method = method.value
    key: Any = options.get("key")
    if isinstance(key, (list, tuple)) and len(key) == 1:
        key = key[0]
    if not isinstance(method, str) or not isinstance(key, str):
        return None
    return method.lower(), key


class RewriteError(Exception):
    """A migration that cannot be rewritten automatically (named in the message)."""


@dataclass
class Rewritten:
    """One migration file rewritten (or, on a dry run, that would be)."""

    app_label: str
    name: str
    path: Path
    dropped: list[str] = field(default_factory=list)  # descriptions of the partition operations left out
    converted: list[str] = field(default_factory=list)  # psqlextra operation -> pgpart operation


def rewrite_migrations(app_labels: Sequence[str], *, dry_run: bool = False) -> list[Rewritten]:
    """Rewrite the migrations of APP_LABELS that use psqlextra, as pgpart's:
    ``PostgresCreatePartitionedModel`` becomes ``CreatePartitionedModel``
    (with the model's current ``Partitioning`` declaration),
    ``PostgresDeletePartitionedModel`` ``DeletePartitionedModel``, the
    partition operations are left out, psqlextra's bases and managers
    dropped. Checks every migration before writing any; refuses (RewriteError)
    psqlextra's view models, ``RunPython`` in a migration to rewrite (its
    functions cannot be re-serialized), and a partitioned model without a
    ``Partitioning`` declaration. Needs psqlextra still installed (the
    migrations import it)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.writer import MigrationWriter

    loader = MigrationLoader(None, ignore_no_migrations=True)
    plans: list[tuple[Rewritten, Migration]] = []
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if app_label not in app_labels:
            continue
        if not _uses_psqlextra(migration.operations):
            continue
        result = Rewritten(app_label, name, Path(MigrationWriter(migration).path))
        operations: list[Operation] = []
        for op in migration.operations:
            operations += _convert(apps, app_label, name, op, result)
        new = type(migration)(name, app_label)
        new.__dict__.update(migration.__dict__)
        new.operations = operations  # type: ignore[misc]  # an instance of its own, as Django sets it
        text = MigrationWriter(new).as_string()
        if "psqlextra" in text:
            raise RewriteError(
                f"migration {app_label}.{name} still refers to psqlextra after the rewrite (a field or an "
                "option of psqlextra's): edit it by hand"
            )
        plans.append((result, new))
    if not dry_run:
        for result, new in plans:
            result.path.write_text(MigrationWriter(new).as_string(), encoding="utf-8")
    return [result for result, _ in plans]


def _uses_psqlextra(operations: Iterable[Operation]) -> bool:
    for op in operations:
        if is_psqlextra(op):
            return True
        if any(is_psqlextra(b) for b in getattr(op, "bases", ()) or () if isinstance(b, type)):
            return True
        if any(is_psqlextra(m) for _, m in getattr(op, "managers", ()) or ()):
            return True
    return False


def _convert(apps: Any, app_label: str, migration: str, op: Operation, result: Rewritten) -> list[Operation]:
    from django.db.migrations.operations.special import RunPython

    from .operations import CreatePartitionedModel, DeletePartitionedModel

    where = f"migration {app_label}.{migration}"
    kind = type(op).__name__
    if isinstance(op, RunPython):
        raise RewriteError(f"{where} runs Python code (RunPython): its functions cannot be rewritten; edit it by hand")
    if not is_psqlextra(op):
        return [op]
    if kind in PARTITION_OPERATIONS:
        result.dropped.append(op.describe())
        return []
    if kind == "PostgresDeletePartitionedModel":
        result.converted.append(f"{kind} {op.name} -> DeletePartitionedModel")  # type: ignore[attr-defined]
        return [DeletePartitionedModel(op.name)]  # type: ignore[attr-defined]
    if kind != "PostgresCreatePartitionedModel":
        raise RewriteError(f"{where} uses psqlextra's {kind}, which pgpart has no counterpart for")
    name: str = op.name  # type: ignore[attr-defined]
    try:
        model = apps.get_model(app_label, name)
        spec: Spec | None = spec_of(model)
    except LookupError:
        spec = None
    if spec is None:
        raise RewriteError(
            f"{where} creates {app_label}.{name} with psqlextra, but the model declares no `class Partitioning:`: "
            "declare it (and apply the migration that adopts the table) first"
        )
    result.converted.append(f"{kind} {name} -> CreatePartitionedModel")
    bases = tuple(
        models.Model if isinstance(b, type) and is_psqlextra(b) else b
        for b in (op.bases or ())  # type: ignore[attr-defined]
    )
    bases = tuple(dict.fromkeys(bases))
    managers = [(n, m) for n, m in (op.managers or ()) if not is_psqlextra(m)]  # type: ignore[attr-defined]
    fields = list(op.fields)  # type: ignore[attr-defined]
    options = dict(op.options)  # type: ignore[attr-defined]
    # What psqlextra's model class added, where the model no longer has it:
    # the composite primary key psqlextra forces on Django 5.2 (the table's
    # primary key stays as it is; pgpart's default is the same pair of
    # columns with Django's pk on `id`) and the base manager it names.
    if not isinstance(model._meta.pk, models.CompositePrimaryKey):
        fields = [(n, f) for n, f in fields if not isinstance(f, models.CompositePrimaryKey)]
    if options.get("base_manager_name") is not None and model._meta.base_manager_name is None:
        del options["base_manager_name"]
    return [
        CreatePartitionedModel(
            name,
            fields,
            spec.to_dict(),
            options=options,
            bases=None if bases == (models.Model,) else bases,
            managers=managers or None,
        )
    ]
