"""Django: unique fields and foreign keys across partitions (issue 17 item 4;
docs/django.md "Unique fields and foreign keys across partitions").

A small project of its own in tmp_path (an app ``shop`` with its own
models, so the shared test project stays as it is): a partitioned
``Account`` with ``email = models.EmailField(unique=True)`` and a plain
``Purchase`` holding an enforced ForeignKey to it by email. makemigrations
emits AddGlobalUnique and ReferenceGlobalUnique, sqlmigrate shows them,
migrate runs forwards and backwards, and the database refuses a duplicate
email across partitions (also from a concurrent Django session, which waits
and then fails with IntegrityError) and a purchase of a missing account (at
commit)."""

from __future__ import annotations

import itertools
import os
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
SECRET_KEY = "tests-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "pgpart.django", "shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
                         "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

MODELS = """
from django.db import models


class Account(models.Model):
    created = models.DateTimeField()
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=50, default="")

    class Partitioning:
        key = "created"
        interval = "1 month"
        premake = 2


class Purchase(models.Model):
    account = models.ForeignKey(Account, to_field="email", on_delete=models.CASCADE)
    amount = models.IntegerField()
"""

# Django in the project's environment: create an account, report the outcome.
CREATE_ACCOUNT = """
from django.db import IntegrityError
from django.utils import timezone
from shop.models import Account
try:
    Account.objects.create(created=timezone.now(), email="race@example.org")
    print("CREATED")
except IntegrityError as exc:
    print("IntegrityError", exc.__cause__.diag.constraint_name)
"""


@dataclass
class Shop:
    root: Path
    env: dict[str, str]
    dsn: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=self.root, env=self.env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(statement.encode(), params).fetchall()


@pytest.fixture
def shop(pg: Any, _admin: psycopg.Connection[Any], tmp_path: Path) -> Iterator[Shop]:
    database = f"gunique_{next(_numbers)}"
    _admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE pgpart_template").format(sql.Identifier(database)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DJANGO_"))}
    env.update(
        PGHOST=pg.host, PGPORT=str(pg.port), PGUSER="postgres", PGDATABASE=database,
        DJANGO_SETTINGS_MODULE="site_settings", PYTHONPATH=str(tmp_path),
    )  # fmt: skip
    (tmp_path / "site_settings.py").write_text(SETTINGS)
    app = tmp_path / "shop"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    yield Shop(tmp_path, env, pg.dsn(database))
    _admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def test_unique_and_foreign_key_across_partitions(shop: Shop) -> None:
    shop.ok("check")  # neither pgpart.E003 nor pgpart.E004
    made = shop.ok("makemigrations", "shop")
    assert "Make email of Account unique across partitions (shop_account_email_gkey)" in made
    assert "Point the foreign key of Purchase.account at shop_account_email_gkey_values" in made
    migration = (shop.root / "shop" / "migrations" / "0001_initial.py").read_text()
    assert "pgpart.django.operations.AddGlobalUnique(" in migration
    assert "pgpart.django.operations.ReferenceGlobalUnique(" in migration
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")

    shown = shop.ok("sqlmigrate", "shop", "0001")
    assert "SELECT unique_constraint FROM pgpart.add_global_unique(parent => 'shop_account'::regclass" in shown
    assert 'REFERENCES "shop_account_email_gkey_values" ("email") DEFERRABLE INITIALLY DEFERRED' in shown
    assert "UNIQUE" not in shown.split("PARTITION BY")[0]  # the table SQL has no per-partition UNIQUE
    assert shop.query("SELECT to_regclass('shop_account')") == [(None,)]  # sqlmigrate ran nothing

    shop.ok("migrate", "shop")
    assert shop.query("SELECT unique_constraint::text, state FROM pgpart.global_unique_info('shop_account')") == [
        ("shop_account_email_gkey", "valid")
    ]
    assert shop.query(
        "SELECT confrelid::regclass::text, condeferrable, condeferred FROM pg_constraint"
        " WHERE conrelid = 'shop_purchase'::regclass AND contype = 'f'"
    ) == [("shop_account_email_gkey_values", True, True)]

    # a duplicate in another partition is refused
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        c.execute("INSERT INTO shop_account (created, email, name) VALUES (now(), 'ada@example.org', '')")
        with pytest.raises(psycopg.errors.UniqueViolation) as dup:
            c.execute(
                "INSERT INTO shop_account (created, email, name)"
                " VALUES (now() + interval '1 month', 'ada@example.org', '')"
            )
        assert dup.value.diag.constraint_name == "shop_account_email_gkey"
        assert c.execute("SELECT count(DISTINCT tableoid) FROM shop_account").fetchone() == (1,)
        c.execute(
            "INSERT INTO shop_account (created, email, name)"
            " VALUES (now() + interval '1 month', 'grace@example.org', '')"
        )
        assert c.execute("SELECT count(DISTINCT tableoid) FROM shop_account").fetchone() == (2,)

        # the foreign key: a purchase of an account in either partition, none of a missing one (at commit)
        c.execute(
            "INSERT INTO shop_purchase (account_id, amount) VALUES ('ada@example.org', 1), ('grace@example.org', 2)"
        )
        with psycopg.connect(shop.dsn) as tx:
            tx.execute("INSERT INTO shop_purchase (account_id, amount) VALUES ('nobody@example.org', 3)")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()
        # a referenced account cannot go while its purchases remain (NO ACTION, at commit)
        with psycopg.connect(shop.dsn) as tx:
            tx.execute("DELETE FROM shop_account WHERE email = 'grace@example.org'")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()
        # Django's on_delete=CASCADE is Django's collector: the ORM deletes both
        deleted = shop.ok("shell", "-c", "from shop.models import Account; "
                          "print(Account.objects.filter(email='grace@example.org').delete())")  # fmt: skip
        assert "'shop.Purchase': 1, 'shop.Account': 1" in deleted

    # backwards: the tables, the side table and the registration go
    shop.ok("migrate", "shop", "zero")
    assert shop.query(
        "SELECT to_regclass('shop_account'), to_regclass('shop_purchase'),"
        " to_regclass('shop_account_email_gkey_values')"
    ) == [(None, None, None)]
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info()") == [(0,)]
    shop.ok("migrate", "shop")  # and forwards again
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info('shop_account')") == [(1,)]


