"""Fixtures live in tests/fix_*.py plugins, registered here (and nowhere else):
fix_pg.py the server and databases, fix_tablespace.py real tablespaces,
fix_django.py the Django test project. Helpers that are not fixtures are plain
modules beside them (see docs/architecture.md, "Tests")."""

pytest_plugins = ["fix_pg", "fix_tablespace", "fix_django"]
