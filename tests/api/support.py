"""Helpers for the API tests: the problem shape, and requests that set up a scene."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from domain.members import Role
from entrypoints.container import Container
from entrypoints.http.middleware import access

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


# --- callers -------------------------------------------------------------------------------

PASSWORD = "a sufficiently long passphrase"


@dataclass
class User:
    """A registered member, librarian or admin, signed in."""

    id: str
    email: str
    role: Role
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Users:
    container: Container
    admin: User
    librarian: User
    ada: User  # a member
    grace: User  # another member

    def __getitem__(self, name: str) -> User:
        user: User = getattr(self, name)
        return user

    def sign_in_again(self, user: User) -> User:
        """Fresh tokens (e.g. after the test moved the clock past the access token's life)."""
        pair = self.container.sessions().login(user.email, PASSWORD)
        user.access_token, user.refresh_token = pair.access_token, pair.refresh_token
        return user


def make_users(container: Container) -> Users:
    membership, sessions = container.membership(), container.sessions()

    def user(name: str, role: Role) -> User:
        email = f"{name}@example.org"
        member = membership.register(email=email, name=name.title(), role=role, password=PASSWORD)
        pair = sessions.login(email, PASSWORD)
        return User(member.id, email, role, pair.access_token, pair.refresh_token)

    return Users(
        container=container,
        admin=user("admin", Role.ADMIN),
        librarian=user("librarian", Role.LIBRARIAN),
        ada=user("ada", Role.MEMBER),
        grace=user("grace", Role.MEMBER),
    )


def open_route(app: Flask, rule: str, view: Callable[..., Any], **options: Any) -> None:
    """Add a route for a test, open to anyone (a route without an access rule is refused)."""
    app.add_url_rule(rule, view_func=view, **options)
    access.register(options.get("endpoint") or view.__name__, access.open_to_all())


# --- schemathesis ----------------------------------------------------------------------------

# Revoking an API key or a service client is its DELETE, and the record stays (listed as
# revoked, readable by admins): "deleted resource still available" is the documented rule there.
REVOKED_NOT_REMOVED = {
    "include-path-regex": "^/api/v1/(api-keys|service-clients)/",
    "checks": {"use_after_free": {"enabled": False}},
}
