"""Ending all of a member's sessions when the library changes their role or removes them.

The library's ``Membership`` owns the member; identity owns the refresh tokens. The member's
change commits in the library's transaction, then ``Membership`` asks this service to end the
sessions in identity's own transaction (which writes the ``sessions_revoked`` audit record with
it), and finally the sessions' ids go to the revocation store so their access tokens stop at once.

Why a crash between the two transactions cannot leave a removed member signed in, or a demoted
one with their old powers beyond a token's lifetime:

- a refresh (``Sessions.refresh``) and a page of the web desk (``Sessions.resume``) read the
  member in the same transaction as the token, refuse an anonymised member, and take the role as
  it is now; so a refresh token left behind is useless to a removed member and carries only the
  new role for a demoted one;
- a password sign-in needs the password hash, which anonymising erases;
- an access token already issued is checked against the revocation store only, which has always
  been written after the commit: a crash there leaves it working until it expires (one access
  token lifetime, minutes), exactly as before identity had its own unit of work;
- removing an anonymised member again ends whatever sessions are left, so an interrupted removal
  is completed by repeating it.
"""

from __future__ import annotations

from application.identity.ports import SessionRevoker
from application.identity.unit_of_work import IdentityUnitOfWorkFactory
from application.ports import Clock
from application.retry import retry_on_conflict
from domain.events import SessionsRevoked


class SessionEndings:
    """``SessionEnder`` over the identity unit of work and, when given, the revocation store's
    ``SessionRevoker`` (``Sessions``)."""

    def __init__(
        self,
        *,
        uow: IdentityUnitOfWorkFactory,
        clock: Clock,
        revoker: SessionRevoker | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._revoker = revoker

    def end_member_sessions(self, member_id: str, reason: str, *, forget: bool = False) -> int:
        ended = self._end(member_id, reason, forget)
        if self._revoker is not None and ended:
            self._revoker.revoke_sessions(ended)
        return len(ended)

    @retry_on_conflict
    def _end(self, member_id: str, reason: str, forget: bool) -> set[str]:
        """Revoke or delete the member's refresh tokens, in one transaction; their sessions."""
        now = self._clock.now()
        with self._uow() as uow:
            ended = set()
            for token in uow.refresh_tokens.for_member(member_id):
                ended.add(token.family_id)
                if forget:
                    uow.refresh_tokens.remove(token)
                elif not token.is_used and not token.is_revoked:
                    token.revoke(now)
            if ended:
                uow.emit(SessionsRevoked(now, member_id, len(ended), reason))
            uow.commit()
        return ended
