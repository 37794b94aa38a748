"""Idempotency keys: the port that lets a retried request get the first one's result again.

The edge decides what a request is (its fingerprint) and what its result is (the bytes it stores
to answer a retry with: for the HTTP API, the whole response); this layer only fixes what must be
kept per key and the one operation that has to be atomic: claiming a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.errors import DomainError


class KeyState(StrEnum):
    """``IN_FLIGHT``: claimed, nothing committed. ``COMPLETED``: the change the key guards is
    committed (the state is set in the change's own transaction, see ``KeyUsed``); the result
    is stored just after, and is missing only if the process died in between."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class IdempotencyKeyTaken(DomainError):
    """The claim ran out (its lease passed) and another request took the key over: this one's
    change is not committed, so the key's effect happens once."""

    code = "IDEMPOTENCY_KEY_IN_USE"


@dataclass(frozen=True, slots=True)
class KeyUsed:
    """A record for the unit of work (``also_write`` / ``riding_with_next_commit``): the claim
    ``token`` of ``(scope, key)`` is used up by the change being committed.

    Written in the change's transaction, it turns the claim ``COMPLETED``; if the claim is no
    longer this token's, the write raises ``IdempotencyKeyTaken`` and nothing is committed.
    """

    scope: str
    key: str
    token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    scope: str  # whose key it is: keys of different callers never meet
    key: str
    fingerprint: str  # digest of the request the key was first used with
    state: KeyState
    created_at: datetime
    expires_at: datetime
    result: bytes | None = None  # the edge's own encoding of its answer; opaque here
    token: str = ""  # the claim's: whoever holds it may use the key up

    def holds_key(self, now: datetime, lease: timedelta) -> bool:
        """Whether the record still owns its key at ``now``.

        An expired record does not, and neither does one left in flight longer than ``lease``:
        its request is taken to have died, so a retry may run instead of waiting forever.
        """
        if now >= self.expires_at:
            return False
        return not (self.state is KeyState.IN_FLIGHT and not self.holds_lease(now, lease))

    def holds_lease(self, now: datetime, lease: timedelta) -> bool:
        """Whether the request that claimed the key may still be running at ``now``."""
        return now - self.created_at < lease


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
        token: str,
    ) -> IdempotencyRecord | None:
        """Reserve ``(scope, key)`` for a new request, atomically, as claim ``token``.

        Returns ``None`` when the caller now owns the key (a fresh in-flight record was stored,
        replacing one that no longer holds it); otherwise the record that holds the key. Of two
        concurrent claims exactly one gets ``None``.
        """
        ...

    def complete(self, *, scope: str, key: str, token: str, result: bytes) -> None:
        """Store the result of the request whose claim ``token`` still owns the key (a request
        whose claim was taken over stores nothing)."""
        ...

    def release(self, *, scope: str, key: str, token: str) -> None:
        """Give the key up (the request failed before committing), so that a retry runs
        afresh; only the claim ``token`` that owns it, and only while nothing is committed."""
        ...
