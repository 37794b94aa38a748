"""One repository and unit-of-work contract, three adapters: memory, SQLite and PostgreSQL.

Every test here takes ``new_uow`` (the library's unit of work) or ``new_identity_uow`` (identity's,
over the same store) and runs once per adapter against an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import Engine

from adapters.memory import MemoryDatabase, MemoryIdentityUnitOfWork, MemoryUnitOfWork
from adapters.memory.audit import MemoryAuditLog
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.audit import SqlAuditLog
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.identity_unit_of_work import SqlIdentityUnitOfWork
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.audit import AuditLog
from application.identity.unit_of_work import IdentityUnitOfWork
from application.ports import EventPublisher
from application.unit_of_work import RecordsForEvents, UnitOfWork
from tests.databases import empty_tables, temporary_postgres_database


class UowFactory(Protocol):
    def __call__(self, publisher: EventPublisher | None = None) -> UnitOfWork: ...


class IdentityUowFactory(Protocol):
    def __call__(
        self,
        publisher: EventPublisher | None = None,
        records_for_events: RecordsForEvents | None = None,
    ) -> IdentityUnitOfWork: ...


@pytest.fixture(scope="session")
def contract_sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("contract") / "circulate.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def contract_postgres_engine() -> Iterator[Engine]:
    with temporary_postgres_database() as url:
        migrate.upgrade(url)
        engine = create_engine_for(url)
        yield engine
        engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@dataclass(frozen=True)
class Stores:
    """Both slices' units of work over one store, empty when the test starts."""

    library: UowFactory
    identity: IdentityUowFactory
    audit: AuditLog  # the audit trail both write to


@pytest.fixture
def stores(request: pytest.FixtureRequest, adapter: str) -> Stores:
    if adapter == "memory":
        db = MemoryDatabase()

        def memory_uow(publisher: EventPublisher | None = None) -> UnitOfWork:
            return MemoryUnitOfWork(db, publisher)

        def memory_identity_uow(
            publisher: EventPublisher | None = None,
            records_for_events: RecordsForEvents | None = None,
        ) -> IdentityUnitOfWork:
            return MemoryIdentityUnitOfWork(db, publisher, records_for_events=records_for_events)

        return Stores(memory_uow, memory_identity_uow, MemoryAuditLog(db))
    engine: Engine = request.getfixturevalue(f"contract_{adapter}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)

    def sql_uow(publisher: EventPublisher | None = None) -> UnitOfWork:
        return SqlUnitOfWork(sessions, publisher)

    def sql_identity_uow(
        publisher: EventPublisher | None = None,
        records_for_events: RecordsForEvents | None = None,
    ) -> IdentityUnitOfWork:
        return SqlIdentityUnitOfWork(sessions, publisher, records_for_events)

    return Stores(sql_uow, sql_identity_uow, SqlAuditLog(engine))


@pytest.fixture
def new_uow(stores: Stores) -> UowFactory:
    """Makes the library's units of work over a store that is empty when the test starts."""
    return stores.library


@pytest.fixture
def new_identity_uow(stores: Stores) -> IdentityUowFactory:
    """Makes identity's units of work over the same store as ``new_uow``."""
    return stores.identity
