"""The pages over the in-memory adapters, with a clock tests move (the API tests' fixtures)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from entrypoints.container import Container
from tests.api.conftest import (  # noqa: F401 (fixtures)
    _signing_keys,
    admin_key,
    anonymous,
    app,
    client,
    clock,
    container,
    settings,
)
from tests.api.support import PASSWORD, Users, make_users

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(response: TestResponse) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(response.get_data(as_text=True))
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(browser: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    page = browser.get("/sign-in")
    return browser.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(page)},
    )


@pytest.fixture
def users(container: Container) -> Users:  # noqa: F811
    return make_users(container)


@pytest.fixture
def librarian(app: Flask, users: Users) -> FlaskClient:  # noqa: F811
    """A browser signed in as the librarian."""
    browser = app.test_client()
    assert sign_in(browser, users.librarian.email).status_code == 303
    return browser


@pytest.fixture
def member(app: Flask, users: Users) -> FlaskClient:  # noqa: F811
    """A browser signed in as Ada, a member."""
    browser = app.test_client()
    assert sign_in(browser, users.ada.email).status_code == 303
    return browser
