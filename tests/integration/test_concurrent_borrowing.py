"""Many members race for one copy through the real use case: exactly one of them gets it.

The database decides: the member row lock, the version check on the copy and the partial unique
index on open loans. Losers are retried by the use case and then told, with a domain error,
that the copy is gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import Engine, func, select

from adapters.clock import SystemClock
from adapters.ids import UuidV7Generator
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.models import LoanRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.circulation import Circulation
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import DomainError
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy

THREADS = 16
LOST_THE_RACE = {"NO_COPY_AVAILABLE", "COPY_NOT_AVAILABLE"}


def build(engine: Engine) -> tuple[Circulation, Copy, list[Member]]:
    """One book with one copy, and ``THREADS`` members in good standing."""
    sessions = session_factory(engine)
    ids = UuidV7Generator()
    now = datetime.now(UTC)
    book = Book.create(id=ids.new_id(), isbn="9780306406157", title="Contested", now=now)
    copy = Copy.create(id=ids.new_id(), book_id=book.id, barcode="ONLY-ONE", now=now)
    members = [
        Member.register(
            id=ids.new_id(),
            email=f"racer{n}@example.org",
            name=f"Racer {n}",
            card_number=f"RACER{n:04d}",
            membership_expires_at=now.replace(year=now.year + 1),
            now=now,
        )
        for n in range(THREADS)
    ]
    with SqlUnitOfWork(sessions) as uow:
        uow.books.add(book)
        uow.copies.add(copy)
        for member in members:
            uow.members.add(member)
        uow.commit()
    circulation = Circulation(
        uow=lambda: SqlUnitOfWork(sessions), clock=SystemClock(), ids=ids, policy=Policy()
    )
    return circulation, copy, members


def race(attempts: list[Callable[[], Loan]]) -> tuple[list[Loan], list[BaseException]]:
    """Start every attempt at the same moment; collect what each returned or raised."""
    start = threading.Barrier(len(attempts))
    loans: list[Loan] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], Loan]) -> None:
        start.wait()
        try:
            result = attempt()
        except BaseException as error:  # every outcome is asserted on below
            with lock:
                errors.append(error)
        else:
            with lock:
                loans.append(result)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a borrower hung"
    return loans, errors


def assert_exactly_one_winner(
    engine: Engine, copy: Copy, loans: list[Loan], errors: list[BaseException]
) -> None:
    assert len(loans) == 1, errors
    assert len(errors) == THREADS - 1
    for error in errors:
        assert isinstance(error, DomainError), repr(error)
        assert error.code in LOST_THE_RACE, repr(error)
    with engine.connect() as connection:
        open_loans = connection.execute(
            select(func.count()).select_from(LoanRow).where(LoanRow.returned_at.is_(None))
        ).scalar_one()
    assert open_loans == 1
    with SqlUnitOfWork(session_factory(engine)) as uow:
        stored = uow.copies.get(copy.id)
        assert stored is not None
        assert stored.status is CopyStatus.ON_LOAN
        assert stored.version == 2
        open_loan = uow.loans.open_for_copy(copy.id)
        assert open_loan is not None
        assert open_loan.id == loans[0].id


@pytest.mark.timeout(180)
def test_sixteen_members_borrow_the_last_copy_by_book(engine: Engine) -> None:
    circulation, copy, members = build(engine)
    loans, errors = race([partial(circulation.borrow, m.id, book_id=copy.book_id) for m in members])
    assert_exactly_one_winner(engine, copy, loans, errors)


@pytest.mark.timeout(180)
def test_sixteen_members_borrow_the_same_copy_by_id(engine: Engine) -> None:
    circulation, copy, members = build(engine)
    loans, errors = race([partial(circulation.borrow, m.id, copy_id=copy.id) for m in members])
    assert_exactly_one_winner(engine, copy, loans, errors)
