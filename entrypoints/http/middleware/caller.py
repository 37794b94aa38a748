"""Who is calling: the one place views ask.

``authentication.py`` reads the request's credentials before any view runs and records the
outcome here, on ``flask.g``: the ``Principal`` they prove, or the refusal they earned (which
``access.py`` raises once the rate limiter has counted the request). Views only ever ask
``current_caller()``.

The caller's id is bound to the request's log fields as soon as it is known, so every line
logged from then on (the views', the use cases', the libraries') says who asked.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.globals import _cv_app

from domain.access import Principal
from domain.errors import AuthenticationRequired, DomainError, MemberNotFound
from entrypoints.logs import bind_request

ANONYMOUS_SCOPE = "anonymous"
_CALLER = "circulate_caller"
_REFUSAL = "circulate_credential_refusal"
_PRESENTED = "circulate_credential_scheme"


def _request_globals() -> Any:
    """The request's ``g``, found with one context lookup: asked by several hooks of every
    request, where each use of the ``g`` proxy looks the context up again. Outside a context,
    the proxy itself, which refuses to be used as it always has."""
    context = _cv_app.get(None)
    return g if context is None else context.g


def current_caller() -> Principal | None:
    """The authenticated caller of the current request, if any."""
    caller: Principal | None = _request_globals().get(_CALLER)
    return caller


def require_caller() -> Principal:
    caller = current_caller()
    if caller is None:
        raise AuthenticationRequired("this operation needs credentials")
    return caller


def require_member_caller() -> str:
    """The id of the calling member; an API key or a service client has no member record."""
    member_id = require_caller().member_id
    if member_id is None:
        raise MemberNotFound("me")
    return member_id


def idempotency_scope() -> str:
    """Idempotency keys are the caller's own: two callers may use the same key independently."""
    caller = current_caller()
    return ANONYMOUS_SCOPE if caller is None else f"{caller.kind.value}:{caller.id}"


# --- written by authentication.py ----------------------------------------------------------


def record_caller(principal: Principal, scheme: str) -> None:
    state = _request_globals()
    setattr(state, _CALLER, principal)
    setattr(state, _PRESENTED, scheme)
    bind_request(caller_id=principal.id)


def record_refusal(refusal: DomainError, scheme: str | None) -> None:
    """Credentials were presented and refused (``scheme`` is ``None`` when unreadable)."""
    state = _request_globals()
    setattr(state, _REFUSAL, refusal)
    setattr(state, _PRESENTED, scheme or "")


def credential_refusal() -> DomainError | None:
    refusal: DomainError | None = _request_globals().get(_REFUSAL)
    return refusal


def presented_scheme() -> str | None:
    """The scheme of the credentials the request presented (``""`` when unreadable), if any."""
    scheme: str | None = _request_globals().get(_PRESENTED)
    return scheme
