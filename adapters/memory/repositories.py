"""Repositories over ``MemoryDatabase``, with the same rules the SQL schema enforces."""

from __future__ import annotations

import copy as copying
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

from adapters.memory.database import MemoryDatabase
from application.queries import (
    HOLD_ORDER,
    LOAN_ORDER,
    MEMBER_ORDER,
    BookFilter,
    BookSort,
    HoldFilter,
    ListOrder,
    LoanFilter,
    MemberFilter,
    Page,
    PageRequest,
    follows,
    matches_book,
)
from application.unit_of_work import BookCirculationStore, ChangeTracker, Entity, EntityStore
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import (
    BarcodeAlreadyExists,
    CardNumberTaken,
    ConcurrentUpdate,
    EmailAlreadyRegistered,
    IsbnAlreadyExists,
)
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan, LoanState, LoanStatus
from domain.members import Member

E = TypeVar("E", bound=Entity)
T = TypeVar("T")


def in_order(rows: list[T], order: ListOrder[T], page: PageRequest) -> Page[T]:
    """The page of ``rows`` (the whole list, sorted in ``order``), by number or after the
    page's cursor, with the cursor of the page after it."""
    after = order.after(page)
    if after is not None:
        rows = [row for row in rows if order.follows(row, after)]
    return order.paged(_paged(rows, page))


def _paged(rows: list[T], page: PageRequest) -> Page[T]:
    """``rows`` are the whole list, or (for a cursor) the part of it after the cursor: then the
    items before are not counted, and the total is the cursor's place plus what follows it."""
    return Page(
        items=rows[page.skip : page.skip + page.per_page],
        total=len(rows) + page.offset - page.skip,
        page=page.page,
        per_page=page.per_page,
        total_exact=page.after is None,
    )


class _MemoryStore(EntityStore[E]):
    table: ClassVar[type]

    def __init__(
        self, tracker: ChangeTracker, db: MemoryDatabase, undo: list[Callable[[], None]]
    ) -> None:
        super().__init__(tracker)
        self._db = db
        self._rows: dict[str, E] = db.tables[self.table]
        self._undo = undo

    # Reads hand out copies, so nothing reaches the table except through a commit.
    def _one(self, row: E | None) -> E | None:
        return self._track(copying.copy(row)) if row is not None else None

    def _many(self, rows: Iterable[E]) -> list[E]:
        return self._track_all(copying.copy(row) for row in rows)

    def _where(self, predicate: Callable[[E], bool]) -> list[E]:
        return [row for row in self._rows.values() if predicate(row)]

    def _unique(self, entity: E) -> None:
        """Raise the domain error for a uniqueness rule ``entity`` would break."""

    def _put(self, entity: E) -> None:
        previous = self._rows.get(entity.id)
        self._rows[entity.id] = copying.copy(entity)
        if previous is None:
            self._undo.append(lambda: self._forget(entity.id))
        else:
            self._undo.append(lambda: self._rows.__setitem__(entity.id, previous))

    def _forget(self, entity_id: str) -> None:
        self._rows.pop(entity_id, None)

    def write_new(self, entity: E) -> None:
        if entity.id in self._rows:
            raise ConcurrentUpdate(f"{entity.id} already exists", id=entity.id)
        self._unique(entity)
        self._put(entity)

    def write_changes(
        self,
        entity: E,
        expected_version: int,
        before: E | None = None,  # noqa: ARG002 (a whole object is stored either way)
    ) -> None:
        stored: Any = self._rows.get(entity.id)
        if stored is None or stored.version != expected_version:
            raise ConcurrentUpdate(f"{entity.id} was changed or removed meanwhile", id=entity.id)
        self._unique(entity)
        self._put(entity)

    def write_removal(self, entity: E) -> None:
        previous: Any = self._rows.get(entity.id)
        if previous is None or getattr(previous, "version", None) != getattr(
            entity, "version", None
        ):
            raise ConcurrentUpdate(f"{entity.id} was changed or removed meanwhile", id=entity.id)
        del self._rows[entity.id]
        self._undo.append(lambda: self._rows.__setitem__(entity.id, previous))

    def get(self, entity_id: str) -> E | None:
        return self._one(self._rows.get(entity_id))


def _clashes(rows: Iterable[Any], entity: Any, key: Callable[[Any], object]) -> bool:
    return any(row.id != entity.id and key(row) == key(entity) for row in rows)


