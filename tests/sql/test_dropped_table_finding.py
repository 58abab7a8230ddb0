"""check()'s finding for the policy of a table that was dropped (issue 15):
pgpart.config keeps only the dropped table's OID, so the finding names the
table by its last known name (the newest pgpart.log entry about that OID
since the policy was made), else says there is none, always with the OID
and the policy's author; its fix, run by that author, removes the policy
and the finding. The fix never carries a name (a name may hold a line
break that would end a comment and run what follows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from clock import UTC
from pgcall import select

Conn = psycopg.Connection[Any]

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def orphans(c: Conn) -> list[dict[str, Any]]:
    with c.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT severity, parent_table, partition, problem, fix FROM pgpart.check(now_at => %s)"
            " WHERE code = 'orphan_policy'",
            [NOW],
        ).fetchall()


def manage(c: Conn, name: str) -> int:
    """A daily table NAME (an SQL identifier as written), managed; its OID."""
    c.execute(f"CREATE TABLE {name} (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    select(c, "create_range_partitions", name, "daily", premake=1, now_at=NOW)
    row = c.execute("SELECT %s::regclass::oid::bigint", [name]).fetchone()
    assert row is not None
    return int(row[0])


def test_the_finding_names_the_table_and_its_fix_removes_it(owner_conn: Conn, conn: Conn) -> None:
    oid = manage(owner_conn, "ev")
    manage(owner_conn, "keep")
    owner_conn.execute("DROP TABLE ev")
    [finding] = orphans(owner_conn)
    assert finding["severity"] == "warning"
    assert finding["parent_table"] is None
    assert finding["partition"] is None
    assert finding["problem"].startswith(
        f"policy for table public.ev, which no longer exists (OID {oid}; its last known name, from pgpart.log on "
    )
    assert finding["problem"].endswith("; policy by pgpart_owner)")
    assert finding["fix"] == f"DELETE FROM pgpart.config WHERE parent = {oid};"
    # the check of every table, as a superuser, says the same
    assert orphans(conn) == [finding]
    # the author runs the fix: the policy and the finding are gone, the other table's stays
    owner_conn.execute(finding["fix"])
    assert orphans(owner_conn) == []
    assert conn.execute("SELECT parent::text FROM pgpart.config").fetchall() == [("keep",)]


def test_the_last_name_after_a_rename(owner_conn: Conn) -> None:
    oid = manage(owner_conn, "ev")
    owner_conn.execute("ALTER TABLE ev RENAME TO ev_renamed")
    # pgpart acts on it under its new name (and logs that name)
    select(owner_conn, "create_range_partitions", "ev_renamed", "daily", premake=3, now_at=NOW)
    owner_conn.execute("DROP TABLE ev_renamed")
    [finding] = orphans(owner_conn)
    assert finding["problem"].startswith(f"policy for table public.ev_renamed, which no longer exists (OID {oid};")


def test_without_a_name_in_the_log_the_oid(owner_conn: Conn, conn: Conn) -> None:
    oid = manage(owner_conn, "ev")
    owner_conn.execute("DROP TABLE ev")
    # the log forgot it (a superuser pruned pgpart.log)
    conn.execute("DELETE FROM pgpart.log WHERE parent = %s::oid", [oid])
    # an entry about the same OID from before the policy was made is another table's
    conn.execute(
        "INSERT INTO pgpart.log (logged_at, parent, parent_name, action) SELECT c.created_at - interval '1 day',"
        " c.parent, 'public.someone_else', 'create' FROM pgpart.config AS c WHERE c.parent = %s::oid",
        [oid],
    )
    [finding] = orphans(owner_conn)
    assert finding["problem"] == (
        f"policy for a table that no longer exists (OID {oid}; no name in pgpart.log; policy by pgpart_owner)"
    )
    assert finding["fix"] == f"DELETE FROM pgpart.config WHERE parent = {oid};"
    owner_conn.execute(finding["fix"])
    assert orphans(conn) == []


def test_a_hostile_name_stays_out_of_the_fix(owner_conn: Conn, conn: Conn) -> None:
    # a name with a line break and SQL after it: shown in the problem, quoted,
    # never in the fix, which a superuser may run as it is
    oid = manage(owner_conn, '"ev\nDROP TABLE keep; --"')
    manage(owner_conn, "keep")
    owner_conn.execute('DROP TABLE "ev\nDROP TABLE keep; --"')
    [finding] = orphans(conn)
    assert finding["problem"].startswith('policy for table public."ev\nDROP TABLE keep; --", which no longer exists')
    assert finding["fix"] == f"DELETE FROM pgpart.config WHERE parent = {oid};"
    conn.execute(finding["fix"])
    assert orphans(conn) == []
    assert conn.execute("SELECT to_regclass('keep') IS NOT NULL").fetchone() == (True,)
