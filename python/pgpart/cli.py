"""The ``pgpart`` command: install, ensure, info, check, maintain, demo.

Usage::

    pgpart [--dsn DSN] install [--method auto|extension|script]
    pgpart [--dsn DSN] ensure TABLE [--interval I] [--premake N] [--retention R] ... [--dry-run]
    pgpart [--dsn DSN] ensure --file policies.toml [--dry-run]
    pgpart [--dsn DSN] info [TABLE] [--json]
    pgpart [--dsn DSN] check [TABLE] [--json]
    pgpart [--dsn DSN] maintain [TABLE] [--dry-run] [--sql-path] [--now TIME]
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

Exit codes:

    0   success; for check: no finding worse than info
    1   check: at least one warning
    2   check: at least one urgent finding
    3   error: a pgpart or database error (SQLSTATE, detail and hint on
        stderr), or no connection; for check this means "unknown"
    4   maintain, or ensure --file: done, but at least one table failed
        (the others were processed; the failures are on stderr)
    64  usage error (bad option or policy file)
    130 interrupted

check's 0/1/2/3 follow the Nagios plugin convention, so it can serve as a
monitoring check as it is.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import psycopg

from . import __version__
from .client import Client
from .errors import PgpartError
from .types import Finding, MaintenanceReport, MovedRange, PartitionInfo, Step

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

EXIT_OK = 0
EXIT_WARNING = 1
EXIT_URGENT = 2
EXIT_ERROR = 3
EXIT_PARTIAL = 4
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130

# ensure's keyword arguments: (option, type, help)
_ENSURE_OPTIONS: list[tuple[str, type, str]] = [
    ("interval", str, "partition interval: '1 day', '1 month', '1 hour', or a number for integer keys"),
    ("premake", int, "partitions kept ready ahead of the current one"),
    ("retention", str, "how long partitions are kept ('90 days', or a distance for integer keys; 'none' clears)"),
    ("retention_action", str, "what happens to an expired partition: detach, archive or drop"),
    ("archive_schema", str, "schema archived partitions move to"),
    ("archive_tablespace", str, "tablespace archived partitions move to"),
    ("tablespace", str, "tablespace of new partitions"),
    ("time_zone", str, "time zone of the grid for intervals of a day or more (default: as configured, else UTC)"),
    ("origin", str, "grid origin for intervals that are not calendar units"),
    ("lock_timeout", str, "lock timeout of each attempt (default 200ms)"),
    ("lock_retries", int, "retries after a lock timeout (default 10)"),
]
_ENSURE_KEYS = {name: kind for name, kind, _ in _ENSURE_OPTIONS} | {"default_partition": bool}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
        help="first move the rows of TABLE's default partition into partitions, one range per transaction",
    )
    p.add_argument("--lock-timeout", help="lock timeout of each attempt (default 200ms)")
    p.add_argument("--lock-retries", type=int, help="retries after a lock timeout (default 10)")
    _now_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true")

    p = commands.add_parser("demo", parents=[common], help="the README's demo, in schema pgpart_demo")
    p.add_argument("--reset", action="store_true", help="drop schema pgpart_demo first")
    return parser


def _now_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", help="reference time instead of now(), e.g. '2025-03-10 12:00+00'")


# -- output -------------------------------------------------------------------------


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 10240 or unit == "TB":
            return f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO, indent: str = "") -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    out.write(indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        out.write(indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_info(rows: Sequence[PartitionInfo], out: TextIO) -> None:
    if not rows:
        out.write("no partitions\n")
        return
    by_parent: dict[str, list[PartitionInfo]] = {}
    for r in rows:
        by_parent.setdefault(r.parent_table, []).append(r)
    for i, (parent, parts) in enumerate(by_parent.items()):
        if i:
            out.write("\n")
        runway = parts[0].runway
        total = sum(p.size_bytes or 0 for p in parts)  # leaves only: partitioned ones have no size
        out.write(f"{parent}: {len(parts)} partitions, {human_size(total)}, runway {runway or 'unknown'}\n")
        table(
            [
                [
                    "  " * (p.level - 1) + p.partition,
                    "DEFAULT" if p.is_default else (p.lower_bound or p.bound or ""),
                    "" if p.is_default else (p.upper_bound or ""),
                    "?" if p.estimated_rows is None else str(p.estimated_rows),
                    human_size(p.size_bytes),
                    p.tablespace or "",
                    "detach pending" if p.detach_pending else "",
                ]
                for p in parts
            ],
            ["partition", "from", "to", "rows", "size", "tablespace", ""],
            out,
            indent="  ",
        )


def print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    if not findings:
        out.write("no findings\n")
        return
    for f in findings:
        where = " ".join(x for x in (f.parent_table, f.partition) if x)
        out.write(f"{f.severity.upper():8} {where}: {f.problem}\n")
        if f.fix:
            out.write(f"         fix: {f.fix}\n")


def print_steps(steps: Sequence[Step], out: TextIO, indent: str = "  ") -> None:
    for s in steps:
        target = f" {s.partition}" if s.partition else ""
        bounds = f" [{s.lower_bound}, {s.upper_bound})" if s.lower_bound or s.upper_bound else ""
        top = "  (top level)" if s.top_level else ""
        out.write(f"{indent}{s.step:>3}. {s.action}{target}{bounds}{top}\n")
        out.write(f"{indent}     {s.statement}\n")
        if s.locks:
            out.write(f"{indent}     locks: {s.locks}\n")


def print_plan(report: MaintenanceReport, out: TextIO) -> None:
    if not report.plans:
        out.write("no managed tables\n")
    for parent, steps in report.plans:
        work = [s for s in steps if s.partition or s.action == "analyze"]
        if not work:
            out.write(f"{parent}: nothing to do\n")
            continue
        out.write(f"{parent}: {len(steps)} steps\n")
        print_steps(steps, out)


def _json(value: Any, out: TextIO) -> None:
    def default(o: object) -> object:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o) if f.name != "error"}
        if isinstance(o, BaseException):
            return str(o)
        raise TypeError(type(o).__name__)

    json.dump(value, out, default=default, indent=2)
    out.write("\n")


def print_error(exc: PgpartError, err: TextIO, prefix: str = "pgpart: ") -> None:
    code = f" [{exc.sqlstate}]" if exc.sqlstate else ""
    err.write(f"{prefix}error{code}: {exc.message}\n")
    if exc.detail:
        err.write(f"DETAIL: {exc.detail}\n")
    if exc.hint:
        err.write(f"HINT: {exc.hint}\n")


# -- commands -------------------------------------------------------------------------


def _read_policy_file(path: str) -> dict[str, dict[str, Any]]:
    try:
        import tomllib
    except ImportError as exc:  # Python 3.10
        raise UsageError("policy files need Python 3.11 or later (tomllib)") from exc

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read policy file {path}: {exc}") from exc
    unknown = set(data) - {"defaults", "tables"}
    if unknown:
        raise UsageError(f'{path}: unknown sections {sorted(unknown)} (expected [defaults] and [tables."name"])')
    defaults = data.get("defaults", {})
    tables = data.get("tables", {})
    if not isinstance(tables, dict) or not tables:
        raise UsageError(f'{path}: no [tables."schema.table"] sections')
    policies: dict[str, dict[str, Any]] = {}
    for name, policy in tables.items():
        merged = {**defaults, **policy}
        for key, value in merged.items():
            kind = _ENSURE_KEYS.get(key)
            if kind is None:
                known = ", ".join(sorted(_ENSURE_KEYS))
                raise UsageError(f"{path}: table {name}: unknown key {key!r} (known: {known})")
            if kind is bool and not isinstance(value, bool):
                raise UsageError(f"{path}: table {name}: {key} must be true or false")
            if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
                raise UsageError(f"{path}: table {name}: {key} must be an integer")
            if kind is str and not isinstance(value, str | int):
                raise UsageError(f"{path}: table {name}: {key} must be a string")
        policies[name] = merged
    return policies


def cmd_install(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    report = client.install(method=args.method)
    if report.action == "unchanged":
        out.write(f"pgpart {report.version} is installed ({report.method}); nothing to do\n")
    elif report.action == "upgraded":
        out.write(f"pgpart upgraded from {report.previous_version} to {report.version} ({report.method})\n")
    else:
        how = "CREATE EXTENSION" if report.method == "extension" else "the script shipped with this package"
        out.write(f"pgpart {report.version} installed with {how}\n")
    for name in report.skipped_event_triggers:
        err.write(f"pgpart: event trigger {name} not created (the role may not create event triggers)\n")
    return EXIT_OK


def cmd_ensure(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.file:
        if args.table or any(getattr(args, k) is not None for k in _ENSURE_KEYS):
            raise UsageError("ensure --file takes no table and no policy options")
        policies = _read_policy_file(args.file)
    elif args.table:
        policies = {args.table: {k: getattr(args, k) for k in _ENSURE_KEYS if getattr(args, k) is not None}}
    else:
        raise UsageError("ensure needs a TABLE or --file")
    failed = 0
    results: list[dict[str, Any]] = []
    for name, policy in policies.items():
        try:
            report = client.ensure(name, now_at=args.now, dry_run=args.dry_run, **policy)
        except PgpartError as exc:
            if len(policies) == 1:
                raise
            print_error(exc, err, prefix=f"pgpart: {name}: ")
            failed += 1
            continue
        results.append({"table": name, "created": report.created, "steps": report.steps})
        if args.json:
            continue
        if args.dry_run:
            out.write(f"{name}: plan\n")
            print_steps(report.steps, out)
        elif report.created:
            out.write(f"{name}: created {', '.join(report.created)}\n")
        else:
            out.write(f"{name}: up to date\n")
    if args.json:
        _json(results, out)
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_info(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rows = client.info(args.table, now_at=args.now)
    if args.json:
        _json(rows, out)
    else:
        print_info(rows, out)
    return EXIT_OK


def cmd_check(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    findings = client.check(args.table, now_at=args.now)
    if args.json:
        _json(findings, out)
    else:
        print_findings(findings, out)
    severities = {f.severity for f in findings}
    if "urgent" in severities:
        return EXIT_URGENT
    if "warning" in severities:
        return EXIT_WARNING
    return EXIT_OK


def cmd_maintain(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def progress(step: Step, number: int, total: int) -> None:
        if not args.quiet:
            err.write(f"[{number}/{total}] {step.action} {step.partition or ''}\n".replace(" \n", "\n"))
            err.flush()

    if args.move_default_rows:
        if not args.table or args.dry_run:
            raise UsageError("--move-default-rows needs a TABLE and no --dry-run")

        def moved(r: MovedRange, number: int) -> None:
            if not args.quiet:
                err.write(f"[{number}] moved {r.rows_moved} rows to {r.partition}\n")
                err.flush()

        client.move_default_rows(
            args.table, lock_timeout=args.lock_timeout, lock_retries=args.lock_retries, now_at=args.now,
            progress=moved,
        )  # fmt: skip
    report = client.maintain(
        args.table, online=not args.sql_path, dry_run=args.dry_run, now_at=args.now,
        lock_timeout=args.lock_timeout, lock_retries=args.lock_retries, progress=progress,
    )  # fmt: skip
    if args.json:
        _json({"dry_run": report.dry_run, "online": report.online, "actions": report.actions,
               "plans": [{"table": t, "steps": s} for t, s in report.plans]}, out)  # fmt: skip
    elif args.dry_run:
        print_plan(report, out)
    else:
        rows = [
            [a.parent_table or "", a.action, a.partition or "", a.detail or ""]
            for a in report.actions
            if a.action != "error"
        ]
        if rows:
            table(rows, ["table", "action", "partition", "detail"], out)
        else:
            out.write("nothing to do\n")
    for failure in report.errors:
        if failure.error is not None:
            print_error(failure.error, err, prefix=f"pgpart: {failure.parent_table}: ")
        else:
            err.write(f"pgpart: {failure.parent_table}: {failure.detail}\n")
    return EXIT_PARTIAL if report.errors else EXIT_OK


def cmd_demo(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from . import demo

    demo.run(client.connection, out=out, reset=args.reset)
    return EXIT_OK


COMMANDS: dict[str, Callable[[Client, argparse.Namespace, TextIO, TextIO], int]] = {
    "install": cmd_install,
    "ensure": cmd_ensure,
    "info": cmd_info,
    "check": cmd_check,
    "maintain": cmd_maintain,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with psycopg.connect(getattr(args, "dsn", None) or "", autocommit=True) as conn:
            return COMMANDS[args.command](Client(conn), args, out, err)
    except UsageError as exc:
        err.write(f"pgpart: {exc}\n")
        return EXIT_USAGE
    except PgpartError as exc:
        print_error(exc, err)
        return EXIT_ERROR
    except psycopg.Error as exc:  # no connection, or an error without SQLSTATE
        err.write(f"pgpart: error: {str(exc).strip()}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write("pgpart: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
