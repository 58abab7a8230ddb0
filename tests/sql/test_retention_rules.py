"""Retention beyond age (issue 21, item 1): by total size and row count
(the oldest partitions expire first until the rest fits; combinable with
age, a partition goes if ANY rule expires it; never the partition holding
now or a later one; the default partition never counts), a grace period in
which expired partitions stay detached before their drop or archive, and
pgpart.reattach_partition, which brings one back during that period.
Every rule shows in dry-run plans with its reason, and in check().

A grace period passes in real time since the journaled detach (pgpart.log);
the tests move a detach into the past by rewriting its logged_at, so the
wall clock decides nothing."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from fix_pg import Connect

Conn = psycopg.Connection[Any]

NOW = "2024-03-10 12:00:00+00"
# the partitions of 10 to 19 March exist; 19 March holds LATER
LATER = "2024-03-19 12:00:00+00"
ROWS_PER_DAY = 24


def make_daily(conn: Conn, **policy: Any) -> None:
    """ev: daily partitions of 10 to 21 March, 24 rows in each of 10 to 19
    March (ANALYZEd: retention counts rows by the planner's count), then the
    policy."""
    conn.execute("CREATE TABLE ev (ts timestamptz NOT NULL, payload text) PARTITION BY RANGE (ts)")
    conn.execute(
        "SELECT pgpart.create_range_partitions('ev', '1 day', start => '2024-03-10', premake => 2, now_at => %s)",
        [LATER],
    )
    conn.execute(
        "INSERT INTO ev SELECT %s::timestamptz + i * interval '1 hour', repeat('x', 200)"
        " FROM generate_series(0, 10 * 24 - 1) AS i",
        ["2024-03-10 00:00:00+00"],
    )
    conn.execute("ANALYZE ev")
    set_policy(conn, **policy)


def set_policy(conn: Conn, table: str = "ev", **policy: Any) -> dict[str, Any]:
    names = list(policy)
    args = ", ".join(f"{n} => %s" for n in names)
    cur = conn.execute(
        f"SELECT retention, retention_action, retention_max_bytes, retention_max_rows, retention_grace"
        f" FROM pgpart.set_policy(%s{', ' if args else ''}{args})",
        [table, *policy.values()],
    )
    row = cur.fetchone()
    assert row is not None
    return dict(zip(("retention", "action", "max_bytes", "max_rows", "grace"), row, strict=True))


def attached(conn: Conn, table: str = "ev") -> list[str]:
    rows = conn.execute(
        "SELECT c.relname::text FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass ORDER BY 1",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def exists(conn: Conn, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def expiry(conn: Conn, now_at: str = LATER) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT partition::text, reason FROM pgpart._expiry('ev', %s, '1s') ORDER BY lower_coord", [now_at]
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def retention(conn: Conn, now_at: str = LATER) -> None:
    conn.execute("CALL pgpart.detach_and_archive_proc('ev', now_at => %s)", [now_at])


def dry_run(conn: Conn, now_at: str = LATER) -> list[tuple[str, str | None, str | None]]:
    """The retention rows of run_maintenance's dry run: (action, partition, detail)."""
    rows = conn.execute(
        "SELECT action, partition, detail FROM pgpart.run_maintenance('ev', now_at => %s, dry_run => true)"
        " WHERE action IN ('journal', 'detach', 'drop', 'archive') ORDER BY step",
        [now_at],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def pass_grace(conn: Conn, days: int) -> None:
    """Every journaled detach of ev happened DAYS days earlier than logged."""
    conn.execute(
        "UPDATE pgpart.log SET logged_at = logged_at - make_interval(days => %s)"
        " WHERE parent = 'ev'::regclass AND action = 'detach'",
        [days],
    )


def findings(conn: Conn, code: str, now_at: str = LATER) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT partition::text, problem FROM pgpart.check('ev', %s) WHERE code = %s ORDER BY 1", [now_at, code]
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def day(d: int) -> str:
    return f"ev_p202403{d:02d}"


# --- size and rows ------------------------------------------------------------------------------


def test_rows_expire_the_oldest_until_the_rest_fits(conn: Conn) -> None:
    # 10 days of 24 rows; at most 100 rows: 10 + 11 + ... would leave 240, 216, ... 96
    make_daily(conn, retention_max_rows=100, retention_action="drop")
    got = expiry(conn)
    assert [p for p, _ in got] == [day(d) for d in range(10, 16)]
    assert all(r.startswith("rows: ") and "retention_max_rows 100" in r for _, r in got)
    retention(conn)
    assert attached(conn) == [day(d) for d in range(16, 22)]
    assert conn.execute("SELECT count(*) FROM ev").fetchone() == (96,)
    assert expiry(conn) == []


def test_size_expires_the_oldest_until_the_rest_fits(conn: Conn) -> None:
    make_daily(conn)
    sizes = dict(
        conn.execute(
            "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_inherits AS i"
            " JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'ev'::regclass"
        ).fetchall()
    )
    total = sum(sizes.values())
    # room for everything but the three oldest partitions, plus one byte
    limit = total - sum(sizes[day(d)] for d in (10, 11, 12)) + 1
    set_policy(conn, retention_max_bytes=limit, retention_action="drop")
    got = expiry(conn)
    assert [p for p, _ in got] == [day(d) for d in (10, 11, 12)]
    assert all(r.startswith("size: ") and "retention_max_bytes" in r for _, r in got)
    details = dry_run(conn)
    assert [(a, p) for a, p, _ in details] == [
        (action, f"public.{day(d)}") for d in (10, 11, 12) for action in ("detach", "drop")
    ]
    assert all(d is not None and d.startswith("size: ") for _, _, d in details)
    retention(conn)
    assert attached(conn) == [day(d) for d in range(13, 22)]


def test_any_rule_expires_a_partition(conn: Conn) -> None:
    # age alone: 10 to 15 March (ending by 16 March 12:00); rows alone: 10 to 11 March
    make_daily(conn, retention="3 days", retention_max_rows=200)
    got = dict(expiry(conn))
    assert list(got) == [day(d) for d in range(10, 16)]
    assert all(r.startswith("age: older than 3 days") for r in got.values())
    # age no longer expires anything: the row rule still does, from the oldest
    set_policy(conn, retention="30 days", retention_max_rows=200)
    assert [(p, r.split(":")[0]) for p, r in expiry(conn)] == [(day(10), "rows"), (day(11), "rows")]


def test_never_the_partition_holding_now_or_later_nor_the_default(conn: Conn) -> None:
    make_daily(conn, retention_max_rows=1)
    conn.execute("CREATE TABLE ev_default PARTITION OF ev DEFAULT")
    conn.execute("INSERT INTO ev_default SELECT '2030-01-01'::timestamptz FROM generate_series(1, 1000)")
    conn.execute("ANALYZE ev_default")
    # everything before the partition of 19 March (which holds LATER) goes;
    # the default's 1,000 rows neither count nor expire
    assert [p for p, _ in expiry(conn)] == [day(d) for d in range(10, 19)]
    # a now_at in the middle: the partitions from its day on stay whatever their rows
    assert [p for p, _ in expiry(conn, "2024-03-14 12:00:00+00")] == [day(d) for d in range(10, 14)]
    set_policy(conn, retention_max_rows=0)  # 0 clears the rule
    assert expiry(conn) == []


def test_integer_key_by_rows(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id bigint NOT NULL) PARTITION BY RANGE (id)")
    conn.execute("SELECT pgpart.create_range_partitions('ev', '100', start => '0', premake => 5)")
    conn.execute("INSERT INTO ev SELECT generate_series(0, 449)")
    conn.execute("ANALYZE ev")
    set_policy(conn, retention_max_rows=250, retention_action="drop")
    # 0-99, 100-199 go (450 -> 250 rows); 400-499 holds the highest key and stays
    assert [p for p, _ in expiry(conn)] == ["ev_p0", "ev_p100"]


def test_rules_are_validated(conn: Conn) -> None:
    make_daily(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="retention_max_bytes -1"):
        set_policy(conn, retention_max_bytes=-1)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="retention_grace"):
        set_policy(conn, retention_grace="-1 day")
    policy = set_policy(conn, retention_max_bytes=10**9, retention_max_rows=10**6, retention_grace="7 days")
    assert (policy["max_bytes"], policy["max_rows"], str(policy["grace"])) == (10**9, 10**6, "7 days, 0:00:00")
    policy = set_policy(conn, retention_max_bytes=0, retention_grace="0")
    assert (policy["max_bytes"], policy["max_rows"], policy["grace"]) == (None, 10**6, None)
    conn.execute("CREATE TABLE lv (k text NOT NULL) PARTITION BY LIST (k)")
    conn.execute("""SELECT pgpart.create_list_partitions('lv', '["a"]'::jsonb)""")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="LIST partitions"):
        set_policy(conn, "lv", retention_max_rows=5)


