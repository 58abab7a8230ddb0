"""A small Django project of its own in a temporary directory, for the
global-unique migration tests (tests/django/test_django_fk_pk.py,
test_django_global_unique_changes.py): apps whose models.py a test rewrites
between makemigrations runs, manage.py commands in a subprocess against a
database of the test's own. No fixtures (those live in tests/fix_*.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

SETTINGS = """
import os
SECRET_KEY = "tests-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "pgpart.django", *os.environ["SHOP_APPS"].split(",")]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
                         "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

HEADER = "from django.db import models\n"


@dataclass
class Shop:
    """The project: ROOT on PYTHONPATH, apps under it, database DSN."""

    root: Path
    env: dict[str, str]
    dsn: str

    def models(self, app: str, source: str) -> None:
        """Write APP's models.py (HEADER + SOURCE), creating the app if new."""
        package = self.root / app
        if not package.exists():
            (package / "migrations").mkdir(parents=True)
            (package / "__init__.py").write_text("")
            (package / "migrations" / "__init__.py").write_text("")
        (package / "models.py").write_text(HEADER + source)

    def run(self, *args: str, answers: str | None = None) -> subprocess.CompletedProcess[str]:
        """manage.py ARGS; ANSWERS: what to type at Django's questions."""
        return subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=self.root, env=self.env, input=answers,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def ok(self, *args: str, answers: str | None = None) -> str:
        done = self.run(*args, answers=answers)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def migration(self, app: str, prefix: str) -> str:
        """The text of APP's migration whose name starts with PREFIX."""
        (found,) = (self.root / app / "migrations").glob(f"{prefix}*.py")
        return found.read_text()

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(statement.encode(), params).fetchall()

    def global_uniques(self, table: str) -> list[tuple[str, list[str]]]:
        return [
            (name, columns)
            for name, columns in self.query(
                "SELECT unique_constraint::text, columns::text[] FROM pgpart.global_unique_info(%s::regclass)"
                " ORDER BY 1",
                [table],
            )
        ]


def make_shop(pg: Any, dbname: str, root: Path, apps: list[str]) -> Shop:
    """A project in ROOT with APPS (their models written by the test) on
    database DBNAME (a fresh clone of pgpart's template)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DJANGO_"))}
    env.update(
        PGHOST=pg.host, PGPORT=str(pg.port), PGUSER="postgres", PGDATABASE=dbname,
        DJANGO_SETTINGS_MODULE="site_settings", PYTHONPATH=str(root), SHOP_APPS=",".join(apps),
    )  # fmt: skip
    (root / "site_settings.py").write_text(SETTINGS)
    return Shop(root, env, pg.dsn(dbname))
