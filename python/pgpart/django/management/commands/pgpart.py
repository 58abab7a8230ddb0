"""``manage.py pgpart``: the pgpart command line for Django models.

Sub-commands (mirroring the ``pgpart`` CLI):

- ``info``      partitions of each partitioned model (``pgpart.partition_info``)
- ``ensure``    apply each model's declaration: policy and missing partitions
- ``maintain``  create partitions ahead and apply retention (``--yes`` needed
                for removals when not interactive; ``--dry-run`` shows the plan)
- ``check``     ``pgpart.check()`` findings and declaration drift; exit 2 when
                anything needs attention (for CI and monitoring)
- ``install``   install or upgrade the extension in the database
- ``convert``   convert the plain table of a model that gained a declaration
                online (``Client.convert``, docs/converting.md), before
                ``migrate`` runs its ``ConvertToPartitioned``
- ``split-legacy`` move the rows a conversion left in the legacy partition
                into grid partitions, online (``Client.split_legacy``)
- ``rewrite-psqlextra-migrations APP...``  rewrite the apps' migration files
                without django-postgres-extra (see :mod:`pgpart.django.psqlextra`)

Common options: ``--database``, ``--model app_label.Model`` (repeatable;
default: every partitioned model the database router sends to the database),
``--json``. ``--now`` (a timestamp with time zone) is the reference time of
the time-dependent verbs; ``maintain`` takes the ``pgpart`` command's
``--sql-path``, ``--lock-timeout`` and ``--lock-retries`` (``--offline`` is
kept as another name of ``--sql-path``).

Exit codes are the ``pgpart`` command's (:class:`pgpart.output.ExitCode`):
0 done; ``check``: 1 a warning, 2 an urgent finding; 3 an error (a lock not
obtained in time included: nothing half-done, retry); 4 ``maintain`` left
some table undone (it failed, or retention was due without ``--yes``);
64 usage (bad option, unknown model or database alias). Output and error
messages are written with control characters escaped by the same renderer
(:mod:`pgpart.output`): partition names and server messages come from the
database.
"""

from __future__ import annotations

import io
import json
import sys
from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, NoReturn, TextIO, cast

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction

from .... import Client
from ....errors import PgpartError
from ....output import (
    ExitCode,
    TerminalStream,
    action_line,
    check_exit_code,
    error_lines,
    info_line,
    print_findings,
    step_line,
)
from ....types import Finding, MaintenanceAction
from ... import conf, db
from ...checks import FINDING_CHECK_IDS, OTHER_FINDING, conversion_pending_ok, database_messages
from ...declaration import DeclarationError, Spec, spec_of

Target = tuple[type[models.Model], Spec]


