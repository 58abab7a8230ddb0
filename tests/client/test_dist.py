"""The Python package installs from source without make (issue: a new user's
first hour): `pip install <clone>`, the sdist and the wheel that `make dist`
builds each ship the install and upgrade scripts, and Client.install() runs
them by script into a database without the extension.

Each case builds and installs into a fresh virtualenv (about 20 s apiece), so
the module runs once per `make test`, in one version's run: packaging
does not depend on the server version; the other runs skip it and say so
(the version_independent marker, tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import pgpart
from paths import REPO_ROOT
from pgcluster import PgServer

CHECK = """
import sys, psycopg, pgpart
from importlib import resources
names = sorted(p.name for p in (resources.files("pgpart") / "_sql").iterdir())
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    report = pgpart.Client(conn).install(method="script")
    rows = conn.execute("SELECT count(*) FROM pgpart.partition_info()").fetchone()
print(report.method, report.action, report.version, rows[0], ",".join(names))
"""

pytestmark = pytest.mark.version_independent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out


@pytest.fixture
def empty_database(pg: PgServer) -> Iterator[str]:
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS dist_check WITH (FORCE)")
        admin.execute("CREATE DATABASE dist_check TEMPLATE template0")
        yield pg.dsn("dist_check")
        admin.execute("DROP DATABASE dist_check WITH (FORCE)")


def install_and_check(tmp_path: Path, what: str, dsn: str) -> str:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", what], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run([str(python), "-c", CHECK, dsn], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def expected(version: str = pgpart.__version__) -> str:
    upgrades = sorted(p.name for p in (REPO_ROOT / "sql").glob("pgpart--*--*.sql"))
    return f"script installed {version} 0 " + ",".join(sorted([f"pgpart--{version}.sql", *upgrades]))


@pytest.mark.parametrize("artifact", ["wheel", "sdist"])
def test_built_artifact_installs_pgpart_by_script(tmp_path: Path, dist: Path, empty_database: str, artifact: str) -> None:
    pattern = "*.whl" if artifact == "wheel" else "*.tar.gz"
    (path,) = dist.glob(pattern)
    assert install_and_check(tmp_path, str(path), empty_database) == expected()


def test_pip_install_from_the_clone(tmp_path: Path, empty_database: str) -> None:
    # the files a fresh clone has (tracked, or new and not ignored): no make run, no _sql
    clone = tmp_path / "clone"
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    assert not (clone / "python" / "pgpart" / "_sql").exists()
    assert install_and_check(tmp_path, str(clone), empty_database) == expected()


def test_the_packaged_scripts_are_the_built_ones(dist: Path) -> None:
    import zipfile

    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        shipped = z.read(f"pgpart/_sql/pgpart--{pgpart.__version__}.sql")
    assert shipped == (REPO_ROOT / "sql" / f"pgpart--{pgpart.__version__}.sql").read_bytes()
