"""Reading the caller's credentials: ``Authorization: Bearer <access token>`` or
``Authorization: ApiKey <key>``.

Runs before the rate limiter, so that an authenticated caller is limited as itself rather than
by its address, and never raises: a refusal is recorded (``identity.record_refusal``) and raised
by ``access.enforce`` after the limiter has counted the request, so that guessing keys or
replaying dead tokens uses up the guesser's allowance like any other request.

Refusals are logged with their reason code and the scheme only: never the credentials.
"""

from __future__ import annotations

from flask import request

from domain.access import Principal
from domain.errors import AuthenticationRequired, DomainError, ErrorKind, TokenInvalid
from entrypoints.http import access
from entrypoints.http.challenge import API_KEY, BEARER
from entrypoints.http.context import get_container
from entrypoints.http.identity import record_caller, record_refusal
from entrypoints.logs import get_logger

log = get_logger("circulate.auth")

# Longer credentials are refused unread: a real token is well under 2 KiB, a key under 100 B.
MAX_CREDENTIALS = 4096


def _verify(scheme: str, credentials: str) -> Principal:
    container = get_container()
    if len(credentials) > MAX_CREDENTIALS:
        raise TokenInvalid("the credentials are too long to be valid")
    if scheme == BEARER:
        return container.sessions().authenticate_bearer(credentials)
    # Checked once, then trusted for a few seconds (revocation and expiry still apply at once
    # in this process; see adapters/credential_cache.py for other processes).
    return container.verified_api_keys().authenticate(credentials)


def authenticate() -> None:
    """``before_request``: who the request's credentials prove it is, if it presents any."""
    rule = access.rule_for(request.endpoint)
    if rule is None or not rule.reads_credentials or request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization")
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
        principal = _verify(scheme, credentials)
    except DomainError as refusal:
        if refusal.kind is not ErrorKind.UNAUTHENTICATED:
            raise
        log.info("credentials refused", reason=refusal.code, scheme=scheme or "unknown")
        record_refusal(refusal, scheme)
        return
    record_caller(principal, scheme)
