"""The Python package is mypy --strict and ruff clean (also run by `make lint`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from paths import REPO_ROOT

PACKAGE = str(REPO_ROOT / "python" / "pgpart")

pytestmark = pytest.mark.version_independent


@pytest.mark.parametrize(
    "command",
    [
        ["mypy", "--strict", PACKAGE],
        ["ruff", "check", PACKAGE],
        ["ruff", "format", "--check", PACKAGE],
    ],
    ids=["mypy", "ruff-check", "ruff-format"],
)
def test_lint(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_typed_package() -> None:
    assert (REPO_ROOT / "python" / "pgpart" / "py.typed").is_file()
