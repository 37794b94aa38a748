"""Fixtures for the fast layer: the real use cases over the in-memory adapters."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from adapters.clock import ManualClock
from adapters.memory import MemoryDatabase
from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.members import Membership
from domain.policy import Policy
from tests.unit.support import App, RecordingPublisher, build_app

# Property tests run with hypothesis's defaults; HYPOTHESIS_PROFILE=thorough searches harder
# (the state machine sets its own budget).
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


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
