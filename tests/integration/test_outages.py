"""Outages are answered as outages: while Redis or PostgreSQL is down (or Redis frozen), requests
that need it get 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``, and once the server is back
the same app serves again, without a restart. Each test stops a private server of its own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, assert_problem
from tests.services import PrivatePostgres, PrivateRedis, private_postgres, private_redis

# Long enough for the breaker's cool-down and a pool's reconnect; only a broken recovery waits
# this long, a working one answers at its first chance.
RECOVERY_SECONDS = 60.0


def _container(tmp_path: Path, **values: object) -> Container:
    settings = Settings(
        environment="test",
        signing_keys_file=str(tmp_path / "keys.json"),
        **values,  # type: ignore[arg-type]
    )
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    return container


def assert_unavailable(response: TestResponse, dependency: str) -> None:
    problem = assert_problem(response, 503, "SERVICE_UNAVAILABLE")
    assert problem["details"] == {"dependency": dependency}
    assert int(response.headers["Retry-After"]) >= 1


def recovers(request: Callable[[], TestResponse], status: int = 200) -> None:
    """Poll ``request`` until it answers ``status``; each answer meanwhile must be a 503."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        response = request()
        if response.status_code == status:
            return
        assert response.status_code == 503, response.get_data(as_text=True)
        if time.monotonic() > deadline:
            pytest.fail(f"still {response.status_code} after {RECOVERY_SECONDS:.0f} s")
        time.sleep(0.2)


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.fixture
def redis_app(
    tmp_path: Path, redis_server: PrivateRedis
) -> Iterator[tuple[FlaskClient, Container]]:
    container = _container(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'circulate.db'}",
        redis_url=redis_server.url,
        revocation_store="redis",
    )
    migrate.upgrade(container.settings().database_url)
    try:
        yield create_app(container=container).test_client(), container
    finally:
        dispose(container)


def _signed_in(client: FlaskClient, container: Container) -> tuple[str, dict[str, str]]:
    member = container.library.membership().register(
        email="ada@example.org", name="Ada", password=PASSWORD
    )
    pair = client.post(
        "/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD}
    ).get_json()
    return member.id, {"Authorization": f"Bearer {pair['access_token']}"}


def test_redis_down_is_503_for_bearer_requests_and_recovers_without_a_restart(
    redis_app: tuple[FlaskClient, Container], redis_server: PrivateRedis
) -> None:
    client, container = redis_app
    member_id, bearer = _signed_in(client, container)
    me = f"/api/v1/members/{member_id}"
    assert client.get(me, headers=bearer).status_code == 200

    redis_server.stop()

    assert_unavailable(client.get(me, headers=bearer), "redis")
    assert_unavailable(client.post("/api/v1/auth/logout", headers=bearer, json={}), "redis")
    # What needs no Redis still works: the catalogue cache is skipped, not required.
    assert client.get("/api/v1/books").status_code == 200

    redis_server.start()

    recovers(lambda: client.get(me, headers=bearer))


def test_a_frozen_redis_is_503_rather_than_a_stalled_request(
    redis_app: tuple[FlaskClient, Container], redis_server: PrivateRedis
) -> None:
    client, container = redis_app
    member_id, bearer = _signed_in(client, container)
    me = f"/api/v1/members/{member_id}"

    redis_server.freeze()
    try:
        assert_unavailable(client.get(me, headers=bearer), "redis")
        assert client.get("/api/v1/books").status_code == 200
    finally:
        redis_server.thaw()

    recovers(lambda: client.get(me, headers=bearer))


def test_a_revocation_survives_only_as_long_as_redis_keeps_its_data(
    redis_app: tuple[FlaskClient, Container], redis_server: PrivateRedis
) -> None:
    """Why the documentation requires Redis persistence: this server has none."""
    client, container = redis_app
    member_id, bearer = _signed_in(client, container)
    me = f"/api/v1/members/{member_id}"
    assert client.post("/api/v1/auth/logout", headers=bearer, json={}).status_code == 204
    assert_problem(client.get(me, headers=bearer), 401, "TOKEN_REVOKED")

    redis_server.stop()
    redis_server.start()

    recovers(lambda: client.get(me, headers=bearer))  # forgotten: the token works again


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres_server() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.mark.postgres
def test_postgres_down_is_503_and_recovers_without_a_restart(
    tmp_path: Path, postgres_server: PrivatePostgres
) -> None:
    migrate.upgrade(postgres_server.url)
    container = _container(tmp_path, database_url=postgres_server.url)
    try:
        client = create_app(container=container).test_client()
        key = container.identity.api_keys().create("desk", frozenset(Scope)).plaintext
        client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {key}"
        assert client.get("/api/v1/books").status_code == 200

        postgres_server.stop()

        assert_unavailable(client.get("/api/v1/books"), "database")
        assert_unavailable(
            client.post("/api/v1/members", json={"email": "a@example.org", "name": "A"}),
            "database",
        )

        postgres_server.start()

        recovers(lambda: client.get("/api/v1/books"))
    finally:
        dispose(container)


@pytest.mark.postgres
def test_a_restart_while_idle_costs_at_most_one_503(
    tmp_path: Path, postgres_server: PrivatePostgres
) -> None:
    # The pool is not pinged before each use: the connections the restart cut are met by a
    # request, and the first one met renews the whole pool.
    migrate.upgrade(postgres_server.url)
    container = _container(tmp_path, database_url=postgres_server.url)
    try:
        client = create_app(container=container).test_client()
        key = container.identity.api_keys().create("desk", frozenset(Scope)).plaintext
        client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {key}"
        assert client.get("/api/v1/books").status_code == 200

        postgres_server.stop()
        postgres_server.start()

        first = client.get("/api/v1/books")
        if first.status_code != 200:
            assert_unavailable(first, "database")
        assert [client.get("/api/v1/books").status_code for _ in range(3)] == [200] * 3
    finally:
        dispose(container)


@pytest.mark.parametrize("persistent", [False, True])
def test_readiness_says_when_redis_would_forget_the_revocations(
    tmp_path: Path, persistent: bool
) -> None:
    with private_redis(persistent=persistent) as server:
        container = _container(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / 'circulate.db'}",
            redis_url=server.url,
            revocation_store="redis",
        )
        migrate.upgrade(container.settings().database_url)
        try:
            ready = create_app(container=container).test_client().get("/readyz")
        finally:
            dispose(container)

    assert ready.status_code == 200, ready.get_data(as_text=True)
    redis = ready.get_json()["checks"]["redis"]
    assert redis["status"] == "ok"
    assert ("no persistence" in redis["detail"]) is not persistent
