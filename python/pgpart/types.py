"""Typed results of the client: plain frozen dataclasses built from the rows
the extension returns (the column names are the SQL functions' own)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import PgpartError

__all__ = [
    "EnsureReport",
    "Finding",
    "GlobalUnique",
    "GlobalUniqueInfo",
    "InstallReport",
    "MaintenanceAction",
    "MaintenanceReport",
    "MovedRange",
    "PartitionInfo",
    "PolicyChange",
    "RetentionReport",
    "Severity",
    "Step",
    "Unmanaged",
]

Severity = Literal["urgent", "warning", "info"]


@dataclass(frozen=True)
class Step:
    """One step of a pgpart plan (SQL type ``pgpart.step``): exactly one SQL
    statement, the partition it concerns, the locks it takes, and whether it
    must run at top level (outside any transaction block). ``reason``: why
    the step is planned, where the plan says (a maintenance dry run's
    retention steps: the rule that expires the partition, or its grace
    period over)."""

    step: int
    partition: str | None
    lower_bound: str | None
    upper_bound: str | None
    action: str
    statement: str
    locks: str | None
    top_level: bool
    reason: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Step:
        step, partition, lower, upper, action, statement, locks, top_level = row
        # a 'skipped' step (another run holds the parent) has no statement
        return cls(int(step), partition, lower, upper, action, statement or "", locks, bool(top_level))


@dataclass(frozen=True)
class PartitionInfo:
    """One row of ``pgpart.partition_info()``: a partition (sub-partitions at
    level 2 and below), its bounds in the configured time zone, where it lives
    and how big it is, from the catalog only."""

    parent_table: str
    partition: str
    level: int
    parent_partition: str | None
    lower_bound: str | None
    upper_bound: str | None
    bound: str | None
    is_default: bool
    tablespace: str | None
    estimated_rows: int | None
    size_bytes: int | None
    detach_pending: bool
    runway: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> PartitionInfo:
        (parent_table, partition, level, parent_partition, lower, upper, bound,
         is_default, tablespace, rows, size, pending, runway) = row  # fmt: skip
        return cls(
            parent_table, partition, int(level), parent_partition, lower, upper, bound, bool(is_default),
            tablespace, None if rows is None else int(rows), None if size is None else int(size),
            bool(pending), runway,
        )  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One finding of ``pgpart.check()``: what is wrong and a ready fix.

    ``code`` names the kind of finding (``'runway_short'``, ``'gap'``,
    ``'default_rows'``...; the list is in docs/check-codes.md): it is stable,
    so programs branch on it, never on the English ``problem`` text.
    """

    severity: str
    code: str
    parent_table: str | None
    partition: str | None
    problem: str
    fix: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Finding:
        severity, code, parent_table, partition, problem, fix = row
        return cls(severity, code, parent_table, partition, problem, fix)


