"""The ``circulate`` command on the in-memory container, with a clock the test moves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol

import pytest
from argon2 import profiles
from click.testing import CliRunner, Result
from dependency_injector import providers

from adapters.clock import ManualClock
from adapters.security import Argon2PasswordHasher
from entrypoints.cli import main
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings

PASSWORD = "correct horse battery staple"


class Cli(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CIRCULATE_"):
            monkeypatch.delenv(name)


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
def cli(container: Container) -> Cli:
    """``cli("members", "list")``: run a command on the test's container."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), obj=container, input=input)

    return run
