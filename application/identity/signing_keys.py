"""The keys that sign access tokens: rotate them, list them, publish the public halves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.identity.keyset import KeySet, SigningKey
from application.identity.ports import KeyGenerator, KeyPublisher, KeyStore, TokenIssuer
from application.ports import Clock


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A signing key without its private half."""

    kid: str
    created_at: datetime
    retired_at: datetime | None
    verifies_until: datetime | None  # retired keys: when the last token they signed expires

    @property
    def is_current(self) -> bool:
        return self.retired_at is None


class SigningKeys:
    def __init__(
        self,
        *,
        store: KeyStore,
        generator: KeyGenerator,
        issuer: TokenIssuer,
        publisher: KeyPublisher,
        clock: Clock,
    ) -> None:
        self._store = store
        self._generator = generator
        self._issuer = issuer
        self._publisher = publisher
        self._clock = clock

    def rotate(self) -> KeyInfo:
        """Make a new current key. The previous one stops signing but keeps verifying until the
        tokens it signed have expired; keys retired longer ago than that are pruned."""
        now = self._clock.now()
        new_key = self._generator.generate(now)
        keep = self._issuer.max_token_age

        def change(keys: KeySet | None) -> KeySet:
            return KeySet.first(new_key) if keys is None else keys.rotated(new_key, now, keep)

        return self._info(self._store.update(change).current)

    def list(self) -> list[KeyInfo]:
        """Newest first."""
        return [self._info(key) for key in self._store.load().keys]

    def jwks(self) -> dict[str, Any]:
        return self._publisher.jwks()

    def _info(self, key: SigningKey) -> KeyInfo:
        retired = key.retired_at
        return KeyInfo(
            kid=key.kid,
            created_at=key.created_at,
            retired_at=retired,
            verifies_until=None if retired is None else retired + self._issuer.max_token_age,
        )
