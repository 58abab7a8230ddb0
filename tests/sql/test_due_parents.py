"""pgpart._due_parents(now_at): the set-based filter of the no-op tick
(issue 16, item 1).

The oracle is maintenance itself: a managed parent is in _due_parents(now)
if and only if ``pgpart.run_maintenance(parent, now_at => now, dry_run =>
true)`` returns a row, or its last run failed (the real run clears
last_error without a plan row). Every scenario builds one parent ``t`` next
to a clean neighbour ``n`` (a set-based query must not let one parent's
state leak into another's), checks that the scenario really is due (or
really clean) by the dry run, compares the whole set with the oracle, then
runs maintenance for real and checks the parent is no longer due, except
where maintenance can only report (a refusal).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from fix_pg import Connect
from pgcluster import PgServer

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
# a parent's name with its schema, whatever the search_path
QUALIFIED = (
    "(SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
    " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = parent)"
)
SUB_LIST = '{"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}'


@dataclass
class Ctx:
    conn: Conn
    connect: Connect
    pg: PgServer
    dbname: str
    cleanups: list[Callable[[], None]]
    tablespace: str | None = None
    schemas: tuple[str, ...] = ()


def make_range(
    c: Conn,
    name: str = "t",
    *,
    key: str = "timestamptz",
    interval: str = "1 day",
    premake: int = 3,
    start: str | None = None,
    now: dt.datetime = NOW,
    default: bool = False,
    reloptions: list[str] | None = None,
    subpartition: str | None = None,
    tablespace: str | None = None,
) -> None:
    """A managed range parent public.NAME on column ts (or id for integer keys)."""
    integer = key in ("smallint", "integer", "bigint")
    column = "id" if integer else "ts"
    c.execute(
        sql.SQL(
            "CREATE TABLE public.{} (id bigint NOT NULL, ts {} NOT NULL, region text NOT NULL DEFAULT 'de', v text)"
            " PARTITION BY RANGE ({})"
        ).format(sql.Identifier(name), sql.SQL(key if not integer else "timestamptz"), sql.Identifier(column))
    )
    c.execute(sql.SQL("CREATE INDEX ON public.{} ({})").format(sql.Identifier(name), sql.Identifier(column)))
    c.execute(
        "SELECT pgpart.create_range_partitions(%s, %s, premake => %s, start => %s, now_at => %s,"
        " default_partition => %s, reloptions => %s, subpartition => %s::jsonb, tablespace => %s)",
        [f"public.{name}", interval, premake, start, now, default, reloptions, subpartition, tablespace],
    )


@contextmanager
def triggers_off(c: Conn) -> Iterator[None]:
    c.execute("SET pgpart.event_triggers = off")
    try:
        yield
    finally:
        c.execute("RESET pgpart.event_triggers")


def make_tablespace(ctx: Ctx) -> str:
    """A throwaway tablespace, dropped (with the test's tables) at the end."""
    if ctx.tablespace is not None:
        return ctx.tablespace
    name = ctx.tablespace = f"ts_{ctx.dbname}"
    location = Path(ctx.pg.datadir).parent / name
    location.mkdir()
    if os.geteuid() == 0:
        shutil.chown(location, "postgres", "postgres")
    ctx.conn.execute(
        sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), sql.Literal(str(location)))
    )

    def drop() -> None:
        ctx.conn.execute("SET lock_timeout = '10s'")
        for schema in ("public", *ctx.schemas):
            ctx.conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        ctx.conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))
        shutil.rmtree(location, ignore_errors=True)

    ctx.cleanups.append(drop)
    return name


def first_leaf(c: Conn, partition: str) -> str:
    row = c.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass ORDER BY 1 LIMIT 1",
        [partition],
    ).fetchone()
    assert row is not None
    return str(row[0])


# --- scenarios: each builds public.t ------------------------------------------


def clean_daily(ctx: Ctx) -> None:
    make_range(ctx.conn)


