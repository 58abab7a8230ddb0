"""Names and bounds as PostgreSQL prints them, for the expected side of an
assertion: quoted identifiers, qualified partition names, bound texts."""

from __future__ import annotations

import re
from datetime import date, timedelta


def ident(*parts: str) -> str:
    """A (possibly qualified) relation name as regclass input text, quoted as SQL needs."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def quote_ident(name: str) -> str:
    """PostgreSQL's quote_ident for names that are not keywords: bare when
    lower-case ASCII letters, digits and underscores, else double-quoted."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """format('%I.%I', schema, name): how pgpart prints a partition's name."""
    return quote_ident(schema) + "." + quote_ident(name)


def range_bound(key_type: str, lower: str, upper: str) -> str:
    """The bound as pg_get_expr prints it: integer (int4) constants bare unless
    negative, every other constant quoted; MINVALUE/MAXVALUE bare."""

    def lit(v: str) -> str:
        if v in ("MINVALUE", "MAXVALUE"):
            return v
        if key_type == "integer" and not v.startswith("-"):
            return v
        return "'" + v + "'"

    return f"FOR VALUES FROM ({lit(lower)}) TO ({lit(upper)})"


def day_bound(d: date) -> str:
    """The bound of a daily partition of a UTC grid."""
    return f"FOR VALUES FROM ('{d} 00:00:00+00') TO ('{d + timedelta(days=1)} 00:00:00+00')"


def day_name(parent: str, d: date) -> str:
    return f"{parent}_p{d:%Y%m%d}"
