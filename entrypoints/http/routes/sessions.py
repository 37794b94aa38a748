"""Members' sessions (sign in, refresh, sign out) and the keys that verify access tokens.

Tokens are shown to the client and never logged: failures are logged with their reason code
and, for a sign-in, the email it claimed. Responses carrying tokens say ``Cache-Control:
no-store``.
"""

from __future__ import annotations

from typing import cast

from dependency_injector.wiring import Provide, inject
from flask import Response, request
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.operation import Operation
from flask_openapi3.models.request_body import RequestBody
from flask_openapi3.models.tag import Tag
from flask_openapi3.utils import parse_rule
from pydantic import ValidationError

from application.identity.sessions import Sessions
from application.identity.signing_keys import SigningKeys
from domain.errors import DomainError, ErrorKind, InvalidValue
from domain.members import normalise_email
from entrypoints.http.middleware import access
from entrypoints.http.middleware.caller import require_caller
from entrypoints.http.openapi import Reply, no_content, operation, register_schema
from entrypoints.http.responses.errors import validation_problem
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.logs import get_logger
from entrypoints.schemas.auth import (
    JWKS_EXAMPLE,
    TOKEN_PAIR_EXAMPLE,
    JwkSet,
    LoginBody,
    LogoutBody,
    RefreshBody,
    TokenPairOut,
)

TAG = Tag(
    name="Authentication",
    description="Sign in for tokens, refresh them, sign out; the public signing keys; OAuth 2.0 "
    "client credentials for service clients.",
)
bp = APIBlueprint("auth", __name__, abp_tags=[TAG])
log = get_logger("circulate.auth")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Rotations add keys rarely, and a verifier that meets an unknown kid fetches the set again.
JWKS_CACHE = "public, max-age=300"
LOGOUT_RULE = f"{API_PREFIX}/auth/logout"


def _loggable_email(email: str) -> str:
    """The email a sign-in claimed, if it looks like one (a password typed into the email
    field must not end up in the log)."""
    try:
        return normalise_email(email)
    except InvalidValue:
        return "<not an email>"


def tokens_response(pair: TokenPairOut) -> Response:
    return json_response(pair, headers=NO_STORE)


@operation(
    bp,
    "POST",
    f"{API_PREFIX}/auth/token",
    summary="Sign in",
    description="Trade a member's email and password for an access token (an EdDSA-signed "
    "JWT, valid `expires_in` seconds; send it as `Authorization: Bearer <token>`) and a "
    "refresh token. A wrong email and a wrong password are the same `INVALID_CREDENTIALS`. "
    "Rate limited per address and per email.",
    replies=[
        Reply(200, "Signed in.", TokenPairOut, TOKEN_PAIR_EXAMPLE, ("Cache-Control",)),
    ],
    errors=(401,),
    access=access.credentials_elsewhere(),
)
@inject
def create_token(body: LoginBody, sessions: Sessions = Provide["sessions"]) -> Response:
    try:
        pair = sessions.login(body.email, body.password)
    except DomainError as refusal:
        log.info("sign-in refused", reason=refusal.code, email=_loggable_email(body.email))
        raise
    return tokens_response(TokenPairOut.of(pair))


@operation(
    bp,
    "POST",
    f"{API_PREFIX}/auth/refresh",
    summary="Refresh tokens",
    description="Trade a refresh token for a new access token and refresh token. Each refresh "
    "token works once: one that comes back after it was used (`REFRESH_TOKEN_REUSED`) was "
    "stolen, or the next one was, so the whole session is revoked. Scopes follow the member's "
    "role as it is now.",
    replies=[
        Reply(200, "New tokens.", TokenPairOut, TOKEN_PAIR_EXAMPLE, ("Cache-Control",)),
    ],
    errors=(401,),
    access=access.credentials_elsewhere(),
)
@inject
def refresh_token(body: RefreshBody, sessions: Sessions = Provide["sessions"]) -> Response:
    try:
        pair = sessions.refresh(body.refresh_token)
    except DomainError as refusal:
        if refusal.kind is ErrorKind.UNAUTHENTICATED:
            log.warning("refresh refused", reason=refusal.code)
        raise
    return tokens_response(TokenPairOut.of(pair))


@operation(
    bp,
    "POST",
    LOGOUT_RULE,
    summary="Sign out",
    description="Revoke the access token that authenticates this request (refused from now "
    "until it would have expired, by every worker) and its session's refresh tokens. The "
    "optional body names a refresh token of another of the caller's sessions to end too. "
    "Signing out twice is not an error.",
    replies=[no_content("Signed out.")],
    errors=(400, 413, 415),
    access=access.authenticated(),
)
@inject
def logout(sessions: Sessions = Provide["sessions"]) -> Response:
    # The body is optional, so it is validated here rather than by a ``body`` model.
    try:
        body = LogoutBody.model_validate(request.get_json(silent=True) or {})
    except ValidationError as invalid:
        return validation_problem(invalid)
    sessions.logout(require_caller(), body.refresh_token)
    return no_content_response()


_logout = cast(Operation, bp.paths[parse_rule(LOGOUT_RULE)].post)
_logout.requestBody = RequestBody.model_validate(
    {
        "required": False,
        "content": {
            "application/json": {
                "schema": {"$ref": register_schema(bp, LogoutBody)},
                "example": LogoutBody.model_config["openapi_extra"]["example"],  # type: ignore[typeddict-item]
            }
        },
    }
)


@operation(
    bp,
    "GET",
    "/.well-known/jwks.json",
    summary="Public signing keys",
    description="The public keys that verify access tokens, as a JSON Web Key Set (RFC 7517; "
    "Ed25519 keys per RFC 8037). A token's `kid` names its key. After a rotation the previous "
    "key stays here until the last token it signed has expired.",
    replies=[Reply(200, "The key set.", JwkSet, JWKS_EXAMPLE, ("Cache-Control",))],
    access=access.credentials_elsewhere(),
)
@inject
def jwks(signing_keys: SigningKeys = Provide["signing_keys"]) -> Response:
    keys = JwkSet.model_validate(signing_keys.jwks())
    return json_response(keys, headers={"Cache-Control": JWKS_CACHE})
