"""What a borrow, a return (by loan or by scanned barcode), a renewal and a new hold send to the
database: the reads the rules need, once each and together where they can be, and UPDATEs of the
columns that changed. Counted with an event listener on the engine, so a
change that brings back a wasted round trip fails here rather than only in ``bench/borrow.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event

from adapters.clock import ManualClock
from adapters.ids import UuidV7Generator
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.circulation import Circulation
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.errors import DebtLimitReached
from domain.ledger import ChargeType, EntryKind, LedgerEntry, new_charge
from domain.members import Member
from domain.policy import Policy

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
IDS = UuidV7Generator()


class Library:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = ManualClock(NOW)
        self.circulation = Circulation(
            uow=lambda: SqlUnitOfWork(self.sessions), clock=self.clock, ids=IDS, policy=Policy()
        )

    def book(self, isbn: str) -> Book:
        book = Book.create(id=IDS.new_id(), isbn=isbn, title="Counted", now=NOW)
        copy = Copy.create(id=IDS.new_id(), book_id=book.id, barcode=f"C-{isbn}", now=NOW)
        with SqlUnitOfWork(self.sessions) as uow:
            uow.books.add(book)
            uow.copies.add(copy)
            uow.commit()
        return book

    def member(self, history: list[tuple[EntryKind, int]]) -> Member:
        """A member with ledger lines (a charge, or a payment of the last charge)."""
        member = Member.register(
            id=IDS.new_id(),
            email=f"{IDS.new_id()}@example.org",
            name="Counted Reader",
            card_number=IDS.new_id()[-12:].upper(),
            membership_expires_at=NOW + timedelta(days=365),
            now=NOW,
        )
        with SqlUnitOfWork(self.sessions) as uow:
            uow.members.add(member)
            for kind, cents in history:
                if kind is EntryKind.CHARGE:
                    charge, _ = new_charge(
                        id=IDS.new_id(),
                        member_id=member.id,
                        charge_type=ChargeType.MANUAL,
                        amount_cents=cents,
                        now=NOW,
                        note="history",
                    )
                    uow.ledger.add(charge)
                else:
                    uow.ledger.add(
                        LedgerEntry(
                            id=IDS.new_id(),
                            member_id=member.id,
                            kind=kind,
                            amount_cents=cents,
                            created_at=NOW,
                        )
                    )
            uow.commit()
        return member


@pytest.fixture
def library(engine: Engine) -> Library:
    library = Library(engine)
    # The rules in force as this database holds them, read once: this process then knows them,
    # as a running server does after its first decision (what a change costs is tested below).
    with SqlUnitOfWork(library.sessions) as uow:
        uow.rules_in_force()
    return library


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def set_columns(sent: list[str], table: str) -> list[set[str]]:
    """The columns each ``UPDATE table SET ...`` sets."""
    found = []
    for statement in sent:  # alone, or as a part (a CTE) of a statement of several writes
        for match in re.finditer(r"UPDATE (\w+) SET (.*?) WHERE", statement):
            if match.group(1) == table:
                found.append({part.split("=")[0].strip() for part in match.group(2).split(", ")})
    return found


_WRITE = re.compile(r"\b(?:INSERT INTO \w+|UPDATE \w+ SET|DELETE FROM \w+)")


def writes_of(sent: list[str]) -> tuple[int, list[str]]:
    """How many statements write, and the writes they carry, in order."""
    writing = [s for s in sent if _WRITE.search(s)]
    return len(writing), [w.removesuffix(" SET") for s in writing for w in _WRITE.findall(s)]


def selects(sent: list[str]) -> list[str]:
    """The statements that only read."""
    return [s for s in sent if not s.startswith("BEGIN") and not _WRITE.search(s)]


def reads_of(sent: list[str], table: str) -> list[str]:
    return [s for s in selects(sent) if re.search(rf"\bFROM {table}\b", s)]


SETTLED = [(EntryKind.CHARGE, 300), (EntryKind.PAYMENT, 300)] * 5


def test_a_borrow_sums_the_ledger_in_the_database_and_reads_the_book_once(
    library: Library,
) -> None:
    book = library.book("9780306406157")
    member = library.member(SETTLED)
    library.clock.advance(timedelta(hours=1))
    with statements(library.engine) as sent:
        library.circulation.borrow(member.id, book_id=book.id)
    ledger_reads = reads_of(sent, "ledger_entries")
    assert len(ledger_reads) == 1
    assert "sum(" in ledger_reads[0].lower()
    assert reads_of(sent, "loans") == ledger_reads  # the open loans come with the sum
    assert reads_of(sent, "ledger_allocations") == []
    # Each row once: the member (locked); the notice router asks for the member again at
    # commit and is given the one already loaded. The book, its copies and its holds with it.
    assert len(reads_of(sent, "members")) == 1
    assert reads_of(sent, "books") == reads_of(sent, "members")
    if library.engine.dialect.name == "postgresql":  # SQLite locks the database instead
        assert "FOR UPDATE" in reads_of(sent, "members")[0]
    assert reads_of(sent, "copies") == reads_of(sent, "books")
    assert reads_of(sent, "holds") == reads_of(sent, "books")
    # What the rules matrix, the categories and the closures hold comes with the book: the
    # rules themselves are not read again while that is unchanged.
    assert reads_of(sent, "circulation_rules") == reads_of(sent, "books")
    assert reads_of(sent, "member_categories") == reads_of(sent, "books")
    assert reads_of(sent, "closures") == reads_of(sent, "books")
    # The copy's status changed (and with it its time stamp and version), nothing else.
    assert set_columns(sent, "copies") == [{"status", "updated_at", "version"}]


def test_the_ledger_sum_still_refuses_a_member_in_debt(library: Library) -> None:
    book = library.book("9780306406157")
    member = library.member([(EntryKind.CHARGE, 400), (EntryKind.CHARGE, 300)])
    with pytest.raises(DebtLimitReached):
        library.circulation.borrow(member.id, book_id=book.id)
    paid = library.member([(EntryKind.CHARGE, 400), (EntryKind.PAYMENT, 400)])
    assert library.circulation.borrow(paid.id, book_id=book.id).member_id == paid.id


@pytest.mark.parametrize(
    ("action", "changed", "reads"),
    [
        # The loan; its member; the book with its copies, holds and the rules.
        (lambda c, loan_id: c.return_loan(loan_id), {"returned_at", "status", "version"}, 3),
        # The loan; its member (locked) with the book, its copies, holds and the rules; the
        # member's open loans with their balance: a renewal is refused to a member who may
        # not borrow.
        (lambda c, loan_id: c.renew(loan_id), {"due_at", "renewals", "version"}, 3),
    ],
    ids=["return", "renew"],
)
def test_a_return_or_renewal_updates_the_loans_changed_columns_only(
    library: Library, action: Callable[[Circulation, str], object], changed: set[str], reads: int
) -> None:
    book = library.book("9780306406157")
    member = library.member(SETTLED)
    loan = library.circulation.borrow(member.id, book_id=book.id)
    library.clock.advance(timedelta(days=1))  # a day later: on time, renewable
    with statements(library.engine) as sent:
        action(library.circulation, loan.id)
    assert set_columns(sent, "loans") == [changed]
    assert len(selects(sent)) == reads
    assert reads_of(sent, "ledger_allocations") == []


def test_a_borrow_reads_twice_and_writes_the_loan_and_the_copy(library: Library) -> None:
    book = library.book("9780306406157")
    member = library.member(SETTLED)
    with statements(library.engine) as sent:
        library.circulation.borrow(member.id, book_id=book.id)
    # The member (locked) with the book, its copies and holds, and the rules; then, once the
    # lock is held, the open loans with the balance. Then one INSERT and one UPDATE.
    assert len(selects(sent)) == 2
    assert reads_of(sent, "members") == reads_of(sent, "books")
    assert reads_of(sent, "books") == reads_of(sent, "circulation_rules")
    # On PostgreSQL the two go in one statement (with the commit's records, when it has any).
    statements_sent, writes = writes_of(sent)
    assert writes == ["INSERT INTO loans", "UPDATE copies"]
    assert statements_sent == (1 if library.engine.dialect.name == "postgresql" else 2)


def test_a_check_in_scan_reads_the_copy_and_its_open_loan_at_once(library: Library) -> None:
    book = library.book("9780306406157")
    member = library.member(SETTLED)
    library.circulation.borrow(member.id, book_id=book.id)
    with statements(library.engine) as sent:
        check_in = library.circulation.return_copy(" C-9780306406157 ")
    assert check_in.loan.returned_at is not None
    first = selects(sent)[0]
    assert reads_of([first], "copies") == reads_of([first], "loans") == [first]
    # Then the member, and the book with its copies, holds and the rules: nothing else.
    assert len(selects(sent)) == 3
    assert set_columns(sent, "loans") == [{"returned_at", "status", "version"}]


def test_placing_a_hold_reads_the_members_holds_with_their_loans_and_balance(
    library: Library,
) -> None:
    book = library.book("9780306406157")
    lender, member = library.member(SETTLED), library.member(SETTLED)
    library.circulation.borrow(lender.id, book_id=book.id)
    with statements(library.engine) as sent:
        placed = library.circulation.place_hold(member.id, book.id)
    assert placed.position == 1
    # The member (locked) with the book, its copies and holds, and the rules; the member's
    # open loans, balance and active holds in one.
    assert len(selects(sent)) == 2
    member_reads = reads_of(sent, "ledger_entries")
    assert len(member_reads) == 1
    assert member_reads[0] in reads_of(sent, "holds")
    assert member_reads == reads_of(sent, "loans")


def test_a_change_to_the_rules_costs_the_next_decision_one_read(library: Library) -> None:
    books = [library.book(isbn) for isbn in ("9780306406157", "9780140449136", "9780262033848")]
    member = library.member(SETTLED)
    zone = ZoneInfo(Policy().time_zone)
    before = library.circulation.borrow(member.id, book_id=books[0].id)
    closed = before.due_at.astimezone(zone).weekday()
    with SqlUnitOfWork(library.sessions) as uow:
        uow.closures.add(Closure.every(id=IDS.new_id(), weekday=closed, note="closed"))
        uow.commit()
    with statements(library.engine) as sent:
        after = library.circulation.borrow(member.id, book_id=books[1].id)
    # The rules, read with what they hold, once: this borrow decides by the new closure.
    assert len(selects(sent)) == 3
    assert after.due_at.astimezone(zone).weekday() != closed
    with statements(library.engine) as sent:
        library.circulation.borrow(member.id, book_id=books[2].id)
    assert len(selects(sent)) == 2
