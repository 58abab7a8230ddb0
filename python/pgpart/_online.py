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
writers get through. ``DETACH ... CONCURRENTLY`` is not started while a
session it would wait for is predictably long (55P03, nothing changed); if
it gives up after marking its partition "detach pending" it is finished at
once with FINALIZE, else the error names the partition left pending and what
it waits for (see _detach_concurrently). Any other error ends the run: what
was done is done, and the next run plans from the catalog again.
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
            for number, step in enumerate(plan, start=1):
                if progress is not None:
                    progress(step, number, len(plan))
                if step.top_level:
                    _detach_concurrently(session, table, step, timeout, retries)
                elif step.action == "journal":
                    # checked before the journal entry of the detach is written
                    _refuse_if_blocked(session, table, step, timeout)
                    _run_step(session, step, retries)
                else:
                    _run_step(session, step, retries)
                executed.append(step)
        finally:
            session._cleanup(
                "SELECT pg_catalog.pg_advisory_unlock(pgpart.advisory_key(%s::regclass))",
                [table],
                quiet=_failing(),
            )
    return executed


def _run_step(session: Session, step: Step, retries: int) -> None:
    """Run STEP (one statement in its own transaction), retrying it on a
    lock timeout."""
    for attempt in range(retries + 1):
        try:
            session.execute_verbatim(step.statement)
            return
        except LockTimeoutError:
            if attempt == retries:
                raise
            _pause(attempt)


# Sessions whose transaction holds a lock on the parent or on the partition
# (DETACH ... CONCURRENTLY waits for both in its second transaction) that are
# predictably long: idle in a transaction, or in one older than the lock
# timeout. Sessions of other roles whose state is hidden (without
# pg_read_all_stats) are not counted: the risk is reduced, not removed.
_BLOCKERS = """
SELECT pg_catalog.format('pid %%s (%%s, %%s, transaction open for %%s)', a.pid, a.usename, a.state,
                         pg_catalog.date_trunc('second', pg_catalog.now() - a.xact_start))
FROM pg_catalog.pg_stat_activity AS a
WHERE a.pid <> pg_catalog.pg_backend_pid()
  AND a.pid IN (SELECT l.pid FROM pg_catalog.pg_locks AS l
                WHERE l.locktype = 'relation' AND l.granted AND l.relation IN (%s::regclass, %s::regclass)
                  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                                    WHERE d.datname = pg_catalog.current_database()))
  AND (a.state LIKE 'idle in transaction%%' OR pg_catalog.now() - a.xact_start > %s::interval)
ORDER BY a.pid
"""


# Every other session holding a lock on the parent or partition now (what a pending
# detach waits for), with what pg_stat_activity shows of it to this role.
_LOCKERS = """
SELECT pg_catalog.format('pid %%s (%%s)', l.pid,
                         CASE WHEN a.xact_start IS NULL THEN 'another role''s session'
                              ELSE pg_catalog.format('%%s, %%s, transaction open for %%s', a.usename, a.state,
                                                     pg_catalog.date_trunc('second', pg_catalog.now() - a.xact_start))
                         END)
FROM (SELECT DISTINCT l.pid FROM pg_catalog.pg_locks AS l
      WHERE l.locktype = 'relation' AND l.granted AND l.relation IN (%s::regclass, %s::regclass)
        AND l.pid <> pg_catalog.pg_backend_pid()) AS l
LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
ORDER BY l.pid
"""


def _blockers(session: Session, table: str, partition: str | None, timeout: str) -> list[str]:
    return [str(r[0]) for r in session.fetch(_BLOCKERS, [table, partition or table, timeout])]


def _refuse_if_blocked(session: Session, table: str, step: Step, timeout: str) -> None:
    blockers = _blockers(session, table, step.partition, timeout)
    if blockers:
        raise LockTimeoutError(
            f"not detaching {step.partition}: DETACH CONCURRENTLY would wait for sessions using {table}",
            detail=f"Waiting for: {'; '.join(blockers)}. Nothing was changed.",
            hint="Retry when those transactions have ended (or end them), or run retention on the SQL path.",
        )


def _pending(session: Session, table: str, partition: str | None) -> bool:
    row = session.fetch_one(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i WHERE i.inhparent = %s::regclass"
        " AND i.inhdetachpending AND i.inhrelid = %s::regclass)",
        [table, partition],
    )
    return bool(row and row[0])


def _detach_concurrently(session: Session, table: str, step: Step, timeout: str, retries: int) -> None:
    """Run the top-level ``DETACH ... CONCURRENTLY`` STEP so that its
    partition is left "detach pending" as rarely and as briefly as possible.

    Before it starts: when sessions that it would wait for (transactions
    holding a lock on the parent) are predictably long, it is not started
    (55P03, nothing changed). When its first transaction fails on a lock
    timeout nothing changed either: it is retried like any step. When it
    gives up after marking the partition pending (its wait for the parent's
    users timed out), it is finished at once with FINALIZE (one bounded
    attempt with the usual retries); if that fails too, the partition is
    left pending and the error says so, naming what it waits for. Never
    more than about the SQL path's ~3 s of retries by default."""
    for attempt in range(retries + 1):
        _refuse_if_blocked(session, table, step, timeout)
        try:
            session.execute_verbatim(step.statement)
            return
        except LockTimeoutError as exc:
            if _pending(session, table, step.partition):
                _finalize_or_report(session, table, step, timeout, retries, exc)
                return
            if attempt == retries:
                raise
            _pause(attempt)


def _finalize_or_report(
    session: Session, table: str, step: Step, timeout: str, retries: int, cause: LockTimeoutError
) -> None:
    finalize = "SELECT pgpart._finalize_detach(%s::regclass, %s::regclass, %s::interval, %s::integer)"
    try:
        session.execute(finalize, [table, step.partition, timeout, retries])
        return
    except LockTimeoutError as exc:
        waiting = [str(r[0]) for r in session.fetch(_LOCKERS, [table, step.partition])] or [
            "transactions using the parent that have ended since"
        ]
        raise LockTimeoutError(
            f"partition {step.partition} of {table} is left DETACH PENDING: its DETACH CONCURRENTLY"
            f" and the FINALIZE after it did not get their locks within {timeout}",
            sqlstate=exc.sqlstate,
            detail=(
                f"Waiting for: {'; '.join(waiting)}. While pending, queries on {table} no longer see its rows"
                f" and inserts into its range fail (23514); the partition itself stays readable."
            ),
            hint=(
                f"The next maintenance run finishes it (FINALIZE), or run: ALTER TABLE {table} DETACH PARTITION"
                f" {step.partition} FINALIZE; once those transactions have ended. PostgreSQL cannot undo it."
            ),
            driver_error=exc.driver_error,
        ) from cause


def _failing() -> bool:
    import sys

    return sys.exc_info()[0] is not None
