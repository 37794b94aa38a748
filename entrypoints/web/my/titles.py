"""The books a page's loans and holds are of: members read titles, not ids."""

from __future__ import annotations

from collections.abc import Iterable

from application.catalogue_reads import CatalogueReads
from domain.catalogue import Book
from entrypoints.http.context import get_container


def books(book_ids: Iterable[str]) -> dict[str, Book]:
    """Each distinct book once, through the same cached reads the API's catalogue uses."""
    reads: CatalogueReads = get_container().catalogue_reads()
    return {book_id: reads.get_book(book_id) for book_id in set(book_ids)}
