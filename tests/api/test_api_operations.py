"""Operations: health probes, Prometheus metrics, security headers, CORS, proxies, body limit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.http.routes.health import OPERATIONS_ENDPOINTS
from entrypoints.settings import Settings
from tests.api.support import add_book, assert_problem, borrow, open_route, register

AppFactory = Callable[..., FlaskClient]


@pytest.fixture
def client_with() -> Iterator[AppFactory]:
    """``client_with(**settings)``: a test client of an app over memory storage."""
    built: list[Container] = []

    def make(**values: object) -> FlaskClient:
        values = {"storage": "memory", "environment": "test", **values}
        settings = Settings(**values)  # type: ignore[arg-type]
        container = build_container(settings)
        container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        built.append(container)
        return create_app(container=container).test_client()

    yield make
    for container in built:
        dispose(container)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ------------------------------------------------------------------------------ health


def test_healthz_and_readyz_answer_on_memory_storage(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "redis"}
    assert body["checks"]["redis"]["status"] == "skipped"


def test_readyz_checks_a_migrated_database(tmp_path: Path, client_with: AppFactory) -> None:
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    client = client_with(storage="sql", database_url=url)

    not_migrated = client.get("/readyz")
    body = assert_problem(not_migrated, 503, "NOT_READY")
    assert body["details"]["checks"]["migrations"]["status"] == "failed"
    assert body["details"]["checks"]["database"]["status"] == "ok"

    migrate.upgrade(url)
    ready = client.get("/readyz")

    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"]["migrations"] == {
        "status": "ok",
        "detail": f"at {migrate.head()}",
    }


def test_readyz_fails_when_redis_does_not_answer(client_with: AppFactory) -> None:
    client = client_with(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1

    body = assert_problem(client.get("/readyz"), 503, "NOT_READY")

    assert body["details"]["checks"]["redis"]["status"] == "failed"
    assert "127.0.0.1" not in str(body)  # the failure's kind, not a URL


def test_the_probes_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]

    assert "get" in paths["/healthz"]
    assert set(paths["/readyz"]["get"]["responses"]) >= {"200", "503"}
    assert {"root.healthz", "health.readyz", "metrics.metrics"} == OPERATIONS_ENDPOINTS


# ----------------------------------------------------------------------------- metrics


def test_requests_are_counted_by_route_template_and_status(client: FlaskClient) -> None:
    book = add_book(client)
    route = "/api/v1/books/<book_id>"
    before = sample("circulate_http_requests_total", method="GET", route=route, status="200")
    unmatched = sample(
        "circulate_http_requests_total", method="GET", route="<unmatched>", status="404"
    )
    timed = sample(
        "circulate_http_request_duration_seconds_count", method="GET", route=route, status="200"
    )

    for _ in range(3):
        assert client.get(f"/api/v1/books/{book['id']}").status_code == 200
    assert client.get("/no/such/path").status_code == 404

    assert sample("circulate_http_requests_total", method="GET", route=route, status="200") == (
        before + 3
    )
    assert (
        sample("circulate_http_requests_total", method="GET", route="<unmatched>", status="404")
        == unmatched + 1
    )
    assert (
        sample(
            "circulate_http_request_duration_seconds_count", method="GET", route=route, status="200"
        )
        == timed + 3
    )
    text = client.get("/metrics").get_data(as_text=True)
    assert book["id"] not in text  # raw paths never become labels
    assert 'route="/api/v1/books/<book_id>"' in text


def test_server_errors_are_counted(app: Flask, client: FlaskClient) -> None:
    def fail() -> str:
        raise RuntimeError("boom")

    open_route(app, "/test/fail", fail, endpoint="test_fail")
    labels = {"method": "GET", "route": "/test/fail", "status": "500"}
    before = sample("circulate_http_errors_total", **labels)

    assert client.get("/test/fail").status_code == 500

    assert sample("circulate_http_errors_total", **labels) == before + 1


def test_circulation_is_counted(client: FlaskClient) -> None:
    book = add_book(client, 1, copies=1)
    ada, grace = register(client), register(client)
    counts = {
        name: sample(name)
        for name in ("circulate_loans_total", "circulate_returns_total", "circulate_renewals_total")
    }
    placed = sample("circulate_holds_total", event="placed")
    ready = sample("circulate_holds_total", event="ready")

    loan = borrow(client, ada, book)
    assert client.post(f"/api/v1/loans/{loan['id']}/renewals").status_code == 200
    assert (
        client.post("/api/v1/holds", json={"member_id": grace["id"], "book_id": book["id"]})
    ).status_code == 201
    assert client.post(f"/api/v1/loans/{loan['id']}/return").status_code == 200

    assert sample("circulate_loans_total") == counts["circulate_loans_total"] + 1
    assert sample("circulate_renewals_total") == counts["circulate_renewals_total"] + 1
    assert sample("circulate_returns_total") == counts["circulate_returns_total"] + 1
    assert sample("circulate_holds_total", event="placed") == placed + 1
    assert sample("circulate_holds_total", event="ready") == ready + 1


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "# TYPE circulate_http_requests_total counter" in response.get_data(as_text=True)
    assert "# TYPE circulate_loans_total counter" in response.get_data(as_text=True)


def test_a_metrics_token_guards_the_metrics(client_with: AppFactory) -> None:
    client = client_with(metrics_token="s3cr3t-metrics-token-0123")

    assert_problem(client.get("/metrics"), 401, "AUTHENTICATION_REQUIRED")
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    right = {"Authorization": "Bearer s3cr3t-metrics-token-0123"}
    assert client.get("/metrics", headers=right).status_code == 200


# ----------------------------------------------------------------- headers, CORS, proxy


def test_every_response_has_the_security_headers(client: FlaskClient) -> None:
    for response in (client.get("/api/v1"), client.get("/nowhere"), client.get("/metrics")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_only_over_tls(client: FlaskClient) -> None:
    secure = client.get("/api/v1", base_url="https://localhost")

    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_headers_count_only_behind_a_configured_proxy(client_with: AppFactory) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "library.example.org"}

    direct = client_with().get("/api/v1", headers=forwarded)
    proxied = client_with(proxy_hops=1).get("/api/v1", headers=forwarded)

    assert "Strict-Transport-Security" not in direct.headers  # a client cannot forge TLS
    assert "Strict-Transport-Security" in proxied.headers


def test_docs_have_a_strict_csp_whose_nonce_is_the_pages(client: FlaskClient) -> None:
    response = client.get("/docs")

    policy = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    [nonce] = [s for s in scripts if s.startswith("'nonce-")]
    html = response.get_data(as_text=True)
    assert f'<script nonce="{nonce[7:-1]}">' in html
    assert client.get("/docs").headers["Content-Security-Policy"] != policy  # fresh each time
    # Every asset the page loads is this app's own.
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset


def test_no_cors_headers_unless_origins_are_configured(client: FlaskClient) -> None:
    response = client.get("/api/v1", headers={"Origin": "https://app.example.org"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_exactly_the_configured_origins(client_with: AppFactory) -> None:
    client = client_with(cors_origins="https://app.example.org, https://admin.example.org")
    preflight = client.options(
        "/api/v1/books",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, Authorization",
        },
    )

    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    simple = client.get("/api/v1", headers={"Origin": "https://admin.example.org"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://admin.example.org"
    assert "X-Request-ID" in simple.headers["Access-Control-Expose-Headers"]
    stranger = client.get("/api/v1", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_a_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="wildcards are refused"):
        Settings(cors_origins="*")


def test_the_body_limit_is_a_setting(client_with: AppFactory) -> None:
    client = client_with(max_body_bytes=2048)
    body = {"email": "big@example.org", "name": "x" * 3000}

    assert_problem(client.post("/api/v1/members", json=body), 413, "REQUEST_ENTITY_TOO_LARGE")