# --- grace period and reattach ------------------------------------------------------------------


def test_grace_keeps_expired_partitions_detached_then_drops_them(conn: Conn) -> None:
    make_daily(conn, retention="7 days", retention_action="drop", retention_grace="3 days")
    # 10 and 11 March expire: detached at once, not dropped
    plan = dry_run(conn)
    assert [(a, p) for a, p, _ in plan] == [("detach", f"public.{day(10)}"), ("detach", f"public.{day(11)}")]
    assert all(d is not None and d.startswith("age: older than 7 days") for _, _, d in plan)
    retention(conn)
    assert attached(conn) == [day(d) for d in range(12, 22)]
    assert exists(conn, f"public.{day(10)}")
    assert exists(conn, f"public.{day(11)}")
    assert conn.execute(f"SELECT count(*) FROM {day(10)}").fetchone() == (24,)  # readable by name
    waiting = findings(conn, "retention_grace")
    assert [p for p, _ in waiting] == [day(10), day(11)]
    assert "reattach_partition" in waiting[0][1]
    assert findings(conn, "detached_awaiting") == []
    retention(conn)  # nothing due yet
    assert exists(conn, f"public.{day(10)}")
    assert dry_run(conn) == []
    # two days later: still in grace; four days later: due, dropped
    pass_grace(conn, 2)
    assert dry_run(conn) == []
    pass_grace(conn, 2)
    plan = dry_run(conn)
    assert [(a, p) for a, p, _ in plan] == [("drop", f"public.{day(10)}"), ("drop", f"public.{day(11)}")]
    assert all(d is not None and d.startswith("grace period over since") for _, _, d in plan)
    assert [p for p, _ in findings(conn, "detached_awaiting")] == [day(10), day(11)]
    retention(conn)
    assert not exists(conn, f"public.{day(10)}")
    assert not exists(conn, f"public.{day(11)}")
    assert findings(conn, "retention_grace") == []
    assert findings(conn, "detached_awaiting") == []


