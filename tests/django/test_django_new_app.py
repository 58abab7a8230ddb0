"""Django: a brand-new app, as a new user makes it.

A project made by ``django-admin startproject``, pgpart.django and an app
written by hand WITHOUT a ``migrations`` folder (not ``startapp``'s layout),
holding README.md's model; then README.md's Django commands, verbatim, in a
subprocess against the suite's server, on an empty database (pgpart not
installed). No pgpart check may block ``pgpart install``, ``check`` or
``makemigrations`` for a model whose migration does not exist yet; E002 still
stops ``migrate --run-syncdb`` from creating the model as a plain table.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from paths import REPO_ROOT

_numbers = itertools.count(1)


def _readme_django() -> tuple[str, str, str]:
    """(the settings part, the models.py part, the sh block) of README.md's
    Django section."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("\n## Django\n", 1)[1].split("\n## ", 1)[0]
    python = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shell = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert python, "README.md's Django section lost its python block"
    assert shell, "README.md's Django section lost its sh block"
    settings_part, models_part = re.split(r"^# models\.py$", python.group(1), flags=re.MULTILINE)
    assert settings_part.lstrip().startswith("# settings.py")
    return settings_part, models_part, shell.group(1)


SETTINGS_PART, MODELS_PY, README_SH = _readme_django()

DATABASES = """
import os
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
                         "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}
"""


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    dsn: str

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", command],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def ok(self, command: str) -> str:
        done = self.run(command)
        assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(statement.encode()).fetchall()


@pytest.fixture
def project(pg: Any, _admin: psycopg.Connection[Any], tmp_path: Path) -> Iterator[Project]:
    """startproject + pgpart.django + the app ``events`` (README's model, no
    migrations folder), on an empty database of its own."""
    database = f"new_app_{next(_numbers)}"
    _admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DJANGO_"))}
    env.update(
        PGHOST=pg.host,
        PGPORT=str(pg.port),
        PGUSER="postgres",
        PGDATABASE=database,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    root = tmp_path / "site"
    root.mkdir()
    made = subprocess.run(
        [str(Path(sys.executable).parent / "django-admin"), "startproject", "mysite", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    settings = root / "mysite" / "settings.py"
    text = settings.read_text()
    # README: INSTALLED_APPS = [..., "pgpart.django"]; and the app.
    assert '"pgpart.django"' in SETTINGS_PART
    text, n = re.subn(r"(INSTALLED_APPS = \[\n)", r'\1    "pgpart.django",\n    "events",\n', text)
    assert n == 1
    settings.write_text(text + DATABASES)
    app = root / "events"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS_PY)
    assert not (app / "migrations").exists()
    yield Project(root, env, pg.dsn(database))
    _admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def _assert_partitioned(project: Project) -> None:
    assert project.query("SELECT relkind::text FROM pg_class WHERE relname = 'events_event'") == [("p",)]
    assert project.query("SELECT count(*) > 3 FROM pgpart.partition_info('events_event')") == [(True,)]
    # The declaration's policy (README: premake 3, retention 13 months).
    assert project.query(
        "SELECT premake, retention IS NOT NULL FROM pgpart.config WHERE parent = 'events_event'::regclass"
    ) == [(3, True)]
    migration = (project.root / "events" / "migrations" / "0001_initial.py").read_text()
    assert "CreatePartitionedModel" in migration


def test_readme_sequence_verbatim_in_an_app_without_migrations(project: Project) -> None:
    assert "makemigrations" in README_SH
    assert "pgpart install" in README_SH
    project.ok("python manage.py check")  # before anything: nothing blocks
    output = project.ok(README_SH)
    assert "pgpart.E002" not in output
    assert (project.root / "events" / "migrations" / "__init__.py").exists()
    _assert_partitioned(project)
    project.ok("python manage.py check --database default")
    project.ok("python manage.py pgpart check")


def test_makemigrations_naming_the_app(project: Project) -> None:
    project.ok("python manage.py pgpart install")
    project.ok("python manage.py makemigrations events")
    project.ok("python manage.py migrate")
    _assert_partitioned(project)


def test_migrate_before_makemigrations_creates_no_plain_table(project: Project) -> None:
    project.ok("python manage.py pgpart install")
    # migrate without --run-syncdb creates nothing for the app: it runs, and
    # (with nothing else to apply) says the model has no migration yet.
    project.ok("python manage.py migrate")
    output = project.ok("python manage.py migrate")
    assert "No migrations to apply" in output
    assert "Your models in app(s): 'events' have changes" in output
    assert project.query("SELECT count(*) FROM pg_class WHERE relname = 'events_event'") == [(0,)]
    # --run-syncdb would create a plain table: E002 stops it, naming the fix.
    for command in ("python manage.py migrate --run-syncdb", "python manage.py check --database default"):
        done = project.run(command)
        assert done.returncode != 0, command
        assert "events.Event: (pgpart.E002)" in done.stderr, done.stderr
        assert "makemigrations events" in done.stderr
    assert project.query("SELECT count(*) FROM pg_class WHERE relname = 'events_event'") == [(0,)]
    assert not (project.root / "events" / "migrations").exists()
