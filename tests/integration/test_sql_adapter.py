"""Behaviour only the SQL adapter has: engine set-up, time zones, locks and lost races."""

from __future__ import annotations

import io
import sqlite3
import threading
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import cast

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, delete, insert, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.sqlalchemy import engine as engine_module
from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for, normalise_url, session_factory
from adapters.sqlalchemy.errors import domain_error_for
from adapters.sqlalchemy.models import BookRow
from adapters.sqlalchemy.types import StringList, UtcDateTime
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import ConcurrentUpdate, DomainError
from domain.loans import Loan
from domain.members import Member

T0 = datetime(2030, 3, 4, 9, 15, 30, 123456, tzinfo=UTC)


def a_book(n: int = 1) -> Book:
    isbns = {1: "9780306406157", 2: "9780141036144"}
    return Book.create(id=f"book-{n}", isbn=isbns[n], title=f"Book {n}", now=T0)


def a_member(n: int = 1) -> Member:
    return Member.register(
        id=f"member-{n}",
        email=f"m{n}@example.org",
        name=f"Member {n}",
        card_number=f"SQL{n:06d}",
        membership_expires_at=T0 + timedelta(days=365),
        now=T0,
    )


# --- engine set-up ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://u:p@db:5432/circulate",
        "postgres://u:p@db:5432/circulate",
        "postgresql+psycopg://u:p@db:5432/circulate",
    ],
)
def test_postgres_urls_use_psycopg_3(given: str) -> None:
    url = normalise_url(given)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.database, url.username) == ("db", "circulate", "u")


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        create_engine_for("mysql://u:p@db/circulate")


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            assert busy == engine_module.SQLITE_BUSY_TIMEOUT_SECONDS * 1000
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_database_lives_as_long_as_its_engine() -> None:
    engine = create_engine_for("sqlite://")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
    finally:
        engine.dispose()


def test_naive_datetimes_are_refused() -> None:
    column_type = UtcDateTime()
    dialect = make_url("sqlite://").get_dialect()()
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2030, 1, 1), dialect)  # noqa: DTZ001
    ahead = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=5)))
    stored = column_type.process_bind_param(ahead, dialect)
    assert stored == datetime(2030, 1, 1, 7)  # noqa: DTZ001 (what SQLite stores: UTC wall time)


def test_sqlite_text_is_read_as_the_chain_of_the_column_types_reads_it() -> None:
    """``UtcDateTime`` and ``StringList`` read SQLite's text in one step each: the same values
    as SQLAlchemy's chain, and through the chain what that step cannot read."""
    dialect = make_url("sqlite://").get_dialect()()
    instant = UtcDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert instant is not None
    read = instant("2030-01-01 07:00:00.000250")
    assert read == datetime(2030, 1, 1, 7, 0, 0, 250, tzinfo=UTC)
    assert read.tzinfo is UTC
    assert instant("2030-01-01 07:00:00") == datetime(2030, 1, 1, 7, tzinfo=UTC)
    assert instant("2030-01-01 12:00:00+05:00") == datetime(2030, 1, 1, 7, tzinfo=UTC)
    assert instant(None) is None
    names = StringList().dialect_impl(dialect).result_processor(dialect, None)
    assert names is not None
    assert names('["Ann Smith", "B\\u00f6ll"]') == ["Ann Smith", "B\u00f6ll"]
    assert names("[]") == []
    assert names(' ["padded"] ') == ["padded"]
    assert names(None) is None
    with pytest.raises(ValueError, match="Extra data"):
        names('["a"] ["b"]')


def test_books_are_read_from_rows_by_position_as_by_name(engine: Engine) -> None:
    assert set(mappers.BOOK_FIELDS) == {field.name for field in fields(Book)}
    book = Book.create(
        id="book-x", isbn="9780306406157", title="A Title", authors=["Ann", "Bo"],
        subjects=["maps"], publisher="P", year=2001, now=T0,
    )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(BookRow), mappers.book_values(book))
        # Columns in another order than the table's, and one more: read by name all the same.
        rows = connection.execute(
            select(literal(1).label("extra"), *reversed(BookRow.__table__.columns))
        ).all()
        connection.execute(delete(BookRow))
    (by_position,) = mappers.books_from_rows(rows)
    assert by_position == mappers.book_from_row(cast(BookRow, rows[0])) == book


# --- the schema in use -----------------------------------------------------------------------


def test_a_row_that_vanished_under_a_reference_is_a_lost_race(engine: Engine) -> None:
    sessions = session_factory(engine)
    orphan = Copy.create(id="copy-1", book_id="no-such-book", barcode="ORPHAN", now=T0)
    with SqlUnitOfWork(sessions) as uow:
        uow.copies.add(orphan)
        with pytest.raises(ConcurrentUpdate):
            uow.commit()


