"""The loan read model: a loan's state and fine as every reader is shown them."""

from __future__ import annotations

from adapters.memory import MemoryUnitOfWork
from application.circulation import Circulation
from domain.loans import LoanState
from tests.unit.support import DAY, App


def counting_circulation(app: App) -> tuple[Circulation, list[int]]:
    """``app``'s circulation use cases, counting the units of work they open."""
    opened: list[int] = []

    def uow() -> MemoryUnitOfWork:
        opened.append(1)
        return app.uow()

    return Circulation(uow=uow, clock=app.clock, ids=app.ids, policy=app.policy), opened


def test_a_loan_not_yet_late_owes_nothing_and_needs_no_rule(app: App) -> None:
    circulation, opened = counting_circulation(app)
    loan = app.circulation.borrow(app.add_member().id, book_id=app.add_book().book.id)
    app.advance(loan.due_at - app.now())  # due this very instant: not late yet

    [view] = circulation.loan_views([loan])

    assert (view.state, view.fine_cents) == (LoanState.OPEN, 0)
    assert opened == []  # no rules were read: none could change a fine of nothing


def test_a_late_loan_owes_by_its_borrowers_rule(app: App) -> None:
    app.rules.change_rule(app.rules.list_rules()[0].id, fine_per_day_cents=25, grace_days=0)
    app.rules.create_category("child", "Child")
    app.rules.create_rule("child", None, fine_per_day_cents=10, grace_days=0)
    kid = app.add_member().id
    app.rules.assign_category(kid, "child")
    kids_loan = app.circulation.borrow(kid, book_id=app.add_book().book.id)
    adults_loan = app.circulation.borrow(app.add_member().id, book_id=app.add_book().book.id)
    app.advance(kids_loan.due_at - app.now() + 3 * DAY)

    views = app.circulation.loan_views([kids_loan, adults_loan])

    assert [(v.state, v.fine_cents) for v in views] == [
        (LoanState.OVERDUE, 3 * 10),
        (LoanState.OVERDUE, 3 * 25),
    ]


def test_a_loan_claimed_returned_after_its_due_date_keeps_the_fine_frozen_at_the_claim(
    app: App,
) -> None:
    app.rules.change_rule(app.rules.list_rules()[0].id, fine_per_day_cents=10, grace_days=0)
    loan = app.circulation.borrow(app.add_member().id, book_id=app.add_book().book.id)
    app.advance(loan.due_at - app.now() + 2 * DAY)
    disputed = app.lost_items.claim_returned(loan.id)
    app.advance(10 * DAY)

    [view] = app.circulation.loan_views([disputed])

    assert (view.state, view.fine_cents) == (LoanState.CLAIMED_RETURNED, 20)
