"""A list page's JSON and links are written once per ``Page`` object
(``pagination.RenderedPages``): the same object answers the same bytes and, for the same URL,
the same links; any other object is written afresh."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from application.queries import Page
from domain.catalogue import Book
from entrypoints.http.responses.pagination import LINKS_PER_PAGE, RenderedPages, link_header
from entrypoints.schemas.books import BOOK_PAGE, BookOut, BookPage
from entrypoints.schemas.direct import DirectPage

MOMENT = datetime(2024, 5, 1, tzinfo=UTC)


def _book(n: int, title: str = "A Title") -> Book:
    return Book(
        id=f"book-{n}",
        isbn="9780131103627",
        title=title,
        authors=("A. Writer",),
        publisher=None,
        year=2001,
        subjects=(),
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def _page(*books: Book) -> Page[Book]:
    return Page(items=tuple(books), total=len(books), page=1, per_page=20)


def _expected(page: Page[Book]) -> bytes:
    return BOOK_PAGE.to_json(
        {
            "items": list(page.items),
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "total_exact": page.total_exact,
            "next_cursor": None,
        }
    )


class _Counting(DirectPage[Book]):
    def __init__(self) -> None:
        super().__init__(BookPage, BookOut, Book)
        self.written = 0

    def to_json(self, page: dict[str, Any]) -> bytes:
        self.written += 1
        return super().to_json(page)


def test_the_same_page_object_is_written_once_and_answers_the_same_bytes() -> None:
    rendered, rendering = RenderedPages(4), _Counting()
    page = _page(_book(1), _book(2))

    first, second = rendered.of(page, rendering).body, rendered.of(page, rendering).body

    assert first == second == _expected(page)
    assert rendering.written == 1


def test_an_equal_page_that_is_another_object_is_written_afresh() -> None:
    rendered, rendering = RenderedPages(4), _Counting()
    before = _page(_book(1, "Old Title"))
    after = _page(_book(1, "New Title"))  # what a read after a write answers: a new object

    assert rendered.of(before, rendering).body == _expected(before)
    assert rendered.of(after, rendering).body == _expected(after)
    assert b"New Title" in rendered.of(after, rendering).body
    assert rendering.written == 2


def test_only_the_latest_pages_are_kept() -> None:
    rendered, rendering = RenderedPages(2), _Counting()
    pages = [_page(_book(n)) for n in range(3)]
    for page in pages:
        rendered.of(page, rendering)

    rendered.of(pages[0], rendering)  # the oldest was let go: written again
    rendered.of(pages[2], rendering)  # still kept

    assert rendering.written == 4


@pytest.mark.parametrize("per_page", [1, 20])
def test_a_listed_page_is_the_json_of_its_books(per_page: int) -> None:
    page = Page(items=(_book(1), _book(2)), total=2, page=1, per_page=per_page)

    assert RenderedPages(4).of(page, BOOK_PAGE).body == _expected(page)


def _links_of(rendered: RenderedPages, page: Page[Book], url: str, **environ: Any) -> str:
    with Flask(__name__).test_request_context(url, environ_overrides=environ):
        found = rendered.of(page, BOOK_PAGE).link_header()
        assert found == link_header(page)  # what the request would have been answered anyway
        return found


def test_each_url_of_a_page_gets_its_own_links() -> None:
    rendered = RenderedPages(4)
    page = Page(items=(_book(1),), total=45, page=2, per_page=20)

    plain = _links_of(rendered, page, "/api/v1/books?per_page=20&page=2")
    searched = _links_of(rendered, page, "/api/v1/books?q=tide&per_page=20&page=2")
    mounted = _links_of(rendered, page, "/api/v1/books?per_page=20&page=2", SCRIPT_NAME="/lib")

    assert '</api/v1/books?per_page=20&page=3>; rel="next"' in plain
    assert '</api/v1/books?q=tide&per_page=20&page=3>; rel="next"' in searched
    assert '</lib/api/v1/books?per_page=20&page=3>; rel="next"' in mounted
    assert _links_of(rendered, page, "/api/v1/books?per_page=20&page=2") == plain


def test_a_page_keeps_the_links_of_a_few_urls_and_makes_the_others_each_time() -> None:
    rendered = RenderedPages(4)
    page = _page(_book(1))
    urls = [f"/api/v1/books?q=word{n}" for n in range(LINKS_PER_PAGE + 3)]

    for url in urls:
        assert f"<{url}&page=1>" in _links_of(rendered, page, url)

    assert len(rendered.of(page, BOOK_PAGE).links) == LINKS_PER_PAGE
    assert f"<{urls[-1]}&page=1>" in _links_of(rendered, page, urls[-1])
