"""Walking a list page by page, by cursor, as a client following ``next`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from application.queries import Page, PageRequest

T = TypeVar("T")


def walk_pages(listed: Callable[[PageRequest], Page[T]], per_page: int) -> list[Page[T]]:
    """Every page of a list: the first by number, each next one from the ``next_cursor`` of
    the page before."""
    pages = [listed(PageRequest(1, per_page))]
    while (cursor := pages[-1].next_cursor) is not None:
        pages.append(listed(PageRequest.starting_at(cursor, per_page)))
        assert len(pages) < 20, "the walk does not end"
    return pages


def assert_walks_the_list(listed: Callable[[PageRequest], Page[T]], expected: list[str]) -> None:
    """By cursor, every page size gives the whole list in its order, each item once, with a
    total that counts from the cursor and says so, and ``next`` exactly while items follow."""
    for per_page in (1, 2, 3):
        pages = walk_pages(listed, per_page)
        assert [getattr(item, "id") for p in pages for item in p.items] == expected  # noqa: B009
        assert [p.page for p in pages] == list(range(1, len(pages) + 1))
        assert pages[-1].next_cursor is None
        for number, later in enumerate(pages[1:], start=2):
            assert not later.total_exact
            assert later.total == len(expected)
            assert later.has_next == (number < len(pages))
