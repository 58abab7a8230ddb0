"""The harness itself: what the other tests take for granted from fix_pg.py."""

from typing import Any

import psycopg
import pytest

from fix_pg import Connect, MakeServer


def test_fresh_database_per_test(conn: psycopg.Connection[Any], dbname: str) -> None:
    assert conn.execute("SELECT current_database()").fetchone() == (dbname,)
    conn.execute("CREATE TABLE leftover ()")  # must not be seen by the next test


def test_database_is_fresh(conn: psycopg.Connection[Any]) -> None:
    assert conn.execute("SELECT to_regclass('leftover')").fetchone() == (None,)


def test_server_listens_on_unix_socket_only(conn: psycopg.Connection[Any]) -> None:
    assert conn.execute("SHOW listen_addresses").fetchone() == ("",)


def test_roles(owner_conn: psycopg.Connection[Any], other_conn: psycopg.Connection[Any]) -> None:
    owner_conn.execute("CREATE TABLE public.owned (id int)")
    assert owner_conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("CREATE TABLE public.not_allowed (id int)")


def test_connect_opens_independent_sessions(connect: Connect) -> None:
    first, second = connect(), connect(autocommit=False)
    assert first.info.backend_pid != second.info.backend_pid
    assert not second.autocommit


def test_make_server(make_server: MakeServer) -> None:
    server = make_server(max_locks_per_transaction=10)
    with psycopg.connect(server.dsn("postgres")) as c:
        assert c.execute("SHOW max_locks_per_transaction").fetchone() == ("10",)
        assert c.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pgpart'").fetchone() == (1,)
