"""The README's demo: pgpart from install to partition_info(), then the
``pgpart info`` and ``pgpart maintain --dry-run`` views of the result.

``pgpart demo`` runs it on the database it is connected to, in a schema of
its own (``pgpart_demo``); ``make demo`` (scripts/demo.py) runs it on a
throwaway server.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from psycopg import sql

from .client import Client
from .output import Output, print_info, print_plan

__all__ = ["SCHEMA", "STEPS", "run"]

SCHEMA = "pgpart_demo"

STEPS = [
    f"CREATE SCHEMA {SCHEMA}",
    f"""CREATE TABLE {SCHEMA}.events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_at timestamptz NOT NULL,
    payload jsonb
) PARTITION BY RANGE (created_at)""",
    f"CREATE INDEX ON {SCHEMA}.events (created_at)",
    f"SELECT * FROM pgpart.create_range_partitions('{SCHEMA}.events', '1 day', premake => 7)",
    f"""INSERT INTO {SCHEMA}.events (created_at, payload)
SELECT now() + i * interval '7 days' / 1000, jsonb_build_object('n', i)
FROM generate_series(0, 999) AS i""",
    f"ANALYZE {SCHEMA}.events",  # row estimates for partition_info (autovacuum may not have run yet)
    f"SELECT * FROM pgpart.partition_info('{SCHEMA}.events')",
]


def print_result(description: list[str], rows: list[tuple[Any, ...]], out: Output) -> None:
    """A result like psql prints it: aligned columns, then a row count."""
    cells = [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(map(len, column)) for column in zip(description, *cells, strict=True)]
    out.write(" | ".join(name.ljust(width) for name, width in zip(description, widths, strict=True)) + "\n")
    out.write("-+-".join("-" * width for width in widths) + "\n")
    for row in cells:
        out.write(" | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) + "\n")
    out.write(f"({len(rows)} rows)\n\n")


def run(conn: Any, *, out: Output = sys.stdout, reset: bool = False) -> None:
    """The demo on CONN (a psycopg 3 connection in autocommit mode)."""
    client = Client(conn)
    out.write("=> pgpart.Client(conn).install()\n")
    report = client.install()
    out.write(f"{report}\n\n")
    if reset:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
    for statement in STEPS:
        out.write(f"=> {statement};\n")
        cur = conn.execute(statement)
        if cur.description is not None:
            print_result([c.name for c in cur.description], cur.fetchall(), out)
        else:
            out.write(f"{cur.statusmessage}\n\n")
    out.write(f"$ pgpart info {SCHEMA}.events\n")
    print_info(client.info(f"{SCHEMA}.events"), out)
    out.write(f"\n$ pgpart maintain --dry-run {SCHEMA}.events\n")
    print_plan(client.maintain(f"{SCHEMA}.events", dry_run=True), out)


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
