"""``manage.py pgpart`` prints names from the database escaped, like the
``pgpart`` command (issue 12, item 5; see test_cli_hardening.py)."""

from __future__ import annotations

import re
from typing import Any

from psycopg import sql

from django_helpers import manage

HOSTILE = "p\x1b[2J\x1b]0;own\x07\u009b31m\x7f\u202e\nOK"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_partition_names_are_printed_escaped(pg: Any, migrated_db: str, superuser_sql: Any) -> None:
    [(partition,)] = superuser_sql(
        migrated_db,
        "SELECT c.oid::regclass::text FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'testapp_event'::regclass ORDER BY c.relname LIMIT 1",
    )
    superuser_sql(migrated_db, sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        sql.SQL(partition), sql.Identifier(HOSTILE)).as_string(None))  # fmt: skip
    runs = [
        manage(pg, migrated_db, "pgpart", "info", "--model", "testapp.Event"),
        manage(pg, migrated_db, "pgpart", "check", "--model", "testapp.Event"),
        manage(pg, migrated_db, "pgpart", "info", "--model", "testapp.\x1b[2J"),  # an error quoting the argument
    ]
    for done in runs:
        assert "Traceback" not in done.stderr, done.stderr
        for stream in (done.stdout, done.stderr):
            found = RAW_CONTROL.search(stream)
            assert found is None, f"raw {found.group()!r} in {stream!r}"
    assert "\\x1b[2J\\x1b]0;own\\x07\\u009b31m\\x7f\\u202e" in runs[0].stdout
    assert runs[2].returncode != 0
