"""Global unique constraints on a plain table, the building blocks of a
conversion (issue 18; docs/global-unique.md "On a plain table (before
converting it)"): add_global_unique and its siblings accept an ordinary
table; pgpart._gu_rebind moves the constraint to the new partitioned parent
in the swap transaction; pgpart._gu_repoint_foreign_keys points incoming
foreign keys at the side table NOT VALID. The swaps here are done by hand,
as a conversion would do them. Concurrency waits on pg_locks, never on
time."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from fix_pg import Connect
from sessions import Writer, temporary_role, wait_until_waiting

Conn = psycopg.Connection[Any]

# ev: a plain table with the usual id primary key; the conversion's
# boundary is 2026-02-01 (the old rows are all before it).
BOUNDARY = "2026-02-01 00:00+00"


def make_plain(conn: Conn, rows: int = 100, name: str = "ev") -> None:
    t = sql.Identifier(name)
    conn.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(name + "_ids")))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint NOT NULL DEFAULT nextval({}) PRIMARY KEY,"
            " created timestamptz NOT NULL, email text, payload text)"
        ).format(t, sql.Literal(name + "_ids"))
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (created, email) SELECT '2026-01-01'::timestamptz + g * interval '1 minute', 'e' || g"
            " FROM generate_series(1, %s) AS g"
        ).format(t),
        [rows],
    )


def add(conn: Conn, table: str, columns: list[str], **kw: Any) -> tuple[Any, ...]:
    args = [sql.SQL("{}::regclass").format(sql.Literal(table)), sql.SQL("{}::name[]").format(sql.Literal(columns))]
    args += [sql.SQL("{} => {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in kw.items()]
    row = conn.execute(
        sql.SQL("SELECT * FROM pgpart.add_global_unique({})").format(sql.SQL(", ").join(args))
    ).fetchone()
    assert row is not None
    return tuple(row)


def one(conn: Conn, query: str, params: list[Any] | None = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def info(conn: Conn, table: str) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT unique_constraint, state, partitions, unrecorded_partitions, detached_recorded"
            " FROM pgpart.global_unique_info(%s::regclass)",
            [table],
        )
    ]


def gu_findings(conn: Conn) -> list[tuple[str, str | None]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT code, partition::text FROM pgpart.check() WHERE code LIKE 'global_unique%' ORDER BY 1, 2"
        )
    ]


def triggers(conn: Conn, table: str) -> list[tuple[str, bool]]:
    """TABLE's pgpart_gu triggers, the id replaced by N, and whether each was
    cloned from a parent."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT regexp_replace(tgname, '_[0-9]+', '_N'), tgparentid <> 0 FROM pg_trigger"
            " WHERE tgrelid = %s::regclass AND tgname LIKE 'pgpart_gu%%' ORDER BY 1",
            [table],
        )
    ]


def swap(
    tx: Conn,
    *,
    rebind_first: bool = True,
    premake: bool = True,
    repoint: bool = False,
    parent_columns: str = "id bigint NOT NULL DEFAULT nextval('ev_ids'), created timestamptz NOT NULL,"
    " email text, payload text",
    before_ddl: Any = None,
) -> list[tuple[Any, ...]]:
    """A conversion's swap by hand, in TX (not autocommit; committed here):
    lock, rename ev to ev_legacy, create the partitioned ev, rebind, a grid
    partition after the boundary, attach ev_legacy as the range below the
    boundary (its validated CHECK spares the scan), repoint foreign keys.
    Returns what _gu_repoint_foreign_keys returned."""
    assert not tx.autocommit
    tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
    if before_ddl is not None:
        before_ddl()
    tx.execute("ALTER TABLE ev RENAME TO ev_legacy")
    tx.execute(f"CREATE TABLE ev ({parent_columns}) PARTITION BY RANGE (created)")
    attach = f"SELECT pgpart._gu_attach('ev', 'ev_legacy', 'FOR VALUES FROM (MINVALUE) TO (''{BOUNDARY}'')')"
    if rebind_first:
        assert one(tx, "SELECT pgpart._gu_rebind('ev_legacy', 'ev')") == 1
    if premake:
        # DDL on the new parent between the rebind and the ATTACH (the event
        # trigger runs): ev_legacy's values must stay
        tx.execute("CREATE TABLE ev_next (LIKE ev)")
        tx.execute(f"ALTER TABLE ev ATTACH PARTITION ev_next FOR VALUES FROM ('{BOUNDARY}') TO ('2026-03-01 00:00+00')")
    tx.execute(attach)
    if not rebind_first:
        assert one(tx, "SELECT pgpart._gu_rebind('ev_legacy', 'ev')") == 1
    repointed: list[tuple[Any, ...]] = []
    if repoint:
        repointed = [tuple(r) for r in tx.execute("SELECT * FROM pgpart._gu_repoint_foreign_keys('ev_legacy', 'ev')")]
    tx.commit()
    return repointed


