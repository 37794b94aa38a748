"""Domain errors: every refusal carries a stable machine-readable code.

The HTTP and CLI edges translate these codes; they never parse messages. ``kind`` tells an edge
which family a refusal belongs to without a table of every code.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar


class ErrorKind(Enum):
    INVALID = "invalid"  # the input itself is wrong (a bad ISBN, an empty title)
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # a rule of circulation or uniqueness refuses the request
    STALE = "stale"  # the caller's copy of the record is out of date


class DomainError(Exception):
    code: ClassVar[str] = "DOMAIN_ERROR"
    kind: ClassVar[ErrorKind] = ErrorKind.CONFLICT

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


# --- invalid input -------------------------------------------------------------------------


class InvalidValue(DomainError):
    """A field value breaks a domain invariant; ``details['field']`` names the field."""

    code = "INVALID_VALUE"
    kind = ErrorKind.INVALID

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class InvalidIsbn(InvalidValue):
    code = "INVALID_ISBN"

    def __init__(self, message: str, field: str = "isbn") -> None:
        super().__init__(field, message)


# --- not found -----------------------------------------------------------------------------


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    resource: ClassVar[str] = "resource"

    def __init__(self, identifier: str) -> None:
        super().__init__(f"{self.resource} {identifier!r} does not exist", id=identifier)


class BookNotFound(NotFound):
    code = "BOOK_NOT_FOUND"
    resource = "book"


class CopyNotFound(NotFound):
    code = "COPY_NOT_FOUND"
    resource = "copy"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"
    resource = "member"


class LoanNotFound(NotFound):
    code = "LOAN_NOT_FOUND"
    resource = "loan"


class HoldNotFound(NotFound):
    code = "HOLD_NOT_FOUND"
    resource = "hold"


# --- uniqueness and concurrency ----------------------------------------------------------


class IsbnAlreadyExists(DomainError):
    code = "ISBN_ALREADY_EXISTS"


class BarcodeAlreadyExists(DomainError):
    code = "BARCODE_ALREADY_EXISTS"


class EmailAlreadyRegistered(DomainError):
    code = "EMAIL_ALREADY_REGISTERED"


class VersionMismatch(DomainError):
    """The caller based a change on a version of the record that is no longer current."""

    code = "VERSION_MISMATCH"
    kind = ErrorKind.STALE


class ConcurrentUpdate(DomainError):
    """Another transaction changed the same records first; the operation may be retried."""

    code = "CONCURRENT_UPDATE"


# --- member standing -----------------------------------------------------------------------


class MemberSuspended(DomainError):
    code = "MEMBER_SUSPENDED"


class MembershipExpired(DomainError):
    code = "MEMBERSHIP_EXPIRED"


class MemberHasOverdueLoans(DomainError):
    code = "MEMBER_HAS_OVERDUE_LOANS"


class DebtLimitReached(DomainError):
    code = "DEBT_LIMIT_REACHED"


class LoanLimitReached(DomainError):
    code = "LOAN_LIMIT_REACHED"


class HoldLimitReached(DomainError):
    code = "HOLD_LIMIT_REACHED"


# --- copies and loans ----------------------------------------------------------------------


class CopyNotAvailable(DomainError):
    code = "COPY_NOT_AVAILABLE"


class NoCopyAvailable(DomainError):
    code = "NO_COPY_AVAILABLE"


class CopyReservedForAnotherMember(DomainError):
    code = "COPY_RESERVED_FOR_ANOTHER_MEMBER"


class CopyOnLoan(DomainError):
    code = "COPY_ON_LOAN"


class InvalidCopyTransition(DomainError):
    code = "INVALID_COPY_TRANSITION"


class LoanAlreadyReturned(DomainError):
    code = "LOAN_ALREADY_RETURNED"


class RenewalLimitReached(DomainError):
    code = "RENEWAL_LIMIT_REACHED"


class RenewalBlockedOverdue(DomainError):
    code = "RENEWAL_BLOCKED_OVERDUE"


class RenewalBlockedByHold(DomainError):
    code = "RENEWAL_BLOCKED_BY_HOLD"


# --- holds ---------------------------------------------------------------------------------


class HoldAlreadyPlaced(DomainError):
    code = "HOLD_ALREADY_PLACED"


class BookAlreadyOnLoan(DomainError):
    """The member already has a copy of this book; a hold on it would serve nobody."""

    code = "BOOK_ALREADY_ON_LOAN_TO_MEMBER"


class BookNotCirculating(DomainError):
    """No copy of the book can ever be lent, so a hold would wait forever."""

    code = "BOOK_NOT_CIRCULATING"


class HoldNotActive(DomainError):
    code = "HOLD_NOT_ACTIVE"


# --- deletion and money --------------------------------------------------------------------


class BookHasOpenLoans(DomainError):
    code = "BOOK_HAS_OPEN_LOANS"


class MemberHasOpenLoans(DomainError):
    code = "MEMBER_HAS_OPEN_LOANS"


class MemberHasDebt(DomainError):
    code = "MEMBER_HAS_DEBT"


class PaymentExceedsBalance(DomainError):
    code = "PAYMENT_EXCEEDS_BALANCE"
