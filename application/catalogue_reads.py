"""The catalogue's shared reads: questions every caller gets the same answer to.

A book, a page of a search, a book's copies and its availability when no member is asked about
depend on the stored catalogue alone, not on who asks or when. That is what lets an adapter keep
their answers (``adapters.caching.CachedCatalogueReads``) until the domain events of a committed
change say they may be out of date. A member's own availability depends on their standing and
on the time, so it is always read afresh.

An answer may be shared with every other caller that asks the same question (an in-process
cache hands back the very objects it keeps): read it, never change it.
"""

from __future__ import annotations

from typing import Protocol

from application.circulation import Availability
from application.queries import BookFilter, Page, PageRequest
from domain.catalogue import Book, Copy


class CatalogueReads(Protocol):
    def get_book(self, book_id: str) -> Book: ...

    def search_books(self, query: BookFilter, page: PageRequest) -> Page[Book]: ...

    def list_copies(self, book_id: str) -> list[Copy]: ...

    def availability(self, book_id: str, member_id: str | None = None) -> Availability:
        """How many copies are where; with ``member_id``, whether that member could borrow."""
        ...
