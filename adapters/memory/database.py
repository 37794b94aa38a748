"""The in-memory database: one table per entity type, transactions one at a time."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from application.audit import AuditRecord
from application.outbox import OutboxMessage
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.rules import (
    CirculationRule,
    ItemType,
    MemberCategory,
    seeded_categories,
    seeded_item_types,
)

TABLES: tuple[type, ...] = (
    Book,
    Copy,
    Member,
    Loan,
    Hold,
    LedgerEntry,
    RefreshToken,
    ApiKey,
    ServiceClient,
    MemberCategory,
    ItemType,
    CirculationRule,
    Closure,
)


class MemoryDatabase:
    """Rows are private copies of the entities; a transaction holds ``lock`` from start to end,
    which makes every transaction serializable."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[type, dict[str, Any]] = {table: {} for table in TABLES}
        self.tables[MemberCategory].update((c.code, c) for c in seeded_categories())
        self.tables[ItemType].update((t.code, t) for t in seeded_item_types())
        # The outbox: messages by id, and the lease (worker, until) of those being delivered.
        self.outbox: dict[str, OutboxMessage] = {}
        self.outbox_leases: dict[str, tuple[str, datetime]] = {}
        # The audit trail, in the order written.
        self.audit: list[AuditRecord] = []

    def count(self, table: type) -> int:
        with self.lock:
            return len(self.tables[table])
