"""pytest plugin: one PostgreSQL server per session, a fresh database per test.

Every test database is cloned from ``pgpart_template``, which has pgpart
installed and lets the test role ``pgpart_owner`` create tables in schema
public (PostgreSQL 15 no longer lets PUBLIC do that). ``pgpart_other`` is a
second unprivileged role, for permission tests. A server that cannot start is
an error, never a skip.

Fixtures:
    pg              session   the PgServer: host, port, bindir, datadir, dsn(dbname, user)
    make_server     session   make_server(**settings) -> another PgServer, pgpart in db postgres
    dbname          function  name of the test's fresh database
    connect         function  connect(user="postgres", autocommit=True, **kw) -> psycopg connection
    conn            function  connect() as superuser postgres
    owner_conn      function  connect("pgpart_owner")
    other_conn      function  connect("pgpart_other")
    fresh_database  function  fresh_database(owner=None) -> a new database from template0, no pgpart
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgcluster import PgServer

TEMPLATE = "pgpart_template"
ROLES = ("pgpart_owner", "pgpart_other")

Connect = Callable[..., "psycopg.Connection[Any]"]
MakeServer = Callable[..., PgServer]


def _install_pgpart(server: PgServer, dbname: str) -> None:
    with psycopg.connect(server.dsn(dbname), autocommit=True) as c:
        c.execute("CREATE EXTENSION pgpart")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    with PgServer() as server:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as c:
            for role in ROLES:
                c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        _install_pgpart(server, TEMPLATE)
        with psycopg.connect(server.dsn(TEMPLATE), autocommit=True) as c:
            c.execute("GRANT CREATE ON SCHEMA public TO pgpart_owner")
        yield server


@pytest.fixture(scope="session")
def _admin(pg: PgServer) -> Iterator[psycopg.Connection[Any]]:
    # One long-lived session for CREATE/DROP DATABASE, rather than one per test.
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as c:
        yield c


_db_numbers = itertools.count(1)


@pytest.fixture
def dbname(_admin: psycopg.Connection[Any]) -> Iterator[str]:
    name = f"test_{next(_db_numbers)}"
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY file_copy")
    _admin.execute(create.format(sql.Identifier(name), sql.Identifier(TEMPLATE)))
    yield name
    # FORCE ends the sessions a test left open.
    _admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def connect(pg: PgServer, dbname: str) -> Iterator[Connect]:
    opened: list[psycopg.Connection[Any]] = []

    def connect(user: str = "postgres", autocommit: bool = True, **kw: Any) -> psycopg.Connection[Any]:
        c = psycopg.connect(pg.dsn(dbname, user), autocommit=autocommit, **kw)
        opened.append(c)
        return c

    yield connect
    for c in opened:
        c.close()


@pytest.fixture
def conn(connect: Connect) -> psycopg.Connection[Any]:
    return connect()


@pytest.fixture
def owner_conn(connect: Connect) -> psycopg.Connection[Any]:
    return connect("pgpart_owner")


@pytest.fixture
def other_conn(connect: Connect) -> psycopg.Connection[Any]:
    return connect("pgpart_other")


@pytest.fixture(scope="session")
def make_server() -> Iterator[MakeServer]:
    servers: list[PgServer] = []

    def make_server(**settings: object) -> PgServer:
        server = PgServer(settings)
        server.start()
        servers.append(server)
        _install_pgpart(server, "postgres")
        return server

    yield make_server
    for server in servers:
        server.stop()


_numbers = itertools.count(1)
FreshDatabase = Callable[..., str]


@pytest.fixture
def fresh_database(pg: PgServer) -> Iterator[FreshDatabase]:
    """fresh_database(owner=None) -> the name of a new database made from
    template0 (no pgpart in it), dropped at the end of the test."""
    made: list[str] = []
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as admin:

        def make(owner: str | None = None) -> str:
            name = f"fresh_{next(_numbers)}"
            query = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            if owner:
                query = sql.SQL("{} OWNER {}").format(query, sql.Identifier(owner))
            admin.execute(query)
            made.append(name)
            return name

        yield make
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
