"""Calls into the extension through a Django connection.

:class:`DjangoSession` lets :class:`pgpart.Client` run over
``django.db.connections[alias]`` through Django's own cursor, so query
logging, ``execute_wrapper``, the debug toolbar and error tracking see the
calls; :class:`SchemaEditorSession` sends them through a migration's schema
editor instead (so ``sqlmigrate`` shows them). Both are built on the public
:mod:`pgpart.session` and reach the extension through :class:`pgpart.Client`
only: the extension decides everything (bounds, names, what exists).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from .. import Client
from ..errors import PgpartError
from ..session import (
    Params,
    Row,
    Session,
    TransactionStatus,
    dbapi_transaction_status,
    translate_driver_error,
)
from . import conf
from .declaration import Spec, key_column

__all__ = [
    "POLICY_COLUMNS",
    "DjangoSession",
    "SchemaEditorSession",
    "client_for",
    "declaration",
    "declared_policy",
    "installed_version",
    "table_state",
]


class DjangoSession(Session):
    """A Django database connection as a pgpart session."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        if connection.vendor != "postgresql":
            raise PgpartError(
                f"database {connection.alias!r} is {connection.vendor}, not PostgreSQL",
                hint="pgpart works on PostgreSQL databases only; pass --database for another alias.",
            )
        self.connection = connection
        self.driver = f"django ({connection.alias})"

    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        with self.connection.cursor() as cur:
            cur.execute(query, None if params is None else list(params))  # type: ignore[arg-type]  # any adaptable value
            if cur.description is None:
                return None
            return [tuple(row) for row in cur.fetchall()]

    def _translate(self, exc: BaseException) -> PgpartError | None:
        # Django wraps the driver's error (django.db.utils.*) and chains it.
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        return translate_driver_error(cause)

    @property
    def autocommit(self) -> bool:
        return bool(self.connection.get_autocommit())

    def set_autocommit(self, value: bool) -> None:
        self.connection.set_autocommit(value)

    def transaction_status(self) -> TransactionStatus:
        if self.connection.in_atomic_block:
            return "intrans"
        self.connection.ensure_connection()
        return dbapi_transaction_status(self.connection.connection)


class SchemaEditorSession(DjangoSession):
    """A migration's schema editor as a pgpart session: every call goes
    through ``schema_editor.execute``, so ``sqlmigrate`` (collect_sql) shows
    the calls instead of running them. No rows come back: use it only for
    verbs whose results are not needed. The migration is the transaction
    (no savepoint of pgpart's own)."""

    def __init__(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        super().__init__(schema_editor.connection)
        self.schema_editor = schema_editor

    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        self.schema_editor.execute(query, None if params is None else list(params))
        return None

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        yield


def client_for(alias: str) -> Client:
    """A pgpart.Client over Django's connection ALIAS."""
    return Client(DjangoSession(connections[alias]))


def conversion(
    model: type[models.Model],
    spec: Spec,
    *,
    now_at: str | None = None,
    dry_run: bool = False,
    lock_timeout: str | None = None,
    lock_retries: int | None = None,
) -> dict[str, Any]:
    """The keyword arguments of :meth:`pgpart.Client.convert` for MODEL's
    declaration SPEC: the key and those of :func:`declaration` that
    ``convert`` takes (the rest of the policy follows with ``declare``)."""
    declared = declaration(spec, now_at=now_at, dry_run=dry_run, lock_timeout=lock_timeout, lock_retries=lock_retries)
    return {"key": key_column(model, spec), **{k: declared[k] for k in CONVERSION_ARGUMENTS}}


#: the keyword arguments of :func:`declaration` that Client.convert takes too
CONVERSION_ARGUMENTS = (
    "interval", "premake", "retention", "retention_action", "archive_schema", "archive_tablespace", "tablespace",
    "time_zone", "origin", "default_partition", "epoch_unit", "lock_timeout", "lock_retries", "now_at", "dry_run",
)  # fmt: skip


def declaration(
    spec: Spec,
    *,
    now_at: str | None = None,
    dry_run: bool = False,
    new_table: bool = False,
    lock_timeout: str | None = None,
    lock_retries: int | None = None,
) -> dict[str, Any]:
    """The keyword arguments of :meth:`pgpart.Client.declare` for SPEC; the
    lock settings, unless given, those of the Django settings."""
    return {
        "method": spec.method,
        "interval": spec.interval,
        "premake": spec.premake,
        "retention": spec.retention,
        "retention_action": spec.retention_action,
        "archive_schema": spec.archive_schema,
        "archive_tablespace": spec.archive_tablespace,
        "tablespace": spec.tablespace,
        "time_zone": spec.time_zone,
        "origin": spec.origin,
        "default_partition": spec.default_partition,
        "subpartition": spec.subpartition,
        "epoch_unit": spec.epoch_unit,
        "drain_default": spec.drain_default,
        "values": spec.values,
        "modulus": spec.modulus,
        "lock_timeout": conf.lock_timeout() if lock_timeout is None else lock_timeout,
        "lock_retries": conf.lock_retries() if lock_retries is None else lock_retries,
        "now_at": now_at,
        "dry_run": dry_run,
        "new_table": new_table,
    }


#: the policy columns a declaration sets (compared by the system checks)
POLICY_COLUMNS = ("premake", "retention", "retention_action", "archive_schema", "archive_tablespace", "tablespace")


def declared_policy(spec: Spec) -> dict[str, Any]:
    """The keyword arguments of :meth:`pgpart.Client.set_policy` that set the
    declared lifecycle values (what a policy comparison applies in a
    rolled-back savepoint)."""
    args: dict[str, Any] = {"tablespace": spec.tablespace or ""}
    if spec.method == "range":
        args.update(
            retention="none" if spec.retention is None else spec.retention,
            retention_action=spec.retention_action or "detach",
            archive_schema=spec.archive_schema or "",
            archive_tablespace=spec.archive_tablespace or "",
            premake=spec.premake,
        )
    return args


def installed_version(session: Session) -> str | None:
    """The pgpart version installed in the session's database, else None."""
    return Client(session).installed_version()


def table_state(session: Session, table: str) -> tuple[str | None, str | None, bool]:
    """(relkind, partition key as ``RANGE (col)``, managed by pgpart) of
    TABLE; relkind None when it does not exist."""
    row = session.fetch_one(
        "SELECT c.relkind::text, pg_catalog.pg_get_partkeydef(c.oid),"
        " pg_catalog.to_regclass('pgpart.config') IS NOT NULL"
        " FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass(%s)",
        [table],
    )
    if row is None:
        return None, None, False
    managed = bool(row[2]) and Client(session).policy(table) is not None
    return row[0], row[1], managed
