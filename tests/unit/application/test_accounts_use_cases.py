"""The Accounts use cases: statements, payments, charges, waivers, refunds and cancellations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidValue, MemberNotFound, PaymentExceedsBalance
from domain.events import PaymentReceived
from domain.ledger import Allocation, ChargeType, EntryKind
from domain.members import Member
from tests.unit.support import DAY, App


def fined(app: App, days_late: int) -> tuple[Member, str]:
    """A member who returned a book ``days_late`` days late."""
    member = app.add_member()
    loan = app.circulation.borrow(member.id, book_id=app.add_book().book.id)
    app.advance(app.policy.loan_period + days_late * DAY)
    app.circulation.return_loan(loan.id)
    return member, loan.id


def test_a_new_member_owes_nothing(app: App) -> None:
    ada = app.add_member()
    statement = app.accounts.statement(ada.id)
    assert statement.member_id == ada.id
    assert statement.entries == []
    assert statement.accruing == []
    assert statement.charges == []
    assert (statement.balance_cents, statement.owed_cents, statement.credit_cents) == (0, 0, 0)


def test_statement_lists_fines_payments_and_what_is_accruing(app: App) -> None:
    ada, loan_id = fined(app, 4)
    app.accounts.record_payment(ada.id, 30, note="  cash ")
    late = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
    app.advance(app.policy.loan_period + timedelta(hours=54))  # two days past the due date
    statement = app.accounts.statement(ada.id)
    assert [(e.kind, e.charge_type, e.amount_cents) for e in statement.entries] == [
        (EntryKind.CHARGE, ChargeType.OVERDUE, 100),
        (EntryKind.PAYMENT, None, 30),
    ]
    assert statement.entries[0].loan_id == loan_id
    assert statement.entries[1].note == "cash"
    assert statement.entries[1].allocations == (Allocation(statement.entries[0].id, 30),)
    assert [(c.charge.id, c.paid_cents, c.remaining_cents) for c in statement.charges] == [
        (statement.entries[0].id, 30, 70)
    ]
    assert [(a.loan.id, a.fine_cents) for a in statement.accruing] == [(late.id, 50)]
    assert statement.total(EntryKind.CHARGE) == 100
    assert statement.total(EntryKind.PAYMENT) == 30
    assert statement.balance_cents == 100 - 30  # posted: what may be paid now
    assert statement.owed_cents == 100 - 30 + 50  # what counts against the debt limit


def test_a_payment_reduces_the_balance(app: App) -> None:
    ada, _ = fined(app, 10)
    app.publisher.clear()
    entry = app.accounts.record_payment(ada.id, 100)
    assert entry.kind is EntryKind.PAYMENT
    assert entry.amount_cents == 100
    assert entry.member_id == ada.id
    assert entry.created_at == app.now()
    assert app.accounts.statement(ada.id).balance_cents == 150
    charge_id = app.accounts.statement(ada.id).charges[0].charge.id
    assert app.publisher.events == [
        PaymentReceived(
            occurred_at=app.now(),
            member_id=ada.id,
            amount_cents=100,
            payment_id=entry.id,
            charge_ids=(charge_id,),
        )
    ]
    app.accounts.record_payment(ada.id, 150)
    assert app.accounts.statement(ada.id).balance_cents == 0


def test_paying_more_than_is_owed_is_refused(app: App) -> None:
    ada, _ = fined(app, 2)
    with pytest.raises(PaymentExceedsBalance) as refused:
        app.accounts.record_payment(ada.id, 51)
    assert refused.value.code == "PAYMENT_EXCEEDS_BALANCE"
    assert refused.value.details == {"balance_cents": 50}
    assert len(app.ledger()) == 1
    with pytest.raises(PaymentExceedsBalance):
        app.accounts.record_payment(app.add_member().id, 1)


def test_a_fine_still_accruing_is_not_payable_until_it_is_posted(app: App) -> None:
    ada = app.add_member()
    loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
    app.advance(app.policy.loan_period + 3 * DAY)
    with pytest.raises(PaymentExceedsBalance) as refused:
        app.accounts.record_payment(ada.id, 75)
    assert refused.value.details == {"balance_cents": 0}
    assert app.accounts.statement(ada.id).owed_cents == 75
    app.circulation.return_loan(loan.id)  # posts the fine
    app.accounts.record_payment(ada.id, 75)
    assert app.accounts.statement(ada.id).balance_cents == 0


@pytest.mark.parametrize("amount", [0, -5])
def test_the_amount_must_be_positive(app: App, amount: int) -> None:
    ada, _ = fined(app, 2)
    with pytest.raises(InvalidValue) as refused:
        app.accounts.record_payment(ada.id, amount)
    assert refused.value.field == "amount_cents"


def test_the_note_is_bounded(app: App) -> None:
    ada, _ = fined(app, 2)
    app.accounts.record_payment(ada.id, 1, note="n" * 500)
    with pytest.raises(InvalidValue) as refused:
        app.accounts.record_payment(ada.id, 1, note="n" * 501)
    assert refused.value.field == "note"


def test_unknown_member(app: App) -> None:
    with pytest.raises(MemberNotFound):
        app.accounts.statement("nobody")
    with pytest.raises(MemberNotFound):
        app.accounts.record_payment("nobody", 10)


def test_arrears_lists_who_owes_most_first(app: App) -> None:
    assert app.accounts.arrears() == []
    small, _ = fined(app, 2)  # owes 50
    paid_up, _ = fined(app, 1)
    app.accounts.record_payment(paid_up.id, 25)
    late = app.add_member(name="Zed")
    late_loan = app.circulation.borrow(late.id, book_id=app.add_book().book.id)
    app.advance(app.policy.loan_period + 3 * DAY)  # late's loan is 3 days overdue: 75 accruing
    app.add_member()  # owes nothing, has nothing out
    rows = app.accounts.arrears()
    assert [(r.member.id, r.settled_cents, r.accruing_cents, r.owed_cents) for r in rows] == [
        (late.id, 0, 75, 75),
        (small.id, 50, 0, 50),
    ]
    assert [view.loan.id for view in rows[0].overdue_loans] == [late_loan.id]
    assert rows[1].overdue_loans == []
