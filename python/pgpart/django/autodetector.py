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
  ``CreateModel`` of a model with an enforced ``ForeignKey`` to such a field;
- emits ``AddGlobalUnique`` on an existing partitioned model's primary key
  when a first enforced relation by that pk appears (in any app: the
  operations creating the foreign keys depend on it), and
  ``RemoveGlobalUnique`` when the last one goes (after the operations that
  drop the foreign keys);
- emits pgpart's ``GlobalUnique*`` subclasses of ``AddField``,
  ``AlterField``, ``RemoveField``, ``RenameField``, ``AddConstraint``,
  ``RemoveConstraint`` and ``AlterUniqueTogether`` instead of Django's on a
  partitioned model (and ``AddField``/``AlterField`` of a relation to one):
  they add and drop the global unique constraints the change implies;
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
from django.db.migrations import autodetector as django_autodetector
from django.db.migrations.autodetector import MigrationAutodetector as DjangoAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.fields import AddField, AlterField, RemoveField, RenameField
from django.db.migrations.operations.models import (
    AddConstraint,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    RemoveConstraint,
)

from .declaration import STATE_OPTION, DeclarationError, Spec, spec_of
from .globalunique import global_uniques, pk_global_unique, referenced_by_pk, referenced_global_unique
from .operations import (
    AddGlobalUnique,
    AdoptPartitionedModel,
    AlterPartitioning,
    ConvertToPartitioned,
    CreatePartitionedModel,
    DeletePartitionedModel,
    GlobalUniqueAddConstraint,
    GlobalUniqueAddField,
    GlobalUniqueAlterField,
    GlobalUniqueAlterUniqueTogether,
    GlobalUniqueDeleteModel,
    GlobalUniqueRemoveConstraint,
    GlobalUniqueRemoveField,
    GlobalUniqueRenameField,
    ReferenceGlobalUnique,
    RemoveGlobalUnique,
)
from .psqlextra import psqlextra_partitioning

__all__ = ["MigrationAutodetector", "PartitioningAutodetectorMixin"]

