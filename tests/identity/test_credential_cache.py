"""The cache of checked API keys: a key is read once per few seconds, and revocation and expiry
still hold, in the process that revoked at once, in other processes within the stated bound
(at once when they share Redis)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask.testing import FlaskClient
from redis import Redis

from adapters.clock import ManualClock
from adapters.redis_store import redis_client
from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from application.identity.api_keys import ApiKeys
from domain.access import Scope
from entrypoints.container import build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings

REDIS_URL_VARIABLE = "CIRCULATE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
BOOKS = "/api/v1/books"
TTL = 5


class Process:
    """One app with its own container, as one gunicorn worker (or host) has."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.container = build_container(settings, wire=False)
        self.container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        self.container.clock.override(providers.Object(clock))
        self.client: FlaskClient = create_app(container=self.container).test_client()

    def status(self, key: str) -> tuple[int, str | None]:
        response = self.client.get(BOOKS, headers={"Authorization": f"ApiKey {key}"})
        return response.status_code, (response.get_json() or {}).get("code")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)
    return url


def sql_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "storage": "sql",
        "environment": "test",
        "database_url": database_url,
        "signing_keys_file": str(tmp_path / "keys.json"),
        "rate_limit_default": "5000 per minute",
        "credential_cache_seconds": TTL,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def processes(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> Iterator[tuple[Process, Process]]:
    """Two processes over one database, sharing nothing else (no Redis)."""
    pair = (
        Process(sql_settings(database_url, tmp_path), clock),
        Process(sql_settings(database_url, tmp_path), clock),
    )
    yield pair
    for process in pair:
        dispose(process.container)


class Checks:
    """Counts the key checks that reach the database."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = ApiKeys.verify

        def counted(api_keys: ApiKeys, plaintext: str) -> Any:
            self.count += 1
            return original(api_keys, plaintext)

        monkeypatch.setattr(ApiKeys, "verify", counted)


def new_key(process: Process, expires_in: timedelta | None = None) -> tuple[str, str]:
    expires_at = None if expires_in is None else process.container.clock().now() + expires_in
    created = process.container.identity.api_keys().create("sync", frozenset(Scope), expires_at)
    return created.key.id, created.plaintext


def test_a_checked_key_is_read_again_only_after_the_ttl(
    processes: tuple[Process, Process], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = processes
    _, key = new_key(one)
    checks = Checks(monkeypatch)

    assert [one.status(key) for _ in range(3)] == [(200, None)] * 3
    assert checks.count == 1
    clock.advance(timedelta(seconds=TTL))
    assert one.status(key) == (200, None)
    assert checks.count == 2


def test_refusals_are_never_cached(
    processes: tuple[Process, Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = processes
    _, key = new_key(one)
    wrong = key[:-4] + ("0000" if not key.endswith("0000") else "1111")
    checks = Checks(monkeypatch)

    assert [one.status(wrong) for _ in range(3)] == [(401, "INVALID_CREDENTIALS")] * 3
    assert checks.count == 3


def test_the_revoking_process_refuses_the_key_at_once(
    processes: tuple[Process, Process],
) -> None:
    one, _ = processes
    key_id, key = new_key(one)
    assert one.status(key) == (200, None)  # now cached

    one.container.identity.api_keys().revoke(key_id)

    assert one.status(key) == (401, "API_KEY_REVOKED")


def test_another_process_refuses_a_revoked_key_within_the_ttl(
    processes: tuple[Process, Process], clock: ManualClock
) -> None:
    one, other = processes
    key_id, key = new_key(one)
    assert other.status(key) == (200, None)  # cached by the other process

    one.container.identity.api_keys().revoke(key_id)
    clock.advance(timedelta(seconds=TTL))

    assert other.status(key) == (401, "API_KEY_REVOKED")
    assert one.status(key) == (401, "API_KEY_REVOKED")


def test_without_the_cache_another_process_refuses_at_once(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = sql_settings(database_url, tmp_path, credential_cache_seconds=0)
    one, other = Process(settings, clock), Process(settings, clock)
    try:
        key_id, key = new_key(one)
        assert other.status(key) == (200, None)
        one.container.identity.api_keys().revoke(key_id)
        assert other.status(key) == (401, "API_KEY_REVOKED")
    finally:
        dispose(one.container)
        dispose(other.container)


def test_a_cached_key_expires_at_its_expiry_not_at_the_ttl(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    process = Process(sql_settings(database_url, tmp_path, credential_cache_seconds=60), clock)
    try:
        _, key = new_key(process, expires_in=timedelta(seconds=10))
        assert process.status(key) == (200, None)
        clock.advance(timedelta(seconds=9))
        assert process.status(key) == (200, None)
        clock.advance(timedelta(seconds=1))
        assert process.status(key) == (401, "API_KEY_EXPIRED")
    finally:
        dispose(process.container)


@pytest.fixture
def redis() -> Iterator[Redis]:
    client = redis_client(os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL)
    try:
        client.ping()
    except Exception as error:
        pytest.fail(f"Redis at {REDIS_URL_VARIABLE} does not answer: {error}", pytrace=False)
    yield client
    client.close()


def test_processes_sharing_redis_refuse_a_revoked_key_at_once(
    redis: Redis, database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    url = os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL
    settings = sql_settings(database_url, tmp_path, redis_url=url, credential_cache_seconds=60)
    one, other = Process(settings, clock), Process(settings, clock)
    try:
        key_id, key = new_key(one)
        assert other.status(key) == (200, None)  # cached by the other process

        one.container.identity.api_keys().revoke(key_id)

        assert other.status(key) == (401, "API_KEY_REVOKED")
    finally:
        dispose(one.container)
        dispose(other.container)
