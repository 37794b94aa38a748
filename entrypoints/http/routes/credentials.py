"""API keys and service clients: made, listed and revoked by admins.

A key or client secret is in the response that creates it and nowhere else, ever: only its
digest is stored, the response says ``Cache-Control: no-store``, and creating one takes no
``Idempotency-Key`` (a stored response would be a stored secret). Revoking keeps the record, so
lists show what was revoked and when; revoking twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.identity.api_keys import ApiKeys
from application.identity.clients import ServiceClients
from domain.access import Scope
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.openapi import NOT_MODIFIED, Reply, listed, no_content, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response, slice_page
from entrypoints.http.responses.rendering import json_response, url_for_path
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.http.routes.sessions import NO_STORE
from entrypoints.schemas.auth import (
    API_KEY_EXAMPLE,
    CREATED_API_KEY_EXAMPLE,
    CREATED_SERVICE_CLIENT_EXAMPLE,
    SERVICE_CLIENT_EXAMPLE,
    ApiKeyCreate,
    ApiKeyOut,
    ApiKeyPage,
    ApiKeyPath,
    CreatedApiKeyOut,
    CreatedServiceClientOut,
    ServiceClientCreate,
    ServiceClientOut,
    ServiceClientPage,
    ServiceClientPath,
)
from entrypoints.schemas.common import PageQuery

bp = APIBlueprint(
    "admin",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[
        Tag(
            name="Administration",
            description="API keys for integrations and OAuth 2.0 service clients (admins only).",
        )
    ],
)
ADMIN = access.requires(Scope.ADMIN)


def _page_example(item: object) -> dict[str, object]:
    return {"items": [item], "page": 1, "per_page": 20, "total": 1}


def _check_if_match(resource_id: str, current_version: Callable[[], int]) -> None:
    """412 unless ``If-Match`` is absent, ``*`` or names the current version (a 404 first when
    there is no such resource). Revoking changes nothing but the revocation, so a check just
    before it is enough."""
    version = current_version()
    conditional.require_match(entity_etag(resource_id, version))


# --- API keys ------------------------------------------------------------------------------


@operation(
    bp,
    "POST",
    "/api-keys",
    summary="Create an API key",
    description="Make a key for an integration with the scopes given (and an optional expiry). "
    "The response carries the key itself, once: store it now. Send it as "
    "`Authorization: ApiKey <key>`.",
    replies=[
        Reply(
            201,
            "The key was made.",
            CreatedApiKeyOut,
            CREATED_API_KEY_EXAMPLE,
            ("Location", "Cache-Control"),
        )
    ],
    access=ADMIN,
)
@inject
def create_api_key(body: ApiKeyCreate, api_keys: ApiKeys = Provide["api_keys"]) -> Response:
    created = api_keys.create(body.name, body.scopes, body.expires_at)
    location = url_for_path(f"{API_PREFIX}/api-keys/{created.key.id}")
    return json_response(
        CreatedApiKeyOut.of_created(created), 201, {"Location": location, **NO_STORE}
    )


@operation(
    bp,
    "GET",
    "/api-keys",
    summary="List API keys",
    description="Every key, oldest first, revoked ones too; never the keys themselves.",
    replies=[listed(ApiKeyPage, _page_example(API_KEY_EXAMPLE), "A page of API keys.")],
    access=ADMIN,
)
@inject
def list_api_keys(query: PageQuery, api_keys: ApiKeys = Provide["api_keys"]) -> Response:
    return page_response(slice_page(api_keys.list(), page_request(query)), ApiKeyOut.of, ApiKeyPage)


@operation(
    bp,
    "GET",
    "/api-keys/<key_id>",
    summary="Get an API key",
    description="One key's name, prefix, scopes, expiry and revocation; never the key itself.",
    replies=[ok(ApiKeyOut, API_KEY_EXAMPLE, "The API key."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=ADMIN,
)
@inject
def get_api_key(path: ApiKeyPath, api_keys: ApiKeys = Provide["api_keys"]) -> Response:
    key = api_keys.get(path.key_id)
    return conditional.read(ApiKeyOut.of(key), entity_etag(key.id, key.version))


@operation(
    bp,
    "DELETE",
    "/api-keys/<key_id>",
    summary="Revoke an API key",
    description="The key stops working at once, for good. The record stays (listed as "
    "revoked); revoking again changes nothing.",
    replies=[no_content("The key is revoked.")],
    errors=(412,),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def revoke_api_key(path: ApiKeyPath, api_keys: ApiKeys = Provide["api_keys"]) -> Response:
    _check_if_match(path.key_id, lambda: api_keys.get(path.key_id).version)
    api_keys.revoke(path.key_id)
    return no_content_response()


# --- service clients -----------------------------------------------------------------------


@operation(
    bp,
    "POST",
    "/service-clients",
    summary="Register a service client",
    description="Register an OAuth 2.0 client (client credentials grant) with the scopes it "
    "may ask for. The response carries the client secret, once: store it now. The client gets "
    "tokens at `POST /oauth/token`.",
    replies=[
        Reply(
            201,
            "The client was registered.",
            CreatedServiceClientOut,
            CREATED_SERVICE_CLIENT_EXAMPLE,
            ("Location", "Cache-Control"),
        )
    ],
    access=ADMIN,
)
@inject
def create_service_client(
    body: ServiceClientCreate, service_clients: ServiceClients = Provide["service_clients"]
) -> Response:
    created = service_clients.create(body.name, body.scopes)
    location = url_for_path(f"{API_PREFIX}/service-clients/{created.client.id}")
    return json_response(
        CreatedServiceClientOut.of_created(created), 201, {"Location": location, **NO_STORE}
    )


@operation(
    bp,
    "GET",
    "/service-clients",
    summary="List service clients",
    description="Every client, oldest first, revoked ones too; never their secrets.",
    replies=[
        listed(
            ServiceClientPage, _page_example(SERVICE_CLIENT_EXAMPLE), "A page of service clients."
        )
    ],
    access=ADMIN,
)
@inject
def list_service_clients(
    query: PageQuery, service_clients: ServiceClients = Provide["service_clients"]
) -> Response:
    found = slice_page(service_clients.list(), page_request(query))
    return page_response(found, ServiceClientOut.of, ServiceClientPage)


@operation(
    bp,
    "GET",
    "/service-clients/<client_id>",
    summary="Get a service client",
    description="One client's name, scopes and revocation; never its secret.",
    replies=[ok(ServiceClientOut, SERVICE_CLIENT_EXAMPLE, "The service client."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=ADMIN,
)
@inject
def get_service_client(
    path: ServiceClientPath, service_clients: ServiceClients = Provide["service_clients"]
) -> Response:
    client = service_clients.get(path.client_id)
    return conditional.read(ServiceClientOut.of(client), entity_etag(client.id, client.version))


@operation(
    bp,
    "DELETE",
    "/service-clients/<client_id>",
    summary="Revoke a service client",
    description="The client gets no more tokens; tokens it holds live out their short "
    "lifetime. The record stays (listed as revoked); revoking again changes nothing.",
    replies=[no_content("The client is revoked.")],
    errors=(412,),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def revoke_service_client(
    path: ServiceClientPath, service_clients: ServiceClients = Provide["service_clients"]
) -> Response:
    _check_if_match(path.client_id, lambda: service_clients.get(path.client_id).version)
    service_clients.revoke(path.client_id)
    return no_content_response()