def prepare_for_swap(conn: Conn) -> None:
    """What a conversion does online before its swap: the constraint built
    online, the CHECK that lets ATTACH skip its scan."""
    add(conn, "ev", ["id"], build=False)
    conn.execute("CALL pgpart.build_global_unique('ev', 'ev_id_gkey', 1)")
    conn.execute(f"ALTER TABLE ev ADD CONSTRAINT ev_before_boundary CHECK (created < '{BOUNDARY}') NOT VALID")
    conn.execute("ALTER TABLE ev VALIDATE CONSTRAINT ev_before_boundary")


# --- item 1: the verbs accept a plain table --------------------------------


def test_plain_table_online_build_and_upkeep(conn: Conn) -> None:
    make_plain(conn)
    assert one(conn, "SELECT pgpart._gu_plain_ready('ev')") is False
    assert add(conn, "ev", ["id"], build=False)[1:] == ("ev_id_gkey_values", "building", 1)
    assert info(conn, "ev") == [("ev_id_gkey", "building", 1, 0, 0)]
    assert gu_findings(conn) == [("global_unique_building", None)]
    assert one(conn, "SELECT pgpart._gu_plain_ready('ev')") is False
    # a write during the build is recorded by the triggers
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-20', 'during')")
    conn.execute("UPDATE ev SET id = 1000 WHERE id = 2")
    conn.execute("DELETE FROM ev WHERE id = 3")
    conn.execute("CALL pgpart.build_global_unique('ev', 'ev_id_gkey', 1)")
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]
    assert one(conn, "SELECT pgpart._gu_plain_ready('ev')") is True
    assert one(conn, "SELECT pgpart._gu_plain_ready('ev', '{id}')") is True
    assert one(conn, "SELECT pgpart._gu_plain_ready('ev', '{email}')") is False
    assert gu_findings(conn) == []
    ids = sorted(r[0] for r in conn.execute("SELECT id FROM ev"))
    assert sorted(r[0] for r in conn.execute("SELECT id FROM ev_id_gkey_values")) == ids
    assert 1000 in ids
    assert 2 not in ids
    assert 3 not in ids
    # the side table holds the values under its unique index
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev_id_gkey_values VALUES (1000)")
    # TRUNCATE releases the values (the TRUNCATE trigger is on the table)
    assert triggers(conn, "ev") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_truncate", False),
        ("pgpart_gu_N_update", False),
    ]
    conn.execute("TRUNCATE ev")
    assert one(conn, "SELECT count(*) FROM ev_id_gkey_values") == 0
    conn.execute("INSERT INTO ev (id, created) VALUES (1, '2026-01-02')")
    assert one(conn, "SELECT count(*) FROM ev_id_gkey_values") == 1
    conn.execute("SELECT pgpart.drop_global_unique('ev', 'ev_id_gkey')")
    assert triggers(conn, "ev") == []
    assert one(conn, "SELECT to_regclass('ev_id_gkey_values')") is None
    assert info(conn, "ev") == []


def test_plain_table_build_in_one_call_and_repair(conn: Conn) -> None:
    make_plain(conn, rows=10)
    conn.execute("ALTER TABLE ev DROP CONSTRAINT ev_pkey")
    conn.execute("UPDATE ev SET email = 'same' WHERE id IN (4, 5)")
    with pytest.raises(errors.UniqueViolation) as exc:
        add(conn, "ev", ["email"])
    assert "(email)=(same)" in (exc.value.diag.message_detail or "")
    assert one(conn, "SELECT to_regclass('ev_email_gkey_values')") is None
    conn.execute("UPDATE ev SET email = 'other' WHERE id = 5")
    assert add(conn, "ev", ["email"])[2:] == ("valid", 1)
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-03', 'same')")
    # the TRUNCATE trigger lost: check() reports the table as not recorded,
    # and its fix (add_global_unique again) repairs it
    gu_id = one(conn, "SELECT id FROM pgpart.global_unique")
    conn.execute(sql.SQL("DROP TRIGGER {} ON ev").format(sql.Identifier(f"pgpart_gu_{gu_id}_truncate")))
    assert gu_findings(conn) == [("global_unique_partition", "ev")]
    fix = one(conn, "SELECT fix FROM pgpart.check() WHERE code = 'global_unique_partition'")
    conn.execute(fix)
    assert gu_findings(conn) == []


