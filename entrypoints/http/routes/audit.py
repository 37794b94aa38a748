"""The audit trail: who changed what, and the request that attributes each change to its caller.

``init_app`` runs every request's work ``acting_as`` its authenticated caller and request id
(``application.audit``), so whatever the request commits is recorded as theirs without any use
case being told. Staff read the trail; nothing in the API changes or deletes it.
"""

from __future__ import annotations

from contextvars import Token

from dependency_injector.wiring import Provide, inject
from flask import Flask, Response, g
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.audit import Actor, AuditEvents, start_acting, stop_acting
from domain.access import Scope
from entrypoints.http.middleware import access
from entrypoints.http.middleware.caller import current_caller
from entrypoints.http.middleware.request_id import current_request_id
from entrypoints.http.openapi import listed, operation
from entrypoints.http.responses.pagination import page_request, page_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.audit import (
    AUDIT_EVENT_EXAMPLE,
    AuditEventOut,
    AuditEventPage,
    AuditQuery,
)

bp = APIBlueprint(
    "audit",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Audit", description="Who changed what, when, and from which request.")],
)


@operation(
    bp,
    "GET",
    "/audit-events",
    summary="List audit events",
    description="Every change to circulation, money, members, rules and credentials, newest "
    "first: who did it (`actor`), what (`action`, `entity_type`, `entity_id`, `details`), when "
    "and from which request. Filters: `entity_type` with `entity_id`, `actor`, `action`, and "
    "the time range `since` (inclusive) to `until` (exclusive). Staff only; the trail is "
    "append-only, so no operation changes or deletes an event.",
    replies=[
        listed(
            AuditEventPage,
            {"items": [AUDIT_EVENT_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of audit events.",
        )
    ],
    access=access.requires(Scope.MEMBERS_READ, staff=True),
)
@inject
def list_audit_events(query: AuditQuery, audit: AuditEvents = Provide["audit"]) -> Response:
    found = audit.list(query.filter(), page_request(query))
    return page_response(found, AuditEventOut.of, AuditEventPage)


# --- attributing each request's changes ------------------------------------------------------

_ACTING = "audit_acting"  # where the request keeps its acting_as token


def _act_as_caller() -> None:
    setattr(g, _ACTING, start_acting(Actor.of(current_caller(), current_request_id())))


def _stop_acting(_: BaseException | None) -> None:
    token: Token[Actor | None] | None = g.pop(_ACTING, None)
    if token is not None:
        stop_acting(token)


def init_app(app: Flask) -> None:
    """After the guard has authenticated the caller (``guard.init_app``)."""
    app.before_request(_act_as_caller)
    app.teardown_request(_stop_acting)
