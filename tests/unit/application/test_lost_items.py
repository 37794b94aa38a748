"""Lost items: declared lost, claimed returned, aged to lost, and found again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from application.losses import LostItems
from domain.catalogue import CopyStatus
from domain.errors import (
    CopyLostOnLoan,
    CopyNotLost,
    LoanAlreadyReturned,
    LoanDisputed,
    LoanNotFound,
    NoOpenLoan,
    PaymentExceedsBalance,
)
from domain.events import (
    ChargeCancelled,
    ChargePosted,
    LoanClaimedReturned,
    LoanDeclaredLost,
    LostCopyRecovered,
    PaymentRefunded,
)
from domain.holds import HoldStatus
from domain.ledger import ChargeType, EntryKind, FoundReplacementFee
from domain.loans import LoanStatus
from tests.unit.support import DAY, App, build_app

FEES = {"replacement_fee_cents": 2500, "processing_fee_cents": 500}


@pytest.fixture
def app() -> App:
    app = build_app()
    app.rules.change_rule("default", **FEES)
    return app


def lent(app: App, copies: int = 1) -> tuple[str, str, str]:
    """(member id, loan id, copy id) of a fresh loan."""
    member = app.add_member()
    book = app.add_book(copies=copies)
    loan = app.circulation.borrow(member.id, copy_id=book.copies[0].id)
    return member.id, loan.id, loan.copy_id


def test_declaring_a_loan_lost_closes_it_loses_the_copy_and_charges_the_fees(app: App) -> None:
    member_id, loan_id, copy_id = lent(app)
    app.advance(app.policy.loan_period + 3 * DAY)
    app.publisher.clear()

    outcome = app.lost_items.declare_lost(loan_id)

    loan = app.loan(loan_id)
    assert (loan.status, loan.returned_at, loan.fine_cents) == (LoanStatus.LOST, app.now(), 75)
    assert app.copy(copy_id).status is CopyStatus.LOST
    assert [(c.charge_type, c.amount_cents, c.loan_id) for c in outcome.charges] == [
        (ChargeType.OVERDUE, 75, loan_id),
        (ChargeType.LOST, 2500, loan_id),
        (ChargeType.PROCESSING, 500, loan_id),
    ]
    assert app.accounts.statement(member_id).balance_cents == 3075
    [lost] = app.publisher.of_type(LoanDeclaredLost)
    assert (lost.member_id, lost.replacement_fee_cents, lost.processing_fee_cents) == (
        member_id,
        2500,
        500,
    )
    assert not lost.aged
    assert len(app.publisher.of_type(ChargePosted)) == 3
    with pytest.raises(LoanAlreadyReturned):
        app.lost_items.declare_lost(loan_id)
    with pytest.raises(LoanNotFound):
        app.lost_items.declare_lost("nope")


def test_a_lost_copy_serves_no_hold(app: App) -> None:
    _, loan_id, copy_id = lent(app)
    waiting = app.circulation.place_hold(app.add_member().id, app.loan(loan_id).book_id)
    app.lost_items.declare_lost(loan_id)
    assert app.hold(waiting.hold.id).status is HoldStatus.WAITING
    assert app.copy(copy_id).status is CopyStatus.LOST


def test_only_posted_charges_may_be_paid_and_a_fee_free_rule_charges_only_the_fine() -> None:
    app = build_app()  # the default rule: no replacement or processing fee
    member_id, loan_id, _ = lent(app)
    app.advance(app.policy.loan_period + DAY)
    with pytest.raises(PaymentExceedsBalance):
        app.accounts.record_payment(member_id, 25)
    outcome = app.lost_items.declare_lost(loan_id)
    assert [c.charge_type for c in outcome.charges] == [ChargeType.OVERDUE]
    app.accounts.record_payment(member_id, 25)


def test_a_claimed_return_freezes_the_fine_until_the_loan_is_resolved(app: App) -> None:
    member_id, loan_id, copy_id = lent(app)
    app.advance(app.policy.loan_period + 2 * DAY)
    app.lost_items.claim_returned(loan_id)
    assert app.publisher.of_type(LoanClaimedReturned)[-1].loan_id == loan_id
    with pytest.raises(LoanDisputed):
        app.lost_items.claim_returned(loan_id)
    with pytest.raises(LoanDisputed):
        app.circulation.renew(loan_id)
    app.advance(10 * DAY)

    statement = app.accounts.statement(member_id)
    assert [a.fine_cents for a in statement.accruing] == [50]  # frozen at the claim
    # A disputed loan blocks nothing: the member may borrow while a librarian looks.
    app.circulation.borrow(member_id, book_id=app.add_book().book.id)

    returned = app.circulation.return_loan(loan_id)  # found on the shelf
    assert (returned.status, returned.fine_cents) == (LoanStatus.RETURNED, 50)
    assert app.copy(copy_id).status is CopyStatus.AVAILABLE


def test_a_disputed_loan_declared_lost_is_fined_to_the_claim(app: App) -> None:
    _, loan_id, _ = lent(app)
    app.advance(app.policy.loan_period + DAY)
    app.lost_items.claim_returned(loan_id)
    app.advance(30 * DAY)
    outcome = app.lost_items.declare_lost(loan_id)
    assert outcome.charges[0].amount_cents == 25


@pytest.mark.parametrize(
    ("policy", "cancelled", "refunded"),
    [(FoundReplacementFee.REFUND, 2500, 1000), (FoundReplacementFee.CANCEL, 1500, 0)],
)
def test_a_found_copy_goes_to_the_first_waiting_hold_and_its_fee_is_settled(
    policy: FoundReplacementFee, cancelled: int, refunded: int
) -> None:
    app = build_app(replace(build_app().policy, found_replacement_fee=policy))
    app.rules.change_rule("default", **FEES)
    member_id, loan_id, copy_id = lent(app)
    waiting = app.circulation.place_hold(app.add_member().id, app.loan(loan_id).book_id)
    app.advance(app.policy.loan_period + 4 * DAY)
    app.lost_items.declare_lost(loan_id)
    app.accounts.record_payment(member_id, 100 + 1000)  # the fine, then part of the fee
    app.publisher.clear()

    recovery = app.lost_items.recover_lost_copy(copy_id)

    assert (recovery.loan_id, recovery.cancelled_cents, recovery.refunded_cents) == (
        loan_id,
        cancelled,
        refunded,
    )
    assert recovery.hold is not None
    assert recovery.hold.id == waiting.hold.id
    assert app.copy(copy_id).status is CopyStatus.ON_HOLD_SHELF
    assert app.hold(waiting.hold.id).status is HoldStatus.READY
    statement = app.accounts.statement(member_id)
    assert statement.balance_cents == 500  # the processing fee stays
    fine = statement.charges[0]
    assert (fine.charge.charge_type, fine.remaining_cents) == (ChargeType.OVERDUE, 0)
    assert len(app.publisher.of_type(PaymentRefunded)) == (1 if refunded else 0)
    assert len(app.publisher.of_type(ChargeCancelled)) == 1
    [found] = app.publisher.of_type(LostCopyRecovered)
    assert (found.member_id, found.cancelled_cents, found.refunded_cents) == (
        member_id,
        cancelled,
        refunded,
    )
    with pytest.raises(CopyNotLost):
        app.lost_items.recover_lost_copy(copy_id)


def test_a_copy_lost_from_the_shelf_is_found_without_money(app: App) -> None:
    copy = app.add_book().copies[0]
    app.catalogue.mark_copy_lost(copy.id)
    recovery = app.lost_items.recover_lost_copy(copy.id)
    assert (recovery.loan_id, recovery.hold) == (None, None)
    assert app.copy(copy.id).status is CopyStatus.AVAILABLE


def test_the_daily_job_ages_long_overdue_loans_to_lost() -> None:
    app = build_app(replace(build_app().policy, lost_after_days_overdue=30))
    lost_items = LostItems(app.uow, app.clock, app.ids, app.policy)
    _, old_id, _ = lent(app)
    _, disputed_id, _ = lent(app)
    app.lost_items.claim_returned(disputed_id)
    app.advance(app.policy.loan_period + 29 * DAY)
    _, young_id, _ = lent(app)
    assert lost_items.age_to_lost() == []
    app.advance(2 * DAY)

    aged = lost_items.age_to_lost()

    assert [loan.id for loan in aged] == [old_id]
    assert app.loan(old_id).status is LoanStatus.LOST
    assert app.loan(disputed_id).status is LoanStatus.CLAIMED_RETURNED
    assert app.loan(young_id).status is LoanStatus.OPEN
    assert app.publisher.of_type(LoanDeclaredLost)[-1].aged
    assert LostItems(app.uow, app.clock, app.ids, build_app().policy).age_to_lost() == []


def test_money_lines_have_their_kinds(app: App) -> None:
    member_id, loan_id, _ = lent(app)
    app.lost_items.declare_lost(loan_id)
    kinds = {e.kind for e in app.ledger() if e.member_id == member_id}
    assert kinds == {EntryKind.CHARGE}


def test_a_copy_lost_on_loan_is_not_found_by_a_status_change(app: App) -> None:
    _, loan_id, copy_id = lent(app)
    app.lost_items.declare_lost(loan_id)
    with pytest.raises(CopyLostOnLoan) as refused:
        app.catalogue.mark_copy_found(copy_id)
    assert refused.value.details == {"copy_id": copy_id, "loan_id": loan_id}
    assert app.copy(copy_id).status is CopyStatus.LOST


def test_a_lost_copy_checked_in_by_barcode_is_recovered_and_goes_to_the_hold(app: App) -> None:
    member_id, loan_id, copy_id = lent(app)
    waiter = app.add_member()
    waiting = app.circulation.place_hold(waiter.id, app.loan(loan_id).book_id)
    app.advance(app.policy.loan_period + 4 * DAY)
    app.lost_items.declare_lost(loan_id)

    check_in = app.circulation.return_copy(app.copy(copy_id).barcode)

    assert (check_in.loan.id, check_in.loan.status) == (loan_id, LoanStatus.LOST)
    assert check_in.slip is not None
    assert (check_in.slip.hold.id, check_in.slip.member.id) == (waiting.hold.id, waiter.id)
    assert app.copy(copy_id).status is CopyStatus.ON_HOLD_SHELF
    replacement = next(
        c
        for c in app.accounts.statement(member_id).charges
        if c.charge.charge_type is ChargeType.LOST
    )
    assert replacement.remaining_cents == 0  # the fee is settled as recover_lost_copy settles it


def test_a_copy_lost_from_the_shelf_is_not_checked_in(app: App) -> None:
    copy = app.add_book().copies[0]
    app.catalogue.mark_copy_lost(copy.id)
    before = app.snapshot()
    with pytest.raises(NoOpenLoan):
        app.circulation.return_copy(copy.barcode)
    assert app.snapshot() == before
