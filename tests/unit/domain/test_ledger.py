"""The account: typed charges, credits allocated to them, and a balance that is its lines."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import (
    AmountExceedsCharge,
    ChargeNotFound,
    ChargeSettled,
    DomainError,
    InvalidValue,
    PaymentExceedsBalance,
    PaymentNotFound,
    RefundExceedsPayment,
)
from domain.events import ChargeCancelled, ChargePosted, ChargeWaived, PaymentRefunded
from domain.ledger import (
    Account,
    Allocation,
    ChargeType,
    EntryKind,
    FoundReplacementFee,
    LedgerEntry,
)

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)


class Ids:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self) -> str:
        return f"line-{next(self._n):04d}"


def account_with(*charges: int, loan_id: str | None = None) -> tuple[Account, Ids]:
    ids = Ids()
    account = Account("m1", [])
    for cents in charges:
        account.post(
            id=ids(), charge_type=ChargeType.OVERDUE, amount_cents=cents, now=NOW, loan_id=loan_id
        )
    return account, ids


def remaining(account: Account) -> list[int]:
    return [c.remaining_cents for c in account.charges()]


def test_a_payment_goes_to_the_oldest_charges_first() -> None:
    account, ids = account_with(100, 200, 300)
    payment = account.pay(id=ids(), amount_cents=250, now=NOW)
    assert payment.allocations == (Allocation("line-0001", 100), Allocation("line-0002", 150))
    assert remaining(account) == [0, 50, 300]
    assert account.balance_cents == 350


def test_a_payment_may_name_its_charge_and_no_more_than_it_owes() -> None:
    account, ids = account_with(100, 200)
    account.pay(id=ids(), amount_cents=150, now=NOW, charge_id="line-0002")
    assert remaining(account) == [100, 50]
    with pytest.raises(AmountExceedsCharge) as refused:
        account.pay(id=ids(), amount_cents=60, now=NOW, charge_id="line-0002")
    assert refused.value.details == {"charge_id": "line-0002", "remaining_cents": 50}
    with pytest.raises(ChargeNotFound):
        account.pay(id=ids(), amount_cents=1, now=NOW, charge_id="nope")


def test_no_payment_exceeds_what_is_posted() -> None:
    account, ids = account_with(100)
    with pytest.raises(PaymentExceedsBalance) as refused:
        account.pay(id=ids(), amount_cents=101, now=NOW)
    assert refused.value.details == {"balance_cents": 100}
    with pytest.raises(PaymentExceedsBalance):
        Account("m2", []).pay(id=ids(), amount_cents=1, now=NOW)


def test_a_waiver_forgives_part_or_all_of_a_charge_with_a_reason() -> None:
    account, ids = account_with(300)
    with pytest.raises(InvalidValue) as no_reason:
        account.waive(id=ids(), charge_id="line-0001", reason="  ", now=NOW)
    assert no_reason.value.field == "reason"
    waiver = account.waive(
        id=ids(), charge_id="line-0001", reason="first offence", now=NOW, amount_cents=100
    )
    assert (waiver.kind, waiver.target_id, waiver.note) == (
        EntryKind.WAIVER,
        "line-0001",
        "first offence",
    )
    account.waive(id=ids(), charge_id="line-0001", reason="the rest", now=NOW)
    assert remaining(account) == [0]
    with pytest.raises(ChargeSettled):
        account.waive(id=ids(), charge_id="line-0001", reason="again", now=NOW)
    assert [type(e) for e in account.pull_events()] == [ChargePosted, ChargeWaived, ChargeWaived]


def test_a_cancellation_takes_back_what_remains_and_leaves_what_was_paid() -> None:
    account, ids = account_with(300)
    account.pay(id=ids(), amount_cents=100, now=NOW)
    cancelled = account.cancel(id=ids(), charge_id="line-0001", reason="wrong member", now=NOW)
    assert cancelled.amount_cents == 200
    [charge] = account.charges()
    assert (charge.paid_cents, charge.cancelled_cents, charge.remaining_cents) == (100, 200, 0)
    assert isinstance(account.pull_events()[-1], ChargeCancelled)


def test_a_refund_reopens_the_charges_the_payment_paid_last_first() -> None:
    account, ids = account_with(100, 200)
    payment = account.pay(id=ids(), amount_cents=250, now=NOW)
    refund = account.refund(
        id=ids(), payment_id=payment.id, reason="paid twice", now=NOW, amount_cents=175
    )
    assert refund.allocations == (Allocation("line-0002", 150), Allocation("line-0001", 25))
    assert remaining(account) == [25, 200]
    assert account.balance_cents == 225
    with pytest.raises(RefundExceedsPayment) as refused:
        account.refund(id=ids(), payment_id=payment.id, reason="more", now=NOW, amount_cents=76)
    assert refused.value.details["refundable_cents"] == 75
    account.refund(id=ids(), payment_id=payment.id, reason="the rest", now=NOW)
    assert remaining(account) == [100, 200]
    with pytest.raises(PaymentNotFound):
        account.refund(id=ids(), payment_id="line-0001", reason="a charge", now=NOW)
    event = account.pull_events()[-1]
    assert isinstance(event, PaymentRefunded)
    assert (event.payment_id, event.amount_cents) == (payment.id, 75)


def test_a_migrated_overpayment_is_a_credit_refunded_first() -> None:
    charge = LedgerEntry(
        id="c1",
        member_id="m1",
        kind=EntryKind.CHARGE,
        charge_type=ChargeType.OVERDUE,
        amount_cents=100,
        created_at=NOW,
    )
    payment = LedgerEntry(
        id="p1",
        member_id="m1",
        kind=EntryKind.PAYMENT,
        amount_cents=150,
        created_at=NOW,
        allocations=(Allocation("c1", 100),),
    )
    account = Account("m1", [charge, payment])
    assert (account.balance_cents, account.credit_cents()) == (-50, 50)
    refund = account.refund(id="r1", payment_id="p1", reason="overpaid", now=NOW, amount_cents=50)
    assert refund.allocations == ()
    assert (account.balance_cents, account.credit_cents(), remaining(account)) == (0, 0, [0])


@pytest.mark.parametrize(
    ("policy", "cancelled", "refunded"),
    [(FoundReplacementFee.REFUND, 2500, 1000), (FoundReplacementFee.CANCEL, 1500, 0)],
)
def test_a_found_copy_cancels_or_refunds_its_replacement_fee(
    policy: FoundReplacementFee, cancelled: int, refunded: int
) -> None:
    account, ids = account_with(500, loan_id="loan-1")
    account.post(
        id=ids(), charge_type=ChargeType.LOST, amount_cents=2500, now=NOW, loan_id="loan-1"
    )
    account.pay(id=ids(), amount_cents=1500, now=NOW)  # the fine, then 1000 of the fee
    assert account.settle_found_replacement(
        loan_id="loan-1", policy=policy, new_id=ids, now=NOW
    ) == (cancelled, refunded)
    # The fine stays paid; of the fee nothing is owed, and under REFUND nothing was kept.
    assert remaining(account) == [0, 0]
    assert (account.balance_cents, account.credit_cents()) == (0, 0)
    fee = account.charges()[1]
    assert (fee.paid_cents, fee.cancelled_cents) == (1000 - refunded, cancelled)


def test_every_line_is_positive_and_only_charges_have_a_type() -> None:
    with pytest.raises(InvalidValue):
        LedgerEntry(id="x", member_id="m", kind=EntryKind.PAYMENT, amount_cents=0, created_at=NOW)
    with pytest.raises(InvalidValue) as typed:
        LedgerEntry(
            id="x",
            member_id="m",
            kind=EntryKind.PAYMENT,
            amount_cents=1,
            created_at=NOW,
            charge_type=ChargeType.MANUAL,
        )
    assert typed.value.field == "charge_type"
    with pytest.raises(InvalidValue):
        LedgerEntry(id="x", member_id="m", kind=EntryKind.CHARGE, amount_cents=1, created_at=NOW)


# --- the balance is the sum of the lines, whatever staff do ------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["charge", "pay", "pay_named", "waive", "cancel", "refund"]),
        st.integers(1, 3000),
        st.integers(0, 50),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_the_balance_is_always_the_sum_of_the_lines(steps: list[tuple[str, int, int]]) -> None:
    account, ids = account_with()
    for action, cents, pick in steps:
        charges = [c.charge.id for c in account.charges()]
        payments = [e.id for e in account.entries if e.kind is EntryKind.PAYMENT]
        before = list(account.entries)
        try:
            if action == "charge":
                account.post(id=ids(), charge_type=ChargeType.MANUAL, amount_cents=cents, now=NOW)
            elif action == "pay":
                account.pay(id=ids(), amount_cents=cents, now=NOW)
            elif charges and action == "pay_named":
                account.pay(
                    id=ids(), amount_cents=cents, now=NOW, charge_id=charges[pick % len(charges)]
                )
            elif charges and action == "waive":
                account.waive(
                    id=ids(), charge_id=charges[pick % len(charges)], reason="r", now=NOW,
                    amount_cents=cents,
                )  # fmt: skip
            elif charges and action == "cancel":
                account.cancel(
                    id=ids(), charge_id=charges[pick % len(charges)], reason="r", now=NOW
                )
            elif payments and action == "refund":
                account.refund(
                    id=ids(), payment_id=payments[pick % len(payments)], reason="r", now=NOW,
                    amount_cents=cents,
                )  # fmt: skip
        except DomainError:
            assert account.entries == before, "a refusal added a line"
        balance = account.balance_cents
        assert balance == sum(e.signed_cents for e in account.entries)
        assert balance == sum(c.remaining_cents for c in account.charges())
        assert balance >= 0
        assert all(0 <= c.remaining_cents <= c.charge.amount_cents for c in account.charges())
        assert account.credit_cents() == 0
        for entry in account.entries:
            assert sum(a.amount_cents for a in entry.allocations) == (
                0 if entry.kind is EntryKind.CHARGE else entry.amount_cents
            )
