"""Upgrades from every earlier release (DESIGN §8): a database upgraded from
release X, by ALTER EXTENSION pgpart UPDATE or by Client.install() over a
script install, has exactly the catalog of a fresh install of this version,
compared by fingerprint; and a database managed by X keeps working.

The earlier releases' install scripts are frozen in sql/released/ (and
installed by `make install`, so CREATE EXTENSION ... VERSION works)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from catalog_fingerprint import differences, fingerprint
from fix_pg import FreshDatabase
from paths import REPO_ROOT
from pgcluster import PgServer
from pgpart import _install, _script

RELEASED = sorted(
    m.group(1)
    for p in (REPO_ROOT / "sql" / "released").glob("pgpart--*.sql")
    if (m := re.fullmatch(r"pgpart--([0-9][^-]*)\.sql", p.name))
)

def test_every_earlier_release_is_frozen() -> None:
    assert "0.1.0" in RELEASED
    assert pgpart.__version__ not in RELEASED
    for version in RELEASED:  # and has a path to this version
        assert _script.upgrade_path(version, pgpart.__version__), version


@pytest.mark.parametrize("version", RELEASED)
def test_alter_extension_update_equals_a_fresh_install(
    pg: PgServer, fresh_database: FreshDatabase, version: str
) -> None:
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE EXTENSION pgpart VERSION {}").format(sql.Literal(version)))
        conn.execute("ALTER EXTENSION pgpart UPDATE")
        upgraded = fingerprint(conn, "postgres")
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgpart")
        fresh = fingerprint(conn, "postgres")
    assert upgraded[("extension", "pgpart")]["version"] == pgpart.__version__
    assert differences(fresh, upgraded) == set()


@pytest.fixture
def shipped_with_releases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package's _sql directory plus the frozen earlier install scripts,
    as a client that can install an old release would have it."""
    for built in (REPO_ROOT / "python" / "pgpart" / "_sql").glob("pgpart--*.sql"):
        (tmp_path / built.name).write_bytes(built.read_bytes())
    for frozen in (REPO_ROOT / "sql" / "released").glob("pgpart--*.sql"):
        (tmp_path / frozen.name).write_bytes(frozen.read_bytes())
    monkeypatch.setattr(_script, "_sql_dir", lambda: tmp_path)
    return tmp_path


@pytest.mark.parametrize("version", RELEASED)
def test_client_install_over_a_script_install_equals_a_fresh_one(
    pg: PgServer, fresh_database: FreshDatabase, shipped_with_releases: Path, version: str
) -> None:
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        client = pgpart.Client(conn)
        # the client offers only its own version; the installer takes any shipped one
        assert _install.install(client._session, method="script", version=version).version == version
        report = client.install()
        assert (report.method, report.action, report.previous_version, report.version) == (
            "script", "upgraded", version, pgpart.__version__,
        )  # fmt: skip
        upgraded = fingerprint(conn, "postgres")
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        pgpart.Client(conn).install(method="script")
        fresh = fingerprint(conn, "postgres")
    assert differences(fresh, upgraded) == set()


@pytest.mark.parametrize("version", RELEASED)
def test_a_database_managed_by_an_earlier_release_keeps_working(
    pg: PgServer, fresh_database: FreshDatabase, version: str
) -> None:
    """Policies, log rows and partitions made by release VERSION: after the
    upgrade maintenance goes on (creates ahead, retention drops what expired)
    and check() finds nothing wrong."""
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE EXTENSION pgpart VERSION {}").format(sql.Literal(version)))
        conn.execute("CREATE TABLE public.ev (id bigint, created timestamptz NOT NULL, PRIMARY KEY (id, created))"
                     " PARTITION BY RANGE (created)")  # fmt: skip
        conn.execute(
            "SELECT count(*) FROM pgpart.ensure_range('public.ev', '1 day', premake => 3, retention => '3 days',"
            " retention_action => 'drop', now_at => '2026-01-10 12:00+00')"
        )
        conn.execute("INSERT INTO public.ev SELECT g, '2026-01-10 00:00+00'::timestamptz + g * interval '1 hour'"
                     " FROM generate_series(0, 40) AS g")  # fmt: skip
        before = conn.execute("SELECT count(*) FROM pgpart.log").fetchone()

        conn.execute("ALTER EXTENSION pgpart UPDATE")

        assert conn.execute("SELECT count(*) FROM pgpart.log").fetchone() == before
        conn.execute("CALL pgpart.run_maintenance_proc(now_at => '2026-01-20 12:00+00')")
        names = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'public.ev'::regclass ORDER BY 1").fetchall()]  # fmt: skip
        # retention kept the last 3 days before 2026-01-20, premake made 3 ahead
        assert names[0] == "ev_p20260117"
        assert names[-1] == "ev_p20260123"
        problems = conn.execute(
            "SELECT severity, problem FROM pgpart.check(now_at => '2026-01-20 12:00+00')"
            " WHERE severity <> 'info'"
        ).fetchall()
        assert problems == []
        row: Any = conn.execute("SELECT count(*) FROM public.ev").fetchone()
        assert row == (0,)  # all 41 rows were in partitions that expired


def test_upgrade_from_0_1_0_lists_tables_its_retention_left_detached(
    pg: PgServer, fresh_database: FreshDatabase
) -> None:
    """0.1.0's journal rows carry no identity a forger could not fake, so
    0.1.1 honours none of them: a table 0.1.0's retention detached but had not
    yet dropped is named by a WARNING of the upgrade and left alone after."""
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgpart VERSION '0.1.0'")
        conn.execute("CREATE TABLE public.ev (created timestamptz NOT NULL) PARTITION BY RANGE (created)")
        conn.execute(
            "SELECT count(*) FROM pgpart.ensure_range('public.ev', '1 day', premake => 1, retention => '1 day',"
            " retention_action => 'drop', now_at => '2026-01-10 12:00+00')"
        )
        # what 0.1.0's retention does, interrupted after its detach committed
        conn.execute("SELECT pgpart._journal_detach('public.ev', 'public.ev_p20260110')")
        conn.execute("ALTER TABLE public.ev DETACH PARTITION public.ev_p20260110")
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("ALTER EXTENSION pgpart UPDATE TO '0.1.1'")
        assert [n for n in notices if "ev_p20260110" in n] == [
            "pgpart 0.1.1: table public.ev_p20260110 was detached from public.ev by retention"
            " and not yet archived or dropped"
        ]
        conn.execute("CALL pgpart.run_maintenance_proc(now_at => '2026-01-20 12:00+00')")
        assert conn.execute("SELECT to_regclass('public.ev_p20260110') IS NOT NULL").fetchone() == (True,)
