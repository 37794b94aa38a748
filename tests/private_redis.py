"""A Redis server of the test's own: started on a free port, stopped and forgotten afterwards.

For tests that empty Redis or watch every key in it, so that the shared server (and whoever else
uses it) is never touched. A machine without ``redis-server`` fails the test; it never skips it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

STARTUP_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """Start ``redis-server`` (nothing kept on disk), yield its URL, stop it."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (Debian: redis-server)", pytrace=False)
    port = _free_port()
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    client = Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                client.ping()
                return
            except RedisConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on {url}", pytrace=False)
                time.sleep(0.05)
    finally:
        client.close()
