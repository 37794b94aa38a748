"""Hostile input: deep nesting, unbounded bodies and control characters never reach a 500,
and the rate limiter counts a request before its body is read."""

from __future__ import annotations

import io
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.http.middleware import request_body
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, Users, assert_problem, field_errors

HIGH = "1000 per minute"
TOKEN_ROUTE = "/api/v1/auth/token"

MakeApp = Callable[..., tuple[Flask, Container]]


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    built: list[Container] = []

    def make(**values: object) -> tuple[Flask, Container]:
        defaults = {
            "storage": "memory",
            "environment": "test",
            "rate_limit_default": HIGH,
            "rate_limit_auth_per_ip": HIGH,
            "rate_limit_auth_per_account": HIGH,
        }
        settings = Settings(**{**defaults, **values})  # type: ignore[arg-type]
        container = build_container(settings, wire=False)
        container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        built.append(container)
        return create_app(container=container), container

    yield make
    for container in built:
        dispose(container)


def from_address(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"2001:db8::{secrets.token_hex(2)}"
    return client


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_a_400_without_credentials(make_app: MakeApp, opening: str) -> None:
    app, _ = make_app()
    body = opening * 1000 + "1" + ("]" if opening == "[" else "}") * 1000

    response = from_address(app).post(
        TOKEN_ROUTE, data=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400, "BAD_REQUEST")


def test_nesting_is_measured_outside_strings() -> None:
    assert request_body.json_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert request_body.json_depth('"\\"[[["') == 0
    assert (
        request_body.json_depth("[" * (request_body.MAX_JSON_DEPTH + 1))
        == request_body.MAX_JSON_DEPTH + 1
    )


def test_json_as_deep_as_the_limit_still_parses(make_app: MakeApp) -> None:
    app, _ = make_app()
    nested = "[" * (request_body.MAX_JSON_DEPTH - 1) + "]" * (request_body.MAX_JSON_DEPTH - 1)
    body = '{"email": "a@example.org", "password": "x", "extra": ' + nested + "}"

    response = from_address(app).post(
        TOKEN_ROUTE, data=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 422, "VALIDATION_FAILED")  # parsed, then refused by the schema


def test_the_limiter_counts_a_request_before_its_body_is_read(make_app: MakeApp) -> None:
    app, _ = make_app(rate_limit_auth_per_ip="2 per minute")
    client = from_address(app)
    malformed = {"data": "{not json", "headers": {"Content-Type": "application/json"}}

    assert client.post(TOKEN_ROUTE, **malformed).status_code == 400
    assert client.post(TOKEN_ROUTE, **malformed).status_code == 400
    assert_problem(client.post(TOKEN_ROUTE, **malformed), 429, "RATE_LIMITED")


def test_a_chunked_body_past_the_limit_is_a_413(make_app: MakeApp) -> None:
    app, _ = make_app()
    body = b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}'

    response = from_address(app).post(
        TOKEN_ROUTE,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        # What a server that decodes chunked bodies (gunicorn, werkzeug's) tells the app.
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_problem(response, 413, "REQUEST_ENTITY_TOO_LARGE")


# --- one input policy: no control characters in any text ----------------------------------

# A lone surrogate only exists in JSON (an escape); in a URL its bytes are not UTF-8 at all.
URL_CONTROLS = ["\x00", "\x1b[31m", "\x7f", "\x85", "\n"]
CONTROLS = [*URL_CONTROLS, "\ud800"]
BOOK = {"isbn": "9780131103627", "title": "T", "authors": ["A"], "barcodes": ["X-1"]}
MEMBER = {"email": "a@example.org", "name": "N"}


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/books", {**BOOK, "title": "T{c}"}, "title"),
        ("/api/v1/books", {**BOOK, "authors": ["A{c}"]}, "authors.0"),
        ("/api/v1/members", {**MEMBER, "name": "N{c}"}, "name"),
        ("/api/v1/members", {**MEMBER, "email": "a{c}@example.org"}, "email"),
        (TOKEN_ROUTE, {"email": "a{c}@example.org", "password": "x"}, "email"),
    ],
)
def test_control_characters_in_body_text_are_refused_with_422(
    client: FlaskClient, control: str, path: str, body: dict[str, object], field: str
) -> None:
    def fill(value: object) -> object:
        if isinstance(value, str):
            return value.replace("{c}", control)
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    response = client.post(path, json={key: fill(value) for key, value in body.items()})

    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert ("body", field) in field_errors(problem)


