"""Security adapters: password hashing (and, later, token signing)."""

from adapters.security.passwords import Argon2PasswordHasher

__all__ = ["Argon2PasswordHasher"]
