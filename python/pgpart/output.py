"""What the ``pgpart`` command and ``manage.py pgpart`` print, and how they exit.

One table of exit codes (:class:`ExitCode`) and one set of renderers, shared
by both commands (:mod:`pgpart.cli`, :mod:`pgpart.django`), so a script or a
monitoring check reads the same status from either:

====  =========================================================================
code  meaning
====  =========================================================================
0     success; for check: no finding worse than info
1     check: at least one warning
2     check: at least one urgent finding
3     error: a pgpart or database error (SQLSTATE, detail and hint on stderr),
      no connection, or a lock not obtained in time (nothing half-done: retry);
      for check this means "unknown"
4     partly done: maintain (or ensure of several tables) processed the
      others, but at least one table failed or (``manage.py pgpart maintain``
      without ``--yes``) had retention due that was not applied
64    usage error (bad option, unknown model, policy file of the wrong shape)
130   interrupted
====  =========================================================================

check's 0/1/2/3 follow the Nagios plugin convention. Everything printed goes
through a :class:`TerminalStream` (control characters from the database or
the command line shown escaped, see :func:`shown`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._terminal import Output, TerminalStream, escape, shown
from .errors import PgpartError
from .types import Finding, MaintenanceAction, MaintenanceReport, PartitionInfo, Step

__all__ = [
    "ExitCode",
    "Output",
    "TerminalStream",
    "action_line",
    "check_exit_code",
    "error_lines",
    "escape",
    "human_size",
    "info_line",
    "print_error",
    "print_findings",
    "print_info",
    "print_json",
    "print_plan",
    "print_steps",
    "shown",
    "step_line",
    "table",
]


class ExitCode(enum.IntEnum):
    """The exit codes of ``pgpart`` and ``manage.py pgpart`` (see the module)."""

    OK = 0
    WARNING = 1
    URGENT = 2
    ERROR = 3
    PARTIAL = 4
    USAGE = 64
    INTERRUPTED = 130


def check_exit_code(severities: Iterable[str]) -> ExitCode:
    """The exit code of check for findings of these SEVERITIES."""
    found = set(severities)
    if "urgent" in found:
        return ExitCode.URGENT
    if "warning" in found:
        return ExitCode.WARNING
    return ExitCode.OK


# -- renderers: the pgpart command ---------------------------------------------------


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 10240 or unit == "TB":
            return f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], out: Output, indent: str = "") -> None:
    """Aligned columns; every cell shown escaped (so widths are those printed)."""
    cells = [[shown(c) for c in row] for row in rows]
    widths = [max(len(c) for c in column) for column in zip(headers, *cells, strict=True)]
    out.write(indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_info(rows: Sequence[PartitionInfo], out: Output) -> None:
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
        spaces = {p.tablespace or "" for p in parts}
        one_space = len(spaces) == 1  # then said once, in the summary (keeps lines narrow)
        runway_text = "none" if runway == "00:00:00" else (runway or "unknown")  # 0: no partition holds now
        summary = f"{plural(len(parts), 'partition')}, {human_size(total)}, runway {shown(runway_text)}"
        if one_space and spaces != {""}:
            summary += f", tablespace {shown(next(iter(spaces)))}"
        out.write(f"{shown(parent)}: {summary}\n")
        rows_unknown = any(p.estimated_rows is None and not p.is_default for p in parts)
        table(
            [
                [
                    "  " * (p.level - 1) + p.partition,
                    "DEFAULT" if p.is_default else (p.lower_bound or p.bound or ""),
                    "" if p.is_default else (p.upper_bound or ""),
                    "?" if p.estimated_rows is None else str(p.estimated_rows),
                    human_size(p.size_bytes),
                    *([] if one_space else [p.tablespace or ""]),
                    "detach pending" if p.detach_pending else "",
                ]
                for p in parts
            ],
            ["partition", "from", "to", "rows", "size", *([] if one_space else ["tablespace"]), ""],
            out,
            indent="  ",
        )
        if rows_unknown:
            out.write("  rows ?: not analysed yet (ANALYZE, or autovacuum in time, gives an estimate)\n")


def plural(count: int, noun: str) -> str:
    """'1 partition', '2 partitions'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def print_findings(findings: Sequence[Finding], out: Output) -> None:
    if not findings:
        out.write("no findings\n")
        return
    for f in findings:
        where = " ".join(shown(x) for x in (f.parent_table, f.partition) if x)
        out.write(f"{shown(f.severity.upper()):8} {where}: {shown(f.problem)} [{shown(f.code)}]\n")
        if f.fix:
            out.write(f"         fix: {shown(f.fix)}\n")


