"""Loading a file with COPY, the partitions its rows need created first
(issue 20, item 5): ``Client.load`` and ``pgpart load``. Rows never land in
the default partition, nothing is lost or loaded twice, a failing batch says
where to resume."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

import pgpart
import pgpart.errors
from cli_runner import dsn
from cli_runner import pgpart as pgpart_cli
from pgcluster import PgServer

UTC = dt.timezone.utc


@pytest.fixture
def events(owner_conn: psycopg.Connection[Any]) -> pgpart.Client:
    """public.events, daily from 2025-03-10 with a default partition: the
    rows below are a backfill of the year before."""
    owner_conn.execute(
        "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, note text)"
        " PARTITION BY RANGE (created_at)"
    )
    client = pgpart.Client(owner_conn)
    client.ensure(
        "events", interval="1 day", premake=1, default_partition=True, now_at=dt.datetime(2025, 3, 10, tzinfo=UTC)
    )
    return client


def csv_text(rows: list[tuple[int, dt.datetime, str | None]], header: bool = True) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(["id", "created_at", "note"])
    for i, at, note in rows:
        writer.writerow([i, at.isoformat(), "" if note is None else note])
    return out.getvalue()


def where(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return dict(
        conn.execute("SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1").fetchall()  # type: ignore[arg-type]
    )


def year_of_rows() -> list[tuple[int, dt.datetime, str | None]]:
    start = dt.datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
    # every day of a year, out of order across batches; notes with commas,
    # quotes and a newline inside a quoted field
    return [(i, start + dt.timedelta(days=(i * 37) % 366), f'n{i}, "q"\nline' if i % 50 == 0 else None)
            for i in range(1, 733)]  # fmt: skip


def test_a_backfill_lands_in_its_own_partitions(events: pgpart.Client, owner_conn: psycopg.Connection[Any]) -> None:
    rows = year_of_rows()
    seen: list[pgpart.LoadReport] = []
    text = csv_text(rows)
    report = events.load(
        "events", io.StringIO(text, newline=""), header=True, batch_rows=100, size=len(text), progress=seen.append
    )
    assert (report.rows, report.batches) == (732, 8)
    assert [r.rows for r in seen] == [100, 200, 300, 400, 500, 600, 700, 732]
    assert seen[-1].chars_read == len(text) and seen[0].chars_read < seen[1].chars_read
    # one partition per day from the first day loaded up to the partitions
    # there before (the days after the last row loaded are a gap, filled too)
    first_day = min(at.date() for _, at, _ in rows)
    assert len(report.created) == (dt.date(2025, 3, 10) - first_day).days
    assert report.created[0] == "public.events_p20240301" or "public.events_p20240301" in report.created
    counts = where(owner_conn)
    assert "events_default" not in counts and sum(counts.values()) == 732
    # every row as written, the quoted newline included
    stored = owner_conn.execute("SELECT id, created_at, note FROM events ORDER BY id").fetchall()
    assert stored == [(i, at, note) for i, at, note in rows]
    # a second load of rows inside the covered range creates nothing
    again = events.load("events", io.StringIO(csv_text(rows[:10], header=False), newline=""))
    assert again.created == [] and again.rows == 10


def test_each_batch_is_covered_before_its_copy(events: pgpart.Client, owner_conn: psycopg.Connection[Any]) -> None:
    # a batch's rows are covered before its COPY, not the whole file first:
    # after a failing third batch the first two are loaded and in place
    rows = year_of_rows()[:30]
    text = csv_text(rows, header=False).splitlines(keepends=True)
    text[24] = "25,not a time,x\n"
    columns = ["id", "created_at", "note"]
    with pytest.raises(pgpart.errors.PgpartError) as failed:
        events.load("events", io.StringIO("".join(text), newline=""), batch_rows=10, columns=columns)
    error = failed.value
    assert error.sqlstate == "22007"
    assert "records 21-30" in error.message
    assert error.hint is not None and "skip_rows=20" in error.hint and "20 rows" in error.hint
    assert owner_conn.execute("SELECT count(*) FROM events").fetchone() == (20,)
    # resume after fixing the record: nothing loaded twice
    text[24] = f"25,{rows[24][1].isoformat()},\n"
    report = events.load("events", io.StringIO("".join(text), newline=""), batch_rows=10, skip_rows=20)
    assert report.rows == 10
    ids = [r[0] for r in owner_conn.execute("SELECT id FROM events ORDER BY id")]
    assert ids == list(range(1, 31))
    assert "events_default" not in where(owner_conn)


def test_text_format_and_an_integer_key(owner_conn: psycopg.Connection[Any]) -> None:
    owner_conn.execute("CREATE TABLE readings (v text, id integer NOT NULL) PARTITION BY RANGE (id)")
    client = pgpart.Client(owner_conn)
    client.ensure("readings", interval=1000, premake=1, start=0)
    lines = [f"a\\tb{i}\t{i * 997}\n" for i in range(40)] + ["\\N\t12345\n", "\\.\n", "never\t1\n"]
    report = client.load("readings", io.StringIO("".join(lines), newline=""), format="text", batch_rows=7)
    assert report.rows == 41
    assert owner_conn.execute("SELECT count(*) FROM ONLY readings").fetchone() == (0,)
    assert owner_conn.execute("SELECT v FROM readings WHERE id = 997").fetchone() == ("a\tb1",)
    assert owner_conn.execute("SELECT v IS NULL FROM readings WHERE id = 12345").fetchone() == (True,)
    bounds = {(p.lower_bound, p.upper_bound) for p in client.info("readings") if p.level == 1}
    assert {(str(k), str(k + 1000)) for k in range(0, 39000, 1000)} <= bounds


def test_refusals_change_nothing(events: pgpart.Client, owner_conn: psycopg.Connection[Any]) -> None:
    before = len(events.info("events"))
    owner_conn.execute("CREATE TABLE plain (id int)")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("plain", {}, "not a RANGE table managed by pgpart"),
        ("events", {"columns": ["id", "note"]}, "the key column created_at is missing"),
        ("events", {"columns": ["id", "nope", "created_at"]}, "no such column nope"),
        ("events", {"batch_rows": 0}, "batch_rows must be at least 1"),
    ]
    for table, options, message in cases:
        with pytest.raises(pgpart.errors.InvalidArgumentError) as refused:
            events.load(table, io.StringIO("1,2025-01-01,x\n", newline=""), **options)
        assert message in refused.value.message
        assert refused.value.hint
    with pytest.raises(pgpart.errors.InvalidArgumentError) as short:
        events.load("events", io.StringIO("1\n", newline=""), columns=["id", "created_at"], format="text")
    assert "record 1 has 1 fields" in short.value.message
    assert len(events.info("events")) == before
    assert owner_conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_a_dbapi_connection_is_told_to_use_psycopg(pg: PgServer, dbname: str, events: pgpart.Client) -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    conn = psycopg2.connect(pg.dsn(dbname, "pgpart_owner"))
    try:
        with pytest.raises(pgpart.errors.InvalidArgumentError) as refused:
            pgpart.Client(conn).load("events", io.StringIO("1,2024-05-01,x\n", newline=""))
        assert "psycopg 3" in refused.value.message
    finally:
        conn.close()


def test_the_command_loads_a_file_with_progress(
    events: pgpart.Client, owner_conn: psycopg.Connection[Any], pg: PgServer, dbname: str, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(csv_text(year_of_rows()[:300]), newline="")
    done = pgpart_cli(*dsn(pg, dbname, "pgpart_owner"), "load", "events", str(path), "--header", "--batch-rows", "100")
    assert done.returncode == 0, done.stderr
    progress = done.stderr.splitlines()
    assert len(progress) == 3 and progress[-1].startswith("[batch 3] 300 rows loaded (~100%)")
    first = done.stdout.splitlines()[0]
    assert first.startswith("loaded 300 rows into events in 3 batches; created ")
    assert owner_conn.execute("SELECT count(*) FROM events_default").fetchone() == (0,)
    missing = pgpart_cli(*dsn(pg, dbname, "pgpart_owner"), "load", "events", str(tmp_path / "nope.csv"))
    assert missing.returncode == 64 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("1,yesterday-ish,x\n")
    failed = pgpart_cli(*dsn(pg, dbname, "pgpart_owner"), "load", "events", str(bad))
    assert failed.returncode == 3 and "22007" in failed.stderr and "--skip-rows 0" in failed.stderr


def test_a_writer_is_never_blocked_for_long(
    events: pgpart.Client, owner_conn: psycopg.Connection[Any], connect: Any
) -> None:
    # another session holds a row lock in a partition being loaded into and
    # writes on: COPY takes only ROW EXCLUSIVE, the creation of partitions
    # takes its locks under the lock timeout
    writer = connect("pgpart_owner", autocommit=False)
    writer.execute("INSERT INTO events VALUES (0, '2025-03-10 10:00+00', 'w')")
    report = events.load("events", io.StringIO(csv_text(year_of_rows()[:50], header=False), newline=""))
    writer.execute("INSERT INTO events VALUES (-1, '2025-03-10 11:00+00', 'w')")
    writer.commit()
    assert report.rows == 50
    assert owner_conn.execute("SELECT count(*) FROM events").fetchone() == (52,)


def test_a_key_with_a_line_break_fails_its_cast(events: pgpart.Client, owner_conn: psycopg.Connection[Any]) -> None:
    # the keys go to the server as one text split at line breaks; a key
    # holding one must still fail as the bad value it is, not be split
    text = '1,"2024-05-01 10:00+00\n2024-05-02",x\n2,2024-05-03 10:00+00,y\n'
    with pytest.raises(pgpart.errors.PgpartError) as failed:
        events.load("events", io.StringIO(text, newline=""))
    assert failed.value.sqlstate == "22007"
    assert "records 1-2" in failed.value.message
    assert owner_conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def uuid7(at: dt.datetime, n: int) -> str:
    """A UUIDv7 of AT's millisecond (version 7, RFC 9562 variant, N in the random bits)."""
    ms = int(at.timestamp() * 1000)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0x2 << 62) | (n & 0x3FFF_FFFF_FFFF)))


