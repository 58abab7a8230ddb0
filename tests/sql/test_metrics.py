"""pgpart.metrics() and ``pgpart metrics`` (issue 15 item 6): Prometheus text
exposition, parsed by the reference parser of prometheus-client, with values
checked against the catalog; never waits for a lock."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import psycopg
from prometheus_client.parser import text_string_to_metric_families

import pgpart
from fix_pg import Connect
from pgpart import cli

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)
WEIRD = 'public."we""ird\\tab\nle"'  # a quote, a backslash and a newline in one name
FAMILIES = {
    "pgpart_managed_tables",
    "pgpart_partitions",
    "pgpart_runway_seconds",
    "pgpart_runway_keys",
    "pgpart_default_rows",
    "pgpart_detach_pending",
    "pgpart_last_maintenance_success_timestamp_seconds",
    "pgpart_maintenance_failing",
    "pgpart_findings",
}


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample by family and labels, through the real parser (which
    raises on anything the format does not allow)."""
    result: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        samples = result.setdefault(family.name, {})
        for s in family.samples:
            samples[tuple(sorted(s.labels.items()))] = s.value
    return result


def setup(conn: Conn) -> None:
    """ev: daily, time key, premake 3 at NOW; nums: integer key with a
    default partition holding 500 analyzed rows; a third table whose name
    needs every label escape."""
    client = pgpart.Client(conn)
    conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    client.ensure("public.ev", interval="1 day", premake=3, now_at=NOW)
    conn.execute("CREATE TABLE public.nums (k bigint NOT NULL) PARTITION BY RANGE (k)")
    client.ensure("public.nums", interval="100", premake=2, default_partition=True)
    conn.execute("INSERT INTO public.nums SELECT 50 FROM generate_series(1, 10)")
    conn.execute("INSERT INTO public.nums_default SELECT -100000 - g FROM generate_series(1, 500) AS g")
    conn.execute("ANALYZE public.nums_default")
    conn.execute(f"CREATE TABLE {WEIRD} (k integer NOT NULL) PARTITION BY RANGE (k)")
    conn.execute("SELECT pgpart.create_range_partitions(%s::regclass, '10')", [WEIRD])


def metrics(conn: Conn) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    row = conn.execute("SELECT pgpart.metrics(now_at => %s)", [NOW]).fetchone()
    assert row is not None
    text: str = row[0]
    assert text.endswith("\n")
    return parse(text)


def test_metrics_parse_and_match_the_catalog(conn: Conn) -> None:
    setup(conn)
    m = metrics(conn)
    assert set(m) == FAMILIES
    assert m["pgpart_managed_tables"] == {(): 3.0}
    ev = (("table", "public.ev"),)
    nums = (("table", "public.nums"),)
    # the partition of NOW's day and 3 ahead: runway until the end of the 4th
    assert m["pgpart_runway_seconds"] == {ev: 4 * 86400.0}
    assert m["pgpart_partitions"][ev] == 4.0
    # integer key: the highest key is 50, partitions reach 300
    assert m["pgpart_runway_keys"][nums] == 250.0
    default_rows = m["pgpart_default_rows"]
    assert default_rows == {(("partition", "public.nums_default"), ("table", "public.nums")): 500.0}
    assert m["pgpart_detach_pending"][ev] == 0.0
    assert m["pgpart_maintenance_failing"][nums] == 0.0
    # findings: check()'s, counted by severity; every severity present
    findings = conn.execute("SELECT severity, count(*) FROM pgpart.check(now_at => %s) GROUP BY 1", [NOW]).fetchall()
    expected = {"urgent": 0.0, "warning": 0.0, "info": 0.0} | {s: float(n) for s, n in findings}
    assert {dict(k)["severity"]: v for k, v in m["pgpart_findings"].items()} == expected
    assert expected["urgent"] > 0  # the 500 rows in nums' default are urgent


def test_label_values_are_escaped(conn: Conn) -> None:
    setup(conn)
    m = metrics(conn)
    # as pgpart names it: schema-qualified (its functions pin search_path)
    conn.execute("SET search_path = pg_catalog")
    name = conn.execute("SELECT %s::regclass::text", [WEIRD]).fetchone()[0]  # type: ignore[index]
    assert name == WEIRD
    assert "\n" in name
    assert "\\" in name
    assert '"' in name
    assert m["pgpart_partitions"][(("table", name),)] > 0
    assert (("table", name),) in m["pgpart_runway_keys"]


