"""Loans: one copy lent to one member, from loan to return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.errors import LoanAlreadyReturned, LoanDisputed
from domain.values import require_utc

_DAY = timedelta(days=1)


class LoanTerms(Protocol):
    """What a loan's due date and fine follow: a circulation rule (or the plain policy)."""

    @property
    def loan_period(self) -> timedelta: ...

    @property
    def renewal_period(self) -> timedelta: ...

    @property
    def fine_per_day_cents(self) -> int: ...

    @property
    def fine_cap_cents(self) -> int: ...

    @property
    def grace_days(self) -> int: ...

    def overdue_days(self, due_at: datetime, until: datetime) -> int:
        """How many days a loan due at ``due_at`` is late at ``until`` (0 when it is not)."""
        ...


def started_days_late(due_at: datetime, until: datetime) -> int:
    """Every started 24 hours past ``due_at`` (terms that know no calendar count so)."""
    if until <= due_at:
        return 0
    return -(-(until - due_at) // _DAY)  # ceiling division, exact in integers


def overdue_fine(due_at: datetime, until: datetime, terms: LoanTerms) -> int:
    """Fine in cents for a loan due at ``due_at`` and returned (or still out) at ``until``.

    The terms say which days count (with the library calendar: open days after the due date);
    the total never passes the per-loan cap. Within the grace days nothing is owed; past them
    every day counts, so the grace forgives lateness, not part of the fine.
    """
    days = terms.overdue_days(due_at, until)
    if days <= terms.grace_days:
        return 0
    return min(days * terms.fine_per_day_cents, terms.fine_cap_cents)


class LoanStatus(StrEnum):
    OPEN = "open"
    CLAIMED_RETURNED = "claimed_returned"  # open, disputed: the member says it came back
    RETURNED = "returned"
    LOST = "lost"  # closed: the copy was declared lost (and charged for)


class LoanState(StrEnum):
    """What a reader is told about a loan: its status, with ``overdue`` told apart."""

    OPEN = "open"  # not closed (overdue and disputed ones included, when filtering)
    OVERDUE = "overdue"
    CLAIMED_RETURNED = "claimed_returned"  # open, disputed
    RETURNED = "returned"
    LOST = "lost"  # closed as lost


@dataclass(slots=True, kw_only=True)
class Loan:
    id: str
    copy_id: str
    book_id: str
    member_id: str
    loaned_at: datetime
    due_at: datetime
    renewals: int = 0
    returned_at: datetime | None = None
    fine_cents: int = 0
    item_type: str = "book"  # the copy's item type when lent: which rule's limits count it
    status: LoanStatus = LoanStatus.OPEN
    claimed_returned_at: datetime | None = None
    version: int = 1

    @classmethod
    def start(
        cls,
        *,
        id: str,
        copy_id: str,
        book_id: str,
        member_id: str,
        now: datetime,
        policy: LoanTerms,
        due_at: datetime | None = None,
        item_type: str = "book",
    ) -> Loan:
        """A loan from ``now``, due ``due_at`` (the rule and calendar decide it) or one loan
        period later."""
        require_utc("now", now)
        return cls(
            id=id,
            copy_id=copy_id,
            book_id=book_id,
            member_id=member_id,
            loaned_at=now,
            due_at=now + policy.loan_period if due_at is None else require_utc("due_at", due_at),
            item_type=item_type,
        )

    @property
    def is_open(self) -> bool:
        """Not closed (returned or lost): ``returned_at`` is when the loan closed either way."""
        return self.returned_at is None

    @property
    def disputed(self) -> bool:
        return self.status is LoanStatus.CLAIMED_RETURNED

    def is_overdue(self, now: datetime) -> bool:
        """Out past its due date. A disputed loan is not: while a librarian looks, the member
        gets the benefit of the doubt (no fine grows, nothing is blocked by it)."""
        return self.is_open and not self.disputed and now > self.due_at

    def state_at(self, now: datetime) -> LoanState:
        if self.is_overdue(now):
            return LoanState.OVERDUE
        return LoanState(self.status.value)

    def fine_until(self, now: datetime) -> datetime:
        """The instant the fine is counted to: now, or the claim of a disputed loan."""
        if self.claimed_returned_at is not None:
            return min(now, self.claimed_returned_at)
        return now

    def late_at(self, now: datetime) -> bool:
        """Whether the loan is out and time past its due date counts towards a fine at ``now``
        (for a disputed loan, up to its claim). Until it does, the loan owes nothing under any
        terms, so no rule need be looked up."""
        return self.returned_at is None and self.fine_until(now) > self.due_at

    def fine_at(self, now: datetime, policy: LoanTerms) -> int:
        """The fine owed for this loan: assessed when it closed, or accruing while out."""
        if self.returned_at is not None:
            return self.fine_cents
        return overdue_fine(self.due_at, self.fine_until(now), policy)

    def extend(self, policy: LoanTerms, due_at: datetime | None = None) -> None:
        """Push the due date to ``due_at`` or one renewal period further (rules are checked by
        the caller)."""
        self.due_at = self.due_at + policy.renewal_period if due_at is None else due_at
        self.renewals += 1

    def anonymise(self, borrower_id: str) -> bool:
        """Hand a closed loan to the anonymous ``borrower_id``: it still counts (the copy, the
        book, the dates, the fine) but no longer says who borrowed. False when it already did,
        or when the loan is open (a loan out is the library's business, not history)."""
        if self.is_open or self.member_id == borrower_id:
            return False
        self.member_id = borrower_id
        return True

    def close(self, now: datetime, policy: LoanTerms) -> int:
        """Mark the loan returned and assess its fine; returns the fine in cents.

        A disputed loan that turns up is returned as of the claim: the member said so, and the
        copy proves it, so no fine grows for the time the library took to find it.
        """
        return self._end(now, policy, LoanStatus.RETURNED)

    def declare_lost(self, now: datetime, policy: LoanTerms) -> int:
        """Close the loan as lost and assess its fine to now (or to the claim, if disputed);
        no fine accrues for a copy nobody has any more."""
        return self._end(now, policy, LoanStatus.LOST)

    def claim_returned(self, now: datetime) -> None:
        """The member says it was returned: the loan stays open, disputed, its fine frozen."""
        self._ensure_open()
        if self.disputed:
            raise LoanDisputed(f"loan {self.id} is already claimed returned", loan_id=self.id)
        self.status = LoanStatus.CLAIMED_RETURNED
        self.claimed_returned_at = now

    def _end(self, now: datetime, policy: LoanTerms, status: LoanStatus) -> int:
        self._ensure_open()
        self.fine_cents = overdue_fine(self.due_at, self.fine_until(now), policy)
        self.returned_at = now
        self.status = status
        return self.fine_cents

    def _ensure_open(self) -> None:
        if self.returned_at is not None:
            raise LoanAlreadyReturned(f"loan {self.id} was already {self.status}", loan_id=self.id)
