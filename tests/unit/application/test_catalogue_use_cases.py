"""The Catalogue use cases: books, copies, search."""

from __future__ import annotations

import pytest

from application.catalogue import (
    MAX_COPIES_PER_RECORD,
    BookChanges,
    BookDetails,
    CatalogueRecord,
)
from application.queries import BookFilter, BookSort, PageRequest
from domain.catalogue import Book, CopyStatus
from domain.errors import (
    BarcodeAlreadyExists,
    BookHasOpenLoans,
    BookNotFound,
    CopyNotFound,
    CopyOnLoan,
    InvalidCopyTransition,
    InvalidIsbn,
    InvalidValue,
    IsbnAlreadyExists,
    VersionMismatch,
)
from tests.unit.support import DAY, HOUR, App, build_app, isbn13

DETAILS = BookDetails(
    isbn="0-306-40615-2",
    title="Measurement  of Things",
    authors=("Ada Lovelace", "Charles Babbage"),
    publisher="Plenum",
    year=1999,
    subjects=("Physics",),
)


class TestAddBook:
    def test_add_a_book_with_copies(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS, ["B-1", " B-2 "])
        assert added.book.isbn == "9780306406157"
        assert added.book.title == "Measurement of Things"
        assert added.book.created_at == app.now()
        assert [c.barcode for c in added.copies] == ["B-1", "B-2"]
        assert all(c.book_id == added.book.id for c in added.copies)
        assert all(c.status is CopyStatus.AVAILABLE for c in added.copies)
        assert app.catalogue.get_book(added.book.id) == added.book
        assert app.catalogue.list_copies(added.book.id) == added.copies

    def test_ids_are_unique(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS, ["B-1", "B-2", "B-3"])
        ids = [added.book.id, *(c.id for c in added.copies)]
        assert len(set(ids)) == 4

    @pytest.mark.parametrize("isbn", ["9780306406157", "978-0-306-40615-7", "0306406152"])
    def test_the_same_isbn_in_any_form_is_refused(self, app: App, isbn: str) -> None:
        app.catalogue.add_book(DETAILS)
        with pytest.raises(IsbnAlreadyExists) as refused:
            app.catalogue.add_book(BookDetails(isbn=isbn, title="Again"), ["NEW-1"])
        assert refused.value.code == "ISBN_ALREADY_EXISTS"
        assert len(app.books()) == 1
        assert app.copies() == []

    def test_a_barcode_in_use_is_refused(self, app: App) -> None:
        app.catalogue.add_book(DETAILS, ["B-1"])
        with pytest.raises(BarcodeAlreadyExists) as refused:
            app.catalogue.add_book(BookDetails(isbn="9791090636071", title="T"), ["B-2", "B-1"])
        assert refused.value.code == "BARCODE_ALREADY_EXISTS"
        assert len(app.books()) == 1
        assert len(app.copies()) == 1

    def test_a_barcode_given_twice_is_refused(self, app: App) -> None:
        with pytest.raises(BarcodeAlreadyExists):
            app.catalogue.add_book(DETAILS, ["B-1", " B-1"])
        assert app.books() == []

    @pytest.mark.parametrize(
        ("details", "barcodes", "error"),
        [
            (BookDetails(isbn="123", title="T"), [], InvalidIsbn),
            (BookDetails(isbn="9780306406157", title="  "), [], InvalidValue),
            (BookDetails(isbn="9780306406157", title="T", year=0), [], InvalidValue),
            (BookDetails(isbn="9780306406157", title="T"), ["bad barcode"], InvalidValue),
        ],
    )
    def test_invalid_details_store_nothing(
        self, app: App, details: BookDetails, barcodes: list[str], error: type[Exception]
    ) -> None:
        with pytest.raises(error):
            app.catalogue.add_book(details, barcodes)
        assert app.books() == []
        assert app.copies() == []

    def test_unknown_book(self, app: App) -> None:
        with pytest.raises(BookNotFound) as refused:
            app.catalogue.get_book("nope")
        assert refused.value.code == "BOOK_NOT_FOUND"
        with pytest.raises(BookNotFound):
            app.catalogue.list_copies("nope")


