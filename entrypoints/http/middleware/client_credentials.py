"""Reading a service client's credentials at the token endpoint (RFC 6749 section 2.3.1).

The client authenticates with HTTP Basic (``client_id:client_secret``, each form-urlencoded
first, as section 2.3.1 says) or with ``client_id`` and ``client_secret`` in the form body; one
method per request. Problems are ``OAuthError``: the token endpoint answers them in the RFC's
format (section 5.2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

FORM = "application/x-www-form-urlencoded"
REALM = "circulate"


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    secret: str = field(repr=False)
    via_header: bool


class OAuthError(Exception):
    """An error of the token endpoint: ``error`` is one of RFC 6749 section 5.2's codes."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    @property
    def headers(self) -> Mapping[str, str]:
        if self.error == "invalid_client":
            return {"WWW-Authenticate": f'Basic realm="{REALM}"'}
        return {}


def form_parameters() -> Mapping[str, str]:
    """The form body's parameters; ``invalid_request`` for a repeated one (section 3.2)."""
    if request.mimetype != FORM:
        raise OAuthError(400, "invalid_request", f"send the parameters as {FORM}")
    try:
        form = request.form
    except RequestEntityTooLarge:
        raise OAuthError(413, "invalid_request", "the request body is too large") from None
    repeated = sorted(name for name in form if len(form.getlist(name)) > 1)
    if repeated:
        raise OAuthError(400, "invalid_request", f"parameters given twice: {', '.join(repeated)}")
    return {name: form[name] for name in form}


def _basic(header: str) -> ClientCredentials:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(401, "invalid_client", "authenticate the client with HTTP Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise OAuthError(401, "invalid_client", "malformed Basic credentials")
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret), via_header=True)


def client_credentials(form: Mapping[str, str]) -> ClientCredentials:
    """The client's id and secret, from the Authorization header or the form."""
    header = request.headers.get("Authorization")
    if header is not None:
        credentials = _basic(header)
        if "client_secret" in form:
            raise OAuthError(
                400, "invalid_request", "use one way of client authentication, not two"
            )
        if form.get("client_id", credentials.client_id) != credentials.client_id:
            raise OAuthError(400, "invalid_request", "client_id differs from the Basic user")
        return credentials
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or secret is None:
        raise OAuthError(401, "invalid_client", "client authentication is required")
    return ClientCredentials(client_id, secret, via_header=False)


def claimed_client_id() -> str | None:
    """The client id a token request claims, whatever else is wrong with it (for limits)."""
    try:
        return client_credentials(form_parameters()).client_id
    except OAuthError:
        return None
