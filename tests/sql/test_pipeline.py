"""One pipeline for the verbs (issue 13, item 2): pgpart._prepare runs every
check of a call once and returns a typed target (pgpart._target); planners
work from it; pgpart._apply takes the locks not yet held, runs the steps and
logs the plan's digest. Checked here on a real server:

- the target's fields for a RANGE, a LIST and a HASH parent;
- a refused call changes nothing (catalog, policy rows, log);
- each verb's dry run is the plan its real run logs (same digest, same
  number of steps), and a dry run changes nothing;
- following ``pgpart.ensure_range`` (what ``Client.ensure`` calls): the
  owner and lock arguments are checked once, the lock list is built once,
  the locks are taken once, the policy merged once, and a dry run plans once
  (counted with ``track_functions``, per transaction).
"""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest
from psycopg import errors

Conn = psycopg.Connection[Any]
NOW = "2026-03-10 12:00:00+00"


def range_parent(c: Conn, name: str = "ev", default: bool = False) -> None:
    c.execute(f"CREATE TABLE {name} (id bigint NOT NULL, ts timestamptz NOT NULL, note text) PARTITION BY RANGE (ts)")
    c.execute(f"CREATE INDEX {name}_note ON {name} (note)")
    if default:
        c.execute(f"CREATE TABLE {name}_default PARTITION OF {name} DEFAULT")


def list_parent(c: Conn, name: str = "reg") -> None:
    c.execute(f"CREATE TABLE {name} (region varchar(10), id bigint NOT NULL) PARTITION BY LIST (region)")


def hash_parent(c: Conn, name: str = "acct") -> None:
    c.execute(f"CREATE TABLE {name} (tenant bigint NOT NULL, id bigint NOT NULL) PARTITION BY HASH (tenant)")


def target(c: Conn, parent: str, strategy: str | None, **kw: Any) -> dict[str, Any]:
    args = "".join(f", {k} => %({k})s" for k in kw)
    cur = c.execute(
        "SELECT t.parent::text AS parent, t.schema_name, t.table_name, t.owner, t.strategy, t.key_column,"
        " t.key_type::text AS key_type, t.key_format, t.time_zone, (t.policy).parent::text AS policy_parent,"
        " (t.policy).partition_interval AS policy_interval, t.tablespace, t.target_tablespace,"
        " array(SELECT s.statement FROM unnest(t.lock_steps) AS s ORDER BY s.step) AS lock_statements,"
        " array(SELECT s.step FROM unnest(t.lock_steps) AS s ORDER BY s.step) AS lock_numbers,"
        " t.lock_timeout::text AS lock_timeout, t.lock_retries, t.now_at, t.locked"
        f" FROM pgpart._prepare(%(parent)s::regclass, %(strategy)s{args}) AS t",
        {"parent": parent, "strategy": strategy, **kw},
    )
    names = [d.name for d in cur.description or ()]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def lock_statements(c: Conn, parent: str) -> list[str]:
    return [r[0] for r in c.execute("SELECT statement FROM pgpart._lock_statements(%s::regclass)", (parent,))]


def test_target_of_a_range_parent(conn: Conn, owner_conn: Conn) -> None:
    range_parent(owner_conn, default=True)
    t = target(owner_conn, "ev", "range", p_lock_timeout="300ms", p_lock_retries=3, p_now_at=NOW)
    assert t["parent"] == "ev"
    assert (t["schema_name"], t["table_name"], t["owner"]) == ("public", "ev", "pgpart_owner")
    assert (t["strategy"], t["key_column"], t["key_type"], t["key_format"]) == (
        "range",
        "ts",
        "timestamp with time zone",
        "timestamp with time zone",
    )
    assert t["policy_parent"] is None  # not managed yet
    assert t["time_zone"] == "UTC"
    assert (t["tablespace"], t["target_tablespace"]) == (None, "pg_default")
    assert t["lock_statements"] == lock_statements(conn, "ev")
    assert t["lock_numbers"] == list(range(1, len(t["lock_statements"]) + 1))
    # the advisory lock, the parent, then the default partition (DESIGN §3)
    assert t["lock_statements"][0].startswith("SELECT pg_catalog.pg_advisory_xact_lock(")
    assert t["lock_statements"][1:] == [
        "LOCK TABLE ONLY public.ev IN SHARE UPDATE EXCLUSIVE MODE",
        "LOCK TABLE ONLY public.ev_default IN ACCESS EXCLUSIVE MODE",
    ]
    assert (t["lock_timeout"], t["lock_retries"], t["locked"]) == ("00:00:00.3", 3, False)
    assert t["now_at"].isoformat() == "2026-03-10T12:00:00+00:00"

    # once managed, the target carries the saved policy row
    owner_conn.execute("SELECT count(*) FROM pgpart.create_range_partitions('ev', '1 day', now_at => %s)", (NOW,))
    t = target(owner_conn, "ev", "range")
    assert (t["policy_parent"], t["policy_interval"]) == ("ev", "1 day")


