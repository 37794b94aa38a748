"""Rate limits: per caller across the API, per address and per account on sign-in and token
requests, shared through Redis, and answered with 429, ``Retry-After`` and ``RateLimit-*``."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterator

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import MemoryStorage, RedisStorage
from pydantic import ValidationError
from werkzeug.test import TestResponse

from adapters.security import Argon2PasswordHasher
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.http.middleware.limits import LIMITER_KEY
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, assert_problem

HIGH = "1000 per minute"
REDIS_URL = os.environ.get("CIRCULATE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"

MakeApp = Callable[..., tuple[Flask, Container]]


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    """``make_app(**settings)``: an app over memory storage with these (low) limits."""
    built: list[Container] = []

    def make(**values: object) -> tuple[Flask, Container]:
        defaults = {
            "storage": "memory",
            "environment": "test",
            "rate_limit_default": HIGH,
            "rate_limit_auth_per_ip": HIGH,
            "rate_limit_auth_per_account": HIGH,
            "rate_limit_auth_account_ceiling": HIGH,
        }
        settings = Settings(**{**defaults, **values})  # type: ignore[arg-type]
        container = build_container(settings, wire=False)
        container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        built.append(container)
        return create_app(container=container), container

    yield make
    for container in built:
        dispose(container)


def from_address(app: Flask, address: str | None = None) -> FlaskClient:
    """A client whose requests come from ``address`` (a fresh documentation address by
    default, so that counters kept in Redis by an earlier run are never this test's)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or f"2001:db8::{secrets.token_hex(2)}"
    return client


def assert_limited(response: TestResponse, limit: str) -> None:
    body = assert_problem(response, 429, "RATE_LIMITED")
    assert body["details"] == {"limit": limit}
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    assert response.headers["RateLimit-Remaining"] == "0"


def test_each_caller_has_an_allowance_across_the_api(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_default="3 per minute")
    client = from_address(app)

    first = client.get("/api/v1/books")
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("3", "2")
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 61
    assert "Retry-After" not in first.headers
    assert client.get("/api/v1").status_code == 200
    assert client.get("/api/v1/books/nope").status_code == 404  # counted too

    assert_limited(client.get("/api/v1/books"), "3 per 1 minute")
    assert from_address(app).get("/api/v1/books").status_code == 200  # another address


def test_an_authenticated_caller_is_limited_as_itself(make_app: MakeApp) -> None:
    app, container = make_app(rate_limit_default="2 per minute")
    client = from_address(app, "2001:db8::1")
    key = container.identity.api_keys().create("sync", [Scope.BOOKS_READ]).plaintext
    as_key = {"Authorization": f"ApiKey {key}"}
    for _ in range(2):
        assert client.get("/api/v1/books").status_code == 200
    assert client.get("/api/v1/books").status_code == 429

    # Same address, its own allowance; and the key's allowance follows it to any address.
    assert client.get("/api/v1/books", headers=as_key).status_code == 200
    assert from_address(app).get("/api/v1/books", headers=as_key).status_code == 200
    assert client.get("/api/v1/books", headers=as_key).status_code == 429


def test_refused_credentials_count_against_the_address(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_default="2 per minute")
    client = from_address(app)
    guess = {"Authorization": "ApiKey circ_000000000000_guess"}

    assert client.get("/api/v1/loans", headers=guess).status_code == 401
    assert client.get("/api/v1/loans", headers=guess).status_code == 401
    assert_limited(client.get("/api/v1/loans", headers=guess), "2 per 1 minute")


def test_probes_metrics_and_docs_are_never_limited(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_default="1 per minute")
    client = from_address(app)

    for _ in range(3):
        for url in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "RateLimit-Limit" not in response.headers, url


def _sign_in(client: FlaskClient, email: str) -> TestResponse:
    return client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})


def test_sign_in_is_limited_per_account_and_address(make_app: MakeApp) -> None:
    app, container = make_app(rate_limit_auth_per_account="2 per minute")
    container.library.membership().register(email="ada@example.org", name="Ada", password=PASSWORD)
    guesser = from_address(app)

    assert _sign_in(guesser, "ada@example.org").status_code == 200
    assert _sign_in(guesser, "ADA@example.org ").status_code == 200  # same account
    assert_limited(_sign_in(guesser, "ada@example.org"), "2 per 1 minute")
    assert _sign_in(guesser, "grace@example.org").status_code == 401  # not limited
    # The owner, at another address, still signs in: guessing cannot lock them out.
    assert _sign_in(from_address(app), "ada@example.org").status_code == 200


def test_sign_in_has_a_higher_ceiling_per_account_from_every_address(make_app: MakeApp) -> None:
    app, container = make_app(
        rate_limit_auth_per_account="2 per minute", rate_limit_auth_account_ceiling="3 per minute"
    )
    container.library.membership().register(email="ada@example.org", name="Ada", password=PASSWORD)

    for _ in range(3):
        assert _sign_in(from_address(app), "ada@example.org").status_code == 200
    assert_limited(_sign_in(from_address(app), "ada@example.org"), "3 per 1 minute")


