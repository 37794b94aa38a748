"""Notices: what was sent to members, what waits, and what failed."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.notices import NoticeLog
from application.outbox import Channel, OutboxFilter
from domain.access import Scope
from entrypoints.http import access
from entrypoints.http.openapi import listed, operation
from entrypoints.http.pagination import page_request, page_response
from entrypoints.http.root import API_PREFIX
from entrypoints.http.schemas.notices import NOTICE_EXAMPLE, NoticeOut, NoticePage, NoticeQuery

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
