"""Migration operations for partitioned models.

- :class:`CreatePartitionedModel`: ``CreateModel`` that creates the table
  ``PARTITION BY ...`` (Django's table SQL, see :mod:`pgpart.django.schema`),
  then stores the policy and creates the first partitions through the
  extension, in the migration's transaction, so the model is usable right
  after ``migrate``. Backwards: the policy row and the table (with its
  partitions) are dropped.
- :class:`AlterPartitioning`: the declaration changed (interval, premake,
  retention, archive, tablespace, values, ...): applies it through the
  extension, which refuses what cannot change on existing partitions (the
  grid, the hash modulus). The method and the key cannot change.
- :class:`DeletePartitionedModel`: ``DeleteModel`` that also removes the policy.
- :class:`ConvertToPartitioned`: a plain table whose model gained a
  declaration becomes partitioned (pgpart's online conversion; in an atomic
  migration in one transaction). Not reversible.
- :class:`AdoptPartitionedModel`: puts a table that is already partitioned
  (made by django-postgres-extra, or by hand) under a pgpart policy: its
  partitions and default partition are kept, the missing ones created, no
  row moves. Backwards: the policy is removed, the table stays.
- :class:`InstallPgpart`: install or upgrade the extension (``CREATE
  EXTENSION`` where possible, else the script shipped with the client).
- :class:`AddGlobalUnique` / :class:`RemoveGlobalUnique`: a partitioned
  model's uniqueness without the key (``unique=True``, ``unique_together``,
  ``UniqueConstraint``) as a global unique constraint
  (``pgpart.add_global_unique``; the model state keeps the uniqueness as
  declared, the table SQL leaves it out, see :mod:`pgpart.django.globalunique`).
- :class:`ReferenceGlobalUnique`: the foreign key Django creates for a
  relation to a partitioned model's globally unique field points at the
  constraint's side table instead of the partitioned table (which
  PostgreSQL cannot reference).
- :class:`GlobalUniqueAddField`, :class:`GlobalUniqueAlterField`,
  :class:`GlobalUniqueRemoveField`, :class:`GlobalUniqueRenameField`,
  :class:`GlobalUniqueAddConstraint`, :class:`GlobalUniqueRemoveConstraint`,
  :class:`GlobalUniqueAlterUniqueTogether`: Django's operations on an
  existing model, emitted by the autodetector instead of them when the model
  is partitioned or the field is a relation to a partitioned model. Each
  compares the model's global unique constraints before and after (in the
  migration states) and drops/adds what changed around Django's own work,
  which runs with that uniqueness hidden; a foreign key it creates to a
  partitioned model's globally unique column references the side table.

Migration state keeps only the declaration (``options["_pgpart_partitioning"]``,
invisible to the rendered historical model); partitions are never part of it:
the catalog is the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.operations.fields import AddField, AlterField, RemoveField, RenameField
from django.db.migrations.operations.models import (
    AddConstraint,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    ModelOperation,
    RemoveConstraint,
)
from django.db.migrations.state import ModelState, ProjectState

from .. import Client
from ..errors import PgpartError
from . import db
from .declaration import STATE_OPTION, Spec, key_column
from .globalunique import (
    GlobalUniqueSpec,
    declared_global_uniques,
    global_uniques,
    referenced_global_unique,
    state_spec,
    unique_sql_hidden,
)
from .schema import create_partitioned_model

__all__ = [
    "AddGlobalUnique",
    "AdoptPartitionedModel",
    "AlterPartitioning",
    "ConvertToPartitioned",
    "CreatePartitionedModel",
    "DeletePartitionedModel",
    "GlobalUniqueAddConstraint",
    "GlobalUniqueAddField",
    "GlobalUniqueAlterField",
    "GlobalUniqueAlterUniqueTogether",
    "GlobalUniqueDeleteModel",
    "GlobalUniqueRemoveConstraint",
    "GlobalUniqueRemoveField",
    "GlobalUniqueRenameField",
    "InstallPgpart",
    "ReferenceGlobalUnique",
    "RemoveGlobalUnique",
]


def _apply(
    schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model], spec: Spec, *, new_table: bool = False
) -> None:
    """Policy and partitions, through the schema editor (so ``sqlmigrate``
    shows the calls instead of running them)."""
    if not schema_editor.collect_sql:
        _require_pgpart(schema_editor)
    _client(schema_editor).declare(model._meta.db_table, **db.declaration(spec, new_table=new_table))


def _client(schema_editor: BaseDatabaseSchemaEditor) -> Client:
    return Client(db.SchemaEditorSession(schema_editor))


def _require_pgpart(schema_editor: BaseDatabaseSchemaEditor) -> None:
    session = db.DjangoSession(schema_editor.connection)
    if db.installed_version(session) is None:
        raise PgpartError(
            f"pgpart is not installed in database {schema_editor.connection.alias!r}",
            hint="Run `python manage.py pgpart install` (or CREATE EXTENSION pgpart as a superuser), "
            "or add pgpart.django.operations.InstallPgpart() to an earlier migration.",
        )


def _forget(schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model]) -> None:
    """Remove the table's policy before the table is dropped (pgpart.unmanage;
    a table without a policy is fine: it may predate pgpart)."""
    _client(schema_editor).unmanage(model._meta.db_table, missing_ok=True)


class CreatePartitionedModel(CreateModel):
    """Create a partitioned model's table, its policy and first partitions."""

    def __init__(
        self,
        name: str,
        fields: list[tuple[str, models.Field[Any, Any]]],
        partitioning: dict[str, Any],
        options: dict[str, Any] | None = None,
        bases: Sequence[type[models.Model] | str] | None = None,
        managers: Sequence[tuple[str, models.Manager[Any]]] | None = None,
    ) -> None:
        self.partitioning = dict(Spec.from_dict(partitioning).to_dict())
        super().__init__(name, fields, options, bases, managers)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        name, args, kwargs = super().deconstruct()
        kwargs["partitioning"] = self.partitioning
        return name, args, kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        options = {**self.options, STATE_OPTION: dict(self.partitioning)}
        state.add_model(
            ModelState(
                app_label, self.name, list(self.fields), options, tuple(self.bases or ()), list(self.managers or ())
            )
        )

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        spec = Spec.from_dict(self.partitioning)
        create_partitioned_model(schema_editor, model, spec)
        _apply(schema_editor, model, spec, new_table=True)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = from_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _forget(schema_editor, model)
            schema_editor.delete_model(model)

    def describe(self) -> str:
        method, key = self.partitioning["method"].upper(), self.partitioning["key"]
        return f"Create partitioned model {self.name} ({method} on {key})"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        # CreateModel.reduce() folds later operations into a new *CreateModel*:
        # keep it partitioned, and fold AlterPartitioning in as well.
        if isinstance(operation, AlterPartitioning) and operation.name_lower == self.name_lower:
            return [self._partitioned(self, operation.partitioning)]
        if isinstance(operation, DeleteModel) and operation.name_lower == self.name_lower:
            return []
        result: list[Operation] | bool = super().reduce(operation, app_label)
        if isinstance(result, list):
            return [self._partitioned(op, self.partitioning) if type(op) is CreateModel else op for op in result]
        return result

    @staticmethod
    def _partitioned(op: CreateModel, partitioning: dict[str, Any]) -> CreatePartitionedModel:
        return CreatePartitionedModel(
            op.name, op.fields, partitioning, options=op.options, bases=op.bases, managers=op.managers
        )


