"""The ``pgpart`` command: install, ensure, info, check, maintain, load, convert, split-legacy, export,
restore, metrics, apply, demo.

Usage::

    pgpart [--dsn DSN] install [--method auto|extension|script]
    pgpart [--dsn DSN] ensure TABLE [--interval I] [--premake N] [--retention R] ... [--dry-run]
    pgpart [--dsn DSN] ensure --file policies.toml [--dry-run]
    pgpart [--dsn DSN] info [TABLE] [--json]
    pgpart [--dsn DSN] check [TABLE] [--json]
    pgpart [--dsn DSN] maintain [TABLE] [--dry-run [--save PLAN.json]] [--sql-path] [--now TIME]
    pgpart [--dsn DSN] convert TABLE --key K --interval I [--premake N] [--legacy keep|split] [--dry-run]
    pgpart [--dsn DSN] split-legacy TABLE [--keep-legacy] [--dry-run] [--json]
    pgpart [--dsn DSN] load TABLE FILE [--format csv|text] [--header] [--columns A,B] [--batch-rows N]
    pgpart [--dsn DSN] export [TABLE [PARTITION]] --to DIR [--batch-rows N] [--json]
    pgpart [--dsn DSN] restore TABLE MANIFEST... [--name NAME] [--json]
    pgpart [--dsn DSN] restore TABLE DIR... --from KEY --until KEY [--json]
    pgpart [--dsn DSN] metrics [--now TIME]
    pgpart [--dsn DSN] reattach TABLE PARTITION [--lock-timeout T] [--lock-retries N] [--dry-run] [--json]
    pgpart [--dsn DSN] apply PLAN.json [--json]
    pgpart [--dsn DSN] demo [--reset]

The connection comes from ``--dsn`` (a libpq connection string or URI), else
from the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
PGSERVICE, ~/.pgpass ...). The command runs in autocommit mode: every step
it takes is committed at once. ``--now`` (any timestamptz input, e.g.
``'2025-03-10 12:00+00'``) replaces now() as the reference time.

A policy file for ``ensure --file`` is TOML: optional ``[defaults]`` and one
table per ``[tables."schema.table"]``, with the keyword arguments of
``Client.ensure`` as keys::

    [defaults]
    premake = 7

    [tables."public.events"]
    interval = "1 day"
    retention = "90 days"
    retention_action = "archive"
    archive_schema = "archive"

Exit codes (:class:`pgpart.output.ExitCode`, the same for ``manage.py pgpart``):

    0   success; for check: no finding worse than info
    1   check: at least one warning
    2   check: at least one urgent finding
    3   error: a pgpart or database error (SQLSTATE, detail and hint on
        stderr), or no connection; for check this means "unknown"
    4   maintain, or ensure --file: done, but at least one table failed
        (the others were processed; the failures are on stderr)
    64  usage error (bad option, --dsn that is not a connection string,
        policy or load file that cannot be read, policy file not of the
        shape above)
    130 interrupted

check's 0/1/2/3 follow the Nagios plugin convention, so it can serve as a
monitoring check as it is. Usage errors are found before connecting, and
no error prints a Python traceback (an unexpected one, a bug, exits 3 with
its traceback escaped). Names and messages from the database, the command
line and policy files are printed with control characters escaped (a table
named with terminal escape sequences shows as ``\x1b[2J``, see
``pgpart.output``). When the reader of the output goes away
(``pgpart info | head``) the rest of the output is discarded quietly and the
exit code is the command's.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import psycopg
from psycopg.conninfo import conninfo_to_dict

from . import __version__
from ._convert import ConvertStep
from .client import Client
from .errors import ConnectionFailureError, PgpartError, from_driver_error
from .output import (
    ExitCode,
    Output,
    TerminalStream,
    check_exit_code,
    print_error,
    print_findings,
    print_info,
    print_json,
    print_plan,
    print_steps,
    shown,
    table,
)
from .session import translate_driver_error as translate
from .types import LoadReport, MovedRange, Step

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_URGENT",
    "EXIT_USAGE",
    "EXIT_WARNING",
    "main",
]

# The codes live in pgpart.output (shared with manage.py pgpart); these names stay.
EXIT_OK = ExitCode.OK
EXIT_WARNING = ExitCode.WARNING
EXIT_URGENT = ExitCode.URGENT
EXIT_ERROR = ExitCode.ERROR
EXIT_PARTIAL = ExitCode.PARTIAL
EXIT_USAGE = ExitCode.USAGE
EXIT_INTERRUPTED = ExitCode.INTERRUPTED

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # SQL integer
_BIG_MIN, _BIG_MAX = -(2**63), 2**63 - 1  # SQL bigint


def _int32(text: str) -> int:
    """An option's value as a SQL integer (argparse turns the error into exit 64)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not _INT_MIN <= value <= _INT_MAX:
        raise argparse.ArgumentTypeError(f"{value} is out of range ({_INT_MIN} to {_INT_MAX})")
    return value