class _Parser(CommandParser):
    """Usage errors exit 64, as the ``pgpart`` command's do (argparse's own
    code is 2, which means "urgent" for check)."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.print_usage(sys.stderr)
            self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}", returncode=ExitCode.USAGE)

    def _print_message(self, message: str, file: Any = None) -> None:
        # Usage, help and errors (which quote the arguments) escaped, as the pgpart command writes them.
        if message:
            stream = TerminalStream(file if file is not None else sys.stderr)
            stream.write(message)
            stream.flush()


def _usage(message: str) -> CommandError:
    return CommandError(message, returncode=ExitCode.USAGE)


class Command(BaseCommand):
    help = (
        "Partitions of the partitioned models: info, ensure, maintain, check, install, convert, split-legacy, "
        "rewrite-psqlextra-migrations."
    )
    # The database checks are what `check` reports; the static ones run as usual.
    requires_system_checks = "__all__"

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser  # only its error(): usage errors exit 64
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand",
            required=True,
            metavar="{info,ensure,maintain,check,install,convert,split-legacy,rewrite-psqlextra-migrations}",
            parser_class=_Parser,
        )

        def common(p: ArgumentParser, *, models_: bool = True, now: bool = True) -> None:
            p.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s).")
            p.add_argument("--json", action="store_true", help="Print JSON.")
            if models_:
                p.add_argument(
                    "--model",
                    action="append",
                    default=[],
                    metavar="APP_LABEL.MODEL",
                    help="A partitioned model (repeatable; default: all).",
                )
            if now:
                p.add_argument("--now", help="Reference time, a timestamp with time zone (default: now).")

        def locking(p: ArgumentParser) -> None:
            # The pgpart command's options; the defaults are PGPART_LOCK_TIMEOUT and PGPART_LOCK_RETRIES.
            p.add_argument("--lock-timeout", help="Lock timeout of each attempt (default: PGPART_LOCK_TIMEOUT).")
            p.add_argument(
                "--lock-retries", type=int, help="Retries after a lock timeout (default: PGPART_LOCK_RETRIES)."
            )

        common(sub.add_parser("info", help="Partitions of each model, from the catalog."))
        ensure = sub.add_parser("ensure", help="Apply each model's declaration (policy and missing partitions).")
        common(ensure)
        ensure.add_argument("--dry-run", action="store_true", help="Show the plan, change nothing.")
        locking(ensure)
        maintain = sub.add_parser("maintain", help="Create partitions ahead, apply retention.")
        common(maintain)
        maintain.add_argument("--dry-run", action="store_true", help="Show the plan, change nothing.")
        maintain.add_argument(
            "--yes", action="store_true", help="Apply retention (detach/archive/drop) without asking."
        )
        locking(maintain)
        maintain.add_argument("--no-input", "--noinput", dest="interactive", action="store_false", help="Never prompt.")
        maintain.add_argument(
            "--sql-path",
            "--offline",
            dest="online",
            action="store_false",
            help="Retention with plain DETACH (SQL path) instead of DETACH ... CONCURRENTLY.",
        )
        common(sub.add_parser("check", help="pgpart.check() findings and drift; exit 1 (warning) or 2 (urgent)."))
        install = sub.add_parser("install", help="Install or upgrade pgpart in the database.")
        common(install, models_=False, now=False)
        install.add_argument("--method", choices=("auto", "extension", "script"), default="auto")
        convert = sub.add_parser(
            "convert", help="Convert the plain table of a model declared partitioned, online (before migrate)."
        )
        common(convert)
        convert.add_argument("--dry-run", action="store_true", help="Show the plan (locks, rows), change nothing.")
        convert.add_argument(
            "--legacy",
            choices=("keep", "split"),
            default="keep",
            help="keep: the old rows stay in one legacy partition (default); split: then moved into grid partitions.",
        )
        locking(convert)
        split = sub.add_parser(
            "split-legacy", help="Move the rows of a converted model's legacy partition into grid partitions, online."
        )
        common(split, now=False)
        split.add_argument("--dry-run", action="store_true", help="Show the plan (locks, rows), change nothing.")
        split.add_argument("--keep-legacy", action="store_true", help="Leave the old table detached, not dropped.")
        locking(split)
        rewrite = sub.add_parser(
            "rewrite-psqlextra-migrations",
            help="Rewrite an app's migrations without django-postgres-extra (after the adopting migration ran).",
        )
        common(rewrite, models_=False, now=False)
        rewrite.add_argument("app_label", nargs="+", help="The apps whose migrations to rewrite.")
        rewrite.add_argument("--dry-run", action="store_true", help="Say what would change, write nothing.")

    # -- plumbing -----------------------------------------------------------------

    def execute(self, *args: Any, **options: Any) -> str | None:
        # A model declared partitioned whose table is still plain (pgpart.E002)
        # is what `convert` is for: the checks must not stop this command.
        with conversion_pending_ok():
            result: str | None = super().execute(*args, **options)
        return result

    def handle(self, *args: Any, **options: Any) -> None:
        # Everything written, CommandError messages included (Django writes
        # them through self.stderr), goes through pgpart's escaping stream.
        # (The inner OutputWrapper still adds line endings, and colours on a terminal.)
        self.stdout = OutputWrapper(cast(TextIO, TerminalStream(self.stdout)))
        self.stderr = OutputWrapper(cast(TextIO, TerminalStream(self.stderr)))
        self.as_json: bool = options["json"]
        self.alias: str = options["database"]
        if self.alias not in connections:
            raise _usage(f"unknown database alias {self.alias!r}")
        self.session = db.DjangoSession(connections[self.alias])
        self.client = Client(self.session)
        handler = getattr(self, "do_" + options["subcommand"].replace("-", "_"))
        try:
            handler(options)
        except PgpartError as exc:
            raise CommandError("\n".join(error_lines(exc, prefix="")), returncode=ExitCode.ERROR) from exc

    def emit(self, data: Any, text: list[str]) -> None:
        if self.as_json:
            self.stdout.write(json.dumps(data, indent=2, default=str))
        else:
            for line in text:
                self.stdout.write(line)

    def targets(self, options: dict[str, Any]) -> list[Target]:
        """The selected partitioned models whose tables exist."""
        chosen: list[type[models.Model]] = []
        if options["model"]:
            for label in options["model"]:
                try:
                    chosen.append(apps.get_model(label))
                except (LookupError, ValueError) as exc:
                    raise _usage(f"unknown model {label!r}: use app_label.ModelName") from exc
        else:
            chosen = [m for m in apps.get_models() if router.allow_migrate_model(self.alias, m)]
        out: list[Target] = []
        for model in chosen:
            try:
                spec = spec_of(model)
            except DeclarationError as exc:
                raise _usage(f"{model._meta.label}: {exc}") from exc
            if spec is None:
                if options["model"]:
                    raise _usage(f"{model._meta.label} declares no Partitioning")
                continue
            relkind, _, _ = db.table_state(self.session, model._meta.db_table)
            if relkind is None:
                self.stderr.write(f"{model._meta.label}: table {model._meta.db_table} does not exist yet (migrate).")
                continue
            out.append((model, spec))
        return out

    # -- sub-commands -------------------------------------------------------------

    def do_install(self, options: dict[str, Any]) -> None:
        report = self.client.install(method=options["method"])
        text = f"pgpart {report.version}: {report.action} ({report.method})"
        if report.previous_version:
            text += f", was {report.previous_version}"
        self.emit(asdict(report), [text])

    def do_rewrite_psqlextra_migrations(self, options: dict[str, Any]) -> None:
        # Files only: the database is not touched (the migrations are applied).
        from ...psqlextra import RewriteError, rewrite_migrations

        for label in options["app_label"]:
            try:
                apps.get_app_config(label)
            except LookupError as exc:
                raise _usage(f"unknown app {label!r}") from exc
        try:
            done = rewrite_migrations(options["app_label"], dry_run=options["dry_run"])
        except RewriteError as exc:
            raise CommandError(str(exc), returncode=ExitCode.ERROR) from exc
        verb = "would rewrite" if options["dry_run"] else "rewrote"
        text = [f"{verb} {r.app_label}.{r.name} ({r.path})" for r in done] or ["no migration uses psqlextra"]
        for r in done:
            text += [f"  {c}" for c in r.converted] + [f"  left out: {d}" for d in r.dropped]
        data = [
            {"app_label": r.app_label, "migration": r.name, "path": str(r.path), "converted": r.converted,
             "dropped": r.dropped}
            for r in done
        ]  # fmt: skip
        self.emit(data, text)

    def do_info(self, options: dict[str, Any]) -> None:
        data: dict[str, list[dict[str, Any]]] = {}
        text: list[str] = []
        for model, _ in self.targets(options):
            rows = self.client.info(model._meta.db_table, now_at=options["now"])
            data[model._meta.label] = [asdict(r) for r in rows]
            text.append(f"{model._meta.label} ({model._meta.db_table}): {len(rows)} partitions")
            text += [f"  {info_line(r)}" for r in rows]
            if rows and rows[0].runway is not None:
                text.append(f"  runway: {rows[0].runway}")
        self.emit(data, text)

    def do_ensure(self, options: dict[str, Any]) -> None:
        data: dict[str, list[dict[str, Any]]] = {}
        text: list[str] = []
        for model, spec in self.targets(options):
            table = model._meta.db_table
            with transaction.atomic(using=self.alias):
                report = self.client.declare(
                    table,
                    **db.declaration(
                        spec,
                        now_at=options["now"],
                        dry_run=options["dry_run"],
                        lock_timeout=options["lock_timeout"],
                        lock_retries=options["lock_retries"],
                    ),
                )
            steps = list(report.steps)
            if not options["dry_run"]:
                steps = [s for s in steps if s.action == "created"]
            data[model._meta.label] = [asdict(s) for s in steps]
            verb = "would run" if options["dry_run"] else "created"
            text.append(
                f"{model._meta.label} ({table}): {len(steps)} {'steps' if options['dry_run'] else 'partitions'}"
            )
            text += [f"  {verb} {step_line(s)}" for s in steps]
        self.emit(data, text)

    def do_convert(self, options: dict[str, Any]) -> None:
        data: dict[str, list[dict[str, Any]]] = {}
        text: list[str] = []
        dry_run = options["dry_run"]
        for model, spec in self.targets(options):
            table = model._meta.db_table
            label = model._meta.label
            relkind, _, _ = db.table_state(self.session, table)
            if relkind == "p":
                text.append(f"{label} ({table}): partitioned already, nothing to convert")
                data[label] = []
                continue
            if spec.method != "range":
                raise _usage(f"{label}: pgpart converts a table to RANGE partitioning only")

            steps = self.client.convert(
                table,
                **db.conversion(
                    model,
                    spec,
                    now_at=options["now"],
                    dry_run=dry_run,
                    lock_timeout=options["lock_timeout"],
                    lock_retries=options["lock_retries"],
                ),
                legacy=options["legacy"],
                progress=None if dry_run else self.progress(label),
            )
            self.steps_out(label, table, steps, dry_run, data, text)
        self.emit(data, text)

    def do_split_legacy(self, options: dict[str, Any]) -> None:
        data: dict[str, list[dict[str, Any]]] = {}
        text: list[str] = []
        dry_run = options["dry_run"]
        for model, _spec in self.targets(options):
            table = model._meta.db_table
            label = model._meta.label
            steps = self.client.split_legacy(
                table,
                keep_legacy=options["keep_legacy"],
                lock_timeout=conf.lock_timeout() if options["lock_timeout"] is None else options["lock_timeout"],
                lock_retries=conf.lock_retries() if options["lock_retries"] is None else options["lock_retries"],
                dry_run=dry_run,
                progress=None if dry_run else self.progress(label),
            )
            self.steps_out(label, table, steps, dry_run, data, text)
        self.emit(data, text)

    def progress(self, label: str) -> Callable[[Any, int, int], None]:
        """A conversion's or split's progress callback: one line per step (not with --json)."""

        def report(step: Any, number: int, total: int) -> None:
            if not self.as_json:
                self.stdout.write(f"{label}: step {number}/{total}: {step.action} ({step.locks})")

        return report

    def steps_out(
        self, label: str, table: str, steps: list[Any], dry_run: bool, data: dict[str, Any], text: list[str]
    ) -> None:
        """The steps of a conversion or split, into DATA (--json) and TEXT."""
        data[label] = [asdict(s) for s in steps]
        verb = "would run" if dry_run else "ran"
        text.append(f"{label} ({table}): {len(steps)} steps {'planned' if dry_run else 'done'}")
        text += [f"  {verb} {s.step}. {s.action}: {s.statement} [{s.locks}; {s.transaction}]" for s in steps]

    def do_maintain(self, options: dict[str, Any]) -> None:
        now, online = options["now"], options["online"]
        # As every pgpart call of the app: the settings unless the options say otherwise.
        locking: dict[str, Any] = {
            "lock_timeout": conf.lock_timeout() if options["lock_timeout"] is None else options["lock_timeout"],
            "lock_retries": conf.lock_retries() if options["lock_retries"] is None else options["lock_retries"],
        }
        data: dict[str, Any] = {}
        text: list[str] = []
        refused: list[str] = []
        failed = False
        for model, _ in self.targets(options):
            table = model._meta.db_table
            label = model._meta.label
            if options["dry_run"]:
                report = self.client.maintain(table, dry_run=True, now_at=now, online=online, **locking)
                steps = [s for _, plan in report.plans for s in plan]
                data[label] = [asdict(s) for s in steps]
                text.append(f"{label} ({table}): {len(steps)} steps planned")
                text += [f"  {step_line(s)}" for s in steps]
                continue
            if options["yes"]:
                actions = list(self.client.maintain(table, now_at=now, online=online, **locking).actions)
            else:
                actions = self._maintain_asking(table, now, online, options["interactive"], refused, locking)
            failed |= any(a.action == "error" for a in actions)
            data[label] = [_action_dict(a) for a in actions]
            text.append(f"{label} ({table}):" + ("" if actions else " nothing to do"))
            text += [f"  {action_line(a)}" for a in actions]
        self.emit(data, text)
        if refused:
            raise CommandError(
                "retention is due but was not applied for " + ", ".join(refused) + ": pass --yes to detach, archive "
                "or drop expired partitions without asking",
                returncode=ExitCode.PARTIAL,
            )
        if failed:
            raise CommandError("maintenance failed for some tables (see above)", returncode=ExitCode.PARTIAL)

    def _maintain_asking(
        self, table: str, now: str | None, online: bool, interactive: bool, refused: list[str],
        locking: dict[str, Any],
    ) -> list[MaintenanceAction]:  # fmt: skip
        # The lock-light part (finish pending detaches, create ahead, report
        # expired partitions) needs no confirmation.
        actions = list(self.client.maintain(table, now_at=now, online=online, apply_retention=False, **locking).actions)
        due = [a.partition for a in actions if a.action == "retention due"]
        if not due:
            return actions
        if interactive and sys.stdin.isatty():
            answer = input(f"Retention is due for {table}: {', '.join(p or '?' for p in due)}. Apply it? [y/N] ")
            if answer.strip().lower() in ("y", "yes"):
                report = self.client.detach_and_archive(table, online=online, now_at=now, **locking)
                return actions + [MaintenanceAction(table, s.action, s.partition, s.statement) for s in report.steps]
        refused.append(table)
        return actions

    def do_check(self, options: dict[str, Any]) -> None:
        targets = self.targets(options)
        data: list[dict[str, Any]] = []
        for model, _ in targets:
            try:
                findings = self.client.check(model._meta.db_table, now_at=options["now"])
            except PgpartError as exc:
                data.append(
                    {
                        "model": model._meta.label,
                        "severity": "warning",
                        "code": OTHER_FINDING,  # as the system check reports it
                        "problem": exc.message,
                        "fix": None,
                    }
                )
                continue
            for f in findings:
                data.append({"model": model._meta.label, **asdict(f)})
        for message in database_messages(self.alias, targets):
            if message.id in FINDING_CHECK_IDS:
                continue  # the same findings as above
            label = getattr(message.obj, "_meta", None)
            data.append(
                {
                    "model": label.label if label is not None else None,
                    "severity": "urgent" if message.is_serious() else "warning",
                    # the system check's id is the code of a finding of Django's own
                    "code": message.id,
                    "problem": message.msg,
                    "fix": message.hint,
                }
            )
        if self.as_json:
            self.emit(data, [])
        else:
            # The pgpart command's renderer, the model in place of the parent table.
            rendered = io.StringIO()
            findings = [
                Finding(i["severity"], i["code"], i["model"], i.get("partition"), i["problem"], i.get("fix"))
                for i in data
            ]
            print_findings(findings, rendered)
            self.stdout.write(rendered.getvalue(), ending="")
        code = check_exit_code(item["severity"] for item in data)
        if code != ExitCode.OK:
            raise CommandError("pgpart found problems", returncode=code)


def _action_dict(a: MaintenanceAction) -> dict[str, Any]:
    return {"parent_table": a.parent_table, "action": a.action, "partition": a.partition, "detail": a.detail}
