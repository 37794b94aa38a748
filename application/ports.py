"""Ports: what the use cases need from the outside world, and nothing about how it is done."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from application.queries import BookFilter, HoldFilter, LoanFilter, MemberFilter, Page, PageRequest
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.events import Event
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.rules import CirculationRule, ItemType, MemberCategory

if TYPE_CHECKING:
    from application.unit_of_work import UnitOfWork


class DependencyUnavailable(Exception):
    """A service this one depends on (the database, Redis) does not answer: an outage, not a
    bug. Raised by adapters in place of their driver's errors; edges answer "try again later"
    (HTTP 503 with ``Retry-After``) rather than report a failure of the request itself."""

    def __init__(self, dependency: str, retry_after_seconds: int) -> None:
        super().__init__(f"{dependency} is unavailable")
        self.dependency = dependency
        self.retry_after_seconds = max(1, retry_after_seconds)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique id; ids made later sort after ids made earlier."""
        ...

    def new_ids(self, count: int) -> list[str]:
        """``count`` new unique ids, in the order they sort, as ``new_id`` would make them one
        after another; for bulk loads, which make hundreds of thousands at a time."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> None:
        """Called after a commit with the events of that transaction, in order."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# --- repositories --------------------------------------------------------------------------
# Reads return entities the unit of work tracks: changes to them are saved on commit.
# ``add`` and ``remove`` take effect on commit too.


class BookRepository(Protocol):
    def get(self, book_id: str) -> Book | None: ...

    def get_by_isbn(self, isbn: str) -> Book | None: ...

    def existing_isbns(self, isbns: Collection[str]) -> set[str]:
        """Those of ``isbns`` (normalised ISBN-13) a stored book already has, asked at once."""
        ...

    def after(self, book_id: str | None, limit: int) -> list[Book]:
        """Up to ``limit`` books with ids after ``book_id`` (from the first when ``None``), in id
        order: walks the whole catalogue at the same cost per page, however deep."""
        ...

    def search(self, query: BookFilter, page: PageRequest) -> Page[Book]:
        """Sorted as asked, ties broken by id. Titles compare case-insensitively by code point;
        books without a year come last in either direction."""
        ...

    def add(self, book: Book) -> None: ...

    def remove(self, book: Book) -> None: ...


class CopyRepository(Protocol):
    def get(self, copy_id: str) -> Copy | None: ...

    def get_by_barcode(self, barcode: str) -> Copy | None: ...

    def existing_barcodes(self, barcodes: Collection[str]) -> set[str]:
        """Those of ``barcodes`` a stored copy already has, asked at once."""
        ...

    def circulating_counts(self, book_ids: Collection[str]) -> dict[str, int]:
        """For each of ``book_ids``, how many of its copies circulate (neither lost nor
        withdrawn); books without one are left out."""
        ...

    def for_book(self, book_id: str) -> list[Copy]:
        """Every copy of the book, ordered by barcode."""
        ...

    def add(self, copy: Copy) -> None: ...

    def remove(self, copy: Copy) -> None: ...


class MemberRepository(Protocol):
    def get(self, member_id: str, *, for_update: bool = False) -> Member | None:
        """``for_update`` locks the member until the transaction ends, so decisions about one
        member's loans and holds are taken one at a time."""
        ...

    def get_by_email(self, email: str) -> Member | None:
        """Case-insensitive."""
        ...

    def get_by_card_number(self, card_number: str) -> Member | None:
        """By the card number in its normal form (``domain.cards.normalise_card_number``)."""
        ...

    def existing_card_numbers(self, card_numbers: Collection[str]) -> set[str]:
        """Those of ``card_numbers`` (normalised) a stored member has, asked at once."""
        ...

    def list(self, query: MemberFilter, page: PageRequest) -> Page[Member]:
        """Oldest registration first (ties by id); ``q`` matches name or email, ignoring case."""
        ...

    def add(self, member: Member) -> None: ...

    def remove(self, member: Member) -> None: ...


class LoanRepository(Protocol):
    def get(self, loan_id: str) -> Loan | None: ...

    def open_for_member(self, member_id: str) -> list[Loan]: ...

    def open_for_copy(self, copy_id: str) -> Loan | None: ...

    def open_count_for_book(self, book_id: str) -> int: ...

    def closed_for_member(self, member_id: str) -> list[Loan]: ...

    def closed_for_book(self, book_id: str) -> list[Loan]: ...

    def overdue(self, now: datetime) -> list[Loan]:
        """Every open loan due before ``now`` and not disputed, earliest due first."""
        ...

    def lost_for_copy(self, copy_id: str) -> Loan | None:
        """The copy's latest loan, if that loan closed as lost."""
        ...

    def returned_before(self, cutoff: datetime, *, not_of: str, limit: int) -> list[Loan]:
        """Up to ``limit`` loans returned before ``cutoff`` whose borrower is not ``not_of``,
        earliest returned first (the retention job's batch)."""
        ...

    def list(self, query: LoanFilter, page: PageRequest, now: datetime) -> Page[Loan]:
        """Newest first; ``now`` decides which open loans are overdue."""
        ...

    def add(self, loan: Loan) -> None: ...

    def remove(self, loan: Loan) -> None: ...


