"""Use cases of the catalogue: books and their copies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from application.common import book_circulation, check_version, found, rule_book
from application.loading import RejectedRecord
from application.ports import BookAddition, BookLoadOutcome, Clock, IdGenerator, UnitOfWorkFactory
from application.queries import BookFilter, Page, PageRequest
from application.retry import retry_on_conflict
from application.unit_of_work import UnitOfWork
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import (
    BarcodeAlreadyExists,
    BookHasOpenLoans,
    BookNotFound,
    CopyLostOnLoan,
    CopyNotFound,
    DomainError,
    InvalidValue,
    IsbnAlreadyExists,
)
from domain.events import BookAdded, BookRemoved, BookRevised, BooksImported
from domain.isbn import normalise_isbn
from domain.policy import Policy
from domain.values import UNSET, Unset


@dataclass(frozen=True, slots=True)
class BookDetails:
    """A complete description of a book, as given when it is added or replaced."""

    isbn: str
    title: str
    authors: Sequence[str] = ()
    publisher: str | None = None
    year: int | None = None
    subjects: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class BookChanges:
    """Only the fields given (not ``UNSET``) change."""

    isbn: str | Unset = UNSET
    title: str | Unset = UNSET
    authors: Sequence[str] | Unset = UNSET
    publisher: str | Unset | None = UNSET
    year: int | Unset | None = UNSET
    subjects: Sequence[str] | Unset = UNSET

    @classmethod
    def replacing_with(cls, details: BookDetails) -> BookChanges:
        return cls(**{name: getattr(details, name) for name in BookDetails.__slots__})


@dataclass(frozen=True, slots=True)
class NewBook:
    book: Book
    copies: list[Copy] = field(default_factory=list)


# A bulk load may give a book at most this many copies; more is a typo, not a library.
MAX_COPIES_PER_RECORD = 1000


def copy_barcode(isbn: str, number: int) -> str:
    """The barcode of a copy made by a bulk load: derived from the ISBN, so a reload of the same
    file makes the same barcodes and a clash means the copy is already there."""
    return f"{isbn}-{number}"


@dataclass(frozen=True, slots=True)
class CatalogueRecord:
    """One book of a bulk load: its details, how many copies to make, and where it came from
    (``line``, for reporting)."""

    line: int
    details: BookDetails
    copies: int = 1


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    copies_added: int = 0
    already_present: int = 0  # skipped: the ISBN is in the catalogue or earlier in the load
    rejected: list[RejectedRecord] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.added + self.already_present + len(self.rejected)

    def include(self, other: ImportReport) -> None:
        self.added += other.added
        self.copies_added += other.copies_added
        self.already_present += other.already_present
        self.rejected.extend(other.rejected)


@dataclass(slots=True)
class PreparedBooks:
    """A batch of a bulk load, validated and ready to store: the books with their copies, the
    line each came from, and what was already refused or repeated within the batch."""

    additions: list[BookAddition] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # book id -> line
    report: ImportReport = field(default_factory=ImportReport)


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A book and the number of its copies that circulate: what an export writes per line."""

    book: Book
    copies: int


