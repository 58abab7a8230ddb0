"""pgpart's event trigger (issue 4, DESIGN §7): DDL run by hand, by migrations
or by other tools on a managed parent leaves its partitions in step (owner,
index tablespaces); everything else is left exactly as PostgreSQL leaves it,
and no role's DDL ever fails or gets a WARNING because of pgpart when pgpart
does not manage the table.

Every scenario runs plain SQL as a user would, on real tablespaces, and reads
the catalog afterwards."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog import Conn, log_entries, out_of_step, tree_with_indexes
from clock import NOW
from fix_pg import Connect
from fix_tablespace import MakeTablespace, Tablespaces
from pgcluster import PgServer
from sessions import notices
from tables import make_parent, manage

TRIGGER = "pgpart_ddl_command_end"

# What check() should report about the trigger (the query given to the lead).
TRIGGER_ACTIVE = """
    SELECT coalesce(bool_or(e.evtenabled <> 'D'), false)
    FROM pg_catalog.pg_event_trigger AS e
    WHERE e.evtname = 'pgpart_ddl_command_end'
      AND e.evtfoid = pg_catalog.to_regprocedure('pgpart._ddl_command_end()')
"""


def run(conn: Conn, statements: list[str], ts: Tablespaces, table: str) -> None:
    for statement in statements:
        conn.execute(statement.format(t=table, a=ts.a, b=ts.b))


def normalized(conn: Conn, parent: str, table: str) -> list[tuple[str, ...]]:
    """tree() with the table's own name taken out of every relation name, so
    that the trees of two parents can be compared."""
    return [
        (r["name"].replace(table, "T", 1), r["kind"], r["tablespace"], r["owner"], r["table"].replace(table, "T", 1))
        for r in tree_with_indexes(conn, parent)
    ]


# --- installation ------------------------------------------------------------------


def test_trigger_is_an_active_member_of_the_extension(conn: Conn) -> None:
    row = conn.execute(
        """
        SELECT e.evtevent::text, e.evtenabled::text, e.evttags::text[], e.evtfoid::regprocedure::text,
               EXISTS (SELECT 1 FROM pg_depend AS d
                       WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
                         AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                         AND d.refobjid = (SELECT x.oid FROM pg_extension AS x WHERE x.extname = 'pgpart'))
        FROM pg_event_trigger AS e WHERE e.evtname = %s
        """,
        [TRIGGER],
    ).fetchone()
    assert row is not None
    event, enabled, tags, function, member = row
    assert (event, enabled, function, member) == ("ddl_command_end", "O", "pgpart._ddl_command_end()", True)
    assert sorted(tags) == ["ALTER INDEX", "ALTER TABLE", "CREATE INDEX", "CREATE TABLE"]
    assert conn.execute(TRIGGER_ACTIVE).fetchone() == (True,)
    conn.execute(f"ALTER EVENT TRIGGER {TRIGGER} DISABLE")
    assert conn.execute(TRIGGER_ACTIVE).fetchone() == (False,)


# --- each kind of DDL, on a managed parent and on others -------------------------------

# Plain SQL as a user runs it (here the superuser), on a parent whose two
# partitions (2024-03-10 and -11) pgpart made in tablespace a.
SCENARIOS: dict[str, list[str]] = {
    "create partition": [
        "CREATE TABLE public.{t}_x PARTITION OF public.{t} FOR VALUES FROM ('2024-03-20') TO ('2024-03-21')"
        " TABLESPACE {b}",
    ],
    "attach partition": [
        "CREATE TABLE public.{t}_y (LIKE public.{t}) TABLESPACE {b}",
        "CREATE INDEX ON public.{t}_y (v)",
        "ALTER TABLE public.{t} ATTACH PARTITION public.{t}_y FOR VALUES FROM ('2024-03-20') TO ('2024-03-21')",
    ],
    "create index on parent": ["CREATE INDEX ON public.{t} (ts)"],
    "create index on a partition": ["CREATE INDEX ON public.{t}_p20240310 (ts)"],
    "partition set tablespace": ["ALTER TABLE public.{t}_p20240310 SET TABLESPACE {b}"],
    "parent owner to": ["ALTER TABLE public.{t} OWNER TO pgpart_other"],
}


def expect_managed(scenario: str, rels: list[dict[str, Any]], ts: Tablespaces, table: str) -> None:
    """What the scenario must leave on the managed parent, beyond out_of_step() == []."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for r in rels:
        by_table.setdefault(r["table"].split(".")[-1], []).append(r)
    if scenario == "create partition":
        assert {(r["tablespace"], r["owner"]) for r in by_table[f"{table}_x"]} == {(ts.b, "pgpart_owner")}
        assert len(by_table[f"{table}_x"]) == 3  # the table, its primary key, its index on v
    elif scenario == "attach partition":
        assert {(r["tablespace"], r["owner"]) for r in by_table[f"{table}_y"]} == {(ts.b, "pgpart_owner")}
        assert len(by_table[f"{table}_y"]) == 3
    elif scenario == "create index on parent":
        new = [r for r in rels if r["name"].endswith("_ts_idx") and not r["name"].endswith("_id_ts_idx")]
        assert [r["tablespace"] for r in new] == [ts.a, ts.a]
    elif scenario == "create index on a partition":
        assert [r["tablespace"] for r in rels if r["name"] == f"{table}_p20240310_ts_idx"] == [ts.a]
    elif scenario == "partition set tablespace":
        assert {r["tablespace"] for r in by_table[f"{table}_p20240310"]} == {ts.b}
        assert {r["tablespace"] for r in by_table[f"{table}_p20240311"]} == {ts.a}
    elif scenario == "parent owner to":
        assert {r["owner"] for r in rels} == {"pgpart_other"}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_ddl_on_managed_parent_is_reconciled_and_others_are_left_alone(
    conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace, scenario: str
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    ts = tablespaces
    # managed; policy opts out; no policy at all; managed but the session
    # turns the triggers off (what PostgreSQL itself does)
    variants = {"managed": "tm", "opted_out": "toff", "unmanaged": "tu", "triggers_off": "tx"}
    for table in variants.values():
        parent = make_parent(conn, table)
        manage(owner_conn, parent, tablespace=ts.a)
        assert out_of_step(conn, parent) == []
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.toff', reconcile => false)")
    conn.execute("DELETE FROM pgpart.config WHERE parent = 'public.tu'::regclass")

    found = notices(conn)
    for variant, table in variants.items():
        if variant == "triggers_off":
            conn.execute("SET pgpart.event_triggers = off")
        run(conn, SCENARIOS[scenario], ts, table)
        conn.execute("RESET pgpart.event_triggers")
    assert found.items == []

    managed = tree_with_indexes(conn, "public.tm")
    assert out_of_step(conn, "public.tm") == []
    expect_managed(scenario, managed, ts, "tm")
    [entry] = log_entries(conn, "public.tm", source="event trigger")
    assert (entry["actor"], entry["outcome"]) == ("postgres", "ok")
    assert entry["detail"]["changes"]

    # Everything else exactly as PostgreSQL leaves it: the same as with the
    # triggers off, and (so that this can fail) not in step.
    baseline = normalized(conn, "public.tx", "tx")
    assert out_of_step(conn, "public.tx") != []
    assert normalized(conn, "public.toff", "toff") == baseline
    assert normalized(conn, "public.tu", "tu") == baseline
    assert log_entries(conn, source="event trigger") == [entry]


def test_replica_sessions_are_left_alone_even_with_the_trigger_enabled_always(
    conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    conn.execute(f"ALTER EVENT TRIGGER {TRIGGER} ENABLE ALWAYS")
    conn.execute("SET session_replication_role = replica")
    run(conn, SCENARIOS["create partition"], tablespaces, "tm")
    assert out_of_step(conn, parent) != []
    conn.execute("RESET session_replication_role")
    run(conn, SCENARIOS["create index on parent"], tablespaces, "tm")
    assert out_of_step(conn, parent) == []


def test_non_superuser_owner_ddl_is_reconciled(owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(owner_conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    found = notices(owner_conn)
    run(owner_conn, SCENARIOS["create partition"] + SCENARIOS["create index on parent"], tablespaces, "tm")
    assert found.items == []
    assert out_of_step(owner_conn, parent) == []
    assert {r["tablespace"] for r in tree_with_indexes(owner_conn, parent) if r["table"].endswith("tm_x")} == {
        tablespaces.b
    }
    entries = log_entries(owner_conn, parent, source="event trigger")
    assert [(e["actor"], e["outcome"], e["detail"]["commands"]) for e in entries] == [
        ("pgpart_owner", "ok", ["CREATE TABLE"]),
        ("pgpart_owner", "ok", ["CREATE INDEX"]),
    ]


def test_sub_partitions_at_every_level(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    conn.execute(
        "CREATE TABLE public.tm_s PARTITION OF public.tm FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')"
        f" PARTITION BY RANGE (ts) TABLESPACE {tablespaces.a}"
    )
    conn.execute(
        "CREATE TABLE public.tm_s1 PARTITION OF public.tm_s FOR VALUES FROM ('2024-04-01') TO ('2024-04-02')"
        f" TABLESPACE {tablespaces.b}"
    )
    conn.execute("CREATE INDEX ON public.tm (id)")
    rels = {r["name"]: r for r in tree_with_indexes(conn, parent)}
    assert out_of_step(conn, parent) == []
    # the partitioned indexes of the partitioned partition follow it too
    assert {r["tablespace"] for r in rels.values() if r["table"].endswith("tm_s") and r["kind"] == "I"} == {
        tablespaces.a
    }
    assert {r["owner"] for r in rels.values()} == {"pgpart_owner"}


# --- roles that pgpart must never bother -----------------------------------------------

UNRELATED_DDL = [
    "CREATE TABLE public.plain (id integer PRIMARY KEY, v text)",
    "ALTER TABLE public.plain ADD COLUMN w integer",
    "CREATE INDEX plain_v ON public.plain (v)",
    "ALTER INDEX public.plain_v RENAME TO plain_v2",
    "ALTER TABLE public.plain SET TABLESPACE {b}",
    "ALTER TABLE public.plain OWNER TO pgpart_other",
    "CREATE TABLE public.pt (id integer NOT NULL, k integer NOT NULL) PARTITION BY RANGE (k)",
    "CREATE INDEX pt_id ON public.pt (id)",
    "CREATE TABLE public.pt_1 PARTITION OF public.pt FOR VALUES FROM (0) TO (10) TABLESPACE {a}",
    "CREATE TABLE public.pt_2 (LIKE public.pt)",
    "ALTER TABLE public.pt ATTACH PARTITION public.pt_2 FOR VALUES FROM (10) TO (20)",
    "ALTER TABLE public.pt_1 SET TABLESPACE {b}",
    "ALTER TABLE public.pt_1 SET (fillfactor = 70)",
    "ALTER INDEX public.pt_id SET TABLESPACE {a}",
    "ALTER TABLE public.pt REPLICA IDENTITY FULL",
    "ALTER TABLE public.pt DETACH PARTITION public.pt_2",
    "ALTER TABLE public.pt OWNER TO pgpart_other",
]


@pytest.mark.parametrize("revoked", ["usage on schema pgpart", "privileges on pgpart's tables"])
def test_role_without_pgpart_privileges_never_gets_an_error_or_warning(
    conn: Conn, owner_conn: Conn, other_conn: Conn, make_tablespace: MakeTablespace, revoked: str
) -> None:
    # a managed parent in the same database, so pgpart has policies to look up
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    conn.execute("GRANT CREATE ON SCHEMA public TO pgpart_other")
    if revoked == "usage on schema pgpart":
        conn.execute("REVOKE USAGE ON SCHEMA pgpart FROM PUBLIC")
    else:
        conn.execute("REVOKE ALL ON pgpart.config, pgpart.log FROM PUBLIC")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("SELECT count(*) FROM pgpart.config")
    found = notices(other_conn)
    for statement in UNRELATED_DDL:
        other_conn.execute(statement.format(a=tablespaces.a, b=tablespaces.b))
    assert found.items == []
    assert other_conn.execute("SELECT count(*) FROM public.pt_1").fetchone() == (0,)


def test_role_without_access_to_pgpart_tables_gets_a_warning_on_a_managed_parent(
    conn: Conn, other_conn: Conn, make_tablespace: MakeTablespace
) -> None:
    # pgpart_other owns a managed parent, but may not read pgpart's tables
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm", owner="pgpart_other")
    manage(conn, parent, tablespace=tablespaces.a)
    conn.execute("REVOKE ALL ON pgpart.config, pgpart.log FROM PUBLIC")
    found = notices(other_conn)
    run(other_conn, SCENARIOS["create partition"], tablespaces, "tm")
    assert [(s, state) for s, state, _ in found.items] == [("WARNING", "42501")]
    assert other_conn.execute("SELECT count(*) FROM public.tm_x").fetchone() == (0,)  # the DDL succeeded
    assert out_of_step(conn, parent) != []
    [entry] = log_entries(conn, parent, source="event trigger")  # written by the SECURITY DEFINER writer
    assert (entry["actor"], entry["outcome"], entry["detail"]["sqlstate"]) == ("pgpart_other", "warning", "42501")
    conn.execute("SELECT count(*) FROM pgpart.reconcile(%s::regclass)", [parent])
    assert out_of_step(conn, parent) == []


def test_role_without_usage_on_schema_pgpart_is_left_alone_and_check_sees_the_drift(
    conn: Conn, other_conn: Conn, make_tablespace: MakeTablespace
) -> None:
    # Such a role cannot ask whether a table is managed (documented): its DDL
    # succeeds silently, and check() and reconcile catch the drift later.
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm", owner="pgpart_other")
    manage(conn, parent, tablespace=tablespaces.a)
    conn.execute("REVOKE USAGE ON SCHEMA pgpart FROM PUBLIC")
    found = notices(other_conn)
    run(other_conn, SCENARIOS["create partition"], tablespaces, "tm")
    assert found.items == []
    assert out_of_step(conn, parent) != []
    problems = conn.execute("SELECT problem FROM pgpart.check(%s::regclass, %s::timestamptz)", [parent, NOW]).fetchall()
    assert any("tablespace" in p for (p,) in problems)
    conn.execute("SELECT count(*) FROM pgpart.reconcile(%s::regclass)", [parent])
    assert out_of_step(conn, parent) == []


# --- failures become warnings --------------------------------------------------------------


def test_open_cursor_on_a_partition_while_the_parent_changes_owner(
    conn: Conn, owner_conn: Conn, connect: Connect, make_tablespace: MakeTablespace
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    tx = connect(autocommit=False)
    found = notices(tx)
    tx.execute("DECLARE c CURSOR FOR SELECT * FROM public.tm_p20240310")
    tx.execute("FETCH 1 FROM c")
    tx.execute("ALTER TABLE public.tm OWNER TO pgpart_other")  # succeeds
    tx.commit()
    assert [(s, state) for s, state, _ in found.items] == [("WARNING", "55006")]
    assert conn.execute(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = 'public.tm'::regclass"
    ).fetchone() == ("pgpart_other",)
    # nothing half done: no partition changed owner
    assert {r["owner"] for r in tree_with_indexes(conn, parent) if r["kind"] == "r"} == {"pgpart_owner"}
    [entry] = log_entries(conn, parent, source="event trigger")
    assert (entry["outcome"], entry["detail"]["sqlstate"]) == ("warning", "55006")

    fixes = conn.execute(
        "SELECT fix FROM pgpart.check(%s::regclass, %s::timestamptz) WHERE problem LIKE 'owner%%'", [parent, NOW]
    ).fetchall()
    assert len(fixes) == 2
    changed = conn.execute("SELECT action FROM pgpart.reconcile(%s::regclass)", [parent]).fetchall()
    assert changed == [("set owner",), ("set owner",)]
    assert out_of_step(conn, parent) == []
    assert (
        conn.execute(
            "SELECT fix FROM pgpart.check(%s::regclass, %s::timestamptz) WHERE problem LIKE 'owner%%'", [parent, NOW]
        ).fetchall()
        == []
    )


# --- where the DDL comes from --------------------------------------------------------------


def test_ddl_in_a_function_and_in_a_do_block(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION public.add_partition() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE"
            " 'CREATE TABLE public.tm_f PARTITION OF public.tm FOR VALUES FROM (''2024-03-20'') TO (''2024-03-21'')"
            " TABLESPACE {}'; END $f$"
        ).format(sql.Identifier(tablespaces.b))
    )
    conn.execute("SELECT public.add_partition()")
    assert out_of_step(conn, parent) == []
    conn.execute(
        sql.SQL(
            "DO $d$ BEGIN EXECUTE 'CREATE TABLE public.tm_d PARTITION OF public.tm"
            " FOR VALUES FROM (''2024-03-21'') TO (''2024-03-22'') TABLESPACE {}'; END $d$"
        ).format(sql.Identifier(tablespaces.b))
    )
    assert out_of_step(conn, parent) == []
    assert {
        r["tablespace"] for r in tree_with_indexes(conn, parent) if r["table"].split(".")[-1] in ("tm_f", "tm_d")
    } == {tablespaces.b}
    assert len(log_entries(conn, parent, source="event trigger")) == 2


def test_rolled_back_ddl_leaves_nothing_behind(
    conn: Conn, owner_conn: Conn, connect: Connect, make_tablespace: MakeTablespace
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    before = (tree_with_indexes(conn, parent), conn.execute("SELECT count(*), max(id) FROM pgpart.log").fetchone())
    tx = connect(autocommit=False)
    run(tx, SCENARIOS["create partition"] + SCENARIOS["parent owner to"], tablespaces, "tm")
    assert out_of_step(tx, parent) == []  # reconciled inside the transaction...
    tx.rollback()
    assert (
        tree_with_indexes(conn, parent),
        conn.execute("SELECT count(*), max(id) FROM pgpart.log").fetchone(),
    ) == before
    assert conn.execute("SELECT to_regclass('public.tm_x')").fetchone() == (None,)


def test_other_extensions_install_untouched(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    found = notices(conn)
    # pgpart_probe (tests/extension, installed by make test): a type, an
    # operator and a partitioned table made inside CREATE EXTENSION
    conn.execute("CREATE EXTENSION pgpart_probe")
    conn.execute("CREATE TABLE public.kv (id integer, h public.pair)")
    assert found.items == []
    assert conn.execute("SELECT ('a', '1')::public.pair OPERATOR(public.->) 'a'").fetchone() == ("1",)
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (1,)


def test_user_ddl_after_pgparts_own_ddl_in_the_same_transaction_is_seen(
    conn: Conn, owner_conn: Conn, connect: Connect, make_tablespace: MakeTablespace
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    tx = connect(autocommit=False)
    created = tx.execute(
        "SELECT count(*) FROM pgpart.create_range_partitions('public.tm', '1 day', premake => 3, now_at => %s)", [NOW]
    ).fetchone()
    assert created == (2,)
    # pgpart's flag reverted when its function returned
    assert tx.execute("SELECT current_setting('pgpart.event_triggers', true)").fetchone() in ((None,), ("",))
    run(tx, SCENARIOS["create partition"], tablespaces, "tm")
    tx.commit()
    assert out_of_step(conn, parent) == []
    assert len(log_entries(conn, parent, source="event trigger")) == 1


def test_pgparts_own_ddl_does_not_fire_the_trigger(
    conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=tablespaces.a)
    # set_tablespace moves the table, then its indexes: were the trigger to
    # fire after the first statement, it would move them and log it
    owner_conn.execute("SELECT count(*) FROM pgpart.set_tablespace('public.tm_p20240310', %s)", [tablespaces.b])
    assert out_of_step(conn, parent) == []
    assert log_entries(conn, source="event trigger") == []


# --- pg_dump and restore ------------------------------------------------------------------


def catalog(conn: Conn) -> list[tuple[Any, ...]]:
    """Every relation of schema public with what pgpart could change, plus the policies."""
    rels = conn.execute(
        """
        SELECT c.relname::text, c.relkind::text, coalesce(s.spcname::text, ''), pg_get_userbyid(c.relowner)::text,
               c.relacl::text, c.relreplident::text, c.reloptions::text
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_tablespace AS s ON s.oid = c.reltablespace
        WHERE n.nspname = 'public' ORDER BY 1
        """
    ).fetchall()
    config = conn.execute(
        "SELECT parent::text, tablespace::text, reloptions::text, reconcile, propagate_grants FROM pgpart.config"
        " ORDER BY 1"
    ).fetchall()
    return [*rels, *config]


@pytest.fixture
def restored_dbs(pg: PgServer, conn: Conn, make_tablespace: MakeTablespace) -> Iterator[list[str]]:
    """Names for databases a test restores into; dropped before the tablespaces
    (so this fixture asks for make_tablespace: it ends first)."""
    names: list[str] = []
    yield names
    for name in names:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_dump_restored_with_triggers_off_is_identical(
    pg: PgServer,
    conn: Conn,
    owner_conn: Conn,
    dbname: str,
    make_tablespace: MakeTablespace,
    restored_dbs: list[str],
    tmp_path: Any,
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    ts = tablespaces
    parent = make_parent(conn, "tm")
    manage(owner_conn, parent, tablespace=ts.a)
    run(conn, SCENARIOS["create partition"], ts, "tm")
    conn.execute("GRANT SELECT ON public.tm TO pgpart_other")
    # drift the triggers would repair on restore: an index elsewhere, another owner
    conn.execute("SET pgpart.event_triggers = off")
    conn.execute(f"ALTER INDEX public.tm_p20240311_v_idx SET TABLESPACE {ts.b}")
    conn.execute("ALTER TABLE public.tm_p20240310 OWNER TO pgpart_other")
    conn.execute("RESET pgpart.event_triggers")
    source = catalog(conn)
    reconciles = len(log_entries(conn))

    dump = tmp_path / "dump"
    env = {**os.environ, "PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": "postgres"}
    subprocess.run([str(pg.bindir / "pg_dump"), "-Fc", "-f", str(dump), dbname], env=env, check=True)

    for name, options in ((f"{dbname}_off", "-c pgpart.event_triggers=off"), (f"{dbname}_on", "")):
        restored_dbs.append(name)
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        result = subprocess.run(
            [str(pg.bindir / "pg_restore"), "--exit-on-error", "-d", name, str(dump)],
            env={**env, "PGOPTIONS": options},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        with psycopg.connect(pg.dsn(name), autocommit=True) as restored:
            if options:
                assert catalog(restored) == source
                assert len(log_entries(restored)) == reconciles
            else:
                # without the switch the triggers would have acted during the
                # restore: this is what the switch prevents
                assert catalog(restored) != source
                assert len(log_entries(restored)) > reconciles
