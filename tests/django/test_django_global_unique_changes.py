"""Django: uniqueness changed on an existing partitioned model (issue 17
item 4; docs/django.md "Unique fields and foreign keys across partitions").

``unique=True`` toggled (AlterField), a unique field added and removed
(AddField/RemoveField), a ``UniqueConstraint`` without the key added and
removed (AddConstraint/RemoveConstraint), ``unique_together`` changed, and
an enforced ForeignKey to such a field added to an existing model: the
autodetector emits pgpart's ``GlobalUnique*`` operations, ``makemigrations``
+ ``migrate`` just work, forwards and backwards, and the database enforces
what the models say. A small project of its own (tests/django_shop.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from django_shop import Shop, make_shop

BEFORE = """

class Account(models.Model):
    created = models.DateTimeField()
    email = models.EmailField()
    code = models.CharField(max_length=12)
    name = models.CharField(max_length=50)

    class Partitioning:
        key = "created"
        interval = "1 month"
        premake = 2


class Purchase(models.Model):
    amount = models.IntegerField()
"""

UNIQUE = """

class Account(models.Model):
    created = models.DateTimeField()
    email = models.EmailField(unique=True)
    code = models.CharField(max_length=12)
    name = models.CharField(max_length=50)
    handle = models.CharField(max_length=20, unique=True, null=True)

    class Partitioning:
        key = "created"
        interval = "1 month"
        premake = 2

    class Meta:
        unique_together = [("name", "code")]
        constraints = [models.UniqueConstraint(fields=["code"], name="account_code_once")]


class Purchase(models.Model):
    amount = models.IntegerField()
    account = models.ForeignKey(Account, to_field="email", on_delete=models.CASCADE, null=True)
"""

BY_PK = """
    account = models.ForeignKey(Account, on_delete=models.CASCADE, null=True)