def test_sign_in_is_limited_per_address_across_accounts(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_auth_per_ip="2 per minute")
    client = from_address(app)

    assert _sign_in(client, "a@example.org").status_code == 401
    assert _sign_in(client, "b@example.org").status_code == 401
    assert_limited(_sign_in(client, "c@example.org"), "2 per 1 minute")
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": "x"})
    assert refresh.status_code == 401  # each endpoint has its own allowance
    assert _sign_in(from_address(app), "c@example.org").status_code == 401


def test_sign_in_limits_neither_count_nor_show_on_other_endpoints(make_app: MakeApp) -> None:
    app, _ = make_app(
        rate_limit_auth_per_ip="1 per minute",
        rate_limit_auth_per_account="1 per minute",
        rate_limit_auth_account_ceiling="1 per minute",
    )
    client = from_address(app)

    for _ in range(3):
        books = client.get("/api/v1/books")
        assert books.status_code == 200
        assert books.headers["RateLimit-Limit"] == "1000"  # the API-wide allowance only
    assert _sign_in(client, "a@example.org").status_code == 401  # the first attempt is free
    assert_limited(_sign_in(client, "a@example.org"), "1 per 1 minute")
    assert client.get("/api/v1/books").status_code == 200


def test_token_requests_are_limited_per_client_in_the_rfc_format(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_auth_account_ceiling="1 per minute")
    basic = base64.b64encode(b"some-client:wrong").decode()

    def ask() -> TestResponse:
        return from_address(app).post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )

    assert ask().status_code == 401
    limited = ask()
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "temporarily_unavailable"
    assert set(limited.get_json()) == {"error", "error_description"}
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["Cache-Control"] == "no-store"


def test_limits_can_be_turned_off(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_default="1 per minute", rate_limit_enabled=False)
    client = from_address(app)

    for _ in range(3):
        response = client.get("/api/v1/books")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


def test_counters_live_in_this_process_without_redis(make_app: MakeApp) -> None:
    app, _ = make_app()

    assert isinstance(app.extensions[LIMITER_KEY].storage, MemoryStorage)


def test_workers_share_their_counters_through_redis(make_app: MakeApp) -> None:
    # Two apps over one Redis stand for two workers: the limit holds across both.
    first, _ = make_app(rate_limit_default="3 per minute", redis_url=REDIS_URL)
    second, _ = make_app(rate_limit_default="3 per minute", redis_url=REDIS_URL)
    assert isinstance(first.extensions[LIMITER_KEY].storage, RedisStorage)
    address = f"2001:db8::{secrets.token_hex(4)}"
    one, two = from_address(first, address), from_address(second, address)

    assert one.get("/api/v1/books").status_code == 200
    assert two.get("/api/v1/books").status_code == 200
    assert one.get("/api/v1/books").status_code == 200
    assert_limited(two.get("/api/v1/books"), "3 per 1 minute")


@pytest.mark.parametrize("value", ["", "lots", "5 per fortnight", "per minute"])
def test_a_malformed_limit_stops_the_settings(value: str) -> None:
    with pytest.raises(ValidationError, match="rate_limit_default"):
        Settings(rate_limit_default=value)


def test_limits_hold_in_this_process_while_redis_is_unreachable(make_app: MakeApp) -> None:
    # Nothing listens on port 1: every Redis command fails at once, as a stopped Redis does.
    app, _ = make_app(rate_limit_default="2 per minute", redis_url="redis://127.0.0.1:1/0")
    client = from_address(app)

    first = client.get("/api/v1/books")
    assert first.status_code == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")
    assert client.get("/api/v1/books").status_code == 200
    assert_limited(client.get("/api/v1/books"), "2 per 1 minute")


def test_an_endpoints_limits_are_counted_alike_on_every_request(make_app: MakeApp) -> None:
    # The second and later requests to an endpoint use its limits as resolved by the first.
    app, _ = make_app(rate_limit_default="10 per minute", rate_limit_auth_per_ip="2 per minute")
    client = from_address(app)

    def remaining(response: TestResponse) -> str:
        return response.headers["RateLimit-Remaining"]

    assert [remaining(client.get("/api/v1/books")) for _ in range(2)] == ["9", "8"]
    signed_in = [_sign_in(client, "nobody@example.org") for _ in range(2)]
    assert [response.status_code for response in signed_in] == [401, 401]
    # A sign-in counts against the caller's allowance across the API too, the one it shows.
    assert [remaining(response) for response in signed_in] == ["7", "6"]
    assert_limited(_sign_in(client, "nobody@example.org"), "2 per 1 minute")
    assert remaining(client.get("/api/v1/books")) == "4"
