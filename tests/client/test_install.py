"""Client.install() both ways, compared by the fingerprint of DESIGN §8.

One install by CREATE EXTENSION (the server has the files), others by the
script shipped inside the Python package into fresh databases made from
template0 (as on a managed server): as superuser, and as a non-superuser who
owns the database. The fingerprints of schema pgpart must agree except for
the listed differences:

- extension membership (pg_depend 'e' entries; pg_extension itself);
- the version record of a script install (the comment of schema pgpart);
- event triggers, absent from a script install by a role that may not create
  them (a PgpartWarning says so);
- the owner of everything (the installing role), which is normalised away.
"""

from __future__ import annotations

import importlib.resources
import warnings
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgpart
from catalog_fingerprint import Fingerprint, differences, fingerprint
from fix_pg import FreshDatabase
from paths import REPO_ROOT
from pgcluster import PgServer
from pgpart import _install, _script, errors


def listed(difference: str, *, non_superuser: bool) -> bool:
    """The known differences of DESIGN §8."""
    if difference.startswith("only in the extension install: extension"):
        return True  # membership: pg_extension and its pg_depend entries
    if difference == "differs: schema pgpart comment":
        return True  # the version record of a script install
    return non_superuser and difference.startswith("only in the extension install: event trigger ")


def without_custom_settings(fp: Fingerprint) -> Fingerprint:
    """FP as a role that may not set custom parameters installs it: functions
    without their SET clauses of custom (dotted) parameters (the recursion
    guard of the event triggers, which such a role cannot create anyway)."""
    result: Fingerprint = {}
    for key, detail in fp.items():
        if key[0] == "function" and detail["config"]:
            custom = [c for c in detail["config"] if "." in c.split("=", 1)[0]]
            if custom:
                detail = dict(detail)
                detail["config"] = [c for c in detail["config"] if c not in custom] or None
                for c in custom:
                    name, value = c.split("=", 1)
                    detail["definition"] = detail["definition"].replace(f" SET \"{name}\" TO '{value}'\n", "")
        result[key] = detail
    return result


# -- fresh databases -------------------------------------------------------------

def script_has_event_triggers() -> bool:
    statements = _script.prepare(_script.install_script(pgpart.__version__))
    return any(s.kind == "event_trigger" for s in statements)


def script_sets_custom_parameters() -> bool:
    statements = _script.prepare(_script.install_script(pgpart.__version__))
    return any(_script.strip_custom_settings(s.text)[1] for s in statements)


# -- the packaged script --------------------------------------------------------


def test_packaged_scripts_are_the_built_ones() -> None:
    shipped = importlib.resources.files("pgpart") / "_sql"
    built = sorted(Path(REPO_ROOT, "sql").glob("pgpart--*.sql"))
    assert built, "run make first"
    for path in built:
        copy = shipped / path.name
        assert copy.is_file(), f"{path.name} is not shipped in the package (make copies it)"
        assert copy.read_bytes() == path.read_bytes(), f"{path.name}: the shipped copy is stale (run make)"
    assert (shipped / f"pgpart--{pgpart.__version__}.sql").is_file()


def test_prepare_strips_the_guard_and_marks_extension_only_statements() -> None:
    statements = _script.prepare(_script.install_script(pgpart.__version__))
    assert not any(s.text.lstrip().startswith("\\") for s in statements)
    dumps = [s for s in statements if s.kind == "config_dump"]
    assert dumps and all("pg_extension_config_dump" in s.text for s in dumps)
    assert not any("pg_extension_config_dump" in s.text for s in statements if s.kind == "statement")
    text = _script.install_script(pgpart.__version__)
    assert text.count("pg_extension_config_dump(") == len(dumps)


# -- installs, compared -----------------------------------------------------------


def test_install_on_a_database_with_the_extension_is_unchanged(conn: psycopg.Connection[Any]) -> None:
    report = pgpart.Client(conn).install()
    assert report == pgpart.InstallReport("extension", "unchanged", pgpart.__version__, pgpart.__version__)


def test_both_installs_have_the_same_fingerprint(pg: PgServer, fresh_database: FreshDatabase) -> None:
    extension_db, script_db = fresh_database(), fresh_database()
    with psycopg.connect(pg.dsn(extension_db), autocommit=True) as conn:
        report = pgpart.Client(conn).install()
        assert (report.method, report.action, report.version) == ("extension", "installed", pgpart.__version__)
        extension = fingerprint(conn, "postgres")
    with psycopg.connect(pg.dsn(script_db), autocommit=True) as conn:
        report = pgpart.Client(conn).install(method="script")
        assert (report.method, report.action, report.version) == ("script", "installed", pgpart.__version__)
        assert report.skipped_event_triggers == ()
        assert {kind for kind, _ in report.skipped} == {"config_dump"}
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pgpart'").fetchone() == (0,)
        script = fingerprint(conn, "postgres")
    assert len(extension) > 100
    found = differences(extension, script)
    assert {d for d in found if not listed(d, non_superuser=False)} == set()
    assert "differs: schema pgpart comment" in found
    assert any(d.startswith("only in the extension install: extension member") for d in found)
    assert script[("schema", "pgpart")]["comment"] == _install.SCHEMA_COMMENT.format(version=pgpart.__version__)