@pytest.mark.postgres
def test_instants_come_back_in_utc_whatever_the_session_time_zone(
    migrated_postgres_url: str,
) -> None:
    url = make_url(migrated_postgres_url).update_query_dict({"options": "-c timezone=Asia/Kolkata"})
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW timezone").scalar_one() == "Asia/Kolkata"
            connection.rollback()
        member = a_member(7)
        with SqlUnitOfWork(session_factory(engine)) as uow:
            uow.members.add(member)
            uow.commit()
        with SqlUnitOfWork(session_factory(engine)) as uow:
            stored = uow.members.get(member.id)
            assert stored is not None
            assert stored.created_at == T0
            assert stored.created_at.tzinfo is UTC
            assert stored.membership_expires_at.tzinfo is UTC
            uow.members.remove(stored)
            uow.commit()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_change_based_on_a_stale_read_is_refused(migrated_postgres_url: str) -> None:
    engine = create_engine_for(migrated_postgres_url)
    sessions = session_factory(engine)
    book = a_book(2)
    copy = Copy.create(id="copy-stale", book_id=book.id, barcode="STALE-1", now=T0)
    try:
        with SqlUnitOfWork(sessions) as uow:
            uow.books.add(book)
            uow.copies.add(copy)
            uow.commit()
        with SqlUnitOfWork(sessions) as slow:
            slow_copy = slow.copies.get(copy.id)
            assert slow_copy is not None
            with SqlUnitOfWork(sessions) as quick:
                quick_copy = quick.copies.get(copy.id)
                assert quick_copy is not None
                quick_copy.mark_lost(T0 + timedelta(days=1))
                quick.commit()
            slow_copy.set_aside(T0 + timedelta(days=2))
            with pytest.raises(ConcurrentUpdate):
                slow.commit()
        with SqlUnitOfWork(sessions) as uow:
            stored = uow.copies.get(copy.id)
            assert stored is not None
            assert (stored.status, stored.version) == (CopyStatus.LOST, 2)
            uow.copies.remove(stored)
            stored_book = uow.books.get(book.id)
            assert stored_book is not None
            uow.books.remove(stored_book)
            uow.commit()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_reading_a_member_for_update_waits_for_the_holder(migrated_postgres_url: str) -> None:
    engine = create_engine_for(migrated_postgres_url)
    sessions = session_factory(engine)
    member = a_member(3)
    locked = threading.Event()
    release = threading.Event()
    second_got_it = threading.Event()

    def holder() -> None:
        with SqlUnitOfWork(sessions) as uow:
            assert uow.members.get(member.id, for_update=True) is not None
            locked.set()
            release.wait(timeout=30)

    def waiter() -> None:
        with SqlUnitOfWork(sessions) as uow:
            assert uow.members.get(member.id, for_update=True) is not None
            second_got_it.set()

    try:
        with SqlUnitOfWork(sessions) as uow:
            uow.members.add(member)
            uow.commit()
        first = threading.Thread(target=holder)
        first.start()
        assert locked.wait(timeout=30)
        second = threading.Thread(target=waiter)
        second.start()
        assert not second_got_it.wait(timeout=0.5), "the lock did not hold the second reader"
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
        assert second_got_it.is_set()
        with SqlUnitOfWork(sessions) as uow:
            stored = uow.members.get(member.id)
            assert stored is not None
            uow.members.remove(stored)
            uow.commit()
    finally:
        release.set()
        engine.dispose()


def test_a_locked_sqlite_database_is_a_lost_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.05)
    engine = create_engine_for(url)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process is writing
        with SqlUnitOfWork(session_factory(engine)) as uow, pytest.raises(ConcurrentUpdate):
            uow.books.get("anything")
        other.execute("ROLLBACK")
        with SqlUnitOfWork(session_factory(engine)) as uow:
            assert uow.books.get("anything") is None
    finally:
        other.close()
        engine.dispose()


