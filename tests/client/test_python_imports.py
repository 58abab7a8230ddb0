"""The Python package's import graph, read from the sources (issue 13, item 4):
pgpart.django reaches pgpart through its public API only, and no module of
pgpart takes part in an import cycle."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from paths import DJANGO_PROJECT, REPO_ROOT

PACKAGE = REPO_ROOT / "python" / "pgpart"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> Iterator[tuple[int, str, str | None]]:
    return imports_of(path.read_text(encoding="utf-8"), module_name(path), package=is_package(path))


def imports_of(source: str, name: str, *, package: bool = False) -> Iterator[tuple[int, str, str | None]]:
    """(line, absolute module, imported name or None) of every import in
    SOURCE, the text of module NAME: nested ones (inside functions, under
    TYPE_CHECKING) included, relative ones resolved against its package."""
    base_package = name if package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = base_package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                yield node.lineno, module, alias.name


def private_imports(source: str, name: str, *, package: bool = False) -> list[str]:
    """The imports in SOURCE (module NAME of pgpart.django) of a private part
    of pgpart outside pgpart.django: a module or a name with a leading
    underscore (dunders like __version__ excepted)."""
    found = []
    for line, module, imported in imports_of(source, name, package=package):
        if module == "pgpart.django" or module.startswith("pgpart.django."):
            continue  # the app's own modules
        if module != "pgpart" and not module.startswith("pgpart."):
            continue  # not pgpart
        for part in [*module.split("."), *([imported] if imported else [])]:
            if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
                found.append(f"{line}: {module} {imported or ''} ({part})")
                break
    return found


def test_the_walker_sees_private_imports_in_every_spelling() -> None:
    name = "pgpart.django.management.commands.sample"
    assert private_imports("from ...._calls import call", name)
    assert private_imports("from .... import _install", name)
    assert private_imports("import pgpart._session", name)
    assert private_imports("from pgpart._dbapi import errors", name)
    assert private_imports("def f():\n    from ....errors import _private\n", name)
    assert private_imports("from .._x import y", "pgpart.django", package=True)
    assert not private_imports("from ....output import shown", name)
    assert not private_imports("from .... import Client, __version__", name)
    assert not private_imports("from ..._private_helper import x", name)  # pgpart.django's own
    assert not private_imports("from django._x import y", name)


def test_django_imports_no_private_pgpart_module() -> None:
    django_modules = {n: p for n, p in MODULES.items() if n == "pgpart.django" or n.startswith("pgpart.django.")}
    assert "pgpart.django.management.commands.pgpart" in django_modules
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{found}"
        for name, path in django_modules.items()
        for found in private_imports(path.read_text(encoding="utf-8"), name, package=is_package(path))
    ]
    assert offenders == []


def test_django_sources_mention_no_private_module() -> None:
    # The issue's own check: grep -rn "pgpart\._" python/pgpart/django, and "from \.\._".
    found = []
    for path in sorted((PACKAGE / "django").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "pgpart._" in line or re.search(r"from \.\.+_", line):
                found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert found == []


def graph() -> dict[str, set[str]]:
    """pgpart's modules and the pgpart modules each imports (a name imported
    from a package counts as its submodule when there is one)."""
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _, module, imported in imports(path):
            if module not in MODULES:
                continue
            if imported is not None and imported.startswith("__") and imported.endswith("__"):
                # `from . import __version__`: bound before the package's first
                # import (test_version_is_bound_before_any_import), so it needs
                # no module of the package; not an edge.
                continue
            target = f"{module}.{imported}" if imported and f"{module}.{imported}" in MODULES else module
            if target != name:
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_version_is_bound_before_any_import() -> None:
    body = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")).body
    first_import = next(i for i, node in enumerate(body) if isinstance(node, ast.Import | ast.ImportFrom))
    bound = [
        i
        for i, node in enumerate(body)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
    ]
    assert bound
    assert bound[0] < first_import


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycles() -> None:
    edges = graph()
    # the graph sees imports (module level, nested, relative, of submodules)
    assert "pgpart._session" in edges["pgpart._psycopg"]
    assert "pgpart._session" in edges["pgpart._dbapi.transactions"]
    assert "pgpart.demo" in edges["pgpart.cli"]  # inside cmd_demo
    assert "pgpart.output" in edges["pgpart.demo"]
    # the ones the issue names are gone
    assert "pgpart._psycopg" not in edges["pgpart._session"]
    assert "pgpart._dbapi" not in edges["pgpart._session"]
    assert "pgpart.cli" not in edges["pgpart.demo"]
    assert cycles(edges) == []


@pytest.mark.parametrize(
    "module",
    ["pgpart._session", "pgpart._psycopg", "pgpart._dbapi", "pgpart.session", "pgpart.output", "pgpart.demo",
     "pgpart.cli", "pgpart.client", "pgpart.django.db", "pgpart.django.management.commands.pgpart"],
)  # fmt: skip
def test_each_module_imports_alone(module: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"}
    env["PYTHONPATH"] = os.pathsep.join([str(DJANGO_PROJECT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
