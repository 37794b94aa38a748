"""``WWW-Authenticate`` challenges (RFC 9110 section 11.6.1, RFC 6750 section 3).

Every 401 names the scheme to authenticate with. When the request presented a bearer token
that was refused, the challenge says so (``error="invalid_token"``) so that a client knows to
refresh or sign in again rather than retry; a bearer caller refused for want of a scope is told
which one (``error="insufficient_scope"``) on its 403.
"""

from __future__ import annotations

import re

from domain.errors import DomainError, ErrorKind
from entrypoints.http.middleware.caller import presented_scheme

REALM = "circulate"
HEADER = "WWW-Authenticate"
BEARER = "Bearer"
API_KEY = "ApiKey"
# Characters RFC 6750 allows in error_description and scope: printable ASCII but '"' and '\'.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _quoted(text: str) -> str:
    return '"' + _UNSAFE.sub("", text)[:200] + '"'


def challenge(error: DomainError) -> dict[str, str]:
    """The ``WWW-Authenticate`` header a refusal answers with (none for most refusals)."""
    scheme = presented_scheme()
    if error.kind is ErrorKind.UNAUTHENTICATED:
        if scheme == API_KEY:
            return {HEADER: f'{API_KEY} realm="{REALM}"'}
        if scheme == BEARER:
            return {
                HEADER: f'{BEARER} realm="{REALM}", error="invalid_token", '
                f"error_description={_quoted(error.message)}"
            }
        return {HEADER: f'{BEARER} realm="{REALM}"'}
    if error.kind is ErrorKind.FORBIDDEN and scheme == BEARER:
        required = str(error.details.get("required", ""))
        scope = f", scope={_quoted(required)}" if required else ""
        return {HEADER: f'{BEARER} realm="{REALM}", error="insufficient_scope"{scope}'}
    return {}
