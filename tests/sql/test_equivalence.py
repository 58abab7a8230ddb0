"""A partition made by pgpart is the partition `CREATE TABLE ... PARTITION OF`
would have made (DESIGN §3): same columns (types, collations, NOT NULL,
defaults, identity, generated, storage), same constraints, the same indexes
(each attached to its parent index, none extra), the parent's owner.

Documented differences, asserted as such: pgpart places a partition's
indexes in the partition's tablespace (PARTITION OF puts them in the parent
index's tablespace, usually the database default), honours a policy
tablespace and reloptions, and copies the replica identity.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

import pgcall
from fix_tablespace import MakeTablespace

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00+00"
PGPART_PART = "ev_p20240310"  # the daily slot holding NOW
REF_PART = "ev_pof"  # made by CREATE TABLE ... PARTITION OF


def make_parent(c: Conn, identity: str = "ALWAYS", in_tablespace: str | None = None) -> None:
    """The parent of every equivalence test: identity, serial, generated
    column, defaults, CHECK constraints, primary key, UNIQUE constraint, a
    unique index beside it, partial, expression and INCLUDE indexes, a
    collated column, a dropped column (attnums of parent and partitions
    differ), non-default storage and compression, a NOT VALID check."""
    ts = sql.SQL(" TABLESPACE {}").format(sql.Identifier(in_tablespace)) if in_tablespace else sql.SQL("")
    c.execute(
        sql.SQL(
            """
            CREATE TABLE ev (
                gone int,
                id bigint GENERATED {} AS IDENTITY,
                s serial,
                created timestamptz NOT NULL DEFAULT now(),
                amount numeric(10, 2) DEFAULT 0 CHECK (amount >= 0),
                note varchar(20) COLLATE "C",
                body text COMPRESSION pglz,
                doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
                PRIMARY KEY (id, created),
                CONSTRAINT ev_s_key UNIQUE (s, created),
                CONSTRAINT note_not_empty CHECK (note <> '')
            ) PARTITION BY RANGE (created){}
            """
        ).format(sql.SQL(identity), ts)
    )
    c.execute("ALTER TABLE ev DROP COLUMN gone")
    c.execute("ALTER TABLE ev ALTER COLUMN note SET STORAGE MAIN")
    c.execute("ALTER TABLE ev ADD CONSTRAINT amount_small CHECK (amount < 1000000) NOT VALID")
    c.execute("CREATE UNIQUE INDEX ev_s_uq ON ev (s, created)")
    c.execute("CREATE INDEX ev_note_partial ON ev (note) WHERE note IS NOT NULL")
    c.execute("CREATE INDEX ev_lower_note ON ev (lower(note))")
    c.execute("CREATE INDEX ev_created_incl ON ev (created) INCLUDE (amount)")


def create_pgpart(c: Conn, parent: str = "ev", **kw: Any) -> list[str]:
    """create_range_partitions on PARENT, daily at NOW, premake 0 unless given."""
    kw = {"premake": 0, **kw}
    rows = pgcall.rows(c, "create_range_partitions", parent, "daily", columns="partition", now_at=NOW, **kw)
    return [r[0] for r in rows]


def create_reference(c: Conn) -> None:
    # PostgreSQL's own result: pgpart's event triggers would otherwise bring
    # this partition in step with its managed parent (indexes, owner)
    c.execute("SET pgpart.event_triggers = off")
    c.execute(f"CREATE TABLE {REF_PART} PARTITION OF ev FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-02 00:00+00')")
    c.execute("RESET pgpart.event_triggers")


def columns(c: Conn, rel: str) -> list[tuple[Any, ...]]:
    return c.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypmod, co.collname, a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attstorage,
               a.attcompression, a.attislocal, a.attinhcount
        FROM pg_attribute AS a
        LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation AS co ON co.oid = a.attcollation
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (rel,),
    ).fetchall()


def constraints(c: Conn, rel: str) -> list[tuple[Any, ...]]:
    """Constraints of REL, names normalised. connoinherit is left out for
    primary keys and UNIQUE constraints: PostgreSQL marks those of a plain
    table NO INHERIT and ATTACH keeps the mark, so every create-then-attach
    partition (pgpart's, pg_dump's) differs there from PARTITION OF, to no
    effect on a leaf partition (see test_constraint_noinherit_difference)."""
    rows = c.execute(
        """
        SELECT con.contype, con.conname, pg_get_constraintdef(con.oid), con.convalidated, con.conislocal,
               con.coninhcount, CASE WHEN con.contype NOT IN ('p', 'u') THEN con.connoinherit END,
               con.condeferrable, con.condeferred,
               (SELECT pc.conname FROM pg_constraint AS pc WHERE pc.oid = con.conparentid)
        FROM pg_constraint AS con
        WHERE con.conrelid = %s::regclass
        """,
        (rel,),
    ).fetchall()
    return sorted(tuple(v.replace(rel, "<p>") if isinstance(v, str) else v for v in row) for row in rows)


def index_defs(c: Conn, rel: str) -> list[str]:
    rows = c.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass", (rel,))
    return sorted(r[0].replace(rel, "<p>") for r in rows.fetchall())


def index_parents(c: Conn, rel: str) -> list[tuple[str, str | None]]:
    """(parent index, partition index) for every index of REL; None: attached to nothing."""
    return c.execute(
        """
        SELECT inh.inhparent::regclass::text, i.indexrelid::regclass::text
        FROM pg_index AS i
        LEFT JOIN pg_inherits AS inh ON inh.inhrelid = i.indexrelid
        WHERE i.indrelid = %s::regclass
        ORDER BY 1, 2
        """,
        (rel,),
    ).fetchall()


def parent_indexes(c: Conn, rel: str = "ev") -> list[str]:
    rows = c.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass ORDER BY 1", (rel,))
    return [r[0] for r in rows.fetchall()]


def tablespace_of(c: Conn, rel: str) -> str:
    """The tablespace REL is really in, the database default named."""
    row = c.execute(
        """
        SELECT coalesce(t.spcname, (SELECT dt.spcname FROM pg_database AS d
                                    JOIN pg_tablespace AS dt ON dt.oid = d.dattablespace
                                    WHERE d.datname = current_database()))
        FROM pg_class AS c LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace
        WHERE c.oid = %s::regclass
        """,
        (rel,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def index_tablespaces(c: Conn, rel: str) -> set[str]:
    rows = c.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", (rel,))
    return {tablespace_of(c, r[0]) for r in rows.fetchall()}


def owners(c: Conn, rel: str) -> set[str]:
    """Owners of REL and of its indexes."""
    rows = c.execute(
        """
        SELECT pg_get_userbyid(c.relowner) FROM pg_class AS c
        WHERE c.oid = %s::regclass
           OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)
        """,
        (rel, rel),
    )
    return {r[0] for r in rows.fetchall()}


def identity_on_partitions(c: Conn) -> bool:
    """PostgreSQL 17 gave partitions their parent's identity column."""
    return c.info.server_version >= 170000


