"""The DB-API adapter: pgpart's client over any PEP 249 connection.

One module per concern: :mod:`.paramstyle` (placeholders),
:mod:`.transactions` (autocommit and transaction status), :mod:`.errors`
(SQLSTATE and diagnostics), :mod:`.session` (the Session built on them).
"""

from __future__ import annotations

from .session import DBAPISession, Pg8000NativeSession

__all__ = ["DBAPISession", "Pg8000NativeSession", "dbapi_session"]


def dbapi_session(conn: object, *, paramstyle: str | None = None) -> DBAPISession | Pg8000NativeSession:
    """The session for a non-psycopg-3 connection."""
    if type(conn).__module__ == "pg8000.native":
        return Pg8000NativeSession(conn)
    if not callable(getattr(conn, "cursor", None)):
        raise TypeError(
            f"{type(conn).__module__}.{type(conn).__qualname__} is neither a psycopg 3 "
            "nor a PEP 249 connection (it has no cursor())"
        )
    return DBAPISession(conn, paramstyle=paramstyle)
