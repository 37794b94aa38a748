"""The rules in domain/circulation.py, each with its refusal code."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from domain import circulation
from domain.catalogue import Copy, CopyStatus
from domain.circulation import BookCirculation, Standing
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
    RenewalTooSoon,
)
from domain.events import (
    BookLent,
    BookReturned,
    CopyAdded,
    CopyStatusChanged,
    HoldClosed,
    HoldPlaced,
    HoldReady,
    LoanRenewed,
)
from domain.holds import Hold, HoldStatus
from domain.ledger import ChargeType, EntryKind, LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy
from domain.rules import RuleBook

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy()
RULES = RuleBook.from_policy(POLICY)


def member(member_id: str = "m1") -> Member:
    return Member.register(
        id=member_id,
        email=f"{member_id}@example.org",
        name=member_id,
        card_number=f"CARD-{member_id}",
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
    def test_the_ledger_balance_plus_what_open_loans_accrue(self) -> None:
        entries = [
            LedgerEntry(
                id="e1",
                member_id="m1",
                kind=EntryKind.CHARGE,
                charge_type=ChargeType.OVERDUE,
                amount_cents=300,
                created_at=NOW,
            ),
            LedgerEntry(
                id="e2", member_id="m1", kind=EntryKind.PAYMENT, amount_cents=100, created_at=NOW
            ),
        ]
        overdue = loan(loaned_at=NOW - POLICY.loan_period - 3 * DAY)
        on_time = loan("l2", copy_id="cy")
        returned = loan("l3", copy_id="cz", loaned_at=NOW - 60 * DAY)
        returned.close(NOW - DAY, POLICY)
        settled = sum(entry.signed_cents for entry in entries)
        got = circulation.balance(settled, [overdue, on_time, returned], RULES, "standard", NOW)
        assert got == 300 - 100 + 75

    def test_nothing_owed(self) -> None:
        assert circulation.balance(0, [], RULES, "standard", NOW) == 0


class TestEnsureMayBorrow:
    def test_a_member_in_good_standing_may_borrow(self) -> None:
        circulation.ensure_may_borrow(standing(), RULES, NOW)

    def test_suspended(self) -> None:
        who = member()
        who.suspend(NOW)
        with pytest.raises(MemberSuspended):
            circulation.ensure_may_borrow(standing(who), RULES, NOW)

    def test_expired(self) -> None:
        who = member()
        who.membership_expires_at = NOW
        with pytest.raises(MembershipExpired):
            circulation.ensure_may_borrow(standing(who), RULES, NOW)

    def test_overdue_loan(self) -> None:
        late = loan(loaned_at=NOW - POLICY.loan_period - timedelta(seconds=1))
        with pytest.raises(MemberHasOverdueLoans) as refused:
            circulation.ensure_may_borrow(standing(loans=[late]), RULES, NOW)
        assert refused.value.code == "MEMBER_HAS_OVERDUE_LOANS"
        assert refused.value.details == {"loan_ids": ["l1"]}

    def test_debt_blocks_at_the_limit_not_below(self) -> None:
        circulation.ensure_may_borrow(standing(owed=499), RULES, NOW)
        with pytest.raises(DebtLimitReached) as refused:
            circulation.ensure_may_borrow(standing(owed=500), RULES, NOW)
        assert refused.value.code == "DEBT_LIMIT_REACHED"
        assert refused.value.details == {"balance_cents": 500, "limit_cents": 500}

    def test_with_a_zero_debt_limit_any_debt_blocks_but_no_debt_does_not(self) -> None:
        strict = Policy(debt_limit_cents=0)
        circulation.ensure_may_borrow(standing(owed=0), RuleBook.from_policy(strict), NOW)
        with pytest.raises(DebtLimitReached):
            circulation.ensure_may_borrow(standing(owed=1), RuleBook.from_policy(strict), NOW)

    def test_loan_limit(self) -> None:
        loans = [loan(f"l{i}", copy_id=f"c{i}") for i in range(POLICY.max_open_loans)]
        circulation.ensure_may_borrow(standing(loans=loans[:-1]), RULES, NOW)
        with pytest.raises(LoanLimitReached) as refused:
            circulation.ensure_may_borrow(standing(loans=loans), RULES, NOW)
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
            RULES.default_rule,
            RULES,
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


def state(copies: list[Copy], holds: list[Hold] | None = None) -> BookCirculation:
    return BookCirculation(book_id="b1", copies=copies, holds=holds or [])


def ready_holds(book: BookCirculation) -> list[str]:
    """The holds the recorded events say became ready, in order."""
    return [e.hold_id for e in book.events if isinstance(e, HoldReady)]


class TestChooseCopy:
    def test_asked_for_an_available_copy(self) -> None:
        copies = [copy("c1"), copy("c2")]
        assert state(copies).choose_copy("m1", "c2") is copies[1]

    def test_asked_for_a_copy_of_another_book(self) -> None:
        with pytest.raises(CopyNotAvailable) as refused:
            state([copy("c1")]).choose_copy("m1", "elsewhere")
        assert refused.value.code == "COPY_NOT_AVAILABLE"

    @pytest.mark.parametrize("status", [CopyStatus.ON_LOAN, CopyStatus.LOST, CopyStatus.WITHDRAWN])
    def test_asked_for_a_copy_that_cannot_be_lent(self, status: CopyStatus) -> None:
        with pytest.raises(CopyNotAvailable) as refused:
            state([copy("c1", status)]).choose_copy("m1", "c1")
        assert refused.value.details["status"] == str(status)

    def test_asked_for_the_copy_set_aside_for_me(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m1", ready_copy="c1")]
        assert state(copies, holds).choose_copy("m1", "c1") is copies[0]

    def test_asked_for_a_copy_set_aside_for_someone_else(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m2", ready_copy="c1")]
        with pytest.raises(CopyReservedForAnotherMember) as refused:
            state(copies, holds).choose_copy("m1", "c1")
        assert refused.value.code == "COPY_RESERVED_FOR_ANOTHER_MEMBER"

    def test_by_book_my_set_aside_copy_comes_first(self) -> None:
        copies = [copy("c1"), copy("c2", CopyStatus.ON_HOLD_SHELF)]
        holds = [hold("h1", "m1", ready_copy="c2")]
        assert state(copies, holds).choose_copy("m1", None).id == "c2"

    def test_by_book_the_free_copy_with_the_lowest_barcode(self) -> None:
        copies = [copy("c3"), copy("c1", CopyStatus.ON_LOAN), copy("c2")]
        assert state(copies).choose_copy("m1", None).id == "c2"

    def test_by_book_never_someone_elses_set_aside_copy(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2", CopyStatus.ON_LOAN)]
        holds = [hold("h1", "m2", ready_copy="c1")]
        with pytest.raises(NoCopyAvailable) as refused:
            state(copies, holds).choose_copy("m1", None)
        assert refused.value.code == "NO_COPY_AVAILABLE"


class TestLend:
    def test_lend_a_free_copy(self) -> None:
        book = state([copy("c1")])
        made = book.lend(loan_id="l9", standing=standing(), rules=RULES, now=NOW)
        assert (made.id, made.copy_id, made.book_id, made.member_id) == ("l9", "c1", "b1", "m1")
        assert made.due_at == datetime(2030, 6, 22, 23, 59, 59, tzinfo=UTC)  # end of day 21
        assert book.copies[0].status is CopyStatus.ON_LOAN
        assert book.events == [
            BookLent(occurred_at=NOW, loan_id="l9", copy_id="c1", member_id="m1")
        ]

    def test_lending_fulfils_the_members_hold(self) -> None:
        mine = hold("h1", "m1", ready_copy="c1")
        book = state([copy("c1", CopyStatus.ON_HOLD_SHELF)], [mine])
        book.lend(loan_id="l9", standing=standing(), rules=RULES, now=NOW, copy_id="c1")
        assert mine.status is HoldStatus.FULFILLED
        assert mine.closed_at == NOW
        assert (
            HoldClosed(occurred_at=NOW, hold_id="h1", member_id="m1", status=HoldStatus.FULFILLED)
            in book.events
        )

    def test_a_different_copy_passes_my_set_aside_one_to_the_next_in_line(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        mine = hold("h1", "m1", ready_copy="c1")
        theirs = hold("h2", "m2", placed=NOW - timedelta(hours=1))
        book = state(copies, [mine, theirs])
        book.lend(loan_id="l9", standing=standing(), rules=RULES, now=NOW, copy_id="c2")
        assert mine.status is HoldStatus.FULFILLED
        assert ready_holds(book) == ["h2"]
        assert theirs.copy_id == "c1"
        assert copies[0].status is CopyStatus.ON_HOLD_SHELF

    def test_refused_lending_changes_nothing(self) -> None:
        book = state([copy("c1")])
        with pytest.raises(DebtLimitReached):
            book.lend(loan_id="l9", standing=standing(owed=10_000), rules=RULES, now=NOW)
        assert book.copies[0].status is CopyStatus.AVAILABLE
        assert book.events == []

    def test_a_copy_on_loan_cannot_be_lent_again(self) -> None:
        book = state([copy("c1", CopyStatus.ON_LOAN)])
        with pytest.raises(CopyNotAvailable):
            book.lend(loan_id="l9", standing=standing(), rules=RULES, now=NOW, copy_id="c1")
        assert book.events == []


class TestRenew:
    def renew(
        self,
        out: Loan,
        holds: list[Hold],
        copies: list[Copy],
        who: Member | None = None,
        *,
        others: list[Loan] | None = None,
        owed: int = 0,
        rules: RuleBook = RULES,
    ) -> BookCirculation:
        book = state(copies, holds)
        book.renew(out, standing(who, [out, *(others or [])], owed), rules, NOW)
        return book

    def test_renew_extends_by_a_loan_period(self) -> None:
        out = loan()
        due = out.due_at
        book = self.renew(out, [], [copy("cx", CopyStatus.ON_LOAN)])
        assert out.due_at == datetime.combine((due + 21 * DAY).date(), time(23, 59, 59), UTC)
        assert out.renewals == 1
        assert book.events == [
            LoanRenewed(occurred_at=NOW, loan_id="l1", member_id="m1", renewals=1)
        ]

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

    def test_the_standing_that_blocks_borrowing_blocks_renewing(self) -> None:
        out = loan()
        late_elsewhere = loan("l2", copy_id="cy", book_id="b9", loaned_at=NOW - 30 * DAY)
        with pytest.raises(MemberHasOverdueLoans) as overdue:
            self.renew(out, [], [], others=[late_elsewhere])
        assert overdue.value.details == {"loan_ids": ["l2"]}
        with pytest.raises(DebtLimitReached):
            self.renew(out, [], [], owed=POLICY.debt_limit_cents)
        who = member()
        who.membership_expires_at = NOW - DAY
        with pytest.raises(MembershipExpired):
            self.renew(out, [], [], who)
        assert out.renewals == 0

    def test_too_soon(self) -> None:
        rule = RULES.default_rule.changed(renew_too_soon_days=3)
        rules = RuleBook.of([rule], [], POLICY)
        early = loan()  # due in 20 days
        with pytest.raises(RenewalTooSoon) as refused:
            self.renew(early, [], [], rules=rules)
        assert refused.value.code == "RENEWAL_TOO_SOON"
        assert refused.value.details["opens_at"] == (early.due_at - 3 * DAY).isoformat()
        nearly_due = loan(loaned_at=NOW - POLICY.loan_period + 2 * DAY)  # due in 2 days
        self.renew(nearly_due, [], [], rules=rules)
        assert nearly_due.renewals == 1

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


class TestPlaceHold:
    def test_a_free_copy_is_set_aside_at_once(self) -> None:
        book = state([copy("c1")])
        placed = book.place_hold(
            hold_id="h1", standing=standing(), member_holds=[], rules=RULES, now=NOW
        )
        assert placed.status is HoldStatus.READY
        assert placed.copy_id == "c1"
        assert book.position("h1") is None
        assert [type(e) for e in book.events] == [HoldPlaced, HoldReady]

    def test_queued_behind_the_others(self) -> None:
        first = hold("h1", "m2")
        book = state([copy("c1", CopyStatus.ON_LOAN)], [first])
        book.place_hold(hold_id="h2", standing=standing(), member_holds=[], rules=RULES, now=NOW)
        assert (book.position("h1"), book.position("h2")) == (1, 2)
        assert book.events == [
            HoldPlaced(occurred_at=NOW, hold_id="h2", book_id="b1", member_id="m1")
        ]

    def test_refused_placing_changes_nothing(self) -> None:
        book = state([copy("c1", CopyStatus.ON_LOAN)])
        with pytest.raises(DebtLimitReached):
            book.place_hold(
                hold_id="h1", standing=standing(owed=900), member_holds=[], rules=RULES, now=NOW
            )
        assert book.holds == []
        assert book.events == []


class TestAllocate:
    def test_first_come_first_served_lowest_barcode_first(self) -> None:
        copies = [copy("c2"), copy("c1"), copy("c3", CopyStatus.ON_LOAN)]
        late = hold("h-late", "m3", placed=NOW - timedelta(hours=1))
        early = hold("h-early", "m1", placed=NOW - 3 * DAY)
        middle = hold("h-middle", "m2", placed=NOW - 2 * DAY)
        book = state(copies, [late, early, middle])
        ready = book.allocate(RULES, NOW)
        assert ready == [early, middle]
        assert ready_holds(book) == ["h-early", "h-middle"]
        assert (early.copy_id, middle.copy_id) == ("c1", "c2")
        assert late.status is HoldStatus.WAITING
        assert early.pickup_by == NOW + POLICY.pickup_window
        assert all(c.status is not CopyStatus.AVAILABLE for c in copies)

    def test_ready_holds_are_left_alone(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        served = hold("h1", "m1", ready_copy="c1", placed=NOW - 2 * DAY)
        assert state(copies, [served]).allocate(RULES, NOW) == []
        assert served.copy_id == "c1"
        assert copies[1].status is CopyStatus.AVAILABLE

    def test_nothing_free(self) -> None:
        waiting = hold("h1", "m1")
        assert state([copy("c1", CopyStatus.LOST)], [waiting]).allocate(RULES, NOW) == []
        assert waiting.status is HoldStatus.WAITING


class TestTakeBack:
    def test_the_fine_is_assessed_and_the_copy_shelved(self) -> None:
        out = loan(copy_id="c1", loaned_at=NOW - POLICY.loan_period - 2 * DAY)
        book = state([copy("c1", CopyStatus.ON_LOAN)])
        fine = book.take_back(out, member(), RULES, NOW)
        assert fine == 50
        assert out.returned_at == NOW
        assert book.copies[0].status is CopyStatus.AVAILABLE
        assert book.events == [
            BookReturned(occurred_at=NOW, loan_id="l1", copy_id="c1", member_id="m1", fine_cents=50)
        ]

    def test_the_copy_goes_to_the_first_in_line(self) -> None:
        out = loan(copy_id="c1")
        first = hold("h1", "m2", placed=NOW - 2 * DAY)
        second = hold("h2", "m3", placed=NOW - DAY)
        book = state([copy("c1", CopyStatus.ON_LOAN)], [second, first])
        fine = book.take_back(out, member(), RULES, NOW)
        assert fine == 0
        assert ready_holds(book) == ["h1"]
        assert book.copies[0].status is CopyStatus.ON_HOLD_SHELF
        assert second.status is HoldStatus.WAITING

    def test_returning_twice_is_refused(self) -> None:
        out = loan(copy_id="c1")
        out.close(NOW, POLICY)
        book = state([copy("c1")])
        with pytest.raises(LoanAlreadyReturned):
            book.take_back(out, member(), RULES, NOW)
        assert book.copies[0].status is CopyStatus.AVAILABLE
        assert book.events == []


class TestReleaseHold:
    @pytest.mark.parametrize("expired", [False, True])
    def test_a_set_aside_copy_passes_down_the_queue(self, expired: bool) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        first = hold("h1", "m1", ready_copy="c1", placed=NOW - 2 * DAY)
        second = hold("h2", "m2", placed=NOW - DAY)
        book = state(copies, [first, second])
        if expired:
            book.expire_hold(first, RULES, NOW)
        else:
            book.cancel_hold(first, RULES, NOW)
        assert first.status is (HoldStatus.EXPIRED if expired else HoldStatus.CANCELLED)
        assert ready_holds(book) == ["h2"]
        assert second.copy_id == "c1"
        assert copies[0].status is CopyStatus.ON_HOLD_SHELF
        assert isinstance(book.events[0], HoldClosed)

    def test_a_set_aside_copy_with_nobody_waiting_goes_back_on_the_shelf(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF)]
        only = hold("h1", "m1", ready_copy="c1")
        book = state(copies, [only])
        book.cancel_hold(only, RULES, NOW)
        assert ready_holds(book) == []
        assert copies[0].status is CopyStatus.AVAILABLE

    def test_cancelling_a_waiting_hold(self) -> None:
        waiting = hold("h1", "m1")
        book = state([copy("c1", CopyStatus.ON_LOAN)], [waiting])
        book.cancel_hold(waiting, RULES, NOW)
        assert ready_holds(book) == []
        assert waiting.status is HoldStatus.CANCELLED

    def test_a_waiting_hold_cannot_expire(self) -> None:
        waiting = hold("h1", "m1")
        book = state([], [waiting])
        with pytest.raises(DomainError) as refused:
            book.expire_hold(waiting, RULES, NOW)
        assert refused.value.code == "HOLD_NOT_ACTIVE"
        assert waiting.status is HoldStatus.WAITING
        assert book.events == []

    def test_a_closed_hold_cannot_be_cancelled_again(self) -> None:
        closed = hold("h1", "m1")
        closed.cancel(NOW - DAY)
        book = state([copy("c1")], [])
        with pytest.raises(DomainError) as refused:
            book.cancel_hold(closed, RULES, NOW)
        assert refused.value.code == "HOLD_NOT_ACTIVE"


class TestWithdrawFromCirculation:
    @pytest.mark.parametrize(
        ("lost", "status"), [(True, CopyStatus.LOST), (False, CopyStatus.WITHDRAWN)]
    )
    def test_the_holder_of_a_set_aside_copy_waits_again(
        self, lost: bool, status: CopyStatus
    ) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2", CopyStatus.ON_LOAN)]
        holder = hold("h1", "m1", ready_copy="c1")
        book = state(copies, [holder])
        book.withdraw("c1", RULES, NOW, lost=lost)
        assert copies[0].status is status
        assert holder.status is HoldStatus.WAITING
        assert ready_holds(book) == []

    def test_the_holder_gets_another_free_copy_at_once(self) -> None:
        copies = [copy("c1", CopyStatus.ON_HOLD_SHELF), copy("c2")]
        holder = hold("h1", "m1", ready_copy="c1")
        book = state(copies, [holder])
        book.withdraw("c1", RULES, NOW, lost=True)
        assert ready_holds(book) == ["h1"]
        assert holder.copy_id == "c2"

    def test_a_copy_on_loan_cannot_be_marked_lost(self) -> None:
        copies = [copy("c1", CopyStatus.ON_LOAN)]
        with pytest.raises(CopyOnLoan):
            state(copies).withdraw("c1", RULES, NOW, lost=True)
        assert copies[0].status is CopyStatus.ON_LOAN

    def test_a_found_copy_serves_the_queue_first(self) -> None:
        waiting = hold("h1", "m1")
        book = state([copy("c1", CopyStatus.LOST)], [waiting])
        book.mark_found("c1", RULES, NOW)
        assert waiting.copy_id == "c1"
        assert book.copies[0].status is CopyStatus.ON_HOLD_SHELF

    @pytest.mark.parametrize("lost", [True, False])
    def test_each_change_of_the_copies_is_recorded(self, lost: bool) -> None:
        book = state([copy("c1"), copy("c2")])
        book.add_copy(copy("c3"), RULES, NOW)
        book.withdraw("c1", RULES, NOW, lost=lost)
        book.withdraw("c2", RULES, NOW, lost=True)
        book.mark_found("c2", RULES, NOW)
        assert book.pull_events() == [
            CopyAdded(NOW, "b1", "c3"),
            CopyStatusChanged(NOW, "c1", "b1", "lost" if lost else "withdrawn"),
            CopyStatusChanged(NOW, "c2", "b1", "lost"),
            CopyStatusChanged(NOW, "c2", "b1", "available"),
        ]


class TestPullEvents:
    def test_events_are_handed_over_once(self) -> None:
        book = state([copy("c1")])
        book.lend(loan_id="l9", standing=standing(), rules=RULES, now=NOW)
        assert [type(e) for e in book.pull_events()] == [BookLent]
        assert book.pull_events() == []


class TestSuspendedHolds:
    def test_a_suspended_hold_keeps_its_place_but_is_passed_over(self) -> None:
        first = hold("h1", "m1", placed=NOW - 2 * DAY)
        second = hold("h2", "m2", placed=NOW - DAY)
        book = state([copy("c1", CopyStatus.ON_LOAN)], [first, second])
        book.suspend_hold(first, NOW)
        assert (book.position("h1"), book.position("h2")) == (1, 2)
        book.copies.append(copy("c2"))
        book.allocate(RULES, NOW)
        assert (first.status, second.status) == (HoldStatus.WAITING, HoldStatus.READY)
        assert first.suspended

    def test_resuming_serves_a_free_copy_at_once(self) -> None:
        waiting = hold("h1", "m1")
        book = state([copy("c1", CopyStatus.ON_LOAN)], [waiting])
        book.suspend_hold(waiting, NOW)
        book.copies.append(copy("c2"))
        book.allocate(RULES, NOW)
        assert waiting.status is HoldStatus.WAITING
        book.resume_hold(waiting, RULES, NOW)
        assert (waiting.status, waiting.copy_id) == (HoldStatus.READY, "c2")

    def test_a_suspended_hold_does_not_block_renewal(self) -> None:
        out = loan()
        waiting = hold("h1", "m2")
        waiting.suspend()
        self_state = state([copy("cx", CopyStatus.ON_LOAN)], [waiting])
        self_state.renew(out, standing(loans=[out]), RULES, NOW)
        assert out.renewals == 1

    def test_only_a_waiting_hold_is_suspended(self) -> None:
        ready = hold("h1", "m1", ready_copy="c1")
        book = state([copy("c1", CopyStatus.ON_HOLD_SHELF)], [ready])
        with pytest.raises(DomainError) as refused:
            book.suspend_hold(ready, NOW)
        assert refused.value.code == "HOLD_NOT_ACTIVE"

    def test_a_hold_no_longer_needed_lapses(self) -> None:
        waiting = Hold.place(
            id="h1", book_id="b1", member_id="m1", now=NOW, not_needed_after=NOW.date()
        )
        assert not waiting.no_longer_needed(NOW.date())
        assert waiting.no_longer_needed(NOW.date() + DAY)
        book = state([], [waiting])
        book.lapse_hold(waiting, NOW + DAY)
        assert waiting.status is HoldStatus.EXPIRED
        assert isinstance(book.events[-1], HoldClosed)


class TestMoveHold:
    def queue(self) -> tuple[BookCirculation, list[Hold]]:
        holds = [hold(f"h{i}", f"m{i}", placed=NOW - (5 - i) * DAY) for i in range(4)]
        return state([copy("c1", CopyStatus.ON_LOAN)], holds), holds

    @pytest.mark.parametrize(
        ("moved", "position", "order"),
        [
            (3, 1, ["h3", "h0", "h1", "h2"]),
            (0, 4, ["h1", "h2", "h3", "h0"]),
            (2, 2, ["h0", "h2", "h1", "h3"]),
            (1, 3, ["h0", "h2", "h1", "h3"]),
            (1, 2, ["h0", "h1", "h2", "h3"]),
        ],
    )
    def test_a_hold_takes_the_place_given(
        self, moved: int, position: int, order: list[str]
    ) -> None:
        book, holds = self.queue()
        book.move_hold(holds[moved], position, NOW)
        assert [h.id for h in book.waiting] == order
        assert book.position(holds[moved].id) == position
        assert holds[moved].placed_at == NOW - (5 - moved) * DAY  # the record stays true

    def test_the_next_free_copy_goes_to_the_new_first(self) -> None:
        book, holds = self.queue()
        book.move_hold(holds[2], 1, NOW)
        book.copies.append(copy("c2"))
        book.allocate(RULES, NOW)
        assert holds[2].status is HoldStatus.READY

    def test_positions_out_of_range_and_holds_not_waiting(self) -> None:
        book, holds = self.queue()
        with pytest.raises(DomainError) as refused:
            book.move_hold(holds[0], 5, NOW)
        assert refused.value.code == "INVALID_VALUE"
        holds[1].cancel(NOW)
        with pytest.raises(DomainError) as closed:
            book.move_hold(holds[1], 1, NOW)
        assert closed.value.code == "HOLD_NOT_ACTIVE"


def test_moving_among_holds_placed_in_the_same_instant() -> None:
    tied = [hold(f"h{i}", f"m{i}", placed=NOW) for i in range(4)]
    book = state([copy("c1", CopyStatus.ON_LOAN)], tied)
    book.move_hold(tied[0], 3, NOW)
    assert [h.id for h in book.waiting] == ["h1", "h2", "h0", "h3"]
    book.move_hold(tied[3], 1, NOW)
    assert [h.id for h in book.waiting] == ["h3", "h1", "h2", "h0"]
