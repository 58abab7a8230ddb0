"""One version everywhere: pgpart.control, the Python package, the built and
the installed script, and the extension in the database."""

import re
from pathlib import Path
from typing import Any

import psycopg

import pgpart
from paths import REPO_ROOT
from pgcluster import pg_config


def control_version() -> str:
    text = (REPO_ROOT / "pgpart.control").read_text()
    match = re.search(r"^default_version\s*=\s*'([^']+)'", text, re.MULTILINE)
    assert match, "pgpart.control has no default_version"
    return match.group(1)


def built_script() -> Path:
    return REPO_ROOT / "sql" / f"pgpart--{control_version()}.sql"


def test_versions_agree(conn: psycopg.Connection[Any]) -> None:
    version = control_version()
    assert pgpart.__version__ == version
    assert built_script().is_file()
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pgpart'").fetchone()
    assert row == (version,)


def test_installed_script_is_the_built_one() -> None:
    # Catches a forgotten `make install`: the server would run stale SQL.
    installed = Path(pg_config("--sharedir"), "extension", built_script().name)
    assert installed.read_bytes() == built_script().read_bytes()
