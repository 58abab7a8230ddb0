"""A throwaway PostgreSQL server, for the test suite and ``make demo``.

initdb into a private temporary directory, listen only on a unix socket in
that directory (nothing else on the machine can reach it), trust
authentication, and durability traded for speed since the directory is
deleted at the end. Needs only the standard library.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

# Durability is worthless for a server that is deleted afterwards.
DEFAULT_SETTINGS: dict[str, object] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": 50,
    "shared_preload_libraries": "",
    # Autovacuum takes SHARE UPDATE EXCLUSIVE, the lock ATTACH PARTITION needs:
    # lock-timeout tests must only ever meet their own sessions.
    "autovacuum": "off",
    # Results must not depend on the machine's time zone; tests that care SET it.
    "timezone": "UTC",
}


def pg_config(option: str) -> str:
    """One value from the pg_config the Makefile uses ($PG_CONFIG, else PATH)."""
    cmd = [os.environ.get("PG_CONFIG", "pg_config"), option]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def _as_server_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    # With listen_addresses = '' the port only names the socket file in our
    # private directory; a distinct one still keeps concurrent servers apart
    # in SysV shared memory, whose key PostgreSQL derives from the port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _base_dir() -> str | None:
    # A memory-backed directory makes CREATE DATABASE, which the suite runs for
    # every test, 15-30x faster (8 ms against 120-300 ms on this machine's ext4
    # disk, even with fsync off). An explicit TMPDIR wins, and a small /dev/shm
    # (Docker's default is 64 MB) is passed over.
    shm = "/dev/shm"
    if "TMPDIR" not in os.environ and os.path.isdir(shm) and shutil.disk_usage(shm).free >= 1 << 30:
        return shm
    return None  # tempfile's default


def _quote(value: object) -> str:
    # Quoting is valid for every postgresql.conf value and libpq conninfo value.
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class PgServer:
    """A PostgreSQL cluster in a temporary directory: start(), then stop().

    Also a context manager. ``settings`` are added to DEFAULT_SETTINGS, e.g.
    ``PgServer({"max_locks_per_transaction": 10})``.
    """

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.bindir = Path(pg_config("--bindir"))
        self.host = ""  # the socket directory, which also holds datadir and log
        self.port = 0
        self.datadir = Path()
        self._running = False

    def dsn(self, dbname: str, user: str = "postgres") -> str:
        return f"host={_quote(self.host)} port={self.port} dbname={_quote(dbname)} user={_quote(user)}"

    def start(self) -> None:
        self.host = tempfile.mkdtemp(prefix="pgpart-", dir=_base_dir())
        self.datadir = Path(self.host, "data")
        self.port = _free_port()
        try:
            if os.geteuid() == 0:
                shutil.chown(self.host, "postgres", "postgres")
            self._run(
                "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
            )
            settings = {
                "listen_addresses": "",
                "unix_socket_directories": self.host,
                "port": self.port,
                **self.settings,
            }
            with open(self.datadir / "postgresql.conf", "a") as conf:  # later lines win
                conf.writelines(f"{name} = {_quote(value)}\n" for name, value in settings.items())
            log = Path(self.host, "server.log")
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir), "-l", str(log))
            except RuntimeError as e:
                tail = "".join(log.read_text(errors="replace").splitlines(True)[-30:]) if log.exists() else ""
                raise RuntimeError(f"{e}\nlast lines of the server log:\n{tail}") from None
            self._running = True
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast: open sessions are ended) and delete its directory."""
        if self._running:
            self._running = False
            # check=False: the directory must go even if the server is already gone.
            subprocess.run(
                _as_server_user([str(self.bindir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.datadir)]),
                capture_output=True,
                check=False,
            )
        if self.host:
            shutil.rmtree(self.host, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        cmd = _as_server_user([str(self.bindir / program), *args])
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed (exit {result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}"
            )

    def __enter__(self) -> PgServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
