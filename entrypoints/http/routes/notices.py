"""Notices: what was sent to members, what waits, and what failed."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.notices import NoticeChoices, NoticeLog
from application.outbox import Channel, OutboxFilter
from domain.access import Scope
from domain.members import NoticePreferences
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.openapi import NOT_MODIFIED, listed, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.members import MemberPath
from entrypoints.schemas.notices import (
    NOTICE_EXAMPLE,
    NOTICE_PREFERENCES_EXAMPLE,
    NoticeOut,
    NoticePage,
    NoticePreferencesIn,
    NoticePreferencesOut,
    NoticeQuery,
)

bp = APIBlueprint(
    "notices",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Notices", description="Notices to members and their delivery state.")],
)


@operation(
    bp,
    "GET",
    "/notices",
    summary="List notices",
    description="Newest first, with each one's delivery state (`pending`, `delivered`, "
    "`failed`, `cancelled`), attempts and last error. Filters: `member_id`, `status`. A member "
    "sees their own.",
    replies=[
        listed(
            NoticePage,
            {"items": [NOTICE_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of notices.",
        )
    ],
    errors=(404,),
    access=access.requires(Scope.MEMBERS_READ, owner=access.Owner.QUERY),
)
@inject
def list_notices(query: NoticeQuery, notices: NoticeLog = Provide["notices"]) -> Response:
    found = notices.list(
        OutboxFilter(
            member_id=access.visible_member(query.member_id),
            status=query.status,
            channel=Channel.EMAIL,
        ),
        page_request(query),
    )
    return page_response(found, NoticeOut.of, NoticePage)


@operation(
    bp,
    "GET",
    "/members/<member_id:member_id>/notice-preferences",
    summary="Get a member's notice preferences",
    description="Whether the member gets receipts (opt in) and overdue notices. Notices about "
    "due dates and holds always go. Its ETag is the member's.",
    replies=[
        ok(NoticePreferencesOut, NOTICE_PREFERENCES_EXAMPLE, "The preferences."),
        NOT_MODIFIED,
    ],
    headers=("If-None-Match",),
    access=access.requires(Scope.MEMBERS_READ, owner=access.Owner.PATH),
)
@inject
def get_notice_preferences(
    path: MemberPath, choices: NoticeChoices = Provide["notice_choices"]
) -> Response:
    member = choices.get(path.member_id)
    return conditional.read(NoticePreferencesOut.of(member), entity_etag(member.id, member.version))


@operation(
    bp,
    "PUT",
    "/members/<member_id:member_id>/notice-preferences",
    summary="Choose a member's notices",
    description="A member chooses their own, staff anyone's. Receipts are opt-in; turning "
    "overdue notices off is refused (409 `OVERDUE_NOTICES_REQUIRED`) unless the library lets "
    "members opt out.",
    replies=[ok(NoticePreferencesOut, NOTICE_PREFERENCES_EXAMPLE, "The preferences as set.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.MEMBERS_WRITE, owner=access.Owner.PATH),
)
@inject
def put_notice_preferences(
    path: MemberPath,
    body: NoticePreferencesIn,
    choices: NoticeChoices = Provide["notice_choices"],
) -> Response:
    expected = conditional.expected_version(
        path.member_id, lambda: choices.get(path.member_id).version
    )
    member = choices.choose(
        path.member_id,
        NoticePreferences(receipts=body.receipts, overdue=body.overdue),
        expected_version=expected,
    )
    return json_response(
        NoticePreferencesOut.of(member), headers={"ETag": entity_etag(member.id, member.version)}
    )
