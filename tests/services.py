"""Private Redis and PostgreSQL servers that a test starts, stops and restarts itself.

Never the shared servers: each runs on a free port of its own, in a directory of its own, and is
stopped when the test ends. Their binaries must be installed; a missing one fails the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
STARTUP_SECONDS = 60.0
NO_PERSISTENCE = ["--save", "", "--appendonly", "no"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], what: str, seconds: float = STARTUP_SECONDS) -> None:
    """Poll ``check`` until it is true; fail after ``seconds`` (a broken setup, not a timing)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s", pytrace=False)
        time.sleep(0.1)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """``redis-server`` on a free port; without persistence (as a careless deployment would run
    it) unless ``persistent``, then with the append-only file in a directory of its own."""

    def __init__(self, *, persistent: bool = False) -> None:
        self.persistent = persistent
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed", pytrace=False)
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.directory = ""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *self._persistence()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _answers(self.port), f"Redis answering on port {self.port}")

    def _persistence(self) -> list[str]:
        if not self.persistent:
            return NO_PERSISTENCE
        self.directory = tempfile.mkdtemp(prefix="circulate-redis-")
        return ["--save", "", "--appendonly", "yes", "--dir", self.directory]

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # in case it was frozen
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class PrivatePostgres:
    """A PostgreSQL cluster made by ``initdb`` in a directory of its own, on a free port."""

    def __init__(self) -> None:
        if not POSTGRES_BIN_DIRS:
            pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.bin = POSTGRES_BIN_DIRS[0]
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="circulate-pg-"))
        self.data = self.directory / "data"
        # The server refuses to run as root: it runs as the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.directory, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"{command[0]} failed: {result.stderr or result.stdout}", pytrace=False)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.directory / "log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w")

    def stop_quietly(self) -> None:
        """Stop the server if it runs; say nothing if it does not."""
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate"],
            capture_output=True,
            timeout=60,
            check=False,
        )

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def private_redis(*, persistent: bool = False) -> Iterator[PrivateRedis]:
    server = PrivateRedis(persistent=persistent)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if persistent:
            shutil.rmtree(server.directory, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop_quietly()
    finally:
        server.remove()
