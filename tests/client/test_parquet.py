"""The cold tier (issue 21 items 2-6, docs/cold-tier.md): partitions exported
to Parquet files, verified, dropped, and restored row for row, on a real
server. Skipped only when pyarrow is missing (the ``test`` extra installs it)."""

from __future__ import annotations

import datetime as dt
import io
import json
import pathlib
import subprocess
import sys
import threading
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from clock import CLIENT_NOW
from pgpart import cli, errors
from tables import DAY, EXPIRED, make_events, managed_events

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# Every column type a user would have, with edge values (issue 21 item 6).
TYPES_DDL = """
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE public.pair AS (a integer, b text);
CREATE TABLE public.wide (
    created_at timestamptz NOT NULL,
    id bigint NOT NULL,
    flag boolean,
    small smallint,
    num integer,
    f4 real,
    f8 double precision,
    money_exact numeric(12, 2),
    big_exact numeric(38, 10),
    any_numeric numeric,
    nan_numeric numeric(10, 2),
    label text,
    code varchar(10),
    fixed char(5),
    raw bytea,
    day date,
    inf_day date,
    local_ts timestamp,
    inf_ts timestamptz,
    at_time time,
    tz_time timetz,
    span interval,
    uid uuid,
    doc jsonb,
    js json,
    ints integer[],
    words text[],
    matrix integer[],
    floats double precision[],
    feeling public.mood,
    pair public.pair,
    period tstzrange,
    addr inet,
    twice bigint GENERATED ALWAYS AS (id * 2) STORED
) PARTITION BY RANGE (created_at);
"""

ROWS = """
INSERT INTO public.wide (created_at, id, flag, small, num, f4, f8, money_exact, big_exact, any_numeric, nan_numeric,
    label, code, fixed, raw, day, inf_day, local_ts, inf_ts, at_time, tz_time, span, uid, doc, js, ints, words,
    matrix, floats, feeling, pair, period, addr)
VALUES
  ('2025-03-05 00:00:00+00', 1, true, -32768, 2147483647, 'NaN', 'Infinity', 1234567890.12,
   '1234567890123456789012345678.0123456789', '1e-100', 'NaN',
   'plain', 'abc', 'ab', '\\x00ff10', '0001-01-01 BC', 'infinity', '1999-12-31 23:59:59.999999',
   '-infinity', '24:00', '12:00+05:30', '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"a": {"b": [1, 2, {"c": null}]}, "u": "\\u00e9"}', '{"keep":  "spacing" }', '{1,NULL,3}', '{"x,y","",NULL}',
   '{{1,2},{3,4}}', '{NaN,-Infinity,1.5e300}', 'happy', '(1,"x y")', '[2025-01-01,2025-02-01)', '10.0.0.1/8'),
  ('2025-03-05 23:59:59.999999+00', 2, NULL, NULL, NULL, '-Infinity', -0.0, NULL, NULL,
   '123456789012345678901234567890123456789012345.5', 1.5,
   repeat('long text é ', 20000), NULL, NULL, '', '294276-12-31', '4713-01-01 BC', '4713-01-01 00:00:00 BC',
   '294276-12-31 23:59:59.999999+00', '00:00', NULL, '-1 days', NULL, '[]', 'null', '{}', '{}', NULL, NULL, NULL,
   NULL, 'empty', NULL),
  ('2025-03-05 12:00:00+01', 3, false, 7, 0, 1.1, 3.141592653589793, -0.01, 0, 'NaN', -99999999.99,
   E'tab\\there\\nnewline\\\\backslash "quote"', 'x', 'abcde', NULL, '2025-03-05', '2025-03-05',
   '2025-03-05 12:00', '2025-03-05 12:00+00', '23:59:59.999999', '00:00+00', '0',
   '00000000-0000-0000-0000-000000000000',
   '"scalar"', '[1, 2]', '{-1}', '{"ä"}', '[2:3]={1,2}', '{0}', 'sad', '(,)', NULL, '::1')
"""


