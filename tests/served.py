"""A real ``circulate serve`` process on a free port, for the end-to-end and browser tests."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import free_port

CIRCULATE = Path(sys.executable).parent / "circulate"
STARTUP_SECONDS = 30.0


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (127.0.0.1 only)
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def served(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """``circulate db upgrade`` then ``circulate serve`` in ``workdir`` with ``env``; yields the
    base URL once ``/healthz`` answers, and stops the server afterwards."""
    if not CIRCULATE.exists():
        pytest.fail(f"{CIRCULATE} is missing: install the package (make install)")
    subprocess.run([str(CIRCULATE), "db", "upgrade"], env=env, cwd=workdir, check=True, timeout=120)
    port = free_port()
    log = workdir / "serve.log"
    with log.open("wb") as output:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [str(CIRCULATE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(f"{base}/healthz"):
            if process.poll() is not None:
                pytest.fail(f"circulate serve exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"circulate serve did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
