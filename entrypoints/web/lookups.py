"""Names for the ids a use case returns: a loan's title and barcode, a hold's member.

Pages show people titles and names, where the API returns ids. These only read, through the
same use cases, once per distinct id on a page.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.catalogue import Book, Copy
from domain.errors import MemberNotFound
from domain.members import Member
from entrypoints.http.context import get_container


def books(book_ids: Iterable[str]) -> dict[str, Book]:
    catalogue = get_container().catalogue()
    return {book_id: catalogue.get_book(book_id) for book_id in set(book_ids)}


def copies(copy_ids: Iterable[str]) -> dict[str, Copy]:
    catalogue = get_container().catalogue()
    return {copy_id: catalogue.get_copy(copy_id) for copy_id in set(copy_ids)}


def members(member_ids: Iterable[str]) -> dict[str, Member]:
    """The members still registered (a loan can outlive its borrower's record)."""
    membership = get_container().membership()
    found: dict[str, Member] = {}
    for member_id in set(member_ids):
        try:
            found[member_id] = membership.get(member_id)
        except MemberNotFound:
            continue
    return found