def sequences(c: Conn) -> list[str]:
    rows = c.execute("SELECT oid::regclass::text FROM pg_class WHERE relkind = 'S' ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


@pytest.mark.parametrize("identity", ["ALWAYS", "BY DEFAULT"])
@pytest.mark.parametrize("placement", ["default", "parent", "policy"])
def test_same_as_partition_of(
    conn: Conn, owner_conn: Conn, request: pytest.FixtureRequest, identity: str, placement: str
) -> None:
    ts: str | None = request.getfixturevalue("make_tablespace")("a") if placement != "default" else None
    make_parent(owner_conn, identity, in_tablespace=ts if placement == "parent" else None)
    kw: dict[str, Any] = {"tablespace": ts} if placement == "policy" else {}
    assert create_pgpart(owner_conn, **kw) == [f"public.{PGPART_PART}"]
    create_reference(owner_conn)

    # the fixture is what it claims to be
    parent_cols = {r[0]: r for r in columns(conn, "ev")}
    assert parent_cols["id"][6] == ("a" if identity == "ALWAYS" else "d")
    assert parent_cols["doubled"][7] == "s"

    assert columns(conn, PGPART_PART) == columns(conn, REF_PART)
    # Identity on partitions changed in PostgreSQL 17: an attached partition
    # takes the parent's identity (before 17 partitions had none). Either
    # way pgpart's partition must match PARTITION OF's, asserted just above.
    expected_identity = [parent_cols[r[0]][6] if identity_on_partitions(conn) else "" for r in columns(conn, PGPART_PART)]
    assert [r[6] for r in columns(conn, PGPART_PART)] == expected_identity
    assert expected_identity.count("") == len(parent_cols) - (1 if identity_on_partitions(conn) else 0)
    assert constraints(conn, PGPART_PART) == constraints(conn, REF_PART)
    # PostgreSQL 18 records NOT NULL as constraints too (contype 'n')
    not_null = {"n"} if conn.info.server_version >= 180000 else set()
    assert {r[0] for r in constraints(conn, PGPART_PART)} == {"c", "p", "u"} | not_null
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)

    # exactly one index per parent index, nothing extra
    for part in (PGPART_PART, REF_PART):
        attached = index_parents(conn, part)
        assert sorted(p for p, _ in attached if p is not None) == parent_indexes(conn)
        assert [i for p, i in attached if p is None] == []

    # tablespaces
    expected_ts = ts or "pg_default"
    assert tablespace_of(conn, PGPART_PART) == expected_ts
    assert index_tablespaces(conn, PGPART_PART) == {expected_ts}
    assert tablespace_of(conn, REF_PART) == (ts if placement == "parent" else "pg_default")
    # documented difference: PARTITION OF builds the indexes in the parent
    # indexes' tablespace (here the database default), not the partition's
    assert index_tablespaces(conn, REF_PART) == {"pg_default"}
    policy_ts = conn.execute("SELECT tablespace FROM pgpart.config WHERE parent = 'ev'::regclass").fetchone()
    assert policy_ts == ((ts,) if placement == "policy" else (None,))

    assert owners(conn, PGPART_PART) == owners(conn, REF_PART) == {"pgpart_owner"}


