"""Django integration: a django-postgres-extra (psqlextra) project moves to
pgpart (issue 20, item 2), with the real django-postgres-extra from PyPI.

The project is built as psqlextra's users build it (its backend, its
``pgmakemigrations`` with the default partition, its partitioning manager
and ``pgpartition``), holds rows, then follows docs/django.md "Moving from
django-postgres-extra" step by step: pgpart recognises the psqlextra history
(no false pgpart.E002), ``makemigrations`` writes the adopting migration,
``migrate`` puts the table, its partitions and its default partition under a
pgpart policy with every row where it was, and after
``pgpart rewrite-psqlextra-migrations`` psqlextra can go: with psqlextra
made unimportable, ``makemigrations --check`` finds nothing and pgpart
maintains the table.

django-postgres-extra requires Django < 6: on Django 6 the module is
skipped with that reason (the Django 6 run, scripts/test_django6.sh, has no
psqlextra); on Django 5.2 a missing psqlextra is a failure (it is in the
test extra). The test extra pins 2.0.x, the release psqlextra projects run:
3.0.1 cannot migrate this model on Django 5.2 (its forced CompositePrimaryKey
beside the auto `id` makes "multiple primary keys", django-postgres-extra
issue #268); pgpart reads either release's history the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import django
import psycopg
import pytest
from capabilities import require_extension

if django.VERSION >= (6,):
    pytest.skip("django-postgres-extra requires Django < 6", allow_module_level=True)

import psqlextra  # noqa: F401  (required on Django 5.2: in the test extra)

UTC = dt.timezone.utc

SETTINGS = """\
import os
SECRET_KEY = "psqlextra-journey"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [{apps}]
DATABASES = {{"default": {{"ENGINE": "{engine}", "NAME": os.environ["PGDATABASE"], "HOST": os.environ["PGHOST"],
                         "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
{extra}
"""

PSQLEXTRA_EXTRA = """\
PSQLEXTRA_PARTITIONING_MANAGER = "shop.partitioning.manager"
"""

PSQLEXTRA_MODELS = """\
from django.db import models
from psqlextra.models import PostgresPartitionedModel
from psqlextra.types import PostgresPartitioningMethod


class Order(PostgresPartitionedModel):
    class PartitioningMeta:
        method = PostgresPartitioningMethod.RANGE
        key = ["created_at"]

    created_at = models.DateTimeField()
    amount = models.IntegerField()
"""

MANAGER = """\
from dateutil.relativedelta import relativedelta
from psqlextra.partitioning import PostgresPartitioningManager, partition_by_current_time

from .models import Order

manager = PostgresPartitioningManager([
    partition_by_current_time(Order, months=1, count=3, max_age=relativedelta(months=6)),
])
"""

# docs/django.md, step 3: the pgpart declaration beside psqlextra's
DECLARATION = """
    class Partitioning:
        key = "created_at"
        interval = "1 month"
        premake = 3
        default_partition = True
"""

# docs/django.md, step 6: the model without psqlextra
PLAIN_MODELS = """\
from django.db import models


class Order(models.Model):
    created_at = models.DateTimeField()
    amount = models.IntegerField()

    class Partitioning:
        key = "created_at"
        interval = "1 month"
        premake = 3
        default_partition = True
"""

MANAGE = """\
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""


class Project:
    """A Django project in a directory, run as cron or a shell would."""

    def __init__(self, root: Path, pg: Any, dbname: str) -> None:
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DJANGO"))}
        self.env.update(PGHOST=pg.host, PGPORT=str(pg.port), PGUSER="pgpart_owner", PGDATABASE=dbname)
        self.dsn = pg.dsn(dbname, "pgpart_owner")

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def settings(self, apps: list[str], engine: str, extra: str = "") -> None:
        self.write(
            "proj/settings.py",
            SETTINGS.format(apps=", ".join(repr(a) for a in apps), engine=engine, extra=extra),
        )

    def manage(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if ok:
            assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            cur = c.execute(statement, params)
            return cur.fetchall() if cur.description else []


def _partitions(project: Project) -> list[tuple[str, str, int]]:
    """(name, bound, oid) of shop_order's partitions, in name order."""
    return [
        (r[0], r[1], int(r[2]))
        for r in project.sql(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.oid::bigint FROM pg_inherits AS i"
            " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'shop_order'::regclass ORDER BY 1"
        )
    ]


def _rows(project: Project) -> list[tuple[Any, ...]]:
    return project.sql("SELECT tableoid::regclass::text, id, created_at, amount FROM shop_order ORDER BY id")


def test_a_psqlextra_project_moves_to_pgpart(pg: Any, dbname: str, tmp_path: Path) -> None:
    with psycopg.connect(pg.dsn(dbname), autocommit=True) as conn:
        require_extension(conn, "hstore")  # psqlextra's backend creates it on every connection
    project = Project(tmp_path / "site", pg, dbname)
    # -- the psqlextra project, as its users build it -------------------------------
    project.write("manage.py", MANAGE)
    project.write("proj/__init__.py", "")
    project.write("shop/__init__.py", "")
    project.write("shop/models.py", PSQLEXTRA_MODELS)
    project.write("shop/partitioning.py", MANAGER)
    psqlextra_apps = ["django.contrib.contenttypes", "django.contrib.auth", "psqlextra", "shop"]
    project.settings(psqlextra_apps, "psqlextra.backend", PSQLEXTRA_EXTRA)
    made = project.manage("pgmakemigrations", "shop")
    assert "Create partitioned model Order" in made.stdout
    assert "PostgresAddDefaultPartition" in (project.root / "shop/migrations/0001_initial.py").read_text()
    project.manage("migrate")
    project.manage("pgpartition", "--yes")
    now = dt.datetime.now(UTC)
    this_month = dt.datetime(now.year, now.month, 1, tzinfo=UTC)
    project.sql(
        "INSERT INTO shop_order (created_at, amount) SELECT %s::timestamptz + g * interval '7 hours', g"
        " FROM generate_series(1, 60) AS g",
        [this_month],
    )
    before = _partitions(project)
    rows = _rows(project)
    assert len(before) == 4  # psqlextra's: this month and 2 ahead (count=3), and the default
    assert [name for name, bound, _ in before if bound == "DEFAULT"] == ["shop_order_default"]
    assert len(rows) == 60
    assert not [r for r in rows if r[0] == "shop_order_default"]

    # -- docs/django.md: moving from django-postgres-extra ------------------------------
    # 1. pgpart's app beside psqlextra; 2. the extension
    project.settings([*psqlextra_apps, "pgpart.django"], "psqlextra.backend", PSQLEXTRA_EXTRA)
    project.manage("pgpart", "install")
    # 3. the declaration: pgpart sees the psqlextra table as partitioned (no E002)
    project.write("shop/models.py", PSQLEXTRA_MODELS + DECLARATION)
    checked = project.manage("check", ok=False)
    assert checked.returncode == 0, checked.stderr
    assert "pgpart.E002" not in checked.stderr + checked.stdout
    # 4. makemigrations writes the adoption, migrate applies it
    project.manage("makemigrations", "shop")
    adopting = sorted((project.root / "shop/migrations").glob("0002_*.py"))
    assert len(adopting) == 1
    assert "AdoptPartitionedModel" in adopting[0].read_text()
    assert "psqlextra" not in adopting[0].read_text()
    shown = project.manage("sqlmigrate", "shop", adopting[0].stem)
    assert "ensure_range" in shown.stdout
    project.manage("migrate")
    policy = project.sql("SELECT partition_interval, premake FROM pgpart.config WHERE parent = 'shop_order'::regclass")
    assert policy == [("1 mon", 3)]
    after = _partitions(project)
    assert set(before) <= set(after)  # every psqlextra partition kept: same table (oid), same bound
    assert len([p for p in after if p[1] == "DEFAULT"]) == 1  # the default adopted, not a second one
    assert _rows(project) == rows  # data untouched, every row in the partition it was in
    status = project.manage("pgpart", "check", ok=False)
    assert status.returncode == 0, status.stdout + status.stderr

    # 5. psqlextra out of the migrations (files only), 6. out of the models and settings
    project.write("shop/models.py", PLAIN_MODELS)
    rewritten = project.manage("pgpart", "rewrite-psqlextra-migrations", "shop")
    assert "rewrote shop.0001_initial" in rewritten.stdout
    initial = (project.root / "shop/migrations/0001_initial.py").read_text()
    assert "psqlextra" not in initial
    assert "CreatePartitionedModel" in initial
    (project.root / "shop/partitioning.py").unlink()
    project.settings(["django.contrib.contenttypes", "django.contrib.auth", "pgpart.django", "shop"],
                     "django.db.backends.postgresql")  # fmt: skip
    # 7. uninstalled: psqlextra cannot be imported any more
    project.write("blocked/psqlextra/__init__.py", 'raise ImportError("django-postgres-extra is uninstalled")\n')
    project.env["PYTHONPATH"] = str(project.root / "blocked")
    blocked = subprocess.run(
        [sys.executable, "-c", "import psqlextra"], env=project.env, capture_output=True, text=True, check=False
    )
    assert blocked.returncode != 0
    assert "uninstalled" in blocked.stderr
    no_changes = project.manage("makemigrations", "--check", "--dry-run", ok=False)
    assert no_changes.returncode == 0, no_changes.stdout + no_changes.stderr
    assert "No changes detected" in no_changes.stdout
    plan = project.manage("migrate", "--plan")
    assert "No planned migration operations" in plan.stdout
    project.manage("check", "--database", "default")
    # pgpart maintains the table: the next months, rows where they were
    project.manage("pgpart", "maintain", "--yes", "--now", (this_month + dt.timedelta(days=130)).isoformat())
    grown = _partitions(project)
    assert set(before) <= set(grown)
    assert len(grown) > len(after)
    assert _rows(project) == rows
    inserted = project.manage(
        "shell", "-c",
        textwrap.dedent(f"""\
            import datetime as dt
            from shop.models import Order
            at = dt.datetime({now.year}, {now.month}, 2, tzinfo=dt.timezone.utc)
            o = Order.objects.create(created_at=at, amount=7)
            print(Order.objects.get(pk=o.pk).amount, Order.objects.count())
        """),
    )  # fmt: skip
    assert inserted.stdout.strip().splitlines()[-1].split() == ["7", "61"]  # (5.2's shell may say what it imported)
