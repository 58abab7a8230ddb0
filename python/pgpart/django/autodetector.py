"""The migration autodetector that knows partitioned models.

Django (5.2 and 6.x) lets ``makemigrations`` and ``migrate`` name their autodetector
in a class attribute (``Command.autodetector``); pgpart.django ships both
commands with it set to :class:`MigrationAutodetector`, which:

- emits :class:`~pgpart.django.operations.CreatePartitionedModel` instead of
  ``CreateModel`` for a model with a ``Partitioning`` declaration, and
  :class:`~pgpart.django.operations.DeletePartitionedModel` when one is deleted;
- emits :class:`~pgpart.django.operations.AddGlobalUnique` after a
  ``CreatePartitionedModel`` for each uniqueness without the partition key,
  and :class:`~pgpart.django.operations.ReferenceGlobalUnique` after the
  ``CreateModel`` of a model with an enforced ``ForeignKey`` to such a field
  (changes of uniqueness on an existing partitioned model are not detected);
- emits :class:`~pgpart.django.operations.AlterPartitioning` when a
  declaration differs from the migration state, and
  :class:`~pgpart.django.operations.AdoptPartitionedModel` when a model that
  django-postgres-extra's migrations partitioned gains a declaration, and
  :class:`~pgpart.django.operations.ConvertToPartitioned` when a model with a
  plain table gains one;
- makes the initial migration of an app without a ``migrations`` folder
  that holds a partitioned model, also when ``makemigrations`` is run without
  app labels (Django makes it only when the app is named): such an app
  cannot be synced without migrations, its table would not be partitioned.

Another app that overrides ``makemigrations`` or ``migrate`` too wins or
loses by its place in ``INSTALLED_APPS`` (the first app providing a command
wins). To have both, define the command in your project, subclassing the
other app's command and setting ``autodetector``; if that app has an
autodetector of its own, combine it with :class:`PartitioningAutodetectorMixin`::

    class Autodetector(PartitioningAutodetectorMixin, OtherAutodetector):
        pass

    class Command(other_app.management.commands.makemigrations.Command):
        autodetector = Autodetector

Whatever command runs, the system check pgpart.E002 reports a partitioned
model that a migration creates with a plain ``CreateModel``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from django.apps import apps as global_apps
from django.db import models
from django.db.migrations.autodetector import MigrationAutodetector as DjangoAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.models import CreateModel, DeleteModel

from .declaration import STATE_OPTION, DeclarationError, spec_of
from .globalunique import global_uniques, referenced_global_unique
from .operations import (
    AddGlobalUnique,
    AdoptPartitionedModel,
    AlterPartitioning,
    ConvertToPartitioned,
    CreatePartitionedModel,
    DeletePartitionedModel,
    ReferenceGlobalUnique,
)
from .psqlextra import psqlextra_partitioning

__all__ = ["MigrationAutodetector", "PartitioningAutodetectorMixin"]


def needs_initial_migration(app_label: str) -> bool:
    """Whether APP_LABEL holds a managed partitioned model and has no
    migrations package (not one disabled by ``MIGRATION_MODULES``)."""
    try:
        app_config = global_apps.get_app_config(app_label)
    except LookupError:
        return False
    if not any(m._meta.managed for m in _declaring_models(app_config.get_models())):
        return False
    module, _ = MigrationLoader.migrations_module(app_config.label)
    if module is None:
        return False  # migrations disabled on purpose
    try:
        importlib.import_module(module)
    except ImportError:
        return True
    return False


def _declaring_models(candidates: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    out = []
    for model in candidates:
        try:
            if spec_of(model) is not None:
                out.append(model)
        except DeclarationError:
            continue  # reported by pgpart.E001/E006
    return out


class _Questioner:
    """Django's questioner, but an app that needs_initial_migration() gets
    one: a proxy, every other question goes to the questioner it wraps."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def ask_initial(self, app_label: str) -> bool:
        return bool(self._wrapped.ask_initial(app_label)) or needs_initial_migration(app_label)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class PartitioningAutodetectorMixin:
    """Partitioning for any ``MigrationAutodetector`` subclass."""

    # What the mixin uses of Django's MigrationAutodetector.
    from_state: Any
    to_state: Any
    questioner: Any
    kept_model_keys: set[tuple[str, str]]
    renamed_models: dict[tuple[str, str], str]
    add_operation: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questioner = _Questioner(self.questioner)

    def _declared(self, app_label: str, model_name: str) -> dict[str, Any] | None:
        # The models' own classes: ProjectState.from_apps() keeps only Meta
        # options, not the Partitioning declaration.
        try:
            model: type[models.Model] = global_apps.get_model(app_label, model_name)
        except LookupError:
            return None
        spec = spec_of(model)
        return None if spec is None else spec.to_dict()

    def changes(
        self,
        graph: Any,
        trim_to_apps: Any = None,
        convert_apps: Any = None,
        migration_name: str | None = None,
    ) -> dict[str, list[Any]]:
        # Django leaves the models of apps without migrations out (the from
        # state's "real apps") unless the app is named: a partitioned model
        # there gets its initial migration anyway.
        new_apps = {
            label
            for label in self.from_state.real_apps
            if (not trim_to_apps or label in trim_to_apps) and needs_initial_migration(label)
        }
        if new_apps:
            convert_apps = set(convert_apps or ()) | new_apps
        result: dict[str, list[Any]] = super().changes(  # type: ignore[misc]
            graph, trim_to_apps, convert_apps, migration_name
        )
        return result

    def generate_altered_options(self) -> None:
        super().generate_altered_options()  # type: ignore[misc]
        for app_label, model_name in sorted(self.kept_model_keys):
            old_name = self.renamed_models.get((app_label, model_name), model_name)
            old = self.from_state.models[app_label, old_name].options.get(STATE_OPTION)
            new = self._declared(app_label, model_name)
            name = self.to_state.models[app_label, model_name].name
            if old is None and new is not None:
                extra = psqlextra_partitioning(self.from_state.models[app_label, old_name])
                if extra is not None and extra == (new["method"], new["key"]):
                    # a table psqlextra partitioned, now declared: adopt it
                    self.add_operation(app_label, AdoptPartitionedModel(name, new))
                elif extra is None:
                    # a plain table, now declared: convert it
                    self.add_operation(app_label, ConvertToPartitioned(name, new))
                continue
            # A partitioned table no longer declared (E005) is for the system
            # checks to report.
            if old is None or new is None or old == new:
                continue
            self.add_operation(app_label, AlterPartitioning(name, new))

    def _detect_changes(self, convert_apps: Any = None, graph: Any = None) -> dict[str, list[Any]]:
        changes: dict[str, list[Any]] = super()._detect_changes(convert_apps, graph)  # type: ignore[misc]
        # After Django's optimizer, which folds operations into plain CreateModels.
        for app_label, migrations in changes.items():
            for migration in migrations:
                operations: list[Operation] = []
                for op in migration.operations:
                    converted = self._convert(app_label, op)
                    operations.append(converted)
                    operations += self._global_unique_operations(app_label, converted)
                migration.operations = operations
        return changes

    def _global_unique_operations(self, app_label: str, op: Operation) -> list[Operation]:
        """After a model's creation: AddGlobalUnique for each uniqueness of a
        partitioned model without the key, ReferenceGlobalUnique for each
        enforced relation to a partitioned model's globally unique field."""
        if not isinstance(op, CreateModel):
            return []
        try:
            model: type[models.Model] = global_apps.get_model(app_label, op.name)
        except LookupError:
            return []
        out: list[Operation] = []
        if isinstance(op, CreatePartitionedModel):
            out += [AddGlobalUnique(op.name, gu.fields, gu.name) for gu in global_uniques(model)]
        for name, _ in op.fields:
            field: Any = model._meta.get_field(name)
            if field.is_relation and field.many_to_one and getattr(field, "db_constraint", False):
                gu = referenced_global_unique(field)
                if gu is not None:
                    out.append(ReferenceGlobalUnique(op.name, name, gu.side_table))
        return out

    def _convert(self, app_label: str, op: Operation) -> Operation:
        if type(op) is CreateModel:
            declared = self._declared(app_label, op.name)
            if declared is not None:
                return CreatePartitionedModel(
                    op.name, op.fields, declared, options=op.options, bases=op.bases, managers=op.managers
                )
        elif type(op) is DeleteModel:
            old = self.from_state.models.get((app_label, op.name_lower))
            if old is not None and old.options.get(STATE_OPTION) is not None:
                return DeletePartitionedModel(op.name)
        return op


class MigrationAutodetector(PartitioningAutodetectorMixin, DjangoAutodetector):
    """Django's autodetector with partitioned models."""
