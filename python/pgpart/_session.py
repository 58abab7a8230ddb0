"""The one interface the client talks to a borrowed connection through.

A Session wraps a connection the caller owns: psycopg 3 natively
(:mod:`pgpart._psycopg`) or any PEP 249 connection (:mod:`pgpart._dbapi`);
:func:`pgpart._adapters.session_for` picks the one for a connection. This
module imports no adapter, so the adapters import it without a cycle; its
public face is :mod:`pgpart.session`.
Queries are written once, with ``%s`` placeholders (``%%`` for a literal
``%``) and explicit casts; each session converts them to its driver's
paramstyle and translates its driver's errors into :mod:`pgpart.errors`
(every one of them: :meth:`Session.driver_errors`), and text with a NUL
character is refused before it is sent.

The session never opens, commits on behalf of, or closes the caller's
connection: :meth:`Session.atomic` uses a savepoint inside the caller's
transaction, :meth:`Session.top_level` refuses a connection inside an open
transaction, and every setting changed is restored.
"""

from __future__ import annotations

import contextlib
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from psycopg import sql

from .errors import InvalidArgumentError, PgpartError, TransactionStateError, from_driver_error

Row = tuple[Any, ...]
Params = Sequence[object]
TransactionStatus = Literal["idle", "active", "intrans", "inerror", "unknown"]


