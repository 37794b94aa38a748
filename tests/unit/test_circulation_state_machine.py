"""The circulation rules hold whatever members and librarians do, in whatever order.

A hypothesis state machine drives the real use cases over the in-memory adapters in a small,
fixed library, with the clock moved by hand. Refusals are fine, but a refusal must change
nothing; after every step the invariants of circulation are checked against the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from application.desk import CheckIn, Destination
from domain import circulation
from domain.calendar import END_OF_DAY, Closure, LibraryCalendar
from domain.catalogue import Copy, CopyStatus
from domain.errors import DomainError
from domain.holds import Hold, HoldStatus
from domain.ledger import ChargeType
from domain.loans import Loan, LoanStatus, overdue_fine
from domain.members import Member, MemberStatus
from domain.policy import Policy
from domain.rules import (
    DEFAULT_CATEGORY,
    DEFAULT_ITEM_TYPE,
    CalendarTerms,
    CirculationRule,
    MemberCategory,
    RuleBook,
)
from tests.unit.support import DAY, HOUR, START, App, build_app

T = TypeVar("T")

# Short periods and low limits, so a few dozen steps reach overdue loans, expired pickups,
# full queues and the limits themselves.
POLICY = Policy(
    loan_period=timedelta(days=7),
    max_open_loans=2,
    max_renewals=2,
    fine_per_day_cents=25,
    fine_cap_cents=1000,
    debt_limit_cents=500,
    max_holds=2,
    pickup_window=timedelta(days=3),
)
# One member is a child (one loan at a time, no holds, a lower debt limit); one book is a DVD
# (three-day loans, one renewal, a day's grace, and one DVD out per member).
CHILD = {"loan_limit": 1, "debt_limit_cents": 200}
DVD_RULE = {
    "loan_days": 3,
    "renewal_days": 3,
    "max_renewals": 1,
    "max_loans": 1,
    "grace_days": 1,
    "fine_per_day_cents": 50,
    "pickup_window_days": 2,
    "renew_too_soon_days": 2,
    "replacement_fee_cents": 300,  # a lost DVD costs something (and a child's, processing)
}
CHILD_RULE = {"holds_allowed": False, "max_holds": 0, "processing_fee_cents": 50}
COPIES_PER_BOOK = (1, 2, 2)
MEMBERS = 4

members = st.integers(0, MEMBERS - 1)
books = st.integers(0, len(COPIES_PER_BOOK) - 1)
copies = st.integers(0, 2 * sum(COPIES_PER_BOOK) - 1)  # taken modulo the copies there are
picks = st.integers(0, 1_000)  # an index into whatever list the rule chooses from


def succeeded(action: Callable[[], None]) -> Callable[[], bool]:
    """``action`` answering True, so that ``attempt`` can tell success from refusal."""

    def run() -> bool:
        action()
        return True

    return run


class CirculationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app: App = build_app(POLICY)
        added = [self.app.add_book(copies=n) for n in COPIES_PER_BOOK]
        self.book_ids = [new.book.id for new in added]
        self.copy_ids = [copy.id for new in added for copy in new.copies]
        self.barcodes = [copy.barcode for new in added for copy in new.copies]
        self.member_ids = [self.app.add_member().id for _ in range(MEMBERS - 1)]
        # The last member's membership runs out within the first few dozen steps.
        self.member_ids.append(self.app.add_member(expires_in=timedelta(days=30)).id)
        rules = self.app.rules
        rules.create_category("child", "Child", **CHILD)
        rules.create_item_type("dvd", "DVD")
        rules.create_rule(None, "dvd", **DVD_RULE)
        rules.create_rule("child", None, **CHILD_RULE)
        rules.assign_category(self.member_ids[1], "child")
        rules.assign_book_item_type(self.book_ids[2], "dvd")
        for copy in added[2].copies:
            rules.assign_item_type(copy.id, "dvd")
        # The library closes on Sundays and on two single days within the first weeks.
        rules.close_every(6, "Sunday")
        for day in (START.date() + 9 * DAY, START.date() + 10 * DAY):
            rules.close_on(day)
        self.matrix = RuleBook.of(
            self.app.rows(CirculationRule),
            self.app.rows(MemberCategory),
            POLICY,
            LibraryCalendar.of(POLICY.time_zone, self.app.rows(Closure)),
        )
        self.new_barcodes = 0
        self.removed: set[str] = set()
        # Holds that went back to waiting because their set-aside copy was lost: they keep
        # their place, so later holds may already be ready while they wait.
        self.requeued: set[str] = set()
        # Holds that were ever suspended: others may have been served past them meanwhile.
        self.passed_over: set[str] = set()

    # --- driving the use cases ---------------------------------------------------------------

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run a use case; a refusal must leave the database and the event stream untouched."""
        before = self.app.snapshot()
        batches = len(self.app.publisher.batches)
        holds_before = {h.id: (h.status, h.copy_id) for h in self.app.holds()}
        try:
            result = action()
        except DomainError:
            assert self.app.snapshot() == before, "a refused use case changed the database"
            assert len(self.app.publisher.batches) == batches, "a refusal published events"
            return None
        self.check_copies_went_to_the_first_in_line(holds_before)
        return result

    def check_copies_went_to_the_first_in_line(
        self, before: dict[str, tuple[HoldStatus, str | None]]
    ) -> None:
        holds = self.app.holds()
        for hold in holds:
            if before.get(hold.id) == (HoldStatus.WAITING, None) and hold.status in {
                HoldStatus.READY,
                HoldStatus.FULFILLED,
            }:
                self.requeued.discard(hold.id)
            if hold.status is not HoldStatus.READY or before.get(hold.id) == (
                HoldStatus.READY,
                hold.copy_id,
            ):
                continue
            # ``hold`` was just given a copy: nobody ahead of it may still be waiting in line.
            ahead = [
                h
                for h in holds
                if h.book_id == hold.book_id and h.in_line and h.queue_key < hold.queue_key
            ]
            assert not ahead, f"hold {hold.id} was served before {[h.id for h in ahead]}"
        for hold in holds:
            if before.get(hold.id, (None, None))[0] is HoldStatus.READY and (
                hold.status is HoldStatus.WAITING
            ):
                self.requeued.add(hold.id)

    def now(self) -> datetime:
        return self.app.now()

    def copy_id(self, copy: int) -> str:
        return self.copy_ids[copy % len(self.copy_ids)]

    # --- rules -------------------------------------------------------------------------------

    def blocked(self, member: int) -> bool:
        """Whether the rules bar the member from borrowing and holding right now."""
        member_id = self.member_ids[member]
        if member_id in self.removed:
            return False  # the use case refuses for another reason: the member is unknown
        stored = self.app.membership.get(member_id)
        return (
            stored.status is MemberStatus.SUSPENDED
            or stored.is_expired(self.now())
            or any(
                loan.member_id == member_id and loan.is_overdue(self.now())
                for loan in self.app.loans()
            )
            or self.balance(member_id) >= self.matrix.debt_limit_cents(stored.category)
        )

    @rule(member=members, book=books)
    def borrow_by_book(self, member: int, book: int) -> None:
        blocked = self.blocked(member)
        loan = self.attempt(
            lambda: self.app.circulation.borrow(
                self.member_ids[member], book_id=self.book_ids[book]
            )
        )
        if loan is not None:
            assert not blocked
            self.check_new_loan(loan, member)
            assert loan.book_id == self.book_ids[book]

    @rule(member=members, copy=copies)
    def borrow_by_copy(self, member: int, copy: int) -> None:
        blocked = self.blocked(member)
        loan = self.attempt(
            lambda: self.app.circulation.borrow(self.member_ids[member], copy_id=self.copy_id(copy))
        )
        if loan is not None:
            assert not blocked
            self.check_new_loan(loan, member)
            assert loan.copy_id == self.copy_id(copy)

    def check_new_loan(self, loan: Loan, member: int) -> None:
        stored = self.app.loan(loan.id)
        assert stored.member_id == self.member_ids[member]
        assert stored.loaned_at == self.now()
        rule = self.rule_of(stored)
        assert stored.due_at == self.matrix.due_at(rule, self.now())
        assert self.matrix.calendar.is_open(self.matrix.calendar.local_date(stored.due_at))
        assert stored.due_at.time() == END_OF_DAY
        assert stored.item_type == self.app.copy(loan.copy_id).item_type
        assert stored.renewals == 0
        assert stored.is_open
        assert self.app.copy(loan.copy_id).status is CopyStatus.ON_LOAN

    @precondition(lambda self: any(loan.is_open for loan in self.app.loans()))
    @rule(pick=picks, by_barcode=st.booleans())
    def return_loan(self, pick: int, by_barcode: bool) -> None:
        open_loans = [loan for loan in self.app.loans() if loan.is_open]
        chosen = open_loans[pick % len(open_loans)]
        barcode = self.barcodes[self.copy_ids.index(chosen.copy_id)]
        balance_before = self.balance(chosen.member_id)
        returned = self.attempt(
            lambda: (
                self.app.circulation.return_copy(barcode)
                if by_barcode
                else self.app.circulation.return_loan(chosen.id)
            )
        )
        assert returned is not None, "returning an open loan is never refused"
        if isinstance(returned, CheckIn):  # by barcode: where next is where the copy is
            copy = self.app.copy(chosen.copy_id)
            on_hold_shelf = copy.status is CopyStatus.ON_HOLD_SHELF
            assert (returned.destination is Destination.HOLD_SHELF) == on_hold_shelf
            if returned.slip is not None:
                ready = self.app.hold(returned.slip.hold.id)
                assert (ready.copy_id, ready.member_id) == (copy.id, returned.slip.member.id)
        stored = self.app.loan(chosen.id)
        assert stored.returned_at == self.now()
        assert stored.fine_cents == overdue_fine(
            chosen.due_at, chosen.fine_until(self.now()), self.terms_of(chosen)
        )
        # The fine was accruing already: returning moves it to the ledger, the debt stays put.
        assert self.balance(chosen.member_id) == balance_before

    @rule(copy=copies)
    def return_a_copy_that_may_not_be_on_loan(self, copy: int) -> None:
        self.attempt(
            lambda: self.app.circulation.return_copy(self.barcodes[copy % len(self.barcodes)])
        )

    @precondition(lambda self: bool(self.app.loans()))
    @rule(pick=picks)
    def renew(self, pick: int) -> None:
        loans = self.app.loans()
        chosen = loans[pick % len(loans)]
        blocked = chosen.member_id in self.member_ids and self.blocked(
            self.member_ids.index(chosen.member_id)
        )
        renewed = self.attempt(lambda: self.app.circulation.renew(chosen.id))
        if renewed is not None:
            assert not blocked, "a member barred from borrowing renewed a loan"
            stored = self.app.loan(chosen.id)
            rule = self.rule_of(chosen)
            too_soon = timedelta(days=rule.renew_too_soon_days)
            assert not rule.renew_too_soon_days or self.now() >= chosen.due_at - too_soon
            assert stored.renewals == chosen.renewals + 1 <= rule.max_renewals
            assert stored.due_at == self.matrix.renewed_due_at(rule, chosen.due_at)
            # Nobody is in line for the book (a suspended hold waits for no copy).
            assert not any(h.book_id == chosen.book_id and h.in_line for h in self.app.holds())

    @rule(member=members, book=books)
    def place_hold(self, member: int, book: int) -> None:
        blocked = self.blocked(member)
        placed = self.attempt(
            lambda: self.app.circulation.place_hold(self.member_ids[member], self.book_ids[book])
        )
        if placed is not None:
            assert not blocked
            stored = self.app.hold(placed.hold.id)
            assert stored.member_id == self.member_ids[member]
            assert stored.placed_at == self.now()
            assert stored.status in {HoldStatus.WAITING, HoldStatus.READY}
            assert (placed.position is None) == (stored.status is HoldStatus.READY)

    @rule(book=books, queue=st.lists(members, min_size=2, max_size=MEMBERS, unique=True))
    def several_members_queue_up(self, book: int, queue: list[int]) -> None:
        for member in queue:
            self.place_hold(member, book)

    @precondition(lambda self: bool(self.app.holds()))
    @rule(pick=picks)
    def cancel_hold(self, pick: int) -> None:
        holds = self.app.holds()
        chosen = holds[pick % len(holds)]
        cancelled = self.attempt(lambda: self.app.circulation.cancel_hold(chosen.id))
        if cancelled is not None:
            assert chosen.is_active
            assert self.app.hold(chosen.id).status is HoldStatus.CANCELLED

    @precondition(lambda self: bool(self.app.holds()))
    @rule(pick=picks, suspend=st.booleans())
    def suspend_or_resume_hold(self, pick: int, suspend: bool) -> None:
        holds = self.app.holds()
        chosen = holds[pick % len(holds)]
        changed = self.attempt(
            lambda: self.app.circulation.change_hold(chosen.id, suspended=suspend)
        )
        if changed is None:
            assert chosen.status is not HoldStatus.WAITING
            return
        self.passed_over.add(chosen.id)
        stored = self.app.hold(chosen.id)
        assert stored.suspended is (suspend and stored.status is HoldStatus.WAITING)
        if suspend:
            assert stored.status is HoldStatus.WAITING
            assert changed.position is not None  # it keeps its place

    @precondition(lambda self: bool(self.app.holds()))
    @rule(pick=picks, position=st.integers(1, MEMBERS))
    def staff_move_a_hold(self, pick: int, position: int) -> None:
        holds = self.app.holds()
        chosen = holds[pick % len(holds)]
        moved = self.attempt(lambda: self.app.circulation.move_hold(chosen.id, position))
        if moved is None:
            return
        # Others may have been served before it took its new place.
        self.passed_over.update(h.id for h in holds if h.book_id == chosen.book_id)
        assert moved.position == position

    @rule(days=st.integers(-2, 5))
    def place_a_hold_needed_only_for_a_while(self, days: int) -> None:
        member, book = days % MEMBERS, days % len(self.book_ids)
        last_day = self.now().date() + timedelta(days=days)
        placed = self.attempt(
            lambda: self.app.circulation.place_hold(
                self.member_ids[member], self.book_ids[book], last_day
            )
        )
        if placed is not None:
            assert self.app.hold(placed.hold.id).not_needed_after == last_day

    @rule(hours=st.integers(0, 10 * 24))
    def advance_the_clock(self, hours: int) -> None:
        self.app.advance(hours * HOUR)

    @rule(days=st.integers(1, 10))
    def let_some_days_pass(self, days: int) -> None:
        self.app.advance(days * DAY)

    @rule()
    def expire_pickups(self) -> None:
        expired = self.attempt(self.app.circulation.expire_pickups)
        assert expired is not None
        assert all(self.app.hold(h.id).status is HoldStatus.EXPIRED for h in expired)
        assert not any(h.pickup_overdue(self.now()) for h in self.app.holds())
        assert not any(h.no_longer_needed(self.now().date()) for h in self.app.holds())

    @rule(member=members, cents=st.integers(1, 700), more_than_owed=st.booleans())
    def pay(self, member: int, cents: int, more_than_owed: bool) -> None:
        # Only what is posted is owed now: fines still accruing are paid once the loan closes.
        member_id = self.member_ids[member]
        before = self.balance(member_id)
        payable = self.posted(member_id)
        if payable > 0 and not more_than_owed:
            cents = min(cents, payable)
        elif more_than_owed:
            cents += payable
        paid = self.attempt(lambda: self.app.accounts.record_payment(member_id, cents))
        if paid is None:
            assert cents > payable
        else:
            assert cents <= payable
            assert self.balance(member_id) == before - cents
            assert self.posted(member_id) == payable - cents

    @precondition(lambda self: any(loan.is_open for loan in self.app.loans()))
    @rule(pick=picks, claim_first=st.booleans())
    def declare_a_loan_lost(self, pick: int, claim_first: bool) -> None:
        open_loans = [loan for loan in self.app.loans() if loan.is_open]
        chosen = open_loans[pick % len(open_loans)]
        if claim_first:
            self.attempt(lambda: self.app.lost_items.claim_returned(chosen.id))
        disputed = self.app.loan(chosen.id)
        balance_before = self.balance(chosen.member_id)
        outcome = self.attempt(lambda: self.app.lost_items.declare_lost(chosen.id))
        assert outcome is not None, "declaring an open loan lost is never refused"
        stored = self.app.loan(chosen.id)
        assert (stored.status, stored.returned_at) == (LoanStatus.LOST, self.now())
        assert self.app.copy(chosen.copy_id).status is CopyStatus.LOST
        rule = self.rule_of(chosen)
        fees = rule.replacement_fee_cents + rule.processing_fee_cents
        # The accruing fine is posted; the fees come on top.
        assert self.balance(chosen.member_id) == balance_before + fees
        assert stored.fine_cents == overdue_fine(
            disputed.due_at, disputed.fine_until(self.now()), self.terms_of(disputed)
        )

    @rule(copy=copies)
    def a_lost_copy_is_found(self, copy: int) -> None:
        copy_id = self.copy_id(copy)
        stored = self.app.db.tables[Copy].get(copy_id)  # None once its book was removed
        was_lost = stored is not None and stored.status is CopyStatus.LOST
        recovered = self.attempt(lambda: self.app.lost_items.recover_lost_copy(copy_id))
        assert (recovered is not None) == was_lost
        if recovered is not None:
            assert self.app.copy(copy_id).status in {
                CopyStatus.AVAILABLE,
                CopyStatus.ON_HOLD_SHELF,
            }

    @rule(copy=copies)
    def mark_lost(self, copy: int) -> None:
        self.attempt(lambda: self.app.catalogue.mark_copy_lost(self.copy_id(copy)))

    @rule(copy=copies)
    def mark_found(self, copy: int) -> None:
        self.attempt(lambda: self.app.catalogue.mark_copy_found(self.copy_id(copy)))

    @rule(copy=copies)
    def withdraw(self, copy: int) -> None:
        self.attempt(lambda: self.app.catalogue.withdraw_copy(self.copy_id(copy)))

    @rule(book=books)
    def add_copy(self, book: int) -> None:
        self.new_barcodes += 1
        barcode = f"NEW-{self.new_barcodes}"
        added = self.attempt(lambda: self.app.catalogue.add_copy(self.book_ids[book], barcode))
        if added is not None:
            self.copy_ids.append(added.id)
            self.barcodes.append(added.barcode)

    @rule(member=members)
    def remove_member(self, member: int) -> None:
        member_id = self.member_ids[member]
        ledger = self.app.ledger()
        removed = self.attempt(succeeded(lambda: self.app.membership.remove(member_id)))
        if removed is None:
            return
        self.removed.add(member_id)
        # Anonymised: no loan out, no hold, and the money history kept as it was.
        assert self.app.membership.get(member_id).status is MemberStatus.ANONYMISED
        assert not any(loan.member_id == member_id and loan.is_open for loan in self.app.loans())
        assert not any(hold.member_id == member_id for hold in self.app.holds())
        assert self.app.ledger() == ledger

    @rule(book=books)
    def remove_book(self, book: int) -> None:
        book_id = self.book_ids[book]
        removed = self.attempt(succeeded(lambda: self.app.catalogue.remove_book(book_id)))
        if removed is None:
            return
        assert not any(c.book_id == book_id for c in self.app.copies())
        assert not any(loan.book_id == book_id for loan in self.app.loans())
        assert not any(hold.book_id == book_id for hold in self.app.holds())

    @rule(member=members)
    def suspend_or_reactivate(self, member: int) -> None:
        member_id = self.member_ids[member]
        if member_id in self.removed:
            return
        if self.app.membership.get(member_id).status is MemberStatus.ACTIVE:
            self.attempt(lambda: self.app.membership.suspend(member_id))
        else:
            self.attempt(lambda: self.app.membership.reactivate(member_id))

    # --- invariants --------------------------------------------------------------------------

    def posted(self, member_id: str) -> int:
        return sum(e.signed_cents for e in self.app.ledger() if e.member_id == member_id)

    def balance(self, member_id: str) -> int:
        open_loans = [
            loan for loan in self.app.loans() if loan.member_id == member_id and loan.is_open
        ]
        return circulation.balance(
            self.posted(member_id), open_loans, self.matrix, self.category_of(member_id), self.now()
        )

    def category_of(self, member_id: str) -> str:
        member = self.app.db.tables[Member].get(member_id)
        return member.category if member is not None else DEFAULT_CATEGORY

    def terms_of(self, loan: Loan) -> CalendarTerms:
        return self.matrix.terms(self.category_of(loan.member_id), loan.item_type)

    def rule_of(self, loan: Loan) -> CirculationRule:
        return self.matrix.rule_for(self.category_of(loan.member_id), loan.item_type)

    @invariant()
    def copy_status_agrees_with_loans_and_holds(self) -> None:
        loans, holds = self.app.loans(), self.app.holds()
        for copy in self.app.copies():
            open_loans = [loan for loan in loans if loan.copy_id == copy.id and loan.is_open]
            ready = [h for h in holds if h.status is HoldStatus.READY and h.copy_id == copy.id]
            assert len(open_loans) <= 1, f"copy {copy.barcode} has two open loans"
            assert len(ready) <= 1, f"copy {copy.barcode} is set aside twice"
            assert (copy.status is CopyStatus.ON_LOAN) == (len(open_loans) == 1)
            assert (copy.status is CopyStatus.ON_HOLD_SHELF) == (len(ready) == 1)
            for loan in open_loans:
                assert loan.book_id == copy.book_id
            for hold in ready:
                assert hold.book_id == copy.book_id

    @invariant()
    def members_stay_within_their_limits(self) -> None:
        loans, holds = self.app.loans(), self.app.holds()
        for member_id in self.member_ids:
            open_loans = [loan for loan in loans if loan.member_id == member_id and loan.is_open]
            active = [h for h in holds if h.member_id == member_id and h.is_active]
            category = self.category_of(member_id)
            assert len(open_loans) <= self.matrix.loan_limit(category)
            assert all(loan.renewals <= self.rule_of(loan).max_renewals for loan in open_loans)
            for loan in open_loans:
                limit = self.rule_of(loan).max_loans
                same_type = [other for other in open_loans if other.item_type == loan.item_type]
                assert limit is None or len(same_type) <= limit
            if not self.matrix.rule_for(category, DEFAULT_ITEM_TYPE).holds_allowed:
                assert not active, "a member whose rule allows no holds holds a book"
            assert len(active) <= POLICY.max_holds
            # One active hold per book, and none on a book the member already has.
            held = [h.book_id for h in active]
            assert len(held) == len(set(held))
            assert not set(held) & {loan.book_id for loan in open_loans}

    @invariant()
    def holds_are_served_first_come_first_served(self) -> None:
        holds, copies = self.app.holds(), self.app.copies()
        for book_id in self.book_ids:
            queue = [h for h in holds if h.book_id == book_id]  # in queue order
            waiting = [h for h in queue if h.in_line]
            if waiting:
                assert not any(
                    c.book_id == book_id and c.status is CopyStatus.AVAILABLE for c in copies
                ), "a copy sits on the shelf while a member waits for it"
            for first in waiting:
                if first.id in self.requeued or first.id in self.passed_over:
                    continue
                served_later = [
                    h.id for h in queue if h.queue_key > first.queue_key and h.ready_at is not None
                ]
                assert not served_later, f"{served_later} were served before {first.id}"
            for hold in queue:
                if hold.status is HoldStatus.READY:
                    assert hold.ready_at is not None
                    copy = self.app.copy(str(hold.copy_id))
                    window = self.matrix.rule_for(hold.member_category, copy.item_type)
                    assert hold.pickup_by == hold.ready_at + window.pickup_window

    @invariant()
    def nobody_owes_less_than_nothing(self) -> None:
        for member_id in self.member_ids:
            assert self.balance(member_id) >= 0

    @invariant()
    def fines_follow_the_formula_and_reach_the_ledger(self) -> None:
        charged: dict[str, int] = {}
        for entry in self.app.ledger():
            if entry.charge_type is ChargeType.OVERDUE:
                assert entry.loan_id is not None
                charged[entry.loan_id] = charged.get(entry.loan_id, 0) + entry.amount_cents
        for loan in self.app.loans():
            if loan.returned_at is None:
                assert loan.fine_cents == 0
                assert loan.id not in charged
            else:
                assert loan.fine_cents == overdue_fine(
                    loan.due_at, loan.fine_until(loan.returned_at), self.terms_of(loan)
                )
                assert charged.get(loan.id, 0) == loan.fine_cents

    @invariant()
    def ids_are_unique(self) -> None:
        ids = [row_id for rows in self.app.db.tables.values() for row_id in rows]
        assert len(ids) == len(set(ids))
        for table, rows in self.app.db.tables.items():
            assert all(row.id == row_id for row_id, row in rows.items()), table

    @invariant()
    def closed_holds_stay_closed(self) -> None:
        for hold in self.app.holds():
            assert hold.is_active == (hold.closed_at is None)
            if hold.status is HoldStatus.WAITING:
                assert hold.copy_id is None
            if hold.status is HoldStatus.FULFILLED:
                assert self.fulfilled_by_a_loan(hold)

    def fulfilled_by_a_loan(self, hold: Hold) -> bool:
        return any(
            loan.member_id == hold.member_id
            and loan.book_id == hold.book_id
            and loan.loaned_at == hold.closed_at
            for loan in self.app.loans()
        )


CirculationMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCase = CirculationMachine.TestCase
