"""Domain events: facts about the catalogue and circulation that other parts (metrics, notices,
the read cache) may react to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Event:
    occurred_at: datetime


# --- the catalogue: what its readers (and a cache of its reads) learn of a committed change ---


@dataclass(frozen=True, slots=True)
class BookAdded(Event):
    book_id: str


@dataclass(frozen=True, slots=True)
class BooksImported(Event):
    """A bulk load added ``count`` books (with their copies) in one transaction: one event per
    batch, not per book, so a million-row load stays set-based."""

    count: int


@dataclass(frozen=True, slots=True)
class BookRevised(Event):
    book_id: str


@dataclass(frozen=True, slots=True)
class BookRemoved(Event):
    """The book left the catalogue with its copies, holds and loan history."""

    book_id: str


@dataclass(frozen=True, slots=True)
class CopyAdded(Event):
    book_id: str
    copy_id: str


# --- circulation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookLent(Event):
    loan_id: str
    copy_id: str
    member_id: str


@dataclass(frozen=True, slots=True)
class BookReturned(Event):
    loan_id: str
    copy_id: str
    member_id: str
    fine_cents: int


@dataclass(frozen=True, slots=True)
class LoanRenewed(Event):
    loan_id: str
    member_id: str
    renewals: int


@dataclass(frozen=True, slots=True)
class HoldPlaced(Event):
    hold_id: str
    book_id: str
    member_id: str


@dataclass(frozen=True, slots=True)
class HoldReady(Event):
    hold_id: str
    copy_id: str
    member_id: str
    pickup_by: datetime


@dataclass(frozen=True, slots=True)
class HoldClosed(Event):
    hold_id: str
    member_id: str
    status: str  # fulfilled, cancelled or expired


@dataclass(frozen=True, slots=True)
class PaymentReceived(Event):
    member_id: str
    amount_cents: int
    payment_id: str = ""
    charge_ids: tuple[str, ...] = ()  # the charges it was allocated to, in order


# --- money: every line added to an account announces itself -------------------------------


@dataclass(frozen=True, slots=True)
class ChargePosted(Event):
    member_id: str
    charge_id: str
    loan_id: str | None
    charge_type: str  # overdue, lost, processing or manual
    amount_cents: int


@dataclass(frozen=True, slots=True)
class ChargeWaived(Event):
    member_id: str
    charge_id: str
    waiver_id: str
    loan_id: str | None
    amount_cents: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChargeCancelled(Event):
    member_id: str
    charge_id: str
    cancellation_id: str
    loan_id: str | None
    amount_cents: int
    reason: str


@dataclass(frozen=True, slots=True)
class PaymentRefunded(Event):
    member_id: str
    payment_id: str
    refund_id: str
    amount_cents: int
    charge_ids: tuple[str, ...]  # the charges owed again, in the order they were reopened
    reason: str


# --- lost items ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoanDeclaredLost(Event):
    """A copy on loan was declared lost (by staff, or ``aged`` by the long-overdue job)."""

    loan_id: str
    copy_id: str
    book_id: str
    member_id: str
    fine_cents: int
    replacement_fee_cents: int
    processing_fee_cents: int
    aged: bool


@dataclass(frozen=True, slots=True)
class LoanClaimedReturned(Event):
    """The member says they returned the loan: it is disputed and its fine stops growing."""

    loan_id: str
    copy_id: str
    member_id: str


@dataclass(frozen=True, slots=True)
class LostCopyRecovered(Event):
    """A lost copy turned up; ``loan_id`` is the loan it was lost on, if any."""

    copy_id: str
    book_id: str
    loan_id: str | None
    member_id: str | None
    cancelled_cents: int
    refunded_cents: int


@dataclass(frozen=True, slots=True)
class ItemTypeAssigned(Event):
    """A book's or a copy's item type changed (``copy_id`` is None for the book's)."""

    book_id: str
    copy_id: str | None
    item_type: str


@dataclass(frozen=True, slots=True)
class HoldSuspended(Event):
    """A waiting hold was suspended (``suspended``) or resumed."""

    hold_id: str
    suspended: bool


@dataclass(frozen=True, slots=True)
class HoldMoved(Event):
    """Staff moved a waiting hold to ``position`` in its book's queue."""

    hold_id: str
    position: int


@dataclass(frozen=True, slots=True)
class CirculationRulesChanged(Event):
    """A member category, item type, rule, closed day or member's category changed."""

    # What changed, for the audit trail: ``member_category``, ``item_type``, ``rule``,
    # ``closure`` or ``member`` (a member's category), and its code or id.
    subject_type: str = "rules"
    subject_id: str | None = None


@dataclass(frozen=True, slots=True)
class CopyStatusChanged(Event):
    """Staff marked a copy lost or withdrawn, or a lost copy was found (``status`` is the new
    one)."""

    copy_id: str
    book_id: str
    status: str


# --- members and credentials ------------------------------------------------------------------
# These carry ids and codes only, never a name, an email or a secret: the audit trail keeps every
# event for good, and an anonymised member must leave no personal data behind in it.


@dataclass(frozen=True, slots=True)
class MemberRegistered(Event):
    member_id: str
    role: str


@dataclass(frozen=True, slots=True)
class MembersImported(Event):
    """A bulk load registered ``count`` members in one transaction."""

    count: int


@dataclass(frozen=True, slots=True)
class MemberUpdated(Event):
    """Personal or membership details changed; ``fields`` names them (comma-separated), the
    values stay out of the event."""

    member_id: str
    fields: str


@dataclass(frozen=True, slots=True)
class MemberRoleChanged(Event):
    member_id: str
    role: str


@dataclass(frozen=True, slots=True)
class MemberStatusChanged(Event):
    """Suspended or reactivated."""

    member_id: str
    status: str


@dataclass(frozen=True, slots=True)
class PasswordChanged(Event):
    member_id: str


@dataclass(frozen=True, slots=True)
class MemberAnonymised(Event):
    """A removed member: personal fields erased, loans and ledger kept."""

    member_id: str


@dataclass(frozen=True, slots=True)
class SessionsRevoked(Event):
    """A member's sign-in sessions ended: signed out, a role change, a removal or a reused
    refresh token (``reason``)."""

    member_id: str
    sessions: int
    reason: str


@dataclass(frozen=True, slots=True)
class ApiKeyIssued(Event):
    api_key_id: str
    scopes: str  # space-separated


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked(Event):
    api_key_id: str


@dataclass(frozen=True, slots=True)
class ServiceClientIssued(Event):
    service_client_id: str
    scopes: str  # space-separated


@dataclass(frozen=True, slots=True)
class ServiceClientRevoked(Event):
    service_client_id: str


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoanAnonymised(Event):
    """A loan closed long ago no longer names its borrower (the retention period passed)."""

    loan_id: str
    book_id: str
