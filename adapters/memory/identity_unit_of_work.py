"""Identity's unit of work over ``MemoryDatabase``: members and credentials.

It shares the store (and so its rows and its one-transaction-at-a-time lock) with the library's
``MemoryUnitOfWork``, and the transaction machinery of ``MemoryTransaction``.
"""

from __future__ import annotations

from adapters.memory.identity import (
    MemoryApiKeyRepository,
    MemoryRefreshTokenRepository,
    MemoryServiceClientRepository,
)
from adapters.memory.repositories import MemoryMemberRepository
from adapters.memory.unit_of_work import MemoryTransaction
from application.identity.unit_of_work import IdentityUnitOfWork
from application.unit_of_work import ChangeTracker


class MemoryIdentityUnitOfWork(MemoryTransaction, IdentityUnitOfWork):
    def _bind(self, tracker: ChangeTracker) -> None:
        self.members = MemoryMemberRepository(tracker, self._db, self._undo)
        self.refresh_tokens = MemoryRefreshTokenRepository(tracker, self._db, self._undo)
        self.api_keys = MemoryApiKeyRepository(tracker, self._db, self._undo)
        self.service_clients = MemoryServiceClientRepository(tracker, self._db, self._undo)
