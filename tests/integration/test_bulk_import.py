"""Bulk imports on real databases: counts stay exact while circulation races an import, and an
import interrupted in the middle of a batch leaves nothing of that batch behind."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from adapters.clock import SystemClock
from adapters.ids import UuidV7Generator
from adapters.sqlalchemy import bulk
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.catalogue import BookDetails, Catalogue, CatalogueRecord
from application.circulation import Circulation
from application.queries import BookFilter, PageRequest
from domain.members import Member
from domain.policy import Policy
from tests.databases import empty_tables, stray_words

BATCH = 100


def isbn13(n: int) -> str:
    body = f"979{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def records(first: int, count: int) -> list[CatalogueRecord]:
    """Books ``first`` .. ``first + count - 1``, with one to three copies each."""
    return [
        CatalogueRecord(
            line=n + 2,
            details=BookDetails(isbn=isbn13(n), title=f"Bulk title {n}", authors=["A. Writer"]),
            copies=1 + n % 3,
        )
        for n in range(first, first + count)
    ]


def services(engine: Engine) -> tuple[Catalogue, Circulation]:
    sessions = session_factory(engine)
    ids, clock, policy = UuidV7Generator(), SystemClock(), Policy()

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    return (
        Catalogue(uow=uow, clock=clock, ids=ids, policy=policy),
        Circulation(uow=uow, clock=clock, ids=ids, policy=policy),
    )


def register(engine: Engine, count: int) -> list[Member]:
    ids, now = UuidV7Generator(), datetime.now(UTC)
    members = [
        Member.register(
            id=ids.new_id(),
            email=f"reader{n}@example.org",
            name=f"Reader {n}",
            card_number=f"READER{n:06d}",
            membership_expires_at=now.replace(year=now.year + 1),
            now=now,
        )
        for n in range(count)
    ]
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.bulk.add_members(members)
        uow.commit()
    return members


def miscounted_books(engine: Engine) -> int:
    """Books whose count of copies on the shelf differs from their copies."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM books b WHERE b.available_copies <> ("
                    "SELECT count(*) FROM copies c "
                    "WHERE c.book_id = b.id AND c.status = 'available')"
                )
            ).scalar_one()
        )


def scalar(engine: Engine, statement: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(statement)).scalar_one()


@pytest.mark.timeout(240)
def test_counts_stay_exact_while_loans_race_an_import(engine: Engine) -> None:
    """Readers borrow and return copies of books loaded by the first batch while later batches
    load (each one also offering those books again, which must be skipped): every transaction
    that is not the import's keeps counting through the triggers, the import counts its own."""
    catalogue, circulation = services(engine)
    first = catalogue.import_books(records(0, BATCH))
    assert first.added == BATCH
    on_shelf = [
        catalogue.search_books(BookFilter(isbn=isbn13(n)), PageRequest()).items[0].id
        for n in range(8)
    ]
    readers = register(engine, len(on_shelf))
    loaded = threading.Event()
    lent: list[int] = [0]
    failures: list[BaseException] = []

    def circulate() -> None:
        try:
            while not loaded.is_set():
                for reader, book_id in zip(readers, on_shelf, strict=True):
                    loan = circulation.borrow(reader.id, book_id=book_id)
                    circulation.return_loan(loan.id)
                    lent[0] += 1
        except BaseException as error:  # asserted on below
            failures.append(error)

    desk = threading.Thread(target=circulate)
    desk.start()
    try:
        again = records(0, len(on_shelf))
        reports = [
            catalogue.import_books(records(start, BATCH) + again)
            for start in range(BATCH, 11 * BATCH, BATCH)
        ]
    finally:
        loaded.set()
        desk.join(timeout=120)

    assert not desk.is_alive()
    assert failures == []
    assert lent[0] > 0
    assert [(r.added, r.already_present, r.rejected) for r in reports] == [
        (BATCH, len(on_shelf), [])
    ] * 10
    assert scalar(engine, "SELECT count(*) FROM books") == 11 * BATCH
    assert miscounted_books(engine) == 0
    assert scalar(engine, "SELECT count(*) FROM loans WHERE returned_at IS NULL") == 0


def interrupt_copies_insert(patch: pytest.MonkeyPatch) -> None:
    """The next load is interrupted (Ctrl-C) after it stored its books, before its copies."""
    original_insert = bulk._SqliteLoader._insert
    original_run = bulk._PostgresLoader._run

    def sqlite_insert(self: Any, columns: Any, rows: Any) -> None:
        if columns.table.name == "copies":
            raise KeyboardInterrupt
        original_insert(self, columns, rows)

    def postgres_run(self: Any, statement: str, parameters: tuple[Any, ...] = ()) -> int:
        if statement.startswith("INSERT INTO copies"):
            raise KeyboardInterrupt
        return original_run(self, statement, parameters)

    patch.setattr(bulk._SqliteLoader, "_insert", sqlite_insert)
    patch.setattr(bulk._PostgresLoader, "_run", postgres_run)


