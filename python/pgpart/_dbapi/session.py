"""Sessions over DB-API (PEP 249) connections, and pg8000's native API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._session import Params, Row, Session, TransactionStatus
from ..errors import PgpartError
from . import errors, paramstyle, transactions

__all__ = ["DBAPISession", "Pg8000NativeSession"]


def _as_tuple(row: Any) -> Row:
    # Dict-like rows (psycopg2's RealDictCursor) keep the column order.
    return tuple(row.values()) if isinstance(row, Mapping) else tuple(row)


class DBAPISession(Session):
    """A PEP 249 connection: psycopg2, pg8000, or any driver with a usual
    paramstyle and a ``autocommit`` attribute."""

    def __init__(self, conn: Any, *, paramstyle: str | None = None) -> None:
        self.conn = conn
        self.driver = type(conn).__module__.split(".")[0]
        self.paramstyle = paramstyle or _detect_paramstyle(conn)

    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        cur = self.conn.cursor()
        try:
            if params is None:
                cur.execute(query)
            else:
                text, values = paramstyle.convert(query, params, self.paramstyle)
                cur.execute(text, values)
            if cur.description is None:
                return None
            return [_as_tuple(row) for row in cur.fetchall()]
        finally:
            cur.close()

    def _translate(self, exc: BaseException) -> PgpartError | None:
        return errors.translate(exc)

    @property
    def autocommit(self) -> bool:
        return transactions.get_autocommit(self.conn)

    def set_autocommit(self, value: bool) -> None:
        transactions.set_autocommit(self.conn, value)

    def transaction_status(self) -> TransactionStatus:
        return transactions.transaction_status(self.conn)


def _detect_paramstyle(conn: object) -> str:
    return paramstyle.detect(conn)


class Pg8000NativeSession(Session):
    """A ``pg8000.native.Connection``: ``run(sql, **params)`` with ``:name``
    placeholders, and no implicit transactions."""

    driver = "pg8000"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        if params is None:
            rows = self.conn.run(query)
        else:
            text, values = paramstyle.convert(query, params, "named")
            assert isinstance(values, Mapping)
            rows = self.conn.run(text, **values)
        if self.conn.columns is None:
            return None
        return [tuple(row) for row in rows or []]

    def _translate(self, exc: BaseException) -> PgpartError | None:
        return errors.translate(exc)

    @property
    def autocommit(self) -> bool:
        return True

    def set_autocommit(self, value: bool) -> None:
        transactions.set_autocommit(self.conn, value)

    def transaction_status(self) -> TransactionStatus:
        return transactions.transaction_status(self.conn)
