"""The cold tier (issue 21 items 2-6, docs/cold-tier.md): partitions exported
to Parquet files, verified, dropped, and restored row for row, on a real
server. Skipped only when pyarrow is missing (the ``test`` extra installs it)."""

from __future__ import annotations

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
from pgpart import errors
from tables import DAY, make_events

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
   '2025-03-05 12:00', '2025-03-05 12:00+00', '23:59:59.999999', '00:00+00', '0', '00000000-0000-0000-0000-000000000000',
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
        return conn.execute(sql.SQL("SELECT t.id, t::text FROM {} AS t ORDER BY t.id").format(sql.SQL(table))).fetchall()


def test_round_trip_every_type(conn: psycopg.Connection[Any], tmp_path: pathlib.Path) -> None:
    client = _wide(conn)
    before = _rows(conn, "public.wide_p20250305")
    assert len(before) == 3
    stages: list[str] = []
    manifest = client.export_partition("public.wide", "public.wide_p20250305", to=str(tmp_path),
                                       progress=lambda stage, rows: stages.append(stage))  # fmt: skip
    assert stages[-3:] == ["verified", "detached", "dropped"]
    assert conn.execute("SELECT to_regclass('public.wide_p20250305')").fetchone() == (None,)
    assert manifest["rows"] == 3 and manifest["checksum"].startswith("sha256:")
    codecs = {c["name"]: c["codec"] for c in manifest["columns"]}
    # faithful where Parquet holds every value, text where it cannot (recorded)
    assert codecs["created_at"] == "timestamptz" and codecs["money_exact"] == "decimal"
    assert codecs["big_exact"] == "decimal" and codecs["ints"] == "list:int4" and codecs["doc"] == "json"
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
        " FROM pg_class AS c JOIN pg_inherits AS i ON i.inhrelid = c.oid WHERE c.oid = 'public.wide_p20250305'::regclass"
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
