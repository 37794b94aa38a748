"""Property-based run over the whole OpenAPI document, in process, on a fresh SQLite database.

Every operation is called with the document's examples, with its coverage cases (boundaries and
invalid values of each parameter and field) and with random valid and invalid requests, and each
response goes through every schemathesis check: no 500, a documented status, content type,
headers and body, valid data accepted and invalid data rejected, 405 with Allow for methods the
path does not have. A stateful run then chains operations through the links schemathesis infers
between them (an id one response returns, used by the next request).

Requests are made as an admin integration (an API key holding every scope), so every operation
runs for real; schemathesis's ``ignored_auth`` check also sends each one without credentials and
with made-up ones, expecting 401. Rate limits are on, set high enough that the run never meets
them (they are tested in test_api_limits.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import REVOKED_NOT_REMOVED
from tests.databases import empty_tables

# A request can be valid by the schema and still refused: a domain rule on a value the schema
# cannot express (an ISBN's check digit, a year not after next year) is 422, and an If-Match
# the client made up does not match the resource (412). Everything else keeps the defaults.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20301,
        "generation": {"max-examples": 50},
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        "operations": [REVOKED_NOT_REMOVED],
    }
)


HIGH_LIMIT = "1000000 per minute"


def _fresh_app(directory: Path) -> tuple[Flask, Container]:
    # Built at import: schemathesis makes one test per operation from the loaded document.
    url = f"sqlite:///{directory / 'circulate.db'}"
    migrate.upgrade(url)
    settings = Settings(
        storage="sql",
        database_url=url,
        environment="test",
        signing_keys_file=str(directory / "keys.json"),
        rate_limit_default=HIGH_LIMIT,
        rate_limit_auth_per_ip=HIGH_LIMIT,
        rate_limit_auth_per_account=HIGH_LIMIT,
        rate_limit_auth_account_ceiling=HIGH_LIMIT,
    )
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    return create_app(container=container), container


def new_admin_key() -> None:
    """Credentials of a new integration with every scope (the admin's, too), for what follows."""
    key = CONTAINER.identity.api_keys().create("schemathesis", frozenset(Scope)).plaintext
    CREDENTIALS["Authorization"] = f"ApiKey {key}"


class AdminKey:
    """Schemathesis's auth provider: the current admin key on every request it makes."""

    def get(self, case: schemathesis.Case[Any], ctx: Any) -> str:
        return CREDENTIALS["Authorization"]

    def set(self, case: schemathesis.Case[Any], data: str, ctx: Any) -> None:
        case.headers["Authorization"] = data


DIRECTORY = Path(tempfile.mkdtemp(prefix="circulate-schemathesis-"))
APP, CONTAINER = _fresh_app(DIRECTORY)
CREDENTIALS: dict[str, str] = {}
new_admin_key()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG)
schema.auth(refresh_interval=None)(AdminKey)


@pytest.fixture(scope="module", autouse=True)
def _release_database() -> Iterator[None]:
    yield
    dispose(CONTAINER)
    shutil.rmtree(DIRECTORY, ignore_errors=True)


@pytest.fixture(autouse=True)
def _wired() -> None:
    # ``@inject`` views use the container wired last, and other tests wire their own.
    CONTAINER.wire()


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


# Its own loaded document: nothing the runs above learnt reaches the chains.
workflow_schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG)
workflow_schema.auth(refresh_interval=None)(AdminKey)


class Workflows(workflow_schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls: create a book, read it back, lend it, return it, ...

    Each chain starts from an empty database, so that replaying a chain replays its responses.
    """

    def setup(self) -> None:
        empty_tables(CONTAINER.engine())
        new_admin_key()  # the last chain's went with the tables


TestWorkflows = Workflows.TestCase
TestWorkflows.settings = settings(
    max_examples=40,
    stateful_step_count=10,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