class _DeclarationOperation(ModelOperation):
    """An operation that records a model's partitioning declaration in the
    migration state (and acts on its table in ``database_forwards``)."""

    category = OperationCategory.ALTERATION

    def __init__(self, name: str, partitioning: dict[str, Any]) -> None:
        self.partitioning = dict(Spec.from_dict(partitioning).to_dict())
        super().__init__(name)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {"name": self.name, "partitioning": self.partitioning}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        # Only the declaration changes: no field, so no model to re-render.
        model_state = state.models[app_label, self.name_lower]
        model_state.options = {**model_state.options, STATE_OPTION: dict(self.partitioning)}


class AlterPartitioning(_DeclarationOperation):
    """Apply a changed declaration to an existing partitioned table."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        old = from_state.models[app_label, self.name_lower].options.get(STATE_OPTION)
        spec = Spec.from_dict(self.partitioning)
        if old is not None:
            before = Spec.from_dict(old)
            if (before.method, before.key) != (spec.method, spec.key):
                raise PgpartError(
                    f"cannot change the partitioning of {model._meta.db_table} from {before.method.upper()} "
                    f"({before.key}) to {spec.method.upper()} ({spec.key})",
                    hint="pgpart does not repartition an existing table: create a new model and copy the rows.",
                )
        _apply(schema_editor, model, spec)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        old = to_state.models[app_label, self.name_lower].options.get(STATE_OPTION)
        if old is None:
            return
        model = to_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _apply(schema_editor, model, Spec.from_dict(old))

    def describe(self) -> str:
        return f"Alter partitioning of {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_partitioning"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, (AlterPartitioning, DeleteModel)) and operation.name_lower == self.name_lower:
            return [operation]
        result: list[Operation] | bool = super().reduce(operation, app_label)
        return result


class AdoptPartitionedModel(_DeclarationOperation):
    """Put an existing partitioned table (django-postgres-extra's, or one
    made by hand) under a pgpart policy, its rows untouched: existing
    partitions on the grid are kept, a default partition too, the missing
    ones are created. The table must already be partitioned by the declared
    method and key (else nothing is done and the migration fails)."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        spec = Spec.from_dict(self.partitioning)
        table = model._meta.db_table
        if not schema_editor.collect_sql:
            relkind, partkey, _ = db.table_state(db.DjangoSession(schema_editor.connection), table)
            wanted = f"{spec.method.upper()} ({key_column(model, spec)})"
            if relkind != "p" or partkey is None or partkey.replace('"', "") != wanted:
                raise PgpartError(
                    f"cannot adopt table {table}: it is "
                    + ("missing" if relkind is None else f"partitioned by {partkey}" if partkey else "not partitioned")
                    + f", the declaration says {wanted}",
                    hint="AdoptPartitionedModel takes over a table that is already partitioned as declared; "
                    "pgpart does not repartition a table.",
                )
        _apply(schema_editor, model, spec)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = from_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _forget(schema_editor, model)

    def describe(self) -> str:
        return f"Adopt the partitioned table of {self.name} under a pgpart policy"

    @property
    def migration_name_fragment(self) -> str:
        return f"adopt_{self.name_lower}_partitioning"


