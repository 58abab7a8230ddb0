"""What a test needs from the server build, checked at run time.

PostgreSQL 15 comes from Debian with everything the suite uses; the 16.2 and
18.6 servers come from PyPI wheels that lack some of it (no JIT, few or no
contrib modules; plpgsql_check is packaged for Debian's 15 only). A test that
needs such a thing runs where it exists: on 15 a missing one is a failure, on
16 and 18 the test is skipped with a reason that names what is missing, so
the run says so instead of passing silently.
"""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg.sql
import pytest

# The version whose build must have everything (Debian's packages).
REFERENCE_MAJOR = 15


def _missing(conn: psycopg.Connection[Any], what: str) -> None:
    major = conn.info.server_version // 10000
    if major == REFERENCE_MAJOR:
        pytest.fail(f"{what} is missing on PostgreSQL {major}, where the suite requires it")
    pytest.skip(f"{what} is not in the PostgreSQL {major} build used here; this test runs on PostgreSQL {REFERENCE_MAJOR}")


def require_extension(conn: psycopg.Connection[Any], name: str) -> None:
    """Fail on 15, skip elsewhere, when extension NAME cannot be created."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name]).fetchone()
    if row is None:
        _missing(conn, f"extension {name}")


def require_library(conn: psycopg.Connection[Any], name: str) -> None:
    """Fail on 15, skip elsewhere, when shared library NAME (e.g. auto_explain) is not installed.

    Loads it into CONN's session when it is there."""
    try:
        conn.execute(psycopg.sql.SQL("LOAD {}").format(psycopg.sql.Literal(name)))
    except psycopg.errors.UndefinedFile:
        _missing(conn, f"library {name}")


def require_jit(conn: psycopg.Connection[Any]) -> None:
    """Fail on 15, skip elsewhere, when the server has no JIT provider."""
    row = conn.execute("SELECT pg_jit_available()").fetchone()
    if not (row and row[0]):
        _missing(conn, "JIT (LLVM)")
