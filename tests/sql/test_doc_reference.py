"""The SQL reference matches the catalog: every signature block in README.md
and docs/*.md (a ``text`` block whose first line starts ``pgpart.name(``) is
the routine's signature as the installed extension has it, and every public
routine (schema pgpart, name not starting with ``_``) has such a block.

A signature block is compared after normalising what PostgreSQL prints
differently from how people write it: spaces and line breaks, the casts
``pg_get_function_arguments`` adds to defaults (``NULL::integer``), and long
type names (``timestamp with time zone``), and interval defaults (``'200ms'``
is compared as the server prints it). A block may hold several signatures
(overloads, a procedure as ``CALL pgpart.name(...)`` beside its function),
each starting a line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg

from paths import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```text\n(pgpart\.\w+\(.*?)^```", re.MULTILINE | re.DOTALL)
TYPE_NAMES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "varchar",
}


def normal(signature: str) -> str:
    """SIGNATURE with PostgreSQL's spelling and the docs' made the same."""
    s = " ".join(signature.split())
    for long, short in TYPE_NAMES.items():
        s = s.replace(long, short)
    s = re.sub(r"::[a-z_ ]+(\[\])?", "", s)  # casts on defaults: NULL::integer, '200ms'::interval
    s = s.replace("RETURNS TABLE (", "RETURNS TABLE(")
    s = re.sub(r"([(,] ?)IN ", r"\1", s)  # procedures' arguments are printed with their mode
    s = re.sub(r"\(\s+", "(", s)
    s = re.sub(r"\s+\)", ")", s)
    return s.replace(" ,", ",")


def documented() -> dict[str, list[tuple[Path, str]]]:
    """Each routine name → the signature blocks that document it (file, text)."""
    found: dict[str, list[tuple[Path, str]]] = {}
    for path in DOCS:
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            # a block may hold several signatures (overloads, a procedure beside its
            # function), each from "pgpart." or "CALL pgpart." at a line start
            for signature in re.split(r"\n(?=(?:CALL )?pgpart\.\w+\()", match.group(1).strip()):
                signature = signature.removeprefix("CALL ")
                name = signature[len("pgpart.") : signature.index("(")]
                found.setdefault(name, []).append((path, normal(signature)))
    return found


def catalog(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Each public routine of the installed extension → its signatures."""
    rows = conn.execute(
        """
        SELECT p.proname,
               format('pgpart.%s(%s)', p.proname, pg_get_function_arguments(p.oid))
               || CASE WHEN p.prokind = 'p' THEN '' ELSE ' RETURNS ' || pg_get_function_result(p.oid) END
        FROM pg_proc AS p
        WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proname !~ '^_'
        ORDER BY 1, 2
        """
    ).fetchall()
    signatures: dict[str, list[str]] = {}
    for name, signature in rows:
        signatures.setdefault(name, []).append(normal(signature))
    return signatures


def test_every_public_routine_is_documented(conn: psycopg.Connection[Any]) -> None:
    missing = sorted(set(catalog(conn)) - set(documented()))
    assert missing == [], f"no signature block (```text, first line pgpart.name(...)) for {missing}"


def as_printed(conn: psycopg.Connection[Any], signature: str) -> str:
    """SIGNATURE with interval defaults as PostgreSQL prints them ('200ms' → '00:00:00.2')."""

    def printed(match: re.Match[str]) -> str:
        value = conn.execute("SELECT %s::interval::text", [match.group(1)]).fetchone()
        assert value is not None
        return f"interval DEFAULT '{value[0]}'"

    return re.sub(r"interval DEFAULT '([^']*)'", printed, signature)


def test_every_signature_block_is_the_catalogs(conn: psycopg.Connection[Any]) -> None:
    installed = catalog(conn)
    wrong = [
        f"{path.name}: {signature}\n  catalog: {' | '.join(installed.get(name, ['(no such routine)']))}"
        for name, blocks in documented().items()
        for path, signature in blocks
        if as_printed(conn, signature) not in installed.get(name, [])
    ]
    assert wrong == [], "\n".join(wrong)


def test_normal_form() -> None:
    assert normal("pgpart.f(a integer DEFAULT NULL::integer,\n    b interval DEFAULT '200ms'::interval )") == (
        "pgpart.f(a integer DEFAULT NULL, b interval DEFAULT '200ms')"
    )
    assert normal("now_at timestamp with time zone DEFAULT now()") == "now_at timestamptz DEFAULT now()"
