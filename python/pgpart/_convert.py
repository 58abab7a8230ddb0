"""Converting a plain table to a partitioned one online (issue 18).

The extension plans (``pgpart.convert_to_partitioned(..., dry_run => true)``,
re-planned from the catalog, so a step whose effect is present is left
out); the client only runs the steps in order, each ``own`` step in a short
transaction of its own, ``autocommit`` steps (``CREATE INDEX CONCURRENTLY``,
``CALL pgpart.build_global_unique``) at top level and the ``swap`` steps
together in one transaction, re-planning after each,
every transaction under the lock timeout and retried after a lock timeout
with a short, growing pause (writers queued behind it get through). A run
that was killed is resumed by running it again: the new plan starts where
the catalog says the last one stopped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._calls import Arg, call
from ._session import Session
from .errors import LockTimeoutError, PgpartError

__all__ = ["ConvertProgress", "ConvertStep", "in_transaction", "plan", "run"]

COLUMNS = "step, action, statement, locks, transaction, rows_estimate"


@dataclass(frozen=True)
class ConvertStep:
    """One step of a conversion plan: its statement, the locks it takes,
    how it runs (``own``: its own transaction; ``autocommit``: at top level;
    ``swap``: with the other swap steps in one transaction) and the rows it reads (an estimate, or None)."""

    step: int
    action: str
    statement: str
    locks: str
    transaction: str
    rows_estimate: int | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ConvertStep:
        est = row[5]
        return cls(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
                   None if est is None else int(est))  # fmt: skip


#: progress(step, number, total): called before each step runs
ConvertProgress = Callable[[ConvertStep, int, int], None]


def plan(session: Session, args: Sequence[Arg], function: str = "convert_to_partitioned") -> list[ConvertStep]:
    """The steps still to run (the server's dry run of FUNCTION:
    ``convert_to_partitioned`` or ``split_legacy``, whose plans have the
    same columns)."""
    rows = session.fetch(*call(function, [*args, ("dry_run", "boolean", True)], COLUMNS))
    return [ConvertStep.from_row(r) for r in rows]


def in_transaction(
    session: Session, args: Sequence[Arg], function: str = "convert_to_partitioned"
) -> list[ConvertStep]:
    """The whole conversion in one call, in the session's transaction
    (the table locked until it ends). A session that only collects SQL
    (sqlmigrate) returns no steps."""
    rows = session.fetch(*call(function, args, COLUMNS))
    return [ConvertStep.from_row(r) for r in rows or ()]


def _pause(attempt: int) -> None:
    # 50 ms, 100 ms, 200 ms ... at most 2 s, jittered: let queued writers through.
    time.sleep(min(0.05 * 2**attempt, 2.0) * random.uniform(0.5, 1.0))


def _transaction(session: Session, statements: Sequence[str], timeout: str, retries: int) -> None:
    """STATEMENTS in one transaction under the lock timeout, retried after
    a lock timeout (each attempt rolled back whole)."""
    for attempt in range(retries + 1):
        try:
            session.execute_verbatim("BEGIN")
            try:
                session.execute(
                    "SELECT pg_catalog.set_config('lock_timeout',"
                    " (extract(epoch FROM %s::interval) * 1000)::bigint::text || 'ms', true)",
                    [timeout],
                )
                for statement in statements:
                    session.execute_verbatim(statement)
            except BaseException:
                session._quietly("ROLLBACK")
                raise
            session.execute_verbatim("COMMIT")
            return
        except LockTimeoutError:
            if attempt == retries:
                raise
            _pause(attempt)


def _autocommit(session: Session, statement: str, timeout: str, retries: int) -> None:
    """STATEMENT at top level (CREATE INDEX CONCURRENTLY, a procedure that
    commits) under the lock timeout, retried after a lock timeout. A killed
    or timed-out index build leaves an invalid index: the next plan drops it
    first, so the caller re-plans rather than retrying such a step here."""
    with session.lock_timeout(timeout):
        for attempt in range(retries + 1):
            try:
                session.execute_verbatim(statement)
                return
            except LockTimeoutError:
                if attempt == retries or "CONCURRENTLY" in statement:
                    raise
                _pause(attempt)


def run(
    session: Session,
    table: str,
    args: Sequence[Arg],
    *,
    lock_timeout: str,
    lock_retries: int,
    progress: ConvertProgress | None = None,
    function: str = "convert_to_partitioned",
) -> list[ConvertStep]:
    """Run the conversion plan of TABLE: the first step (or the swap steps,
    together) of a fresh plan each time, until the plan is empty; so what
    one step changes (the swap renames the table) is planned from the
    catalog. The session must be at top level (Session.top_level). Returns
    the steps run."""
    done: list[ConvertStep] = []
    while True:
        steps = plan(session, args, function)
        if not steps:
            return done
        group = [steps[0]]
        if steps[0].transaction == "swap":
            group = [s for s in steps if s.transaction == "swap"]
        if done and (group[0].action, group[0].statement) == (done[-1].action, done[-1].statement):
            raise PgpartError(
                f"{function} of {table} makes no progress: step {group[0].action!r} came back",
                hint="Report this as a pgpart bug, with the output of the dry run.",
            )
        for n, step in enumerate(group):
            if progress is not None:
                progress(step, len(done) + n + 1, len(done) + len(steps))
        if group[0].transaction == "autocommit":
            _autocommit(session, group[0].statement, lock_timeout, lock_retries)
        else:
            _transaction(session, [s.statement for s in group], lock_timeout, lock_retries)
        done.extend(group)
