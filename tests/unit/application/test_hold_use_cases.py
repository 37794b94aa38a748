"""Holds through the Circulation use cases: the queue, the hold shelf, pickups and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.catalogue import NewBook
from application.queries import HoldFilter, PageRequest
from domain.catalogue import CopyStatus
from domain.errors import (
    BookAlreadyOnLoan,
    BookNotCirculating,
    BookNotFound,
    DebtLimitReached,
    HoldAlreadyPlaced,
    HoldLimitReached,
    HoldNotActive,
    HoldNotFound,
    MemberHasOverdueLoans,
    MemberNotFound,
    MemberSuspended,
    VersionMismatch,
)
from domain.events import CopyAdded, HoldClosed, HoldPlaced, HoldReady
from domain.holds import HoldStatus
from domain.members import Member
from domain.policy import Policy
from tests.unit.support import DAY, HOUR, App

PICKUP = Policy().pickup_window
LOAN_PERIOD = Policy().loan_period


@pytest.fixture
def lent_out(app: App) -> tuple[NewBook, str]:
    """A one-copy book, lent to somebody; returns the book and the loan id."""
    book = app.add_book(copies=1)
    loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
    return book, loan.id


class TestPlaceHold:
    def test_a_hold_on_a_book_out_on_loan_waits(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        ada = app.add_member()
        app.publisher.clear()
        placed = app.circulation.place_hold(ada.id, book.book.id)
        assert placed.position == 1
        assert placed.hold.status is HoldStatus.WAITING
        assert placed.hold.placed_at == app.now()
        assert placed.hold.copy_id is None
        assert app.hold(placed.hold.id).status is HoldStatus.WAITING
        assert app.publisher.events == [
            HoldPlaced(
                occurred_at=app.now(),
                hold_id=placed.hold.id,
                book_id=book.book.id,
                member_id=ada.id,
            )
        ]

    def test_a_free_copy_is_set_aside_at_once(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()
        placed = app.circulation.place_hold(ada.id, book.book.id)
        assert placed.position is None
        assert placed.hold.status is HoldStatus.READY
        assert placed.hold.copy_id == book.copies[0].id
        assert placed.hold.pickup_by == app.now() + PICKUP
        assert app.copy(book.copies[0].id).status is CopyStatus.ON_HOLD_SHELF
        assert app.copy(book.copies[1].id).status is CopyStatus.AVAILABLE
        assert [type(e) for e in app.publisher.batches[-1]] == [HoldPlaced, HoldReady]

    def test_queue_positions(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        positions = [
            app.circulation.place_hold(app.add_member().id, book.book.id).position for _ in range(3)
        ]
        assert positions == [1, 2, 3]

    def test_duplicate_hold(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        ada = app.add_member()
        app.circulation.place_hold(ada.id, book.book.id)
        with pytest.raises(HoldAlreadyPlaced) as refused:
            app.circulation.place_hold(ada.id, book.book.id)
        assert refused.value.code == "HOLD_ALREADY_PLACED"
        assert len(app.holds()) == 1

    def test_a_ready_hold_also_counts_as_a_duplicate(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()
        app.circulation.place_hold(ada.id, book.book.id)
        with pytest.raises(HoldAlreadyPlaced):
            app.circulation.place_hold(ada.id, book.book.id)

    def test_a_closed_hold_does_not_prevent_a_new_one(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        ada = app.add_member()
        first = app.circulation.place_hold(ada.id, book.book.id)
        app.circulation.cancel_hold(first.hold.id)
        again = app.circulation.place_hold(ada.id, book.book.id)
        assert again.position == 1

    def test_hold_on_a_book_the_member_has_on_loan(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada = app.add_member()
        app.circulation.borrow(ada.id, book_id=book.book.id)
        with pytest.raises(BookAlreadyOnLoan) as refused:
            app.circulation.place_hold(ada.id, book.book.id)
        assert refused.value.code == "BOOK_ALREADY_ON_LOAN_TO_MEMBER"

    def test_hold_limit(self, app: App) -> None:
        ada = app.add_member()
        for _ in range(app.policy.max_holds):
            app.circulation.place_hold(ada.id, app.add_book().book.id)
        with pytest.raises(HoldLimitReached) as refused:
            app.circulation.place_hold(ada.id, app.add_book().book.id)
        assert refused.value.code == "HOLD_LIMIT_REACHED"
        assert len(app.holds()) == app.policy.max_holds

    def test_book_without_copies(self, app: App) -> None:
        book = app.add_book(copies=0)
        with pytest.raises(BookNotCirculating) as refused:
            app.circulation.place_hold(app.add_member().id, book.book.id)
        assert refused.value.code == "BOOK_NOT_CIRCULATING"

    def test_book_whose_copies_are_lost_or_withdrawn(self, app: App) -> None:
        book = app.add_book(copies=2)
        app.catalogue.mark_copy_lost(book.copies[0].id)
        app.catalogue.withdraw_copy(book.copies[1].id)
        with pytest.raises(BookNotCirculating):
            app.circulation.place_hold(app.add_member().id, book.book.id)

    def test_blocked_members_cannot_hold(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        ada, bob = app.add_member(), app.add_member()
        app.membership.suspend(ada.id)
        with pytest.raises(MemberSuspended):
            app.circulation.place_hold(ada.id, book.book.id)
        app.circulation.borrow(bob.id, book_id=app.add_book().book.id)
        app.advance(LOAN_PERIOD + DAY)
        with pytest.raises(MemberHasOverdueLoans):
            app.circulation.place_hold(bob.id, book.book.id)

    def test_debt_blocks_holds(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(LOAN_PERIOD + 25 * DAY)
        app.circulation.return_loan(loan.id)
        with pytest.raises(DebtLimitReached):
            app.circulation.place_hold(ada.id, book.book.id)

    def test_unknown_member_or_book(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        with pytest.raises(MemberNotFound):
            app.circulation.place_hold("nobody", book.book.id)
        with pytest.raises(BookNotFound):
            app.circulation.place_hold(app.add_member().id, "no-book")


class TestQueue:
    def test_returns_serve_three_members_in_order(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, loan_id = lent_out
        members = [app.add_member() for _ in range(3)]
        holds = []
        for member in members:
            holds.append(app.circulation.place_hold(member.id, book.book.id).hold)
            app.advance(HOUR)
        for i, (member, hold) in enumerate(zip(members, holds, strict=True)):
            app.publisher.clear()
            app.circulation.return_loan(loan_id)
            ready = app.hold(hold.id)
            assert ready.status is HoldStatus.READY
            assert ready.copy_id == book.copies[0].id
            assert ready.ready_at == app.now()
            assert ready.pickup_by == app.now() + PICKUP
            assert app.publisher.of_type(HoldReady) == [
                HoldReady(
                    occurred_at=app.now(),
                    hold_id=hold.id,
                    copy_id=book.copies[0].id,
                    member_id=member.id,
                    pickup_by=app.now() + PICKUP,
                )
            ]
            later = [app.circulation.get_hold(h.id) for h in holds[i + 1 :]]
            assert [h.position for h in later] == list(range(1, len(later) + 1))
            assert all(h.hold.status is HoldStatus.WAITING for h in later)
            loan_id = app.circulation.borrow(member.id, book_id=book.book.id).id
            assert app.hold(hold.id).status is HoldStatus.FULFILLED
            app.advance(DAY)
        app.circulation.return_loan(loan_id)
        assert app.copy(book.copies[0].id).status is CopyStatus.AVAILABLE

    def test_holds_placed_at_the_same_instant_keep_their_order(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, loan_id = lent_out
        members = [app.add_member() for _ in range(5)]
        holds = [app.circulation.place_hold(m.id, book.book.id).hold for m in members]
        app.circulation.return_loan(loan_id)
        assert [app.hold(h.id).status for h in holds] == [HoldStatus.READY] + 4 * [
            HoldStatus.WAITING
        ]

    def test_adding_a_copy_serves_the_queue(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        ada, bob = app.add_member(), app.add_member()
        first = app.circulation.place_hold(ada.id, book.book.id).hold
        second = app.circulation.place_hold(bob.id, book.book.id).hold
        app.publisher.clear()
        copy = app.catalogue.add_copy(book.book.id, "EXTRA-1")
        assert copy.status is CopyStatus.ON_HOLD_SHELF
        assert app.copy(copy.id).status is CopyStatus.ON_HOLD_SHELF
        assert app.hold(first.id).copy_id == copy.id
        assert app.hold(second.id).status is HoldStatus.WAITING
        assert [type(e) for e in app.publisher.events] == [CopyAdded, HoldReady]

    def test_a_found_copy_serves_the_queue(self, app: App) -> None:
        book = app.add_book(copies=2)
        app.catalogue.mark_copy_lost(book.copies[1].id)
        app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        ada = app.add_member()
        hold = app.circulation.place_hold(ada.id, book.book.id).hold
        found = app.catalogue.mark_copy_found(book.copies[1].id)
        assert found.status is CopyStatus.ON_HOLD_SHELF
        assert app.hold(hold.id).copy_id == book.copies[1].id

    def test_marking_a_set_aside_copy_lost_requeues_the_hold_in_its_old_place(
        self, app: App
    ) -> None:
        book = app.add_book(copies=2)
        ada, bob, cy = app.add_member(), app.add_member(), app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        first = app.circulation.place_hold(bob.id, book.book.id).hold  # gets copy 2 at once
        app.advance(HOUR)
        second = app.circulation.place_hold(cy.id, book.book.id).hold
        assert app.hold(first.id).copy_id == book.copies[1].id
        app.catalogue.mark_copy_lost(book.copies[1].id)
        requeued = app.circulation.get_hold(first.id)
        assert requeued.hold.status is HoldStatus.WAITING
        assert requeued.hold.copy_id is None
        assert requeued.hold.pickup_by is None
        assert requeued.position == 1
        assert app.circulation.get_hold(second.id).position == 2
        app.circulation.return_loan(loan.id)
        assert app.hold(first.id).status is HoldStatus.READY
        assert app.hold(first.id).copy_id == book.copies[0].id
        assert app.hold(second.id).status is HoldStatus.WAITING

    def test_withdrawing_a_set_aside_copy_hands_the_holder_another_free_copy(
        self, app: App
    ) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()
        hold = app.circulation.place_hold(ada.id, book.book.id).hold
        assert hold.copy_id == book.copies[0].id
        app.catalogue.withdraw_copy(book.copies[0].id)
        assert app.hold(hold.id).status is HoldStatus.READY
        assert app.hold(hold.id).copy_id == book.copies[1].id
        assert app.copy(book.copies[0].id).status is CopyStatus.WITHDRAWN


class TestPickup:
    def ready_for(self, app: App, lent_out: tuple[NewBook, str]) -> tuple[Member, Member, str, str]:
        book, loan_id = lent_out
        ada, bob = app.add_member(), app.add_member()
        first = app.circulation.place_hold(ada.id, book.book.id).hold
        second = app.circulation.place_hold(bob.id, book.book.id).hold
        app.circulation.return_loan(loan_id)
        return ada, bob, first.id, second.id

    def test_uncollected_holds_expire_after_the_pickup_window(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        ada, bob, first, second = self.ready_for(app, lent_out)
        app.advance(PICKUP)
        assert app.circulation.expire_pickups() == []  # the deadline itself is still in time
        app.advance(timedelta(microseconds=1))
        app.publisher.clear()
        expired = app.circulation.expire_pickups()
        assert [h.id for h in expired] == [first]
        assert app.hold(first).status is HoldStatus.EXPIRED
        assert app.hold(first).closed_at == app.now()
        passed_on = app.hold(second)
        assert passed_on.status is HoldStatus.READY
        assert passed_on.copy_id == book.copies[0].id
        assert passed_on.pickup_by == app.now() + PICKUP
        assert app.publisher.events == [
            HoldClosed(occurred_at=app.now(), hold_id=first, member_id=ada.id, status="expired"),
            HoldReady(
                occurred_at=app.now(),
                hold_id=second,
                copy_id=book.copies[0].id,
                member_id=bob.id,
                pickup_by=app.now() + PICKUP,
            ),
        ]
        assert app.circulation.expire_pickups() == []

    def test_an_expired_copy_with_nobody_waiting_goes_back_on_the_shelf(self, app: App) -> None:
        book = app.add_book(copies=1)
        hold = app.circulation.place_hold(app.add_member().id, book.book.id).hold
        app.advance(PICKUP + HOUR)
        assert [h.id for h in app.circulation.expire_pickups()] == [hold.id]
        assert app.copy(book.copies[0].id).status is CopyStatus.AVAILABLE

    def test_expiry_covers_every_book(self, app: App) -> None:
        books = [app.add_book(copies=1) for _ in range(3)]
        holds = [app.circulation.place_hold(app.add_member().id, b.book.id).hold for b in books]
        app.advance(PICKUP + HOUR)
        assert sorted(h.id for h in app.circulation.expire_pickups()) == sorted(h.id for h in holds)

    def test_cancelling_a_ready_hold_passes_the_copy_on(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        ada, _, first, second = self.ready_for(app, lent_out)
        app.advance(DAY)
        app.publisher.clear()
        cancelled = app.circulation.cancel_hold(first)
        assert cancelled.status is HoldStatus.CANCELLED
        assert app.hold(first).closed_at == app.now()
        assert app.hold(second).copy_id == book.copies[0].id
        assert app.hold(second).pickup_by == app.now() + PICKUP
        assert [type(e) for e in app.publisher.events] == [HoldClosed, HoldReady]
        assert app.publisher.events[0] == HoldClosed(
            occurred_at=app.now(), hold_id=first, member_id=ada.id, status="cancelled"
        )

    def test_cancelling_a_waiting_hold_moves_the_others_up(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        holds = [app.circulation.place_hold(app.add_member().id, book.book.id).hold for _ in "abc"]
        app.circulation.cancel_hold(holds[0].id)
        assert app.circulation.get_hold(holds[2].id).position == 2
        assert app.circulation.get_hold(holds[0].id).position is None

    def test_a_closed_hold_cannot_be_cancelled(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, _ = lent_out
        hold = app.circulation.place_hold(app.add_member().id, book.book.id).hold
        app.circulation.cancel_hold(hold.id)
        with pytest.raises(HoldNotActive) as refused:
            app.circulation.cancel_hold(hold.id)
        assert refused.value.code == "HOLD_NOT_ACTIVE"

    def test_cancelling_a_stale_version_is_refused(
        self, app: App, lent_out: tuple[NewBook, str]
    ) -> None:
        book, loan_id = lent_out
        hold = app.circulation.place_hold(app.add_member().id, book.book.id).hold
        app.circulation.return_loan(loan_id)  # the hold became ready: version 2
        with pytest.raises(VersionMismatch):
            app.circulation.cancel_hold(hold.id, expected_version=1)
        assert app.hold(hold.id).status is HoldStatus.READY
        assert app.circulation.cancel_hold(hold.id, expected_version=2).version == 3

    def test_unknown_hold(self, app: App) -> None:
        with pytest.raises(HoldNotFound):
            app.circulation.cancel_hold("nope")
        with pytest.raises(HoldNotFound):
            app.circulation.get_hold("nope")


class TestListHolds:
    def test_filters_and_paging(self, app: App, lent_out: tuple[NewBook, str]) -> None:
        book, _ = lent_out
        other = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        h1 = app.circulation.place_hold(ada.id, book.book.id).hold
        app.advance(HOUR)
        h2 = app.circulation.place_hold(bob.id, book.book.id).hold
        app.advance(HOUR)
        h3 = app.circulation.place_hold(ada.id, other.book.id).hold  # ready at once
        app.circulation.cancel_hold(h2.id)

        def ids(query: HoldFilter, page: PageRequest | None = None) -> list[str]:
            return [h.id for h in app.circulation.list_holds(query, page or PageRequest()).items]

        assert ids(HoldFilter()) == [h1.id, h2.id, h3.id]
        assert ids(HoldFilter(member_id=ada.id)) == [h1.id, h3.id]
        assert ids(HoldFilter(book_id=book.book.id)) == [h1.id, h2.id]
        assert ids(HoldFilter(status=HoldStatus.READY)) == [h3.id]
        assert ids(HoldFilter(status=HoldStatus.CANCELLED)) == [h2.id]
        assert ids(HoldFilter(member_id=bob.id, status=HoldStatus.WAITING)) == []
        assert ids(HoldFilter(), PageRequest(page=2, per_page=2)) == [h3.id]
        assert app.circulation.list_holds(HoldFilter(), PageRequest(per_page=2)).total == 3
        with pytest.raises(MemberNotFound):
            app.circulation.list_holds(HoldFilter(member_id="nobody"), PageRequest())


class TestSuspensionAndNotNeededAfter:
    def test_the_daily_job_expires_holds_no_longer_needed(self, app: App) -> None:
        book = app.add_book()
        app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        ada, bob = app.add_member(), app.add_member()
        brief = app.circulation.place_hold(ada.id, book.book.id, app.now().date() + DAY)
        patient = app.circulation.place_hold(bob.id, book.book.id)
        app.advance(DAY)
        assert app.circulation.expire_pickups() == []  # the last day is not over yet
        app.advance(DAY)
        expired = app.circulation.expire_pickups()
        assert [h.id for h in expired] == [brief.hold.id]
        assert app.hold(brief.hold.id).status is HoldStatus.EXPIRED
        assert app.circulation.get_hold(patient.hold.id).position == 1

    def test_suspend_and_resume_through_the_use_case(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        ada, bob = app.add_member(), app.add_member()
        first = app.circulation.place_hold(ada.id, book.book.id).hold
        second = app.circulation.place_hold(bob.id, book.book.id).hold
        suspended = app.circulation.change_hold(first.id, first.version, suspended=True)
        assert (suspended.hold.suspended, suspended.position) == (True, 1)
        app.circulation.return_loan(loan.id)
        assert app.hold(second.id).status is HoldStatus.READY
        assert app.circulation.positions([app.hold(first.id), app.hold(second.id)]) == {
            first.id: 1,
            second.id: None,
        }


def test_staff_move_a_hold_and_the_queue_follows(app: App) -> None:
    book = app.add_book()
    loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
    holds = [app.circulation.place_hold(app.add_member().id, book.book.id).hold for _ in range(3)]
    moved = app.circulation.move_hold(holds[2].id, 1)
    assert moved.position == 1
    assert [app.circulation.get_hold(h.id).position for h in holds] == [2, 3, 1]
    app.circulation.return_loan(loan.id)
    assert app.hold(holds[2].id).status is HoldStatus.READY