def test_target_of_a_list_and_a_hash_parent(owner_conn: Conn) -> None:
    list_parent(owner_conn)
    hash_parent(owner_conn)
    t = target(owner_conn, "reg", "list")
    assert (t["strategy"], t["key_column"], t["key_type"], t["key_format"]) == (
        "list",
        "region",
        "character varying",
        "character varying(10)",
    )
    t = target(owner_conn, "acct", "hash", p_tablespace="pg_default")
    assert (t["strategy"], t["key_column"], t["key_type"]) == ("hash", "tenant", "bigint")
    assert (t["tablespace"], t["target_tablespace"]) == ("pg_default", "pg_default")
    assert [s.split(" IN ")[-1] for s in t["lock_statements"][1:]] == ["SHARE UPDATE EXCLUSIVE MODE"]
    # a verb that creates no partition (strategy NULL) takes the key from the policy
    owner_conn.execute("SELECT count(*) FROM pgpart.create_hash_partitions('acct', 2)")
    t = target(owner_conn, "acct", None)
    assert (t["strategy"], t["key_column"], t["tablespace"], t["target_tablespace"]) == ("hash", "tenant", None, None)


def test_prepare_with_lock_holds_the_target_locks(connect: Any, owner_conn: Conn) -> None:
    range_parent(owner_conn)
    with connect("pgpart_owner", autocommit=False) as c:
        t = target(c, "ev", "range", p_lock=True)
        assert t["locked"] is True
        held = c.execute(
            "SELECT l.locktype, coalesce(l.relation::regclass::text, ''), l.mode FROM pg_locks AS l"
            " WHERE l.pid = pg_backend_pid() AND l.granted AND (l.locktype = 'advisory' OR l.relation = 'ev'::regclass)"
            " ORDER BY 1"
        ).fetchall()
        assert held == [("advisory", "", "ExclusiveLock"), ("relation", "ev", "ShareUpdateExclusiveLock")]
        c.rollback()


def test_prepare_refuses_in_order(owner_conn: Conn, other_conn: Conn) -> None:
    range_parent(owner_conn)
    list_parent(owner_conn)
    with pytest.raises(errors.InsufficientPrivilege):  # 42501 before anything else
        target(other_conn, "ev", "range", p_lock_timeout="0")
    with pytest.raises(errors.InvalidParameterValue):
        target(owner_conn, "ev", "range", p_lock_timeout="2 hours")
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        target(owner_conn, "ev", "range", p_managed=True)
    with pytest.raises(errors.InvalidObjectDefinition):  # 42P17: not partitioned by LIST
        target(owner_conn, "ev", "list")
    with pytest.raises(errors.InvalidParameterValue):
        target(owner_conn, "ev", "range", p_tablespace="no_such_tablespace")
    owner_conn.execute("SELECT count(*) FROM pgpart.create_list_partitions('reg', '[\"de\"]'::jsonb)")
    assert target(owner_conn, "reg", "list")["policy_parent"] == "reg"
    owner_conn.execute("UPDATE pgpart.config SET strategy = 'hash' WHERE parent = 'reg'::regclass")
    with pytest.raises(errors.FeatureNotSupported):  # a policy of another strategy
        target(owner_conn, "reg", "list")