class Session(ABC):
    """A borrowed connection, seen through one driver-independent interface."""

    #: the driver's name, for messages: "psycopg", "psycopg2", "pg8000", ...
    driver: str = ""

    # -- what each driver provides -------------------------------------------------

    @abstractmethod
    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        """Run one statement; rows as tuples, or None when it returns none.
        ``params`` None means: send QUERY as it is (no placeholders)."""

    @abstractmethod
    def _translate(self, exc: BaseException) -> PgpartError | None:
        """The pgpart error for a driver exception carrying a SQLSTATE, else None
        (:meth:`driver_errors` then classifies it by its kind)."""

    @property
    @abstractmethod
    def autocommit(self) -> bool:
        """Whether the connection is in autocommit mode."""

    @abstractmethod
    def set_autocommit(self, value: bool) -> None:
        """Switch autocommit (only called when no transaction is open)."""

    @abstractmethod
    def transaction_status(self) -> TransactionStatus:
        """libpq's view of the connection: idle, intrans, inerror, ...; unknown
        when the driver does not tell."""

    def render(self, query: sql.Composable) -> str:
        """QUERY as text (identifiers and literals quoted by psycopg)."""
        return query.as_string(None)

    # -- built on top -------------------------------------------------------------

    def fetch(self, query: str | sql.Composable, params: Params = ()) -> list[Row]:
        """Run a query with ``%s`` parameters and return its rows."""
        rows = self._call(query, params)
        return rows or []

    def fetch_one(self, query: str | sql.Composable, params: Params = ()) -> Row | None:
        rows = self.fetch(query, params)
        return rows[0] if rows else None

    def execute(self, query: str | sql.Composable, params: Params = ()) -> None:
        """Run a statement with ``%s`` parameters, ignoring any rows."""
        self._call(query, params)

    def copy_in(self, statement: sql.Composed, text: str) -> int:
        """Run ``COPY ... FROM STDIN`` STATEMENT with TEXT as its data; the
        number of rows copied. psycopg 3 only: PEP 249 has no COPY, and each
        driver's own way differs (psycopg2's copy_expert, pg8000's stream)."""
        raise InvalidArgumentError(
            f"loading with COPY needs a psycopg 3 connection; this one is {self.driver}'s",
            hint="Pass a psycopg 3 connection to pgpart.Client for Client.load (or use the pgpart command).",
        )

    def execute_verbatim(self, statement: str) -> None:
        """Run STATEMENT exactly as given (no placeholder processing): plan
        steps and install-script statements come from the server or the
        shipped script and are sent unchanged."""
        self._call(statement, None)

    def _call(self, query: str | sql.Composable, params: Params | None) -> list[Row] | None:
        if params:
            _refuse_nul(params)
        with self.driver_errors():
            text = query if isinstance(query, str) else self.render(query)
            if params is not None and not params:
                # No parameters: drivers disagree on whether "%%" is then still an
                # escape (pg8000 sends the text as it is), so unescape it here.
                text, params = text.replace("%%", "%"), None
            return self._run(text, params)

    @contextlib.contextmanager
    def driver_errors(self) -> Iterator[None]:
        """Re-raise every exception of the driver as a :mod:`pgpart.errors`
        class, chained: the one place no driver exception gets past. Errors
        with a SQLSTATE by it (:meth:`_translate`), the others by their kind
        (:func:`pgpart.errors.from_driver_error`)."""
        try:
            yield
        except PgpartError:
            raise
        except Exception as exc:
            error = self._translate(exc) or from_driver_error(exc, self.driver)
            raise error from exc

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """All or nothing, without ever committing the caller's work: its own
        transaction on an idle autocommit connection, else a savepoint inside
        the caller's transaction (which the caller then commits or not)."""
        with self.driver_errors():
            status = self.transaction_status()
            autocommit = self.autocommit
        if status == "inerror":
            raise TransactionStateError(
                "the connection's transaction has failed",
                hint="Roll it back first.",
            )
        if autocommit and status == "idle":
            self.execute_verbatim("BEGIN")
            try:
                yield
            except BaseException:
                self._quietly("ROLLBACK")
                raise
            self.execute_verbatim("COMMIT")
        else:
            self.execute_verbatim("SAVEPOINT pgpart_atomic")
            try:
                yield
            except BaseException:
                self._quietly("ROLLBACK TO SAVEPOINT pgpart_atomic")
                self._quietly("RELEASE SAVEPOINT pgpart_atomic")
                raise
            self.execute_verbatim("RELEASE SAVEPOINT pgpart_atomic")

    @contextlib.contextmanager
    def top_level(self, what: str) -> Iterator[None]:
        """Run the block outside any transaction block, one transaction per
        statement: refuse (TransactionStateError) a connection inside an open
        transaction, switch autocommit on for the block if it was off, and
        switch it back afterwards."""
        with self.driver_errors():
            status = self.transaction_status()
            previous = self.autocommit
        if status in ("intrans", "inerror", "active"):
            raise TransactionStateError(
                f"{what} needs a connection outside a transaction block",
                detail=f"The {self.driver} connection is inside an open transaction ({status}).",
                hint="Commit or roll back first, or pass a connection in autocommit mode; "
                "pgpart never commits the caller's work.",
            )
        if status == "unknown" and not previous:
            raise TransactionStateError(
                f"{what} needs a connection in autocommit mode",
                detail=f"The {self.driver} driver does not tell whether a transaction is open.",
                hint="Switch the connection to autocommit mode first.",
            )
        if not previous:
            with self.driver_errors():
                self.set_autocommit(True)
        try:
            yield
        finally:
            if not previous:
                self._restore_autocommit()

    @contextlib.contextmanager
    def lock_timeout(self, timeout: str) -> Iterator[None]:
        """Set lock_timeout (an interval, e.g. '200ms') for the block as a
        statement of its own, and restore the connection's setting afterwards:
        the value the caller SET, or RESET when it came from elsewhere
        (server, database, role or connection options)."""
        row = self.fetch_one("SELECT setting, source FROM pg_catalog.pg_settings WHERE name = 'lock_timeout'")
        assert row is not None
        previous, source = row
        self.set_lock_timeout(timeout)
        try:
            yield
        finally:
            failing = sys.exc_info()[0] is not None
            if source == "session":
                restore = "SELECT pg_catalog.set_config('lock_timeout', %s, false)"
                self._cleanup(restore, [f"{previous}ms"], quiet=failing)
            else:
                self._cleanup("RESET lock_timeout", None, quiet=failing)

    def set_lock_timeout(self, timeout: str) -> None:
        """``SET lock_timeout`` to TIMEOUT (interval text), in milliseconds."""
        self.execute(
            "SELECT pg_catalog.set_config('lock_timeout',"
            " (extract(epoch FROM %s::interval) * 1000)::bigint::text || 'ms', false)",
            [timeout],
        )

    def _restore_autocommit(self) -> None:
        # After the block: quietly if it failed (its error matters more), and
        # never on a connection that is now inside a transaction.
        failing = sys.exc_info()[0] is not None
        try:
            with self.driver_errors():
                if self.transaction_status() in ("idle", "unknown"):
                    self.set_autocommit(False)
        except PgpartError:
            if not failing:
                raise

    def _quietly(self, statement: str, params: Params | None = None) -> None:
        # Clean-up while another exception propagates: that one matters more.
        with contextlib.suppress(Exception):
            self._run(statement, params)

    def _cleanup(self, statement: str, params: Params | None, *, quiet: bool) -> None:
        if quiet:
            self._quietly(statement, params)
        else:
            self._call(statement, params)


def _refuse_nul(params: Params) -> None:
    """PostgreSQL text cannot hold a NUL character, and drivers refuse it each
    in its own way (psycopg's DataError, psycopg2's ValueError, pg8000's
    server error): refuse it here, before anything is sent."""
    for value in params:
        if isinstance(value, str) and "\x00" in value:
            raise InvalidArgumentError(
                "argument contains a NUL character",
                detail=f"PostgreSQL text cannot contain NUL (0x00); the value is {value!r}.",
                hint="Remove the NUL character.",
            )
