"""Global unique constraints kept by statement triggers with transition
tables (docs/global-unique.md "How it works", "Semantics"): every way a
statement can write rows is recorded once, whichever table of the tree it
names (the parent, a leaf, a sub-partitioned table), set-based at the end of
the statement."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors

Conn = psycopg.Connection[Any]


def make_tree(conn: Conn, nulls_not_distinct: bool = False) -> None:
    """ev by day; its third day is itself partitioned by tenant (a
    sub-partitioned table with two leaves); a global unique email."""
    conn.execute(
        "CREATE TABLE ev (id bigint, created timestamptz NOT NULL, email text,"
        " tenant int NOT NULL DEFAULT 1, payload text) PARTITION BY RANGE (created)"
    )
    conn.execute("CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2026-01-02')")
    conn.execute("CREATE TABLE ev_2 PARTITION OF ev FOR VALUES FROM ('2026-01-02') TO ('2026-01-03')")
    conn.execute(
        "CREATE TABLE ev_3 PARTITION OF ev FOR VALUES FROM ('2026-01-03') TO ('2026-01-04') PARTITION BY LIST (tenant)"
    )
    conn.execute("CREATE TABLE ev_3a PARTITION OF ev_3 FOR VALUES IN (1)")
    conn.execute("CREATE TABLE ev_3b PARTITION OF ev_3 FOR VALUES IN (2)")
    conn.execute(
        "SELECT count(*) FROM pgpart.add_global_unique('ev', '{email}', nulls_not_distinct => %s)",
        [nulls_not_distinct],
    )


def copy_rows(conn: Conn, rows: list[tuple[str, str]]) -> None:
    with conn.cursor() as cur, cur.copy("COPY ev (created, email) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def side(conn: Conn) -> list[Any]:
    return [r[0] for r in conn.execute("SELECT email FROM ev_email_gkey_values ORDER BY email NULLS FIRST")]


def test_every_table_of_the_tree_records_what_is_written_through_it(conn: Conn) -> None:
    make_tree(conn)
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', 'a')")
    conn.execute("INSERT INTO ev_2 (created, email) VALUES ('2026-01-02 10:00+00', 'b')")
    conn.execute("INSERT INTO ev_3 (created, email, tenant) VALUES ('2026-01-03 10:00+00', 'c', 2)")
    conn.execute("INSERT INTO ev_3a (created, email) VALUES ('2026-01-03 11:00+00', 'd')")
    assert side(conn) == ["a", "b", "c", "d"]
    for table, day, tenant in (("ev", "01", 1), ("ev_1", "01", 1), ("ev_3", "03", 2), ("ev_3b", "03", 2)):
        with pytest.raises(errors.UniqueViolation) as exc:
            conn.execute(
                f"INSERT INTO {table} (created, email, tenant) VALUES ('2026-01-{day} 12:00+00', 'b', %s)", [tenant]
            )
        assert exc.value.diag.constraint_name == "ev_email_gkey"
        assert "(email)=(b)" in (exc.value.diag.message_detail or "")
    conn.execute("DELETE FROM ev_3 WHERE email = 'c'")
    conn.execute("UPDATE ev_1 SET email = 'a2' WHERE email = 'a'")
    conn.execute("DELETE FROM ev_3a")
    assert side(conn) == ["a2", "b"]


def test_copy_and_insert_select_record_every_row_once(conn: Conn) -> None:
    make_tree(conn)
    copy_rows(conn, [(f"2026-01-0{1 + i % 3} 10:00+00", f"v{i}") for i in range(1000)])
    assert len(side(conn)) == 1000
    with pytest.raises(errors.UniqueViolation):
        copy_rows(conn, [("2026-01-02 10:00+00", "new"), ("2026-01-01 10:00+00", "v500")])
    # a statement duplicating a value within itself
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', 'x'), ('2026-01-02 10:00+00', 'x')"
        )
    conn.execute("INSERT INTO ev (created, email) SELECT '2026-01-02 11:00+00', 'w' || g FROM generate_series(1, 50) g")
    assert len(side(conn)) == 1050
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (1050,)


def test_values_are_checked_as_a_set_at_the_end_of_the_statement(conn: Conn) -> None:
    make_tree(conn)
    conn.execute(
        "INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', 'a'), ('2026-01-02 10:00+00', 'b'),"
        " ('2026-01-03 10:00+00', 'c')"
    )
    conn.execute("UPDATE ev SET email = CASE email WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE email END")  # a swap
    assert conn.execute("SELECT email FROM ev ORDER BY created").fetchall() == [("b",), ("a",), ("c",)]
    assert side(conn) == ["a", "b", "c"]
    with pytest.raises(errors.UniqueViolation):
        conn.execute("UPDATE ev SET email = 'same' WHERE email IN ('a', 'b')")
    conn.execute("UPDATE ev SET payload = 'p'")  # other columns: nothing changes
    assert side(conn) == ["a", "b", "c"]


def test_row_movement_leaves_the_entry_untouched_even_for_a_cascading_foreign_key(conn: Conn) -> None:
    make_tree(conn)
    conn.execute("CREATE TABLE orders (email text REFERENCES ev_email_gkey_values (email) ON DELETE CASCADE)")
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', 'a'), ('2026-01-01 11:00+00', 'm')")
    conn.execute("INSERT INTO orders VALUES ('a'), ('m')")
    # across partitions, into the sub-partitioned one, and with the value changed on the way
    conn.execute("UPDATE ev SET created = '2026-01-03 10:00+00', tenant = 2 WHERE email = 'a'")
    assert conn.execute("SELECT tableoid::regclass::text FROM ev WHERE email = 'a'").fetchone() == ("ev_3b",)
    assert conn.execute("SELECT email FROM orders ORDER BY 1").fetchall() == [("a",), ("m",)]
    conn.execute("UPDATE ev SET created = '2026-01-02 10:00+00', email = 'n' WHERE email = 'm'")
    assert side(conn) == ["a", "n"]
    assert conn.execute("SELECT email FROM orders ORDER BY 1").fetchall() == [("a",)]  # 'm' released: cascaded


def test_nulls_not_distinct_through_update_and_delete(conn: Conn) -> None:
    make_tree(conn, nulls_not_distinct=True)
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', NULL), ('2026-01-02 10:00+00', 'b')")
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev_3a (created, email) VALUES ('2026-01-03 10:00+00', NULL)")
    conn.execute("UPDATE ev SET email = CASE WHEN email IS NULL THEN 'b' ELSE NULL END")  # swap with a NULL
    assert side(conn) == [None, "b"]
    conn.execute("UPDATE ev SET email = 'z' WHERE email IS NULL")
    assert side(conn) == ["b", "z"]
    conn.execute("UPDATE ev SET email = NULL WHERE email = 'z'")
    conn.execute("DELETE FROM ev WHERE email IS NULL")
    assert side(conn) == ["b"]
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-02 11:00+00', NULL)")
    assert side(conn) == [None, "b"]


def test_merge_and_on_conflict_are_recorded(conn: Conn) -> None:
    make_tree(conn)
    conn.execute("ALTER TABLE ev_1 ADD PRIMARY KEY (id)")
    conn.execute("INSERT INTO ev_1 (id, created, email) VALUES (1, '2026-01-01 10:00+00', 'a')")
    conn.execute(
        "INSERT INTO ev_1 (id, created, email) VALUES (1, '2026-01-01 10:00+00', 'a2')"
        " ON CONFLICT (id) DO UPDATE SET email = excluded.email"
    )
    assert side(conn) == ["a2"]
    conn.execute(
        "MERGE INTO ev USING (VALUES (1, 'a3'), (2, 'b')) AS v (id, email) ON ev.id = v.id"
        " WHEN MATCHED THEN UPDATE SET email = v.email"
        " WHEN NOT MATCHED THEN INSERT (id, created, email) VALUES (v.id, '2026-01-02 10:00+00', v.email)"
    )
    assert side(conn) == ["a3", "b"]


def test_a_row_trigger_calling_the_function_is_refused(conn: Conn) -> None:
    make_tree(conn)
    gu_id = conn.execute("SELECT id FROM pgpart.global_unique").fetchone()
    assert gu_id is not None
    conn.execute(f"CREATE TRIGGER t AFTER INSERT ON ev_2 FOR EACH ROW EXECUTE FUNCTION pgpart._gu_row('{gu_id[0]}')")
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match="for each row"):
        conn.execute("INSERT INTO ev_2 (created, email) VALUES ('2026-01-02 10:00+00', 'a')")


def test_a_sub_partitioned_table_attached_later_gets_its_triggers(conn: Conn) -> None:
    make_tree(conn)
    conn.execute("CREATE TABLE ev_4 (LIKE ev INCLUDING DEFAULTS) PARTITION BY LIST (tenant)")
    conn.execute("CREATE TABLE ev_4a PARTITION OF ev_4 FOR VALUES IN (1)")
    conn.execute("INSERT INTO ev_4 (id, created, email) VALUES (40, '2026-01-04 10:00+00', 'd')")
    conn.execute("ALTER TABLE ev ATTACH PARTITION ev_4 FOR VALUES FROM ('2026-01-04') TO ('2026-01-05')")
    assert side(conn) == ["d"]
    with pytest.raises(errors.UniqueViolation):
        conn.execute("INSERT INTO ev_4 (id, created, email) VALUES (41, '2026-01-04 11:00+00', 'd')")
    conn.execute("ALTER TABLE ev DETACH PARTITION ev_4")
    assert side(conn) == []
    assert conn.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('ev_4'::regclass, 'ev_4a'::regclass)"
        " AND tgname LIKE 'pgpart_gu%'"
    ).fetchone() == (0,)
    assert conn.execute("SELECT code FROM pgpart.check() WHERE code::text LIKE 'global_unique%'").fetchall() == []


def test_a_trigger_naming_no_constraint_is_refused(conn: Conn) -> None:
    make_tree(conn)
    conn.execute(
        "CREATE TRIGGER t AFTER INSERT ON ev_2 REFERENCING NEW TABLE AS pgpart_new FOR EACH STATEMENT"
        " EXECUTE FUNCTION pgpart._gu_row('1')"
    )
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match="does not serve table"):
        conn.execute("INSERT INTO ev_2 (created, email) VALUES ('2026-01-02 10:00+00', 'a')")


def test_a_writer_allowed_to_update_other_columns_only_needs_no_right_on_the_side_table(
    conn: Conn, other_conn: Conn
) -> None:
    make_tree(conn)
    conn.execute("INSERT INTO ev (created, email) VALUES ('2026-01-01 10:00+00', 'a'), ('2026-01-02 10:00+00', 'b')")
    conn.execute("GRANT SELECT, UPDATE (payload, created, tenant) ON ev TO pgpart_other")
    assert conn.execute("SELECT code FROM pgpart.check() WHERE code::text LIKE 'global_unique%'").fetchall() == []
    other_conn.execute("UPDATE ev SET payload = 'p'")
    other_conn.execute("UPDATE ev SET created = '2026-01-02 12:00+00' WHERE email = 'a'")  # a move
    assert conn.execute("SELECT count(*) FROM ev_2 WHERE payload = 'p'").fetchone() == (2,)
    assert side(conn) == ["a", "b"]
