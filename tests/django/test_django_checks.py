"""Django integration: every system check of pgpart.django, provoked and
asserted by id; nothing runs at import time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from django_helpers import HERE, env_for, partitions, query


def _label(obj: Any) -> str:
    if hasattr(obj, "_meta"):
        return str(obj._meta.label)
    if hasattr(obj, "model"):
        return f"{obj.model._meta.label}.{obj.name}"
    return str(obj)


def _messages(app_label: str | None, *, database: bool) -> dict[str, list[str]]:
    """{object: [check ids]} of pgpart's messages."""
    from django.apps import apps
    from django.core import checks

    app_configs = None if app_label is None else [apps.get_app_config(app_label)]
    tags = [checks.Tags.database] if database else None
    found: dict[str, list[str]] = {}
    for message in checks.run_checks(app_configs=app_configs, tags=tags, databases=["default"] if database else None):
        if message.id and message.id.startswith("pgpart."):
            found.setdefault(_label(message.obj), []).append(message.id)
    return {k: sorted(v) for k, v in found.items()}


@pytest.fixture
def brokenapp(django_db: str) -> Iterator[None]:
    from django.conf import settings
    from django.test import override_settings

    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "brokenapp"]):
        yield


def test_static_checks_of_broken_declarations(brokenapp: None) -> None:
    assert _messages("brokenapp", database=False) == {
        "brokenapp.NoKey": ["pgpart.E001"],
        "brokenapp.MissingField": ["pgpart.E001"],
        "brokenapp.TwoColumns": ["pgpart.E001"],
        "brokenapp.JsonKey": ["pgpart.E001"],
        "brokenapp.PlainCreated": ["pgpart.E002"],
        "brokenapp.UniqueWithoutKey": ["pgpart.E003", "pgpart.E003"],
        "brokenapp.CompositeWithoutKey": ["pgpart.E003", "pgpart.W001"],
        "brokenapp.ManyTargets.targets": ["pgpart.E004"],
        "brokenapp.Repartitioned": ["pgpart.E005"],
        "brokenapp.BadMethod": ["pgpart.E006"],
        "brokenapp.BadInterval": ["pgpart.E006"],
        "brokenapp.Typo": ["pgpart.E006"],
        "brokenapp.HashWithDefault": ["pgpart.E006"],
        "brokenapp.Composite": ["pgpart.W001"],
    }


def test_check_messages_say_what_to_do(brokenapp: None) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "brokenapp")
    text = str(raised.value)
    assert "brokenapp.ManyTargets.targets: (pgpart.E004)" in text
    assert "brokenapp.EnforcedReference" not in text  # by the pk: enforced through a global unique constraint
    assert "through= model" in text
    assert "db_constraint=False" in text
    assert "CreatePartitionedModel" in text  # E002's hint
    assert "UniqueConstraint 'brokenapp_other_if_x' on ('other',) (with a condition" in text
    assert "unique=True on field 'code'" not in text  # a global unique constraint instead
    assert "the interval of time key 'ts' must be a string with a unit, got 1000" in text


def test_migrate_refuses_a_plain_create_model(brokenapp: None) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError, match=r"brokenapp\.PlainCreated: \(pgpart\.E002\)"):
        call_command("migrate", "brokenapp", verbosity=0, skip_checks=False)  # as on the command line
    assert query("SELECT count(*) FROM pg_class WHERE relname LIKE 'brokenapp%%'") == [(0,)]


def test_the_test_project_is_clean(django_db: str) -> None:
    assert _messages("testapp", database=False) == {"testapp.Measurement": ["pgpart.W001"]}  # silenced in settings
    assert _messages(None, database=True) == {}  # tables not created yet: nothing to say


def test_database_checks_on_broken_tables(brokenapp: None) -> None:
    from brokenapp.models import NotPartitioned
    from django.db import connection

    with connection.schema_editor() as editor:
        editor.create_model(NotPartitioned)
    query("CREATE TABLE brokenapp_otherkey (id bigint, ts timestamptz, n integer) PARTITION BY LIST (n)")
    assert _messages("brokenapp", database=True) == {
        "brokenapp.NotPartitioned": ["pgpart.E101"],
        "brokenapp.OtherKey": ["pgpart.E102"],
    }


def test_database_checks_on_a_migrated_project(
    migrated_db: str, superuser_sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testapp.models import Event

    assert _messages(None, database=True) == {}

    query("SELECT * FROM pgpart.set_policy('testapp_event', premake => 7)")
    query("INSERT INTO testapp_order (region, amount) VALUES ('jp', 1)")
    query("DELETE FROM pgpart.config WHERE parent = 'testapp_visit'::regclass")
    current = partitions("testapp_measurement")[0][0]
    query(f"ALTER TABLE testapp_measurement DETACH PARTITION {current}")
    query(f"DROP TABLE {current}")
    assert _messages(None, database=True) == {
        "testapp.Event": ["pgpart.W104", "pgpart.W111"],
        "testapp.Order": ["pgpart.W112"],
        "testapp.Visit": ["pgpart.W103"],
        "testapp.Measurement": ["pgpart.W110"],
    }

    # A declaration pgpart refuses for the existing partitions (another grid).
    monkeypatch.setattr(Event.Partitioning, "interval", "1 week")
    assert _messages("testapp", database=True)["testapp.Event"] == ["pgpart.E105", "pgpart.W111"]
    # Comparing applied nothing: the policy is what it was.
    assert query("SELECT premake, partition_interval FROM pgpart.config WHERE parent = 'testapp_event'::regclass") == [
        (7, "1 mon")
    ]

    from django.db import connections

    connections.close_all()
    superuser_sql(migrated_db, "DROP EXTENSION pgpart CASCADE")
    assert _messages(None, database=True) == {"None": ["pgpart.W100"]}


def test_nothing_runs_at_import_or_in_static_checks(pg: Any) -> None:
    # A database that cannot be reached: any query would fail.
    code = """
import django
django.setup()
import pgpart.django.autodetector, pgpart.django.checks, pgpart.django.db, pgpart.django.operations
import pgpart.django.schema, pgpart.django.management.commands.pgpart
import testapp.admin, testapp.models
from django.core.management import call_command
call_command("check")
from django.db import connections
assert connections["default"].connection is None, "a connection was opened"
print("no connection")
"""
    env = {
        **os.environ,
        **env_for("/nonexistent", pg.port, "nothing"),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "PYTHONPATH": str(HERE),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "no connection" in result.stdout