"""

ALL = [
    ("account_code_once", ["code"]),
    ("shop_account_email_gkey", ["email"]),
    ("shop_account_handle_gkey", ["handle"]),
    ("shop_account_name_code_gkey", ["name", "code"]),
]


def _insert(c: psycopg.Connection[Any], month: int, email: str, code: str, name: str, handle: str | None) -> None:
    c.execute(
        "INSERT INTO shop_account (created, email, code, name, handle)"
        " VALUES (now() + make_interval(months => %s), %s, %s, %s, %s)",
        [month, email, code, name, handle],
    )


def _refused(shop: Shop) -> None:
    """Each global constraint refuses a duplicate in another partition."""
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        _insert(c, 0, "ada@example.org", "A1", "ada", "ada")
        for values, constraint in [
            (("ada@example.org", "B1", "bob", "bob"), "shop_account_email_gkey"),
            (("bob@example.org", "A1", "bob", "bob"), "account_code_once"),
            (("bob@example.org", "B1", "bob", "ada"), "shop_account_handle_gkey"),
        ]:
            with pytest.raises(psycopg.errors.UniqueViolation) as dup:
                _insert(c, 1, *values)
            assert dup.value.diag.constraint_name == constraint
        _insert(c, 1, "bob@example.org", "B1", "bob", None)
        _insert(c, 1, "cy@example.org", "C1", "cy", None)  # NULL handles do not conflict
        assert c.execute("SELECT count(DISTINCT tableoid) FROM shop_account").fetchone() == (2,)
        # the foreign key added to the existing model references the email's side table
        c.execute("INSERT INTO shop_purchase (amount, account_id) VALUES (1, 'bob@example.org')")
        with psycopg.connect(shop.dsn) as tx:
            tx.execute("INSERT INTO shop_purchase (amount, account_id) VALUES (2, 'nobody@example.org')")
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                tx.commit()


def test_uniqueness_added_then_removed_on_an_existing_model(pg: Any, dbname: str, tmp_path: Path) -> None:
    shop = make_shop(pg, dbname, tmp_path, ["shop"])
    shop.models("shop", BEFORE)
    shop.ok("makemigrations", "shop")
    shop.ok("migrate", "shop")
    assert shop.global_uniques("shop_account") == []

    # uniqueness added: AlterField, AddField, AddConstraint, AlterUniqueTogether, an enforced ForeignKey
    shop.models("shop", UNIQUE)
    shop.ok("check")
    shop.ok("makemigrations", "shop")
    adding = shop.migration("shop", "0002")
    for op in ["AlterField", "AddField", "AddConstraint", "AlterUniqueTogether"]:
        assert f"pgpart.django.operations.GlobalUnique{op}(" in adding, op
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")
    shown = shop.ok("sqlmigrate", "shop", "0002")
    for name, _ in ALL:
        assert f"constraint_name => '{name}'::name" in shown, name
    assert 'REFERENCES "shop_account_email_gkey_values" ("email")' in shown
    assert "UNIQUE" not in shown  # no per-partition unique constraint asked of PostgreSQL
    shop.ok("migrate", "shop")
    assert shop.global_uniques("shop_account") == ALL
    assert shop.query(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'shop_account'::regclass AND indisunique AND NOT indisprimary"
    ) == [(0,)]
    _refused(shop)

    # a unique field renamed: its global constraint follows (dropped and made again under the new name)
    shop.models("shop", UNIQUE.replace("handle = ", "nick = "))
    made = shop.ok("makemigrations", "shop", answers="y\n")
    assert "Rename field handle on account to nick" in made
    assert "pgpart.django.operations.GlobalUniqueRenameField(" in shop.migration("shop", "0003")
    shop.ok("migrate", "shop")
    renamed = [("shop_account_nick_gkey", ["nick"]) if name == "shop_account_handle_gkey" else (name, columns)
               for name, columns in ALL]  # fmt: skip
    assert shop.global_uniques("shop_account") == sorted(renamed)
    with psycopg.connect(shop.dsn, autocommit=True) as c, pytest.raises(psycopg.errors.UniqueViolation) as dup:
        c.execute(
            "INSERT INTO shop_account (created, email, code, name, nick)"
            " VALUES (now() + interval '1 month', 'dan@example.org', 'D1', 'dan', 'ada')"
        )
    assert dup.value.diag.constraint_name == "shop_account_nick_gkey"

    # uniqueness removed; the relation that needed the email's now by the pk (which gets a constraint of its own)
    shop.models("shop", BEFORE + BY_PK)
    shop.ok("makemigrations", "shop")
    removing = shop.migration("shop", "0004")
    for op in ["AlterField", "RemoveField", "RemoveConstraint", "AlterUniqueTogether"]:
        assert f"pgpart.django.operations.GlobalUnique{op}(" in removing, op
    # the pk's constraint before the relation uses it, the email's dropped after the relation left it
    relation = removing.index("GlobalUniqueAlterField(\n            model_name='purchase'")
    assert removing.index("AddGlobalUnique(") < relation < removing.index("model_name='account',\n            name='email'")
    shop.query("DELETE FROM shop_purchase RETURNING id")  # its column's type changes (email -> id)
    shop.ok("migrate", "shop")
    assert shop.global_uniques("shop_account") == [("shop_account_id_gkey", ["id"])]
    assert shop.query("SELECT to_regclass('shop_account_email_gkey_values')") == [(None,)]
    assert shop.query(
        "SELECT confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = 'shop_purchase'::regclass"
    ) == [("shop_account_id_gkey_values",)]
    with psycopg.connect(shop.dsn, autocommit=True) as c:  # duplicates are fine again
        c.execute(
            "INSERT INTO shop_account (created, email, code, name) VALUES (now(), 'bob@example.org', 'B1', 'bob2')"
        )
    assert "No changes detected" in shop.ok("makemigrations", "--check", "--dry-run")

    # backwards: 0004 and 0003 undone bring every constraint back (the duplicate first removed), 0002 undone
    # drops them
    with psycopg.connect(shop.dsn, autocommit=True) as c:
        c.execute("DELETE FROM shop_account WHERE name = 'bob2'")
    shop.ok("migrate", "shop", "0002")
    assert shop.global_uniques("shop_account") == ALL
    assert shop.query(
        "SELECT confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = 'shop_purchase'::regclass"
    ) == [("shop_account_email_gkey_values",)]
    shop.ok("migrate", "shop", "0001")
    assert shop.global_uniques("shop_account") == []
    assert shop.query("SELECT count(*) FROM pgpart.global_unique_info()") == [(0,)]
