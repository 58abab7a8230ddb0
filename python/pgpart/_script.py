"""The extension's SQL scripts, shipped in this package, and how to run them
without CREATE EXTENSION (DESIGN §8).

The scripts in ``pgpart/_sql`` are byte-for-byte the ones ``make install``
installs (``sql/pgpart--X.Y.Z.sql`` and the upgrade scripts
``sql/pgpart--A--B.sql``); a Makefile rule copies them and a test compares
them. To run one outside CREATE EXTENSION:

- the psql guard (``\\echo Use "CREATE EXTENSION pgpart" ... \\quit``) goes;
- the script is split into statements the way psql splits it (quotes,
  dollar quotes, comments, parentheses and ``BEGIN ATOMIC ... END`` bodies);
- statements valid only inside CREATE EXTENSION are skipped:
  ``pg_extension_config_dump(...)`` and ``ALTER EXTENSION ... ADD/DROP``;
- event-trigger statements are marked, for the caller to run only where the
  role may create event triggers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

__all__ = [
    "Statement",
    "available_versions",
    "install_script",
    "prepare",
    "split_statements",
    "strip_custom_settings",
    "upgrade_path",
]

EXTENSION = "pgpart"

Kind = Literal["statement", "config_dump", "alter_extension", "event_trigger"]


@dataclass(frozen=True)
class Statement:
    text: str
    kind: Kind

    @property
    def summary(self) -> str:
        """The statement's first line without comments, for reports."""
        return _strip_comments(self.text).split("\n", 1)[0][:120]


# -- the shipped files -----------------------------------------------------------


def _sql_dir() -> resources.abc.Traversable:
    return resources.files("pgpart") / "_sql"


def _script_names() -> list[str]:
    directory = _sql_dir()
    if not directory.is_dir():
        return []
    return sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".sql"))


def read_script(name: str) -> str:
    path = _sql_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} is not shipped in this pgpart package (looked in {_sql_dir()}); "
            "in a source checkout, `make` copies it there"
        )
    return path.read_text(encoding="utf-8")


def install_script(version: str) -> str:
    return read_script(f"{EXTENSION}--{version}.sql")


def available_versions() -> tuple[list[str], list[tuple[str, str]]]:
    """The versions with an install script, and the (from, to) upgrade steps."""
    installs: list[str] = []
    upgrades: list[tuple[str, str]] = []
    for name in _script_names():
        stem = name[len(EXTENSION) + 2 : -4] if name.startswith(f"{EXTENSION}--") else None
        if stem is None:
            continue
        if "--" in stem:
            source, target = stem.split("--", 1)
            upgrades.append((source, target))
        else:
            installs.append(stem)
    return installs, upgrades


def upgrade_path(source: str, target: str) -> list[str] | None:
    """The shortest chain of upgrade script names from SOURCE to TARGET, as
    ALTER EXTENSION UPDATE would choose it; None when there is none."""
    _, upgrades = available_versions()
    paths: dict[str, list[str]] = {source: []}
    frontier = [source]
    while frontier:
        following: list[str] = []
        for version in frontier:
            for a, b in upgrades:
                if a == version and b not in paths:
                    paths[b] = [*paths[version], f"{EXTENSION}--{a}--{b}.sql"]
                    following.append(b)
        frontier = following
    return paths.get(target)


# -- splitting ---------------------------------------------------------------------

_GUARD = re.compile(r"^\\echo [^\n]*\\quit[ \t]*\n", re.MULTILINE)
_IDENT_START = re.compile(r"[A-Za-z_\x80-\U0010ffff]")
_IDENT = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]+")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")


