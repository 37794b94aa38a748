"""A small application over the in-memory adapters, and helpers shared by the unit tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time, timedelta
from typing import Any

from adapters.clock import ManualClock
from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryIdentityUnitOfWork, MemoryUnitOfWork
from adapters.memory.audit import MemoryAuditLog
from application.accounts import Accounts
from application.audit import AuditEvents, AuditFilter, AuditRecord, AuditTrail
from application.catalogue import BookDetails, Catalogue, NewBook
from application.circulation import Circulation
from application.identity.session_endings import SessionEndings
from application.losses import LostItems
from application.members import Membership
from application.queries import PageRequest
from application.retention import LoanRetention
from application.rules import CirculationRules
from domain.catalogue import Book, Copy
from domain.events import Event
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member, Role
from domain.policy import Policy

START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# The tests' loan retention period; small batches so that a run of a few loans takes several.
RETENTION = timedelta(days=30)


def end_of_day(instant: datetime) -> datetime:
    """23:59:59 UTC on ``instant``'s day: when a loan due that day falls due (the tests' library
    keeps UTC and never closes)."""
    return datetime.combine(instant.date(), time(23, 59, 59), tzinfo=UTC)


Snapshot = dict[str, dict[str, tuple[Any, ...]]]


class FakeHasher:
    """A transparent, instant password hasher: good enough to see that hashing happened."""

    PREFIX = "fake$"

    def __init__(self) -> None:
        self.calls = 0

    def hash(self, password: str) -> str:
        self.calls += 1
        return self.PREFIX + password[::-1]

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == self.PREFIX + password[::-1]

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(self.PREFIX)


class RecordingPublisher:
    """Keeps every batch of events it is handed, in order."""

    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]

    def of_type(self, kind: type[Event]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

    def clear(self) -> None:
        self.batches.clear()


def isbn13(n: int) -> str:
    """A valid ISBN-13 (prefix 978) made from ``n``; different ``n`` give different ISBNs."""
    body = f"978{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class App:
    db: MemoryDatabase
    clock: ManualClock
    ids: UuidV7Generator
    policy: Policy
    publisher: RecordingPublisher
    hasher: FakeHasher
    catalogue: Catalogue
    membership: Membership
    circulation: Circulation
    accounts: Accounts
    rules: CirculationRules
    lost_items: LostItems
    audit: AuditEvents
    retention: LoanRetention
    _isbns: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _barcodes: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _emails: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db, self.publisher, records_for_events=AuditTrail(self.ids))

    def identity_uow(self) -> MemoryIdentityUnitOfWork:
        """Identity's unit of work over the same store."""
        return MemoryIdentityUnitOfWork(
            self.db, self.publisher, records_for_events=AuditTrail(self.ids)
        )

    def audit_records(self, **query: Any) -> list[AuditRecord]:
        """The audit trail (filtered by ``AuditFilter``'s fields), oldest first."""
        page = self.audit.list(AuditFilter(**query), PageRequest(page=1, per_page=100))
        return list(reversed(page.items))

    def advance(self, delta: timedelta) -> datetime:
        return self.clock.advance(delta)

    def now(self) -> datetime:
        return self.clock.now()

    def add_book(
        self,
        copies: int = 1,
        *,
        title: str | None = None,
        authors: Sequence[str] = ("Ada Author",),
        year: int | None = 2001,
        isbn: str | None = None,
    ) -> NewBook:
        number = next(self._isbns)
        barcodes = [f"C{next(self._barcodes):05d}" for _ in range(copies)]
        details = BookDetails(
            isbn=isbn or isbn13(number),
            title=title or f"Book {number}",
            authors=tuple(authors),
            year=year,
        )
        return self.catalogue.add_book(details, barcodes)

    def add_member(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        role: Role = Role.MEMBER,
        expires_in: timedelta = timedelta(days=3650),
    ) -> Member:
        number = next(self._emails)
        return self.membership.register(
            email=email or f"member{number}@example.org",
            name=name or f"Member {number}",
            role=role,
            membership_expires_at=self.clock.now() + expires_in,
        )

    # --- reading the database directly ------------------------------------------------------

    def rows(self, table: type[Any]) -> list[Any]:
        return list(self.db.tables[table].values())

    def books(self) -> list[Book]:
        return self.rows(Book)

    def copies(self) -> list[Copy]:
        return sorted(self.rows(Copy), key=lambda c: c.barcode)

    def copy(self, copy_id: str) -> Copy:
        row: Copy = self.db.tables[Copy][copy_id]
        return row

    def members(self) -> list[Member]:
        return sorted(self.rows(Member), key=lambda m: m.id)

    def loans(self) -> list[Loan]:
        return sorted(self.rows(Loan), key=lambda loan: (loan.loaned_at, loan.id))

    def loan(self, loan_id: str) -> Loan:
        row: Loan = self.db.tables[Loan][loan_id]
        return row

    def holds(self) -> list[Hold]:
        return sorted(self.rows(Hold), key=lambda h: h.queue_key)

    def hold(self, hold_id: str) -> Hold:
        row: Hold = self.db.tables[Hold][hold_id]
        return row

    def ledger(self) -> list[LedgerEntry]:
        return sorted(self.rows(LedgerEntry), key=lambda e: (e.created_at, e.id))

    def snapshot(self) -> Snapshot:
        return snapshot(self.db)


def snapshot(db: MemoryDatabase) -> Snapshot:
    """Every row of every table (the audit trail's too), as plain tuples of field values."""
    tables = {
        table.__name__: {
            row_id: tuple(getattr(row, f.name) for f in fields(row)) for row_id, row in rows.items()
        }
        for table, rows in db.tables.items()
    }
    tables["AuditRecord"] = {record.id: (record,) for record in db.audit}
    return tables


def build_app(policy: Policy | None = None, start: datetime = START) -> App:
    db = MemoryDatabase()
    clock = ManualClock(start)
    ids = UuidV7Generator()
    policy = policy or Policy()
    publisher = RecordingPublisher()
    hasher = FakeHasher()

    trail = AuditTrail(ids)

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, publisher, records_for_events=trail)

    def identity_uow() -> MemoryIdentityUnitOfWork:
        return MemoryIdentityUnitOfWork(db, publisher, records_for_events=trail)

    return App(
        db=db,
        clock=clock,
        ids=ids,
        policy=policy,
        publisher=publisher,
        hasher=hasher,
        catalogue=Catalogue(uow, clock, ids, policy),
        membership=Membership(
            uow, clock, ids, policy, hasher, sessions=SessionEndings(uow=identity_uow, clock=clock)
        ),
        circulation=Circulation(uow, clock, ids, policy),
        accounts=Accounts(uow, clock, ids, policy),
        rules=CirculationRules(uow, clock, ids, policy),
        lost_items=LostItems(uow, clock, ids, policy),
        audit=AuditEvents(MemoryAuditLog(db)),
        retention=LoanRetention(uow, clock, RETENTION, batch=3),
    )