def _convert_aside(schema_editor: BaseDatabaseSchemaEditor, table: str, arguments: dict[str, Any]) -> None:
    """The online conversion from a connection of its own: its steps commit
    one by one, which the migration's transaction cannot. Killed or failed,
    it resumes when run again (the next migrate, or ``pgpart convert``)."""
    from django.db import connections

    aside = connections.create_connection(schema_editor.connection.alias)
    try:
        Client(db.DjangoSession(aside)).convert(table, **arguments)
    finally:
        aside.close()


class ConvertToPartitioned(_DeclarationOperation):
    """A model whose table exists plain gains a ``Partitioning`` declaration:
    its table becomes a partitioned table of the same name (pgpart's
    conversion, docs/converting.md): the old table the legacy partition,
    later partitions on the grid, ``id`` kept unique across partitions.

    The conversion runs online, step by step, each step committed: in an
    atomic migration (Django's default) from a connection of its own beside
    the migration's (so do not change the same table earlier in the same
    migration). A table converted beforehand (``manage.py pgpart convert
    --model app.Model``, or ``Client.convert``) is only put under the
    declaration. ``sqlmigrate`` shows the one-call form
    (``pgpart.convert_to_partitioned``). Not reversible."""

    reversible = False

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        spec = Spec.from_dict(self.partitioning)
        table = model._meta.db_table
        if spec.method != "range":
            raise PgpartError(
                f"cannot convert table {table} to {spec.method.upper()} partitioning",
                hint="pgpart converts an existing table to RANGE partitioning only; for LIST or HASH create a new "
                "model and copy the rows.",
            )
        relkind = None
        if not schema_editor.collect_sql:
            _require_pgpart(schema_editor)
            relkind, partkey, _ = db.table_state(db.DjangoSession(schema_editor.connection), table)
            wanted = f"RANGE ({key_column(model, spec)})"
            if relkind == "p" and (partkey or "").replace('"', "") != wanted:
                raise PgpartError(
                    f"cannot convert table {table}: it is already partitioned by {partkey}, the declaration says "
                    f"{wanted}",
                    hint="pgpart does not repartition a table.",
                )
        if relkind != "p":
            arguments = db.conversion(model, spec)
            if schema_editor.collect_sql:
                _client(schema_editor).convert(table, **arguments, online=False)  # sqlmigrate: the one-call form
            elif not schema_editor.connection.in_atomic_block:
                Client(db.DjangoSession(schema_editor.connection)).convert(table, **arguments)
            else:
                _convert_aside(schema_editor, table, arguments)
        _apply(schema_editor, model, spec)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        raise PgpartError(
            f"cannot turn the partitioned table of {self.name} back into a plain table",
            hint="ConvertToPartitioned is not reversible; to undo it, copy the rows into a new plain table.",
        )

    def describe(self) -> str:
        return f"Convert the table of {self.name} to a partitioned table"

    @property
    def migration_name_fragment(self) -> str:
        return f"convert_{self.name_lower}_partitioned"