def snapshot(c: Conn) -> tuple[Any, ...]:
    """Everything a refused call could have changed."""
    tree = c.execute(
        "SELECT c.oid::regclass::text, coalesce(pg_get_expr(c.relpartbound, c.oid), ''), c.relowner::regrole::text,"
        " coalesce(t.spcname, '') FROM pg_class AS c LEFT JOIN pg_tablespace AS t ON t.oid = c.reltablespace"
        " JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1"
    ).fetchall()
    config = c.execute("SELECT to_jsonb(c) - 'updated_at' FROM pgpart.config AS c ORDER BY parent::text").fetchall()
    log = c.execute("SELECT count(*) FROM pgpart.log").fetchall()
    constraints = c.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        " ORDER BY 1, 2"
    ).fetchall()
    return tree, config, log, constraints


REFUSED = [
    # (who, statement, SQLSTATE class)
    (
        "other",
        "SELECT * FROM pgpart.create_range_partitions('ev', '1 day', now_at => %(now)s)",
        errors.InsufficientPrivilege,
    ),
    (
        "owner",
        "SELECT * FROM pgpart.create_range_partitions('ev', '1 day', lock_timeout => '0')",
        errors.InvalidParameterValue,
    ),
    (
        "owner",
        "SELECT * FROM pgpart.create_range_partitions('ev', '1 hour', now_at => %(now)s)",
        errors.FeatureNotSupported,
    ),  # another grid under existing partitions
    (
        "owner",
        "SELECT * FROM pgpart.ensure_range('ev', retention => 'forever', now_at => %(now)s)",
        errors.InvalidParameterValue,
    ),
    (
        "other",
        "SELECT * FROM pgpart.ensure_range('ev', retention => '30 days', now_at => %(now)s)",
        errors.InsufficientPrivilege,
    ),
    ("owner", "SELECT * FROM pgpart.create_list_partitions('ev', '[\"x\"]'::jsonb)", errors.InvalidObjectDefinition),
    (
        "owner",
        "SELECT * FROM pgpart.create_list_partitions('reg', '[\"it\", \"it\"]'::jsonb)",
        errors.InvalidObjectDefinition,
    ),
    ("owner", "SELECT * FROM pgpart.add_list_values('reg_de', '[\"fr\"]'::jsonb)", errors.InvalidObjectDefinition),
    ("other", "SELECT * FROM pgpart.add_list_values('reg_de', '[\"it\"]'::jsonb)", errors.InsufficientPrivilege),
    ("owner", "SELECT * FROM pgpart.create_hash_partitions('acct', 8)", errors.FeatureNotSupported),
    ("owner", "SELECT * FROM pgpart.create_hash_partitions('acct', 0)", errors.InvalidParameterValue),
    ("owner", "SELECT * FROM pgpart.create_hash_partitions('reg', 2)", errors.InvalidObjectDefinition),
    ("owner", "SELECT * FROM pgpart.set_tablespace('acct_h0', 'no_such_tablespace')", errors.InvalidParameterValue),
    ("other", "SELECT * FROM pgpart.set_tablespace('acct_h0', 'pg_default')", errors.InsufficientPrivilege),
    ("owner", "SELECT * FROM pgpart.set_policy('ev', premake => -1)", errors.InvalidParameterValue),
    ("owner", "SELECT * FROM pgpart.set_policy('acct', retention => '30 days')", errors.InvalidParameterValue),
    ("other", "SELECT * FROM pgpart.set_policy('ev', premake => 2)", errors.InsufficientPrivilege),
    ("owner", "SELECT * FROM pgpart.reconcile('ev', lock_retries => -1)", errors.InvalidParameterValue),
    ("other", "SELECT * FROM pgpart.reconcile('ev')", errors.InsufficientPrivilege),
    ("owner", "SELECT * FROM pgpart.move_default_range('acct')", errors.InvalidObjectDefinition),
    ("other", "SELECT * FROM pgpart.unmanage('ev')", errors.InsufficientPrivilege),
]


