"""The model's own API: ``Event.partitioning``.

Every model with a ``Partitioning`` declaration gets a ``partitioning``
attribute when the app is ready (unless the model defines that name
itself; declare ``partitioning = PartitioningDescriptor()`` on the model
to have it typed for mypy)::

    Event.partitioning.partitions()          # typed rows: bounds, rows, size, tablespace, runway
    Event.partitioning.ensure()              # apply the declaration: policy and missing partitions
    Event.partitioning.maintain(dry_run=True)
    Event.partitioning.check()               # pgpart.check() findings of the table
    Event.partitioning.detach()              # retention now (detach, archive or drop what expired)
    Event.partitioning.set_tablespace("app_event_p20240101", "cold")
    Event.partitioning.bulk_create(rows, update_conflicts=True, ...)   # covering partitions first
    Event.partitioning.using("replica").partitions()

Each call is one call of the public :class:`pgpart.Client` on the model's
database: the alias given to ``using()``, else what the database routers
answer (``db_for_write`` for what changes something, ``db_for_read`` for
``partitions()`` and ``check()``). Nothing is cached: every call reads the
catalog. The extension decides every bound, name and plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Generic, TypeVar, overload

from django.db import models, router, transaction

from .. import Client
from ..errors import InvalidArgumentError
from ..types import EnsureReport, Finding, MaintenanceReport, PartitionInfo, RetentionReport, Step
from . import conf, db
from .declaration import Spec, key_field, spec_of

__all__ = ["PartitioningAPI", "PartitioningDescriptor", "attach_descriptors"]

M = TypeVar("M", bound=models.Model)


class PartitioningAPI(Generic[M]):
    """pgpart's verbs for one partitioned model (see the module's doc)."""

    def __init__(self, model: type[M], alias: str | None = None) -> None:
        self.model = model
        self.alias = alias

    def __repr__(self) -> str:
        return f"<PartitioningAPI {self.model._meta.label} using={self.alias!r}>"

    # -- plumbing -----------------------------------------------------------------

    def using(self, alias: str) -> PartitioningAPI[M]:
        """The same API on database ALIAS (routers are not asked)."""
        return PartitioningAPI(self.model, alias)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def spec(self) -> Spec:
        """The model's declaration (DeclarationError when it is invalid)."""
        spec = spec_of(self.model)
        if spec is None:
            raise InvalidArgumentError(
                f"{self.model._meta.label} declares no Partitioning",
                hint="Give the model an inner `class Partitioning:` (see pgpart.django.declaration).",
            )
        return spec

    def db_for_write(self) -> str:
        return self.alias or router.db_for_write(self.model)

    def db_for_read(self) -> str:
        return self.alias or router.db_for_read(self.model)

    def client(self, *, write: bool = True) -> Client:
        """A :class:`pgpart.Client` on the model's database."""
        return db.client_for(self.db_for_write() if write else self.db_for_read())

    @staticmethod
    def _locking(lock_timeout: str | None, lock_retries: int | None) -> dict[str, Any]:
        # As every pgpart call of the app: the settings unless given.
        return {
            "lock_timeout": conf.lock_timeout() if lock_timeout is None else lock_timeout,
            "lock_retries": conf.lock_retries() if lock_retries is None else lock_retries,
        }

    # -- reading ------------------------------------------------------------------

    def partitions(self, *, now_at: dt.datetime | str | None = None) -> list[PartitionInfo]:
        """The table's partitions in bound order (``pgpart.partition_info``):
        bounds, estimated rows, size, tablespace, runway; catalog only, never
        waits for a lock."""
        return self.client(write=False).info(self.table, now_at=now_at)

    def check(self, *, now_at: dt.datetime | str | None = None) -> list[Finding]:
        """``pgpart.check()`` findings of the table, each with its fix."""
        return self.client(write=False).check(self.table, now_at=now_at)

    # -- changing -----------------------------------------------------------------

    def ensure(
        self,
        *,
        now_at: dt.datetime | str | None = None,
        dry_run: bool = False,
        lock_timeout: str | None = None,
        lock_retries: int | None = None,
    ) -> EnsureReport:
        """Apply the declaration (what ``manage.py pgpart ensure`` does for
        this model): the policy and the missing partitions, all or nothing."""
        alias = self.db_for_write()
        client = db.client_for(alias)
        with transaction.atomic(using=alias):
            moment = now_at.isoformat() if isinstance(now_at, dt.datetime) else now_at
            declared = db.declaration(
                self.spec, now_at=moment, dry_run=dry_run, lock_timeout=lock_timeout, lock_retries=lock_retries
            )
            return client.declare(self.table, **declared)

    def maintain(
        self,
        *,
        dry_run: bool = False,
        online: bool = True,
        apply_retention: bool = True,
        now_at: dt.datetime | str | None = None,
        lock_timeout: str | None = None,
        lock_retries: int | None = None,
    ) -> MaintenanceReport:
        """Maintain the table (:meth:`pgpart.Client.maintain`): finish pending
        detaches, create ahead, apply retention; ``dry_run`` returns the
        plan. Retention commits per step: call it outside ``atomic()``."""
        return self.client().maintain(
            self.table, dry_run=dry_run, online=online, apply_retention=apply_retention, now_at=now_at,
            **self._locking(lock_timeout, lock_retries),
        )  # fmt: skip

    def detach(
        self,
        *,
        dry_run: bool = False,
        online: bool = True,
        now_at: dt.datetime | str | None = None,
        lock_timeout: str | None = None,
        lock_retries: int | None = None,
    ) -> RetentionReport:
        """Retention now (:meth:`pgpart.Client.detach_and_archive`): detach the
        expired partitions and archive or drop them as the policy says,
        one step per transaction (outside ``atomic()``)."""
        return self.client().detach_and_archive(
            self.table, dry_run=dry_run, online=online, now_at=now_at, **self._locking(lock_timeout, lock_retries)
        )

    def set_tablespace(
        self,
        partition: str,
        tablespace: str,
        *,
        dry_run: bool = False,
        lock_timeout: str | None = None,
        lock_retries: int | None = None,
    ) -> list[Step]:
        """Move one partition (and its indexes) to TABLESPACE: a blocking
        rewrite of that partition (``pgpart.set_tablespace``). A partition
        of another table is refused (InvalidArgumentError)."""
        client = self.client()
        names = {p.partition for p in client.info(self.table)}
        if partition not in names:
            raise InvalidArgumentError(
                f"{partition} is not a partition of {self.table}",
                hint="Pass a name from Model.partitioning.partitions().",
            )
        return client.set_tablespace(
            partition, tablespace, dry_run=dry_run, **self._locking(lock_timeout, lock_retries)
        )

    def ensure_covering(
        self,
        low: dt.datetime | dt.date | int | str,
        high: dt.datetime | dt.date | int | str,
        *,
        lock_timeout: str | None = None,
        lock_retries: int | None = None,
    ) -> EnsureReport:
        """The partitions that hold every key from LOW to HIGH
        (:meth:`pgpart.Client.ensure_covering`; RANGE tables)."""
        return self.client().ensure_covering(self.table, low, high, **self._locking(lock_timeout, lock_retries))

    def bulk_create(self, objs: Iterable[M], **kwargs: Any) -> list[M]:
        """``Model.objects.bulk_create(objs, **kwargs)`` on the model's
        database, after making sure (RANGE tables) that partitions hold every
        key of OBJS, so no row lands in the default partition or fails for
        want of one. ``kwargs`` are Django's (``batch_size``,
        ``ignore_conflicts``, ``update_conflicts``, ``unique_fields``,
        ``update_fields``): ``unique_fields`` must name a unique constraint,
        which on a partitioned table always contains the key."""
        rows = list(objs)
        spec = self.spec
        alias = self.db_for_write()
        if rows and spec.method == "range":
            attname = key_field(self.model, spec).attname
            keys = [getattr(obj, attname) for obj in rows]
            known = [k for k in keys if k is not None]
            if known:
                db.client_for(alias).ensure_covering(self.table, min(known), max(known), **self._locking(None, None))
        created: list[M] = self.model._default_manager.using(alias).bulk_create(rows, **kwargs)
        return created


class PartitioningDescriptor:
    """``Model.partitioning``: a :class:`PartitioningAPI` for the model class
    (on an instance too: the API of its class)."""

    @overload
    def __get__(self, instance: None, owner: type[M]) -> PartitioningAPI[M]: ...
    @overload
    def __get__(self, instance: M, owner: type[M]) -> PartitioningAPI[M]: ...
    def __get__(self, instance: M | None, owner: type[M]) -> PartitioningAPI[M]:
        return PartitioningAPI(owner)


def attach_descriptors(candidates: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    """Give each partitioned model of CANDIDATES a ``partitioning`` attribute
    unless it has one (a field or an attribute of its own keeps its name).
    Returns the models given one. No query."""
    done = []
    for model in candidates:
        if hasattr(model, "partitioning"):
            continue
        try:
            if spec_of(model) is None:
                continue
        except Exception:  # an invalid declaration: the system checks report it
            continue
        model.partitioning = PartitioningDescriptor()  # type: ignore[attr-defined]
        done.append(model)
    return done