def test_other_relations_are_refused(conn: Conn) -> None:
    make_plain(conn, rows=1)
    conn.execute("CREATE VIEW ev_view AS SELECT id FROM ev")
    conn.execute("CREATE MATERIALIZED VIEW ev_mat AS SELECT id FROM ev")
    conn.execute("CREATE TABLE inh_parent (id bigint)")
    conn.execute("CREATE TABLE inh_child (extra int) INHERITS (inh_parent)")
    conn.execute("CREATE TABLE pt (id bigint, created date) PARTITION BY RANGE (created)")
    conn.execute("CREATE TABLE pt_2026 PARTITION OF pt FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    for rel in ("ev_view", "ev_mat", "inh_parent", "inh_child", "pt_2026"):
        with pytest.raises(errors.InvalidTableDefinition) as exc:
            add(conn, rel, ["id"])
        assert exc.value.diag.message_hint, rel
    assert one(conn, "SELECT count(*) FROM pgpart.global_unique") == 0


# --- item 2: rebinding in the swap ------------------------------------------


@pytest.mark.parametrize("rebind_first", [True, False], ids=["rebind-then-attach", "attach-then-rebind"])
def test_swap_by_hand_with_a_concurrent_writer(conn: Conn, connect: Connect, rebind_first: bool) -> None:
    make_plain(conn, rows=200)
    prepare_for_swap(conn)
    # the writer's rows go alternately below and above the boundary: before
    # the swap all into ev (plain), after it into ev_legacy and ev_next
    times = itertools.cycle(["2026-01-25 12:00+00", "2026-02-10 12:00+00"])
    before = iter(itertools.repeat("2026-01-25 12:00+00"))
    swapped = threading.Event()
    writer_conn = connect()
    writer = Writer(writer_conn, lambda: next(times) if swapped.is_set() else next(before), paced=True).start()
    # a long timeout here: this test is about what the writer finds after
    # the swap, not about how long the hand-made swap takes on a busy machine
    writer_conn.execute("SET lock_timeout = '60s'")
    writer.allow(20)
    writer.wait_for(20)
    tx = connect(autocommit=False)
    tx.execute("SELECT 1")

    def writer_waits() -> None:
        swapped.set()
        writer.allow(1)
        wait_until_waiting(conn, writer_conn.info.backend_pid, lambda: writer.stop.is_set())

    swap(tx, rebind_first=rebind_first, before_ddl=writer_waits)
    writer.allow(40)
    writer.wait_for(61)
    inserted = writer.finish()
    assert len(inserted) == 61
    assert one(conn, "SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass") == "p"
    # every row once, every value recorded, in both partitions
    ids = sorted(r[0] for r in conn.execute("SELECT id FROM ev"))
    assert len(ids) == 200 + 61 == len(set(ids))
    assert set(inserted) <= set(ids)
    assert sorted(r[0] for r in conn.execute("SELECT id FROM ev_id_gkey_values")) == ids
    assert one(conn, "SELECT count(*) FROM ONLY ev_next") > 0
    assert one(conn, "SELECT count(*) FROM ONLY ev_legacy") > 200
    # the constraint now belongs to the parent, both partitions recorded
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 2, 0, 0)]
    assert info(conn, "ev_legacy") == []
    assert gu_findings(conn) == []
    assert triggers(conn, "ev") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_update", False),
    ]
    assert triggers(conn, "ev_legacy") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_truncate", False),
        ("pgpart_gu_N_update", False),
    ]
    # unique across the legacy range and the new one, both ways
    legacy_id = one(conn, "SELECT min(id) FROM ONLY ev_legacy")
    next_id = one(conn, "SELECT min(id) FROM ONLY ev_next")
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev (id, created) VALUES (%s, '2026-02-15')", [legacy_id])
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev (id, created) VALUES (%s, '2026-01-15')", [next_id])
    # a row moving out of the legacy range keeps its value
    conn.execute("UPDATE ev SET created = '2026-02-20' WHERE id = %s", [legacy_id])
    assert one(conn, "SELECT tableoid::regclass::text FROM ev WHERE id = %s", [legacy_id]) == "ev_next"
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev (id, created) VALUES (%s, '2026-01-15')", [legacy_id])
    # retention detaching the legacy partition releases its values
    legacy_rows = one(conn, "SELECT count(*) FROM ONLY ev_legacy")
    conn.execute("ALTER TABLE ev DETACH PARTITION ev_legacy")
    assert one(conn, "SELECT count(*) FROM ev_id_gkey_values") == len(ids) - legacy_rows
    assert gu_findings(conn) == []


def test_rebind_grants_writers_of_the_new_parent(conn: Conn, connect: Connect) -> None:
    make_plain(conn, rows=5)
    prepare_for_swap(conn)
    with temporary_role(conn, "gu_writer") as role:
        tx = connect(autocommit=False)
        tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
        tx.execute("ALTER TABLE ev RENAME TO ev_legacy")
        tx.execute(
            "CREATE TABLE ev (id bigint NOT NULL DEFAULT nextval('ev_ids'), created timestamptz NOT NULL,"
            " email text, payload text) PARTITION BY RANGE (created)"
        )
        tx.execute(sql.SQL("GRANT SELECT, INSERT, DELETE ON ev TO {}").format(sql.Identifier(role)))
        tx.execute(sql.SQL("GRANT USAGE ON SEQUENCE ev_ids TO {}").format(sql.Identifier(role)))
        assert one(tx, "SELECT pgpart._gu_rebind('ev_legacy', 'ev')") == 1
        tx.execute(f"SELECT pgpart._gu_attach('ev', 'ev_legacy', 'FOR VALUES FROM (MINVALUE) TO (''{BOUNDARY}'')')")
        tx.commit()
        writer = connect(role)
        writer.execute("INSERT INTO ev (created) VALUES ('2026-01-30')")
        writer.execute("DELETE FROM ev WHERE id = 1")
        with pytest.raises(errors.UniqueViolation):
            writer.execute("INSERT INTO ev (id, created) VALUES (2, '2026-01-30')")
        assert gu_findings(conn) == []


