"""The unit of work: one transaction, committed whole or not at all.

``BaseUnitOfWork`` is the transaction machinery every slice shares (change tracking, events,
records written with the commit); each slice declares the repositories it works with on top of
it: ``UnitOfWork`` here for the library, ``application.identity.unit_of_work`` for identity.

Repositories register what they load with a ``ChangeTracker``; on commit the tracker writes new
entities, then entities whose state changed (each guarded by its version, so a concurrent change
is refused rather than overwritten), then removals. Use cases therefore only load, call domain
methods, and commit. Every adapter shares this logic and supplies the writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from copy import copy as shallow_copy
from dataclasses import dataclass, field, fields
from itertools import groupby
from operator import attrgetter
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast

from application.ports import (
    BookRepository,
    BulkWriter,
    CirculationRuleRepository,
    ClosureRepository,
    CopyRepository,
    EventPublisher,
    HoldRepository,
    ItemTypeRepository,
    LedgerRepository,
    LoanRepository,
    MemberCategoryRepository,
    MemberRepository,
)
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.circulation import BookCirculation
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.events import Event
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.rules import DEFAULT_ITEM_TYPE, CirculationRule, ItemType, MemberCategory

Entity = (
    Book
    | Copy
    | Member
    | Loan
    | Hold
    | LedgerEntry
    | RefreshToken
    | ApiKey
    | ServiceClient
    | MemberCategory
    | ItemType
    | CirculationRule
    | Closure
)
E = TypeVar("E", bound=Entity)


class EntityStore(ABC, Generic[E]):
    """Base of every repository: tracking on the way in, writes on commit."""

    def __init__(self, tracker: ChangeTracker) -> None:
        self._tracker = tracker
        self._kind: type[E] | None = None  # of the entities this store has handled so far

    def add(self, entity: E) -> None:
        self._kind = type(entity)
        self._tracker.added(entity, self)

    def remove(self, entity: E) -> None:
        self._tracker.removed(entity, self)

    def _track(self, entity: E | None) -> E | None:
        if entity is None:
            return None
        self._kind = type(entity)
        return self._tracker.loaded(entity, self)

    def _track_all(self, entities: Iterable[E]) -> list[E]:
        tracked = [self._tracker.loaded(entity, self) for entity in entities]
        if tracked:
            self._kind = type(tracked[0])
        return tracked

    def _known(self, entity_id: str) -> E | None:
        """The entity with ``entity_id`` if this unit of work holds it already (loaded or added
        through this store, not removed). Reading its row again would be wasted: the tracker
        hands back the object it holds, whatever the row says now; a concurrent change is
        refused by the version check when this one is written."""
        return None if self._kind is None else self._tracker.known(self._kind, entity_id)

    @abstractmethod
    def write_new(self, entity: E) -> None: ...

    def write_new_many(self, entities: Sequence[E]) -> None:
        """Store several new entities; adapters override it to write them in one statement."""
        for entity in entities:
            self.write_new(entity)

    @abstractmethod
    def write_changes(self, entity: E, expected_version: int, before: E | None = None) -> None:
        """Store ``entity`` (whose version is already the new one) if the stored version is
        still ``expected_version``; raise ``ConcurrentUpdate`` otherwise, at once or (for an
        adapter that sends the write with the commit's others) when the commit sends it.
        ``before`` is the entity as it was loaded, when known: an adapter may then write only
        what differs."""

    @abstractmethod
    def write_removal(self, entity: E) -> None: ...


# A getter of every field per entity type, giving their values as a tuple: ``fields()`` walks
# the class's field table on every call, and a Python loop over the names cost more than the
# snapshot's comparison; ``attrgetter`` reads them all in one call.
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _fields_of(kind: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    found = _FIELDS.get(kind)
    if found is None:
        names = tuple(each.name for each in fields(kind))
        read = attrgetter(*names)
        # With one name ``attrgetter`` gives the value itself, not a tuple of one.
        getter = read if len(names) > 1 else lambda entity: (read(entity),)
        found = _FIELDS[kind] = (names, getter)
    return found


def _state(entity: Entity) -> tuple[Any, ...]:
    # Field values are immutable (str, int, datetime, enum, tuple), so a shallow tuple is a
    # faithful snapshot.
    return _fields_of(type(entity))[1](entity)


def _as_loaded(entity: E, snapshot: tuple[Any, ...]) -> E:
    """A detached copy of ``entity`` holding the field values of ``snapshot`` (no constructor
    runs: the values were valid when they were loaded)."""
    before = shallow_copy(entity)
    for name, value in zip(_fields_of(type(entity))[0], snapshot, strict=True):
        object.__setattr__(before, name, value)
    return before


@dataclass(slots=True)
class _Tracked:
    entity: Any
    store: EntityStore[Any]
    snapshot: tuple[Any, ...] | None  # None: added in this unit of work
    removed: bool = False


# The snapshot of an entity loaded by a unit of work that only reads: never compared.
_NOT_KEPT: tuple[Any, ...] = ()


class ChangeTracker:
    """An identity map of what one unit of work loaded, added and removed.

    ``reads_only``: for a unit of work opened to read only, which never flushes. What it loads
    is kept as the same object per row all the same, but without the snapshot a flush would
    compare it with (a page of books would take one per book, for nothing)."""

    def __init__(self, *, reads_only: bool = False) -> None:
        self._entries: dict[tuple[type, str], _Tracked] = {}
        self._removals: list[_Tracked] = []
        self._reads_only = reads_only

    def loaded(self, entity: E, store: EntityStore[E]) -> E:
        key = (type(entity), entity.id)
        known = self._entries.get(key)
        if known is not None:
            # The same row read twice is the same object, so no change can be lost between them.
            tracked: E = known.entity
            return tracked
        snapshot = _NOT_KEPT if self._reads_only else _state(entity)
        self._entries[key] = _Tracked(entity, store, snapshot)
        return entity

    def knows(self, entity: Entity) -> bool:
        """Whether ``entity`` was loaded or added in this unit of work."""
        return (type(entity), entity.id) in self._entries

    def known(self, kind: type[E], entity_id: str) -> E | None:
        """The ``kind`` with ``entity_id`` this unit of work loaded or added, if it did."""
        tracked = self._entries.get((kind, entity_id))
        return None if tracked is None else cast(E, tracked.entity)

    def added(self, entity: E, store: EntityStore[E]) -> None:
        key = (type(entity), entity.id)
        if key in self._entries:
            raise ValueError(f"{type(entity).__name__} {entity.id} is already in this unit of work")
        self._entries[key] = _Tracked(entity, store, None)

    def removed(self, entity: E, store: EntityStore[E]) -> None:
        key = (type(entity), entity.id)
        tracked = self._entries.pop(key, None) or _Tracked(entity, store, _state(entity))
        if tracked.snapshot is not None:
            tracked.removed = True
            self._removals.append(tracked)

    def flush(self) -> None:
        if self._reads_only:
            raise RuntimeError("a unit of work that only reads has nothing to write")
        entries = list(self._entries.values())
        # New entities go out in runs of the same store, in the order they were added (parents
        # before children), so a bulk load is a few multi-row INSERTs rather than one per row.
        new = [tracked for tracked in entries if tracked.snapshot is None]
        for store, run in groupby(new, key=lambda tracked: tracked.store):
            store.write_new_many([tracked.entity for tracked in run])
        changed: list[_Tracked] = []
        for tracked in entries:
            if tracked.snapshot is not None and _state(tracked.entity) != tracked.snapshot:
                before = _as_loaded(tracked.entity, tracked.snapshot)
                expected = tracked.entity.version
                tracked.entity.version = expected + 1
                try:
                    tracked.store.write_changes(tracked.entity, expected, before)
                except Exception:
                    tracked.entity.version = expected
                    raise
                changed.append(tracked)
        for tracked in self._removals:
            tracked.store.write_removal(tracked.entity)
        # What was written is the state a later commit of this unit of work compares with; an
        # entity left unchanged still has the snapshot it was loaded with.
        for tracked in (*new, *changed):
            tracked.snapshot = _state(tracked.entity)
        self._removals.clear()


class BookCirculationStore(ABC):
    """Loads and saves a book's circulation state (``domain.circulation.BookCirculation``).

    ``get`` reads the book's copies and active holds as tracked entities; ``save`` adds the
    copies and holds the aggregate made and queues the events it recorded, so the commit writes
    the whole change and publishes its events afterwards.
    """

    def __init__(
        self,
        tracker: ChangeTracker,
        books: BookRepository,
        copies: EntityStore[Copy],
        holds: EntityStore[Hold],
        emit: Callable[[Sequence[Event]], None],
    ) -> None:
        self._tracker = tracker
        self._books = books
        self._copies = copies
        self._holds = holds
        self._emit = emit

    def get(self, book_id: str) -> BookCirculation:
        """The state of ``book_id`` (no copies and no holds for an unknown book)."""
        book, copies, holds = self._load_with_book(book_id)
        return BookCirculation(
            book_id=book_id,
            copies=copies,
            holds=holds,
            item_type=book.item_type if book is not None else DEFAULT_ITEM_TYPE,
        )

    def find(self, book_id: str) -> BookCirculation | None:
        """The state of ``book_id``; ``None`` when there is no such book. Saves a use case
        that must answer 404 for an unknown book from reading the book on its own first."""
        return self.state_of(book_id, *self._load_with_book(book_id))

    @staticmethod
    def state_of(
        book_id: str, book: Book | None, copies: list[Copy], holds: list[Hold]
    ) -> BookCirculation | None:
        """The state made of what ``_load_with_book`` reads; ``None`` without the book."""
        if book is None:
            return None
        return BookCirculation(
            book_id=book_id, copies=copies, holds=holds, item_type=book.item_type
        )

    def save(self, state: BookCirculation) -> None:
        for copy in state.copies:
            if not self._tracker.knows(copy):
                self._copies.add(copy)
        for hold in state.holds:
            if not self._tracker.knows(hold):
                self._holds.add(hold)
        self._emit(state.pull_events())

    @abstractmethod
    def _load(self, book_id: str) -> tuple[list[Copy], list[Hold]]:
        """The book's copies by barcode and its active holds in queue order, tracked."""

    def _load_with_book(self, book_id: str) -> tuple[Book | None, list[Copy], list[Hold]]:
        """The book (``None`` if unknown) and what ``_load`` reads, tracked; an adapter may
        read the three at once."""
        return self._books.get(book_id), *self._load(book_id)


@dataclass(frozen=True, slots=True)
class RulesInForce:
    """What ``rule_book`` is made of, read together (``UnitOfWork.rules_in_force``)."""

    rules: list[CirculationRule]  # by id
    categories: list[MemberCategory]  # by code
    closures: list[Closure]  # weekly closures by weekday, then single dates by date


# --- records written with a commit --------------------------------------------------------
# Some records must exist if and only if a change was committed: the mark that an idempotency key
# was used up, later an audit entry or an outbox message. They are written in the transaction of
# the change itself, never in one of their own, so that a crash between two transactions cannot
# leave one without the other.


@dataclass(slots=True)
class Riders:
    """Records handed to ``riding_with_next_commit``; ``written`` once a commit carried them."""

    records: tuple[object, ...]
    written: bool = field(default=False)


# Turns a transaction's domain events into records written with it (the outbox's messages, the
# audit trail's records). Given the transaction's events and its unit of work (to read what the
# records depend on, such as a member's notice preferences, in the same transaction).
RecordsForEvents = Callable[[Sequence[Event], "BaseUnitOfWork"], Sequence[object]]


def records_from(*makers: RecordsForEvents) -> RecordsForEvents:
    """One ``records_for_events`` made of several: each event's records from each, in order."""

    def records(events: Sequence[Event], uow: BaseUnitOfWork) -> list[object]:
        return [record for make in makers for record in make(events, uow)]

    return records


_RIDERS: ContextVar[tuple[Riders, ...]] = ContextVar("circulate_commit_riders", default=())


@contextmanager
def riding_with_next_commit(*records: object) -> Iterator[Riders]:
    """Have the next unit of work that commits in this context write ``records`` in its own
    transaction (once: later commits do not repeat them).

    For a caller that cannot reach the unit of work a use case opens, such as the HTTP edge
    wrapping a whole request: the use case stays unaware of the records. A commit that fails
    leaves them for the next attempt; a record whose write fails fails the commit.
    """
    riders = Riders(records)
    token = _RIDERS.set((*_RIDERS.get(), riders))
    try:
        yield riders
    finally:
        _RIDERS.reset(token)


class BaseUnitOfWork(ABC):
    """``with uow: load -> domain method -> uow.commit()``; leaving without commit rolls back.

    ``also_write(record)`` adds a record (not an entity: nothing loads it back) to the
    transaction; the adapter knows how to store each kind of record and refuses others.
    ``records_for_events``, when given, turns the transaction's domain events into such records
    at commit (the outbox messages and audit records they cause), so they commit with the change
    or not at all. Every slice's unit of work inherits this, so each keeps that guarantee.

    ``members`` is here because both slices read members (the library changes them; identity
    signs them in) and because ``records_for_events`` may read a member's preferences.
    """

    members: MemberRepository
    _reads_only = False

    def __init__(
        self,
        publisher: EventPublisher | None = None,
        records_for_events: RecordsForEvents | None = None,
    ) -> None:
        self._publisher = publisher
        self._records_for_events = records_for_events
        self._tracker = ChangeTracker()
        self._events: list[Event] = []
        self._records: list[object] = []

    def reading(self) -> Self:
        """Declare, before the block opens, that it only reads (``with uow.reading():``): an
        adapter may then run a transaction that cannot write and end it as cheaply as it can.
        A commit in it is refused."""
        self._reads_only = True
        return self

    def __enter__(self) -> Self:
        self._tracker = ChangeTracker(reads_only=self._reads_only)
        self._events = []
        self._records = []
        self._begin(self._tracker)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._rollback()
        finally:
            self._reads_only = False
            self._close()

    def emit(self, *events: Event) -> None:
        """Queue events to publish once the transaction has committed."""
        self._events.extend(events)

    def also_write(self, *records: object) -> None:
        """Write ``records`` in this transaction: with the commit, or not at all."""
        self._records.extend(records)

    def _emit_all(self, events: Sequence[Event]) -> None:
        self._events.extend(events)

    def commit(self) -> None:
        if self._reads_only:
            raise RuntimeError("this unit of work was opened to read only")
        if self._records_for_events is not None and self._events:
            self.also_write(*self._records_for_events(self._events, self))
        self._tracker.flush()
        riders = [riders for riders in _RIDERS.get() if not riders.written]
        self._write_records([*self._records, *(r for riders in riders for r in riders.records)])
        self._commit()
        self._records = []
        for carried in riders:
            carried.written = True
        events, self._events = self._events, []
        if self._publisher is not None and events:
            self._publisher.publish(events)

    @abstractmethod
    def _begin(self, tracker: ChangeTracker) -> None:
        """Open the transaction and bind the repositories to ``tracker``."""

    def _write_records(self, records: Sequence[object]) -> None:
        """Store ``records`` in the open transaction, in their order; an adapter may write
        several at once."""
        for record in records:
            self._write_record(record)

    def _write_record(self, record: object) -> None:
        """Store ``record`` in the open transaction; adapters handle the kinds they know."""
        raise TypeError(f"{type(self).__name__} cannot write a {type(record).__name__}")

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None:
        """Undo whatever was not committed; a no-op after a commit."""

    @abstractmethod
    def _close(self) -> None: ...


class UnitOfWork(BaseUnitOfWork):
    """The library's unit of work: the catalogue, members, circulation, accounts and rules.

    Credentials (refresh tokens, API keys, service clients) are not here: they belong to the
    identity slice's own unit of work (``application.identity.unit_of_work``).
    """

    books: BookRepository
    copies: CopyRepository
    members: MemberRepository
    loans: LoanRepository
    holds: HoldRepository
    ledger: LedgerRepository
    bulk: BulkWriter
    circulation: BookCirculationStore
    member_categories: MemberCategoryRepository
    item_types: ItemTypeRepository
    rules: CirculationRuleRepository
    closures: ClosureRepository

    def rules_in_force(self) -> RulesInForce:
        """Every circulation rule, member category and closure, as their repositories' ``all``
        give them, to decide by: read-only (a change goes through the repositories), so an
        adapter may hand the same ones to every unit of work while they are what the store
        holds. Every circulation decision needs the three together, so an adapter may read
        them in one round trip; this reads each in turn."""
        return RulesInForce(
            rules=self.rules.all(),
            categories=self.member_categories.all(),
            closures=self.closures.all(),
        )

    def circulation_and_rules(self, book_id: str) -> tuple[BookCirculation | None, RulesInForce]:
        """``circulation.find(book_id)`` and ``rules_in_force()``: what every decision about a
        book reads besides the member. An adapter may read them in one round trip."""
        return self.circulation.find(book_id), self.rules_in_force()

    def member_circulation_and_rules(
        self, member_id: str, book_id: str
    ) -> tuple[Member | None, BookCirculation | None, RulesInForce]:
        """The member, locked (``members.get(member_id, for_update=True)``), and
        ``circulation_and_rules(book_id)``: what a decision about a member and a book reads
        first. An adapter may read them in one round trip; what it reads after the lock (their
        loans, their balance) must wait for it, and is read apart."""
        return self.members.get(member_id, for_update=True), *self.circulation_and_rules(book_id)

    def open_loans_and_balance(self, member_id: str) -> tuple[list[Loan], int]:
        """The member's open loans (``loans.open_for_member``) and ledger balance
        (``ledger.balance``): what every decision about their borrowing reads, after locking
        the member. An adapter may read the two in one round trip; this reads each in turn."""
        return self.loans.open_for_member(member_id), self.ledger.balance(member_id)

    def open_loans_balance_and_holds(self, member_id: str) -> tuple[list[Loan], int, list[Hold]]:
        """``open_loans_and_balance`` and the member's active holds (``holds.active_for_member``):
        what placing a hold reads about the member. One round trip where the adapter can."""
        return (*self.open_loans_and_balance(member_id), self.holds.active_for_member(member_id))

    def copy_and_open_loan(self, barcode: str) -> tuple[Copy | None, Loan | None]:
        """The copy with ``barcode`` (``copies.get_by_barcode``) and its open loan
        (``loans.open_for_copy``), if any: what a check-in scan reads first. One round trip
        where the adapter can."""
        copy = self.copies.get_by_barcode(barcode)
        return copy, None if copy is None else self.loans.open_for_copy(copy.id)