def _int64(text: str) -> int:
    """An option's value as a SQL bigint (argparse turns the error into exit 64)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not _BIG_MIN <= value <= _BIG_MAX:
        raise argparse.ArgumentTypeError(f"{value} is out of range ({_BIG_MIN} to {_BIG_MAX})")
    return value


# ensure's keyword arguments: (option, type, help)
_ENSURE_OPTIONS: list[tuple[str, Callable[[str], object], str]] = [
    ("interval", str, "partition interval: '1 day', '1 month', '1 hour', or a number for integer keys"),
    ("premake", _int32, "partitions kept ready ahead of the current one"),
    ("retention", str, "how long partitions are kept ('90 days', or a distance for integer keys; 'none' clears)"),
    ("retention_action", str, "what happens to an expired partition: detach, archive, drop or export"),
    ("archive_schema", str, "schema archived partitions move to"),
    ("archive_tablespace", str, "tablespace archived partitions move to"),
    ("tablespace", str, "tablespace of new partitions"),
    ("time_zone", str, "time zone of the grid for intervals of a day or more (default: as configured, else UTC)"),
    ("origin", str, "grid origin for intervals that are not calendar units"),
    ("lock_timeout", str, "lock timeout of each attempt (default 200ms)"),
    ("lock_retries", _int32, "retries after a lock timeout (default 10)"),
    ("epoch_unit", str, "an integer key holding Unix time: s, ms or us (gridded as a timestamptz)"),
    ("retention_max_bytes", _int64, "keep at most this many bytes in the partitions, oldest out first (0 clears)"),
    ("retention_max_rows", _int64, "keep at most this many rows in the partitions, oldest out first (0 clears)"),
    ("retention_grace", str, "an expired partition stays detached this long before its drop or archive ('0' clears)"),
]
_ENSURE_KEYS = [name for name, _, _ in _ENSURE_OPTIONS] + ["default_partition", "drain_default"]

# What a policy file's key may hold: names and choices are strings; an
# interval, retention or origin may also be a number (integer keys); counts
# are integers; default_partition is a boolean.
_NAME, _NUMBER_OR_TEXT, _INTEGER, _BOOLEAN = "a string", "a string or an integer", "an integer", "true or false"
_BIGINT = "a 64-bit integer"
_POLICY_KEY_KINDS: dict[str, str] = {
    "interval": _NUMBER_OR_TEXT,
    "premake": _INTEGER,
    "retention": _NUMBER_OR_TEXT,
    "retention_action": _NAME,
    "archive_schema": _NAME,
    "archive_tablespace": _NAME,
    "tablespace": _NAME,
    "time_zone": _NAME,
    "origin": _NUMBER_OR_TEXT,
    "lock_timeout": _NUMBER_OR_TEXT,
    "lock_retries": _INTEGER,
    "epoch_unit": _NAME,
    "default_partition": _BOOLEAN,
    "drain_default": _BOOLEAN,
    "retention_max_bytes": _BIGINT,
    "retention_max_rows": _BIGINT,
    "retention_grace": _NAME,
}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # Usage, help and errors (which quote the arguments) through the
        # escaping stream like everything else.
        if message:
            stream = TerminalStream(file if file is not None else sys.stderr)
            stream.write(message)
            stream.flush()


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--dsn", default=argparse.SUPPRESS, help="libpq connection string or URI (default: the libpq environment)"
    )
    parser = _Parser(prog="pgpart", description="pgpart: partition manager for PostgreSQL.", parents=[common])
    parser.add_argument("--version", action="version", version=f"pgpart {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser("install", parents=[common], help="install or upgrade pgpart in the database")
    p.add_argument("--method", choices=["auto", "extension", "script"], default="auto")

    p = commands.add_parser("ensure", parents=[common], help="declare a table's policy and create what is missing")
    p.add_argument("table", nargs="?", help="the partitioned table (schema-qualified if not on search_path)")
    p.add_argument("--file", help="TOML file listing tables and their policies")
    for name, kind, text in _ENSURE_OPTIONS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=text)
    p.add_argument("--default-partition", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument(
        "--drain-default",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="every maintenance run moves the default partition's rows into their own partitions",
    )
    _now_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("info", parents=[common], help="partitions, bounds, rows, size, tablespace, runway")
    p.add_argument("table", nargs="?", help="one table (default: every managed table)")
    _now_option(p)
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("check", parents=[common], help="compare policy with reality; exit code by severity")
    p.add_argument("table", nargs="?", help="one table (default: every managed table)")
    _now_option(p)
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("maintain", parents=[common], help="finish detaches, create ahead, apply retention")
    p.add_argument("table", nargs="?", help="one table (default: every managed table with automatic maintenance)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument(
        "--sql-path",
        action="store_true",
        help="run everything inside the extension's procedures (plain, lock-bounded DETACH; no CONCURRENTLY)",
    )
    p.add_argument(
        "--move-default-rows",
        action="store_true",
        help="first move the rows of TABLE's default partition into partitions, one range per transaction"
        " (with --dry-run: the ranges and their exact row counts, nothing moved)",
    )
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    _now_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--save", metavar="FILE", help="with --dry-run: write the plan and its fingerprint to FILE (pgpart apply FILE)"
    )
    p.add_argument(
        "--export-to", metavar="DIR",
        help="write tables detached for export (retention_action export) to Parquet files here (needs pyarrow)",
    )  # fmt: skip

    p = commands.add_parser(
        "load", parents=[common], help="load a CSV or text file with COPY, creating the partitions its rows need first"
    )
    p.add_argument("table", help="the managed RANGE table to load into")
    p.add_argument("file", help="the file, in COPY's csv or text format; - reads standard input")
    p.add_argument("--format", choices=["csv", "text"], default="csv", help="COPY's format (default csv)")
    p.add_argument("--header", action="store_true", help="the first line names the columns (and is not loaded)")
    p.add_argument("--columns", help="the file's columns in order, comma-separated (default: header, else the table's)")
    p.add_argument("--delimiter", help="field separator (default: comma for csv, tab for text)")
    p.add_argument("--batch-rows", type=_int32, default=100_000, help="rows per COPY and transaction (default 100000)")
    p.add_argument("--skip-rows", type=_int32, default=0, help="leave out the first N records (to resume a load)")
    p.add_argument("--lock-timeout", help="lock timeout of each attempt to create a partition (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser(
        "reattach", parents=[common], help="attach again a partition retention detached (during its grace period)"
    )
    p.add_argument("table", help="the managed table it was detached from")
    p.add_argument("partition", help="the detached table")
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser(
        "convert", parents=[common], help="turn a plain table into a managed partitioned table, online"
    )
    p.add_argument("table", help="the plain table (schema-qualified if not on search_path)")
    p.add_argument("--key", required=True, help="the column to partition by")
    p.add_argument("--interval", required=True, help="partition width, e.g. '1 day' or 1000")
    p.add_argument("--premake", type=_int32, help="partitions made ahead (default 4)")
    p.add_argument("--retention", help="drop or detach partitions older than this")
    p.add_argument("--time-zone", help="the zone whose calendar days and months follow")
    p.add_argument("--legacy-name", help="name of the old table once it is a partition (default <table>_legacy)")
    p.add_argument(
        "--legacy", choices=["keep", "split"], default="keep",
        help="keep the old rows in one legacy partition (default) or split them into grid partitions",
    )  # fmt: skip
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    _now_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser(
        "split-legacy", parents=[common], help="move a converted table's legacy rows into grid partitions, online"
    )
    p.add_argument("table", help="the converted table")
    p.add_argument("--keep-legacy", action="store_true", help="leave the old table detached instead of dropping it")
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser(
        "export", parents=[common], help="write partitions to Parquet files, verify them, then detach and drop them"
    )
    p.add_argument("table", nargs="?", help="the partitioned table (default: every managed table)")
    p.add_argument("partition", nargs="?", help="one partition (default: every table retention detached for export)")
    p.add_argument("--to", required=True, metavar="DIR", help="directory (or URL pyarrow can write) for the files")
    p.add_argument("--batch-rows", type=_int32, default=50_000, help="rows per Parquet row group (default 50000)")
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser(
        "restore", parents=[common], help="bring exported partitions back from their Parquet files, verified"
    )
    p.add_argument("table", help="the partitioned table the files were exported from")
    p.add_argument(
        "manifest", nargs="+",
        help="the files' .manifest.json (or .parquet) paths; with --from/--until: directories to search",
    )  # fmt: skip
    p.add_argument("--from", dest="start", help="restore every file of TABLE whose range reaches from this key value")
    p.add_argument("--until", dest="end", help="... and starts before this key value (exclusive)")
    p.add_argument("--name", help="the restored table's name (one file only; default: the exported name)")
    p.add_argument("--batch-rows", type=_int32, default=50_000, help="rows read per batch (default 50000)")
    p.add_argument("--lock-timeout", help="lock timeout of each attempt to attach (default 200ms)")
    p.add_argument("--lock-retries", type=_int32, help="retries after a lock timeout (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("metrics", parents=[common], help="Prometheus text exposition of every managed table")
    _now_option(p)

    p = commands.add_parser("apply", parents=[common], help="run a plan saved by maintain --dry-run --save")
    p.add_argument("file", help="the plan file")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("demo", parents=[common], help="the README's demo, in schema pgpart_demo")
    p.add_argument("--reset", action="store_true", help="drop schema pgpart_demo first")
    return parser


def _now_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", help="reference time instead of now(), e.g. '2025-03-10 12:00+00'")


# -- commands -------------------------------------------------------------------------


def _toml_type(value: object) -> str:
    """What a TOML value is, in the words of the TOML spec."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__  # pragma: no cover - tomllib returns nothing else


