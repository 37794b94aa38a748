"""Domain events: facts about circulation that other parts (metrics, notices) may react to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Event:
    occurred_at: datetime


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