class Catalogue:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, policy: Policy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy

    def add_book(self, details: BookDetails, barcodes: Sequence[str] = ()) -> NewBook:
        now = self._clock.now()
        book = Book.create(
            id=self._ids.new_id(),
            isbn=details.isbn,
            title=details.title,
            authors=tuple(details.authors),
            publisher=details.publisher,
            year=details.year,
            subjects=tuple(details.subjects),
            now=now,
        )
        copies = [
            Copy.create(id=self._ids.new_id(), book_id=book.id, barcode=code, now=now)
            for code in barcodes
        ]
        with self._uow() as uow:
            self._ensure_isbn_free(uow, book.isbn)
            seen: set[str] = set()
            for copy in copies:
                if copy.barcode in seen:
                    raise BarcodeAlreadyExists(
                        f"barcode {copy.barcode} is given twice", barcode=copy.barcode
                    )
                seen.add(copy.barcode)
                self._ensure_barcode_free(uow, copy.barcode)
            uow.books.add(book)
            for copy in copies:
                uow.copies.add(copy)
            uow.emit(BookAdded(now, book.id))
            uow.commit()
        return NewBook(book, copies)

    def import_books(self, records: Sequence[CatalogueRecord]) -> ImportReport:
        """Load a batch of books with their copies in one transaction.

        Each record is validated by the domain; invalid ones are reported, not loaded. A book
        whose ISBN is already in the catalogue (or earlier in the batch) is skipped, so loading
        the same file twice adds nothing the second time; so is one whose derived barcodes are
        taken (reported). The batch is stored whole or not at all, set-based
        (``BulkWriter.add_books``): a few statements per batch, whatever its size.
        """
        return self.store_books(self.prepare_books(records))

    def prepare_books(self, records: Sequence[CatalogueRecord]) -> PreparedBooks:
        """The first half of ``import_books``: validate the batch and make its books and copies,
        without touching storage, so a loader can prepare one batch while the previous one is
        being stored (``store_books``)."""
        now = self._clock.now()
        prepared = PreparedBooks()
        isbns: set[str] = set()
        # The ids of the whole batch in one go (a book's, then its copies'), as many as the
        # records could use: ids left over by rejected rows are simply never used.
        ids = self._ids.new_ids(sum(1 + _copies_allowed(record) for record in records))
        used = 0
        for record in records:
            book_id, used = ids[used], used + 1
            try:
                book = self._book_for(record, book_id, now)
            except DomainError as error:
                prepared.report.rejected.append(
                    RejectedRecord(record.line, error.code, error.message)
                )
                continue
            if book.isbn in isbns:
                prepared.report.already_present += 1
                continue
            isbns.add(book.isbn)
            copies = Copy.create_many(
                ids=ids[used : used + record.copies],
                book_id=book.id,
                barcodes=[copy_barcode(book.isbn, n) for n in range(1, record.copies + 1)],
                now=now,
            )
            used += record.copies
            prepared.additions.append(BookAddition(book, copies))
            prepared.lines[book.id] = record.line
        return prepared

    @retry_on_conflict
    def store_books(self, prepared: PreparedBooks) -> ImportReport:
        """The second half of ``import_books``: one transaction. Books whose ISBN is stored
        (also by a transaction that commits meanwhile) are skipped."""
        with self._uow() as uow:
            outcome = uow.bulk.add_books(prepared.additions)
            if outcome.added:
                uow.emit(BooksImported(self._clock.now(), len(outcome.added)))
            uow.commit()
        report = ImportReport(
            already_present=prepared.report.already_present,
            rejected=list(prepared.report.rejected),
        )
        self._count(report, outcome, prepared.additions, prepared.lines)
        return report

    @staticmethod
    def _count(
        report: ImportReport,
        outcome: BookLoadOutcome,
        additions: list[BookAddition],
        lines: dict[str, int],
    ) -> None:
        added = set(outcome.added)
        report.added = len(added)
        report.copies_added = sum(len(a.copies) for a in additions if a.book.id in added)
        report.already_present += len(outcome.present)
        report.rejected.extend(
            RejectedRecord(
                lines[book_id], BarcodeAlreadyExists.code, f"barcode {barcode} is already in use"
            )
            for book_id, barcode in outcome.barcode_taken.items()
        )

    def catalogue_pages(self, page_size: int = 500) -> Iterator[list[CatalogueEntry]]:
        """The whole catalogue in id order (the order books were added), a page at a time.

        Each page is read in its own short transaction, so a long export never holds one open;
        books added meanwhile after the last page read are included.
        """
        if page_size < 1:
            raise InvalidValue("page_size", "page_size must be at least 1")
        after: str | None = None
        while True:
            with self._uow().reading() as uow:
                books = uow.books.after(after, page_size)
                counts = uow.copies.circulating_counts([book.id for book in books])
            if not books:
                return
            yield [CatalogueEntry(book, counts.get(book.id, 0)) for book in books]
            after = books[-1].id

    def get_book(self, book_id: str) -> Book:
        with self._uow().reading() as uow:
            return found(uow.books.get(book_id), BookNotFound, book_id)

    def search_books(self, query: BookFilter, page: PageRequest) -> Page[Book]:
        if query.isbn is not None:
            query = replace(query, isbn=normalise_isbn(query.isbn))
        query.sort.after(page)  # a cursor of another sort order is refused before any read
        with self._uow().reading() as uow:
            found = uow.books.search(query, page)
        return replace(found, next_cursor=query.sort.cursor_after(found))

    def update_book(
        self, book_id: str, changes: BookChanges, expected_version: int | None = None
    ) -> Book:
        with self._uow() as uow:
            book = found(uow.books.get(book_id), BookNotFound, book_id)
            check_version(book, expected_version)
            if not isinstance(changes.isbn, Unset):
                isbn = normalise_isbn(changes.isbn)
                if isbn != book.isbn:
                    self._ensure_isbn_free(uow, isbn)
            now = self._clock.now()
            book.revise(
                now=now,
                isbn=changes.isbn,
                title=changes.title,
                authors=_tuple_or_unset(changes.authors),
                publisher=changes.publisher,
                year=changes.year,
                subjects=_tuple_or_unset(changes.subjects),
            )
            uow.emit(BookRevised(now, book.id))
            uow.commit()
            return book

    def remove_book(self, book_id: str, expected_version: int | None = None) -> None:
        """Remove a book with its copies, holds and loan history.

        Refused while a copy is out on loan. Fines incurred on the book stay on the members'
        accounts.
        """
        with self._uow() as uow:
            book = found(uow.books.get(book_id), BookNotFound, book_id)
            check_version(book, expected_version)
            open_loans = uow.loans.open_count_for_book(book_id)
            if open_loans:
                raise BookHasOpenLoans(
                    f"{open_loans} copies of this book are on loan", open_loans=open_loans
                )
            for hold in uow.holds.for_book(book_id):
                uow.holds.remove(hold)
            for loan in uow.loans.closed_for_book(book_id):
                uow.loans.remove(loan)
            for copy in uow.copies.for_book(book_id):
                uow.copies.remove(copy)
            uow.books.remove(book)
            uow.emit(BookRemoved(self._clock.now(), book.id))
            uow.commit()

    def add_copy(self, book_id: str, barcode: str) -> Copy:
        """Add a copy; if members wait for the book, it goes straight to the hold shelf."""
        now = self._clock.now()
        with self._uow() as uow:
            book = found(uow.books.get(book_id), BookNotFound, book_id)
            copy = Copy.create(
                id=self._ids.new_id(),
                book_id=book_id,
                barcode=barcode,
                now=now,
                item_type=book.item_type,
            )
            self._ensure_barcode_free(uow, copy.barcode)
            state = uow.circulation.get(book_id)
            state.add_copy(copy, rule_book(uow, self._policy), now)
            uow.circulation.save(state)
            uow.commit()
            return copy

    def list_copies(self, book_id: str) -> list[Copy]:
        with self._uow().reading() as uow:
            return book_circulation(uow, book_id).copies  # read with the book, at once

    def get_copy(self, copy_id: str) -> Copy:
        with self._uow().reading() as uow:
            return found(uow.copies.get(copy_id), CopyNotFound, copy_id)

    def get_copy_by_barcode(self, barcode: str) -> Copy:
        """The copy whose barcode was scanned at the desk."""
        with self._uow().reading() as uow:
            return found(uow.copies.get_by_barcode(barcode.strip()), CopyNotFound, barcode)

    def mark_copy_lost(self, copy_id: str, expected_version: int | None = None) -> Copy:
        return self._take_out_of_circulation(copy_id, expected_version, lost=True)

    def withdraw_copy(self, copy_id: str, expected_version: int | None = None) -> Copy:
        return self._take_out_of_circulation(copy_id, expected_version, lost=False)

    def mark_copy_found(self, copy_id: str, expected_version: int | None = None) -> Copy:
        """A lost copy turned up: it serves the hold queue first, then goes back on the shelf."""
        now = self._clock.now()
        with self._uow() as uow:
            copy = found(uow.copies.get(copy_id), CopyNotFound, copy_id)
            check_version(copy, expected_version)
            lost_on = uow.loans.lost_for_copy(copy_id) if copy.status is CopyStatus.LOST else None
            if lost_on is not None:
                raise CopyLostOnLoan(
                    f"copy {copy.barcode} was lost on loan {lost_on.id}; record it found as a "
                    "lost item (POST /copies/{id}/found, circulate loans found) so that its "
                    "replacement fee is settled",
                    copy_id=copy.id,
                    loan_id=lost_on.id,
                )
            state = uow.circulation.get(copy.book_id)
            state.mark_found(copy_id, rule_book(uow, self._policy), now)
            uow.circulation.save(state)
            uow.commit()
            return copy

    def _take_out_of_circulation(
        self, copy_id: str, expected_version: int | None, *, lost: bool
    ) -> Copy:
        now = self._clock.now()
        with self._uow() as uow:
            copy = found(uow.copies.get(copy_id), CopyNotFound, copy_id)
            check_version(copy, expected_version)
            state = uow.circulation.get(copy.book_id)
            state.withdraw(copy_id, rule_book(uow, self._policy), now, lost=lost)
            uow.circulation.save(state)
            uow.commit()
            return copy

    @staticmethod
    def _book_for(record: CatalogueRecord, book_id: str, now: datetime) -> Book:
        if not _copies_in_range(record):
            raise InvalidValue("copies", f"copies must be between 0 and {MAX_COPIES_PER_RECORD}")
        details = record.details
        return Book.create(
            id=book_id,
            isbn=details.isbn,
            title=details.title,
            authors=tuple(details.authors),
            publisher=details.publisher,
            year=details.year,
            subjects=tuple(details.subjects),
            now=now,
        )

    @staticmethod
    def _ensure_isbn_free(uow: UnitOfWork, isbn: str) -> None:
        if uow.books.get_by_isbn(isbn) is not None:
            raise IsbnAlreadyExists(f"a book with ISBN {isbn} already exists", isbn=isbn)

    @staticmethod
    def _ensure_barcode_free(uow: UnitOfWork, barcode: str) -> None:
        if uow.copies.get_by_barcode(barcode) is not None:
            raise BarcodeAlreadyExists(f"barcode {barcode} is already in use", barcode=barcode)


def _copies_in_range(record: CatalogueRecord) -> bool:
    return 0 <= record.copies <= MAX_COPIES_PER_RECORD


def _copies_allowed(record: CatalogueRecord) -> int:
    """The copies ``record`` asks for when that is a number a load accepts, else none (the
    record is then refused, and a huge number must not make as many ids first)."""
    return record.copies if _copies_in_range(record) else 0


def _tuple_or_unset(values: Sequence[str] | Unset) -> tuple[str, ...] | Unset:
    return values if isinstance(values, Unset) else tuple(values)
