"""Writers are never stalled by maintenance or retention (DESIGN §3): one
session inserts continuously with lock_timeout = '1s' (so a stall shows as
55P03, not as a timing) while another runs the procedure forms in a loop,
advancing now_at. No insert fails and every row is found at the end, in the
parent or in the archived tables. Nothing here sleeps or measures time; the
loops are bounded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from catalog import attached, log, tables
from clock import UTC
from fix_pg import Connect
from pgcall import call, select
from sessions import Writer
from tables import create_events

Conn = psycopg.Connection[Any]

BASE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
ROWS_PER_STEP = 20  # the writer inserts at least this many rows between two maintenance steps
STEP_BUDGET = 300  # a paced writer's rows per maintenance step (12 steps: within its limit)


def writer_rows_everywhere(conn: Conn) -> list[int]:
    """Ids of the writer's rows in the parent and in every detached or archived table."""
    selects: list[sql.Composable] = [sql.SQL("SELECT id FROM ev WHERE payload = 'writer'")]
    for t in tables(conn, "ev_p%").values():
        if not t.is_partition:
            selects.append(
                sql.SQL("SELECT id FROM {}.{} WHERE payload = 'writer'").format(
                    sql.Identifier(t.schema), sql.Identifier(t.name)
                )
            )
    rows = conn.execute(sql.SQL(" UNION ALL ").join(selects)).fetchall()
    return sorted(r[0] for r in rows)


def setup(conn: Conn, premake: int) -> None:
    create_events(conn)
    select(conn, "create_range_partitions", "ev", "daily", premake=premake, now_at=BASE)
    conn.execute("CREATE SCHEMA archive")
    select(conn, "set_policy", "ev", retention="3 days", retention_action="archive", archive_schema="archive")


def test_writer_never_fails_while_maintenance_and_retention_run(connect: Connect) -> None:
    conn = connect()
    setup(conn, premake=2)
    current = [BASE]  # the writer's key: the latest now_at whose maintenance is done
    writer = Writer(connect(), target=lambda: current[0], limit=4000, paced=True).start()
    writer.allow(ROWS_PER_STEP)
    writer.wait_for(ROWS_PER_STEP)

    for day in range(1, 13):
        now = BASE + timedelta(days=day)
        writer.allow(STEP_BUDGET)  # inserts go on while the procedures run
        call(conn, "run_maintenance_proc", "ev", now_at=now)
        call(conn, "detach_and_archive_proc", "ev", now_at=now)
        # the partition of now existed before this step (premake); it expires 3 days later
        current[0] = now
        writer.wait_for(writer.allowed)  # the step's budget used up before the next step
    inserted = writer.finish()

    assert len(inserted) == ROWS_PER_STEP + 12 * STEP_BUDGET  # every granted row, none failed
    assert len(set(inserted)) == len(inserted)
    assert writer_rows_everywhere(conn) == sorted(inserted)
    archived = [t for t in tables(conn, "ev_p%").values() if not t.is_partition]
    assert {t.schema for t in archived} == {"archive"}
    assert len(archived) == 9  # the 10th to the 18th: each expired 3 days after its end
    assert [p.name for p in attached(conn, "ev")][:1] == ["ev_p20240319"]
    assert [r for r in log(conn, "ev") if r["outcome"] != "ok"] == []


def test_long_reader_makes_maintenance_give_up_cleanly_and_the_writer_never_fails(connect: Connect) -> None:
    conn = connect()
    setup(conn, premake=7)  # the 10th to the 17th
    now = BASE + timedelta(days=5)  # retention due: the 10th and the 11th
    target = BASE + timedelta(days=6)  # a partition that stays throughout
    writer = Writer(connect(), target=lambda: target, limit=4000, paced=True).start()
    writer.allow(ROWS_PER_STEP)
    writer.wait_for(ROWS_PER_STEP)

    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM ev")  # ACCESS SHARE on ev and every partition, until it ends
    before = attached(conn, "ev")

    # maintenance with a lock timeout below the writer's: creation needs no lock
    # the reader holds; the detach does, so retention gives up (55P03 logged)
    writer.allow(STEP_BUDGET)
    # retention gave up (logged): the CALL then fails, naming ev (issue 15, item 5)
    with pytest.raises(psycopg.Error) as failed:
        call(conn, "run_maintenance_proc", "ev", now_at=now, lock_timeout="50ms", lock_retries=2)
    assert failed.value.sqlstate == "PGM01"
    writer.wait_for(writer.allowed)
    after = attached(conn, "ev")
    assert [p.name for p in after] == [p.name for p in before] + [
        "ev_p20240318",
        "ev_p20240319",
        "ev_p20240320",
        "ev_p20240321",
        "ev_p20240322",
    ]
    errors_logged = [r for r in log(conn, "ev") if r["outcome"] != "ok"]
    assert errors_logged
    assert {(r["outcome"], r["detail"]["sqlstate"]) for r in errors_logged} <= {
        ("error", "55P03"),
        ("skipped", "55P03"),
    }
    row = conn.execute("SELECT last_error FROM pgpart.config WHERE parent = 'ev'::regclass").fetchone()
    assert row is not None
    assert row[0].startswith("55P03")
    assert [t.name for t in tables(conn, "ev_p%").values() if not t.is_partition] == []

    # the procedure of retention alone: 55P03, nothing half-done
    writer.allow(STEP_BUDGET)
    with pytest.raises(errors.LockNotAvailable):
        call(conn, "detach_and_archive_proc", "ev", now_at=now, lock_timeout="50ms", lock_retries=2)
    writer.wait_for(writer.allowed)
    assert attached(conn, "ev") == after
    assert [t.name for t in tables(conn, "ev_p%").values() if not t.is_partition] == []
    assert log(conn, "ev", "detach") == []

    # the reader goes: the next run completes and clears the error
    reader.commit()
    writer.allow(STEP_BUDGET)
    call(conn, "run_maintenance_proc", "ev", now_at=now, lock_timeout="50ms", lock_retries=2)
    writer.wait_for(writer.allowed)
    inserted = writer.finish()

    assert [p.name for p in attached(conn, "ev")][:1] == ["ev_p20240312"]
    archived = sorted((t.schema, t.name) for t in tables(conn, "ev_p%").values() if not t.is_partition)
    assert archived == [("archive", "ev_p20240310"), ("archive", "ev_p20240311")]
    row = conn.execute("SELECT last_error FROM pgpart.config WHERE parent = 'ev'::regclass").fetchone()
    assert row == (None,)
    assert len(inserted) == ROWS_PER_STEP + 3 * STEP_BUDGET
    assert len(set(inserted)) == len(inserted)
    assert writer_rows_everywhere(conn) == sorted(inserted)