class DeletePartitionedModel(DeleteModel):
    """Drop a partitioned model's table (and partitions) and its policy."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = from_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            partitioning = from_state.models[app_label, self.name_lower].options.get(STATE_OPTION)
            if partitioning is not None:
                for gu in global_uniques(model, Spec.from_dict(partitioning)):
                    _drop_global_unique(schema_editor, model, gu.name)
            _forget(schema_editor, model)
            schema_editor.delete_model(model)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        partitioning = to_state.models[app_label, self.name_lower].options.get(STATE_OPTION)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        with _fks_retargeted(schema_editor, _retargets(model, to_state)):
            if partitioning is None:
                schema_editor.create_model(model)
                return
            spec = Spec.from_dict(partitioning)
            create_partitioned_model(schema_editor, model, spec)
        _apply(schema_editor, model, spec, new_table=True)
        for gu in global_uniques(model, spec):
            _add_global_unique(schema_editor, model, gu.fields, gu.name)

    def describe(self) -> str:
        return f"Delete partitioned model {self.name}"


class InstallPgpart(Operation):
    """Install or upgrade pgpart in the database (``Client.install()``):
    ``CREATE EXTENSION`` where the server has pgpart and the role may,
    else the script shipped with the Python client. Backwards: nothing."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, method: str = "auto") -> None:
        self.method = method

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {} if self.method == "auto" else {"method": self.method}
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        from django.db import router

        if router.allow_migrate(schema_editor.connection.alias, app_label):
            db.client_for(schema_editor.connection.alias).install(method=self.method)  # type: ignore[arg-type]

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        pass

    def describe(self) -> str:
        return "Install or upgrade pgpart"


# -- global unique constraints (docs/django.md, "Unique fields and foreign keys across partitions")


def _add_global_unique(
    schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model], fields: Sequence[str], name: str
) -> None:
    """``pgpart.add_global_unique`` through the schema editor (``sqlmigrate``
    shows it), the values of existing rows copied in the migration's
    transaction."""
    if not schema_editor.collect_sql:
        _require_pgpart(schema_editor)
    columns = [str(getattr(model._meta.get_field(f), "column", f)) for f in fields]
    array = "{" + ",".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in columns) + "}"
    db.SchemaEditorSession(schema_editor).execute(
        "SELECT unique_constraint FROM pgpart.add_global_unique("
        "parent => %s::regclass, columns => %s::name[], constraint_name => %s::name)",
        [model._meta.db_table, array, name],
    )


def _drop_global_unique(schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model], name: str) -> None:
    db.SchemaEditorSession(schema_editor).execute(
        "SELECT FROM pgpart.drop_global_unique(parent => %s::regclass, constraint_name => %s::name)",
        [model._meta.db_table, name],
    )


