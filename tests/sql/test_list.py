"""LIST partitions (issue 8): pgpart.create_list_partitions (single values,
groups, NULL, a default partition) and the explicitly blocking
pgpart.add_list_values, on a real server.

Every refused call is checked for its SQLSTATE and for leaving everything as
it was (catalog.snapshot). Blocking is made deterministic with a
second session that holds a transaction open; nothing sleeps.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from catalog import (
    bounds,
    config,
    constraints,
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
from pgcall import add_values, create_hash, create_list, create_list_array, names, reconcile_dry_run
from sessions import wait_until_waiting

Conn = psycopg.Connection[Any]


HOSTILE: list[str | None] = [
    "O'Brien",
    'say "hi"',
    "a b",
    "a_b",
    "A_B",
    "a-b",
    "null",
    "NULL",
    None,
    "",
    " ",
    "default",
    "Ünïcödé",
    "日本",
    "comma, (paren)",
    "back\\slash",
    "semi;colon --",
    "$body$",
    "x'); DROP TABLE reg; --",
]


def make_parent(c: Conn, name: str = "reg", key_type: str = "text", default: bool = False) -> str:
    """A LIST parent on column region (nullable), with a unique index, a plain
    index and a CHECK; made through C (owner_conn: owned by pgpart_owner)."""
    c.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint NOT NULL, region {}, amount int DEFAULT 0 CHECK (amount >= 0), note text)"
            " PARTITION BY LIST (region)"
        ).format(sql.Identifier(name), sql.SQL(key_type))
    )
    c.execute(
        sql.SQL("CREATE UNIQUE INDEX {} ON {} (id, region)").format(sql.Identifier(f"{name}_uq"), sql.Identifier(name))
    )
    c.execute(sql.SQL("CREATE INDEX {} ON {} (note)").format(sql.Identifier(f"{name}_note"), sql.Identifier(name)))
    if default:
        create_list(c, name, [], default_partition=True)
    return name


def insert(c: Conn, table: str, region: Any, n: int = 1, start: int = 1) -> list[str]:
    """N rows of REGION (text, read as the key type) into TABLE; the partitions they landed in."""
    row = c.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attname = 'region'",
        [table],
    ).fetchone()
    assert row is not None
    query = sql.SQL(
        "INSERT INTO {} (id, region) SELECT g, %s::text::{} FROM generate_series(%s::int, %s::int) AS g"
        " RETURNING tableoid::regclass::text"
    ).format(sql.Identifier(table), sql.SQL(row[0]))
    rows = c.execute(query, [None if region is None else str(region), start, start + n - 1]).fetchall()
    return sorted({r[0] for r in rows})


def partition_of(c: Conn, table: str, region: Any) -> str:
    """The partition a row of REGION is routed to (inserted, then rolled back)."""
    with c.transaction(force_rollback=True):
        landed = insert(c, table, region, start=10**9)
    assert len(landed) == 1
    return landed[0]


# --------------------------------------------------------------------------
# create_list_partitions


def test_single_values(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    rows = create_list(owner_conn, "reg", ["de", "fr", "us"])
    assert names(rows) == ["public.reg_de", "public.reg_fr", "public.reg_us"]
    assert {r[4] for r in rows} == {"created"}
    assert bounds(conn, "reg") == {
        "reg_de": "FOR VALUES IN ('de')",
        "reg_fr": "FOR VALUES IN ('fr')",
        "reg_us": "FOR VALUES IN ('us')",
    }
    for region in ("de", "fr", "us"):
        assert insert(owner_conn, "reg", region, n=3, start=100 * len(region) + ord(region[0])) == [f"reg_{region}"]
    assert where_rows_are(conn, "public.reg") == {"reg_de": 3, "reg_fr": 3, "reg_us": 3}
    with pytest.raises(errors.CheckViolation):  # no partition for 'it', no default
        insert(owner_conn, "reg", "it")
    cfg = config(conn, "reg")
    assert cfg is not None
    assert (cfg["strategy"], cfg["key_column"], cfg["policy_author"]) == ("list", "region", "pgpart_owner")
    assert cfg["partition_interval"] is None
    assert cfg["retention"] is None
    assert log_actions(conn, "reg") == [("create_list_partitions", "ok")]
    for p in ("reg_de", "reg_fr", "reg_us"):
        assert owner_of(conn, p) == "pgpart_owner"


def test_single_values_as_text_array(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    assert names(create_list_array(owner_conn, "reg", ["de", "fr"])) == ["public.reg_de", "public.reg_fr"]
    # the jsonb form of the same values: nothing to do
    before = snapshot(conn)
    assert create_list(owner_conn, "reg", ["fr", "de"]) == []
    assert snapshot(conn) == before
    # a NULL element asks for the NULL partition
    rows = create_list_array(owner_conn, "reg", ["de", None])
    assert len(rows) == 1
    assert bounds(conn, "reg")[rows[0][1].split(".")[1]] == "FOR VALUES IN (NULL)"


def test_untyped_literal_is_ambiguous(owner_conn: Conn) -> None:
    """Documented: an untyped literal matches both forms; cast it."""
    make_parent(owner_conn)
    with pytest.raises(errors.AmbiguousFunction):
        owner_conn.execute("SELECT * FROM pgpart.create_list_partitions('reg', '{de}')")


def test_second_identical_call_changes_nothing(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    request = {"eu": ["de", "fr"], "us": ["us"]}
    create_list(owner_conn, "reg", request, default_partition=True)
    create_list(owner_conn, "reg", ["jp", None])
    before = snapshot(conn)
    assert create_list(owner_conn, "reg", request, default_partition=True) == []
    assert create_list(owner_conn, "reg", {"us": "us", "eu": ["fr", "de", "fr"]}) == []
    assert create_list(owner_conn, "reg", [None, "jp"]) == []
    assert create_list_array(owner_conn, "reg", ["jp"]) == []
    assert snapshot(conn) == before


def test_groups(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    rows = create_list(owner_conn, "reg", {"us": "us", "eu": ["de", "fr"]})
    assert sorted(names(rows)) == ["public.reg_eu", "public.reg_us"]
    assert bounds(conn, "reg") == {"reg_eu": "FOR VALUES IN ('de', 'fr')", "reg_us": "FOR VALUES IN ('us')"}
    assert insert(owner_conn, "reg", "de", start=1) == ["reg_eu"]
    assert insert(owner_conn, "reg", "fr", start=2) == ["reg_eu"]
    assert insert(owner_conn, "reg", "us", start=3) == ["reg_us"]
    # a group's name is sanitised like a value
    rows = create_list(owner_conn, "reg", {"Asia Pacific": ["jp", "kr"]})
    name = rows[0][1].split(".")[1]
    assert name.startswith("reg_asia_pacific_")
    assert len(name.encode()) <= 63
    assert partition_of(owner_conn, "reg", "kr") == name


def test_adding_a_group(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]})
    insert(owner_conn, "reg", "de", n=5)
    # the existing groups in another order, one new group
    rows = create_list(owner_conn, "reg", {"asia": ["jp", "kr"], "eu": ["fr", "de"], "us": ["us"]})
    assert names(rows) == ["public.reg_asia"]
    assert bounds(conn, "reg") == {
        "reg_asia": "FOR VALUES IN ('jp', 'kr')",
        "reg_eu": "FOR VALUES IN ('de', 'fr')",
        "reg_us": "FOR VALUES IN ('us')",
    }
    assert where_rows_are(conn, "reg") == {"reg_eu": 5}
    assert partition_of(owner_conn, "reg", "kr") == "reg_asia"
    assert log_actions(conn, "reg") == [("create_list_partitions", "ok")] * 2


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"eu": ["de"]}, id="fewer"),
        pytest.param({"eu": ["de", "fr", "it"]}, id="more"),
        pytest.param(
            {"eu": ["it", "es"]},
            id="other",
        ),
    ],
)
def test_group_with_other_values_is_refused(conn: Conn, owner_conn: Conn, request_: dict[str, list[str]]) -> None:
    """A group partition that exists with other values: 0A000 and a HINT
    pointing to add_list_values (its values cannot change in place)."""
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"]})
    before = snapshot(conn)
    with pytest.raises(errors.FeatureNotSupported) as exc:
        create_list(owner_conn, "reg", {**request_, "us": ["us"]})
    assert "add_list_values" in (exc.value.diag.message_hint or "")
    assert snapshot(conn) == before


def test_value_held_by_another_partition(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"]})
    create_list(owner_conn, "reg", [None])
    null_part = next(p for p, b in bounds(conn, "reg").items() if b == "FOR VALUES IN (NULL)")
    before = snapshot(conn)
    cases: list[tuple[Any, str]] = [
        (["us", "de"], "reg_eu"),
        ({"core": ["fr", "us"]}, "reg_eu"),
        ({"nulls": [None, "us"]}, null_part),  # NULL in a group: held alone already
    ]
    for request, holder in cases:
        with pytest.raises(errors.InvalidObjectDefinition) as exc:
            create_list(owner_conn, "reg", request)
        assert holder in (exc.value.diag.message_primary or "")  # names the partition that holds it
        assert snapshot(conn) == before
    # the same value twice in one call
    for request in (["us", "us"], {"a": ["us"], "b": ["us", "uk"]}):
        with pytest.raises(errors.InvalidObjectDefinition):
            create_list(owner_conn, "reg", request)
        assert snapshot(conn) == before
    # NULL twice, where it has no partition yet
    make_parent(owner_conn, "fresh")
    before = snapshot(conn)
    with pytest.raises(errors.InvalidObjectDefinition):
        create_list(owner_conn, "fresh", [None, "x", None])
    assert snapshot(conn) == before


def test_null_gets_a_partition_only_when_asked(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de", "null", "NULL"])
    assert len(bounds(conn, "reg")) == 3
    assert not any("(NULL)" in b for b in bounds(conn, "reg").values())
    with pytest.raises(errors.CheckViolation):  # no partition for NULL
        insert(owner_conn, "reg", None)
    assert partition_of(owner_conn, "reg", "null") == "reg_null"
    rows = create_list(owner_conn, "reg", [None])
    null_part = rows[0][1].split(".")[1]
    assert bounds(conn, "reg")[null_part] == "FOR VALUES IN (NULL)"
    assert null_part not in ("reg_null", "reg_NULL")
    assert partition_of(owner_conn, "reg", None) == null_part
    assert len({partition_of(owner_conn, "reg", v) for v in ("null", "NULL", None)}) == 3


def test_hostile_values(conn: Conn, owner_conn: Conn) -> None:
    """Quotes, spaces, case, non-ASCII, 'null', NULL, '', 'default' (which
    names the default partition), SQL in a value: one partition each, distinct
    valid names of at most 63 bytes, each value routed to its own partition."""
    make_parent(owner_conn)
    rows = create_list(owner_conn, "reg", HOSTILE, default_partition=True)
    created = [r[1].split(".")[1] for r in rows]
    assert len(created) == len(HOSTILE) + 1
    assert "reg_default" in created
    assert len(set(created)) == len(created)
    for name in created:
        assert len(name.encode()) <= 63
    assert conn.execute("SELECT to_regclass('public.reg') IS NOT NULL").fetchone() == (True,)
    assert sorted(bounds(conn, "reg")) == sorted(created)
    # each value lands in its own partition, none in the default
    landed = [partition_of(owner_conn, "reg", v) for v in HOSTILE]
    assert len(set(landed)) == len(HOSTILE)
    assert "reg_default" not in landed
    assert partition_of(owner_conn, "reg", "something else") == "reg_default"
    # 'a b', 'a_b', 'A_B', 'null', NULL and 'default' in particular
    special = ["a b", "a_b", "A_B", "null", None, "default", ""]
    assert len({partition_of(owner_conn, "reg", v) for v in special}) == len(special)
    assert partition_of(owner_conn, "reg", "a_b") == "reg_a_b"  # already clean: no hash
    # idempotent, however hostile
    before = snapshot(conn)
    assert create_list(owner_conn, "reg", list(reversed(HOSTILE)), default_partition=True) == []
    assert create_list_array(owner_conn, "reg", HOSTILE) == []
    assert snapshot(conn) == before


def test_hostile_group_names(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    groups = {"a b": ["1"], "a_b": ["2"], "null": ["3"], "default": ["4"], "": ["5"], "Ü'\"": ["6"]}
    rows = create_list(owner_conn, "reg", groups, default_partition=True)
    created = [r[1].split(".")[1] for r in rows]
    assert len(set(created)) == len(groups) + 1
    assert all(len(n.encode()) <= 63 for n in created)
    assert len({partition_of(owner_conn, "reg", str(v)) for v in range(1, 7)}) == 6


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v" * 80, id="80-ascii"),
        pytest.param("é" * 40, id="40-two-byte"),
        pytest.param("x" * 55 + " y", id="57-sanitised"),
    ],
)
def test_long_values_get_short_names(conn: Conn, owner_conn: Conn, value: str) -> None:
    """A value (or group name) longer than a relation name: a valid name of at
    most 63 bytes, distinct from the one of a value sharing its prefix."""
    make_parent(owner_conn, "a_rather_long_parent_name_for_list_partitions")
    owner_conn.execute("SET statement_timeout = '5s'")  # a hang shows as 57014, not as a stuck suite
    parent = "a_rather_long_parent_name_for_list_partitions"
    rows = create_list(owner_conn, parent, [value, value + "z"])
    created = [r[1].split(".")[1] for r in rows]
    assert len(set(created)) == 2
    assert all(len(n.encode()) <= 63 for n in created)
    rows = create_list(owner_conn, parent, {value + "g": ["g"]})
    assert len(rows[0][1].split(".")[1].encode()) <= 63
    assert partition_of(owner_conn, parent, value) == created[0]
    assert partition_of(owner_conn, parent, value + "z") == created[1]


def test_values_that_look_like_sanitised_names(conn: Conn, owner_conn: Conn) -> None:
    """Names are collision-free for any value: a clean value spelled like the
    sanitised-and-hashed name of another value ('a b' -> a_b_<hash>), or of
    NULL, still gets a partition of its own."""
    make_parent(owner_conn)
    row = conn.execute("SELECT pgpart._value_suffix('a b'), pgpart._value_suffix(NULL)").fetchone()
    assert row is not None
    lookalikes = [row[0][1:], row[1][1:]]  # without the leading underscore
    rows = create_list(owner_conn, "reg", ["a b", None, *lookalikes])
    assert len({r[1] for r in rows}) == 4


@pytest.mark.parametrize(
    ("key_type", "values", "again"),
    [
        pytest.param("integer", [1, "2", -5, 0], ["01", 2, "-5", "+0"], id="integer"),
        pytest.param("bigint", [9007199254740993], ["9007199254740993"], id="bigint"),
        pytest.param("numeric", [1.5, "-2", "NaN", 1000], ["1.5", -2, "NaN", "1000"], id="numeric"),
        pytest.param("date", ["2024-01-01", "2024-02-29"], ["2024-01-01", "2024-02-29"], id="date"),
        pytest.param("timestamptz", ["2024-01-01 00:00+00"], ["2024-01-01 01:00+01"], id="timestamptz"),
        pytest.param("boolean", [True, "f"], ["t", False], id="boolean"),
        pytest.param("varchar(5)", ["abc", "de"], ["abc"], id="varchar"),
        pytest.param("char(3)", ["abc", "de"], ["abc", "de"], id="char"),
        pytest.param("numeric(5,2)", [1.25, 2], [1.25, 2], id="numeric-typmod"),
        pytest.param(
            "uuid", ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"], ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], id="uuid"
        ),
    ],
)
def test_key_types(conn: Conn, owner_conn: Conn, key_type: str, values: list[Any], again: list[Any]) -> None:
    """Values are read as the key type: each row of a requested value lands in
    its partition, and the same values spelled differently are a no-op."""
    make_parent(owner_conn, key_type=key_type)
    owner_conn.execute("SET datestyle = 'SQL, DMY'")  # the session's style changes nothing
    owner_conn.execute("SET timezone = 'America/New_York'")
    rows = create_list(owner_conn, "reg", values)
    assert len(rows) == len(values)
    for value, row in zip(values, rows, strict=True):
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        assert partition_of(owner_conn, "reg", literal) == row[1].split(".")[1]
    before = snapshot(conn)
    assert create_list(owner_conn, "reg", again) == []
    assert snapshot(conn) == before


@pytest.mark.parametrize(
    ("key_type", "bad"),
    [
        ("integer", ["1", "x"]),
        ("integer", [1.5]),
        ("integer", ["99999999999"]),
        ("date", ["2024-02-30"]),
        ("boolean", ["maybe"]),
        ("uuid", ["not-a-uuid"]),
        pytest.param(
            "varchar(5)",
            ["abcdefgh"],
        ),
        ("integer", {"g": [1, "x"]}),
    ],
)
def test_value_invalid_for_the_key_type(conn: Conn, owner_conn: Conn, key_type: str, bad: Any) -> None:
    make_parent(owner_conn, key_type=key_type)
    before = snapshot(conn)
    with pytest.raises(errors.InvalidParameterValue):
        create_list(owner_conn, "reg", bad)
    assert snapshot(conn) == before


@pytest.mark.parametrize(
    "bad",
    [
        '"de"',
        "42",
        "null",
        "true",
        '[["de"]]',
        '[{"a": 1}]',
        '{"eu": []}',
        '{"eu": [["de"]]}',
        '{"eu": {"x": 1}}',
        None,
    ],
)
def test_bad_json_shapes(conn: Conn, owner_conn: Conn, bad: str | None) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["us"])
    before = snapshot(conn)
    with pytest.raises(errors.InvalidParameterValue):
        create_list(owner_conn, "reg", bad)
    assert snapshot(conn) == before


def test_default_holding_rows_of_a_new_value(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, default=True)
    create_list(owner_conn, "reg", ["de"])
    assert insert(owner_conn, "reg", "it", n=3, start=10) == ["reg_default"]
    assert insert(owner_conn, "reg", None, n=2, start=20) == ["reg_default"]
    before = snapshot(conn)
    for request in (["es", "it"], {"south": ["es", "it"]}, [None], ["fr", None]):
        with pytest.raises(errors.CheckViolation):
            create_list(owner_conn, "reg", request)
        assert snapshot(conn) == before
    assert where_rows_are(conn, "reg") == {"reg_default": 5}
    # values with no rows in the default are fine
    assert names(create_list(owner_conn, "reg", ["es", "fr"])) == ["public.reg_es", "public.reg_fr"]
    assert where_rows_are(conn, "reg") == {"reg_default": 5}


def test_default_partition_only_when_asked(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de"])
    assert list(bounds(conn, "reg")) == ["reg_de"]
    rows = create_list(owner_conn, "reg", ["de"], default_partition=True)
    assert names(rows) == ["public.reg_default"]
    assert bounds(conn, "reg")["reg_default"] == "DEFAULT"
    assert create_list(owner_conn, "reg", ["de"], default_partition=True) == []
    # a relation already named like the default partition
    owner_conn.execute("CREATE TABLE other_default (id int)")
    make_parent(owner_conn, "other")
    before = snapshot(conn)
    with pytest.raises(errors.DuplicateTable):
        create_list(owner_conn, "other", ["x"], default_partition=True)
    assert snapshot(conn) == before


def test_name_collision_with_an_existing_table(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    owner_conn.execute("CREATE TABLE reg_fr (id int)")
    before = snapshot(conn)
    with pytest.raises(errors.DuplicateTable):
        create_list(owner_conn, "reg", ["de", "fr"])
    assert snapshot(conn) == before


def test_dry_run_changes_nothing(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, default=True)
    before = snapshot(conn)
    plan = create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]}, dry_run=True)
    assert snapshot(conn) == before
    actions = [r[4] for r in plan]
    assert [r[0] for r in plan] == list(range(1, len(plan) + 1))
    assert actions[0] == "lock"
    assert actions[-1] == "register policy"
    assert actions.count("attach") == 2
    assert actions.count("check default") == 2
    for part in ("public.reg_eu", "public.reg_us"):
        steps = [r[4] for r in plan if r[1] == part]
        assert steps[0] == "check default"
        assert steps[1] == "create table"
        assert steps.index("set owner") < steps.index("attach")
    attach = next(r for r in plan if r[4] == "attach" and r[1] == "public.reg_eu")
    assert "FOR VALUES IN ('de', 'fr')" in attach[5]
    # the plan is what the real run does
    created = create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]})
    assert [(r[0], r[1], r[5]) for r in created] == [(r[0], r[1], r[5]) for r in plan if r[4] == "attach"]
    # dry runs refuse what the real run refuses
    before = snapshot(conn)
    with pytest.raises(errors.InvalidObjectDefinition):
        create_list(owner_conn, "reg", ["de"], dry_run=True)
    assert create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]}, dry_run=True)[-1][4] == "register policy"
    assert snapshot(conn) == before


def test_same_as_partition_of(conn: Conn, owner_conn: Conn) -> None:
    """A list partition made by pgpart has the columns, constraints and
    indexes (one per parent index, each attached) of one made by
    CREATE TABLE ... PARTITION OF."""
    owner_conn.execute(
        """
        CREATE TABLE eq (
            id bigint GENERATED ALWAYS AS IDENTITY,
            region text NOT NULL,
            amount numeric(10, 2) DEFAULT 0 CHECK (amount >= 0),
            doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
            note varchar(20) COLLATE "C",
            PRIMARY KEY (id, region),
            CONSTRAINT eq_note_uq UNIQUE (note, region)
        ) PARTITION BY LIST (region)
        """
    )
    owner_conn.execute("CREATE INDEX eq_lower_note ON eq (lower(note)) WHERE note IS NOT NULL")
    owner_conn.execute("CREATE INDEX eq_amount_incl ON eq (amount) INCLUDE (note)")
    create_list(owner_conn, "eq", {"eu": ["de", "fr"]})
    owner_conn.execute("CREATE TABLE eq_ref PARTITION OF eq FOR VALUES IN ('us', 'ca')")
    column_query = """
        SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
               a.attidentity::text, a.attgenerated::text, co.collname::text
        FROM pg_attribute AS a
        LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation AS co ON co.oid = a.attcollation
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
    """
    assert conn.execute(column_query, ["eq_eu"]).fetchall() == conn.execute(column_query, ["eq_ref"]).fetchall()
    assert [c[:3] for c in constraints(conn, "eq_eu")] == [c[:3] for c in constraints(conn, "eq_ref")]
    assert index_defs(conn, "eq_eu") == index_defs(conn, "eq_ref")
    parent_indexes = index_names(conn, "eq")
    assert len(parent_indexes) == 4
    for part in ("eq_eu", "eq_ref"):
        attached = index_parents(conn, part)
        assert sorted(p for p, _ in attached if p is not None) == parent_indexes
        assert [i for p, i in attached if p is None] == []
    assert owner_of(conn, "eq_eu") == owner_of(conn, "eq_ref") == "pgpart_owner"


def test_tablespace_and_reloptions(conn: Conn, owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de"], tablespace=tablespace, reloptions=["fillfactor=70"])
    assert tablespace_of(conn, "reg_de") == tablespace
    assert {tablespace_of(conn, i) for i in index_names(conn, "reg_de")} == {tablespace}
    row = conn.execute("SELECT reloptions FROM pg_class WHERE oid = 'reg_de'::regclass").fetchone()
    assert row == (["fillfactor=70"],)
    # the policy keeps them for the next call
    cfg = config(conn, "reg")
    assert cfg is not None
    assert (cfg["tablespace"], cfg["reloptions"]) == (tablespace, ["fillfactor=70"])
    create_list(owner_conn, "reg", ["fr"])
    assert tablespace_of(conn, "reg_fr") == tablespace
    assert {tablespace_of(conn, i) for i in index_names(conn, "reg_fr")} == {tablespace}
    assert reconcile_dry_run(conn, "reg") == []
    before = snapshot(conn)
    with pytest.raises(errors.InvalidParameterValue):
        create_list(owner_conn, "reg", ["it"], tablespace="no_such_tablespace")
    assert snapshot(conn) == before


def test_partition_info_and_check(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"]}, default_partition=True)
    create_list(owner_conn, "reg", [None])
    info = conn.execute(
        "SELECT partition::text, level, parent_partition, lower_bound, upper_bound, bound, is_default"
        " FROM pgpart.partition_info('reg')"
    ).fetchall()
    null_part = next(p for p, b in bounds(conn, "reg").items() if b == "FOR VALUES IN (NULL)")
    assert sorted(info) == sorted(
        [
            ("reg_eu", 1, None, None, None, "FOR VALUES IN ('de', 'fr')", False),
            (null_part, 1, None, None, None, "FOR VALUES IN (NULL)", False),
            ("reg_default", 1, None, None, None, "DEFAULT", True),
        ]
    )
    assert info[-1][0] == "reg_default"
    findings = conn.execute("SELECT severity, problem FROM pgpart.check('reg')").fetchall()
    assert [f for f in findings if f[0] in ("urgent", "warning")] == []


def test_retention_does_not_apply(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de"])
    before = snapshot(conn)
    with pytest.raises(errors.InvalidParameterValue):
        owner_conn.execute("SELECT * FROM pgpart.set_policy('reg', retention => '30 days')")
    assert snapshot(conn) == before
    # maintenance leaves a LIST parent alone
    assert owner_conn.execute("SELECT * FROM pgpart.run_maintenance()").fetchall() == []
    assert snapshot(conn) == before


def test_non_owner_is_refused(conn: Conn, owner_conn: Conn, other_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de"])
    before = snapshot(conn)
    for call in (
        lambda: create_list(other_conn, "reg", ["fr"]),
        lambda: create_list(other_conn, "reg", ["fr"], dry_run=True),
        lambda: add_values(other_conn, "reg_de", ["fr"]),
        lambda: add_values(other_conn, "reg_de", ["fr"], dry_run=True),
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            call()
        assert snapshot(conn) == before


def test_not_list_partitioned(conn: Conn, owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE h (id int, region text) PARTITION BY HASH (region)")
    owner_conn.execute("CREATE TABLE r (id int, region text) PARTITION BY RANGE (region)")
    owner_conn.execute("CREATE TABLE plain (id int, region text)")
    owner_conn.execute("CREATE TABLE expr (id int, region text) PARTITION BY LIST (lower(region))")
    before = snapshot(conn)
    for table in ("h", "r", "plain"):
        with pytest.raises(errors.InvalidObjectDefinition):
            create_list(owner_conn, table, ["de"])
        with pytest.raises(errors.InvalidObjectDefinition):
            create_list(owner_conn, table, ["de"], dry_run=True)
    with pytest.raises(errors.FeatureNotSupported):  # an expression, not a column
        create_list(owner_conn, "expr", ["de"])
    assert snapshot(conn) == before


def test_bad_lock_arguments(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    before = snapshot(conn)
    for kw in ({"lock_timeout": "0"}, {"lock_timeout": "-1s"}, {"lock_retries": -1}):
        with pytest.raises(errors.InvalidParameterValue):
            create_list(owner_conn, "reg", ["de"], **kw)
        with pytest.raises(errors.InvalidParameterValue):
            add_values(owner_conn, "reg", ["de"], **kw)
        with pytest.raises(errors.InvalidParameterValue):
            create_hash(owner_conn, "reg", 4, **kw)
    assert snapshot(conn) == before


def test_create_waits_for_no_reader(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """Adding a partition is create-then-ATTACH: a reader holding a
    transaction open on the parent does not block it; a session holding
    SHARE UPDATE EXCLUSIVE on the parent does, until 55P03, changing nothing."""
    make_parent(owner_conn)
    create_list(owner_conn, "reg", ["de"])
    insert(owner_conn, "reg", "de", n=10)
    reader = connect(autocommit=False)
    assert reader.execute("SELECT count(*) FROM reg").fetchone() == (10,)
    assert names(create_list(owner_conn, "reg", ["fr"], lock_timeout="50ms", lock_retries=1)) == ["public.reg_fr"]
    reader.rollback()

    holder = connect(autocommit=False)
    holder.execute("LOCK TABLE ONLY reg IN SHARE UPDATE EXCLUSIVE MODE")
    before = snapshot(conn)
    with pytest.raises(errors.LockNotAvailable):
        create_list(owner_conn, "reg", ["it"], lock_timeout="50ms", lock_retries=1)
    assert snapshot(conn) == before
    holder.rollback()
    assert names(create_list(owner_conn, "reg", ["it"], lock_timeout="50ms", lock_retries=1)) == ["public.reg_it"]


# --------------------------------------------------------------------------
# add_list_values: the explicitly blocking operation


def debug_messages(c: Conn) -> list[str]:
    """Collects the DEBUG messages C receives from now on (client_min_messages = debug1)."""
    found: list[str] = []

    def handler(diag: psycopg.errors.Diagnostic) -> None:
        if (diag.severity_nonlocalized or "").startswith("DEBUG"):
            found.append(diag.message_primary or "")

    c.add_notice_handler(handler)
    c.execute("SET client_min_messages = debug1")
    return found


def check_constraints(conn: Conn, rel: str) -> list[str]:
    rows = conn.execute(
        "SELECT conname::text FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'", [rel]
    )
    return sorted(r[0] for r in rows.fetchall())


def test_add_values_with_rows_and_a_concurrent_reader(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]})
    insert(owner_conn, "reg", "de", n=200, start=1)
    insert(owner_conn, "reg", "fr", n=100, start=1001)
    insert(owner_conn, "reg", "us", n=50, start=2001)
    oid = conn.execute("SELECT 'reg_eu'::regclass::oid").fetchone()
    own_checks = check_constraints(conn, "reg_eu")

    # A reader holds a transaction that read the parent.
    reader = connect(autocommit=False)
    assert reader.execute("SELECT count(*) FROM reg").fetchone() == (350,)
    before = snapshot(conn)
    with pytest.raises(errors.LockNotAvailable):
        add_values(owner_conn, "reg_eu", ["it"], lock_timeout="50ms", lock_retries=1)
    assert snapshot(conn) == before
    assert bounds(conn, "reg")["reg_eu"] == "FOR VALUES IN ('de', 'fr')"
    assert check_constraints(conn, "reg_eu") == own_checks
    # the reader was not disturbed
    assert reader.execute("SELECT count(*) FROM reg WHERE region = 'de'").fetchone() == (200,)
    reader.commit()

    # After the reader ends, it succeeds.
    debug = debug_messages(owner_conn)
    steps = add_values(owner_conn, "reg_eu", ["it", "es"], lock_timeout="50ms", lock_retries=1)
    owner_conn.execute("RESET client_min_messages")
    actions = [r[4] for r in steps]
    assert actions[: actions.index("add check")] == ["lock"] * actions.index("add check")
    assert actions[actions.index("add check") :] == ["add check", "detach", "attach", "drop check"]
    add_check = steps[actions.index("add check")][5]
    assert "IS NOT NULL" in add_check
    assert "'it'" in add_check
    assert "'de'" in add_check
    assert bounds(conn, "reg")["reg_eu"] == "FOR VALUES IN ('de', 'fr', 'it', 'es')"
    # the same table, its rows all there, no helper constraint left
    assert conn.execute("SELECT 'reg_eu'::regclass::oid").fetchone() == oid
    assert where_rows_are(conn, "reg") == {"reg_eu": 300, "reg_us": 50}
    assert check_constraints(conn, "reg_eu") == own_checks
    assert "pgpart_add_list_values" not in check_constraints(conn, "reg_eu")
    # its indexes are attached to the parent's again, one each
    assert sorted(p for p, _ in index_parents(conn, "reg_eu") if p is not None) == index_names(conn, "reg")
    assert [i for p, i in index_parents(conn, "reg_eu") if p is None] == []
    # the partition was scanned once, for the CHECK; the ATTACH saw that the
    # CHECK implies the new bound and did not scan it again
    assert debug.count('verifying table "reg_eu"') == 1
    assert 'partition constraint for table "reg_eu" is implied by existing constraints' in debug
    # new rows of the new values go to that partition
    assert insert(owner_conn, "reg", "it", n=5, start=3001) == ["reg_eu"]
    assert insert(owner_conn, "reg", "es", n=5, start=4001) == ["reg_eu"]
    assert where_rows_are(conn, "reg") == {"reg_eu": 310, "reg_us": 50}
    assert log_actions(conn, "reg")[-1] == ("add_list_values", "ok")


def test_scan_control_without_the_check(conn: Conn, owner_conn: Conn) -> None:
    """Control for the test above: a DETACH and ATTACH without the CHECK
    scans the partition (no 'implied' message), so its assertion can fail."""
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"]})
    insert(owner_conn, "reg", "de", n=10)
    debug = debug_messages(owner_conn)
    with owner_conn.transaction():
        owner_conn.execute("ALTER TABLE reg DETACH PARTITION reg_eu")
        owner_conn.execute("ALTER TABLE reg ATTACH PARTITION reg_eu FOR VALUES IN ('de', 'fr', 'it')")
    owner_conn.execute("RESET client_min_messages")
    assert debug.count('verifying table "reg_eu"') == 1
    assert not any("is implied by existing constraints" in m for m in debug)


def test_add_values_blocks_the_table_until_commit(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """The documented lock: ACCESS EXCLUSIVE on the parent, held until the
    caller's transaction ends; a reader of the parent waits (here: its own
    lock_timeout ends the wait with 55P03)."""
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"], "us": ["us"]})
    insert(owner_conn, "reg", "us", n=3)
    adder = connect("pgpart_owner", autocommit=False)
    add_values(adder, "reg_eu", ["it"])
    pid = adder.info.backend_pid
    held = conn.execute(
        "SELECT mode FROM pg_locks WHERE pid = %s AND relation = 'reg'::regclass AND granted", [pid]
    ).fetchall()
    assert ("AccessExclusiveLock",) in held
    reader = connect()
    reader.execute("SET lock_timeout = '50ms'")
    with pytest.raises(errors.LockNotAvailable):
        reader.execute("SELECT count(*) FROM reg WHERE region = 'us'")
    adder.commit()
    assert reader.execute("SELECT count(*) FROM reg WHERE region = 'us'").fetchone() == (3,)
    assert bounds(conn, "reg")["reg_eu"] == "FOR VALUES IN ('de', 'fr', 'it')"


def test_add_values_to_the_null_partition_and_null_to_a_partition(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", [None, "de"])
    null_part = next(p for p, b in bounds(conn, "reg").items() if b == "FOR VALUES IN (NULL)")
    insert(owner_conn, "reg", None, n=20)
    insert(owner_conn, "reg", "de", n=20, start=101)
    debug = debug_messages(owner_conn)
    add_values(owner_conn, null_part, ["x", "y"])
    assert f'partition constraint for table "{null_part}" is implied by existing constraints' in debug
    assert bounds(conn, "reg")[null_part] == "FOR VALUES IN (NULL, 'x', 'y')"
    # NULL moves nowhere: it is held; on a fresh parent, NULL joins 'de'
    with pytest.raises(errors.InvalidObjectDefinition):
        add_values(owner_conn, "reg_de", [None])
    make_parent(owner_conn, "reg2")
    create_list(owner_conn, "reg2", ["de"])
    insert(owner_conn, "reg2", "de", n=20)
    debug.clear()
    add_values(owner_conn, "reg2_de", [None])
    owner_conn.execute("RESET client_min_messages")
    assert 'partition constraint for table "reg2_de" is implied by existing constraints' in debug
    assert bounds(conn, "reg2")["reg2_de"] == "FOR VALUES IN ('de', NULL)"
    assert partition_of(owner_conn, "reg2", None) == "reg2_de"
    assert where_rows_are(conn, "reg") == {null_part: 20, "reg_de": 20}
    for part in (null_part, "reg2_de"):
        assert len(check_constraints(conn, part)) == 1  # the parent's own CHECK, no helper left


def test_add_values_it_already_holds(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, key_type="integer")
    create_list(owner_conn, "reg", {"low": [1, 2]})
    before = snapshot(conn)
    assert add_values(owner_conn, "reg_low", ["01", 2]) == []
    assert snapshot(conn) == before


def test_add_values_with_a_default_partition(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, default=True)
    create_list(owner_conn, "reg", {"eu": ["de"]})
    insert(owner_conn, "reg", "de", n=5)
    insert(owner_conn, "reg", "it", n=2, start=100)
    before = snapshot(conn)
    with pytest.raises(errors.CheckViolation):  # the default holds rows of 'it'
        add_values(owner_conn, "reg_eu", ["fr", "it"])
    assert snapshot(conn) == before
    assert check_constraints(conn, "reg_eu") == check_constraints(conn, "reg_default")
    assert where_rows_are(conn, "reg") == {"reg_eu": 5, "reg_default": 2}
    add_values(owner_conn, "reg_eu", ["fr"])
    assert bounds(conn, "reg")["reg_eu"] == "FOR VALUES IN ('de', 'fr')"
    assert insert(owner_conn, "reg", "fr", start=200) == ["reg_eu"]
    assert "pgpart_add_list_values" not in check_constraints(conn, "reg_eu")


def test_add_values_dry_run_changes_nothing(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, default=True)
    create_list(owner_conn, "reg", {"eu": ["de"]})
    before = snapshot(conn)
    plan = add_values(owner_conn, "reg_eu", ["fr"], dry_run=True)
    assert snapshot(conn) == before
    assert [r[4] for r in plan] == ["lock"] * 4 + ["check default", "add check", "detach", "attach", "drop check"]
    locks = [r[5] for r in plan if r[4] == "lock"]
    assert locks[1:] == [
        "LOCK TABLE ONLY public.reg IN ACCESS EXCLUSIVE MODE",
        "LOCK TABLE ONLY public.reg_default IN ACCESS EXCLUSIVE MODE",
        "LOCK TABLE ONLY public.reg_eu IN ACCESS EXCLUSIVE MODE",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        '"fr"',
        "[]",
        "{}",
        '{"eu": ["fr"]}',
        '[["fr"]]',
        '[{"a": 1}]',
        "null",
        pytest.param(
            None,
            id="sql-null",
        ),
    ],
)
def test_add_values_bad_json(conn: Conn, owner_conn: Conn, bad: str | None) -> None:
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de"]})
    before = snapshot(conn)
    with pytest.raises(errors.InvalidParameterValue):
        add_values(owner_conn, "reg_eu", bad)
    assert snapshot(conn) == before


def test_add_values_errors(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn, key_type="integer", default=True)
    create_list(owner_conn, "reg", {"low": [1, 2], "high": [9]})
    owner_conn.execute("CREATE TABLE plain (id int)")
    owner_conn.execute("CREATE TABLE rng (id int) PARTITION BY RANGE (id)")
    owner_conn.execute("CREATE TABLE rng_1 PARTITION OF rng FOR VALUES FROM (1) TO (10)")
    before = snapshot(conn)
    cases: list[tuple[str, Any, type[Exception]]] = [
        ("reg_low", [9], errors.InvalidObjectDefinition),  # held by reg_high
        ("reg_low", [3, 9], errors.InvalidObjectDefinition),
        ("reg_default", [3], errors.InvalidObjectDefinition),  # the default partition
        ("reg", [3], errors.InvalidObjectDefinition),  # not a partition
        ("plain", [3], errors.InvalidObjectDefinition),
        ("rng_1", [3], errors.InvalidObjectDefinition),  # a RANGE partition
        ("reg_low", ["x"], errors.InvalidParameterValue),  # not an integer
        ("reg_low", [1.5], errors.InvalidParameterValue),
    ]
    for partition, values, exc in cases:
        with pytest.raises(exc):
            add_values(owner_conn, partition, values)
        with pytest.raises(exc):
            add_values(owner_conn, partition, values, dry_run=True)
        assert snapshot(conn) == before


def test_concurrent_identical_calls(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """Two identical create calls at once: the second waits, then has nothing to do."""
    make_parent(owner_conn)
    first = connect("pgpart_owner", autocommit=False)
    assert len(create_list(first, "reg", {"eu": ["de", "fr"], "us": ["us"]})) == 2
    second = connect("pgpart_owner")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(
            create_list, second, "reg", {"eu": ["de", "fr"], "us": ["us"]}, lock_timeout="30s", lock_retries=0
        )
        wait_until_waiting(conn, second.info.backend_pid, future.done)
        assert not future.done(), future.result()
        first.commit()
        assert future.result() == []
    assert sorted(bounds(conn, "reg")) == ["reg_eu", "reg_us"]


def test_concurrent_add_values_lose_nothing(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """Two add_list_values on one partition at once: the second waits for the
    first, and the bound ends up with the values of both (the second must not
    re-attach with the values it read before the first committed)."""
    make_parent(owner_conn)
    create_list(owner_conn, "reg", {"eu": ["de", "fr"]})
    first = connect("pgpart_owner", autocommit=False)
    add_values(first, "reg_eu", ["it"])
    second = connect("pgpart_owner")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(add_values, second, "reg_eu", ["es"], lock_timeout="30s", lock_retries=0)
        wait_until_waiting(conn, second.info.backend_pid, future.done)
        assert not future.done(), future.result()
        first.commit()
        future.result()
    values = bounds(conn, "reg")["reg_eu"]
    assert all(f"'{v}'" in values for v in ("de", "fr", "it", "es")), values
    assert partition_of(owner_conn, "reg", "it") == "reg_eu"


INJECTION = "autovacuum_enabled) ; SELECT public.evidence(); --=1"


def make_evidence(c: Conn) -> None:
    """public.evidence(), made by C's role: records who runs it."""
    c.execute("CREATE TABLE public.ran_as (who name)")
    c.execute("GRANT INSERT ON public.ran_as TO PUBLIC")
    c.execute(
        "CREATE FUNCTION public.evidence() RETURNS void LANGUAGE sql"
        " AS 'INSERT INTO public.ran_as VALUES (current_user)'"
    )