def test_constraint_noinherit_difference(conn: Conn, owner_conn: Conn) -> None:
    """The one catalog difference in constraints, documented: see constraints()."""
    make_parent(owner_conn)
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    query = "SELECT contype::text, connoinherit FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')"
    assert set(conn.execute(query, (PGPART_PART,)).fetchall()) == {("p", True), ("u", True)}
    assert set(conn.execute(query, (REF_PART,)).fetchall()) == {("p", False), ("u", False)}


def test_owner_is_the_parents_when_a_superuser_creates(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_pgpart(conn)
    assert owners(conn, PGPART_PART) == {"pgpart_owner"}


@pytest.mark.parametrize("identity", ["ALWAYS", "BY DEFAULT"])
def test_no_partition_local_sequences(conn: Conn, owner_conn: Conn, identity: str) -> None:
    make_parent(owner_conn, identity)
    before = sequences(conn)
    assert len(before) == 3  # ev_id_seq, ev_s_seq, pgpart.log_id_seq
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    assert sequences(conn) == before

    # Through the parent, ids come from the parent's sequence, whichever
    # partition the row lands in.
    rows = owner_conn.execute(
        """
        INSERT INTO ev (created, amount, note)
        VALUES ('2024-03-10 13:00+00', 1.5, 'a'), ('2024-01-01 13:00+00', 2, 'b'), ('2024-03-10 14:00+00', 3, 'c')
        RETURNING tableoid::regclass::text, id, s, doubled
        """
    ).fetchall()
    assert rows == [
        (PGPART_PART, 1, 1, 3),
        (REF_PART, 2, 2, 4),
        (PGPART_PART, 3, 3, 6),
    ]
    assert conn.execute("SELECT last_value FROM pg_sequences WHERE sequencename = 'ev_id_seq'").fetchone() == (3,)

    # A direct insert without the identity column: before PostgreSQL 17
    # partitions have no identity, so it fails on NOT NULL; from 17 on it
    # draws from the parent's sequence. Either way, in a pgpart partition as
    # in a PARTITION OF one, and no partition-local sequence hands out ids.
    last_id = 3
    for part, created in ((PGPART_PART, "2024-03-10 13:00+00"), (REF_PART, "2024-01-01 13:00+00")):
        insert = f"INSERT INTO {part} (created, amount) VALUES ('{created}', 1) RETURNING id"
        if identity_on_partitions(conn):
            last_id += 1
            assert owner_conn.execute(insert).fetchone() == (last_id,)
        else:
            with pytest.raises(errors.NotNullViolation):
                owner_conn.execute(insert)
    assert conn.execute("SELECT last_value FROM pg_sequences WHERE sequencename = 'ev_id_seq'").fetchone() == (last_id,)

    # A direct insert with an explicit id draws the serial column from the
    # parent's sequence too, and computes the generated column. (OVERRIDING:
    # from 17 the partition has the parent's GENERATED ALWAYS identity.)
    row = owner_conn.execute(
        f"INSERT INTO {PGPART_PART} (id, created, amount) OVERRIDING SYSTEM VALUE"
        " VALUES (100, '2024-03-10 15:00+00', 5) RETURNING s, doubled"
    ).fetchone()
    assert row is not None and row[1] == 10
    assert conn.execute("SELECT last_value FROM pg_sequences WHERE sequencename = 'ev_s_seq'").fetchone() == (row[0],)
    assert sequences(conn) == before


def test_reloptions_land_on_the_partition(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    create_pgpart(owner_conn, reloptions="{fillfactor=70,autovacuum_enabled=false}")
    create_reference(owner_conn)
    row = conn.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (PGPART_PART,)).fetchone()
    assert row == (["fillfactor=70", "autovacuum_enabled=false"],)
    assert conn.execute("SELECT reloptions FROM pgpart.config").fetchone() == (["fillfactor=70", "autovacuum_enabled=false"],)
    # only the storage parameters differ from PARTITION OF
    assert columns(conn, PGPART_PART) == columns(conn, REF_PART)
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)


