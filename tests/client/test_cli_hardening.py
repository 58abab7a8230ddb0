"""The pgpart command against hostile input (issue 12, item 5): names with
terminal escape sequences are printed escaped by every sub-command; policy
files of the wrong shape or type, bad --dsn values and connection failures
exit with the documented code and no traceback; a reader that goes away
(``| head``) ends the output quietly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cli_runner import dsn, pgpart
from clock import CLI_NOW
from pgcluster import PgServer
from pgpart import cli
from tables import EVENTS

# ESC sequences that clear the screen and set the window title, a bare BEL,
# the C1 CSI, DEL, a right-to-left override and a newline that would forge a
# line of output (26 bytes: with a partition suffix it stays within NAMEDATALEN).
HOSTILE = "ev\x1b[2J\x1b]0;own\x07\u009b31m\x7f\u202e\nOK"
# Every control character the command must never print raw (tab and newline
# are the command's own layout).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    """Nothing raw on either stream, and no traceback."""
    for stream in (done.stdout, done.stderr):
        found = RAW_CONTROL.search(stream)
        assert found is None, f"raw {found.group()!r} in {stream!r}"
    assert "Traceback" not in done.stderr, done.stderr


def hostile_table(conn: psycopg.Connection[Any]) -> str:
    """public.<HOSTILE>, shaped like public.events; its regclass text."""
    conn.execute(sql.SQL(EVENTS.replace("public.events", "public.{}")).format(sql.Identifier(HOSTILE)))
    row = conn.execute("SELECT %s::regclass::text", [f"public.{quoted(HOSTILE)}"]).fetchone()
    assert row is not None
    return str(row[0])


def test_hostile_names_are_printed_escaped(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    table = hostile_table(conn)
    assert "\x1b" in table  # the name really holds the sequences
    db = dsn(pg, dbname)
    ensured = pgpart(*db, "ensure", table, "--interval", "1 day", "--premake", "1", "--retention", "2 days",
                     "--now", "2025-03-05 12:00+00")  # fmt: skip
    assert ensured.returncode == cli.EXIT_OK, ensured.stderr
    assert_clean(ensured)
    assert "\\x1b[2J\\x1b]0;own\\x07\\u009b31m\\x7f\\u202e\\x0aOK" in ensured.stdout
    assert len(ensured.stdout.splitlines()) == 1  # the newline in the name forged no line

    runs = {
        "info": pgpart(*db, "info", "--now", CLI_NOW),
        "info TABLE": pgpart(*db, "info", table, "--now", CLI_NOW),
        "check": pgpart(*db, "check", "--now", CLI_NOW),
        "maintain --dry-run": pgpart(*db, "maintain", "--dry-run", "--now", CLI_NOW),
        "ensure --dry-run": pgpart(*db, "ensure", table, "--premake", "3", "--dry-run", "--now", CLI_NOW),
    }
    for what, done in runs.items():
        assert done.returncode in (cli.EXIT_OK, cli.EXIT_WARNING, cli.EXIT_URGENT), (what, done.stderr)
        assert_clean(done)
        assert "\\x1b[2J" in done.stdout, (what, done.stdout)

    maintained = pgpart(*db, "maintain", "--now", CLI_NOW)  # creates ahead, detaches what expired
    assert maintained.returncode == cli.EXIT_OK, maintained.stderr
    assert_clean(maintained)
    assert "\\x1b[2J" in maintained.stdout and "\\x1b[2J" in maintained.stderr  # the table, the progress lines
    assert "detach" in maintained.stdout

    # JSON escapes control characters itself: the name comes back whole.
    as_json = pgpart(*db, "info", "--json", "--now", CLI_NOW)
    assert_clean(as_json)
    assert {row["parent_table"] for row in json.loads(as_json.stdout)} == {table}


def test_hostile_names_in_errors_are_escaped(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    table = hostile_table(conn)
    db = dsn(pg, dbname)
    # the server's message quotes the name; the argument too comes back escaped
    unmanaged = pgpart(*db, "check", table)
    assert unmanaged.returncode == cli.EXIT_ERROR and "[55000]" in unmanaged.stderr
    missing = pgpart(*db, "info", "public.\x1b]52;c;cm0gcm0gfg==\x07")  # OSC 52: write the clipboard
    assert missing.returncode == cli.EXIT_ERROR and "[42P01]" in missing.stderr
    assert "\\x1b]52;c;cm0gcm0gfg==\\x07" in missing.stderr
    unknown = pgpart(*db, "info\x1b[2J")  # argparse's message quotes the argument
    assert unknown.returncode == cli.EXIT_USAGE
    for done in (unmanaged, missing, unknown):
        assert_clean(done)


def test_a_failing_table_of_a_policy_file_is_named_escaped(
    pg: PgServer, dbname: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    conn.execute(sql.SQL("CREATE TABLE public.{} (id int)").format(sql.Identifier("plain\x1b[2J")))
    conn.execute("CREATE TABLE public.ok (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)")
    policies = tmp_path / "policies.toml"
    policies.write_text(
        '[tables."public.ok"]\ninterval = "1 day"\n\n[tables."public.\\"plain\\u001b[2J\\""]\ninterval = "1 day"\n'
    )
    done = pgpart(*dsn(pg, dbname), "ensure", "--file", str(policies), "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_PARTIAL, done.stderr
    assert_clean(done)
    assert 'pgpart: public."plain\\x1b[2J": error [42P17]' in done.stderr
    assert "public.ok: created" in done.stdout


# -- policy files ---------------------------------------------------------------------

BAD_POLICY_FILES = {
    # name: (content, what the message names)
    "interval = true": (b'[tables."public.events"]\ninterval = true\n', "interval must be a string or an integer"),
    "not UTF-8": (b'[tables."public.events"]\ninterval = "1 d\xffy"\n', "not UTF-8"),
    "latin-1 BOM-less": (b'[tables."public.\xe9v"]\ninterval = "1 day"\n', "not UTF-8"),
    "not TOML": (b"[tables\ninterval = 1 day\n", "invalid TOML"),
    "tables a number": (b"tables = 5\n", "tables must be tables"),
    "tables an array": (b'tables = ["public.events"]\n', "tables must be tables"),
    "a table that is a string": (b'[tables]\n"public.events" = "1 day"\n', "table public.events must be a table"),
    "defaults an array": (b'defaults = [1]\n[tables."public.events"]\ninterval = "1 day"\n', "defaults must be"),
    "default of the wrong type": (b'[defaults]\npremake = "7"\n[tables."public.events"]\n', "premake must be"),
    "premake a float": (b'[tables."public.events"]\npremake = 1.5\n', "premake must be an integer"),
    "premake out of range": (b'[tables."public.events"]\npremake = 99999999999\n', "out of range"),
    "premake a boolean": (b'[tables."public.events"]\npremake = true\n', "premake must be an integer"),
    "default_partition a string": (b'[tables."public.events"]\ndefault_partition = "yes"\n', "default_partition"),
    "interval a date": (b'[tables."public.events"]\ninterval = 2025-03-10\n', "not a date or time"),
    "interval an inline table": (b'[tables."public.events"]\ninterval = {days = 1}\n', "not a table"),
    "tablespace a number": (b'[tables."public.events"]\ntablespace = 5\n', "tablespace must be a string"),
    "NUL in a value": (b'[tables."public.events"]\ninterval = "1 day\\u0000"\n', "NUL"),
    "NUL in a name": (b'[tables."public.ev\\u0000"]\ninterval = "1 day"\n', "not a table name"),
    "unknown key": (b'[tables."public.events"]\nintervall = "1 day"\n', "unknown key 'intervall'"),
    "unknown section": (b'[table."public.events"]\ninterval = "1 day"\n', "unknown sections"),
    "no tables": (b"[defaults]\npremake = 1\n", "no [tables."),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICY_FILES))
def test_bad_policy_files_are_usage_errors(
    case: str, pg: PgServer, dbname: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    content, named = BAD_POLICY_FILES[case]
    conn.execute(EVENTS)
    policies = tmp_path / "policies.toml"
    policies.write_bytes(content)
    done = pgpart(*dsn(pg, dbname), "ensure", "--file", str(policies), "--now", CLI_NOW)
    assert done.returncode == cli.EXIT_USAGE, done.stdout + done.stderr
    assert_clean(done)
    assert done.stderr.startswith(f"pgpart: {policies}"), done.stderr  # the file is named
    assert named in done.stderr
    assert done.stdout == ""
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (0,)  # nothing was done


def test_policy_files_are_read_before_connecting(tmp_path: Path) -> None:
    policies = tmp_path / "policies.toml"
    policies.write_bytes(b'[tables."public.events"]\ninterval = true\n')
    nowhere = ["--dsn", f"host={tmp_path} port=1"]  # no server there
    done = pgpart(*nowhere, "ensure", "--file", str(policies))
    assert done.returncode == cli.EXIT_USAGE and "interval must be" in done.stderr
    for path in (tmp_path / "missing.toml", tmp_path):  # missing; a directory
        unreadable = pgpart(*nowhere, "ensure", "--file", str(path))
        assert unreadable.returncode == cli.EXIT_USAGE, unreadable.stderr
        assert unreadable.stderr.startswith(f"pgpart: cannot read policy file {path}: ")
        assert_clean(unreadable)


def test_the_policy_keys_of_the_options_are_the_file_keys() -> None:
    assert sorted(cli._POLICY_KEY_KINDS) == sorted(cli._ENSURE_KEYS)


# -- arguments and connections --------------------------------------------------------


def test_bad_options_are_usage_errors(pg: PgServer, dbname: str) -> None:
    db = dsn(pg, dbname)
    for args in (
        ["ensure", "public.events", "--premake", "99999999999"],  # not a SQL integer
        ["ensure", "public.events", "--premake", "seven"],
        ["maintain", "--lock-retries", "-99999999999"],
        ["maintain", "--move-default-rows"],  # needs a TABLE
        ["ensure"],
        ["info", "a", "b"],
    ):
        done = pgpart(*db, *args)
        assert done.returncode == cli.EXIT_USAGE, (args, done.stderr)
        assert_clean(done)


def test_a_huge_dsn_host_is_a_connection_failure() -> None:
    done = pgpart("--dsn", "host=" + "a" * 100_000, "info")
    assert done.returncode == cli.EXIT_ERROR, done.stderr[:2000]
    assert done.stderr.startswith("pgpart: error [08006]: cannot connect"), done.stderr[:2000]
    assert_clean(done)


def test_a_huge_host_from_the_environment_is_a_connection_failure() -> None:
    import os

    env = {**os.environ, "PGHOST": "b" * 100_000}
    done = pgpart("info", env=env)
    assert done.returncode == cli.EXIT_ERROR, done.stderr[:2000]
    assert_clean(done)


def test_a_dsn_that_is_no_connection_string_is_a_usage_error() -> None:
    for bad in ("x" * 100_000, "foo=bar", "host='unterminated", "postgresql://[::1"):
        done = pgpart("--dsn", bad, "info")
        assert done.returncode == cli.EXIT_USAGE, (bad[:40], done.stderr[:2000])
        assert done.stderr.startswith("pgpart: --dsn is not a connection string: ")
        assert_clean(done)


def test_no_server_is_a_connection_failure(tmp_path: Path) -> None:
    done = pgpart("--dsn", f"host={tmp_path} port=1", "check")
    assert done.returncode == cli.EXIT_ERROR  # for check: "unknown"
    assert done.stderr.startswith("pgpart: error [08006]: "), done.stderr
    assert_clean(done)
    refused = pgpart("--dsn", f"host={tmp_path} port=1 connect_timeout=\x1b[2J", "info")
    assert refused.returncode in (cli.EXIT_ERROR, cli.EXIT_USAGE)
    assert_clean(refused)


# -- a reader that goes away ----------------------------------------------------------


def closed_pipe(*args: str) -> tuple[int, str]:
    """Run the command with its standard output a pipe whose reader has
    already gone (like ``| head`` after its lines): (exit code, stderr)."""
    with subprocess.Popen(
        [sys.executable, "-m", "pgpart", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # before the child writes anything
        err = child.stderr.read()
        return child.wait(timeout=300), err


def test_a_closed_pipe_ends_quietly(pg: PgServer, dbname: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(EVENTS)
    conn.execute(EVENTS.replace("public.events", "public.clicks"))
    db = dsn(pg, dbname)
    policies = tmp_path / "policies.toml"
    policies.write_text(
        '[tables."public.events"]\ninterval = "1 day"\n\n[tables."public.clicks"]\ninterval = "1 day"\n'
    )
    code, err = closed_pipe(*db, "ensure", "--file", str(policies), "--now", CLI_NOW)
    assert (code, err) == (cli.EXIT_OK, "")
    # the work was not cut short by the first line that could not be written
    assert conn.execute("SELECT count(*) FROM pgpart.config").fetchone() == (2,)
    for args in (
        ["info", "--now", CLI_NOW],
        ["check", "--now", CLI_NOW],
        ["maintain", "--dry-run", "--now", CLI_NOW],
        ["--help"],
    ):
        code, err = closed_pipe(*db, *args)
        assert (code, err) == (cli.EXIT_OK, ""), args
    late = closed_pipe(*db, "check", "--now", "2025-06-10 12:00+00")  # the partitions ran out
    assert late[0] in (cli.EXIT_WARNING, cli.EXIT_URGENT) and late[1] == ""


def test_names_the_terminal_cannot_encode_are_escaped(pg: PgServer, dbname: str, conn: psycopg.Connection[Any]) -> None:
    import os

    conn.execute(sql.SQL(EVENTS.replace("public.events", "public.{}")).format(sql.Identifier("évènements")))
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}  # a terminal (or cron mail) without UTF-8
    db = dsn(pg, dbname)
    done = pgpart(
        *db, "ensure", "public.évènements", "--interval", "1 day", "--premake", "0", "--now", CLI_NOW, env=env
    )
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert done.stdout == 'public.\\xe9v\\xe8nements: created public."\\xe9v\\xe8nements_p20250310"\n'
    missing = pgpart(*db, "info", "public.ñ", env=env)
    assert missing.returncode == cli.EXIT_ERROR
    assert "\\xf1" in missing.stderr
    assert "Traceback" not in missing.stderr
