"""Fixtures live in tests/fix_*.py plugins; see fix_pg.py for the database ones."""

pytest_plugins = ["fix_pg"]
