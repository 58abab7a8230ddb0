"""A table that does not exist, named to a pgpart verb (issue 15): pgpart's
own 42P01, naming the table as given, with a DETAIL (the verb and the
search_path it looked in) and a HINT (schema.table, quoting, where to find
the managed tables), instead of PostgreSQL's bare "relation does not exist"
from the regclass cast. Each verb has an overload taking the name as text,
which unknown-typed literals pick; every way of calling the verbs that
worked before still works the same: typed regclass values, NULL for every
table, no argument, named notation, unqualified names in the caller's
search_path, and the committing procedures called through the overload."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from catalog import count, partition_names
from clock import UTC
from fix_pg import Connect
from pgcall import select
from sessions import notices
from tables import create_events

Conn = psycopg.Connection[Any]

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)

# every verb given the table 'nope', as people write it
CALLS = {
    "pgpart.check": "SELECT * FROM pgpart.check({})",
    "pgpart.run_maintenance": "SELECT * FROM pgpart.run_maintenance({})",
    "pgpart.run_maintenance_proc": "CALL pgpart.run_maintenance_proc({})",
    "pgpart.move_default_range": "SELECT * FROM pgpart.move_default_range({})",
    "pgpart.move_default_plan": "SELECT * FROM pgpart.move_default_plan({})",
    "pgpart.move_default_rows": "CALL pgpart.move_default_rows({})",
}


def managed(conn: Conn, name: str = "t", default_partition: bool = False) -> None:
    create_events(conn, name)
    select(conn, "create_range_partitions", name, "daily", premake=1, default_partition=default_partition,
           now_at=NOW)  # fmt: skip


def undefined(conn: Conn, query: str, *params: Any) -> errors.UndefinedTable:
    with pytest.raises(errors.UndefinedTable) as raised:
        conn.execute(query, list(params))
    return raised.value


@pytest.mark.parametrize("verb", sorted(CALLS))
@pytest.mark.parametrize(
    ("argument", "shown"),
    [
        ("'nope'", "nope"),  # an unknown-typed literal
        ("'public.nope'", "public.nope"),
        ("'nosuchschema.t'", "nosuchschema.t"),
        ("'Nope'", "Nope"),  # folded to nope: the name as given is shown
        ("parent => 'nope'", "nope"),  # named notation
        ("%s::text", "nope"),  # a text value
    ],
    ids=["literal", "qualified", "no-schema", "capitals", "named", "text-value"],
)
def test_a_missing_table_is_pgparts_42p01(conn: Conn, verb: str, argument: str, shown: str) -> None:
    query = CALLS[verb].format(argument)
    exc = undefined(conn, query, *(["nope"] if "%s" in argument else []))
    assert exc.diag.message_primary == f'table "{shown}" does not exist'
    assert exc.diag.message_detail == f'{verb} looked the name up with search_path "$user", public.'
    hint = exc.diag.message_hint or ""
    assert "schema.table" in hint
    assert "double-quote" in hint
    assert "pgpart.partition_info()" in hint


def test_the_search_path_is_the_callers(conn: Conn) -> None:
    conn.execute("CREATE SCHEMA app")
    conn.execute("CREATE TABLE app.t2 (created timestamptz NOT NULL) PARTITION BY RANGE (created)")
    exc = undefined(conn, "SELECT * FROM pgpart.check('t2')")
    assert exc.diag.message_primary == 'table "t2" does not exist'
    conn.execute("SET search_path = app, public")
    assert "search_path app, public" in (undefined(conn, "SELECT * FROM pgpart.check('nope')").diag.message_detail
                                        or "")  # fmt: skip
    # found in app: check() then says it is not managed (55000), no longer 42P01
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match=r"app\.t2|t2"):
        conn.execute("SELECT * FROM pgpart.check('t2')")


def test_calls_that_worked_still_work(conn: Conn, connect: Connect) -> None:
    managed(conn)
    conn.execute('CREATE TABLE "Mixed" (created timestamptz NOT NULL) PARTITION BY RANGE (created)')
    select(conn, "create_range_partitions", '"Mixed"', "daily", premake=1, now_at=NOW)
    later = NOW + timedelta(days=3)
    # unknown-typed literals, qualified or not, and quoted names
    assert conn.execute("SELECT count(*) FROM pgpart.check('t', %s)", [NOW]).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM pgpart.check('\"Mixed\"', %s)", [NOW]).fetchone() == (0,)
    assert undefined(conn, "SELECT * FROM pgpart.check('Mixed')").diag.message_primary == (
        'table "Mixed" does not exist'
    )
    # scalar call of the set-returning function, as the issue writes it
    rows = conn.execute("SELECT (pgpart.run_maintenance('public.t', %s)).action", [later]).fetchall()
    assert rows == [("created",)] * 3  # the days up to later's and the next
    # typed values and NULL (every table) and no argument at all
    assert conn.execute("SELECT count(*) FROM pgpart.check('t'::regclass, %s)", [later]).fetchone() == (0,)
    every = conn.execute("SELECT count(*) FROM pgpart.check(NULL::regclass, %s)", [later]).fetchone()
    assert every is not None
    assert every[0] > 0
    assert conn.execute("SELECT count(*) FROM pgpart.check(NULL, %s)", [later]).fetchone() == every
    assert conn.execute("SELECT count(*) FROM pgpart.check(now_at => %s)", [later]).fetchone() == every
    assert conn.execute("SELECT count(*) FROM pgpart.check()").fetchone() is not None
    assert (
        conn.execute("SELECT count(*) FROM pgpart.config AS c, pgpart.check(c.parent, %s) AS f", [later]).fetchone()
        == every
    )
    assert conn.execute("SELECT count(*) FROM pgpart.run_maintenance(NULL, %s)", [later]).fetchone() is not None
    assert (
        conn.execute(
            "SELECT count(*) FROM pgpart.run_maintenance(parent => NULL, now_at => %s, dry_run => true)", [later]
        ).fetchone()
        is not None
    )

    # the committing procedure through the overload (a nested CALL): it commits
    # per table, and is still refused inside a transaction block
    names = partition_names(conn, "public.t")
    conn.execute("CALL pgpart.run_maintenance_proc('public.t', now_at => %s)", [later + timedelta(days=2)])
    assert len(partition_names(conn, "public.t")) == len(names) + 2
    conn.execute("CALL pgpart.run_maintenance_proc(NULL, %s, dry_run => true)", [later])
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s)", [later])
    inside = connect(autocommit=False)
    inside.execute("SELECT 1")
    with pytest.raises(errors.ActiveSqlTransaction):
        inside.execute("CALL pgpart.run_maintenance_proc('public.t')")
    inside.rollback()
    with pytest.raises(errors.UndefinedTable):  # the name first, in a transaction block too
        inside.execute("CALL pgpart.run_maintenance_proc('nope')")
    inside.rollback()


def test_move_default_rows_through_the_overload_commits_each_range(conn: Conn) -> None:
    managed(conn, "d", default_partition=True)
    conn.execute(
        "INSERT INTO d (created) VALUES ('2024-03-01 10:00+00'), ('2024-03-02 10:00+00'), ('2024-03-02 11:00+00')"
    )
    seen = notices(conn)
    conn.execute("CALL pgpart.move_default_rows('d', now_at => %s, dry_run => true)", [NOW])
    assert count(conn, "public", "d_default") == 3
    assert seen.of("NOTICE")[-1][2].startswith("pgpart: dry run: would move 3 rows")
    plan = conn.execute("SELECT partition, rows_to_move FROM pgpart.move_default_plan('d', now_at => %s)", [NOW])
    assert plan.fetchall() == [("public.d_p20240301", 1), ("public.d_p20240302", 2)]
    seen.items.clear()
    conn.execute("CALL pgpart.move_default_rows('public.d', now_at => %s)", [NOW])
    assert [n[2] for n in seen.of("NOTICE")][:2] == [
        "pgpart: range 1 of 2: moved 1 rows into public.d_p20240301 (2024-03-01 00:00:00+00 to"
        " 2024-03-02 00:00:00+00); 1 rows moved so far",
        "pgpart: range 2 of 2: moved 2 rows into public.d_p20240302 (2024-03-02 00:00:00+00 to"
        " 2024-03-03 00:00:00+00); 3 rows moved so far",
    ]
    assert count(conn, "public", "d_default") == 0
    assert conn.execute("SELECT * FROM pgpart.move_default_range('d', now_at => %s)", [NOW]).fetchall() == []


def test_each_overload_mirrors_its_verb(conn: Conn) -> None:
    # same name, same arguments but the first (text), same result: a call that
    # picks the overload gets what the verb gives
    rows = conn.execute(
        """
        SELECT p.proname::text, p.prokind::text,
               pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
               p.proargnames, p.pronargdefaults, p.proconfig, p.pronargs
        FROM pg_proc AS p
        WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proargtypes[0] = 'text'::regtype
          AND p.proname = ANY (%s)
        ORDER BY 1
        """,
        [[v.removeprefix("pgpart.") for v in CALLS]],
    ).fetchall()
    assert [r[0] for r in rows] == sorted(v.removeprefix("pgpart.") for v in CALLS)
    for name, kind, arguments, result, argnames, ndefaults, config, nargs in rows:
        verb = conn.execute(
            """
            SELECT p.prokind::text, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
                   p.proargnames, p.pronargdefaults
            FROM pg_proc AS p
            WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proname = %s
              AND p.proargtypes[0] = 'regclass'::regtype
            """,
            [name],
        ).fetchone()
        assert verb is not None, name
        assert (kind, arguments.replace("parent text", "parent regclass", 1), result, argnames) == verb[:4]
        # every argument after the name keeps its default; the name has none
        # (else a call without arguments would be ambiguous)
        assert ndefaults == nargs - 1
        pinned = [c for c in config or [] if c.startswith("search_path=")]
        assert pinned == [], f"{name}(text) must resolve the name in the caller's search_path"
