"""Every adapter stores an account's typed lines with their allocations, and loans' statuses."""

from __future__ import annotations

from datetime import timedelta

from application.queries import LoanFilter, PageRequest
from domain.ledger import Account, Allocation, ChargeType, EntryKind
from domain.loans import LoanState, LoanStatus
from tests.contract.builders import DAY, POLICY, T0, book, copy, fine, loan, member, store
from tests.contract.conftest import UowFactory


def test_lines_keep_their_type_target_and_allocations_in_order(new_uow: UowFactory) -> None:
    reader = member()
    first, second = fine(reader, 100), fine(reader, 300, now=T0 + DAY)
    store(new_uow, reader, first, second)
    account = Account(reader.id, [first, second])
    later = T0 + 2 * DAY
    paid = account.pay(id="p" + first.id[1:], amount_cents=250, now=later)
    refunded = account.refund(
        id="r" + first.id[1:], payment_id=paid.id, reason="twice", now=later, amount_cents=200
    )
    waived = account.waive(
        id="w" + first.id[1:], charge_id=second.id, reason="kind", now=later, amount_cents=50
    )
    manual = account.post(
        id="m" + first.id[1:], charge_type=ChargeType.MANUAL, amount_cents=75, now=later
    )
    store(new_uow, paid, refunded, waived, manual)

    with new_uow() as uow:
        stored = uow.ledger.for_member(reader.id)
        # Oldest first; lines made in one instant come in id order.
        later_ones = sorted([paid, refunded, waived, manual], key=lambda e: e.id)
        assert stored == [first, second, *later_ones]
        by_id = {e.id: e for e in stored}
        assert by_id[paid.id].allocations == (
            Allocation(first.id, 100),
            Allocation(second.id, 150),
        )
        assert by_id[refunded.id].allocations == (
            Allocation(second.id, 150),
            Allocation(first.id, 50),
        )
        assert (by_id[refunded.id].kind, by_id[refunded.id].target_id) == (
            EntryKind.REFUND,
            paid.id,
        )
        assert by_id[manual.id].charge_type is ChargeType.MANUAL
        # Charges and refunds add, payments and waivers take away.
        assert uow.ledger.balance(reader.id) == 100 + 300 - 250 + 200 - 50 + 75
        assert uow.ledger.balances() == {reader.id: 375}
        assert Account(reader.id, stored).balance_cents == 375


def test_a_members_lines_are_removed_with_their_allocations(new_uow: UowFactory) -> None:
    reader = member()
    charged = fine(reader, 100)
    store(new_uow, reader, charged)
    paid = Account(reader.id, [charged]).pay(id="p" + charged.id[1:], amount_cents=100, now=T0)
    store(new_uow, paid)
    with new_uow() as uow:
        for entry in uow.ledger.for_member(reader.id):
            uow.ledger.remove(entry)
        uow.commit()
    with new_uow() as uow:
        assert uow.ledger.for_member(reader.id) == []


def test_loan_statuses_filter_and_the_lost_loan_of_a_copy(new_uow: UowFactory) -> None:
    b = book()
    c1, c2, c3 = copy(b), copy(b), copy(b)
    reader = member()
    lost, disputed, returned = loan(c1, reader), loan(c2, reader), loan(c3, reader)
    lost.declare_lost(T0 + 30 * DAY, POLICY)
    disputed.claim_returned(T0 + 22 * DAY)
    returned.close(T0 + DAY, POLICY)
    store(new_uow, b, c1, c2, c3, reader)
    store(new_uow, lost, disputed, returned)

    page = PageRequest(1, 10)
    with new_uow() as uow:
        assert uow.loans.get(lost.id) == lost
        stored = uow.loans.get(disputed.id)
        assert stored is not None
        assert (stored.status, stored.claimed_returned_at) == (
            LoanStatus.CLAIMED_RETURNED,
            T0 + 22 * DAY,
        )
        for state, expected in (
            (LoanState.LOST, [lost.id]),
            (LoanState.CLAIMED_RETURNED, [disputed.id]),
            (LoanState.RETURNED, [returned.id]),
            (LoanState.OPEN, [disputed.id]),
        ):
            found = uow.loans.list(LoanFilter(state=state), page, T0 + 40 * DAY)
            assert [item.id for item in found.items] == expected, state
        # A disputed loan is not overdue, however late.
        assert uow.loans.overdue(T0 + 40 * DAY) == []
        assert uow.loans.list(LoanFilter(state=LoanState.OVERDUE), page, T0 + 40 * DAY).total == 0
        assert uow.loans.lost_for_copy(c1.id) == lost
        assert uow.loans.lost_for_copy(c3.id) is None
        assert uow.loans.lost_for_copy(c2.id) is None


def test_a_copy_lent_again_after_it_was_found_has_no_lost_loan(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    reader = member()
    first = loan(c, reader)
    first.declare_lost(T0 + DAY, POLICY)
    second = loan(c, reader, now=T0 + 5 * DAY)
    second.close(T0 + 6 * DAY + timedelta(hours=1), POLICY)
    store(new_uow, b, c, reader)
    store(new_uow, first, second)
    with new_uow() as uow:
        assert uow.loans.lost_for_copy(c.id) is None
