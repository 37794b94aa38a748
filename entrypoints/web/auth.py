"""Signing in and out of the pages.

Sign-in is rate limited exactly as the API's is (per address, per email from one address, and
per email from everywhere: ``http/middleware/limits.py`` counts this page's posts with the API's
sign-in), and a wrong email and a wrong password are the same refusal.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from domain.errors import DomainError, ErrorKind
from domain.members import normalise_email
from entrypoints.http.middleware.caller import current_caller
from entrypoints.logs import get_logger
from entrypoints.web import browser_session
from entrypoints.web.audience import Audience, page
from entrypoints.web.setup import home_for_caller
from entrypoints.web.wording import describe

bp = Blueprint("auth", __name__)
log = get_logger("circulate.web")

MAX_FIELD = 1024  # longer input is refused unread, as the API's body limits would
_SAFE_NEXT = ("/desk", "/my")
ENDED_WORDS = {
    browser_session.ENDED_IDLE: "You were signed out after a while without activity.",
    browser_session.ENDED_ELSEWHERE: "Your session has ended. Please sign in again.",
    "signed_out": "You are signed out.",
}


def _next_page(target: str | None) -> str | None:
    """A page of this site to return to after signing in (never another site: ``//host``)."""
    if not target or not target.startswith(_SAFE_NEXT) or "//" in target or "\\" in target:
        return None
    return target


def _form(status: int = 200, *, error: DomainError | None = None, email: str = "") -> Response:
    ended = browser_session.ended_reason() or request.args.get("ended")
    body = render_template(
        "web/sign_in.html",
        email=email,
        error=describe(error) if error is not None else None,
        error_code=error.code if error is not None else None,
        notice=ENDED_WORDS.get(ended or ""),
        next_page=_next_page(request.values.get("next")),
    )
    return Response(body, status=status)


@bp.get("/sign-in")
@page(Audience.ANYONE)
def sign_in() -> Response:
    if current_caller() is not None:
        return redirect(home_for_caller())  # type: ignore[return-value]
    return _form()


@bp.post("/sign-in")
@page(Audience.ANYONE)
def sign_in_post() -> Response:
    email = request.form.get("email", "")[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD]
    try:
        browser_session.sign_in(email, password)
    except DomainError as refusal:
        if refusal.kind is not ErrorKind.UNAUTHENTICATED:
            raise
        log.info("sign-in refused", reason=refusal.code, email=_loggable(email), via="web")
        return _form(401, error=refusal, email=email)
    target = _next_page(request.form.get("next")) or home_for_caller()
    return redirect(target, 303)  # type: ignore[return-value]


@bp.post("/sign-out")
@page(Audience.ANYONE)
def sign_out() -> Response:
    browser_session.sign_out()
    return redirect(url_for("web.auth.sign_in", ended="signed_out"), 303)  # type: ignore[return-value]


def _loggable(email: str) -> str:
    try:
        return normalise_email(email)
    except DomainError:
        return "<not an email>"
