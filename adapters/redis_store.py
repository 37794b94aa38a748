"""Revocations in Redis, for deployments whose workers or hosts share a Redis server.

Each revoked identifier is one key that Redis itself expires when the revocation stops
mattering, so nothing ever needs cleaning up.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from application.ports import Clock

if TYPE_CHECKING:  # imported when a client is made: commands that use no Redis skip it
    from redis import Redis

DEFAULT_PREFIX = "circulate:revoked:"


def redis_client(url: str) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``); connects lazily."""
    from redis import Redis

    return Redis.from_url(url)


class RedisRevocationStore:
    def __init__(self, client: Redis, clock: Clock, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._clock = clock
        self._prefix = prefix

    def revoke(self, identifier: str, expires_at: datetime) -> None:
        milliseconds = math.ceil((expires_at - self._clock.now()).total_seconds() * 1000)
        if milliseconds <= 0:
            return  # what it names is refused as expired already
        # One identifier is only ever revoked again until a later instant (a session until
        # "now + token lifetime", a token until its own expiry), so overwriting never shortens.
        self._client.set(self._prefix + identifier, b"1", px=milliseconds)

    def any_revoked(self, identifiers: Collection[str]) -> bool:
        if not identifiers:
            return False
        found: int = self._client.exists(*(self._prefix + key for key in identifiers))
        return found > 0
