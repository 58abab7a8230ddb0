"""Autocommit and transaction status of DB-API connections.

PEP 249 standardises neither, so each driver is asked in its own way:

- psycopg2: ``conn.autocommit``; ``conn.info.transaction_status`` (libpq's
  PQtransactionStatus: 0 idle, 1 active, 2 in transaction, 3 in error);
- pg8000 (``pg8000.dbapi`` and the legacy ``pg8000.connect``): ``conn.autocommit``;
  ``conn._transaction_status``, the last ReadyForQuery status
  (b"I" idle, b"T" in transaction, b"E" failed);
- pg8000.native: no implicit transactions at all (autocommit always);
- others: ``conn.autocommit`` and ``conn.get_transaction_status()`` if they
  exist, else the status is unknown (and online work then needs autocommit).
"""

from __future__ import annotations

from .._session import TransactionStatus

__all__ = ["get_autocommit", "set_autocommit", "transaction_status"]

_LIBPQ: dict[int, TransactionStatus] = {0: "idle", 1: "active", 2: "intrans", 3: "inerror", 4: "unknown"}
_PG8000: dict[bytes, TransactionStatus] = {b"I": "idle", b"T": "intrans", b"E": "inerror"}


def _is_pg8000_native(conn: object) -> bool:
    return type(conn).__module__ == "pg8000.native"


def get_autocommit(conn: object) -> bool:
    if _is_pg8000_native(conn):
        return True
    return bool(getattr(conn, "autocommit", False))


def set_autocommit(conn: object, value: bool) -> None:
    if _is_pg8000_native(conn):
        if not value:
            raise ValueError("pg8000.native connections have no autocommit switch")
        return
    if not hasattr(conn, "autocommit"):
        raise TypeError(f"{type(conn).__module__}.{type(conn).__qualname__} has no autocommit switch")
    setattr(conn, "autocommit", value)  # noqa: B010 - an attribute PEP 249 does not declare


def transaction_status(conn: object) -> TransactionStatus:
    module = type(conn).__module__
    if module.startswith("pg8000"):
        status = getattr(conn, "_transaction_status", None)
        if status is None:  # nothing run yet
            return "idle"
        return _PG8000.get(bytes(status), "unknown")
    info = getattr(conn, "info", None)
    code = getattr(info, "transaction_status", None)  # psycopg2 >= 2.8
    if code is None and callable(getattr(conn, "get_transaction_status", None)):
        code = conn.get_transaction_status()  # type: ignore[attr-defined]
    if isinstance(code, int):
        return _LIBPQ.get(code, "unknown")
    return "unknown"
