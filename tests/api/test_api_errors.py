"""Every error is an RFC 9457 problem of one shape, and a 500 tells the client nothing."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, abort, request
from flask.testing import FlaskClient

from domain.errors import (
    BookNotFound,
    DomainError,
    InvalidIsbn,
    LoanLimitReached,
    VersionMismatch,
)
from entrypoints.http.app import MAX_BODY_BYTES
from tests.api.support import assert_problem as assert_error_shape
from tests.api.support import open_route

SECRET = "s3cr3t-connection-string"


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with a few routes that fail on purpose."""

    def refuse(name: str) -> str:
        errors: dict[str, DomainError] = {
            "invalid": InvalidIsbn("978-0 is not an ISBN"),
            "missing": BookNotFound("b-1"),
            "conflict": LoanLimitReached("member already has 5 open loans", limit=5),
            "stale": VersionMismatch("b-1 is at version 3, not 2", id="b-1", current_version=3),
        }
        raise errors[name]

    def crash() -> str:
        raise RuntimeError(f"could not connect to {SECRET}")

    def teapot() -> str:
        abort(418)

    def upload() -> str:
        return str(len(request.get_data()))

    open_route(app, "/test/refuse/<name>", refuse)
    open_route(app, "/test/crash", crash)
    open_route(app, "/test/teapot", teapot)
    open_route(app, "/test/upload", upload, methods=["POST"])
    return app


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    assert_error_shape(client.get("/no/such/thing"), 404, "NOT_FOUND")


def test_wrong_method_is_a_json_405_that_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.delete("/healthz")

    body = assert_error_shape(response, 405, "METHOD_NOT_ALLOWED")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "HEAD", "OPTIONS"} <= allowed
    assert body["details"] == {"allowed_methods": sorted(allowed)}


def test_other_http_errors_are_named_after_their_status(client: FlaskClient) -> None:
    body = assert_error_shape(client.get("/test/teapot"), 418, "I_M_A_TEAPOT")

    assert body["type"] == "about:blank"
    assert body["title"] == "I'm a Teapot"


def test_a_body_over_the_limit_is_a_json_413(client: FlaskClient) -> None:
    response = client.post("/test/upload", data=b"x" * (MAX_BODY_BYTES + 1))

    assert_error_shape(response, 413, "REQUEST_ENTITY_TOO_LARGE")


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("invalid", 422, "INVALID_ISBN"),
        ("missing", 404, "BOOK_NOT_FOUND"),
        ("conflict", 409, "LOAN_LIMIT_REACHED"),
        ("stale", 412, "VERSION_MISMATCH"),
    ],
)
def test_domain_errors_keep_their_code_and_map_their_kind(
    client: FlaskClient, name: str, status: int, code: str
) -> None:
    assert_error_shape(client.get(f"/test/refuse/{name}"), status, code)


def test_domain_error_details_and_message_reach_the_client(client: FlaskClient) -> None:
    body = assert_error_shape(client.get("/test/refuse/stale"), 412, "VERSION_MISMATCH")

    assert body["message"] == body["detail"] == "b-1 is at version 3, not 2"
    assert body["details"] == {"id": "b-1", "current_version": 3}
    assert body["type"] == "urn:circulate:problem:version-mismatch"
    assert body["title"] == "Version mismatch"


def test_an_unexpected_error_is_a_500_that_leaks_nothing(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/test/crash", headers={"X-Request-ID": "trace-me-1"})

    body = assert_error_shape(response, 500, "INTERNAL_ERROR")
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert body["details"] == {}
    # The operator, not the client, gets the cause, tied to the same request id.
    assert any(
        "trace-me-1" in record.getMessage() and record.exc_info is not None
        for record in caplog.records
    )


def test_an_explicit_500_has_the_same_shape(app: Flask, client: FlaskClient) -> None:
    open_route(app, "/test/abort500", lambda: abort(500), endpoint="abort500")

    assert_error_shape(client.get("/test/abort500"), 500, "INTERNAL_ERROR")


def test_malformed_json_is_a_400_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/books", data='{"title": ', headers={"Content-Type": "application/json"}
    )

    body = assert_error_shape(response, 400, "BAD_REQUEST")
    assert body["type"] == "about:blank"


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("text/plain", "isbn=1"), ("application/x-www-form-urlencoded", "isbn=1&title=T")],
)
def test_a_body_that_is_not_json_is_a_415_problem(
    client: FlaskClient, content_type: str, data: str
) -> None:
    response = client.post("/api/v1/books", data=data, headers={"Content-Type": content_type})

    assert_error_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_json_body_that_is_not_an_object_is_a_422_problem(client: FlaskClient) -> None:
    for data in ("[]", '"{\\"isbn\\": \\"9780131103627\\", \\"title\\": \\"T\\"}"', "3"):
        response = client.post(
            "/api/v1/books", data=data, headers={"Content-Type": "application/json"}
        )
        assert_error_shape(response, 422, "VALIDATION_FAILED")


def test_a_missing_body_is_a_422_problem(client: FlaskClient) -> None:
    assert_error_shape(client.post("/api/v1/books"), 422, "VALIDATION_FAILED")


def test_an_api_route_with_the_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/v1/loans")

    assert_error_shape(response, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}


def test_an_unknown_api_route_is_a_404_problem(client: FlaskClient) -> None:
    assert_error_shape(client.get("/api/v1/shelves"), 404, "NOT_FOUND")