@dataclass(frozen=True)
class PolicyChange:
    """One field of a policy that a call changed: its value before and after
    (None: not set, or the table was not managed before)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EnsureReport:
    """What :meth:`pgpart.Client.ensure` did (or, with ``dry_run``, would do).

    ``steps`` are the rows the server returned: the plan on a dry run, else
    one row per partition created. ``created`` names the partitions created
    (empty on a dry run); ``planned`` the partitions a dry run would attach.
    ``policy_changes``: each policy field the call changed, old → new (a
    real run only; a dry run's plan shows the policy step instead);
    ``registered``: the table was not managed before this call (every field
    is then a change from None).
    """

    table: str
    dry_run: bool
    steps: tuple[Step, ...]
    policy_changes: tuple[PolicyChange, ...] = ()
    registered: bool = False

    @property
    def created(self) -> list[str]:
        if self.dry_run:
            return []
        return [s.partition for s in self.steps if s.action == "created" and s.partition]

    @property
    def planned(self) -> list[str]:
        if not self.dry_run:
            return []
        return [s.partition for s in self.steps if s.action == "attach" and s.partition]

    @property
    def changed(self) -> bool:
        """Whether anything changed: a partition created or a policy field
        (False for a no-op or a dry run)."""
        return bool(self.created or self.policy_changes)


@dataclass(frozen=True)
class InstallReport:
    """Which way :meth:`pgpart.Client.install` went.

    method: ``"extension"`` (CREATE/ALTER EXTENSION from the server's files)
        or ``"script"`` (the script shipped in this package, run in schema
        pgpart, its version recorded in the comment of schema pgpart).
    action: ``"installed"``, ``"upgraded"`` or ``"unchanged"``.
    version: the version now installed; previous_version: before, if any.
    skipped: statements left out (``pg_extension_config_dump`` calls, which
        are only valid inside CREATE EXTENSION, ...), as (reason, statement).
    skipped_event_triggers: event triggers not created because the role may
        not create them (a warning was issued).
    """

    method: Literal["extension", "script"]
    action: Literal["installed", "upgraded", "unchanged"]
    version: str
    previous_version: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    skipped_event_triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class MovedRange:
    """One range moved out of the default partition into a new partition
    (a row of ``pgpart.move_default_range``), or, in a dry run, one range
    that would move (a row of ``pgpart.move_default_plan``: ``rows_moved``
    is the exact number of rows it holds now, ``problem`` what would stop
    the move there).

    ``number`` is the range's place in the run (1, 2, ...) and ``total`` the
    number of ranges planned when the run started (rows written to the
    default meanwhile may make ``number`` exceed it); 0 when unknown."""

    partition: str
    lower_bound: str | None
    upper_bound: str | None
    rows_moved: int
    number: int = 0
    total: int = 0
    dry_run: bool = False
    problem: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any], number: int = 0, total: int = 0) -> MovedRange:
        partition, lower, upper, rows = row
        return cls(partition, lower, upper, int(rows), number, total)

    @classmethod
    def planned(cls, row: Sequence[Any], total: int) -> MovedRange:
        """A row of ``pgpart.move_default_plan`` (step, partition, lower_bound,
        upper_bound, rows_to_move, problem) as a range a dry run would move."""
        step, partition, lower, upper, rows, problem = row
        return cls(partition, lower, upper, int(rows), int(step), total, True, problem)


@dataclass(frozen=True)
class MaintenanceAction:
    """One row of maintenance: what happened to a parent (``pgpart.run_maintenance``
    rows, plus the steps the client executed online)."""

    parent_table: str | None
    action: str
    partition: str | None = None
    detail: str | None = None
    error: PgpartError | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RetentionReport:
    """What :meth:`pgpart.Client.detach_and_archive` did: the steps executed
    in order (the plan, on a dry run)."""

    table: str
    online: bool
    dry_run: bool
    steps: tuple[Step, ...]

    @property
    def detached(self) -> list[str]:
        return [s.partition for s in self.steps if s.action in ("detach", "finalize") and s.partition]


@dataclass(frozen=True)
class MaintenanceReport:
    """What :meth:`pgpart.Client.maintain` did, per parent.

    ``actions`` holds the server's report of the lock-light part (created,
    finalized, retention due, error, skipped) and one row per retention step
    the client executed, each from the rows the verbs returned for this
    call; ``plans`` maps each parent to its plan on a dry run (whose
    ``actions`` hold only the failures and skips the run would meet);
    ``errors`` lists the parents that failed (processing went on with the
    others), each with its typed ``error``.
    """

    online: bool
    dry_run: bool
    actions: tuple[MaintenanceAction, ...] = ()
    plans: tuple[tuple[str, tuple[Step, ...]], ...] = ()

    @property
    def errors(self) -> list[MaintenanceAction]:
        return [a for a in self.actions if a.action == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class LoadReport:
    """What :meth:`pgpart.Client.load` did: ``rows`` loaded (committed, on an
    autocommit connection) in ``batches`` COPY statements, and the
    partitions created first so that every row had its partition
    (``steps``, as :meth:`pgpart.Client.ensure_covering` returns them).
    Passed to the ``progress`` callback after each batch, so far."""

    table: str
    rows: int
    batches: int
    steps: tuple[Step, ...]
    chars_read: int = 0
    chars_total: int | None = None

    @property
    def created(self) -> list[str]:
        return [s.partition for s in self.steps if s.action == "created" and s.partition]


@dataclass(frozen=True)
class Unmanaged:
    """What :meth:`pgpart.Client.unmanage` did (SQL ``pgpart.unmanage``):
    the policy removed (or, on a dry run, that would be), as a dict of
    pgpart.config's columns, and how many partitions were left in place."""

    parent_table: str
    applied: bool
    partitions: int
    policy: dict[str, Any]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Unmanaged:
        parent, applied, partitions, policy = row
        return cls(str(parent), bool(applied), int(partitions), _json_object(policy))


def _json_object(value: object) -> dict[str, Any]:
    """A jsonb object as a dict, whether the driver decoded it or sent text."""
    import json

    decoded = json.loads(value) if isinstance(value, str | bytes) else value
    if not isinstance(decoded, dict):
        raise PgpartError(f"expected a JSON object, got {type(decoded).__name__}")
    return decoded


@dataclass(frozen=True)
class GlobalUnique:
    """What :meth:`pgpart.Client.add_global_unique` made or repaired (SQL
    ``pgpart.add_global_unique``): the constraint's name (also its unique
    index's, which a 23505 names), its side table, its state ('valid', or
    'building' until the online build finishes) and the leaf partitions
    recorded."""

    unique_constraint: str
    side_table: str
    state: str
    partitions: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> GlobalUnique:
        name, side_table, state, partitions = row
        return cls(str(name), str(side_table), str(state), int(partitions))


@dataclass(frozen=True)
class GlobalUniqueInfo:
    """One row of ``pgpart.global_unique_info()``: a global unique constraint,
    from the catalog only. ``unrecorded_partitions`` (leaf partitions whose
    values are not recorded) and ``detached_recorded`` (tables recorded that
    are no longer partitions) are 0 when all is in step; ``stale_since`` (as
    text) is set after a partition was dropped while attached."""

    parent_table: str
    unique_constraint: str
    columns: tuple[str, ...]
    nulls_not_distinct: bool
    side_table: str
    state: str
    partitions: int
    unrecorded_partitions: int
    detached_recorded: int
    stale_since: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> GlobalUniqueInfo:
        import json

        (parent, name, columns, nnd, side_table, state, partitions, unrecorded, detached, stale) = row
        decoded = json.loads(columns) if isinstance(columns, str | bytes) else columns
        return cls(
            str(parent), str(name), tuple(str(c) for c in decoded or ()), bool(nnd), str(side_table), str(state),
            int(partitions), int(unrecorded), int(detached), None if stale is None else str(stale),
        )  # fmt: skip
