"""The pgpart command as a user runs it: ``python -m pgpart`` in a
subprocess, the connection from --dsn."""

from __future__ import annotations

import subprocess
import sys

from pgcluster import PgServer


def pgpart(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgpart", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )


def dsn(pg: PgServer, dbname: str, user: str = "postgres") -> list[str]:
    return ["--dsn", pg.dsn(dbname, user)]
