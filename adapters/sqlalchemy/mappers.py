"""Rows to domain entities and back: one small pair of functions per table.

``*_values`` give the column values for an INSERT or UPDATE, derived search keys included;
``*_row`` give the same values as a tuple in the order of ``*_COLUMNS``, for bulk loads, which
convert the few values their driver needs converted themselves (``adapters.sqlalchemy.bulk``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Row

from adapters.sqlalchemy.models import (
    ANY_CODE,
    BookRow,
    CirculationRuleRow,
    ClosureRow,
    CopyRow,
    HoldRow,
    ItemTypeRow,
    LedgerEntryRow,
    LoanRow,
    MemberCategoryRow,
    MemberRow,
)
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.holds import Hold
from domain.ledger import Allocation, LedgerEntry
from domain.loans import Loan
from domain.members import Member, NoticePreferences
from domain.rules import TERMS, CirculationRule, ItemType, MemberCategory

# Separates authors in ``authors_key``; author names never contain it (the domain collapses
# whitespace), so a substring match cannot run from one author into the next.
AUTHOR_SEPARATOR = "\n"


def fold(text: str) -> str:
    """The case-insensitive form of ``text`` that keys are stored and searched in."""
    return text.casefold()


def authors_key(authors: tuple[str, ...]) -> str:
    return AUTHOR_SEPARATOR.join(fold(author) for author in authors)


def book_values(book: Book) -> dict[str, Any]:
    return {
        "id": book.id,
        "isbn": book.isbn,
        "title": book.title,
        "authors": list(book.authors),
        "publisher": book.publisher,
        "year": book.year,
        "subjects": list(book.subjects),
        "title_key": fold(book.title),
        "authors_key": authors_key(book.authors),
        "created_at": book.created_at,
        "updated_at": book.updated_at,
        "version": book.version,
        "item_type": book.item_type,
    }


BOOK_COLUMNS = (
    "id",
    "isbn",
    "title",
    "authors",
    "publisher",
    "year",
    "subjects",
    "title_key",
    "authors_key",
    "created_at",
    "updated_at",
    "version",
)


def book_row(book: Book) -> tuple[Any, ...]:
    return (
        book.id,
        book.isbn,
        book.title,
        book.authors,
        book.publisher,
        book.year,
        book.subjects,
        fold(book.title),
        authors_key(book.authors),
        book.created_at,
        book.updated_at,
        book.version,
    )


# The columns a ``Book`` is made of, in the order ``_book`` takes their values.
BOOK_FIELDS = (
    "id",
    "isbn",
    "title",
    "authors",
    "publisher",
    "year",
    "subjects",
    "created_at",
    "updated_at",
    "version",
    "item_type",
)
_book_fields_by_name = attrgetter(*BOOK_FIELDS)


def _book(values: tuple[Any, ...]) -> Book:
    """The book of its column values, in the order of ``BOOK_FIELDS``."""
    (id_, isbn, title, authors, publisher, year, subjects, created, updated, version, item_type) = (
        values
    )
    return Book(
        id=id_,
        isbn=isbn,
        title=title,
        authors=tuple(authors),
        publisher=publisher,
        year=year,
        subjects=tuple(subjects),
        created_at=created,
        updated_at=updated,
        version=version,
        item_type=item_type,
    )


def book_from_row(row: BookRow) -> Book:
    return _book(_book_fields_by_name(row))


def books_from_rows(rows: Sequence[Row[Any]]) -> list[Book]:
    """The books of the rows of one result (each with a column per ``BOOK_FIELDS``, named as it
    is, among any others).

    A row's columns are read by position, found once for the whole result: reading a Core row
    by attribute name looks the name up in the result's keys each time, which cost more than
    making the ``Book`` on a page of them."""
    if not rows:
        return []
    values = _positions(tuple(rows[0]._fields), BOOK_FIELDS)
    return [_book(values(row)) for row in rows]


# Keyed by the columns of a result: a few statements' worth, each looked up once per page.
@lru_cache(maxsize=64)
def _positions(columns: tuple[str, ...], wanted: tuple[str, ...]) -> itemgetter[Any]:
    """A getter of the ``wanted`` columns' values, as a tuple, from a row of ``columns``."""
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise KeyError(f"the rows lack the columns {missing}")
    return itemgetter(*(columns.index(name) for name in wanted))


def copy_values(copy: Copy) -> dict[str, Any]:
    return {
        "id": copy.id,
        "book_id": copy.book_id,
        "barcode": copy.barcode,
        "status": copy.status,
        "created_at": copy.created_at,
        "updated_at": copy.updated_at,
        "version": copy.version,
        "item_type": copy.item_type,
    }


COPY_COLUMNS = ("id", "book_id", "barcode", "status", "created_at", "updated_at", "version")


def copy_row(copy: Copy) -> tuple[Any, ...]:
    return (
        copy.id,
        copy.book_id,
        copy.barcode,
        copy.status.value,
        copy.created_at,
        copy.updated_at,
        copy.version,
    )


def copy_from_row(row: CopyRow) -> Copy:
    return Copy(
        id=row.id,
        book_id=row.book_id,
        barcode=row.barcode,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        item_type=row.item_type,
    )


def member_values(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "card_number": member.card_number,
        "name_key": fold(member.name),
        "role": member.role,
        "status": member.status,
        "membership_expires_at": member.membership_expires_at,
        "password_hash": member.password_hash,
        "created_at": member.created_at,
        "updated_at": member.updated_at,
        "version": member.version,
        "category": member.category,
        "notice_receipts": member.notices.receipts,
        "notice_overdue": member.notices.overdue,
    }


