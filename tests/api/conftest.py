"""An app over the in-memory adapters, with a cheap password hasher and a clock tests move."""

from __future__ import annotations

from collections.abc import Iterator

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


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def container(clock: ManualClock) -> Iterator[Container]:
    container = build_container(Settings(storage="memory", environment="test"))
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    container.clock.override(providers.Object(clock))
    yield container
    dispose(container)


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container=container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
