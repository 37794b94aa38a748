"""A member's account: fines charged and payments received, in integer cents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidValue
from domain.values import require_utc


class EntryKind(StrEnum):
    FINE = "fine"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One immutable line of a member's account.

    Fines keep the loan they came from only as a reference, so the debt survives the removal of
    the book it was incurred on.
    """

    id: str
    member_id: str
    kind: EntryKind
    amount_cents: int
    created_at: datetime
    loan_id: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.amount_cents <= 0:
            raise InvalidValue("amount_cents", "amount_cents must be a positive number of cents")
        require_utc("created_at", self.created_at)

    @property
    def signed_cents(self) -> int:
        """Positive for what the member owes, negative for what they paid."""
        return self.amount_cents if self.kind is EntryKind.FINE else -self.amount_cents
