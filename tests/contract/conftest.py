"""One repository and unit-of-work contract, three adapters: memory, SQLite and PostgreSQL.

Every test here takes ``new_uow`` and runs once per adapter against an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import Engine

from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports import EventPublisher
from application.unit_of_work import UnitOfWork
from tests.databases import empty_tables, temporary_postgres_database


class UowFactory(Protocol):
    def __call__(self, publisher: EventPublisher | None = None) -> UnitOfWork: ...


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


@pytest.fixture
def new_uow(request: pytest.FixtureRequest, adapter: str) -> UowFactory:
    """Makes units of work over a store that is empty when the test starts."""
    if adapter == "memory":
        db = MemoryDatabase()

        def memory_uow(publisher: EventPublisher | None = None) -> UnitOfWork:
            return MemoryUnitOfWork(db, publisher)

        return memory_uow
    engine: Engine = request.getfixturevalue(f"contract_{adapter}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)

    def sql_uow(publisher: EventPublisher | None = None) -> UnitOfWork:
        return SqlUnitOfWork(sessions, publisher)

    return sql_uow
