"""Credentials at the HTTP edge: sessions, forged and stale tokens, key rotation, API keys and
OAuth 2.0 client credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from argon2 import profiles
from cryptography.hazmat.primitives import serialization
from dependency_injector import providers
from flask.testing import FlaskClient
from pydantic import SecretStr
from werkzeug.test import TestResponse

from adapters.clock import ManualClock
from adapters.security import Argon2PasswordHasher
from adapters.security.keys import SigningKeysUnavailable, load_private_key
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, User, Users, assert_problem

ME = "/api/v1/members/me"
ISSUER, AUDIENCE = "circulate", "circulate-api"  # the settings' defaults


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused_token(response: TestResponse, code: str) -> None:
    assert_problem(response, 401, code)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="circulate", error="invalid_token"')


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD) -> TestResponse:
    return client.post("/api/v1/auth/token", json={"email": user.email, "password": password})


# --- signing in ------------------------------------------------------------------------------


def test_signing_in_gives_a_bearer_token_and_a_refresh_token(
    anonymous: FlaskClient, users: Users
) -> None:
    response = sign_in(anonymous, users.ada)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    assert body["scope"] == "books:read loans:read loans:write members:read members:write"
    assert response.headers["Cache-Control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["typ"]) == ("EdDSA", "at+jwt")
    me = anonymous.get(ME, headers=bearer(body["access_token"]))
    assert me.get_json()["id"] == users.ada.id


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org", "not an email"])
def test_a_wrong_email_or_password_is_one_refusal(
    anonymous: FlaskClient, users: Users, email: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = anonymous.post(
            "/api/v1/auth/token", json={"email": email, "password": "wrong but long enough"}
        )

    assert_problem(response, 401, "INVALID_CREDENTIALS")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="circulate"'
    assert "wrong but long enough" not in caplog.text
    assert "INVALID_CREDENTIALS" in caplog.text


# --- tokens that prove nothing ---------------------------------------------------------------


def _claims(users: Users, clock: ManualClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": users.ada.id,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "forged-1",
        "scope": "members:read",
        "role": "member",
        **changes,
    }


def _private_key(container: Container) -> Any:
    return load_private_key(container.identity.key_store().load().current.private_key)


def _kid(container: Container) -> str:
    return container.identity().key_store().load().current.kid


def _forge(container: Container, claims: dict[str, Any], **header: Any) -> str:
    headers = {"kid": _kid(container), "typ": "at+jwt", **header}
    return jwt.encode(claims, _private_key(container), algorithm="EdDSA", headers=headers)


def _unsigned(container: Container, claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "at+jwt", "kid": _kid(container)}
    return f"{part(header)}.{part(claims)}."


def _hs256_with_the_public_key(container: Container, claims: dict[str, Any]) -> str:
    public = _private_key(container).public_key()
    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    header_data = {"alg": "HS256", "typ": "at+jwt", "kid": _kid(container)}
    header = base64.urlsafe_b64encode(json.dumps(header_data).encode()).rstrip(b"=").decode()
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("valid", None),
        ("expired", "TOKEN_EXPIRED"),
        ("not yet valid", "TOKEN_INVALID"),
        ("wrong issuer", "TOKEN_INVALID"),
        ("wrong audience", "TOKEN_INVALID"),
        ("alg none", "TOKEN_INVALID"),
        ("HS256 with the public key", "TOKEN_INVALID"),
        ("unknown kid", "TOKEN_INVALID"),
        ("not an access token", "TOKEN_INVALID"),
        ("unknown scope", "TOKEN_INVALID"),
    ],
)
def test_tokens_that_prove_nothing_are_401(
    anonymous: FlaskClient,
    users: Users,
    container: Container,
    clock: ManualClock,
    case: str,
    code: str | None,
) -> None:
    now = int(clock.now().timestamp())
    token = {
        "valid": lambda: _forge(container, _claims(users, clock)),
        "expired": lambda: _forge(
            container, _claims(users, clock, iat=now - 1000, nbf=now - 1000, exp=now - 60)
        ),
        "not yet valid": lambda: _forge(container, _claims(users, clock, nbf=now + 600)),
        "wrong issuer": lambda: _forge(container, _claims(users, clock, iss="someone-else")),
        "wrong audience": lambda: _forge(container, _claims(users, clock, aud="another-api")),
        "alg none": lambda: _unsigned(container, _claims(users, clock)),
        "HS256 with the public key": lambda: _hs256_with_the_public_key(
            container, _claims(users, clock)
        ),
        "unknown kid": lambda: _forge(container, _claims(users, clock), kid="no-such-key"),
        "not an access token": lambda: _forge(container, _claims(users, clock), typ="JWT"),
        "unknown scope": lambda: _forge(container, _claims(users, clock, scope="everything")),
    }[case]()

    response = anonymous.get(ME, headers=bearer(token))

    if code is None:
        assert response.status_code == 200  # the forgery kit itself makes good tokens
    else:
        assert_refused_token(response, code)


def test_an_access_token_expires_after_15_minutes(
    anonymous: FlaskClient, users: Users, clock: ManualClock
) -> None:
    assert anonymous.get(ME, headers=users.ada.headers).status_code == 200
    clock.advance(timedelta(minutes=15, seconds=31))  # past the lifetime and the leeway

    assert_refused_token(anonymous.get(ME, headers=users.ada.headers), "TOKEN_EXPIRED")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "TOKEN_INVALID"),
        ("Bearer ", "TOKEN_INVALID"),
        ("Bearer two parts", "TOKEN_INVALID"),
        ("Bearer not-a-jwt", "TOKEN_INVALID"),
        ("Bearer " + "x" * 5000, "TOKEN_INVALID"),
        ("Basic YWRhOnNlY3JldA==", "AUTHENTICATION_REQUIRED"),
        ("Token abc", "AUTHENTICATION_REQUIRED"),
        ("ApiKey circ_000000000000_nope", "INVALID_CREDENTIALS"),
        ("ApiKey nonsense", "INVALID_CREDENTIALS"),
    ],
)
def test_malformed_credentials_are_401_even_where_none_are_needed(
    anonymous: FlaskClient, header: str, code: str
) -> None:
    for url in (ME, "/api/v1/books"):
        response = anonymous.get(url, headers={"Authorization": header})
        assert_problem(response, 401, code)
        assert response.headers["WWW-Authenticate"].startswith(("Bearer realm=", "ApiKey realm="))


def test_a_bearer_without_the_scope_is_told_which_it_lacks(
    anonymous: FlaskClient, users: Users
) -> None:
    response = anonymous.post("/api/v1/books", json={}, headers=users.ada.headers)

    assert_problem(response, 403, "INSUFFICIENT_SCOPE")
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="circulate", error="insufficient_scope", scope="books:write"'
    )


# --- refresh and sign-out --------------------------------------------------------------------


def _refresh(client: FlaskClient, token: str) -> TestResponse:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_a_refresh_token_is_traded_once_for_a_new_pair(
    anonymous: FlaskClient, users: Users
) -> None:
    first = _refresh(anonymous, users.ada.refresh_token)

    assert first.status_code == 200
    pair = first.get_json()
    assert pair["refresh_token"] != users.ada.refresh_token
    assert first.headers["Cache-Control"] == "no-store"
    assert anonymous.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    assert _refresh(anonymous, pair["refresh_token"]).status_code == 200


def test_a_reused_refresh_token_revokes_its_whole_session(
    anonymous: FlaskClient, users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    stolen = users.ada.refresh_token
    pair = _refresh(anonymous, stolen).get_json()

    with caplog.at_level(logging.INFO):
        reused = _refresh(anonymous, stolen)

    assert_problem(reused, 401, "REFRESH_TOKEN_REUSED")
    assert stolen not in caplog.text
    # The thief's and the member's tokens of that session all stop working.
    assert_problem(_refresh(anonymous, pair["refresh_token"]), 401, "TOKEN_REVOKED")
    assert_refused_token(anonymous.get(ME, headers=bearer(pair["access_token"])), "TOKEN_REVOKED")
    assert_refused_token(anonymous.get(ME, headers=users.ada.headers), "TOKEN_REVOKED")
    # Another session of the same member is untouched.
    assert sign_in(anonymous, users.ada).status_code == 200


def test_an_unknown_refresh_token_is_401(anonymous: FlaskClient) -> None:
    assert_problem(_refresh(anonymous, "made-up"), 401, "TOKEN_INVALID")


def test_a_stale_access_token_does_not_stop_a_refresh(
    anonymous: FlaskClient, users: Users, clock: ManualClock
) -> None:
    clock.advance(timedelta(hours=1))
    response = anonymous.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": users.ada.refresh_token},
        headers=users.ada.headers,
    )

    assert response.status_code == 200


def test_signing_out_revokes_the_access_token_and_the_session(
    anonymous: FlaskClient, users: Users
) -> None:
    response = anonymous.post("/api/v1/auth/logout", headers=users.ada.headers)

    assert response.status_code == 204
    assert_refused_token(anonymous.get(ME, headers=users.ada.headers), "TOKEN_REVOKED")
    assert_problem(_refresh(anonymous, users.ada.refresh_token), 401, "TOKEN_REVOKED")
    assert anonymous.get(ME, headers=users.grace.headers).status_code == 200


def test_signing_out_can_end_another_of_ones_sessions(anonymous: FlaskClient, users: Users) -> None:
    other = sign_in(anonymous, users.ada).get_json()

    response = anonymous.post(
        "/api/v1/auth/logout",
        json={"refresh_token": other["refresh_token"]},
        headers=users.ada.headers,
    )

    assert response.status_code == 204
    assert_problem(_refresh(anonymous, other["refresh_token"]), 401, "TOKEN_REVOKED")


def test_sign_out_validates_its_optional_body(anonymous: FlaskClient, users: Users) -> None:
    response = anonymous.post(
        "/api/v1/auth/logout", json={"refresh_token": ""}, headers=users.ada.headers
    )

    assert_problem(response, 422, "VALIDATION_FAILED")
    assert anonymous.get(ME, headers=users.ada.headers).status_code == 200


# --- signing keys ----------------------------------------------------------------------------


def test_the_published_keys_verify_tokens_and_hold_no_private_part(
    anonymous: FlaskClient, users: Users
) -> None:
    response = anonymous.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    keys = response.get_json()["keys"]
    assert all(set(key) == {"kty", "crv", "x", "kid", "use", "alg"} for key in keys)
    kid = jwt.get_unverified_header(users.ada.access_token)["kid"]
    public = jwt.PyJWK(next(key for key in keys if key["kid"] == kid))
    claims = jwt.decode(
        users.ada.access_token,
        public.key,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["sub"] == users.ada.id


def test_after_a_rotation_old_tokens_work_until_they_expire(
    anonymous: FlaskClient, users: Users, container: Container, clock: ManualClock
) -> None:
    old_kid = jwt.get_unverified_header(users.ada.access_token)["kid"]
    clock.advance(timedelta(minutes=5))
    container.identity.signing_keys().rotate()

    assert anonymous.get(ME, headers=users.ada.headers).status_code == 200
    fresh = sign_in(anonymous, users.grace).get_json()["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] != old_kid
    published = [key["kid"] for key in anonymous.get("/.well-known/jwks.json").get_json()["keys"]]
    assert published[1] == old_kid
    assert len(published) == 2

    clock.advance(timedelta(minutes=11))  # the old token is past its 15 minutes
    assert_refused_token(anonymous.get(ME, headers=users.ada.headers), "TOKEN_EXPIRED")
    assert anonymous.get(ME, headers=bearer(fresh)).status_code == 200


# --- API keys --------------------------------------------------------------------------------


def _create_key(client: FlaskClient, users: Users, **fields: Any) -> dict[str, Any]:
    body = {"name": "sync", "scopes": ["books:read", "loans:read"], **fields}
    response = client.post("/api/v1/api-keys", json=body, headers=users.admin.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()  # type: ignore[no-any-return]


def test_an_api_key_is_shown_once_and_works_until_revoked(
    anonymous: FlaskClient, users: Users
) -> None:
    created = _create_key(anonymous, users)
    headers = {"Authorization": f"ApiKey {created['key']}"}
    url = f"/api/v1/api-keys/{created['id']}"

    shown = anonymous.get(url, headers=users.admin.headers).get_json()
    listed = anonymous.get("/api/v1/api-keys", headers=users.admin.headers).get_json()
    assert "key" not in shown
    assert created["key"] not in json.dumps(listed)
    assert created["key"].startswith(f"circ_{created['prefix']}_")
    assert anonymous.get("/api/v1/loans", headers=headers).status_code == 200

    assert anonymous.delete(url, headers=users.admin.headers).status_code == 204
    refused = anonymous.get("/api/v1/loans", headers=headers)
    assert_problem(refused, 401, "API_KEY_REVOKED")
    assert refused.headers["WWW-Authenticate"] == 'ApiKey realm="circulate"'
    assert anonymous.get(url, headers=users.admin.headers).get_json()["revoked_at"] is not None
    assert anonymous.delete(url, headers=users.admin.headers).status_code == 204  # still revoked


def test_an_expired_api_key_is_401(
    anonymous: FlaskClient, users: Users, clock: ManualClock
) -> None:
    expires = (clock.now() + timedelta(days=1)).isoformat()
    created = _create_key(anonymous, users, expires_at=expires)
    clock.advance(timedelta(days=1))

    response = anonymous.get("/api/v1/loans", headers={"Authorization": f"ApiKey {created['key']}"})

    assert_problem(response, 401, "API_KEY_EXPIRED")


def test_revoking_needs_a_current_if_match_when_one_is_given(
    anonymous: FlaskClient, users: Users
) -> None:
    created = _create_key(anonymous, users)
    url = f"/api/v1/api-keys/{created['id']}"
    etag = anonymous.get(url, headers=users.admin.headers).headers["ETag"]

    stale = anonymous.delete(url, headers={"If-Match": '"9-abc"', **users.admin.headers})
    assert_problem(stale, 412, "VERSION_MISMATCH")
    fresh = anonymous.delete(url, headers={"If-Match": etag, **users.admin.headers})
    assert fresh.status_code == 204


# --- OAuth 2.0 client credentials ----------------------------------------------------------


@pytest.fixture
def service(anonymous: FlaskClient, users: Users) -> dict[str, Any]:
    response = anonymous.post(
        "/api/v1/service-clients",
        json={"name": "portal", "scopes": ["books:read", "loans:read"]},
        headers=users.admin.headers,
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()  # type: ignore[no-any-return]


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _token(client: FlaskClient, form: dict[str, str], **headers: str) -> TestResponse:
    return client.post("/oauth/token", data=form, headers=headers)


def _assert_oauth_error(response: TestResponse, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method", ["basic", "form"])
def test_a_service_client_trades_its_credentials_for_a_token(
    anonymous: FlaskClient, service: dict[str, Any], method: str
) -> None:
    form = {"grant_type": "client_credentials", "scope": "loans:read"}
    if method == "basic":
        response = _token(anonymous, form, **_basic(service["id"], service["client_secret"]))
    else:
        form |= {"client_id": service["id"], "client_secret": service["client_secret"]}
        response = _token(anonymous, form)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["scope"]) == ("Bearer", "loans:read")
    assert anonymous.get("/api/v1/loans", headers=bearer(body["access_token"])).status_code == 200
    refused = anonymous.get("/api/v1/members", headers=bearer(body["access_token"]))
    assert_problem(refused, 403, "INSUFFICIENT_SCOPE")


def test_without_a_scope_the_client_gets_all_it_was_granted(
    anonymous: FlaskClient, service: dict[str, Any]
) -> None:
    response = _token(
        anonymous,
        {"grant_type": "client_credentials"},
        **_basic(service["id"], service["client_secret"]),
    )

    assert response.get_json()["scope"] == "books:read loans:read"


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("id", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        ({"grant_type": "password"}, ("id", "secret"), 400, "unsupported_grant_type"),
        ({}, ("id", "secret"), 400, "invalid_request"),
        (
            {"grant_type": "client_credentials", "scope": "admin"},
            ("id", "secret"),
            400,
            "invalid_scope",
        ),
        (
            {"grant_type": "client_credentials", "scope": "nonsense"},
            ("id", "secret"),
            400,
            "invalid_scope",
        ),
        (
            {"grant_type": "client_credentials", "client_secret": "secret"},
            ("id", "secret"),
            400,
            "invalid_request",
        ),
    ],
)
def test_token_request_errors_use_the_rfc_format(
    anonymous: FlaskClient,
    service: dict[str, Any],
    form: dict[str, str],
    basic: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    headers: dict[str, str] = {}
    if basic is not None:
        values = {"id": service["id"], "secret": service["client_secret"]}
        headers = _basic(values.get(basic[0], basic[0]), values.get(basic[1], basic[1]))
    form = {**form}
    if form.get("client_secret") == "secret":
        form["client_secret"] = service["client_secret"]

    response = _token(anonymous, form, **headers)

    _assert_oauth_error(response, status, error)
    if error == "invalid_client":
        assert response.headers["WWW-Authenticate"] == 'Basic realm="circulate"'


def test_a_token_request_must_be_a_form(anonymous: FlaskClient, service: dict[str, Any]) -> None:
    response = anonymous.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers=_basic(service["id"], service["client_secret"]),
    )

    _assert_oauth_error(response, 400, "invalid_request")


def test_a_revoked_client_gets_no_more_tokens(
    anonymous: FlaskClient, users: Users, service: dict[str, Any]
) -> None:
    url = f"/api/v1/service-clients/{service['id']}"
    assert anonymous.delete(url, headers=users.admin.headers).status_code == 204

    response = _token(
        anonymous,
        {"grant_type": "client_credentials"},
        **_basic(service["id"], service["client_secret"]),
    )

    _assert_oauth_error(response, 401, "invalid_client")


# --- a private catalogue -----------------------------------------------------------------------


@pytest.fixture
def private_catalogue() -> Iterator[tuple[FlaskClient, str]]:
    """A client of an app whose catalogue is not public, and a key that may read it."""
    container = build_container(
        Settings(storage="memory", environment="test", public_catalogue=False), wire=False
    )
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    client = create_app(container=container).test_client()
    yield client, container.identity.api_keys().create("reader", [Scope.BOOKS_READ]).plaintext
    dispose(container)


def test_a_private_catalogue_needs_credentials(
    private_catalogue: tuple[FlaskClient, str],
) -> None:
    client, key = private_catalogue

    assert_problem(client.get("/api/v1/books"), 401, "AUTHENTICATION_REQUIRED")
    assert (
        client.get("/api/v1/books", headers={"Authorization": f"ApiKey {key}"}).status_code == 200
    )
    assert client.get("/api/v1").status_code == 200  # the index stays open


def test_an_unusable_key_set_stops_the_app_at_start_up() -> None:
    settings = Settings(
        storage="memory", environment="test", signing_keys=SecretStr('{"format": 1, "keys": []}')
    )
    container = build_container(settings, wire=False)
    try:
        with pytest.raises(SigningKeysUnavailable):
            create_app(container=container)
    finally:
        dispose(container)
