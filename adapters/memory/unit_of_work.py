"""A unit of work over ``MemoryDatabase``: writes are undone unless committed."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.audit import write_record as write_audit_record
from adapters.memory.bulk import MemoryBulkWriter
from adapters.memory.database import MemoryDatabase
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.memory.identity import (
    MemoryApiKeyRepository,
    MemoryRefreshTokenRepository,
    MemoryServiceClientRepository,
)
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
from application.unit_of_work import ChangeTracker, RecordsForEvents, UnitOfWork


class MemoryUnitOfWork(UnitOfWork):
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
        self.books = MemoryBookRepository(tracker, self._db, self._undo)
        self.copies = MemoryCopyRepository(tracker, self._db, self._undo)
        self.members = MemoryMemberRepository(tracker, self._db, self._undo)
        self.loans = MemoryLoanRepository(tracker, self._db, self._undo)
        self.holds = MemoryHoldRepository(tracker, self._db, self._undo)
        self.ledger = MemoryLedgerRepository(tracker, self._db, self._undo)
        self.refresh_tokens = MemoryRefreshTokenRepository(tracker, self._db, self._undo)
        self.api_keys = MemoryApiKeyRepository(tracker, self._db, self._undo)
        self.service_clients = MemoryServiceClientRepository(tracker, self._db, self._undo)
        self.member_categories = MemoryMemberCategoryRepository(tracker, self._db, self._undo)
        self.item_types = MemoryItemTypeRepository(tracker, self._db, self._undo)
        self.rules = MemoryCirculationRuleRepository(tracker, self._db, self._undo)
        self.closures = MemoryClosureRepository(tracker, self._db, self._undo)
        self.circulation = MemoryBookCirculationRepository(
            tracker, self.books, self.copies, self.holds, self._emit_all
        )
        self.bulk = MemoryBulkWriter(self._db, self._undo)

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
