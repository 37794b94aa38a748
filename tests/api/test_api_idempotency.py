"""Idempotency-Key: replay, reuse with another body, in flight, expiry and scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.clock import ManualClock
from application.idempotency import KeyUsed
from entrypoints.container import Container
from entrypoints.http.middleware.idempotency import LEASE, TTL, fingerprint
from tests.api.support import ISBNS, Users, add_book, assert_problem, register

BOOK = {"isbn": ISBNS[0], "title": "Idempotent"}


def _post_book(client: FlaskClient, key: str, body: dict[str, str] = BOOK) -> TestResponse:
    return client.post("/api/v1/books", json=body, headers={"Idempotency-Key": key})


def test_a_retry_replays_the_first_response(client: FlaskClient) -> None:
    first = _post_book(client, "key-1")
    retry = _post_book(client, "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert client.get("/api/v1/books").get_json()["total"] == 1


def test_the_same_body_written_differently_is_the_same_request(client: FlaskClient) -> None:
    first = client.post(
        "/api/v1/books",
        data=f'{{"title": "T", "isbn": "{ISBNS[0]}"}}',
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    retry = client.post(
        "/api/v1/books",
        data=f'{{"isbn":"{ISBNS[0]}","title":"T"}}',
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()


def test_a_refusal_is_replayed_too(client: FlaskClient) -> None:
    add_book(client, 0)

    first = _post_book(client, "dup")
    retry = _post_book(client, "dup")

    assert_problem(first, 409, "ISBN_ALREADY_EXISTS")
    assert retry.status_code == 409
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_422(client: FlaskClient) -> None:
    _post_book(client, "key-2")

    response = _post_book(client, "key-2", {"isbn": ISBNS[1], "title": "Other"})

    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert client.get("/api/v1/books").get_json()["total"] == 1


def test_the_same_key_on_another_operation_is_422(client: FlaskClient) -> None:
    _post_book(client, "shared")

    response = client.post(
        "/api/v1/members",
        json={"email": "a@example.org", "name": "A"},
        headers={"Idempotency-Key": "shared"},
    )

    assert_problem(response, 422, "IDEMPOTENCY_KEY_REUSED")


def _start_request(
    app: Flask, container: Container, clock: ManualClock, key: str, api_key: str
) -> None:
    """Claim ``key`` for a POST /books with ``BOOK``, as a request of the caller with ``api_key``
    still running would."""
    caller = container.api_keys().authenticate(api_key)
    with app.test_request_context("/api/v1/books", method="POST", json=BOOK):
        claimed = container.idempotency().claim(
            scope=f"{caller.kind.value}:{caller.id}",
            key=key,
            fingerprint=fingerprint(),
            now=clock.now(),
            ttl=TTL,
            lease=LEASE,
            token="a-request-still-running",
        )
    assert claimed is None


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    app: Flask, client: FlaskClient, container: Container, clock: ManualClock, admin_key: str
) -> None:
    _start_request(app, container, clock, "slow", admin_key)

    response = _post_book(client, "slow")

    assert_problem(response, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert response.headers["Retry-After"] == "1"
    assert client.get("/api/v1/books").get_json()["total"] == 0


def test_a_result_this_release_cannot_read_is_reported_applied_not_run_again(
    app: Flask, client: FlaskClient, container: Container, clock: ManualClock, admin_key: str
) -> None:
    # As a release that kept only the response body would have left the key.
    _start_request(app, container, clock, "older", admin_key)
    store = container.idempotency()
    caller = container.api_keys().authenticate(admin_key)
    scope = f"{caller.kind.value}:{caller.id}"
    store.use_key(KeyUsed(scope, "older", "a-request-still-running"))
    store.complete(scope=scope, key="older", token="a-request-still-running", result=b'{"id":"1"}')

    response = _post_book(client, "older")

    assert_problem(response, 409, "IDEMPOTENCY_KEY_APPLIED")
    assert client.get("/api/v1/books").get_json()["total"] == 0


def test_an_abandoned_request_can_be_retried_after_the_lease(
    app: Flask, client: FlaskClient, container: Container, clock: ManualClock, admin_key: str
) -> None:
    _start_request(app, container, clock, "crashed", admin_key)
    clock.advance(LEASE)

    response = _post_book(client, "crashed")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_keys_expire_after_24_hours(client: FlaskClient, clock: ManualClock) -> None:
    _post_book(client, "old")
    clock.advance(TTL - timedelta(seconds=1))
    assert _post_book(client, "old").headers["Idempotent-Replayed"] == "true"
    clock.advance(timedelta(seconds=1))

    response = _post_book(client, "old", {"isbn": ISBNS[1], "title": "New"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert timedelta(hours=24) == TTL


def test_keys_belong_to_their_caller(client: FlaskClient, users: Users) -> None:
    _post_book(client, "mine")

    response = client.post(
        "/api/v1/books",
        json={"isbn": ISBNS[1], "title": "Someone else's"},
        headers={"Idempotency-Key": "mine", **users.librarian.headers},
    )

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_a_server_error_is_not_stored(
    client: FlaskClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = container.catalogue()
    real = catalogue.add_book
    calls: list[int] = []

    def flaky(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalogue, "add_book", flaky)

    failed = _post_book(client, "retry-me")
    retried = _post_book(client, "retry-me")

    assert_problem(failed, 500, "INTERNAL_ERROR")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünï"])
def test_a_malformed_key_is_422(client: FlaskClient, key: str) -> None:
    response = _post_book(client, key)

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert body["details"]["errors"][0]["location"] == "header"


@pytest.mark.parametrize("operation", ["members", "loans", "holds", "payments"])
def test_every_creating_post_replays(client: FlaskClient, operation: str) -> None:
    member = register(client)
    book = add_book(client, 1)
    url, body = {
        "members": ("/api/v1/members", {"email": "new@example.org", "name": "New"}),
        "loans": ("/api/v1/loans", {"member_id": member["id"], "book_id": book["id"]}),
        "holds": ("/api/v1/holds", {"member_id": member["id"], "book_id": book["id"]}),
        "payments": (f"/api/v1/members/{member['id']}/payments", {"amount_cents": 1}),
    }[operation]

    first = client.post(url, json=body, headers={"Idempotency-Key": operation})
    retry = client.post(url, json=body, headers={"Idempotency-Key": operation})

    assert retry.status_code == first.status_code
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
