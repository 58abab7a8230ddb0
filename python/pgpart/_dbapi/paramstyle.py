"""Paramstyles (PEP 249): pgpart's queries use ``%s`` placeholders and ``%%``
for a literal ``%``; each driver gets them in its own style.

pgpart's queries never put ``%`` or ``?`` or ``:name`` inside string
literals, so a plain scan of the query text is exact here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence

__all__ = ["PARAMSTYLES", "convert", "detect"]

PARAMSTYLES = ("format", "pyformat", "qmark", "numeric", "named")

_TOKEN = re.compile(r"%[s%]")


def detect(conn: object) -> str:
    """The paramstyle of CONN's driver: the ``paramstyle`` of the module that
    defines the connection's class, or of the nearest package above it
    (``psycopg2.extensions`` -> ``psycopg2``)."""
    module = type(conn).__module__
    while module:
        try:
            style = getattr(importlib.import_module(module), "paramstyle", None)
        except ImportError:
            style = None
        if isinstance(style, str):
            if style not in PARAMSTYLES:
                raise ValueError(f"unsupported paramstyle {style!r} of module {module}")
            return style
        module = module.rpartition(".")[0]
    raise ValueError(
        f"cannot tell the paramstyle of {type(conn).__module__}.{type(conn).__qualname__}; "
        "pass paramstyle= to pgpart.Client"
    )


def convert(query: str, params: Sequence[object], style: str) -> tuple[str, Sequence[object] | Mapping[str, object]]:
    """QUERY (``%s`` placeholders) and PARAMS in paramstyle STYLE."""
    if style == "format":
        return query, list(params)
    numbers = iter(range(len(params)))

    def placeholder(match: re.Match[str]) -> str:
        if match.group() == "%%":
            return "%%" if style == "pyformat" else "%"
        n = next(numbers)
        if style == "pyformat":
            return f"%(p{n})s"
        if style == "qmark":
            return "?"
        if style == "numeric":
            return f":{n + 1}"
        return f":p{n}"  # named

    text = _TOKEN.sub(placeholder, query)
    if style in ("pyformat", "named"):
        return text, {f"p{n}": value for n, value in enumerate(params)}
    if style in ("qmark", "numeric"):
        return text, list(params)
    raise ValueError(f"unsupported paramstyle {style!r}")