def _wide(conn: psycopg.Connection[Any]) -> pgpart.Client:
    conn.execute(TYPES_DDL)
    client = pgpart.Client(conn)
    client.ensure("public.wide", interval="1 day", premake=1, now_at=CLIENT_NOW - 5 * DAY)
    conn.execute(ROWS)
    return client


def _rows(conn: psycopg.Connection[Any], table: str) -> list[tuple[Any, ...]]:
    """Every row as its text form, in a fixed order (settings fixed)."""
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL extra_float_digits = 1")
        return conn.execute(
            sql.SQL("SELECT t.id, t::text FROM {} AS t ORDER BY t.id").format(sql.SQL(table))
        ).fetchall()


def test_round_trip_every_type(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = _wide(conn)
    before = _rows(conn, "public.wide_p20250305")
    assert len(before) == 3
    stages: list[str] = []
    manifest = client.export_partition("public.wide", "public.wide_p20250305", to=str(tmp_path),
                                       progress=lambda stage, rows: stages.append(stage))  # fmt: skip
    assert stages[-3:] == ["verified", "detached", "dropped"]
    assert conn.execute("SELECT to_regclass('public.wide_p20250305')").fetchone() == (None,)
    assert manifest["rows"] == 3
    assert manifest["checksum"].startswith("sha256:")
    codecs = {c["name"]: c["codec"] for c in manifest["columns"]}
    # faithful where Parquet holds every value, text where it cannot (recorded)
    assert codecs["created_at"] == "timestamptz"
    assert codecs["money_exact"] == "decimal"
    assert codecs["big_exact"] == "decimal"
    assert codecs["ints"] == "list:int4"
    assert codecs["doc"] == "json"
    for name in ("any_numeric", "nan_numeric", "inf_day", "inf_ts", "at_time", "matrix", "feeling", "pair",
                 "period", "span", "tz_time", "addr"):  # fmt: skip
        assert codecs[name] == "text", name
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["public.wide_p20250305.manifest.json", "public.wide_p20250305.parquet"]
    on_disk = json.loads((tmp_path / files[0]).read_text())
    assert on_disk == manifest
    [cold] = client.cold_partitions("public.wide")
    assert (cold["partition"], cold["rows"], cold["checksum"]) == ("public.wide_p20250305", 3, manifest["checksum"])
    assert cold["restored_at"] is None

    restored = client.restore_partition("public.wide", str(tmp_path / files[0]))
    assert restored == "public.wide_p20250305"
    assert _rows(conn, "public.wide_p20250305") == before
    # attached at its old bound, under the parent
    assert conn.execute(
        "SELECT pg_get_expr(c.relpartbound, c.oid) IS NOT NULL, i.inhparent::regclass::text"
        " FROM pg_class AS c JOIN pg_inherits AS i ON i.inhrelid = c.oid"
        " WHERE c.oid = 'public.wide_p20250305'::regclass"
    ).fetchone() == (True, "wide")
    assert conn.execute("SELECT count(*) FROM public.wide WHERE created_at < '2025-03-06'").fetchone() == (3,)
    assert client.cold_partitions("public.wide")[0]["restored_at"] is not None


def test_query_the_archive_with_pyarrow(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = _wide(conn)
    client.export_partition("public.wide", "public.wide_p20250305", to=str(tmp_path))
    table = pq.read_table(tmp_path / "public.wide_p20250305.parquet", columns=["id", "created_at", "money_exact"])
    assert table.column("id").to_pylist() == [1, 3, 2]  # key order: 00:00, 11:00, 23:59 UTC
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.column("money_exact")[0]) == "1234567890.12"
    found = pq.read_table(tmp_path / "public.wide_p20250305.parquet", filters=[("id", "=", 2)])
    assert found.num_rows == 1


def _checksum(conn: psycopg.Connection[Any], table: str) -> tuple[Any, ...]:
    row = conn.execute(sql.SQL("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {} AS t")
                       .format(sql.SQL(table))).fetchone()  # fmt: skip
    assert row is not None
    return tuple(row)


def test_policy_export_through_maintain(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = managed_events(conn, retention_action="export")
    before = {name: _checksum(conn, f"public.{name}") for name in EXPIRED}
    # without a destination: detached, reported as due, listed by check() and awaiting_export
    report = client.maintain("public.events", now_at=CLIENT_NOW)
    # (names as the caller's search_path shows them)
    assert [(a.action, a.partition) for a in report.actions if a.action == "export due"] == [
        ("export due", name) for name in EXPIRED
    ]
    assert [a["partition"] for a in client.awaiting_export("public.events")] == EXPIRED
    findings = [f for f in client.check("public.events", now_at=CLIENT_NOW) if f.code == "detached_awaiting"]
    assert len(findings) == 3
    assert "pgpart export" in (findings[0].fix or "")
    # SQL retention leaves them alone (only a client writes Parquet)
    conn.execute("CALL pgpart.detach_and_archive_proc('public.events', now_at => %s)", [CLIENT_NOW])
    assert len(client.awaiting_export("public.events")) == 3
    # a dry run says so too
    planned = client.maintain("public.events", now_at=CLIENT_NOW, dry_run=True)
    assert [a.action for a in planned.actions] == ["export due"] * 3

    report = client.maintain("public.events", now_at=CLIENT_NOW, export_to=str(tmp_path))
    assert [a.action for a in report.actions if a.partition in EXPIRED] == ["exported"] * 3
    assert client.awaiting_export("public.events") == []
    for name in EXPIRED:
        assert conn.execute("SELECT to_regclass(%s)", [f"public.{name}"]).fetchone() == (None,)
    assert sorted(c["partition"] for c in client.cold_partitions("public.events")) == [f"public.{n}" for n in EXPIRED]
    assert [f for f in client.check("public.events", now_at=CLIENT_NOW) if f.code == "detached_awaiting"] == []

    # pgpart restore brings one back, identical row for row
    out, err = io.StringIO(), io.StringIO()
    manifest = tmp_path / f"public.{EXPIRED[0]}.manifest.json"
    assert cli.main(["--dsn", conn.info.dsn, "restore", "public.events", str(manifest)], out=out, err=err) == 0, (
        err.getvalue()
    )
    assert out.getvalue() == f"restored public.{EXPIRED[0]}\n"
    assert _checksum(conn, f"public.{EXPIRED[0]}") == before[EXPIRED[0]]


def test_cli_export_and_errors(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = managed_events(conn, retention_action="export")
    client.maintain("public.events", now_at=CLIENT_NOW)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--dsn", conn.info.dsn, "export", "public.events", "--to", str(tmp_path), "--json"], out=out,
                    err=err)  # fmt: skip
    assert code == 0, err.getvalue()
    assert [m["table"] for m in json.loads(out.getvalue())] == [f"public.{n}" for n in EXPIRED]
    assert "verified" in err.getvalue()
    # a table neither attached nor awaiting export is refused
    conn.execute("CREATE TABLE public.loose (created_at timestamptz)")
    with pytest.raises(errors.InvalidArgumentError, match="neither a partition"):
        client.export_partition("public.events", "public.loose", to=str(tmp_path))
    # a manifest whose checksum was changed: nothing restored
    manifest = tmp_path / f"public.{EXPIRED[1]}.manifest.json"
    data = json.loads(manifest.read_text())
    data["checksum"] = "sha256:" + "0" * 64
    manifest.write_text(json.dumps(data))
    with pytest.raises(errors.ExportError, match="does not match its manifest"):
        client.restore_partition("public.events", str(manifest))
    assert conn.execute("SELECT to_regclass(%s)", [f"public.{EXPIRED[1]}"]).fetchone() == (None,)
    # a bound that is not the server's (SQL in it) is refused before anything runs
    data["bound"] = "FOR VALUES FROM ('2025-03-06') TO ('2025-03-07'); DROP TABLE public.loose; --"
    manifest.write_text(json.dumps(data))
    with pytest.raises(errors.InvalidArgumentError, match="not a one-column range bound"):
        client.restore_partition("public.events", str(manifest))
    assert conn.execute("SELECT to_regclass('public.loose')").fetchone() == ("loose",)


FAILING_WRITER = """
import resource, signal, sys
import psycopg, pgpart
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    try:
        pgpart.Client(conn).export_partition("public.events", sys.argv[2], to=sys.argv[3], batch_rows=50)
    except pgpart.errors.ExportError as exc:
        print("ExportError:", exc.message)
"""


def test_failing_writer_leaves_the_partition_attached(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = managed_events(conn, retention_action="export")
    conn.execute(
        "INSERT INTO public.events (created_at, payload)"
        " SELECT '2025-03-05 07:00+00', repeat(md5(i::text), 20) FROM generate_series(1, 2000) AS i"
    )
    before = _checksum(conn, f"public.{EXPIRED[0]}")
    done = subprocess.run([sys.executable, "-c", FAILING_WRITER, conn.info.dsn, f"public.{EXPIRED[0]}", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.stdout.startswith("ExportError: could not write the Parquet file"), done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []  # the partial file was removed
    assert conn.execute(
        "SELECT i.inhparent::regclass::text FROM pg_inherits AS i WHERE i.inhrelid = %s::regclass",
        [f"public.{EXPIRED[0]}"],
    ).fetchone() == ("events",)
    assert _checksum(conn, f"public.{EXPIRED[0]}") == before
    assert client.awaiting_export() == []
    assert client.cold_partitions() == []


@pytest.mark.parametrize("stage", ["verified", "detached"])
def test_kill_between_verify_and_drop(connect: Any, tmp_path: pathlib.Path, stage: str) -> None:
    conn = connect()
    client = managed_events(conn, retention_action="export")
    name = f"public.{EXPIRED[0]}"
    before = _checksum(conn, name)
    victim = connect()
    admin = connect()

    def kill(at: str, rows: int) -> None:
        if at == stage:
            admin.execute("SELECT pg_terminate_backend(%s)", [victim.info.backend_pid])

    with pytest.raises(errors.PgpartError):
        pgpart.Client(victim).export_partition("public.events", name, to=str(tmp_path), progress=kill)
    attached = conn.execute("SELECT relispartition FROM pg_class WHERE oid = %s::regclass", [name]).fetchone()
    # killed before the detach: still attached; after it: detached, awaiting export; never dropped
    assert attached == (stage == "verified",)
    assert _checksum(conn, name) == before
    assert [a["partition"] for a in client.awaiting_export()] == ([] if stage == "verified" else [EXPIRED[0]])
    assert client.cold_partitions() == []
    # the next export (of the partition, or of what awaits export) finishes it
    if stage == "verified":
        client.export_partition("public.events", name, to=str(tmp_path))
    else:
        client.export_awaiting(to=str(tmp_path))
    assert conn.execute("SELECT to_regclass(%s)", [name]).fetchone() == (None,)
    [cold] = client.cold_partitions()
    assert cold["rows"] == before[0]
    client.restore_partition("public.events", str(tmp_path / f"{name}.manifest.json"))
    assert _checksum(conn, name) == before


def test_export_under_a_concurrent_writer(connect: Any, tmp_path: pathlib.Path) -> None:
    conn = connect()
    client = managed_events(conn, retention_action="export")
    writer = connect()
    writer.execute("SET lock_timeout = '1s'")
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def write() -> None:
        i = 0
        while not stop.is_set() or i < 20:
            i += 1
            try:
                writer.execute("INSERT INTO public.events (created_at, payload) VALUES (%s, %s)",
                               [CLIENT_NOW + dt.timedelta(seconds=i), f"w{i}"])  # fmt: skip
                written.append(i)
            except psycopg.Error as exc:  # pragma: no cover - the assertion below reports it
                failures.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for name in EXPIRED:
            client.export_partition("public.events", f"public.{name}", to=str(tmp_path), batch_rows=3)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert conn.execute("SELECT count(*) FROM public.events WHERE payload LIKE 'w%'").fetchone() == (len(written),)
    assert len(client.cold_partitions("public.events")) == 3


NO_PYARROW = """
import sys
sys.modules["pyarrow"] = None  # as if the extra were not installed
import psycopg, pgpart
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    client = pgpart.Client(conn)
    client.info()
    assert "pyarrow" not in sys.modules or sys.modules["pyarrow"] is None
    report = client.maintain("public.events", now_at="2025-03-10 12:00+00", export_to=sys.argv[2])
    print(sorted({(a.action, type(a.error).__name__) for a in report.actions if a.action in ("error", "exported")}))
    try:
        client.export_awaiting(to=sys.argv[2])
    except pgpart.errors.MissingExtraError as exc:
        print(exc.hint)
"""


def test_without_pyarrow(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    managed_events(conn, retention_action="export")
    done = subprocess.run([sys.executable, "-c", NO_PYARROW, conn.info.dsn, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.stdout.splitlines() == [
        "[('error', 'MissingExtraError')]",
        "pip install 'pgpart-manager[parquet]'",
    ], done.stdout + done.stderr
    # nothing lost: the expired partitions wait, detached, for an export with pyarrow
    assert len(pgpart.Client(conn).awaiting_export("public.events")) == 3


def test_row_security_never_hides_rows_from_an_export(owner_conn: psycopg.Connection[Any],
                                                      tmp_path: pathlib.Path) -> None:  # fmt: skip
    make_events(owner_conn)  # the owner is no superuser: row security applies to it
    client = pgpart.Client(owner_conn)
    client.ensure("public.events", interval="1 day", premake=0, now_at=CLIENT_NOW - 5 * DAY)
    owner_conn.execute(
        "INSERT INTO public.events (created_at, payload)"
        " SELECT timestamptz '2025-03-05 06:00+00' + i * interval '1 minute', 'old' FROM generate_series(1, 10) AS i"
    )
    name = f"public.{EXPIRED[0]}"
    owner_conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.SQL(name)))
    owner_conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(sql.SQL(name)))
    owner_conn.execute(sql.SQL("CREATE POLICY half ON {} USING (id % 2 = 0)").format(sql.SQL(name)))
    # the owner itself would see half the rows: the export refuses rather than lose the other half
    with pytest.raises(errors.PermissionDeniedError, match="row-level security"):
        client.export_partition("public.events", name, to=str(tmp_path))
    assert owner_conn.execute("SELECT relispartition FROM pg_class WHERE oid = %s::regclass", [name]).fetchone() == (
        True,
    )
    assert list(tmp_path.iterdir()) == []


def test_restore_a_time_range(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = managed_events(conn, retention_action="export")
    before = {name: _checksum(conn, f"public.{name}") for name in EXPIRED}
    client.maintain("public.events", now_at=CLIENT_NOW, export_to=str(tmp_path))
    # 03-06 12:00 to 03-07 00:00 touches only the partition of 03-06
    assert client.restore_range("public.events", str(tmp_path), start="2025-03-06 12:00+00",
                                end="2025-03-07 00:00+00") == [f"public.{EXPIRED[1]}"]  # fmt: skip
    # from 03-05 on: the two others (the one restored already is left out), oldest first
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--dsn", conn.info.dsn, "restore", "public.events", str(tmp_path), "--from", "2025-03-05 00:00+00",
                     "--quiet"], out=out, err=err)  # fmt: skip
    assert code == 0, err.getvalue()
    assert out.getvalue() == f"restored public.{EXPIRED[0]}\nrestored public.{EXPIRED[2]}\n"
    assert {name: _checksum(conn, f"public.{name}") for name in EXPIRED} == before
