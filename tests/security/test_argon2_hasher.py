"""The Argon2id hasher: strong by default, cheap when a test asks, never raising on verify."""

from __future__ import annotations

import pytest
from argon2 import Parameters, Type, profiles

from adapters.security import Argon2PasswordHasher
from adapters.security.passwords import DEFAULT_PARAMETERS
from application.ports import PasswordHasher

CHEAP = profiles.CHEAPEST
PASSWORD = "correct horse battery staple"


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(CHEAP)


def test_it_implements_the_port(hasher: Argon2PasswordHasher) -> None:
    port: PasswordHasher = hasher
    assert port.verify(port.hash(PASSWORD), PASSWORD)


def test_defaults_meet_owasp_minimums_for_argon2id() -> None:
    params = Argon2PasswordHasher().parameters

    assert params == DEFAULT_PARAMETERS
    assert params.type is Type.ID
    # OWASP Password Storage Cheat Sheet: m >= 19 MiB, t >= 2, p >= 1.
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1
    assert params.salt_len >= 16


def test_a_hash_is_salted_argon2id_and_never_the_password(hasher: Argon2PasswordHasher) -> None:
    first, second = hasher.hash(PASSWORD), hasher.hash(PASSWORD)

    assert first.startswith("$argon2id$")
    assert PASSWORD not in first
    assert first != second  # a fresh salt each time
    assert hasher.verify(first, PASSWORD)
    assert hasher.verify(second, PASSWORD)


@pytest.mark.parametrize(
    "attempt", ["", "correct horse battery stapl", "Correct horse battery staple", PASSWORD + " "]
)
def test_a_wrong_password_is_false(hasher: Argon2PasswordHasher, attempt: str) -> None:
    assert hasher.verify(hasher.hash(PASSWORD), attempt) is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=8,t=1,p=1$garbage",
        "$2b$12$abcdefghijklmnopqrstuuJ0qQmG3P3pYJz6vZbq8mO3rX3rJ5j1W",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_a_corrupt_or_foreign_hash_is_false_not_an_exception(
    hasher: Argon2PasswordHasher, stored: str
) -> None:
    assert hasher.verify(stored, PASSWORD) is False


def test_needs_rehash_when_parameters_change(hasher: Argon2PasswordHasher) -> None:
    old = hasher.hash(PASSWORD)
    stronger = Argon2PasswordHasher(
        Parameters(
            type=Type.ID,
            version=19,
            salt_len=16,
            hash_len=32,
            time_cost=2,
            memory_cost=64,
            parallelism=1,
        )
    )

    assert hasher.needs_rehash(old) is False
    assert stronger.needs_rehash(old) is True
    assert stronger.verify(old, PASSWORD)  # old hashes keep working until rehashed
    assert stronger.needs_rehash(stronger.hash(PASSWORD)) is False


def test_needs_rehash_for_something_that_is_not_an_argon2_hash(
    hasher: Argon2PasswordHasher,
) -> None:
    assert hasher.needs_rehash("not a hash") is True


def test_only_argon2id_is_accepted() -> None:
    argon2i = Parameters(
        type=Type.I,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=3,
        memory_cost=65536,
        parallelism=4,
    )

    with pytest.raises(ValueError, match="Argon2id"):
        Argon2PasswordHasher(argon2i)
