"""Real databases for the integration tests: SQLite files and PostgreSQL databases made per test
(migrations) or per session (everything that needs the schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_engine_for
from tests.databases import empty_tables, temporary_postgres_database

DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'circulate.db'}"


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(params=DIALECTS)
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """An empty database (no tables at all) of each dialect."""
    url: str = request.getfixturevalue(f"empty_{request.param}_url")
    return url


@pytest.fixture(scope="session")
def migrated_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('integration') / 'circulate.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgres_url() -> Iterator[str]:
    with temporary_postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine over a migrated database of each dialect, with no rows in it."""
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    engine = create_engine_for(url)
    empty_tables(engine)
    yield engine
    engine.dispose()