class TestUpdateBook:
    def test_only_the_given_fields_change_and_the_version_moves(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS)
        app.advance(HOUR)
        updated = app.catalogue.update_book(
            added.book.id, BookChanges(title="New Title", year=None), expected_version=1
        )
        assert updated.title == "New Title"
        assert updated.year is None
        assert updated.authors == DETAILS.authors
        assert updated.updated_at == app.now()
        assert updated.version == 2
        assert app.books()[0].version == 2
        assert app.books()[0].title == "New Title"

    def test_replacing_every_field(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS)
        replacement = BookDetails(isbn="979-10-90636-07-1", title="Other")
        updated = app.catalogue.update_book(added.book.id, BookChanges.replacing_with(replacement))
        assert (updated.isbn, updated.title, updated.authors) == ("9791090636071", "Other", ())
        assert (updated.publisher, updated.year, updated.subjects) == (None, None, ())

    def test_stale_version_is_refused(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS)
        app.catalogue.update_book(added.book.id, BookChanges(title="Second"))
        with pytest.raises(VersionMismatch) as refused:
            app.catalogue.update_book(added.book.id, BookChanges(title="Third"), expected_version=1)
        assert refused.value.code == "VERSION_MISMATCH"
        assert refused.value.details["current_version"] == 2
        assert app.books()[0].title == "Second"

    def test_isbn_of_another_book_is_refused(self, app: App) -> None:
        first = app.catalogue.add_book(DETAILS)
        second = app.catalogue.add_book(BookDetails(isbn="9791090636071", title="Two"))
        with pytest.raises(IsbnAlreadyExists):
            app.catalogue.update_book(second.book.id, BookChanges(isbn="0-306-40615-2"))
        assert app.catalogue.get_book(second.book.id).isbn == "9791090636071"
        # Its own ISBN, written differently, is no clash.
        same = app.catalogue.update_book(first.book.id, BookChanges(isbn="0306406152"))
        assert same.isbn == "9780306406157"

    def test_invalid_change_stores_nothing(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS)
        with pytest.raises(InvalidValue):
            app.catalogue.update_book(added.book.id, BookChanges(title="ok", year=-1))
        assert app.books()[0].title == "Measurement of Things"
        assert app.books()[0].version == 1

    def test_unknown_book(self, app: App) -> None:
        with pytest.raises(BookNotFound):
            app.catalogue.update_book("nope", BookChanges(title="x"))


class TestRemoveBook:
    def test_refused_while_a_copy_is_on_loan(self, app: App) -> None:
        added = app.add_book(copies=2)
        app.circulation.borrow(app.add_member().id, book_id=added.book.id)
        with pytest.raises(BookHasOpenLoans) as refused:
            app.catalogue.remove_book(added.book.id)
        assert refused.value.code == "BOOK_HAS_OPEN_LOANS"
        assert refused.value.details == {"open_loans": 1}
        assert len(app.books()) == 1
        assert len(app.copies()) == 2

    def test_removes_copies_holds_and_history_but_keeps_fines(self, app: App) -> None:
        added = app.add_book(copies=1)
        kept = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=added.book.id)
        app.circulation.place_hold(bob.id, added.book.id)
        app.advance(app.policy.loan_period + 2 * DAY)
        app.circulation.return_loan(loan.id)  # bob's hold becomes ready
        app.circulation.cancel_hold(app.holds()[0].id)
        app.circulation.borrow(ada.id, book_id=kept.book.id)
        app.catalogue.remove_book(added.book.id, expected_version=1)
        assert [b.id for b in app.books()] == [kept.book.id]
        assert [c.book_id for c in app.copies()] == [kept.book.id]
        assert app.holds() == []
        assert [loan.book_id for loan in app.loans()] == [kept.book.id]
        [fine] = app.ledger()
        assert fine.loan_id == loan.id
        assert app.accounts.statement(ada.id).balance_cents == 50
        with pytest.raises(BookNotFound):
            app.catalogue.get_book(added.book.id)

    def test_stale_version_or_unknown_book(self, app: App) -> None:
        added = app.add_book()
        app.catalogue.update_book(added.book.id, BookChanges(title="v2"))
        with pytest.raises(VersionMismatch):
            app.catalogue.remove_book(added.book.id, expected_version=1)
        assert len(app.books()) == 1
        with pytest.raises(BookNotFound):
            app.catalogue.remove_book("nope")


