"""The pages' own response headers: a Content Security Policy with a per-response nonce.

The API's policy (``hardening.py``) allows nothing at all; pages need their stylesheet and
scripts, so they get a policy of their own, set before the API's defaults (which only fill
headers a response lacks). Scripts run only from this server or with this response's nonce;
no inline handlers, no ``eval``. Pages are personal (a member's loans, a desk's screen): they
are never stored by a cache. The referrer is sent to this site only, which Flask-WTF's HTTPS
check of a form's origin needs.
"""

from __future__ import annotations

import secrets

from flask import Response, g, request

_NONCE = "circulate_csp_nonce"

POLICY = (
    "default-src 'none'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'"
)


def nonce() -> str:
    """This response's script nonce (made on first use)."""
    value: str | None = g.get(_NONCE)
    if value is None:
        value = secrets.token_urlsafe(18)
        setattr(g, _NONCE, value)
    return value


def apply(response: Response) -> Response:
    """``after_request`` of every page."""
    response.headers["Content-Security-Policy"] = POLICY.format(nonce=nonce())
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response
