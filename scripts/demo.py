"""make demo: pgpart on a throwaway server, from CREATE EXTENSION to partition_info().

Run by `make demo`, which installs the extension first.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pgserver import PgServer

STEPS = [
    "CREATE EXTENSION pgpart",
    """CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    created_at timestamptz NOT NULL,
    payload jsonb
) PARTITION BY RANGE (created_at)""",
    "CREATE INDEX ON events (created_at)",
    "SELECT * FROM pgpart.create_range_partitions('events', '1 day', premake => 7)",
    """INSERT INTO events (created_at, payload)
SELECT now() + i * interval '7 days' / 1000, jsonb_build_object('n', i)
FROM generate_series(0, 999) AS i""",
    "ANALYZE events",  # row estimates for partition_info (the throwaway server runs no autovacuum)
    "SELECT * FROM pgpart.partition_info('events')",
]


def print_table(cur: psycopg.Cursor[Any]) -> None:
    """Print the result like psql does: aligned columns, then a row count."""
    assert cur.description is not None
    names = [column.name for column in cur.description]
    rows = [["" if value is None else str(value) for value in row] for row in cur.fetchall()]
    widths = [max(map(len, column)) for column in zip(names, *rows)]
    print(" | ".join(name.ljust(width) for name, width in zip(names, widths)))
    print("-+-".join("-" * width for width in widths))
    for row in rows:
        print(" | ".join(value.ljust(width) for value, width in zip(row, widths)))
    print(f"({len(rows)} rows)\n")


def main() -> None:
    with PgServer() as server, psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        for statement in STEPS:
            print(f"=> {statement};")
            cur = conn.execute(statement)
            if cur.description is not None:
                print_table(cur)
            else:
                print(f"{cur.statusmessage}\n")


if __name__ == "__main__":
    main()