def create_either(c: Conn, strategy: str, parent: str, first: str, **kw: Any) -> list[tuple[Any, ...]]:
    """create_list_partitions(parent, [FIRST]) or create_hash_partitions(parent, 4)."""
    if strategy == "list":
        return create_list(c, parent, [first], **kw)
    return create_hash(c, parent, 4, **kw)


@pytest.mark.parametrize("strategy", ["list", "hash"])
def test_reloptions_are_validated(conn: Conn, owner_conn: Conn, strategy: str) -> None:
    """A storage parameter is name=value; anything else is 22023, as for
    RANGE parents, and no SQL hidden in it runs."""
    make_evidence(owner_conn)
    owner_conn.execute(f"CREATE TABLE t (id int, k text) PARTITION BY {strategy.upper()} (k)")
    before = snapshot(conn)
    for bad in ([INJECTION], ["fillfactor"], ["fillfactor=70", "=1"]):
        with pytest.raises(errors.InvalidParameterValue):
            create_either(owner_conn, strategy, "t", "a", reloptions=bad)
        assert snapshot(conn) == before
    assert conn.execute("SELECT count(*) FROM public.ran_as").fetchone() == (0,)


@pytest.mark.parametrize("strategy", ["list", "hash"])
def test_stored_reloptions_run_nothing_for_a_later_caller(conn: Conn, owner_conn: Conn, strategy: str) -> None:
    """A table owner must not be able to leave SQL in its policy that a
    later caller (here a superuser) runs with its own rights."""
    make_evidence(owner_conn)
    owner_conn.execute(f"CREATE TABLE t (id int, k text) PARTITION BY {strategy.upper()} (k)")
    with contextlib.suppress(errors.InvalidParameterValue):  # refused up front: nothing stored
        create_either(owner_conn, strategy, "t", "a", reloptions=[INJECTION])
    if strategy == "hash" and bounds(conn, "t"):
        owner_conn.execute("ALTER TABLE t DETACH PARTITION t_h3")  # something left for the next call
        owner_conn.execute("DROP TABLE t_h3")
    # a superuser later adds partitions, without reloptions of its own
    create_either(conn, strategy, "t", "b")
    assert conn.execute("SELECT who::text FROM public.ran_as WHERE who <> 'pgpart_owner'").fetchall() == []