def _policy_value(path: str, where: str, key: str, value: object) -> object:
    """VALUE of KEY if it has the type the key takes, else a UsageError naming
    the file, the section and the key."""
    kind = _POLICY_KEY_KINDS.get(key)
    if kind is None:
        known = ", ".join(sorted(_POLICY_KEY_KINDS))
        raise UsageError(f"{path}: {where}: unknown key {shown(repr(key))} (known: {known})")
    if kind == _BOOLEAN:
        ok = isinstance(value, bool)
    elif kind == _INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, int) and ok and not _INT_MIN <= value <= _INT_MAX:
            raise UsageError(f"{path}: {where}: {key} = {value} is out of range ({_INT_MIN} to {_INT_MAX})")
    elif kind == _BIGINT:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, int) and ok and not _BIG_MIN <= value <= _BIG_MAX:
            raise UsageError(f"{path}: {where}: {key} = {value} is out of range ({_BIG_MIN} to {_BIG_MAX})")
    elif kind == _NUMBER_OR_TEXT:
        ok = isinstance(value, str | int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise UsageError(f"{path}: {where}: {key} must be {kind}, not {_toml_type(value)}")
    if isinstance(value, str) and "\x00" in value:
        raise UsageError(f"{path}: {where}: {key} contains a NUL character")
    return value


def _read_policy_file(path: str) -> dict[str, dict[str, Any]]:
    """The policies of a policy file, each checked: every shape or type error
    is a UsageError naming the file and the key (exit 64, no traceback)."""
    try:
        import tomllib
    except ImportError as exc:  # Python 3.10
        raise UsageError("policy files need Python 3.11 or later (tomllib)") from exc

    shown_path = shown(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"cannot read policy file {shown_path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        byte = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        raise UsageError(f"{shown_path}: not a policy file: not UTF-8 text ({byte})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{shown_path}: not a policy file: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"defaults", "tables"})
    if unknown:
        names = ", ".join(shown(repr(k)) for k in unknown)
        raise UsageError(f'{shown_path}: unknown sections {names} (expected [defaults] and [tables."name"])')
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UsageError(f"{shown_path}: defaults must be a table ([defaults]), not {_toml_type(defaults)}")
    checked_defaults = {key: _policy_value(shown_path, "[defaults]", key, v) for key, v in defaults.items()}
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        raise UsageError(f'{shown_path}: tables must be tables ([tables."schema.table"]), not {_toml_type(tables)}')
    if not tables:
        raise UsageError(f'{shown_path}: no [tables."schema.table"] sections')
    policies: dict[str, dict[str, Any]] = {}
    for name, policy in tables.items():
        where = f"table {shown(name)}"
        if "\x00" in name or not name.strip():
            raise UsageError(f"{shown_path}: {where}: not a table name")
        if not isinstance(policy, dict):
            raise UsageError(
                f'{shown_path}: {where} must be a table ([tables."{shown(name)}"]), not {_toml_type(policy)}'
            )
        checked = {key: _policy_value(shown_path, where, key, v) for key, v in policy.items()}
        policies[name] = {**checked_defaults, **checked}
    return policies


