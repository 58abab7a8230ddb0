"""No driver exception gets past pgpart.Client (issue 12, item 5): with
psycopg 3 and, through the DB-API adapter, psycopg2, pg8000 and
pg8000.native, a NUL character is refused before anything is sent, text the
driver cannot send and a closed connection are pgpart.errors classes with
the driver's exception chained."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pg8000.dbapi
import pg8000.exceptions
import pg8000.native
import psycopg
import psycopg2
import pytest

import pgpart
from clock import CLIENT_NOW
from pgcluster import PgServer
from pgpart import errors
from tables import make_events

DRIVERS = ["psycopg", "psycopg2", "pg8000", "pg8000.native"]
DRIVER_ERRORS: tuple[type[BaseException], ...] = (psycopg.Error, psycopg2.Error, pg8000.exceptions.Error)


@pytest.fixture(params=DRIVERS)
def driver_connect(request: pytest.FixtureRequest, pg: PgServer, dbname: str) -> Iterator[Callable[[], Any]]:
    """driver_connect() -> an autocommit connection of the driver under test."""
    opened: list[Any] = []
    sock = f"{pg.host}/.s.PGSQL.{pg.port}"

    def connect() -> Any:
        c: Any
        if request.param == "psycopg":
            c = psycopg.connect(pg.dsn(dbname), autocommit=True)
        elif request.param == "psycopg2":
            c = psycopg2.connect(pg.dsn(dbname))
            c.autocommit = True
        elif request.param == "pg8000":
            c = pg8000.dbapi.connect(user="postgres", database=dbname, unix_sock=sock)
            c.autocommit = True
        else:
            c = pg8000.native.Connection(user="postgres", database=dbname, unix_sock=sock)
        opened.append(c)
        return c

    yield connect
    for c in opened:
        try:
            c.close()
        except Exception:  # noqa: S110 - closed by the test already
            pass


def assert_pgpart_error(exc: BaseException) -> None:
    """EXC is pgpart's own, and no driver class leaks through it."""
    assert isinstance(exc, errors.PgpartError)
    assert not isinstance(exc, DRIVER_ERRORS)
    assert type(exc).__module__ == "pgpart.errors"


def policy(conn: psycopg.Connection[Any]) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT tablespace, premake FROM pgpart.config WHERE parent = 'public.events'::regclass"
    ).fetchone()


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("tablespace", {"tablespace": "a\x00b"}),
        ("archive_schema", {"archive_schema": "\x00"}),
        ("interval", {"interval": "1 day\x00; DROP TABLE public.events"}),
        ("time_zone", {"time_zone": "UTC\x00"}),
        ("now_at", {"now_at": "2025-03-10\x00"}),
    ],
)
def test_a_nul_character_is_refused_before_sending(
    driver_connect: Callable[[], Any], conn: psycopg.Connection[Any], argument: str, kwargs: dict[str, Any]
) -> None:
    make_events(conn)
    client = pgpart.Client(driver_connect())
    client.ensure("public.events", interval="1 day", premake=1, now_at=CLIENT_NOW)
    before = policy(conn)
    with pytest.raises(errors.InvalidArgumentError) as info:
        client.ensure("public.events", premake=3, **kwargs)
    assert_pgpart_error(info.value)
    assert info.value.sqlstate == "22023"
    assert argument in info.value.message and "NUL" in info.value.message
    assert info.value.__cause__ is None  # refused by pgpart: the driver never saw it
    assert policy(conn) == before  # nothing was sent
    # the table name too, and every verb
    for call in (
        lambda: client.info("public.ev\x00ents"),
        lambda: client.check("public.ev\x00ents"),
        lambda: client.maintain("public.ev\x00ents", dry_run=True),
        lambda: client.detach_and_archive("public.ev\x00ents", dry_run=True),
        lambda: client.move_default_rows("public.ev\x00ents"),
    ):
        with pytest.raises(errors.InvalidArgumentError, match="parent must not contain a NUL character"):
            call()
    # online retention takes the parent's advisory lock first, by a query of
    # its own: the session refuses the NUL there (any parameter of any query)
    with pytest.raises(errors.InvalidArgumentError, match="NUL") as online:
        client.detach_and_archive("public.ev\x00ents")
    assert_pgpart_error(online.value)
    assert online.value.__cause__ is None
    # the connection is still usable: nothing was half-sent
    assert [p.partition for p in client.info("public.events")] == ["events_p20250310", "events_p20250311"]


def test_text_the_driver_cannot_send_is_an_invalid_argument(
    driver_connect: Callable[[], Any], conn: psycopg.Connection[Any]
) -> None:
    make_events(conn)
    client = pgpart.Client(driver_connect())
    with pytest.raises(errors.PgpartError) as info:
        client.ensure("public.events", interval="1 day", tablespace="\ud800")  # a lone surrogate: no UTF-8
    assert_pgpart_error(info.value)
    assert isinstance(info.value, errors.InvalidArgumentError)
    assert info.value.sqlstate is not None and info.value.sqlstate.startswith("22")
    assert info.value.driver_error is info.value.__cause__ is not None  # the driver's exception, chained
    assert policy(conn) is None


def test_a_closed_connection_is_a_connection_failure(driver_connect: Callable[[], Any]) -> None:
    c = driver_connect()
    client = pgpart.Client(c)
    c.close()
    for call in (
        lambda: client.info(),
        lambda: client.ensure("public.events", interval="1 day"),
        lambda: client.maintain(),  # top_level asks the driver for the transaction status first
        lambda: client.install(),
    ):
        with pytest.raises(errors.ConnectionFailureError) as info:
            call()
        assert_pgpart_error(info.value)
        assert info.value.sqlstate is not None and info.value.sqlstate.startswith("08")
        assert isinstance(info.value.__cause__, DRIVER_ERRORS)
        assert info.value.driver_error is info.value.__cause__
        assert "without a SQLSTATE" in (info.value.detail or "")


def test_a_terminated_session_is_a_pgpart_error(
    driver_connect: Callable[[], Any], conn: psycopg.Connection[Any]
) -> None:
    make_events(conn)
    c = driver_connect()
    client = pgpart.Client(c)
    client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW)
    [pid] = [p for (p,) in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'"
    ).fetchall()]  # fmt: skip
    conn.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
    with pytest.raises(errors.PgpartError) as info:
        client.info("public.events")
    assert_pgpart_error(info.value)
    # the server's 57P01 when the driver read it, else a connection failure
    assert info.value.sqlstate is not None and info.value.sqlstate[:2] in ("57", "08")
    assert isinstance(info.value.__cause__, DRIVER_ERRORS)
