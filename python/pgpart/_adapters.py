"""The Session for a connection: psycopg 3 natively, anything else as PEP 249.

Apart from :mod:`pgpart._session` so that the base class imports no adapter
(each adapter imports the base: no cycle).
"""

from __future__ import annotations

from ._dbapi import dbapi_session
from ._psycopg import PsycopgSession
from ._session import Session

__all__ = ["session_for"]


def session_for(conn: object, *, paramstyle: str | None = None) -> Session:
    """The Session for CONN: CONN itself when it is one, psycopg 3 natively,
    anything else as PEP 249."""
    if isinstance(conn, Session):
        return conn
    import psycopg

    if isinstance(conn, psycopg.Connection):
        return PsycopgSession(conn)
    return dbapi_session(conn, paramstyle=paramstyle)
