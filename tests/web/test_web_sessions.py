"""Signing in and out of the pages: cookies, server-side sessions, the idle timeout, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from adapters.security import Argon2PasswordHasher
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from entrypoints.web.setup import COOKIE_NAME
from tests.api.support import Users
from tests.web.conftest import csrf_token, sign_in


def _session_cookie(browser: FlaskClient) -> str:
    cookie = browser.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def test_signed_out_pages_send_you_to_sign_in_and_back(app: Flask, users: Users) -> None:
    browser = app.test_client()

    response = browser.get("/desk/")

    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/desk/"
    page = browser.get("/sign-in?next=/desk/")
    signed_in = browser.post(
        "/sign-in",
        data={
            "email": users.librarian.email,
            "password": "a sufficiently long passphrase",
            "next": "/desk/",
            "csrf_token": csrf_token(page),
        },
    )
    assert signed_in.headers["Location"] == "/desk/"


def test_staff_start_at_the_desk_and_members_on_their_own_pages(app: Flask, users: Users) -> None:
    assert sign_in(app.test_client(), users.librarian.email).headers["Location"] == "/desk/"
    assert sign_in(app.test_client(), users.admin.email).headers["Location"] == "/desk/"
    assert sign_in(app.test_client(), users.ada.email).headers["Location"].startswith("/my")


def test_a_return_address_on_another_site_is_ignored(app: Flask, users: Users) -> None:
    browser = app.test_client()
    page = browser.get("/sign-in")

    response = browser.post(
        "/sign-in",
        data={
            "email": users.librarian.email,
            "password": "a sufficiently long passphrase",
            "next": "//evil.example/desk",
            "csrf_token": csrf_token(page),
        },
    )

    assert response.headers["Location"] == "/desk/"


def test_a_wrong_password_is_refused_in_words_and_signs_nobody_in(app: Flask, users: Users) -> None:
    browser = app.test_client()

    response = sign_in(browser, users.librarian.email, "not the password at all")

    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "The email or the password is wrong." in text
    assert "INVALID_CREDENTIALS" in text
    assert browser.get("/desk/").status_code == 303


def test_a_member_cannot_reach_the_desk(member: FlaskClient) -> None:
    response = member.get("/desk/")

    assert response.status_code == 403
    assert "This page is not for your account" in response.get_data(as_text=True)


def test_the_session_cookie_is_http_only_and_same_site_lax(app: Flask, users: Users) -> None:
    response = sign_in(app.test_client(), users.librarian.email)

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run on plain HTTP
    assert "Expires" not in cookie  # gone when the browser closes


def test_the_session_cookie_is_secure_in_production(app: Flask) -> None:
    production = Settings(storage="memory", environment="test").model_copy(
        update={"environment": "production"}
    )

    from entrypoints.web import setup

    container = build_container(production, wire=False)
    try:
        bare = Flask("production-like")
        setup._configure(bare, container)
        assert bare.config["SESSION_COOKIE_SECURE"] is True
        assert bare.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert bare.config["SESSION_COOKIE_HTTPONLY"] is True
    finally:
        dispose(container)


def test_signing_out_ends_the_session_on_the_server(app: Flask, librarian: FlaskClient) -> None:
    stolen = _session_cookie(librarian)
    page = librarian.get("/desk/")

    response = librarian.post("/sign-out", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 303
    assert librarian.get("/desk/").status_code == 303
    # The cookie as it was before signing out is worth nothing now: the session was revoked.
    replay = app.test_client()
    replay.set_cookie(COOKIE_NAME, stolen)
    assert replay.get("/desk/").status_code == 303


def test_an_idle_session_is_signed_out_on_the_server(
    app: Flask, librarian: FlaskClient, clock: ManualClock, container: Container
) -> None:
    idle = container.settings().web_idle_timeout()
    clock.advance(idle - timedelta(seconds=1))
    assert librarian.get("/desk/").status_code == 200  # activity restarts the countdown
    clock.advance(idle - timedelta(seconds=1))
    assert librarian.get("/desk/").status_code == 200
    stolen = _session_cookie(librarian)

    clock.advance(idle + timedelta(seconds=1))
    response = librarian.get("/desk/")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in")
    notice = librarian.get(response.headers["Location"])
    assert "signed out after a while without activity" in notice.get_data(as_text=True)
    # Revoked, not just forgotten: the cookie from before does not work even right away.
    replay = app.test_client()
    replay.set_cookie(COOKIE_NAME, stolen)
    clock.advance(timedelta(seconds=-idle.total_seconds()))
    assert replay.get("/desk/").status_code == 303


def test_a_role_change_takes_effect_on_the_next_page(
    librarian: FlaskClient, users: Users, container: Container
) -> None:
    from domain.members import Role

    container.library.membership().change_role(users.librarian.id, Role.MEMBER)

    assert librarian.get("/desk/").status_code == 303  # signed out: sign in again


@pytest.fixture
def limited_app(clock: ManualClock) -> Flask:
    settings = Settings(
        storage="memory",
        environment="test",
        rate_limit_auth_per_account="2 per minute",
    )
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    container.clock.override(providers.Object(clock))
    return create_app(container=container)


def test_sign_in_is_rate_limited_per_email_as_the_api_is(limited_app: Flask) -> None:
    browser = limited_app.test_client()
    for _ in range(2):
        assert sign_in(browser, "someone@example.org", "wrong password here").status_code == 401

    response = sign_in(browser, "someone@example.org", "wrong password here")

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.mimetype == "text/html"
    assert "Too many attempts" in response.get_data(as_text=True)
    # The API's sign-in counts against the same allowance.
    api = limited_app.test_client().post(
        "/api/v1/auth/token", json={"email": "someone@example.org", "password": "x" * 12}
    )
    assert api.status_code == 429


def test_a_key_rotation_keeps_signed_in_browsers_signed_in(
    app: Flask, librarian: FlaskClient, container: Container
) -> None:
    cookie = _session_cookie(librarian)
    container.identity.signing_keys().rotate()

    restarted = create_app(container=container)  # a worker started after the rotation
    browser = restarted.test_client()
    browser.set_cookie(COOKIE_NAME, cookie)

    assert restarted.config["SECRET_KEY"] != app.config["SECRET_KEY"]
    assert browser.get("/desk/").status_code == 200
