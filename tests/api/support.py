"""Helpers for the API tests: the problem shape, and requests that set up a scene."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PROBLEM_MEMBERS = {
    "type",
    "title",
    "status",
    "detail",
    "code",
    "message",
    "details",
    "request_id",
}

# Valid ISBN-13s, one per book a test adds.
ISBNS = [
    "9780131103627",
    "9780262033848",
    "9780201633610",
    "9780596007126",
    "9781491950357",
    "9780134685991",
    "9780321125217",
    "9780132350884",
]
_emails = itertools.count(1)


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) == PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["detail"] == body["message"]
    assert isinstance(body["details"], dict)
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body  # type: ignore[no-any-return]


def field_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    """``(location, field)`` of each error a 422 validation problem lists."""
    return {(e["location"], e["field"]) for e in body["details"]["errors"]}


def add_book(
    client: FlaskClient, number: int = 0, *, copies: int = 1, **fields: Any
) -> dict[str, Any]:
    body = {
        "isbn": ISBNS[number],
        "title": f"Book {number}",
        "authors": [f"Author {number}"],
        "barcodes": [f"B{number}-{n}" for n in range(copies)],
        **fields,
    }
    response = client.post("/api/v1/books", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def register(client: FlaskClient, **fields: Any) -> dict[str, Any]:
    n = next(_emails)
    body = {"email": f"member{n}@example.org", "name": f"Member {n}", **fields}
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def borrow(client: FlaskClient, member: dict[str, Any], book: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/loans", json={"member_id": member["id"], "book_id": book["id"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]