class MemoryBookRepository(_MemoryStore[Book]):
    table = Book

    def _unique(self, entity: Book) -> None:
        if _clashes(self._rows.values(), entity, lambda b: b.isbn):
            raise IsbnAlreadyExists(
                f"a book with ISBN {entity.isbn} already exists", isbn=entity.isbn
            )

    def get_by_isbn(self, isbn: str) -> Book | None:
        return self._one(next((b for b in self._rows.values() if b.isbn == isbn), None))

    def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        wanted = set(isbns)
        return {b.isbn for b in self._rows.values() if b.isbn in wanted}

    def after(self, book_id: str | None, limit: int) -> list[Book]:
        rows = sorted(self._where(lambda b: book_id is None or b.id > book_id), key=lambda b: b.id)
        return self._many(rows[:limit])

    def search(self, query: BookFilter, page: PageRequest) -> Page[Book]:
        words, author = query.words, query.author_phrase
        available = {
            c.book_id for c in self._db.tables[Copy].values() if c.status is CopyStatus.AVAILABLE
        }

        def matches(book: Book) -> bool:
            return (
                matches_book(book, words, author)
                and (query.isbn is None or book.isbn == query.isbn)
                and (query.available is None or (book.id in available) == query.available)
            )

        rows = self._where(matches)
        descending = query.sort.descending
        if query.sort in (BookSort.YEAR, BookSort.YEAR_DESC):
            rows.sort(key=lambda b: (b.year or 0, b.id), reverse=descending)
            rows = [b for b in rows if b.year is not None] + [b for b in rows if b.year is None]
        elif query.sort in (BookSort.TITLE, BookSort.TITLE_DESC):
            rows.sort(key=lambda b: (b.title.casefold(), b.id), reverse=descending)
        else:
            rows.sort(key=lambda b: (b.created_at, b.id), reverse=descending)
        after = query.sort.after(page)
        if after is not None:
            sort = query.sort
            rows = [
                b
                for b in rows
                if follows(sort.key(b), after, descending=descending, nulls_last=sort.nulls_last)
            ]
        result = _paged(rows, page)
        return Page(
            self._many(result.items),
            result.total,
            result.page,
            result.per_page,
            total_exact=result.total_exact,
        )


class MemoryCopyRepository(_MemoryStore[Copy]):
    table = Copy

    def _unique(self, entity: Copy) -> None:
        if _clashes(self._rows.values(), entity, lambda c: c.barcode):
            raise BarcodeAlreadyExists(
                f"barcode {entity.barcode} is already in use", barcode=entity.barcode
            )

    def get_by_barcode(self, barcode: str) -> Copy | None:
        return self._one(next((c for c in self._rows.values() if c.barcode == barcode), None))

    def existing_barcodes(self, barcodes: Collection[str]) -> set[str]:
        wanted = set(barcodes)
        return {c.barcode for c in self._rows.values() if c.barcode in wanted}

    def circulating_counts(self, book_ids: Collection[str]) -> dict[str, int]:
        wanted = set(book_ids)
        counts: dict[str, int] = {}
        for c in self._rows.values():
            if c.book_id in wanted and c.circulates:
                counts[c.book_id] = counts.get(c.book_id, 0) + 1
        return counts

    def for_book(self, book_id: str) -> list[Copy]:
        rows = self._where(lambda c: c.book_id == book_id)
        return self._many(sorted(rows, key=lambda c: c.barcode))


class MemoryMemberRepository(_MemoryStore[Member]):
    table = Member

    def _unique(self, entity: Member) -> None:
        if _clashes(self._rows.values(), entity, lambda m: m.email):
            raise EmailAlreadyRegistered(
                f"{entity.email} is already registered", email=entity.email
            )
        if _clashes(self._rows.values(), entity, lambda m: m.card_number):
            raise CardNumberTaken(
                f"card number {entity.card_number} is already in use",
                card_number=entity.card_number,
            )

    def get(self, member_id: str, *, for_update: bool = False) -> Member | None:  # noqa: ARG002
        # Transactions here run one at a time, so every read is as good as a lock.
        return self._one(self._rows.get(member_id))

    def get_by_email(self, email: str) -> Member | None:
        wanted = email.lower()  # stored lower-cased by the domain, looked up as in SQL
        return self._one(next((m for m in self._rows.values() if m.email == wanted), None))

    def get_by_card_number(self, card_number: str) -> Member | None:
        return self._one(
            next((m for m in self._rows.values() if m.card_number == card_number), None)
        )

    def existing_card_numbers(self, card_numbers: Collection[str]) -> set[str]:
        wanted = set(card_numbers)
        return {m.card_number for m in self._rows.values() if m.card_number in wanted}

    def list(self, query: MemberFilter, page: PageRequest) -> Page[Member]:
        needle = query.q.casefold() if query.q else None

        def matches(member: Member) -> bool:
            return (
                (needle is None or needle in member.name.casefold() or needle in member.email)
                and (query.card_number is None or member.card_number == query.card_number)
                and (query.role is None or member.role is query.role)
                and (query.status is None or member.status is query.status)
            )

        rows = sorted(self._where(matches), key=lambda m: (m.created_at, m.id))
        result = in_order(rows, MEMBER_ORDER, page)
        return result.with_items(self._many(result.items))


