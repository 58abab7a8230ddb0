"""The DB-API adapter: pgpart.Client over psycopg2, pg8000 (DB-API) and
pg8000.native connections, real ones, with the scenarios of the psycopg 3
tests; their errors map to the same pgpart.errors classes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.dbapi
import pg8000.native
import psycopg
import psycopg2
import psycopg2.extras
import pytest

import pgpart
from catalog import archived, count_rows, partition_names
from clock import CLIENT_NOW
from fix_pg import FreshDatabase
from pgcluster import PgServer
from pgpart import errors
from tables import EXPIRED, make_events, managed_events

DRIVERS = ["psycopg2", "pg8000", "pg8000.native"]
DriverConnect = Callable[..., Any]


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dbapi_connect(driver: str, pg: PgServer, dbname: str) -> Iterator[DriverConnect]:
    """dbapi_connect(user="postgres", autocommit=True) -> a connection of the
    driver under test to the test's database."""
    opened: list[Any] = []

    def connect(user: str = "postgres", autocommit: bool = True) -> Any:
        if driver == "psycopg2":
            c: Any = psycopg2.connect(pg.dsn(dbname, user))
            c.autocommit = autocommit
        elif driver == "pg8000":
            c = pg8000.dbapi.connect(user=user, database=dbname, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
            c.autocommit = autocommit
        else:
            assert autocommit, "pg8000.native has no transactions but explicit ones"
            c = pg8000.native.Connection(user=user, database=dbname, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
        opened.append(c)
        return c

    yield connect
    for c in opened:
        c.close()


def test_ensure_info_and_check(dbapi_connect: DriverConnect, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    client = pgpart.Client(dbapi_connect())
    first = client.ensure("public.events", interval="1 day", premake=2, now_at=CLIENT_NOW)
    assert first.created == ["public.events_p20250310", "public.events_p20250311", "public.events_p20250312"]
    assert client.ensure("public.events", interval="1 day", premake=2, now_at=CLIENT_NOW).created == []
    assert client.ensure("public.events", premake=3, now_at=CLIENT_NOW).created == ["public.events_p20250313"]
    plan = client.plan("public.events", premake=4, now_at=CLIENT_NOW)
    assert [s.partition for s in plan if s.action == "attach"] == ["public.events_p20250314"]
    assert plan == pgpart.Client(conn).plan("public.events", premake=4, now_at=CLIENT_NOW)
    assert client.info("public.events", now_at=CLIENT_NOW) == pgpart.Client(conn).info(
        "public.events", now_at=CLIENT_NOW
    )
    assert [p.partition for p in client.info(now_at=CLIENT_NOW)] == partition_names(conn, "public.events")
    assert client.check(now_at=CLIENT_NOW) == pgpart.Client(conn).check(now_at=CLIENT_NOW)
    report = client.ensure("public.events", now_at=dt.datetime(2025, 3, 20, tzinfo=dt.timezone.utc), dry_run=True)
    assert report.planned[-1] == "public.events_p20250323"


def test_errors_map_to_the_same_classes(
    driver: str, dbapi_connect: DriverConnect, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("CREATE TABLE public.plain (id int)")
    make_events(conn)
    client = pgpart.Client(dbapi_connect())
    with pytest.raises(errors.InvalidDefinitionError) as info:
        client.ensure("public.plain", interval="1 day")
    exc = info.value
    assert exc.sqlstate == "42P17" and exc.hint and exc.message
    assert (exc.schema_name, exc.table_name) == ("public", "plain")
    expected_driver_error = {"psycopg2": psycopg2.Error, "pg8000": pg8000.dbapi.DatabaseError}.get(
        driver, pg8000.native.DatabaseError
    )
    assert isinstance(exc.__cause__, expected_driver_error) and exc.driver_error is exc.__cause__

    with pytest.raises(errors.UndefinedTableError):
        client.ensure("public.nowhere", interval="1 day")
    with pytest.raises(errors.InvalidArgumentError) as bad:
        client.ensure("public.events", interval="1 day", premake=-1)
    assert bad.value.hint
    with pytest.raises(errors.PermissionDeniedError):
        pgpart.Client(dbapi_connect("pgpart_other")).ensure("public.events", interval="1 day")
    with pytest.raises(errors.NotManagedError):
        client.check("public.events")
    # the connection is still usable (each failed call ended its own transaction)
    assert client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW).created == [
        "public.events_p20250310"
    ]


def test_online_maintenance(dbapi_connect: DriverConnect, conn: psycopg.Connection[Any]) -> None:
    managed_events(conn)
    before = count_rows(conn, "public.events")
    client = pgpart.Client(dbapi_connect())
    plan = client.maintain(dry_run=True, now_at=CLIENT_NOW)
    assert [s.partition for _, steps in plan.plans for s in steps if s.action == "detach"] == [
        f"public.{p}" for p in EXPIRED
    ]
    report = client.maintain(now_at=CLIENT_NOW)
    assert report.ok, report.errors
    detached = [a for a in report.actions if a.action == "detach"]
    assert [a.partition for a in detached] == [f"public.{p}" for p in EXPIRED]
    assert all(a.detail and a.detail.endswith("CONCURRENTLY") for a in detached)
    assert archived(conn) == EXPIRED
    assert count_rows(conn, "public.events") + sum(count_rows(conn, f"archive.{p}") for p in EXPIRED) == before


def test_interrupted_online_detach(dbapi_connect: DriverConnect, conn: psycopg.Connection[Any], connect: Any) -> None:
    managed_events(conn, retention_action="drop")
    from sessions import busy_reader  # a reader the detach does not foresee (issue 14)

    maintainer = dbapi_connect()
    client = pgpart.Client(maintainer)
    with busy_reader(connect, "public.events"):
        client._session.execute_verbatim("SET statement_timeout = '1s'")
        report = client.maintain("public.events", now_at=CLIENT_NOW, lock_timeout="10min", lock_retries=0)
        assert [type(a.error) for a in report.errors] == [errors.QueryCanceledError]
        client._session.execute_verbatim("RESET statement_timeout")
        assert [p.partition for p in client.info("public.events") if p.detach_pending] == [EXPIRED[0]]
    assert client.maintain("public.events", now_at=CLIENT_NOW).ok
    assert partition_names(conn, "public.events")[0] == "events_p20250308"
    assert count_rows(conn, "public.events") == 20


@pytest.mark.parametrize("driver", ["psycopg2", "pg8000"])  # pg8000.native: next test
def test_transactions_and_autocommit(driver: str, dbapi_connect: DriverConnect, conn: psycopg.Connection[Any]) -> None:
    managed_events(conn)
    dbapi = dbapi_connect(autocommit=False)
    client = pgpart.Client(dbapi)
    cur = dbapi.cursor()
    cur.execute("INSERT INTO public.events (created_at, payload) VALUES ('2025-03-10 13:00+00', 'mine')")
    with pytest.raises(errors.TransactionStateError):
        client.maintain(now_at=CLIENT_NOW)
    cur.execute("SELECT count(*) FROM public.events WHERE payload = 'mine'")
    assert cur.fetchone()[0] == 1  # the caller's transaction is untouched
    dbapi.rollback()
    assert count_rows(conn, "public.events WHERE payload = 'mine'") == 0
    # idle and not in autocommit: switched on for the run, and back off after
    report = client.maintain(now_at=CLIENT_NOW)
    assert report.ok and archived(conn) == EXPIRED
    assert dbapi.autocommit is False
    # ensure inside the caller's transaction is the caller's to commit
    client.ensure("public.events", premake=3, now_at=CLIENT_NOW)
    dbapi.rollback()
    assert partition_names(conn, "public.events")[-1] == "events_p20250311"


def test_pg8000_native_explicit_transaction(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    # pg8000.native has no autocommit switch: its transactions are explicit.
    managed_events(conn)
    native = pg8000.native.Connection(user="postgres", database=dbname, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
    try:
        native.run("START TRANSACTION")
        with pytest.raises(errors.TransactionStateError):
            pgpart.Client(native).maintain(now_at=CLIENT_NOW)
        native.run("ROLLBACK")
        assert pgpart.Client(native).maintain(now_at=CLIENT_NOW).ok
    finally:
        native.close()


def test_dict_rows_from_psycopg2(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    make_events(conn)
    c = psycopg2.connect(pg.dsn(dbname), cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        c.autocommit = True
        client = pgpart.Client(c)
        assert client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW).created == [
            "public.events_p20250310"
        ]
        assert client.info("public.events")[0].partition == "events_p20250310"
    finally:
        c.close()


def test_script_install_through_the_adapter(driver: str, pg: PgServer, fresh_database: FreshDatabase) -> None:
    name = fresh_database()
    if driver == "psycopg2":
        c: Any = psycopg2.connect(pg.dsn(name))
        c.autocommit = True
    elif driver == "pg8000":
        c = pg8000.dbapi.connect(user="postgres", database=name, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
        c.autocommit = True
    else:
        c = pg8000.native.Connection(user="postgres", database=name, unix_sock=f"{pg.host}/.s.PGSQL.{pg.port}")
    try:
        client = pgpart.Client(c)
        report = client.install(method="script")
        assert (report.method, report.action) == ("script", "installed")
        assert client.install().action == "unchanged"
    finally:
        c.close()
    with psycopg.connect(pg.dsn(name)) as check:
        row = check.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgpart'::regnamespace").fetchone()
        assert row is not None and row[0] > 20


@pytest.mark.parametrize(
    ("style", "query", "params"),
    [
        ("format", "SELECT %s::int, '%%', %s::text", [1, "x"]),
        ("pyformat", "SELECT %(p0)s::int, '%%', %(p1)s::text", {"p0": 1, "p1": "x"}),
        ("qmark", "SELECT ?::int, '%', ?::text", [1, "x"]),
        ("numeric", "SELECT :1::int, '%', :2::text", [1, "x"]),
        ("named", "SELECT :p0::int, '%', :p1::text", {"p0": 1, "p1": "x"}),
    ],
)
def test_paramstyles(style: str, query: str, params: object) -> None:
    from pgpart._dbapi import paramstyle

    assert paramstyle.convert("SELECT %s::int, '%%', %s::text", [1, "x"], style) == (query, params)


def test_paramstyle_detection(pg: PgServer, dbname: str) -> None:
    from pgpart._dbapi import paramstyle

    c = psycopg2.connect(pg.dsn(dbname))
    try:
        assert paramstyle.detect(c) == "pyformat"
    finally:
        c.close()
    with pytest.raises(ValueError, match="paramstyle"):
        paramstyle.detect(object())
    with pytest.raises(TypeError, match="PEP 249"):
        pgpart.Client(object())
