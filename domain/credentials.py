"""Stored credentials: refresh tokens, API keys and service clients.

Each keeps only a digest of its secret (the caller is shown the secret once, when it is made),
and each ``__repr__`` leaves the digest out, so neither reaches a log line or a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.access import Scope
from domain.errors import ApiKeyExpired, ApiKeyRevoked, InvalidValue
from domain.values import clean_text, require_utc

MAX_NAME = 100


def _scopes(scopes: Iterable[Scope]) -> tuple[Scope, ...]:
    chosen = tuple(sorted(set(scopes)))
    if not chosen:
        raise InvalidValue("scopes", "at least one scope is needed")
    return chosen


@dataclass(slots=True, kw_only=True)
class RefreshToken:
    """One refresh token of a sign-in. Exchanging it uses it up and issues the next one of the
    same ``family_id``; a used one that comes back is a stolen one (or a stolen copy of the
    next), and the whole family is revoked."""

    id: str
    family_id: str
    member_id: str
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    version: int = 1

    def __repr__(self) -> str:
        return f"RefreshToken(id={self.id!r}, family_id={self.family_id!r})"

    @classmethod
    def issue(
        cls,
        *,
        id: str,
        family_id: str,
        member_id: str,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> RefreshToken:
        require_utc("now", now)
        return cls(
            id=id,
            family_id=family_id,
            member_id=member_id,
            token_hash=token_hash,
            issued_at=now,
            expires_at=require_utc("expires_at", expires_at),
        )

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def use(self, now: datetime) -> None:
        self.used_at = now

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now


@dataclass(slots=True, kw_only=True)
class ApiKey:
    """An integration's key, ``circ_<prefix>_<secret>``; ``prefix`` stays visible in lists."""

    id: str
    name: str
    prefix: str
    key_hash: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    version: int = 1

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, name={self.name!r}, prefix={self.prefix!r})"

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: Iterable[Scope],
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ApiKey:
        require_utc("now", now)
        if expires_at is not None and require_utc("expires_at", expires_at) <= now:
            raise InvalidValue("expires_at", "an API key must expire in the future")
        return cls(
            id=id,
            name=clean_text("name", name, max_length=MAX_NAME),
            prefix=prefix,
            key_hash=key_hash,
            scopes=_scopes(scopes),
            created_at=now,
            expires_at=expires_at,
        )

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)

    def ensure_usable(self, now: datetime) -> None:
        if self.revoked_at is not None:
            raise ApiKeyRevoked(f"API key {self.prefix} was revoked", prefix=self.prefix)
        if self.is_expired(now):
            raise ApiKeyExpired(f"API key {self.prefix} has expired", prefix=self.prefix)

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now


@dataclass(slots=True, kw_only=True)
class ServiceClient:
    """An OAuth 2.0 confidential client (client credentials grant); ``id`` is its client id."""

    id: str
    name: str
    secret_hash: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 1

    def __repr__(self) -> str:
        return f"ServiceClient(id={self.id!r}, name={self.name!r})"

    @classmethod
    def create(
        cls,
        *,
        id: str,
        name: str,
        secret_hash: str,
        scopes: Iterable[Scope],
        now: datetime,
    ) -> ServiceClient:
        return cls(
            id=id,
            name=clean_text("name", name, max_length=MAX_NAME),
            secret_hash=secret_hash,
            scopes=_scopes(scopes),
            created_at=require_utc("now", now),
        )

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