def test_rebind_refusals_change_nothing(conn: Conn, connect: Connect) -> None:
    make_plain(conn, rows=5)
    add(conn, "ev", ["id"], build=False)
    conn.execute(
        "CREATE TABLE ev_new (id bigint NOT NULL, created timestamptz NOT NULL, email text)"
        " PARTITION BY RANGE (created)"
    )
    conn.execute("CREATE TABLE ev_flat (id bigint, created timestamptz)")
    conn.execute("CREATE TABLE ev_int (id int NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created)")

    def attempt(new_parent: str, lock: bool = True) -> psycopg.Error:
        tx = connect(autocommit=False)
        if lock:
            tx.execute(f"LOCK TABLE ONLY ev, {new_parent} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(psycopg.Error) as exc:
            tx.execute("SELECT pgpart._gu_rebind('ev', %s::regclass)", [new_parent])
        tx.rollback()
        return exc.value

    # not built yet: 55000 naming the call that finishes it
    err = attempt("ev_new")
    assert err.sqlstate == "55000"
    assert "build_global_unique" in (err.diag.message_hint or "")
    conn.execute("CALL pgpart.build_global_unique('ev', 'ev_id_gkey')")
    # not locked by the caller
    err = attempt("ev_new", lock=False)
    assert err.sqlstate == "55000"
    assert "LOCK TABLE" in (err.diag.message_hint or "")
    # not a partitioned table
    assert attempt("ev_flat").sqlstate == "42P17"
    # the column has another type there
    assert attempt("ev_int").sqlstate == "42804"
    # another owner: the side table could not follow
    conn.execute("ALTER TABLE ev_new OWNER TO pgpart_owner")
    assert attempt("ev_new").sqlstate == "55000"
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]
    assert triggers(conn, "ev") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_truncate", False),
        ("pgpart_gu_N_update", False),
    ]
    assert triggers(conn, "ev_new") == []
    # a table without constraints: nothing to move
    tx = connect(autocommit=False)
    tx.execute("LOCK TABLE ONLY ev_flat, ev_new IN ACCESS EXCLUSIVE MODE")
    assert one(tx, "SELECT pgpart._gu_rebind('ev_flat', 'ev_new')") == 0
    tx.rollback()


def test_rebind_needs_the_owner(conn: Conn, connect: Connect) -> None:
    make_plain(conn, rows=5)
    add(conn, "ev", ["id"])
    conn.execute("CREATE TABLE ev_new (id bigint NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created)")
    conn.execute("GRANT ALL ON ev, ev_new TO pgpart_other")
    other = connect("pgpart_other", autocommit=False)
    with pytest.raises(errors.InsufficientPrivilege):
        other.execute("SELECT pgpart._gu_rebind('ev', 'ev_new')")


# --- item 3: incoming foreign keys -------------------------------------------


def make_referencing(conn: Conn, name: str, clause: str = "", ids: tuple[int, int] = (5, 6)) -> None:
    conn.execute(
        sql.SQL("CREATE TABLE {} (n int PRIMARY KEY, ev_id bigint CONSTRAINT {} REFERENCES ev (id) {})").format(
            sql.Identifier(name), sql.Identifier(name + "_fk"), sql.SQL(clause)
        )
    )
    conn.execute(sql.SQL("INSERT INTO {} VALUES (1, %s), (2, %s)").format(sql.Identifier(name)), list(ids))


def fk_def(conn: Conn, name: str) -> tuple[str, str]:
    row = conn.execute(
        "SELECT confrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
        [name],
    ).fetchone()
    assert row is not None
    return (row[0], row[1])