def _check_usage(args: argparse.Namespace) -> None:
    """What can be found wrong without a connection, found before connecting
    (UsageError); ensure's policies are read into ``args.policies``."""
    if args.command == "ensure":
        if args.file:
            if args.table or any(getattr(args, k) is not None for k in _ENSURE_KEYS):
                raise UsageError("ensure --file takes no table and no policy options")
            args.policies = _read_policy_file(args.file)
        elif args.table:
            args.policies = {args.table: {k: getattr(args, k) for k in _ENSURE_KEYS if getattr(args, k) is not None}}
        else:
            raise UsageError("ensure needs a TABLE or --file")
    elif args.command == "maintain" and args.move_default_rows and (not args.table or args.save):
        raise UsageError("--move-default-rows needs a TABLE and no --save (a saved plan holds no moves)")
    elif args.command == "maintain" and args.save and not args.dry_run:
        raise UsageError("--save needs --dry-run (it saves the plan, it does not run it)")
    elif args.command == "apply":
        args.plan = _read_plan_file(args.file)
    elif args.command == "load":
        args.source, args.size = _open_source(args.file)


def _open_source(path: str) -> tuple[TextIO, int | None]:
    """The file to load, opened for COPY's data (newlines kept as they are),
    and its size in bytes when it has one; UsageError when it cannot be read."""
    if path == "-":
        return sys.stdin, None
    try:
        source = open(path, encoding="utf-8", newline="")  # noqa: SIM115 (closed by cmd_load)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    size = os.fstat(source.fileno()).st_size
    return source, size if size > 0 else None


