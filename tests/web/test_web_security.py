"""What every page gets: CSRF on posts, its own CSP with nonces, static files cached, closed by
default; and the JSON API left exactly as it was (no cookies, no CSRF, its strict CSP)."""

from __future__ import annotations

import re

from flask import Blueprint, Flask
from flask.testing import FlaskClient

from entrypoints.http.middleware import access
from tests.api.support import Users
from tests.web.conftest import csrf_token, sign_in

_NONCE = re.compile(r"'nonce-([^']+)'")


def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
    librarian: FlaskClient,
) -> None:
    response = librarian.post("/sign-out", data={})

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "This form was not accepted" in text
    assert "CSRF_TOKEN_INVALID" in text
    assert librarian.get("/desk/").status_code == 200  # still signed in


def test_a_post_with_another_browsers_csrf_token_is_refused(
    app: Flask, librarian: FlaskClient
) -> None:
    other = app.test_client()
    foreign_token = csrf_token(other.get("/sign-in"))

    response = librarian.post("/sign-out", data={"csrf_token": foreign_token})

    assert response.status_code == 400
    assert librarian.get("/desk/").status_code == 200


def test_the_sign_in_form_needs_its_token_too(app: Flask, users: Users) -> None:
    browser = app.test_client()

    response = browser.post(
        "/sign-in",
        data={"email": users.librarian.email, "password": "a sufficiently long passphrase"},
    )

    assert response.status_code == 400
    assert browser.get("/desk/").status_code == 303


def test_pages_have_their_own_csp_with_a_fresh_nonce_on_each_script(app: Flask) -> None:
    browser = app.test_client()
    first, second = browser.get("/sign-in"), browser.get("/sign-in")

    policy = first.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    nonce = _NONCE.search(policy)
    assert nonce is not None
    html = first.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    assert all(f'nonce="{nonce.group(1)}"' in script for script in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert _NONCE.search(second.headers["Content-Security-Policy"]) != nonce
    assert first.headers["Cache-Control"] == "no-store"


def test_the_json_api_takes_no_cookie_and_needs_no_csrf_token(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/books",
        json={"isbn": "9780131103627", "title": "K&R", "authors": ["Kernighan"]},
    )

    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
    assert "Set-Cookie" not in client.get("/api/v1").headers


def test_a_session_cookie_is_no_credential_for_the_api(
    librarian: FlaskClient,
) -> None:
    response = librarian.get("/api/v1/members")

    assert response.status_code == 401


def test_static_files_are_served_by_the_app_and_cached_when_fingerprinted(app: Flask) -> None:
    browser = app.test_client()
    page = browser.get("/sign-in").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/web/site\.css\?v=[0-9a-f]+)"', page)
    assert stylesheet is not None

    response = browser.get(stylesheet.group(1))

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    plain = browser.get("/static/web/site.css")
    assert "immutable" not in plain.headers["Cache-Control"]
    assert browser.get("/static/web/../setup.py").status_code == 404


def test_every_page_names_its_icon_so_browsers_ask_for_no_missing_favicon(app: Flask) -> None:
    browser = app.test_client()
    page = browser.get("/sign-in").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="(/static/web/favicon\.svg\?v=[0-9a-f]+)"', page)
    assert icon is not None

    response = browser.get(icon.group(1))

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"


def test_a_page_without_a_declared_audience_is_closed(app: Flask, users: Users) -> None:
    # Added the way a screen is, with a view that forgot to say who may see it.
    from entrypoints.web import setup

    undeclared = Blueprint("undeclared", __name__)
    undeclared.add_url_rule("/undeclared", "page", lambda: "open?")
    web = setup._blueprint((undeclared,))
    app.register_blueprint(web, name="web2", url_prefix="/x")
    access.register("web2.undeclared.page", setup.PAGE_RULE)
    browser = app.test_client()
    sign_in(browser, users.librarian.email)

    response = browser.get("/x/undeclared")

    assert response.status_code == 403
