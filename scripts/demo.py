"""make demo: pgpart on a throwaway server, from install to partition_info().

Run by `make demo`, which installs the extension first. The demo itself is
pgpart.demo (also `pgpart demo` against any database); this script only
provides the throwaway server.
"""

from __future__ import annotations

import psycopg
from pgcluster import PgServer

from pgpart import demo


def main() -> None:
    with PgServer() as server, psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        demo.run(conn)


if __name__ == "__main__":
    main()
