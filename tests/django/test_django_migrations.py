"""Django integration: makemigrations and migrate create partitioned tables,
their first partitions and their policy; backwards removes them."""

from __future__ import annotations

import importlib
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pgpart
from django_helpers import partitions, query
from paths import DJANGO_PROJECT

PARTITIONED = {
    "testapp_event": ("range", "created_at"),
    "testapp_reading": ("range", "batch"),
    "testapp_measurement": ("range", "taken_on"),
    "testapp_order": ("list", "region"),
    "testapp_visit": ("hash", "user_id"),
}
COMMITTED = DJANGO_PROJECT / "testapp" / "migrations"


@pytest.fixture
def migrations_dir(tmp_path: Path, django_db: str) -> Iterator[tuple[Path, str]]:
    """An empty migrations package for testapp (MIGRATION_MODULES points at it)."""
    from django.test import override_settings

    package = f"pgpart_tmp_migrations_{tmp_path.name.replace('-', '_')}"
    target = tmp_path / package
    target.mkdir()
    (target / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    with override_settings(MIGRATION_MODULES={"testapp": package}):
        yield target, package
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def _call(*args: str, **kwargs: Any) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out, **kwargs)
    return out.getvalue()


def _catalog() -> dict[str, tuple[str, str]]:
    rows = query(
        "SELECT c.relname, c.relkind::text, pg_get_partkeydef(c.oid) FROM pg_class AS c"
        " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relname LIKE 'testapp%%' AND NOT c.relispartition"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def _policies() -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in query("SELECT parent::text, strategy, key_column::text FROM pgpart.config")}


def _operations(module: str) -> list[tuple[str, dict[str, Any]]]:
    migration = importlib.import_module(module).Migration
    out = []
    for op in migration.operations:
        name, _, kwargs = op.deconstruct()
        kwargs = dict(kwargs)
        kwargs["fields"] = [(n, f.deconstruct()[1:]) for n, f in kwargs.get("fields", [])]
        kwargs.pop("options", None)  # index objects compare by identity
        out.append((name, kwargs))
    return out


def test_makemigrations_then_migrate_from_zero_and_back(migrations_dir: tuple[Path, str]) -> None:
    target, package = migrations_dir
    output = _call("makemigrations", "testapp")
    assert "Create partitioned model Event (RANGE on created_at)" in output
    text = (target / "0001_initial.py").read_text()
    assert text.count("pgpart.django.operations.CreatePartitionedModel(") == 5
    assert text.count("migrations.CreateModel(") == 1  # EventNote, a plain table
    # The committed migration of the test project is what makemigrations makes.
    assert _operations(f"{package}.0001_initial") == _operations("testapp.migrations.0001_initial")

    _call("migrate", verbosity=0)
    catalog = _catalog()
    for table, (method, key) in PARTITIONED.items():
        assert catalog[table] == ("p", f"{method.upper()} ({key})"), table
        assert partitions(table), f"{table} has no partitions"
    assert catalog["testapp_eventnote"] == ("r", None)
    assert _policies() == {table: (method, key) for table, (method, key) in PARTITIONED.items()}
    assert [p for p, _ in partitions("testapp_order")] == [
        "testapp_order_default",
        "testapp_order_eu",
        "testapp_order_us",
    ]
    assert len(partitions("testapp_visit")) == 4
    assert [b for _, b in partitions("testapp_reading")] == [
        "FOR VALUES FROM (0) TO (1000)",
        "FOR VALUES FROM (1000) TO (2000)",
        "FOR VALUES FROM (2000) TO (3000)",
    ]
    assert len(partitions("testapp_event")) == 3  # the month of now and premake 2
    # The database primary key holds the key; Django's pk stays `id`.
    pkey = query("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'testapp_event_pkey'")
    assert pkey == [("PRIMARY KEY (id, created_at)",)]

    assert "No changes detected" in _call("makemigrations", "--check", "--dry-run")
    assert "No changes detected" in _call("makemigrations", "testapp", "--check", "--dry-run")

    _call("migrate", "testapp", "zero", verbosity=0)
    assert _catalog() == {}
    assert query("SELECT count(*) FROM pg_class WHERE relname LIKE 'testapp%%'") == [(0,)]
    assert _policies() == {}


def test_committed_migrations_are_complete(migrated_db: str) -> None:
    assert "No changes detected" in _call("makemigrations", "--check", "--dry-run")
    assert "No migrations to apply" in _call("migrate")