def split_statements(script: str) -> list[str]:
    """Split SCRIPT into statements as psql does (psqlscan.l): a semicolon
    ends a statement only outside quotes, comments, parentheses and
    ``BEGIN ... END`` blocks of SQL-standard function bodies. Lines starting
    with a backslash (psql meta-commands) are refused, except the guard,
    which :func:`prepare` removes first."""
    statements: list[str] = []
    start = 0
    i = 0
    n = len(script)
    parens = 0
    begin_depth = 0
    identifiers = 0
    at_line_start = True
    while i < n:
        c = script[i]
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if at_line_start and c == "\\":
            raise ValueError(f"psql meta-command in script: {script[i : script.find(chr(10), i)]!r}")
        at_line_start = at_line_start and c in " \t\r"
        if script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end
        elif script.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if script.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif script.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            escapes = i > 0 and script[i - 1] in "eE" and (i < 2 or not _IDENT.match(script[i - 2]))
            i = _end_of_quoted(script, i, "'", backslash=escapes)
        elif c == '"':
            i = _end_of_quoted(script, i, '"', backslash=False)
        elif c == "$" and (m := _DOLLAR_TAG.match(script, i)) and not (i > 0 and _IDENT.match(script[i - 1])):
            tag = m.group()
            end = script.find(tag, m.end())
            if end < 0:
                raise ValueError(f"unterminated dollar-quoted string at offset {i}")
            i = end + len(tag)
        elif c == "(":
            parens, i = parens + 1, i + 1
        elif c == ")":
            parens, i = max(parens - 1, 0), i + 1
        elif c == ";":
            i += 1
            if parens == 0 and begin_depth == 0:
                statements.append(script[start:i])
                start, identifiers = i, 0
        elif _IDENT_START.match(c) and not (i > 0 and _IDENT.match(script[i - 1])):
            m = _IDENT.match(script, i)
            assert m is not None
            word = m.group().lower()
            identifiers += 1
            # psql: BEGIN and CASE open a block (not as the first word: a
            # transaction's BEGIN), END closes one.
            if word in ("begin", "case") and identifiers > 1:
                begin_depth += 1
            elif word == "end" and begin_depth > 0:
                begin_depth -= 1
            i = m.end()
        else:
            i += 1
    tail = script[start:]
    if _strip_comments(tail).strip():
        statements.append(tail)
    return [s for s in statements if _strip_comments(s).strip(" \t\r\n;")]


def _end_of_quoted(script: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    n = len(script)
    while j < n:
        c = script[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and script[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError(f"unterminated quoted string at offset {i}")


def _strip_comments(statement: str) -> str:
    # For classification only: drops leading and line comments.
    lines = [line for line in statement.strip().splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


_CONFIG_DUMP = re.compile(r"^SELECT\s+(pg_catalog\s*\.\s*)?pg_extension_config_dump\s*\(", re.IGNORECASE)
_ALTER_EXTENSION = re.compile(r"^ALTER\s+EXTENSION\s", re.IGNORECASE)
_EVENT_TRIGGER = re.compile(r"^(CREATE|ALTER|DROP|COMMENT\s+ON)\s+EVENT\s+TRIGGER\s", re.IGNORECASE)


def _classify(statement: str) -> Kind:
    head = _strip_comments(statement)
    if _CONFIG_DUMP.match(head):
        return "config_dump"
    if _ALTER_EXTENSION.match(head):
        return "alter_extension"
    if _EVENT_TRIGGER.match(head):
        return "event_trigger"
    return "statement"


def prepare(script: str, schema: str = EXTENSION) -> list[Statement]:
    """SCRIPT as classified statements, ready to run outside CREATE EXTENSION:
    guard removed, ``@extschema@`` replaced by SCHEMA (as CREATE EXTENSION
    does)."""
    body = _GUARD.sub("", script, count=1)
    if "@extowner@" in body:
        raise ValueError("scripts using @extowner@ cannot be run outside CREATE EXTENSION")
    body = body.replace("@extschema@", schema)
    return [Statement(text, _classify(text)) for text in split_statements(body)]


# A function's SET clause of a custom (dotted) parameter, on a line of its own
# in the header, e.g. SET "pgpart.event_triggers" = 'off'.
_CUSTOM_SET = re.compile(
    r"""^[ \t]*SET[ \t]+("[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z0-9_.$]+"|[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z0-9_.$]+)"""
    r"""[ \t]*(?:=|TO)[ \t]*('[^'\n]*'|[^\s;]+)[ \t]*\n""",
    re.IGNORECASE | re.MULTILINE,
)
_ROUTINE = re.compile(r"^CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s", re.IGNORECASE)
_BODY_START = re.compile(r"^\s*(AS\b|BEGIN\s+ATOMIC\b|RETURN\b)", re.IGNORECASE | re.MULTILINE)


def strip_custom_settings(statement: str) -> tuple[str, list[str]]:
    """A CREATE FUNCTION/PROCEDURE statement without the SET clauses of custom
    (dotted) parameters in its header, and the names of those parameters.

    PostgreSQL lets only a superuser (or a role granted SET on the parameter)
    create a function that sets a custom parameter, since it cannot know
    whether the parameter will turn out superuser-only."""
    if not _ROUTINE.match(_strip_comments(statement)):
        return statement, []
    body = _BODY_START.search(statement)
    header_end = body.start() if body else len(statement)
    header = statement[:header_end]
    names = [m.group(1).strip('"') for m in _CUSTOM_SET.finditer(header)]
    if not names:
        return statement, []
    return _CUSTOM_SET.sub("", header) + statement[header_end:], names