def test_foreign_keys_point_at_the_side_table(conn: Conn, connect: Connect) -> None:
    make_plain(conn)
    make_referencing(conn, "items")
    make_referencing(conn, "notes", "ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED")
    make_referencing(conn, "tags", "MATCH FULL DEFERRABLE")
    conn.execute("COMMENT ON CONSTRAINT items_fk ON items IS 'each item has its event'")
    prepare_for_swap(conn)
    plan = {r[0]: r for r in conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")}
    assert sorted(plan) == ["items_fk", "notes_fk", "tags_fk"]
    assert all(r[2] == "ev_id_gkey" and r[3] == "ev_id_gkey_values" for r in plan.values())
    assert fk_def(conn, "items_fk")[0] == "ev"  # the plan changed nothing
    repointed = swap(connect(autocommit=False), repoint=True)
    assert sorted(repointed) == [
        ("items_fk", "items", "ALTER TABLE public.items VALIDATE CONSTRAINT items_fk"),
        ("notes_fk", "notes", "ALTER TABLE public.notes VALIDATE CONSTRAINT notes_fk"),
        ("tags_fk", "tags", "ALTER TABLE public.tags VALIDATE CONSTRAINT tags_fk"),
    ]
    assert fk_def(conn, "items_fk") == (
        "ev_id_gkey_values",
        "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id) NOT VALID",
    )
    assert fk_def(conn, "notes_fk") == (
        "ev_id_gkey_values",
        "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id) ON UPDATE RESTRICT ON DELETE RESTRICT"
        " DEFERRABLE INITIALLY DEFERRED NOT VALID",
    )
    assert fk_def(conn, "tags_fk") == (
        "ev_id_gkey_values",
        "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id) MATCH FULL DEFERRABLE NOT VALID",
    )
    assert one(conn, "SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE conname = 'items_fk'") == (
        "each item has its event"
    )
    # new rows are checked at once, against the new partitions too
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("INSERT INTO items VALUES (3, 999999)")
    new_id = one(conn, "INSERT INTO ev (created) VALUES ('2026-02-10') RETURNING id")
    conn.execute("INSERT INTO items VALUES (3, %s)", [new_id])
    # deleting a referenced row is refused, wherever it lives
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("DELETE FROM ev WHERE id = %s", [new_id])
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("DELETE FROM ev WHERE id = 5")
    # the online step: validate
    for _, _, statement in repointed:
        conn.execute(statement)
    assert one(conn, "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname LIKE '%%\\_fk'") is True
    # the side table cannot be dropped under them
    with pytest.raises(errors.DependentObjectsStillExist):
        conn.execute("SELECT pgpart.drop_global_unique('ev', 'ev_id_gkey')")


def test_moving_a_referenced_row(conn: Conn, connect: Connect) -> None:
    """A cross-partition update leaves the side table's entry untouched
    (the statement trigger sees the value leave and come back), so a
    referenced row moves whether the key is deferred or not, and its
    references hold. Deleting it is refused. Nothing is ever lost."""
    make_plain(conn)
    make_referencing(conn, "items", ids=(5, 7))
    make_referencing(conn, "later", "DEFERRABLE INITIALLY DEFERRED", ids=(6, 8))
    prepare_for_swap(conn)
    swap(connect(autocommit=False), repoint=True)
    conn.execute("UPDATE ev SET created = '2026-02-11' WHERE id = 5")  # `items` references 5: immediate
    assert one(conn, "SELECT tableoid::regclass::text FROM ev WHERE id = 5") == "ev_next"
    conn.execute("UPDATE ev SET created = '2026-02-11' WHERE id = 6")  # `later` references 6: deferred
    assert one(conn, "SELECT tableoid::regclass::text FROM ev WHERE id = 6") == "ev_next"
    assert one(conn, "SELECT count(*) FROM items") == 2
    assert one(conn, "SELECT count(*) FROM later") == 2
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("DELETE FROM ev WHERE id = 5")
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("DELETE FROM ev WHERE id = 6")


@pytest.mark.parametrize(
    "clause", ["ON DELETE CASCADE", "ON DELETE SET NULL", "ON UPDATE CASCADE", "ON DELETE SET DEFAULT"]
)
def test_cascading_foreign_keys_are_refused_up_front(conn: Conn, connect: Connect, clause: str) -> None:
    make_plain(conn)
    make_referencing(conn, "items")
    make_referencing(conn, "cascading", clause)
    prepare_for_swap(conn)
    with pytest.raises(errors.FeatureNotSupported) as exc:
        conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")
    assert "cascading_fk" in exc.value.diag.message_primary
    assert "NO ACTION" in (exc.value.diag.message_hint or "")
    assert (exc.value.diag.table_name, exc.value.diag.constraint_name) == ("cascading", "cascading_fk")
    # in the swap: the whole transaction fails, nothing changed
    tx = connect(autocommit=False)
    with pytest.raises(errors.FeatureNotSupported):
        swap(tx, repoint=True)
    tx.rollback()
    assert one(conn, "SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass") == "r"
    assert fk_def(conn, "items_fk")[0] == "ev"
    assert fk_def(conn, "cascading_fk")[0] == "ev"
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]


