"""Owner code through the Django command (issue 12 item 1, docs/security.md):
``manage.py pgpart maintain`` run by a superuser (as cron would) refuses the
model whose table's owner planted a row-level security policy that would make
it a superuser, reports it, and maintains the other models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from django_helpers import manage
from pgcluster import PgServer

PWN = """
CREATE FUNCTION public.pwn() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF session_user <> current_user THEN
        PERFORM set_config('role', session_user::text, true);
        ALTER ROLE pgpart_owner SUPERUSER;
        CREATE TABLE public.pwned_marker ();
        PERFORM set_config('role', 'pgpart_owner', true);
    END IF;
    RETURN true;
END $$
"""


@pytest.fixture
def planted(pg: PgServer, migrated_db: str) -> Iterator[psycopg.Connection[Any]]:
    """The migrated project's tables, owned by pgpart_owner, with pwn() behind
    a FORCE row-level security policy on the integer-keyed testapp_reading."""
    from django.db import connections

    connections.close_all()
    with psycopg.connect(pg.dsn(migrated_db, "pgpart_owner"), autocommit=True) as owner:
        owner.execute(PWN)
        owner.execute("INSERT INTO testapp_reading (batch, value) VALUES (5, 1)")
        owner.execute("ALTER TABLE testapp_reading ENABLE ROW LEVEL SECURITY")
        owner.execute("ALTER TABLE testapp_reading FORCE ROW LEVEL SECURITY")
        owner.execute("CREATE POLICY p ON testapp_reading USING (public.pwn())")
        with psycopg.connect(pg.dsn(migrated_db), autocommit=True) as admin:
            try:
                yield admin
            finally:
                admin.execute("ALTER ROLE pgpart_owner NOSUPERUSER")  # whatever happened, for the other tests


def test_django_maintain_as_superuser_refuses_the_planted_model(
    planted: psycopg.Connection[Any], pg: PgServer, migrated_db: str
) -> None:
    partitions_before = planted.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'testapp_reading'::regclass"
    ).fetchone()
    result = manage(pg, migrated_db, "pgpart", "maintain", "--yes", env={"PGPART_DJANGO_USER": "postgres"})
    assert result.returncode != 0
    assert "maintenance failed for some tables" in result.stderr
    assert "42501" in result.stdout
    assert "testapp_reading" in result.stdout
    assert "Traceback" not in result.stderr
    # the attacker gained nothing, the victim's table is untouched
    assert planted.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'pgpart_owner'").fetchone() == (False,)
    assert planted.execute("SELECT to_regclass('public.pwned_marker')").fetchone() == (None,)
    assert (
        planted.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'testapp_reading'::regclass").fetchone()
        == partitions_before
    )
    # the other models were maintained
    assert "testapp.Event (testapp_event)" in result.stdout


def test_django_maintain_as_the_owner_does_it_all(
    planted: psycopg.Connection[Any], pg: PgServer, migrated_db: str
) -> None:
    result = manage(pg, migrated_db, "pgpart", "maintain", "--yes")  # as pgpart_owner, the project's user
    assert result.returncode == 0, result.stdout + result.stderr
    assert planted.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'pgpart_owner'").fetchone() == (False,)
    assert planted.execute("SELECT to_regclass('public.pwned_marker')").fetchone() == (None,)