class TestCopies:
    def test_add_copy(self, app: App) -> None:
        added = app.add_book(copies=0)
        copy = app.catalogue.add_copy(added.book.id, " NEW-1 ")
        assert copy.barcode == "NEW-1"
        assert copy.status is CopyStatus.AVAILABLE
        assert app.catalogue.get_copy(copy.id) == copy

    def test_add_copy_refuses_a_used_barcode_or_unknown_book(self, app: App) -> None:
        added = app.add_book(copies=1)
        with pytest.raises(BarcodeAlreadyExists):
            app.catalogue.add_copy(added.book.id, added.copies[0].barcode)
        with pytest.raises(BookNotFound):
            app.catalogue.add_copy("nope", "NEW-2")
        with pytest.raises(InvalidValue):
            app.catalogue.add_copy(added.book.id, "bad barcode")
        assert len(app.copies()) == 1

    def test_copies_are_listed_by_barcode(self, app: App) -> None:
        added = app.catalogue.add_book(DETAILS, ["Z-9", "A-1", "M-5"])
        assert [c.barcode for c in app.catalogue.list_copies(added.book.id)] == [
            "A-1",
            "M-5",
            "Z-9",
        ]

    def test_lost_found_withdrawn(self, app: App) -> None:
        added = app.add_book(copies=1)
        copy_id = added.copies[0].id
        lost = app.catalogue.mark_copy_lost(copy_id, expected_version=1)
        assert lost.status is CopyStatus.LOST
        assert lost.version == 2
        with pytest.raises(VersionMismatch):
            app.catalogue.mark_copy_found(copy_id, expected_version=1)
        assert app.catalogue.mark_copy_found(copy_id, expected_version=2).status is (
            CopyStatus.AVAILABLE
        )
        assert app.catalogue.withdraw_copy(copy_id).status is CopyStatus.WITHDRAWN
        with pytest.raises(InvalidCopyTransition):
            app.catalogue.mark_copy_found(copy_id)
        with pytest.raises(InvalidCopyTransition):
            app.catalogue.mark_copy_lost(copy_id)
        assert app.copy(copy_id).status is CopyStatus.WITHDRAWN

    def test_a_copy_on_loan_cannot_be_lost_or_withdrawn(self, app: App) -> None:
        added = app.add_book(copies=1)
        app.circulation.borrow(app.add_member().id, book_id=added.book.id)
        with pytest.raises(CopyOnLoan):
            app.catalogue.mark_copy_lost(added.copies[0].id)
        with pytest.raises(CopyOnLoan):
            app.catalogue.withdraw_copy(added.copies[0].id)
        assert app.copy(added.copies[0].id).status is CopyStatus.ON_LOAN

    def test_unknown_copy(self, app: App) -> None:
        for call in (
            app.catalogue.get_copy,
            app.catalogue.mark_copy_lost,
            app.catalogue.mark_copy_found,
            app.catalogue.withdraw_copy,
        ):
            with pytest.raises(CopyNotFound):
                call("nope")


