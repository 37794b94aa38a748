"""Webhooks: admins subscribe other systems' URLs to event types and see the deliveries.

The signing secret is in the response that creates a subscription and nowhere else (the
response says ``Cache-Control: no-store``, and the create takes no ``Idempotency-Key``: a stored
response would be a stored secret). A subscription never changes: to change one, make another.
"""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.webhooks import Webhooks
from domain.access import Scope
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.openapi import NOT_MODIFIED, Reply, listed, no_content, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response, slice_page
from entrypoints.http.responses.rendering import json_response, url_for_path
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.http.routes.sessions import NO_STORE
from entrypoints.schemas.common import PageQuery
from entrypoints.schemas.webhooks import (
    CREATED_WEBHOOK_EXAMPLE,
    DELIVERY_EXAMPLE,
    WEBHOOK_EXAMPLE,
    CreatedWebhookOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookPath,
)

bp = APIBlueprint(
    "webhooks",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[
        Tag(
            name="Webhooks",
            description="Signed JSON deliveries of events to other systems (admins only).",
        )
    ],
)
ADMIN = access.requires(Scope.ADMIN)
# A subscription never changes after it is made, so its ETag is that of its first version.
_VERSION = 1


@operation(
    bp,
    "POST",
    "/webhooks",
    summary="Subscribe a URL to event types",
    description="Deliveries are POSTed as signed JSON (see the notices documentation). The URL "
    "must be http(s) and resolve only to public addresses (422 `WEBHOOK_TARGET_REFUSED`), "
    "unless the service allows private ones. The response carries the signing secret, once.",
    replies=[
        Reply(
            201,
            "The subscription was made.",
            CreatedWebhookOut,
            CREATED_WEBHOOK_EXAMPLE,
            ("Location", "Cache-Control"),
        )
    ],
    access=ADMIN,
)
@inject
def create_webhook(body: WebhookCreate, webhooks: Webhooks = Provide["webhooks"]) -> Response:
    subscription = webhooks.subscribe(body.url, body.events)
    location = url_for_path(f"{API_PREFIX}/webhooks/{subscription.id}")
    return json_response(
        CreatedWebhookOut.of_created(subscription), 201, {"Location": location, **NO_STORE}
    )


@operation(
    bp,
    "GET",
    "/webhooks",
    summary="List webhook subscriptions",
    description="Every subscription, oldest first; never their secrets.",
    replies=[
        listed(
            WebhookPage,
            {"items": [WEBHOOK_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of subscriptions.",
        )
    ],
    access=ADMIN,
)
@inject
def list_webhooks(query: PageQuery, webhooks: Webhooks = Provide["webhooks"]) -> Response:
    return page_response(
        slice_page(webhooks.list(), page_request(query)), WebhookOut.of, WebhookPage
    )


@operation(
    bp,
    "GET",
    "/webhook-deliveries",
    summary="List webhook deliveries",
    description="The events sent, waiting or given up on, newest first, with their attempts "
    "and each target's last answer. Filters: `status`, `event`.",
    replies=[
        listed(
            DeliveryPage,
            {"items": [DELIVERY_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of deliveries.",
        )
    ],
    access=ADMIN,
)
@inject
def list_deliveries(query: DeliveryQuery, webhooks: Webhooks = Provide["webhooks"]) -> Response:
    found = webhooks.deliveries(query.status, query.event, page_request(query))
    return page_response(found, DeliveryOut.of, DeliveryPage)


@operation(
    bp,
    "GET",
    "/webhooks/<webhook_id>",
    summary="Get a webhook subscription",
    description="One subscription's URL and event types; never its secret.",
    replies=[ok(WebhookOut, WEBHOOK_EXAMPLE, "The subscription."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=ADMIN,
)
@inject
def get_webhook(path: WebhookPath, webhooks: Webhooks = Provide["webhooks"]) -> Response:
    subscription = webhooks.get(path.webhook_id)
    return conditional.read(WebhookOut.of(subscription), entity_etag(subscription.id, _VERSION))


@operation(
    bp,
    "DELETE",
    "/webhooks/<webhook_id>",
    summary="Remove a webhook subscription",
    description="Nothing more is delivered to it; events already waiting for it are sent to "
    "the subscriptions that remain.",
    replies=[no_content("The subscription was removed.")],
    errors=(412,),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def delete_webhook(path: WebhookPath, webhooks: Webhooks = Provide["webhooks"]) -> Response:
    subscription = webhooks.get(path.webhook_id)  # 404 before any 412
    conditional.require_match(entity_etag(subscription.id, _VERSION))
    webhooks.remove(path.webhook_id)
    return no_content_response()
