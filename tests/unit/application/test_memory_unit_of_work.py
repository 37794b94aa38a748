"""The unit of work (shared change tracking) over the in-memory adapter, and conflict retries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from application.circulation import Circulation
from application.retry import ATTEMPTS, retry_on_conflict
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import (
    BarcodeAlreadyExists,
    ConcurrentUpdate,
    EmailAlreadyRegistered,
    IsbnAlreadyExists,
    NoCopyAvailable,
)
from domain.events import BookLent, PaymentReceived
from domain.loans import Loan
from domain.members import Member
from tests.unit.support import START, App, RecordingPublisher, isbn13


def new_book(n: int, book_id: str | None = None) -> Book:
    return Book.create(id=book_id or f"book-{n}", isbn=isbn13(n), title=f"Title {n}", now=START)


def new_member(n: int, email: str | None = None) -> Member:
    return Member.register(
        id=f"member-{n}",
        email=email or f"m{n}@example.org",
        name=f"M {n}",
        card_number=f"MEM{n:06d}",
        membership_expires_at=START + timedelta(days=365),
        now=START,
    )


@pytest.fixture
def stored(db: MemoryDatabase) -> Book:
    with MemoryUnitOfWork(db) as uow:
        uow.books.add(new_book(1))
        uow.commit()
    return new_book(1)


class TestCommitAndRollback:
    def test_nothing_is_stored_without_commit(self, db: MemoryDatabase) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.books.add(new_book(1))
        assert db.count(Book) == 0

    def test_an_exception_rolls_back_even_what_was_flushed(self, db: MemoryDatabase) -> None:
        def failing() -> None:
            with MemoryUnitOfWork(db) as uow:
                uow.books.add(new_book(1))
                uow.commit()
                uow.books.add(new_book(2))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing()
        assert sorted(db.tables[Book]) == ["book-1"]

    def test_a_commit_failing_halfway_undoes_what_it_wrote(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.books.add(new_book(2))
            uow.commit()
        with MemoryUnitOfWork(db) as slow:
            first = slow.books.get("book-1")
            second = slow.books.get("book-2")
            assert first is not None
            assert second is not None
            slow.books.add(new_book(3))
            first.title = "changed"
            second.title = "changed too"
            with MemoryUnitOfWork(db) as fast:
                rival = fast.books.get("book-2")
                assert rival is not None
                rival.title = "rival"
                fast.commit()
            # book-3 and book-1 are written before book-2 turns out to be stale.
            with pytest.raises(ConcurrentUpdate):
                slow.commit()
        assert sorted(db.tables[Book]) == ["book-1", "book-2"]
        assert db.tables[Book]["book-1"].title == "Title 1"
        assert db.tables[Book]["book-1"].version == 1
        assert db.tables[Book]["book-2"].title == "rival"

    def test_the_database_lock_is_released_after_each_unit(self, db: MemoryDatabase) -> None:
        with pytest.raises(RuntimeError), MemoryUnitOfWork(db):
            raise RuntimeError("boom")
        with MemoryUnitOfWork(db):
            pass
        # The lock is re-entrant, so ask from another thread whether it is free.
        free: list[bool] = []

        def probe() -> None:
            got = db.lock.acquire(blocking=False)
            free.append(got)
            if got:
                db.lock.release()

        worker = threading.Thread(target=probe)
        worker.start()
        worker.join()
        assert free == [True]

    def test_a_transaction_keeps_other_threads_out(self, db: MemoryDatabase) -> None:
        free: list[bool] = []

        def probe() -> None:
            got = db.lock.acquire(blocking=False)
            free.append(got)
            if got:
                db.lock.release()

        with MemoryUnitOfWork(db):
            worker = threading.Thread(target=probe)
            worker.start()
            worker.join()
        assert free == [False]

    def test_a_unit_of_work_can_be_used_again(self, db: MemoryDatabase) -> None:
        uow = MemoryUnitOfWork(db)
        with uow:
            uow.books.add(new_book(1))
        with uow:
            uow.books.add(new_book(2))
            uow.commit()
        assert sorted(db.tables[Book]) == ["book-2"]


class TestIdentityMapAndTracking:
    def test_the_same_row_read_twice_is_the_same_object(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        with MemoryUnitOfWork(db) as uow:
            first = uow.books.get(stored.id)
            again = uow.books.get_by_isbn(stored.isbn)
            assert first is not None
            assert first is again
            first.title = "seen by both"
            assert uow.books.get(stored.id) is first

    def test_reads_are_private_copies(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            book = uow.books.get(stored.id)
            assert book is not None
            book.title = "not committed"
        assert db.tables[Book][stored.id].title == "Title 1"
        assert db.tables[Book][stored.id] is not book

    def test_an_unchanged_entity_keeps_its_version(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            assert uow.books.get(stored.id) is not None
            uow.commit()
        assert db.tables[Book][stored.id].version == 1

    def test_a_change_bumps_the_version_once(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            book = uow.books.get(stored.id)
            assert book is not None
            book.title = "changed"
            book.title = "changed again"
            uow.commit()
            assert book.version == 2
            uow.commit()  # nothing changed since the last commit
            assert book.version == 2
        assert db.tables[Book][stored.id].version == 2
        assert db.tables[Book][stored.id].title == "changed again"

    def test_a_change_undone_before_commit_is_no_change(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        with MemoryUnitOfWork(db) as uow:
            book = uow.books.get(stored.id)
            assert book is not None
            book.title = "changed"
            book.title = "Title 1"
            uow.commit()
        assert db.tables[Book][stored.id].version == 1

    def test_adding_and_removing_in_one_unit_stores_nothing(self, db: MemoryDatabase) -> None:
        with MemoryUnitOfWork(db) as uow:
            book = new_book(1)
            uow.books.add(book)
            uow.books.remove(book)
            uow.commit()
        assert db.count(Book) == 0

    def test_removal(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            book = uow.books.get(stored.id)
            assert book is not None
            uow.books.remove(book)
            uow.commit()
        assert db.count(Book) == 0

    def test_adding_an_entity_twice_is_a_programming_error(self, db: MemoryDatabase) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.books.add(new_book(1))
            with pytest.raises(ValueError, match="already in this unit of work"):
                uow.books.add(new_book(1))


class TestConcurrency:
    def test_a_stale_write_is_refused(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as slow:
            mine = slow.books.get(stored.id)
            assert mine is not None
            with MemoryUnitOfWork(db) as fast:  # the lock is re-entrant within a thread
                theirs = fast.books.get(stored.id)
                assert theirs is not None
                theirs.title = "theirs"
                fast.commit()
            mine.title = "mine"
            with pytest.raises(ConcurrentUpdate) as refused:
                slow.commit()
            assert refused.value.code == "CONCURRENT_UPDATE"
        assert db.tables[Book][stored.id].title == "theirs"
        assert db.tables[Book][stored.id].version == 2

    def test_writing_a_row_removed_meanwhile_is_refused(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        with MemoryUnitOfWork(db) as slow:
            mine = slow.books.get(stored.id)
            assert mine is not None
            with MemoryUnitOfWork(db) as fast:
                theirs = fast.books.get(stored.id)
                assert theirs is not None
                fast.books.remove(theirs)
                fast.commit()
            mine.title = "mine"
            with pytest.raises(ConcurrentUpdate):
                slow.commit()
        assert db.count(Book) == 0

    def test_removing_a_row_changed_meanwhile_is_refused(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        # As with the SQL adapter, whose DELETE is guarded by the version read.
        with MemoryUnitOfWork(db) as slow:
            mine = slow.books.get(stored.id)
            assert mine is not None
            with MemoryUnitOfWork(db) as fast:
                theirs = fast.books.get(stored.id)
                assert theirs is not None
                theirs.title = "theirs"
                fast.commit()
            slow.books.remove(mine)
            with pytest.raises(ConcurrentUpdate):
                slow.commit()
        assert db.tables[Book][stored.id].title == "theirs"

    def test_removing_a_row_removed_meanwhile_is_refused(
        self, db: MemoryDatabase, stored: Book
    ) -> None:
        with MemoryUnitOfWork(db) as slow:
            mine = slow.books.get(stored.id)
            assert mine is not None
            with MemoryUnitOfWork(db) as fast:
                theirs = fast.books.get(stored.id)
                assert theirs is not None
                fast.books.remove(theirs)
                fast.commit()
            slow.books.remove(mine)
            with pytest.raises(ConcurrentUpdate):
                slow.commit()

    def test_a_failed_commit_leaves_nothing_behind(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as slow:
            mine = slow.books.get(stored.id)
            assert mine is not None
            slow.books.add(new_book(2))
            with MemoryUnitOfWork(db) as fast:
                theirs = fast.books.get(stored.id)
                assert theirs is not None
                theirs.title = "theirs"
                fast.commit()
            mine.title = "mine"
            with pytest.raises(ConcurrentUpdate):
                slow.commit()
        assert sorted(db.tables[Book]) == [stored.id]

    def test_the_same_id_inserted_twice(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.books.add(new_book(2, book_id=stored.id))
            with pytest.raises(ConcurrentUpdate):
                uow.commit()

    def test_a_second_open_loan_for_a_copy_is_refused(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        app.circulation.borrow(ada.id, book_id=book.book.id)
        rogue = Loan.start(
            id="rogue",
            copy_id=book.copies[0].id,
            book_id=book.book.id,
            member_id=bob.id,
            now=app.now(),
            policy=app.policy,
        )
        with app.uow() as uow:
            uow.loans.add(rogue)
            with pytest.raises(ConcurrentUpdate):
                uow.commit()
        assert len(app.loans()) == 1


class TestUniqueness:
    def test_isbn(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.books.add(replace(stored, id="other"))
            with pytest.raises(IsbnAlreadyExists):
                uow.commit()

    def test_email_ignores_case(self, db: MemoryDatabase) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.members.add(new_member(1, "ada@example.org"))
            uow.commit()
        with MemoryUnitOfWork(db) as uow:
            # The domain stores emails lower-cased, so a differently cased address clashes.
            uow.members.add(new_member(2, "ADA@example.org"))
            with pytest.raises(EmailAlreadyRegistered):
                uow.commit()
        with MemoryUnitOfWork(db) as uow:
            assert uow.members.get_by_email("Ada@Example.ORG") is not None

    def test_barcode(self, db: MemoryDatabase, stored: Book) -> None:
        with MemoryUnitOfWork(db) as uow:
            uow.copies.add(Copy.create(id="c1", book_id=stored.id, barcode="X1", now=START))
            uow.copies.add(Copy.create(id="c2", book_id=stored.id, barcode="X1", now=START))
            with pytest.raises(BarcodeAlreadyExists):
                uow.commit()
        assert db.count(Copy) == 0


class TestEvents:
    def test_events_are_published_after_commit_in_order(self, db: MemoryDatabase) -> None:
        publisher = RecordingPublisher()
        first = PaymentReceived(occurred_at=START, member_id="m", amount_cents=1)
        second = PaymentReceived(occurred_at=START, member_id="m", amount_cents=2)
        with MemoryUnitOfWork(db, publisher) as uow:
            uow.emit(first)
            uow.emit(second)
            assert publisher.batches == []
            uow.commit()
            assert publisher.batches == [[first, second]]
            uow.commit()  # nothing new to announce
        assert publisher.batches == [[first, second]]

    def test_no_events_without_commit(self, db: MemoryDatabase) -> None:
        publisher = RecordingPublisher()

        def failing() -> None:
            with MemoryUnitOfWork(db, publisher) as uow:
                uow.emit(PaymentReceived(occurred_at=START, member_id="m", amount_cents=1))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing()
        uow = MemoryUnitOfWork(db, publisher)
        with uow:
            uow.emit(PaymentReceived(occurred_at=START, member_id="m", amount_cents=1))
        with uow:  # a fresh transaction forgets what the last one did not commit
            uow.commit()
        assert publisher.batches == []

    def test_no_events_when_the_commit_fails(self, db: MemoryDatabase, stored: Book) -> None:
        publisher = RecordingPublisher()
        with MemoryUnitOfWork(db, publisher) as uow:
            uow.books.add(replace(stored, id="other"))
            uow.emit(PaymentReceived(occurred_at=START, member_id="m", amount_cents=1))
            with pytest.raises(IsbnAlreadyExists):
                uow.commit()
        assert publisher.batches == []


class TestRetryOnConflict:
    def flaky(self, failures: int) -> tuple[Callable[[], str], list[int]]:
        calls: list[int] = []

        @retry_on_conflict
        def operation() -> str:
            calls.append(1)
            if len(calls) <= failures:
                raise ConcurrentUpdate("lost a race")
            return "done"

        return operation, calls

    def test_retries_until_it_succeeds(self) -> None:
        operation, calls = self.flaky(ATTEMPTS - 1)
        assert operation() == "done"
        assert len(calls) == ATTEMPTS

    def test_gives_up_after_the_last_attempt(self) -> None:
        operation, calls = self.flaky(ATTEMPTS)
        with pytest.raises(ConcurrentUpdate):
            operation()
        assert len(calls) == ATTEMPTS

    def test_other_errors_are_not_retried(self) -> None:
        calls: list[int] = []

        @retry_on_conflict
        def operation() -> None:
            calls.append(1)
            raise NoCopyAvailable("none")

        with pytest.raises(NoCopyAvailable):
            operation()
        assert calls == [1]

    def test_the_loser_of_a_race_for_the_last_copy_gets_the_domains_answer(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        rival_loans: list[Loan] = []

        class RacingUnitOfWork(MemoryUnitOfWork):
            def commit(self) -> None:
                if not rival_loans:  # bob borrows between ada's read and ada's write
                    rival_loans.append(app.circulation.borrow(bob.id, book_id=book.book.id))
                super().commit()

        racing = Circulation(
            lambda: RacingUnitOfWork(app.db, app.publisher), app.clock, app.ids, app.policy
        )
        app.publisher.clear()
        with pytest.raises(NoCopyAvailable):
            racing.borrow(ada.id, book_id=book.book.id)
        [loan] = app.loans()
        assert loan.member_id == bob.id
        assert app.copy(book.copies[0].id).status is CopyStatus.ON_LOAN
        assert [e.member_id for e in app.publisher.of_type(BookLent)] == [bob.id]

    def test_a_lost_race_that_still_leaves_a_copy_succeeds_on_retry(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada, bob = app.add_member(), app.add_member()
        rivals: list[Loan] = []

        class RacingUnitOfWork(MemoryUnitOfWork):
            def commit(self) -> None:
                if not rivals:
                    rivals.append(app.circulation.borrow(bob.id, book_id=book.book.id))
                super().commit()

        racing = Circulation(
            lambda: RacingUnitOfWork(app.db, app.publisher), app.clock, app.ids, app.policy
        )
        loan = racing.borrow(ada.id, book_id=book.book.id)
        assert loan.copy_id == book.copies[1].id
        assert rivals[0].copy_id == book.copies[0].id
        assert {copy.status for copy in app.copies()} == {CopyStatus.ON_LOAN}


def test_a_unit_opened_to_read_refuses_a_commit_for_that_block_only() -> None:
    db = MemoryDatabase()
    unit = MemoryUnitOfWork(db)
    with unit.reading() as uow:
        uow.books.add(new_book(1))
        with pytest.raises(RuntimeError, match="read only"):
            uow.commit()
    with unit.reading() as uow:
        assert uow.books.get("book-1") is None  # nothing was stored
    with unit as uow:
        uow.books.add(new_book(1))
        uow.commit()
    with unit.reading() as uow:
        assert uow.books.get("book-1") == new_book(1)