def test_script_install_by_a_non_superuser_who_owns_the_database(pg: PgServer, fresh_database: FreshDatabase) -> None:
    extension_db, owned_db = fresh_database(), fresh_database(owner="pgpart_owner")
    with psycopg.connect(pg.dsn(extension_db), autocommit=True) as conn:
        pgpart.Client(conn).install()
        extension = fingerprint(conn, "postgres")
    with psycopg.connect(pg.dsn(owned_db, "pgpart_owner"), autocommit=True) as conn:
        client = pgpart.Client(conn)
        if script_has_event_triggers() or script_sets_custom_parameters():
            with pytest.warns(errors.PgpartWarning) as record:
                report = client.install()
            messages = " ".join(str(w.message) for w in record)
            assert ("event triggers not created" in messages) == script_has_event_triggers()
            assert ("without their SET clauses" in messages) == script_sets_custom_parameters()
            assert bool(report.skipped_event_triggers) == script_has_event_triggers()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                report = client.install()
            assert report.skipped_event_triggers == ()
        # auto: the server has the files, but this role may not CREATE EXTENSION pgpart
        assert (report.method, report.action) == ("script", "installed")
        script = fingerprint(conn, "pgpart_owner")

        # and it works, for that role
        conn.execute("CREATE TABLE public.events (t timestamptz NOT NULL) PARTITION BY RANGE (t)")
        created = client.ensure("public.events", interval="1 day", premake=1, now_at="2025-03-10 12:00+00")
        assert created.created == ["public.events_p20250310", "public.events_p20250311"]
        assert [p.partition for p in client.info("public.events")] == ["events_p20250310", "events_p20250311"]
        assert client.install().action == "unchanged"
    found = differences(without_custom_settings(extension), script)
    assert {d for d in found if not listed(d, non_superuser=True)} == set()
    assert "differs: schema pgpart comment" in found


def test_script_install_is_atomic_and_idempotent(pg: PgServer, fresh_database: FreshDatabase) -> None:
    name = fresh_database()
    with psycopg.connect(pg.dsn(name)) as conn:  # not autocommit: the caller's transaction
        client = pgpart.Client(conn)
        report = client.install(method="script")
        assert report.action == "installed"
        conn.rollback()
        assert conn.execute("SELECT to_regnamespace('pgpart')").fetchone() == (None,)
        client.install(method="script")
        conn.commit()
        again = client.install()
        assert (again.method, again.action, again.previous_version) == ("script", "unchanged", pgpart.__version__)
        # the session's settings are as they were
        assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)
        assert conn.execute("SHOW check_function_bodies").fetchone() == ("on",)
        conn.rollback()


def test_a_foreign_schema_pgpart_is_refused(pg: PgServer, fresh_database: FreshDatabase) -> None:
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA pgpart")
        with pytest.raises(errors.DuplicateSchemaError):
            pgpart.Client(conn).install()
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgpart'::regnamespace").fetchone() == (
            0,
        )


@pytest.fixture
def shipped_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the package's _sql directory, for upgrade tests."""
    current = _script.install_script(pgpart.__version__)
    (tmp_path / f"pgpart--{pgpart.__version__}.sql").write_text(current)
    monkeypatch.setattr(_script, "_sql_dir", lambda: tmp_path)
    return tmp_path


def test_script_install_upgrades_through_the_shipped_upgrade_scripts(
    pg: PgServer, fresh_database: FreshDatabase, shipped_scripts: Path
) -> None:
    (shipped_scripts / f"pgpart--0.0.1--{pgpart.__version__}.sql").write_text(
        '\\echo Use "ALTER EXTENSION pgpart UPDATE" to load this file. \\quit\n'
        "CREATE FUNCTION pgpart.upgraded() RETURNS int LANGUAGE sql RETURN 1;\n"
        "ALTER EXTENSION pgpart ADD FUNCTION pgpart.upgraded();\n"
    )
    with psycopg.connect(pg.dsn(fresh_database()), autocommit=True) as conn:
        client = pgpart.Client(conn)
        client.install(method="script")
        conn.execute(
            sql.SQL("COMMENT ON SCHEMA pgpart IS {}").format(
                sql.Literal(_install.SCHEMA_COMMENT.format(version="0.0.1"))
            )
        )
        report = client.install()
        assert (report.method, report.action, report.previous_version, report.version) == (
            "script", "upgraded", "0.0.1", pgpart.__version__,
        )  # fmt: skip
        assert ("alter_extension", "ALTER EXTENSION pgpart ADD FUNCTION pgpart.upgraded();") in report.skipped
        assert conn.execute("SELECT pgpart.upgraded()").fetchone() == (1,)
        assert _install.recorded_version(client._session) == (True, pgpart.__version__)

        conn.execute(
            sql.SQL("COMMENT ON SCHEMA pgpart IS {}").format(
                sql.Literal(_install.SCHEMA_COMMENT.format(version="0.0.0"))
            )
        )
        with pytest.raises(errors.InstallError, match="no upgrade path"):
            client.install()


# -- splitting like psql ------------------------------------------------------------


def test_split_statements_like_psql() -> None:
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (a text DEFAULT 'x;y', \"b;\" int);\n"
        "/* block /* nested; */ comment */ SELECT E'it\\'s;', $$a;b$$, $tag$ $$; $tag$;\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\n"
        "SELECT (1\n;\n);\n"
        "SELECT $1, a$b FROM t"
    )
    statements = _script.split_statements(script)
    assert [s.strip().splitlines()[-1][:20] for s in statements] == [
        "CREATE TABLE t (a te",
        "/* block /* nested; ",
        "CREATE FUNCTION f() ",
        ");",
        "SELECT $1, a$b FROM ",
    ]
    assert statements[2].rstrip().endswith("END; END;")


def test_split_statements_refuses_psql_meta_commands() -> None:
    with pytest.raises(ValueError, match="meta-command"):
        _script.split_statements("SELECT 1;\n\\set x 1\nSELECT 2;")
    with pytest.raises(ValueError, match="unterminated"):
        _script.split_statements("SELECT 'x;")
