"""Calls into the extension through a Django connection.

:class:`DjangoSession` lets :class:`pgpart.Client` run over
``django.db.connections[alias]`` through Django's own cursor, so query
logging, ``execute_wrapper``, the debug toolbar and error tracking see the
calls. :func:`declaration_calls` composes the calls that apply a model's
declaration; the extension decides everything (bounds, names, what exists).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .. import Client
from .._calls import STEP_COLUMNS, Arg, call
from .._dbapi import errors as dbapi_errors
from .._dbapi import transactions
from .._session import Params, Row, Session, TransactionStatus
from ..errors import PgpartError
from . import conf
from .declaration import Spec

__all__ = [
    "DjangoSession",
    "Statement",
    "client_for",
    "declaration_calls",
    "forget_calls",
    "installed_version",
    "table_state",
]

#: one SQL statement with ``%s`` placeholders and its parameters
Statement = tuple[str, list[object]]


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
        return dbapi_errors.translate(cause)

    @property
    def autocommit(self) -> bool:
        return bool(self.connection.get_autocommit())

    def set_autocommit(self, value: bool) -> None:
        self.connection.set_autocommit(value)

    def transaction_status(self) -> TransactionStatus:
        if self.connection.in_atomic_block:
            return "intrans"
        self.connection.ensure_connection()
        return transactions.transaction_status(self.connection.connection)


def client_for(alias: str) -> Client:
    """A pgpart.Client over Django's connection ALIAS."""
    return Client(DjangoSession(connections[alias]))


def render(statement: Any) -> str:
    return str(statement.as_string(None))


def declaration_calls(
    table: str, spec: Spec, *, now_at: str | None = None, dry_run: bool = False, new_table: bool = False
) -> list[Statement]:
    """The calls that make TABLE's policy and partitions what SPEC declares,
    in order (run them in one transaction). Every value is passed as
    declared; options left out clear what an earlier declaration set."""
    timeout, retries = conf.lock_timeout(), conf.lock_retries()
    locking: list[Arg] = [("lock_timeout", "interval", timeout), ("lock_retries", "integer", retries)]
    out: list[Statement] = []
    if spec.method == "range":
        common: list[Arg] = [
            ("parent", "regclass", table),
            ("interval", "text", spec.interval),
            ("premake", "integer", spec.premake),
            ("tablespace", "name", spec.tablespace),
            ("time_zone", "text", spec.time_zone),
            ("origin", "text", spec.origin),
            ("default_partition", "boolean", spec.default_partition),
            *locking,
            ("now_at", "timestamptz", now_at),
            ("dry_run", "boolean", dry_run),
        ]
        if spec.subpartition is not None:
            # ensure_range takes no subpartition spec: create with it first
            # (it is kept in the policy), then ensure sets the rest.
            sub: list[Arg] = [*common, ("subpartition", "jsonb", json.dumps(spec.subpartition))]
            out.append(_composed("create_range_partitions", sub, STEP_COLUMNS))
        ensure: list[Arg] = [
            *common[:3],
            ("retention", "text", "none" if spec.retention is None else spec.retention),
            ("retention_action", "text", spec.retention_action or "detach"),
            ("archive_schema", "name", spec.archive_schema or ""),
            ("archive_tablespace", "name", spec.archive_tablespace or ""),
            *common[3:],
        ]
        out.append(_composed("ensure_range", ensure, STEP_COLUMNS))
    elif spec.method == "list":
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("values", "jsonb", json.dumps(spec.values)),
            ("default_partition", "boolean", spec.default_partition),
            ("tablespace", "name", spec.tablespace),
            *locking,
            ("dry_run", "boolean", dry_run),
        ]
        out.append(_composed("create_list_partitions", args, STEP_COLUMNS))
    else:
        args = [
            ("parent", "regclass", table),
            ("modulus", "integer", spec.modulus),
            ("tablespace", "name", spec.tablespace),
            *locking,
            ("dry_run", "boolean", dry_run),
        ]
        out.append(_composed("create_hash_partitions", args, STEP_COLUMNS))
    if spec.tablespace is None and not dry_run and not new_table:
        # No tablespace declared: clear one an earlier declaration set.
        out.append(_composed("set_policy", [("parent", "regclass", table), ("tablespace", "name", "")], "parent"))
    return out


def policy_calls(table: str, spec: Spec) -> list[Statement]:
    """``set_policy`` with the declared lifecycle values (what a policy
    comparison applies in a rolled-back savepoint)."""
    args: list[Arg] = [("parent", "regclass", table), ("tablespace", "name", spec.tablespace or "")]
    if spec.method == "range":
        args += [
            ("retention", "text", "none" if spec.retention is None else spec.retention),
            ("retention_action", "text", spec.retention_action or "detach"),
            ("archive_schema", "name", spec.archive_schema or ""),
            ("archive_tablespace", "name", spec.archive_tablespace or ""),
            ("premake", "integer", spec.premake),
        ]
    return [_composed("set_policy", args, ", ".join(POLICY_COLUMNS))]


#: the policy columns a declaration sets (compared by the system checks)
POLICY_COLUMNS = ("premake", "retention", "retention_action", "archive_schema", "archive_tablespace", "tablespace")


def forget_calls(table: str) -> list[Statement]:
    """Remove TABLE's policy (before the table is dropped)."""
    return [("DELETE FROM pgpart.config WHERE parent = %s::regclass", [table])]


def _composed(function: str, args: list[Arg], columns: str) -> Statement:
    query, params = call(function, args, columns)
    return render(query), params


def installed_version(session: Session) -> str | None:
    """The pgpart version installed in the session's database, else None."""
    row = session.fetch_one("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = %s", ["pgpart"])
    if row is not None:
        return str(row[0])
    from .._install import recorded_version

    _, recorded = recorded_version(session)
    return recorded


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
    managed = False
    if row[2]:
        found = session.fetch_one("SELECT 1 FROM pgpart.config WHERE parent = pg_catalog.to_regclass(%s)", [table])
        managed = found is not None
    return row[0], row[1], managed
