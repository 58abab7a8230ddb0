"""The event triggers' early filters (issue 16): each decides from one query
whether the command concerns pgpart, and only then looks at the switches
(pgpart.event_triggers, session_replication_role). These tests pin what the
reordering must keep: the switches still win, whatever their spelling, and
the filters still let through what they must and nothing else."""

from __future__ import annotations

from psycopg import sql

from catalog import Conn, out_of_step
from fix_tablespace import MakeTablespace, Tablespaces
from tables import make_parent, manage

DAYS = ("2026-01-01", "2026-01-02")


def make_gu(conn: Conn) -> None:
    """A partitioned table ev with two partitions and a global unique
    constraint on email (every partition recorded, with its TRUNCATE trigger)."""
    conn.execute("CREATE TABLE ev (created timestamptz NOT NULL, email text) PARTITION BY RANGE (created)")
    for day in DAYS:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} PARTITION OF ev FOR VALUES FROM ({}::timestamptz) TO ({}::timestamptz + '1 day')"
            ).format(sql.Identifier(f"ev_{day.replace('-', '')}"), sql.Literal(day), sql.Literal(day))
        )
    conn.execute("SELECT count(*) FROM pgpart.add_global_unique('ev', ARRAY['email']::name[])")


def stale(conn: Conn) -> list[bool]:
    return [r[0] for r in conn.execute("SELECT g.stale_since IS NOT NULL FROM pgpart.global_unique AS g").fetchall()]


def test_sql_drop_marks_stale_only_for_a_recorded_table(conn: Conn) -> None:
    make_gu(conn)
    # unrelated drops, of a table with a trigger of its own too
    conn.execute("CREATE TABLE plain (id integer PRIMARY KEY, v text)")
    conn.execute("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    conn.execute("CREATE TRIGGER pgpart_gu_like AFTER TRUNCATE ON plain EXECUTE FUNCTION noop()")
    conn.execute("DROP TABLE plain")
    assert stale(conn) == [False]
    conn.execute("DROP TABLE ev_20260101")
    assert stale(conn) == [True]


def test_sql_drop_leaves_replica_sessions_alone_even_enabled_always(conn: Conn) -> None:
    make_gu(conn)
    conn.execute("ALTER EVENT TRIGGER pgpart_gu_sql_drop ENABLE ALWAYS")
    conn.execute("SET session_replication_role = replica")
    conn.execute("DROP TABLE ev_20260101")
    conn.execute("RESET session_replication_role")
    assert stale(conn) == [False]
    conn.execute("DROP TABLE ev_20260102")
    assert stale(conn) == [True]


def test_the_switch_wins_in_any_spelling_and_only_for_its_session(
    conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace
) -> None:
    ts = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=ts.a)
    create = "CREATE TABLE public.tm_{} PARTITION OF public.tm FOR VALUES FROM ('{}') TO ('{}') TABLESPACE {}"
    conn.execute("SET pgpart.event_triggers = 'OFF'")
    conn.execute(create.format("x", "2024-03-20", "2024-03-21", ts.b))
    assert out_of_step(conn, parent) != []
    conn.execute("RESET pgpart.event_triggers")
    conn.execute(create.format("y", "2024-03-21", "2024-03-22", ts.b))
    # the trigger re-checks the whole tree: both partitions are in step now
    assert out_of_step(conn, parent) == []
