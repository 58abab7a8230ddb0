"""The layers of sql/src (docs/sql-layout.md), checked from the sources.

Every source file sits in a layer directory; the code of a file refers only
to pgpart objects defined in its own layer or a lower one (10_schema is the
lowest, so everyone may use its types and tables; 90_privileges is the
highest, so it may name anything); a file of 40_api holds one public verb,
named after it. References are read from the code: comments and string
literals (messages, hints, the text of plan steps) are left out, since they
call nothing when the file is loaded or its functions run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from paths import REPO_ROOT

SRC = REPO_ROOT / "sql" / "src"

# Load order is the sorted relative path (sql/pgpart_build.py), so the
# layers load in this order too.
LAYERS = ("10_schema", "20_core", "30_plan", "40_api", "50_event_triggers", "90_privileges")
API = "40_api"
# Public routines that belong to one verb although their names differ.
VERB_OF = {"move_default_range": "move_default", "move_default_rows": "move_default"}

_DEFINITION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|TYPE|TABLE)\s+pgpart\.(\w+)", re.IGNORECASE
)
_REFERENCE = re.compile(r"\bpgpart\.(\w+)")


def sources() -> dict[str, str]:
    """Every *.sql under sql/src by its path relative to sql/src."""
    return {p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.sql"))}


def code(text: str) -> str:
    """TEXT without -- comments, '...' literals ('' inside one included) and
    "..." identifiers; dollar-quoted bodies stay, they are code."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text[i] == '"':  # an identifier or a setting name ("pgpart.event_triggers")
            end = text.find('"', i + 1)
            out.append('""')
            i = n if end < 0 else end + 1
        elif text[i] == "'":
            j = i + 1
            while True:
                k = text.find("'", j)
                if k < 0:
                    j = n
                    break
                if text.startswith("''", k):
                    j = k + 2
                    continue
                j = k + 1
                break
            out.append("''")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def layer_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[0] if len(parts) == 2 and parts[0] in LAYERS else None


def definitions(files: Mapping[str, str]) -> dict[str, str]:
    """Each pgpart object name -> the file that defines it."""
    found: dict[str, str] = {}
    for path, text in files.items():
        for match in _DEFINITION.finditer(code(text)):
            found.setdefault(match.group(1), path)
    return found