#: Django's (5.1+) dependency tuple (app_label, model_name, field_name, type); not in django-stubs
OperationDependency: Any = getattr(django_autodetector, "OperationDependency")  # noqa: B009


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
    old_model_keys: set[tuple[str, str]]
    new_model_keys: set[tuple[str, str]]
    renamed_models: dict[tuple[str, str], str]
    add_operation: Any
    generated_operations: dict[str, list[Any]]

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
            if old is not None and any(self._to_partitioned(app_label, op.name_lower, name) for name in old.fields):
                return GlobalUniqueDeleteModel(op.name)  # backwards: its foreign keys to the side tables
        elif type(op) in _GLOBAL_UNIQUE_AWARE:
            model_name = op.name_lower if isinstance(op, AlterUniqueTogether) else op.model_name_lower  # type: ignore[attr-defined]
            relation = isinstance(op, (AddField, AlterField, RemoveField)) and self._to_partitioned(
                app_label, model_name, op.name
            )
            if relation or self._partitioned(app_label, model_name):
                converted: Operation = _GLOBAL_UNIQUE_AWARE[type(op)].__new__(_GLOBAL_UNIQUE_AWARE[type(op)])
                converted.__dict__.update(op.__dict__)
                return converted
        return op

    def _partitioned(self, app_label: str, model_name: str) -> bool:
        """Whether the model is partitioned in the migration state or declared so."""
        old_name = self.renamed_models.get((app_label, model_name), model_name)
        old = self.from_state.models.get((app_label, old_name))
        if old is not None and old.options.get(STATE_OPTION) is not None:
            return True
        try:
            return self._declared(app_label, model_name) is not None
        except DeclarationError:
            return False

    def _to_partitioned(self, app_label: str, model_name: str, field_name: str) -> bool:
        """Whether the field is a relation to a partitioned model, in the
        project's models or in the migration state."""
        old_name = self.renamed_models.get((app_label, model_name), model_name)
        for apps, name in ((global_apps, model_name), (self.from_state.apps, old_name)):
            try:
                field: Any = apps.get_model(app_label, name)._meta.get_field(field_name)
            except Exception:  # LookupError, FieldDoesNotExist
                continue
            target: Any = getattr(getattr(field, "related_model", None), "_meta", None)
            if (
                getattr(field, "many_to_one", False)
                and target is not None
                and self._partitioned(target.app_label, str(target.model_name))
            ):
                return True
        return False

    # -- the primary key's global unique constraint, for relations by the pk

    def _sort_migrations(self) -> None:
        # After every generate_* step, before the operations of each app are
        # sorted and cut into migrations: dependencies still count here.
        self._pk_global_uniques()
        self._after_target_altered()
        self._after_referencing_dropped()
        super()._sort_migrations()  # type: ignore[misc]

    def _after_referencing_dropped(self) -> None:
        """An AlterField or RemoveField of a partitioned model's field comes
        after the operations that drop the foreign keys referencing that
        field (to_field=) by its global unique constraint's side table: the
        constraint cannot go while they reference it."""
        for app_label, ops in self.generated_operations.items():
            for op in ops:
                if not isinstance(op, (AlterField, RemoveField)):
                    continue
                old_name = self.renamed_models.get((app_label, op.model_name_lower), op.model_name_lower)
                if (app_label, old_name) not in self.from_state.models or not self._partitioned(app_label, old_name):
                    continue
                try:
                    model: type[models.Model] = self.from_state.apps.get_model(app_label, old_name)
                    if isinstance(op, AlterField):
                        old_field: Any = model._meta.get_field(op.name)
                        new_field: Any = global_apps.get_model(app_label, op.model_name)._meta.get_field(op.name)
                        if not old_field.unique or new_field.unique:
                            continue  # its uniqueness stays
                except Exception:  # LookupError, FieldDoesNotExist
                    continue
                for rel in model._meta.related_objects:
                    field: Any = rel.field
                    if (
                        field.many_to_one
                        and getattr(field, "db_constraint", False)
                        and field.target_field.name == op.name
                        and field.model is not model
                    ):
                        deps = self._dropping(_label(field))
                        setattr(op, "_auto_deps", [*getattr(op, "_auto_deps", []), *deps])  # noqa: B010

    def _after_target_altered(self) -> None:
        """An enforced relation by a field of a partitioned model (to_field=)
        comes after that field's AlterField, if any (which makes it unique
        across partitions): its foreign key is pointed at the side table only
        if the field is globally unique in the operation's state."""
        for app_label, ops in self.generated_operations.items():
            for op in ops:
                if not isinstance(op, (AddField, AlterField)):
                    continue
                try:
                    field: Any = global_apps.get_model(app_label, op.model_name)._meta.get_field(op.name)
                except Exception:  # LookupError, FieldDoesNotExist
                    continue
                target: Any = getattr(getattr(field, "related_model", None), "_meta", None)
                if not (getattr(field, "many_to_one", False) and getattr(field, "db_constraint", False)) or not target:
                    continue
                if not self._partitioned(target.app_label, str(target.model_name)):
                    continue
                needed = OperationDependency(
                    target.app_label, target.model_name, field.target_field.name, OperationDependency.Type.ALTER
                )
                setattr(op, "_auto_deps", [*getattr(op, "_auto_deps", []), needed])  # noqa: B010

    def _pk_global_uniques(self) -> None:
        """AddGlobalUnique on an existing partitioned model's pk when a first
        enforced relation by it appears, RemoveGlobalUnique when the last one
        goes. (A model created now gets it after its CreatePartitionedModel.)"""
        for app_label, model_name in sorted(self.kept_model_keys):
            old_name = self.renamed_models.get((app_label, model_name), model_name)
            old_partitioning = self.from_state.models[app_label, old_name].options.get(STATE_OPTION)
            try:
                new_partitioning = self._declared(app_label, model_name)
                new_model: type[models.Model] = global_apps.get_model(app_label, model_name)
                old_model: type[models.Model] = self.from_state.apps.get_model(app_label, old_name)
            except (LookupError, DeclarationError):
                continue
            if old_partitioning is None or new_partitioning is None:
                continue
            old_refs = {_label(f): f for f in referenced_by_pk(old_model)}
            new_refs = {_label(f): f for f in referenced_by_pk(new_model)}
            old_pk = pk_global_unique(old_model, Spec.from_dict(old_partitioning)) if old_refs else None
            new_pk = pk_global_unique(new_model, Spec.from_dict(new_partitioning)) if new_refs else None
            if old_pk == new_pk:
                continue
            name = self.to_state.models[app_label, model_name].name
            if old_pk is not None:
                # after every operation that drops a foreign key to it
                dependencies = [
                    dep for ref in old_refs if ref not in new_refs for dep in self._dropping(ref)
                ]  # fmt: skip
                self.add_operation(
                    app_label, RemoveGlobalUnique(name, old_pk.fields, old_pk.name), dependencies=dependencies
                )
            if new_pk is not None:
                self.add_operation(app_label, AddGlobalUnique(name, new_pk.fields, new_pk.name))
                needed = OperationDependency(app_label, model_name, new_pk.fields[0], OperationDependency.Type.ALTER)
                for ref in new_refs:
                    if old_pk is None or ref not in old_refs:
                        for op in self._creating(ref):
                            setattr(op, "_auto_deps", [*getattr(op, "_auto_deps", []), needed])  # noqa: B010
        self._pk_global_uniques_of_deleted()

    def _pk_global_uniques_of_deleted(self) -> None:
        """A partitioned model deleted while relations by its pk exist: its
        pk's global unique constraint goes after their foreign keys (which
        Django removes first) and before the table (DeletePartitionedModel
        sees the model as its last state has it, without those relations)."""
        for app_label, model_name in sorted(self.old_model_keys - self.new_model_keys):
            partitioning = self.from_state.models[app_label, model_name].options.get(STATE_OPTION)
            if partitioning is None:
                continue
            try:
                model: type[models.Model] = self.from_state.apps.get_model(app_label, model_name)
            except LookupError:
                continue
            refs = [_label(f) for f in referenced_by_pk(model)]
            pk = pk_global_unique(model, Spec.from_dict(partitioning)) if refs else None
            if pk is None:
                continue
            name = self.from_state.models[app_label, model_name].name
            dependencies = [dep for ref in refs for dep in self._dropping(ref) if dep.model_name_lower != model_name]
            dependencies += [
                OperationDependency(app_label, model_name, ref[2], OperationDependency.Type.REMOVE)
                for ref in refs
                if ref[:2] == (app_label, model_name)  # its own relations (Django removes them first)
            ]
            self.add_operation(app_label, RemoveGlobalUnique(name, pk.fields, pk.name), dependencies=dependencies)
            removed = OperationDependency(app_label, model_name, pk.fields[0], OperationDependency.Type.REMOVE)
            for op in self.generated_operations.get(app_label, []):
                if isinstance(op, DeleteModel) and op.name_lower == model_name:
                    setattr(op, "_auto_deps", [*getattr(op, "_auto_deps", []), removed])  # noqa: B010

    def _creating(self, ref: tuple[str, str, str]) -> list[Operation]:
        """The generated operations that create relation REF's foreign key."""
        app_label, model_name, field_name = ref
        out: list[Operation] = []
        for op in self.generated_operations.get(app_label, []):
            if isinstance(op, CreateModel):
                if op.name_lower == model_name and any(n == field_name for n, _ in op.fields):
                    out.append(op)
            elif isinstance(op, (AddField, AlterField)) and _same_field(op, model_name, field_name):
                out.append(op)
        return out

    def _dropping(self, ref: tuple[str, str, str]) -> list[Any]:
        """Dependencies on the generated operations that drop relation REF's
        foreign key (its field removed or altered, its model deleted)."""
        app_label, model_name, field_name = ref
        kind = OperationDependency.Type
        out: list[Any] = []
        for op in self.generated_operations.get(app_label, []):
            if isinstance(op, DeleteModel) and op.name_lower == model_name:
                out.append(OperationDependency(app_label, model_name, None, kind.REMOVE))
            elif isinstance(op, RemoveField) and _same_field(op, model_name, field_name):
                out.append(OperationDependency(app_label, model_name, field_name, kind.REMOVE))
            elif isinstance(op, AlterField) and _same_field(op, model_name, field_name):
                out.append(OperationDependency(app_label, model_name, field_name, kind.ALTER))
        return out

    def check_dependency(self, operation: Any, dependency: Any) -> bool:
        # "the pk altered" (ALTER with a field) is also met by an
        # AddGlobalUnique on that field alone: what a relation by the pk needs
        if (
            type(operation) is AddGlobalUnique
            and dependency.field_name is not None
            and dependency.type == OperationDependency.Type.ALTER
            and operation.model_name_lower == dependency.model_name_lower
            and [f.lower() for f in operation.fields] == [dependency.field_name_lower]
        ):
            return True
        # and "the pk removed" by a RemoveGlobalUnique on it (before its table goes)
        if (
            type(operation) is RemoveGlobalUnique
            and dependency.field_name is not None
            and dependency.type == OperationDependency.Type.REMOVE
            and operation.model_name_lower == dependency.model_name_lower
            and [f.lower() for f in operation.fields] == [dependency.field_name_lower]
        ):
            return True
        result: bool = super().check_dependency(operation, dependency)  # type: ignore[misc]
        return result


def _same_field(op: Any, model_name: str, field_name: str) -> bool:
    return bool(op.model_name_lower == model_name and op.name_lower == field_name.lower())


def _label(field: Any) -> tuple[str, str, str]:
    """(app label, model name, field name) of a relation field."""
    meta = field.model._meta
    return meta.app_label, meta.model_name, field.name


#: Django's operation -> pgpart's, on a partitioned model (or for a relation to one)
_GLOBAL_UNIQUE_AWARE: dict[type[Operation], type[Operation]] = {
    AddField: GlobalUniqueAddField,
    AlterField: GlobalUniqueAlterField,
    RemoveField: GlobalUniqueRemoveField,
    RenameField: GlobalUniqueRenameField,
    AddConstraint: GlobalUniqueAddConstraint,
    RemoveConstraint: GlobalUniqueRemoveConstraint,
    AlterUniqueTogether: GlobalUniqueAlterUniqueTogether,
}


class MigrationAutodetector(PartitioningAutodetectorMixin, DjangoAutodetector):
    """Django's autodetector with partitioned models."""
