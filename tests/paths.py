"""Where things are, for tests that read the repository's files."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS = REPO_ROOT / "tests"
# The Django test project (settings, test apps, manage.py); fix_django.py puts it on sys.path.
DJANGO_PROJECT = TESTS / "django" / "django_project"
