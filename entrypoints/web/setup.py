"""Putting the pages into the app: cookie and CSRF settings, the ``web`` blueprint, its hooks.

``init_sessions`` runs before the API's guard is installed (the signed-in member is then the
caller the rate limiter and the audit trail see); ``init_app`` after the API's blueprints.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Request, Response, current_app, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden

from application.identity.keyset import SigningKey
from entrypoints.container import Container
from entrypoints.http.middleware import access
from entrypoints.http.middleware.caller import current_caller
from entrypoints.web import assets, browser_session, csp, errors, formatting, partials
from entrypoints.web.audience import Audience, audience_of

# Who may call a page, as far as the API's guard is concerned: no Authorization header is read
# (pages authenticate with their cookie, in ``browser_session``), and pages are rate limited
# like any request. Each page's own audience is checked by ``_admit``.
PAGE_RULE = access.Rule(authenticated=False, reads_credentials=False)
STATIC_ENDPOINT = "web.static"
COOKIE_NAME = "circulate_session"
_SECRET_LABEL = b"circulate web session cookie v1"

csrf = CSRFProtect()


def is_page(endpoint: str) -> bool:
    """Whether an endpoint is one of the pages (not the JSON API, which OpenAPI documents)."""
    return endpoint.startswith("web.")


def _cookie_secret(key: SigningKey) -> bytes:
    """The cookie-signing secret derived from a token-signing key.

    Every worker and host already shares the key set, and rotating it is an operator's routine
    (``circulate keys rotate``): deriving the secret from it needs no other secret to deploy,
    and a retired key keeps old cookies valid (``SECRET_KEY_FALLBACKS``) while it is kept.
    """
    return hmac.new(key.private_key.encode("utf-8"), _SECRET_LABEL, hashlib.sha256).digest()


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the cookie's signer (key derivation
    included) for a request that carries no session cookie, nor reading the cookie settings
    after a request that left its session alone: every call of the JSON API."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (
            # No Cookie header at all: nothing to parse.
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()  # what Flask answers then too, after making the signer
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not (session or session.accessed or session.modified):
            return  # Flask's would set no cookie and no Vary: Cookie either
        super().save_session(app, session, response)


def _configure(app: Flask, container: Container) -> None:
    settings = container.settings()
    keys = container.identity.key_store().load()
    app.config.update(
        SECRET_KEY=_cookie_secret(keys.current),
        SECRET_KEY_FALLBACKS=[_cookie_secret(key) for key in keys.keys if not key.is_current],
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.environment == "production",
        SESSION_COOKIE_SAMESITE="Lax",
        # Sessions are never marked permanent: the cookie goes when the browser closes, and the
        # session on the server after the idle timeout (browser_session.py).
        # CSRF is checked on pages only (``_admit``): the JSON API takes no cookies, so it
        # cannot be forged across sites, and its clients send no tokens.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the session, which the idle timeout already bounds.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=True,
    )
    app.session_interface = _CookieSessions()
    csrf.init_app(app)


def home_for_caller() -> str:
    """Where a signed-in person starts: staff at the desk, members on their own pages."""
    caller = current_caller()
    if caller is not None and caller.acts_for_everyone:
        return url_for("web.desk.home")
    if "web.my.home" in current_app.view_functions:
        return url_for("web.my.home")
    return "/my"


def _admit() -> Response | None:
    """``before_request`` of every page: who may see it, then the CSRF token of a form post."""
    if request.endpoint == STATIC_ENDPOINT:
        return None
    view: Callable[..., Any] | None = current_app.view_functions.get(request.endpoint or "")
    audience = audience_of(view)
    if audience is None:
        raise Forbidden("this page has no declared audience, so it is closed")
    caller = current_caller()
    if not audience.admits(caller):
        if caller is None:
            # Signed out (or timed out): sign in, then come back to a page, never to a post.
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            ended = browser_session.ended_reason()  # said on the sign-in page
            return partials.redirect_page(url_for("web.auth.sign_in", next=target, ended=ended))
        raise Forbidden("this page is for library staff")
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        csrf.protect()
    return None


def _template_context() -> dict[str, Any]:
    caller = current_caller()
    return {
        "caller": caller,
        "is_staff": caller is not None and caller.acts_for_everyone,
        "csp_nonce": csp.nonce,
        "asset": assets.asset_url,
    }


def _blueprint(screens: tuple[Blueprint, ...]) -> Blueprint:
    web = Blueprint("web", __name__, template_folder="templates")
    web.add_url_rule("/static/web/<path:filename>", "static", assets.serve)
    web.before_request(_admit)
    web.after_request(csp.apply)
    web.context_processor(_template_context)
    errors.register(web)
    for screen in screens:
        web.register_blueprint(screen)
    return web


def init_sessions(app: Flask, container: Container) -> None:
    """Before the guard: read the browser's session, for pages only."""
    identity = container.identity()
    idle = container.settings().web_idle_timeout()
    app.before_request(browser_session.loader(identity.sessions, container.clock, idle))


def init_app(app: Flask, container: Container) -> None:
    from entrypoints.web import auth, desk, my  # the screens import this module's helpers

    _configure(app, container)
    formatting.register(app)
    app.register_blueprint(_blueprint((auth.bp, desk.bp, my.bp)))
    for rule in list(app.url_map.iter_rules()):
        if rule.endpoint == STATIC_ENDPOINT:
            access.register(rule.endpoint, access.operations())
        elif is_page(rule.endpoint):
            access.register(rule.endpoint, PAGE_RULE)


__all__ = ["Audience", "csrf", "home_for_caller", "init_app", "init_sessions", "is_page"]
