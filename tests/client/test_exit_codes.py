"""One table of exit codes for ``pgpart`` and ``manage.py pgpart``
(pgpart.output.ExitCode; issue 13, item 4): the same situation exits with
the same code from either command."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from typing import Any

from django_helpers import manage, query
from pgpart import cli
from pgpart.output import ExitCode, check_exit_code


def pgpart(pg: Any, dbname: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgpart", "--dsn", pg.dsn(dbname, "pgpart_owner"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def call(*args: str) -> tuple[int, str]:
    """manage.py pgpart in this process: (exit code, output)."""
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    try:
        call_command("pgpart", *args, stdout=out, stderr=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_the_table() -> None:
    assert [(c.name, int(c)) for c in ExitCode] == [
        ("OK", 0), ("WARNING", 1), ("URGENT", 2), ("ERROR", 3), ("PARTIAL", 4), ("USAGE", 64), ("INTERRUPTED", 130),
    ]  # fmt: skip
    # the command's names are the table's
    assert (cli.EXIT_OK, cli.EXIT_WARNING, cli.EXIT_URGENT, cli.EXIT_ERROR) == (0, 1, 2, 3)
    assert (cli.EXIT_PARTIAL, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED) == (4, 64, 130)
    assert check_exit_code([]) == ExitCode.OK
    assert check_exit_code(["info"]) == ExitCode.OK
    assert check_exit_code(["info", "warning"]) == ExitCode.WARNING
    assert check_exit_code(["warning", "urgent", "info"]) == ExitCode.URGENT


def test_both_commands_exit_alike(pg: Any, migrated_db: str) -> None:
    # usage: an unknown option
    for done in (
        pgpart(pg, migrated_db, "info", "--frobnicate"),
        manage(pg, migrated_db, "pgpart", "info", "--frobnicate"),
    ):
        assert done.returncode == ExitCode.USAGE, done.stderr
        assert "Traceback" not in done.stderr
    # error: the server refuses an argument (SQLSTATE 22007)
    for done in (
        pgpart(pg, migrated_db, "maintain", "--now", "not a time"),
        manage(pg, migrated_db, "pgpart", "maintain", "--now", "not a time", "--yes"),
    ):
        assert done.returncode == ExitCode.ERROR, done.stderr
        assert "[22007]" in done.stderr
        assert "invalid input syntax for type timestamp with time zone" in done.stderr
    # check: the same findings, the same code
    assert pgpart(pg, migrated_db, "check", "public.testapp_order").returncode == ExitCode.OK
    assert manage(pg, migrated_db, "pgpart", "check", "--model", "testapp.Order").returncode == ExitCode.OK
    query("INSERT INTO testapp_order (region, amount) VALUES ('jp', 1)")
    from django.db import connections

    connections.close_all()
    cli_check = pgpart(pg, migrated_db, "check", "public.testapp_order")
    django_check = manage(pg, migrated_db, "pgpart", "check", "--model", "testapp.Order")
    assert cli_check.returncode in (ExitCode.WARNING, ExitCode.URGENT), cli_check.stdout
    assert django_check.returncode == cli_check.returncode, django_check.stdout + django_check.stderr
    # the same renderer: the finding's line as the pgpart command prints it
    line = next(x for x in cli_check.stdout.splitlines() if "the default partition holds rows" in x)
    severity = line.split()[0]
    assert any(
        x.startswith(severity) and "the default partition holds rows" in x for x in django_check.stdout.splitlines()
    )


def test_manage_py_codes(migrated_db: str) -> None:
    assert call("info", "--model", "testapp.Nope")[0] == ExitCode.USAGE
    assert call("info", "--model", "testapp.EventNote")[0] == ExitCode.USAGE  # declares no Partitioning
    assert call("info", "--database", "nowhere")[0] == ExitCode.USAGE
    assert call("info", "--frobnicate")[0] == ExitCode.USAGE
    code, output = call("maintain", "--now", "not a time", "--yes")
    assert code == ExitCode.ERROR
    assert "error [22007]" in output
    # retention due but not confirmed: done in part
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=190)).isoformat()
    code, output = call("maintain", "--model", "testapp.Event", "--now", later, "--no-input")
    assert code == ExitCode.PARTIAL
    assert "pass --yes" in output


def test_maintain_option_names_of_the_pgpart_command(migrated_db: str) -> None:
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=190)).isoformat()
    plans = []
    for option in ("--sql-path", "--offline"):  # the pgpart command's name, and the old one
        code, output = call(
            "maintain", "--model", "testapp.Event", "--now", later, "--dry-run", option,
            "--lock-timeout", "50ms", "--lock-retries", "2",
        )  # fmt: skip
        assert code == ExitCode.OK, output
        plans.append(output)
    assert plans[0] == plans[1]
    assert "steps planned" in plans[0]
    assert call("maintain", "--lock-retries", "many")[0] == ExitCode.USAGE
    code, output = call(
        "ensure", "--model", "testapp.Event", "--dry-run", "--lock-timeout", "50ms", "--lock-retries", "0"
    )
    assert code == ExitCode.OK, output
    code, output = call("ensure", "--model", "testapp.Event", "--lock-timeout=-1s")
    assert code == ExitCode.ERROR, output


def test_usage_errors_are_printed_escaped(pg: Any, migrated_db: str) -> None:
    for done in (
        pgpart(pg, migrated_db, "info", "--\x1b[2J"),
        manage(pg, migrated_db, "pgpart", "info", "--\x1b[2J"),
    ):
        assert done.returncode == ExitCode.USAGE, done.stderr
        assert "\x1b" not in done.stderr
        assert "\\x1b[2J" in done.stderr