class AddGlobalUnique(Operation):
    """Make FIELDS of partitioned model MODEL_NAME unique across all its
    partitions: the global unique constraint NAME (``pgpart.add_global_unique``;
    its side table is ``<name>_values``). Emitted by the autodetector after
    ``CreatePartitionedModel`` for each uniqueness of the model without the
    partition key, and on an existing model's pk when a first enforced
    relation by the pk appears. The state is untouched (the model keeps its
    ``unique=True``/``unique_together``/``UniqueConstraint``). Backwards:
    ``pgpart.drop_global_unique``."""

    reversible = True
    category = OperationCategory.ADDITION

    def __init__(self, model_name: str, fields: Sequence[str], name: str) -> None:
        self.model_name = model_name
        self.fields = list(fields)
        self.name = name

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "fields": self.fields, "name": self.name},
        )

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def _forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _add_global_unique(schema_editor, model, self.fields, self.name)

    def _backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_global_unique(schema_editor, model, self.name)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._forwards(app_label, schema_editor, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._backwards(app_label, schema_editor, from_state)

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name_lower

    def describe(self) -> str:
        return f"Make {', '.join(self.fields)} of {self.model_name} unique across partitions ({self.name})"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_global_unique"


class RemoveGlobalUnique(AddGlobalUnique):
    """The inverse of :class:`AddGlobalUnique` (``pgpart.drop_global_unique``;
    backwards: adds it again): emitted when the last enforced relation by a
    model's pk goes, after the operations dropping its foreign keys."""

    category = OperationCategory.REMOVAL

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._backwards(app_label, schema_editor, from_state)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._forwards(app_label, schema_editor, to_state)

    def describe(self) -> str:
        return f"Remove the global unique constraint {self.name} of {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_global_unique"


class ReferenceGlobalUnique(Operation):
    """The foreign key of MODEL_NAME.FIELD (a relation with
    ``db_constraint=True`` to a partitioned model's globally unique field)
    references the global constraint's side table, ``<name>_values``
    (column SIDE_COLUMN), instead of the partitioned table.

    Django's ``CreateModel`` leaves the foreign key in the schema editor's
    deferred SQL (run when the migration ends); this operation, right after
    it in the same migration, re-targets that statement (Django's own
    ``ddl_references`` objects, as a table rename does). The constraint stays
    Django's: ``DEFERRABLE INITIALLY DEFERRED``, NO ACTION, checked at commit
    (a row moving between partitions keeps its entry: docs/global-unique.md);
    ``on_delete`` is Django's collector's, in Python. Backwards: nothing (the
    table's removal drops the key)."""

    reversible = True
    category = OperationCategory.ALTERATION

    def __init__(self, model_name: str, field: str, side_table: str) -> None:
        self.model_name = model_name
        self.field = field
        self.side_table = side_table

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "field": self.field, "side_table": self.side_table}
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field: Any = model._meta.get_field(self.field)
        retarget = {(model._meta.db_table, field.column, field.target_field.model._meta.db_table): self.side_table}
        found = False
        for statement in schema_editor.deferred_sql:
            found = _retarget_fk(schema_editor, statement, retarget) or found
        if not found:
            raise PgpartError(
                f"cannot point the foreign key of {model._meta.db_table}.{field.column} at {self.side_table}: "
                "no foreign key of it is pending in this migration",
                detail="ReferenceGlobalUnique re-targets the foreign key that CreateModel, earlier in the same "
                "migration, leaves for the end of the migration.",
                hint="Keep ReferenceGlobalUnique right after the model's CreateModel in the same migration; a "
                "relation added to an existing model is GlobalUniqueAddField's (docs/django.md).",
            )

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        pass

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name.lower()

    def describe(self) -> str:
        return f"Point the foreign key of {self.model_name}.{self.field} at {self.side_table}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.field.lower()}_global_fk"


# -- Django's operations on existing models, global uniqueness kept in step

#: (referencing table, its column, the partitioned table referenced) -> the side table to reference instead
Retarget = dict[tuple[str, str, str], str]


def _retarget_fk(schema_editor: BaseDatabaseSchemaEditor, statement: Any, retarget: Retarget) -> bool:
    """Point STATEMENT, if it is Django's ``ADD CONSTRAINT ... FOREIGN KEY``
    of a (table, column) to a partitioned table in RETARGET, at the side
    table instead (Django's own ``ddl_references`` parts, as a table rename
    does; the constraint's name stays Django's). Whether it did."""
    from django.db.backends.ddl_references import Columns, Statement, Table

    if not isinstance(statement, Statement) or statement.template != schema_editor.sql_create_fk:
        return False
    parts = statement.parts
    column, to_table, to_column = parts.get("column"), parts.get("to_table"), parts.get("to_column")
    if not (isinstance(column, Columns) and isinstance(to_table, Table) and isinstance(to_column, Columns)):
        return False
    if len(column.columns) != 1:
        return False
    side_table = retarget.get((column.table, column.columns[0], to_table.table))
    if side_table is None:
        return False
    parts["to_table"] = Table(side_table, schema_editor.quote_name)
    parts["to_column"] = Columns(side_table, list(to_column.columns), schema_editor.quote_name)
    return True


