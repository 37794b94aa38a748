"""Signing in, refreshing (single use, rotation, reuse detection), signing out, bearer checks."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import Parameters, Type

from adapters.ids import UuidV7Generator
from adapters.security import Argon2PasswordHasher
from application.identity import opaque
from application.identity.sessions import TokenPair, session_key
from application.members import Membership
from domain.access import PrincipalKind, Scope, scopes_for
from domain.errors import (
    ConcurrentUpdate,
    DomainError,
    ErrorKind,
    InvalidCredentials,
    RefreshTokenReused,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from domain.members import Member, Role
from domain.policy import Policy
from tests.identity.conftest import (
    CHEAP,
    LIFETIME,
    PASSWORD,
    REFRESH_LIFETIME,
    Identity,
    build_identity,
)


def register(identity: Identity, email: str = "ada@example.org", **extra: object) -> Member:
    return identity.membership.register(
        email=email,
        name="Ada Lovelace",
        password=PASSWORD,
        **extra,  # type: ignore[arg-type]
    )


def login(identity: Identity, email: str = "ada@example.org") -> TokenPair:
    return identity.sessions.login(email, PASSWORD)


# --- signing in ----------------------------------------------------------------------------


def test_login_returns_a_token_pair_with_the_role_scopes(identity: Identity) -> None:
    member = register(identity, role=Role.LIBRARIAN)

    pair = identity.sessions.login("ADA@example.org ", PASSWORD)

    assert pair.expires_in == int(LIFETIME.total_seconds())
    assert pair.scopes == scopes_for(Role.LIBRARIAN)
    assert pair.refresh_token != pair.access_token
    principal = identity.sessions.authenticate_bearer(pair.access_token)
    assert principal.kind is PrincipalKind.MEMBER
    assert principal.member_id == member.id
    assert principal.role is Role.LIBRARIAN
    assert principal.has_scope(Scope.BOOKS_WRITE)
    assert principal.session_id is not None
    assert principal.token_expires_at == identity.clock.now() + LIFETIME
    # Neither secret shows in a repr, and only a digest of the refresh token is stored.
    assert pair.access_token not in repr(pair)
    assert pair.refresh_token not in repr(pair)
    with identity.uow() as uow:
        [stored] = uow.refresh_tokens.for_member(member.id)
    assert stored.token_hash == opaque.digest(pair.refresh_token)
    assert pair.refresh_token not in repr(stored)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.org", "a wrong but long passphrase"),
        ("nobody@example.org", PASSWORD),
        ("not an email", PASSWORD),
        ("ada@example.org", ""),
        ("ada@example.org", "x" * 10_000),
    ],
)
def test_every_failed_login_is_the_same_invalid_credentials(
    identity: Identity, email: str, password: str
) -> None:
    register(identity)

    with pytest.raises(InvalidCredentials) as raised:
        identity.sessions.login(email, password)

    assert raised.value.code == "INVALID_CREDENTIALS"
    assert raised.value.kind is ErrorKind.UNAUTHENTICATED
    assert raised.value.message == "the email or the password is wrong"
    assert raised.value.details == {}


def test_an_unknown_email_still_costs_a_password_verification(identity: Identity) -> None:
    member = register(identity)
    identity.hasher.verified.clear()

    with pytest.raises(InvalidCredentials):
        identity.sessions.login("nobody@example.org", PASSWORD)
    with pytest.raises(InvalidCredentials):
        identity.sessions.login("nobody-else@example.org", PASSWORD)

    # One verification each, against a dummy hash made by the same hasher (so it costs the
    # same), never against a member's hash.
    assert len(identity.hasher.verified) == 2
    dummy = identity.hasher.verified[0]
    assert dummy == identity.hasher.verified[1]
    assert dummy != member.password_hash
    assert dummy.startswith("$argon2id$")


def test_a_member_without_a_password_cannot_sign_in(identity: Identity) -> None:
    identity.membership.register(email="nopass@example.org", name="No Pass")
    identity.hasher.verified.clear()

    with pytest.raises(InvalidCredentials):
        identity.sessions.login("nopass@example.org", "")
    assert len(identity.hasher.verified) == 1  # the dummy


def test_login_rehashes_a_password_hashed_with_older_parameters(tmp_path: Path) -> None:
    old = Argon2PasswordHasher(CHEAP)
    stronger = Parameters(
        type=Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=16,
        parallelism=1,
    )
    before = build_identity(tmp_path, hasher=old)
    member = register(before)
    original = member.password_hash
    assert original is not None

    # Same store and keys; the hasher's parameters have been raised since.
    after = build_identity(tmp_path, hasher=Argon2PasswordHasher(stronger), db=before.db)
    pair = after.sessions.login("ada@example.org", PASSWORD)

    upgraded = before.membership.get(member.id).password_hash
    assert upgraded is not None
    assert upgraded != original
    assert "m=16,t=2,p=1" in upgraded
    assert not Argon2PasswordHasher(stronger).needs_rehash(upgraded)
    assert after.hasher.hashed == 1
    assert pair.access_token

    # The next login finds nothing to upgrade.
    after.sessions.login("ada@example.org", PASSWORD)
    assert after.hasher.hashed == 1
    assert before.membership.get(member.id).password_hash == upgraded


def test_suspended_members_may_still_sign_in(identity: Identity) -> None:
    member = register(identity)
    identity.membership.suspend(member.id)
    assert login(identity).access_token


# --- refreshing ----------------------------------------------------------------------------


def test_refresh_rotates_the_pair_and_uses_the_old_refresh_token_up(identity: Identity) -> None:
    register(identity)
    first = login(identity)
    identity.clock.advance(timedelta(minutes=20))

    second = identity.sessions.refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    same_session = identity.sessions.authenticate_bearer(second.access_token).session_id
    assert same_session is not None
    with identity.uow() as uow:
        old = uow.refresh_tokens.get_by_hash(opaque.digest(first.refresh_token))
        new = uow.refresh_tokens.get_by_hash(opaque.digest(second.refresh_token))
    assert old is not None
    assert old.used_at == identity.clock.now()
    assert new is not None
    assert new.family_id == old.family_id == same_session
    assert new.expires_at == identity.clock.now() + REFRESH_LIFETIME


def test_reusing_a_refresh_token_revokes_the_whole_family(identity: Identity) -> None:
    register(identity)
    first = login(identity)
    second = identity.sessions.refresh(first.refresh_token)  # the thief, say

    with pytest.raises(RefreshTokenReused) as raised:
        identity.sessions.refresh(first.refresh_token)  # the victim, or the thief again
    assert raised.value.code == "REFRESH_TOKEN_REUSED"
    assert raised.value.kind is ErrorKind.UNAUTHENTICATED

    # The newest refresh token of the family is dead too...
    with pytest.raises(TokenRevoked):
        identity.sessions.refresh(second.refresh_token)
    # ...and so is every access token of the session, until they would have expired anyway.
    for pair in (first, second):
        with pytest.raises(TokenRevoked):
            identity.sessions.authenticate_bearer(pair.access_token)
    # Asking again is still reuse, not a fresh pair.
    with pytest.raises(RefreshTokenReused):
        identity.sessions.refresh(first.refresh_token)


def test_reuse_leaves_other_sessions_of_the_member_alone(identity: Identity) -> None:
    register(identity)
    phone = login(identity)
    laptop = login(identity)
    identity.sessions.refresh(phone.refresh_token)

    with pytest.raises(RefreshTokenReused):
        identity.sessions.refresh(phone.refresh_token)

    assert identity.sessions.authenticate_bearer(laptop.access_token).member_id
    assert identity.sessions.refresh(laptop.refresh_token).access_token


def test_concurrent_refreshes_with_one_token_cannot_both_succeed(identity: Identity) -> None:
    register(identity)
    pair = login(identity)
    outcomes: list[object] = []
    start = threading.Barrier(4)

    def refresh() -> None:
        start.wait()
        try:
            outcomes.append(identity.sessions.refresh(pair.refresh_token))
        except (RefreshTokenReused, TokenRevoked, ConcurrentUpdate) as error:
            outcomes.append(error)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [outcome for outcome in outcomes if isinstance(outcome, TokenPair)]
    assert len(winners) == 1
    assert all(isinstance(o, RefreshTokenReused) for o in outcomes if o not in winners)


def test_an_expired_refresh_token_is_refused(identity: Identity) -> None:
    register(identity)
    pair = login(identity)
    identity.clock.advance(REFRESH_LIFETIME)

    with pytest.raises(TokenExpired):
        identity.sessions.refresh(pair.refresh_token)


def test_an_unknown_refresh_token_is_refused(identity: Identity) -> None:
    with pytest.raises(TokenInvalid):
        identity.sessions.refresh(opaque.new_secret())


def test_a_role_change_ends_the_members_sessions_at_once(identity: Identity) -> None:
    member = register(identity)
    pair = login(identity)
    identity.membership.change_role(member.id, Role.ADMIN)

    with pytest.raises(TokenRevoked):
        identity.sessions.authenticate_bearer(pair.access_token)
    with pytest.raises(DomainError) as refused:
        identity.sessions.refresh(pair.refresh_token)
    assert refused.value.kind is ErrorKind.UNAUTHENTICATED
    principal = identity.sessions.authenticate_bearer(login(identity).access_token)
    assert principal.role is Role.ADMIN
    assert Scope.ADMIN in principal.scopes


def test_removing_a_member_ends_their_sessions(identity: Identity) -> None:
    member = register(identity)
    pair = login(identity)

    identity.membership.remove(member.id)

    with identity.uow() as uow:
        assert uow.refresh_tokens.for_member(member.id) == []
    with pytest.raises(TokenInvalid):
        identity.sessions.refresh(pair.refresh_token)
    with pytest.raises(TokenRevoked):
        identity.sessions.authenticate_bearer(pair.access_token)


def interrupted(identity: Identity) -> Membership:
    """The identity's ``Membership`` as it behaves when the process dies right after the
    library's commit: the member's change is stored, their sessions are not ended."""
    return Membership(
        identity.library_uow, identity.clock, UuidV7Generator(), Policy(), identity.hasher
    )


def test_a_removal_interrupted_before_its_sessions_end_leaves_no_way_in(identity: Identity) -> None:
    member = register(identity)
    pair = login(identity)
    page = login(identity)

    interrupted(identity).remove(member.id)

    with identity.uow() as uow:  # the tokens are still there...
        assert len(uow.refresh_tokens.for_member(member.id)) == 2
    with pytest.raises(TokenInvalid):  # ...but refresh reads the member, now anonymised
        identity.sessions.refresh(pair.refresh_token)
    with pytest.raises(TokenInvalid):  # and so does each page of the web desk
        identity.sessions.resume(page.refresh_token)
    with pytest.raises(InvalidCredentials):  # anonymising erased the password
        login(identity)


def test_removing_again_completes_an_interrupted_removal(identity: Identity) -> None:
    member = register(identity)
    pair = login(identity)
    interrupted(identity).remove(member.id)
    assert identity.sessions.authenticate_bearer(pair.access_token).member_id == member.id

    identity.membership.remove(member.id)

    with identity.uow() as uow:
        assert uow.refresh_tokens.for_member(member.id) == []
    with pytest.raises(TokenRevoked):
        identity.sessions.authenticate_bearer(pair.access_token)


def test_a_role_change_interrupted_before_its_sessions_end_grants_only_the_new_role(
    identity: Identity,
) -> None:
    member = register(identity, role=Role.ADMIN)
    pair = login(identity)

    interrupted(identity).change_role(member.id, Role.MEMBER)

    refreshed = identity.sessions.refresh(pair.refresh_token)
    assert refreshed.scopes == scopes_for(Role.MEMBER)
    assert identity.sessions.resume(refreshed.refresh_token).role is Role.MEMBER


def test_expired_refresh_tokens_are_purged(identity: Identity) -> None:
    member = register(identity)
    old = login(identity)
    identity.clock.advance(REFRESH_LIFETIME - timedelta(days=1))
    recent = login(identity)
    identity.clock.advance(timedelta(days=2))

    assert identity.sessions.purge_expired(batch=1) == 1

    with identity.uow() as uow:
        left = uow.refresh_tokens.for_member(member.id)
    assert [token.token_hash for token in left] == [opaque.digest(recent.refresh_token)]
    with pytest.raises(TokenInvalid):
        identity.sessions.refresh(old.refresh_token)


# --- signing out ---------------------------------------------------------------------------


def test_logout_revokes_the_access_token_and_the_session(identity: Identity) -> None:
    register(identity)
    pair = login(identity)
    other = login(identity)
    principal = identity.sessions.authenticate_bearer(pair.access_token)

    identity.sessions.logout(principal, pair.refresh_token)

    with pytest.raises(TokenRevoked) as raised:
        identity.sessions.authenticate_bearer(pair.access_token)
    assert raised.value.code == "TOKEN_REVOKED"
    with pytest.raises(TokenRevoked):
        identity.sessions.refresh(pair.refresh_token)
    # Another sign-in of the same member goes on.
    assert identity.sessions.authenticate_bearer(other.access_token).member_id
    # Logging out twice is not an error.
    identity.sessions.logout(principal, pair.refresh_token)


def test_logout_without_the_refresh_token_still_ends_the_session(identity: Identity) -> None:
    register(identity)
    pair = login(identity)

    identity.sessions.logout(identity.sessions.authenticate_bearer(pair.access_token))

    with pytest.raises(TokenRevoked):
        identity.sessions.refresh(pair.refresh_token)


def test_a_revoked_token_stays_refused_until_it_expires(identity: Identity) -> None:
    register(identity)
    pair = login(identity)
    principal = identity.sessions.authenticate_bearer(pair.access_token)
    identity.sessions.logout(principal)

    identity.clock.advance(LIFETIME)
    with pytest.raises(TokenRevoked):
        identity.sessions.authenticate_bearer(pair.access_token)
    identity.clock.advance(timedelta(minutes=1))
    with pytest.raises(TokenExpired):  # by then the store may forget it
        identity.sessions.authenticate_bearer(pair.access_token)
    assert principal.session_id is not None
    assert not identity.revocations.any_revoked([session_key(principal.session_id)])


def test_logout_ignores_a_refresh_token_of_someone_else(identity: Identity) -> None:
    register(identity)
    register(identity, "grace@example.org")
    ada = login(identity)
    grace = login(identity, "grace@example.org")

    identity.sessions.logout(
        identity.sessions.authenticate_bearer(ada.access_token), grace.refresh_token
    )

    assert identity.sessions.refresh(grace.refresh_token).access_token


def test_a_client_token_is_a_service_client_principal(identity: Identity) -> None:
    created = identity.clients.create("reports", [Scope.LOANS_READ])
    token = identity.clients.issue_token(created.client.id, created.secret)

    principal = identity.sessions.authenticate_bearer(token.token)

    assert principal.kind is PrincipalKind.SERVICE_CLIENT
    assert principal.id == created.client.id
    assert principal.member_id is None
    assert principal.acts_for_everyone
    identity.sessions.logout(principal)  # revokes that one token
    with pytest.raises(TokenRevoked):
        identity.sessions.authenticate_bearer(token.token)


def test_a_token_with_neither_role_nor_client_is_refused(identity: Identity) -> None:
    token = identity.sign(identity.claims(role=None))
    with pytest.raises(TokenInvalid):
        identity.sessions.authenticate_bearer(token)


# --- resuming a browser's session ------------------------------------------------------------


def test_resume_names_the_member_of_a_live_session(identity: Identity) -> None:
    member = register(identity, role=Role.LIBRARIAN)
    pair = login(identity)

    principal = identity.sessions.resume(pair.refresh_token)

    assert principal.kind is PrincipalKind.MEMBER
    assert principal.id == member.id
    assert principal.role is Role.LIBRARIAN
    assert principal.scopes == scopes_for(Role.LIBRARIAN)
    assert principal.session_id is not None
    # Resuming uses nothing up: the same token resumes again (pages load in parallel).
    assert identity.sessions.resume(pair.refresh_token) == principal


def test_resume_refuses_a_signed_out_session(identity: Identity) -> None:
    register(identity)
    pair = login(identity)
    principal = identity.sessions.resume(pair.refresh_token)

    identity.sessions.logout(principal, pair.refresh_token)

    with pytest.raises(TokenRevoked):
        identity.sessions.resume(pair.refresh_token)


def test_resume_follows_a_role_change_by_refusing_the_old_session(identity: Identity) -> None:
    member = register(identity, role=Role.LIBRARIAN)
    pair = login(identity)

    identity.membership.change_role(member.id, Role.MEMBER)

    with pytest.raises(DomainError) as refused:
        identity.sessions.resume(pair.refresh_token)
    assert refused.value.kind is ErrorKind.UNAUTHENTICATED


def test_resume_refuses_unknown_used_and_expired_tokens(identity: Identity) -> None:
    register(identity)
    used = login(identity)
    identity.sessions.refresh(used.refresh_token)
    expiring = login(identity)

    with pytest.raises(TokenInvalid):
        identity.sessions.resume(opaque.new_secret())
    with pytest.raises(TokenInvalid):
        identity.sessions.resume(used.refresh_token)
    identity.clock.advance(REFRESH_LIFETIME)
    with pytest.raises(TokenExpired):
        identity.sessions.resume(expiring.refresh_token)
