"""Borrowing, returning and renewing through the Circulation use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from application.queries import LoanFilter, PageRequest
from domain.catalogue import CopyStatus
from domain.errors import (
    BookNotFound,
    CopyNotAvailable,
    CopyNotFound,
    CopyReservedForAnotherMember,
    DebtLimitReached,
    InvalidValue,
    LoanAlreadyReturned,
    LoanLimitReached,
    LoanNotFound,
    MemberHasOverdueLoans,
    MemberNotFound,
    MembershipExpired,
    MemberSuspended,
    NoCopyAvailable,
    NoOpenLoan,
    RenewalBlockedByHold,
    RenewalBlockedOverdue,
    RenewalLimitReached,
)
from domain.events import BookLent, BookReturned, HoldClosed, LoanRenewed
from domain.holds import HoldStatus
from domain.ledger import EntryKind
from domain.loans import LoanState, overdue_fine
from domain.policy import Policy
from domain.rules import RuleBook
from tests.unit.support import DAY, HOUR, App, build_app, end_of_day

LOAN_PERIOD = Policy().loan_period


class TestBorrow:
    def test_borrow_by_book_lends_the_free_copy_with_the_lowest_barcode(self, app: App) -> None:
        book = app.add_book(copies=3)
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        assert loan.copy_id == book.copies[0].id
        assert loan.book_id == book.book.id
        assert loan.member_id == ada.id
        assert loan.loaned_at == app.now()
        assert loan.due_at == end_of_day(app.now() + LOAN_PERIOD)
        assert loan.renewals == 0
        assert app.copy(loan.copy_id).status is CopyStatus.ON_LOAN
        assert app.loan(loan.id).is_open
        second = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        assert second.copy_id == book.copies[1].id

    def test_borrow_by_copy(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, copy_id=book.copies[1].id)
        assert loan.copy_id == book.copies[1].id
        assert loan.book_id == book.book.id
        assert app.copy(book.copies[0].id).status is CopyStatus.AVAILABLE

    def test_lending_is_announced_after_commit(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        assert app.publisher.batches[-1] == [
            BookLent(occurred_at=app.now(), loan_id=loan.id, copy_id=loan.copy_id, member_id=ada.id)
        ]

    def test_exactly_one_of_book_and_copy(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        with pytest.raises(InvalidValue) as both:
            app.circulation.borrow(ada.id, book_id=book.book.id, copy_id=book.copies[0].id)
        assert both.value.code == "INVALID_VALUE"
        with pytest.raises(InvalidValue) as neither:
            app.circulation.borrow(ada.id)
        assert neither.value.code == "INVALID_VALUE"
        assert app.loans() == []

    def test_unknown_member_book_or_copy(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        with pytest.raises(MemberNotFound):
            app.circulation.borrow("nobody", book_id=book.book.id)
        with pytest.raises(BookNotFound):
            app.circulation.borrow(ada.id, book_id="no-book")
        with pytest.raises(CopyNotFound):
            app.circulation.borrow(ada.id, copy_id="no-copy")

    def test_no_copy_available(self, app: App) -> None:
        book = app.add_book(copies=1)
        app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        with pytest.raises(NoCopyAvailable) as refused:
            app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        assert refused.value.code == "NO_COPY_AVAILABLE"

    def test_a_copy_on_loan_cannot_be_borrowed_by_copy(self, app: App) -> None:
        book = app.add_book(copies=1)
        app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        with pytest.raises(CopyNotAvailable) as refused:
            app.circulation.borrow(app.add_member().id, copy_id=book.copies[0].id)
        assert refused.value.code == "COPY_NOT_AVAILABLE"

    def test_loan_limit(self, app: App) -> None:
        ada = app.add_member()
        for _ in range(app.policy.max_open_loans):
            app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        with pytest.raises(LoanLimitReached) as refused:
            app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        assert refused.value.code == "LOAN_LIMIT_REACHED"
        assert refused.value.details == {"limit": 5}

    def test_suspended_member(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        app.membership.suspend(ada.id)
        with pytest.raises(MemberSuspended) as refused:
            app.circulation.borrow(ada.id, book_id=book.book.id)
        assert refused.value.code == "MEMBER_SUSPENDED"
        app.membership.reactivate(ada.id)
        app.circulation.borrow(ada.id, book_id=book.book.id)

    def test_expired_membership(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member(expires_in=DAY)
        app.advance(DAY)
        with pytest.raises(MembershipExpired) as refused:
            app.circulation.borrow(ada.id, book_id=book.book.id)
        assert refused.value.code == "MEMBERSHIP_EXPIRED"

    def test_an_overdue_loan_blocks_borrowing(self, app: App) -> None:
        first, second = app.add_book(), app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=first.book.id)
        app.advance(loan.due_at - app.now())
        app.circulation.borrow(ada.id, book_id=app.add_book().book.id)  # due now: not yet late
        app.advance(timedelta(seconds=1))
        with pytest.raises(MemberHasOverdueLoans) as refused:
            app.circulation.borrow(ada.id, book_id=second.book.id)
        assert refused.value.code == "MEMBER_HAS_OVERDUE_LOANS"
        assert refused.value.details == {"loan_ids": [loan.id]}

    def test_debt_blocks_borrowing_from_the_limit_on(self, app: App) -> None:
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(LOAN_PERIOD + 20 * DAY)  # 20 days late: 500 cents
        assert app.circulation.return_loan(loan.id).fine_cents == 500
        book = app.add_book()
        with pytest.raises(DebtLimitReached) as refused:
            app.circulation.borrow(ada.id, book_id=book.book.id)
        assert refused.value.code == "DEBT_LIMIT_REACHED"
        assert refused.value.details == {"balance_cents": 500, "limit_cents": 500}
        app.accounts.record_payment(ada.id, 1)
        app.circulation.borrow(ada.id, book_id=book.book.id)

    def test_borrowing_the_copy_set_aside_for_me_fulfils_my_hold(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        first = app.circulation.borrow(ada.id, book_id=book.book.id)
        hold = app.circulation.place_hold(bob.id, book.book.id).hold
        app.circulation.return_loan(first.id)
        app.publisher.clear()
        loan = app.circulation.borrow(bob.id, book_id=book.book.id)
        assert loan.copy_id == book.copies[0].id
        assert app.hold(hold.id).status is HoldStatus.FULFILLED
        assert app.hold(hold.id).closed_at == app.now()
        assert app.publisher.of_type(HoldClosed) == [
            HoldClosed(occurred_at=app.now(), hold_id=hold.id, member_id=bob.id, status="fulfilled")
        ]

    def test_a_copy_set_aside_can_only_be_borrowed_by_that_member(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob, cy = app.add_member(), app.add_member(), app.add_member()
        first = app.circulation.borrow(ada.id, book_id=book.book.id)
        app.circulation.place_hold(bob.id, book.book.id)
        app.circulation.return_loan(first.id)
        with pytest.raises(CopyReservedForAnotherMember) as refused:
            app.circulation.borrow(cy.id, copy_id=book.copies[0].id)
        assert refused.value.code == "COPY_RESERVED_FOR_ANOTHER_MEMBER"
        with pytest.raises(NoCopyAvailable):
            app.circulation.borrow(cy.id, book_id=book.book.id)
        with pytest.raises(CopyReservedForAnotherMember):
            app.circulation.borrow(ada.id, copy_id=book.copies[0].id)
        loan = app.circulation.borrow(bob.id, copy_id=book.copies[0].id)
        assert loan.member_id == bob.id

    def test_borrowing_another_copy_frees_the_one_set_aside_for_me(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()
        hold = app.circulation.place_hold(ada.id, book.book.id).hold
        assert hold.copy_id == book.copies[0].id
        loan = app.circulation.borrow(ada.id, copy_id=book.copies[1].id)
        assert loan.copy_id == book.copies[1].id
        assert app.hold(hold.id).status is HoldStatus.FULFILLED
        assert app.copy(book.copies[0].id).status is CopyStatus.AVAILABLE


class TestReturn:
    def test_return_on_time_charges_nothing(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        app.advance(LOAN_PERIOD)
        returned = app.circulation.return_loan(loan.id)
        assert returned.returned_at == app.now()
        assert returned.fine_cents == 0
        assert app.copy(loan.copy_id).status is CopyStatus.AVAILABLE
        assert app.ledger() == []
        assert app.publisher.batches[-1] == [
            BookReturned(
                occurred_at=app.now(),
                loan_id=loan.id,
                copy_id=loan.copy_id,
                member_id=ada.id,
                fine_cents=0,
            )
        ]

    @pytest.mark.parametrize(
        ("late", "fine"),
        [
            (15 * HOUR + timedelta(seconds=1), 25),  # a second into the next day
            (3 * DAY + HOUR, 75),
            (40 * DAY + HOUR, 1000),
            (100 * DAY, 1000),
        ],
    )
    def test_a_late_return_charges_a_fine_to_the_ledger(
        self, app: App, late: timedelta, fine: int
    ) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        app.advance(LOAN_PERIOD + late)
        returned = app.circulation.return_loan(loan.id)
        assert returned.fine_cents == fine
        [entry] = app.ledger()
        assert entry.kind is EntryKind.CHARGE
        assert entry.amount_cents == fine
        assert entry.loan_id == loan.id
        assert entry.member_id == ada.id
        assert entry.created_at == app.now()
        assert app.accounts.statement(ada.id).balance_cents == fine
        assert app.publisher.of_type(BookReturned)[-1].fine_cents == fine

    def test_return_by_barcode(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        returned = app.circulation.return_copy(f"  {book.copies[0].barcode} ")
        assert returned.loan.id == loan.id
        assert not app.loan(loan.id).is_open

    def test_return_by_barcode_of_a_copy_not_on_loan(self, app: App) -> None:
        book = app.add_book()
        with pytest.raises(NoOpenLoan):
            app.circulation.return_copy(book.copies[0].barcode)
        with pytest.raises(CopyNotFound):
            app.circulation.return_copy("UNKNOWN")

    def test_returning_twice_is_refused(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        app.circulation.return_loan(loan.id)
        app.advance(100 * DAY)
        with pytest.raises(LoanAlreadyReturned) as refused:
            app.circulation.return_loan(loan.id)
        assert refused.value.code == "LOAN_ALREADY_RETURNED"
        assert app.ledger() == []

    def test_unknown_loan(self, app: App) -> None:
        with pytest.raises(LoanNotFound):
            app.circulation.return_loan("nope")
        with pytest.raises(LoanNotFound):
            app.circulation.get_loan("nope")


class TestRenew:
    def test_renewals_extend_the_due_date_up_to_the_limit(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        first = app.circulation.renew(loan.id)
        assert first.due_at == loan.due_at + LOAN_PERIOD
        assert first.renewals == 1
        app.advance(LOAN_PERIOD)
        second = app.circulation.renew(loan.id)
        assert second.due_at == loan.due_at + 2 * LOAN_PERIOD
        assert second.renewals == 2
        assert app.publisher.batches[-1] == [
            LoanRenewed(occurred_at=app.now(), loan_id=loan.id, member_id=ada.id, renewals=2)
        ]
        with pytest.raises(RenewalLimitReached) as refused:
            app.circulation.renew(loan.id)
        assert refused.value.code == "RENEWAL_LIMIT_REACHED"
        assert app.loan(loan.id).renewals == 2

    def test_an_overdue_loan_cannot_be_renewed(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        app.advance(loan.due_at - app.now() + timedelta(seconds=1))
        with pytest.raises(RenewalBlockedOverdue) as refused:
            app.circulation.renew(loan.id)
        assert refused.value.code == "RENEWAL_BLOCKED_OVERDUE"

    def test_a_waiting_hold_blocks_renewal(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        hold = app.circulation.place_hold(bob.id, book.book.id)
        assert hold.hold.status is HoldStatus.WAITING
        with pytest.raises(RenewalBlockedByHold) as refused:
            app.circulation.renew(loan.id)
        assert refused.value.code == "RENEWAL_BLOCKED_BY_HOLD"
        app.circulation.cancel_hold(hold.hold.id)
        assert app.circulation.renew(loan.id).renewals == 1

    def test_a_hold_another_copy_serves_does_not_block_renewal(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada, bob = app.add_member(), app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        hold = app.circulation.place_hold(bob.id, book.book.id)
        assert hold.hold.status is HoldStatus.READY  # the other copy was free
        assert app.circulation.renew(loan.id).renewals == 1

    def test_a_returned_loan_cannot_be_renewed(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        app.circulation.return_loan(loan.id)
        with pytest.raises(LoanAlreadyReturned):
            app.circulation.renew(loan.id)

    def test_a_suspended_member_cannot_renew(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        app.membership.suspend(ada.id)
        with pytest.raises(MemberSuspended):
            app.circulation.renew(loan.id)

    def test_unknown_loan(self, app: App) -> None:
        with pytest.raises(LoanNotFound):
            app.circulation.renew("nope")


class TestListLoans:
    @pytest.fixture
    def world(self) -> tuple[App, dict[str, str]]:
        app = build_app()
        ada, bob = app.add_member(), app.add_member()
        one, two = app.add_book(copies=2), app.add_book()
        names: dict[str, str] = {"ada": ada.id, "bob": bob.id, "one": one.book.id}
        names["returned"] = app.circulation.borrow(ada.id, book_id=one.book.id).id
        app.advance(HOUR)
        app.circulation.return_loan(names["returned"])
        names["overdue"] = app.circulation.borrow(ada.id, book_id=two.book.id).id
        app.advance(LOAN_PERIOD + DAY)
        names["open"] = app.circulation.borrow(bob.id, book_id=one.book.id).id
        return app, names

    def ids(self, app: App, query: LoanFilter, page: PageRequest | None = None) -> list[str]:
        return [v.loan.id for v in app.circulation.list_loans(query, page or PageRequest()).items]

    def test_newest_first(self, world: tuple[App, dict[str, str]]) -> None:
        app, n = world
        assert self.ids(app, LoanFilter()) == [n["open"], n["overdue"], n["returned"]]

    def test_filters(self, world: tuple[App, dict[str, str]]) -> None:
        app, n = world
        assert self.ids(app, LoanFilter(member_id=n["ada"])) == [n["overdue"], n["returned"]]
        assert self.ids(app, LoanFilter(book_id=n["one"])) == [n["open"], n["returned"]]
        assert self.ids(app, LoanFilter(state=LoanState.OPEN)) == [n["open"], n["overdue"]]
        assert self.ids(app, LoanFilter(state=LoanState.OVERDUE)) == [n["overdue"]]
        assert self.ids(app, LoanFilter(state=LoanState.RETURNED)) == [n["returned"]]
        assert self.ids(app, LoanFilter(member_id=n["bob"], state=LoanState.OVERDUE)) == []

    def test_paging(self, world: tuple[App, dict[str, str]]) -> None:
        app, n = world
        page = app.circulation.list_loans(LoanFilter(), PageRequest(page=2, per_page=2))
        assert [view.loan.id for view in page.items] == [n["returned"]]
        assert (page.total, page.page, page.per_page, page.pages) == (3, 2, 2, 2)
        beyond = app.circulation.list_loans(LoanFilter(), PageRequest(page=5, per_page=2))
        assert beyond.items == []
        assert beyond.total == 3

    def test_unknown_member(self, world: tuple[App, dict[str, str]]) -> None:
        app, _ = world
        with pytest.raises(MemberNotFound):
            app.circulation.list_loans(LoanFilter(member_id="nobody"), PageRequest())

    def test_get_loan(self, world: tuple[App, dict[str, str]]) -> None:
        app, n = world
        assert app.circulation.get_loan(n["open"]).member_id == n["bob"]


class TestAvailability:
    def test_counts_and_who_may_borrow(self, app: App) -> None:
        book = app.add_book(copies=4)
        ada, bob, cy = app.add_member(), app.add_member(), app.add_member()
        app.circulation.borrow(ada.id, book_id=book.book.id)
        app.catalogue.mark_copy_lost(book.copies[3].id)
        app.circulation.place_hold(bob.id, book.book.id)  # a free copy is set aside for bob
        app.membership.suspend(cy.id)
        general = app.circulation.availability(book.book.id)
        assert (general.copies, general.available, general.on_loan, general.on_hold_shelf) == (
            3,
            1,
            1,
            1,
        )
        assert general.holds_waiting == 0
        assert general.can_borrow is None
        assert general.reasons == []
        assert app.circulation.availability(book.book.id, ada.id).can_borrow is True
        suspended = app.circulation.availability(book.book.id, cy.id)
        assert suspended.can_borrow is False
        assert [r.code for r in suspended.reasons] == ["MEMBER_SUSPENDED"]

    def test_reasons_list_every_obstacle(self, app: App) -> None:
        book = app.add_book(copies=1)
        ada, bob = app.add_member(), app.add_member()
        app.circulation.borrow(ada.id, book_id=book.book.id)
        app.membership.suspend(bob.id)
        answer = app.circulation.availability(book.book.id, bob.id)
        assert answer.can_borrow is False
        assert [r.code for r in answer.reasons] == ["MEMBER_SUSPENDED", "NO_COPY_AVAILABLE"]

    def test_unknown_book_or_member(self, app: App) -> None:
        book = app.add_book()
        with pytest.raises(BookNotFound):
            app.circulation.availability("nope")
        with pytest.raises(MemberNotFound):
            app.circulation.availability(book.book.id, "nobody")


@settings(deadline=None, max_examples=50)
@given(
    late=st.timedeltas(min_value=-LOAN_PERIOD, max_value=60 * DAY),
    renewals=st.integers(0, 2),
)
@example(late=timedelta(microseconds=1), renewals=0)  # the due day's last second: not yet late
def test_any_return_charges_exactly_the_overdue_fine(late: timedelta, renewals: int) -> None:
    app = build_app()
    ada = app.add_member()
    loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
    for _ in range(renewals):
        loan = app.circulation.renew(loan.id)
    app.advance(loan.due_at - app.now() + late)
    returned = app.circulation.return_loan(loan.id)
    expected = overdue_fine(
        loan.due_at, app.now(), RuleBook.from_policy(app.policy).terms("standard", "book")
    )
    assert returned.fine_cents == expected
    assert sum(e.amount_cents for e in app.ledger()) == expected
    assert app.accounts.statement(ada.id).balance_cents == expected
    # Due at the end of a day (the library's time zone is UTC here): each day begun after it
    # costs a day's fine, so a return in the due day's last second is not yet late.
    days_begun = (app.now().date() - loan.due_at.date()).days
    if days_begun > 0:
        assert expected == min(25 * days_begun, 1000)
    else:
        assert app.ledger() == []


@settings(deadline=None, max_examples=50)
@given(order=st.permutations(range(4)), copies=st.integers(1, 3))
def test_returns_serve_the_queue_in_the_order_it_formed(order: list[int], copies: int) -> None:
    app = build_app()
    book = app.add_book(copies=copies)
    borrowers = [app.add_member() for _ in range(copies)]
    loans = [app.circulation.borrow(m.id, book_id=book.book.id) for m in borrowers]
    waiting = [app.add_member() for _ in range(4)]
    holds = {}
    for i in order:
        holds[i] = app.circulation.place_hold(waiting[i].id, book.book.id).hold
        app.advance(timedelta(minutes=1))
    served: list[int] = []
    for loan in loans:
        app.circulation.return_loan(loan.id)
    while len(served) < len(order):
        ready = [i for i, h in holds.items() if app.hold(h.id).status is HoldStatus.READY]
        assert ready
        for i in sorted(ready, key=lambda i: app.hold(holds[i].id).queue_key):
            served.append(i)
            loan = app.circulation.borrow(waiting[i].id, book_id=book.book.id)
            app.circulation.return_loan(loan.id)
    assert served == order


class TestRenewAll:
    def test_each_loan_on_its_own_with_the_reason(self, app: App) -> None:
        ada, bob = app.add_member(), app.add_member()
        free, wanted = app.add_book(), app.add_book()
        first = app.circulation.borrow(ada.id, book_id=free.book.id)
        second = app.circulation.borrow(ada.id, book_id=wanted.book.id)
        app.circulation.place_hold(bob.id, wanted.book.id)
        app.publisher.clear()

        outcomes = app.circulation.renew_all(ada.id)

        assert [(o.loan.id, o.renewed) for o in outcomes] == [(first.id, True), (second.id, False)]
        refusal = outcomes[1].refusal
        assert refusal is not None
        assert refusal.code == "RENEWAL_BLOCKED_BY_HOLD"
        assert app.loan(first.id).renewals == 1
        assert app.loan(second.id).renewals == 0
        assert [type(e) for e in app.publisher.events] == [LoanRenewed]

    def test_a_blocked_member_renews_nothing(self, app: App) -> None:
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.membership.suspend(ada.id)
        [outcome] = app.circulation.renew_all(ada.id)
        assert outcome.refusal is not None
        assert outcome.refusal.code == "MEMBER_SUSPENDED"
        assert app.loan(loan.id).renewals == 0
        with pytest.raises(MemberNotFound):
            app.circulation.renew_all("nobody")

    def test_debt_blocks_renewal_as_it_blocks_borrowing(self, app: App) -> None:
        ada = app.add_member()
        late = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(LOAN_PERIOD - DAY)
        kept = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(LOAN_PERIOD)  # ``late`` is 20 open days late; ``kept`` is due tonight
        assert app.circulation.return_loan(late.id).fine_cents == 500
        with pytest.raises(DebtLimitReached) as refused:
            app.circulation.renew(kept.id)
        assert refused.value.details == {"balance_cents": 500, "limit_cents": 500}
        [outcome] = app.circulation.renew_all(ada.id)
        assert outcome.refusal is not None
        assert outcome.refusal.code == "DEBT_LIMIT_REACHED"
