"""A refused use case changes nothing and announces nothing; a successful one announces after
its data is stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.catalogue import BookChanges, BookDetails
from application.members import MemberChanges
from domain.catalogue import Book
from domain.errors import DomainError
from domain.events import (
    BookAdded,
    BookLent,
    BookReturned,
    ChargePosted,
    Event,
    HoldPlaced,
    HoldReady,
    MemberRegistered,
    PaymentReceived,
)
from domain.holds import Hold
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member
from tests.unit.support import DAY, App, build_app


@dataclass
class World:
    """A library in which every kind of refusal can be provoked."""

    app: App
    ids: dict[str, str]
    barcodes: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def build_world() -> World:
    app = build_app()
    ids: dict[str, str] = {}
    barcodes: dict[str, str] = {}

    def book(name: str, copies: int) -> None:
        added = app.add_book(copies=copies)
        ids[name] = added.book.id
        for i, copy in enumerate(added.copies):
            ids[f"{name}.{i}"] = copy.id
            barcodes[f"{name}.{i}"] = copy.barcode

    for name, copies in [("one", 1), ("two", 2), ("renewed", 1), ("debt", 1), ("late_book", 1)]:
        book(name, copies)
    book("none", 0)
    for name in ["ada", "bob", "cy", "debtor", "late", "suspended", "full"]:
        ids[name] = app.add_member(email=f"{name}@example.org").id
    ids["expired"] = app.add_member(email="expired@example.org", expires_in=DAY).id
    for i in range(app.policy.max_open_loans):
        book(f"extra{i}", 1)
        app.circulation.borrow(ids["full"], book_id=ids[f"extra{i}"])

    debt_loan = app.circulation.borrow(ids["debtor"], book_id=ids["debt"])
    ids["returned_loan"] = debt_loan.id
    app.advance(app.policy.loan_period + 25 * DAY)
    app.circulation.return_loan(debt_loan.id)  # the debtor owes 625 cents

    ids["overdue_loan"] = app.circulation.borrow(ids["late"], book_id=ids["late_book"]).id
    app.advance(app.policy.loan_period + 2 * DAY)  # the full member's loans are late too now
    ids["ada_loan"] = app.circulation.borrow(ids["ada"], book_id=ids["one"]).id
    ids["renewed_loan"] = app.circulation.borrow(ids["ada"], book_id=ids["renewed"]).id
    for _ in range(app.policy.max_renewals):
        app.circulation.renew(ids["renewed_loan"])
    ids["bob_hold"] = app.circulation.place_hold(ids["bob"], ids["two"]).hold.id  # ready
    ids["cy_hold"] = app.circulation.place_hold(ids["cy"], ids["one"]).hold.id  # waiting
    cancelled = app.circulation.place_hold(ids["cy"], ids["renewed"]).hold.id
    app.circulation.cancel_hold(cancelled)
    ids["cancelled_hold"] = cancelled
    app.membership.suspend(ids["suspended"])
    app.membership.update(ids["ada"], MemberChanges(name="Ada Again"))  # version 2
    app.catalogue.update_book(ids["one"], BookChanges(title="Retitled"))  # version 2
    app.advance(timedelta(hours=1))
    return World(app, ids, barcodes)


Refusal = Callable[[World], object]

REFUSALS: list[tuple[str, Refusal]] = [
    # borrowing
    ("MEMBER_SUSPENDED", lambda w: w.app.circulation.borrow(w["suspended"], book_id=w["two"])),
    ("MEMBERSHIP_EXPIRED", lambda w: w.app.circulation.borrow(w["expired"], book_id=w["two"])),
    ("DEBT_LIMIT_REACHED", lambda w: w.app.circulation.borrow(w["debtor"], book_id=w["two"])),
    (
        "MEMBER_HAS_OVERDUE_LOANS",
        lambda w: w.app.circulation.borrow(w["late"], book_id=w["two"]),
    ),
    ("NO_COPY_AVAILABLE", lambda w: w.app.circulation.borrow(w["cy"], book_id=w["one"])),
    (
        "COPY_RESERVED_FOR_ANOTHER_MEMBER",
        lambda w: w.app.circulation.borrow(w["cy"], copy_id=w["two.0"]),
    ),
    ("COPY_NOT_AVAILABLE", lambda w: w.app.circulation.borrow(w["cy"], copy_id=w["one.0"])),
    ("MEMBER_NOT_FOUND", lambda w: w.app.circulation.borrow("nobody", book_id=w["two"])),
    ("BOOK_NOT_FOUND", lambda w: w.app.circulation.borrow(w["cy"], book_id="nothing")),
    (
        "INVALID_VALUE",
        lambda w: w.app.circulation.borrow(w["cy"], book_id=w["two"], copy_id=w["two.1"]),
    ),
    # returning and renewing
    ("LOAN_ALREADY_RETURNED", lambda w: w.app.circulation.return_loan(w["returned_loan"])),
    ("NO_OPEN_LOAN", lambda w: w.app.circulation.return_copy(w.barcodes["two.1"])),
    ("LOAN_NOT_FOUND", lambda w: w.app.circulation.return_loan("no-loan")),
    ("RENEWAL_LIMIT_REACHED", lambda w: w.app.circulation.renew(w["renewed_loan"])),
    ("RENEWAL_BLOCKED_BY_HOLD", lambda w: w.app.circulation.renew(w["ada_loan"])),
    ("RENEWAL_BLOCKED_OVERDUE", lambda w: w.app.circulation.renew(w["overdue_loan"])),
    ("LOAN_ALREADY_RETURNED", lambda w: w.app.circulation.renew(w["returned_loan"])),
    # holds
    ("HOLD_ALREADY_PLACED", lambda w: w.app.circulation.place_hold(w["bob"], w["two"])),
    (
        "BOOK_ALREADY_ON_LOAN_TO_MEMBER",
        lambda w: w.app.circulation.place_hold(w["ada"], w["one"]),
    ),
    ("BOOK_NOT_CIRCULATING", lambda w: w.app.circulation.place_hold(w["bob"], w["none"])),
    ("MEMBER_SUSPENDED", lambda w: w.app.circulation.place_hold(w["suspended"], w["one"])),
    ("DEBT_LIMIT_REACHED", lambda w: w.app.circulation.place_hold(w["debtor"], w["one"])),
    ("HOLD_NOT_ACTIVE", lambda w: w.app.circulation.cancel_hold(w["cancelled_hold"])),
    ("HOLD_NOT_FOUND", lambda w: w.app.circulation.cancel_hold("no-hold")),
    # money
    ("PAYMENT_EXCEEDS_BALANCE", lambda w: w.app.accounts.record_payment(w["debtor"], 626)),
    ("INVALID_VALUE", lambda w: w.app.accounts.record_payment(w["debtor"], 0)),
    # catalogue
    (
        "ISBN_ALREADY_EXISTS",
        lambda w: w.app.catalogue.add_book(
            BookDetails(isbn=w.app.books()[0].isbn, title="Again"), ["FRESH-1"]
        ),
    ),
    (
        "BARCODE_ALREADY_EXISTS",
        lambda w: w.app.catalogue.add_book(
            BookDetails(isbn="9791090636071", title="New"), ["FRESH-1", w.barcodes["one.0"]]
        ),
    ),
    ("BARCODE_ALREADY_EXISTS", lambda w: w.app.catalogue.add_copy(w["two"], w.barcodes["one.0"])),
    (
        "VERSION_MISMATCH",
        lambda w: w.app.catalogue.update_book(w["one"], BookChanges(title="x"), expected_version=1),
    ),
    (
        "ISBN_ALREADY_EXISTS",
        lambda w: w.app.catalogue.update_book(
            w["two"], BookChanges(isbn=w.app.catalogue.get_book(w["one"]).isbn)
        ),
    ),
    ("BOOK_HAS_OPEN_LOANS", lambda w: w.app.catalogue.remove_book(w["one"])),
    ("VERSION_MISMATCH", lambda w: w.app.catalogue.remove_book(w["two"], expected_version=9)),
    ("COPY_ON_LOAN", lambda w: w.app.catalogue.mark_copy_lost(w["one.0"])),
    ("INVALID_COPY_TRANSITION", lambda w: w.app.catalogue.mark_copy_found(w["two.1"])),
    # membership
    (
        "EMAIL_ALREADY_REGISTERED",
        lambda w: w.app.membership.register(email="ADA@example.org", name="Impostor"),
    ),
    (
        "EMAIL_ALREADY_REGISTERED",
        lambda w: w.app.membership.update(w["bob"], MemberChanges(email="Ada@Example.org")),
    ),
    ("VERSION_MISMATCH", lambda w: w.app.membership.suspend(w["ada"], expected_version=1)),
    ("MEMBER_HAS_OPEN_LOANS", lambda w: w.app.membership.remove(w["ada"])),
    ("MEMBER_HAS_DEBT", lambda w: w.app.membership.remove(w["debtor"])),
]


@pytest.mark.parametrize(
    ("code", "refusal"),
    REFUSALS,
    ids=[f"{i:02d}-{code}" for i, (code, _) in enumerate(REFUSALS)],
)
def test_a_refused_use_case_changes_and_announces_nothing(code: str, refusal: Refusal) -> None:
    world = build_world()
    before = world.app.snapshot()
    batches = len(world.app.publisher.batches)
    with pytest.raises(DomainError) as refused:
        refusal(world)
    assert refused.value.code == code
    assert world.app.snapshot() == before
    assert len(world.app.publisher.batches) == batches


def test_the_world_lets_members_in_good_standing_act() -> None:
    # So each refusal above comes from the rule it names, not from a broken world.
    world = build_world()
    app = world.app
    assert app.circulation.borrow(world["ada"], book_id=world["two"]).copy_id == world["two.1"]
    assert app.circulation.place_hold(world["bob"], world["renewed"]).position == 1
    assert app.circulation.borrow(world["bob"], copy_id=world["two.0"]).member_id == world["bob"]


class CheckingPublisher:
    """Looks at the database when events arrive: what they speak of must already be stored."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.seen: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, BookAdded):
                assert event.book_id in self.app.db.tables[Book]
            elif isinstance(event, BookLent):
                assert self.app.db.tables[Loan][event.loan_id].is_open
            elif isinstance(event, BookReturned):
                assert not self.app.db.tables[Loan][event.loan_id].is_open
            elif isinstance(event, HoldPlaced | HoldReady):
                assert event.hold_id in self.app.db.tables[Hold]
            elif isinstance(event, MemberRegistered):
                assert event.member_id in self.app.db.tables[Member]
            elif isinstance(event, PaymentReceived):
                assert any(
                    e.member_id == event.member_id for e in self.app.db.tables[LedgerEntry].values()
                )
            self.seen.append(event)


def test_events_are_published_once_the_data_is_stored() -> None:
    app = build_app()
    checking = CheckingPublisher(app)
    app.publisher.publish = checking.publish  # type: ignore[method-assign]
    book = app.add_book(copies=1)
    ada, bob = app.add_member(), app.add_member()
    loan = app.circulation.borrow(ada.id, book_id=book.book.id)
    app.circulation.place_hold(bob.id, book.book.id)
    app.advance(app.policy.loan_period + DAY)
    app.circulation.return_loan(loan.id)
    app.accounts.record_payment(ada.id, 25)
    assert [type(e) for e in checking.seen] == [
        BookAdded,
        MemberRegistered,
        MemberRegistered,
        BookLent,
        HoldPlaced,
        BookReturned,
        HoldReady,
        ChargePosted,
        PaymentReceived,
    ]
