"""Books (catalogue records) and copies (physical items)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import CopyOnLoan, InvalidCopyTransition, InvalidValue
from domain.isbn import normalise_isbn
from domain.rules import DEFAULT_ITEM_TYPE
from domain.values import UNSET, Unset, clean_text, require_utc

MAX_TITLE = 500
MAX_NAME = 200
MAX_AUTHORS = 50
MAX_SUBJECTS = 50
_BARCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _clean_names(field: str, values: tuple[str, ...] | list[str], limit: int) -> tuple[str, ...]:
    if len(values) > limit:
        raise InvalidValue(field, f"{field} may list at most {limit} entries")
    cleaned: list[str] = []
    seen: set[str] = set()  # case-folded: the same name in another case is the same name
    for value in values:
        name = clean_text(field, value, max_length=MAX_NAME)
        folded = name.casefold()
        if folded not in seen:
            seen.add(folded)
            cleaned.append(name)
    return tuple(cleaned)


def _check_year(year: int | None, now: datetime) -> int | None:
    if year is not None and not 1 <= year <= now.year + 1:
        raise InvalidValue("year", f"year must be between 1 and {now.year + 1}")
    return year


def _clean_optional(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return clean_text(field, value, max_length=MAX_NAME)


@dataclass(slots=True, kw_only=True)
class Book:
    id: str
    isbn: str
    title: str
    authors: tuple[str, ...]
    publisher: str | None
    year: int | None
    subjects: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    item_type: str = DEFAULT_ITEM_TYPE  # what its new copies are, unless told otherwise
    version: int = 1

    @classmethod
    def create(
        cls,
        *,
        id: str,
        isbn: str,
        title: str,
        authors: list[str] | tuple[str, ...] = (),
        publisher: str | None = None,
        year: int | None = None,
        subjects: list[str] | tuple[str, ...] = (),
        now: datetime,
        item_type: str = DEFAULT_ITEM_TYPE,
    ) -> Book:
        require_utc("now", now)
        return cls(
            item_type=item_type,
            id=id,
            isbn=normalise_isbn(isbn),
            title=clean_text("title", title, max_length=MAX_TITLE),
            authors=_clean_names("authors", authors, MAX_AUTHORS),
            publisher=_clean_optional("publisher", publisher),
            year=_check_year(year, now),
            subjects=_clean_names("subjects", subjects, MAX_SUBJECTS),
            created_at=now,
            updated_at=now,
        )

    def revise(
        self,
        *,
        now: datetime,
        isbn: str | Unset = UNSET,
        title: str | Unset = UNSET,
        authors: list[str] | tuple[str, ...] | Unset = UNSET,
        publisher: str | Unset | None = UNSET,
        year: int | Unset | None = UNSET,
        subjects: list[str] | tuple[str, ...] | Unset = UNSET,
    ) -> None:
        """Change the given fields; every value is validated before any is applied."""
        new_isbn = self.isbn if isinstance(isbn, Unset) else normalise_isbn(isbn)
        new_title = (
            self.title
            if isinstance(title, Unset)
            else clean_text("title", title, max_length=MAX_TITLE)
        )
        new_authors = (
            self.authors
            if isinstance(authors, Unset)
            else _clean_names("authors", authors, MAX_AUTHORS)
        )
        new_publisher = (
            self.publisher
            if isinstance(publisher, Unset)
            else _clean_optional("publisher", publisher)
        )
        new_year = self.year if isinstance(year, Unset) else _check_year(year, now)
        new_subjects = (
            self.subjects
            if isinstance(subjects, Unset)
            else _clean_names("subjects", subjects, MAX_SUBJECTS)
        )
        revised = (new_isbn, new_title, new_authors, new_publisher, new_year, new_subjects)
        current = (self.isbn, self.title, self.authors, self.publisher, self.year, self.subjects)
        if revised == current:
            return  # nothing changed: keep the version (and so the ETag) as it is
        self.isbn, self.title, self.authors = new_isbn, new_title, new_authors
        self.publisher, self.year, self.subjects = new_publisher, new_year, new_subjects
        self.updated_at = now

    def change_item_type(self, item_type: str, now: datetime) -> None:
        """The type new copies default to; copies already made keep theirs."""
        if item_type != self.item_type:
            self.item_type = item_type
            self.updated_at = now


class CopyStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    ON_HOLD_SHELF = "on_hold_shelf"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


def clean_barcode(barcode: str) -> str:
    cleaned = barcode.strip()
    if not _BARCODE.match(cleaned):
        raise InvalidValue(
            "barcode",
            "barcode must be 1-64 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit",
        )
    return cleaned


@dataclass(slots=True, kw_only=True)
class Copy:
    id: str
    book_id: str
    barcode: str
    status: CopyStatus
    created_at: datetime
    updated_at: datetime
    item_type: str = DEFAULT_ITEM_TYPE  # a ``domain.rules.ItemType`` code
    version: int = 1

    @classmethod
    def create(
        cls,
        *,
        id: str,
        book_id: str,
        barcode: str,
        now: datetime,
        item_type: str = DEFAULT_ITEM_TYPE,
    ) -> Copy:
        require_utc("now", now)
        return cls(
            item_type=item_type,
            id=id,
            book_id=book_id,
            barcode=clean_barcode(barcode),
            status=CopyStatus.AVAILABLE,
            created_at=now,
            updated_at=now,
        )

    @classmethod
    def create_many(
        cls,
        *,
        ids: Sequence[str],
        book_id: str,
        barcodes: Sequence[str],
        now: datetime,
        item_type: str = DEFAULT_ITEM_TYPE,
    ) -> list[Copy]:
        """New copies of one book, one per id and barcode, each as ``create`` makes it (a bulk
        load makes hundreds of thousands: the instant is checked once, each barcode on its own).
        """
        require_utc("now", now)
        return [
            cls(
                item_type=item_type,
                id=copy_id,
                book_id=book_id,
                barcode=clean_barcode(barcode),
                status=CopyStatus.AVAILABLE,
                created_at=now,
                updated_at=now,
            )
            for copy_id, barcode in zip(ids, barcodes, strict=True)
        ]

    @property
    def circulates(self) -> bool:
        """Whether the copy can ever be lent again (it is neither lost nor withdrawn)."""
        return self.status not in {CopyStatus.LOST, CopyStatus.WITHDRAWN}

    def _move(self, allowed: set[CopyStatus], target: CopyStatus, now: datetime) -> None:
        if self.status not in allowed:
            if self.status is CopyStatus.ON_LOAN:
                advice = "declare its loan lost" if target is CopyStatus.LOST else "return it first"
                raise CopyOnLoan(f"copy {self.barcode} is on loan; {advice}", copy_id=self.id)
            raise InvalidCopyTransition(
                f"copy {self.barcode} cannot go from {self.status} to {target}",
                copy_id=self.id,
                status=str(self.status),
                target=str(target),
            )
        self.status = target
        self.updated_at = now

    def change_item_type(self, item_type: str, now: datetime) -> None:
        """Loans already made keep the terms they were made under."""
        if item_type != self.item_type:
            self.item_type = item_type
            self.updated_at = now

    def lend(self, now: datetime) -> None:
        self._move({CopyStatus.AVAILABLE, CopyStatus.ON_HOLD_SHELF}, CopyStatus.ON_LOAN, now)

    def take_back(self, now: datetime) -> None:
        self._move({CopyStatus.ON_LOAN}, CopyStatus.AVAILABLE, now)

    def set_aside(self, now: datetime) -> None:
        self._move({CopyStatus.AVAILABLE}, CopyStatus.ON_HOLD_SHELF, now)

    def release(self, now: datetime) -> None:
        self._move({CopyStatus.ON_HOLD_SHELF}, CopyStatus.AVAILABLE, now)

    def mark_lost(self, now: datetime) -> None:
        self._move({CopyStatus.AVAILABLE, CopyStatus.ON_HOLD_SHELF}, CopyStatus.LOST, now)

    def lose_on_loan(self, now: datetime) -> None:
        """The copy's loan was declared lost: the copy is gone with it."""
        self._move({CopyStatus.ON_LOAN}, CopyStatus.LOST, now)

    def mark_found(self, now: datetime) -> None:
        self._move({CopyStatus.LOST}, CopyStatus.AVAILABLE, now)

    def withdraw(self, now: datetime) -> None:
        self._move(
            {CopyStatus.AVAILABLE, CopyStatus.ON_HOLD_SHELF, CopyStatus.LOST},
            CopyStatus.WITHDRAWN,
            now,
        )
