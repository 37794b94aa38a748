"""Units of work over ``MemoryDatabase``: writes are undone unless committed.

``MemoryTransaction`` is what both slices' units of work share (the store's lock, the undo log,
the records written with a commit); ``MemoryUnitOfWork`` is the library's, and
``adapters.memory.identity_unit_of_work`` holds identity's.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

from adapters.memory.audit import write_record as write_audit_record
from adapters.memory.bulk import MemoryBulkWriter
from adapters.memory.database import MemoryDatabase
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.memory.outbox import write_message
from adapters.memory.repositories import (
    MemoryBookCirculationRepository,
    MemoryBookRepository,
    MemoryCopyRepository,
    MemoryHoldRepository,
    MemoryLedgerRepository,
    MemoryLoanRepository,
    MemoryMemberRepository,
)
from adapters.memory.rules import (
    MemoryCirculationRuleRepository,
    MemoryClosureRepository,
    MemoryItemTypeRepository,
    MemoryMemberCategoryRepository,
)
from application.audit import AuditRecord
from application.idempotency import KeyUsed
from application.outbox import OutboxMessage
from application.ports import EventPublisher
from application.unit_of_work import BaseUnitOfWork, ChangeTracker, RecordsForEvents, UnitOfWork


class MemoryTransaction(BaseUnitOfWork):
    """One transaction at a time over ``db`` (its lock is held from ``with`` to the end); the
    subclasses make their repositories in ``_bind``."""

    def __init__(
        self,
        db: MemoryDatabase,
        publisher: EventPublisher | None = None,
        *,
        idempotency: MemoryIdempotencyStore | None = None,
        records_for_events: RecordsForEvents | None = None,
    ) -> None:
        super().__init__(publisher, records_for_events)
        self._db = db
        self._idempotency = idempotency
        self._undo: list[Callable[[], None]] = []

    def _begin(self, tracker: ChangeTracker) -> None:
        self._db.lock.acquire()
        self._undo = []
        self._bind(tracker)

    @abstractmethod
    def _bind(self, tracker: ChangeTracker) -> None:
        """Make this transaction's repositories, tracked by ``tracker``, undone by ``_undo``."""

    def _write_record(self, record: object) -> None:
        if isinstance(record, KeyUsed) and self._idempotency is not None:
            self._undo.append(self._idempotency.use_key(record))
            return
        if isinstance(record, OutboxMessage):
            self._undo.append(write_message(self._db, record))
            return
        if isinstance(record, AuditRecord):
            self._undo.append(write_audit_record(self._db, record))
            return
        super()._write_record(record)

    def _commit(self) -> None:
        self._undo.clear()

    def _rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _close(self) -> None:
        self._db.lock.release()


class MemoryUnitOfWork(MemoryTransaction, UnitOfWork):
    def _bind(self, tracker: ChangeTracker) -> None:
        self.books = MemoryBookRepository(tracker, self._db, self._undo)
        self.copies = MemoryCopyRepository(tracker, self._db, self._undo)
        self.members = MemoryMemberRepository(tracker, self._db, self._undo)
        self.loans = MemoryLoanRepository(tracker, self._db, self._undo)
        self.holds = MemoryHoldRepository(tracker, self._db, self._undo)
        self.ledger = MemoryLedgerRepository(tracker, self._db, self._undo)
        self.member_categories = MemoryMemberCategoryRepository(tracker, self._db, self._undo)
        self.item_types = MemoryItemTypeRepository(tracker, self._db, self._undo)
        self.rules = MemoryCirculationRuleRepository(tracker, self._db, self._undo)
        self.closures = MemoryClosureRepository(tracker, self._db, self._undo)
        self.circulation = MemoryBookCirculationRepository(
            tracker, self.books, self.copies, self.holds, self._emit_all
        )
        self.bulk = MemoryBulkWriter(self._db, self._undo)