def clean_default(ctx: Ctx) -> None:
    make_range(ctx.conn, default=True)


def clean_timestamp(ctx: Ctx) -> None:
    make_range(ctx.conn, key="timestamp")


def clean_date(ctx: Ctx) -> None:
    make_range(ctx.conn, key="date")


def clean_hourly(ctx: Ctx) -> None:
    make_range(ctx.conn, interval="1 hour", premake=6)


def clean_monthly(ctx: Ctx) -> None:
    make_range(ctx.conn, interval="1 month", premake=2)


def clean_history(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-01")


def clean_not_yet_expired(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-01")
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', retention => '30 days')")


def clean_integer(ctx: Ctx) -> None:
    make_range(ctx.conn, key="bigint", interval="100", premake=3)
    ctx.conn.execute("INSERT INTO public.t (id, ts) VALUES (50, now())")


def clean_subpartition(ctx: Ctx) -> None:
    make_range(ctx.conn, subpartition=SUB_LIST)


def clean_reloptions(ctx: Ctx) -> None:
    make_range(ctx.conn, reloptions=["fillfactor=70", "autovacuum_enabled=false"])


def clean_propagated_grants(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', propagate_grants => true)")
    ctx.conn.execute("GRANT SELECT ON public.t TO pgpart_other")
    ctx.conn.execute("SELECT * FROM pgpart.reconcile('public.t')")


def clean_replica_identity_index(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute("CREATE UNIQUE INDEX t_ident ON public.t (id, ts)")
    ctx.conn.execute("ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_ident")
    ctx.conn.execute("SELECT * FROM pgpart.reconcile('public.t')")


def clean_replica_identity_full(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute("ALTER TABLE public.t REPLICA IDENTITY FULL")
    ctx.conn.execute("SELECT * FROM pgpart.reconcile('public.t')")


def clean_hand_named(ctx: Ctx) -> None:
    """The last slot of the window made by hand under another name: the
    window check by names fails, the planner has nothing to create."""
    make_range(ctx.conn, premake=2)
    ctx.conn.execute(
        "CREATE TABLE public.t_custom PARTITION OF public.t"
        " FOR VALUES FROM ('2025-03-13 00:00+00') TO ('2025-03-14 00:00+00')"
    )
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', premake => 3)")


def clean_off_grid_in_window(ctx: Ctx) -> None:
    """The highest partition ends inside the window but off the grid: the
    last slot overlaps it and is skipped, so nothing is created (the filter
    may not take a short window for a missing slot)."""
    make_range(ctx.conn, premake=2)
    ctx.conn.execute(
        "CREATE TABLE public.t_half PARTITION OF public.t"
        " FOR VALUES FROM ('2025-03-13 00:00+00') TO ('2025-03-13 12:00+00')"
    )
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', premake => 3)")


def clean_tablespace(ctx: Ctx) -> None:
    make_range(ctx.conn, tablespace=make_tablespace(ctx))


def due_window(ctx: Ctx) -> None:
    make_range(ctx.conn, now=NOW - 3 * DAY)


def due_window_default(ctx: Ctx) -> None:
    make_range(ctx.conn, now=NOW - 3 * DAY, default=True)


def due_window_hourly(ctx: Ctx) -> None:
    make_range(ctx.conn, interval="1 hour", premake=6, now=NOW - dt.timedelta(hours=2))


def due_gap_below(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-05")
    ctx.conn.execute("DROP TABLE public.t_p20250307")


def due_gap_above(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute(
        "CREATE TABLE public.t_far PARTITION OF public.t"
        " FOR VALUES FROM ('2025-03-20 00:00+00') TO ('2025-03-21 00:00+00')"
    )


def due_no_partition(ctx: Ctx) -> None:
    make_range(ctx.conn)
    parts = ctx.conn.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'public.t'::regclass")
    for (part,) in parts.fetchall():
        ctx.conn.execute(sql.SQL("DROP TABLE {}").format(sql.SQL(part)))


def due_integer_window(ctx: Ctx) -> None:
    make_range(ctx.conn, key="bigint", interval="100", premake=3)
    ctx.conn.execute("INSERT INTO public.t (id, ts) VALUES (350, now())")


def due_integer_expired(ctx: Ctx) -> None:
    make_range(ctx.conn, key="bigint", interval="100", premake=7)
    ctx.conn.execute("INSERT INTO public.t (id, ts) VALUES (350, now())")
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', premake => 3, retention => '200')")


def due_expired(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-01")
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', retention => '3 days')")


def due_expired_date(ctx: Ctx) -> None:
    make_range(ctx.conn, key="date", start="2025-03-01")
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', retention => '3 days', retention_action => 'drop')")


def due_detach_pending(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-05")
    reader = ctx.connect(autocommit=False)
    reader.execute("SELECT count(*) FROM public.t")  # an open reader: the detach waits for it
    detacher = ctx.connect()
    detacher.execute("SET statement_timeout = '300ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        detacher.execute("ALTER TABLE public.t DETACH PARTITION public.t_p20250305 CONCURRENTLY")
    reader.rollback()
    pending = ctx.conn.execute("SELECT count(*) FROM pg_inherits WHERE inhdetachpending").fetchone()
    assert pending == (1,)


def journal_detach(ctx: Ctx, partition: str) -> None:
    """What retention does, stopped after its DETACH committed."""
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', retention => '100 days', retention_action => 'drop')")
    ctx.conn.execute("SELECT pgpart._journal_detach('public.t', %s)", [partition])
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER TABLE public.t DETACH PARTITION {}").format(sql.SQL(partition)))


def due_journal_awaiting(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-05")
    journal_detach(ctx, "public.t_p20250305")


def due_journal_stale(ctx: Ctx) -> None:
    make_range(ctx.conn, start="2025-03-05")
    journal_detach(ctx, "public.t_p20250305")
    ctx.conn.execute("DROP TABLE public.t_p20250305")


def due_owner(ctx: Ctx) -> None:
    make_range(ctx.conn)
    with triggers_off(ctx.conn):
        ctx.conn.execute("ALTER TABLE public.t_p20250311 OWNER TO pgpart_other")


def due_owner_of_leaf(ctx: Ctx) -> None:
    make_range(ctx.conn, subpartition=SUB_LIST)
    leaf = first_leaf(ctx.conn, "public.t_p20250311")
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER TABLE {} OWNER TO pgpart_other").format(sql.SQL(leaf)))


def clean_subpartition_leaf_dropped(ctx: Ctx) -> None:
    """Maintenance does not put back a sub-partition dropped by hand
    (the planner fills missing range slots only): nothing due."""
    make_range(ctx.conn, subpartition=SUB_LIST)
    ctx.conn.execute(sql.SQL("DROP TABLE {}").format(sql.SQL(first_leaf(ctx.conn, "public.t_p20250312"))))


def due_index_tablespace(ctx: Ctx) -> None:
    spc = make_tablespace(ctx)
    make_range(ctx.conn)
    index = ctx.conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'public.t_p20250311'::regclass"
    ).fetchone()
    assert index is not None
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER INDEX {} SET TABLESPACE {}").format(sql.SQL(index[0]), sql.Identifier(spc)))


def due_new_parent_index(ctx: Ctx) -> None:
    """A parent index made while the triggers were off: PostgreSQL builds the
    partitions' indexes in the default tablespace, not the partitions'."""
    make_range(ctx.conn, tablespace=make_tablespace(ctx))
    with triggers_off(ctx.conn):
        ctx.conn.execute("CREATE INDEX t_v ON public.t (v)")


def due_partition_tablespace(ctx: Ctx) -> None:
    """A partition moved by hand: its indexes stay where they were."""
    spc = make_tablespace(ctx)
    make_range(ctx.conn)
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER TABLE public.t_p20250312 SET TABLESPACE {}").format(sql.Identifier(spc)))


def due_index_tablespace_of_leaf(ctx: Ctx) -> None:
    """An index of a sub-partition moved by hand (its table in the default)."""
    spc = make_tablespace(ctx)
    make_range(ctx.conn, subpartition=SUB_LIST)
    leaf = first_leaf(ctx.conn, "public.t_p20250312")
    index = ctx.conn.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [leaf])
    row = index.fetchone()
    assert row is not None
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER INDEX {} SET TABLESPACE {}").format(sql.SQL(row[0]), sql.Identifier(spc)))


def due_replica_identity_of_leaf(ctx: Ctx) -> None:
    make_range(ctx.conn, subpartition=SUB_LIST)
    leaf = first_leaf(ctx.conn, "public.t_p20250311")
    with triggers_off(ctx.conn):
        ctx.conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(sql.SQL(leaf)))


def due_replica_identity(ctx: Ctx) -> None:
    make_range(ctx.conn)
    with triggers_off(ctx.conn):
        ctx.conn.execute("ALTER TABLE public.t_p20250312 REPLICA IDENTITY FULL")


def due_replica_identity_index(ctx: Ctx) -> None:
    clean_replica_identity_index(ctx)
    with triggers_off(ctx.conn):
        ctx.conn.execute("ALTER TABLE public.t_p20250312 REPLICA IDENTITY DEFAULT")


def due_reloptions(ctx: Ctx) -> None:
    make_range(ctx.conn, reloptions=["fillfactor=70"])
    with triggers_off(ctx.conn):
        ctx.conn.execute("ALTER TABLE public.t_p20250311 RESET (fillfactor)")


def due_grant_on_partition(ctx: Ctx) -> None:
    clean_propagated_grants(ctx)
    ctx.conn.execute("GRANT UPDATE ON public.t_p20250311 TO pgpart_other")


def due_grant_on_parent(ctx: Ctx) -> None:
    clean_propagated_grants(ctx)
    ctx.conn.execute("GRANT INSERT ON public.t TO pgpart_other WITH GRANT OPTION")


def due_grants_refused(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', propagate_grants => true)")
    ctx.conn.execute("ALTER TABLE public.t ENABLE ROW LEVEL SECURITY")


def due_not_permitted(ctx: Ctx) -> None:
    """The policy's author no longer owns the table: maintenance skips it
    (and says so) on every run."""
    make_range(ctx.connect("pgpart_owner"))
    with triggers_off(ctx.conn):
        ctx.conn.execute("ALTER TABLE public.t OWNER TO pgpart_other")


def due_author_gone(ctx: Ctx) -> None:
    """REASSIGN OWNED and DROP ROLE of the policy's author (no event trigger
    sees them): maintenance skips the table until a new owner sets a policy."""
    c = ctx.conn
    c.execute("CREATE ROLE due_gone LOGIN")

    def drop_role() -> None:
        if c.execute("SELECT 1 FROM pg_roles WHERE rolname = 'due_gone'").fetchone():
            c.execute("REASSIGN OWNED BY due_gone TO pgpart_other")
            c.execute("DROP OWNED BY due_gone")
            c.execute("DROP ROLE due_gone")

    ctx.cleanups.append(drop_role)
    c.execute("GRANT CREATE ON SCHEMA public TO due_gone")
    author = ctx.connect("due_gone")
    make_range(author)
    author.close()
    drop_role()


def due_retention_refused(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute("ALTER TABLE public.t ADD PRIMARY KEY (id, ts)")
    ctx.conn.execute("CREATE TABLE public.ref (id bigint, ts timestamptz, FOREIGN KEY (id, ts) REFERENCES public.t)")
    ctx.conn.execute("SELECT pgpart.set_policy('public.t', retention => '30 days')")


def due_last_error(ctx: Ctx) -> None:
    make_range(ctx.conn)
    ctx.conn.execute(
        "UPDATE pgpart.config SET last_error = 'boom', last_error_at = now() WHERE parent = 'public.t'::regclass"
    )


@dataclass(frozen=True)
class Scenario:
    build: Callable[[Ctx], None]
    reason: str | None  # None: clean
    fixed: bool = True  # the real run removes what is due


SCENARIOS = [
    Scenario(clean_daily, None),
    Scenario(clean_default, None),
    Scenario(clean_timestamp, None),
    Scenario(clean_date, None),
    Scenario(clean_hourly, None),
    Scenario(clean_monthly, None),
    Scenario(clean_history, None),
    Scenario(clean_not_yet_expired, None),
    Scenario(clean_integer, None),
    Scenario(clean_subpartition, None),
    Scenario(clean_reloptions, None),
    Scenario(clean_propagated_grants, None),
    Scenario(clean_replica_identity_index, None),
    Scenario(clean_replica_identity_full, None),
    Scenario(clean_hand_named, None),
    Scenario(clean_tablespace, None),
    Scenario(clean_off_grid_in_window, None),
    Scenario(due_window, "partitions missing"),
    Scenario(due_window_default, "partitions missing"),
    Scenario(due_window_hourly, "partitions missing"),
    Scenario(due_gap_below, "partitions missing"),
    Scenario(due_gap_above, "partitions missing"),
    Scenario(due_no_partition, "partitions missing"),
    Scenario(due_integer_window, "partitions missing"),
    Scenario(due_integer_expired, "expired"),
    Scenario(due_expired, "expired"),
    Scenario(due_expired_date, "expired"),
    Scenario(due_detach_pending, "detach pending"),
    Scenario(due_journal_awaiting, "journal"),
    Scenario(due_journal_stale, "journal"),
    Scenario(due_owner, "owner"),
    Scenario(due_owner_of_leaf, "owner"),
    Scenario(clean_subpartition_leaf_dropped, None),
    Scenario(due_index_tablespace, "index tablespace"),
    Scenario(due_new_parent_index, "index tablespace"),
    Scenario(due_partition_tablespace, "index tablespace"),
    Scenario(due_index_tablespace_of_leaf, "index tablespace"),
    Scenario(due_replica_identity, "replica identity"),
    Scenario(due_replica_identity_of_leaf, "replica identity"),
    Scenario(due_replica_identity_index, "replica identity"),
    Scenario(due_reloptions, "reloptions"),
    Scenario(due_grant_on_partition, "grants"),
    Scenario(due_grant_on_parent, "grants"),
    Scenario(due_grants_refused, "grants refused", fixed=False),
    Scenario(due_not_permitted, "not permitted", fixed=False),
    Scenario(due_author_gone, "not permitted", fixed=False),
    Scenario(due_retention_refused, "retention refused", fixed=False),
    Scenario(due_last_error, "last error"),
]


# --- the oracle -------------------------------------------------------------------


def due(c: Conn, now: dt.datetime = NOW) -> dict[str, list[str]]:
    return {
        str(p): list(r)
        for p, r in c.execute(f"SELECT {QUALIFIED}, reasons FROM pgpart._due_parents(%s)", [now]).fetchall()
    }


def dry_run(c: Conn, parent: str, now: dt.datetime = NOW) -> list[tuple[Any, ...]]:
    return c.execute(
        "SELECT action, partition, detail FROM pgpart.run_maintenance(%s, now_at => %s, dry_run => true)",
        [parent, now],
    ).fetchall()


def oracle(c: Conn, now: dt.datetime = NOW) -> set[str]:
    """The parents maintenance has work for: its dry run plans a row, or the
    last run failed (the real run clears it)."""
    parents = c.execute(
        f"SELECT {QUALIFIED}, last_error IS NOT NULL FROM pgpart.config"
        " WHERE strategy = 'range' AND automatic_maintenance ORDER BY 1"
    ).fetchall()
    return {p for p, failed in parents if failed or dry_run(c, p, now)}


@pytest.fixture
def ctx(conn: Conn, connect: Connect, pg: PgServer, dbname: str) -> Iterator[Ctx]:
    c = Ctx(conn, connect, pg, dbname, [])
    yield c
    for cleanup in reversed(c.cleanups):
        cleanup()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.build.__name__ for s in SCENARIOS])
def test_due_if_and_only_if_maintenance_has_work(ctx: Ctx, scenario: Scenario) -> None:
    c = ctx.conn
    make_range(c, "n")  # a clean neighbour
    scenario.build(ctx)
    plan = dry_run(c, "public.t")
    failed = c.execute(
        "SELECT last_error IS NOT NULL FROM pgpart.config WHERE parent = 'public.t'::regclass"
    ).fetchone()
    # the scenario is what it claims: due ones have work, clean ones none
    if scenario.reason is None:
        assert plan == []
        assert failed == (False,)
    else:
        assert plan or failed == (True,), "the scenario is not due"
    found = due(c)
    assert set(found) == oracle(c)
    assert "public.n" not in found
    if scenario.reason is None:
        assert "public.t" not in found
        return
    assert scenario.reason in found["public.t"], found
    if scenario.fixed:
        c.execute("CALL pgpart.run_maintenance_proc('public.t', now_at => %s)", [NOW])
    else:  # a refusal: skipped, or the procedure finishes and then reports the failed table (PGM01)
        try:
            c.execute("CALL pgpart.run_maintenance_proc('public.t', now_at => %s)", [NOW])
        except psycopg.Error as exc:
            assert exc.sqlstate == "PGM01", exc
    after = due(c)
    assert set(after) == oracle(c)
    if scenario.fixed:
        assert "public.t" not in after, after
        assert dry_run(c, "public.t") == []
    else:
        assert scenario.reason in after["public.t"]


def test_all_scenarios_in_one_database(conn: Conn, connect: Connect, pg: PgServer, dbname: str) -> None:
    """Every scenario side by side (each as its own table, renamed): the set
    equals the oracle and each parent has its own reason only."""
    ctx = Ctx(conn, connect, pg, dbname, [])
    expected: dict[str, str | None] = {}
    try:
        for i, scenario in enumerate(s for s in SCENARIOS if s.build is not due_detach_pending):
            scenario.build(ctx)
            name = f"s{i:02d}"
            ctx.schemas += (name,)
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
            tables = conn.execute(
                "SELECT oid::regclass::text FROM pg_class"
                " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'f')"
            ).fetchall()
            with triggers_off(conn):  # moved as they are, drift included
                for (table,) in tables:
                    conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(sql.SQL(table), sql.Identifier(name)))
            expected[f"{name}.t"] = scenario.reason
        found = due(conn)
        assert set(found) == oracle(conn)
        for parent, reason in expected.items():
            if reason is None:
                assert parent not in found, (parent, found.get(parent))
            else:
                assert reason in found.get(parent, []), (parent, found.get(parent))
    finally:
        for cleanup in reversed(ctx.cleanups):
            cleanup()


def test_parents_without_automatic_maintenance_are_left_out(conn: Conn) -> None:
    """The tick maintains only parents with automatic maintenance on
    (pgpart._maintenance_parents); list and hash parents have no per-tick work."""
    make_range(conn, now=NOW - 3 * DAY)
    conn.execute("SELECT pgpart.set_policy('public.t', automatic_maintenance => false)")
    assert dry_run(conn, "public.t") != []  # due if asked for by name
    conn.execute("CREATE TABLE public.l (k text NOT NULL) PARTITION BY LIST (k)")
    conn.execute("SELECT pgpart.create_list_partitions('public.l', ARRAY['a', 'b'])")
    conn.execute("CREATE TABLE public.h (k bigint NOT NULL) PARTITION BY HASH (k)")
    conn.execute("SELECT pgpart.create_hash_partitions('public.h', 4)")
    with triggers_off(conn):
        conn.execute(sql.SQL("ALTER TABLE {} OWNER TO pgpart_other").format(sql.SQL(first_leaf(conn, "public.l"))))
    assert dry_run(conn, "public.l") == []
    assert dry_run(conn, "public.h") == []
    assert due(conn) == {}


def test_time_moves_the_window(conn: Conn) -> None:
    """Clean now, due when now_at reaches the end of the runway."""
    make_range(conn)
    assert due(conn) == {}
    later = NOW + 2 * DAY
    assert due(conn, later) == {"public.t": ["partitions missing"]}
    assert oracle(conn, later) == {"public.t"}


def test_a_failing_filter_maintains_every_parent(conn: Conn) -> None:
    """A policy row edited by hand into nonsense must not stop the other
    parents' maintenance: the filter then lists every parent ('unknown'),
    and maintenance isolates the failure to its own parent."""
    make_range(conn, "n")
    make_range(conn, now=NOW - 3 * DAY)
    conn.execute("UPDATE pgpart.config SET retention = 'forever' WHERE parent = 'public.t'::regclass")
    assert due(conn) == {"public.n": ["unknown"], "public.t": ["unknown"]}
    assert "error" in [r[0] for r in dry_run(conn, "public.t")]  # its own failure, reported


def test_the_bounds_cache_follows_the_catalog(conn: Conn) -> None:
    """pgpart.due_cache keeps what a parent's bounds say between ticks; a
    partition detached, attached or dropped by hand is seen on the next
    tick (the fingerprint of pg_inherits changed), and the cached summary
    still answers for another now_at (the window and the retention cut-off
    move with it); the cached window follows the policy. Nobody may write
    the row of a table they cannot maintain."""
    make_range(conn, start="2025-03-05")
    assert due(conn) == {}
    cached = conn.execute("SELECT has_gap FROM pgpart.due_cache WHERE parent = 'public.t'::regclass").fetchone()
    assert cached == (False,)
    conn.execute("ALTER TABLE public.t DETACH PARTITION public.t_p20250307")
    conn.execute("ALTER TABLE public.t_p20250307 RENAME TO kept")  # a taken name leaves the gap
    assert due(conn) == {"public.t": ["partitions missing"]}
    assert oracle(conn) == {"public.t"}
    conn.execute(
        "ALTER TABLE public.t ATTACH PARTITION public.kept"
        " FOR VALUES FROM ('2025-03-07 00:00+00') TO ('2025-03-08 00:00+00')"
    )
    assert due(conn) == {}
    conn.execute("DROP TABLE public.t_p20250313")  # the newest, in the window
    assert due(conn) == {"public.t": ["partitions missing"]}
    assert oracle(conn) == {"public.t"}
    conn.execute("CALL pgpart.run_maintenance_proc('public.t', now_at => %s)", [NOW])
    assert due(conn) == {}
    conn.execute("SELECT pgpart.set_policy('public.t', retention => '3 days')")
    later = NOW + DAY  # 2025-03-05 and 06 end at or before the cut-off
    assert due(conn, later) == {"public.t": ["expired", "partitions missing"]}
    assert oracle(conn, later) == {"public.t"}
    conn.execute("SELECT pgpart.set_policy('public.t', premake => 5)")  # the cached window's policy changed
    assert "partitions missing" in due(conn)["public.t"]
    assert set(due(conn)) == oracle(conn)
    with conn.transaction():
        conn.execute("SET LOCAL ROLE pgpart_other")
        forged = conn.execute(
            "UPDATE pgpart.due_cache SET has_gap = false WHERE parent = 'public.t'::regclass"
        ).rowcount
        assert forged == 0
