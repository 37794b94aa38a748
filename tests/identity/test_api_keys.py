"""API keys: shown once, stored as a digest with a visible prefix, scoped, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.identity import opaque
from application.identity.api_keys import split_key
from domain.access import PrincipalKind, Scope
from domain.errors import (
    ApiKeyExpired,
    ApiKeyNotFound,
    ApiKeyRevoked,
    ErrorKind,
    InvalidCredentials,
    InvalidValue,
)
from tests.identity.conftest import Identity

SCOPES = [Scope.BOOKS_READ, Scope.BOOKS_WRITE]


def test_a_new_key_is_shown_once_and_stored_as_a_digest(identity: Identity) -> None:
    created = identity.api_keys.create("catalogue sync", SCOPES)

    key = created.key
    mark, prefix, secret = created.plaintext.split("_", 2)
    assert (mark, prefix) == ("circ", key.prefix)
    assert len(prefix) == 12
    assert len(secret) >= 43
    assert key.key_hash == opaque.digest(created.plaintext)
    assert created.plaintext not in repr(created)
    assert key.key_hash not in repr(key)
    [stored] = identity.api_keys.list()
    assert stored.key_hash != created.plaintext
    assert stored.scopes == (Scope.BOOKS_READ, Scope.BOOKS_WRITE)
    assert stored.expires_at is None
    assert stored.revoked_at is None


def test_a_key_authenticates_as_its_scopes(identity: Identity) -> None:
    created = identity.api_keys.create("catalogue sync", SCOPES)

    principal = identity.api_keys.authenticate(created.plaintext)

    assert principal.kind is PrincipalKind.API_KEY
    assert principal.id == created.key.id
    assert principal.scopes == frozenset(SCOPES)
    assert principal.role is None
    assert principal.member_id is None
    assert principal.token_id is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda key: key.replace("circ_", "circ_0"),
        lambda key: "circ_" + "0" * 12 + "_" + key.split("_", 2)[2],  # unknown prefix
        lambda key: key.split("_", 2)[2],  # the secret alone
        lambda key: "",
        lambda key: "circ__",
    ],
)
def test_a_wrong_key_is_invalid_credentials(identity: Identity, mangle: object) -> None:
    created = identity.api_keys.create("sync", SCOPES)
    with pytest.raises(InvalidCredentials) as raised:
        identity.api_keys.authenticate(mangle(created.plaintext))  # type: ignore[operator]
    assert raised.value.kind is ErrorKind.UNAUTHENTICATED


def test_a_key_stops_working_when_it_expires(identity: Identity) -> None:
    created = identity.api_keys.create(
        "nightly", SCOPES, expires_at=identity.clock.now() + timedelta(days=7)
    )
    identity.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert identity.api_keys.authenticate(created.plaintext).id == created.key.id

    identity.clock.advance(timedelta(seconds=1))
    with pytest.raises(ApiKeyExpired) as raised:
        identity.api_keys.authenticate(created.plaintext)
    assert raised.value.code == "API_KEY_EXPIRED"
    assert raised.value.kind is ErrorKind.UNAUTHENTICATED


def test_a_revoked_key_stops_working_at_once(identity: Identity) -> None:
    created = identity.api_keys.create("sync", SCOPES)
    other = identity.api_keys.create("other", SCOPES)

    revoked = identity.api_keys.revoke(created.key.id)

    assert revoked.revoked_at == identity.clock.now()
    with pytest.raises(ApiKeyRevoked) as raised:
        identity.api_keys.authenticate(created.plaintext)
    assert raised.value.code == "API_KEY_REVOKED"
    assert identity.api_keys.authenticate(other.plaintext).id == other.key.id
    # Revoking again keeps the first revocation time.
    identity.clock.advance(timedelta(hours=1))
    assert identity.api_keys.revoke(created.key.id).revoked_at == revoked.revoked_at


def test_revoking_an_unknown_key_is_not_found(identity: Identity) -> None:
    with pytest.raises(ApiKeyNotFound) as raised:
        identity.api_keys.revoke("no-such-key")
    assert raised.value.kind is ErrorKind.NOT_FOUND


def test_keys_are_listed_oldest_first(identity: Identity) -> None:
    first = identity.api_keys.create("first", SCOPES)
    identity.clock.advance(timedelta(minutes=1))
    second = identity.api_keys.create("second", [Scope.ADMIN])
    assert [key.id for key in identity.api_keys.list()] == [first.key.id, second.key.id]
    assert identity.api_keys.get(second.key.id).scopes == (Scope.ADMIN,)


@pytest.mark.parametrize(
    ("name", "scopes", "expires_in", "field"),
    [
        ("", SCOPES, None, "name"),
        ("x" * 101, SCOPES, None, "name"),
        ("sync", [], None, "scopes"),
        ("sync", SCOPES, timedelta(0), "expires_at"),
    ],
)
def test_a_key_needs_a_name_scopes_and_a_future_expiry(
    identity: Identity,
    name: str,
    scopes: list[Scope],
    expires_in: timedelta | None,
    field: str,
) -> None:
    expires_at = None if expires_in is None else identity.clock.now() + expires_in
    with pytest.raises(InvalidValue) as raised:
        identity.api_keys.create(name, scopes, expires_at=expires_at)
    assert raised.value.field == field
    assert identity.api_keys.list() == []


def test_split_key_finds_the_prefix_of_well_formed_keys_only() -> None:
    assert split_key("circ_0123456789ab_secret_with_underscores") == "0123456789ab"
    assert split_key("circ_0123456789ab_") is None
    assert split_key("circ_short_secret") is None
    assert split_key("Bearer abc") is None
