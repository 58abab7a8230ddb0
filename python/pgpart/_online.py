"""Running retention from the client (DESIGN §4).

The extension chooses and runs every retention step: the client only loops
over its one retention runner, ``pgpart._retention_step``, one call per
transaction on an autocommit connection, and runs itself only what a
function cannot: ``DETACH ... CONCURRENTLY`` (returned marked
``top_level``), at top level. Online, while it works the client holds the
session-level advisory lock of the parent (``pgpart.advisory_key``, the key
the runner takes per transaction), so the SQL path and the client exclude
each other. When the lock is not obtained within the lock timeout (with
retries) the run changes nothing and reports one ``skipped`` step, as the
SQL path does.

``DETACH ... CONCURRENTLY`` is not started while a session it would wait
for is predictably long (55P03, nothing changed, checked by the runner
before the journal step and here before each attempt); a lock timeout of
its first transaction is retried up to ``lock_retries`` times with a short,
growing, jittered pause so that queued writers get through; if it gives up
after marking its partition "detach pending" it is finished at once with
FINALIZE, else the error names the partition left pending and what it
waits for (see _detach_concurrently). Any other error ends the run: what
was done is done, and the next run plans from the catalog again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ._calls import STEP_COLUMNS, Arg, call
from ._session import Session
from .errors import LockTimeoutError, PgpartError
from .types import Step

__all__ = ["DEFAULT_LOCK_RETRIES", "DEFAULT_LOCK_TIMEOUT", "Progress", "loop_retention", "run_retention"]

# The SQL functions' own defaults (DESIGN §3: short, with more retries).
DEFAULT_LOCK_TIMEOUT = "200ms"
DEFAULT_LOCK_RETRIES = 10

#: progress(step, number, total): called for each step as the run reaches it (a
#: DETACH CONCURRENTLY before the client runs it, the others once the runner ran them)
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
    as_owner: bool = False,
) -> list[Step]:
    """Detach (CONCURRENTLY where possible) and archive or drop the expired
    partitions of TABLE, one statement per transaction, holding TABLE's
    advisory lock for the session. The session must be at top level
    (Session.top_level). Returns the steps executed."""
    timeout = lock_timeout or DEFAULT_LOCK_TIMEOUT
    retries = DEFAULT_LOCK_RETRIES if lock_retries is None else lock_retries
    with session.lock_timeout(timeout):
        if not _lock_parent(session, table, retries):
            # another run holds the parent for its whole run: it does the work
            skipped = skipped_step(table, timeout, retries + 1)
            _log_skipped(session, table, skipped)
            return [skipped]
        try:
            return loop_retention(
                session, table, online=True, as_owner=as_owner, lock_timeout=timeout, lock_retries=retries,
                now_at=now_at, progress=progress,
            )  # fmt: skip
        finally:
            session._cleanup(
                "SELECT pg_catalog.pg_advisory_unlock(pgpart.advisory_key(%s::regclass))",
                [table],
                quiet=_failing(),
            )


def loop_retention(
    session: Session,
    table: str,
    *,
    online: bool,
    as_owner: bool,
    lock_timeout: str | None,
    lock_retries: int | None,
    now_at: object,
    progress: Progress | None = None,
) -> list[Step]:
    """Call the extension's one retention runner (``pgpart._retention_step``)
    once per transaction until it returns nothing: it chooses and runs each
    step under TABLE's advisory lock; the client only runs what it returns
    marked ``top_level`` (``DETACH ... CONCURRENTLY``, online). Stops at a
    ``skipped`` step (another run holds the parent) and after the policy's
    ``analyze``. The session must be at top level. Returns the steps done."""
    timeout = lock_timeout or DEFAULT_LOCK_TIMEOUT
    retries = DEFAULT_LOCK_RETRIES if lock_retries is None else lock_retries
    # the plan's length, for progress(step, number, total) only
    total = len(retention_plan(
        session, table, online=online, lock_timeout=timeout, lock_retries=retries, now_at=now_at,
    )) if progress is not None else 0  # fmt: skip
    done: list[Step] = []
    while True:
        args: list[Arg] = [
            ("p_parent", "regclass", table),
            ("p_now_at", "timestamptz", "now" if now_at is None else now_at),
            ("p_timeout", "interval", timeout),
            ("p_retries", "integer", retries),
            ("p_online", "boolean", online),
            ("p_as_owner", "boolean", as_owner),
            ("p_done", "integer", len(done)),
        ]
        rows = session.fetch(*call("_retention_step", args, STEP_COLUMNS))
        if not rows:
            return done
        for step in (Step.from_row(r) for r in rows):
            if step.action == "skipped":
                # another pgpart run holds the parent's advisory lock: that
                # run does the work (logged by the server, not an error)
                return [*done, step]
            if done and (step.action, step.partition, step.statement) == (
                done[-1].action,
                done[-1].partition,
                done[-1].statement,
            ):
                raise PgpartError(
                    f"retention of {table} makes no progress: step {step.action} {step.partition} came back",
                    hint="Report this as a pgpart bug, with the output of pgpart.check().",
                )
            if progress is not None:
                progress(step, len(done) + 1, max(total, len(done) + 1))
            if step.top_level:
                _detach_concurrently(session, table, step, timeout, retries)
            done.append(step)
            if step.action == "analyze":
                return done


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


def _refuse_if_blocked(session: Session, table: str, step: Step, timeout: str) -> None:
    # 55P03 naming the sessions (the check the runner makes before journaling)
    session.execute(
        "SELECT pgpart._refuse_if_detach_blocked(%s::regclass, %s::regclass, %s::interval)",
        [table, step.partition or table, timeout],
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