def test_last_successful_maintenance_and_failures(conn: Conn) -> None:
    setup(conn)
    ev = (("table", "public.ev"),)
    pgpart.Client(conn).maintain("public.ev", now_at=NOW + dt.timedelta(days=2))
    logged = conn.execute(
        "SELECT extract(epoch FROM max(logged_at))::float8 FROM pgpart.log"
        " WHERE parent = 'public.ev'::regclass AND outcome = 'ok'"
    ).fetchone()
    m = metrics(conn)
    assert logged is not None
    assert m["pgpart_last_maintenance_success_timestamp_seconds"][ev] == logged[0]
    conn.execute(
        "UPDATE pgpart.config SET last_error = 'XX000: boom', last_error_at = now()"
        " WHERE parent = 'public.ev'::regclass"
    )
    assert metrics(conn)["pgpart_maintenance_failing"][ev] == 1.0


def test_unanalyzed_default_is_nan(conn: Conn) -> None:
    conn.execute("CREATE TABLE public.nums (k bigint NOT NULL) PARTITION BY RANGE (k)")
    pgpart.Client(conn).ensure("public.nums", interval="100", premake=2, default_partition=True)
    (value,) = metrics(conn)["pgpart_default_rows"].values()
    assert value != value  # NaN: never analyzed, unknown rather than 0


def test_metrics_never_wait_for_a_lock(conn: Conn, connect: Connect) -> None:
    """Another session holds ACCESS EXCLUSIVE on a partition and on the
    default: metrics still answer (the integer runway reads NaN)."""
    setup(conn)
    holder = connect(autocommit=False)
    holder.execute("LOCK TABLE public.nums_default, public.nums_p0, public.ev IN ACCESS EXCLUSIVE MODE")
    try:
        reader = connect()
        reader.execute("SET statement_timeout = '30s'")  # a safety net: waiting would end the test in error
        m = metrics(reader)
        assert m["pgpart_default_rows"]
        runway = m["pgpart_runway_keys"][(("table", "public.nums"),)]
        assert runway != runway  # NaN: the highest key could not be read
    finally:
        holder.rollback()


def test_cli_metrics(conn: Conn) -> None:
    setup(conn)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--dsn", conn.info.dsn, "metrics", "--now", NOW.isoformat()], out=out, err=err)
    assert code == 0, err.getvalue()
    assert set(parse(out.getvalue())) == FAMILIES
    assert (
        pgpart.Client(conn).metrics(now_at=NOW)
        == conn.execute("SELECT pgpart.metrics(now_at => %s)", [NOW]).fetchone()[0]
    )  # type: ignore[index]


def test_detach_pending_is_counted(conn: Conn, connect: Connect) -> None:
    """A DETACH ... CONCURRENTLY cancelled while it waits for a reader of
    the parent leaves its partition pending: the metric counts it."""
    setup(conn)
    reader = connect(autocommit=False)
    reader.execute("SELECT count(*) FROM public.ev")  # holds ACCESS SHARE until rollback
    detacher = connect()
    pid = detacher.info.backend_pid
    failed = threading.Event()

    def detach() -> None:
        try:
            detacher.execute("ALTER TABLE public.ev DETACH PARTITION public.ev_p20260110 CONCURRENTLY")
        except psycopg.errors.QueryCanceled:
            failed.set()

    worker = threading.Thread(target=detach)
    worker.start()
    try:
        # wait until the detach waits for the reader (its second phase)
        for _ in range(2000):
            row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            pending = conn.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ev'::regclass AND inhdetachpending"
            ).fetchone()
            if row and row[0] == "Lock" and pending and pending[0] == 1:
                break
            threading.Event().wait(0.01)
        conn.execute("SELECT pg_cancel_backend(%s)", [pid])
        worker.join()
    finally:
        reader.rollback()
    assert failed.is_set()
    assert metrics(conn)["pgpart_detach_pending"][(("table", "public.ev"),)] == 1.0
