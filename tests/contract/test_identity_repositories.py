"""The credential repositories behave alike on every adapter: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.access import Scope
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.errors import ConcurrentUpdate
from domain.members import Member
from tests.contract.builders import DAY, T0, member, new_id, store_in_identity
from tests.contract.conftest import IdentityUowFactory


def refresh_token(
    owner: Member,
    *,
    family_id: str | None = None,
    token_hash: str | None = None,
    issued: int = 0,
    lifetime: int = 30,
) -> RefreshToken:
    return RefreshToken.issue(
        id=new_id(),
        family_id=family_id or new_id(),
        member_id=owner.id,
        token_hash=token_hash or new_id().replace("-", "").ljust(64, "0"),
        now=T0 + issued * DAY,
        expires_at=T0 + (issued + lifetime) * DAY,
    )


def api_key(prefix: str, *, name: str = "sync", days: int | None = None) -> ApiKey:
    return ApiKey.create(
        id=new_id(),
        name=name,
        prefix=prefix,
        key_hash="d" * 64,
        scopes=[Scope.BOOKS_WRITE, Scope.BOOKS_READ],
        now=T0,
        expires_at=None if days is None else T0 + days * DAY,
    )


def client(name: str = "reports") -> ServiceClient:
    return ServiceClient.create(
        id=new_id(), name=name, secret_hash="e" * 64, scopes=[Scope.LOANS_READ], now=T0
    )


# --- refresh tokens ------------------------------------------------------------------------


def test_refresh_tokens_round_trip_and_are_found_by_digest(
    new_identity_uow: IdentityUowFactory,
) -> None:
    owner = member()
    token = refresh_token(owner)
    store_in_identity(new_identity_uow, owner, token)

    with new_identity_uow() as uow:
        by_hash = uow.refresh_tokens.get_by_hash(token.token_hash)
        assert by_hash == token
        assert by_hash is uow.refresh_tokens.get(token.id)
        assert uow.refresh_tokens.get_by_hash("f" * 64) is None


def test_using_a_refresh_token_is_saved_and_version_checked(
    new_identity_uow: IdentityUowFactory,
) -> None:
    owner = member()
    token = refresh_token(owner)
    store_in_identity(new_identity_uow, owner, token)

    with new_identity_uow() as uow:
        stale = uow.refresh_tokens.get(token.id)
        assert stale is not None
        stale.use(T0 + DAY)
        stale.version = 2
        # Single use rests on this: a second exchange based on the same read loses.
        with pytest.raises(ConcurrentUpdate):
            uow.refresh_tokens.write_changes(stale, expected_version=5)  # type: ignore[attr-defined]

    with new_identity_uow() as uow:
        loaded = uow.refresh_tokens.get(token.id)
        assert loaded is not None
        assert loaded.used_at is None
        loaded.use(T0 + DAY)
        uow.commit()

    with new_identity_uow() as uow:
        saved = uow.refresh_tokens.get(token.id)
        assert saved is not None
        assert saved.used_at == T0 + DAY
        assert saved.version == 2


def test_a_family_lists_only_its_unused_unrevoked_tokens(
    new_identity_uow: IdentityUowFactory,
) -> None:
    owner = member()
    family = new_id()
    used = refresh_token(owner, family_id=family)
    used.use(T0)
    revoked = refresh_token(owner, family_id=family)
    revoked.revoke(T0)
    live = refresh_token(owner, family_id=family)
    elsewhere = refresh_token(owner)
    store_in_identity(new_identity_uow, owner, used, revoked, live, elsewhere)

    with new_identity_uow() as uow:
        assert uow.refresh_tokens.active_in_family(family) == [live]
        assert [t.id for t in uow.refresh_tokens.for_member(owner.id)] == sorted(
            t.id for t in (used, revoked, live, elsewhere)
        )
        assert uow.refresh_tokens.for_member(member().id) == []


def test_expired_refresh_tokens_come_oldest_first_up_to_a_limit(
    new_identity_uow: IdentityUowFactory,
) -> None:
    owner = member()
    oldest = refresh_token(owner, lifetime=1)
    older = refresh_token(owner, lifetime=2)
    current = refresh_token(owner, lifetime=10)
    store_in_identity(new_identity_uow, owner, current, older, oldest)

    with new_identity_uow() as uow:
        assert uow.refresh_tokens.expired(T0 + 5 * DAY, 10) == [oldest, older]
        assert uow.refresh_tokens.expired(T0 + 5 * DAY, 1) == [oldest]
        assert uow.refresh_tokens.expired(T0 + 2 * DAY, 10) == [oldest]  # strictly before
        for token in uow.refresh_tokens.expired(T0 + 5 * DAY, 10):
            uow.refresh_tokens.remove(token)
        uow.commit()

    with new_identity_uow() as uow:
        assert uow.refresh_tokens.for_member(owner.id) == [current]


def test_two_refresh_tokens_never_share_a_digest(new_identity_uow: IdentityUowFactory) -> None:
    owner = member()
    first = refresh_token(owner, token_hash="a" * 64)
    store_in_identity(new_identity_uow, owner, first)

    with pytest.raises(ConcurrentUpdate):
        store_in_identity(new_identity_uow, refresh_token(owner, token_hash="a" * 64))


# --- API keys ------------------------------------------------------------------------------


def test_api_keys_round_trip_and_are_found_by_prefix(new_identity_uow: IdentityUowFactory) -> None:
    expiring = api_key("0123456789ab", days=7)
    forever = replace(api_key("ba9876543210", name="forever"), created_at=T0 + DAY)
    store_in_identity(new_identity_uow, forever, expiring)

    with new_identity_uow() as uow:
        assert uow.api_keys.get_by_prefix("0123456789ab") == expiring
        assert uow.api_keys.get_by_prefix("000000000000") is None
        assert uow.api_keys.list() == [expiring, forever]
        loaded = uow.api_keys.get(expiring.id)
        assert loaded is not None
        assert loaded.scopes == (Scope.BOOKS_READ, Scope.BOOKS_WRITE)
        loaded.revoke(T0 + DAY)
        uow.commit()

    with new_identity_uow() as uow:
        revoked = uow.api_keys.get(expiring.id)
        assert revoked is not None
        assert revoked.revoked_at == T0 + DAY
        assert revoked.expires_at == T0 + 7 * DAY
        assert revoked.version == 2


def test_two_api_keys_never_share_a_prefix(new_identity_uow: IdentityUowFactory) -> None:
    store_in_identity(new_identity_uow, api_key("0123456789ab"))

    with pytest.raises(ConcurrentUpdate):
        store_in_identity(new_identity_uow, api_key("0123456789ab", name="other"))

    with new_identity_uow() as uow:
        assert [key.name for key in uow.api_keys.list()] == ["sync"]


# --- service clients -----------------------------------------------------------------------


def test_service_clients_round_trip_and_are_listed_oldest_first(
    new_identity_uow: IdentityUowFactory,
) -> None:
    first = client("reports")
    second = replace(client("sync"), created_at=T0 + DAY)
    store_in_identity(new_identity_uow, second, first)

    with new_identity_uow() as uow:
        assert uow.service_clients.list() == [first, second]
        loaded = uow.service_clients.get(first.id)
        assert loaded is not None
        loaded.revoke(T0 + DAY)
        uow.commit()

    with new_identity_uow() as uow:
        revoked = uow.service_clients.get(first.id)
        assert revoked is not None
        assert not revoked.is_active
        assert uow.service_clients.get("no-such-client") is None
