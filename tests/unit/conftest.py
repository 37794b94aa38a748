"""Fixtures for the fast layer: the real use cases over the in-memory adapters."""

from __future__ import annotations

import pytest

from adapters.clock import ManualClock
from adapters.memory import MemoryDatabase
from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.members import Membership
from domain.policy import Policy
from tests.unit.support import App, RecordingPublisher, build_app


@pytest.fixture
def app() -> App:
    return build_app()


@pytest.fixture
def db(app: App) -> MemoryDatabase:
    return app.db


@pytest.fixture
def clock(app: App) -> ManualClock:
    return app.clock


@pytest.fixture
def policy(app: App) -> Policy:
    return app.policy


@pytest.fixture
def publisher(app: App) -> RecordingPublisher:
    return app.publisher


@pytest.fixture
def catalogue(app: App) -> Catalogue:
    return app.catalogue


@pytest.fixture
def membership(app: App) -> Membership:
    return app.membership


@pytest.fixture
def circulation(app: App) -> Circulation:
    return app.circulation


@pytest.fixture
def accounts(app: App) -> Accounts:
    return app.accounts
