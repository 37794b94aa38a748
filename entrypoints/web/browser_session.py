"""A browser's signed-in session: a cookie tied to a server-side session of ``Sessions``.

Signing in starts the same kind of session the API's sign-in does (``Sessions.login``); the
cookie keeps its refresh token, which the server checks on every page (``Sessions.resume``),
so signing out, a revocation or a role change ends the browser's session on the server too,
not only in this browser. The cookie is Flask's signed session cookie: HttpOnly, SameSite=Lax,
Secure in production (``setup.py``).

The idle timeout is kept on the server's side of the cookie: the time of the last page is in
the signed cookie, so the browser cannot extend it, and a session found idle is signed out
(revoked), not just forgotten.

The session is read before the rate limiter and the audit trail run (``init_sessions`` is
registered ahead of the guard), so a signed-in librarian is limited and audited as themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dependency_injector.wiring import Provide, inject
from flask import g, request, session

from application.identity.sessions import Sessions
from application.ports import Clock
from domain.access import Principal
from domain.errors import DomainError, ErrorKind
from entrypoints.container import Container
from entrypoints.http.middleware.caller import current_caller, record_caller
from entrypoints.logs import get_logger

log = get_logger("circulate.web")

SCHEME = "Session"  # how the caller authenticated, as the API's Bearer and ApiKey are named
WEB_BLUEPRINT = "web"
# The session's refresh token (never shown to scripts: the cookie is HttpOnly).
_TOKEN = "token"  # noqa: S105 (the name of a cookie field)
_SEEN = "seen"  # POSIX seconds of the last page, for the idle timeout
_ENDED = "circulate_web_session_ended"

# Why a browser's session ended on this request (shown on the sign-in page).
ENDED_IDLE = "idle"
ENDED_ELSEWHERE = "revoked"


def is_web_request() -> bool:
    # The blueprint's name, and not ``request.blueprints``, which lists its ancestors each time.
    blueprint = request.blueprint
    return blueprint is not None and (
        blueprint == WEB_BLUEPRINT or blueprint.startswith(f"{WEB_BLUEPRINT}.")
    )


def ended_reason() -> str | None:
    reason: str | None = g.get(_ENDED)
    return reason


def loader(
    sessions: Callable[[], Sessions], clock: Callable[[], Clock], idle: timedelta
) -> Callable[[], None]:
    """The ``before_request`` hook (pages only) that reads who the session cookie says is
    signed in, if anyone; a session idle for longer than ``idle`` is signed out."""

    def load() -> None:
        if is_web_request() and request.endpoint != "web.static":
            _load(sessions(), clock(), idle.total_seconds())

    return load


def _load(sessions: Sessions, clock: Clock, idle: float) -> None:
    token = session.get(_TOKEN)
    if not isinstance(token, str):
        return
    try:
        principal = sessions.resume(token)
    except DomainError as refusal:
        if refusal.kind is not ErrorKind.UNAUTHENTICATED:
            raise
        log.info("browser session refused", reason=refusal.code)
        session.clear()
        setattr(g, _ENDED, ENDED_ELSEWHERE)
        return
    seen = session.get(_SEEN)
    now = clock.now().timestamp()
    if not isinstance(seen, int | float) or now - seen > idle:
        # Idle too long: end the session on the server, so the cookie alone is worth nothing.
        sessions.logout(principal, token)
        session.clear()
        setattr(g, _ENDED, ENDED_IDLE)
        log.info("browser session idle: signed out", caller_id=principal.id)
        return
    session[_SEEN] = int(now)
    record_caller(principal, SCHEME)


@inject
def sign_in(
    email: str,
    password: str,
    sessions: Sessions = Provide[Container.identity.sessions],
    clock: Clock = Provide[Container.clock],
) -> Principal:
    """Start a session for these credentials (``InvalidCredentials`` when they are wrong)."""
    pair = sessions.login(email, password)
    principal = sessions.resume(pair.refresh_token)
    # A fresh cookie: nothing from before the sign-in (a CSRF token included) carries over.
    session.clear()
    session[_TOKEN] = pair.refresh_token
    session[_SEEN] = int(clock.now().timestamp())
    record_caller(principal, SCHEME)
    return principal


@inject
def sign_out(sessions: Sessions = Provide[Container.identity.sessions]) -> None:
    """End the signed-in session on the server and forget it in this browser."""
    caller = current_caller()
    token = session.get(_TOKEN)
    if caller is not None and isinstance(token, str):
        sessions.logout(caller, token)
    session.clear()
