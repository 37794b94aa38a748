"""List responses: ``{items, page, per_page, total}`` plus an RFC 8288 ``Link`` header.

Lists that also page by cursor (``CursorPageQuery``) answer ``next_cursor`` on every page, so a
client may switch from page numbers to the cursor at any page. A request made with ``after``
gets a ``next`` link made with the next cursor; a request by page number keeps page-number
links, so nothing changes for a client that never asks for a cursor."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlencode

from flask import Response, request
from pydantic import BaseModel
from werkzeug.urls import iri_to_uri

from application.queries import Cursor, Page, PageRequest
from domain.errors import InvalidValue
from entrypoints.http.request_context import current_request
from entrypoints.http.responses.rendering import JSON, json_response, url_for_path
from entrypoints.schemas.common import CursorPageQuery, PageQuery
from entrypoints.schemas.direct import DirectPage

T = TypeVar("T")


def page_request(query: PageQuery) -> PageRequest:
    if isinstance(query, CursorPageQuery) and query.after is not None:
        if "page" in request.args:
            raise InvalidValue("after", "give either page or after, not both")
        return PageRequest.starting_at(Cursor.decode(query.after), query.per_page)
    return PageRequest(page=query.page, per_page=query.per_page)


# A path of these characters is its own URI (``iri_to_uri`` would return it unchanged).
_URI_SAFE_PATH = re.compile(r"[A-Za-z0-9/._~-]*")


class _ListUrls:
    """This list's URL with its paging parameter set: the path and the other parameters are
    encoded once for all of a page's links."""

    def __init__(self) -> None:
        kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "after")]
        path = request.path
        uri = path if _URI_SAFE_PATH.fullmatch(path) else iri_to_uri(path)
        prefix = f"{url_for_path(uri)}?"
        self._prefix = f"{prefix}{urlencode(kept)}&" if kept else prefix

    def page(self, number: int) -> str:
        return f"{self._prefix}page={number}"  # digits: nothing to encode

    def after(self, cursor: str) -> str:
        return f"{self._prefix}after={quote_plus(cursor)}"


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
    list_url = _ListUrls()
    urls = {rel: list_url.page(number) for rel, number in links.items()}
    if page.next_cursor is not None and "after" in request.args:
        urls["next"] = list_url.after(page.next_cursor.encode())
    order = ("first", "prev", "next", "last")
    return ", ".join(f'<{urls[rel]}>; rel="{rel}"' for rel in order if rel in urls)


def _page_fields(page: Page[Any], items: Sequence[Any], model: type[BaseModel]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "total_exact": page.total_exact,
    }
    if "next_cursor" in model.model_fields:
        fields["next_cursor"] = page.next_cursor.encode() if page.next_cursor else None
    return fields


def page_response(
    page: Page[T], render: Callable[[T], BaseModel], model: type[BaseModel]
) -> Response:
    """Render ``page`` as ``model`` (a ``{items, page, per_page, total}`` model)."""
    fields = _page_fields(page, [render(item) for item in page.items], model)
    # The items are models already; the rest is the server's own count: nothing to validate.
    body = model.model_construct(**fields)
    return json_response(body, headers={"Link": link_header(page)})


# What a list's links are made of, besides the page: the request's URL (mount, path, query) and
# the host it names (links carry one when trusted hosts are set), as the environ has them.
_URL_PARTS = (
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
)
# Links kept per page: the few spellings of its URL that clients use. Any number of spellings
# name the same page (parameters repeated, reordered): past these, links are made per request.
LINKS_PER_PAGE = 8


@dataclass(slots=True)
class RenderedPage:
    """One page's JSON, and its ``Link`` header for each URL it was asked for by."""

    page: Page[Any]
    rendering: DirectPage[Any]
    body: bytes
    links: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def link_header(self) -> str:
        current = current_request()
        environ = current.environ
        hosts = current.trusted_hosts
        url = (*(environ.get(part) for part in _URL_PARTS), tuple(hosts) if hosts else None)
        found = self.links.get(url)
        if found is None:
            found = link_header(self.page)
            if len(self.links) < LINKS_PER_PAGE:
                self.links[url] = found
        return found


class RenderedPages:
    """The pages written lately, kept with the very ``Page`` objects they render.

    A cached read (``adapters.caching``) answers the same ``Page`` object, unchanged (pages and
    their items are frozen), to every request of the same list until a write replaces it: its
    JSON and its links are then written once, not once per request. Only the object itself
    finds them (``is``, not equality, which would compare every item); holding it keeps its
    ``id`` from naming another page. A page made afresh by each request simply misses.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[int, int], RenderedPage] = {}
        self._lock = threading.Lock()

    def of(self, page: Page[T], rendering: DirectPage[T]) -> RenderedPage:
        key = (id(page), id(rendering))
        found = self._entries.get(key)
        if found is not None and found.page is page and found.rendering is rendering:
            return found
        body = rendering.to_json(_page_fields(page, list(page.items), rendering.page_model))
        rendered = RenderedPage(page, rendering, body)
        with self._lock:  # readers take no lock: a dictionary lookup is atomic
            self._entries[key] = rendered
            while len(self._entries) > self._size:
                del self._entries[next(iter(self._entries))]  # the oldest
        return rendered


# A few dozen lists asked for over and over (the first pages of common searches) is what repays
# keeping; the cache holds the pages themselves anyway.
RENDERED_PAGES = RenderedPages(64)


def direct_page_response(page: Page[T], rendering: DirectPage[T]) -> Response:
    """``page`` as ``page_response`` renders it, written straight from its items (``direct``)."""
    rendered = RENDERED_PAGES.of(page, rendering)
    response = Response(rendered.body, mimetype=JSON)
    response.headers["Link"] = rendered.link_header()
    return response


def slice_page(items: list[T], request_: PageRequest) -> Page[T]:
    """Page a short list the application returns whole (e.g. the copies of one book)."""
    return Page(
        items=items[request_.offset : request_.offset + request_.per_page],
        total=len(items),
        page=request_.page,
        per_page=request_.per_page,
    )
