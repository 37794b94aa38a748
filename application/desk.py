"""What the circulation desk is told after a scan: results of the use cases, not entities.

The HTTP API, the CLI and any other edge render these as they are; none of them works out
where a copy goes next on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from application.loan_views import LoanView
from domain.catalogue import Book, Copy
from domain.holds import Hold
from domain.loans import Loan
from domain.members import Member


class Destination(StrEnum):
    """Where a checked-in copy goes next."""

    SHELF = "shelf"  # nobody waits for the book: back on the shelf
    HOLD_SHELF = "hold_shelf"  # set aside for the member at the head of the queue


@dataclass(frozen=True, slots=True)
class HoldShelfSlip:
    """The slip put in a copy set aside for a hold: whose it is and until when."""

    hold: Hold
    member: Member


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A copy taken back at the desk: the loan it closed (with the fine charged) and where
    the copy goes now."""

    loan: Loan
    copy: Copy
    slip: HoldShelfSlip | None  # the hold the copy is set aside for, if any

    @property
    def destination(self) -> Destination:
        return Destination.SHELF if self.slip is None else Destination.HOLD_SHELF

    @property
    def view(self) -> LoanView:
        return LoanView.settled(self.loan)


@dataclass(frozen=True, slots=True)
class CopyAtDesk:
    """A scanned copy: which book it is, and the loan it is on, if it is on one."""

    copy: Copy
    book: Book
    loan: Loan | None
