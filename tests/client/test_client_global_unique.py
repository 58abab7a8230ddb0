"""Client.add_global_unique / build_global_unique / drop_global_unique /
global_unique_info (issue 17 item 1's client face; docs/global-unique.md):
one SQL call each, typed results, errors as pgpart.errors, on psycopg 3 and
the DB-API drivers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pg8000.dbapi
import psycopg
import psycopg2
import pytest
from psycopg import sql

import pgpart
from clock import CLIENT_NOW
from pgcluster import PgServer
from pgpart import errors
from tables import make_events


def _events(conn: psycopg.Connection[Any], name: str = "events") -> pgpart.Client:
    """events (daily from CLIENT_NOW, premake 2) with an email column."""
    make_events(conn, name)
    conn.execute(sql.SQL("ALTER TABLE public.{} ADD COLUMN email text").format(sql.Identifier(name)))
    client = pgpart.Client(conn)
    client.ensure(f"public.{name}", interval="1 day", premake=2, now_at=CLIENT_NOW)
    return client


def test_add_info_drop(conn: psycopg.Connection[Any]) -> None:
    client = _events(conn)
    conn.execute("INSERT INTO public.events (created_at, email) VALUES ('2025-03-10 08:00+00', 'ada@example.org')")
    made = client.add_global_unique("public.events", ["email"])
    assert made == pgpart.GlobalUnique("events_email_gkey", "events_email_gkey_values", "valid", 3)
    # the existing row was copied: a duplicate in another partition is refused, naming the constraint
    with pytest.raises(psycopg.errors.UniqueViolation) as dup:
        conn.execute("INSERT INTO public.events (created_at, email) VALUES ('2025-03-11 08:00+00', 'ada@example.org')")
    assert dup.value.diag.constraint_name == "events_email_gkey"

    [info] = client.global_unique_info("public.events")
    assert info == pgpart.GlobalUniqueInfo(
        "events", "events_email_gkey", ("email",), False, "events_email_gkey_values", "valid", 3, 0, 0, None
    )
    assert client.global_unique_info() == [info]
    # called again with the same name and columns: the repair path, nothing to do
    assert client.add_global_unique("public.events", ["email"], name="events_email_gkey") == made

    client.drop_global_unique("public.events", "events_email_gkey")
    assert client.global_unique_info("public.events") == []
    assert conn.execute("SELECT to_regclass('public.events_email_gkey_values')").fetchone() == (None,)
    conn.execute("INSERT INTO public.events (created_at, email) VALUES ('2025-03-11 08:00+00', 'ada@example.org')")


def test_options_pass_through(conn: psycopg.Connection[Any]) -> None:
    client = _events(conn)
    conn.execute(
        "INSERT INTO public.events (created_at, email, payload)"
        " SELECT '2025-03-10 01:00+00'::timestamptz + g * interval '1 hour', 'u' || g || '@x', 'p' || g"
        " FROM generate_series(1, 40) AS g"
    )
    two = client.add_global_unique(
        "public.events", ["email", "payload"], name="events_pair", nulls_not_distinct=True, build=False,
        lock_timeout="1s", lock_retries=3,
    )  # fmt: skip
    assert (two.unique_constraint, two.side_table, two.state) == ("events_pair", "events_pair_values", "building")
    [info] = client.global_unique_info("public.events")
    assert info.columns == ("email", "payload")
    assert info.nulls_not_distinct
    assert info.state == "building"

    client.build_global_unique("public.events", "events_pair", batch_pages=1)
    assert [i.state for i in client.global_unique_info("public.events")] == ["valid"]
    assert conn.execute("SELECT count(*) FROM public.events_pair_values").fetchone() == (40,)
    # NULLS NOT DISTINCT: two rows with NULL payload and the same email collide
    conn.execute("INSERT INTO public.events (created_at, email) VALUES ('2025-03-10 08:00+00', 'n@x')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO public.events (created_at, email) VALUES ('2025-03-11 08:00+00', 'n@x')")


def test_build_needs_top_level(conn: psycopg.Connection[Any], connect: Any) -> None:
    _events(conn)
    pgpart.Client(conn).add_global_unique("public.events", ["email"], build=False)
    tx = connect(autocommit=False)
    tx.execute("SELECT 1")
    with pytest.raises(errors.TransactionStateError):
        pgpart.Client(tx).build_global_unique("public.events", "events_email_gkey")


def test_errors_are_typed(conn: psycopg.Connection[Any], other_conn: psycopg.Connection[Any]) -> None:
    client = _events(conn)
    conn.execute("CREATE VIEW public.plain AS SELECT 1 AS id, 'x'::text AS email")  # a plain table is accepted
    with pytest.raises(errors.PgpartError) as not_partitioned:
        client.add_global_unique("public.plain", ["email"])
    # invalid_table_definition (docs/global-unique.md says 42P17, the SQL raises 42P16)
    assert not_partitioned.value.sqlstate == "42P16"
    assert not_partitioned.value.hint
    with pytest.raises(errors.UndefinedTableError):
        client.add_global_unique("public.nowhere", ["email"])
    with pytest.raises(errors.PgpartError) as unknown_column:
        client.add_global_unique("public.events", ["nope"])
    assert unknown_column.value.sqlstate == "42703"
    with pytest.raises(errors.InvalidArgumentError):
        client.add_global_unique("public.events", "email")  # one string, not a list of names
    with pytest.raises(errors.UndefinedObjectError):
        client.drop_global_unique("public.events", "no_such_gkey")
    with pytest.raises(errors.PermissionDeniedError):
        pgpart.Client(other_conn).add_global_unique("public.events", ["email"])

    conn.execute(
        "INSERT INTO public.events (created_at, email) VALUES"
        " ('2025-03-10 08:00+00', 'dup@x'), ('2025-03-11 08:00+00', 'dup@x')"
    )
    with pytest.raises(errors.PgpartError) as duplicates:
        client.add_global_unique("public.events", ["email"])
    assert duplicates.value.sqlstate == "23505"
    assert "dup@x" in (duplicates.value.detail or "")
    assert client.global_unique_info("public.events") == []  # the failed call left nothing


def _dbapi(driver: str, pg: PgServer, dbname: str) -> Any:
    if driver == "psycopg2":
        c = psycopg2.connect(host=pg.host, port=pg.port, dbname=dbname, user="postgres")
    else:
        c = pg8000.dbapi.connect(user="postgres", database=dbname, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
    c.autocommit = True
    return c


@pytest.fixture(params=["psycopg2", "pg8000"])
def dbapi_conn(request: pytest.FixtureRequest, pg: PgServer, dbname: str) -> Iterator[Any]:
    c = _dbapi(request.param, pg, dbname)
    yield c
    c.close()


def test_over_dbapi_drivers(dbapi_conn: Any, conn: psycopg.Connection[Any]) -> None:
    _events(conn)
    client = pgpart.Client(dbapi_conn)
    made = client.add_global_unique("public.events", ["email", "payload"])
    assert made == pgpart.GlobalUnique("events_email_payload_gkey", "events_email_payload_gkey_values", "valid", 3)
    assert client.global_unique_info("public.events") == pgpart.Client(conn).global_unique_info("public.events")
    assert client.global_unique_info()[0].columns == ("email", "payload")
    client.drop_global_unique("public.events", "events_email_payload_gkey")
    with pytest.raises(errors.UndefinedObjectError):
        client.drop_global_unique("public.events", "events_email_payload_gkey")


def test_hostile_names(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        'CREATE TABLE public."Ev ""x"", y" (created_at timestamptz NOT NULL, "e""mail, {x}" text)'
        " PARTITION BY RANGE (created_at)"
    )
    client = pgpart.Client(conn)
    table = 'public."Ev ""x"", y"'
    client.ensure(table, interval="1 day", premake=1, now_at=CLIENT_NOW)
    made = client.add_global_unique(table, ['e"mail, {x}'], name='g "1"')
    assert (made.unique_constraint, made.side_table) == ('g "1"', '"g ""1""_values"')
    [info] = client.global_unique_info(table)
    assert info.columns == ('e"mail, {x}',)
    assert info.parent_table == '"Ev ""x"", y"'
    conn.execute('INSERT INTO public."Ev ""x"", y" (created_at, "e""mail, {x}") VALUES (%s, %s)', [CLIENT_NOW, "same"])
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            'INSERT INTO public."Ev ""x"", y" (created_at, "e""mail, {x}") VALUES (%s + interval \'1 day\', %s)',
            [CLIENT_NOW, "same"],
        )
    client.drop_global_unique(table, 'g "1"')
    assert client.global_unique_info(table) == []
