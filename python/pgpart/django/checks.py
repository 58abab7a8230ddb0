"""System checks of partitioned models (``manage.py check``).

Static checks (no database; run by every management command):

- ``pgpart.E001`` the partition key: missing, more than one column, not a
  concrete local field, or a type RANGE cannot grid over.
- ``pgpart.E002`` a migration creates the model with a plain ``CreateModel``
  and none converts it (``ConvertToPartitioned``, which ``makemigrations``
  adds): ``migrate`` would leave a plain table. Not reported while
  pgpart.django's ``makemigrations`` or ``pgpart`` command runs. A model whose migration does not
  exist yet (a new model, an app without a ``migrations`` folder) is not an
  error here: ``makemigrations`` creates it (see the database E002 below).
- ``pgpart.E003`` a unique constraint without the key that cannot be made
  global: a composite primary key, a ``UniqueConstraint`` on expressions or
  with a condition, include, opclasses or deferrable. (``unique=True``,
  ``unique_together`` and plain ``UniqueConstraint`` without the key become
  global unique constraints: the migration's ``AddGlobalUnique``.)
- ``pgpart.E004`` a relation to a partitioned model enforced by the database
  that pgpart cannot make enforceable: the table Django creates for a
  ``ManyToManyField`` (declare a ``through`` model instead), or a target
  that is neither the key, a globally unique field nor the pk. A
  ``ForeignKey`` to a globally unique field or to the pk (Django's default)
  references the global unique constraint's side table (the pk gets one:
  ``AddGlobalUnique`` on ``<table>_<pk column>_gkey``).
- ``pgpart.E005`` the declaration's method or key differs from the migration
  state, or the declaration was removed: pgpart does not repartition a table.
- ``pgpart.E006`` an invalid declaration value (method, interval type,
  premake, options of another method, unknown attribute...).
- ``pgpart.W001`` a composite primary key while the admin is installed:
  Django's admin (5.2 and 6.x) refuses such models.

Database checks (``manage.py check --database default``; ``migrate`` runs
them): they pass when a table does not exist yet.

- ``pgpart.E002`` a partitioned model of an app without migrations whose
  table does not exist: ``migrate --run-syncdb`` (Django's test runner
  runs it) would create it as a plain table. Not reported by pgpart.django's
  own ``migrate`` without ``--run-syncdb``, which creates no such table.
- ``pgpart.W100`` pgpart is not installed in the database.
- ``pgpart.E101`` the table exists but is not partitioned, and no migration
  still to apply converts it.
- ``pgpart.E102`` the table is partitioned by another method or key.
- ``pgpart.W103`` the table is partitioned but has no pgpart policy.
- ``pgpart.W104`` the policy differs from the declaration.
- ``pgpart.E105`` pgpart refuses the declaration for this table (e.g. an
  interval or time zone that would re-grid existing partitions).
- ``pgpart.W110`` no partition holds the current key; ``pgpart.W111``
  runway shorter than premake; ``pgpart.W112`` rows in the default
  partition; ``pgpart.W119`` another finding of ``pgpart.check()``. The
  findings are mapped by their stable ``code`` (docs/check-codes.md), never
  by their English text: see :data:`FINDING_IDS_BY_CODE`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.db import connections, models, router, transaction

from .. import Client
from ..errors import PgpartError
from . import db
from .declaration import STATE_OPTION, DeclarationError, Spec, is_partitioned, key_column, key_field, spec_of
from .globalunique import plain_unique, referenced_global_unique
from .psqlextra import psqlextra_partitioning

__all__ = [
    "CONVERSION_PENDING_OK",
    "FINDING_CHECK_IDS",
    "FINDING_IDS_BY_CODE",
    "OTHER_FINDING",
    "RUN_SYNCDB",
    "check_database",
    "check_declarations",
    "check_migrations",
    "conversion_pending_ok",
    "partitioned_models",
    "register_all",
]

Messages = list[checks.CheckMessage]


def register_all() -> None:
    checks.register(check_declarations, checks.Tags.models)
    checks.register(check_migrations, checks.Tags.models)
    checks.register(check_database, checks.Tags.database)


def partitioned_models(app_configs: Sequence[AppConfig] | None = None) -> list[type[models.Model]]:
    """Models that declare partitioning (broken declarations included)."""
    if app_configs is None:
        candidates: Iterable[type[models.Model]] = apps.get_models()
    else:
        candidates = (m for app_config in app_configs for m in app_config.get_models())
    return [m for m in candidates if is_partitioned(m)]


# -- static ------------------------------------------------------------------------


def check_declarations(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> Messages:
    errors: Messages = []
    specs: dict[type[models.Model], Spec] = {}
    for model in partitioned_models(app_configs):
        try:
            spec = spec_of(model)
        except DeclarationError as exc:
            errors.append(checks.Error(str(exc), hint=exc.hint, obj=model, id=exc.check_id))
            continue
        if spec is None:
            continue
        specs[model] = spec
        errors += _unique_constraints(model, spec)
        errors += _composite_pk(model)
    errors += _relations(specs, app_configs)
    return errors


def _unique_constraints(model: type[models.Model], spec: Spec) -> Messages:
    key = key_field(model, spec)
    meta = model._meta
    hint = (
        f"PostgreSQL requires every unique constraint of a partitioned table to contain the partition key "
        f"({spec.key}): add {spec.key!r} to it, or enforce it otherwise."
    )
    found: list[str] = []
    pk = meta.pk
    if isinstance(pk, models.CompositePrimaryKey) and key.name not in pk.field_names:
        found.append(f"the composite primary key {pk.field_names!r}")
    # unique=True, unique_together and plain UniqueConstraints without the key
    # become global unique constraints (AddGlobalUnique): not reported
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and not plain_unique(constraint):
            if constraint.expressions:
                found.append(f"UniqueConstraint {constraint.name!r} on expressions")
            elif key.name not in constraint.fields and key.attname not in constraint.fields:
                found.append(
                    f"UniqueConstraint {constraint.name!r} on {tuple(constraint.fields)!r} "
                    "(with a condition, include, opclasses or deferrable: it cannot be made global)"
                )
    return [
        checks.Error(f"{what} does not contain the partition key {spec.key!r}", hint=hint, obj=model, id="pgpart.E003")
        for what in found
    ]


def _composite_pk(model: type[models.Model]) -> Messages:
    if not isinstance(model._meta.pk, models.CompositePrimaryKey):
        return []
    if "django.contrib.admin" not in settings.INSTALLED_APPS:
        return []
    return [
        checks.Warning(
            "a partitioned model with a CompositePrimaryKey cannot be registered in Django's admin "
            "(Django's admin, 5.2 and 6.x, refuses composite primary keys)",
            hint="Leave out the CompositePrimaryKey to keep `id` as Django's pk: pgpart then makes the "
            "database primary key (id, key) itself. Silence pgpart.W001 if the model needs no admin.",
            obj=model,
            id="pgpart.W001",
        )
    ]


def _relations(specs: dict[type[models.Model], Spec], app_configs: Sequence[AppConfig] | None) -> Messages:
    """E004: relations whose database constraint would target a partitioned
    model's column alone (checked on the referencing model)."""
    errors: Messages = []
    if not specs:
        return errors
    if app_configs is None:
        sources: Iterable[type[models.Model]] = apps.get_models(include_auto_created=True)
    else:
        sources = (m for app_config in app_configs for m in app_config.get_models(include_auto_created=True))
    for model in sources:
        for field in model._meta.local_fields:
            target = getattr(field, "related_model", None)
            if not field.is_relation or not isinstance(target, type) or target not in specs:
                continue
            if not getattr(field, "db_constraint", False):
                continue
            spec = specs[target]
            target_field = field.target_field  # type: ignore[attr-defined]
            if target_field.column == key_field(target, spec).column and target_field.unique:
                continue  # the key itself, unique: PostgreSQL can enforce that
            if referenced_global_unique(field) is not None:
                continue  # a global unique constraint's side table: ReferenceGlobalUnique
            owner: Any = field
            declaring = model._meta.auto_created
            if isinstance(declaring, type):
                # A many-to-many's table: report the many-to-many field.
                owner = next((f for f in declaring._meta.local_many_to_many if f.remote_field.through is model), model)
                message = (
                    f"{owner.model._meta.label}.{owner.name} is a many-to-many to partitioned model "
                    f"{target._meta.label}: pgpart cannot enforce the foreign key of the table Django creates for it"
                )
                hint = (
                    "Declare the many-to-many with a through= model holding a ForeignKey to "
                    f"{target._meta.label} (enforced by pgpart through the global unique constraint of its pk), "
                    "or declare it with db_constraint=False"
                )
            else:
                message = (
                    f"{field.model._meta.label}.{field.name} references partitioned model {target._meta.label}: "
                    f"PostgreSQL cannot enforce it ({target_field.column!r} is neither the partition key "
                    f"{spec.key!r}, a field unique across partitions nor the primary key)"
                )
                hint = (
                    f"Point it at {target._meta.label}'s primary key or at a unique=True field of it (pgpart makes "
                    "either a global unique constraint the database can reference), or declare it with "
                    "db_constraint=False"
                )
            errors.append(
                checks.Error(
                    message,
                    hint=hint + ": the reference is then not enforced by the database (rows may point at nothing; "
                    "on_delete is emulated by Django only).",
                    obj=owner,
                    id="pgpart.E004",
                )
            )
    return errors