def test_sqlite_units_of_work_take_turns(migrated_sqlite_url: str) -> None:
    """Each SQLite transaction holds the write lock from its start, so a second one waits for
    the first instead of failing half-way on a stale snapshot."""
    engine = create_engine_for(migrated_sqlite_url)
    sessions = session_factory(engine)
    started = threading.Event()
    release = threading.Event()
    second_read = threading.Event()

    def first() -> None:
        with SqlUnitOfWork(sessions) as uow:
            uow.books.get("anything")
            started.set()
            release.wait(timeout=30)

    def second() -> None:
        with SqlUnitOfWork(sessions) as uow:
            uow.books.get("anything")
            second_read.set()

    try:
        one = threading.Thread(target=first)
        one.start()
        assert started.wait(timeout=30)
        two = threading.Thread(target=second)
        two.start()
        assert not second_read.wait(timeout=0.5), "the second transaction did not wait"
        release.set()
        one.join(timeout=30)
        two.join(timeout=30)
        assert second_read.is_set()
    finally:
        release.set()
        engine.dispose()


def test_removing_a_row_changed_since_it_was_read_is_refused(engine: Engine) -> None:
    sessions = session_factory(engine)
    book = a_book()
    copy = Copy.create(id="copy-1", book_id=book.id, barcode="GONE-1", now=T0)
    with SqlUnitOfWork(sessions) as uow:
        uow.books.add(book)
        uow.copies.add(copy)
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        changed = uow.copies.get(copy.id)
        assert changed is not None
        changed.mark_lost(T0 + timedelta(days=1))
        uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        uow.copies.remove(copy)  # still at version 1
        with pytest.raises(ConcurrentUpdate):
            uow.commit()
    with SqlUnitOfWork(sessions) as uow:
        assert uow.copies.get(copy.id) is not None


def test_check_constraints_refuse_what_the_domain_never_writes(engine: Engine) -> None:
    sessions = session_factory(engine)
    book = a_book()
    copy = Copy.create(id="copy-1", book_id=book.id, barcode="CHECK-1", now=T0)
    member = a_member()
    with SqlUnitOfWork(sessions) as uow:
        uow.books.add(book)
        uow.copies.add(copy)
        uow.members.add(member)
        uow.commit()
    broken = Loan(
        id="loan-1",
        copy_id=copy.id,
        book_id=book.id,
        member_id=member.id,
        loaned_at=T0,
        due_at=T0 + timedelta(days=21),
        renewals=-1,
    )
    with SqlUnitOfWork(sessions) as uow:
        uow.loans.add(broken)
        # Not a rule a user can break, so it stays a database error (an HTTP 500).
        with pytest.raises(IntegrityError):
            uow.commit()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.errors.SerializationFailure, ConcurrentUpdate),
        (psycopg.errors.DeadlockDetected, ConcurrentUpdate),
        (psycopg.errors.LockNotAvailable, ConcurrentUpdate),
        (psycopg.errors.ForeignKeyViolation, ConcurrentUpdate),
        (psycopg.errors.CheckViolation, None),
        (psycopg.errors.UndefinedTable, None),
    ],
)
def test_postgres_errors_that_mean_a_lost_race(
    error: type[psycopg.Error], expected: type[DomainError] | None
) -> None:
    wrapped = DBAPIError("UPDATE ...", {}, error("message"))
    translated = domain_error_for(wrapped)
    assert type(translated) is expected if expected else translated is None


def test_sqlite_errors_that_are_faults_stay_faults() -> None:
    assert domain_error_for(DBAPIError("X", {}, sqlite3.OperationalError("no such table"))) is None
    unknown_unique = sqlite3.IntegrityError("UNIQUE constraint failed: other.column")
    assert domain_error_for(DBAPIError("X", {}, unknown_unique)) is None


OPEN_LOAN_INDEX = (
    "CREATE UNIQUE INDEX uq_loans_open_copy_id ON loans (copy_id) WHERE returned_at IS NULL"
)


# The schema up to here can be printed for a DBA to apply (``alembic upgrade --sql``).
LAST_PRINTABLE = "0009c_webhooks"


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_migrations_can_be_printed_as_sql(dialect: str, tmp_path: Path) -> None:
    never_created = tmp_path / "never-created.db"
    url = {
        "postgresql": "postgresql://nobody@nowhere.invalid/circulate",
        "sqlite": f"sqlite:///{never_created}",
    }[dialect]
    config = migrate.alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, LAST_PRINTABLE, sql=True)
    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE books" in sql
    assert OPEN_LOAN_INDEX in sql
    # Past it, a migration that computes rows from the rows it finds says so instead.
    with pytest.raises(RuntimeError, match="cannot be printed as SQL"):
        command.upgrade(config, f"{LAST_PRINTABLE}:head", sql=True)
    assert not never_created.exists()


def test_a_unit_of_work_is_used_one_block_at_a_time(engine: Engine) -> None:
    uow = SqlUnitOfWork(session_factory(engine))
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session
    with uow:
        assert uow.session is not None
        with pytest.raises(RuntimeError, match="already open"), uow:
            pass
