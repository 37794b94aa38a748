"""Idempotency keys: the port that lets a retried request replay the first one's response.

The HTTP edge decides what a request and a response are; this layer only fixes what must be
stored and the one operation that has to be atomic: claiming a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class KeyState(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    scope: str  # whose key it is: keys of different callers never meet
    key: str
    fingerprint: str  # digest of the request the key was first used with
    state: KeyState
    created_at: datetime
    expires_at: datetime
    response: StoredResponse | None = None

    def holds_key(self, now: datetime, lease: timedelta) -> bool:
        """Whether the record still owns its key at ``now``.

        An expired record does not, and neither does one left in flight longer than ``lease``:
        its request is taken to have died, so a retry may run instead of waiting forever.
        """
        if now >= self.expires_at:
            return False
        return not (self.state is KeyState.IN_FLIGHT and now - self.created_at >= lease)


class IdempotencyStore(Protocol):
    def claim(
        self,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        now: datetime,
        ttl: timedelta,
        lease: timedelta,
    ) -> IdempotencyRecord | None:
        """Reserve ``(scope, key)`` for a new request, atomically.

        Returns ``None`` when the caller now owns the key (a fresh in-flight record was stored,
        replacing one that no longer holds it); otherwise the record that holds the key. Of two
        concurrent claims exactly one gets ``None``.
        """
        ...

    def complete(self, *, scope: str, key: str, response: StoredResponse) -> None:
        """Store the response of the request that owns the key."""
        ...

    def release(self, *, scope: str, key: str) -> None:
        """Give the key up (the request failed), so that a retry runs afresh."""
        ...