def check_migrations(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> Messages:
    """E002 and E005: the migration state (read from the migration files,
    no database) against the declarations."""
    models_ = partitioned_models(app_configs)
    if not models_:
        return []
    from django.db.migrations.loader import MigrationLoader

    try:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        state = loader.project_state()
    except Exception:  # a broken migration graph: Django's own commands report it
        return []
    errors: Messages = []
    for model in models_:
        meta = model._meta
        if not meta.managed:
            continue
        try:
            spec = spec_of(model)
        except DeclarationError:
            continue
        if meta.app_label in loader.unmigrated_apps:
            # Its migration does not exist yet: makemigrations creates it (and
            # must not be blocked). Only `migrate --run-syncdb` would create a
            # plain table: the database check reports that (unmigrated_models).
            continue
        model_state = state.models.get((meta.app_label, meta.model_name))
        if model_state is None:
            continue  # not migrated yet: makemigrations will create it
        stored = model_state.options.get(STATE_OPTION)
        extra = psqlextra_partitioning(model_state)
        if stored is None and extra is not None:
            # partitioned by django-postgres-extra's migrations: not a plain
            # table; makemigrations adopts it (AdoptPartitionedModel)
            stored = {"method": extra[0], "key": extra[1]}
        if stored is None and spec is not None:
            if CONVERSION_PENDING_OK.get():
                continue  # makemigrations writes the ConvertToPartitioned; `pgpart convert` runs it
            errors.append(
                checks.Error(
                    f"the migrations create {meta.label} with a plain CreateModel and none converts it: its table "
                    "would not be partitioned",
                    hint="Run `manage.py makemigrations`: it adds ConvertToPartitioned, which migrate runs (a large "
                    "table: convert it online first with `manage.py pgpart convert`, docs/converting.md). If that "
                    "CreateModel is not applied anywhere yet, you may instead replace it by "
                    "pgpart.django.operations.CreatePartitionedModel (with partitioning=...).",
                    obj=model,
                    id="pgpart.E002",
                )
            )
        elif stored is not None and spec is None:
            errors.append(
                checks.Error(
                    f"{meta.label} no longer declares partitioning, but its migrations create it partitioned",
                    hint="pgpart cannot turn a partitioned table into a plain one: keep the Partitioning declaration.",
                    obj=model,
                    id="pgpart.E005",
                )
            )
        elif stored is not None and spec is not None:
            before = (stored["method"], stored["key"])
            if before != (spec.method, spec.key):
                errors.append(
                    checks.Error(
                        f"{meta.label} declares {spec.method.upper()} ({spec.key}) partitioning, but its migrations "
                        f"create it {before[0].upper()} ({before[1]})",
                        hint="pgpart does not repartition an existing table: create a new model and copy the rows.",
                        obj=model,
                        id="pgpart.E005",
                    )
                )
    return errors


# -- database ----------------------------------------------------------------------

#: Whether the running ``migrate`` syncs apps without migrations
#: (``--run-syncdb``): set by pgpart.django's ``migrate`` while it runs; None
#: elsewhere (``check --database``, Django's test runner, another app's
#: ``migrate``), where E002 assumes it may.
RUN_SYNCDB: ContextVar[bool | None] = ContextVar("pgpart_run_syncdb", default=None)

#: Set by pgpart.django's ``makemigrations`` and ``pgpart`` commands while
#: they run: a model declared partitioned whose table the migrations create
#: plain (E002) is what the one converts (ConvertToPartitioned) and the
#: other can convert online (``pgpart convert``), so it must not stop them.
CONVERSION_PENDING_OK: ContextVar[bool] = ContextVar("pgpart_conversion_pending_ok", default=False)


@contextlib.contextmanager
def conversion_pending_ok() -> Iterator[None]:
    """While it lasts, a pending conversion (E002) stops no command."""
    token = CONVERSION_PENDING_OK.set(True)
    try:
        yield
    finally:
        CONVERSION_PENDING_OK.reset(token)


def check_database(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> Messages:
    errors: Messages = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            continue
        errors += unmigrated_models(alias, app_configs)
        targets: list[tuple[type[models.Model], Spec]] = []
        for model in partitioned_models(app_configs):
            if not router.allow_migrate_model(alias, model):
                continue
            try:
                spec = spec_of(model)
            except DeclarationError:
                continue
            if spec is not None:
                targets.append((model, spec))
        if targets:
            errors += database_messages(alias, targets)
    return errors


def unmigrated_models(alias: str, app_configs: Sequence[AppConfig] | None = None) -> Messages:
    """E002: partitioned models of apps without migrations whose table does
    not exist in database ALIAS, when ``migrate --run-syncdb`` may run: it
    would create them as plain tables. An existing table is E101's business."""
    if RUN_SYNCDB.get() is False:
        return []
    candidates = [
        model
        for model in partitioned_models(app_configs)
        if model._meta.managed and router.allow_migrate_model(alias, model)
    ]
    if not candidates:
        return []
    from django.db.migrations.loader import MigrationLoader

    try:
        unmigrated = MigrationLoader(None, ignore_no_migrations=True).unmigrated_apps
    except Exception:  # a broken migration graph: Django's own commands report it
        return []
    session = db.DjangoSession(connections[alias])
    errors: Messages = []
    for model in candidates:
        meta = model._meta
        if meta.app_label not in unmigrated:
            continue
        try:
            spec = spec_of(model)
        except DeclarationError:
            continue  # E001/E006 already
        if spec is None or db.table_state(session, meta.db_table)[0] is not None:
            continue
        errors.append(
            checks.Error(
                f"app {meta.app_label!r} has no migrations: `migrate --run-syncdb` (and Django's test runner) "
                f"would create {meta.db_table} as a plain table",
                hint=f"Run `manage.py makemigrations {meta.app_label}` with pgpart.django installed: it creates the "
                "app's migrations folder and a CreatePartitionedModel.",
                obj=model,
                id="pgpart.E002",
            )
        )
    return errors


def database_messages(alias: str, targets: Sequence[tuple[type[models.Model], Spec]]) -> Messages:
    """The database findings for TARGETS in database ALIAS (also used by
    ``manage.py pgpart check``). Changes nothing: comparisons that apply the
    declaration do it in a transaction that is rolled back."""
    session = db.DjangoSession(connections[alias])
    installed = db.installed_version(session) is not None
    errors: Messages = []
    for model, spec in targets:
        table = model._meta.db_table
        relkind, partkey, managed = db.table_state(session, table)
        if relkind is None:
            continue  # not created yet
        if relkind != "p":
            if not pending_conversion(alias, model):
                errors.append(
                    checks.Error(
                        f"table {table} of {model._meta.label} exists but is not partitioned",
                        hint="Run `manage.py makemigrations`: it adds ConvertToPartitioned, which migrate runs (a "
                        "large table: convert it online first with `manage.py pgpart convert`, "
                        "docs/converting.md); or remove the Partitioning declaration.",
                        obj=model,
                        id="pgpart.E101",
                    )
                )
            continue
        column = key_column(model, spec)
        expected = f"{spec.method.upper()} ({connections[alias].ops.quote_name(column)})"
        if partkey not in (expected, f"{spec.method.upper()} ({column})"):
            errors.append(
                checks.Error(
                    f"table {table} is partitioned {partkey}, but {model._meta.label} declares {expected}",
                    hint="pgpart does not repartition an existing table.",
                    obj=model,
                    id="pgpart.E102",
                )
            )
            continue
        if not installed:
            continue
        if not managed:
            errors.append(
                checks.Warning(
                    f"table {table} is partitioned but has no pgpart policy",
                    hint="Run `manage.py pgpart ensure`.",
                    obj=model,
                    id="pgpart.W103",
                )
            )
            continue
        errors += _policy_messages(session, alias, model, spec)
        errors += _findings(session, model)
    if not installed and targets:
        errors.insert(
            0,
            checks.Warning(
                f"pgpart is not installed in database {alias!r}: migrations of partitioned models will fail",
                hint="Run `manage.py pgpart install`, or CREATE EXTENSION pgpart as a superuser.",
                id="pgpart.W100",
            ),
        )
    return errors


def pending_conversion(alias: str, model: type[models.Model]) -> bool:
    """Whether a migration not yet applied in database ALIAS converts
    MODEL's table (ConvertToPartitioned): migrate is about to do it."""
    from django.db.migrations.loader import MigrationLoader

    from .operations import ConvertToPartitioned

    try:
        loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    except Exception:  # a broken migration graph: Django's own commands report it
        return False
    meta = model._meta
    for key, migration in loader.disk_migrations.items():
        if key[0] != meta.app_label or key in loader.applied_migrations:
            continue
        for op in migration.operations:
            if isinstance(op, ConvertToPartitioned) and op.name_lower == meta.model_name:
                return True
    return False


def _policy_messages(session: db.DjangoSession, alias: str, model: type[models.Model], spec: Spec) -> Messages:
    """W104 and E105. The declaration is applied inside a transaction that is
    rolled back, so the extension alone decides what it means (canonical
    intervals, shorthands) and whether it fits the existing partitions."""
    table = model._meta.db_table
    client = Client(session)
    try:
        with transaction.atomic(using=alias):
            policy = client.policy(table)
            client.declare(table, **db.declaration(spec, dry_run=True))
            saved = client.set_policy(table, **db.declared_policy(spec))
            transaction.set_rollback(True, using=alias)
    except PgpartError as exc:
        return [
            checks.Error(
                f"pgpart refuses the declaration of {model._meta.label} for table {table}: {exc.message}",
                hint=exc.hint or exc.detail,
                obj=model,
                id="pgpart.E105",
            )
        ]
    if policy is None or not saved:
        return []
    current = [policy.get(name) for name in db.POLICY_COLUMNS]
    declared = [saved.get(name) for name in db.POLICY_COLUMNS]
    differs = [
        f"{name} {old!r} (declared {new!r})"
        for name, old, new in zip(db.POLICY_COLUMNS, current, declared, strict=True)
        if old != new
    ]
    if not differs:
        return []
    return [
        checks.Warning(
            f"the pgpart policy of {table} differs from {model._meta.label}'s declaration: " + "; ".join(differs),
            hint="Apply the pending migration (AlterPartitioning), or run `manage.py pgpart ensure`.",
            obj=model,
            id="pgpart.W104",
        )
    ]


#: The system check id of a finding of ``pgpart.check()``, by the finding's
#: code; every other code (warning or urgent) is reported as OTHER_FINDING.
FINDING_IDS_BY_CODE = {
    "no_current_partition": "pgpart.W110",
    "runway_short": "pgpart.W111",
    "default_rows": "pgpart.W112",
}
#: The check id of every other finding, and of a check() that failed.
OTHER_FINDING = "pgpart.W119"
#: The check ids that carry findings of ``pgpart.check()``.
FINDING_CHECK_IDS = frozenset(FINDING_IDS_BY_CODE.values()) | {OTHER_FINDING}


def _findings(session: db.DjangoSession, model: type[models.Model]) -> Messages:
    try:
        findings = Client(session).check(model._meta.db_table)
    except PgpartError as exc:
        return [checks.Warning(f"pgpart.check() failed: {exc.message}", hint=exc.hint, obj=model, id=OTHER_FINDING)]
    out: Messages = []
    for finding in findings:
        if finding.severity == "info":
            continue
        check_id = FINDING_IDS_BY_CODE.get(finding.code, OTHER_FINDING)
        where = f" ({finding.partition})" if finding.partition else ""
        out.append(
            checks.Warning(
                f"{model._meta.db_table}{where}: {finding.problem}",
                hint=f"Fix: {finding.fix}" if finding.fix else "Run `manage.py pgpart maintain`.",
                obj=model,
                id=check_id,
            )
        )
    return out
