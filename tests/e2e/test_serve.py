"""A real ``circulate serve`` process on a free port, over a fresh SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CIRCULATE = Path(sys.executable).parent / "circulate"
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http://127.0.0.1 only)
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    env["CIRCULATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'circulate.db'}"
    return env


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if not CIRCULATE.exists():
        pytest.fail(f"{CIRCULATE} is missing: install the package (make install)")
    subprocess.run(
        [str(CIRCULATE), "db", "upgrade"], env=environment, cwd=tmp_path, check=True, timeout=60
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [str(CIRCULATE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"circulate serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
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


def test_a_served_api_answers_over_http(server: str) -> None:
    status, headers, body = get(f"{server}/healthz")
    assert status == 200
    assert body == {"status": "ok"}
    assert headers["X-Request-ID"]

    status, _, body = get(f"{server}/api/v1")
    assert status == 200
    assert body["links"]["books"] == {"href": "/api/v1/books"}

    status, headers, body = get(f"{server}/nowhere")
    assert status == 404
    assert body["code"] == "NOT_FOUND"
    assert body["request_id"] == headers["X-Request-ID"]