def print_steps(steps: Sequence[Step], out: Output, indent: str = "  ") -> None:
    for s in steps:
        target = f" {shown(s.partition)}" if s.partition else ""
        bounds = f" [{shown(s.lower_bound)}, {shown(s.upper_bound)})" if s.lower_bound or s.upper_bound else ""
        top = "  (top level)" if s.top_level else ""
        out.write(f"{indent}{s.step:>3}. {shown(s.action)}{target}{bounds}{top}\n")
        out.write(f"{indent}     {shown(s.statement)}\n")
        if s.locks:
            out.write(f"{indent}     locks: {shown(s.locks)}\n")
        if s.reason:
            out.write(f"{indent}     why: {shown(s.reason)}\n")


def print_plan(report: MaintenanceReport, out: Output) -> None:
    if not report.plans:
        out.write("nothing to do\n")
    for parent, steps in report.plans:
        work = [s for s in steps if s.partition or s.action == "analyze"]
        if not work:
            out.write(f"{shown(parent)}: nothing to do\n")
            continue
        out.write(f"{shown(parent)}: {len(steps)} steps\n")
        print_steps(steps, out)


def print_json(value: Any, out: Output) -> None:
    """VALUE as indented JSON (dataclasses as objects, errors as their text)."""

    def default(o: object) -> object:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o) if f.name != "error"}
        if isinstance(o, BaseException):
            return str(o)
        raise TypeError(type(o).__name__)

    json.dump(value, out, default=default, indent=2)
    out.write("\n")


def print_error(exc: PgpartError, err: Output, prefix: str = "pgpart: ") -> None:
    """EXC as psql shows an error. PREFIX is the command's own text (names in
    it already shown escaped); the message is one line, DETAIL and HINT may
    have several, as the server wrote them (control characters escaped by
    the stream)."""
    for line in error_lines(exc, prefix):
        err.write(line + "\n")


def error_lines(exc: PgpartError, prefix: str = "pgpart: ") -> list[str]:
    """The lines :func:`print_error` writes (DETAIL and HINT may span several)."""
    code = f" [{shown(exc.sqlstate)}]" if exc.sqlstate else ""
    lines = [f"{prefix}error{code}: {shown(exc.message)}"]
    if exc.detail:
        lines.append(f"DETAIL: {exc.detail}")
    if exc.hint:
        lines.append(f"HINT: {exc.hint}")
    return lines


# -- renderers: one line per item, for manage.py pgpart's per-model listing ------------


def info_line(r: PartitionInfo) -> str:
    """One partition: name (indented by level), bounds, estimated rows, flags."""
    bound = r.bound if r.lower_bound is None and r.upper_bound is None else f"[{r.lower_bound}, {r.upper_bound})"
    flags = " default" if r.is_default else ""
    flags += " detach pending" if r.detach_pending else ""
    return f"{'  ' * (r.level - 1)}{shown(r.partition)}  {shown(bound)}  ~{r.estimated_rows or 0} rows{flags}"


def step_line(s: Step) -> str:
    """One plan step: action, partition, bounds (the statement of a lock)."""
    bounds = f" [{s.lower_bound}, {s.upper_bound})" if s.lower_bound is not None or s.upper_bound is not None else ""
    line = f"{shown(s.action)} {shown(s.partition or '')}{shown(bounds)}".rstrip()
    return line + ("" if s.action != "lock" else f": {shown(s.statement)}")


def action_line(a: MaintenanceAction) -> str:
    """One maintenance action: action, partition, detail."""
    return " ".join(shown(x) for x in (a.action, a.partition or "", a.detail or "") if x)
