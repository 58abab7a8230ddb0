"""Fixtures live in tests/fix_*.py plugins, registered here (and nowhere else):
fix_pg.py the server and databases, fix_tablespace.py real tablespaces,
fix_django.py the Django test project. Helpers that are not fixtures are plain
modules beside them (see docs/architecture.md, "Tests")."""

import os

import pytest

pytest_plugins = ["fix_pg", "fix_tablespace", "fix_django"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "version_independent: the same on every server (linters, built packages); "
        "scripts/test_versions.sh runs it in one version's run only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PGPART_VERSION_INDEPENDENT says where these ran when not here ("ran in
    # the pg15 run"); unset or "run" runs them, as `pytest` alone does.
    where = os.environ.get("PGPART_VERSION_INDEPENDENT", "run")
    if where == "run":
        return
    skip = pytest.mark.skip(reason=f"version-independent check: {where}")
    for item in items:
        if item.get_closest_marker("version_independent"):
            item.add_marker(skip)
