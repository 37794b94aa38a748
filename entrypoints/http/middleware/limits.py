"""Rate limits (Flask-Limiter), for the whole API.

- Every caller gets ``CIRCULATE_RATE_LIMIT_DEFAULT`` (300 per minute) across the API: an
  authenticated caller as itself (its principal), anyone else by address. Authentication runs
  first (``guard.py``), so a team behind one address does not share one allowance.
- Sign-in, refresh and the client-credentials token endpoint are tighter, per address
  (``CIRCULATE_RATE_LIMIT_AUTH_PER_IP``) and, for sign-in and client tokens, per account: the
  email, or the client id, the request claims (kept in the store as a digest).
- Per account, two limits, so that nobody can lock an account's owner out by guessing at it:
  ``CIRCULATE_RATE_LIMIT_AUTH_PER_ACCOUNT`` counts one account's attempts *from one address*
  (a guesser at one address is stopped after a few tries, and the owner, elsewhere, is not
  affected), and ``CIRCULATE_RATE_LIMIT_AUTH_ACCOUNT_CEILING``, ten times higher, counts them
  from every address together (a guesser with many addresses is still slowed, and only one
  with that many addresses can make the owner wait). A limit on the account alone, as before,
  let anyone lock anyone out for the window with a handful of wrong passwords.
- Probes, metrics and documentation are not limited (their access rule says so).
- Counters live in Redis when ``CIRCULATE_REDIS_URL`` is set, so every worker and host shares
  them; otherwise in this process. If Redis stops answering, each process falls back to its own
  counters instead of failing requests (after at most ``TIMEOUT_SECONDS``: no request waits
  on a frozen Redis).
- A refusal is 429 in the API's problem format (``RATE_LIMITED``; the token endpoint keeps its
  RFC 6749 error format) with ``Retry-After``; every limited response carries ``RateLimit-Limit``,
  ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds to the window's reset).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter, RequestLimit

from domain.members import MAX_EMAIL
from entrypoints.http.middleware import access
from entrypoints.http.middleware.caller import current_caller
from entrypoints.http.middleware.client_credentials import claimed_client_id
from entrypoints.http.middleware.limit_definitions import AppLimit, EndpointLimit
from entrypoints.http.middleware.memory_limits import SCHEME as MEMORY_SCHEME
from entrypoints.http.middleware.planned_limiter import PlannedLimiter
from entrypoints.http.request_context import current_request
from entrypoints.http.responses.problem import problem_response
from entrypoints.logs import get_logger
from entrypoints.settings import Settings

RATE_LIMITED = "RATE_LIMITED"
LOGIN_ENDPOINT = "auth.create_token"
REFRESH_ENDPOINT = "auth.refresh_token"
CLIENT_TOKEN_ENDPOINT = "oauth.issue_token"  # noqa: S105 (an endpoint's name)
# The pages' sign-in form: the same limits as the API's sign-in, counted together with it.
WEB_LOGIN_ENDPOINT = "web.auth.sign_in_post"
LOGIN_ENDPOINTS = frozenset({LOGIN_ENDPOINT, WEB_LOGIN_ENDPOINT})
# The endpoints that take an account's name (an email, a client id) with its secret.
ACCOUNT_ENDPOINTS = frozenset({*LOGIN_ENDPOINTS, CLIENT_TOKEN_ENDPOINT})
AUTH_ENDPOINTS = frozenset({*ACCOUNT_ENDPOINTS, REFRESH_ENDPOINT})
KEY_PREFIX = "circulate:ratelimit"
STRATEGY = "moving-window"  # no burst of twice the limit across a window's edge
LIMITER_KEY = "circulate.limiter"
LIMIT_HEADER = "RateLimit-Limit"
REMAINING_HEADER = "RateLimit-Remaining"
RESET_HEADER = "RateLimit-Reset"

log = get_logger("circulate.limits")


def address() -> str:
    """The client's address (behind trusted proxies, as ProxyFix found it)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def caller_key() -> str:
    caller = current_caller()
    return address() if caller is None else f"{caller.kind.value}:{caller.id}"


def _email_claimed() -> str | None:
    if request.endpoint == WEB_LOGIN_ENDPOINT:
        email: object = request.form.get("email")
    else:
        body = request.get_json(silent=True) if request.is_json else None
        email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return None
    return email.strip().lower()[:MAX_EMAIL]


def account() -> str | None:
    """The account a token request claims: the email of a sign-in, the id of a client."""
    if request.endpoint in LOGIN_ENDPOINTS:
        claimed = _email_claimed()
    elif request.endpoint == CLIENT_TOKEN_ENDPOINT:
        claimed = claimed_client_id()
    else:
        return None
    if claimed is None:
        return None
    return "account:" + hashlib.sha256(claimed.encode("utf-8")).hexdigest()[:32]


def account_key() -> str:
    return account() or ""


def account_address_key() -> str:
    return f"{account() or ''}:{address()}"


def _auth_scope(name: str) -> Callable[[str], str]:
    """The counter an endpoint's sign-in limit uses: the pages' sign-in form and the API's
    sign-in share one (a guesser gains nothing by switching); every other endpoint has its own.
    """

    def scope(endpoint: str) -> str:
        counted = "sign-in" if endpoint in LOGIN_ENDPOINTS else endpoint
        return f"{counted}:{name}" if name else counted

    return scope


