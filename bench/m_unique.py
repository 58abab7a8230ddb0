"""unique_*: the write cost of a global unique constraint (issue 17 item 6,
docs/global-unique.md "Cost").

Three tables, all with the measures' usual shape (an identity id, a
timestamptz key, a text payload, PRIMARY KEY (id, ts), an index on ts):

- "pgpart global unique": daily partitions (30), and
  ``pgpart.add_global_unique('u', '{id}')``;
- "partitioned, no global unique": the same partitions, nothing else (what
  the constraint is added to);
- "floor: plain table + unique btree": one ordinary table with the same
  indexes plus ``UNIQUE (id)``: what uniqueness costs where PostgreSQL can
  enforce it with one index.

unique_insert_4x: single-row INSERTs (autocommit, one statement each) from 4
threads, each its own connection, rows spread over the 30 days.
unique_copy_1M: one COPY of 1,000,000 rows (ts, payload), spread over the 30
days. The ratios asked for are throughputs, gu / floor = floor time / gu
time (targets: >= 0.7 for single rows, >= 0.5 for COPY); also against the
same partitioned table without the constraint.

unique_naive_10 / unique_naive_1000: COPY of 5,000 rows into the newest 10
days of a table with 10 or 1,000 daily partitions: pgpart's constraint,
the naive alternative (a BEFORE INSERT row trigger taking a transaction
advisory lock on the id's hash, then probing every partition through the
parent for the id; correct at READ COMMITTED, as each probe runs after the
lock with a new snapshot), and no uniqueness. pgpart's cost stays flat with
the partition count; the naive one grows with it.

``--small`` (run.py) divides the row counts by 10, for a quick try.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
from collections.abc import Callable
from itertools import pairwise

from common import TABLE_DDL, Bench, Case, Conn, Row, day_literal, result, run_script, scalar

GU = "pgpart global unique"
PART = "partitioned, no global unique"
FLOOR = "floor: plain table + unique btree"
NAIVE = "naive: advisory lock + probe every partition"
NONE = "no uniqueness"
THREADS = 4

NAIVE_TRIGGER = """
CREATE FUNCTION naive_unique() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.id::text, 0));
    IF EXISTS (SELECT 1 FROM u WHERE id = NEW.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = format('duplicate id %s', NEW.id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER naive_unique BEFORE INSERT ON u FOR EACH ROW EXECUTE FUNCTION naive_unique();
"""


def partitions(conn: Conn, first: dt.date, days: int) -> None:
    bounds = [first + dt.timedelta(days=i) for i in range(days + 1)]
    run_script(
        conn,
        [
            f"CREATE TABLE u_p{lo:%Y%m%d} PARTITION OF u FOR VALUES FROM ({day_literal(lo)}) TO ({day_literal(hi)})"
            for lo, hi in pairwise(bounds)
        ],
    )


def csv_rows(rows: int, first: dt.date, days: int) -> bytes:
    """ROWS lines "ts,payload", spread evenly (out of order) over DAYS days from FIRST."""
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    step = dt.timedelta(days=days) / rows
    return "".join(f"{(start + step * ((i * 7919) % rows)).isoformat()},row {i}\n" for i in range(rows)).encode()


def copy(data: bytes) -> Callable[[Conn], None]:
    def action(conn: Conn) -> None:
        with conn.cursor() as cur, cur.copy("COPY u (ts, payload) FROM STDIN (FORMAT csv)") as cp:
            for i in range(0, len(data), 1 << 20):
                cp.write(data[i : i + (1 << 20)])

    return action


def counted(rows: int) -> Callable[[Conn], str | None]:
    def check(conn: Conn) -> str | None:
        got = scalar(conn, "SELECT count(*) FROM u")
        return None if got == rows else f"CHECK FAILED: {got} rows"

    return check


def gu_checked(rows: int) -> Callable[[Conn], str | None]:
    def check(conn: Conn) -> str | None:
        got = scalar(conn, "SELECT (SELECT count(*) FROM u) || '/' || (SELECT count(*) FROM u_id_gkey_values)")
        return None if got == f"{rows}/{rows}" else f"CHECK FAILED: rows/side entries {got}"

    return check


def ratio_lines(label: str, got: dict[str, tuple[list[float], str]], names: list[str], target: float) -> list[str]:
    med = {n: statistics.median(got[n][0]) if got[n][0] else float("nan") for n in names}
    gu, part, floor = (med[n] for n in names)
    verdict = "met" if floor / gu >= target else "MISSED"
    return [
        f"- {label}: throughput pgpart global unique / floor (plain table + unique btree) = {floor / gu:.2f}"
        f" (target >= {target:g}: {verdict}); / same partitioned table without it = {part / gu:.2f}",
    ]


def run_insert(b: Bench) -> list[Row | str]:
    per_thread = 500 if b.small else 5_000
    rows = per_thread * THREADS
    first = b.today - dt.timedelta(days=29)
    b.template_once("unique_gu", lambda c: build(c, first, 30, gu=True), base="base_pgpart")
    b.template_once("unique_part", lambda c: build(c, first, 30), base="base_pgpart")
    b.template_once("unique_plain", build_plain, base="base_plain")
    statement = (
        f"INSERT INTO u (ts, payload) VALUES ({day_literal(first)}::timestamptz + random() * interval '30 days', 'x')"
    )

    def insert_4x(conn: Conn) -> None:
        errors: list[BaseException] = []
        conns = [b.connect(conn.info.dbname) for _ in range(THREADS)]
        go = threading.Event()

        def work(c: Conn) -> None:
            try:
                go.wait()
                for _ in range(per_thread):
                    c.execute(statement)
            except BaseException as e:  # reported below, in the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        for c in conns:
            c.close()
        if errors:
            raise errors[0]

    got = b.compare(
        [
            Case(GU, "unique_gu", insert_4x, gu_checked(rows)),
            Case(PART, "unique_part", insert_4x, counted(rows)),
            Case(FLOOR, "unique_plain", insert_4x, counted(rows)),
        ]
    )
    m = f"unique_insert_4x{per_thread}"
    text = f"{THREADS} sessions x {per_thread} single-row INSERTs (autocommit)"
    return [
        result(m, got, GU, text, floor=FLOOR),
        result(m, got, PART, text, floor=FLOOR),
        result(m, got, FLOOR, text),
        "\n".join(ratio_lines(m, got, [GU, PART, FLOOR], 0.7)),
    ]


def run_copy(b: Bench) -> list[Row | str]:
    rows = 100_000 if b.small else 1_000_000
    first = b.today - dt.timedelta(days=29)
    b.template_once("unique_gu", lambda c: build(c, first, 30, gu=True), base="base_pgpart")
    b.template_once("unique_part", lambda c: build(c, first, 30), base="base_pgpart")
    b.template_once("unique_plain", build_plain, base="base_plain")
    action = copy(csv_rows(rows, first, 30))
    got = b.compare(
        [
            Case(GU, "unique_gu", action, gu_checked(rows)),
            Case(PART, "unique_part", action, counted(rows)),
            Case(FLOOR, "unique_plain", action, counted(rows)),
        ]
    )
    m = f"unique_copy_{rows // 1000}k"
    text = f"one COPY of {rows:,} rows over 30 days"
    return [
        result(m, got, GU, text, floor=FLOOR),
        result(m, got, PART, text, floor=FLOOR),
        result(m, got, FLOOR, text),
        "\n".join(ratio_lines(m, got, [GU, PART, FLOOR], 0.5)),
    ]


def run_naive(b: Bench, days: int) -> list[Row | str]:
    rows = 500 if b.small else 5_000
    first = b.today - dt.timedelta(days=days - 1)
    newest = b.today - dt.timedelta(days=9)
    gu, naive, none = (f"unique_n{days}_{k}" for k in ("gu", "naive", "none"))
    b.template(gu, lambda c: build(c, first, days, gu=True), base="base_pgpart")
    b.template(naive, lambda c: build(c, first, days, naive=True), base="base_plain")
    b.template(none, lambda c: build(c, first, days), base="base_plain")
    action = copy(csv_rows(rows, newest, 10))
    got = b.compare(
        [
            Case(GU, gu, action, gu_checked(rows)),
            Case(NAIVE, naive, action, counted(rows)),
            Case(NONE, none, action, counted(rows)),
        ]
    )
    m = f"unique_naive_{days}"
    text = f"COPY of {rows:,} rows into the newest 10 of {days} partitions"
    return [
        result(m, got, GU, text, floor=NONE),
        result(m, got, NAIVE, text, floor=NONE),
        result(m, got, NONE, text),
    ]


def build(conn: Conn, first: dt.date, days: int, gu: bool = False, naive: bool = False) -> None:
    conn.execute(TABLE_DDL.format(t="u"))
    partitions(conn, first, days)
    if gu:
        conn.execute("SELECT count(*) FROM pgpart.add_global_unique('u', '{id}')")
    if naive:
        conn.execute(NAIVE_TRIGGER)


def build_plain(conn: Conn) -> None:
    conn.execute(
        "CREATE TABLE u (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL, payload text,"
        " PRIMARY KEY (id, ts), UNIQUE (id))"
    )
    conn.execute("CREATE INDEX ON u (ts)")


def run_naive_10(b: Bench) -> list[Row | str]:
    return run_naive(b, 10)


def run_naive_1000(b: Bench) -> list[Row | str]:
    return run_naive(b, 1000)
