"""An app over the in-memory adapters, with a cheap password hasher and a clock tests move.

``client`` calls the API as an admin integration (an API key holding every scope), so tests of
the resources' behaviour need no set-up for access; ``anonymous`` sends no credentials; ``users``
are a librarian, an admin and two members (Ada and Grace), signed in through the real sessions.
Access itself is tested in ``test_api_access.py`` and ``test_api_auth.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from adapters.security import Argon2PasswordHasher
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import Users, make_users

# Well above what any test sends, below what could hide a limit that never applies; the rate
# limits themselves are tested with low limits of their own (test_api_limits.py).
TEST_RATE_LIMIT = "5000 per minute"


@pytest.fixture(scope="session", autouse=True)
def _signing_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One key file for the session's apps (made on first use), outside the working tree."""
    path = tmp_path_factory.mktemp("keys") / "circulate-keys.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIRCULATE_SIGNING_KEYS_FILE", str(path))
        yield path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(storage="memory", environment="test", rate_limit_default=TEST_RATE_LIMIT)


@pytest.fixture
def container(clock: ManualClock, settings: Settings) -> Iterator[Container]:
    container = build_container(settings, wire=False)  # create_app wires it
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    container.clock.override(providers.Object(clock))
    yield container
    dispose(container)


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container=container)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_key(container: Container) -> str:
    return container.identity().api_keys().create("tests", frozenset(Scope)).plaintext


@pytest.fixture
def client(app: Flask, admin_key: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {admin_key}"
    return client


@pytest.fixture
def users(container: Container) -> Users:
    return make_users(container)
