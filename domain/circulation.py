"""The rules of circulation, as functions over entities the caller has loaded.

Each function either refuses with a domain error, changing nothing, or applies the whole change
to the entities it was given. Loading and saving is the application layer's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.catalogue import Copy, CopyStatus
from domain.errors import (
    BookAlreadyOnLoan,
    BookNotCirculating,
    CopyNotAvailable,
    CopyReservedForAnotherMember,
    DebtLimitReached,
    HoldAlreadyPlaced,
    HoldLimitReached,
    LoanAlreadyReturned,
    LoanLimitReached,
    MemberHasOverdueLoans,
    NoCopyAvailable,
    RenewalBlockedByHold,
    RenewalBlockedOverdue,
    RenewalLimitReached,
)
from domain.holds import Hold, HoldStatus
from domain.ledger import LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rules need to know about a member's current position."""

    member: Member
    open_loans: Sequence[Loan]
    balance_cents: int

    def overdue_loans(self, now: datetime) -> list[Loan]:
        return [loan for loan in self.open_loans if loan.is_overdue(now)]


def balance(
    entries: Iterable[LedgerEntry], open_loans: Iterable[Loan], policy: Policy, now: datetime
) -> int:
    """Fines charged minus payments, plus what open overdue loans have accrued so far."""
    settled = sum(entry.signed_cents for entry in entries)
    accruing = sum(loan.fine_at(now, policy) for loan in open_loans if loan.is_open)
    return settled + accruing


def ensure_may_borrow(standing: Standing, policy: Policy, now: datetime) -> None:
    _ensure_unblocked(standing, policy, now)
    if len(standing.open_loans) >= policy.max_open_loans:
        raise LoanLimitReached(
            f"member already has {len(standing.open_loans)} open loans "
            f"(limit {policy.max_open_loans})",
            limit=policy.max_open_loans,
        )


def ensure_may_hold(
    standing: Standing,
    active_holds: Sequence[Hold],
    book_id: str,
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
) -> None:
    _ensure_unblocked(standing, policy, now)
    if any(hold.book_id == book_id for hold in active_holds):
        raise HoldAlreadyPlaced("member already holds this book", book_id=book_id)
    if any(loan.book_id == book_id for loan in standing.open_loans):
        raise BookAlreadyOnLoan("member already has a copy of this book", book_id=book_id)
    if len(active_holds) >= policy.max_holds:
        raise HoldLimitReached(
            f"member already has {len(active_holds)} active holds (limit {policy.max_holds})",
            limit=policy.max_holds,
        )
    if not any(copy.circulates for copy in copies):
        raise BookNotCirculating("no copy of this book can be lent", book_id=book_id)


def _ensure_unblocked(standing: Standing, policy: Policy, now: datetime) -> None:
    standing.member.ensure_in_good_standing(now)
    overdue = standing.overdue_loans(now)
    if overdue:
        raise MemberHasOverdueLoans(
            f"member has {len(overdue)} overdue loan(s)",
            loan_ids=[loan.id for loan in overdue],
        )
    if standing.balance_cents > 0 and standing.balance_cents >= policy.debt_limit_cents:
        raise DebtLimitReached(
            f"member owes {standing.balance_cents} cents "
            f"(borrowing stops at {policy.debt_limit_cents})",
            balance_cents=standing.balance_cents,
            limit_cents=policy.debt_limit_cents,
        )


def choose_copy(
    member_id: str, copies: Sequence[Copy], holds: Sequence[Hold], copy_id: str | None
) -> Copy:
    """The copy a member gets: the one asked for, the one set aside for them, or any free one.

    ``holds`` are the book's active holds. A copy on the hold shelf goes only to the member it
    was set aside for.
    """
    if copy_id is not None:
        copy = next((c for c in copies if c.id == copy_id), None)
        if copy is None:
            raise CopyNotAvailable(f"copy {copy_id} is not a copy of this book", copy_id=copy_id)
        if copy.status is CopyStatus.AVAILABLE:
            return copy
        if copy.status is CopyStatus.ON_HOLD_SHELF:
            reserved_for = next((h.member_id for h in holds if h.copy_id == copy.id), None)
            if reserved_for == member_id:
                return copy
            raise CopyReservedForAnotherMember(
                f"copy {copy.barcode} is set aside for another member", copy_id=copy.id
            )
        raise CopyNotAvailable(
            f"copy {copy.barcode} is {copy.status}", copy_id=copy.id, status=str(copy.status)
        )
    mine = next(
        (h for h in holds if h.member_id == member_id and h.status is HoldStatus.READY), None
    )
    if mine is not None:
        return next(c for c in copies if c.id == mine.copy_id)
    free = sorted((c for c in copies if c.status is CopyStatus.AVAILABLE), key=lambda c: c.barcode)
    if not free:
        raise NoCopyAvailable("no copy of this book is available; place a hold to queue for it")
    return free[0]


