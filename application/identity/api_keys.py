"""API keys for integrations: made and revoked by an admin, shown once, stored as a digest.

A key reads ``circ_<prefix>_<secret>``. The prefix is stored in the clear: it finds the record
and lets people tell keys apart in lists and logs without ever seeing the secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from application.common import found
from application.identity import opaque
from application.identity.unit_of_work import IdentityUnitOfWorkFactory
from application.ports import Clock, IdGenerator
from application.retry import retry_on_conflict
from domain.access import Principal, PrincipalKind, Scope, format_scopes
from domain.credentials import ApiKey
from domain.errors import ApiKeyNotFound, InvalidCredentials
from domain.events import ApiKeyIssued, ApiKeyRevoked

KEY_MARK = "circ"
PREFIX_BYTES = 6  # 12 hex digits: enough that two keys practically never share one


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    plaintext: str = field(repr=False)  # shown to the admin once, never stored


def split_key(plaintext: str) -> str | None:
    """The visible prefix of a well-formed key, or ``None``."""
    mark, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or len(prefix) != 2 * PREFIX_BYTES or not secret:
        return None
    return prefix


@dataclass(frozen=True, slots=True)
class VerifiedApiKey:
    principal: Principal
    expires_at: datetime | None  # None: it never expires (it may still be revoked)


class ApiKeys:
    def __init__(self, *, uow: IdentityUnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    # A prefix already taken (one chance in 2**48 per pair of keys) fails the insert with
    # ConcurrentUpdate; the retry draws another.
    @retry_on_conflict
    def create(
        self, name: str, scopes: Iterable[Scope], expires_at: datetime | None = None
    ) -> CreatedApiKey:
        prefix = secrets.token_hex(PREFIX_BYTES)
        plaintext = f"{KEY_MARK}_{prefix}_{opaque.new_secret()}"
        key = ApiKey.create(
            id=self._ids.new_id(),
            name=name,
            prefix=prefix,
            key_hash=opaque.digest(plaintext),
            scopes=scopes,
            now=self._clock.now(),
            expires_at=expires_at,
        )
        with self._uow() as uow:
            uow.api_keys.add(key)
            uow.emit(ApiKeyIssued(key.created_at, key.id, format_scopes(key.scopes)))
            uow.commit()
        return CreatedApiKey(key, plaintext)

    def list(self) -> list[ApiKey]:
        with self._uow().reading() as uow:
            return uow.api_keys.list()

    def get(self, key_id: str) -> ApiKey:
        with self._uow().reading() as uow:
            return found(uow.api_keys.get(key_id), ApiKeyNotFound, key_id)

    @retry_on_conflict
    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key for good; revoking it again changes nothing."""
        with self._uow() as uow:
            key = found(uow.api_keys.get(key_id), ApiKeyNotFound, key_id)
            if key.revoked_at is None:
                now = self._clock.now()
                key.revoke(now)
                uow.emit(ApiKeyRevoked(now, key.id))
            uow.commit()
            return key

    def authenticate(self, plaintext: str) -> Principal:
        """The caller a key stands for; ``InvalidCredentials`` for a wrong or unknown key,
        ``ApiKeyRevoked`` or ``ApiKeyExpired`` for a right one that no longer works."""
        return self.verify(plaintext).principal

    def verify(self, plaintext: str) -> VerifiedApiKey:
        """As ``authenticate``, with the instant the key expires (for a cache of checked keys,
        which must stop answering for it then)."""
        prefix = split_key(plaintext)
        with self._uow().reading() as uow:
            key = uow.api_keys.get_by_prefix(prefix) if prefix is not None else None
        if key is None or not opaque.matches(plaintext, key.key_hash):
            raise InvalidCredentials("unknown API key")
        key.ensure_usable(self._clock.now())
        principal = Principal(kind=PrincipalKind.API_KEY, id=key.id, scopes=frozenset(key.scopes))
        return VerifiedApiKey(principal, key.expires_at)
