"""The password policy: a length range and the bundled list of common passwords."""

from __future__ import annotations

import pytest

from application.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    common_passwords,
    is_common,
)
from domain.errors import InvalidValue, PasswordTooCommon
from tests.identity.conftest import Identity


def test_the_bundled_list_is_loaded_lower_cased_without_comments() -> None:
    passwords = common_passwords()
    assert 1000 <= len(passwords) <= 5000
    assert "password" in passwords
    assert "qwerty123456" in passwords
    assert all(entry == entry.lower() and entry.strip() == entry for entry in passwords)
    assert not any(entry.startswith("#") for entry in passwords)


@pytest.mark.parametrize(
    "password", ["qwerty123456", "QWERTY123456", "1q2w3e4r5t6y", "Qazwsxedcrfv"]
)
def test_a_common_password_is_refused_whatever_its_case(password: str) -> None:
    assert is_common(password)
    with pytest.raises(PasswordTooCommon) as raised:
        check_password(password)
    assert raised.value.code == "PASSWORD_TOO_COMMON"
    assert raised.value.field == "password"
    assert password not in raised.value.message


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("x" * (MIN_PASSWORD_LENGTH - 1), "at least"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "at most"),
    ],
)
def test_a_password_must_be_long_enough_and_not_too_long(password: str, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem):
        check_password(password)


def test_a_long_uncommon_password_passes() -> None:
    check_password("x" * MIN_PASSWORD_LENGTH)
    check_password("violet tandem ocean lantern")


def test_registering_or_setting_a_common_password_is_refused(identity: Identity) -> None:
    with pytest.raises(PasswordTooCommon):
        identity.membership.register(email="a@example.org", name="A", password="Qwerty123456")
    member = identity.membership.register(email="a@example.org", name="A")
    with pytest.raises(PasswordTooCommon):
        identity.membership.set_password(member.id, "1qaz2wsx3edc")
    assert identity.hasher.hashed == 0  # refused before any hashing
