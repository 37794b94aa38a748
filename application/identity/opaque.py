"""Opaque secrets (refresh tokens, API keys, client secrets): made random, stored as digests.

These secrets are 256 bits from ``secrets``, so nobody can guess one, and a plain SHA-256 digest
is enough to make a stolen table useless. Argon2 is for passwords, which people choose and which
can be guessed: its cost slows guessing down. Spent on every request authenticated with a key,
that cost would buy nothing here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def new_secret() -> str:
    """256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """What is stored in place of ``secret``: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Whether ``secret`` is the one ``stored_digest`` was made from, in constant time."""
    return hmac.compare_digest(digest(secret), stored_digest)
