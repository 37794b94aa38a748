"""Containers built the way the entrypoints build them, with a cheap password hasher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers

from adapters.security import Argon2PasswordHasher
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.entrypoints.support import ContainerFactory


@pytest.fixture(autouse=True)
def _signing_keys_outside_the_work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps load (and outside production make) their signing keys when they are built."""
    monkeypatch.setenv("CIRCULATE_SIGNING_KEYS_FILE", str(tmp_path / "circulate-keys.json"))


@pytest.fixture
def make_container() -> Iterator[ContainerFactory]:
    """``make_container(**settings)``: a wired container, disposed of after the test."""
    built: list[Container] = []

    def make(**values: object) -> Container:
        container = build_container(Settings(environment="test", **values))  # type: ignore[arg-type]
        container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        built.append(container)
        return container

    yield make
    for container in built:
        dispose(container)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'circulate.db'}"