def test_concurrent_django_session_waits_then_fails(shop: Shop) -> None:
    shop.ok("makemigrations", "shop")
    shop.ok("migrate", "shop")
    with psycopg.connect(shop.dsn) as first:
        # the first session holds the email, uncommitted, in next month's partition
        first.execute(
            "INSERT INTO shop_account (created, email, name)"
            " VALUES (now() + interval '1 month', 'race@example.org', '')"
        )
        second = subprocess.Popen(
            [sys.executable, "-m", "django", "shell", "-c", CREATE_ACCOUNT],
            cwd=shop.root, env=shop.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            # the Django session waits for the first one's transaction (pg_locks, never time)
            with psycopg.connect(shop.dsn, autocommit=True) as admin:
                for _ in range(1_000_000):
                    waiting = admin.execute(
                        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                        " WHERE NOT l.granted AND a.datname = current_database()"
                    ).fetchone()
                    if waiting != (0,) or second.poll() is not None:
                        break
                assert second.poll() is None, second.communicate()
                assert waiting == (1,)
            first.commit()
            out, err = second.communicate(timeout=120)
        finally:
            if second.poll() is None:
                second.kill()
    assert out.split()[-2:] == ["IntegrityError", "shop_account_email_gkey"], (out, err)
    assert shop.query("SELECT count(*) FROM shop_account WHERE email = 'race@example.org'") == [(1,)]


TICKETS = """

class Ticket(models.Model):
    day = models.DateField()
    row = models.IntegerField()
    seat = models.IntegerField()
    code = models.CharField(max_length=12)

    class Partitioning:
        key = "day"
        interval = "1 month"
        premake = 2

    class Meta:
        unique_together = [("row", "seat")]
        constraints = [models.UniqueConstraint(fields=["code"], name="ticket_code_once")]
"""


def test_unique_together_and_unique_constraint_then_the_model_deleted(shop: Shop) -> None:
    models_py = shop.root / "shop" / "models.py"
    models_py.write_text(MODELS + TICKETS)
    made = shop.ok("makemigrations", "shop")
    assert "Make row, seat of Ticket unique across partitions (shop_ticket_row_seat_gkey)" in made
    assert "Make code of Ticket unique across partitions (ticket_code_once)" in made
    shop.ok("migrate", "shop")
    assert shop.query(
        "SELECT unique_constraint::text, columns::text[] FROM pgpart.global_unique_info('shop_ticket') ORDER BY 1"
    ) == [("shop_ticket_row_seat_gkey", ["row", "seat"]), ("ticket_code_once", ["code"])]
    # no unique index on the partitioned table itself (PostgreSQL would have refused it)
    assert shop.query(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'shop_ticket'::regclass AND indisunique AND NOT indisprimary"
    ) == [(0,)]
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        c.execute("INSERT INTO shop_ticket (day, row, seat, code) VALUES (current_date, 1, 1, 'A')")
        with pytest.raises(psycopg.errors.UniqueViolation) as same_seat:
            c.execute("INSERT INTO shop_ticket (day, row, seat, code) VALUES (current_date + 40, 1, 1, 'B')")
        assert same_seat.value.diag.constraint_name == "shop_ticket_row_seat_gkey"
        with pytest.raises(psycopg.errors.UniqueViolation) as same_code:
            c.execute("INSERT INTO shop_ticket (day, row, seat, code) VALUES (current_date + 40, 1, 2, 'A')")
        assert same_code.value.diag.constraint_name == "ticket_code_once"
        c.execute("INSERT INTO shop_ticket (day, row, seat, code) VALUES (current_date + 40, 1, 2, 'B')")

    # the model deleted: DeletePartitionedModel drops its global constraints, then the table
    models_py.write_text(MODELS)
    assert "Delete partitioned model Ticket" in shop.ok("makemigrations", "shop")
    shop.ok("migrate", "shop")
    assert shop.query(
        "SELECT to_regclass('shop_ticket'), to_regclass('shop_ticket_row_seat_gkey_values'),"
        " to_regclass('ticket_code_once_values')"
    ) == [(None, None, None)]
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info('shop_account')") == [(1,)]
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info()") == [(1,)]
    # and back: the table and both constraints again
    shop.ok("migrate", "shop", "0001")
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info('shop_ticket')") == [(2,)]
