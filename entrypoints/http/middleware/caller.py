"""Who is calling: the one place views ask.

``authentication.py`` reads the request's credentials before any view runs and records the
outcome here, on ``flask.g``: the ``Principal`` they prove, or the refusal they earned (which
``access.py`` raises once the rate limiter has counted the request). Views only ever ask
``current_caller()``.

The caller's id is bound to the request's log fields as soon as it is known, so every line
logged from then on (the views', the use cases', the libraries') says who asked.
"""

from __future__ import annotations

from flask import g

from domain.access import Principal
from domain.errors import AuthenticationRequired, DomainError, MemberNotFound
from entrypoints.logs import bind_request

ANONYMOUS_SCOPE = "anonymous"
_CALLER = "circulate_caller"
_REFUSAL = "circulate_credential_refusal"
_PRESENTED = "circulate_credential_scheme"


def current_caller() -> Principal | None:
    """The authenticated caller of the current request, if any."""
    caller: Principal | None = g.get(_CALLER)
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
    setattr(g, _CALLER, principal)
    setattr(g, _PRESENTED, scheme)
    bind_request(caller_id=principal.id)


def record_refusal(refusal: DomainError, scheme: str | None) -> None:
    """Credentials were presented and refused (``scheme`` is ``None`` when unreadable)."""
    setattr(g, _REFUSAL, refusal)
    setattr(g, _PRESENTED, scheme or "")


def credential_refusal() -> DomainError | None:
    refusal: DomainError | None = g.get(_REFUSAL)
    return refusal


def presented_scheme() -> str | None:
    """The scheme of the credentials the request presented (``""`` when unreadable), if any."""
    scheme: str | None = g.get(_PRESENTED)
    return scheme
