"""Sessions through the real container on SQLite and PostgreSQL: races and shared revocation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.identity import SqlRevocationStore
from application.identity.sessions import TokenPair
from domain.errors import RefreshTokenReused, TokenRevoked
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.databases import temporary_postgres_database
from tests.identity.conftest import PASSWORD


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'circulate.db'}"
        migrate.upgrade(url)
        yield url
        return
    with temporary_postgres_database() as url:
        migrate.upgrade(url)
        yield url


def make_container(url: str, tmp_path: Path) -> Container:
    settings = Settings(
        storage="sql",
        environment="test",
        database_url=url,
        signing_keys_file=str(tmp_path / "keys.json"),
    )
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    return container


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    container = make_container(database_url, tmp_path)
    yield container
    dispose(container)


def test_racing_refreshes_with_one_token_have_one_winner(container: Container) -> None:
    container.library.membership().register(email="ada@example.org", name="Ada", password=PASSWORD)
    pair = container.identity.sessions().login("ada@example.org", PASSWORD)
    outcomes: list[object] = []
    start = threading.Barrier(4)

    def refresh() -> None:
        start.wait()
        try:
            outcomes.append(container.identity.sessions().refresh(pair.refresh_token))
        except RefreshTokenReused as error:
            outcomes.append(error)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [outcome for outcome in outcomes if isinstance(outcome, TokenPair)]
    assert len(winners) == 1
    assert len(outcomes) == 4  # the others were refused as reuse, not failed otherwise
    # The reuse revoked the session, winner included: a race on one token is a theft signal.
    with pytest.raises(TokenRevoked):
        container.identity.sessions().authenticate_bearer(winners[0].access_token)


def test_a_logout_in_one_process_is_seen_by_another(
    container: Container, database_url: str, tmp_path: Path
) -> None:
    assert isinstance(container.identity.revocations(), SqlRevocationStore)
    container.library.membership().register(email="ada@example.org", name="Ada", password=PASSWORD)
    pair = container.identity.sessions().login("ada@example.org", PASSWORD)
    other = make_container(database_url, tmp_path)  # same database and key file
    try:
        principal = other.identity().sessions().authenticate_bearer(pair.access_token)

        container.identity.sessions().logout(principal)

        with pytest.raises(TokenRevoked):
            other.identity().sessions().authenticate_bearer(pair.access_token)
    finally:
        dispose(other)