@pytest.mark.parametrize("control", URL_CONTROLS, ids=repr)
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/books?q=alpha{c}", ("query", "q")),
        ("/api/v1/books?{c}=1", ("query", "")),
        ("/api/v1/books/b{c}", ("path", "book_id")),
        ("/api/v1/members/m{c}", ("path", "member_id")),
        ("/api/v1/members/m{c}/loans", ("path", "member_id")),
    ],
)
def test_control_characters_in_paths_and_queries_are_refused_with_422(
    client: FlaskClient, control: str, url: str, field: tuple[str, str]
) -> None:
    response = client.get(url.replace("{c}", quote(control, safe="")))

    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert field in field_errors(problem)


def test_a_control_character_in_a_body_key_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/members", json={"email": "a@example.org", "na\x00me": "N"})

    assert_problem(response, 422, "VALIDATION_FAILED")


def test_ordinary_text_in_any_script_is_accepted(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/members", json={"email": "zoe@example.org", "name": "Zoë Ωμέγα 山田 — O'Brien"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Zoë Ωμέγα 山田 — O'Brien"


# --- a person's sessions end when their role or existence changes --------------------------


def test_a_downgraded_librarian_loses_their_powers_at_once(
    client: FlaskClient, anonymous: FlaskClient, users: Users
) -> None:
    librarian = users.librarian.headers
    assert anonymous.get("/api/v1/members", headers=librarian).status_code == 200

    changed = client.patch(f"/api/v1/members/{users.librarian.id}", json={"role": "member"})
    assert changed.status_code == 200, changed.get_data(as_text=True)

    assert_problem(anonymous.get("/api/v1/members", headers=librarian), 401, "TOKEN_REVOKED")
    refreshed = anonymous.post(
        "/api/v1/auth/refresh", json={"refresh_token": users.librarian.refresh_token}
    )
    assert refreshed.status_code == 401
    # Signing in again gives a token with the new role, which works, within the new limits.
    again = anonymous.post(
        TOKEN_ROUTE, json={"email": users.librarian.email, "password": PASSWORD}
    ).get_json()
    fresh = {"Authorization": f"Bearer {again['access_token']}"}
    assert anonymous.get(f"/api/v1/members/{users.librarian.id}", headers=fresh).status_code == 200
    assert_problem(anonymous.get("/api/v1/members", headers=fresh), 403, "INSUFFICIENT_SCOPE")


def test_a_removed_member_is_signed_out_at_once(
    client: FlaskClient, anonymous: FlaskClient, users: Users
) -> None:
    ada = users.ada.headers
    assert anonymous.get(f"/api/v1/members/{users.ada.id}", headers=ada).status_code == 200

    assert client.delete(f"/api/v1/members/{users.ada.id}").status_code == 204

    assert_problem(anonymous.get("/api/v1/books", headers=ada), 401, "TOKEN_REVOKED")


def test_an_unchanged_role_keeps_the_session(
    client: FlaskClient, anonymous: FlaskClient, users: Users
) -> None:
    changed = client.patch(f"/api/v1/members/{users.librarian.id}", json={"role": "librarian"})
    assert changed.status_code == 200

    assert anonymous.get("/api/v1/members", headers=users.librarian.headers).status_code == 200


# --- links never carry a host the client chose ---------------------------------------------


def test_links_are_paths_without_trusted_hosts(make_app: MakeApp) -> None:
    app, container = make_app()
    key = container.api_keys().create("tests", frozenset(Scope)).plaintext
    client = app.test_client()
    evil = {"Host": "attacker.example"}

    listed = client.get("/api/v1/books?per_page=1", headers=evil)
    created = client.post(
        "/api/v1/members",
        json={"email": "ada@example.org", "name": "Ada"},
        headers={**evil, "Authorization": f"ApiKey {key}"},
    )

    assert listed.status_code == 200
    assert "attacker" not in listed.headers["Link"]
    assert listed.headers["Link"].startswith("</api/v1/books?")
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.headers["Location"].startswith("/api/v1/members/")


def test_with_trusted_hosts_other_hosts_are_refused_and_links_are_absolute(
    make_app: MakeApp,
) -> None:
    app, _ = make_app(trusted_hosts="api.example.org, other.example.org")
    client = app.test_client()

    refused = client.get("/api/v1/books", headers={"Host": "attacker.example"})
    listed = client.get("/api/v1/books?per_page=1", headers={"Host": "api.example.org"})

    assert_problem(refused, 400, "BAD_REQUEST")
    assert listed.status_code == 200
    assert listed.headers["Link"].startswith("<http://api.example.org/api/v1/books?")


# --- operations closed by default ----------------------------------------------------------


def test_metrics_are_closed_in_production_without_a_token(
    make_app: MakeApp, tmp_path: Path
) -> None:
    keys = str(tmp_path / "keys.json")
    make_app(signing_keys_file=keys)  # outside production the key file is made on first use
    production = {
        "storage": "sql",
        "environment": "production",
        "database_url": f"sqlite:///{tmp_path / 'circulate.db'}",
        "signing_keys_file": keys,
    }
    closed, _ = make_app(**production)
    guarded, _ = make_app(**production, metrics_token="a-scraper-token-of-some-length")

    assert_problem(closed.test_client().get("/metrics"), 404, "NOT_FOUND")
    scraper = {"Authorization": "Bearer a-scraper-token-of-some-length"}
    assert guarded.test_client().get("/metrics", headers=scraper).status_code == 200
    assert make_app()[0].test_client().get("/metrics").status_code == 200  # development


def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "circulate.db"
    migrate.upgrade(f"sqlite:///{path}")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_member_cannot_probe_for_registered_emails_by_changing_their_own(
    anonymous: FlaskClient, users: Users
) -> None:
    url = f"/api/v1/members/{users.ada.id}"
    taken = anonymous.patch(url, json={"email": users.grace.email}, headers=users.ada.headers)
    free = anonymous.patch(url, json={"email": "nobody@example.org"}, headers=users.ada.headers)

    assert_problem(taken, 403, "INSUFFICIENT_SCOPE")
    assert_problem(free, 403, "INSUFFICIENT_SCOPE")
    assert taken.get_json()["message"] == free.get_json()["message"]


# --- the document and the server agree -----------------------------------------------------


def test_an_integer_written_as_1_0_is_the_integer_1(client: FlaskClient) -> None:
    body = {**BOOK, "year": 2001.0}

    created = client.post("/api/v1/books", json=body)

    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["year"] == 2001
    for value in (2001.5, "2001", True):
        refused = client.post(
            "/api/v1/books", json={**BOOK, "isbn": "9780262033848", "year": value}
        )
        assert_problem(refused, 422, "VALIDATION_FAILED")


def test_a_loan_names_exactly_one_of_book_and_copy_in_the_document_and_the_server(
    client: FlaskClient,
) -> None:
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]["LoanCreate"]
    member = client.post("/api/v1/members", json=MEMBER).get_json()["id"]
    book = client.post("/api/v1/books", json=BOOK).get_json()
    copy = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"][0]["id"]

    assert schema["allOf"] == [
        {"oneOf": [{"required": ["member_id"]}, {"required": ["card_number"]}]},
        {
            "oneOf": [
                {"required": ["book_id"]},
                {"required": ["copy_id"]},
                {"required": ["barcode"]},
            ]
        },
    ]
    for refused in (
        {"member_id": member},
        {"member_id": member, "book_id": book["id"], "copy_id": copy},
        {"member_id": member, "book_id": None, "copy_id": copy},
        {"member_id": member, "copy_id": copy, "barcode": "C-1"},
        {"book_id": book["id"]},
    ):
        assert_problem(client.post("/api/v1/loans", json=refused), 422, "VALIDATION_FAILED")
    lent = client.post("/api/v1/loans", json={"member_id": member, "copy_id": copy})
    assert lent.status_code == 201, lent.get_data(as_text=True)


def test_the_document_gives_the_format_of_if_match(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    patch = document["paths"]["/api/v1/members/{member_id}"]["patch"]
    [if_match] = [p for p in patch["parameters"] if p["name"] == "If-Match"]

    assert if_match["schema"]["pattern"].startswith("^(")