def replica_identity(c: Conn, rel: str) -> tuple[str, str | None]:
    row = c.execute(
        """
        SELECT c.relreplident::text,
               (SELECT i.indexrelid::regclass::text FROM pg_index AS i WHERE i.indrelid = c.oid AND i.indisreplident)
        FROM pg_class AS c WHERE c.oid = %s::regclass
        """,
        (rel,),
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize(("setting", "code"), [("FULL", "f"), ("NOTHING", "n")])
def test_replica_identity_is_copied(conn: Conn, owner_conn: Conn, setting: str, code: str) -> None:
    make_parent(owner_conn)
    owner_conn.execute(f"ALTER TABLE ev REPLICA IDENTITY {setting}")
    parts = create_pgpart(owner_conn, premake=1, default_partition=True)
    assert parts == ["public.ev_p20240310", "public.ev_p20240311", "public.ev_default"]
    for part in parts:
        assert replica_identity(conn, part) == (code, None)


def test_replica_identity_using_index_uses_the_partitions_own_index(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    owner_conn.execute("ALTER TABLE ev REPLICA IDENTITY USING INDEX ev_s_uq")
    parts = create_pgpart(owner_conn, premake=1, default_partition=True)
    assert len(parts) == 3
    for part in parts:
        kind, index = replica_identity(conn, part)
        assert kind == "i"
        assert index is not None
        # the partition's own index, the one attached to the parent's identity index
        row = conn.execute(
            "SELECT inhparent::regclass::text, %s::regclass = (SELECT indrelid FROM pg_index WHERE indexrelid = %s::regclass)"
            " FROM pg_inherits WHERE inhrelid = %s::regclass",
            (part, index, index),
        ).fetchone()
        assert row == ("ev_s_uq", True)


def test_default_replica_identity_is_left_alone(conn: Conn, owner_conn: Conn) -> None:
    make_parent(owner_conn)
    steps = owner_conn.execute(
        "SELECT action FROM pgpart.create_range_partitions('ev', 'daily', premake => 0, now_at => %s, dry_run => true)",
        (NOW,),
    ).fetchall()
    assert ("replica identity",) not in steps
    create_pgpart(owner_conn)
    assert replica_identity(conn, PGPART_PART) == ("d", None)


def test_unique_index_older_than_an_equal_unique_constraint(conn: Conn, owner_conn: Conn) -> None:
    """A plain unique index made before a UNIQUE constraint on the same
    columns: ATTACH pairs parent indexes with partition indexes in OID order,
    so the partition's indexes must be built in the parent's order, or the
    plain parent index takes the constraint's index and ATTACH builds a
    second constraint index (leaving one index attached to nothing)."""
    owner_conn.execute("CREATE TABLE ev (a int NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created)")
    owner_conn.execute("CREATE UNIQUE INDEX ev_plain ON ev (a, created)")
    owner_conn.execute("ALTER TABLE ev ADD CONSTRAINT ev_con UNIQUE (a, created)")
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)
    assert constraints(conn, PGPART_PART) == constraints(conn, REF_PART)
    attached = index_parents(conn, PGPART_PART)
    assert sorted(p for p, _ in attached if p is not None) == ["ev_con", "ev_plain"]
    assert [i for p, i in attached if p is None] == []


def test_primary_key_older_than_an_equal_unique_index(conn: Conn, owner_conn: Conn) -> None:
    """The usual order (constraint first, then an equal plain index) pairs right."""
    owner_conn.execute(
        "CREATE TABLE ev (a int, created timestamptz, PRIMARY KEY (a, created)) PARTITION BY RANGE (created)"
    )
    owner_conn.execute("CREATE UNIQUE INDEX ev_plain ON ev (a, created)")
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)
    assert constraints(conn, PGPART_PART) == constraints(conn, REF_PART)
    assert [i for p, i in index_parents(conn, PGPART_PART) if p is None] == []


