"""The rules of circulation: a member's standing, and each book's circulation state.

``BookCirculation`` is the aggregate of one book's copies and hold queue. Every change to either
goes through one of its methods, which refuses with a domain error (changing nothing) or applies
the whole change and records the domain events it caused. Loading and saving it is the
application layer's job (one repository, ``uow.circulation``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from domain.catalogue import Copy, CopyStatus
from domain.errors import (
    BookAlreadyOnLoan,
    BookNotCirculating,
    CopyNotAvailable,
    CopyReservedForAnotherMember,
    DebtLimitReached,
    HoldAlreadyPlaced,
    HoldLimitReached,
    HoldNotFound,
    HoldsNotAllowed,
    InvalidValue,
    ItemTypeLoanLimitReached,
    LoanAlreadyReturned,
    LoanDisputed,
    LoanLimitReached,
    MemberHasOverdueLoans,
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
    Event,
    HoldClosed,
    HoldMoved,
    HoldPlaced,
    HoldReady,
    HoldSuspended,
    LoanClaimedReturned,
    LoanDeclaredLost,
    LoanRenewed,
    LostCopyRecovered,
)
from domain.holds import Hold, HoldStatus
from domain.loans import Loan, LoanStatus
from domain.members import Member
from domain.rules import DEFAULT_ITEM_TYPE, CirculationRule, RuleBook


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rules need to know about a member's current position."""

    member: Member
    open_loans: Sequence[Loan]
    balance_cents: int

    def overdue_loans(self, now: datetime) -> list[Loan]:
        return [loan for loan in self.open_loans if loan.is_overdue(now)]


def balance(
    settled_cents: int,
    open_loans: Iterable[Loan],
    rules: RuleBook,
    category: str,
    now: datetime,
) -> int:
    """The member's ledger balance (``settled_cents``: charges and refunds less credits), plus
    what open overdue loans have accrued so far (each at the rule for the member's ``category``
    and the loan's item type)."""
    accruing = sum(
        loan.fine_at(now, rules.terms(category, loan.item_type))
        for loan in open_loans
        if loan.is_open
    )
    return settled_cents + accruing


def ensure_may_borrow(standing: Standing, rules: RuleBook, now: datetime) -> None:
    ensure_unblocked(standing, rules, now)
    limit = rules.loan_limit(standing.member.category)
    if len(standing.open_loans) >= limit:
        raise LoanLimitReached(
            f"member already has {len(standing.open_loans)} open loans (limit {limit})",
            limit=limit,
        )


def ensure_may_hold(
    standing: Standing,
    active_holds: Sequence[Hold],
    book_id: str,
    copies: Sequence[Copy],
    rule: CirculationRule,
    rules: RuleBook,
    now: datetime,
) -> None:
    """``rule`` is the one for the member's category and the book's item type."""
    ensure_unblocked(standing, rules, now)
    if not rule.holds_allowed:
        raise HoldsNotAllowed(
            "holds are not allowed for this member category and item type",
            book_id=book_id,
            rule_id=rule.id,
        )
    if any(hold.book_id == book_id for hold in active_holds):
        raise HoldAlreadyPlaced("member already holds this book", book_id=book_id)
    if any(loan.book_id == book_id for loan in standing.open_loans):
        raise BookAlreadyOnLoan("member already has a copy of this book", book_id=book_id)
    if len(active_holds) >= rule.max_holds:
        raise HoldLimitReached(
            f"member already has {len(active_holds)} active holds (limit {rule.max_holds})",
            limit=rule.max_holds,
        )
    if not any(copy.circulates for copy in copies):
        raise BookNotCirculating("no copy of this book can be lent", book_id=book_id)


def ensure_unblocked(standing: Standing, rules: RuleBook, now: datetime) -> None:
    """The member's standing allows new business: not suspended or expired, nothing overdue,
    debt below the category's limit."""
    standing.member.ensure_in_good_standing(now)
    overdue = standing.overdue_loans(now)
    if overdue:
        raise MemberHasOverdueLoans(
            f"member has {len(overdue)} overdue loan(s)",
            loan_ids=[loan.id for loan in overdue],
        )
    limit = rules.debt_limit_cents(standing.member.category)
    if standing.balance_cents > 0 and standing.balance_cents >= limit:
        raise DebtLimitReached(
            f"member owes {standing.balance_cents} cents (borrowing stops at {limit})",
            balance_cents=standing.balance_cents,
            limit_cents=limit,
        )


