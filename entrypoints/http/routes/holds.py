"""Holds: members queueing for a book."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.circulation import Circulation, HoldInQueue
from application.queries import HoldFilter
from domain.access import Scope
from domain.errors import HoldNotFound
from entrypoints.container import Container
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.idempotency import idempotent
from entrypoints.http.openapi import NOT_MODIFIED, created, listed, no_content, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.loans import (
    HOLD_DETAIL_EXAMPLE,
    HOLD_EXAMPLE,
    HoldCreate,
    HoldDetail,
    HoldOut,
    HoldPage,
    HoldPatch,
    HoldPath,
    HoldPosition,
    HoldQuery,
)

bp = APIBlueprint(
    "holds",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Holds", description="Queues of members waiting for a book.")],
)


def _own_hold(circulation: Circulation, hold_id: str) -> HoldInQueue:
    """The hold, if the caller may see it; another member's is as missing as no hold at all."""
    queued = circulation.get_hold(hold_id)
    access.require_record_owner(queued.hold.member_id, HoldNotFound(hold_id))
    return queued


@operation(
    bp,
    "POST",
    "/holds",
    summary="Place a hold",
    description="Queue the member for the book, first come first served; when a copy is on the "
    "shelf it is set aside at once (`status` `ready`, collect by `pickup_by`). Refused by the "
    "same standing rules as borrowing, and for a second hold on the book, a book the member "
    "already has, the hold limit, or a book no copy of which can be lent.",
    replies=[created(HoldDetail, HOLD_DETAIL_EXAMPLE, "The hold was placed.")],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.BODY),
)
@idempotent
@inject
def create_hold(
    body: HoldCreate, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    queued = circulation.place_hold(body.member_id, body.book_id, body.not_needed_after)
    return conditional.created(HoldDetail.of_queued(queued), f"{API_PREFIX}/holds/{queued.hold.id}")


@operation(
    bp,
    "GET",
    "/holds",
    summary="List holds",
    description="Oldest first (queue order). Filters: `member_id`, `book_id`, `status`.",
    replies=[
        listed(
            HoldPage,
            {"items": [HOLD_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of holds.",
        )
    ],
    errors=(404,),
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.QUERY),
)
@inject
def list_holds(
    query: HoldQuery, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    found = circulation.list_holds(
        HoldFilter(
            member_id=access.visible_member(query.member_id),
            book_id=query.book_id,
            status=query.status,
        ),
        page_request(query),
    )
    positions = circulation.positions(found.items)
    return page_response(found, lambda h: HoldOut.of(h, positions[h.id]), HoldPage)


@operation(
    bp,
    "GET",
    "/holds/<hold_id>",
    summary="Get a hold",
    description="One hold, with its place in the queue while it waits.",
    replies=[ok(HoldDetail, HOLD_DETAIL_EXAMPLE, "The hold."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.RECORD),
)
@inject
def get_hold(
    path: HoldPath, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    return conditional.read(HoldDetail.of_queued(_own_hold(circulation, path.hold_id)))


@operation(
    bp,
    "PATCH",
    "/holds/<hold_id>",
    summary="Suspend or resume a hold, or change when it is no longer needed",
    description="`suspended: true` keeps the hold's place in the queue but passes it over when "
    "a copy comes free (a waiting hold only: `HOLD_NOT_ACTIVE` otherwise); `false` puts it back "
    "in line, and a free copy is set aside for it at once. `not_needed_after` is the last local "
    "day the member wants the book; a hold still waiting after it is expired by the daily job.",
    replies=[ok(HoldDetail, HOLD_DETAIL_EXAMPLE, "The hold as changed.", etag=False)],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.RECORD),
)
@inject
def update_hold(
    path: HoldPath,
    body: HoldPatch,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    current = _own_hold(circulation, path.hold_id)
    checked = conditional.require_match(conditional.model_etag(HoldDetail.of_queued(current)))
    queued = circulation.change_hold(
        path.hold_id, current.hold.version if checked else None, **body.given()
    )
    return json_response(HoldDetail.of_queued(queued))


@operation(
    bp,
    "PUT",
    "/holds/<hold_id>/position",
    summary="Move a hold in its book's queue",
    description="Staff put a waiting hold at `position` (1: next in line); the holds between "
    "its old and new place shift by one. Only a waiting hold moves (`HOLD_NOT_ACTIVE`).",
    replies=[ok(HoldDetail, HOLD_DETAIL_EXAMPLE, "The hold at its new place.", etag=False)],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@inject
def move_hold(
    path: HoldPath,
    body: HoldPosition,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    current = circulation.get_hold(path.hold_id)
    checked = conditional.require_match(conditional.model_etag(HoldDetail.of_queued(current)))
    queued = circulation.move_hold(
        path.hold_id, body.position, current.hold.version if checked else None
    )
    return json_response(HoldDetail.of_queued(queued))


@operation(
    bp,
    "DELETE",
    "/holds/<hold_id>",
    summary="Cancel a hold",
    description="Cancel a waiting or ready hold; a copy set aside for it passes to the next in "
    "the queue. The hold stays readable, as cancelled. A closed hold cannot be cancelled "
    "(`HOLD_NOT_ACTIVE`).",
    replies=[no_content("The hold was cancelled.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.RECORD),
)
@inject
def cancel_hold(
    path: HoldPath, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    current = _own_hold(circulation, path.hold_id)
    # The ETag covers the queue position, which moves without the hold changing: compare the
    # whole representation now, then let the use case refuse a hold changed since.
    checked = conditional.require_match(conditional.model_etag(HoldDetail.of_queued(current)))
    circulation.cancel_hold(
        path.hold_id, expected_version=current.hold.version if checked else None
    )
    return no_content_response()