def _no_account() -> bool:
    return account() is None


def _exempt() -> bool:
    current = current_request()
    if current.method == "OPTIONS":
        return True  # CORS preflights carry no credentials and change nothing
    rule = access.rule_for(current.endpoint)
    return rule is not None and not rule.rate_limited


_RETRY_AFTER = "circulate_retry_after"


def breach_retry_after() -> int | None:
    """Seconds until this request's breached limit lets a request through again, if it did."""
    retry: int | None = g.get(_RETRY_AFTER)
    return retry


def _retry_after(limit: RequestLimit) -> int:
    return max(1, math.ceil(limit.reset_at - time.time()))


def _breached(limit: RequestLimit) -> Response | None:
    retry = _retry_after(limit)
    log.warning("rate limit reached", limit=str(limit.limit), endpoint=request.endpoint)
    if request.endpoint is not None and request.endpoint.startswith("web."):
        # Raised as a 429 the pages answer with a page of their own (entrypoints/web/errors.py).
        setattr(g, _RETRY_AFTER, retry)
        return None
    message = f"too many requests ({limit.limit}); retry in {retry} s"
    headers = {"Retry-After": str(retry)}
    if request.endpoint == CLIENT_TOKEN_ENDPOINT:
        body = {"error": "temporarily_unavailable", "error_description": message}
        response = Response(json.dumps(body), status=429, mimetype="application/json")
        response.headers.update({**headers, "Cache-Control": "no-store"})
        return response
    return problem_response(
        429, RATE_LIMITED, message, {"limit": str(limit.limit)}, headers=headers
    )


def _limit_headers(limiter: Limiter) -> Callable[[Response], Response]:
    """The ``after_request`` hook that writes ``RateLimit-*`` for the limit that counted the
    request. Flask-Limiter's own headers would cost more than they say: a reset as a timestamp
    to rewrite in seconds, and a ``Retry-After`` on every response, as an HTTP date, to drop
    (only a refusal carries one, ``_breached``'s)."""

    def add_headers(response: Response) -> Response:
        limit = limiter.current_limit
        if limit is None:
            return response  # not limited: exempt, turned off, or answered before counting
        try:
            reset_at, remaining = limit.reset_at, limit.remaining
        except Exception:
            # The request was counted (or let through) already; only its headers are missing.
            log.warning("rate limit state unavailable for the headers", exc_info=True)
            return response
        headers = response.headers
        headers[LIMIT_HEADER] = str(limit.limit.amount)
        headers[REMAINING_HEADER] = str(remaining)
        headers[RESET_HEADER] = str(max(0, reset_at - int(time.time())))
        return response

    return add_headers


def _storage_options(settings: Settings) -> dict[str, Any]:
    """Timeouts as short as every other use of Redis has (``adapters.redis_store``): a frozen
    Redis must not hold each request up; the limiter counts in this process until it is back."""
    if settings.redis_url is None:
        return {}
    # Imported here, where Redis is configured: a process without it never loads its client.
    from adapters.redis_store import TIMEOUT_SECONDS

    return {"socket_timeout": TIMEOUT_SECONDS, "socket_connect_timeout": TIMEOUT_SECONDS}


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Limit ``app``'s requests as ``settings`` say. Call after the authentication hook is
    registered (the limit is the caller's) and before the access rules are enforced (refused
    requests count too)."""
    # Each endpoint's limits are resolved once, not on every request (planned_limiter.py).
    limiter = PlannedLimiter(
        caller_key,
        application_limits=[AppLimit(settings.rate_limit_default)],
        # The sign-in and token limits exist on their endpoints only: any other request does
        # not parse, build or test them (limit_definitions.py).
        default_limits=[
            EndpointLimit(
                settings.rate_limit_auth_per_ip,
                key_function=address,
                scope=_auth_scope(""),
                shared=True,
                endpoints=AUTH_ENDPOINTS,
            ),
            EndpointLimit(
                settings.rate_limit_auth_per_account,
                key_function=account_address_key,
                exempt_when=_no_account,
                scope=_auth_scope("account-address"),
                shared=True,
                endpoints=ACCOUNT_ENDPOINTS,
            ),
            EndpointLimit(
                settings.rate_limit_auth_account_ceiling,
                key_function=account_key,
                exempt_when=_no_account,
                scope=_auth_scope("account"),
                shared=True,
                endpoints=ACCOUNT_ENDPOINTS,
            ),
        ],
        storage_uri=settings.redis_url or f"{MEMORY_SCHEME}://",
        # As short as every other use of Redis (adapters.redis_store): a frozen Redis must not
        # hold each request up; the limiter then counts in this process until Redis is back.
        storage_options=_storage_options(settings),
        strategy=STRATEGY,
        headers_enabled=False,  # written by _limit_headers
        key_prefix=KEY_PREFIX,
        on_breach=_breached,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        enabled=settings.rate_limit_enabled,
    )
    limiter.request_filter(_exempt)
    limiter.init_app(app)
    app.after_request(_limit_headers(limiter))
    app.extensions[LIMITER_KEY] = limiter
    return limiter
