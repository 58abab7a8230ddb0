"""pytest plugin: fixtures for the Django tests, the test project
(tests/django/django_project) on the suite's PostgreSQL server (fix_pg.py).

Django is set up once per session (``django.setup()`` with
project/settings.py, the database taken from the environment). Each test gets
a database of its own: ``django_db`` an empty one (pgpart installed, nothing
migrated), ``migrated_db`` a copy of one that ``migrate`` ran on once.

Registered in tests/conftest.py, so its session fixtures exist once; helpers
are in django_helpers.py. Importing it puts the test project on sys.path (its
``project.settings``, ``testapp``, ``brokenapp``); Django itself is imported
only when a fixture needs it.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from django_helpers import env_for, use_database
from paths import DJANGO_PROJECT

if str(DJANGO_PROJECT) not in sys.path:
    sys.path.insert(0, str(DJANGO_PROJECT))

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def django_setup(pg: Any) -> Iterator[None]:
    os.environ.update(env_for(pg.host, pg.port, "postgres"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    import django

    django.setup()
    yield
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="session")
def _admin_conn(pg: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as c:
        yield c


def _create(admin: psycopg.Connection[Any], name: str, template: str) -> None:
    admin.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY file_copy").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    )


def _drop(admin: psycopg.Connection[Any], name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def _migrated_template(django_setup: None, _admin_conn: psycopg.Connection[Any]) -> Iterator[str]:
    from django.core.management import call_command

    name = "django_migrated"
    _create(_admin_conn, name, "pgpart_template")
    use_database(name)
    call_command("migrate", verbosity=0)
    use_database("postgres")
    yield name
    _drop(_admin_conn, name)


@pytest.fixture
def django_db(django_setup: None, dbname: str) -> Iterator[str]:
    """A fresh database with pgpart installed and nothing migrated."""
    use_database(dbname)
    yield dbname
    use_database("postgres")


@pytest.fixture
def migrated_db(_migrated_template: str, _admin_conn: psycopg.Connection[Any]) -> Iterator[str]:
    """A database every migration of the test project ran on."""
    name = f"django_{next(_numbers)}"
    _create(_admin_conn, name, _migrated_template)
    use_database(name)
    yield name
    use_database("postgres")
    _drop(_admin_conn, name)


@pytest.fixture
def superuser_sql(pg: Any) -> Any:
    """run(dbname, statement) as superuser postgres."""

    def run(dbname: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg.dsn(dbname), autocommit=True) as c:
            cur = c.execute(statement, params)
            return cur.fetchall() if cur.description else []

    return run
