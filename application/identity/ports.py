"""Ports of identity and access: tokens, keys, revocations and the credential repositories.

The repositories make up the slice's own ``IdentityUnitOfWork`` (refresh-token rotation has to
be one transaction with the optimistic version check). The revocation store stands apart: it is
shared by every worker, may live in Redis rather than the database, and is written outside any
transaction of the use cases.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.identity.keyset import KeySet, SigningKey
from domain.access import Scope
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.members import Role

# --- access tokens -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessToken:
    token: str = field(repr=False)
    token_id: str  # the ``jti``
    scopes: frozenset[Scope]
    expires_at: datetime
    expires_in: int  # seconds, as OAuth 2.0 reports it


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTokenClaims:
    """What a verified access token says."""

    subject: str
    scopes: frozenset[Scope]
    token_id: str
    issued_at: datetime
    expires_at: datetime
    role: Role | None = None  # tokens of members
    client_id: str | None = None  # tokens of service clients
    session_id: str | None = None  # the refresh token family a member's token belongs to


class TokenIssuer(Protocol):
    @property
    def lifetime(self) -> timedelta:
        """How long an access token lives."""
        ...

    @property
    def max_token_age(self) -> timedelta:
        """The longest an access token can be accepted after it was issued: its lifetime plus
        the clock leeway of verification. A retired signing key, or a revoked session, must be
        remembered this long."""
        ...

    def issue(
        self,
        *,
        subject: str,
        scopes: frozenset[Scope],
        role: Role | None = None,
        client_id: str | None = None,
        session_id: str | None = None,
    ) -> AccessToken: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> AccessTokenClaims:
        """The claims of a valid token; ``TokenExpired`` or ``TokenInvalid`` otherwise."""
        ...


class KeyPublisher(Protocol):
    def jwks(self) -> dict[str, Any]:
        """The public keys that verify tokens, as a JSON Web Key Set (RFC 7517)."""
        ...


# --- signing keys --------------------------------------------------------------------------


class KeyStore(Protocol):
    def load(self) -> KeySet:
        """The key set in force (re-read when another process changed it)."""
        ...

    def update(self, change: Callable[[KeySet | None], KeySet]) -> KeySet:
        """Replace the stored set (``None`` when there is none yet) by ``change`` of it,
        atomically with respect to other processes, and return the new one."""
        ...


class KeyGenerator(Protocol):
    def generate(self, now: datetime) -> SigningKey: ...


# --- revocations ---------------------------------------------------------------------------


class RevocationStore(Protocol):
    """Identifiers refused until an instant: access tokens (``jti``) and sessions.

    Shared by every worker. Entries are forgotten once they expire, because by then the tokens
    they name are refused as expired anyway.
    """

    def revoke(self, identifier: str, expires_at: datetime) -> None: ...

    def any_revoked(self, identifiers: Collection[str]) -> bool: ...


class SessionRevoker(Protocol):
    """Ends sessions at once: every access token they were given is refused from now on."""

    def revoke_sessions(self, family_ids: set[str]) -> None: ...


class SessionEnder(Protocol):
    """Ends every session of one member: the identity slice's part of a role change or a
    removal, asked for by the library's ``Membership`` once its own change has committed."""

    def end_member_sessions(self, member_id: str, reason: str, *, forget: bool = False) -> int:
        """Revoke the member's refresh tokens (delete them with ``forget``) and refuse their
        sessions' access tokens from now on; the number of sessions ended. Ending them again
        changes nothing."""
        ...


# --- repositories (members of the identity unit of work) ----------------------------------


class RefreshTokenRepository(Protocol):
    def get(self, token_id: str) -> RefreshToken | None: ...

    def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...

    def active_in_family(self, family_id: str) -> list[RefreshToken]:
        """The family's tokens that are neither used nor revoked (normally one)."""
        ...

    def for_member(self, member_id: str) -> list[RefreshToken]: ...

    def expired(self, now: datetime, limit: int) -> list[RefreshToken]:
        """Up to ``limit`` tokens that expired before ``now``, oldest expiry first."""
        ...

    def add(self, token: RefreshToken) -> None: ...

    def remove(self, token: RefreshToken) -> None: ...


class ApiKeyRepository(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...

    def get_by_prefix(self, prefix: str) -> ApiKey | None: ...

    def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ...

    def add(self, key: ApiKey) -> None: ...

    def remove(self, key: ApiKey) -> None: ...


class ServiceClientRepository(Protocol):
    def get(self, client_id: str) -> ServiceClient | None: ...

    def list(self) -> list[ServiceClient]:
        """Every client, oldest first."""
        ...

    def add(self, client: ServiceClient) -> None: ...

    def remove(self, client: ServiceClient) -> None: ...
