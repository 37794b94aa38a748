"""Security adapters: password hashing, signing keys and access tokens."""

from adapters.security.passwords import Argon2PasswordHasher

__all__ = ["Argon2PasswordHasher"]
