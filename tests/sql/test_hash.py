"""HASH partitions (issue 8): pgpart.create_hash_partitions makes the
MODULUS partitions (remainders 0 .. modulus - 1) of a HASH-partitioned table,
idempotently, each built detached then attached; a different modulus for an
existing set is refused. Refused calls are checked for SQLSTATE and for
leaving everything as it was."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import errors

from catalog import (
    bounds,
    config,
    index_defs,
    index_names,
    index_parents,
    log_actions,
    owner_of,
    snapshot,
    tablespace_of,
    where_rows_are,
)
from fix_pg import Connect
from fix_tablespace import MakeTablespace
from pgcall import create_hash, names, reconcile_dry_run
from sessions import wait_until_waiting

Conn = psycopg.Connection[Any]


def make_parent(c: Conn, name: str = "acct", key: str = "tenant bigint NOT NULL") -> str:
    """A HASH parent on its first column, with a primary key and an index."""
    c.execute(
        f"CREATE TABLE {name} ({key}, id bigint NOT NULL, note text, PRIMARY KEY ({key.split()[0]}, id))"
        f" PARTITION BY HASH ({key.split()[0]})"
    )
    c.execute(f"CREATE INDEX {name}_note ON {name} (note)")
    return name


@pytest.mark.parametrize("modulus", [4, 8, 16])
def test_modulus(conn: Conn, owner_conn: Conn, modulus: int) -> None:
    make_parent(owner_conn)
    rows = create_hash(owner_conn, "acct", modulus)
    expected = [f"acct_h{r}" for r in range(modulus)]
    assert names(rows) == [f"public.{n}" for n in expected]
    assert {r[4] for r in rows} == {"created"}
    assert bounds(conn, "acct") == {
        f"acct_h{r}": f"FOR VALUES WITH (modulus {modulus}, remainder {r})" for r in range(modulus)
    }
    # 1000 rows spread over every partition
    owner_conn.execute("INSERT INTO acct (tenant, id) SELECT g, g FROM generate_series(1, 1000) AS g")
    spread = where_rows_are(conn, "acct")
    assert sorted(spread) == sorted(expected)
    assert all(n > 0 for n in spread.values())
    assert sum(spread.values()) == 1000
    # each row is where PostgreSQL's hash says
    misplaced = conn.execute(
        """
        SELECT count(*) FROM acct AS a JOIN pg_class AS c ON c.oid = a.tableoid
        WHERE NOT satisfies_hash_partition('acct'::regclass, %s, substr(c.relname, 7)::int, a.tenant)
        """,
        [modulus],
    ).fetchone()
    assert misplaced == (0,)
    cfg = config(conn, "acct")
    assert cfg is not None
    assert (cfg["strategy"], cfg["key_column"], cfg["policy_author"]) == ("hash", "tenant", "pgpart_owner")
    assert log_actions(conn, "acct") == [("create_hash_partitions", "ok")]
    assert {owner_of(conn, p) for p in expected} == {"pgpart_owner"}
    for p in expected:
        assert sorted(parent for parent, _ in index_parents(conn, p)) == index_names(conn, "acct")


def test_idempotent(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    assert len(create_hash(owner_conn, "acct", 8)) == 8
    owner_conn.execute("INSERT INTO acct (tenant, id) SELECT g, g FROM generate_series(1, 100) AS g")
    before = snapshot(conn)
    assert create_hash(owner_conn, "acct", 8) == []
    assert create_hash(conn, "acct", 8) == []  # a superuser: the same
    assert snapshot(conn) == before
    assert sum(where_rows_are(conn, "acct").values()) == 100


def test_missing_remainders_are_added(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    owner_conn.execute("CREATE TABLE acct_mine PARTITION OF acct FOR VALUES WITH (MODULUS 4, REMAINDER 2)")
    rows = create_hash(owner_conn, "acct", 4)
    assert names(rows) == ["public.acct_h0", "public.acct_h1", "public.acct_h3"]
    assert sorted(bounds(conn, "acct")) == ["acct_h0", "acct_h1", "acct_h3", "acct_mine"]
    assert create_hash(owner_conn, "acct", 4) == []


@pytest.mark.parametrize(("first", "then"), [(4, 8), (8, 4), (4, 2), (4, 5), (1, 2)])
def test_modulus_change_is_refused(conn: Conn, owner_conn: Conn, first: int, then: int) -> None:
    make_parent(owner_conn)
    create_hash(owner_conn, "acct", first)
    owner_conn.execute("INSERT INTO acct (tenant, id) SELECT g, g FROM generate_series(1, 50) AS g")
    before = snapshot(conn)
    for kw in ({}, {"dry_run": True}):
        with pytest.raises(errors.FeatureNotSupported) as exc:
            create_hash(owner_conn, "acct", then, **kw)
        assert exc.value.diag.message_hint
        assert str(first) in exc.value.diag.message_hint  # the modulus to call with
        assert snapshot(conn) == before


def test_mixed_moduli_are_refused(conn: Conn, owner_conn: Conn) -> None:
    """A set made by hand with two moduli: any call is a modulus change."""
    make_parent(owner_conn)
    owner_conn.execute("CREATE TABLE acct_a PARTITION OF acct FOR VALUES WITH (MODULUS 2, REMAINDER 0)")
    owner_conn.execute("CREATE TABLE acct_b PARTITION OF acct FOR VALUES WITH (MODULUS 4, REMAINDER 1)")
    before = snapshot(conn)
    for modulus in (2, 4):
        with pytest.raises(errors.FeatureNotSupported):
            create_hash(owner_conn, "acct", modulus)
    assert snapshot(conn) == before


@pytest.mark.parametrize("modulus", [0, -1, 1025, None])
def test_bad_modulus(conn: Conn, owner_conn: Conn, modulus: int | None) -> None:
    make_parent(owner_conn)
    before = snapshot(conn)
    for kw in ({}, {"dry_run": True}):
        with pytest.raises(errors.InvalidParameterValue):
            create_hash(owner_conn, "acct", modulus, **kw)
        assert snapshot(conn) == before


def test_modulus_one_and_the_limit(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    assert names(create_hash(owner_conn, "acct", 1)) == ["public.acct_h0"]
    assert bounds(conn, "acct") == {"acct_h0": "FOR VALUES WITH (modulus 1, remainder 0)"}
    make_parent(owner_conn, "wide")
    plan = create_hash(owner_conn, "wide", 1024, dry_run=True)
    assert sum(1 for r in plan if r[4] == "attach") == 1024
    assert plan[-1][4] == "register policy"
    assert [r[0] for r in plan] == list(range(1, len(plan) + 1))


def test_not_hash_partitioned(conn: Conn, owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE l (tenant int) PARTITION BY LIST (tenant)")
    owner_conn.execute("CREATE TABLE r (tenant int) PARTITION BY RANGE (tenant)")
    owner_conn.execute("CREATE TABLE plain (tenant int)")
    owner_conn.execute("CREATE TABLE two (a int, b int) PARTITION BY HASH (a, b)")
    owner_conn.execute("CREATE TABLE expr (a text) PARTITION BY HASH (lower(a))")
    before = snapshot(conn)
    for table in ("l", "r", "plain"):
        for kw in ({}, {"dry_run": True}):
            with pytest.raises(errors.InvalidObjectDefinition):
                create_hash(owner_conn, table, 4, **kw)
    for table in ("two", "expr"):
        with pytest.raises(errors.FeatureNotSupported):
            create_hash(owner_conn, table, 4)
    assert snapshot(conn) == before


def test_non_owner_is_refused(conn: Conn, owner_conn: Conn, other_conn: Conn) -> None:
    make_parent(owner_conn)
    create_hash(owner_conn, "acct", 2)
    make_parent(owner_conn, "fresh")
    before = snapshot(conn)
    for table in ("acct", "fresh"):
        for kw in ({}, {"dry_run": True}):
            with pytest.raises(errors.InsufficientPrivilege):
                create_hash(other_conn, table, 2, **kw)
    assert snapshot(conn) == before


def test_name_collision(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    owner_conn.execute("CREATE TABLE acct_h2 (x int)")
    before = snapshot(conn)
    with pytest.raises(errors.DuplicateTable):
        create_hash(owner_conn, "acct", 4)
    assert snapshot(conn) == before


def test_long_parent_name(conn: Conn, owner_conn: Conn) -> None:
    name = "h" * 60
    make_parent(owner_conn, name)
    rows = create_hash(owner_conn, name, 16)
    created = [r[1].split(".")[1] for r in rows]
    assert len(set(created)) == 16
    assert all(len(n.encode()) <= 63 and n.endswith(f"_h{i}") for i, n in enumerate(created))


def test_dry_run_changes_nothing(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    before = snapshot(conn)
    plan = create_hash(owner_conn, "acct", 4, dry_run=True)
    assert snapshot(conn) == before
    actions = [r[4] for r in plan]
    assert actions[:2] == ["lock", "lock"]
    assert actions[-1] == "register policy"
    attaches = [r for r in plan if r[4] == "attach"]
    assert [r[1] for r in attaches] == [f"public.acct_h{i}" for i in range(4)]
    assert all(f"REMAINDER {i})" in r[5] for i, r in enumerate(attaches))
    for i in range(4):
        steps = [r[4] for r in plan if r[1] == f"public.acct_h{i}"]
        assert steps[0] == "create table"
        assert steps[-1] == "attach"
        assert "set owner" in steps
    created = create_hash(owner_conn, "acct", 4)
    assert [(r[0], r[1], r[5]) for r in created] == [(r[0], r[1], r[5]) for r in attaches]


def test_same_as_partition_of_and_tablespace(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    owner_conn.execute(
        """
        CREATE TABLE acct (
            tenant uuid NOT NULL, id bigint GENERATED BY DEFAULT AS IDENTITY, note text,
            PRIMARY KEY (tenant, id), CONSTRAINT acct_note_uq UNIQUE (note, tenant)
        ) PARTITION BY HASH (tenant)
        """
    )
    owner_conn.execute("CREATE INDEX acct_lower ON acct (lower(note)) WHERE note <> ''")
    owner_conn.execute("CREATE TABLE acct_ref PARTITION OF acct FOR VALUES WITH (MODULUS 4, REMAINDER 3)")
    rows = create_hash(owner_conn, "acct", 4, tablespace=tablespace)
    assert names(rows) == ["public.acct_h0", "public.acct_h1", "public.acct_h2"]
    for p in ("acct_h0", "acct_h1", "acct_h2"):
        assert index_defs(conn, p) == index_defs(conn, "acct_ref")
        attached = index_parents(conn, p)
        assert sorted(parent for parent, _ in attached if parent is not None) == index_names(conn, "acct")
        assert [i for parent, i in attached if parent is None] == []
        assert tablespace_of(conn, p) == tablespace
        assert {tablespace_of(conn, i) for i in index_names(conn, p)} == {tablespace}
        assert owner_of(conn, p) == "pgpart_owner"
    owner_conn.execute("INSERT INTO acct (tenant) SELECT gen_random_uuid() FROM generate_series(1, 400)")
    assert len(where_rows_are(conn, "acct")) == 4
    assert [r for r in reconcile_dry_run(conn, "acct") if r[0] != "acct_ref"] == []


def test_retention_does_not_apply(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_hash(owner_conn, "acct", 4)
    before = snapshot(conn)
    for kw in ("retention => '30 days'", "retention => '1000'"):
        with pytest.raises(errors.InvalidParameterValue):
            owner_conn.execute(f"SELECT * FROM pgpart.set_policy('acct', {kw})")
        assert snapshot(conn) == before


def test_partition_info(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_hash(owner_conn, "acct", 4)
    info = conn.execute(
        "SELECT partition::text, level, parent_partition, lower_bound, bound, is_default"
        " FROM pgpart.partition_info('acct')"
    ).fetchall()
    assert sorted(info) == [
        (f"acct_h{r}", 1, None, None, f"FOR VALUES WITH (modulus 4, remainder {r})", False) for r in range(4)
    ]
    findings = conn.execute("SELECT severity FROM pgpart.check('acct')").fetchall()
    assert [f for f in findings if f[0] in ("urgent", "warning")] == []


def test_waits_for_no_reader_and_times_out_on_a_conflicting_lock(
    conn: Conn, owner_conn: Conn, connect: Connect
) -> None:
    make_parent(owner_conn)
    owner_conn.execute("CREATE TABLE acct_h0 PARTITION OF acct FOR VALUES WITH (MODULUS 4, REMAINDER 0)")
    owner_conn.execute(
        "INSERT INTO acct (tenant, id) SELECT g, g FROM generate_series(1, 100) AS g"
        " WHERE satisfies_hash_partition('acct'::regclass, 4, 0, g::bigint)"
    )
    reader = connect(autocommit=False)
    assert reader.execute("SELECT count(*) > 0 FROM acct").fetchone() == (True,)
    assert len(create_hash(owner_conn, "acct", 4, lock_timeout="50ms", lock_retries=1)) == 3
    reader.rollback()

    make_parent(owner_conn, "other")
    holder = connect(autocommit=False)
    holder.execute("LOCK TABLE ONLY other IN SHARE UPDATE EXCLUSIVE MODE")
    before = snapshot(conn)
    with pytest.raises(errors.LockNotAvailable):
        create_hash(owner_conn, "other", 4, lock_timeout="50ms", lock_retries=1)
    assert snapshot(conn) == before
    holder.rollback()
    assert len(create_hash(owner_conn, "other", 4, lock_timeout="50ms", lock_retries=1)) == 4


def test_concurrent_identical_calls(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """Two identical calls at once: the second waits for the first and then
    has nothing to do (idempotent under concurrency, not only in sequence)."""
    make_parent(owner_conn)
    first = connect("pgpart_owner", autocommit=False)
    assert len(create_hash(first, "acct", 4)) == 4
    second = connect("pgpart_owner")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(create_hash, second, "acct", 4, lock_timeout="30s", lock_retries=0)
        wait_until_waiting(conn, second.info.backend_pid, future.done)
        assert not future.done(), future.result()
        first.commit()
        assert future.result() == []
    assert sorted(bounds(conn, "acct")) == [f"acct_h{r}" for r in range(4)]


def test_check_reports_a_missing_remainder(conn: Conn, owner_conn: Conn) -> None:
    """A hash set with a remainder missing refuses the rows of that
    remainder: check() says so, with a fix that restores it."""
    make_parent(owner_conn)
    create_hash(owner_conn, "acct", 4)
    owner_conn.execute("ALTER TABLE acct DETACH PARTITION acct_h2")
    owner_conn.execute("DROP TABLE acct_h2")
    findings = conn.execute("SELECT severity, fix FROM pgpart.check('acct')").fetchall()
    serious = [f for f in findings if f[0] in ("urgent", "warning")]
    assert len(serious) == 1, findings
    assert serious[0][1] is not None
    owner_conn.execute(serious[0][1])
    assert sorted(bounds(conn, "acct")) == [f"acct_h{r}" for r in range(4)]
