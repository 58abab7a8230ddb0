"""Helpers of the Django tests: the environment of the test project
(tests/django/django_project), manage.py in a subprocess, queries on Django's
connection. No fixtures: those are in fix_django.py."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from paths import DJANGO_PROJECT

HERE = DJANGO_PROJECT


def env_for(host: str, port: int, dbname: str) -> dict[str, str]:
    """The environment project/settings.py reads its database from."""
    return {
        "PGPART_DJANGO_HOST": host,
        "PGPART_DJANGO_PORT": str(port),
        "PGPART_DJANGO_NAME": dbname,
        "PGPART_DJANGO_USER": "pgpart_owner",
    }


def use_database(name: str) -> None:
    """Point Django's default connection at database NAME."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


def manage(pg: Any, dbname: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run tests/django/django_project/manage.py in a subprocess (as cron would)."""
    full_env = {**os.environ, **env_for(pg.host, pg.port, dbname), **(env or {})}
    return subprocess.run(
        [sys.executable, str(HERE / "manage.py"), *args],
        cwd=HERE,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def query(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Rows of STATEMENT on Django's default connection."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return list(cur.fetchall()) if cur.description else []


def partitions(table: str) -> list[tuple[str, str]]:
    """(partition, bound expression) of TABLE's leaves, in bound order."""
    return [
        (r[0], r[1])
        for r in query(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits AS i"
            " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY 2",
            [table],
        )
    ]