def triggers(engine: Engine) -> int:
    if engine.dialect.name == "sqlite":
        return int(scalar(engine, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"))
    return int(scalar(engine, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"))


def search_rows(engine: Engine) -> tuple[int, int]:
    """Rows of the search's word index, and how many of them are not the books' words."""
    with engine.connect() as connection:
        return int(scalar(engine, "SELECT count(*) FROM book_words")), stray_words(connection)


def copies_of(first: int, count: int) -> int:
    return sum(record.copies for record in records(first, count))


def test_an_import_interrupted_mid_batch_leaves_none_of_that_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue, _ = services(engine)
    catalogue.import_books(records(0, BATCH))
    before = (triggers(engine), search_rows(engine))

    with monkeypatch.context() as patch:
        interrupt_copies_insert(patch)
        with pytest.raises(KeyboardInterrupt):
            catalogue.import_books(records(BATCH, BATCH))

    # The batch's books had been written when it stopped: none of them is left.
    assert scalar(engine, "SELECT count(*) FROM books") == BATCH
    assert scalar(engine, "SELECT count(*) FROM copies") == copies_of(0, BATCH)
    assert (triggers(engine), search_rows(engine)) == before
    assert miscounted_books(engine) == 0

    # Running the whole file again loads what is missing, once.
    report = catalogue.import_books(records(0, 2 * BATCH))

    assert (report.added, report.copies_added, report.already_present) == (
        BATCH,
        copies_of(BATCH, BATCH),
        BATCH,
    )
    assert scalar(engine, "SELECT count(*) FROM copies") == copies_of(0, 2 * BATCH)
    assert miscounted_books(engine) == 0
    assert search_rows(engine)[1] == 0  # exact: every book's words, nothing else
    found = catalogue.search_books(BookFilter(q=f"title {BATCH + 1}"), PageRequest())
    assert [book.isbn for book in found.items] == [isbn13(BATCH + 1)]


def test_a_database_error_mid_batch_is_the_error_reported(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement that fails in the database ends the batch with that failure, not with one
    from cleaning up after it; nothing of the batch is left."""
    catalogue, _ = services(engine)
    original_insert = bulk._SqliteLoader._insert
    original_run = bulk._PostgresLoader._run

    def sqlite_insert(self: Any, columns: Any, rows: Any) -> None:
        if columns.table.name == "copies":
            self._connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")
        original_insert(self, columns, rows)

    def postgres_run(self: Any, statement: str, parameters: tuple[Any, ...] = ()) -> int:
        if statement.startswith("INSERT INTO copies"):
            statement = "INSERT INTO no_such_table VALUES (1)"
        return original_run(self, statement, parameters)

    monkeypatch.setattr(bulk._SqliteLoader, "_insert", sqlite_insert)
    monkeypatch.setattr(bulk._PostgresLoader, "_run", postgres_run)
    before = (triggers(engine), search_rows(engine))

    with pytest.raises(DBAPIError, match="no_such_table"):
        catalogue.import_books(records(0, BATCH))

    assert scalar(engine, "SELECT count(*) FROM books") == 0
    assert (triggers(engine), search_rows(engine)) == before


@pytest.mark.postgres
def test_a_book_stored_by_another_transaction_after_the_look_is_skipped_whole(
    migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL lets other transactions write while a batch is stored: a book whose ISBN one
    of them commits after the writer looked is skipped by the INSERT, with its copies and its
    words, and reported as already there; the other transaction's book is left as it stored it."""
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    catalogue, _ = services(engine)
    batch = records(0, 3)
    rival = CatalogueRecord(
        line=2,
        details=BookDetails(isbn=batch[1].details.isbn, title="Stored meanwhile"),
        copies=1,
    )
    original_stored = bulk._PostgresLoader.stored

    def stored_then_raced(self: Any, table: str, column: str, values: list[str]) -> set[str]:
        found = original_stored(self, table, column, values)
        if table == "copies":
            # Another transaction commits one of the ISBNs (and so the barcode of its first
            # copy) once the writer has looked up the ISBNs and the barcodes.
            monkeypatch.setattr(bulk._PostgresLoader, "stored", original_stored)
            catalogue.import_books([rival])
        return found

    monkeypatch.setattr(bulk._PostgresLoader, "stored", stored_then_raced)
    try:
        report = catalogue.import_books(batch)

        assert (report.added, report.already_present, report.rejected) == (2, 1, [])
        assert report.copies_added == batch[0].copies + batch[2].copies
        assert scalar(engine, "SELECT count(*) FROM books") == 3
        stored = catalogue.search_books(BookFilter(isbn=rival.details.isbn), PageRequest())
        assert [book.title for book in stored.items] == ["Stored meanwhile"]
        assert scalar(engine, "SELECT count(*) FROM copies") == 1 + report.copies_added
        assert search_rows(engine)[1] == 0  # the skipped book's words were not sent
        assert miscounted_books(engine) == 0
    finally:
        engine.dispose()
