"""Where things are, for tests that read the repository's files."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
