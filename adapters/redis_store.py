"""Redis: the client every Redis user of the process shares, and revocations kept in Redis.

The client answers within ``TIMEOUT_SECONDS`` or fails, without retrying, and goes through a
circuit breaker (``adapters.circuit``): while Redis is down or frozen, calls fail at once with
``DependencyUnavailable`` instead of each request waiting on it, and Redis is used again as soon
as it answers.

Each revoked identifier is one key that Redis itself expires when the revocation stops
mattering, so nothing ever needs cleaning up. Revocations live only in Redis's memory unless
Redis persists them: a Redis restarted without persistence (RDB or AOF) forgets every
revocation, and signed-out tokens work again until they expire. Run it with persistence.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime
from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from adapters.circuit import CircuitBreaker
from application.ports import Clock

DEFAULT_PREFIX = "circulate:revoked:"
# Redis answers in well under a millisecond; a server that has not answered in this long is
# taken to be down (a request must not wait the 5-15 s of the driver's defaults and retries).
TIMEOUT_SECONDS = 0.5
# How long the breaker refuses at once after a failure, before it lets one call try again.
COOL_DOWN_SECONDS = 5.0
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class GuardedRedis(Redis):
    """A Redis client whose every command goes through a circuit breaker."""

    breaker: CircuitBreaker

    def execute_command(self, *args: Any, **options: Any) -> Any:
        with self.breaker.guard():
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


def redis_breaker() -> CircuitBreaker:
    return CircuitBreaker("redis", FAILURES, cool_down=COOL_DOWN_SECONDS)


def redis_client(url: str, breaker: CircuitBreaker | None = None) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``); connects lazily."""
    client = GuardedRedis.from_url(
        url,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
    )
    if not isinstance(client, GuardedRedis):  # from_url builds the class it is called on
        raise TypeError(f"expected a GuardedRedis, got {type(client).__name__}")
    client.breaker = breaker or redis_breaker()
    return client


def persists(client: Redis) -> bool | None:
    """Whether Redis keeps its data across a restart (the append-only file, or RDB snapshots);
    ``None`` when the server will not say (CONFIG is disabled on some managed services)."""
    info: dict[str, Any] = client.info("persistence")
    if info.get("aof_enabled"):
        return True
    try:
        save = client.config_get("save").get("save") or ""
    except ResponseError:
        return None
    return bool(str(save).strip())


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