class TestSearch:
    @pytest.fixture
    def shelf(self) -> tuple[App, dict[str, Book]]:
        app = build_app()
        books = {
            "dune": app.add_book(title="Dune", authors=["Frank Herbert"], year=1965),
            "emma": app.add_book(title="emma", authors=["Jane Austen"], year=1815),
            "persuasion": app.add_book(
                title="Persuasion", authors=["Jane Austen"], year=None, copies=0
            ),
            "children": app.add_book(
                title="Children of Dune", authors=["Frank Herbert"], year=1976
            ),
        }
        app.advance(HOUR)
        app.circulation.borrow(app.add_member().id, book_id=books["emma"].book.id)
        return app, {name: new.book for name, new in books.items()}

    def titles(self, app: App, query: BookFilter, page: PageRequest | None = None) -> list[str]:
        return [b.title for b in app.catalogue.search_books(query, page or PageRequest()).items]

    def test_sorted_by_title_ignoring_case(self, shelf: tuple[App, dict[str, Book]]) -> None:
        app, _ = shelf
        assert self.titles(app, BookFilter()) == ["Children of Dune", "Dune", "emma", "Persuasion"]
        assert self.titles(app, BookFilter(sort=BookSort.TITLE_DESC)) == [
            "Persuasion",
            "emma",
            "Dune",
            "Children of Dune",
        ]

    def test_sorted_by_year_with_unknown_years_last(
        self, shelf: tuple[App, dict[str, Book]]
    ) -> None:
        app, _ = shelf
        assert self.titles(app, BookFilter(sort=BookSort.YEAR)) == [
            "emma",
            "Dune",
            "Children of Dune",
            "Persuasion",
        ]
        assert self.titles(app, BookFilter(sort=BookSort.YEAR_DESC)) == [
            "Children of Dune",
            "Dune",
            "emma",
            "Persuasion",
        ]

    def test_sorted_by_creation(self, shelf: tuple[App, dict[str, Book]]) -> None:
        app, _ = shelf
        assert self.titles(app, BookFilter(sort=BookSort.CREATED)) == [
            "Dune",
            "emma",
            "Persuasion",
            "Children of Dune",
        ]
        assert self.titles(app, BookFilter(sort=BookSort.CREATED_DESC)) == [
            "Children of Dune",
            "Persuasion",
            "emma",
            "Dune",
        ]

    def test_every_word_must_match_title_or_authors(
        self, shelf: tuple[App, dict[str, Book]]
    ) -> None:
        app, _ = shelf
        assert self.titles(app, BookFilter(q="dune")) == ["Children of Dune", "Dune"]
        assert self.titles(app, BookFilter(q="DUNE children")) == ["Children of Dune"]
        assert self.titles(app, BookFilter(q="austen")) == ["emma", "Persuasion"]
        assert self.titles(app, BookFilter(q="herbert emma")) == []

    def test_author_isbn_and_availability_filters(self, shelf: tuple[App, dict[str, Book]]) -> None:
        app, books = shelf
        assert self.titles(app, BookFilter(author="herbert")) == ["Children of Dune", "Dune"]
        assert self.titles(app, BookFilter(isbn=books["emma"].isbn)) == ["emma"]
        assert self.titles(app, BookFilter(available=True)) == ["Children of Dune", "Dune"]
        assert self.titles(app, BookFilter(available=False)) == ["emma", "Persuasion"]
        assert self.titles(app, BookFilter(author="austen", available=False, q="emma")) == ["emma"]

    @pytest.mark.parametrize(
        "written", ["{isbn}", "{isbn13_hyphenated}", "{isbn10}", "{isbn10_hyphenated}"]
    )
    def test_the_isbn_filter_accepts_any_form_of_the_isbn(self, app: App, written: str) -> None:
        # ISBN-10 and hyphens are accepted wherever an ISBN is given, searching included.
        app.catalogue.add_book(DETAILS)
        forms = {
            "isbn": "9780306406157",
            "isbn13_hyphenated": "978-0-306-40615-7",
            "isbn10": "0306406152",
            "isbn10_hyphenated": "0-306-40615-2",
        }
        found = app.catalogue.search_books(BookFilter(isbn=written.format(**forms)), PageRequest())
        assert [b.isbn for b in found.items] == ["9780306406157"]

    def test_paging(self, shelf: tuple[App, dict[str, Book]]) -> None:
        app, _ = shelf
        page = app.catalogue.search_books(BookFilter(), PageRequest(page=2, per_page=3))
        assert [b.title for b in page.items] == ["Persuasion"]
        assert (page.total, page.page, page.per_page, page.pages) == (4, 2, 3, 2)

    @pytest.mark.parametrize(("page", "per_page"), [(0, 10), (1, 0), (1, 101), (-1, 10)])
    def test_page_requests_are_bounded(self, page: int, per_page: int) -> None:
        with pytest.raises(InvalidValue):
            PageRequest(page=page, per_page=per_page)

    def test_an_empty_catalogue_has_one_empty_page(self, app: App) -> None:
        page = app.catalogue.search_books(BookFilter(), PageRequest())
        assert (page.items, page.total, page.pages) == ([], 0, 1)


