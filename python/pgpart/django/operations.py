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

Migration state keeps only the declaration (``options["_pgpart_partitioning"]``,
invisible to the rendered historical model); partitions are never part of it:
the catalog is the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.operations.models import CreateModel, DeleteModel, ModelOperation
from django.db.migrations.state import ModelState, ProjectState

from .. import Client
from ..errors import PgpartError
from . import db
from .declaration import STATE_OPTION, Spec, key_column
from .globalunique import global_uniques
from .schema import create_partitioned_model

__all__ = [
    "AddGlobalUnique",
    "AdoptPartitionedModel",
    "AlterPartitioning",
    "ConvertToPartitioned",
    "CreatePartitionedModel",
    "DeletePartitionedModel",
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


class ConvertToPartitioned(_DeclarationOperation):
    """A model whose table exists plain gains a ``Partitioning`` declaration:
    its table becomes a partitioned table of the same name (pgpart's
    conversion, docs/converting.md): the old table the legacy partition,
    later partitions on the grid, ``id`` kept unique across partitions.

    In an atomic migration (Django's default) the whole conversion runs in
    the migration's transaction, the table locked until it commits: fine
    for a small table. For a large one, convert it online first (``manage.py
    pgpart convert --model app.Model``, or ``Client.convert``), then migrate:
    a table already converted is only put under the declaration. A migration
    with ``atomic = False`` converts online itself. Not reversible."""

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
            if schema_editor.collect_sql or schema_editor.connection.in_atomic_block:
                _client(schema_editor).convert(table, **arguments, online=False)
            else:
                Client(db.DjangoSession(schema_editor.connection)).convert(table, **arguments)
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
    partition key. The state is untouched (the model keeps its
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
    backwards: adds it again), for migrations written by hand."""

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
        from django.db.backends.ddl_references import Columns, Statement, Table

        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field: Any = model._meta.get_field(self.field)
        table = model._meta.db_table
        target_table = field.target_field.model._meta.db_table
        target_column = field.target_field.column
        found = False
        for statement in schema_editor.deferred_sql:
            if not isinstance(statement, Statement) or statement.template != schema_editor.sql_create_fk:
                continue
            parts = statement.parts
            column, to_table = parts.get("column"), parts.get("to_table")
            if (
                isinstance(column, Columns) and isinstance(to_table, Table)
                and column.table == table and column.columns == [field.column] and to_table.table == target_table
            ):  # fmt: skip
                parts["to_table"] = Table(self.side_table, schema_editor.quote_name)
                parts["to_column"] = Columns(self.side_table, [target_column], schema_editor.quote_name)
                found = True
        if not found:
            raise PgpartError(
                f"cannot point the foreign key of {table}.{field.column} at {self.side_table}: "
                "no foreign key of it is pending in this migration",
                detail="ReferenceGlobalUnique re-targets the foreign key that CreateModel, earlier in the same "
                "migration, leaves for the end of the migration.",
                hint="Keep ReferenceGlobalUnique right after the model's CreateModel in the same migration; a "
                "relation added to an existing model must use db_constraint=False (docs/django.md).",
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
