"""Reading the caller's credentials: ``Authorization: Bearer <access token>`` or
``Authorization: ApiKey <key>``.

Runs before the rate limiter, so that an authenticated caller is limited as itself rather than
by its address, and never raises: a refusal is recorded (``identity.record_refusal``) and raised
by ``access.enforce`` after the limiter has counted the request, so that guessing keys or
replaying dead tokens uses up the guesser's allowance like any other request.

Refusals are logged with their reason code and the scheme only: never the credentials.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.access import Principal
from domain.errors import AuthenticationRequired, DomainError, ErrorKind, TokenInvalid
from entrypoints.http.middleware import access
from entrypoints.http.middleware.caller import record_caller, record_refusal
from entrypoints.http.middleware.challenge import API_KEY, BEARER
from entrypoints.http.request_context import current_request
from entrypoints.logs import get_logger

log = get_logger("circulate.auth")

# Longer credentials are refused unread: a real token is well under 2 KiB, a key under 100 B.
MAX_CREDENTIALS = 4096


# How a scheme's credentials are checked: each takes the credentials and returns whom they
# prove, or raises an UNAUTHENTICATED refusal.
Verify = Callable[[str], Principal]


def authenticator(*, bearer: Verify, api_key: Verify) -> Callable[[], None]:
    """The ``before_request`` hook that reads the request's credentials, checking access tokens
    with ``bearer`` and API keys with ``api_key``."""
    verifiers = {BEARER: bearer, API_KEY: api_key}

    def authenticate() -> None:
        _authenticate(verifiers)

    return authenticate


def _authenticate(verifiers: dict[str, Verify]) -> None:
    """Who the request's credentials prove it is, if it presents any."""
    current = current_request()
    rule = access.rule_for(current.endpoint)
    if rule is None or not rule.reads_credentials or current.method == "OPTIONS":
        return
    header = current.environ.get("HTTP_AUTHORIZATION")  # where WSGI files the header
    if header is None:
        return
    given, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    scheme = {"bearer": BEARER, "apikey": API_KEY}.get(given.lower())
    try:
        if scheme is None:
            raise AuthenticationRequired(
                "send 'Authorization: Bearer <access token>' or 'Authorization: ApiKey <key>'"
            )
        if not credentials or " " in credentials:
            raise TokenInvalid(f"the {scheme} credentials are malformed")
        if len(credentials) > MAX_CREDENTIALS:
            raise TokenInvalid("the credentials are too long to be valid")
        principal = verifiers[scheme](credentials)
    except DomainError as refusal:
        if refusal.kind is not ErrorKind.UNAUTHENTICATED:
            raise
        log.info("credentials refused", reason=refusal.code, scheme=scheme or "unknown")
        record_refusal(refusal, scheme)
        return
    record_caller(principal, scheme)
