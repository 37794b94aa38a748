"""Loans, overdue fines, ledger entries and the policy."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, LoanAlreadyReturned
from domain.ledger import ChargeType, EntryKind, LedgerEntry
from domain.loans import Loan, overdue_fine
from domain.policy import Policy

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy()


def a_loan(policy: Policy = POLICY) -> Loan:
    return Loan.start(id="l1", copy_id="c1", book_id="b1", member_id="m1", now=NOW, policy=policy)


class TestLoan:
    def test_start(self) -> None:
        loan = a_loan()
        assert loan.loaned_at == NOW
        assert loan.due_at == NOW + timedelta(days=21)
        assert loan.renewals == 0
        assert loan.is_open
        assert loan.returned_at is None
        assert loan.fine_cents == 0

    def test_start_requires_utc(self) -> None:
        with pytest.raises(InvalidValue):
            Loan.start(
                id="l1",
                copy_id="c1",
                book_id="b1",
                member_id="m1",
                now=datetime(2030, 1, 1),  # noqa: DTZ001
                policy=POLICY,
            )

    def test_overdue_only_strictly_after_the_due_instant(self) -> None:
        loan = a_loan()
        assert not loan.is_overdue(loan.due_at)
        assert loan.is_overdue(loan.due_at + timedelta(microseconds=1))

    def test_extend_pushes_the_due_date_one_period(self) -> None:
        loan = a_loan()
        loan.extend(POLICY)
        loan.extend(POLICY)
        assert loan.due_at == NOW + 3 * POLICY.loan_period
        assert loan.renewals == 2

    def test_close_assesses_the_fine(self) -> None:
        loan = a_loan()
        returned = loan.due_at + 2 * DAY + timedelta(hours=1)  # three started days
        assert loan.close(returned, POLICY) == 75
        assert loan.fine_cents == 75
        assert loan.returned_at == returned
        assert not loan.is_open
        assert not loan.is_overdue(returned + 100 * DAY)
        # A returned loan's fine is settled: time no longer changes it.
        assert loan.fine_at(returned + 100 * DAY, POLICY) == 75

    def test_close_on_time_costs_nothing(self) -> None:
        loan = a_loan()
        assert loan.close(loan.due_at, POLICY) == 0

    def test_close_twice_is_refused(self) -> None:
        loan = a_loan()
        loan.close(NOW, POLICY)
        with pytest.raises(LoanAlreadyReturned) as refused:
            loan.close(NOW + DAY, POLICY)
        assert refused.value.code == "LOAN_ALREADY_RETURNED"
        assert loan.returned_at == NOW

    def test_an_open_loan_accrues(self) -> None:
        loan = a_loan()
        assert loan.fine_at(loan.due_at, POLICY) == 0
        assert loan.fine_at(loan.due_at + timedelta(seconds=1), POLICY) == 25
        assert loan.fine_at(loan.due_at + 4 * DAY, POLICY) == 100
        assert loan.fine_at(loan.due_at + 400 * DAY, POLICY) == 1000


class TestAnonymise:
    def test_a_returned_loan_passes_to_the_anonymous_borrower(self) -> None:
        loan = a_loan()
        loan.close(NOW + DAY, POLICY)
        assert loan.anonymise("anon") is True
        assert loan.member_id == "anon"
        assert (loan.copy_id, loan.book_id, loan.returned_at) == ("c1", "b1", NOW + DAY)
        assert loan.anonymise("anon") is False

    def test_an_open_loan_keeps_its_borrower(self) -> None:
        loan = a_loan()
        assert loan.anonymise("anon") is False
        assert loan.member_id == "m1"


class TestOverdueFine:
    @pytest.mark.parametrize(
        ("late", "fine"),
        [
            (timedelta(0), 0),
            (-DAY, 0),
            (timedelta(microseconds=1), 25),
            (timedelta(hours=23, minutes=59), 25),
            (DAY, 25),
            (DAY + timedelta(microseconds=1), 50),
            (39 * DAY, 975),
            (40 * DAY, 1000),
            (40 * DAY + timedelta(seconds=1), 1000),
            (10_000 * DAY, 1000),
        ],
    )
    def test_examples(self, late: timedelta, fine: int) -> None:
        assert overdue_fine(NOW, NOW + late, POLICY) == fine

    policies = st.builds(
        Policy,
        fine_per_day_cents=st.integers(0, 500),
        fine_cap_cents=st.integers(0, 100_000),
    )
    # Up to a century late, to the microsecond.
    lateness = st.timedeltas(min_value=-36_500 * DAY, max_value=36_500 * DAY)

    @given(policies, lateness)
    def test_zero_unless_late(self, policy: Policy, late: timedelta) -> None:
        fine = overdue_fine(NOW, NOW + late, policy)
        if late <= timedelta(0):
            assert fine == 0
        assert 0 <= fine <= policy.fine_cap_cents

    @given(policies, lateness, lateness)
    def test_monotone_in_time(self, policy: Policy, a: timedelta, b: timedelta) -> None:
        early, late = sorted([a, b])
        assert overdue_fine(NOW, NOW + early, policy) <= overdue_fine(NOW, NOW + late, policy)

    @given(policies, lateness)
    def test_every_started_day_costs_the_daily_rate_up_to_the_cap(
        self, policy: Policy, late: timedelta
    ) -> None:
        fine = overdue_fine(NOW, NOW + late, policy)
        if late <= timedelta(0):
            return
        microseconds = late // timedelta(microseconds=1)
        days = -(-microseconds // (DAY // timedelta(microseconds=1)))  # exact ceiling
        uncapped = days * policy.fine_per_day_cents
        assert fine == min(uncapped, policy.fine_cap_cents)
        if uncapped < policy.fine_cap_cents:
            assert fine == math.ceil(late / DAY) * policy.fine_per_day_cents

    @given(lateness)
    def test_default_policy_caps_at_ten_euros_after_forty_days(self, late: timedelta) -> None:
        fine = overdue_fine(NOW, NOW + late, POLICY)
        assert fine % 25 == 0
        if late > 40 * DAY:
            assert fine == 1000


class TestLedgerEntry:
    def test_fines_are_positive_payments_negative(self) -> None:
        fine = LedgerEntry(
            id="e1",
            member_id="m1",
            kind=EntryKind.CHARGE,
            charge_type=ChargeType.OVERDUE,
            amount_cents=75,
            created_at=NOW,
        )
        payment = LedgerEntry(
            id="e2", member_id="m1", kind=EntryKind.PAYMENT, amount_cents=50, created_at=NOW
        )
        assert fine.signed_cents == 75
        assert payment.signed_cents == -50

    @pytest.mark.parametrize("amount", [0, -1, -100])
    def test_amount_must_be_positive(self, amount: int) -> None:
        with pytest.raises(InvalidValue) as refused:
            LedgerEntry(
                id="e1",
                member_id="m1",
                kind=EntryKind.CHARGE,
                charge_type=ChargeType.OVERDUE,
                amount_cents=amount,
                created_at=NOW,
            )
        assert refused.value.field == "amount_cents"

    def test_time_must_be_utc(self) -> None:
        with pytest.raises(InvalidValue) as refused:
            LedgerEntry(
                id="e1",
                member_id="m1",
                kind=EntryKind.PAYMENT,
                amount_cents=1,
                created_at=datetime(2030, 1, 1),  # noqa: DTZ001
            )
        assert refused.value.field == "created_at"

    def test_entries_are_immutable(self) -> None:
        entry = LedgerEntry(
            id="e1",
            member_id="m1",
            kind=EntryKind.CHARGE,
            charge_type=ChargeType.OVERDUE,
            amount_cents=1,
            created_at=NOW,
        )
        with pytest.raises(AttributeError):
            entry.amount_cents = 2  # type: ignore[misc]


class TestPolicy:
    def test_defaults(self) -> None:
        policy = Policy()
        assert policy.loan_period == timedelta(days=21)
        assert policy.max_open_loans == 5
        assert policy.max_renewals == 2
        assert policy.fine_per_day_cents == 25
        assert policy.fine_cap_cents == 1000
        assert policy.debt_limit_cents == 500
        assert policy.max_holds == 5
        assert policy.pickup_window == timedelta(days=7)
        assert policy.membership_period == timedelta(days=365)

    @pytest.mark.parametrize("field", ["loan_period", "pickup_window", "membership_period"])
    @pytest.mark.parametrize("value", [timedelta(0), -DAY])
    def test_periods_must_be_positive(self, field: str, value: timedelta) -> None:
        with pytest.raises(InvalidValue) as refused:
            Policy(**{field: value})  # type: ignore[arg-type]
        assert refused.value.field == field

    @pytest.mark.parametrize(
        "field",
        [
            "max_open_loans",
            "max_renewals",
            "fine_per_day_cents",
            "fine_cap_cents",
            "debt_limit_cents",
            "max_holds",
        ],
    )
    def test_counts_and_amounts_must_not_be_negative(self, field: str) -> None:
        with pytest.raises(InvalidValue) as refused:
            Policy(**{field: -1})  # type: ignore[arg-type]
        assert refused.value.field == field
        assert getattr(Policy(**{field: 0}), field) == 0  # type: ignore[arg-type]

    def test_policy_is_immutable(self) -> None:
        with pytest.raises(AttributeError):
            Policy().max_holds = 3  # type: ignore[misc]