def references(files: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(file, name, defining file) for every reference in code to a pgpart
    object defined in another file; names defined nowhere get ''."""
    defined = definitions(files)
    found = []
    for path, text in files.items():
        for name in sorted({m.group(1) for m in _REFERENCE.finditer(code(text))}):
            where = defined.get(name, "")
            if where != path:
                found.append((path, name, where))
    return found


def layer_violations(files: Mapping[str, str]) -> list[str]:
    """What breaks the layering rules, one line each (empty when nothing)."""
    problems = []
    for path in files:
        if layer_of(path) is None:
            problems.append(f"{path}: not in a layer directory ({', '.join(LAYERS)})")
    for path, name, where in references(files):
        user, owner = layer_of(path), layer_of(where) if where else None
        if not where:
            problems.append(f"{path}: pgpart.{name} is defined in no source file")
        elif user is None or owner is None:
            continue  # reported above
        elif owner == LAYERS[0] or user == LAYERS[-1]:
            continue
        elif LAYERS.index(owner) > LAYERS.index(user):
            problems.append(f"{path}: calls pgpart.{name} of a higher layer ({where})")
    for path, text in files.items():
        if layer_of(path) != API:
            continue
        verbs = {
            VERB_OF.get(name, name.removesuffix("_proc"))
            for name in (m.group(1) for m in _DEFINITION.finditer(code(text)))
            if not name.startswith("_")
        }
        if len(verbs) > 1:
            problems.append(f"{path}: defines objects of several public verbs: {', '.join(sorted(verbs))}")
        elif verbs and Path(path).stem not in verbs:
            problems.append(f"{path}: is not named after its verb {verbs.pop()}")
    return problems


def test_the_sources_keep_the_layers() -> None:
    files = sources()
    assert len(files) > 40
    assert layer_violations(files) == []


def test_every_layer_has_sources_and_every_file_is_in_one() -> None:
    files = sources()
    assert {layer_of(path) for path in files} == set(LAYERS)
    assert not [path for path in SRC.rglob("*") if path.is_file() and path.suffix != ".sql"]


def test_the_checker_sees_calls_across_layers() -> None:
    found = {(path, name, where) for path, name, where in references(sources())}
    across = {(p, w) for p, _, w in found if layer_of(p) != layer_of(w)}
    assert len(across) > 50
    # A few calls that must be seen, from every layer that calls down.
    assert ("40_api/check.sql", "_find_runway", "30_plan/find_range.sql") in found
    assert ("30_plan/find_range.sql", "_reach", "20_core/coverage.sql") in found
    assert ("30_plan/run_steps.sql", "_acquire_locks", "20_core/locks.sql") in found
    assert ("50_event_triggers/30_ddl_command_end.sql", "_apply_reconcile", "30_plan/reconcile_apply.sql") in found
    assert ("40_api/ensure_range.sql", "_plan_range", "30_plan/plan_range.sql") in found
    assert ("40_api/ensure_range.sql", "_prepare", "20_core/prepare.sql") in found


def test_the_checker_reports_an_upward_call() -> None:
    files = sources()
    files["20_core/locks.sql"] += "\nCREATE FUNCTION pgpart._probe() RETURNS void LANGUAGE sql RETURN pgpart.check();\n"
    assert layer_violations(files) == ["20_core/locks.sql: calls pgpart.check of a higher layer (40_api/check.sql)"]


def test_the_checker_ignores_comments_and_literals_but_not_bodies() -> None:
    base = {"40_api/check.sql": "CREATE FUNCTION pgpart.check() RETURNS void LANGUAGE sql RETURN NULL;\n"}
    quiet = "-- see pgpart.check()\nSELECT 'pgpart.check() and it''s pgpart.check()';\n"
    loud = (
        "CREATE FUNCTION pgpart._x() RETURNS void LANGUAGE plpgsql\n"
        "AS $body$ BEGIN PERFORM pgpart.check(); END $body$;\n"
    )
    assert layer_violations({**base, "20_core/x.sql": quiet}) == []
    assert layer_violations({**base, "20_core/x.sql": loud}) == [
        "20_core/x.sql: calls pgpart.check of a higher layer (40_api/check.sql)"
    ]


def test_the_checker_reports_files_outside_layers_unknown_names_and_mixed_verbs() -> None:
    files = {
        "61_set_policy.sql": "CREATE FUNCTION pgpart.set_policy() RETURNS void LANGUAGE sql RETURN NULL;\n",
        "40_api/check.sql": (
            "CREATE FUNCTION pgpart.check() RETURNS void LANGUAGE sql RETURN pgpart._gone();\n"
            "CREATE FUNCTION pgpart.reconcile() RETURNS void LANGUAGE sql RETURN NULL;\n"
        ),
        "40_api/move.sql": (
            "CREATE FUNCTION pgpart.move_default_range() RETURNS void LANGUAGE sql RETURN NULL;\n"
            "CREATE PROCEDURE pgpart.move_default_rows() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"
            "CREATE FUNCTION pgpart._helper() RETURNS void LANGUAGE sql RETURN NULL;\n"
        ),
        "40_api/run_maintenance.sql": (
            "CREATE FUNCTION pgpart.run_maintenance() RETURNS void LANGUAGE sql RETURN NULL;\n"
            "CREATE PROCEDURE pgpart.run_maintenance_proc() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"
        ),
    }
    assert sorted(layer_violations(files)) == [
        "40_api/check.sql: defines objects of several public verbs: check, reconcile",
        "40_api/check.sql: pgpart._gone is defined in no source file",
        "40_api/move.sql: is not named after its verb move_default",
        f"61_set_policy.sql: not in a layer directory ({', '.join(LAYERS)})",
    ]
