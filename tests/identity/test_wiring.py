"""Identity settings and how the container builds the identity adapters from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from adapters.clock import ManualClock
from adapters.memory.identity import MemoryRevocationStore
from adapters.redis_store import RedisRevocationStore
from adapters.security.keys import (
    Ed25519KeyGenerator,
    FileKeyStore,
    SigningKeysUnavailable,
    StaticKeyStore,
    dump_keyset,
)
from adapters.sqlalchemy.identity import SqlRevocationStore
from application.identity.keyset import KeySet
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings, describe_validation_error


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # a key file made by default lands here, not in the checkout
    for name in [
        "CIRCULATE_SIGNING_KEYS",
        "CIRCULATE_SIGNING_KEYS_FILE",
        "CIRCULATE_REVOCATION_STORE",
        "CIRCULATE_REDIS_URL",
        "CIRCULATE_ENVIRONMENT",
        "CIRCULATE_STORAGE",
    ]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def containers() -> Iterator[list[Container]]:
    made: list[Container] = []
    yield made
    for container in made:
        dispose(container)


def container_for(made: list[Container], **settings: object) -> Container:
    container = build_container(Settings(**settings), wire=False)  # type: ignore[arg-type]
    made.append(container)
    return container


def test_the_defaults() -> None:
    settings = Settings()
    assert (settings.token_issuer, settings.token_audience) == ("circulate", "circulate-api")
    assert settings.access_token_lifetime() == timedelta(minutes=15)
    assert settings.refresh_token_lifetime() == timedelta(days=30)
    assert settings.signing_keys_file == "circulate-keys.json"
    assert settings.signing_keys is None
    assert settings.revocation_store == "database"
    assert settings.redis_url is None
    assert settings.public_catalogue is True


def test_secrets_stay_out_of_reprs() -> None:
    settings = Settings(
        signing_keys=SecretStr('{"format": 1}'), redis_url="redis://:hunter2@cache:6379/0"
    )
    assert '"format"' not in repr(settings)  # the key set's content
    assert "hunter2" not in repr(settings)


def test_redis_revocations_need_a_redis_url() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(revocation_store="redis")
    assert "CIRCULATE_REDIS_URL" in describe_validation_error(raised.value)


@pytest.mark.parametrize("seconds", [59, 86_401])
def test_the_access_token_lifetime_is_bounded(seconds: int) -> None:
    with pytest.raises(ValidationError):
        Settings(access_token_ttl_seconds=seconds)


def test_the_revocation_store_follows_the_settings(
    containers: list[Container], tmp_path: Path
) -> None:
    memory = container_for(containers, storage="memory")
    database = container_for(containers, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    redis = container_for(
        containers, revocation_store="redis", redis_url="redis://127.0.0.1:6379/0"
    )
    assert isinstance(memory.identity().revocations(), MemoryRevocationStore)
    assert isinstance(database.identity().revocations(), SqlRevocationStore)
    assert isinstance(redis.identity().revocations(), RedisRevocationStore)
    assert memory.identity().revocations() is memory.identity().revocations()  # one per process


def test_development_makes_a_key_file_in_the_working_directory(
    containers: list[Container], tmp_path: Path
) -> None:
    container = container_for(containers, storage="memory")
    store = container.identity.key_store()
    assert isinstance(store, FileKeyStore)
    container.identity.signing_keys().jwks()
    assert (tmp_path / "circulate-keys.json").exists()


def test_production_without_keys_fails_and_makes_none(
    containers: list[Container], tmp_path: Path
) -> None:
    container = container_for(
        containers,
        environment="production",
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        signing_keys_file=str(tmp_path / "keys.json"),
    )
    with pytest.raises(SigningKeysUnavailable, match=r"keys\.json does not exist"):
        container.identity.signing_keys().jwks()
    assert not (tmp_path / "keys.json").exists()
    # `circulate keys rotate` is how production gets its first key.
    container.identity.signing_keys().rotate()
    assert len(container.identity.signing_keys().jwks()["keys"]) == 1


def test_inline_keys_win_over_the_file(containers: list[Container], tmp_path: Path) -> None:
    keys = KeySet.first(Ed25519KeyGenerator().generate(ManualClock().now()))
    container = container_for(
        containers,
        storage="memory",
        signing_keys=dump_keyset(keys),
        signing_keys_file=str(tmp_path / "keys.json"),
    )
    assert isinstance(container.identity.key_store(), StaticKeyStore)
    assert [key["kid"] for key in container.identity.signing_keys().jwks()["keys"]] == [
        keys.current.kid
    ]
    assert not (tmp_path / "keys.json").exists()


def test_malformed_inline_keys_fail_when_first_used(containers: list[Container]) -> None:
    container = container_for(containers, storage="memory", signing_keys="[]")
    with pytest.raises(SigningKeysUnavailable, match="CIRCULATE_SIGNING_KEYS"):
        container.identity.key_store()


def test_tokens_use_the_configured_issuer_audience_and_lifetime(
    containers: list[Container],
) -> None:
    container = container_for(
        containers,
        storage="memory",
        token_issuer="library.example",
        token_audience="library-api",
        access_token_ttl_seconds=120,
    )
    member = container.library.membership().register(
        email="ada@example.org", name="Ada", password="a sufficiently long passphrase"
    )
    pair = container.identity.sessions().login("ada@example.org", "a sufficiently long passphrase")
    assert pair.expires_in == 120
    assert (
        container.identity.sessions().authenticate_bearer(pair.access_token).member_id == member.id
    )