def test_foreign_key_to_other_columns_is_refused(conn: Conn) -> None:
    make_plain(conn)
    conn.execute("ALTER TABLE ev ADD CONSTRAINT ev_email_key UNIQUE (email)")
    conn.execute("CREATE TABLE mails (email text CONSTRAINT mails_email_fk REFERENCES ev (email))")
    prepare_for_swap(conn)
    with pytest.raises(errors.FeatureNotSupported) as exc:
        conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")
    assert "mails_email_fk" in exc.value.diag.message_primary
    assert "add_global_unique" in (exc.value.diag.message_hint or "")
    # with a global unique constraint on email too, it is carried
    add(conn, "ev", ["email"])
    plan = [(r[0], r[2]) for r in conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")]
    assert plan == [("mails_email_fk", "ev_email_gkey")]


def test_repoint_validating_at_once_and_a_key_not_valid_before(conn: Conn, connect: Connect) -> None:
    make_plain(conn)
    make_referencing(conn, "items")
    conn.execute("CREATE TABLE loose (ev_id bigint)")
    conn.execute("INSERT INTO loose VALUES (424242)")
    conn.execute("ALTER TABLE loose ADD CONSTRAINT loose_fk FOREIGN KEY (ev_id) REFERENCES ev (id) NOT VALID")
    prepare_for_swap(conn)
    tx = connect(autocommit=False)
    tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
    tx.execute("ALTER TABLE ev RENAME TO ev_legacy")
    tx.execute(
        "CREATE TABLE ev (id bigint NOT NULL, created timestamptz NOT NULL, email text, payload text)"
        " PARTITION BY RANGE (created)"
    )
    tx.execute("SELECT pgpart._gu_rebind('ev_legacy', 'ev')")
    tx.execute(f"SELECT pgpart._gu_attach('ev', 'ev_legacy', 'FOR VALUES FROM (MINVALUE) TO (''{BOUNDARY}'')')")
    rows = sorted(
        tuple(r) for r in tx.execute("SELECT * FROM pgpart._gu_repoint_foreign_keys('ev_legacy', 'ev', true)")
    )
    tx.commit()
    # the key that was NOT VALID stays so (its rows were never checked)
    assert rows == [
        ("items_fk", "items", "ALTER TABLE public.items VALIDATE CONSTRAINT items_fk"),
        ("loose_fk", "loose", None),
    ]
    assert fk_def(conn, "items_fk") == ("ev_id_gkey_values", "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id)")
    assert fk_def(conn, "loose_fk") == (
        "ev_id_gkey_values",
        "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id) NOT VALID",
    )


def test_repoint_waits_for_a_referencing_writer_within_the_lock_timeout(conn: Conn, connect: Connect) -> None:
    """A transaction holding a lock on a referencing table: the repoint
    waits the lock timeout per try, then 55P03, and the swap rolls back."""
    make_plain(conn)
    make_referencing(conn, "items")
    prepare_for_swap(conn)
    holder = connect(autocommit=False)
    holder.execute("INSERT INTO items VALUES (10, NULL)")
    tx = connect(autocommit=False)
    tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
    with pytest.raises(errors.LockNotAvailable):
        tx.execute("SELECT * FROM pgpart._gu_repoint_foreign_keys('ev', NULL, false, '10ms', 1)")
    tx.rollback()
    holder.rollback()
    assert fk_def(conn, "items_fk")[0] == "ev"


def test_detaching_a_referenced_partition_keeps_its_values(conn: Conn, connect: Connect) -> None:
    make_plain(conn)
    make_referencing(conn, "items")
    prepare_for_swap(conn)
    swap(connect(autocommit=False), repoint=True)
    conn.execute("ALTER TABLE ev DETACH PARTITION ev_legacy")
    # the release failed (23503, a WARNING): the values stay reserved
    assert one(conn, "SELECT count(*) FROM ev_id_gkey_values") == 100
    assert gu_findings(conn) == [("global_unique_detached", "ev_legacy")]
    fix = one(conn, "SELECT fix FROM pgpart.check() WHERE code = 'global_unique_detached'")
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(fix)
    conn.execute("DELETE FROM items")
    conn.execute(fix)
    assert one(conn, "SELECT count(*) FROM ev_id_gkey_values") == 0
    assert gu_findings(conn) == []


def test_partitioned_referencing_table(conn: Conn, connect: Connect) -> None:
    """PostgreSQL 18 takes a NOT VALID foreign key on a partitioned table;
    before 18 it is refused up front (a valid one would scan under lock)."""
    make_plain(conn)
    conn.execute(
        "CREATE TABLE lines (n int, at date NOT NULL, ev_id bigint CONSTRAINT lines_fk REFERENCES ev (id))"
        " PARTITION BY RANGE (at)"
    )
    conn.execute("CREATE TABLE lines_2026 PARTITION OF lines FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    conn.execute("INSERT INTO lines VALUES (1, '2026-03-01', 5)")
    prepare_for_swap(conn)
    if conn.info.server_version < 180000:
        with pytest.raises(errors.FeatureNotSupported) as exc:
            conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")
        assert "lines_fk" in exc.value.diag.message_primary
        return
    repointed = swap(connect(autocommit=False), repoint=True)
    assert repointed == [("lines_fk", "lines", "ALTER TABLE public.lines VALIDATE CONSTRAINT lines_fk")]
    # the clone on the partition follows
    assert (
        one(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'lines_fk' AND confrelid = 'ev'::regclass") == 0
    )
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute("INSERT INTO lines VALUES (2, '2026-03-01', 999999)")
    conn.execute(repointed[0][2])
    assert one(conn, "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname = 'lines_fk'") is True


def test_a_key_not_enforced_stays_so(conn: Conn, connect: Connect) -> None:
    if conn.info.server_version < 180000:
        pytest.skip("NOT ENFORCED foreign keys exist from PostgreSQL 18 on")
    make_plain(conn)
    conn.execute("CREATE TABLE loose (ev_id bigint CONSTRAINT loose_fk REFERENCES ev (id) NOT ENFORCED)")
    conn.execute("INSERT INTO loose VALUES (424242)")
    prepare_for_swap(conn)
    assert swap(connect(autocommit=False), repoint=True) == [("loose_fk", "loose", None)]
    assert fk_def(conn, "loose_fk") == (
        "ev_id_gkey_values",
        "FOREIGN KEY (ev_id) REFERENCES ev_id_gkey_values(id) NOT ENFORCED",
    )


def test_hostile_names(conn: Conn, connect: Connect) -> None:
    schema = 'S "q"; x'
    table = 'Ev "t" ,'
    legacy = "Ev legacy'"
    referencing = "Items; DROP"
    fk = 'fk "1'
    s = sql.Identifier(schema)
    q = sql.SQL("{}.{}").format
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
    conn.execute(
        sql.SQL("CREATE TABLE {} ({} bigint PRIMARY KEY, created timestamptz NOT NULL)").format(
            q(s, sql.Identifier(table)), sql.Identifier("I d")
        )
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 20) g"
        ).format(q(s, sql.Identifier(table)))
    )
    conn.execute(
        sql.SQL("CREATE TABLE {} (ref bigint CONSTRAINT {} REFERENCES {} ({}))").format(
            q(s, sql.Identifier(referencing)), sql.Identifier(fk), q(s, sql.Identifier(table)), sql.Identifier("I d")
        )
    )
    conn.execute(sql.SQL("INSERT INTO {} VALUES (7)").format(q(s, sql.Identifier(referencing))))
    old = conn.execute("SELECT format('%%I.%%I', %s::text, %s::text)", [schema, table]).fetchone()
    assert old is not None
    state = add(conn, old[0], ["I d"], build=False)
    conn.execute("CALL pgpart.build_global_unique(%s::regclass, %s)", [old[0], state[0]])
    assert one(conn, "SELECT pgpart._gu_plain_ready(%s::regclass)", [old[0]]) is True
    tx = connect(autocommit=False)
    tx.execute(sql.SQL("LOCK TABLE ONLY {} IN ACCESS EXCLUSIVE MODE").format(q(s, sql.Identifier(table))))
    tx.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(q(s, sql.Identifier(table)), sql.Identifier(legacy)))
    tx.execute(
        sql.SQL(
            "CREATE TABLE {} ({} bigint NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created)"
        ).format(q(s, sql.Identifier(table)), sql.Identifier("I d"))
    )
    names = [q(s, sql.Identifier(legacy)).as_string(tx), q(s, sql.Identifier(table)).as_string(tx)]
    assert one(tx, "SELECT pgpart._gu_rebind(%s::regclass, %s::regclass)", names) == 1
    tx.execute(
        "SELECT pgpart._gu_attach(%s::regclass, %s::regclass, 'FOR VALUES FROM (MINVALUE) TO (''2027-01-01'')')",
        [names[1], names[0]],
    )
    rows = tx.execute("SELECT fk, statement FROM pgpart._gu_repoint_foreign_keys(%s::regclass, %s::regclass)", names)
    ((name, statement),) = rows.fetchall()
    tx.commit()
    assert name == fk
    conn.execute(statement)
    with pytest.raises(errors.UniqueViolation):
        conn.execute(sql.SQL("INSERT INTO {} VALUES (3, '2026-01-05')").format(q(s, sql.Identifier(table))))
    with pytest.raises(errors.ForeignKeyViolation):
        conn.execute(sql.SQL("INSERT INTO {} VALUES (99)").format(q(s, sql.Identifier(referencing))))
    assert gu_findings(conn) == []