class HoldRepository(Protocol):
    def get(self, hold_id: str) -> Hold | None: ...

    def active_for_book(self, book_id: str) -> list[Hold]:
        """Waiting and ready holds on the book, in queue order."""
        ...

    def active_for_member(self, member_id: str) -> list[Hold]: ...

    def ready_past_pickup(self, now: datetime) -> list[Hold]:
        """Ready holds whose pickup deadline is before ``now``."""
        ...

    def waiting_not_needed(self, today: date) -> list[Hold]:
        """Waiting holds whose not-needed-after date is before ``today``."""
        ...

    def for_member(self, member_id: str) -> list[Hold]: ...

    def for_book(self, book_id: str) -> list[Hold]: ...

    def list(self, query: HoldFilter, page: PageRequest) -> Page[Hold]:
        """Oldest first (queue order)."""
        ...

    def add(self, hold: Hold) -> None: ...

    def remove(self, hold: Hold) -> None: ...


class LedgerRepository(Protocol):
    def for_member(self, member_id: str) -> list[LedgerEntry]:
        """Oldest first."""
        ...

    def balance(self, member_id: str) -> int:
        """The signed sum of the member's lines (charges and refunds less credits), in cents."""
        ...

    def balances(self) -> dict[str, int]:
        """Each member's balance, for the members whose balance is not zero."""
        ...

    def add(self, entry: LedgerEntry) -> None: ...

    def remove(self, entry: LedgerEntry) -> None: ...


# --- bulk loads ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookAddition:
    """A new book and its new copies, for ``BulkWriter.add_books``."""

    book: Book
    copies: Sequence[Copy] = ()


@dataclass(slots=True)
class BookLoadOutcome:
    """What ``BulkWriter.add_books`` did with each book it was given, by book id."""

    added: list[str] = field(default_factory=list)  # stored, with all its copies
    present: list[str] = field(default_factory=list)  # skipped: a book has its ISBN already
    # Skipped: a stored copy has this barcode already (one per book, whichever is found first).
    barcode_taken: dict[str, str] = field(default_factory=dict)


class BulkWriter(Protocol):
    """Set-based writes for loading many rows at once, in the unit of work's transaction.

    Unlike ``add`` on a repository, these write at once rather than on commit, so that their
    outcome can be reported; they are committed, or rolled back, with the unit of work, whole.
    What they write is not tracked: entities given here must not also be ``add``-ed.
    Derived data (a book's count of copies on the shelf, the search index) is kept exact in the
    same transaction, as single-row writes keep it.
    """

    def add_books(self, additions: Sequence[BookAddition]) -> BookLoadOutcome:
        """Store each book with its copies, unless its ISBN or one of its barcodes is stored
        already (also by a transaction that commits meanwhile): then the book is skipped with
        its copies. The ISBNs among ``additions`` must be distinct, and so must the barcodes."""
        ...

    def add_members(self, members: Sequence[Member]) -> list[str]:
        """Store each member whose email is not registered yet (also by a transaction that
        commits meanwhile); returns the ids of those stored. The emails must be distinct."""
        ...


class MemberCategoryRepository(Protocol):
    def get(self, code: str) -> MemberCategory | None: ...

    def all(self) -> list[MemberCategory]:
        """Every category, retired ones included, by code."""
        ...

    def add(self, category: MemberCategory) -> None: ...


class ItemTypeRepository(Protocol):
    def get(self, code: str) -> ItemType | None: ...

    def all(self) -> list[ItemType]:
        """Every item type, retired ones included, by code."""
        ...

    def add(self, item_type: ItemType) -> None: ...


class CirculationRuleRepository(Protocol):
    def get(self, rule_id: str) -> CirculationRule | None: ...

    def all(self) -> list[CirculationRule]:
        """Every stored rule (a handful to a few hundred: the whole matrix is read at once)."""
        ...

    def add(self, rule: CirculationRule) -> None: ...

    def remove(self, rule: CirculationRule) -> None: ...


class ClosureRepository(Protocol):
    def get(self, closure_id: str) -> Closure | None: ...

    def all(self) -> list[Closure]:
        """Weekly closures (by weekday), then single dates (by date)."""
        ...

    def add(self, closure: Closure) -> None: ...

    def remove(self, closure: Closure) -> None: ...
