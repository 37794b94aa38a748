"""What a password must be before it is hashed."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from domain.errors import InvalidValue, PasswordTooCommon

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 256
# Lower-cased, one per line, shipped inside the package (see the file's header for its source).
COMMON_PASSWORDS_FILE = "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords attackers try first, read once."""
    text = files("application").joinpath(COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """Whether ``password`` is on the list, ignoring case (attackers' lists vary the case too)."""
    return password.lower() in common_passwords()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(
            "password", f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue("password", f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if is_common(password):
        raise PasswordTooCommon()
