"""Sub-partitioning (issue 8): create_range_partitions(..., subpartition =>
spec) makes every new range partition itself partitioned by HASH or LIST and
fills it before attaching it; the spec is kept in pgpart.config.subpartition,
so maintenance keeps making both levels; partition_info shows the tree;
retention archives or drops whole subtrees.

The parent is made by pgpart_owner; pgpart runs as a superuser or as the
owner, and everything it makes must belong to the owner."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors

from catalog import config, index_names, index_parents, leaves, owner_of, snapshot, tablespace_of, tree, where_rows_are
from fix_tablespace import MakeTablespace, Tablespaces
from pgcall import create_range, names, reconcile_dry_run

Conn = psycopg.Connection[Any]

HASH4 = {"method": "hash", "key": "tenant", "modulus": 4}
LIST_GROUPS = {"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def make_parent(c: Conn, name: str = "ev", extra: str = "", pk: bool = True) -> str:
    """A RANGE parent on ts (timestamptz) with tenant and region columns, a
    primary key over every partition key and one more index; made through C."""
    key = ", PRIMARY KEY (id, ts, tenant, region)" if pk else ""
    c.execute(
        f"""
        CREATE TABLE {name} (
            id bigint NOT NULL, ts timestamptz NOT NULL, tenant int NOT NULL,
            region text NOT NULL DEFAULT 'de', v text{key}
        ) PARTITION BY RANGE (ts) {extra}
        """
    )
    c.execute(f"CREATE INDEX {name}_v ON {name} (v)")
    return name


def month_partitions(conn: Conn, parent: str = "ev") -> list[str]:
    """Level-1 partitions of PARENT, by name."""
    return sorted(r[0] for r in tree(conn, parent) if r[2] == parent)


def insert_month(c: Conn, month: str, tenants: int = 40, start: int = 0, parent: str = "ev", **cols: str) -> None:
    """TENANTS rows in MONTH (the 15th, one hour apart), tenant 1..TENANTS."""
    region = cols.get("region", "de")
    c.execute(
        f"INSERT INTO {parent} (id, ts, tenant, region) SELECT %s + g, %s::timestamptz + g * interval '1 hour', g, %s"
        " FROM generate_series(1, %s) AS g",
        [start, f"{month}-15 00:00+00", region, tenants],
    )


def misrouted_rows(conn: Conn, parent: str = "ev") -> list[tuple[Any, ...]]:
    """Rows whose leaf does not match them: the leaf's parent range must hold
    ts and, for a hash leaf, its remainder must be the tenant's; for a list
    leaf, its values must hold the region."""
    return conn.execute(
        f"""
        SELECT e.id, leaf.relname, mid.relname
        FROM {parent} AS e
        JOIN pg_class AS leaf ON leaf.oid = e.tableoid
        JOIN pg_inherits AS i ON i.inhrelid = leaf.oid
        JOIN pg_class AS mid ON mid.oid = i.inhparent
        JOIN pgpart.partition_info(%s) AS info ON info.partition = mid.oid
        WHERE mid.relispartition IS NOT TRUE
           OR NOT (e.ts >= info.lower_bound::timestamptz AND e.ts < info.upper_bound::timestamptz)
           OR CASE WHEN pg_get_expr(leaf.relpartbound, leaf.oid) LIKE 'FOR VALUES WITH%%'
                   THEN NOT satisfies_hash_partition(
                            mid.oid,
                            substring(pg_get_expr(leaf.relpartbound, leaf.oid) FROM 'modulus (\\d+)')::int,
                            substring(pg_get_expr(leaf.relpartbound, leaf.oid) FROM 'remainder (\\d+)')::int,
                            e.tenant)
                   ELSE NOT (pg_get_expr(leaf.relpartbound, leaf.oid) LIKE '%%' || quote_literal(e.region) || '%%')
              END
        """,
        [parent],
    ).fetchall()


def maintain(conn: Conn, owner_conn: Conn, now_at: str, how: str) -> None:
    """One maintenance run at NOW_AT: the function as the owner, or the
    procedure as a superuser; any failure fails the test."""
    if how == "function":
        rows = owner_conn.execute("SELECT action, detail FROM pgpart.run_maintenance('ev', %s)", [now_at]).fetchall()
        assert [r for r in rows if r[0] in ("error", "skipped")] == []
    else:
        conn.execute("CALL pgpart.run_maintenance_proc('ev', %s)", [now_at])
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["last_error"] is None


def test_monthly_by_hash_over_six_months_with_maintenance(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    rows = create_range(conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    assert names(rows) == ["public.ev_p20240101", "public.ev_p20240201"]
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["subpartition"] == HASH4
    insert_month(owner_conn, "2024-01", start=0)
    for i, month in enumerate(MONTHS[1:], start=1):
        maintain(conn, owner_conn, f"{month}-15 12:00+00", "function" if i % 2 else "procedure")
        expected = [f"ev_p{m.replace('-', '')}01" for m in MONTHS[: i + 1]] + [f"ev_p2024{i + 2:02d}01"]
        assert month_partitions(conn) == expected
        insert_month(owner_conn, month, start=1000 * i)
    # both levels, everywhere
    structure = tree(conn, "ev")
    mids = [r for r in structure if r[2] == "ev"]
    assert len(mids) == 7
    assert all(r[1] == "p" for r in mids)
    for mid in mids:
        assert sorted(r[0] for r in structure if r[2] == mid[0]) == [f"{mid[0]}_h{h}" for h in range(4)]
        assert [r[3] for r in structure if r[2] == mid[0]] == [
            f"FOR VALUES WITH (modulus 4, remainder {h})" for h in range(4)
        ]
    assert len(leaves(conn, "ev")) == 28
    # every row where it belongs, every month's leaves used
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (240,)
    assert misrouted_rows(conn) == []
    used = where_rows_are(conn, "ev")
    for month in MONTHS:
        assert sorted(p for p in used if p.startswith(f"ev_p{month.replace('-', '')}01_h")) == [
            f"ev_p{month.replace('-', '')}01_h{h}" for h in range(4)
        ]
    # nothing missing a level: a row for July goes to a July leaf
    insert_month(owner_conn, "2024-07", tenants=3, start=9000)
    assert misrouted_rows(conn) == []
    assert reconcile_dry_run(conn, "ev") == []


def test_partition_info_shows_the_tree(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    info = conn.execute(
        "SELECT partition::text, level, parent_partition::text, lower_bound, upper_bound, bound"
        " FROM pgpart.partition_info('ev')"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in info] == [
        ("ev_p20240101", 1, None),
        *[(f"ev_p20240101_h{h}", 2, "ev_p20240101") for h in range(4)],
        ("ev_p20240201", 1, None),
        *[(f"ev_p20240201_h{h}", 2, "ev_p20240201") for h in range(4)],
    ]
    assert info[0][3:5] == ("2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00")
    assert [r[5] for r in info if r[1] == 2][:4] == [f"FOR VALUES WITH (modulus 4, remainder {h})" for h in range(4)]
    # the same rows without a parent argument (every managed parent)
    everything = conn.execute(
        "SELECT partition::text, level, parent_partition::text FROM pgpart.partition_info()"
        " WHERE parent_table = 'ev'::regclass"
    ).fetchall()
    assert everything == [(r[0], r[1], r[2]) for r in info]
    findings = conn.execute("SELECT severity, problem FROM pgpart.check('ev', '2024-01-15 12:00+00')").fetchall()
    assert [f for f in findings if f[0] in ("urgent", "warning")] == []


@pytest.mark.parametrize("creator", ["superuser", "owner"])
def test_everything_belongs_to_the_parents_owner(conn: Conn, owner_conn: Conn, creator: str) -> None:
    make_parent(owner_conn)
    c = conn if creator == "superuser" else owner_conn
    create_range(c, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    conn.execute("CALL pgpart.run_maintenance_proc('ev', '2024-02-15 12:00+00')")
    rels = [r[0] for r in tree(conn, "ev")]
    assert len(rels) == 15
    for rel in rels:
        assert owner_of(conn, rel) == "pgpart_owner", rel
        for index in index_names(conn, rel):
            assert owner_of(conn, index) == "pgpart_owner", index


def test_leaf_indexes_are_attached_level_by_level(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_range(owner_conn, "ev", "monthly", premake=0, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    root = index_names(conn, "ev")
    assert len(root) == 2
    mid_indexes = index_parents(conn, "ev_p20240101")
    assert sorted(p for p, _ in mid_indexes) == root
    for h in range(4):
        attached = index_parents(conn, f"ev_p20240101_h{h}")
        assert sorted(p for p, _ in attached) == sorted(i for _, i in mid_indexes)


@pytest.mark.parametrize("placement", ["database default", "policy", "parent"])
def test_leaves_and_their_indexes_in_one_tablespace(
    conn: Conn,
    owner_conn: Conn,
    make_tablespace: MakeTablespace,
    placement: str,
) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    expected = {"database default": "pg_default", "policy": tablespaces.a, "parent": tablespaces.b}[placement]
    make_parent(owner_conn, extra=f"TABLESPACE {tablespaces.b}" if placement == "parent" else "")
    kw = {"tablespace": tablespaces.a} if placement == "policy" else {}
    create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4, **kw)
    all_leaves = leaves(conn, "ev")
    assert len(all_leaves) == 8
    for leaf in all_leaves:
        assert tablespace_of(conn, leaf) == expected, leaf
        assert {tablespace_of(conn, i) for i in index_names(conn, leaf)} == {expected}, leaf
    # later partitions too (maintenance)
    conn.execute("CALL pgpart.run_maintenance_proc('ev', '2024-03-15 12:00+00')")
    for leaf in leaves(conn, "ev"):
        assert tablespace_of(conn, leaf) == expected, leaf
        assert {tablespace_of(conn, i) for i in index_names(conn, leaf)} == {expected}, leaf
    assert reconcile_dry_run(conn, "ev") == []


@pytest.mark.parametrize(
    ("spec", "suffixes", "good", "bad"),
    [
        pytest.param(LIST_GROUPS, ["_eu", "_us"], ["de", "fr", "us"], "jp", id="groups"),
        pytest.param(
            {"method": "list", "key": "region", "values": ["de", "fr", "a b"]},
            ["_a_b_", "_de", "_fr"],
            ["de", "fr", "a b"],
            "us",
            id="values",
        ),
    ],
)
def test_monthly_by_list(
    conn: Conn, owner_conn: Conn, spec: dict[str, Any], suffixes: list[str], good: list[str], bad: str
) -> None:
    make_parent(owner_conn)
    create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=spec)
    maintain(conn, owner_conn, "2024-02-15 12:00+00", "function")
    maintain(conn, owner_conn, "2024-03-15 12:00+00", "procedure")
    mids = month_partitions(conn)
    assert mids == ["ev_p20240101", "ev_p20240201", "ev_p20240301", "ev_p20240401"]
    structure = tree(conn, "ev")
    for mid in mids:
        children = sorted(r[0] for r in structure if r[2] == mid)
        assert len(children) == len(suffixes)
        for child, suffix in zip(children, suffixes, strict=True):
            assert child.startswith(mid + suffix)
    for i, month in enumerate(MONTHS[:4]):
        for j, region in enumerate(good):
            insert_month(owner_conn, month, tenants=5, start=1000 * i + 100 * j, region=region)
    assert misrouted_rows(conn) == []
    assert reconcile_dry_run(conn, "ev") == []
    assert len(where_rows_are(conn, "ev")) == 4 * len(suffixes)  # every leaf of the four months used
    with pytest.raises(errors.CheckViolation):  # no leaf for that region
        insert_month(owner_conn, "2024-02", tenants=1, start=99999, region=bad)


@pytest.mark.parametrize("action", ["archive", "drop"])
def test_retention_takes_the_whole_subtree(conn: Conn, owner_conn: Conn, action: str) -> None:
    make_parent(owner_conn)
    conn.execute("CREATE SCHEMA arch AUTHORIZATION pgpart_owner")
    create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    for i, month in enumerate(MONTHS):
        if i:
            maintain(conn, owner_conn, f"{month}-15 12:00+00", "function")
        insert_month(owner_conn, month, start=1000 * i)
    policy_kw = "retention => '2 months', retention_action => %s" + (
        ", archive_schema => 'arch'" if action == "archive" else ""
    )
    owner_conn.execute(f"SELECT * FROM pgpart.set_policy('ev', {policy_kw})", [action])
    conn.execute("CALL pgpart.run_maintenance_proc('ev', '2024-06-15 12:00+00')")
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["last_error"] is None
    gone = ["ev_p20240101", "ev_p20240201", "ev_p20240301"]
    kept = ["ev_p20240401", "ev_p20240501", "ev_p20240601", "ev_p20240701"]
    assert month_partitions(conn) == kept
    assert len(leaves(conn, "ev")) == 16
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (120,)
    in_public = conn.execute(
        "SELECT relname::text FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace AND relname ~ '^ev_p2024(01|02|03)'"
    ).fetchall()
    assert in_public == []
    archived = conn.execute(
        "SELECT relname::text, relkind::text, relispartition FROM pg_class WHERE relnamespace = 'arch'::regnamespace"
        " AND relkind IN ('r', 'p') ORDER BY 1"
    ).fetchall()
    if action == "drop":
        assert archived == []
        return
    # every level in the archive schema, the subtree intact, no row lost
    assert archived == [
        row for mid in gone for row in [(mid, "p", False), *[(f"{mid}_h{h}", "r", True) for h in range(4)]]
    ]
    for mid in gone:
        assert tree(conn, f"arch.{mid}") == [
            (f"{mid}_h{h}", "r", mid, f"FOR VALUES WITH (modulus 4, remainder {h})") for h in range(4)
        ]
        assert conn.execute(f"SELECT count(*) FROM arch.{mid}").fetchone() == (40,)
        for h in range(4):
            for index in index_names(conn, f"arch.{mid}_h{h}"):
                assert index.startswith("arch."), index
    total = conn.execute(
        "SELECT (SELECT count(*) FROM ev) + (SELECT count(*) FROM arch.ev_p20240101)"
        " + (SELECT count(*) FROM arch.ev_p20240201) + (SELECT count(*) FROM arch.ev_p20240301)"
    ).fetchone()
    assert total == (240,)


def test_archive_tablespace_moves_every_level(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespaces = Tablespaces.make(make_tablespace)
    make_parent(owner_conn)
    create_range(
        owner_conn,
        "ev",
        "monthly",
        premake=1,
        now_at="2024-01-15 12:00+00",
        subpartition=HASH4,
        tablespace=tablespaces.a,
    )
    insert_month(owner_conn, "2024-01")
    maintain(conn, owner_conn, "2024-02-15 12:00+00", "function")
    owner_conn.execute(
        "SELECT * FROM pgpart.set_policy('ev', retention => '1 month', retention_action => 'archive',"
        " archive_tablespace => %s)",
        [tablespaces.b],
    )
    conn.execute("CALL pgpart.run_maintenance_proc('ev', '2024-03-15 12:00+00')")
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["last_error"] is None
    assert "ev_p20240101" not in month_partitions(conn)
    assert conn.execute("SELECT count(*) FROM ev_p20240101").fetchone() == (40,)
    for h in range(4):
        leaf = f"ev_p20240101_h{h}"
        assert tablespace_of(conn, leaf) == tablespaces.b
        assert {tablespace_of(conn, i) for i in index_names(conn, leaf)} == {tablespaces.b}
    # the kept ones did not move
    for leaf in leaves(conn, "ev"):
        assert tablespace_of(conn, leaf) == tablespaces.a


def test_dry_run_changes_nothing(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    before = snapshot(conn)
    plan = create_range(
        owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4, dry_run=True
    )
    assert snapshot(conn) == before
    for mid in ("public.ev_p20240101", "public.ev_p20240201"):
        steps = [(r[1], r[4]) for r in plan if r[1] is not None and r[1].startswith(mid)]
        actions = [a for _, a in steps]
        assert actions[0] == "create table"
        assert actions[-1] == "attach"
        # every leaf is made (and owned) before its range partition is attached
        assert [p for p, a in steps if a == "create sub-partition"] == [f"{mid}_h{h}" for h in range(4)]
        assert actions.index("attach") > max(i for i, a in enumerate(actions) if a == "create sub-partition")
        assert actions.count("set owner") == 5
    assert "PARTITION BY HASH (tenant)" in next(r[5] for r in plan if r[4] == "create table")
    created = create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    assert [(r[0], r[1]) for r in created] == [(r[0], r[1]) for r in plan if r[4] == "attach"]


def test_spec_is_kept_and_normalised(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_range(
        owner_conn,
        "ev",
        "monthly",
        premake=0,
        now_at="2024-01-15 12:00+00",
        subpartition={"method": "HASH", "key": "tenant", "modulus": "4"},
    )
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["subpartition"] == HASH4
    # a later call without the spec keeps it: new partitions are sub-partitioned too
    assert names(create_range(owner_conn, "ev", "monthly", premake=2, now_at="2024-01-15 12:00+00")) == [
        "public.ev_p20240201",
        "public.ev_p20240301",
    ]
    assert len(leaves(conn, "ev")) == 12
    cfg = config(conn, "ev")
    assert cfg is not None
    assert cfg["subpartition"] == HASH4


def test_reloptions_go_to_the_leaves(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_range(
        owner_conn,
        "ev",
        "monthly",
        premake=0,
        now_at="2024-01-15 12:00+00",
        subpartition=HASH4,
        reloptions=["fillfactor=70"],
    )
    rows = conn.execute(
        "SELECT relname::text, relkind::text, reloptions FROM pg_class"
        " WHERE relname LIKE 'ev\\_p%%' AND relkind IN ('r', 'p')"
        " ORDER BY 1"
    ).fetchall()
    assert rows == [("ev_p20240101", "p", None)] + [(f"ev_p20240101_h{h}", "r", ["fillfactor=70"]) for h in range(4)]
    assert reconcile_dry_run(conn, "ev") == []


def test_replica_identity_reaches_the_leaves(conn: Conn, owner_conn: Conn) -> None:
    """The parent's replica identity is copied to every partition that holds
    rows: with sub-partitioning, to the leaves; a published parent can then
    be updated whichever leaf a row is in."""
    make_parent(owner_conn, pk=False)
    owner_conn.execute("ALTER TABLE ev REPLICA IDENTITY FULL")
    create_range(owner_conn, "ev", "monthly", premake=0, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    assert reconcile_dry_run(conn, "ev") == []  # reconcile agrees with what pgpart made
    idents = conn.execute(
        "SELECT relname::text, relreplident::text FROM pg_class"
        " WHERE relname LIKE 'ev\\_p%%' AND relkind = 'r' ORDER BY 1"
    ).fetchall()
    assert idents == [(f"ev_p20240101_h{h}", "f") for h in range(4)]
    conn.execute("CREATE PUBLICATION ev_pub FOR TABLE ev WITH (publish_via_partition_root = true)")
    insert_month(owner_conn, "2024-01", tenants=8)
    owner_conn.execute("UPDATE ev SET v = 'x'")


def test_long_names(conn: Conn, owner_conn: Conn) -> None:
    parent = "p" * 60
    make_parent(owner_conn, parent)
    create_range(
        owner_conn,
        parent,
        "monthly",
        premake=1,
        now_at="2024-01-15 12:00+00",
        subpartition={"method": "list", "key": "region", "values": ["de", "a much longer value than fits"]},
    )
    all_names = [r[0] for r in tree(conn, parent)]
    assert len(all_names) == 6
    assert len(set(all_names)) == 6
    assert all(len(n.encode()) <= 63 for n in all_names)


SPEC_ERRORS = [
    pytest.param('"hash"', id="not-an-object"),
    pytest.param("[1]", id="array"),
    pytest.param({"key": "tenant", "modulus": 4}, id="no-method"),
    pytest.param({"method": "range", "key": "tenant"}, id="range"),
    pytest.param({"method": "hash", "modulus": 4}, id="no-key"),
    pytest.param({"method": "hash", "key": "no_such_column", "modulus": 4}, id="unknown-column"),
    pytest.param({"method": "hash", "key": "ctid", "modulus": 4}, id="system-column"),
    pytest.param({"method": "hash", "key": "tenant"}, id="no-modulus"),
    pytest.param({"method": "hash", "key": "tenant", "modulus": 0}, id="modulus-0"),
    pytest.param({"method": "hash", "key": "tenant", "modulus": 1025}, id="modulus-1025"),
    pytest.param({"method": "hash", "key": "tenant", "modulus": -4}, id="modulus-negative"),
    pytest.param({"method": "hash", "key": "tenant", "modulus": "four"}, id="modulus-text"),
    pytest.param({"method": "hash", "key": "tenant", "modulus": 2.5}, id="modulus-fraction"),
    pytest.param({"method": "list", "key": "region"}, id="list-no-values"),
    pytest.param({"method": "list", "key": "region", "values": {"eu": []}}, id="list-empty-group"),
    pytest.param({"method": "list", "key": "region", "values": [["de"]]}, id="list-nested"),
    pytest.param({"method": "list", "key": "region", "values": "de"}, id="list-scalar"),
    pytest.param({"method": "list", "key": "tenant", "values": ["x"]}, id="list-value-not-int"),
    pytest.param(
        {"method": "list", "key": "region", "values": ["de", "de"]},
        id="list-duplicate",
    ),
    pytest.param(
        {"method": "hash", "key": "doc", "modulus": 4},
        id="no-hash-opclass",
    ),
]


@pytest.mark.parametrize("spec", SPEC_ERRORS)
def test_bad_spec(conn: Conn, owner_conn: Conn, spec: Any) -> None:
    """A bad spec: 22023, nothing created, no policy written; on a managed
    parent, the policy and partitions stay as they were."""
    make_parent(owner_conn, extra="")
    owner_conn.execute("ALTER TABLE ev ADD COLUMN doc json")
    make_parent(owner_conn, "managed")
    owner_conn.execute("ALTER TABLE managed ADD COLUMN doc json")
    create_range(owner_conn, "managed", "monthly", premake=0, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    before = snapshot(conn)
    for parent in ("ev", "managed"):
        for kw in ({}, {"dry_run": True}):
            with pytest.raises(errors.InvalidParameterValue):
                create_range(
                    owner_conn, parent, "monthly", premake=2, now_at="2024-01-15 12:00+00", subpartition=spec, **kw
                )
            assert snapshot(conn) == before


def test_non_owner_is_refused(conn: Conn, owner_conn: Conn, other_conn: Conn) -> None:
    make_parent(owner_conn)
    before = snapshot(conn)
    for kw in ({}, {"dry_run": True}):
        with pytest.raises(errors.InsufficientPrivilege):
            create_range(other_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4, **kw)
    assert snapshot(conn) == before


def test_rows_moved_out_of_the_default_land_in_a_sub_partitioned_partition(conn: Conn, owner_conn: Conn) -> None:
    """move_default_range builds the partition for the rows of the default
    as create_range_partitions would: partitioned by the spec and filled."""
    make_parent(owner_conn)
    create_range(
        owner_conn, "ev", "monthly", premake=0, now_at="2024-01-15 12:00+00", subpartition=HASH4, default_partition=True
    )
    insert_month(owner_conn, "2024-03", tenants=20)
    assert where_rows_are(conn, "ev") == {"ev_default": 20}
    # maintenance cannot create March over those rows (23514, recorded)
    rows = owner_conn.execute("SELECT action FROM pgpart.run_maintenance('ev', '2024-03-15 12:00+00')").fetchall()
    assert ("error",) in rows
    moved = owner_conn.execute(
        "SELECT partition, rows_moved FROM pgpart.move_default_range('ev', now_at => '2024-03-15 12:00+00')"
    ).fetchall()
    assert moved == [("public.ev_p20240301", 20)]
    assert sorted(r[0] for r in tree(conn, "ev") if r[2] == "ev_p20240301") == [f"ev_p20240301_h{h}" for h in range(4)]
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (20,)
    assert misrouted_rows(conn) == []


def test_names_that_need_quoting(conn: Conn, owner_conn: Conn) -> None:
    """A schema, a table and key columns whose names need quotes, a list
    value that needs sanitising; then retention archives into such a schema."""
    conn.execute('CREATE SCHEMA "Odd Schema" AUTHORIZATION pgpart_owner')
    conn.execute('CREATE SCHEMA "Old Stuff" AUTHORIZATION pgpart_owner')
    owner_conn.execute(
        """
        CREATE TABLE "Odd Schema"."My Events" (
            id int, ts timestamptz NOT NULL, "Re gion" text NOT NULL, PRIMARY KEY (id, ts, "Re gion")
        ) PARTITION BY RANGE (ts)
        """
    )
    parent = '"Odd Schema"."My Events"'
    spec = {"method": "list", "key": "Re gion", "values": {"Eu Zone": ["de", "O'Brien"], "us": ["us"]}}
    create_range(owner_conn, parent, "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=spec)
    info = conn.execute("SELECT partition::text, level FROM pgpart.partition_info(%s::regclass)", [parent]).fetchall()
    assert [r[1] for r in info] == [1, 2, 2, 1, 2, 2]
    assert all(r[0].startswith('"Odd Schema"."My Events_p2024') for r in info)
    owner_conn.execute(
        """INSERT INTO "Odd Schema"."My Events" VALUES (1, '2024-01-15 00:00+00', 'O''Brien'),
           (2, '2024-01-15 00:00+00', 'us'), (3, '2024-02-15 00:00+00', 'de')"""
    )
    owner_conn.execute(
        "SELECT * FROM pgpart.set_policy(%s, retention => '1 month', retention_action => 'archive',"
        " archive_schema => 'Old Stuff')",
        [parent],
    )
    conn.execute("CALL pgpart.run_maintenance_proc(%s, '2024-03-15 12:00+00')", [parent])
    archived = conn.execute(
        "SELECT relname::text FROM pg_class"
        " WHERE relnamespace = '\"Old Stuff\"'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1"
    ).fetchall()
    assert len(archived) == 3
    assert archived[0] == ("My Events_p20240101",)
    assert conn.execute('SELECT count(*) FROM "Old Stuff"."My Events_p20240101"').fetchone() == (2,)
    assert conn.execute(f"SELECT count(*) FROM {parent}").fetchone() == (1,)


def test_check_reports_a_missing_leaf(conn: Conn, owner_conn: Conn) -> None:
    """A range partition missing one of its sub-partitions refuses the rows
    of that remainder: check() says so."""
    make_parent(owner_conn)
    create_range(owner_conn, "ev", "monthly", premake=1, now_at="2024-01-15 12:00+00", subpartition=HASH4)
    owner_conn.execute("ALTER TABLE ev_p20240201 DETACH PARTITION ev_p20240201_h1")
    owner_conn.execute("DROP TABLE ev_p20240201_h1")
    findings = conn.execute("SELECT severity, problem FROM pgpart.check('ev', '2024-01-15 12:00+00')").fetchall()
    assert [f for f in findings if f[0] in ("urgent", "warning")] != [], findings
