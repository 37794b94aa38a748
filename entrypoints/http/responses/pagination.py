"""List responses: ``{items, page, per_page, total}`` plus an RFC 8288 ``Link`` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Response, request
from pydantic import BaseModel
from werkzeug.urls import iri_to_uri

from application.queries import Page, PageRequest
from entrypoints.http.responses.rendering import json_response, url_for_path
from entrypoints.schemas.common import PageQuery

T = TypeVar("T")


def page_request(query: PageQuery) -> PageRequest:
    return PageRequest(page=query.page, per_page=query.per_page)


def _page_url(number: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    args.append(("page", str(number)))
    return f"{url_for_path(iri_to_uri(request.path))}?{urlencode(args)}"


def link_header(page: Page[Any]) -> str:
    """``first``, ``prev`` and ``next`` always where they exist; ``last`` only when the total is
    exact (a lower bound does not say which page is the last)."""
    last = page.pages
    links = {"first": 1}
    if page.total_exact:
        links["last"] = last
    if page.page > 1:
        links["prev"] = min(page.page - 1, last) if page.total_exact else page.page - 1
    if page.has_next:
        links["next"] = page.page + 1
    order = ("first", "prev", "next", "last")
    return ", ".join(f'<{_page_url(links[rel])}>; rel="{rel}"' for rel in order if rel in links)


def page_response(
    page: Page[T], render: Callable[[T], BaseModel], model: type[BaseModel]
) -> Response:
    """Render ``page`` as ``model`` (a ``{items, page, per_page, total}`` model)."""
    body = model.model_validate(
        {
            "items": [render(item) for item in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "total_exact": page.total_exact,
        }
    )
    return json_response(body, headers={"Link": link_header(page)})


def slice_page(items: list[T], request_: PageRequest) -> Page[T]:
    """Page a short list the application returns whole (e.g. the copies of one book)."""
    return Page(
        items=items[request_.offset : request_.offset + request_.per_page],
        total=len(items),
        page=request_.page,
        per_page=request_.per_page,
    )
