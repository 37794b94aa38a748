"""Copies: read one, take it out of circulation, bring it back."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.support import add_book, assert_problem, borrow, field_errors, register


def _only_copy(client: FlaskClient, book: dict[str, Any]) -> dict[str, Any]:
    copies = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"]
    assert len(copies) == 1
    return copies[0]  # type: ignore[no-any-return]


def test_a_copy_is_read_with_its_etag(client: FlaskClient) -> None:
    copy = _only_copy(client, add_book(client, 0))

    response = client.get(f"/api/v1/copies/{copy['id']}")

    assert response.status_code == 200
    assert response.get_json() == copy
    assert response.headers["ETag"]


def test_a_missing_copy_is_a_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/copies/nope"), 404, "COPY_NOT_FOUND")
    assert_problem(
        client.patch("/api/v1/copies/nope", json={"status": "lost"}), 404, "COPY_NOT_FOUND"
    )


def test_a_copy_is_marked_lost_then_found(client: FlaskClient) -> None:
    book = add_book(client, 0)
    copy = _only_copy(client, book)

    lost = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "lost"})
    found = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "available"})

    assert lost.status_code == 200
    assert lost.get_json()["status"] == "lost"
    assert found.get_json()["status"] == "available"
    assert found.get_json()["version"] == 3


def test_a_copy_is_withdrawn_and_stays_out(client: FlaskClient) -> None:
    copy = _only_copy(client, add_book(client, 0))

    withdrawn = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "withdrawn"})
    again = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "lost"})

    assert withdrawn.get_json()["status"] == "withdrawn"
    assert_problem(again, 409, "INVALID_COPY_TRANSITION")


def test_a_copy_on_loan_cannot_be_marked_lost(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    copy = _only_copy(client, book)

    response = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "lost"})

    assert_problem(response, 409, "COPY_ON_LOAN")


def test_statuses_set_by_lending_cannot_be_set_directly(client: FlaskClient) -> None:
    copy = _only_copy(client, add_book(client, 0))

    response = client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "on_loan"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert field_errors(body) == {("body", "status")}
