"""A worker killed between committing a change and storing its answer: the retry does not apply
the change a second time (PostgreSQL, a real process killed with SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers

from adapters.clock import ManualClock, SystemClock
from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.http.middleware.idempotency import LEASE
from entrypoints.settings import Settings
from tests.api.support import assert_problem
from tests.databases import temporary_postgres_database

pytestmark = pytest.mark.postgres

KEY = "lend-exactly-once"

# The worker: the same app on the same database, killed (SIGKILL: no cleanup, no finally) the
# moment the change is committed and the answer is about to be stored.
WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from argon2 import profiles
    from dependency_injector import providers
    from adapters.security import Argon2PasswordHasher
    from entrypoints.container import build_container
    from entrypoints.http import create_app
    from entrypoints.settings import Settings

    url, keys, api_key, member_id, book_id, key = sys.argv[1:]
    settings = Settings(database_url=url, environment="test", signing_keys_file=keys)
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    store = container.idempotency()
    store.complete = lambda **_: os.kill(os.getpid(), signal.SIGKILL)
    client = create_app(container=container).test_client()
    client.post(
        "/api/v1/loans",
        json={"member_id": member_id, "book_id": book_id},
        headers={"Authorization": f"ApiKey {api_key}", "Idempotency-Key": key},
    )
    sys.exit(3)  # never reached: the process died storing the answer
    """
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with temporary_postgres_database() as url:
        migrate.upgrade(url)
        yield url, str(tmp_path / "keys.json")


def _container(url: str, keys: str) -> Container:
    container = build_container(
        Settings(database_url=url, environment="test", signing_keys_file=keys), wire=False
    )
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    return container


def test_a_worker_killed_after_the_commit_does_not_lend_twice(
    database: tuple[str, str],
) -> None:
    url, keys = database
    setup = _container(url, keys)
    try:
        client = create_app(container=setup).test_client()
        api_key = setup.api_keys().create("desk", frozenset(Scope)).plaintext
        client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {api_key}"
        book = client.post(
            "/api/v1/books",
            json={"isbn": "9780131103627", "title": "C", "authors": ["K"], "barcodes": ["A", "B"]},
        ).get_json()
        member = client.post(
            "/api/v1/members", json={"email": "ada@example.org", "name": "Ada"}
        ).get_json()
    finally:
        dispose(setup)

    worker = subprocess.run(
        [sys.executable, "-c", WORKER, url, keys, api_key, member["id"], book["id"], KEY],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr

    # The retry comes after the lease, when an abandoned claim may be taken over.
    retrying = _container(url, keys)
    retrying.clock.override(providers.Object(ManualClock(SystemClock().now() + LEASE * 2)))
    try:
        client = create_app(container=retrying).test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {api_key}"
        retry = client.post(
            "/api/v1/loans",
            json={"member_id": member["id"], "book_id": book["id"]},
            headers={"Idempotency-Key": KEY},
        )
        loans = client.get(f"/api/v1/members/{member['id']}/loans").get_json()
    finally:
        dispose(retrying)

    assert_problem(retry, 409, "IDEMPOTENCY_KEY_APPLIED")
    assert loans["total"] == 1  # exactly one effect
