"""Names for the ids a use case returns: a loan's title and barcode, a hold's member.

Pages show people titles and names, where the API returns ids. These only read, through the
same use cases, once per distinct id on a page.
"""

from __future__ import annotations

from collections.abc import Iterable

from dependency_injector.wiring import Provide, inject

from application.catalogue import Catalogue
from application.catalogue_reads import CatalogueReads
from application.circulation import Circulation
from application.members import Membership
from domain.catalogue import Book, Copy
from domain.errors import MemberNotFound
from domain.loans import Loan
from domain.members import Member
from entrypoints.container import Container


@inject
def books(
    book_ids: Iterable[str], reads: CatalogueReads = Provide[Container.library.catalogue_reads]
) -> dict[str, Book]:
    """Each distinct book once, through the same cached reads the API's catalogue uses."""
    return {book_id: reads.get_book(book_id) for book_id in set(book_ids)}


@inject
def copies(
    copy_ids: Iterable[str], catalogue: Catalogue = Provide[Container.library.catalogue]
) -> dict[str, Copy]:
    return {copy_id: catalogue.get_copy(copy_id) for copy_id in set(copy_ids)}


@inject
def loans(
    loan_ids: Iterable[str], circulation: Circulation = Provide[Container.library.circulation]
) -> dict[str, Loan]:
    return {loan_id: circulation.get_loan(loan_id) for loan_id in set(loan_ids)}


@inject
def members(
    member_ids: Iterable[str], membership: Membership = Provide[Container.library.membership]
) -> dict[str, Member]:
    """The members still registered (a loan can outlive its borrower's record)."""
    found: dict[str, Member] = {}
    for member_id in set(member_ids):
        try:
            found[member_id] = membership.get(member_id)
        except MemberNotFound:
            continue
    return found