def test_sqlmigrate_shows_the_calls_and_runs_nothing(django_db: str) -> None:
    output = _call("sqlmigrate", "testapp", "0001")
    assert 'PRIMARY KEY ("id", "created_at")) PARTITION BY RANGE ("created_at");' in output
    assert '"pgpart"."ensure_range"("parent" => \'testapp_event\'::regclass' in output
    assert '"pgpart"."create_list_partitions"' in output
    assert '"pgpart"."create_hash_partitions"' in output
    assert query("SELECT count(*) FROM pgpart.config") == [(0,)]
    assert query("SELECT count(*) FROM pg_class WHERE relname LIKE 'testapp%%'") == [(0,)]


def test_policy_change_makes_an_alter_partitioning(
    migrations_dir: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from testapp.models import Event

    target, _ = migrations_dir
    shutil.copy(COMMITTED / "0001_initial.py", target / "0001_initial.py")
    _call("migrate", verbosity=0)
    assert len(partitions("testapp_event")) == 3

    monkeypatch.setattr(Event.Partitioning, "premake", 5)
    monkeypatch.setattr(Event.Partitioning, "retention", "6 months")
    # migrate's own autodetector sees the change that has no migration yet.
    assert "have changes that are not yet reflected" in _call("migrate")
    output = _call("makemigrations", "testapp")
    assert "Alter partitioning of Event" in output
    (second,) = [p for p in target.iterdir() if p.name.startswith("0002")]
    text = second.read_text()
    assert "pgpart.django.operations.AlterPartitioning(" in text
    assert "'premake': 5" in text
    assert "'retention': '6 months'" in text

    _call("migrate", verbosity=0)
    assert len(partitions("testapp_event")) == 6
    assert query("SELECT premake, retention FROM pgpart.config WHERE parent = 'testapp_event'::regclass") == [
        (5, "6 mons")
    ]
    assert "No changes detected" in _call("makemigrations", "--check", "--dry-run")

    # Backwards restores the previous policy (partitions made meanwhile stay).
    _call("migrate", "testapp", "0001", verbosity=0)
    assert query("SELECT premake, retention FROM pgpart.config WHERE parent = 'testapp_event'::regclass") == [
        (2, "3 mons")
    ]


def test_deleting_a_partitioned_model(migrations_dir: tuple[Path, str]) -> None:
    from django.apps import apps

    target, _ = migrations_dir
    shutil.copy(COMMITTED / "0001_initial.py", target / "0001_initial.py")
    _call("migrate", verbosity=0)
    app = apps.get_app_config("testapp")
    visit = app.models.pop("visit")
    try:
        apps.clear_cache()
        output = _call("makemigrations", "testapp", "--name", "drop_visit")
        assert "Delete partitioned model Visit" in output
        _call("migrate", verbosity=0)
        assert "testapp_visit" not in _catalog()
        assert "testapp_visit" not in _policies()
        _call("migrate", "testapp", "0001", verbosity=0)
        assert _catalog()["testapp_visit"] == ("p", "HASH (user_id)")
        assert len(partitions("testapp_visit")) == 4
    finally:
        app.models["visit"] = visit
        apps.clear_cache()


def test_install_pgpart_operation(django_db: str, superuser_sql: Any) -> None:
    """InstallPgpart() in a migration: where pgpart is missing (a test
    database Django made from template1, say) the script shipped with the
    client installs it, for a role that may not CREATE EXTENSION too."""
    from django.db import connection, connections
    from django.db.migrations.state import ProjectState

    from pgpart import PgpartWarning
    from pgpart.django.operations import InstallPgpart

    connections.close_all()
    superuser_sql(django_db, "DROP EXTENSION pgpart CASCADE")
    superuser_sql(django_db, "DROP SCHEMA IF EXISTS pgpart CASCADE")
    op = InstallPgpart()
    assert op.deconstruct() == ("InstallPgpart", [], {})
    superuser_sql(django_db, f"GRANT CREATE ON DATABASE {django_db} TO pgpart_owner")  # as the owner of its database
    with pytest.warns(PgpartWarning, match="event trigger"), connection.schema_editor() as editor:
        op.database_forwards("testapp", editor, ProjectState(), ProjectState())
    (comment,) = query("SELECT pg_catalog.obj_description('pgpart'::regnamespace, 'pg_namespace')")[0]
    assert comment.startswith(f"pgpart {pgpart.__version__} (installed from the script")
    _call("migrate", "testapp", verbosity=0)
    assert len(partitions("testapp_event")) == 3
