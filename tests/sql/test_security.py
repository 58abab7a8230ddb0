"""Security (DESIGN §6): who may create partitions, who owns them, who may
write pgpart's policy and history, and what PUBLIC may do with pgpart's
tables. The table under test is owned by pgpart_owner; pgpart_other is an
unprivileged stranger; both have CREATE on schema public."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
import pytest
from psycopg import sql

from allow_lists import SECURITY_DEFINER
from catalog import partitions, snapshot
from fix_pg import Connect
from pgcall import create_range
from sessions import temporary_role

NOW = "2024-03-10 12:00:00+00"
FIRST = "public.owned_p20240310"


@pytest.fixture
def owner(owner_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    owner_conn.execute("CREATE TABLE public.owned (ts timestamptz NOT NULL, v integer) PARTITION BY RANGE (ts)")
    return owner_conn


@pytest.fixture
def registered(owner: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """pgpart_owner's table with partitions and a policy row written by pgpart_owner."""
    create_range(owner, "public.owned", "1 day", premake=1, now_at=NOW)
    return owner


@pytest.fixture
def others_table(conn: psycopg.Connection[Any]) -> str:
    """A table owned by pgpart_other (made by the superuser: other has no CREATE)."""
    conn.execute("CREATE TABLE public.others (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("ALTER TABLE public.others OWNER TO pgpart_other")
    return "public.others"


def owners(conn: psycopg.Connection[Any], parent: str) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner)::text FROM pg_inherits AS i"
        " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [parent],
    ).fetchall()
    return {r[0] for r in rows}


def config_row(conn: psycopg.Connection[Any], parent: str) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT premake, policy_author::text FROM pgpart.config WHERE parent = %s::regclass", [parent]
    ).fetchone()