def test_writes_during_the_online_build_of_a_plain_table(conn: Conn, connect: Connect) -> None:
    """A writer inserting throughout the batched build: every value ends up
    in the side table exactly once."""
    make_plain(conn, rows=2000)
    add(conn, "ev", ["id"], build=False)
    writer = Writer(connect(), lambda: "2026-01-20 00:00+00", limit=100_000).start()
    writer.wait_for(5)
    conn.execute("CALL pgpart.build_global_unique('ev', 'ev_id_gkey', 2)")
    inserted = writer.finish()
    assert len(inserted) >= 5
    ids = sorted(r[0] for r in conn.execute("SELECT id FROM ev"))
    assert len(ids) == 2000 + len(inserted)
    assert sorted(r[0] for r in conn.execute("SELECT id FROM ev_id_gkey_values")) == ids
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]


def test_the_whole_path_as_the_table_owner(conn: Conn, owner_conn: Conn, connect: Connect) -> None:
    """Not a superuser: the owner builds, rebinds and repoints (row-level
    security on pgpart.global_unique admits the move to its own parent)."""
    owner_conn.execute("CREATE TABLE ev (id bigint PRIMARY KEY, created timestamptz NOT NULL)")
    owner_conn.execute(
        "INSERT INTO ev SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 50) g"
    )
    owner_conn.execute("CREATE TABLE items (ev_id bigint CONSTRAINT items_fk REFERENCES ev (id))")
    owner_conn.execute("INSERT INTO items VALUES (5)")
    add(owner_conn, "ev", ["id"], build=False)
    owner_conn.execute("CALL pgpart.build_global_unique('ev', 'ev_id_gkey')")
    owner_conn.execute(f"ALTER TABLE ev ADD CONSTRAINT ev_before CHECK (created < '{BOUNDARY}') NOT VALID")
    owner_conn.execute("ALTER TABLE ev VALIDATE CONSTRAINT ev_before")
    tx = connect("pgpart_owner", autocommit=False)
    tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
    tx.execute("ALTER TABLE ev RENAME TO ev_legacy")
    tx.execute("CREATE TABLE ev (id bigint NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created)")
    assert one(tx, "SELECT pgpart._gu_rebind('ev_legacy', 'ev')") == 1
    tx.execute(f"SELECT pgpart._gu_attach('ev', 'ev_legacy', 'FOR VALUES FROM (MINVALUE) TO (''{BOUNDARY}'')')")
    statements = [r[2] for r in tx.execute("SELECT * FROM pgpart._gu_repoint_foreign_keys('ev_legacy', 'ev')")]
    tx.commit()
    for statement in statements:
        owner_conn.execute(statement)
    with pytest.raises(errors.UniqueViolation):
        owner_conn.execute("INSERT INTO ev VALUES (5, '2026-01-03')")
    with pytest.raises(errors.ForeignKeyViolation):
        owner_conn.execute("INSERT INTO items VALUES (999)")
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]
    assert gu_findings(conn) == []


