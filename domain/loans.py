"""Loans: one copy lent to one member, from loan to return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import LoanAlreadyReturned
from domain.policy import Policy
from domain.values import require_utc

_DAY = timedelta(days=1)


def overdue_fine(due_at: datetime, until: datetime, policy: Policy) -> int:
    """Fine in cents for a loan due at ``due_at`` and returned (or still out) at ``until``.

    Every started day past the due instant counts, so a book returned an hour late costs one
    day's fine; the total never passes the per-loan cap.
    """
    if until <= due_at:
        return 0
    days = -(-(until - due_at) // _DAY)  # ceiling division, exact in integers
    return min(days * policy.fine_per_day_cents, policy.fine_cap_cents)


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
    version: int = 1

    @classmethod
    def start(
        cls, *, id: str, copy_id: str, book_id: str, member_id: str, now: datetime, policy: Policy
    ) -> Loan:
        require_utc("now", now)
        return cls(
            id=id,
            copy_id=copy_id,
            book_id=book_id,
            member_id=member_id,
            loaned_at=now,
            due_at=now + policy.loan_period,
        )

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and now > self.due_at

    def fine_at(self, now: datetime, policy: Policy) -> int:
        """The fine owed for this loan: assessed at return, or accruing while still out."""
        if self.returned_at is not None:
            return self.fine_cents
        return overdue_fine(self.due_at, now, policy)

    def extend(self, policy: Policy) -> None:
        """Push the due date one loan period further (rules are checked by the caller)."""
        self.due_at += policy.loan_period
        self.renewals += 1

    def close(self, now: datetime, policy: Policy) -> int:
        """Mark the loan returned and assess its fine; returns the fine in cents."""
        if self.returned_at is not None:
            raise LoanAlreadyReturned(f"loan {self.id} was already returned", loan_id=self.id)
        self.fine_cents = overdue_fine(self.due_at, now, policy)
        self.returned_at = now
        return self.fine_cents