@pytest.mark.parametrize(("who", "statement", "error"), REFUSED, ids=[f"{i}" for i in range(len(REFUSED))])
def test_a_refused_call_changes_nothing(
    conn: Conn, owner_conn: Conn, other_conn: Conn, who: str, statement: str, error: type[Exception]
) -> None:
    range_parent(owner_conn)
    list_parent(owner_conn)
    hash_parent(owner_conn)
    owner_conn.execute("SELECT count(*) FROM pgpart.ensure_range('ev', '1 day', premake => 2, now_at => %s)", (NOW,))
    owner_conn.execute("SELECT count(*) FROM pgpart.create_list_partitions('reg', '[\"de\", \"fr\"]'::jsonb)")
    owner_conn.execute("SELECT count(*) FROM pgpart.create_hash_partitions('acct', 4)")
    before = snapshot(conn)
    with pytest.raises(error):
        (other_conn if who == "other" else owner_conn).execute(statement, {"now": NOW})
    assert snapshot(conn) == before
    # and no lock is left behind by either session
    assert conn.execute(
        "SELECT count(*) FROM pg_locks WHERE pid <> pg_backend_pid() AND (locktype = 'advisory' OR"
        " relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace))"
    ).fetchone() == (0,)


def digest(rows: list[Any]) -> str:
    return hashlib.md5("\n".join(r[5] for r in sorted(rows, key=lambda r: r[0])).encode()).hexdigest()


def last_log(c: Conn, action: str) -> Any:
    row = c.execute("SELECT detail FROM pgpart.log WHERE action = %s ORDER BY id DESC LIMIT 1", (action,)).fetchone()
    return None if row is None else row[0]


VERBS = [
    # (name, statement (dry_run as %(dry)s), logged action)
    (
        "create_range_partitions",
        "SELECT * FROM pgpart.create_range_partitions('ev', '1 day', premake => 3, now_at => %(now)s,"
        " default_partition => true, dry_run => %(dry)s)",
        "create_range_partitions",
    ),
    (
        "ensure_range",
        "SELECT * FROM pgpart.ensure_range('ev', '1 day', premake => 2, retention => '30 days', now_at => %(now)s,"
        " dry_run => %(dry)s)",
        "create_range_partitions",
    ),
    (
        "create_list_partitions jsonb",
        'SELECT * FROM pgpart.create_list_partitions(\'reg\', \'{"eu": ["de", "fr"], "us": "us"}\'::jsonb,'
        " default_partition => true, dry_run => %(dry)s)",
        "create_list_partitions",
    ),
    (
        "create_list_partitions text[]",
        "SELECT * FROM pgpart.create_list_partitions('reg', ARRAY['de', NULL], dry_run => %(dry)s)",
        "create_list_partitions",
    ),
    (
        "add_list_values",
        "SELECT * FROM pgpart.add_list_values('reg_it', '[\"es\", \"pt\"]'::jsonb, dry_run => %(dry)s)",
        "add_list_values",
    ),
    (
        "create_hash_partitions",
        "SELECT * FROM pgpart.create_hash_partitions('acct', 4, dry_run => %(dry)s)",
        "create_hash_partitions",
    ),
    (
        "set_tablespace",
        "SELECT * FROM pgpart.set_tablespace('acct_h1', 'pg_default', dry_run => %(dry)s)",
        "set_tablespace",
    ),
]


@pytest.mark.parametrize(("verb", "statement", "action"), VERBS, ids=[v[0] for v in VERBS])
def test_dry_run_is_the_plan_the_real_run_logs(
    conn: Conn, owner_conn: Conn, verb: str, statement: str, action: str
) -> None:
    range_parent(owner_conn)
    list_parent(owner_conn)
    hash_parent(owner_conn)
    if verb == "add_list_values":
        owner_conn.execute(
            "SELECT count(*) FROM pgpart.create_list_partitions('reg', '[\"it\"]'::jsonb, default_partition => true)"
        )
    if verb == "set_tablespace":
        owner_conn.execute("SELECT count(*) FROM pgpart.create_hash_partitions('acct', 2)")
    before = snapshot(conn)
    plan = owner_conn.execute(statement, {"now": NOW, "dry": True}).fetchall()
    assert snapshot(conn) == before, "a dry run changes nothing"
    assert [r[0] for r in plan] == list(range(1, len(plan) + 1))
    assert any(r[4] == "lock" for r in plan)
    ran = [r for r in plan if r[4] != "set policy"]  # ensure_range writes the policy itself, after the plan

    owner_conn.execute(statement, {"now": NOW, "dry": False}).fetchall()
    detail = last_log(conn, action)
    assert detail is not None
    assert (detail["steps"], detail["plan_md5"]) == (len(ran), digest(ran))
    if verb == "ensure_range":
        assert plan[-1][4] == "set policy"
        assert last_log(conn, "set_policy")["new"]["retention"] == "30 days"
    # a second dry run: what the first real run did is not planned again
    again = owner_conn.execute(statement, {"now": NOW, "dry": True}).fetchall()
    assert not any(r[4] == "attach" for r in again) or verb == "set_tablespace"


