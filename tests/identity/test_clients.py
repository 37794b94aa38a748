"""Service clients: the client-credentials grant and its RFC 6749 errors."""

from __future__ import annotations

import pytest

from application.identity import opaque
from domain.access import Scope
from domain.errors import ErrorKind, InvalidClient, InvalidScope, ServiceClientNotFound
from tests.identity.conftest import LIFETIME, Identity

GRANTED = [Scope.LOANS_READ, Scope.MEMBERS_READ]


def test_a_client_gets_a_token_with_every_granted_scope_by_default(identity: Identity) -> None:
    created = identity.clients.create("reports", GRANTED)
    assert created.client.secret_hash == opaque.digest(created.secret)
    assert created.secret not in repr(created)

    token = identity.clients.issue_token(created.client.id, created.secret)

    assert token.scopes == frozenset(GRANTED)
    assert token.expires_in == int(LIFETIME.total_seconds())
    claims = identity.tokens.verify(token.token)
    assert claims.subject == claims.client_id == created.client.id
    assert claims.role is None
    assert claims.session_id is None


@pytest.mark.parametrize("scope", [None, ""])
def test_no_scope_asked_means_all_granted(identity: Identity, scope: str | None) -> None:
    created = identity.clients.create("reports", GRANTED)
    token = identity.clients.issue_token(created.client.id, created.secret, scope)
    assert token.scopes == frozenset(GRANTED)


def test_a_client_may_ask_for_fewer_scopes(identity: Identity) -> None:
    created = identity.clients.create("reports", GRANTED)
    token = identity.clients.issue_token(created.client.id, created.secret, "loans:read")
    assert token.scopes == frozenset({Scope.LOANS_READ})


@pytest.mark.parametrize(
    "scope", ["admin", "loans:read admin", "everything", "loans:read  members:read", "LOANS:READ"]
)
def test_scopes_not_granted_or_unknown_are_invalid_scope(identity: Identity, scope: str) -> None:
    created = identity.clients.create("reports", GRANTED)
    with pytest.raises(InvalidScope) as raised:
        identity.clients.issue_token(created.client.id, created.secret, scope)
    assert raised.value.code == "INVALID_SCOPE"


def test_a_wrong_secret_an_unknown_or_a_revoked_client_is_invalid_client(
    identity: Identity,
) -> None:
    created = identity.clients.create("reports", GRANTED)
    attempts = [
        (created.client.id, created.secret + "x"),
        (created.client.id, ""),
        ("no-such-client", created.secret),
        ("", ""),
    ]
    for client_id, secret in attempts:
        with pytest.raises(InvalidClient) as raised:
            identity.clients.issue_token(client_id, secret)
        assert raised.value.kind is ErrorKind.UNAUTHENTICATED

    identity.clients.revoke(created.client.id)
    with pytest.raises(InvalidClient):
        identity.clients.issue_token(created.client.id, created.secret)


def test_clients_are_listed_and_revoked(identity: Identity) -> None:
    first = identity.clients.create("reports", GRANTED)
    second = identity.clients.create("sync", [Scope.BOOKS_WRITE])

    revoked = identity.clients.revoke(first.client.id)

    assert not revoked.is_active
    assert [(c.id, c.is_active) for c in identity.clients.list()] == [
        (first.client.id, False),
        (second.client.id, True),
    ]
    assert identity.clients.get(second.client.id).scopes == (Scope.BOOKS_WRITE,)
    with pytest.raises(ServiceClientNotFound):
        identity.clients.revoke("no-such-client")