def _retargets(model: type[models.Model], state: ProjectState) -> Retarget:
    """The enforced relations of MODEL (rendered from STATE) to a partitioned
    model's globally unique column, by their side table."""
    out: Retarget = {}
    for field in model._meta.local_fields:
        f: Any = field
        if not (f.is_relation and f.many_to_one and getattr(f, "db_constraint", False)):
            continue
        gu = referenced_global_unique(f, state)
        if gu is not None:
            out[(model._meta.db_table, str(f.column), f.related_model._meta.db_table)] = gu.side_table
    return out


@contextmanager
def _fks_retargeted(schema_editor: BaseDatabaseSchemaEditor, retarget: Retarget) -> Iterator[None]:
    """While Django's operation runs: every foreign key it creates at once
    (``execute``) or leaves for the migration's end (``deferred_sql``) that
    RETARGET names references the side table instead."""
    if not retarget:
        yield
        return
    execute = schema_editor.execute
    own = {
        name: vars(schema_editor)[name]
        for name in ("execute", "sql_create_column_inline_fk")
        if name in vars(schema_editor)
    }
    before = {id(s) for s in schema_editor.deferred_sql}

    def retargeting_execute(sql: Any, params: Any = ()) -> Any:
        _retarget_fk(schema_editor, sql, retarget)
        return execute(sql, params)

    schema_editor.execute = retargeting_execute  # type: ignore[method-assign]
    # AddField writes a foreign key inline as text (REFERENCES <table>):
    # without the inline form, Django leaves it in deferred_sql, retargeted below
    schema_editor.sql_create_column_inline_fk = None
    try:
        yield
    finally:
        for name in ("execute", "sql_create_column_inline_fk"):
            if name in own:
                setattr(schema_editor, name, own[name])
            else:
                delattr(schema_editor, name)
        for statement in schema_editor.deferred_sql:
            if id(statement) not in before:
                _retarget_fk(schema_editor, statement, retarget)


def _columns(model: type[models.Model], gu: GlobalUniqueSpec) -> tuple[str, ...]:
    return tuple(str(getattr(model._meta.get_field(f), "column", f)) for f in gu.fields)


class _GlobalUniqueAware:
    """Mixin for Django's operations on an existing model (field, constraint
    and ``unique_together`` changes).

    In either direction, ``from_state`` is the state the database is in and
    ``to_state`` the one it goes to: the global unique constraints of the
    model's own uniqueness (declared_global_uniques) that only the first has
    are dropped first, Django's operation runs with the uniqueness hidden
    (PostgreSQL would refuse it without the key) and its foreign keys to
    partitioned models retargeted, then the constraints only the second has
    are added (a constraint whose columns changed, by a rename or a new
    ``db_column``, is dropped and added again). The pk's constraint, which a
    relation *to* the model needs, is the autodetector's
    ``AddGlobalUnique``/``RemoveGlobalUnique``."""

    allow_migrate_model: Any

    def _gu_model_name(self) -> str:
        """The model this operation changes (lower case)."""
        return str(getattr(self, "model_name_lower"))  # noqa: B009 (Django's FieldOperation/IndexOperation)

    def _gu_constraint_name(self) -> str | None:
        """The name of the constraint this operation adds or removes."""
        return None

    def _gu_django(
        self,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
        model: type[models.Model],
        global_fields: set[tuple[str, ...]],
        django: Callable[[], None],
    ) -> None:
        """Django's own work, the global uniqueness (by GLOBAL_FIELDS) hidden."""
        django()

    def _gu_run(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
        django: Callable[[], None],
    ) -> None:
        from_model = from_state.apps.get_model(app_label, self._gu_model_name())
        to_model = to_state.apps.get_model(app_label, self._gu_model_name())
        if not self.allow_migrate_model(schema_editor.connection.alias, to_model):
            return
        from_spec, to_spec = state_spec(from_state, from_model), state_spec(to_state, to_model)
        before = {
            (gu.name, _columns(from_model, gu)): gu
            for gu in (declared_global_uniques(from_model, from_spec) if from_spec else [])
        }
        after = {
            (gu.name, _columns(to_model, gu)): gu
            for gu in (declared_global_uniques(to_model, to_spec) if to_spec else [])
        }
        for key, gu in before.items():
            if key not in after:
                _drop_global_unique(schema_editor, from_model, gu.name)
        name = self._gu_constraint_name()
        global_constraint = name is not None and any(gu.name == name for gu in [*before.values(), *after.values()])
        if not global_constraint:  # a global one is all in the drop/add around
            with ExitStack() as stack:
                if from_spec is not None:
                    stack.enter_context(unique_sql_hidden(from_model, from_spec))
                if to_spec is not None and to_model is not from_model:
                    stack.enter_context(unique_sql_hidden(to_model, to_spec))
                stack.enter_context(_fks_retargeted(schema_editor, _retargets(to_model, to_state)))
                global_fields = {gu.fields for gu in [*before.values(), *after.values()]}
                self._gu_django(schema_editor, from_state, to_state, to_model, global_fields, django)
        for key, gu in after.items():
            if key not in before:
                _add_global_unique(schema_editor, to_model, gu.fields, gu.name)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        forwards = super().database_forwards  # type: ignore[misc]
        self._gu_run(
            app_label, schema_editor, from_state, to_state,
            lambda: forwards(app_label, schema_editor, from_state, to_state),
        )  # fmt: skip

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        backwards = super().database_backwards  # type: ignore[misc]
        self._gu_run(
            app_label, schema_editor, from_state, to_state,
            lambda: backwards(app_label, schema_editor, from_state, to_state),
        )  # fmt: skip


