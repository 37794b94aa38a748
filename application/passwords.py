"""What a password must be before it is hashed."""

from __future__ import annotations

from domain.errors import InvalidValue

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 256


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(
            "password", f"password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue("password", f"password must be at most {MAX_PASSWORD_LENGTH} characters")
