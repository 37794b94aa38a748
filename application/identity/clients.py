"""Service clients: OAuth 2.0 client credentials (RFC 6749 section 4.4).

An admin registers a client with the scopes it may ask for and hands over its secret, shown
once. The client trades its id and secret for a short access token; there is no refresh token
(section 4.4.3): it simply asks again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from application.common import found
from application.identity import opaque
from application.identity.ports import AccessToken, TokenIssuer
from application.identity.unit_of_work import IdentityUnitOfWorkFactory
from application.ports import Clock, IdGenerator
from application.retry import retry_on_conflict
from domain.access import Scope, format_scopes, parse_scope
from domain.credentials import ServiceClient
from domain.errors import InvalidClient, InvalidScope, ServiceClientNotFound
from domain.events import ServiceClientIssued, ServiceClientRevoked

_UNKNOWN_CLIENT_DIGEST = opaque.digest("")


@dataclass(frozen=True, slots=True)
class CreatedServiceClient:
    client: ServiceClient
    secret: str = field(repr=False)  # shown to the admin once, never stored


def requested_scopes(scope: str | None, granted: frozenset[Scope]) -> frozenset[Scope]:
    """The scopes a token request asks for: all that were granted when it names none
    (section 3.3 lets the server pick a default); ``InvalidScope`` for an unknown one or one
    the client was not granted."""
    names = scope.split(" ") if scope else []
    if not names:
        return granted
    wanted: set[Scope] = set()
    for name in names:
        parsed = parse_scope(name)
        if parsed is None or parsed not in granted:
            raise InvalidScope(f"scope {name!r} is unknown or not granted to this client")
        wanted.add(parsed)
    return frozenset(wanted)


class ServiceClients:
    def __init__(
        self, *, uow: IdentityUnitOfWorkFactory, clock: Clock, ids: IdGenerator, issuer: TokenIssuer
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._issuer = issuer

    def create(self, name: str, scopes: Iterable[Scope]) -> CreatedServiceClient:
        secret = opaque.new_secret()
        client = ServiceClient.create(
            id=self._ids.new_id(),
            name=name,
            secret_hash=opaque.digest(secret),
            scopes=scopes,
            now=self._clock.now(),
        )
        with self._uow() as uow:
            uow.service_clients.add(client)
            uow.emit(
                ServiceClientIssued(client.created_at, client.id, format_scopes(client.scopes))
            )
            uow.commit()
        return CreatedServiceClient(client, secret)

    def list(self) -> list[ServiceClient]:
        with self._uow().reading() as uow:
            return uow.service_clients.list()

    def get(self, client_id: str) -> ServiceClient:
        with self._uow().reading() as uow:
            return found(uow.service_clients.get(client_id), ServiceClientNotFound, client_id)

    @retry_on_conflict
    def revoke(self, client_id: str) -> ServiceClient:
        """Refuse the client's future token requests; tokens it holds live out their (short)
        lifetime."""
        with self._uow() as uow:
            client = found(uow.service_clients.get(client_id), ServiceClientNotFound, client_id)
            if client.is_active:
                now = self._clock.now()
                client.revoke(now)
                uow.emit(ServiceClientRevoked(now, client.id))
            uow.commit()
            return client

    def issue_token(self, client_id: str, secret: str, scope: str | None = None) -> AccessToken:
        """An access token for the client; ``InvalidClient`` for an unknown or revoked client or
        a wrong secret (all alike), ``InvalidScope`` for scopes it may not have."""
        with self._uow().reading() as uow:
            client = uow.service_clients.get(client_id)
        # The digest is compared even for an unknown client, so both take the same time.
        stored = client.secret_hash if client is not None else _UNKNOWN_CLIENT_DIGEST
        if not opaque.matches(secret, stored) or client is None or not client.is_active:
            raise InvalidClient("client authentication failed")
        scopes = requested_scopes(scope, frozenset(client.scopes))
        return self._issuer.issue(subject=client.id, scopes=scopes, client_id=client.id)