@dataclass(frozen=True, slots=True)
class Loss:
    """What declaring a loan lost costs the member, in cents (each charged when not zero)."""

    fine_cents: int  # the overdue fine, assessed to the lost date
    replacement_fee_cents: int
    processing_fee_cents: int


@dataclass(slots=True, eq=False)
class BookCirculation:
    """One book's circulation state: its copies and its queue of active holds.

    ``copies`` are every copy of the book (by barcode); ``holds`` the holds that were active when
    the state was loaded, in queue order, plus any placed since (closed ones stay in the list so
    their change is saved, but no rule looks at them). ``events`` collects what happened, in
    order, for the unit of work to publish once the change is committed.
    """

    book_id: str
    copies: list[Copy]
    holds: list[Hold]
    item_type: str = DEFAULT_ITEM_TYPE  # the book's: what a hold on it is looked up by
    events: list[Event] = field(default_factory=list)

    # --- questions -------------------------------------------------------------------------

    def copy(self, copy_id: str) -> Copy:
        found = next((c for c in self.copies if c.id == copy_id), None)
        if found is None:
            raise CopyNotAvailable(f"copy {copy_id} is not a copy of this book", copy_id=copy_id)
        return found

    def hold(self, hold_id: str) -> Hold:
        found = next((h for h in self.holds if h.id == hold_id), None)
        if found is None:
            raise HoldNotFound(hold_id)
        return found

    @property
    def active_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.is_active]

    @property
    def waiting(self) -> list[Hold]:
        """Holds waiting for a copy, first in line first."""
        return sorted(
            (h for h in self.holds if h.status is HoldStatus.WAITING), key=lambda h: h.queue_key
        )

    @property
    def in_line(self) -> list[Hold]:
        """Waiting holds a free copy may serve (suspended ones keep their place, unserved)."""
        return [h for h in self.waiting if not h.suspended]

    @property
    def free_copies(self) -> list[Copy]:
        return sorted(
            (c for c in self.copies if c.status is CopyStatus.AVAILABLE), key=lambda c: c.barcode
        )

    def set_aside_for(self, copy_id: str) -> Hold | None:
        """The ready hold a copy on the hold shelf waits for; None when it is not set aside.

        Where a copy goes after a return: to the hold shelf for this hold's member, else (no
        hold) back to the shelf. ``take_back`` has already decided, by serving the queue.
        """
        copy = self.copy(copy_id)
        if copy.status is not CopyStatus.ON_HOLD_SHELF:
            return None
        return next(
            (h for h in self.active_holds if h.status is HoldStatus.READY and h.copy_id == copy_id),
            None,
        )

    def position(self, hold_id: str) -> int | None:
        """1 for the next in line; None once the hold is no longer waiting (or is unknown)."""
        return next((i for i, h in enumerate(self.waiting, start=1) if h.id == hold_id), None)

    def choose_copy(self, member_id: str, copy_id: str | None) -> Copy:
        """The copy a member gets: the one asked for, the one set aside for them, or any free one.

        A copy on the hold shelf goes only to the member it was set aside for.
        """
        if copy_id is not None:
            copy = self.copy(copy_id)
            if copy.status is CopyStatus.AVAILABLE:
                return copy
            if copy.status is CopyStatus.ON_HOLD_SHELF:
                reserved_for = next(
                    (h.member_id for h in self.active_holds if h.copy_id == copy.id), None
                )
                if reserved_for == member_id:
                    return copy
                raise CopyReservedForAnotherMember(
                    f"copy {copy.barcode} is set aside for another member", copy_id=copy.id
                )
            raise CopyNotAvailable(
                f"copy {copy.barcode} is {copy.status}", copy_id=copy.id, status=str(copy.status)
            )
        mine = next(
            (h for h in self.holds if h.member_id == member_id and h.status is HoldStatus.READY),
            None,
        )
        if mine is not None and mine.copy_id is not None:
            return self.copy(mine.copy_id)
        free = self.free_copies
        if not free:
            raise NoCopyAvailable("no copy of this book is available; place a hold to queue for it")
        return free[0]

    # --- lending ---------------------------------------------------------------------------

    def lend(
        self,
        *,
        loan_id: str,
        standing: Standing,
        rules: RuleBook,
        now: datetime,
        copy_id: str | None = None,
    ) -> Loan:
        """Lend a copy (``copy_id``, or by book) to the member in ``standing``.

        The member's own active hold on the book is fulfilled. If it had a different copy set
        aside, that copy goes back to serve the rest of the queue.
        """
        ensure_may_borrow(standing, rules, now)
        member = standing.member
        copy = self.choose_copy(member.id, copy_id)
        rule = rules.rule_for(member.category, copy.item_type)
        if rule.max_loans is not None:
            of_type = sum(1 for loan in standing.open_loans if loan.item_type == copy.item_type)
            if of_type >= rule.max_loans:
                raise ItemTypeLoanLimitReached(
                    f"member already has {of_type} open loans of item type {copy.item_type} "
                    f"(limit {rule.max_loans})",
                    item_type=copy.item_type,
                    limit=rule.max_loans,
                )
        member_id = member.id
        copy.lend(now)
        loan = Loan.start(
            id=loan_id,
            copy_id=copy.id,
            book_id=self.book_id,
            member_id=member_id,
            now=now,
            policy=rule,
            due_at=rules.due_at(rule, now),
            item_type=copy.item_type,
        )
        self.events.append(
            BookLent(occurred_at=now, loan_id=loan.id, copy_id=copy.id, member_id=member_id)
        )
        for hold in self.active_holds:
            if hold.member_id == member_id:
                if hold.status is HoldStatus.READY and hold.copy_id != copy.id:
                    self.copy(str(hold.copy_id)).release(now)
                hold.fulfil(now)
                self._closed(hold, now)
        self.allocate(rules, now)
        return loan

    def take_back(self, loan: Loan, member: Member, rules: RuleBook, now: datetime) -> int:
        """Close the loan and shelve the copy, or set it aside for the next in the queue.

        Returns the fine assessed, in cents, at the rule for the borrower and the loan's type.
        """
        copy = self.copy(loan.copy_id)
        fine = loan.close(now, rules.terms(member.category, loan.item_type))
        copy.take_back(now)
        self.events.append(
            BookReturned(
                occurred_at=now,
                loan_id=loan.id,
                copy_id=copy.id,
                member_id=loan.member_id,
                fine_cents=fine,
            )
        )
        self.allocate(rules, now)
        return fine

    def declare_lost(
        self, loan: Loan, member: Member, rules: RuleBook, now: datetime, *, aged: bool = False
    ) -> Loss:
        """Close the loan as lost: the copy is lost with it, and no hold is served by it.

        The fine is assessed to now (to the claim, for a disputed loan); the rule for the
        borrower and the loan's item type sets the replacement and processing fees.
        """
        copy = self.copy(loan.copy_id)
        rule = rules.rule_for(member.category, loan.item_type)
        fine = loan.declare_lost(now, rules.terms(member.category, loan.item_type))
        copy.lose_on_loan(now)
        loss = Loss(fine, rule.replacement_fee_cents, rule.processing_fee_cents)
        self.events.append(
            LoanDeclaredLost(
                occurred_at=now,
                loan_id=loan.id,
                copy_id=copy.id,
                book_id=self.book_id,
                member_id=loan.member_id,
                fine_cents=fine,
                replacement_fee_cents=loss.replacement_fee_cents,
                processing_fee_cents=loss.processing_fee_cents,
                aged=aged,
            )
        )
        return loss

    def claim_returned(self, loan: Loan, now: datetime) -> None:
        """The member says the loan came back: it stays open, disputed, and its fine stops."""
        self.copy(loan.copy_id)
        loan.claim_returned(now)
        self.events.append(
            LoanClaimedReturned(
                occurred_at=now, loan_id=loan.id, copy_id=loan.copy_id, member_id=loan.member_id
            )
        )

    def recover(
        self,
        copy_id: str,
        lost_loan: Loan | None,
        rules: RuleBook,
        now: datetime,
        *,
        cancelled_cents: int = 0,
        refunded_cents: int = 0,
    ) -> Copy:
        """A lost copy turned up: it serves the first waiting hold, else goes on the shelf.

        ``lost_loan`` is the loan it was lost on (None for a copy lost from the shelf); the
        amounts are what the account gave up of that loan's replacement fee.
        """
        if lost_loan is not None and (
            lost_loan.copy_id != copy_id or lost_loan.status is not LoanStatus.LOST
        ):
            raise InvalidValue("loan_id", f"loan {lost_loan.id} did not lose copy {copy_id}")
        copy = self.mark_found(copy_id, rules, now)
        self.events.append(
            LostCopyRecovered(
                occurred_at=now,
                copy_id=copy.id,
                book_id=self.book_id,
                loan_id=lost_loan.id if lost_loan is not None else None,
                member_id=lost_loan.member_id if lost_loan is not None else None,
                cancelled_cents=cancelled_cents,
                refunded_cents=refunded_cents,
            )
        )
        return copy

    def renew(self, loan: Loan, standing: Standing, rules: RuleBook, now: datetime) -> None:
        """Push the due date ``renewal_days`` local days on, if the rules allow it now."""
        rule = self.ensure_may_renew(loan, standing, rules, now)
        loan.extend(rule, rules.renewed_due_at(rule, loan.due_at))
        self.events.append(
            LoanRenewed(
                occurred_at=now, loan_id=loan.id, member_id=loan.member_id, renewals=loan.renewals
            )
        )

    def ensure_may_renew(
        self, loan: Loan, standing: Standing, rules: RuleBook, now: datetime
    ) -> CirculationRule:
        """The rule the renewal follows, if the loan may be renewed now.

        The member's standing blocks a renewal exactly as it blocks borrowing (suspended,
        expired, overdue elsewhere, debt at the category's limit): a renewal is a new loan of
        the same copy in all but paperwork.
        """
        member = standing.member
        rule = rules.rule_for(member.category, loan.item_type)
        member.ensure_in_good_standing(now)
        if not loan.is_open:
            raise LoanAlreadyReturned(f"loan {loan.id} was already returned", loan_id=loan.id)
        if loan.disputed:
            raise LoanDisputed(
                "a loan claimed returned cannot be renewed until it is resolved", loan_id=loan.id
            )
        if loan.is_overdue(now):
            raise RenewalBlockedOverdue(
                "an overdue loan cannot be renewed; return it", loan_id=loan.id
            )
        ensure_unblocked(standing, rules, now)
        opens = loan.due_at - timedelta(days=rule.renew_too_soon_days)
        if rule.renew_too_soon_days and now < opens:
            raise RenewalTooSoon(
                f"renewal opens {rule.renew_too_soon_days} day(s) before the due date",
                loan_id=loan.id,
                opens_at=opens.isoformat(),
            )
        if loan.renewals >= rule.max_renewals:
            raise RenewalLimitReached(
                f"loan was renewed {loan.renewals} times (limit {rule.max_renewals})",
                limit=rule.max_renewals,
            )
        waiting = len(self.in_line)  # a suspended hold waits for nobody's copy
        spare = len(self.free_copies)
        if waiting > spare:
            raise RenewalBlockedByHold(
                f"{waiting} member(s) wait for this book", loan_id=loan.id, waiting=waiting
            )
        return rule

    # --- holds -----------------------------------------------------------------------------

    def place_hold(
        self,
        *,
        hold_id: str,
        standing: Standing,
        member_holds: Sequence[Hold],
        rules: RuleBook,
        now: datetime,
        not_needed_after: date | None = None,
    ) -> Hold:
        """Queue the member for the book; when a copy is free it is set aside at once.

        ``member_holds`` are the member's active holds on any book.
        """
        member = standing.member
        rule = rules.rule_for(member.category, self.item_type)
        ensure_may_hold(standing, member_holds, self.book_id, self.copies, rule, rules, now)
        member_id = member.id
        hold = Hold.place(
            id=hold_id,
            book_id=self.book_id,
            member_id=member_id,
            now=now,
            member_category=member.category,
            not_needed_after=not_needed_after,
        )
        self.holds.append(hold)
        self.events.append(
            HoldPlaced(occurred_at=now, hold_id=hold.id, book_id=self.book_id, member_id=member_id)
        )
        self.allocate(rules, now)
        return hold

    def cancel_hold(self, hold: Hold, rules: RuleBook, now: datetime) -> None:
        """Cancel a hold; a copy it had set aside passes to the next in the queue."""
        self._release(hold, rules, now, expired=False)

    def expire_hold(self, hold: Hold, rules: RuleBook, now: datetime) -> None:
        """A ready hold nobody collected in time; its copy passes to the next in the queue."""
        self._release(hold, rules, now, expired=True)

    def _release(self, hold: Hold, rules: RuleBook, now: datetime, *, expired: bool) -> None:
        if hold.book_id != self.book_id:
            raise HoldNotFound(hold.id)
        if hold not in self.holds:
            self.holds.append(hold)  # a closed hold: closing it again is refused below
        set_aside = hold.copy_id if hold.status is HoldStatus.READY else None
        if expired:
            hold.expire(now)
        else:
            hold.cancel(now)
        self._closed(hold, now)
        if set_aside is not None:
            self.copy(set_aside).release(now)
        self.allocate(rules, now)

    def suspend_hold(self, hold: Hold, now: datetime) -> None:
        """The hold keeps its place but is passed over until resumed."""
        self._own(hold).suspend()
        self.events.append(HoldSuspended(occurred_at=now, hold_id=hold.id, suspended=True))

    def resume_hold(self, hold: Hold, rules: RuleBook, now: datetime) -> None:
        """Back in line at its old place; a free copy is set aside for it at once."""
        self._own(hold).resume()
        self.events.append(HoldSuspended(occurred_at=now, hold_id=hold.id, suspended=False))
        self.allocate(rules, now)

    def lapse_hold(self, hold: Hold, now: datetime) -> None:
        """Expire a waiting hold whose not-needed-after date has passed."""
        self._own(hold).lapse(now)
        self._closed(hold, now)

    def move_hold(self, hold: Hold, position: int, now: datetime) -> None:
        """Staff put a waiting hold at ``position`` (1: next in line) in the queue."""
        self._own(hold)
        others = [h for h in self.waiting if h.id != hold.id]
        if hold.status is not HoldStatus.WAITING:
            hold.move_between(None, None)  # refused: HOLD_NOT_ACTIVE
        if not 1 <= position <= len(others) + 1:
            raise InvalidValue("position", f"position must be between 1 and {len(others) + 1}")
        before = others[position - 2].queued_at if position > 1 else None
        after = others[position - 1].queued_at if position <= len(others) else None
        hold.move_between(before, after)
        # Holds placed in the same instant tie (their ids decide): nudge the moved hold, and any
        # that tie behind it, a microsecond on, so the queue reads in exactly the new order.
        order = [*others[: position - 1], hold, *others[position - 1 :]]
        for previous, current in itertools.pairwise(order):
            if current.queue_key <= previous.queue_key:
                current.queue_after(previous.queue_key[0])
        self.events.append(HoldMoved(occurred_at=now, hold_id=hold.id, position=position))

    def _own(self, hold: Hold) -> Hold:
        if hold.book_id != self.book_id:
            raise HoldNotFound(hold.id)
        if hold not in self.holds:
            self.holds.append(hold)  # a closed hold: its methods refuse to change it
        return hold

    def allocate(self, rules: RuleBook, now: datetime) -> list[Hold]:
        """Set free copies aside for waiting holds, first come first served.

        Afterwards no copy of the book is available while a hold on it waits. Returns the holds
        that became ready.
        """
        served: list[Hold] = []
        for hold, copy in zip(self.in_line, self.free_copies, strict=False):
            window = rules.rule_for(hold.member_category, copy.item_type).pickup_window
            copy.set_aside(now)
            hold.make_ready(copy.id, now, window)
            served.append(hold)
            self.events.append(
                HoldReady(
                    occurred_at=now,
                    hold_id=hold.id,
                    copy_id=copy.id,
                    member_id=hold.member_id,
                    pickup_by=now + window,
                )
            )
        return served

    # --- copies ----------------------------------------------------------------------------

    def add_copy(self, copy: Copy, rules: RuleBook, now: datetime) -> None:
        """A new copy joins the book; if members wait for it, it goes to the hold shelf."""
        if copy.book_id != self.book_id:
            raise CopyNotAvailable(f"copy {copy.id} is not a copy of this book", copy_id=copy.id)
        self.copies.append(copy)
        self.copies.sort(key=lambda c: c.barcode)
        self.events.append(CopyAdded(occurred_at=now, book_id=self.book_id, copy_id=copy.id))
        self.allocate(rules, now)

    def withdraw(self, copy_id: str, rules: RuleBook, now: datetime, *, lost: bool) -> Copy:
        """Mark a copy lost or withdrawn; a hold it was set aside for waits again at its place."""
        copy = self.copy(copy_id)
        holder = next(
            (h for h in self.holds if h.status is HoldStatus.READY and h.copy_id == copy.id), None
        )
        if lost:
            copy.mark_lost(now)
        else:
            copy.withdraw(now)
        self.events.append(CopyStatusChanged(now, copy.id, self.book_id, copy.status.value))
        if holder is not None:
            holder.requeue()
        self.allocate(rules, now)
        return copy

    def mark_found(self, copy_id: str, rules: RuleBook, now: datetime) -> Copy:
        """A lost copy turned up: it serves the hold queue first, then goes back on the shelf."""
        copy = self.copy(copy_id)
        copy.mark_found(now)
        self.events.append(CopyStatusChanged(now, copy.id, self.book_id, copy.status.value))
        self.allocate(rules, now)
        return copy

    def pull_events(self) -> list[Event]:
        """The events recorded so far, handing them over once."""
        events, self.events = self.events, []
        return events

    def _closed(self, hold: Hold, now: datetime) -> None:
        self.events.append(
            HoldClosed(
                occurred_at=now, hold_id=hold.id, member_id=hold.member_id, status=hold.status
            )
        )
