"""The README's demo: the whole life of a partitioned table in under a minute.

A table is partitioned by day, gets rows, then "days pass" (every call takes
``now_at``, so the demo moves the clock instead of waiting): maintenance
creates the days ahead and drops the expired ones; a row far in the future
spills into the default partition, ``check()`` reports it with its fix, the
fix runs and the finding is gone. Every step prints the SQL it runs and a
narrow result (fits 100 columns).

``pgpart demo`` runs it on the database it is connected to, in a schema of
its own (``pgpart_demo``); ``make demo`` (scripts/demo.py) runs it on a
throwaway server.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from psycopg import sql

from .client import Client
from .output import Output, print_info, print_plan

__all__ = ["SCHEMA", "STEPS", "run"]

SCHEMA = "pgpart_demo"
WIDTH = 100
TABLE = f"{SCHEMA}.events"
DAY0 = "2026-01-01 00:00+00"  # the demo's "today": fixed, so its output is the same every run
A_WEEK_LATER = "2026-01-08 00:00+00"

CHECK = f"SELECT severity, code, fix FROM pgpart.check('{TABLE}', now_at => '{A_WEEK_LATER}')"
FIX = "-- the fix column of the first finding above"

# (what the step shows, the SQL). Results are printed like psql prints them.
STEPS: list[tuple[str, str]] = [
    ("A table partitioned by day", f"CREATE SCHEMA {SCHEMA}"),
    (
        "",
        f"""CREATE TABLE {TABLE} (
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_at timestamptz NOT NULL,
    payload jsonb
) PARTITION BY RANGE (created_at)""",
    ),
    ("", f"CREATE INDEX ON {TABLE} (created_at)"),
    (
        "pgpart creates today's partition, 3 days ahead and a default; keeps 3 days, drops older ones",
        f"""SELECT action, partition
FROM pgpart.create_range_partitions('{TABLE}', '1 day', premake => 3, time_zone => 'UTC',
                                    default_partition => true, now_at => '{DAY0}')""",
    ),
    (
        "",
        f"""SELECT parent, retention
FROM pgpart.set_policy('{TABLE}', retention => '3 days', retention_action => 'drop')""",
    ),
    (
        "Rows arrive: 1000 events over the next 4 days",
        f"""INSERT INTO {TABLE} (created_at, payload)
SELECT timestamptz '{DAY0}' + i * interval '4 days' / 1000, jsonb_build_object('n', i)
FROM generate_series(0, 999) AS i""",
    ),
    ("", f"ANALYZE {TABLE}"),
    (
        "What pgpart sees (catalog only: estimates, sizes, runway)",
        f"""SELECT partition, lower_bound, upper_bound, estimated_rows AS rows
FROM pgpart.partition_info('{TABLE}', now_at => '{DAY0}')""",
    ),
    (
        "A week passes. The hourly job (pg_cron, cron or `pgpart maintain`) runs; first its dry run",
        f"""SELECT action, count(*) AS steps, min(partition) AS first, max(partition) AS last
FROM pgpart.run_maintenance('{TABLE}', now_at => '{A_WEEK_LATER}', dry_run => true)
GROUP BY action ORDER BY min(step)""",
    ),
    (
        "Then the real run: days ahead created, expired days dropped",
        f"CALL pgpart.run_maintenance_proc('{TABLE}', now_at => '{A_WEEK_LATER}')",
    ),
    (
        "",
        f"""SELECT partition, lower_bound, upper_bound, estimated_rows AS rows
FROM pgpart.partition_info('{TABLE}', now_at => '{A_WEEK_LATER}')""",
    ),
    (
        "A row from next week lands in the default partition; check() finds it and says how to fix it",
        f"INSERT INTO {TABLE} (created_at) VALUES ('2026-01-15 10:00+00')",
    ),
    ("", CHECK),
    ("The fix: its day gets a partition and the row moves there", f"CALL pgpart.move_default_rows('{TABLE}')"),
    ("check() now sees the days between the runway and that partition", CHECK),
    ("Run the fix check() gives, as it is", FIX),
    ("", CHECK),
    ("", f"SELECT tableoid::regclass AS partition, created_at FROM {TABLE} WHERE created_at >= '2026-01-15'"),
]


def print_result(description: list[str], rows: list[tuple[Any, ...]], out: Output) -> None:
    """A result like psql prints it: aligned columns, then a row count."""
    cells = [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(map(len, column)) for column in zip(description, *cells, strict=True)]
    out.write(" | ".join(name.ljust(width) for name, width in zip(description, widths, strict=True)).rstrip() + "\n")
    out.write("-+-".join("-" * width for width in widths) + "\n")
    for row in cells:
        out.write(" | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})\n\n")


def wrap(text: str, indent: str) -> str:
    """TEXT with each line longer than the demo's 100 columns broken at spaces."""
    return "\n".join(
        textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        for line in text.splitlines()
    )


def print_findings(findings: list[tuple[Any, ...]], out: Output) -> None:
    """check()'s (severity, code, fix) rows, one finding per paragraph (fixes are long)."""
    for severity, code, fix in findings:
        out.write(f"{severity}: {code}\n")
        out.write(wrap(f"   fix: {fix}", "        ") + "\n")
    out.write(f"({len(findings)} {'finding' if len(findings) == 1 else 'findings'})\n\n")


def run(conn: Any, *, out: Output = sys.stdout, reset: bool = False) -> None:
    """The demo on CONN (a psycopg 3 connection in autocommit mode)."""
    client = Client(conn)
    out.write("=> pgpart.Client(conn).install()\n")
    report = client.install()
    out.write(f"pgpart {report.version}: {report.action} ({report.method})\n\n")
    if reset:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    fix = ""
    for title, statement in STEPS:
        if title:
            out.write(f"-- {title}\n")
        if statement == FIX:
            statement = fix
        out.write(wrap(f"=> {statement}{'' if statement.endswith(';') else ';'}", "   ") + "\n")
        cur = conn.execute(statement)
        if statement == CHECK:
            findings = cur.fetchall()
            fix = findings[0][2] if findings else ""
            print_findings(findings, out)
            continue
        if cur.description is not None:
            names = [c.name for c in cur.description]
            rows = cur.fetchall()
            if "statement" in names:  # a plan: its statements and locks are too wide for the demo
                keep = [i for i, name in enumerate(names) if name in ("action", "partition")]
                names, rows = [names[i] for i in keep], [tuple(row[i] for i in keep) for row in rows]
            print_result(names, rows, out)
        else:
            out.write(f"{cur.statusmessage}\n\n")
    out.write("-- The same from the command line (what `pgpart info` and `pgpart maintain` print)\n")
    out.write(f"$ pgpart info {TABLE} --now '{A_WEEK_LATER}'\n")
    print_info(client.info(TABLE, now_at=A_WEEK_LATER), out)
    out.write(f"\n$ pgpart maintain --dry-run {TABLE} --now '{A_WEEK_LATER}'\n")
    print_plan(client.maintain(TABLE, dry_run=True, now_at=A_WEEK_LATER), out)
    out.write(
        "\n-- Scheduling: maintenance every hour, as the table's owner (docs/operations.md)\n"
        "--   SELECT cron.schedule_in_database('pgpart-maintenance', '7 * * * *',\n"
        "--          'CALL pgpart.run_maintenance_proc()', current_database(), username => 'app');\n"
    )


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default="")
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        run(conn, reset=args.reset)


if __name__ == "__main__":
    main()
