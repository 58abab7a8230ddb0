"""Build pgpart's install script from its sources: the one implementation,
used by the Makefile (`make`, `make install`) and, as the Python package's
build backend (pyproject.toml), by every wheel, sdist and editable build, so
`pip install <clone>` ships the same bytes as `make install` without make.

    python3 sql/pgpart_build.py OUTPUT   # writes the install script to OUTPUT

As a PEP 517 backend it writes the install and upgrade scripts into
python/pgpart/_sql, then hands over to setuptools (imported only then).

The sources are every *.sql file under sql/src, in order of their relative
paths (file names carry numeric prefixes, so sorted order is load order).
Each is preceded by a `-- source:` line and ends with a newline, so a missing
final newline cannot glue a trailing comment onto the next file's first
statement. The psql guard comes first. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = "pgpart"
GUARD = '\\echo Use "CREATE EXTENSION pgpart" to load this file. \\quit\n'


def version(root: Path = ROOT) -> str:
    """default_version from pgpart.control, the single source of the version."""
    text = (root / f"{EXTENSION}.control").read_text(encoding="utf-8")
    match = re.search(r"^default_version\s*=\s*'([^']+)'", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"{EXTENSION}.control has no default_version")
    return match.group(1)


def sources(root: Path = ROOT) -> list[Path]:
    src = root / "sql" / "src"
    found = sorted(src.rglob("*.sql"), key=lambda p: p.relative_to(src).as_posix())
    if not found:
        raise SystemExit(f"no SQL sources in {src}")
    return found


def install_script(root: Path = ROOT) -> str:
    parts = [GUARD]
    for path in sources(root):
        text = path.read_text(encoding="utf-8")
        parts.append(f"-- source: {path.relative_to(root).as_posix()}\n")
        parts.append(text if text.endswith("\n") or not text else text + "\n")
    return "".join(parts)


def upgrade_scripts(root: Path = ROOT) -> list[Path]:
    return sorted((root / "sql").glob(f"{EXTENSION}--*--*.sql"))


def write_package_scripts(target: Path, root: Path = ROOT) -> None:
    """The install script and every upgrade script into TARGET (pgpart/_sql)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{EXTENSION}--{version(root)}.sql").write_text(install_script(root), encoding="utf-8")
    for upgrade in upgrade_scripts(root):
        (target / upgrade.name).write_bytes(upgrade.read_bytes())


# -- PEP 517 backend: setuptools, after the scripts are in place ---------------------


def _with_scripts(hook: str):  # type: ignore[no-untyped-def]
    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The build runs in the project (or unpacked sdist) directory.
        write_package_scripts(Path.cwd() / "python" / EXTENSION / "_sql", Path.cwd())
        from setuptools import build_meta

        return getattr(build_meta, hook)(*args, **kwargs)

    return run


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # Every other hook (get_requires_for_build_*, prepare_metadata_*) as is.
    from setuptools import build_meta

    return getattr(build_meta, name)


build_wheel = _with_scripts("build_wheel")
build_sdist = _with_scripts("build_sdist")
build_editable = _with_scripts("build_editable")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    out = Path(argv[1])
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(install_script(), encoding="utf-8")
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
