"""The signing key set as data: which key signs, which still verify, and when one may go.

A rotation makes a new key current and retires the old one at that instant. A retired key signs
nothing more, but the tokens it signed stay valid until they expire, so it is kept (and keeps
verifying) for ``keep_retired_for`` after its retirement: at least the access-token lifetime
plus the clock leeway of verification. Rotations prune the keys past that.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    kid: str
    private_key: str = field(repr=False)  # PEM (PKCS #8); opaque to the application
    created_at: datetime
    retired_at: datetime | None = None  # None: the current key

    @property
    def is_current(self) -> bool:
        return self.retired_at is None

    def prunable(self, now: datetime, keep_retired_for: timedelta) -> bool:
        return self.retired_at is not None and self.retired_at + keep_retired_for <= now


@dataclass(frozen=True, slots=True)
class KeySet:
    """Newest first; exactly one key is current and every ``kid`` is distinct."""

    keys: tuple[SigningKey, ...]

    def __post_init__(self) -> None:
        current = [key for key in self.keys if key.is_current]
        if len(current) != 1:
            raise ValueError(f"a key set needs exactly one current key, not {len(current)}")
        kids = [key.kid for key in self.keys]
        if len(set(kids)) != len(kids):
            raise ValueError("the key ids of a key set must be distinct")

    @classmethod
    def first(cls, key: SigningKey) -> KeySet:
        return cls((key,))

    @property
    def current(self) -> SigningKey:
        return next(key for key in self.keys if key.is_current)

    def get(self, kid: str) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def rotated(self, new_key: SigningKey, now: datetime, keep_retired_for: timedelta) -> KeySet:
        """``new_key`` becomes current; the old current one retires now; expired ones go."""
        if not new_key.is_current:
            raise ValueError("the new key must not be retired")
        keys = [replace(key, retired_at=now) if key.is_current else key for key in self.keys]
        kept = [key for key in keys if not key.prunable(now, keep_retired_for)]
        return KeySet((new_key, *kept))
