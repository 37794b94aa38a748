"""The books and copies a page's loans, holds and charges are of: members read titles (and the
barcode on the item in their hands), not ids."""

from __future__ import annotations

from collections.abc import Iterable

from application.catalogue_reads import CatalogueReads
from domain.catalogue import Book, Copy
from domain.loans import Loan
from entrypoints.http.context import get_container


def books(book_ids: Iterable[str]) -> dict[str, Book]:
    """Each distinct book once, through the same cached reads the API's catalogue uses."""
    reads: CatalogueReads = get_container().catalogue_reads()
    return {book_id: reads.get_book(book_id) for book_id in set(book_ids)}


def copies(copy_ids: Iterable[str]) -> dict[str, Copy]:
    catalogue = get_container().catalogue()
    return {copy_id: catalogue.get_copy(copy_id) for copy_id in set(copy_ids)}


def loans(loan_ids: Iterable[str]) -> dict[str, Loan]:
    circulation = get_container().circulation()
    return {loan_id: circulation.get_loan(loan_id) for loan_id in set(loan_ids)}
