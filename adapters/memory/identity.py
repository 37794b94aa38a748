"""In-memory repositories of credentials, and an in-process revocation store."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import datetime

from adapters.memory.repositories import _clashes, _MemoryStore
from application.ports import Clock
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.errors import ConcurrentUpdate


class MemoryRefreshTokenRepository(_MemoryStore[RefreshToken]):
    table = RefreshToken

    def _unique(self, entity: RefreshToken) -> None:
        if _clashes(self._rows.values(), entity, lambda t: t.token_hash):
            raise ConcurrentUpdate("a refresh token with this digest exists", id=entity.id)

    def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        return self._one(next((t for t in self._rows.values() if t.token_hash == token_hash), None))

    def active_in_family(self, family_id: str) -> list[RefreshToken]:
        rows = self._where(
            lambda t: t.family_id == family_id and not t.is_used and not t.is_revoked
        )
        return self._many(sorted(rows, key=lambda t: t.id))

    def for_member(self, member_id: str) -> list[RefreshToken]:
        rows = self._where(lambda t: t.member_id == member_id)
        return self._many(sorted(rows, key=lambda t: t.id))

    def expired(self, now: datetime, limit: int) -> list[RefreshToken]:
        rows = sorted(self._where(lambda t: t.expires_at < now), key=lambda t: (t.expires_at, t.id))
        return self._many(rows[:limit])


class MemoryApiKeyRepository(_MemoryStore[ApiKey]):
    table = ApiKey

    def _unique(self, entity: ApiKey) -> None:
        if _clashes(self._rows.values(), entity, lambda k: k.prefix):
            raise ConcurrentUpdate(f"API key prefix {entity.prefix} is taken", id=entity.id)

    def get_by_prefix(self, prefix: str) -> ApiKey | None:
        return self._one(next((k for k in self._rows.values() if k.prefix == prefix), None))

    def list(self) -> list[ApiKey]:
        return self._many(sorted(self._rows.values(), key=lambda k: (k.created_at, k.id)))


class MemoryServiceClientRepository(_MemoryStore[ServiceClient]):
    table = ServiceClient

    def list(self) -> list[ServiceClient]:
        return self._many(sorted(self._rows.values(), key=lambda c: (c.created_at, c.id)))


class MemoryRevocationStore:
    """Revocations for one process (memory storage, tests): not shared between workers."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, datetime] = {}

    def revoke(self, identifier: str, expires_at: datetime) -> None:
        now = self._clock.now()
        with self._lock:
            for stale in [key for key, until in self._until.items() if until <= now]:
                del self._until[stale]
            if expires_at > now:
                self._until[identifier] = max(expires_at, self._until.get(identifier, expires_at))

    def any_revoked(self, identifiers: Collection[str]) -> bool:
        now = self._clock.now()
        with self._lock:
            return any(self._until.get(key, now) > now for key in identifiers)
