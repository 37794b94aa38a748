"""What an operator types to name a record: an id, or the key they actually have at hand.

A member may be named by email or card number, a book by ISBN (10 or 13 digits, hyphens
allowed), a copy by its barcode. Lookups go through the use cases, like everything else.
"""

from __future__ import annotations

import re

from application.catalogue import Catalogue
from application.members import Membership
from application.queries import BookFilter, PageRequest
from domain.catalogue import Book, Copy
from domain.errors import BookNotFound, CopyNotFound, MemberNotFound
from domain.members import Member

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ISBN_LIKE = re.compile(r"^[0-9][0-9 -]{8,16}[0-9Xx]$")


def looks_like_id(reference: str) -> bool:
    return bool(_UUID.match(reference.strip()))


def member(membership: Membership, reference: str) -> Member:
    """By email when the reference has an ``@``, else by id, else by card number."""
    if "@" in reference:
        found = membership.find_by_email(reference)
        if found is None:
            raise MemberNotFound(reference)
        return found
    if looks_like_id(reference):
        try:
            return membership.get(reference.strip())
        except MemberNotFound:
            pass  # a card number may look like an id too
    return membership.get_by_card_number(reference)


def book(catalogue: Catalogue, reference: str) -> Book:
    """By id, or by ISBN."""
    if not looks_like_id(reference) and _ISBN_LIKE.match(reference.strip()):
        page = catalogue.search_books(BookFilter(isbn=reference), PageRequest(1, 1))
        if not page.items:
            raise BookNotFound(reference)
        return page.items[0]
    return catalogue.get_book(reference.strip())


def copy(catalogue: Catalogue, reference: str) -> Copy:
    """By id, or by barcode."""
    if looks_like_id(reference):
        try:
            return catalogue.get_copy(reference.strip())
        except CopyNotFound:
            pass  # a barcode may look like an id too
    return catalogue.get_copy_by_barcode(reference)