class TestImport:
    def record(
        self, line: int, n: int, copies: int = 1, title: str | None = None
    ) -> CatalogueRecord:
        return CatalogueRecord(
            line=line, details=BookDetails(isbn=isbn13(n), title=title or f"T{n}"), copies=copies
        )

    def test_valid_records_are_added_with_derived_barcodes(self, app: App) -> None:
        report = app.catalogue.import_books([self.record(1, 1, copies=2), self.record(2, 2, 0)])
        assert (report.added, report.copies_added, report.already_present) == (2, 2, 0)
        assert report.rejected == []
        assert report.seen == 2
        assert [c.barcode for c in app.copies()] == [f"{isbn13(1)}-1", f"{isbn13(1)}-2"]
        assert sorted(b.isbn for b in app.books()) == [isbn13(1), isbn13(2)]

    def test_invalid_records_are_reported_not_loaded(self, app: App) -> None:
        bad_isbn = CatalogueRecord(line=7, details=BookDetails(isbn="123", title="T"))
        no_title = CatalogueRecord(line=8, details=BookDetails(isbn=isbn13(3), title=" "))
        report = app.catalogue.import_books(
            [bad_isbn, self.record(9, 4, copies=MAX_COPIES_PER_RECORD + 1), no_title]
        )
        assert [(r.line, r.code) for r in report.rejected] == [
            (7, "INVALID_ISBN"),
            (9, "INVALID_VALUE"),
            (8, "INVALID_VALUE"),
        ]
        assert report.added == 0
        assert app.books() == []

    def test_loading_the_same_records_twice_adds_nothing_the_second_time(self, app: App) -> None:
        records = [self.record(1, 1, copies=2), self.record(2, 2)]
        app.catalogue.import_books(records)
        before = app.snapshot()
        again = app.catalogue.import_books(records)
        assert (again.added, again.copies_added, again.already_present) == (0, 0, 2)
        assert app.snapshot() == before

    def test_a_repeated_isbn_within_a_load_is_added_once(self, app: App) -> None:
        report = app.catalogue.import_books(
            [self.record(1, 5, title="First"), self.record(2, 5, title="Second")]
        )
        assert (report.added, report.already_present) == (1, 1)
        assert [b.title for b in app.books()] == ["First"]

    def test_ids_are_distinct_and_in_file_order_around_refused_and_repeated_rows(
        self, app: App
    ) -> None:
        report = app.catalogue.import_books(
            [
                self.record(1, 11, copies=2),
                self.record(2, 12, copies=MAX_COPIES_PER_RECORD + 1),  # refused
                self.record(3, 11, copies=3),  # repeated ISBN
                CatalogueRecord(line=4, details=BookDetails(isbn="123", title="T"), copies=2),
                self.record(5, 13, copies=3),
            ]
        )

        assert (report.added, report.copies_added, report.already_present) == (2, 5, 1)
        books = sorted(app.books(), key=lambda b: b.id)
        assert [b.isbn for b in books] == [isbn13(11), isbn13(13)]
        copies = sorted(app.copies(), key=lambda c: c.id)
        assert [c.barcode for c in copies] == [
            *(f"{isbn13(11)}-{n}" for n in (1, 2)),
            *(f"{isbn13(13)}-{n}" for n in (1, 2, 3)),
        ]
        ids = [b.id for b in books] + [c.id for c in copies]
        assert len(set(ids)) == len(ids)
        assert books[0].id < copies[0].id < copies[1].id < books[1].id < copies[2].id

    def test_a_derived_barcode_already_in_use_rejects_the_record(self, app: App) -> None:
        other = app.add_book(copies=0)
        app.catalogue.add_copy(other.book.id, f"{isbn13(6)}-1")
        report = app.catalogue.import_books([self.record(3, 6), self.record(4, 7)])
        assert [(r.line, r.code) for r in report.rejected] == [(3, "BARCODE_ALREADY_EXISTS")]
        assert report.added == 1
        assert sorted(b.isbn for b in app.books()) == sorted([other.book.isbn, isbn13(7)])


class TestCataloguePages:
    def test_every_book_once_in_order_with_circulating_copy_counts(self, app: App) -> None:
        added = [app.add_book(copies=n % 3) for n in range(5)]
        app.catalogue.mark_copy_lost(added[2].copies[1].id)
        pages = list(app.catalogue.catalogue_pages(page_size=2))
        assert [len(page) for page in pages] == [2, 2, 1]
        entries = [entry for page in pages for entry in page]
        assert [e.book.id for e in entries] == [new.book.id for new in added]
        assert [e.copies for e in entries] == [0, 1, 1, 0, 1]

    def test_an_empty_catalogue_has_no_pages(self, app: App) -> None:
        assert list(app.catalogue.catalogue_pages()) == []

    def test_page_size_must_be_positive(self, app: App) -> None:
        with pytest.raises(InvalidValue):
            next(app.catalogue.catalogue_pages(page_size=0))


def test_get_copy_by_barcode(app: App) -> None:
    added = app.add_book(copies=1)
    assert app.catalogue.get_copy_by_barcode(f" {added.copies[0].barcode} ") == added.copies[0]
    with pytest.raises(CopyNotFound):
        app.catalogue.get_copy_by_barcode("NOPE")
