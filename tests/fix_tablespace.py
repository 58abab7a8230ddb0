"""pytest plugin: real tablespaces, for tests that place partitions, indexes
and archives.

Fixture:
    make_tablespace  function  make_tablespace(suffix, *grantees) -> the name of a
                               new tablespace ts_<dbname>_<suffix>, in a directory
                               next to the server's data directory (owned by the
                               server's OS user), on which pgpart_owner and each
                               of GRANTEES have CREATE. Asked again for the same
                               suffix, it returns the same tablespace.

At the end of the test every user schema of the test database is dropped
(tables may live in archive schemas too; event triggers off, so pgpart's
does not act on the drop), then the tablespaces, then their directories.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgcluster import PgServer

MakeTablespace = Callable[..., str]


@pytest.fixture
def make_tablespace(pg: PgServer, conn: psycopg.Connection[Any], dbname: str) -> Iterator[MakeTablespace]:
    made: list[tuple[str, Path]] = []

    def make(suffix: str, *grantees: str) -> str:
        name = f"ts_{dbname}_{suffix}"
        if any(made_name == name for made_name, _ in made):
            return name  # e.g. a fixture and its test both ask for "a"
        location = Path(pg.datadir).parent / name
        location.mkdir()
        if os.geteuid() == 0:
            shutil.chown(location, "postgres", "postgres")
        conn.execute(
            sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(location)))
        )
        made.append((name, location))
        roles = sql.SQL(", ").join(sql.Identifier(r) for r in ("pgpart_owner", *grantees))
        conn.execute(sql.SQL("GRANT CREATE ON TABLESPACE {} TO {}").format(sql.Identifier(name), roles))
        return name

    yield make
    if made:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("SET pgpart.event_triggers = off")
        schemas = conn.execute(
            """
            SELECT nspname::text FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pgpart') AND nspname !~ '^pg_(toast|temp)'
            """
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        for name, location in made:
            conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))
            shutil.rmtree(location, ignore_errors=True)


@dataclass(frozen=True)
class Tablespaces:
    """Two tablespaces on which pgpart_other has CREATE too (the event
    trigger and reconcile tests move things between them)."""

    a: str
    b: str

    @classmethod
    def make(cls, make_tablespace: MakeTablespace) -> Tablespaces:
        return cls(make_tablespace("a", "pgpart_other"), make_tablespace("b", "pgpart_other"))
