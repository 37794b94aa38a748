"""Who is calling: the one place views ask, so that authentication plugs in here alone.

Until the API authenticates its callers every request is anonymous: ``current_caller()`` is
``None``, ``/members/me`` answers 401, and idempotency keys share the anonymous scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from entrypoints.http.problem import ApiProblem

AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
ANONYMOUS_SCOPE = "anonymous"


@dataclass(frozen=True, slots=True)
class Caller:
    member_id: str


def current_caller() -> Caller | None:
    """The authenticated caller of the current request, if any."""
    return None


def require_caller() -> Caller:
    caller = current_caller()
    if caller is None:
        raise ApiProblem(
            401,
            AUTHENTICATION_REQUIRED,
            "this operation needs an authenticated caller",
            headers={"WWW-Authenticate": 'Bearer realm="circulate"'},
        )
    return caller


def idempotency_scope() -> str:
    """Idempotency keys are the caller's own: two callers may use the same key independently."""
    caller = current_caller()
    return ANONYMOUS_SCOPE if caller is None else f"member:{caller.member_id}"