class GlobalUniqueAddField(_GlobalUniqueAware, AddField):
    """``AddField``: a ``unique=True`` field of a partitioned model becomes a
    global unique constraint; an enforced relation to a partitioned model's
    globally unique field or pk references the side table."""


class GlobalUniqueAlterField(_GlobalUniqueAware, AlterField):
    """``AlterField``: ``unique`` toggled on a partitioned model's field adds
    or drops its global unique constraint; a relation made enforced (or
    pointed elsewhere) references the side table."""


class GlobalUniqueRemoveField(_GlobalUniqueAware, RemoveField):
    """``RemoveField``: a global unique constraint on the field goes first."""


class GlobalUniqueRenameField(_GlobalUniqueAware, RenameField):
    """``RenameField``: a global unique constraint on the renamed column is
    dropped and made again on the new name (its side table is rebuilt: the
    extension does not follow a column rename)."""


class GlobalUniqueAddConstraint(_GlobalUniqueAware, AddConstraint):
    """``AddConstraint``: a plain ``UniqueConstraint`` without the key on a
    partitioned model is added as a global unique constraint of its name."""

    def _gu_constraint_name(self) -> str | None:
        return str(getattr(self, "constraint").name)  # noqa: B009 (untyped in django-stubs)


class GlobalUniqueRemoveConstraint(_GlobalUniqueAware, RemoveConstraint):
    """``RemoveConstraint``: such a constraint is dropped with
    ``pgpart.drop_global_unique``."""

    def _gu_constraint_name(self) -> str | None:
        return str(getattr(self, "name"))  # noqa: B009 (untyped in django-stubs)


class GlobalUniqueAlterUniqueTogether(_GlobalUniqueAware, AlterUniqueTogether):
    """``AlterUniqueTogether``: groups without the key of a partitioned model
    are global unique constraints (``<table>_<columns>_gkey``). Django 6
    emits ``AlterUniqueTogether(set())`` before deleting a model: the
    constraints go here, the table with ``DeletePartitionedModel``."""

    def _gu_model_name(self) -> str:
        return self.name_lower

    def _gu_django(
        self,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
        model: type[models.Model],
        global_fields: set[tuple[str, ...]],
        django: Callable[[], None],
    ) -> None:
        # Django 6 reads the groups from the model states, not the models:
        # pass Django's schema editor only the groups that are real
        # constraints (those with the partition key)
        def real(state: ProjectState) -> set[tuple[str, ...]]:
            groups = state.models[model._meta.app_label, self.name_lower].options.get("unique_together") or ()
            return {tuple(g) for g in groups if tuple(g) not in global_fields}

        old, new = real(from_state), real(to_state)
        if old != new:
            schema_editor.alter_unique_together(model, old, new)  # type: ignore[arg-type]


class GlobalUniqueDeleteModel(DeleteModel):
    """``DeleteModel`` of a model holding an enforced relation to a
    partitioned model's globally unique field or pk: backwards, the table
    made again references the side table."""

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        with _fks_retargeted(schema_editor, _retargets(model, to_state)):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
