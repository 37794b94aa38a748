"""A real ``circulate serve`` process on a free port, over a fresh SQLite file."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.served import served

pytestmark = pytest.mark.e2e


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
    with served(tmp_path, environment) as base:
        yield base


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
