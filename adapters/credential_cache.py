"""API keys checked once, then trusted for a few seconds: the request path without a transaction.

Checking an API key reads its record in a transaction of its own; for an integration that sends
the same key with every request, that read was a large part of each request's cost. This cache
remembers a key that checked out (by a digest of it, never the key itself) for ``ttl_seconds``,
and answers for it from memory until then, unless:

- the key expires: its expiry is kept with it and checked against the clock on every request,
  so an expired key is refused at the same instant as without the cache;
- it is revoked: every revocation replaces the cache's *generation* (``ForgetRevokedKeys``, told
  of the ``ApiKeyRevoked`` event after the revocation commits), and an entry answers only in
  the generation it was made in. The generation lives where the processes that must see it
  share it: in Redis when one is configured (every worker and host, and the CLI, see a
  revocation at once; ``LocalFirstGeneration``), else in this process (which sees its own
  revocations at once; another process's, such as ``circulate api-keys revoke`` or another
  gunicorn worker, after at most ``ttl_seconds``, the documented revocation delay of a
  deployment without Redis).

Refusals are never cached: a wrong, revoked or expired key is looked up every time, so the rate
limiter still counts every guess and a refusal always reflects the database.

The generation is read *before* the key is checked, as the catalogue cache does: a check that
races a revocation is filed under the generation the revocation replaces, so it is never used.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.caching import Generation, MemoryGeneration
from application.identity.api_keys import ApiKeys
from application.ports import Clock
from domain.access import Principal
from domain.events import ApiKeyRevoked, Event

log = logging.getLogger(__name__)

# Entries kept at most; past it the cache starts afresh (a deployment has a handful of keys,
# so reaching it means someone is sending many different valid keys, which is no hot path).
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    generation: str
    fresh_until: datetime
    expires_at: datetime | None


class CachedApiKeys:
    """``authenticate`` as ``ApiKeys.authenticate`` answers it, from memory when it can."""

    def __init__(
        self, api_keys: ApiKeys, clock: Clock, generation: Generation, ttl_seconds: float
    ) -> None:
        self._api_keys = api_keys
        self._clock = clock
        self._generation = generation
        self._ttl = timedelta(seconds=ttl_seconds)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def authenticate(self, plaintext: str) -> Principal:
        if not self._ttl:
            return self._api_keys.authenticate(plaintext)
        try:
            generation = self._generation.current()  # before the key is checked
        except Exception:
            log.warning("credential cache generation unavailable; checking the key", exc_info=True)
            return self._api_keys.authenticate(plaintext)
        digest = hashlib.sha256(plaintext.encode()).hexdigest()
        now = self._clock.now()
        entry = self._entries.get(digest)
        if (
            entry is not None
            and entry.generation == generation
            and now < entry.fresh_until
            and (entry.expires_at is None or now < entry.expires_at)
        ):
            return entry.principal
        verified = self._api_keys.verify(plaintext)  # raises for a key that does not work
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = _Entry(
                verified.principal, generation, now + self._ttl, verified.expires_at
            )
        return verified.principal


class LocalFirstGeneration:
    """A generation shared through ``shared`` (Redis) that this process also keeps for itself:
    a bump here takes effect here at once, even when the shared store cannot be reached."""

    def __init__(self, shared: Generation) -> None:
        self._local = MemoryGeneration()
        self._shared = shared

    def current(self) -> str:
        return f"{self._local.current()}:{self._shared.current()}"

    def bump(self) -> None:
        self._local.bump()
        self._shared.bump()


class ForgetRevokedKeys:
    """An ``EventPublisher``: a committed revocation of an API key replaces the generation of
    the credential cache, so no entry made before it answers again."""

    def __init__(self, generation: Generation) -> None:
        self._generation = generation

    def publish(self, events: Sequence[Event]) -> None:
        if any(isinstance(event, ApiKeyRevoked) for event in events):
            self._generation.bump()
