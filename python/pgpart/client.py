"""pgpart.Client: the extension's verbs, called over a borrowed connection.

Every method is one call of an extension function (or, online, the plan the
extension returns executed step by step); nothing about bounds, names,
retention or plans is computed here (DESIGN §1).

The connection is the caller's: the client never opens, pools, commits on
behalf of, or closes it, and runs no DDL unless a method says so. On a
connection in autocommit mode each call is its own transaction; otherwise it
runs inside the caller's transaction, which the caller commits. The online
verbs (``maintain``, ``detach_and_archive``) commit after every step and so
refuse a connection inside an open transaction (TransactionStateError).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TextIO

from psycopg import sql

from . import _convert, _install, _load, _online
from ._adapters import session_for
from ._calls import STEP_COLUMNS, Arg, call
from ._session import Session
from .errors import (
    ExportError,
    InvalidArgumentError,
    LockTimeoutError,
    PgpartError,
    UndefinedTableError,
    from_diagnostics,
)
from .types import (
    EnsureReport,
    Finding,
    GlobalUnique,
    GlobalUniqueInfo,
    InstallReport,
    LoadReport,
    MaintenanceAction,
    MaintenanceReport,
    MovedRange,
    PartitionInfo,
    PolicyChange,
    RetentionReport,
    Step,
    Unmanaged,
    _json_object,
)

__all__ = ["Client"]

Interval = str | int | dt.timedelta
Moment = dt.datetime | str

# The policy's settings (pgpart.config without its bookkeeping: parent,
# last_error*, policy_author, created_at, updated_at), in the table's order.
POLICY_FIELDS = (
    "strategy", "key_column", "key_type", "partition_interval", "grid_origin", "time_zone", "premake",
    "tablespace", "reloptions", "subpartition", "retention", "retention_action", "archive_schema",
    "archive_tablespace", "referenced_retention", "automatic_maintenance", "analyze_after", "reconcile",
    "propagate_grants", "move_large_bytes", "epoch_unit", "drain_default", "drain_default_max_bytes",
    "retention_max_bytes", "retention_max_rows", "retention_grace",
)  # fmt: skip

_INFO_COLUMNS = (
    "parent_table::text, partition::text, level, parent_partition::text, lower_bound, upper_bound, bound,"
    " is_default, tablespace::text, estimated_rows, size_bytes, detach_pending, runway"
)


class Client:
    """pgpart over a borrowed connection: psycopg 3, or any PEP 249 connection
    (psycopg2, pg8000, ...) through the DB-API adapter.

    ``paramstyle`` overrides the DB-API driver's (detected from its module).
    """

    def __init__(self, conn: Any, *, paramstyle: str | None = None) -> None:
        self.connection = conn
        self._session: Session = session_for(conn, paramstyle=paramstyle)

    # -- installing ---------------------------------------------------------------

    def install(self, *, method: _install.Method = "auto") -> InstallReport:
        """Install or upgrade pgpart in this database.

        ``CREATE EXTENSION IF NOT EXISTS pgpart`` where the server has the
        extension's files and the role may create it; otherwise the script
        shipped in this package, run in schema pgpart (statements valid only
        inside CREATE EXTENSION skipped, event triggers only where the role
        may create them, else a PgpartWarning), its version recorded in the
        comment of schema pgpart. An older install of either kind is
        upgraded. ``method`` forces one way ("extension" or "script").
        """
        return _install.install(self._session, method=method)

    def installed_version(self) -> str | None:
        """The pgpart version installed in this database (as an extension,
        or by script: the version the script recorded), else None."""
        row = self._session.fetch_one("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = %s", ["pgpart"])
        if row is not None:
            return str(row[0])
        return _install.recorded_version(self._session)[1]

    # -- creating -----------------------------------------------------------------

    def ensure(
        self,
        table: str,
        *,
        interval: Interval | None = None,
        premake: int | None = None,
        retention: Interval | None = None,
        retention_action: str | None = None,
        archive_schema: str | None = None,
        archive_tablespace: str | None = None,
        tablespace: str | None = None,
        time_zone: str | None = None,
        origin: str | None = None,
        default_partition: bool | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        now_at: Moment | None = None,
        dry_run: bool = False,
        start: str | int | None = None,
        reloptions: Sequence[str] | None = None,
        subpartition: Mapping[str, Any] | None = None,
        max_new: int | None = None,
        epoch_unit: str | None = None,
        drain_default: bool | None = None,
        drain_default_max_bytes: int | None = None,
        retention_max_bytes: int | None = None,
        retention_max_rows: int | None = None,
        retention_grace: Interval | None = None,
    ) -> EnsureReport:
        """Declare how TABLE is partitioned and create what is missing:
        registers or updates the policy and creates the partitions its grid
        calls for (the slot of ``now_at`` plus ``premake`` ahead), in one call.
        Idempotent. Arguments left None keep what is configured (so leaving
        out ``time_zone`` never re-grids a table); ``interval`` is needed only
        the first time. ``dry_run`` returns the plan and changes nothing.

        ``start`` (the first range of an empty integer-keyed table),
        ``reloptions`` (storage parameters such as ``"fillfactor=90"``),
        ``subpartition`` (each new partition itself partitioned, e.g.
        ``{"method": "hash", "key": "id", "modulus": 4}``; kept in the
        policy) and ``max_new`` (at most this many new tables in this call)
        are passed to ``pgpart.ensure_range`` as ``create_range_partitions``
        takes them. ``epoch_unit`` ("s", "ms" or "us"; kept in the policy)
        declares an integer key holding Unix time, gridded as a timestamptz
        would be (a uuid key holding UUIDv7 needs nothing).
        ``drain_default`` (with ``drain_default_max_bytes``):
        every maintenance run moves the default partition's rows into
        partitions of their own (``pgpart.set_policy``).
        ``retention_max_bytes``, ``retention_max_rows`` and
        ``retention_grace``: retention by size and rows and its grace
        period, as :meth:`set_policy` takes them.
        """
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("interval", "text", interval),
            ("premake", "integer", premake),
            ("retention", "text", retention),
            ("retention_action", "text", retention_action),
            ("archive_schema", "name", archive_schema),
            ("archive_tablespace", "name", archive_tablespace),
            ("tablespace", "name", tablespace),
            ("time_zone", "text", time_zone),
            ("origin", "text", origin),
            ("default_partition", "boolean", default_partition),
            ("lock_timeout", "interval", lock_timeout),
            ("lock_retries", "integer", lock_retries),
            ("now_at", "timestamptz", now_at),
            ("dry_run", "boolean", dry_run),
            ("start", "text", start),
            ("reloptions", "text[]", None if reloptions is None else _text_array(reloptions)),
            ("subpartition", "jsonb", None if subpartition is None else json.dumps(subpartition)),
            ("max_new", "integer", max_new),
            ("epoch_unit", "text", epoch_unit),
            ("drain_default", "boolean", drain_default),
            ("drain_default_max_bytes", "bigint", drain_default_max_bytes),
            ("retention_max_bytes", "bigint", retention_max_bytes),
            ("retention_max_rows", "bigint", retention_max_rows),
            ("retention_grace", "interval", None if retention_grace is None else _interval(retention_grace)),
        ]
        if dry_run:
            rows = self._session.fetch(*call("ensure_range", args, STEP_COLUMNS))
            return EnsureReport(table, dry_run, tuple(Step.from_row(r) for r in rows))
        # the policy as this call found it, read in the call's own statement
        # (its snapshot), and as it left it: the report names this call's
        # changes (a failed call leaves the caller's transaction as it would)
        query, params = call("ensure_range", args, STEP_COLUMNS)
        wrapped = sql.SQL(
            "SELECT b.policy, s.* FROM (SELECT (SELECT pg_catalog.to_jsonb(c)::text FROM pgpart.config AS c"
            " WHERE c.parent = %s::regclass) AS policy) AS b LEFT JOIN LATERAL ({}) AS s ON true"
        ).format(query)
        found = self._session.fetch(wrapped, [table, *params])
        old = None if found[0][0] is None else _json_object(found[0][0])
        rows = [r[1:] for r in found if r[1] is not None]
        before, new = old or {}, self.policy(table) or {}
        changes = tuple(
            PolicyChange(name, before.get(name), new.get(name))
            for name in POLICY_FIELDS
            if before.get(name) != new.get(name)
        )
        return EnsureReport(table, dry_run, tuple(Step.from_row(r) for r in rows), changes, registered=old is None)

    def convert(
        self,
        table: str,
        *,
        key: str,
        interval: Interval,
        premake: int | None = None,
        retention: Interval | None = None,
        retention_action: str | None = None,
        archive_schema: str | None = None,
        archive_tablespace: str | None = None,
        tablespace: str | None = None,
        time_zone: str | None = None,
        origin: str | None = None,
        default_partition: bool | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        now_at: Moment | None = None,
        dry_run: bool = False,
        reloptions: Sequence[str] | None = None,
        epoch_unit: str | None = None,
        legacy_name: str | None = None,
        progress: _convert.ConvertProgress | None = None,
        online: bool = True,
        legacy: str = "keep",
    ) -> list[_convert.ConvertStep]:
        """Turn the plain table TABLE into a pgpart-managed partitioned table
        of the same name, online (``pgpart.convert_to_partitioned``'s plan,
        docs/converting.md): the old table becomes the legacy partition up
        to a grid bound past its largest key and ``now_at``; partitions from
        there follow the grid (``ensure``'s policy arguments). Each step runs
        in a short transaction of its own (the swap steps in one), under the
        lock timeout with retries, so writers go on. Needs a connection
        outside a transaction block. Resumable: run it again after a kill.
        ``dry_run`` returns the plan and changes nothing; ``progress(step,
        number, total)`` is called before each step. ``online=False`` runs
        the whole plan in one call of ``pgpart.convert_to_partitioned`` in
        the current transaction (the caller's, e.g. a Django migration's):
        the table stays locked until that transaction ends, so only for
        small tables. ``legacy="split"`` then moves the legacy partition's
        rows into grid partitions (``split_legacy``: online, or with
        ``online=False`` in the same call); the dry run lists the
        conversion's steps only."""
        if legacy not in ("keep", "split"):
            raise InvalidArgumentError(f"legacy must be 'keep' or 'split', not {legacy!r}",
                                       hint="Pass legacy='keep' (the default) or legacy='split'.")  # fmt: skip
        args: list[Arg] = [
            ("table", "regclass", table),
            ("key", "name", key),
            ("interval", "text", _interval(interval)),
            ("premake", "integer", premake),
            ("retention", "text", None if retention is None else _interval(retention)),
            ("retention_action", "text", retention_action),
            ("archive_schema", "name", archive_schema),
            ("archive_tablespace", "name", archive_tablespace),
            ("tablespace", "name", tablespace),
            ("time_zone", "text", time_zone),
            ("origin", "text", origin),
            ("default_partition", "boolean", default_partition),
            ("lock_timeout", "interval", lock_timeout),
            ("lock_retries", "integer", lock_retries),
            ("now_at", "timestamptz", now_at),
            ("reloptions", "text[]", None if reloptions is None else _text_array(reloptions)),
            ("epoch_unit", "text", epoch_unit),
            ("legacy_name", "name", legacy_name),
        ]
        if dry_run:
            return _convert.plan(self._session, args)
        if not online:
            return _convert.in_transaction(self._session, [*args, ("legacy", "text", legacy)])
        timeout = _interval(lock_timeout) if lock_timeout is not None else _online.DEFAULT_LOCK_TIMEOUT
        retries = _online.DEFAULT_LOCK_RETRIES if lock_retries is None else lock_retries
        with self._session.top_level("convert"):
            done = _convert.run(self._session, table, args, lock_timeout=timeout, lock_retries=retries,
                                progress=progress)  # fmt: skip
        if legacy == "split":
            done += self.split_legacy(table, lock_timeout=lock_timeout, lock_retries=lock_retries, progress=progress)
        return done

    def split_legacy(
        self,
        table: str,
        *,
        keep_legacy: bool = False,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        dry_run: bool = False,
        max_ranges: int | None = None,
        progress: _convert.ConvertProgress | None = None,
    ) -> list[_convert.ConvertStep]:
        """Move the rows of the legacy partition a conversion left on TABLE
        into grid partitions, online (``pgpart.split_legacy``'s plan,
        docs/converting.md): each range copied in a short transaction of
        its own while a trigger mirrors later writes, then one short swap;
        readers see every row throughout. Each step runs under the lock
        timeout with retries; resumable after a kill. ``dry_run`` returns
        the plan (estimated rows per range); ``progress(step, number,
        total)`` is called before each step. ``keep_legacy`` leaves the old
        table detached instead of dropping it. ``max_ranges`` copies at most
        that many ranges in ONE call of the SQL function in the current
        transaction (then call again), instead of the online run."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("keep_legacy", "boolean", keep_legacy),
            ("lock_timeout", "interval", lock_timeout),
            ("lock_retries", "integer", lock_retries),
        ]
        if dry_run:
            return _convert.plan(self._session, args, "split_legacy")
        if max_ranges is not None:
            return _convert.in_transaction(self._session, [*args, ("max_ranges", "integer", max_ranges)],
                                           "split_legacy")  # fmt: skip
        timeout = _interval(lock_timeout) if lock_timeout is not None else _online.DEFAULT_LOCK_TIMEOUT
        retries = _online.DEFAULT_LOCK_RETRIES if lock_retries is None else lock_retries
        with self._session.top_level("split_legacy"):
            return _convert.run(self._session, table, args, lock_timeout=timeout, lock_retries=retries,
                                progress=progress, function="split_legacy")  # fmt: skip

    def declare(
        self,
        table: str,
        *,
        method: str = "range",
        interval: Interval | None = None,
        premake: int | None = None,
        retention: Interval | None = None,
        retention_action: str | None = None,
        archive_schema: str | None = None,
        archive_tablespace: str | None = None,
        tablespace: str | None = None,
        time_zone: str | None = None,
        origin: str | None = None,
        default_partition: bool = False,
        subpartition: Mapping[str, Any] | None = None,
        values: Sequence[Any] | Mapping[str, Any] | None = None,
        modulus: int | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        now_at: Moment | None = None,
        dry_run: bool = False,
        new_table: bool = False,
        epoch_unit: str | None = None,
        drain_default: bool = False,
    ) -> EnsureReport:
        """Make TABLE's policy and partitions what a complete declaration
        says (what Django's ``Partitioning`` declares), all or nothing.

        Unlike :meth:`ensure`, what is left out is not kept but cleared:
        no retention, ``retention_action`` detach, no archive schema or
        tablespace, and (unless ``new_table``: nothing earlier to clear) no
        tablespace; ``drain_default`` off. ``method`` is "range" (``interval`` ...
        ``subpartition``, ``drain_default``),
        "list" (``values``, a JSON list or object as
        ``pgpart.create_list_partitions`` takes it) or "hash" (``modulus``).
        ``epoch_unit`` is passed to ``pgpart.ensure_range`` for "range" (an
        integer key holding Unix time). The report holds the steps of every
        call, in order.
        """
        locking: list[Arg] = [
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
        ]
        calls: list[tuple[str, list[Arg]]] = []
        if method == "range":
            common: list[Arg] = [
                ("parent", "regclass", table),
                ("interval", "text", interval),
                ("premake", "integer", premake),
                ("tablespace", "name", tablespace),
                ("time_zone", "text", time_zone),
                ("origin", "text", origin),
                ("default_partition", "boolean", default_partition),
                *locking,
                ("now_at", "timestamptz", now_at),
                ("dry_run", "boolean", dry_run),
            ]
            calls.append((
                "ensure_range",
                [
                    *common[:3],
                    ("retention", "text", "none" if retention is None else retention),
                    ("retention_action", "text", retention_action or "detach"),
                    ("archive_schema", "name", archive_schema or ""),
                    ("archive_tablespace", "name", archive_tablespace or ""),
                    *common[3:],
                    ("subpartition", "jsonb", None if subpartition is None else json.dumps(subpartition)),
                    ("epoch_unit", "text", epoch_unit),
                    ("drain_default", "boolean", drain_default),
                ],
            ))  # fmt: skip
        elif method == "list":
            calls.append((
                "create_list_partitions",
                [
                    ("parent", "regclass", table),
                    ("values", "jsonb", json.dumps(values)),
                    ("default_partition", "boolean", default_partition),
                    ("tablespace", "name", tablespace),
                    *locking,
                    ("dry_run", "boolean", dry_run),
                ],
            ))  # fmt: skip
        elif method == "hash":
            calls.append((
                "create_hash_partitions",
                [
                    ("parent", "regclass", table),
                    ("modulus", "integer", modulus),
                    ("tablespace", "name", tablespace),
                    *locking,
                    ("dry_run", "boolean", dry_run),
                ],
            ))  # fmt: skip
        else:
            raise InvalidArgumentError(
                f"unknown partitioning method {method!r}", hint="Pass 'range', 'list' or 'hash'."
            )
        steps: list[Step] = []
        with self._session.atomic():
            for function, args in calls:
                steps += [Step.from_row(r) for r in self._session.fetch(*call(function, args, STEP_COLUMNS))]
            if tablespace is None and not dry_run and not new_table:
                # No tablespace declared: clear one an earlier declaration set.
                self.set_policy(table, tablespace="")
        return EnsureReport(table, dry_run, tuple(steps))

    def plan(self, table: str, **kwargs: Any) -> list[Step]:
        """The plan of ``ensure(table, **kwargs)``, changing nothing."""
        return list(self.ensure(table, dry_run=True, **kwargs).steps)

    def set_policy(
        self,
        table: str,
        *,
        retention: Interval | None = None,
        retention_action: str | None = None,
        archive_schema: str | None = None,
        archive_tablespace: str | None = None,
        tablespace: str | None = None,
        premake: int | None = None,
        automatic_maintenance: bool | None = None,
        analyze_after: bool | None = None,
        referenced_retention: str | None = None,
        reconcile: bool | None = None,
        propagate_grants: bool | None = None,
        move_large_bytes: int | None = None,
        dry_run: bool = False,
        drain_default: bool | None = None,
        drain_default_max_bytes: int | None = None,
        retention_max_bytes: int | None = None,
        retention_max_rows: int | None = None,
        retention_grace: Interval | None = None,
    ) -> dict[str, Any]:
        """Change TABLE's lifecycle policy (``pgpart.set_policy``); None keeps
        a setting, '' clears a name, 'none' clears retention. Returns the
        policy as saved, a dict of pgpart.config's columns (``dry_run``: as
        it would be saved; nothing is written).

        ``retention_max_bytes`` / ``retention_max_rows``: keep at most that
        much in the partitions, the oldest expiring first (0 clears);
        ``retention_grace``: an expired partition stays detached that long
        before its archive or drop ('0' clears). A partition expires if any
        rule expires it."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("retention", "text", retention),
            ("retention_action", "text", retention_action),
            ("archive_schema", "name", archive_schema),
            ("archive_tablespace", "name", archive_tablespace),
            ("tablespace", "name", tablespace),
            ("premake", "integer", premake),
            ("automatic_maintenance", "boolean", automatic_maintenance),
            ("analyze_after", "boolean", analyze_after),
            ("referenced_retention", "text", referenced_retention),
            ("reconcile", "boolean", reconcile),
            ("propagate_grants", "boolean", propagate_grants),
            ("move_large_bytes", "bigint", move_large_bytes),
            ("dry_run", "boolean", dry_run),
            ("drain_default", "boolean", drain_default),
            ("drain_default_max_bytes", "bigint", drain_default_max_bytes),
            ("retention_max_bytes", "bigint", retention_max_bytes),
            ("retention_max_rows", "bigint", retention_max_rows),
            ("retention_grace", "interval", None if retention_grace is None else _interval(retention_grace)),
        ]
        row = self._session.fetch_one(*call("set_policy", args, "pg_catalog.to_jsonb(set_policy)::text"))
        return _json_object(row[0]) if row is not None else {}

    def unmanage(self, table: str, *, dry_run: bool = False, missing_ok: bool = False) -> Unmanaged | None:
        """Stop managing TABLE (``pgpart.unmanage``): remove its policy, leave
        its partitions attached. Returns the policy removed (on a dry run:
        that would be), or None for a table without a policy when
        ``missing_ok``; else a table without one is NotManagedError (55000),
        as is a pending detach. The caller must own the table (42501)."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("dry_run", "boolean", dry_run),
            ("missing_ok", "boolean", missing_ok or None),
        ]
        row = self._session.fetch_one(*call("unmanage", args, "parent_table::text, applied, partitions, policy::text"))
        return None if row is None else Unmanaged.from_row(row)

    # -- reading ------------------------------------------------------------------

    def info(self, table: str | None = None, *, now_at: Moment | None = None) -> list[PartitionInfo]:
        """One row per partition of TABLE (or of every managed table), in
        bound order, from the catalog only (never waits for a lock)."""
        args: list[Arg] = [("parent", "regclass", table), ("now_at", "timestamptz", now_at)]
        rows = self._session.fetch(*call("partition_info", args, _INFO_COLUMNS))
        return [PartitionInfo.from_row(r) for r in rows]

    def policy(self, table: str) -> dict[str, Any] | None:
        """TABLE's policy, a dict of pgpart.config's columns, or None when
        pgpart does not manage it. Every role may read it."""
        row = self._session.fetch_one(
            "SELECT pg_catalog.to_jsonb(c)::text FROM pgpart.config AS c WHERE c.parent = %s::regclass", [table]
        )
        return None if row is None else _json_object(row[0])

    def check(self, table: str | None = None, *, now_at: Moment | None = None) -> list[Finding]:
        """What is wrong with TABLE (or every managed table), each finding
        with its severity ('urgent', 'warning', 'info'), its stable code
        (docs/check-codes.md) and a ready fix."""
        args: list[Arg] = [("parent", "regclass", table), ("now_at", "timestamptz", now_at)]
        query, params = call("check", args, "severity, code, parent_table::text, partition::text, problem, fix")
        return [Finding.from_row(r) for r in self._session.fetch(query, params)]

    # -- lifecycle ----------------------------------------------------------------

    def detach_and_archive(
        self,
        table: str,
        *,
        online: bool = True,
        dry_run: bool = False,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        now_at: Moment | None = None,
        progress: _online.Progress | None = None,
    ) -> RetentionReport:
        """Apply TABLE's retention policy: finish pending detaches, detach the
        expired partitions and archive or drop them as the policy says,
        committing after every step.

        online=True: the client runs the extension's plan one statement per
        transaction, ``DETACH ... CONCURRENTLY`` at top level where
        PostgreSQL allows it, holding the parent's advisory lock.
        online=False: the SQL path (plain, lock-bounded DETACH), one
        ``pgpart.detach_and_archive`` call per step. Both need a connection
        outside a transaction block. dry_run returns the plan.
        """
        timeout = None if lock_timeout is None else _interval(lock_timeout)
        if dry_run:
            steps = _online.retention_plan(
                self._session, table, online=online, lock_timeout=timeout, lock_retries=lock_retries,
                now_at=now_at,
            )  # fmt: skip
            return RetentionReport(table, online, True, tuple(steps))
        self._require_table(table)
        with self._session.top_level("detach_and_archive"):
            steps = self._retention(table, online, False, timeout, lock_retries, now_at, progress)
        return RetentionReport(table, online, False, tuple(steps))

    def _retention(
        self, table: str, online: bool, as_owner: bool, lock_timeout: str | None, lock_retries: int | None,
        now_at: Moment | None, progress: _online.Progress | None,
    ) -> list[Step]:  # fmt: skip
        # Both paths loop over the extension's one retention runner; online
        # holds the parent's advisory lock for the whole run and runs the
        # DETACH ... CONCURRENTLY steps it returns.
        if online:
            return _online.run_retention(
                self._session, table, lock_timeout=lock_timeout, lock_retries=lock_retries, now_at=now_at,
                progress=progress, as_owner=as_owner,
            )  # fmt: skip
        return _online.loop_retention(
            self._session, table, online=False, as_owner=as_owner, lock_timeout=lock_timeout,
            lock_retries=lock_retries, now_at=now_at, progress=progress,
        )  # fmt: skip

    def _require_table(self, table: str) -> None:
        """42P01 with a hint, naming TABLE, before any call that casts it."""
        if "\x00" in table:
            return  # refused by the call itself, naming the argument (InvalidArgumentError)
        row = self._session.fetch_one("SELECT pg_catalog.to_regclass(%s::text) IS NOT NULL", [table])
        if row is not None and not row[0]:
            raise UndefinedTableError(
                f"table {table} does not exist",
                detail="pgpart looked it up with the connection's search_path.",
                hint="Check the name and its schema (e.g. 'public.events'); SELECT * FROM pgpart.check() lists "
                "the managed tables and their problems.",
            )

    def reattach_partition(
        self,
        table: str,
        partition: str,
        *,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        dry_run: bool = False,
    ) -> list[Step]:
        """Attach again PARTITION, a table retention detached from TABLE
        (during its grace period, before its archive or drop), at the bounds
        its journal entry recorded (``pgpart.reattach_partition``): a CHECK
        validated first, then ATTACH under the lock timeout with retries; its
        journal entry is closed, so retention never drops it. Returns the
        steps (``dry_run``: the plan, nothing changed). A table the policy
        still expires is detached again by the next maintenance: change the
        policy first."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("partition", "regclass", partition),
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
            ("dry_run", "boolean", dry_run),
        ]
        with self._session.atomic():
            rows = self._session.fetch(*call("reattach_partition", args, STEP_COLUMNS))
        return [Step.from_row(r) for r in rows]

    def move_default_rows(
        self,
        table: str,
        *,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        now_at: Moment | None = None,
        progress: Callable[[MovedRange, int], None] | None = None,
        dry_run: bool = False,
    ) -> list[MovedRange]:
        """Move the rows of TABLE's default partition into partitions of the
        grid, one range per transaction (``pgpart.move_default_range`` until
        it returns nothing); ``progress(moved, number)`` after each range,
        ``moved.total`` being the number of ranges planned at the start
        (``pgpart.move_default_plan``). Needs a connection outside a
        transaction block.

        dry_run: the plan, changing nothing (``pgpart.move_default_plan``):
        each range that would move, in order, with the exact number of rows
        it holds now (``rows_moved``; one range scan each) and ``problem``
        where the move would stop; any connection state will do."""
        self._require_table(table)
        timeout = None if lock_timeout is None else _interval(lock_timeout)
        plan_args: list[Arg] = [
            ("parent", "regclass", table),
            ("lock_timeout", "interval", timeout),
            ("now_at", "timestamptz", now_at),
        ]
        plan_columns = "step, partition, lower_bound, upper_bound, rows_to_move, problem"
        if dry_run:
            rows = self._session.fetch(*call("move_default_plan", plan_args, plan_columns))
            return [MovedRange.planned(row, len(rows)) for row in rows]
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("lock_timeout", "interval", timeout),
            ("lock_retries", "integer", lock_retries),
            ("now_at", "timestamptz", now_at),
        ]
        query, params = call("move_default_range", args, "partition, lower_bound, upper_bound, rows_moved")
        moved: list[MovedRange] = []
        with self._session.top_level("move_default_rows"):
            # the total of the progress: the ranges planned now, without counting rows
            total_query, total_params = call(
                "move_default_plan", [*plan_args, ("count_rows", "boolean", False)], "count(*)"
            )
            counted = self._session.fetch_one(total_query, total_params)
            total = 0 if counted is None else int(counted[0])
            while row := self._session.fetch_one(query, params):
                moved.append(MovedRange.from_row(row, len(moved) + 1, total))
                if progress is not None:
                    progress(moved[-1], len(moved))
        return moved

    def maintain(
        self,
        table: str | None = None,
        *,
        online: bool = True,
        dry_run: bool = False,
        now_at: Moment | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        progress: _online.Progress | None = None,
        apply_retention: bool = True,
        export_to: str | None = None,
    ) -> MaintenanceReport:
        """Maintain TABLE (or every managed table): finish pending detaches,
        create partitions ahead, apply retention.

        ``pgpart.run_maintenance`` does the lock-light part in one
        transaction (called again, one transaction each, while a table is
        not caught up: one call creates at most 200 tables), then retention
        is applied to each table it reports due, one step per transaction,
        by looping over the extension's retention runner as the table's
        owner. online=True: DETACH CONCURRENTLY where possible, see
        detach_and_archive. online=False: the SQL path (a plain,
        lock-bounded DETACH), as ``CALL pgpart.run_maintenance_proc`` does. Either way the report
        holds what this call did, from the rows the verbs returned (never
        another session's work), and a table that fails is reported
        (``report.errors``, each with its typed ``error``) while the others
        go on.
        dry_run: the plan of each table (``report.plans``), from
        ``pgpart.run_maintenance(dry_run => true)``, changing nothing; a
        failure the run would meet is in ``report.errors``.
        apply_retention=False: only the lock-light part (``pgpart.run_maintenance``,
        in the caller's transaction if one is open); expired partitions are
        reported as "retention due" actions and left in place (apply them
        with :meth:`detach_and_archive`).
        export_to: a directory (or URL) where the tables retention detached
        for export (policy ``retention_action => 'export'``) are written as
        Parquet files, verified and dropped (:meth:`export_partition`), each
        reported as an "exported" action, a failure as an error (the table
        stays detached, awaiting export; without pyarrow: MissingExtraError).
        Without it they are reported as "export due" and left as they are.
        """
        timeout = None if lock_timeout is None else _interval(lock_timeout)
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("now_at", "timestamptz", now_at),
            ("lock_timeout", "interval", timeout),
            ("lock_retries", "integer", lock_retries),
        ]
        if table is not None:
            self._require_table(table)
        if dry_run:
            report = self._maintenance_plan(table, online, args)
            due_exports = tuple(self._exports(table, None, lock_timeout, lock_retries))
            return dataclasses.replace(report, actions=report.actions + due_exports)
        if not apply_retention:
            return MaintenanceReport(online=online, dry_run=False, actions=tuple(self._run_maintenance(args)))
        with self._session.top_level("maintain"):
            actions = self._drain(table, args)
            try:
                # drained above, one range per transaction: run_maintenance leaves it
                self._session.execute("SELECT pg_catalog.set_config('pgpart.drain_done', 'on', false)")
                actions += self._catch_up(self._run_maintenance(args), args)
            finally:
                self._session._quietly("RESET pgpart.drain_done")
            due = list(dict.fromkeys(a.parent_table for a in actions if a.action == "retention due" and a.parent_table))
            for parent in due:
                try:
                    steps = self._retention(parent, online, True, timeout, lock_retries, now_at, progress)
                except PgpartError as exc:
                    actions.append(MaintenanceAction(parent, "error", exc.table, str(exc), exc))
                    # logged and kept as last_error for check(), as
                    # run_maintenance_proc does; best effort, never masking exc
                    self._session._quietly(
                        "SELECT pgpart._record_failure(%s::regclass, 'retention', %s, %s)",
                        [parent, exc.sqlstate or "XX000", exc.message],
                    )
                    continue
                actions += [MaintenanceAction(parent, s.action, s.partition, s.statement or s.locks) for s in steps]
            actions += self._exports(table, export_to, lock_timeout, lock_retries)
        return MaintenanceReport(online=online, dry_run=False, actions=tuple(actions))

    def _exports(self, table: str | None, export_to: str | None, lock_timeout: Interval | None,
                 lock_retries: int | None) -> list[MaintenanceAction]:  # fmt: skip
        """For maintain: the tables awaiting export, exported to EXPORT_TO
        (else reported as due), each failure an error action."""
        rows = self._session.fetch(
            *call("awaiting_export", [("parent", "regclass", table)], "parent_table::text, partition::text")
        )
        actions: list[MaintenanceAction] = []
        for parent, partition in rows:
            if export_to is None:
                due = "detached for export: pgpart export (or maintain --export-to DIR)"
                actions.append(MaintenanceAction(parent, "export due", partition, due))
                continue
            try:
                manifest = self.export_partition(parent, partition, to=export_to, lock_timeout=lock_timeout,
                                                 lock_retries=lock_retries)  # fmt: skip
            except PgpartError as exc:
                actions.append(MaintenanceAction(parent, "error", partition, str(exc), exc))
                continue
            done = f"{manifest['rows']} rows to {manifest['location']}"
            actions.append(MaintenanceAction(parent, "exported", partition, done))
        return actions

    def _drain(self, table: str | None, args: Sequence[Arg]) -> list[MaintenanceAction]:
        """The default partitions of the tables whose policy has
        ``drain_default``, drained one range per transaction (the extension's
        ``pgpart._drain_default_rows``, as ``run_maintenance_proc`` does, at most
        32 ranges a table), so that writers wait for one range at a time."""
        parents = self._session.fetch(
            "SELECT c.parent::text FROM pgpart.config AS c WHERE c.drain_default AND c.strategy = 'range'"
            " AND (c.parent = %s::regclass OR (%s::text IS NULL AND c.automatic_maintenance)) ORDER BY c.parent",
            [table, table],
        )
        step: list[Arg] = [("p_" + name, cast, value) for name, cast, value in args if name != "parent"]
        actions: list[MaintenanceAction] = []
        for (parent,) in parents:
            for _ in range(32):
                rows = self._session.fetch(
                    *call(
                        "_drain_default_rows",
                        [("p_parent", "regclass", parent), *step, ("p_max_ranges", "integer", 1)],
                        "action, partition, detail, error::text",
                    )
                )
                actions += [MaintenanceAction(parent, a, p, d, _error(e)) for a, p, d, e in rows]
                if not rows or rows[0][0] != "moved":
                    break
        return actions

    def _run_maintenance(self, args: Sequence[Arg]) -> list[MaintenanceAction]:
        """The lock-light part (``pgpart.run_maintenance``), one row per action."""
        rows = self._session.fetch(
            *call("run_maintenance", args, "parent_table::text, action, partition, detail, error::text")
        )
        return [
            MaintenanceAction(parent, action, partition, detail, _error(error))
            for parent, action, partition, detail, error in rows
        ]

    def _catch_up(self, actions: list[MaintenanceAction], args: Sequence[Arg]) -> list[MaintenanceAction]:
        """``pgpart.run_maintenance`` creates at most 200 tables per parent and
        transaction: call it again, one transaction each, for every parent
        whose last call created tables, until a call creates none (at most
        500 calls: the 100,000 slots a window may span), as
        ``run_maintenance_proc`` does, so a table far behind is caught up
        fully. The later calls' rows are added, less their repeated reports
        (retention due, drift)."""
        last = actions
        for _ in range(500):
            again = list(dict.fromkeys(a.parent_table for a in last if a.action == "created" and a.parent_table))
            if not again:
                break
            last = []
            for parent in again:
                parent_args = [("parent", "regclass", parent), *(a for a in args if a[0] != "parent")]
                last += [a for a in self._run_maintenance(parent_args) if a.action in ("created", "error", "skipped")]
            actions += last
        return actions

    def _maintenance_plan(self, table: str | None, online: bool, args: Sequence[Arg]) -> MaintenanceReport:
        columns = (
            "parent_table::text, action, partition, detail, error::text,"
            " step, partition, lower_bound, upper_bound, action, statement, locks, top_level"
        )
        plan_args = [*args, ("dry_run", "boolean", True), ("online", "boolean", online)]
        rows = self._session.fetch(*call("run_maintenance", plan_args, columns))
        # every table maintenance would act on has a plan (maybe empty); the
        # one asked for under the name it was given
        plans: dict[str, list[Step]] = {} if table is None else {table: []}
        actions: list[MaintenanceAction] = []
        for row in rows:
            parent = table if table is not None else row[0]
            steps = plans.setdefault(parent, [])
            if row[5] is None:  # not a step: skipped or error
                actions.append(MaintenanceAction(parent, row[1], row[2], row[3], _error(row[4])))
            else:
                # the detail of a retention step says why (the rule, or the grace period over)
                steps.append(dataclasses.replace(Step.from_row(row[5:]), reason=row[3]))
        return MaintenanceReport(
            online=online, dry_run=True, actions=tuple(actions),
            plans=tuple((parent, tuple(steps)) for parent, steps in plans.items()),
        )  # fmt: skip

    # -- operations: monitoring and saved plans ------------------------------------

    def metrics(self, *, now_at: Moment | None = None) -> str:
        """Every managed table's state as Prometheus text exposition
        (``pgpart.metrics()``): runway, estimated rows in default partitions,
        pending detaches, last successful maintenance, findings by severity.
        From the catalog; never waits for a lock."""
        row = self._session.fetch_one(*call("metrics", [("now_at", "timestamptz", now_at)], "metrics"))
        return "" if row is None or row[0] is None else str(row[0])

    def save_plan(
        self,
        table: str | None = None,
        *,
        online: bool = True,
        now_at: Moment | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
    ) -> dict[str, Any]:
        """The plan of maintenance of TABLE (or every table maintenance acts
        on), as ``maintain(dry_run=True)`` plans it, in a document to save
        (``json.dump``), review and apply later with :meth:`apply_plan`. It
        holds each table's fingerprint (partitions and policy): applying it
        is refused once they changed. online=True plans retention with
        ``DETACH ... CONCURRENTLY`` (only this client can apply that)."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("now_at", "timestamptz", now_at),
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
            ("online", "boolean", online),
        ]
        row = self._session.fetch_one(*call("save_plan", args, "save_plan::text"))
        if row is None:  # pragma: no cover - the function always returns a row
            raise PgpartError("pgpart.save_plan returned no plan")
        return _json_object(row[0])

    def apply_plan(self, plan: Mapping[str, Any] | str) -> MaintenanceReport:
        """Run exactly the steps of a saved plan (:meth:`save_plan`, or
        ``pgpart maintain --dry-run --save FILE``; a dict or its JSON text).

        First the server checks every table of the plan (``pgpart._check_plan``):
        its partitions and policy must still have the plan's fingerprint and
        its steps must be exactly those pgpart plans for it now, so only
        statements pgpart itself generates are run; otherwise
        ObjectStateError (55000) and nothing is changed. Then each table's
        steps run one transaction per group, as maintenance runs them
        (``pgpart._plan_groups``: each retention step alone), as the table's
        owner under its advisory lock; ``DETACH ... CONCURRENTLY`` steps of
        an online plan at top level, while the client holds the table's
        advisory lock for the session. A step that fails raises: what
        committed before stays, as after an interrupted maintenance run.
        Needs a connection outside a transaction block."""
        text = plan if isinstance(plan, str) else json.dumps(plan)
        document = _json_object(text)
        timeout = str(document.get("lock_timeout") or _online.DEFAULT_LOCK_TIMEOUT)
        raw_retries = document.get("lock_retries")
        retries = _online.DEFAULT_LOCK_RETRIES if raw_retries is None else int(raw_retries)
        actions: list[MaintenanceAction] = []
        with self._session.top_level("apply_plan"):
            self._session.execute("SELECT pgpart._check_plan(%s::jsonb)", [text])
            for entry in document.get("tables") or []:
                table = str(entry["table"])
                groups = self._session.fetch(
                    "SELECT steps::text, top_level FROM pgpart._plan_groups(%s::jsonb) ORDER BY grp",
                    [json.dumps(entry.get("steps") or [])],
                )
                if groups:
                    actions += self._apply_groups(table, [(str(g), bool(top)) for g, top in groups], timeout, retries)
        return MaintenanceReport(online=bool(document.get("online")), dry_run=False, actions=tuple(actions))

    def _apply_groups(
        self, table: str, groups: Sequence[tuple[str, bool]], timeout: str, retries: int
    ) -> list[MaintenanceAction]:
        # The checked plan of TABLE, group by group (one transaction each),
        # under the table's advisory lock for the session (as the online
        # retention runner holds it), so no other pgpart run acts on the
        # table between two groups; pgpart's SQL steps take the same key
        # per transaction, which this session already holds.
        done: list[MaintenanceAction] = []
        with self._session.lock_timeout(timeout):
            if not _online._lock_parent(self._session, table, retries):
                raise LockTimeoutError(
                    f"not applying the plan of {table}: another pgpart run holds its advisory lock",
                    detail=f"Not obtained within {timeout} after {retries + 1} attempts; nothing of it was applied.",
                    hint="When that run has ended, apply the plan again; if that run changed the table, the plan is"
                    " refused and a new one must be made.",
                )
            try:
                for steps_text, top in groups:
                    items = [_plan_step(item) for item in json.loads(steps_text)]
                    if top:
                        # DETACH ... CONCURRENTLY, run as the online runner
                        # runs it: not started while long transactions use
                        # the table, finished at once if it gives up
                        for step in items:
                            _online._detach_concurrently(self._session, table, step, timeout, retries)
                            done.append(MaintenanceAction(table, step.action, step.partition, step.statement))
                        continue
                    if [s.action for s in items] == ["journal"]:
                        # checked before the journal entry of the detach is written
                        _online._refuse_if_blocked(self._session, table, items[0], timeout)
                    rows = self._session.fetch(
                        f"SELECT {STEP_COLUMNS} FROM pgpart._apply_plan_steps(%s::regclass, %s::jsonb,"
                        " %s::interval, %s::integer)",
                        [table, steps_text, timeout, str(retries)],
                    )
                    for r in rows:
                        step = Step.from_row(r)
                        done.append(MaintenanceAction(table, step.action, step.partition, step.statement))
            finally:
                self._session._cleanup(
                    "SELECT pg_catalog.pg_advisory_unlock(pgpart.advisory_key(%s::regclass))",
                    [table],
                    quiet=sys.exc_info()[0] is not None,
                )
        return done

    # -- covering a bulk load, moving a partition ----------------------------------

    def ensure_covering(
        self,
        table: str,
        low: Moment | dt.date | int,
        high: Moment | dt.date | int,
        *,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        max_new: int = 100,
        progress: Callable[[EnsureReport], None] | None = None,
    ) -> EnsureReport:
        """Create the partitions that hold every key from LOW to HIGH (both
        included) of the managed RANGE table TABLE, before a bulk load (a
        backfill of last year, data for next quarter), so no row lands in
        the default partition or fails. Existing partitions are kept, the
        policy is not changed.

        Built on ``pgpart.ensure_range`` with ``start => low`` (the first slot
        created; gaps below it are left alone): for time keys with ``now_at
        => high``, so the window runs from LOW's slot to HIGH's slot plus the
        policy's premake; for integer keys, whose "now" is the highest key
        stored, call after call from the end of the partitions reaching LOW
        until one reaches past HIGH. At most ``max_new`` new tables per call
        (and transaction: on an autocommit connection each call commits);
        ``progress(report)`` after each call that created something. The
        extension decides every bound and name. Returns every step done, in
        order. An unmanaged table is InvalidArgumentError (22023: manage it
        first, e.g. ``ensure(table, interval=...)``)."""
        policy = self.policy(table)
        if policy is None or policy.get("strategy") != "range":
            raise InvalidArgumentError(
                f"table {table} is not a RANGE table managed by pgpart",
                hint="Manage it first: Client.ensure(table, interval=...) (or a Django Partitioning declaration).",
            )
        epoch = policy.get("epoch_unit") is not None
        integer = str(policy.get("key_type")) in ("smallint", "integer", "bigint") and not epoch
        if epoch or str(policy.get("key_type")) == "uuid":
            # UUIDv7 and epoch keys: the times their values stand for (the server's conversion)
            low, high = self._key_times(table, low, high)
        if integer and (not isinstance(low, int) or not isinstance(high, int)):
            raise InvalidArgumentError(
                f"the key of {table} is an integer: low and high must be integers, got {low!r} and {high!r}",
                hint="Pass the lowest and the highest key value of the rows to load.",
            )
        if isinstance(low, int) and isinstance(high, int) and low > high:
            raise InvalidArgumentError(f"low {low!r} is above high {high!r}", hint="Pass low <= high.")
        base: dict[str, Any] = {"lock_timeout": lock_timeout, "lock_retries": lock_retries, "max_new": max_new}
        steps: list[Step] = []

        def one_call(start: object, now_at: Moment | None) -> int:
            report = self.ensure(table, start=_key_text(start), now_at=now_at, **base)
            steps.extend(report.steps)
            if report.created and progress is not None:
                progress(report)
            return len(report.created)

        if not integer:
            # "now" for the window: HIGH; a date or a naive datetime is read
            # in the policy's zone (as start is), never in the session's
            high_at: Moment = high if isinstance(high, str) else str(high)
            if isinstance(high, dt.datetime) and high.utcoffset() is not None:
                high_at = high
            elif isinstance(high, dt.date):
                moment = high if isinstance(high, dt.datetime) else dt.datetime.combine(high, dt.time())
                high_at = f"{moment.isoformat(sep=' ')} {policy.get('time_zone') or 'UTC'}"
            # each call creates at most max_new of the missing slots: go on until none is missing
            while one_call(low, high_at):
                pass
            return EnsureReport(table, False, tuple(steps))
        cursor, last = int(str(low)), int(str(high))  # integers, checked above
        while cursor <= last:
            created = one_call(cursor, None)
            reach = _integer_reach(self.info(table), cursor)
            if reach <= cursor and not created:  # an off-grid partition in the way
                raise PgpartError(
                    f"pgpart cannot create a partition of {table} holding key {cursor}",
                    hint="See pgpart.check() for partitions off the grid; create that range by hand.",
                )
            cursor = max(reach, cursor)
        return EnsureReport(table, False, tuple(steps))

    def _key_times(self, table: str, low: object, high: object) -> tuple[dt.datetime, dt.datetime]:
        """LOW and HIGH, keys of TABLE's uuid or epoch key (or already times),
        as the instants they stand for (``pgpart.key_time``)."""
        if isinstance(low, dt.datetime) and isinstance(high, dt.datetime):
            return low, high
        row = self._session.fetch_one(
            "SELECT pgpart.key_time(%s::regclass, %s), pgpart.key_time(%s::regclass, %s)",
            [table, str(low), table, str(high)],
        )
        assert row is not None
        return row[0], row[1]

    def load(
        self,
        table: str,
        source: TextIO,
        *,
        format: _load.Format = "csv",
        header: bool = False,
        columns: Sequence[str] | None = None,
        delimiter: str | None = None,
        batch_rows: int = 100_000,
        skip_rows: int = 0,
        size: int | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        progress: Callable[[LoadReport], None] | None = None,
    ) -> LoadReport:
        """Load SOURCE (a text file opened with ``newline=""``, in COPY's
        ``csv`` or ``text`` format) into the managed RANGE table TABLE with
        COPY, in batches of BATCH_ROWS records, each batch first made
        covered by :meth:`ensure_covering` (the server reads the batch's
        lowest and highest key), so no row lands in the default partition
        or fails for want of a partition.

        COLUMNS names the fields in order (default: the header line with
        HEADER, else the table's columns). On an autocommit connection each
        batch is its own transaction: a failing batch raises the server's
        error with the records it covers and how many rows are already
        loaded (resume with ``skip_rows``); otherwise everything runs in the
        caller's transaction. ``progress(report so far)`` after each batch;
        SIZE (characters, e.g. the file's size) lets a progress line say how
        far it is. Needs a psycopg 3 connection (COPY)."""
        if batch_rows < 1 or skip_rows < 0:
            raise InvalidArgumentError(
                f"batch_rows must be at least 1 and skip_rows at least 0, got {batch_rows} and {skip_rows}",
                hint="Pass e.g. batch_rows=100000.",
            )
        policy = self.policy(table)
        if policy is None or policy.get("strategy") != "range":
            raise InvalidArgumentError(
                f"table {table} is not a RANGE table managed by pgpart",
                hint="Manage it first (Client.ensure(table, interval=...)), or load it with plain COPY.",
            )
        consumed = 0
        if header:
            line = source.readline()
            consumed = len(line)
            if columns is None:
                columns = _load.header_fields(line, format, delimiter)
        target, names, key_type = self._load_target(table, columns, str(policy["key_column"]))
        key_index = names.index(str(policy["key_column"]))
        options = [sql.SQL("FORMAT {}").format(sql.SQL(format))]
        if delimiter is not None:
            options.append(sql.SQL("DELIMITER {}").format(sql.Literal(delimiter)))
        copy = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
            target, sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(options)
        )
        # the keys as one text, split by the server: 2x faster than a text[]
        # parameter (psycopg quotes each element); a key with a line break
        # (no valid key has one) goes as an array, to fail its cast there
        # ORDER BY ... LIMIT 1, not min(): uuid has no min() before PostgreSQL 18
        lowest_highest = (
            "WITH k AS (SELECT v::{t} AS v FROM {source} AS v)"
            " SELECT (SELECT v FROM k ORDER BY v LIMIT 1), (SELECT v FROM k ORDER BY v DESC LIMIT 1)"
        )
        bounds = sql.SQL(lowest_highest).format(t=key_type, source=sql.SQL("pg_catalog.string_to_table(%s, E'\\n')"))
        bounds_array = sql.SQL(lowest_highest).format(t=key_type, source=sql.SQL("pg_catalog.unnest(%s::text[])"))
        report = LoadReport(table, 0, 0, (), consumed, size)
        covered: list[tuple[Any, Any]] = []
        for batch in _load.batches(
            source, fmt=format, key_index=key_index, batch_rows=batch_rows, delimiter=delimiter,
            skip_records=skip_rows,
        ):  # fmt: skip
            steps: list[Step] = []
            try:
                keys = [k for k in batch.keys if k is not None]
                joined = "\n".join(keys)
                if keys and joined.count("\n") == len(keys) - 1:
                    low, high = self._session.fetch(bounds, [joined])[0]
                else:
                    low, high = self._session.fetch(bounds_array, [keys])[0]
                if low is not None and not any(a <= low and high <= b for a, b in covered):
                    steps = list(self.ensure_covering(table, low, high, lock_timeout=lock_timeout,
                                                      lock_retries=lock_retries).steps)  # fmt: skip
                    covered.append((low, high))
                with self._session.atomic():
                    rows = self._session.copy_in(copy, batch.text)
            except PgpartError as error:
                raise _load.in_batch(error, batch, len(batch.keys), report.rows, skip_rows) from error
            report = LoadReport(
                table, report.rows + rows, report.batches + 1, report.steps + tuple(steps),
                consumed + batch.chars_read, size,
            )  # fmt: skip
            if progress is not None:
                progress(report)
        return report

    def _load_target(
        self, table: str, columns: Sequence[str] | None, key_column: str
    ) -> tuple[sql.Composable, list[str], sql.Composable]:
        """For :meth:`load`: TABLE's name as the server quotes it, the columns
        COPY fills (COLUMNS, else the table's own, generated ones left out)
        and the key column's type, or InvalidArgumentError naming what is
        wrong."""
        rows = self._session.fetch(
            "SELECT c.oid::regclass::text, a.attname::text, a.attgenerated <> '', tn.nspname::text, t.typname::text"
            " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid"
            " JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid"
            " JOIN pg_catalog.pg_namespace AS tn ON tn.oid = t.typnamespace"
            " WHERE c.oid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [table],
        )
        own = [str(r[1]) for r in rows if not r[2]]
        names = list(columns) if columns is not None else own
        unknown = [n for n in names if n not in own]
        if unknown or key_column not in names or len(set(names)) != len(names):
            raise InvalidArgumentError(
                f"cannot load table {table} with columns {', '.join(names)}: "
                + (f"no such column {', '.join(unknown)}" if unknown else f"the key column {key_column} is missing"
                   if key_column not in names else "a column is named twice"),
                hint=f"Name the file's fields in order among: {', '.join(own)} (including {key_column}).",
            )  # fmt: skip
        [key] = [r for r in rows if r[1] == key_column]
        return sql.SQL(str(rows[0][0])), names, sql.Identifier(str(key[3]), str(key[4]))

    def set_tablespace(
        self,
        partition: str,
        tablespace: str,
        *,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        dry_run: bool = False,
    ) -> list[Step]:
        """Move PARTITION and its indexes to TABLESPACE
        (``pgpart.set_tablespace``): a blocking rewrite of that partition,
        its lock taken under the lock timeout. ``dry_run`` returns the plan."""
        args: list[Arg] = [
            ("partition", "regclass", partition),
            ("tablespace", "name", tablespace),
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
            ("dry_run", "boolean", dry_run),
        ]
        return [Step.from_row(r) for r in self._session.fetch(*call("set_tablespace", args, STEP_COLUMNS))]

    # -- global unique constraints (docs/global-unique.md) --------------------------

    def add_global_unique(
        self,
        table: str,
        columns: Sequence[str],
        *,
        name: str | None = None,
        nulls_not_distinct: bool = False,
        build: bool = True,
        prune: bool = False,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
    ) -> GlobalUnique:
        """Make COLUMNS unique across every partition of TABLE, now and future
        (``pgpart.add_global_unique``): a side table with a real unique index,
        kept by triggers. ``name`` defaults to ``<table>_<columns>_gkey``.
        ``build=False`` installs the triggers only (state 'building'): finish
        with :meth:`build_global_unique`. Called again with the same name and
        columns it repairs what is missing (``prune``: also releases values no
        row holds). Duplicates: PgpartError with sqlstate 23505 (DETAIL: the
        first five values)."""
        if isinstance(columns, str):
            raise InvalidArgumentError(
                f"columns of the global unique constraint on {table} must be a sequence of names, not one string",
                hint=f"Pass a list such as [{columns!r}].",
            )
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("columns", "name[]", _text_array(columns)),
            ("constraint_name", "name", name),
            ("nulls_not_distinct", "boolean", nulls_not_distinct or None),
            ("build", "boolean", None if build else False),
            ("prune", "boolean", prune or None),
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
        ]
        row = self._session.fetch_one(
            *call("add_global_unique", args, "unique_constraint::text, side_table::text, state, partitions")
        )
        if row is None:  # the function returns one row; guard the typed result
            raise PgpartError(f"pgpart.add_global_unique returned no row for {table}")
        return GlobalUnique.from_row(row)

    def build_global_unique(self, table: str, name: str, *, batch_pages: int | None = None) -> None:
        """The online build of a constraint added with ``build=False``
        (``CALL pgpart.build_global_unique``): copies the existing values in
        batches, each its own transaction, resumable after a kill. Needs a
        connection outside a transaction block (TransactionStateError)."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("constraint_name", "name", name),
            ("batch_pages", "integer", batch_pages),
        ]
        with self._session.top_level("build_global_unique"):
            self._session.execute(*call("build_global_unique", args, procedure=True))

    def drop_global_unique(
        self,
        table: str,
        name: str,
        *,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
    ) -> None:
        """Drop TABLE's global unique constraint NAME
        (``pgpart.drop_global_unique``): its triggers, registration and side
        table. UndefinedObjectError (42704) when there is none; 2BP01 while a
        foreign key references the side table."""
        args: list[Arg] = [
            ("parent", "regclass", table),
            ("constraint_name", "name", name),
            ("lock_timeout", "interval", None if lock_timeout is None else _interval(lock_timeout)),
            ("lock_retries", "integer", lock_retries),
        ]
        self._session.execute(*call("drop_global_unique", args, "1"))

    def global_unique_info(self, table: str | None = None) -> list[GlobalUniqueInfo]:
        """The global unique constraints of TABLE (or of every table)
        (``pgpart.global_unique_info``), from the catalog only."""
        args: list[Arg] = [("parent", "regclass", table)]
        columns = (
            "parent_table::text, unique_constraint::text, pg_catalog.to_jsonb(columns)::text, nulls_not_distinct,"
            " side_table::text, state, partitions, unrecorded_partitions, detached_recorded, stale_since::text"
        )
        query, params = call("global_unique_info", args, columns)
        return [GlobalUniqueInfo.from_row(r) for r in self._session.fetch(query + sql.SQL(" ORDER BY 1, 2"), params)]

    # -- the cold tier: Parquet files (docs/cold-tier.md) ---------------------------

    def export_partition(
        self,
        table: str,
        partition: str,
        *,
        to: str,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        batch_rows: int = 50_000,
        progress: Callable[[str, int], None] | None = None,
        filesystem: Any = None,
    ) -> dict[str, Any]:
        """Writes PARTITION of TABLE (attached, or detached and awaiting
        export) to ``TO/<schema.name>.parquet`` (zstd, one row group per
        BATCH_ROWS rows, memory flat) with ``<schema.name>.manifest.json``
        beside it, reads the file back and verifies its rows against the
        table (row count and checksum); only then detaches the partition
        (journaled for export), checks it once more under a SHARE lock and
        drops it, logging the manifest (``pgpart.record_export``). Any failure
        before that leaves the partition attached (or, when it was already
        detached, awaiting export) and raises, saying why. TO is a directory,
        or a URL pyarrow (or fsspec) can write. ``progress(stage, rows)`` with
        stages written, read back, verified, detached, dropped. Needs the
        ``parquet`` extra and a psycopg 3 connection outside a transaction.
        Returns the manifest."""
        from . import __version__, _parquet

        conn = self._psycopg_connection("export_partition")
        timeout = "200ms" if lock_timeout is None else _interval(lock_timeout)
        retries = 10 if lock_retries is None else lock_retries
        with self._session.top_level("export_partition"), self._session.driver_errors(), _tuple_rows(conn):
            attached = _attached(conn, table, partition)
            if not attached and not any(a["partition"] == _regclass_text(conn, partition)
                                        for a in self.awaiting_export(table)):  # fmt: skip
                raise InvalidArgumentError(
                    f"table {partition} is neither a partition of {table} nor detached for export from it",
                    hint="Pass a partition listed by pgpart.partition_info or pgpart.awaiting_export.",
                )
            for _attempt in range(2):
                try:
                    manifest = _parquet.export_table(
                        conn, parent=table, table=partition, destination=to, attached=attached,
                        pgpart_version=__version__, batch_rows=batch_rows, filesystem=filesystem,
                        progress=progress,
                    )  # fmt: skip
                except OSError as exc:
                    raise ExportError(
                        f"could not write the Parquet file of {partition} to {to}: {exc}",
                        detail="Nothing was detached or dropped; the partial file was removed.",
                        hint="Free space or fix the destination, then export again.",
                    ) from exc
                if attached:
                    conn.execute(
                        "SELECT pgpart._detach_for_export(%s::regclass, %s::regclass, %s::interval, %s::integer)",
                        [table, partition, timeout, retries],
                    )
                    attached = False
                    if progress is not None:
                        progress("detached", int(manifest.rows))
                with conn.transaction():
                    _parquet.lock_table(conn, partition, "SHARE", timeout, retries)
                    key = _parquet.table_columns(conn, table)[1]
                    same = _parquet.table_checksum(conn, partition, manifest.columns, key, batch_rows)
                    if same == (manifest.rows, manifest.checksum):
                        conn.execute(
                            "SELECT pgpart.record_export(%s::regclass, %s::regclass, %s::jsonb, %s::interval,"
                            " %s::integer)",
                            [table, partition, json.dumps(manifest.data), timeout, retries],
                        )
                        if progress is not None:
                            progress("dropped", manifest.rows)
                        return dict(manifest.data)
                # rows changed between the export's snapshot and the detach:
                # export the detached (now stable) table again
        raise ExportError(
            f"the rows of {partition} kept changing during its export",
            detail="It is detached and awaiting export; nothing was dropped.",
            hint="Stop the writes to it, then export it again.",
        )

    def export_awaiting(
        self,
        table: str | None = None,
        *,
        to: str,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        batch_rows: int = 50_000,
        progress: Callable[[str, int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Exports every table retention detached for export (policy
        ``retention_action => 'export'``; ``pgpart.awaiting_export``) of TABLE,
        or of every managed table, as :meth:`export_partition` does; the
        manifests."""
        self._psycopg_connection("export_awaiting")
        manifests = []
        for a in self.awaiting_export(table):
            manifests.append(self.export_partition(
                a["parent"], a["partition"], to=to, lock_timeout=lock_timeout, lock_retries=lock_retries,
                batch_rows=batch_rows, progress=progress,
            ))  # fmt: skip
        return manifests

    def restore_partition(
        self,
        table: str,
        manifest: str,
        *,
        name: str | None = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        batch_rows: int = 50_000,
        progress: Callable[[str, int], None] | None = None,
        filesystem: Any = None,
    ) -> str:
        """Brings an exported partition back: the file of MANIFEST (its
        ``.manifest.json``, or the ``.parquet`` beside it) loaded into a new
        table built like a partition of TABLE (named as the exported one, or
        NAME), verified row for row against the manifest's count and
        checksum, and attached at its old bound (a CHECK constraint first, so
        ATTACH does not scan; the parent's SHARE UPDATE EXCLUSIVE lock under
        the lock timeout): all in one transaction, so a failure leaves
        nothing. Returns the new partition's name."""
        from . import _parquet

        conn = self._psycopg_connection("restore_partition")
        timeout = "200ms" if lock_timeout is None else _interval(lock_timeout)
        with self._session.top_level("restore_partition"), self._session.driver_errors(), _tuple_rows(conn):
            try:
                loaded, fs, data_path = _parquet.read_manifest(manifest, filesystem)
            except (OSError, ValueError) as exc:
                raise InvalidArgumentError(
                    f"cannot read the manifest {manifest}: {exc}",
                    hint="Pass the .manifest.json (or the .parquet beside it) that pgpart export wrote.",
                ) from exc
            return _parquet.restore_file(
                conn, parent=table, manifest=loaded, fs=fs, data_path=data_path, name=name, lock_timeout=timeout,
                lock_retries=10 if lock_retries is None else lock_retries, batch_rows=batch_rows, progress=progress,
            )  # fmt: skip

    def restore_range(
        self,
        table: str,
        directory: str,
        *,
        start: object = None,
        end: object = None,
        lock_timeout: Interval | None = None,
        lock_retries: int | None = None,
        batch_rows: int = 50_000,
        progress: Callable[[str, int], None] | None = None,
        filesystem: Any = None,
    ) -> list[str]:
        """Restores, as :meth:`restore_partition` does, every file of TABLE in
        DIRECTORY whose bound overlaps [START, END) (key values, e.g. times;
        None: unbounded on that side), oldest first, each in a transaction
        of its own; a file whose table exists already (restored earlier) is
        left out. Returns the restored partitions' names."""
        from . import _parquet

        conn = self._psycopg_connection("restore_range")
        with self._session.top_level("restore_range"), self._session.driver_errors(), _tuple_rows(conn):
            try:
                found = _parquet.manifests_in(conn, table, directory, start, end, filesystem)
            except OSError as exc:
                raise InvalidArgumentError(
                    f"cannot list the directory {directory}: {exc}",
                    hint="Pass the directory pgpart export wrote to.",
                ) from exc
        restored = []
        for path in found:
            restored.append(self.restore_partition(
                table, path, lock_timeout=lock_timeout, lock_retries=lock_retries, batch_rows=batch_rows,
                progress=progress, filesystem=filesystem,
            ))  # fmt: skip
        return restored

    def awaiting_export(self, table: str | None = None) -> list[dict[str, Any]]:
        """The tables retention detached for export and not exported yet
        (``pgpart.awaiting_export``): parent, partition, when detached, bound."""
        columns = "parent_table::text, partition::text, detached_at, bound"
        rows = self._session.fetch(*call("awaiting_export", [("parent", "regclass", table)], columns))
        return [dict(zip(("parent", "partition", "detached_at", "bound"), r, strict=True)) for r in rows]

    def cold_partitions(self, table: str | None = None) -> list[dict[str, Any]]:
        """What lives in the cold tier (``pgpart.cold_partitions``): each
        exported partition's parent, name, bound, rows, checksum, file
        location, when it was exported and last restored, and its manifest."""
        columns = (
            "parent_name, partition_name, bound, row_count, checksum, location, exported_at, restored_at,"
            " manifest::text"
        )
        keys = ("parent", "partition", "bound", "rows", "checksum", "location", "exported_at", "restored_at")
        rows = self._session.fetch(*call("cold_partitions", [("parent", "regclass", table)], columns))
        return [{**dict(zip(keys, r[:8], strict=True)), "manifest": _json_object(r[8])} for r in rows]

    def _psycopg_connection(self, what: str) -> Any:
        """The caller's psycopg 3 connection (the cold tier streams with
        server-side cursors and COPY), or InvalidArgumentError."""
        import psycopg

        if not isinstance(self.connection, psycopg.Connection):
            raise InvalidArgumentError(
                f"{what} needs a psycopg 3 connection; this one is {self._session.driver}'s",
                hint="Pass a psycopg 3 connection to pgpart.Client (or use the pgpart command).",
            )
        return self.connection


@contextlib.contextmanager
def _tuple_rows(conn: Any) -> Iterator[None]:
    """Tuple rows for the block, whatever row factory the caller's connection has."""
    from psycopg.rows import tuple_row

    previous = conn.row_factory
    conn.row_factory = tuple_row
    try:
        yield
    finally:
        conn.row_factory = previous


def _regclass_text(conn: Any, table: str) -> str:
    row = conn.execute("SELECT %s::regclass::text", [table]).fetchone()
    return str(row[0])


def _attached(conn: Any, table: str, partition: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i WHERE i.inhrelid = %s::regclass"
        " AND i.inhparent = %s::regclass AND NOT i.inhdetachpending)",
        [partition, table],
    ).fetchone()
    return bool(row[0])


def _key_text(value: object) -> str:
    """A key value as ``start`` text: dates and datetimes in ISO form (a
    naive one is read in the policy's zone by the extension)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _integer_reach(rows: Sequence[PartitionInfo], start: int) -> int:
    """How far the attached first-level partitions of an integer-keyed table
    (partition_info rows) reach from START without a gap (START itself when
    none holds it). Reads the bounds the extension reported; computes none."""
    ranges = sorted(
        (int(r.lower_bound), int(r.upper_bound))
        for r in rows
        if r.level == 1 and not r.is_default and not r.detach_pending
        and r.lower_bound is not None and r.upper_bound is not None
        and _is_int(r.lower_bound) and _is_int(r.upper_bound)
    )  # fmt: skip
    reach = start
    for lower, upper in ranges:
        if lower <= reach < upper:
            reach = upper
    return reach


def _is_int(text: str | None) -> bool:
    return text is not None and text.lstrip("-").isdigit()


def _text_array(values: Sequence[str]) -> str:
    """VALUES as the input text of a PostgreSQL text[] (every element quoted)."""
    if isinstance(values, str):
        raise InvalidArgumentError(
            "reloptions must be a sequence of strings, not one string",
            hint="Pass a list such as ['fillfactor=90'].",
        )
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def _plan_step(item: Mapping[str, Any]) -> Step:
    """One step of a saved plan's JSON as a Step."""
    return Step.from_row([item.get(k) for k in STEP_COLUMNS.split(", ")])


def _error(text: str | None) -> PgpartError | None:
    """The typed error of a maintenance row's ERROR object (pgpart._error_report)."""
    if text is None:
        return None
    fields = _json_object(text)
    return from_diagnostics(
        fields.get("sqlstate"),
        str(fields.get("message", "")),
        detail=fields.get("detail"),
        hint=fields.get("hint"),
        schema_name=fields.get("schema"),
        table_name=fields.get("table"),
    )


def _interval(value: Interval) -> str:
    if isinstance(value, dt.timedelta):
        from ._calls import interval_text

        return interval_text(value)
    return str(value)
