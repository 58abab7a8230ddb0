"""Every code block of README.md and docs/*.md runs as written.

The blocks are read from the Markdown when the tests are collected: one test
per block, named ``<file>:<line>-<language>`` (the line of the opening
fence). What a block's language means:

``sql``
    Run through psycopg as psql would run it (autocommit, statements split
    by ``pgpart._script.split_statements``), as superuser ``postgres``.
``python``
    Run by this virtualenv's Python in a subprocess. A block made of parts
    headed by a file comment (``# settings.py``, ``# models.py``) is a Django
    snippet instead: the parts become the settings and the models of app
    ``example`` (laid out as ``startapp`` makes it) in a small Django
    project (a ``...`` in ``INSTALLED_APPS``
    stands for Django's own apps and ``example``), which must load
    (``django.setup()``, the models imported).
``sh``
    Run by ``bash -e -o pipefail`` with this virtualenv's ``bin`` first on
    ``PATH`` (``pgpart``, ``python``): every command must succeed.
``text``
    Not run: output, signatures, pseudo-code, cron lines, and commands that
    need what a test cannot give (``make``, ``pip``, pg_cron, a dump file).

Any other language, a fence without one, or an indented code block fails, so
a new example cannot escape.

Sequence: the blocks of one file run in order, sharing one database named
``app`` (created empty, without pgpart, for each file) and one working
directory (the Django project of a Django snippet lives there, so the ``sh``
blocks after it run its ``manage.py``). Examples reach the database through
the libpq environment (PGHOST, PGPORT, PGUSER=postgres, PGDATABASE=app), so
``dbname=app`` in an example's text needs no rewriting. Running one block
alone (``-k``) runs the blocks before it in its file first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from paths import REPO_ROOT
from pgpart._script import split_statements

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
RUN = {"sql", "python", "sh"}
NOT_RUN = {"text"}
DATABASE = "app"
DJANGO_PART = re.compile(r"^# (\w+\.py)$", re.MULTILINE)
FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)")
LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d+[.)])\s")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence (or first indented line)
    language: str | None  # None: a fence without language, or an indented block
    text: str
    fenced: bool = True
    section: str = ""  # the ``## `` heading the block is under

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}-{self.language or 'none'}"


def extract(path: Path) -> list[Block]:
    """The code blocks of a Markdown file, fenced and indented (CommonMark,
    enough of it for this project's documents)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    i, in_list, previous_blank, section = 0, False, True, ""
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = FENCE.match(line)
        if fence:
            indent, marker, language = len(fence.group(1)), fence.group(2), fence.group(3)
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not re.match(rf"^ {{0,3}}{marker[0]}{{{len(marker)},}}\s*$", lines[j]):
                body.append(lines[j][indent:] if not lines[j][:indent].strip() else lines[j].lstrip())
                j += 1
            blocks.append(Block(path, i + 1, language or None, "\n".join(body) + "\n", section=section))
            i, previous_blank = j + 1, False
            continue
        if line.strip() and not line.startswith(" "):
            in_list = bool(LIST_ITEM.match(line))
        elif LIST_ITEM.match(line):
            in_list = True
        if line.startswith("    ") and line.strip() and previous_blank and not in_list:
            body = []
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                body.append(lines[j][4:])
                j += 1
            text = "\n".join(body).strip("\n") + "\n"
            blocks.append(Block(path, i + 1, None, text, fenced=False, section=section))
            i, previous_blank = j, True
            continue
        previous_blank = not line.strip()
        i += 1
    return blocks


BLOCKS = [block for path in DOCS for block in extract(path)]


# -- running a file's blocks in sequence --------------------------------------

DJANGO_MANAGE = """\
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""

DJANGO_SETTINGS_HEAD = """\
import os
SECRET_KEY = "doc-examples"
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"],
                         "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"], "USER": os.environ["PGUSER"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

# What the README's "..." in INSTALLED_APPS stands for: the project's own apps.
DJANGO_SETTINGS_TAIL = """
INSTALLED_APPS = [a for part in INSTALLED_APPS
                  for a in (["django.contrib.contenttypes", "django.contrib.auth", "example"]
                            if part is Ellipsis else [part])]
"""


@dataclass
class FileRun:
    """The state of one Markdown file's sequence: its database and directory."""

    path: Path
    workdir: Path
    ran: int = 0  # blocks of this file run so far
    failed: list[str] = field(default_factory=list)


class Runner:
    def __init__(self, pg: Any, admin: psycopg.Connection[Any]) -> None:
        self.pg = pg
        self.admin = admin
        self.current: FileRun | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.env.update(
            PGHOST=pg.host,
            PGPORT=str(pg.port),
            PGUSER="postgres",
            PGDATABASE=DATABASE,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def close(self) -> None:
        if self.current is not None:
            shutil.rmtree(self.current.workdir, ignore_errors=True)
            self.current = None
        self.admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))

    def _start(self, path: Path) -> FileRun:
        self.close()
        self.admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        self.current = FileRun(path, Path(tempfile.mkdtemp(prefix="pgpart-doc-")))
        return self.current

    def run(self, block: Block) -> None:
        """Run BLOCK after the blocks before it in its file (running those
        first when this sequence has not)."""
        siblings = [b for b in BLOCKS if b.path == block.path]
        index = siblings.index(block)
        state = self.current
        if state is None or state.path != block.path or state.ran > index:
            state = self._start(block.path)
        for earlier in siblings[state.ran : index]:
            if earlier.language not in RUN:
                state.ran += 1
                continue
            try:
                self._execute(earlier, state)
            except Exception as exc:  # reported with a later block's failure
                state.failed.append(f"{earlier.id}: {exc}")
            state.ran += 1
        state.ran = index + 1
        try:
            self._execute(block, state)
        except Exception as exc:
            if state.failed:
                exc.add_note("earlier blocks of this file failed: " + "; ".join(state.failed))
            state.failed.append(block.id)
            raise

    def run_alone(self, blocks: list[Block]) -> None:
        """Run BLOCKS in order on a fresh database and directory."""
        state = self._start(blocks[0].path)
        state.ran = len(BLOCKS)  # the next run() starts its file afresh
        for block in blocks:
            self._execute(block, state)

    def _execute(self, block: Block, state: FileRun) -> None:
        if block.language == "sql":
            with psycopg.connect(self.pg.dsn(DATABASE), autocommit=True) as c:
                for statement in split_statements(block.text):
                    c.execute(statement.encode())
        elif block.language == "python" and DJANGO_PART.search(block.text):
            self._django(block, state)
        elif block.language == "python":
            self._subprocess([sys.executable, "-c", block.text], state)
        elif block.language == "sh":
            self._subprocess(["bash", "-e", "-o", "pipefail", "-c", block.text], state)
        else:
            raise AssertionError(f"{block.id}: language {block.language!r} is not run")

    def _subprocess(self, argv: list[str], state: FileRun, **env: str) -> None:
        done = subprocess.run(
            argv, cwd=state.workdir, env={**self.env, **env}, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"

    def _django(self, block: Block, state: FileRun) -> None:
        parts = DJANGO_PART.split(block.text)
        files = dict(zip(parts[1::2], parts[2::2], strict=True))
        assert parts[0].strip() == "", f"{block.id}: text before the first file comment"
        assert set(files) <= {"settings.py", "models.py"}, f"{block.id}: unknown parts {sorted(files)}"
        root = state.workdir
        (root / "manage.py").write_text(DJANGO_MANAGE)
        (root / "project").mkdir(exist_ok=True)
        (root / "project" / "__init__.py").write_text("")
        (root / "project" / "settings.py").write_text(
            DJANGO_SETTINGS_HEAD + files.get("settings.py", "INSTALLED_APPS = [...]\n") + DJANGO_SETTINGS_TAIL
        )
        (root / "example").mkdir(exist_ok=True)
        (root / "example" / "__init__.py").write_text("")
        (root / "example" / "migrations").mkdir(exist_ok=True)  # as `manage.py startapp` makes it
        (root / "example" / "migrations" / "__init__.py").write_text("")
        (root / "example" / "models.py").write_text(files.get("models.py", ""))
        # Settings and models load; `manage.py check` comes with the `migrate`
        # of the next block.
        load = "import django; django.setup(); import example.models"
        self._subprocess([sys.executable, "-c", load], state, DJANGO_SETTINGS_MODULE="project.settings")


@pytest.fixture(scope="module")
def runner(pg: Any) -> Any:
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as admin:
        r = Runner(pg, admin)
        yield r
        r.close()


# -- the tests ----------------------------------------------------------------


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_doc_example(block: Block, runner: Runner) -> None:
    if not block.fenced:
        pytest.fail(f"{block.id}: an indented code block; fence it with ```sh, ```sql, ```python or ```text")
    if block.language is None:
        pytest.fail(f"{block.id}: a fence without a language; say ```sh, ```sql, ```python or ```text")
    if block.language in NOT_RUN:
        return
    assert block.language in RUN, f"{block.id}: unknown language {block.language!r}; use {sorted(RUN | NOT_RUN)}"
    runner.run(block)


QUICK_STARTS = ("In SQL", "Python", "Django")


@pytest.mark.parametrize("section", QUICK_STARTS)
def test_quick_start_runs_on_its_own(section: str, runner: Runner) -> None:
    """A newcomer may read only one quick start: its blocks run in order on a
    fresh database, without the sections before it."""
    blocks = [b for b in BLOCKS if b.path.name == "README.md" and b.section == section and b.language in RUN]
    assert blocks, f"README.md has no runnable block under '## {section}'"
    runner.run_alone(blocks)


def test_extraction_finds_every_kind_of_block(tmp_path: Path) -> None:
    """The extractor itself: fenced blocks with and without a language,
    indented fences inside a list item, an indented code block, and list
    continuations that are not code."""
    doc = tmp_path / "x.md"
    doc.write_text(
        "intro\n\n```sql\nSELECT 1;\n```\n\n- item\n\n  ```text\n  out\n  ```\n\n"
        "- item\n  continued\n\n```\nbare\n```\n\n## S\n\npara\n\n    pgpart check\n    pgpart info\n\nend\n"
    )
    found = [(b.line, b.language, b.text, b.fenced) for b in extract(doc)]
    assert [b.section for b in extract(doc)] == ["", "", "", "S"]
    assert found == [
        (3, "sql", "SELECT 1;\n", True),
        (9, "text", "out\n", True),
        (16, None, "bare\n", True),
        (24, None, "pgpart check\npgpart info\n", False),
    ]


def test_every_document_has_its_blocks_collected() -> None:
    """The README's quick starts are among the collected blocks (a broken
    extractor would collect nothing and pass)."""
    readme = [b for b in BLOCKS if b.path.name == "README.md"]
    assert any(b.language == "sql" and "CREATE EXTENSION pgpart" in b.text for b in readme)
    assert any(b.language == "python" and "pgpart.Client(conn)" in b.text for b in readme)
    assert {b.path.name for b in BLOCKS} >= {"README.md", "security.md", "architecture.md"}
