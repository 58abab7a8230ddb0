"""Calls of the extension's functions, composed once: named notation with only
the arguments given (so the server's defaults and the configured policy
apply to the rest), every value a parameter with an explicit cast."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from psycopg import sql

from .errors import InvalidArgumentError

__all__ = ["STEP_COLUMNS", "Arg", "call", "interval_text", "timestamp_text"]

#: (argument name, SQL type it is cast to, value; None = not passed)
Arg = tuple[str, str, object]

STEP_COLUMNS = "step, partition, lower_bound, upper_bound, action, statement, locks, top_level"


def call(
    function: str, args: Sequence[Arg], columns: str = "*", *, procedure: bool = False
) -> tuple[sql.Composed, list[object]]:
    """``SELECT columns FROM pgpart.function(name => %s::type, ...)`` (or
    ``CALL pgpart.function(...)``) and its parameters. A value with a NUL
    character (which PostgreSQL text cannot hold) is refused here, naming
    its argument (InvalidArgumentError)."""
    parts: list[sql.Composable] = []
    params: list[object] = []
    for name, cast, value in args:
        if value is None:
            continue
        text = _text(value)
        if "\x00" in text:
            raise InvalidArgumentError(
                f"{name} must not contain a NUL character",
                detail=f"PostgreSQL text cannot contain NUL (0x00); {name} is {text!r}.",
                hint=f"Remove the NUL character from {name}.",
            )
        parts.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(cast)))
        params.append(text)
    target = sql.SQL("{}({})").format(sql.Identifier("pgpart", function), sql.SQL(", ").join(parts))
    if procedure:
        return sql.SQL("CALL {}").format(target), params
    return sql.SQL("SELECT {} FROM {}").format(sql.SQL(columns), target), params


def _text(value: object) -> str:
    """Every parameter travels as text and is cast by the server, so all
    drivers send the same thing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return timestamp_text(value)
    if isinstance(value, dt.timedelta):
        return interval_text(value)
    return str(value)


def interval_text(value: dt.timedelta) -> str:
    """A timedelta as interval input ('1 days 0 seconds 0 microseconds')."""
    return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"


def timestamp_text(value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(
            f"now_at must be timezone-aware, got naive {value.isoformat()}",
            hint="Pass a datetime with tzinfo, e.g. datetime.now(timezone.utc).",
        )
    return value.isoformat()
