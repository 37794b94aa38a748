"""A unit of work opened to read (``uow.reading()``): it cannot write, and it ends without
costing the connection what it had prepared."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.direct import fetch_all
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import BookRow, ClosureRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.catalogue import Book
from tests.databases import empty_tables

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
BOOK = Book.create(id="book-read-1", isbn="9780306406157", title="Read Only", now=NOW)
# Built once, as the statements ``direct`` runs are.
TITLE_OF = select(BookRow.title).where(BookRow.id == bindparam("id"))
PREPARED = text("SELECT statement FROM pg_prepared_statements")


def _title(book: Book | None) -> str | None:
    return None if book is None else book.title


def _stored(book: Book | None) -> Book:
    assert book is not None
    return book


def _store_book(engine: Engine) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.books.add(BOOK)
        uow.commit()


def test_a_reading_unit_reads_and_refuses_a_commit(engine: Engine) -> None:
    _store_book(engine)
    unit = SqlUnitOfWork(session_factory(engine))
    with unit.reading() as uow:
        assert _title(uow.books.get(BOOK.id)) == "Read Only"
        with pytest.raises(RuntimeError, match="read only"):
            uow.commit()
    # The declaration lasts one block: the same unit opened again may write.
    with unit as uow:
        uow.books.remove(_stored(uow.books.get(BOOK.id)))
        uow.commit()
    with unit.reading() as uow:
        assert uow.books.get(BOOK.id) is None


@pytest.mark.postgres
def test_postgresql_refuses_a_write_in_a_reading_unit(migrated_postgres_url: str) -> None:
    engine = create_engine_for(migrated_postgres_url)
    try:
        row = {"id": "closure-read-only", "day": None, "weekday": 6, "note": "", "version": 1}
        with (
            pytest.raises(DBAPIError, match="read-only transaction"),
            SqlUnitOfWork(session_factory(engine)).reading() as uow,
        ):
            uow.session.connection().execute(insert(ClosureRow), row)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_reading_unit_leaves_the_connections_prepared_statements(
    migrated_postgres_url: str,
) -> None:
    """psycopg forgets (and deallocates) every statement it prepared when a transaction ends
    with a ROLLBACK: a read between two borrows on a pooled connection would have the borrow's
    statements planned afresh each time. A reading unit ends with a COMMIT instead."""
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    sessions = session_factory(engine)
    try:
        _store_book(engine)
        for _ in range(6):  # psycopg prepares it at its sixth run (``prepare_threshold``)
            with SqlUnitOfWork(sessions) as uow:  # as a borrow's reads run, in a change
                connection = uow.session.connection()
                assert fetch_all(connection, TITLE_OF, {"id": BOOK.id}) == [("Read Only",)]
                backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                uow.commit()
        for _ in range(8):  # more often than psycopg's threshold for preparing (5)
            with SqlUnitOfWork(sessions).reading() as uow:
                assert _title(uow.books.get(BOOK.id)) == "Read Only"
        with SqlUnitOfWork(sessions).reading() as uow:
            connection = uow.session.connection()
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == backend
            prepared = list(connection.execute(PREPARED).scalars())
        assert [statement for statement in prepared if "books.title" in statement]
        # Statements run through SQLAlchemy are not prepared, however often they run: a
        # search's plan is made for its own values.
        assert not [statement for statement in prepared if "books.isbn" in statement]
    finally:
        empty_tables(engine)
        engine.dispose()


@pytest.mark.postgres
def test_a_reading_unit_whose_connection_is_lost_after_its_reads_still_ends(
    migrated_postgres_url: str,
) -> None:
    """What it read stands: there was nothing to commit, so a connection cut before the end
    (a server restart, a pooler) fails nothing; the pool replaces the connection."""
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    sessions = session_factory(engine)
    try:
        _store_book(engine)
        with SqlUnitOfWork(sessions).reading() as uow:
            assert _title(uow.books.get(BOOK.id)) == "Read Only"
            backend = uow.session.connection().exec_driver_sql("SELECT pg_backend_pid()")
            pid = backend.scalar_one()
            with engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        with SqlUnitOfWork(sessions).reading() as uow:
            assert _title(uow.books.get(BOOK.id)) == "Read Only"
    finally:
        empty_tables(engine)
        engine.dispose()
