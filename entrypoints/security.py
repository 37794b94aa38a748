"""How the container builds the identity adapters from the settings."""

from __future__ import annotations

from adapters.security.keys import FileKeyStore, StaticKeyStore, key_store_for
from adapters.security.tokens import JwtTokenService
from application.identity.ports import KeyGenerator, KeyStore
from application.ports import Clock
from entrypoints.settings import Settings


def build_key_store(
    settings: Settings, generator: KeyGenerator, clock: Clock
) -> StaticKeyStore | FileKeyStore:
    """Keys from ``CIRCULATE_SIGNING_KEYS`` if set, else from the key file.

    Outside production a missing key file is created with a first key on first use, so a fresh
    clone signs tokens with no set-up; in production it is an error (``circulate keys rotate``
    makes it), because keys made silently on one host would not be the other hosts' keys.
    """
    inline = settings.signing_keys.get_secret_value() if settings.signing_keys else None
    return key_store_for(
        inline=inline,
        path=settings.signing_keys_file,
        generator=generator,
        clock=clock,
        create_missing=settings.environment != "production",
    )


def build_token_service(settings: Settings, keys: KeyStore, clock: Clock) -> JwtTokenService:
    return JwtTokenService(
        keys,
        clock,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=settings.access_token_lifetime(),
    )