def test_index_variants(conn: Conn, owner_conn: Conn) -> None:
    """Index features pg_get_indexdef/pg_get_constraintdef must carry over:
    INCLUDE on a primary key, NULLS NOT DISTINCT and DEFERRABLE on a UNIQUE
    constraint, DESC NULLS LAST, operator classes, collations, hash, GIN and
    BRIN, WITH (...) together with WHERE. (Storage parameters of constraint
    indexes: test_constraint_index_storage_parameters.)"""
    owner_conn.execute(
        """
        CREATE TABLE ev (
            id int NOT NULL, t text, tags int[], created timestamptz NOT NULL,
            CONSTRAINT ev_pk PRIMARY KEY (id, created) INCLUDE (t),
            CONSTRAINT ev_uq UNIQUE NULLS NOT DISTINCT (t, created) DEFERRABLE INITIALLY DEFERRED
        ) PARTITION BY RANGE (created)
        """
    )
    for ddl in (
        "CREATE INDEX ev_desc ON ev (t DESC NULLS LAST, id)",
        "CREATE INDEX ev_ops ON ev (t text_pattern_ops)",
        'CREATE INDEX ev_coll ON ev (t COLLATE "C")',
        "CREATE INDEX ev_hash ON ev USING hash (t)",
        "CREATE INDEX ev_gin ON ev USING gin (tags)",
        "CREATE INDEX ev_brin ON ev USING brin (created) WITH (pages_per_range = 16)",
        "CREATE INDEX ev_pred ON ev (id) WITH (fillfactor = 60) WHERE t IS NOT NULL",
    ):
        owner_conn.execute(ddl)
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    assert constraints(conn, PGPART_PART) == constraints(conn, REF_PART)
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)
    assert [i for p, i in index_parents(conn, PGPART_PART) if p is None] == []


def test_constraint_index_storage_parameters(conn: Conn, owner_conn: Conn) -> None:
    """pg_get_constraintdef() leaves out the index's WITH (...): a primary
    key or UNIQUE constraint with storage parameters must still get them."""
    owner_conn.execute(
        """
        CREATE TABLE ev (id int, created timestamptz,
                         CONSTRAINT ev_pk PRIMARY KEY (id, created) WITH (fillfactor = 80),
                         CONSTRAINT ev_uq UNIQUE (created, id) WITH (fillfactor = 90, deduplicate_items = off))
        PARTITION BY RANGE (created)
        """
    )
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    query = """
        SELECT con.contype::text, ic.reloptions
        FROM pg_constraint AS con JOIN pg_class AS ic ON ic.oid = con.conindid
        WHERE con.conrelid = %s::regclass ORDER BY 1
    """
    expected = [("p", ["fillfactor=80"]), ("u", ["fillfactor=90", "deduplicate_items=off"])]
    assert conn.execute(query, (REF_PART,)).fetchall() == expected
    assert conn.execute(query, (PGPART_PART,)).fetchall() == expected
    assert index_defs(conn, PGPART_PART) == index_defs(conn, REF_PART)


def test_foreign_keys_are_cloned_like_partition_of(conn: Conn, owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE ref (id int PRIMARY KEY)")
    owner_conn.execute(
        """
        CREATE TABLE ev (id int, ref_id int REFERENCES ref (id) ON DELETE CASCADE, created timestamptz,
                         PRIMARY KEY (id, created))
        PARTITION BY RANGE (created)
        """
    )
    create_pgpart(owner_conn)
    create_reference(owner_conn)
    assert constraints(conn, PGPART_PART) == constraints(conn, REF_PART)
    assert "f" in {r[0] for r in constraints(conn, PGPART_PART)}
    owner_conn.execute("INSERT INTO ref VALUES (1)")
    owner_conn.execute("INSERT INTO ev VALUES (1, 1, '2024-03-10 13:00+00')")
    with pytest.raises(errors.ForeignKeyViolation):
        owner_conn.execute(f"INSERT INTO {PGPART_PART} VALUES (2, 2, '2024-03-10 13:00+00')")
    owner_conn.execute("DELETE FROM ref")
    assert owner_conn.execute(f"SELECT count(*) FROM {PGPART_PART}").fetchone() == (0,)


def test_tablespace_fixture_is_usable_by_the_owner(owner_conn: Conn, make_tablespace: MakeTablespace) -> None:
    tablespace = make_tablespace("a")
    owner_conn.execute(sql.SQL("CREATE TABLE in_ts (a int) TABLESPACE {}").format(sql.Identifier(tablespace)))
    assert tablespace_of(owner_conn, "in_ts") == tablespace
