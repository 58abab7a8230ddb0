"""pgpart.reconcile (issue 4): repairs, by hand or from maintenance, what the
event trigger did not see or could not do: owners, index tablespaces at every
level, replica identity, the policy's storage parameters, and (opt-in) grants.
Drift is made here with the trigger switched off for the session, as after a
restore, a REASSIGN OWNED or DDL on a server without the trigger."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

import pgcall
from catalog import Conn, log_entries, out_of_step, tree_with_indexes
from clock import NOW
from fix_pg import Connect
from fix_tablespace import MakeTablespace, Tablespaces
from sessions import notices
from tables import make_parent

PARENT = "public.tm"


def reconcile(conn: Conn, parent: str = PARENT, **kw: Any) -> list[tuple[str, str, str | None]]:
    """SELECT partition, action, statement FROM pgpart.reconcile(parent, name => value, ...)."""
    rows = pgcall.rows(conn, "reconcile", parent, columns="partition::text, action, statement", **kw)
    return [(r[0], r[1], r[2]) for r in rows]


def off(conn: Conn, *statements: str) -> None:
    """Run STATEMENTS with the event trigger off for the session (drift)."""
    conn.execute("SET pgpart.event_triggers = off")
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.execute("RESET pgpart.event_triggers")


def state(conn: Conn, parent: str = PARENT) -> list[tuple[Any, ...]]:
    """Everything reconcile may change, for every relation of the tree."""
    return conn.execute(
        """
        SELECT c.relname::text, c.relkind::text, c.reltablespace, pg_get_userbyid(c.relowner)::text,
               c.relreplident::text, c.reloptions::text, c.relacl::text,
               (SELECT x.indisreplident FROM pg_index AS x WHERE x.indexrelid = c.oid)
        FROM pg_partition_tree(%s::regclass) AS t
        JOIN pg_class AS c ON c.oid = t.relid
        UNION ALL
        SELECT c.relname::text, c.relkind::text, c.reltablespace, pg_get_userbyid(c.relowner)::text,
               c.relreplident::text, c.reloptions::text, c.relacl::text, x.indisreplident
        FROM pg_partition_tree(%s::regclass) AS t
        JOIN pg_index AS x ON x.indrelid = t.relid
        JOIN pg_class AS c ON c.oid = x.indexrelid
        ORDER BY 1
        """,
        [parent, parent],
    ).fetchall()


@pytest.fixture
def managed(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> Tablespaces:
    """pgpart_owner's parent public.tm, replica identity FULL, partitions
    2024-03-10 and -11 made by pgpart in tablespace a with fillfactor 70."""
    tablespaces = Tablespaces.make(make_tablespace)
    make_parent(conn, "tm")
    conn.execute("ALTER TABLE public.tm REPLICA IDENTITY FULL")
    owner_conn.execute(
        "SELECT count(*) FROM pgpart.create_range_partitions('public.tm', '1 day', premake => 1, tablespace => %s,"
        " reloptions => '{fillfactor=70}', now_at => %s)",
        [tablespaces.a, NOW],
    )
    conn.execute("ALTER TABLE public.tm_p20240310 REPLICA IDENTITY FULL")
    conn.execute("ALTER TABLE public.tm_p20240311 REPLICA IDENTITY FULL")
    assert reconcile(conn, dry_run=True) == []
    return tablespaces


@pytest.fixture
def drifted(conn: Conn, managed: Tablespaces) -> Tablespaces:
    """public.tm out of step in every way reconcile repairs, at two levels."""
    ts = managed
    off(
        conn,
        "ALTER TABLE public.tm_p20240310 OWNER TO pgpart_other",
        f"ALTER INDEX public.tm_p20240311_v_idx SET TABLESPACE {ts.b}",
        "ALTER TABLE public.tm_p20240311 REPLICA IDENTITY DEFAULT",
        "ALTER TABLE public.tm_p20240310 RESET (fillfactor)",
        # a partitioned partition and its leaf, as CREATE TABLE ... PARTITION OF makes them
        "CREATE TABLE public.tm_s PARTITION OF public.tm FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')"
        f" PARTITION BY RANGE (ts) TABLESPACE {ts.a}",
        "CREATE TABLE public.tm_s1 PARTITION OF public.tm_s FOR VALUES FROM ('2024-04-01') TO ('2024-04-02')"
        f" TABLESPACE {ts.b}",
    )
    return ts


# --- what it repairs ------------------------------------------------------------------


def test_dry_run_lists_every_repair_and_changes_nothing(conn: Conn, drifted: Tablespaces) -> None:
    before = state(conn)
    plan = reconcile(conn, dry_run=True)
    assert state(conn) == before
    actions = sorted((p, a) for p, a, _ in plan)
    assert actions == sorted(
        [
            ("tm_p20240310", "set owner"),
            ("tm_p20240310", "set reloptions"),
            ("tm_p20240311", "set index tablespace"),
            ("tm_p20240311", "set replica identity"),
            ("tm_s", "set owner"),
            ("tm_s", "set index tablespace"),  # its partitioned primary key index
            ("tm_s", "set index tablespace"),  # its partitioned index on v
            ("tm_s", "set replica identity"),
            ("tm_s1", "set owner"),
            ("tm_s1", "set index tablespace"),
            ("tm_s1", "set index tablespace"),
            ("tm_s1", "set replica identity"),
            ("tm_s1", "set reloptions"),
        ]
    )
    assert (
        "tm_p20240311",
        "set index tablespace",
        f"ALTER INDEX public.tm_p20240311_v_idx SET TABLESPACE {drifted.a}",
    ) in plan
    assert log_entries(conn) == []


def test_reconcile_repairs_every_level_and_is_idempotent(conn: Conn, drifted: Tablespaces) -> None:
    assert out_of_step(conn, PARENT) != []
    changed = reconcile(conn)
    assert len(changed) == 13
    assert out_of_step(conn, PARENT) == []
    rows = conn.execute(
        "SELECT c.relname::text, c.relreplident::text, c.reloptions FROM pg_partition_tree('public.tm') AS t"
        " JOIN pg_class AS c ON c.oid = t.relid WHERE t.level > 0 ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("tm_p20240310", "f", ["fillfactor=70"]),
        ("tm_p20240311", "f", ["fillfactor=70"]),
        ("tm_s", "f", None),  # partitioned tables have no storage parameters
        ("tm_s1", "f", ["fillfactor=70"]),
    ]
    ts_of_s = conn.execute(
        "SELECT DISTINCT s.spcname::text FROM pg_index AS x JOIN pg_class AS c ON c.oid = x.indexrelid"
        " JOIN pg_tablespace AS s ON s.oid = c.reltablespace WHERE x.indrelid = 'public.tm_s'::regclass"
    ).fetchall()
    assert ts_of_s == [(drifted.a,)]
    assert reconcile(conn) == []  # idempotent
    [entry] = log_entries(conn, PARENT)
    assert (entry["actor"], entry["outcome"], entry["detail"]["source"]) == ("postgres", "ok", "reconcile")
    assert len(entry["detail"]["changes"]) == 13


def test_replica_identity_using_index_names_each_partitions_own_index(conn: Conn, managed: Tablespaces) -> None:
    off(
        conn,
        "CREATE UNIQUE INDEX tm_ident ON public.tm (id, ts)",
        "ALTER TABLE public.tm REPLICA IDENTITY USING INDEX tm_ident",
        "CREATE TABLE public.tm_s PARTITION OF public.tm FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')"
        " PARTITION BY RANGE (ts)",
        "CREATE TABLE public.tm_s1 PARTITION OF public.tm_s FOR VALUES FROM ('2024-04-01') TO ('2024-04-02')",
    )
    reconcile(conn)
    rows = conn.execute(
        """
        SELECT c.relname::text, c.relreplident::text, x.indexrelid::regclass::text,
               'public.tm_ident'::regclass IN (SELECT a.relid FROM pg_partition_ancestors(x.indexrelid) AS a)
        FROM pg_partition_tree('public.tm') AS t JOIN pg_class AS c ON c.oid = t.relid
        LEFT JOIN pg_index AS x ON x.indrelid = c.oid AND x.indisreplident
        WHERE t.level > 0 ORDER BY 1
        """
    ).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("tm_p20240310", "i", True),
        ("tm_p20240311", "i", True),
        ("tm_s", "i", True),
        ("tm_s1", "i", True),
    ]
    assert reconcile(conn) == []


def test_owner_may_reconcile_and_strangers_may_not(
    conn: Conn, owner_conn: Conn, other_conn: Conn, managed: Tablespaces
) -> None:
    off(conn, f"ALTER INDEX public.tm_p20240311_v_idx SET TABLESPACE {managed.b}")
    before = state(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        reconcile(other_conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        reconcile(other_conn, dry_run=True)
    assert state(conn) == before
    assert [a for _, a, _ in reconcile(owner_conn)] == ["set index tablespace"]
    assert out_of_step(conn, PARENT) == []
    assert log_entries(conn, PARENT)[0]["actor"] == "pgpart_owner"


def test_refusals(conn: Conn, managed: Tablespaces) -> None:
    conn.execute("CREATE TABLE public.plain_parent (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        reconcile(conn, "public.plain_parent")
    with pytest.raises(psycopg.errors.UndefinedTable):
        reconcile(conn, "public.nothing_here")
    for bad in ({"lock_timeout": "0"}, {"lock_retries": -1}, {"dry_run": None}, {"move_large": None}):
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            reconcile(conn, **bad)


# --- large indexes ------------------------------------------------------------------------


def test_large_index_moves_are_reported_unless_move_large(conn: Conn, owner_conn: Conn, managed: Tablespaces) -> None:
    ts = managed
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', move_large_bytes => 65536)")
    conn.execute(
        "INSERT INTO public.tm SELECT i, '2024-03-10 01:00+00', md5(i::text) FROM generate_series(1, 5000) AS i"
    )
    off(
        conn,
        f"ALTER TABLE public.tm_p20240310 SET TABLESPACE {ts.b}",
        f"ALTER TABLE public.tm_p20240311 SET TABLESPACE {ts.b}",
    )
    plan = reconcile(conn)
    assert sorted((p, a) for p, a, _ in plan) == [
        ("tm_p20240310", "skipped large"),
        ("tm_p20240310", "skipped large"),
        ("tm_p20240311", "set index tablespace"),
        ("tm_p20240311", "set index tablespace"),
    ]
    fixes = sorted(s for _, a, s in plan if a == "skipped large")
    assert fixes == [
        f"ALTER INDEX public.tm_p20240310_pkey SET TABLESPACE {ts.b}",
        f"ALTER INDEX public.tm_p20240310_v_idx SET TABLESPACE {ts.b}",
    ]
    rels = {r["name"]: r["tablespace"] for r in tree_with_indexes(conn, PARENT)}
    assert (rels["tm_p20240310_pkey"], rels["tm_p20240311_pkey"]) == (ts.a, ts.b)
    # check() gives the blocking fix
    check_fixes = conn.execute(
        "SELECT fix FROM pgpart.check('public.tm', %s::timestamptz)"
        " WHERE partition = 'public.tm_p20240310'::regclass AND problem LIKE 'index %%'",
        [NOW],
    ).fetchall()
    assert sorted(f for (f,) in check_fixes) == [f + ";" for f in fixes]
    assert [a for _, a, _ in reconcile(conn)] == ["skipped large", "skipped large"]
    assert [a for _, a, _ in reconcile(conn, move_large=True)] == ["set index tablespace", "set index tablespace"]
    assert out_of_step(conn, PARENT) == []
    assert reconcile(conn) == []


def test_create_index_over_a_large_partition_notices_and_leaves_it(
    conn: Conn, owner_conn: Conn, managed: Tablespaces
) -> None:
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', move_large_bytes => 65536)")
    conn.execute("INSERT INTO public.tm SELECT i, '2024-03-10 01:00+00', 'x' FROM generate_series(1, 5000) AS i")
    found = notices(owner_conn)
    owner_conn.execute("CREATE INDEX tm_id ON public.tm (id)")  # the trigger acts
    assert [(s, state) for s, state, _ in found.items] == [("NOTICE", "00000")]
    rels = {r["name"]: r["tablespace"] for r in tree_with_indexes(conn, PARENT)}
    assert (rels["tm_p20240310_id_idx"], rels["tm_p20240311_id_idx"]) == ("", managed.a)
    [entry] = log_entries(conn, PARENT, source="event trigger")
    assert [c["action"] for c in entry["detail"]["changes"]] == ["set index tablespace", "skipped large"]


# --- locks ------------------------------------------------------------------------------------


def test_lock_bounded_and_all_or_nothing(conn: Conn, connect: Connect, drifted: Tablespaces) -> None:
    before = state(conn)
    holder = connect(autocommit=False)
    try:
        holder.execute("SELECT count(*) FROM public.tm_s1")  # ACCESS SHARE on a partition to change, until commit
        with pytest.raises(psycopg.errors.LockNotAvailable):
            reconcile(conn, lock_timeout="20ms", lock_retries=1)
        assert state(conn) == before  # nothing half done, on any partition
        # ACCESS EXCLUSIVE on a misplaced index: a dry run reads the catalog
        # only, so it still answers, with that index's size unknown
        holder.execute("ALTER INDEX public.tm_p20240311_v_idx RENAME TO tm_p20240311_v_held")
        conn.execute("SET lock_timeout = '5s'")
        plan = reconcile(conn, dry_run=True)
        assert ("tm_p20240311", "skipped large") in [(p, a) for p, a, _ in plan]
    finally:
        holder.rollback()
    assert len(reconcile(conn)) == 13
    assert out_of_step(conn, PARENT) == []


# --- grants ---------------------------------------------------------------------------------


def test_grants_are_not_propagated_by_default(conn: Conn, owner_conn: Conn, managed: Tablespaces) -> None:
    owner_conn.execute("GRANT SELECT ON public.tm TO pgpart_other")
    assert reconcile(conn) == []
    acls = conn.execute("SELECT relacl FROM pg_class WHERE oid = 'public.tm_p20240310'::regclass").fetchone()
    assert acls == (None,)


def test_grant_propagation_on_a_plain_parent(
    conn: Conn, owner_conn: Conn, other_conn: Conn, managed: Tablespaces
) -> None:
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', propagate_grants => true)")
    owner_conn.execute("GRANT SELECT ON public.tm TO pgpart_other")  # GRANT fires no trigger
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other_conn.execute("SELECT count(*) FROM public.tm_p20240310")
    assert sorted(reconcile(owner_conn)) == [
        ("tm_p20240310", "grant", "GRANT SELECT ON public.tm_p20240310 TO pgpart_other"),
        ("tm_p20240311", "grant", "GRANT SELECT ON public.tm_p20240311 TO pgpart_other"),
    ]
    assert other_conn.execute("SELECT count(*) FROM public.tm_p20240310").fetchone() == (0,)
    # a new partition gets them from the trigger
    conn.execute(
        "CREATE TABLE public.tm_x PARTITION OF public.tm FOR VALUES FROM ('2024-03-20') TO ('2024-03-21')"
        f" TABLESPACE {managed.a}"
    )
    assert other_conn.execute("SELECT count(*) FROM public.tm_x").fetchone() == (0,)
    # revokes follow too, and grant options
    owner_conn.execute("REVOKE SELECT ON public.tm FROM pgpart_other")
    owner_conn.execute("GRANT INSERT ON public.tm TO pgpart_other WITH GRANT OPTION")
    changed = reconcile(owner_conn)
    assert {s.split(" ON ")[0] for _, _, s in changed if s} == {"REVOKE SELECT", "GRANT INSERT"}
    assert reconcile(owner_conn) == []
    acls = conn.execute(
        "SELECT DISTINCT relacl::text FROM pg_partition_tree('public.tm') AS t JOIN pg_class AS c ON c.oid = t.relid"
    ).fetchall()
    # every privilege the server has: PostgreSQL 17 added MAINTAIN ('m')
    owner_privileges = "arwdDxtm" if conn.info.server_version >= 170000 else "arwdDxt"
    assert acls == [(f"{{pgpart_owner={owner_privileges}/pgpart_owner,pgpart_other=a*/pgpart_owner}}",)]


@pytest.mark.parametrize("protection", ["row-level security", "column grant"])
def test_grant_propagation_refused_on_protected_parents(
    conn: Conn, owner_conn: Conn, managed: Tablespaces, protection: str
) -> None:
    owner_conn.execute("GRANT SELECT ON public.tm TO pgpart_other")
    protect = (
        "ALTER TABLE public.tm ENABLE ROW LEVEL SECURITY"
        if protection == "row-level security"
        else "GRANT UPDATE (v) ON public.tm TO pgpart_other"
    )
    owner_conn.execute(protect)
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', propagate_grants => true)")
    # protection added after propagation was turned on: reconcile refuses too
    owner_conn.execute(
        "ALTER TABLE public.tm DISABLE ROW LEVEL SECURITY"
        if protection == "row-level security"
        else "REVOKE UPDATE (v) ON public.tm FROM pgpart_other"
    )
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', propagate_grants => true)")
    owner_conn.execute(protect)
    before = state(conn)
    with pytest.raises(psycopg.errors.FeatureNotSupported) as exc:
        reconcile(owner_conn)
    assert exc.value.diag.table_name == "tm"
    assert state(conn) == before
    # and the trigger warns with the same SQLSTATE, letting the DDL succeed
    found = notices(owner_conn)
    owner_conn.execute("CREATE INDEX ON public.tm (ts)")
    assert [(s, st) for s, st, _ in found.items] == [("WARNING", "0A000")]


# --- without the trigger ------------------------------------------------------------------


def test_everything_works_without_the_trigger(conn: Conn, owner_conn: Conn, managed: Tablespaces) -> None:
    conn.execute("ALTER EVENT TRIGGER pgpart_ddl_command_end DISABLE")
    conn.execute(
        "CREATE TABLE public.tm_x PARTITION OF public.tm FOR VALUES FROM ('2024-03-20') TO ('2024-03-21')"
        f" TABLESPACE {managed.b}"
    )
    conn.execute("REASSIGN OWNED BY pgpart_owner TO pgpart_other")  # fires nothing, ever
    problems = conn.execute("SELECT problem FROM pgpart.check('public.tm', %s::timestamptz)", [NOW]).fetchall()
    assert len(problems) >= 2
    reconcile(conn)
    assert out_of_step(conn, PARENT) == []
    assert reconcile(conn) == []


# --- the SECURITY DEFINER helpers -----------------------------------------------------------


def test_is_managed_answers_everyone(conn: Conn, owner_conn: Conn, other_conn: Conn, managed: Tablespaces) -> None:
    query = "SELECT pgpart._is_managed(%s::regclass::oid)"
    assert other_conn.execute(query, [PARENT]).fetchone() == (True,)
    assert other_conn.execute(query, ["public.tm_p20240310"]).fetchone() == (False,)
    owner_conn.execute("SELECT count(*) FROM pgpart.set_policy('public.tm', reconcile => false)")
    assert other_conn.execute(query, [PARENT]).fetchone() == (False,)


def test_log_writer_checks_its_caller(conn: Conn, other_conn: Conn, owner_conn: Conn, managed: Tablespaces) -> None:
    def write(c: Conn, parent: str, actor: str, outcome: str = "ok") -> None:
        c.execute(
            "SELECT pgpart._log_event(%s::regclass, %s::name, '{ALTER TABLE}', %s, NULL, NULL, '[]')",
            [parent, actor, outcome],
        )

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        write(other_conn, PARENT, "pgpart_other")  # owns nothing of the tree
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        write(other_conn, PARENT, "pgpart_owner")  # not a role the session may act as
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        write(owner_conn, PARENT, "pgpart_owner", "done")
    conn.execute("CREATE TABLE public.unmanaged (ts timestamptz) PARTITION BY RANGE (ts)")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        write(conn, "public.unmanaged", "postgres")
    assert log_entries(conn) == []
    write(owner_conn, PARENT, "pgpart_owner")
    assert [(e["actor"], e["detail"]["source"]) for e in log_entries(conn)] == [("pgpart_owner", "event trigger")]