def test_grace_due_parent_is_maintained(conn: Conn) -> None:
    """maintenance of every parent (pgpart._due_parents) skips a parent whose
    detached tables are in grace, and comes back once one is due."""
    make_daily(conn, retention="7 days", retention_action="drop", retention_grace="3 days")
    retention(conn)
    due = conn.execute("SELECT reasons FROM pgpart._due_parents(%s) WHERE parent = 'ev'::regclass", [LATER]).fetchall()
    assert all("journal" not in r[0] for r in due)
    pass_grace(conn, 4)
    due = conn.execute("SELECT reasons FROM pgpart._due_parents(%s) WHERE parent = 'ev'::regclass", [LATER]).fetchall()
    assert due
    assert "journal" in due[0][0]
    conn.execute("CALL pgpart.run_maintenance_proc(now_at => %s)", [LATER])
    assert not exists(conn, f"public.{day(10)}")


def test_reattach_in_grace(conn: Conn) -> None:
    make_daily(conn, retention_max_rows=200, retention_action="drop", retention_grace="3 days")
    retention(conn)
    assert attached(conn)[0] == day(12)
    steps = conn.execute(
        "SELECT action, statement FROM pgpart.reattach_partition('ev', %s, dry_run => true)", [day(11)]
    ).fetchall()
    assert [s[0] for s in steps] == ["check", "attach", "drop check", "journal"]
    assert "ATTACH PARTITION public.ev_p20240311 FOR VALUES FROM ('2024-03-11" in steps[1][1]
    assert attached(conn)[0] == day(12)  # the dry run changed nothing
    # still expired by the row rule: it says the next run detaches it again
    conn.execute("SELECT pgpart.set_policy('ev', retention_max_rows => 1000)")
    done = conn.execute("SELECT action FROM pgpart.reattach_partition('ev', %s)", [day(11)]).fetchall()
    assert [d[0] for d in done] == ["check", "attach", "drop check", "journal"]
    assert attached(conn)[:2] == [day(11), day(12)]
    assert conn.execute("SELECT count(*) FROM ev WHERE ts < '2024-03-12'").fetchone() == (24,)
    # the check constraint is gone again; the bound is the old one
    assert conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'", [day(11)]
    ).fetchone() == (0,)
    at_old_bounds = conn.execute(
        "SELECT p.lower_coord = extract(epoch FROM '2024-03-11+00'::timestamptz)"
        " AND p.upper_coord = extract(epoch FROM '2024-03-12+00'::timestamptz)"
        " FROM pgpart._partitions('ev') AS p WHERE p.partition = 'ev_p20240311'::regclass"
    ).fetchone()
    assert at_old_bounds == (True,)
    # its journal entry is closed: once the grace period is over only ev_p20240310 is dropped
    pass_grace(conn, 4)
    assert [p for p, _ in findings(conn, "detached_awaiting")] == [day(10)]
    retention(conn)
    assert not exists(conn, f"public.{day(10)}")
    assert attached(conn)[0] == day(11)
    # reattached once: not again
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="not waiting as a partition detached"):
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(11)])


