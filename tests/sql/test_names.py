"""Partition names (DESIGN §5): hostile identifiers are quoted everywhere,
names are at most 63 bytes with a stable hash when shortened, cut on
character boundaries, and an existing relation of the computed name is
42P07 with nothing created."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog import Conn, config_row, partition_bounds, snapshot_with_oids
from clock import GRID_NOW
from fix_pg import Connect
from names import ident, qualified
from pgcall import create_range_dicts

SCHEMA = 'My "Sch.ema"'
TABLE = "Évents 'x'.y"
KEY = 'Created "At"'
OTHER = "Tenant \"Id\" 'q'"
ROLE = 'Ünï "Owner"'


def expected_name(base: str, suffix: str) -> str:
    """The documented rule: base + suffix if it fits in 63 bytes, else the base
    cut (on a character boundary) to leave room for '_' + 8 hex of md5(base || suffix)."""
    if len((base + suffix).encode()) <= 63:
        return base + suffix
    tag = "_" + hashlib.md5((base + suffix).encode()).hexdigest()[:8]
    cut = base
    while len((cut + tag + suffix).encode()) > 63:
        cut = cut[:-1]
    return cut + tag + suffix


def names_in(conn: Conn, schema: str, parent: str) -> list[str]:
    return [n for n, _ in partition_bounds(conn, ident(schema, parent))]


def _ensure_role(conn: Conn, role: str) -> None:
    # Roles are cluster-wide and outlive the per-test database.
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))


def test_hostile_schema_table_and_column_names(conn: Conn) -> None:
    _ensure_role(conn, ROLE)
    s, t, k, o, r = (sql.Identifier(x) for x in (SCHEMA, TABLE, KEY, OTHER, ROLE))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
    conn.execute(sql.SQL("GRANT CREATE, USAGE ON SCHEMA {} TO {}").format(s, r))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {s}.{t} (id bigint GENERATED ALWAYS AS IDENTITY, {k} timestamptz NOT NULL,"
            " {o} text DEFAULT 'd''q', PRIMARY KEY (id, {k}), CHECK ({o} <> 'x\"y')) PARTITION BY RANGE ({k})"
        ).format(s=s, t=t, k=k, o=o)
    )
    conn.execute(
        sql.SQL("CREATE INDEX {i} ON {s}.{t} ({o}, {k}) WHERE {o} IS NOT NULL").format(
            i=sql.Identifier('Idx "1".x'), s=s, t=t, o=o, k=k
        )
    )
    conn.execute(sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(s, t, r))
    parent = ident(SCHEMA, TABLE)
    pkey = conn.execute("SELECT conname::text FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                        (parent,)).fetchone()
    assert pkey is not None and pkey[0] == TABLE + "_pkey"
    conn.execute(sql.SQL("ALTER TABLE {}.{} REPLICA IDENTITY USING INDEX {}").format(s, t, sql.Identifier(pkey[0])))

    rows = create_range_dicts(conn, parent, "1 day", premake=2, now_at=GRID_NOW)
    expected = [TABLE + "_p20240515", TABLE + "_p20240516", TABLE + "_p20240517"]
    assert [row["partition"] for row in rows] == [ident(SCHEMA, n) for n in expected]
    assert names_in(conn, SCHEMA, TABLE) == expected

    # attached in the right schema, owned by the parent's owner, with the indexes
    details = conn.execute(
        """
        SELECT c.relname::text, n.nspname::text, pg_get_userbyid(c.relowner)::text,
               (SELECT count(*) FROM pg_index AS x WHERE x.indrelid = c.oid)
        FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE i.inhparent = %s::regclass ORDER BY 1
        """,
        (parent,),
    ).fetchall()
    assert details == [(n, SCHEMA, ROLE, 2) for n in expected]
    identity = conn.execute(
        """
        SELECT c.relreplident::text, ic.relname::text
        FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
        LEFT JOIN pg_index AS x ON x.indrelid = c.oid AND x.indisreplident
        LEFT JOIN pg_class AS ic ON ic.oid = x.indexrelid
        WHERE i.inhparent = %s::regclass ORDER BY c.relname
        """,
        (parent,),
    ).fetchall()
    assert identity == [("i", n + "_pkey") for n in expected]

    # rows route to the partition of their day
    conn.execute(
        sql.SQL("INSERT INTO {}.{} ({}) VALUES ('2024-05-15 00:00+00'), ('2024-05-16 23:59+00'), ('2024-05-17 12:00+00')")
        .format(s, t, k)
    )
    routed = conn.execute(
        sql.SQL("SELECT c.relname::text, x.{o} FROM {s}.{t} AS x JOIN pg_class AS c ON c.oid = x.tableoid ORDER BY x.{k}")
        .format(s=s, t=t, o=o, k=k)
    ).fetchall()
    assert routed == [(expected[0], "d'q"), (expected[1], "d'q"), (expected[2], "d'q")]

    # partition_info reads them
    info = conn.execute(
        "SELECT partition::text FROM pgpart.partition_info(%s::regclass, %s::timestamptz)", (parent, GRID_NOW)
    ).fetchall()
    assert info == [(ident(SCHEMA, n),) for n in expected]
    cfg = config_row(conn, parent)
    assert cfg is not None and cfg["key_column"] == KEY

    # idempotent
    before = snapshot_with_oids(conn)
    assert create_range_dicts(conn, parent, "1 day", premake=2, now_at=GRID_NOW) == []
    assert snapshot_with_oids(conn) == before

    # a gap is filled under the hostile names too
    conn.execute(sql.SQL("DROP TABLE {}.{}").format(s, sql.Identifier(expected[1])))
    rows = create_range_dicts(conn, parent, "1 day", now_at=GRID_NOW)
    assert [row["partition"] for row in rows] == [ident(SCHEMA, expected[1])]


def test_hostile_integer_key_with_rows_and_default(conn: Conn) -> None:
    s, t, k = sql.Identifier(SCHEMA), sql.Identifier(TABLE), sql.Identifier(KEY)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
    conn.execute(sql.SQL("CREATE TABLE {}.{} ({} integer NOT NULL) PARTITION BY RANGE ({})").format(s, t, k, k))
    parent = ident(SCHEMA, TABLE)
    # an empty table: start stands for "now" (DESIGN §5), so premake 2 reaches 100..200
    create_range_dicts(conn, parent, "100", premake=2, start="-100", default_partition=True)
    assert names_in(conn, SCHEMA, TABLE) == sorted([TABLE + "_pm100", TABLE + "_p0", TABLE + "_p100", TABLE + "_default"])

    # the highest key (read through the hostile column) moves "now"
    conn.execute(sql.SQL("INSERT INTO {}.{} VALUES (-50), (150)").format(s, t))
    rows = create_range_dicts(conn, parent, "100", premake=1)
    assert [row["partition"] for row in rows] == [ident(SCHEMA, TABLE + "_p200")]

    # a row in the default for a range about to be created is found (hostile column in the probe)
    conn.execute(sql.SQL("INSERT INTO {}.{} VALUES (350)").format(s, t))
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.CheckViolation):
        create_range_dicts(conn, parent, "100", premake=2)
    assert snapshot_with_oids(conn) == before


def test_names_differing_only_in_case(conn: Conn) -> None:
    conn.execute('CREATE TABLE ev (k date NOT NULL) PARTITION BY RANGE (k)')
    conn.execute('CREATE TABLE "Ev" (k date NOT NULL) PARTITION BY RANGE (k)')
    create_range_dicts(conn, "ev", "1 day", premake=0, now_at=GRID_NOW)
    create_range_dicts(conn, '"Ev"', "1 day", premake=0, now_at=GRID_NOW)
    assert names_in(conn, "public", "ev") == ["ev_p20240515"]
    assert names_in(conn, "public", "Ev") == ["Ev_p20240515"]


@pytest.mark.parametrize(("interval", "suffix"), [("1 day", "_p20240515"), ("1 hour", "_p20240515_1000")])
def test_long_names_sharing_a_prefix(conn: Conn, interval: str, suffix: str) -> None:
    prefix = ("sensor_readings_by_region_" * 3)[:55]
    tables = [prefix + "alpha", prefix + "gamma"]
    assert all(len(name.encode()) == 60 for name in tables)
    created: list[str] = []
    for table in tables:
        conn.execute(sql.SQL("CREATE TABLE {} (k timestamptz NOT NULL) PARTITION BY RANGE (k)").format(sql.Identifier(table)))
        rows = create_range_dicts(conn, ident(table), interval, premake=1, now_at=GRID_NOW)
        # by bound: the hashes, not the dates, would order the names
        names = sorted(names_in(conn, "public", table), key=lambda n: n[-len(suffix):])
        assert len(rows) == 2 and len(names) == 2
        assert [row["partition"] for row in rows] == [qualified("public", n) for n in names]
        for name in names:
            own_suffix = name[-len(suffix):]
            digest = hashlib.md5((table + own_suffix).encode()).hexdigest()[:8]
            assert len(name.encode()) <= 63
            assert f"_{digest}_p" in name
            assert name == expected_name(table, own_suffix)
            assert name.startswith(prefix[:30])
        assert expected_name(table, suffix) in names
        created += names
    assert len(set(created)) == len(created) == 4
    # idempotent: the shortened names are found again, nothing new
    for table in tables:
        assert create_range_dicts(conn, ident(table), interval, now_at=GRID_NOW) == []


@pytest.mark.parametrize(("length", "hashed"), [(53, False), (54, True)])
def test_name_at_the_limit(conn: Conn, length: int, hashed: bool) -> None:
    table = ("boundary_" * 7)[:length]
    conn.execute(sql.SQL("CREATE TABLE {} (k date NOT NULL) PARTITION BY RANGE (k)").format(sql.Identifier(table)))
    create_range_dicts(conn, ident(table), "1 day", premake=0, now_at=GRID_NOW)
    (name,) = names_in(conn, "public", table)
    assert name == expected_name(table, "_p20240515")
    assert (name != table + "_p20240515") == hashed
    assert len(name.encode()) == 63


@pytest.mark.parametrize(
    ("char", "count", "interval", "suffix", "kept"),
    [
        ("ä", 30, "1 hour", "_p20240515_1000", 19),  # 39 bytes of room: 19 two-byte characters
        ("ä", 30, "1 day", "_p20240515", 22),  # 44 bytes: 22
        ("€", 20, "1 day", "_p20240515", 14),  # 44 bytes: 14 three-byte characters
        ("𝄞", 15, "1 hour", "_p20240515_1000", 9),  # 39 bytes: 9 four-byte characters
    ],
)
def test_multibyte_names_are_cut_on_character_boundaries(
    conn: Conn, char: str, count: int, interval: str, suffix: str, kept: int
) -> None:
    table = char * count
    conn.execute(sql.SQL("CREATE TABLE {} (k timestamptz NOT NULL) PARTITION BY RANGE (k)").format(sql.Identifier(table)))
    create_range_dicts(conn, ident(table), interval, premake=0, now_at=GRID_NOW)
    (name,) = names_in(conn, "public", table)
    digest = hashlib.md5((table + suffix).encode()).hexdigest()[:8]
    assert name == char * kept + "_" + digest + suffix
    assert len(name.encode()) <= 63
    # the catalog holds exactly these bytes (valid UTF-8, nothing truncated by PostgreSQL)
    raw = conn.execute(
        "SELECT octet_length(relname::text), relname::text = %s FROM pg_class WHERE oid = %s::regclass",
        (name, ident(name)),
    ).fetchone()
    assert raw == (len(name.encode()), True)


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE {name} (k timestamptz)",
        "CREATE VIEW {name} AS SELECT 1 AS one",
        "CREATE SEQUENCE {name}",
        "CREATE TABLE holder (x int); CREATE INDEX {name} ON holder (x)",
        "CREATE TYPE {name} AS (x int)",
    ],
    ids=["table", "view", "sequence", "index", "composite-type"],
)
def test_existing_relation_with_the_partition_name(conn: Conn, ddl: str) -> None:
    conn.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    conn.execute(ddl.format(name="ev_p20240517"))
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.DuplicateTable) as exc:
        create_range_dicts(conn, "ev", "1 day", premake=3, now_at=GRID_NOW)
    assert exc.value.diag.table_name == "ev_p20240517"
    assert exc.value.diag.schema_name == "public"
    assert snapshot_with_oids(conn) == before
    assert partition_bounds(conn, "ev") == []
    assert config_row(conn, "ev") is None
    # the dry run refuses too
    with pytest.raises(psycopg.errors.DuplicateTable):
        create_range_dicts(conn, "ev", "1 day", premake=3, now_at=GRID_NOW, dry_run=True)


def test_existing_relation_with_a_shortened_name(conn: Conn) -> None:
    table = "x" * 60
    conn.execute(sql.SQL("CREATE TABLE {} (k date NOT NULL) PARTITION BY RANGE (k)").format(sql.Identifier(table)))
    taken = expected_name(table, "_p20240516")
    conn.execute(sql.SQL("CREATE TABLE {} (k date)").format(sql.Identifier(taken)))
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.DuplicateTable) as exc:
        create_range_dicts(conn, ident(table), "1 day", premake=2, now_at=GRID_NOW)
    assert exc.value.diag.table_name == taken
    assert snapshot_with_oids(conn) == before


def test_long_default_partition_name(conn: Conn) -> None:
    table = "d" * 60
    conn.execute(sql.SQL("CREATE TABLE {} (k date NOT NULL) PARTITION BY RANGE (k)").format(sql.Identifier(table)))
    create_range_dicts(conn, ident(table), "1 day", premake=0, now_at=GRID_NOW, default_partition=True)
    assert sorted(names_in(conn, "public", table)) == sorted(
        [expected_name(table, "_p20240515"), expected_name(table, "_default")]
    )
    assert len(expected_name(table, "_default").encode()) == 63


def test_existing_default_partition_name(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    conn.execute("CREATE TABLE ev_default (k timestamptz)")
    before = snapshot_with_oids(conn)
    with pytest.raises(psycopg.errors.DuplicateTable):
        create_range_dicts(conn, "ev", "1 day", premake=1, now_at=GRID_NOW, default_partition=True)
    assert snapshot_with_oids(conn) == before


def test_same_name_in_another_schema_is_no_collision(conn: Conn) -> None:
    conn.execute("CREATE SCHEMA elsewhere")
    conn.execute("CREATE TABLE elsewhere.ev_p20240516 (k timestamptz)")
    conn.execute("CREATE TABLE ev (k timestamptz NOT NULL) PARTITION BY RANGE (k)")
    rows = create_range_dicts(conn, "ev", "1 day", premake=2, now_at=GRID_NOW)
    assert [row["partition"] for row in rows] == [
        "public.ev_p20240515", "public.ev_p20240516", "public.ev_p20240517"
    ]
    assert conn.execute("SELECT relispartition FROM pg_class WHERE oid = 'elsewhere.ev_p20240516'::regclass").fetchone() == (False,)


def test_hostile_names_as_a_non_superuser(owner_conn: Conn, connect: Connect) -> None:
    table = "O'Brien \"Q\" täble"
    owner_conn.execute(
        sql.SQL("CREATE TABLE {} ({} timestamptz NOT NULL) PARTITION BY RANGE ({})").format(
            sql.Identifier(table), sql.Identifier(KEY), sql.Identifier(KEY)
        )
    )
    rows = create_range_dicts(owner_conn, ident(table), "1 hour", premake=1, now_at=GRID_NOW)
    assert [row["partition"] for row in rows] == [
        qualified("public", table + "_p20240515_1000"), qualified("public", table + "_p20240515_1100")
    ]
    owners = connect().execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner)::text FROM pg_inherits AS i"
        " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (ident(table),),
    ).fetchall()
    assert owners == [("pgpart_owner",)]
    before: Any = snapshot_with_oids(owner_conn)
    assert create_range_dicts(owner_conn, ident(table), "1 hour", now_at=GRID_NOW) == []
    assert snapshot_with_oids(owner_conn) == before


def test_names_with_dollar_quotes_percent_backslash_and_newline(conn: Conn) -> None:
    # Characters that break hand-built SQL: dollar quotes, format() and LIKE
    # specials, a backslash (E'' strings), a newline, a comment start.
    name = 'we$body$ird %s %I \\ \n "x" ;--'
    col = "c$$ol %L\n"
    n, k = sql.Identifier(name), sql.Identifier(col)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(n))
    conn.execute(sql.SQL("CREATE TABLE {n}.{n} ({k} bigint NOT NULL, PRIMARY KEY ({k})) PARTITION BY RANGE ({k})")
                 .format(n=n, k=k))
    parent = ident(name, name)
    # an empty table: start stands for "now" (DESIGN §5), so premake 2 reaches 10..20
    rows = create_range_dicts(conn, parent, "10", premake=2, start="-10", default_partition=True)
    suffixes = ["_pm10", "_p0", "_p10", "_default"]
    assert [row["partition"] for row in rows] == [ident(name, name + s) for s in suffixes]

    conn.execute(sql.SQL("INSERT INTO {n}.{n} VALUES (-5), (15)").format(n=n))
    routed = conn.execute(
        sql.SQL("SELECT c.relname::text FROM {n}.{n} AS x JOIN pg_class AS c ON c.oid = x.tableoid ORDER BY x.{k}")
        .format(n=n, k=k)
    ).fetchall()
    assert routed == [(name + "_pm10",), (name + "_p10",)]
    rows = create_range_dicts(conn, parent, "10", premake=1)  # highest key 15: slot 10 plus 1
    assert [row["partition"] for row in rows] == [ident(name, name + "_p20")]
    before = snapshot_with_oids(conn)
    assert create_range_dicts(conn, parent, "10") == []
    assert snapshot_with_oids(conn) == before
