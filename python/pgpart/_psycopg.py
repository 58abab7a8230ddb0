"""The Session for a psycopg 3 connection (the native one)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq, sql
from psycopg.rows import tuple_row

from ._session import Params, Row, Session, TransactionStatus
from .errors import PgpartError, from_diagnostics

_STATUS: dict[pq.TransactionStatus, TransactionStatus] = {
    pq.TransactionStatus.IDLE: "idle",
    pq.TransactionStatus.ACTIVE: "active",
    pq.TransactionStatus.INTRANS: "intrans",
    pq.TransactionStatus.INERROR: "inerror",
    pq.TransactionStatus.UNKNOWN: "unknown",
}


def translate(exc: BaseException) -> PgpartError | None:
    """The pgpart error for a psycopg exception carrying a SQLSTATE, else None."""
    if not isinstance(exc, psycopg.Error) or not exc.sqlstate:
        return None
    diag = exc.diag
    return from_diagnostics(
        exc.sqlstate,
        diag.message_primary or str(exc),
        detail=diag.message_detail,
        hint=diag.message_hint,
        schema_name=diag.schema_name,
        table_name=diag.table_name,
        driver_error=exc,
    )


class PsycopgSession(Session):
    driver = "psycopg"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _run(self, query: str, params: Params | None) -> list[Row] | None:
        # A cursor of our own with tuple rows: the caller's connection may
        # have another row factory.
        with self.conn.cursor(row_factory=tuple_row) as cur:
            # params None: the text is sent as it is, no placeholders parsed.
            cur.execute(query, params)
            if cur.description is None:
                return None
            return cur.fetchall()

    def _translate(self, exc: BaseException) -> PgpartError | None:
        return translate(exc)

    @property
    def autocommit(self) -> bool:
        return self.conn.autocommit

    def set_autocommit(self, value: bool) -> None:
        self.conn.autocommit = value

    def transaction_status(self) -> TransactionStatus:
        return _STATUS.get(self.conn.info.transaction_status, "unknown")

    def render(self, query: sql.Composable) -> str:
        return query.as_string(self.conn)

    def copy_in(self, statement: sql.Composed, text: str) -> int:
        with self.driver_errors(), self.conn.cursor() as cur:
            with cur.copy(statement) as copy:
                copy.write(text)
            return cur.rowcount