def test_reattach_warns_when_the_policy_still_expires_it(conn: Conn) -> None:
    make_daily(conn, retention_max_rows=200, retention_action="drop", retention_grace="3 days")
    retention(conn)
    warnings: list[str] = []
    conn.add_notice_handler(lambda d: warnings.append(d.message_primary or ""))
    conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(10)])
    assert any("is expired under the retention policy" in w for w in warnings)


def test_reattach_refusals(conn: Conn, connect: Connect) -> None:
    make_daily(conn, retention="7 days", retention_action="drop", retention_grace="3 days")
    # a partition retention never detached
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="not waiting as a partition detached"):
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(15)])
    retention(conn)
    # renamed since: not the table retention detached
    conn.execute(f"ALTER TABLE {day(10)} RENAME TO elsewhere")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="no longer the table"):
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', 'elsewhere')")
    # its range taken by a new partition
    conn.execute(
        "CREATE TABLE squatter PARTITION OF ev FOR VALUES FROM ('2024-03-11 06:00+00') TO ('2024-03-11 07:00+00')"
    )
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="squatter now covers part of its range"):
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(11)])
    # rows outside the bounds (added by name while detached): the CHECK refuses, nothing attached
    conn.execute("DROP TABLE squatter")
    conn.execute(f"INSERT INTO {day(11)} VALUES ('2024-03-15 00:00+00', 'stray')")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(11)])
    assert day(11) not in attached(conn)
    # not the owner of the parent
    conn.execute(f"DELETE FROM {day(11)} WHERE payload = 'stray'")
    other = connect("pgpart_other")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        other.execute("SELECT * FROM pgpart.reattach_partition('ev', %s)", [day(11)])


def test_reattach_under_a_concurrent_writer(connect: Connect) -> None:
    """A writer inserting into the current partition with lock_timeout 1s
    throughout retention (size rule, grace) and a reattach: no insert fails."""
    conn = connect()
    make_daily(conn, retention_max_rows=150, retention_action="drop", retention_grace="3 days")
    writer = connect()
    writer.execute("SET lock_timeout = '1s'")
    stop = threading.Event()
    started = threading.Event()
    errors: list[BaseException] = []
    inserted = [0]

    def write() -> None:
        try:
            while not stop.is_set():
                writer.execute("INSERT INTO ev VALUES ('2024-03-19 13:00+00', 'w')")
                inserted[0] += 1
                started.set()
        except BaseException as e:
            errors.append(e)
            started.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(60)
        retention(conn)
        conn.execute("SELECT pgpart.set_policy('ev', retention_max_rows => 100000)")
        conn.execute("SELECT * FROM pgpart.reattach_partition('ev', %s, lock_timeout => '100ms')", [day(12)])
        pass_grace(conn, 4)
        retention(conn)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert conn.execute("SELECT count(*) FROM ev WHERE payload = 'w'").fetchone() == (inserted[0],)
    assert attached(conn)[0] == day(12)
    assert not exists(conn, f"public.{day(10)}")


def test_reattach_an_integer_range(conn: Conn) -> None:
    conn.execute("CREATE TABLE ev (id bigint NOT NULL) PARTITION BY RANGE (id)")
    conn.execute("SELECT pgpart.create_range_partitions('ev', '100', start => '0', premake => 5)")
    conn.execute("INSERT INTO ev SELECT generate_series(0, 449)")
    conn.execute("ANALYZE ev")
    set_policy(conn, retention_max_rows=250, retention_action="drop", retention_grace="1 day")
    retention(conn)
    assert attached(conn)[:2] == ["ev_p200", "ev_p300"]
    set_policy(conn, retention_max_rows=0)
    steps = conn.execute("SELECT action, statement FROM pgpart.reattach_partition('ev', 'ev_p100')").fetchall()
    assert "FOR VALUES FROM ('100') TO ('200')" in steps[1][1]
    assert conn.execute("SELECT count(*), min(id), max(id) FROM ev WHERE id < 200").fetchone() == (100, 100, 199)