@pytest.mark.parametrize("rebind_first", [True, False], ids=["rebind-then-attach", "attach-then-rebind"])
def test_rebind_after_a_generic_copy_of_the_triggers(conn: Conn, connect: Connect, rebind_first: bool) -> None:
    """A conversion that copies every trigger of the old table to the new
    parent (pg_get_triggerdef, read before the rename) and drops them from
    the old table, before the rebind: the row triggers are kept, the copied
    TRUNCATE trigger leaves the parent, the old table is recorded again."""
    make_plain(conn)
    prepare_for_swap(conn)
    tx = connect(autocommit=False)
    tx.execute("LOCK TABLE ONLY ev IN ACCESS EXCLUSIVE MODE")
    defs = [
        (r[0], r[1])
        for r in tx.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'ev'::regclass AND NOT tgisinternal"
        )
    ]
    assert len(defs) == 4  # the insert, update and delete statement triggers, and TRUNCATE
    for name, _ in defs:
        tx.execute(sql.SQL("DROP TRIGGER {} ON ev").format(sql.Identifier(name)))
    tx.execute("ALTER TABLE ev RENAME TO ev_legacy")
    tx.execute(
        "CREATE TABLE ev (id bigint NOT NULL DEFAULT nextval('ev_ids'), created timestamptz NOT NULL,"
        " email text, payload text) PARTITION BY RANGE (created)"
    )
    for _, definition in defs:
        tx.execute(definition)
    attach = f"SELECT pgpart._gu_attach('ev', 'ev_legacy', 'FOR VALUES FROM (MINVALUE) TO (''{BOUNDARY}'')')"
    if not rebind_first:
        tx.execute(attach)
    assert one(tx, "SELECT pgpart._gu_rebind('ev_legacy', 'ev')") == 1
    if rebind_first:
        tx.execute(attach)
    tx.commit()
    assert triggers(conn, "ev") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_update", False),
    ]
    assert triggers(conn, "ev_legacy") == [
        ("pgpart_gu_N_delete", False),
        ("pgpart_gu_N_insert", False),
        ("pgpart_gu_N_truncate", False),
        ("pgpart_gu_N_update", False),
    ]
    assert info(conn, "ev") == [("ev_id_gkey", "valid", 1, 0, 0)]
    assert gu_findings(conn) == []
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev (id, created) VALUES (5, '2026-01-30')")


def test_a_referencing_table_of_another_owner_is_refused(conn: Conn, owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE ev (id bigint PRIMARY KEY, created timestamptz NOT NULL)")
    owner_conn.execute("INSERT INTO ev VALUES (1, '2026-01-02')")
    conn.execute("CREATE TABLE theirs (ev_id bigint CONSTRAINT theirs_fk REFERENCES ev (id))")
    conn.execute("ALTER TABLE theirs OWNER TO pgpart_other")
    add(owner_conn, "ev", ["id"])
    with pytest.raises(errors.InsufficientPrivilege) as exc:
        owner_conn.execute("SELECT * FROM pgpart._gu_foreign_key_plan('ev')")
    assert exc.value.diag.constraint_name == "theirs_fk"
    assert "pgpart_other" in (exc.value.diag.message_hint or "")
