"""The OpenAPI document: valid, complete, in step with the route table; Swagger UI offline."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from entrypoints.web.setup import is_page

METHODS = {"get", "put", "post", "patch", "delete"}
# Routes that serve the documentation itself rather than the API.
DOCUMENTATION_ENDPOINTS = {"docs.openapi_json", "docs.swagger_ui", "docs.static", "static"}
# Prometheus's scrape endpoint: text exposition format for a monitoring system, not part of the
# JSON API (its problem-only error contract and examples do not apply).
DOCUMENTATION_ENDPOINTS |= {"metrics.metrics"}


PROBES = {"/healthz", "/readyz"}

# The OAuth 2.0 token endpoint: a form in, RFC 6749's formats out (not problem+json).
OAUTH_TOKEN = ("/oauth/token", "post")


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_carries_the_package_version(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == version("circulate")


def test_every_route_is_documented_and_every_documented_operation_is_routed(
    app: Flask, document: dict[str, Any]
) -> None:
    routed = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in DOCUMENTATION_ENDPOINTS and not is_page(rule.endpoint)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, method, _ in _operations(document)}

    assert routed == documented


def test_every_operation_has_a_summary_description_examples_and_its_statuses(
    document: dict[str, Any],
) -> None:
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        if (path, method) == OAUTH_TOKEN:
            continue  # its own format: test_the_token_endpoint_documents_the_rfc_format
        assert operation.get("summary"), where
        assert operation.get("description"), where
        responses = operation["responses"]
        # The health probes take any query string, so only they have no 422.
        assert ("422" in responses) is (path not in PROBES), where
        assert "500" in responses, where
        if "{" in path:
            assert "404" in responses, where
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), where
            assert operation["requestBody"]["content"]["application/json"]["example"], where
        for status, response in responses.items():
            assert "X-Request-ID" in response["headers"], (where, status)
            for media in response.get("content", {}).values():
                assert media.get("example") is not None, (where, status)
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {"application/problem+json"}, (where, status)
        assert any(s.startswith("2") for s in responses), where


def test_creates_document_location_and_reads_document_etag_and_304(
    document: dict[str, Any],
) -> None:
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        if "201" in responses:
            assert "Location" in responses["201"]["headers"], path
        if method == "get" and "ETag" in responses["200"]["headers"]:
            assert "304" in responses, path
            names = {p["name"] for p in operation["parameters"]}
            assert "If-None-Match" in names, path


def test_writes_with_if_match_document_412(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        names = {p["name"] for p in operation.get("parameters", [])}
        if "If-Match" in names:
            assert "412" in operation["responses"], f"{method} {path}"
    writes = {(p, m) for p, m, o in _operations(document) if m in {"put", "patch", "delete"}}
    with_if_match = {
        (p, m)
        for p, m, o in _operations(document)
        if "If-Match" in {x["name"] for x in o.get("parameters", [])}
    }
    assert writes <= with_if_match


def test_idempotent_posts_document_the_key(document: dict[str, Any]) -> None:
    keyed = {
        path
        for path, method, operation in _operations(document)
        if "Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}
    }

    assert keyed == {
        "/api/v1/books",
        "/api/v1/members",
        "/api/v1/loans",
        "/api/v1/returns",
        "/api/v1/holds",
        "/api/v1/members/{member_id}/payments",
        "/api/v1/members/{member_id}/charges",
        "/api/v1/members/{member_id}/charges/{charge_id}/waivers",
        "/api/v1/members/{member_id}/charges/{charge_id}/cancellation",
        "/api/v1/members/{member_id}/payments/{payment_id}/refunds",
    }


def test_swagger_ui_is_served_from_the_app_with_no_outside_urls(client: FlaskClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert not re.search(r"https?://", html)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.get_data()
        response.close()
    assert '"/openapi.json"' in html


def test_swagger_ui_is_version_5(client: FlaskClient) -> None:
    response = client.get("/docs/assets/js/swagger-ui-bundle.js")

    assert re.search(rb'version:\s*"5\.|"5\.\d+\.\d+"', response.get_data())
    response.close()


def test_the_token_endpoint_documents_the_rfc_format(document: dict[str, Any]) -> None:
    operation = document["paths"]["/oauth/token"]["post"]
    responses = operation["responses"]

    assert {"200", "400", "401", "429", "500"} <= set(responses)
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert body["schema"]["properties"]["grant_type"]["enum"] == ["client_credentials"]
    for status in ("400", "401", "413", "429"):
        media = responses[status]["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/OAuthErrorOut"}, status
        assert media["example"]["error"], status
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert set(responses["500"]["content"]) == {"application/problem+json"}


def test_security_schemes_and_each_operations_security(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["apiKeyAuth"]["in"] == "header"
    flow = schemes["clientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == {
        "books:read",
        "books:write",
        "loans:read",
        "loans:write",
        "members:read",
        "members:write",
        "admin",
    }

    loans = document["paths"]["/api/v1/loans"]["post"]
    assert {"bearerAuth": ["loans:write"]} in loans["security"]
    assert {"401", "403", "429"} <= set(loans["responses"])
    assert "**Access:**" in loans["description"]
    books = document["paths"]["/api/v1/books"]["get"]
    assert {} in books["security"]  # public while the catalogue is
    keys = document["paths"]["/api/v1/api-keys"]["post"]
    assert {"apiKeyAuth": ["admin"]} in keys["security"]
    assert "security" not in document["paths"]["/api/v1/auth/token"]["post"]
    assert "401" in document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    for path in ("/healthz", "/readyz"):
        responses = document["paths"][path]["get"]["responses"]
        assert "401" not in responses
        assert "429" not in responses
