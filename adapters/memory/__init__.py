"""In-memory adapters: a complete, thread-safe store for unit tests, demos and single-process runs.

They behave like the SQL adapters (same uniqueness rules, version checks, rollback), so a use
case tested against them behaves the same in production.
"""

from adapters.memory.database import MemoryDatabase
from adapters.memory.identity_unit_of_work import MemoryIdentityUnitOfWork
from adapters.memory.unit_of_work import MemoryUnitOfWork

__all__ = ["MemoryDatabase", "MemoryIdentityUnitOfWork", "MemoryUnitOfWork"]