CALLS = [
    "_require_owner",
    "_check_lock_args",
    "_lock_statements",
    "_acquire_locks",
    "_validated_policy",
    "_plan_range",
    "_prepare",
    "_write_policy_change",
    "ensure_range",
]


def calls_so_far(conn: Conn) -> dict[str, int]:
    rows = conn.execute(
        "SELECT p.proname::text, coalesce(sum(pg_stat_get_xact_function_calls(p.oid)), 0)::integer"
        " FROM pg_proc AS p WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proname = ANY (%s)"
        " GROUP BY p.proname",
        (CALLS,),
    ).fetchall()
    return {str(name): int(n) for name, n in rows}


def counted(conn: Conn, statement: str, params: dict[str, Any]) -> dict[str, int]:
    """How often each pgpart function ran during STATEMENT (as role
    pgpart_owner): the difference of the backend's function counters
    around it, in one transaction (counters of earlier transactions may not
    be flushed yet, so only the difference counts)."""
    with conn.transaction():
        conn.execute("SET LOCAL track_functions = 'all'")
        conn.execute("SET LOCAL ROLE pgpart_owner")
        before = calls_so_far(conn)
        conn.execute(statement, params).fetchall()
        after = calls_so_far(conn)
        conn.execute("RESET ROLE")
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in CALLS}
    assert calls.pop("ensure_range") == 1
    return calls


def test_ensure_range_does_each_thing_once(conn: Conn, owner_conn: Conn) -> None:
    range_parent(owner_conn, default=True)
    statement = (
        "SELECT * FROM pgpart.ensure_range('ev', '1 day', premake => 2, retention => '30 days',"
        " now_at => %(now)s, dry_run => %(dry)s)"
    )
    dry = counted(conn, statement, {"now": NOW, "dry": True})
    assert (dry["_prepare"], dry["_require_owner"], dry["_check_lock_args"], dry["_lock_statements"]) == (1, 1, 1, 1)
    assert (dry["_plan_range"], dry["_validated_policy"], dry["_acquire_locks"]) == (1, 1, 0)
    assert dry["_write_policy_change"] == 0
    real = counted(conn, statement, {"now": NOW, "dry": False})
    assert (real["_prepare"], real["_require_owner"], real["_check_lock_args"], real["_lock_statements"]) == (
        1,
        1,
        1,
        1,
    )
    assert (real["_plan_range"], real["_validated_policy"], real["_write_policy_change"]) == (1, 1, 1)
    assert real["_acquire_locks"] == 1  # the target's locks, before the plan; _apply takes none again
    assert conn.execute("SELECT retention FROM pgpart.config WHERE parent = 'ev'::regclass").fetchone() == ("30 days",)


def test_a_maintainer_may_prepare_what_it_does_not_own(conn: Conn, owner_conn: Conn, other_conn: Conn) -> None:
    range_parent(owner_conn)
    owner_conn.execute("SELECT count(*) FROM pgpart.create_range_partitions('ev', '1 day', now_at => %s)", (NOW,))
    t = target(conn, "ev", "range", p_maintainer=True)  # maintenance may act on it (pgpart._may_maintain)
    assert (t["owner"], t["policy_parent"]) == ("pgpart_owner", "ev")
    with pytest.raises(errors.InsufficientPrivilege):
        target(other_conn, "ev", "range", p_maintainer=True)