MEMBER_COLUMNS = (
    "id",
    "email",
    "name",
    "card_number",
    "name_key",
    "role",
    "status",
    "membership_expires_at",
    "password_hash",
    "created_at",
    "updated_at",
    "version",
)


def member_row(member: Member) -> tuple[Any, ...]:
    return (
        member.id,
        member.email,
        member.name,
        member.card_number,
        fold(member.name),
        member.role.value,
        member.status.value,
        member.membership_expires_at,
        member.password_hash,
        member.created_at,
        member.updated_at,
        member.version,
    )


def member_from_row(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        email=row.email,
        name=row.name,
        card_number=row.card_number,
        role=row.role,
        status=row.status,
        membership_expires_at=row.membership_expires_at,
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        category=row.category,
        notices=NoticePreferences(receipts=row.notice_receipts, overdue=row.notice_overdue),
    )


def loan_values(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id,
        "copy_id": loan.copy_id,
        "book_id": loan.book_id,
        "member_id": loan.member_id,
        "loaned_at": loan.loaned_at,
        "due_at": loan.due_at,
        "renewals": loan.renewals,
        "returned_at": loan.returned_at,
        "fine_cents": loan.fine_cents,
        "version": loan.version,
        "item_type": loan.item_type,
        "status": loan.status,
        "claimed_returned_at": loan.claimed_returned_at,
    }


def loan_from_row(row: LoanRow) -> Loan:
    return Loan(
        id=row.id,
        copy_id=row.copy_id,
        book_id=row.book_id,
        member_id=row.member_id,
        loaned_at=row.loaned_at,
        due_at=row.due_at,
        renewals=row.renewals,
        returned_at=row.returned_at,
        fine_cents=row.fine_cents,
        version=row.version,
        item_type=row.item_type,
        status=row.status,
        claimed_returned_at=row.claimed_returned_at,
    )


def hold_values(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "book_id": hold.book_id,
        "member_id": hold.member_id,
        "copy_id": hold.copy_id,
        "placed_at": hold.placed_at,
        "status": hold.status,
        "ready_at": hold.ready_at,
        "pickup_by": hold.pickup_by,
        "closed_at": hold.closed_at,
        "version": hold.version,
        "member_category": hold.member_category,
        "suspended": hold.suspended,
        "not_needed_after": hold.not_needed_after,
        "queued_at": hold.queued_at,
    }


def hold_from_row(row: HoldRow) -> Hold:
    return Hold(
        id=row.id,
        book_id=row.book_id,
        member_id=row.member_id,
        copy_id=row.copy_id,
        placed_at=row.placed_at,
        status=row.status,
        ready_at=row.ready_at,
        pickup_by=row.pickup_by,
        closed_at=row.closed_at,
        version=row.version,
        member_category=row.member_category,
        suspended=row.suspended,
        not_needed_after=row.not_needed_after,
        queued_at=row.queued_at,
    )


def ledger_entry_values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "member_id": entry.member_id,
        "kind": entry.kind,
        "amount_cents": entry.amount_cents,
        "created_at": entry.created_at,
        "loan_id": entry.loan_id,
        "note": entry.note,
        "charge_type": entry.charge_type,
        "target_id": entry.target_id,
    }


def allocation_values(entry: LedgerEntry) -> list[dict[str, Any]]:
    return [
        {
            "entry_id": entry.id,
            "position": position,
            "charge_id": allocation.charge_id,
            "amount_cents": allocation.amount_cents,
        }
        for position, allocation in enumerate(entry.allocations)
    ]


def ledger_entry_from_row(
    row: LedgerEntryRow, allocations: Sequence[Allocation] = ()
) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        member_id=row.member_id,
        kind=row.kind,
        amount_cents=row.amount_cents,
        created_at=row.created_at,
        loan_id=row.loan_id,
        note=row.note,
        charge_type=row.charge_type,
        target_id=row.target_id,
        allocations=tuple(allocations),
    )


def member_category_values(category: MemberCategory) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "loan_limit": category.loan_limit,
        "debt_limit_cents": category.debt_limit_cents,
        "retired_at": category.retired_at,
        "created_at": category.created_at,
        "updated_at": category.updated_at,
        "version": category.version,
    }


def member_category_from_row(row: MemberCategoryRow) -> MemberCategory:
    return MemberCategory(
        code=row.code,
        name=row.name,
        loan_limit=row.loan_limit,
        debt_limit_cents=row.debt_limit_cents,
        retired_at=row.retired_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def item_type_values(item_type: ItemType) -> dict[str, Any]:
    return {
        "code": item_type.code,
        "name": item_type.name,
        "retired_at": item_type.retired_at,
        "created_at": item_type.created_at,
        "updated_at": item_type.updated_at,
        "version": item_type.version,
    }


def item_type_from_row(row: ItemTypeRow) -> ItemType:
    return ItemType(
        code=row.code,
        name=row.name,
        retired_at=row.retired_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def rule_values(rule: CirculationRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "member_category": rule.member_category or ANY_CODE,
        "item_type": rule.item_type or ANY_CODE,
        **rule.terms(),
        "version": rule.version,
    }


def rule_from_row(row: CirculationRuleRow) -> CirculationRule:
    return CirculationRule(
        id=row.id,
        member_category=None if row.member_category == ANY_CODE else row.member_category,
        item_type=None if row.item_type == ANY_CODE else row.item_type,
        version=row.version,
        **{name: getattr(row, name) for name in TERMS},
    )


def closure_values(closure: Closure) -> dict[str, Any]:
    return {
        "id": closure.id,
        "day": closure.day,
        "weekday": closure.weekday,
        "note": closure.note,
        "version": closure.version,
    }


def closure_from_row(row: ClosureRow) -> Closure:
    return Closure(id=row.id, day=row.day, weekday=row.weekday, note=row.note, version=row.version)
