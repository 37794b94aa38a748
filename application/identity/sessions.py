"""Members' sessions: sign in with a password, refresh, sign out, and check a bearer token.

A sign-in starts a session: a family of refresh tokens, one exchanged for the next at every
refresh, and short-lived access tokens carrying the family id as ``sid``. Signing out, or a used
refresh token coming back (it was stolen, or the next one was), revokes the family: its refresh
token stops working at once, and the session id goes into the shared revocation store for as
long as any access token of the session can live, so those stop working too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TypeGuard

from application.identity import opaque
from application.identity.ports import AccessToken, RevocationStore, TokenIssuer, TokenVerifier
from application.identity.unit_of_work import IdentityUnitOfWork, IdentityUnitOfWorkFactory
from application.passwords import MAX_PASSWORD_LENGTH
from application.ports import Clock, IdGenerator, PasswordHasher
from application.retry import retry_on_conflict
from domain.access import Principal, PrincipalKind, Scope, scopes_for
from domain.credentials import RefreshToken
from domain.errors import (
    InvalidCredentials,
    InvalidValue,
    RefreshTokenReused,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from domain.events import SessionsRevoked
from domain.members import Member, normalise_email

WRONG_CREDENTIALS = "the email or the password is wrong"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int  # seconds the access token lives
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class _Reused:
    family_id: str


def token_key(token_id: str) -> str:
    """The revocation-store identifier of one access token."""
    return f"jti:{token_id}"


def session_key(session_id: str) -> str:
    """The revocation-store identifier of every access token of one session."""
    return f"sid:{session_id}"


class Sessions:
    def __init__(
        self,
        *,
        uow: IdentityUnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        revocations: RevocationStore,
        refresh_token_lifetime: timedelta,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._hasher = hasher
        self._issuer = issuer
        self._verifier = verifier
        self._revocations = revocations
        self._refresh_lifetime = refresh_token_lifetime

    @cached_property
    def _dummy_hash(self) -> str:
        # Made by the hasher itself, so checking it costs what checking a member's hash costs.
        return self._hasher.hash(opaque.new_secret())

    # --- signing in ------------------------------------------------------------------------

    @retry_on_conflict
    def login(self, email: str, password: str) -> TokenPair:
        """A new session for the member with this email and password.

        Every refusal is the same ``InvalidCredentials``. Suspended members and expired
        memberships may still sign in: they may not borrow, but they may see their account.
        """
        try:
            address = normalise_email(email)
        except InvalidValue:
            address = None
        with self._uow() as uow:
            member = uow.members.get_by_email(address) if address is not None else None
            stored = member.password_hash if member is not None else None
            if member is None or stored is None or len(password) > MAX_PASSWORD_LENGTH:
                # Nothing to check against: check the dummy, so an unknown email costs as much
                # time as a wrong password and reveals nothing.
                self._hasher.verify(self._dummy_hash, password)
                raise InvalidCredentials(WRONG_CREDENTIALS)
            if not self._hasher.verify(stored, password):
                raise InvalidCredentials(WRONG_CREDENTIALS)
            if self._hasher.needs_rehash(stored):
                # The hasher's parameters changed since this hash was made: upgrade it while the
                # password is at hand (the only moment it ever is).
                member.set_password_hash(self._hasher.hash(password), self._clock.now())
            pair = self._start(uow, member, family_id=self._ids.new_id())
            uow.commit()
            return pair

    # --- refreshing ------------------------------------------------------------------------

    def refresh(self, refresh_token: str) -> TokenPair:
        """Exchange a refresh token for a new pair; the presented token is used up.

        Two concurrent refreshes with the same token cannot both win: the version check lets one
        commit, and the other, retried, finds the token used and revokes the family.
        """
        outcome = self._refresh(refresh_token)
        if isinstance(outcome, _Reused):
            self._revoke_sessions({outcome.family_id})
            raise RefreshTokenReused("this refresh token was already used; the session is revoked")
        return outcome

    @retry_on_conflict
    def _refresh(self, refresh_token: str) -> TokenPair | _Reused:
        """The new pair, or the family of a reused token (whose revocation is committed)."""
        now = self._clock.now()
        with self._uow() as uow:
            record = uow.refresh_tokens.get_by_hash(opaque.digest(refresh_token))
            if record is None:
                raise TokenInvalid("unknown refresh token")
            if record.is_used:
                for token in uow.refresh_tokens.active_in_family(record.family_id):
                    token.revoke(now)
                uow.emit(SessionsRevoked(now, record.member_id, 1, "refresh_token_reused"))
                uow.commit()
                return _Reused(record.family_id)
            if record.is_revoked:
                raise TokenRevoked("this session was signed out")
            if record.is_expired(now):
                raise TokenExpired("the refresh token has expired; sign in again")
            member = uow.members.get(record.member_id)
            if not _may_have_sessions(member):
                raise TokenInvalid("unknown refresh token")
            record.use(now)
            pair = self._start(uow, member, family_id=record.family_id)
            uow.commit()
            return pair

    def _start(self, uow: IdentityUnitOfWork, member: Member, *, family_id: str) -> TokenPair:
        """Issue an access token and the family's next refresh token (added to ``uow``)."""
        now = self._clock.now()
        # Scopes follow the member's role as it is now: a role change takes effect at the next
        # refresh, within one access-token lifetime.
        scopes = scopes_for(member.role)
        access: AccessToken = self._issuer.issue(
            subject=member.id, scopes=scopes, role=member.role, session_id=family_id
        )
        secret = opaque.new_secret()
        uow.refresh_tokens.add(
            RefreshToken.issue(
                id=self._ids.new_id(),
                family_id=family_id,
                member_id=member.id,
                token_hash=opaque.digest(secret),
                now=now,
                expires_at=now + self._refresh_lifetime,
            )
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=secret,
            expires_in=access.expires_in,
            scopes=scopes,
        )

    # --- signing out -----------------------------------------------------------------------

    def logout(self, principal: Principal, refresh_token: str | None = None) -> None:
        """Revoke the caller's access token and session, and the session of ``refresh_token``
        when it is the caller's own. Unknown or used tokens are ignored: logging out twice is
        not an error."""
        now = self._clock.now()
        if principal.token_id is not None and principal.token_expires_at is not None:
            self._revocations.revoke(token_key(principal.token_id), principal.token_expires_at)
        families = {principal.session_id} if principal.session_id is not None else set()
        if not families and refresh_token is None:
            return
        with self._uow() as uow:
            if refresh_token is not None and principal.member_id is not None:
                record = uow.refresh_tokens.get_by_hash(opaque.digest(refresh_token))
                if record is not None and record.member_id == principal.member_id:
                    families.add(record.family_id)
            for family_id in families:
                for token in uow.refresh_tokens.active_in_family(family_id):
                    token.revoke(now)
            if principal.member_id is not None:
                uow.emit(SessionsRevoked(now, principal.member_id, len(families), "signed_out"))
            uow.commit()
        self._revoke_sessions(families)

    def revoke_sessions(self, family_ids: set[str]) -> None:
        """Refuse every access token of these sessions from now on (``SessionRevoker``)."""
        self._revoke_sessions(family_ids)

    def _revoke_sessions(self, family_ids: set[str]) -> None:
        # Until the last access token any of these sessions was given can no longer be accepted.
        until = self._clock.now() + self._issuer.max_token_age
        for family_id in family_ids:
            self._revocations.revoke(session_key(family_id), until)

    # --- authenticating requests -----------------------------------------------------------

    def authenticate_bearer(self, token: str) -> Principal:
        """The caller an access token stands for, unless it is invalid, expired or revoked.

        No member is read: the token's signed claims are the caller, checked against the shared
        revocation store only. A member's role change or removal revokes their sessions in that
        store (``Membership``), so it takes effect at once; a revoked service client's tokens
        stop within one access-token lifetime.
        """
        claims = self._verifier.verify(token)
        keys = [token_key(claims.token_id)]
        if claims.session_id is not None:
            keys.append(session_key(claims.session_id))
        if self._revocations.any_revoked(keys):
            raise TokenRevoked("this access token was revoked")
        if claims.client_id is not None:
            kind = PrincipalKind.SERVICE_CLIENT
        elif claims.role is not None:
            kind = PrincipalKind.MEMBER
        else:
            raise TokenInvalid("the access token names neither a member role nor a client")
        return Principal(
            kind=kind,
            id=claims.subject,
            scopes=claims.scopes,
            role=claims.role,
            token_id=claims.token_id,
            token_expires_at=claims.expires_at,
            session_id=claims.session_id,
        )

    def resume(self, refresh_token: str) -> Principal:
        """The member a browser's signed-in session stands for, checked on each page.

        The web pages keep the session's refresh token (in an HttpOnly cookie) and never
        exchange it: a browser sends requests in parallel, and an exchange racing another would
        look like a stolen token and end the session. Instead each page checks the token is
        still the session's live one (not signed out, revoked or expired) and reads the member,
        so a role change or a removal takes effect on the next page.
        """
        now = self._clock.now()
        with self._uow().reading() as uow:
            record = uow.refresh_tokens.get_by_hash(opaque.digest(refresh_token))
            if record is None or record.is_used:
                raise TokenInvalid("unknown session")
            if record.is_revoked:
                raise TokenRevoked("this session was signed out")
            if record.is_expired(now):
                raise TokenExpired("the session has expired; sign in again")
            member = uow.members.get(record.member_id)
        if not _may_have_sessions(member):
            raise TokenInvalid("unknown session")
        if self._revocations.any_revoked([session_key(record.family_id)]):
            raise TokenRevoked("this session was signed out")
        return Principal(
            kind=PrincipalKind.MEMBER,
            id=member.id,
            scopes=scopes_for(member.role),
            role=member.role,
            session_id=record.family_id,
        )

    # --- housekeeping ----------------------------------------------------------------------

    def purge_expired(self, batch: int = 1000) -> int:
        """Forget refresh tokens past their expiry (they can only be refused by then)."""
        removed = 0
        while True:
            with self._uow() as uow:
                expired = uow.refresh_tokens.expired(self._clock.now(), batch)
                for token in expired:
                    uow.refresh_tokens.remove(token)
                uow.commit()
            removed += len(expired)
            if len(expired) < batch:
                return removed


def _may_have_sessions(member: Member | None) -> TypeGuard[Member]:
    """Whether a refresh token's member may still be signed in: not removed (anonymised).

    Removing a member ends their sessions right after the removal commits (``SessionEndings``);
    this check is what makes a crash between the two harmless, since a token left behind finds
    its member anonymised and is refused.
    """
    return member is not None and not member.is_anonymised
