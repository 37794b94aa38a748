"""Books (catalogue records) and copies, with every copy status transition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.catalogue import Book, Copy, CopyStatus, clean_barcode
from domain.errors import CopyOnLoan, InvalidCopyTransition, InvalidIsbn, InvalidValue
from domain.values import clean_text, require_utc

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)


def a_book(**overrides: object) -> Book:
    fields: dict[str, object] = {
        "id": "b1",
        "isbn": "0-306-40615-2",
        "title": "  The   Title ",
        "authors": ["Ada Lovelace", "ada lovelace", " Charles  Babbage "],
        "publisher": "  ",
        "year": 1843,
        "subjects": ["Maths"],
        "now": NOW,
    }
    fields.update(overrides)
    return Book.create(**fields)  # type: ignore[arg-type]


def a_copy(status: CopyStatus = CopyStatus.AVAILABLE) -> Copy:
    copy = Copy.create(id="c1", book_id="b1", barcode=" BC-001 ", now=NOW)
    copy.status = status
    return copy


class TestBook:
    def test_create_normalises_every_field(self) -> None:
        book = a_book()
        assert book.isbn == "9780306406157"
        assert book.title == "The Title"
        # Whitespace collapsed; the same name in another case listed once, first spelling kept.
        assert book.authors == ("Ada Lovelace", "Charles Babbage")
        assert book.publisher is None  # blank means none
        assert book.year == 1843
        assert book.subjects == ("Maths",)
        assert book.created_at == book.updated_at == NOW
        assert book.version == 1

    def test_title_is_required(self) -> None:
        with pytest.raises(InvalidValue) as refused:
            a_book(title=" \t\n ")
        assert refused.value.field == "title"
        assert refused.value.code == "INVALID_VALUE"

    def test_title_length_is_bounded(self) -> None:
        assert len(a_book(title="t" * 500).title) == 500
        with pytest.raises(InvalidValue, match="at most 500"):
            a_book(title="t" * 501)

    def test_authors_and_subjects_are_bounded(self) -> None:
        assert len(a_book(authors=[f"A{i}" for i in range(50)]).authors) == 50
        with pytest.raises(InvalidValue) as refused:
            a_book(authors=[f"A{i}" for i in range(51)])
        assert refused.value.field == "authors"
        with pytest.raises(InvalidValue) as refused:
            a_book(subjects=[f"S{i}" for i in range(51)])
        assert refused.value.field == "subjects"
        with pytest.raises(InvalidValue) as refused:
            a_book(authors=["ok", "  "])
        assert refused.value.field == "authors"

    @pytest.mark.parametrize("year", [0, -5, NOW.year + 2])
    def test_year_out_of_range_is_refused(self, year: int) -> None:
        with pytest.raises(InvalidValue) as refused:
            a_book(year=year)
        assert refused.value.field == "year"

    @pytest.mark.parametrize("year", [1, NOW.year, NOW.year + 1, None])
    def test_year_in_range_or_absent_is_accepted(self, year: int | None) -> None:
        assert a_book(year=year).year == year

    def test_invalid_isbn_is_refused(self) -> None:
        with pytest.raises(InvalidIsbn):
            a_book(isbn="0-306-40615-3")

    def test_naive_or_non_utc_time_is_refused(self) -> None:
        with pytest.raises(InvalidValue):
            a_book(now=datetime(2030, 1, 1))  # noqa: DTZ001
        with pytest.raises(InvalidValue):
            a_book(now=datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=2))))

    def test_revise_changes_only_the_given_fields(self) -> None:
        book = a_book()
        book.revise(now=LATER, title="New", publisher="Pub", year=None)
        assert (book.title, book.publisher, book.year) == ("New", "Pub", None)
        assert book.isbn == "9780306406157"
        assert book.authors == ("Ada Lovelace", "Charles Babbage")
        assert book.updated_at == LATER
        assert book.created_at == NOW

    def test_revise_validates_everything_before_changing_anything(self) -> None:
        book = a_book()
        before = (book.isbn, book.title, book.authors, book.year, book.updated_at)
        with pytest.raises(InvalidValue):
            book.revise(now=LATER, title="Fine", isbn="9780306406157", year=-1)
        with pytest.raises(InvalidIsbn):
            book.revise(now=LATER, title="Fine", isbn="123")
        assert (book.isbn, book.title, book.authors, book.year, book.updated_at) == before


class TestBarcode:
    @pytest.mark.parametrize("raw", ["A", "0", "bc-1.2_3", "x" * 64, "  C00001  "])
    def test_good_barcodes(self, raw: str) -> None:
        assert clean_barcode(raw) == raw.strip()

    @pytest.mark.parametrize("raw", ["", " ", "-A", ".A", "_A", "A B", "A/B", "x" * 65, "é1"])
    def test_bad_barcodes(self, raw: str) -> None:
        with pytest.raises(InvalidValue) as refused:
            clean_barcode(raw)
        assert refused.value.field == "barcode"


class TestCopy:
    def test_a_new_copy_is_available(self) -> None:
        copy = a_copy()
        assert copy.status is CopyStatus.AVAILABLE
        assert copy.barcode == "BC-001"
        assert copy.circulates

    @pytest.mark.parametrize(
        ("status", "circulates"),
        [
            (CopyStatus.AVAILABLE, True),
            (CopyStatus.ON_LOAN, True),
            (CopyStatus.ON_HOLD_SHELF, True),
            (CopyStatus.LOST, False),
            (CopyStatus.WITHDRAWN, False),
        ],
    )
    def test_circulates(self, status: CopyStatus, circulates: bool) -> None:
        assert a_copy(status).circulates is circulates


Move = Callable[[Copy, datetime], None]
MOVES: dict[str, tuple[Move, CopyStatus]] = {
    "lend": (Copy.lend, CopyStatus.ON_LOAN),
    "take_back": (Copy.take_back, CopyStatus.AVAILABLE),
    "set_aside": (Copy.set_aside, CopyStatus.ON_HOLD_SHELF),
    "release": (Copy.release, CopyStatus.AVAILABLE),
    "mark_lost": (Copy.mark_lost, CopyStatus.LOST),
    "mark_found": (Copy.mark_found, CopyStatus.AVAILABLE),
    "withdraw": (Copy.withdraw, CopyStatus.WITHDRAWN),
}
S = CopyStatus
ALLOWED: dict[str, set[CopyStatus]] = {
    "lend": {S.AVAILABLE, S.ON_HOLD_SHELF},
    "take_back": {S.ON_LOAN},
    "set_aside": {S.AVAILABLE},
    "release": {S.ON_HOLD_SHELF},
    "mark_lost": {S.AVAILABLE, S.ON_HOLD_SHELF},
    "mark_found": {S.LOST},
    "withdraw": {S.AVAILABLE, S.ON_HOLD_SHELF, S.LOST},
}
TRANSITIONS = [(move, status) for move in MOVES for status in CopyStatus]


@pytest.mark.parametrize(("move", "status"), TRANSITIONS)
def test_every_copy_transition_is_allowed_or_refused(move: str, status: CopyStatus) -> None:
    copy = a_copy(status)
    method, target = MOVES[move]
    if status in ALLOWED[move]:
        method(copy, LATER)
        assert copy.status is target
        assert copy.updated_at == LATER
        return
    expected = CopyOnLoan if status is CopyStatus.ON_LOAN else InvalidCopyTransition
    with pytest.raises(expected) as refused:
        method(copy, LATER)
    assert refused.value.details["copy_id"] == "c1"
    assert copy.status is status  # a refusal changes nothing
    assert copy.updated_at == NOW


def test_refused_transition_codes() -> None:
    with pytest.raises(CopyOnLoan) as on_loan:
        a_copy(CopyStatus.ON_LOAN).mark_lost(LATER)
    assert on_loan.value.code == "COPY_ON_LOAN"
    with pytest.raises(InvalidCopyTransition) as invalid:
        a_copy(CopyStatus.WITHDRAWN).mark_found(LATER)
    assert invalid.value.code == "INVALID_COPY_TRANSITION"
    assert invalid.value.details == {"copy_id": "c1", "status": "withdrawn", "target": "available"}


class TestValues:
    def test_clean_text_collapses_whitespace(self) -> None:
        assert clean_text("f", "  a \n\t b  ", max_length=3) == "a b"
        with pytest.raises(InvalidValue):
            clean_text("f", "abcd", max_length=3)

    def test_require_utc(self) -> None:
        assert require_utc("t", NOW) is NOW
        assert require_utc("t", NOW.astimezone(timezone(timedelta(0)))) == NOW
        with pytest.raises(InvalidValue) as refused:
            require_utc("t", datetime(2030, 1, 1))  # noqa: DTZ001
        assert refused.value.field == "t"


def test_copies_made_together_are_the_copies_made_one_by_one() -> None:
    now = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

    together = Copy.create_many(
        ids=["c1", "c2"], book_id="b1", barcodes=[" BC-1 ", "BC-2"], now=now, item_type="dvd"
    )

    assert together == [
        Copy.create(id="c1", book_id="b1", barcode="BC-1", now=now, item_type="dvd"),
        Copy.create(id="c2", book_id="b1", barcode="BC-2", now=now, item_type="dvd"),
    ]


@pytest.mark.parametrize(
    ("barcodes", "now"),
    [
        (["BC-1", "no spaces inside"], datetime(2026, 12, 4, tzinfo=UTC)),
        (["BC-1", "BC-2"], datetime(2026, 12, 4)),  # naive  # noqa: DTZ001
        (["BC-1", "BC-2"], datetime(2026, 12, 4, tzinfo=timezone(timedelta(hours=1)))),
    ],
)
def test_copies_made_together_are_refused_as_one_would_be(
    barcodes: list[str], now: datetime
) -> None:
    with pytest.raises(InvalidValue):
        Copy.create_many(ids=["c1", "c2"], book_id="b1", barcodes=barcodes, now=now)


def test_an_instant_in_another_zone_object_with_no_offset_is_utc() -> None:
    instant = datetime(2026, 12, 4, tzinfo=timezone(timedelta(0), "GMT"))

    assert require_utc("now", instant) is instant
