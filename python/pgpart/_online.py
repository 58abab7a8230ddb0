"""Executing the extension's plans step by step (DESIGN §4).

The extension plans; the client only runs what PostgreSQL refuses to run
inside a function: each step is one statement in its own transaction on an
autocommit connection, ``DETACH ... CONCURRENTLY`` (``top_level``) at top
level. While it works the client holds the session-level advisory lock of
the parent (``pgpart.advisory_key``, the key the SQL verbs take per
transaction), so the SQL path and the client exclude each other; it plans
only once it holds that lock. When the lock is not obtained within the lock
timeout (with retries) the run changes nothing and reports one ``skipped``
step, as the SQL path does.

A step whose lock is not obtained within the lock timeout is retried, up to
``lock_retries`` times with a short, growing, jittered pause so that queued
writers get through. A top-level detach that timed out may have left its
partition "detach pending", so the plan is asked for again (the server then
puts the FINALIZE first). Any other error ends the run: what was done is
done, and the next run plans from the catalog again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ._calls import STEP_COLUMNS, Arg, call
from ._session import Session
from .errors import LockTimeoutError
from .types import Step

__all__ = ["DEFAULT_LOCK_RETRIES", "DEFAULT_LOCK_TIMEOUT", "Progress", "run_retention"]

# The SQL functions' own defaults (DESIGN §3: short, with more retries).
DEFAULT_LOCK_TIMEOUT = "200ms"
DEFAULT_LOCK_RETRIES = 10

#: progress(step, number, total): called before each step is executed
Progress = Callable[[Step, int, int], None]


def _pause(attempt: int) -> None:
    # 50 ms, 100 ms, 200 ms ... at most 2 s, jittered: let queued writers through.
    time.sleep(min(0.05 * 2**attempt, 2.0) * random.uniform(0.5, 1.0))


def retention_plan(
    session: Session, table: str, *, online: bool, lock_timeout: str | None,
    lock_retries: int | None, now_at: object,
) -> list[Step]:  # fmt: skip
    args: list[Arg] = [
        ("parent", "regclass", table),
        ("lock_timeout", "interval", lock_timeout),
        ("lock_retries", "integer", lock_retries),
        ("now_at", "timestamptz", now_at),
        ("dry_run", "boolean", True),
        ("online", "boolean", online),
    ]
    return [Step.from_row(r) for r in session.fetch(*call("detach_and_archive", args, STEP_COLUMNS))]


def _lock_parent(session: Session, table: str, retries: int) -> bool:
    """Take TABLE's advisory lock for the session, under the lock timeout
    already set (at most that long per attempt, with RETRIES retries).
    False when another pgpart run keeps it: that run does the work."""
    for attempt in range(retries + 1):
        try:
            session.execute("SELECT pg_catalog.pg_advisory_lock(pgpart.advisory_key(%s::regclass))", [table])
            return True
        except LockTimeoutError:
            if attempt == retries:
                return False
            _pause(attempt)
    return False


def skipped_step(table: str, timeout: str, attempts: int) -> Step:
    """The one step a retention run reports when another pgpart run holds
    TABLE's advisory lock (as ``pgpart.detach_and_archive`` returns it)."""
    return Step(
        0, None, None, None, "skipped", "",
        f"advisory lock of {table} (pgpart.advisory_key): held by another pgpart run"
        f" (not obtained within {timeout} after {attempts} attempts)",
        False,
    )  # fmt: skip


def _log_skipped(session: Session, table: str, step: Step) -> None:
    # As the SQL path logs it: 'skipped', not an error (never last_error).
    session._quietly(
        "SELECT pgpart._log(%s::regclass, 'retention', 'skipped',"
        " pg_catalog.jsonb_build_object('sqlstate', '55P03', 'message', %s::text,"
        " 'reason', 'another pgpart run holds the advisory lock of the parent'))",
        [table, step.locks],
    )


def run_retention(
    session: Session,
    table: str,
    *,
    lock_timeout: str | None,
    lock_retries: int | None,
    now_at: object,
    progress: Progress | None = None,
) -> list[Step]:
    """Detach (CONCURRENTLY where possible) and archive or drop the expired
    partitions of TABLE, one statement per transaction. The session must be
    at top level (Session.top_level). Returns the steps executed."""
    timeout = lock_timeout or DEFAULT_LOCK_TIMEOUT
    retries = DEFAULT_LOCK_RETRIES if lock_retries is None else lock_retries
    executed: list[Step] = []
    with session.lock_timeout(timeout):
        if not _lock_parent(session, table, retries):
            # another run holds the parent for its whole run: it does the work
            skipped = skipped_step(table, timeout, retries + 1)
            _log_skipped(session, table, skipped)
            return [skipped]
        try:
            plan = retention_plan(
                session, table, online=True, lock_timeout=lock_timeout, lock_retries=lock_retries, now_at=now_at
            )
            replans = 0
            i = 0
            while i < len(plan):
                step = plan[i]
                if progress is not None:
                    progress(step, i + 1, len(plan))
                try:
                    _run_step(session, step, retries)
                except LockTimeoutError:
                    # A top-level detach that timed out may have left its
                    # partition detach pending: plan again from the catalog.
                    replans += 1
                    if not step.top_level or replans > retries:
                        raise
                    _pause(replans)
                    plan = retention_plan(
                        session, table, online=True, lock_timeout=lock_timeout, lock_retries=lock_retries,
                        now_at=now_at,
                    )  # fmt: skip
                    i = 0
                    continue
                executed.append(step)
                i += 1
        finally:
            session._cleanup(
                "SELECT pg_catalog.pg_advisory_unlock(pgpart.advisory_key(%s::regclass))",
                [table],
                quiet=_failing(),
            )
    return executed


def _run_step(session: Session, step: Step, retries: int) -> None:
    """Run STEP, retrying it on a lock timeout unless it is a top-level step
    (whose failure may have changed the catalog: the caller plans again)."""
    for attempt in range(retries + 1):
        try:
            session.execute_verbatim(step.statement)
            return
        except LockTimeoutError:
            if step.top_level or attempt == retries:
                raise
            _pause(attempt)


def _failing() -> bool:
    import sys

    return sys.exc_info()[0] is not None
