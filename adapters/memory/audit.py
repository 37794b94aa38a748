"""The audit trail in process memory (``MemoryDatabase.audit``): appended to, never changed."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.database import MemoryDatabase
from adapters.memory.repositories import in_order
from application.audit import AUDIT_ORDER, AuditFilter, AuditLog, AuditRecord
from application.queries import Page, PageRequest


def write_record(db: MemoryDatabase, record: AuditRecord) -> Callable[[], None]:
    """Append ``record``; returns the undo of a transaction that rolls back."""
    db.audit.append(record)

    def undo() -> None:
        db.audit.remove(record)

    return undo


class MemoryAuditLog(AuditLog):
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def list(self, query: AuditFilter, page: PageRequest) -> Page[AuditRecord]:
        with self._db.lock:
            rows = sorted(
                (r for r in self._db.audit if query.matches(r)), key=lambda r: r.id, reverse=True
            )
        return in_order(rows, AUDIT_ORDER, page)
