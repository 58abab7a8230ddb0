"""A throwaway tablespace for tests that place partitions
(test_equivalence.py, test_partition_info.py). Import the fixture:
``from helpers_tablespace import tablespace  # noqa: F401``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgcluster import PgServer


@pytest.fixture
def tablespace(pg: PgServer, conn: psycopg.Connection[Any], dbname: str) -> Iterator[str]:
    """A tablespace in the server's private directory (owned by the server's
    OS user), on which pgpart_owner has CREATE. Dropped afterwards."""
    name = f"ts_{dbname}"
    location = Path(pg.datadir).parent / name
    location.mkdir()
    if os.geteuid() == 0:
        shutil.chown(location, "postgres", "postgres")
    conn.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(location))))
    conn.execute(sql.SQL("GRANT CREATE ON TABLESPACE {} TO pgpart_owner").format(sql.Identifier(name)))
    yield name
    # The test database is dropped only after this fixture ends: empty the
    # tablespace first (every test table lives in schema public).
    conn.execute("SET lock_timeout = '10s'")
    conn.execute("DROP SCHEMA public CASCADE")
    conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))
    shutil.rmtree(location, ignore_errors=True)
