"""The rules in domain/circulation.py, each with its refusal code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import circulation
from domain.catalogue import Copy, CopyStatus
from domain.circulation import Standing
from domain.errors import (
    BookAlreadyOnLoan,
    BookNotCirculating,
    CopyNotAvailable,
    CopyOnLoan,
    CopyReservedForAnotherMember,
    DebtLimitReached,
    DomainError,
    HoldAlreadyPlaced,
    HoldLimitReached,
    LoanAlreadyReturned,
    LoanLimitReached,
    MemberHasOverdueLoans,
    MembershipExpired,
    MemberSuspended,
    NoCopyAvailable,
    RenewalBlockedByHold,
    RenewalBlockedOverdue,
    RenewalLimitReached,
)
from domain.holds import Hold, HoldStatus
from domain.ledger import EntryKind, LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy()


def member(member_id: str = "m1") -> Member:
    return Member.register(
        id=member_id,
        email=f"{member_id}@example.org",
        name=member_id,
        membership_expires_at=NOW + 365 * DAY,
        now=NOW - 30 * DAY,
    )


def copy(copy_id: str, status: CopyStatus = CopyStatus.AVAILABLE, book_id: str = "b1") -> Copy:
    made = Copy.create(id=copy_id, book_id=book_id, barcode=f"BC-{copy_id}", now=NOW - 30 * DAY)
    made.status = status
    return made


def loan(
    loan_id: str = "l1",
    *,
    member_id: str = "m1",
    copy_id: str = "cx",
    book_id: str = "b1",
    loaned_at: datetime = NOW - DAY,
) -> Loan:
    return Loan.start(
        id=loan_id,
        copy_id=copy_id,
        book_id=book_id,
        member_id=member_id,
        now=loaned_at,
        policy=POLICY,
    )


def hold(
    hold_id: str,
    member_id: str,
    *,
    book_id: str = "b1",
    placed: datetime = NOW - DAY,
    ready_copy: str | None = None,
) -> Hold:
    made = Hold.place(id=hold_id, book_id=book_id, member_id=member_id, now=placed)
    if ready_copy is not None:
        made.make_ready(ready_copy, placed, POLICY.pickup_window)
    return made


def standing(who: Member | None = None, loans: list[Loan] | None = None, owed: int = 0) -> Standing:
    return Standing(member=who or member(), open_loans=loans or [], balance_cents=owed)


class TestBalance:
    def test_fines_minus_payments_plus_accruing(self) -> None:
        entries = [
            LedgerEntry(
                id="e1", member_id="m1", kind=EntryKind.FINE, amount_cents=300, created_at=NOW
            ),
            LedgerEntry(
                id="e2", member_id="m1", kind=EntryKind.PAYMENT, amount_cents=100, created_at=NOW
            ),
        ]
        overdue = loan(loaned_at=NOW - POLICY.loan_period - 3 * DAY)
        on_time = loan("l2", copy_id="cy")
        returned = loan("l3", copy_id="cz", loaned_at=NOW - 60 * DAY)
        returned.close(NOW - DAY, POLICY)
        got = circulation.balance(entries, [overdue, on_time, returned], POLICY, NOW)
        assert got == 300 - 100 + 75

    def test_nothing_owed(self) -> None:
        assert circulation.balance([], [], POLICY, NOW) == 0


class TestEnsureMayBorrow:
    def test_a_member_in_good_standing_may_borrow(self) -> None:
        circulation.ensure_may_borrow(standing(), POLICY, NOW)

    def test_suspended(self) -> None:
        who = member()
        who.suspend(NOW)
        with pytest.raises(MemberSuspended):
            circulation.ensure_may_borrow(standing(who), POLICY, NOW)

    def test_expired(self) -> None:
        who = member()
        who.membership_expires_at = NOW
        with pytest.raises(MembershipExpired):
            circulation.ensure_may_borrow(standing(who), POLICY, NOW)

    def test_overdue_loan(self) -> None:
        late = loan(loaned_at=NOW - POLICY.loan_period - timedelta(seconds=1))
        with pytest.raises(MemberHasOverdueLoans) as refused:
            circulation.ensure_may_borrow(standing(loans=[late]), POLICY, NOW)
        assert refused.value.code == "MEMBER_HAS_OVERDUE_LOANS"
        assert refused.value.details == {"loan_ids": ["l1"]}

    def test_debt_blocks_at_the_limit_not_below(self) -> None:
        circulation.ensure_may_borrow(standing(owed=499), POLICY, NOW)
        with pytest.raises(DebtLimitReached) as refused:
            circulation.ensure_may_borrow(standing(owed=500), POLICY, NOW)
        assert refused.value.code == "DEBT_LIMIT_REACHED"
        assert refused.value.details == {"balance_cents": 500, "limit_cents": 500}

    def test_with_a_zero_debt_limit_any_debt_blocks_but_no_debt_does_not(self) -> None:
        strict = Policy(debt_limit_cents=0)
        circulation.ensure_may_borrow(standing(owed=0), strict, NOW)
        with pytest.raises(DebtLimitReached):
            circulation.ensure_may_borrow(standing(owed=1), strict, NOW)

    def test_loan_limit(self) -> None:
        loans = [loan(f"l{i}", copy_id=f"c{i}") for i in range(POLICY.max_open_loans)]
        circulation.ensure_may_borrow(standing(loans=loans[:-1]), POLICY, NOW)
        with pytest.raises(LoanLimitReached) as refused:
            circulation.ensure_may_borrow(standing(loans=loans), POLICY, NOW)
        assert refused.value.code == "LOAN_LIMIT_REACHED"
        assert refused.value.details == {"limit": 5}


class TestEnsureMayHold:
    def check(
        self,
        *,
        who: Standing | None = None,
        mine: list[Hold] | None = None,
        copies: list[Copy] | None = None,
    ) -> None:
        circulation.ensure_may_hold(
            who or standing(),
            mine or [],
            "b1",
            copies if copies is not None else [copy("c1", CopyStatus.ON_LOAN)],
            POLICY,
            NOW,
        )

    def test_allowed(self) -> None:
        self.check()

    def test_blocked_members_may_not_hold(self) -> None:
        who = member()
        who.suspend(NOW)
        with pytest.raises(MemberSuspended):
            self.check(who=standing(who))
        with pytest.raises(DebtLimitReached):
            self.check(who=standing(owed=500))
        late = loan(book_id="b9", loaned_at=NOW - 30 * DAY)
        with pytest.raises(MemberHasOverdueLoans):
            self.check(who=standing(loans=[late]))

    def test_duplicate(self) -> None:
        with pytest.raises(HoldAlreadyPlaced) as refused:
            self.check(mine=[hold("h1", "m1")])
        assert refused.value.code == "HOLD_ALREADY_PLACED"

    def test_book_already_on_loan_to_the_member(self) -> None:
        with pytest.raises(BookAlreadyOnLoan) as refused:
            self.check(who=standing(loans=[loan()]))
        assert refused.value.code == "BOOK_ALREADY_ON_LOAN_TO_MEMBER"

    def test_hold_limit(self) -> None:
        others = [hold(f"h{i}", "m1", book_id=f"b{i + 10}") for i in range(POLICY.max_holds)]
        self.check(mine=others[:-1])
        with pytest.raises(HoldLimitReached) as refused:
            self.check(mine=others)
        assert refused.value.code == "HOLD_LIMIT_REACHED"

    @pytest.mark.parametrize(
        "statuses",
        [[], [CopyStatus.LOST], [CopyStatus.WITHDRAWN, CopyStatus.LOST]],
    )
    def test_book_not_circulating(self, statuses: list[CopyStatus]) -> None:
        copies = [copy(f"c{i}", status) for i, status in enumerate(statuses)]
        with pytest.raises(BookNotCirculating) as refused:
            self.check(copies=copies)
        assert refused.value.code == "BOOK_NOT_CIRCULATING"

    def test_one_circulating_copy_is_enough(self) -> None:
        self.check(copies=[copy("c1", CopyStatus.LOST), copy("c2", CopyStatus.ON_HOLD_SHELF)])


class TestChooseCopy:
    def test_asked_for_an_available_copy(self) -> None:
        copies = [copy("c1"), copy("c2")]
        assert circulation.choose_copy("m1", copies, [], "c2") is copies[1]

    def test_asked_for_a_copy_of_another_book(self) -> None:
        with pytest.raises(CopyNotAvailable) as refused:
            circulation.choose_copy("m1", [copy("c1")], [], "elsewhere")
        assert refused.value.code == "COPY_NOT_AVAILABLE"

    @pytest.mark.parametrize("status", [CopyStatus.ON_LOAN, CopyStatus.LOST, CopyStatus.WITHDRAWN])
    def test_asked_for_a_copy_that_cannot_be_lent(self, status: CopyStatus) -> None:
        with pytest.raises(CopyNotAvailable) as refused:
            circulation.choose_copy("m1", [copy("c1", status)], [], "c1")
        assert refused.value.details["status"] == str(status)

    def test_asked_for_the_copy_set_aside_for_me(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m1", ready_copy="c1")]
        assert circulation.choose_copy("m1", copies, holds, "c1") is copies[0]

    def test_asked_for_a_copy_set_aside_for_someone_else(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m2", ready_copy="c1")]
        with pytest.raises(CopyReservedForAnotherMember) as refused:
            circulation.choose_copy("m1", copies, holds, "c1")
        assert refused.value.code == "COPY_RESERVED_FOR_ANOTHER_MEMBER"

    def test_by_book_my_set_aside_copy_comes_first(self) -> None:
        copies = [copy("c1"), copy("c2", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m1", ready_copy="c2")]
        assert circulation.choose_copy("m1", copies, holds, None).id == "c2"

    def test_by_book_the_free_copy_with_the_lowest_barcode(self) -> None:
        copies = [copy("c3"), copy("c1", CopyStatus.ON_LOAN), copy("c2")]
        assert circulation.choose_copy("m1", copies, [], None).id == "c2"

    def test_by_book_never_someone_elses_set_aside_copy(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2", CopyStatus.ON_LOAN)]
        holds = [hold("h1", "m2", ready_copy="c1")]
        with pytest.raises(NoCopyAvailable) as refused:
            circulation.choose_copy("m1", copies, holds, None)
        assert refused.value.code == "NO_COPY_AVAILABLE"


class TestLend:
    def test_lend_a_free_copy(self) -> None:
        copies = [copy("c1")]
        made, ready = circulation.lend(
            loan_id="l9",
            standing=standing(),
            copy=copies[0],
            book_holds=[],
            copies=copies,
            policy=POLICY,
            now=NOW,
        )
        assert (made.id, made.copy_id, made.book_id, made.member_id) == ("l9", "c1", "b1", "m1")
        assert made.due_at == NOW + POLICY.loan_period
        assert copies[0].status is CopyStatus.ON_LOAN
        assert ready == []

    def test_lending_fulfils_the_members_hold(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        mine = hold("h1", "m1", ready_copy="c1")
        circulation.lend(
            loan_id="l9",
            standing=standing(),
            copy=copies[0],
            book_holds=[mine],
            copies=copies,
            policy=POLICY,
            now=NOW,
        )
        assert mine.status is HoldStatus.FULFILLED
        assert mine.closed_at == NOW

    def test_a_different_copy_passes_my_set_aside_one_to_the_next_in_line(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        mine = hold("h1", "m1", ready_copy="c1")
        theirs = hold("h2", "m2", placed=NOW - timedelta(hours=1))
        _, ready = circulation.lend(
            loan_id="l9",
            standing=standing(),
            copy=copies[1],
            book_holds=[mine, theirs],
            copies=copies,
            policy=POLICY,
            now=NOW,
        )
        assert mine.status is HoldStatus.FULFILLED
        assert ready == [theirs]
        assert theirs.copy_id == "c1"
        assert copies[0].status is CopyStatus.ON_HOLD_SHELF

    def test_refused_lending_changes_nothing(self) -> None:
        copies = [copy("c1")]
        with pytest.raises(DebtLimitReached):
            circulation.lend(
                loan_id="l9",
                standing=standing(owed=10_000),
                copy=copies[0],
                book_holds=[],
                copies=copies,
                policy=POLICY,
                now=NOW,
            )
        assert copies[0].status is CopyStatus.AVAILABLE

    def test_a_copy_on_loan_cannot_be_lent_again(self) -> None:
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        with pytest.raises(CopyOnLoan):
            circulation.lend(
                loan_id="l9",
                standing=standing(),
                copy=copies[0],
                book_holds=[],
                copies=copies,
                policy=POLICY,
                now=NOW,
            )


class TestRenew:
    def renew(
        self, out: Loan, holds: list[Hold], copies: list[Copy], who: Member | None = None
    ) -> None:
        circulation.renew(out, who or member(), holds, copies, POLICY, NOW)

    def test_renew_extends_by_a_loan_period(self) -> None:
        out = loan()
        due = out.due_at
        self.renew(out, [], [copy("cx", CopyStatus.ON_LOAN)])
        assert out.due_at == due + POLICY.loan_period
        assert out.renewals == 1

    def test_renewal_limit(self) -> None:
        out = loan()
        out.renewals = POLICY.max_renewals
        with pytest.raises(RenewalLimitReached) as refused:
            self.renew(out, [], [])
        assert refused.value.code == "RENEWAL_LIMIT_REACHED"
        assert out.renewals == POLICY.max_renewals

    def test_overdue(self) -> None:
        out = loan(loaned_at=NOW - POLICY.loan_period - timedelta(seconds=1))
        with pytest.raises(RenewalBlockedOverdue) as refused:
            self.renew(out, [], [])
        assert refused.value.code == "RENEWAL_BLOCKED_OVERDUE"

    def test_returned(self) -> None:
        out = loan()
        out.close(NOW, POLICY)
        with pytest.raises(LoanAlreadyReturned):
            self.renew(out, [], [])

    def test_suspended_member(self) -> None:
        who = member()
        who.suspend(NOW)
        with pytest.raises(MemberSuspended):
            self.renew(loan(), [], [], who)

    def test_blocked_when_someone_waits_and_no_copy_is_free(self) -> None:
        out = loan()
        due = out.due_at
        with pytest.raises(RenewalBlockedByHold) as refused:
            self.renew(out, [hold("h1", "m2")], [copy("cx", CopyStatus.ON_LOAN)])
        assert refused.value.code == "RENEWAL_BLOCKED_BY_HOLD"
        assert refused.value.details == {"loan_id": "l1", "waiting": 1}
        assert out.due_at == due
        assert out.renewals == 0

    def test_allowed_when_a_free_copy_can_serve_the_waiting_member(self) -> None:
        out = loan()
        self.renew(out, [hold("h1", "m2")], [copy("cx", CopyStatus.ON_LOAN), copy("c2")])
        assert out.renewals == 1

    def test_allowed_when_the_others_already_have_a_copy_set_aside(self) -> None:
        out = loan()
        copies = [copy("cx", CopyStatus.ON_LOAN), copy("c2", CopyStatus.ON_HOLD_SHELF)]
        self.renew(out, [hold("h1", "m2", ready_copy="c2")], copies)
        assert out.renewals == 1


class TestAllocate:
    def test_first_come_first_served_lowest_barcode_first(self) -> None:
        copies = [copy("c2"), copy("c1"), copy("c3", CopyStatus.ON_LOAN)]
        late = hold("h-late", "m3", placed=NOW - timedelta(hours=1))
        early = hold("h-early", "m1", placed=NOW - 3 * DAY)
        middle = hold("h-middle", "m2", placed=NOW - 2 * DAY)
        ready = circulation.allocate(copies, [late, early, middle], POLICY, NOW)
        assert ready == [early, middle]
        assert (early.copy_id, middle.copy_id) == ("c1", "c2")
        assert late.status is HoldStatus.WAITING
        assert early.pickup_by == NOW + POLICY.pickup_window
        assert all(c.status is not CopyStatus.AVAILABLE for c in copies)

    def test_ready_holds_are_left_alone(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        served = hold("h1", "m1", ready_copy="c1", placed=NOW - 2 * DAY)
        assert circulation.allocate(copies, [served], POLICY, NOW) == []
        assert served.copy_id == "c1"
        assert copies[1].status is CopyStatus.AVAILABLE

    def test_nothing_free(self) -> None:
        waiting = hold("h1", "m1")
        assert circulation.allocate([copy("c1", CopyStatus.LOST)], [waiting], POLICY, NOW) == []
        assert waiting.status is HoldStatus.WAITING


class TestTakeBack:
    def test_the_fine_is_assessed_and_the_copy_shelved(self) -> None:
        out = loan(copy_id="c1", loaned_at=NOW - POLICY.loan_period - 2 * DAY)
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        fine, ready = circulation.take_back(out, copies[0], [], copies, POLICY, NOW)
        assert fine == 50
        assert out.returned_at == NOW
        assert copies[0].status is CopyStatus.AVAILABLE
        assert ready == []

    def test_the_copy_goes_to_the_first_in_line(self) -> None:
        out = loan(copy_id="c1")
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        first = hold("h1", "m2", placed=NOW - 2 * DAY)
        second = hold("h2", "m3", placed=NOW - DAY)
        fine, ready = circulation.take_back(out, copies[0], [second, first], copies, POLICY, NOW)
        assert fine == 0
        assert ready == [first]
        assert copies[0].status is CopyStatus.ON_HOLD_SHELF
        assert second.status is HoldStatus.WAITING

    def test_returning_twice_is_refused(self) -> None:
        out = loan(copy_id="c1")
        out.close(NOW, POLICY)
        copies = [copy("c1")]
        with pytest.raises(LoanAlreadyReturned):
            circulation.take_back(out, copies[0], [], copies, POLICY, NOW)
        assert copies[0].status is CopyStatus.AVAILABLE


class TestReleaseHold:
    @pytest.mark.parametrize("expired", [False, True])
    def test_a_set_aside_copy_passes_down_the_queue(self, expired: bool) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        first = hold("h1", "m1", ready_copy="c1", placed=NOW - 2 * DAY)
        second = hold("h2", "m2", placed=NOW - DAY)
        ready = circulation.release_hold(
            first, copies, [first, second], POLICY, NOW, expired=expired
        )
        assert first.status is (HoldStatus.EXPIRED if expired else HoldStatus.CANCELLED)
        assert ready == [second]
        assert second.copy_id == "c1"
        assert copies[0].status is CopyStatus.ON_HOLD_SHELF

    def test_a_set_aside_copy_with_nobody_waiting_goes_back_on_the_shelf(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        only = hold("h1", "m1", ready_copy="c1")
        assert circulation.release_hold(only, copies, [only], POLICY, NOW, expired=False) == []
        assert copies[0].status is CopyStatus.AVAILABLE

    def test_cancelling_a_waiting_hold(self) -> None:
        waiting = hold("h1", "m1")
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        assert (
            circulation.release_hold(waiting, copies, [waiting], POLICY, NOW, expired=False) == []
        )
        assert waiting.status is HoldStatus.CANCELLED

    def test_a_waiting_hold_cannot_expire(self) -> None:
        waiting = hold("h1", "m1")
        with pytest.raises(DomainError) as refused:
            circulation.release_hold(waiting, [], [waiting], POLICY, NOW, expired=True)
        assert refused.value.code == "HOLD_NOT_ACTIVE"
        assert waiting.status is HoldStatus.WAITING


class TestWithdrawFromCirculation:
    @pytest.mark.parametrize(
        ("lost", "status"), [(True, CopyStatus.LOST), (False, CopyStatus.WITHDRAWN)]
    )
    def test_the_holder_of_a_set_aside_copy_waits_again(
        self, lost: bool, status: CopyStatus
    ) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2", CopyStatus.ON_LOAN)]
        holder = hold("h1", "m1", ready_copy="c1")
        ready = circulation.withdraw_from_circulation(
            copies[0], [holder], copies, POLICY, NOW, lost=lost
        )
        assert copies[0].status is status
        assert holder.status is HoldStatus.WAITING
        assert ready == []

    def test_the_holder_gets_another_free_copy_at_once(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        holder = hold("h1", "m1", ready_copy="c1")
        ready = circulation.withdraw_from_circulation(
            copies[0], [holder], copies, POLICY, NOW, lost=True
        )
        assert ready == [holder]
        assert holder.copy_id == "c2"

    def test_a_copy_on_loan_cannot_be_marked_lost(self) -> None:
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        with pytest.raises(CopyOnLoan):
            circulation.withdraw_from_circulation(copies[0], [], copies, POLICY, NOW, lost=True)
        assert copies[0].status is CopyStatus.ON_LOAN