def lend(
    *,
    loan_id: str,
    standing: Standing,
    copy: Copy,
    book_holds: Sequence[Hold],
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
) -> tuple[Loan, list[Hold]]:
    """Lend ``copy`` to the member; returns the loan and the holds that became ready as a result.

    The member's own active hold on the book is fulfilled. If it had a different copy set aside,
    that copy goes back to serve the rest of the queue.
    """
    ensure_may_borrow(standing, policy, now)
    member_id = standing.member.id
    copy.lend(now)
    loan = Loan.start(
        id=loan_id,
        copy_id=copy.id,
        book_id=copy.book_id,
        member_id=member_id,
        now=now,
        policy=policy,
    )
    for hold in book_holds:
        if hold.member_id == member_id and hold.is_active:
            if hold.status is HoldStatus.READY and hold.copy_id != copy.id:
                next(c for c in copies if c.id == hold.copy_id).release(now)
            hold.fulfil(now)
    return loan, allocate(copies, book_holds, policy, now)


def ensure_may_renew(
    loan: Loan,
    member: Member,
    book_holds: Sequence[Hold],
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
) -> None:
    member.ensure_in_good_standing(now)
    if not loan.is_open:
        raise LoanAlreadyReturned(f"loan {loan.id} was already returned", loan_id=loan.id)
    if loan.is_overdue(now):
        raise RenewalBlockedOverdue("an overdue loan cannot be renewed; return it", loan_id=loan.id)
    if loan.renewals >= policy.max_renewals:
        raise RenewalLimitReached(
            f"loan was renewed {loan.renewals} times (limit {policy.max_renewals})",
            limit=policy.max_renewals,
        )
    waiting = sum(1 for hold in book_holds if hold.status is HoldStatus.WAITING)
    spare = sum(1 for copy in copies if copy.status is CopyStatus.AVAILABLE)
    if waiting > spare:
        raise RenewalBlockedByHold(
            f"{waiting} member(s) wait for this book", loan_id=loan.id, waiting=waiting
        )


def renew(
    loan: Loan,
    member: Member,
    book_holds: Sequence[Hold],
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
) -> None:
    ensure_may_renew(loan, member, book_holds, copies, policy, now)
    loan.extend(policy)


def allocate(
    copies: Sequence[Copy], book_holds: Sequence[Hold], policy: Policy, now: datetime
) -> list[Hold]:
    """Set free copies aside for waiting holds, first come first served.

    Afterwards no copy of the book is available while a hold on it waits. Returns the holds that
    became ready.
    """
    waiting = sorted(
        (h for h in book_holds if h.status is HoldStatus.WAITING), key=lambda h: h.queue_key
    )
    free = sorted((c for c in copies if c.status is CopyStatus.AVAILABLE), key=lambda c: c.barcode)
    served: list[Hold] = []
    for hold, copy in zip(waiting, free, strict=False):
        copy.set_aside(now)
        hold.make_ready(copy.id, now, policy.pickup_window)
        served.append(hold)
    return served


def take_back(
    loan: Loan,
    copy: Copy,
    book_holds: Sequence[Hold],
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
) -> tuple[int, list[Hold]]:
    """Close the loan and shelve the copy, or set it aside for the next in the queue.

    Returns the fine assessed and the holds that became ready.
    """
    fine = loan.close(now, policy)
    copy.take_back(now)
    return fine, allocate(copies, book_holds, policy, now)


def release_hold(
    hold: Hold,
    copies: Sequence[Copy],
    book_holds: Sequence[Hold],
    policy: Policy,
    now: datetime,
    *,
    expired: bool,
) -> list[Hold]:
    """Cancel or expire a hold; a copy it had set aside passes to the next in the queue."""
    set_aside = hold.copy_id if hold.status is HoldStatus.READY else None
    if expired:
        hold.expire(now)
    else:
        hold.cancel(now)
    if set_aside is not None:
        next(c for c in copies if c.id == set_aside).release(now)
    return allocate(copies, book_holds, policy, now)


def withdraw_from_circulation(
    copy: Copy,
    book_holds: Sequence[Hold],
    copies: Sequence[Copy],
    policy: Policy,
    now: datetime,
    *,
    lost: bool,
) -> list[Hold]:
    """Mark a copy lost or withdrawn; a hold it was set aside for waits again at its old place."""
    holder = next(
        (h for h in book_holds if h.status is HoldStatus.READY and h.copy_id == copy.id), None
    )
    if lost:
        copy.mark_lost(now)
    else:
        copy.withdraw(now)
    if holder is not None:
        holder.requeue()
    return allocate(copies, book_holds, policy, now)