def test_uuid_and_epoch_keys_are_loaded_by_time(owner_conn: psycopg.Connection[Any]) -> None:
    # keys that are not times: the server says which instant each stands for
    # (pgpart.key_time), and the partitions of those days are made first
    owner_conn.execute("CREATE TABLE orders (id uuid NOT NULL, note text) PARTITION BY RANGE (id)")
    owner_conn.execute("CREATE TABLE ticks (at_ms bigint NOT NULL, v int) PARTITION BY RANGE (at_ms)")
    client = pgpart.Client(owner_conn)
    now = dt.datetime(2026, 1, 15, tzinfo=UTC)
    client.ensure("orders", interval="1 day", premake=1, default_partition=True, now_at=now)
    client.ensure("ticks", interval="1 day", premake=1, default_partition=True, epoch_unit="ms", now_at=now)
    days = [now - dt.timedelta(days=d, hours=h) for d in range(1, 40, 3) for h in (0, 5)]
    orders = "".join(f"{uuid7(at, i)},o{i}\n" for i, at in enumerate(days))
    ticks = "".join(f"{int(at.timestamp() * 1000)},{i}\n" for i, at in enumerate(days))
    assert client.load("orders", io.StringIO(orders, newline=""), batch_rows=7).rows == len(days)
    assert client.load("ticks", io.StringIO(ticks, newline=""), batch_rows=7).rows == len(days)
    for table in ("orders", "ticks"):
        default = owner_conn.execute(f"SELECT count(*) FROM {table}_default").fetchone()
        assert default == (0,), table
    # each row is in the partition of its day
    placed = owner_conn.execute(
        "SELECT tableoid::regclass::text, to_timestamp(at_ms / 1000.0) FROM ticks ORDER BY at_ms"
    ).fetchall()
    assert all(name == f"ticks_p{at:%Y%m%d}" for name, at in placed)
    assert owner_conn.execute(
        "SELECT pgpart.key_time('orders', %s), pgpart.key_time('ticks', %s)",
        [uuid7(days[0], 1), str(int(days[0].timestamp() * 1000))],
    ).fetchone() == (days[0], days[0])
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        owner_conn.execute("CREATE TABLE plain_ids (id bigint NOT NULL) PARTITION BY RANGE (id)")
        client.ensure("plain_ids", interval=100, premake=1, start=0)
        owner_conn.execute("SELECT pgpart.key_time('plain_ids', '5')")
