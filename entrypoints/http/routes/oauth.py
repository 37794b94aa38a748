"""``POST /oauth/token``: OAuth 2.0 client credentials (RFC 6749 section 4.4).

A service client an admin registered trades its id and secret for an access token (section 5.1;
no refresh token, section 4.4.3). Unlike the rest of the API, this endpoint speaks the RFC's own
format: a form-encoded request, and errors as ``{"error", "error_description"}`` (section 5.2),
never problem+json, so that any OAuth 2.0 client library can use it. Every answer says
``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.operation import Operation
from flask_openapi3.models.request_body import RequestBody

from application.identity.clients import ServiceClients
from domain.access import format_scopes
from domain.errors import InvalidClient, InvalidScope
from entrypoints.http.middleware import access
from entrypoints.http.middleware.client_credentials import (
    FORM,
    OAuthError,
    client_credentials,
    form_parameters,
)
from entrypoints.http.middleware.request_id import HEADER as REQUEST_ID_HEADER
from entrypoints.http.openapi import HEADERS, problem_reply, register_schema
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.routes.sessions import NO_STORE, TAG
from entrypoints.logs import get_logger
from entrypoints.schemas.auth import CLIENT_TOKEN_EXAMPLE, ClientTokenOut, OAuthErrorOut

RULE = "/oauth/token"
GRANT_TYPE = "client_credentials"

bp = APIBlueprint("oauth", __name__, abp_tags=[TAG])
log = get_logger("circulate.auth")
access.register("oauth.issue_token", access.credentials_elsewhere())


def oauth_error(error: OAuthError) -> Response:
    body = {"error": error.error, "error_description": error.description}
    response = Response(json.dumps(body), status=error.status, mimetype="application/json")
    response.headers.update({**NO_STORE, **error.headers})
    return response


def _headers(*names: str) -> dict[str, Any]:
    return {name: HEADERS[name] for name in (REQUEST_ID_HEADER, *names)}


def _error_reply(description: str, example: Mapping[str, str], *headers: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _headers("Cache-Control", *headers),
        "content": {
            "application/json": {
                "schema": {"$ref": register_schema(bp, OAuthErrorOut)},
                "example": example,
            }
        },
    }


_RESPONSES: dict[int, Any] = {
    200: {
        "description": "The access token (RFC 6749 section 5.1).",
        "headers": _headers("Cache-Control"),
        "content": {
            "application/json": {
                "schema": {"$ref": register_schema(bp, ClientTokenOut)},
                "example": CLIENT_TOKEN_EXAMPLE,
            }
        },
    },
    400: _error_reply(
        "`invalid_request` (a parameter missing, repeated, or not form-encoded), "
        "`unsupported_grant_type` or `invalid_scope`.",
        {"error": "unsupported_grant_type", "error_description": "only client_credentials"},
    ),
    413: _error_reply(
        "The form is larger than the body limit (`invalid_request`).",
        {"error": "invalid_request", "error_description": "the request body is too large"},
    ),
    401: _error_reply(
        "`invalid_client`: unknown client, wrong secret, revoked client, or no client "
        "authentication.",
        {"error": "invalid_client", "error_description": "client authentication failed"},
        "WWW-Authenticate",
    ),
    429: _error_reply(
        "Too many token requests from this address or for this client (`temporarily_unavailable`).",
        {"error": "temporarily_unavailable", "error_description": "too many requests"},
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
    ),
}

_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
        "scope": {
            "type": "string",
            "description": "Space-separated scopes, each granted to the client; default: all "
            "it was granted.",
            "maxLength": 200,
        },
        "client_id": {
            "type": "string",
            "description": "With client_secret, when not using HTTP Basic.",
            "maxLength": 64,
        },
        "client_secret": {"type": "string", "maxLength": 200},
    },
    "additionalProperties": False,
}


_RESPONSES[500] = problem_reply(bp, 500)  # an unexpected failure is the API's problem


@bp.post(
    RULE,
    summary="Get a service client's access token",
    description="OAuth 2.0 client credentials grant (RFC 6749 section 4.4). Authenticate the "
    "client with HTTP Basic (`client_id:client_secret`) or with `client_id` and "
    "`client_secret` in the form, not both; ask for `scope` (space-separated) or get every "
    "scope the client was granted. Errors use the RFC's format (section 5.2), not problem+json. "
    "Rate limited per address and per client.\n\n**Access:** anyone; the client's "
    "credentials are the request.",
    responses=cast(dict[Any, Any], _RESPONSES),
    security=[{access.CLIENT_BASIC_SCHEME: []}, {}],
    operation_id="issue_token",
)
@inject
def issue_token(service_clients: ServiceClients = Provide["service_clients"]) -> Response:
    client_id: str | None = None
    try:
        form = form_parameters()
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant_type != GRANT_TYPE:
            raise OAuthError(400, "unsupported_grant_type", f"only {GRANT_TYPE} is supported")
        credentials = client_credentials(form)
        client_id = credentials.client_id
        try:
            token = service_clients.issue_token(client_id, credentials.secret, form.get("scope"))
        except InvalidClient as refusal:
            raise OAuthError(401, "invalid_client", refusal.message) from None
        except InvalidScope as refusal:
            raise OAuthError(400, "invalid_scope", refusal.message) from None
    except OAuthError as error:
        log.info("client token refused", reason=error.error, client_id=client_id)
        return oauth_error(error)
    body = ClientTokenOut(
        access_token=token.token,
        token_type="Bearer",  # noqa: S106 (a token type, not a secret)
        expires_in=token.expires_in,
        scope=format_scopes(token.scopes),
    )
    return json_response(body, headers=NO_STORE)


# The body is a form, described here: no model validates it, as its errors keep the RFC's format.
_documented = cast(Operation, bp.paths[RULE].post)
_documented.requestBody = RequestBody.model_validate(
    {
        "required": True,
        "content": {
            FORM: {
                "schema": _FORM_SCHEMA,
                "example": {"grant_type": GRANT_TYPE, "scope": "books:read"},
            }
        },
    }
)