class MemoryLoanRepository(_MemoryStore[Loan]):
    table = Loan

    def _unique(self, entity: Loan) -> None:
        # Mirrors the partial unique index: a copy has at most one open loan.
        if entity.is_open and any(
            row.id != entity.id and row.is_open and row.copy_id == entity.copy_id
            for row in self._rows.values()
        ):
            raise ConcurrentUpdate(
                f"copy {entity.copy_id} is already on loan", copy_id=entity.copy_id
            )

    def open_for_member(self, member_id: str) -> list[Loan]:
        rows = self._where(lambda loan: loan.member_id == member_id and loan.is_open)
        return self._many(sorted(rows, key=lambda loan: (loan.loaned_at, loan.id)))

    def open_for_copy(self, copy_id: str) -> Loan | None:
        return self._one(
            next(
                (row for row in self._rows.values() if row.copy_id == copy_id and row.is_open), None
            )
        )

    def open_count_for_book(self, book_id: str) -> int:
        return len(self._where(lambda loan: loan.book_id == book_id and loan.is_open))

    def closed_for_member(self, member_id: str) -> list[Loan]:
        return self._many(
            self._where(lambda loan: loan.member_id == member_id and not loan.is_open)
        )

    def closed_for_book(self, book_id: str) -> list[Loan]:
        return self._many(self._where(lambda row: row.book_id == book_id and not row.is_open))

    def overdue(self, now: datetime) -> list[Loan]:
        rows = self._where(lambda loan: loan.is_overdue(now))
        return self._many(sorted(rows, key=lambda loan: (loan.due_at, loan.id)))

    def lost_for_copy(self, copy_id: str) -> Loan | None:
        closed = self._where(lambda loan: loan.copy_id == copy_id and not loan.is_open)
        latest = max(closed, key=lambda loan: (loan.loaned_at, loan.id), default=None)
        return self._one(latest if latest and latest.status is LoanStatus.LOST else None)

    def returned_before(self, cutoff: datetime, *, not_of: str, limit: int) -> list[Loan]:
        rows = self._where(
            lambda loan: (
                loan.returned_at is not None
                and loan.returned_at < cutoff
                and loan.member_id != not_of
            )
        )
        rows.sort(key=lambda loan: (loan.returned_at, loan.id))
        return self._many(rows[:limit])

    def list(self, query: LoanFilter, page: PageRequest, now: datetime) -> Page[Loan]:
        def in_state(loan: Loan) -> bool:
            if query.state is LoanState.OPEN:
                return loan.is_open
            if query.state is LoanState.OVERDUE:
                return loan.is_overdue(now)
            if query.state is None:
                return True
            return loan.status is LoanStatus(query.state.value)

        rows = self._where(
            lambda loan: (
                (query.member_id is None or loan.member_id == query.member_id)
                and (query.book_id is None or loan.book_id == query.book_id)
                and (query.copy_id is None or loan.copy_id == query.copy_id)
                and in_state(loan)
            )
        )
        rows.sort(key=lambda loan: (loan.loaned_at, loan.id), reverse=True)
        result = in_order(rows, LOAN_ORDER, page)
        return result.with_items(self._many(result.items))


class MemoryHoldRepository(_MemoryStore[Hold]):
    table = Hold

    def _sorted(self, predicate: Callable[[Hold], bool]) -> list[Hold]:
        return sorted(self._where(predicate), key=lambda hold: hold.queue_key)

    def active_for_book(self, book_id: str) -> list[Hold]:
        return self._many(self._sorted(lambda h: h.book_id == book_id and h.is_active))

    def active_for_member(self, member_id: str) -> list[Hold]:
        return self._many(self._sorted(lambda h: h.member_id == member_id and h.is_active))

    def ready_past_pickup(self, now: datetime) -> list[Hold]:
        rows = self._where(lambda h: h.pickup_overdue(now))
        return self._many(sorted(rows, key=lambda h: (h.pickup_by, h.id)))

    def waiting_not_needed(self, today: date) -> list[Hold]:
        return self._many(self._sorted(lambda h: h.no_longer_needed(today)))

    def for_member(self, member_id: str) -> list[Hold]:
        return self._many(self._sorted(lambda h: h.member_id == member_id))

    def for_book(self, book_id: str) -> list[Hold]:
        return self._many(self._sorted(lambda h: h.book_id == book_id))

    def list(self, query: HoldFilter, page: PageRequest) -> Page[Hold]:
        rows = self._sorted(
            lambda h: (
                (query.member_id is None or h.member_id == query.member_id)
                and (query.book_id is None or h.book_id == query.book_id)
                and (query.status is None or h.status is query.status)
            )
        )
        result = in_order(rows, HOLD_ORDER, page)
        return result.with_items(self._many(result.items))


class MemoryLedgerRepository(_MemoryStore[LedgerEntry]):
    table = LedgerEntry

    def for_member(self, member_id: str) -> list[LedgerEntry]:
        rows = self._where(lambda e: e.member_id == member_id)
        return self._many(sorted(rows, key=lambda e: (e.created_at, e.id)))

    def balance(self, member_id: str) -> int:
        return sum(e.signed_cents for e in self._rows.values() if e.member_id == member_id)

    def balances(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for entry in self._rows.values():
            totals[entry.member_id] = totals.get(entry.member_id, 0) + entry.signed_cents
        return {member_id: cents for member_id, cents in totals.items() if cents}


class MemoryBookCirculationRepository(BookCirculationStore):
    _copies: MemoryCopyRepository
    _holds: MemoryHoldRepository

    def _load(self, book_id: str) -> tuple[list[Copy], list[Hold]]:
        return self._copies.for_book(book_id), self._holds.active_for_book(book_id)
