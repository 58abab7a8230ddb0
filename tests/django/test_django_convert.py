"""Django: adding ``class Partitioning`` to a model whose table exists plain
converts the table (issue 18 item 2, issue 20).

A small project of its own (settings written here, one app ``shop`` with a
plain ``Order``), in a subprocess against the suite's server, as a user runs
it: ``makemigrations`` + ``migrate`` make the plain table, rows go in, the
model gains a declaration, ``makemigrations`` writes ``ConvertToPartitioned``
(pgpart.E002 must not stop it, and names the remedy elsewhere), and either
``migrate`` converts the table in its transaction, or ``manage.py pgpart
convert`` converts it online first and ``migrate`` only applies the
declaration. Rows, ids and the sequence survive; the ORM writes on.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

_numbers = itertools.count(1)

SETTINGS = """
import os
import shlex
SECRET_KEY = "test"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "pgpart.django", "shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
                         "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}
"""

MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

PLAIN = """
from django.db import models


class Order(models.Model):
    created_at = models.DateTimeField()
    amount = models.IntegerField()
"""

DECLARED = (
    PLAIN
    + """
    class Partitioning:
        key = "created_at"
        interval = "1 day"
        premake = 2
"""
)

ROWS = 400


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    dsn: str

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *shlex.split(command)],
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
            cur = c.execute(statement.encode())
            return cur.fetchall() if cur.description else []

    def declare(self) -> None:
        (self.root / "shop" / "models.py").write_text(DECLARED)


@pytest.fixture
def site(pg: Any, _admin: psycopg.Connection[Any], tmp_path: Path) -> Iterator[Site]:
    """The project with the plain table migrated, pgpart installed and
    ROWS orders over the 10 days before now."""
    database = f"convert_site_{next(_numbers)}"
    _admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DJANGO_"))}
    env.update(PGHOST=pg.host, PGPORT=str(pg.port), PGUSER="postgres", PGDATABASE=database)
    root = tmp_path / "site"
    (root / "shop" / "migrations").mkdir(parents=True)
    (root / "settings.py").write_text(SETTINGS)
    (root / "manage.py").write_text(MANAGE)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "migrations" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(PLAIN)
    made = Site(root, env, pg.dsn(database))
    made.ok("pgpart install")
    made.ok("makemigrations shop")
    made.ok("migrate")
    made.query(
        f"INSERT INTO shop_order (created_at, amount) SELECT now() - g * interval '36 minutes', g"
        f" FROM generate_series(1, {ROWS}) AS g"
    )
    yield made
    _admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def _assert_converted(site: Site, legacy: bool = True) -> None:
    assert site.query("SELECT relkind::text FROM pg_class WHERE relname = 'shop_order'") == [("p",)]
    assert site.query("SELECT count(*), count(DISTINCT id), sum(amount) FROM shop_order") == [
        (ROWS, ROWS, ROWS * (ROWS + 1) // 2)
    ]
    assert site.query("SELECT premake FROM pgpart.config WHERE parent = 'shop_order'::regclass") == [(2,)]
    # The ORM writes on: the sequence continues (no id reused), today's partition takes the row.
    site.ok(
        "shell -c 'import datetime as dt; from shop.models import Order;"
        " o = Order.objects.create(created_at=dt.datetime.now(dt.timezone.utc), amount=1); print(o.id)'"
    )
    assert site.query("SELECT count(*), max(id) > " + str(ROWS) + " FROM shop_order") == [(ROWS + 1, True)]
    # the old table is the legacy partition, or (split) its rows are in grid partitions; the grid follows
    assert site.query(
        "SELECT count(*) FILTER (WHERE partition::text = 'shop_order_legacy'), count(*) > 1"
        " FROM pgpart.partition_info('shop_order')"
    ) == [(int(legacy), True)]
    if not legacy:
        _assert_split(site, ROWS + 1)
    checked = site.run("check --database default")
    assert "pgpart.E" not in checked.stdout + checked.stderr, checked.stdout + checked.stderr


def _assert_split(site: Site, rows: int) -> None:
    """No legacy partition left; every row in the partition of its day."""
    assert site.query("SELECT to_regclass('shop_order_legacy')") == [(None,)]
    assert site.query(
        "SELECT count(*) FROM shop_order AS o JOIN pgpart.partition_info('shop_order') AS p"
        " ON p.partition = o.tableoid::regclass"
        " WHERE o.created_at >= p.lower_bound::timestamptz AND o.created_at < p.upper_bound::timestamptz"
    ) == [(rows,)]


def test_migrate_converts_a_model_that_gains_a_declaration(site: Site) -> None:
    site.declare()
    # Before makemigrations: E002 names the remedy, and stops `check`.
    checked = site.run("check")
    assert checked.returncode != 0
    assert "pgpart.E002" in checked.stderr, checked.stderr
    assert "ConvertToPartitioned" in checked.stderr
    # makemigrations is not stopped, and writes the conversion.
    site.ok("makemigrations shop")
    migration = next((site.root / "shop" / "migrations").glob("0002_*.py")).read_text()
    assert "ConvertToPartitioned" in migration
    shown = site.ok("sqlmigrate shop 0002")
    assert "convert_to_partitioned" in shown
    # A conversion still to apply: the database check does not call the table an error.
    pending = site.run("check --database default")
    assert "pgpart.E101" not in pending.stdout + pending.stderr
    site.ok("migrate")
    _assert_converted(site)
    # later, the old rows into grid partitions
    planned = site.ok("pgpart split-legacy --model shop.Order --dry-run")
    assert "copy range" in planned
    site.ok("pgpart split-legacy --model shop.Order")
    _assert_split(site, ROWS + 1)


def test_pgpart_convert_online_first_then_migrate(site: Site) -> None:
    site.declare()
    site.ok("makemigrations shop")
    planned = site.ok("pgpart convert --model shop.Order --dry-run")
    assert "steps planned" in planned
    assert "swap" in planned
    assert site.query("SELECT relkind::text FROM pg_class WHERE relname = 'shop_order'") == [("r",)]
    done = site.ok("pgpart convert --model shop.Order --legacy split")
    assert "steps done" in done
    again = site.ok("pgpart convert --model shop.Order")
    assert "nothing to convert" in again
    site.ok("migrate")  # ConvertToPartitioned finds it converted: the declaration only
    _assert_converted(site, legacy=False)


def test_convert_to_partitioned_is_not_reversible(site: Site) -> None:
    site.declare()
    site.ok("makemigrations shop")
    site.ok("migrate")
    undone = site.run("migrate shop 0001")
    assert undone.returncode != 0
    assert "is not reversible" in undone.stderr, undone.stderr
    assert site.query("SELECT relkind::text FROM pg_class WHERE relname = 'shop_order'") == [("p",)]
