"""A global unique constraint survives pg_dump and restore
(docs/global-unique.md "pg_dump and restore"): dumped with the pg_dump of
the server under test, restored into a fresh database, the constraint still
refuses duplicates across partitions (through the parent and through a
partition), check() is clean, and partitions made afterwards are recorded."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors

from fix_pg import FreshDatabase
from pgcluster import PgServer

Conn = psycopg.Connection[Any]


# Rows written straight into a partition carry their id: before PostgreSQL 17
# a partition has no identity of its own (OVERRIDING SYSTEM VALUE for 17+).


def setup_source(owner_conn: Conn) -> None:
    owner_conn.execute(
        "CREATE TABLE acc (id bigint GENERATED ALWAYS AS IDENTITY, created timestamptz NOT NULL, email text,"
        " PRIMARY KEY (id, created)) PARTITION BY RANGE (created)"
    )
    for day in ("01", "02", "03"):
        owner_conn.execute(
            f"CREATE TABLE acc_202601{day} PARTITION OF acc"
            f" FOR VALUES FROM ('2026-01-{day} 00:00+00') TO ('2026-01-{day} 00:00+00'::timestamptz + interval '1 day')"
        )
    owner_conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON acc TO pgpart_other")
    owner_conn.execute(
        "SELECT count(*) FROM pgpart.add_global_unique('acc', '{email}')"
    )  # grants on the side table too
    owner_conn.execute(
        "INSERT INTO acc (created, email) VALUES ('2026-01-01 10:00+00', 'a'), ('2026-01-02 10:00+00', 'b'),"
        " ('2026-01-03 10:00+00', NULL), ('2026-01-03 11:00+00', NULL)"
    )
    # a partition made by hand after the constraint: recorded by the event trigger
    owner_conn.execute("CREATE TABLE acc_20260104 PARTITION OF acc FOR VALUES FROM ('2026-01-04') TO ('2026-01-05')")
    owner_conn.execute(
        "INSERT INTO acc_20260104 (id, created, email) OVERRIDING SYSTEM VALUE VALUES (901, '2026-01-04 10:00+00', 'c')"
    )


def dump_and_restore(
    pg: PgServer, source: str, target: str, options: str, tmp: Path
) -> subprocess.CompletedProcess[str]:
    """pg_dump -Fc of SOURCE, pg_restore into TARGET with PGOPTIONS=OPTIONS
    (the server's own binaries: pg_config --bindir)."""
    env = {**os.environ, "PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": "postgres"}
    dump = tmp / "dump"
    subprocess.run([str(pg.bindir / "pg_dump"), "-Fc", "-f", str(dump), source], env=env, check=True)
    return subprocess.run(
        [str(pg.bindir / "pg_restore"), "--exit-on-error", "-d", target, str(dump)],
        env={**env, "PGOPTIONS": options},
        capture_output=True,
        text=True,
        check=False,
    )


def findings(conn: Conn) -> list[tuple[str, str | None]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT code, fix FROM pgpart.check() ORDER BY 1, 2")]


def test_restored_constraint_refuses_duplicates_and_check_is_clean(
    pg: PgServer, owner_conn: Conn, dbname: str, fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    setup_source(owner_conn)
    assert findings(owner_conn) == []
    target = fresh_database()
    result = dump_and_restore(pg, dbname, target, "-c pgpart.event_triggers=off", tmp_path)
    assert result.returncode == 0, result.stderr

    with psycopg.connect(pg.dsn(target), autocommit=True) as restored:
        assert findings(restored) == []
        assert restored.execute(
            "SELECT unique_constraint, state, partitions, unrecorded_partitions FROM pgpart.global_unique_info('acc')"
        ).fetchall() == [("acc_email_gkey", "valid", 4, 0)]
        assert restored.execute("SELECT email FROM acc_email_gkey_values ORDER BY 1").fetchall() == [
            ("a",),
            ("b",),
            ("c",),
        ]
    with psycopg.connect(pg.dsn(target, "pgpart_other"), autocommit=True) as writer:
        # through the parent, into another partition than the holder's
        with pytest.raises(errors.UniqueViolation) as exc:
            writer.execute("INSERT INTO acc (created, email) VALUES ('2026-01-02 12:00+00', 'a')")
        assert exc.value.diag.constraint_name == "acc_email_gkey"
        writer.execute("INSERT INTO acc (created, email) VALUES ('2026-01-04 12:00+00', 'd')")
        writer.execute("UPDATE acc SET email = 'e' WHERE email = 'a'")
        writer.execute("INSERT INTO acc (created, email) VALUES ('2026-01-03 12:00+00', 'a')")  # freed by the update
    with psycopg.connect(pg.dsn(target), autocommit=True) as restored:
        # straight into a partition, and into the one made by hand
        with pytest.raises(errors.UniqueViolation):
            restored.execute(
                "INSERT INTO acc_20260101 (id, created, email) OVERRIDING SYSTEM VALUE"
                " VALUES (902, '2026-01-01 12:00+00', 'b')"
            )
        with pytest.raises(errors.UniqueViolation):
            restored.execute(
                "INSERT INTO acc_20260104 (id, created, email) OVERRIDING SYSTEM VALUE"
                " VALUES (903, '2026-01-04 12:00+00', 'a')"
            )
        restored.execute("TRUNCATE acc_20260102")
        restored.execute("INSERT INTO acc (created, email) VALUES ('2026-01-01 13:00+00', 'b')")  # freed by TRUNCATE
        # after the restore, the event triggers record new partitions again
        restored.execute("CREATE TABLE acc_20260105 PARTITION OF acc FOR VALUES FROM ('2026-01-05') TO ('2026-01-06')")
        with pytest.raises(errors.UniqueViolation):
            restored.execute(
                "INSERT INTO acc_20260105 (id, created, email) OVERRIDING SYSTEM VALUE"
                " VALUES (904, '2026-01-05 10:00+00', 'c')"
            )
        assert restored.execute("SELECT email FROM acc_email_gkey_values ORDER BY 1").fetchall() == [
            ("a",),
            ("b",),
            ("c",),
            ("d",),
            ("e",),
        ]
        assert findings(restored) == []


def test_restore_with_the_event_triggers_on_fails_at_the_unique_index(
    pg: PgServer, owner_conn: Conn, dbname: str, fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    """Why the docs say to restore with the event triggers off: DDL that
    pg_restore runs on the partitions after the data makes the event trigger
    record a partition whose values the restored side table already holds,
    before the side table's unique index exists: the values are copied a
    second time, and the index cannot be built."""
    setup_source(owner_conn)
    result = dump_and_restore(pg, dbname, fresh_database(), "", tmp_path)
    assert result.returncode != 0
    assert 'could not create unique index "acc_email_gkey"' in result.stderr