# --- creating partitions --------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry_run"])
def test_stranger_cannot_create_partitions(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc:
        create_range(other_conn, "public.owned", "1 day", premake=1, now_at=NOW, dry_run=dry_run)
    assert exc.value.diag.table_name == "owned"
    assert snapshot(conn) == before
    assert partitions(conn, "public.owned") == []
    assert config_row(conn, "public.owned") is None


def test_reader_of_parent_cannot_create_partitions(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    # privileges on the table are not ownership
    owner.execute("GRANT ALL ON public.owned TO pgpart_other")
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        create_range(other_conn, "public.owned", "1 day", premake=1, now_at=NOW)
    assert snapshot(conn) == before


def test_stranger_cannot_use_internal_helpers(
    registered: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    # the helpers are SECURITY INVOKER: row-level security applies to them too
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "SELECT pgpart._register_range_policy('public.owned', 'ts', 'timestamptz', '1 day',"
            " '2000-01-01 00:00:00', 'UTC', 0, NULL, NULL)"
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("SELECT pgpart._log('public.owned', 'create_range_partitions', 'ok', NULL)")
    assert snapshot(conn) == before


def test_owner_creates_partitions_owned_by_itself(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    rows = create_range(owner, "public.owned", "1 day", premake=2, now_at=NOW)
    assert len(rows) == 3
    assert owners(conn, "public.owned") == {"pgpart_owner"}
    assert config_row(conn, "public.owned") == (2, "pgpart_owner")
    actors = conn.execute("SELECT actor::text FROM pgpart.log WHERE parent = 'public.owned'::regclass").fetchall()
    assert actors == [("pgpart_owner",)]


def test_member_of_owner_role_can_create_partitions(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], connect: Connect
) -> None:
    with temporary_role(conn, "pgpart_member", "pgpart_owner") as member:
        member_conn = connect(member)
        try:
            rows = create_range(member_conn, "public.owned", "1 day", premake=1, now_at=NOW)
        finally:
            member_conn.close()
        assert [r[1] for r in rows] == [FIRST, "public.owned_p20240311"]
        # owned by the table's owner, not by the member that ran the call
        assert owners(conn, "public.owned") == {"pgpart_owner"}
        assert config_row(conn, "public.owned") == (1, member)
        actors = conn.execute("SELECT actor::text FROM pgpart.log WHERE parent = 'public.owned'::regclass").fetchall()
        assert actors == [(member,)]


def test_member_without_inherit_is_not_the_owner(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any], connect: Connect
) -> None:
    # NOINHERIT: the member must SET ROLE first, as PostgreSQL itself requires
    with temporary_role(conn, "pgpart_noinherit") as member:
        conn.execute(sql.SQL("ALTER ROLE {} NOINHERIT").format(sql.Identifier(member)))
        conn.execute(sql.SQL("GRANT pgpart_owner TO {}").format(sql.Identifier(member)))
        member_conn = connect(member)
        try:
            before = snapshot(conn)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                create_range(member_conn, "public.owned", "1 day", premake=1, now_at=NOW)
            assert snapshot(conn) == before
            member_conn.execute("SET ROLE pgpart_owner")
            create_range(member_conn, "public.owned", "1 day", premake=1, now_at=NOW)
        finally:
            member_conn.close()
        assert owners(conn, "public.owned") == {"pgpart_owner"}


def test_superuser_creates_partitions_owned_by_table_owner(
    owner: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    rows = create_range(conn, "public.owned", "1 day", premake=1, default_partition=True, now_at=NOW)
    assert len(rows) == 3
    assert owners(conn, "public.owned") == {"pgpart_owner"}
    # the owner can then manage them itself (ownership is what ATTACH/DETACH need)
    owner.execute(f"ALTER TABLE public.owned DETACH PARTITION {FIRST}")
    owner.execute(f"DROP TABLE {FIRST}")


def test_grants_are_not_copied(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    owner.execute("GRANT SELECT ON public.owned TO pgpart_other")
    create_range(owner, "public.owned", "1 day", premake=1, now_at=NOW)
    owner.execute("INSERT INTO public.owned VALUES ('2024-03-10 13:00+00', 7)")
    assert other_conn.execute("SELECT v FROM public.owned").fetchall() == [(7,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(f"SELECT v FROM {FIRST}")
    acls = conn.execute(
        "SELECT c.relacl FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'public.owned'::regclass"
    ).fetchall()
    assert acls
    assert all(acl is None for (acl,) in acls)


@pytest.fixture
def locked_schema(conn: psycopg.Connection[Any]) -> str:
    """Schema owned by postgres, table in it owned by pgpart_owner, no CREATE for pgpart_owner."""
    conn.execute("CREATE SCHEMA locked")
    conn.execute("GRANT USAGE ON SCHEMA locked TO pgpart_owner")
    conn.execute("CREATE TABLE locked.t (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    conn.execute("ALTER TABLE locked.t OWNER TO pgpart_owner")
    assert conn.execute("SELECT has_schema_privilege('pgpart_owner', 'locked', 'CREATE')").fetchone() == (False,)
    return "locked.t"


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry_run"])
def test_owner_without_create_on_schema_superuser_call(
    locked_schema: str, conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    # a superuser could create the table, but the owner could not own it there
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc:
        create_range(conn, locked_schema, "1 day", premake=1, now_at=NOW, dry_run=dry_run)
    diag = exc.value.diag
    assert diag.message_hint
    assert "GRANT CREATE ON SCHEMA" in diag.message_hint
    assert (diag.schema_name, diag.table_name) == ("locked", "t")
    assert snapshot(conn) == before


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry_run"])
def test_owner_without_create_on_schema_own_call(
    locked_schema: str, owner_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any], dry_run: bool
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc:
        create_range(owner_conn, locked_schema, "1 day", premake=1, now_at=NOW, dry_run=dry_run)
    diag = exc.value.diag
    assert diag.message_hint
    assert (diag.schema_name, diag.table_name) == ("locked", "t")
    assert snapshot(conn) == before


# --- pgpart.config written directly ---------------------------------------------


def test_stranger_cannot_insert_policy(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = snapshot(conn)
    for author in (None, "pgpart_other", "pgpart_owner"):
        columns = "parent, key_column, key_type" + (", policy_author" if author else "")
        values = "'public.owned', 'ts', 'timestamptz'" + (", %s" if author else "")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            other_conn.execute(f"INSERT INTO pgpart.config ({columns}) VALUES ({values})", [author] if author else [])
    assert snapshot(conn) == before


def test_stranger_cannot_update_or_delete_policy(
    registered: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = snapshot(conn)
    # the row is readable, but not writable: it is simply not there to change
    assert other_conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (1,)
    cur = other_conn.execute(
        "UPDATE pgpart.config SET premake = 0, retention_action = 'drop' WHERE parent = 'public.owned'::regclass"
    )
    assert cur.rowcount == 0
    cur = other_conn.execute("UPDATE pgpart.config SET premake = 0")
    assert cur.rowcount == 0
    cur = other_conn.execute("DELETE FROM pgpart.config WHERE parent = 'public.owned'::regclass")
    assert cur.rowcount == 0
    cur = other_conn.execute("DELETE FROM pgpart.config")
    assert cur.rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("TRUNCATE pgpart.config")
    # an upsert cannot take the row over either
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "INSERT INTO pgpart.config (parent, key_column, key_type) VALUES ('public.owned', 'ts', 'timestamptz')"
            " ON CONFLICT (parent) DO UPDATE SET premake = 0"
        )
    assert snapshot(conn) == before
    assert config_row(conn, "public.owned") == (1, "pgpart_owner")


def test_owner_writes_own_policy(registered: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> None:
    # the positive control for the refusals: the owner's own writes pass
    cur = registered.execute("UPDATE pgpart.config SET premake = 3 WHERE parent = 'public.owned'::regclass")
    assert cur.rowcount == 1
    assert config_row(conn, "public.owned") == (3, "pgpart_owner")


@pytest.mark.parametrize("author", ["pgpart_other", "postgres"])
def test_owner_cannot_forge_policy_author(
    registered: psycopg.Connection[Any], conn: psycopg.Connection[Any], author: str
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        registered.execute(
            "UPDATE pgpart.config SET policy_author = %s WHERE parent = 'public.owned'::regclass", [author]
        )
    assert snapshot(conn) == before
    registered.execute("CREATE TABLE public.owned2 (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        registered.execute(
            "INSERT INTO pgpart.config (parent, key_column, key_type, policy_author)"
            " VALUES ('public.owned2', 'ts', 'timestamptz', %s)",
            [author],
        )
    assert snapshot(conn) == before


def test_stranger_cannot_forge_author_on_own_table(
    owner: psycopg.Connection[Any],
    others_table: str,
    other_conn: psycopg.Connection[Any],
    conn: psycopg.Connection[Any],
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "INSERT INTO pgpart.config (parent, key_column, key_type, policy_author)"
            " VALUES ('public.others', 'ts', 'timestamptz', 'pgpart_owner')"
        )
    assert snapshot(conn) == before
    # its own name on its own table is fine ...
    other_conn.execute(
        "INSERT INTO pgpart.config (parent, key_column, key_type) VALUES ('public.others', 'ts', 'timestamptz')"
    )
    assert config_row(conn, "public.others") == (4, "pgpart_other")
    # ... but the row cannot be pointed at someone else's table
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "UPDATE pgpart.config SET parent = 'public.owned'::regclass WHERE parent = 'public.others'::regclass"
        )
    assert config_row(conn, "public.owned") is None


def test_stranger_cannot_disable_row_level_security(
    other_conn: psycopg.Connection[Any], owner_conn: psycopg.Connection[Any]
) -> None:
    for c in (other_conn, owner_conn):
        for table in ("pgpart.config", "pgpart.log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")


# --- pgpart.log written directly -------------------------------------------------


def test_stranger_cannot_log_in_another_name(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("INSERT INTO pgpart.log (actor, action) VALUES ('pgpart_owner', 'forged')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("INSERT INTO pgpart.log (actor, action) VALUES ('postgres', 'forged')")
    assert snapshot(conn) == before


def test_stranger_cannot_log_about_table_it_does_not_own(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "INSERT INTO pgpart.log (parent, parent_name, action) VALUES ('public.owned', 'public.owned', 'forged')"
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("INSERT INTO pgpart.log (parent, action) VALUES ('public.owned', 'forged')")
    assert snapshot(conn) == before


def test_stranger_cannot_log_about_table_by_name_only(
    owner: psycopg.Connection[Any], other_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    before = snapshot(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute(
            "INSERT INTO pgpart.log (parent, parent_name, action, outcome)"
            " VALUES (NULL, 'public.owned', 'create_range_partitions', 'ok')"
        )
    assert snapshot(conn) == before


def test_owner_logs_about_own_table(owner: psycopg.Connection[Any]) -> None:
    # the positive control for the refusals above
    owner.execute(
        "INSERT INTO pgpart.log (parent, parent_name, action) VALUES ('public.owned', 'public.owned', 'note')"
    )
    assert owner.execute("SELECT actor::text FROM pgpart.log").fetchall() == [("pgpart_owner",)]


@pytest.mark.parametrize("role", ["pgpart_other", "pgpart_owner"])
def test_nobody_rewrites_history(
    registered: psycopg.Connection[Any], connect: Connect, conn: psycopg.Connection[Any], role: str
) -> None:
    c = connect(role)
    before = snapshot(conn)
    assert before.log, "the setup logged nothing"
    for statement in (
        "UPDATE pgpart.log SET outcome = 'error'",
        "UPDATE pgpart.log SET actor = current_user",
        "DELETE FROM pgpart.log",
        "TRUNCATE pgpart.log",
        "SELECT setval('pgpart.log_id_seq', 1)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute(statement)
    assert snapshot(conn) == before


# --- the catalog ----------------------------------------------------------------

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def test_public_privileges_on_pgpart_tables(conn: psycopg.Connection[Any]) -> None:
    granted = {
        table: {
            p
            for p in WRITE_PRIVILEGES
            if conn.execute("SELECT has_table_privilege('public', %s, %s)", [table, p]).fetchone() == (True,)
        }
        for table in ("pgpart.config", "pgpart.log")
    }
    # config: rows of one's own tables (RLS decides which); log: append only
    assert granted == {"pgpart.config": {"INSERT", "UPDATE", "DELETE"}, "pgpart.log": {"INSERT"}}
    for role in ("pgpart_owner", "pgpart_other"):
        assert conn.execute(
            "SELECT has_table_privilege(%s, 'pgpart.log', 'UPDATE, DELETE, TRUNCATE')", [role]
        ).fetchone() == (False,)
        assert conn.execute("SELECT has_table_privilege(%s, 'pgpart.config', 'TRUNCATE')", [role]).fetchone() == (
            False,
        )
    assert conn.execute("SELECT has_sequence_privilege('public', 'pgpart.log_id_seq', 'UPDATE')").fetchone() == (False,)
    # owned by the extension's owner (a superuser), so no test role can alter them
    rows = conn.execute(
        "SELECT c.relname::text, r.rolsuper, c.relrowsecurity FROM pg_class AS c JOIN pg_roles AS r"
        " ON r.oid = c.relowner WHERE c.oid IN ('pgpart.config'::regclass, 'pgpart.log'::regclass) ORDER BY 1"
    ).fetchall()
    assert rows == [("config", True, True), ("log", True, True)]


def test_row_level_security_policies(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT tablename::text, cmd, roles::text[], permissive, qual, with_check FROM pg_policies"
        " WHERE schemaname = 'pgpart' ORDER BY 1, 2"
    ).fetchall()
    by_command: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for table, cmd, roles, permissive, qual, check in rows:
        by_command.setdefault((table, cmd), []).append((roles, permissive, qual, check))
    # every granted write is covered by a policy, and no write policy is a blank cheque
    assert ("config", "ALL") in by_command
    assert ("log", "INSERT") in by_command
    for (table, cmd), policies in by_command.items():
        if cmd == "SELECT":
            continue
        for roles, _permissive, qual, check in policies:
            assert roles == ["public"]
            if cmd == "DELETE":
                # DELETE policies have no WITH CHECK: the USING clause is the whole test
                assert check is None and qual not in (None, "true"), (table, cmd)
                assert "current_user" in qual.lower(), (table, cmd)
                continue
            assert check not in (None, "true"), (table, cmd)
            if cmd != "INSERT":
                assert qual not in (None, "true"), (table, cmd)
            assert "current_user" in check.lower(), (table, cmd)
    # nothing lets anyone update or delete history
    assert not {cmd for (table, cmd) in by_command if table == "log"} & {"ALL", "UPDATE", "DELETE"}


def test_security_definer_only_for_the_listed_helpers(conn: psycopg.Connection[Any]) -> None:
    # DESIGN §6: the event triggers' two helpers, nothing that writes policy
    rows = conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc AS p"
        " WHERE p.pronamespace = 'pgpart'::regnamespace AND p.prosecdef"
    ).fetchall()
    assert {r[0] for r in rows} == SECURITY_DEFINER


# --- the retention journal in pgpart.log ------------------------------------------
# Retention journals "detached, then drop/archive" in pgpart.log and a later
# step acts on the table the journal row names. pgpart_owner may append log
# rows about its own table (by design), so a journal row is attacker-chosen
# input: it must never make a more privileged role act on someone else's table.


@pytest.fixture
def victim(conn: psycopg.Connection[Any]) -> int:
    """A table of pgpart_other's, unrelated to pgpart_owner's parent."""
    conn.execute("CREATE TABLE public.victim (id integer)")
    conn.execute("INSERT INTO public.victim VALUES (1)")
    conn.execute("ALTER TABLE public.victim OWNER TO pgpart_other")
    conn.execute("CREATE SCHEMA attic")
    row = conn.execute("SELECT 'public.victim'::regclass::oid::bigint").fetchone()
    assert row is not None
    return int(row[0])


def _plant_journal(owner: psycopg.Connection[Any], victim_oid: int, then: str) -> None:
    owner.execute(
        "INSERT INTO pgpart.log (parent, parent_name, action, detail) VALUES ('public.owned', 'public.owned',"
        " 'detach', jsonb_build_object('partition_oid', %s::bigint, 'partition', 'public.owned_p20000101',"
        " 'then', %s::text, 'archive_schema', 'attic'))",
        [victim_oid, then],
    )


def _victim_where(conn: psycopg.Connection[Any], victim_oid: int) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT relnamespace::regnamespace::text, relname::text FROM pg_class WHERE oid = %s", [victim_oid]
    ).fetchone()


@pytest.mark.parametrize("then", ["drop", "archive"])
@pytest.mark.parametrize(
    "retention",
    [
        "SELECT * FROM pgpart.detach_and_archive('public.owned')",
        "CALL pgpart.detach_and_archive_proc('public.owned')",
    ],
    ids=["function", "procedure"],
)
def test_planted_journal_cannot_steer_superuser_retention(
    registered: psycopg.Connection[Any], conn: psycopg.Connection[Any], victim: int, then: str, retention: str
) -> None:
    _plant_journal(registered, victim, then)
    # refusing is fine; acting on the victim is not
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState):
        conn.execute(retention)
    assert _victim_where(conn, victim) == ("public", "victim")
    assert conn.execute("SELECT count(*) FROM public.victim").fetchone() == (1,)


@pytest.mark.parametrize("then", ["drop", "archive"])
def test_planted_journal_cannot_steer_maintenance(
    registered: psycopg.Connection[Any], conn: psycopg.Connection[Any], victim: int, then: str
) -> None:
    # maintenance acts as the table's owner, who may not touch the victim
    _plant_journal(registered, victim, then)
    conn.execute("CALL pgpart.run_maintenance_proc('public.owned', now_at => %s)", [NOW])
    assert _victim_where(conn, victim) == ("public", "victim")
