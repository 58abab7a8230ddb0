"""Error reports of DB-API drivers, mapped to :mod:`pgpart.errors`.

- psycopg2: ``exc.pgcode`` and ``exc.diag`` (message_primary, message_detail,
  message_hint, schema_name, table_name);
- pg8000: ``exc.args[0]``, the server's error fields as a dict keyed by the
  protocol's field codes ('C' SQLSTATE, 'M' message, 'D' detail, 'H' hint,
  's' schema, 't' table);
- others: a ``sqlstate`` attribute (and ``diag`` if there is one).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import PgpartError, from_diagnostics

__all__ = ["translate"]


def translate(exc: BaseException) -> PgpartError | None:
    """The pgpart error for EXC, or None when EXC carries no SQLSTATE."""
    pgcode = getattr(exc, "pgcode", None)  # psycopg2
    if isinstance(pgcode, str) and pgcode:
        return _from_diag(pgcode, exc, getattr(exc, "diag", None))
    fields = exc.args[0] if exc.args else None  # pg8000
    if isinstance(fields, Mapping) and isinstance(fields.get("C"), str):
        return from_diagnostics(
            fields["C"],
            str(fields.get("M") or exc),
            detail=fields.get("D"),
            hint=fields.get("H"),
            schema_name=fields.get("s"),
            table_name=fields.get("t"),
            driver_error=exc,
        )
    sqlstate = getattr(exc, "sqlstate", None)  # psycopg 3 and look-alikes
    if isinstance(sqlstate, str) and sqlstate:
        return _from_diag(sqlstate, exc, getattr(exc, "diag", None))
    return None


def _from_diag(sqlstate: str, exc: BaseException, diag: object) -> PgpartError:
    def field(name: str) -> str | None:
        value = getattr(diag, name, None)
        return value if isinstance(value, str) else None

    return from_diagnostics(
        sqlstate,
        field("message_primary") or str(exc).strip(),
        detail=field("message_detail"),
        hint=field("message_hint"),
        schema_name=field("schema_name"),
        table_name=field("table_name"),
        driver_error=exc,
    )