def _read_plan_file(path: str) -> dict[str, Any]:
    """A saved plan's JSON object (UsageError when it cannot be read); the
    server checks the rest."""
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read plan file {path}: {exc}") from exc
    if not isinstance(plan, dict):
        raise UsageError(f"plan file {path} does not hold a JSON object")
    return plan


def cmd_install(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    report = client.install(method=args.method)
    if report.action == "unchanged":
        out.write(f"pgpart {shown(report.version)} is installed ({report.method}); nothing to do\n")
    elif report.action == "upgraded":
        versions = f"{shown(report.previous_version)} to {shown(report.version)}"
        out.write(f"pgpart upgraded from {versions} ({report.method})\n")
    else:
        how = "CREATE EXTENSION" if report.method == "extension" else "the script shipped with this package"
        out.write(f"pgpart {shown(report.version)} installed with {how}\n")
    for name in report.skipped_event_triggers:
        err.write(f"pgpart: event trigger {shown(name)} not created (the role may not create event triggers)\n")
    return EXIT_OK


def _setting_text(value: Any) -> str:
    """A policy value as a person reads it: 'none' for unset, JSON for lists and objects."""
    if value is None:
        return "none"
    return value if isinstance(value, str) else json.dumps(value)


def cmd_ensure(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    if not hasattr(args, "policies"):
        _check_usage(args)
    policies: dict[str, dict[str, Any]] = args.policies
    failed = 0
    results: list[dict[str, Any]] = []
    for name, policy in policies.items():
        try:
            report = client.ensure(name, now_at=args.now, dry_run=args.dry_run, **policy)
        except PgpartError as exc:
            if len(policies) == 1:
                raise
            print_error(exc, err, prefix=f"pgpart: {shown(name)}: ")
            failed += 1
            continue
        changes = {c.field: {"old": c.old, "new": c.new} for c in report.policy_changes}
        results.append({"table": name, "created": report.created, "policy_changes": changes, "steps": report.steps})
        if args.json:
            continue
        if args.dry_run:
            out.write(f"{shown(name)}: plan\n")
            print_steps(report.steps, out)
            continue
        if report.created:
            out.write(f"{shown(name)}: created {', '.join(shown(c) for c in report.created)}\n")
        for c in () if report.registered else report.policy_changes:  # a new policy: "created" says it
            old, new = shown(_setting_text(c.old)), shown(_setting_text(c.new))
            out.write(f"{shown(name)}: policy {shown(c.field)}: {old} -> {new}\n")
        if not report.changed:
            out.write(f"{shown(name)}: up to date\n")
    if args.json:
        print_json(results, out)
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_info(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    rows = client.info(args.table, now_at=args.now)
    if args.json:
        print_json(rows, out)
    else:
        print_info(rows, out)
    return EXIT_OK


def cmd_check(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    findings = client.check(args.table, now_at=args.now)
    if args.json:
        print_json(findings, out)
    else:
        print_findings(findings, out)
    return check_exit_code(f.severity for f in findings)


def cmd_maintain(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    def progress(step: Step, number: int, total: int) -> None:
        if not args.quiet:
            err.write(f"[{number}/{total}] {shown(step.action)} {shown(step.partition)}".rstrip() + "\n")
            err.flush()

    moves: list[MovedRange] = []
    progressed: list[MovedRange] = []
    if args.move_default_rows:
        _check_usage(args)

        def moved(r: MovedRange, number: int) -> None:
            if not args.quiet:
                of = f"{number} of {r.total} ranges" if number <= r.total else f"{r.total} ranges planned at start"
                so_far = sum(m.rows_moved for m in progressed) + r.rows_moved
                progressed.append(r)
                err.write(
                    f"[{number}] moved {r.rows_moved} rows to {shown(r.partition)} ({of}; {so_far} rows so far)\n"
                )
                err.flush()

        moves = client.move_default_rows(
            args.table, lock_timeout=args.lock_timeout, lock_retries=args.lock_retries, now_at=args.now,
            progress=moved, dry_run=args.dry_run,
        )  # fmt: skip
        if args.dry_run and not args.json:
            _print_moves(args.table, moves, out)
    if args.save:
        return _save_plan(client, args, out)
    report = client.maintain(
        args.table, online=not args.sql_path, dry_run=args.dry_run, now_at=args.now,
        lock_timeout=args.lock_timeout, lock_retries=args.lock_retries, progress=progress,
        export_to=args.export_to,
    )  # fmt: skip
    if args.json:
        document: dict[str, Any] = {"dry_run": report.dry_run, "online": report.online, "actions": report.actions,
                                    "plans": [{"table": t, "steps": s} for t, s in report.plans]}  # fmt: skip
        if args.move_default_rows:
            document["move_default_rows"] = moves
        print_json(document, out)
    elif args.dry_run:
        print_plan(report, out)
    else:
        rows = [[a.parent_table, a.action, a.partition, a.detail] for a in report.actions if a.action != "error"]
        if rows:
            table(rows, ["table", "action", "partition", "detail"], out)
        else:
            out.write("nothing to do\n")
    for failure in report.errors:
        if failure.error is not None:
            print_error(failure.error, err, prefix=f"pgpart: {shown(failure.parent_table)}: ")
        else:
            err.write(f"pgpart: {shown(failure.parent_table)}: {shown(failure.detail)}\n")
    return EXIT_PARTIAL if report.errors else EXIT_OK


def _print_moves(parent: str, moves: Sequence[MovedRange], out: Output) -> None:
    """The dry run of --move-default-rows: each range that would move, with
    its exact row count now; maintenance's own plan follows."""
    if not moves:
        out.write(f"{shown(parent)}: no rows to move out of the default partition\n")
        return
    rows = sum(m.rows_moved for m in moves)
    out.write(f"{shown(parent)}: {rows} rows to move out of the default partition into {len(moves)} "
              f"{'partition' if len(moves) == 1 else 'partitions'} (exact counts now)\n")  # fmt: skip
    table(
        [[m.number, m.partition, m.lower_bound, m.upper_bound, m.rows_moved, m.problem or ""] for m in moves],
        ["range", "partition", "from", "to", "rows", "problem"], out, indent="  ",
    )  # fmt: skip


def _save_plan(client: Client, args: argparse.Namespace, out: Output) -> int:
    plan = client.save_plan(
        args.table, online=not args.sql_path, now_at=args.now, lock_timeout=args.lock_timeout,
        lock_retries=args.lock_retries,
    )  # fmt: skip
    with open(args.save, "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=2)
        f.write("\n")
    tables = plan.get("tables") or []
    for entry in tables:
        steps = [Step.from_row([s.get(k) for k in _STEP_KEYS]) for s in entry.get("steps") or []]
        out.write(f"{shown(entry.get('table'))}: {len(steps)} step{'' if len(steps) == 1 else 's'}\n")
        print_steps(steps, out)
        for problem in entry.get("problems") or []:
            out.write(f"  {shown(problem.get('action'))}: {shown(problem.get('detail'))}\n")
    total = sum(len(e.get("steps") or []) for e in tables)
    out.write(f"plan saved to {shown(args.save)}: {len(tables)} table{'' if len(tables) == 1 else 's'},"
              f" {total} step{'' if total == 1 else 's'}; run it with: pgpart apply {shown(args.save)}\n")  # fmt: skip
    problems = sum(len(e.get("problems") or []) for e in tables)
    return EXIT_PARTIAL if problems else EXIT_OK


_STEP_KEYS = ("step", "partition", "lower_bound", "upper_bound", "action", "statement", "locks", "top_level")


def cmd_load(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    def progress(report: LoadReport) -> None:
        if not args.quiet:
            share = f" (~{100 * report.chars_read // report.chars_total}%)" if report.chars_total else ""
            created = len(report.created)
            err.write(f"[batch {report.batches}] {report.rows} rows loaded{share},"
                      f" {created} partition{'' if created == 1 else 's'} created\n")  # fmt: skip
            err.flush()

    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    with args.source as source:
        report = client.load(
            args.table, source, format=args.format, header=args.header, columns=columns,
            delimiter=args.delimiter, batch_rows=args.batch_rows, skip_rows=args.skip_rows, size=args.size,
            lock_timeout=args.lock_timeout, lock_retries=args.lock_retries, progress=progress,
        )  # fmt: skip
    if args.json:
        print_json({"table": report.table, "rows": report.rows, "batches": report.batches,
                    "created": report.created}, out)  # fmt: skip
        return EXIT_OK
    created = report.created
    out.write(f"loaded {report.rows} row{'' if report.rows == 1 else 's'} into {shown(args.table)} in"
              f" {report.batches} batch{'' if report.batches == 1 else 'es'}; created {len(created)}"
              f" partition{'' if len(created) == 1 else 's'}\n")  # fmt: skip
    for name in created:
        out.write(f"  {shown(name)}\n")
    return EXIT_OK


def cmd_convert(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    def progress(step: ConvertStep, number: int, total: int) -> None:
        if not args.quiet:
            err.write(f"[step {number}/{total}] {step.action} ({step.transaction})\n")
            err.flush()

    steps = client.convert(
        args.table, key=args.key, interval=args.interval, premake=args.premake, retention=args.retention,
        time_zone=args.time_zone, legacy_name=args.legacy_name, lock_timeout=args.lock_timeout,
        lock_retries=args.lock_retries, now_at=args.now, dry_run=args.dry_run,
        progress=None if args.dry_run else progress, legacy=args.legacy,
    )  # fmt: skip
    if args.json:
        print_json([dataclasses.asdict(s) for s in steps], out)
        return EXIT_OK
    if not steps:
        out.write(f"{shown(args.table)}: converted already; nothing to do\n")
        return EXIT_OK
    rows = [[str(s.step), s.action, s.transaction, s.locks, s.statement] for s in steps]
    if args.dry_run:
        out.write(f"{shown(args.table)}: plan\n")
    else:
        out.write(f"{shown(args.table)}: converted; steps run:\n")
    table(rows, ["step", "action", "transaction", "locks", "statement"], out)
    return EXIT_OK


def cmd_split_legacy(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    copied = [0]

    def progress(step: ConvertStep, number: int, total: int) -> None:
        if not args.quiet:
            err.write(f"[step {number}/{total}] {step.action}; about {copied[0]} rows copied so far (estimated)\n")
            err.flush()
        if step.action.startswith("copy range"):
            copied[0] += step.rows_estimate or 0

    steps = client.split_legacy(args.table, keep_legacy=args.keep_legacy, lock_timeout=args.lock_timeout,
                                lock_retries=args.lock_retries, dry_run=args.dry_run,
                                progress=None if args.dry_run else progress)  # fmt: skip
    if args.json:
        print_json([dataclasses.asdict(s) for s in steps], out)
        return EXIT_OK
    if not steps:
        out.write(f"{shown(args.table)}: no legacy partition left; nothing to do\n")
        return EXIT_OK
    rows = [[str(s.step), s.action, "" if s.rows_estimate is None else str(s.rows_estimate), s.locks] for s in steps]
    out.write(f"{shown(args.table)}: {'plan' if args.dry_run else 'split; steps run'}\n")
    table(rows, ["step", "action", "rows (estimate)", "locks"], out)
    return EXIT_OK


def _stage_progress(args: argparse.Namespace, err: Output, name: list[str]) -> Callable[[str, int], None]:
    def progress(stage: str, rows: int) -> None:
        if not args.quiet:
            err.write(f"{shown(name[0])}: {stage} {rows} rows\n")
            err.flush()

    return progress


def cmd_export(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    current = [""]
    progress = _stage_progress(args, err, current)
    if args.partition is not None:
        if args.table is None:
            raise UsageError("export: a PARTITION needs its TABLE")
        targets = [(args.table, args.partition)]
    else:
        targets = [(i["parent"], i["partition"]) for i in client.awaiting_export(args.table)]
    manifests: list[dict[str, Any]] = []
    failed = 0
    for parent, partition in targets:
        current[0] = partition
        try:
            manifests.append(client.export_partition(
                parent, partition, to=args.to, lock_timeout=args.lock_timeout, lock_retries=args.lock_retries,
                batch_rows=args.batch_rows, progress=progress,
            ))  # fmt: skip
        except PgpartError as exc:
            print_error(exc, err, prefix=f"pgpart: {shown(partition)}: ")
            failed += 1
    if args.json:
        print_json(manifests, out)
    elif not targets:
        out.write("nothing to export\n")
    for m in manifests if not args.json else []:
        out.write(f"exported {shown(m['table'])}: {m['rows']} rows to {shown(m['location'])} ({m['checksum']})\n")
    if failed:
        return EXIT_PARTIAL if manifests else EXIT_ERROR
    return EXIT_OK


def cmd_restore(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    if args.name is not None and len(args.manifest) > 1:
        raise UsageError("restore: --name needs exactly one file")
    current = [""]
    progress = _stage_progress(args, err, current)
    restored: list[str] = []
    if args.start is not None or args.end is not None:
        for directory in args.manifest:
            current[0] = directory
            restored += client.restore_range(
                args.table, directory, start=args.start, end=args.end, lock_timeout=args.lock_timeout,
                lock_retries=args.lock_retries, batch_rows=args.batch_rows, progress=progress,
            )  # fmt: skip
        args.manifest = []
    for path in args.manifest:
        current[0] = path
        restored.append(client.restore_partition(
            args.table, path, name=args.name, lock_timeout=args.lock_timeout, lock_retries=args.lock_retries,
            batch_rows=args.batch_rows, progress=progress,
        ))  # fmt: skip
    if args.json:
        print_json(restored, out)
    else:
        for name in restored:
            out.write(f"restored {shown(name)}\n")
    return EXIT_OK


def cmd_metrics(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    out.write(client.metrics(now_at=args.now))
    return EXIT_OK


def cmd_apply(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    if not hasattr(args, "plan"):
        _check_usage(args)
    report = client.apply_plan(args.plan)
    if args.json:
        print_json({"actions": report.actions}, out)
        return EXIT_OK
    rows = [[a.parent_table, a.action, a.partition, a.detail] for a in report.actions]
    if rows:
        table(rows, ["table", "action", "partition", "statement"], out)
    else:
        out.write("the plan has no steps; nothing was changed\n")
    return EXIT_OK


def cmd_reattach(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    steps = client.reattach_partition(
        args.table, args.partition, lock_timeout=args.lock_timeout, lock_retries=args.lock_retries,
        dry_run=args.dry_run,
    )  # fmt: skip
    if args.json:
        print_json(steps, out)
        return EXIT_OK
    out.write(f"{shown(args.table)}: {'plan' if args.dry_run else 'reattached'} {shown(args.partition)}\n")
    print_steps(steps, out)
    return EXIT_OK


def cmd_demo(client: Client, args: argparse.Namespace, out: Output, err: Output) -> int:
    from . import demo

    demo.run(client.connection, out=out, reset=args.reset)
    return EXIT_OK


COMMANDS: dict[str, Callable[[Client, argparse.Namespace, Output, Output], int]] = {
    "install": cmd_install,
    "ensure": cmd_ensure,
    "info": cmd_info,
    "check": cmd_check,
    "maintain": cmd_maintain,
    "load": cmd_load,
    "convert": cmd_convert,
    "split-legacy": cmd_split_legacy,
    "export": cmd_export,
    "restore": cmd_restore,
    "metrics": cmd_metrics,
    "reattach": cmd_reattach,
    "apply": cmd_apply,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None, *, out: Output | None = None, err: Output | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it).

    Everything is written through a TerminalStream (control characters
    escaped; a reader that went away ends the output quietly)."""
    stdout = TerminalStream(out if out is not None else sys.stdout)
    stderr = TerminalStream(err if err is not None else sys.stderr)
    try:
        return _main(argv, stdout, stderr)
    finally:
        stdout.flush()
        stderr.flush()


def _main(argv: Sequence[str] | None, out: Output, err: Output) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 64 (_Parser.error)
    try:
        _check_usage(args)
        with _connect(getattr(args, "dsn", None) or "") as conn:
            return COMMANDS[args.command](Client(conn), args, out, err)
    except UsageError as exc:
        err.write(f"pgpart: {shown(exc)}\n")
        return EXIT_USAGE
    except PgpartError as exc:
        print_error(exc, err)
        return EXIT_ERROR
    except psycopg.Error as exc:  # the demo's own statements, closing the connection
        print_error(translate(exc) or from_driver_error(exc, "psycopg"), err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write("pgpart: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception:
        # A bug: its traceback (escaped) for the report, and exit 3 so that
        # check reads "unknown" rather than "warning" (exit 1).
        err.write("pgpart: internal error (please report it, with what follows)\n")
        err.write(traceback.format_exc())
        return EXIT_ERROR


def _connect(dsn: str) -> psycopg.Connection[Any]:
    """An autocommit connection for DSN (else the libpq environment). A DSN
    that is not a connection string is a usage error; failing to connect is
    ConnectionFailureError (exit 3), whatever failed (libpq, or resolving
    a host name that cannot be one, e.g. with a label over 63 characters)."""
    try:
        conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise UsageError(f"--dsn is not a connection string: {str(exc).strip()}") from exc
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as exc:
        first, _, rest = str(exc).strip().partition("\n")
        detail = "\n".join(line.strip() for line in rest.splitlines() if line.strip()) or None
        raise translate(exc) or ConnectionFailureError(first, detail=detail, driver_error=exc) from exc
    except (OSError, ValueError) as exc:  # UnicodeError too
        raise ConnectionFailureError(
            f"cannot connect: {exc}",
            hint="Check the host and port in --dsn or the libpq environment (PGHOST, PGPORT, PGSERVICE).",
            driver_error=exc,
        ) from exc


if __name__ == "__main__":
    sys.exit(main())
