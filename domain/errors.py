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
    UNAUTHENTICATED = "unauthenticated"  # no credentials, or ones that prove nothing (401)
    FORBIDDEN = "forbidden"  # a known caller without the right to do this (403)


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


class MemberCategoryNotFound(NotFound):
    code = "MEMBER_CATEGORY_NOT_FOUND"
    resource = "member category"


class ItemTypeNotFound(NotFound):
    code = "ITEM_TYPE_NOT_FOUND"
    resource = "item type"


class RuleNotFound(NotFound):
    code = "CIRCULATION_RULE_NOT_FOUND"
    resource = "circulation rule"


class ClosedDayNotFound(NotFound):
    code = "CLOSED_DAY_NOT_FOUND"
    resource = "closed day"


# --- uniqueness and concurrency ----------------------------------------------------------


class IsbnAlreadyExists(DomainError):
    code = "ISBN_ALREADY_EXISTS"


class BarcodeAlreadyExists(DomainError):
    code = "BARCODE_ALREADY_EXISTS"


class EmailAlreadyRegistered(DomainError):
    code = "EMAIL_ALREADY_REGISTERED"


class CardNumberTaken(DomainError):
    """Another member's card has this number."""

    code = "CARD_NUMBER_TAKEN"


class CardNumbersExhausted(DomainError):
    """Draw after draw met a number already taken: the card number format is nearly full and
    needs more digits (or another prefix)."""

    code = "CARD_NUMBERS_EXHAUSTED"


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


class OverdueNoticesRequired(DomainError):
    """A member may not turn overdue notices off unless the library lets members opt out."""

    code = "OVERDUE_NOTICES_REQUIRED"


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


class NoOpenLoan(DomainError):
    """A copy checked in at the desk is not on loan: nothing to take back."""

    code = "NO_OPEN_LOAN"


class RenewalLimitReached(DomainError):
    code = "RENEWAL_LIMIT_REACHED"


class RenewalBlockedOverdue(DomainError):
    code = "RENEWAL_BLOCKED_OVERDUE"


class RenewalBlockedByHold(DomainError):
    code = "RENEWAL_BLOCKED_BY_HOLD"


class ItemTypeLoanLimitReached(DomainError):
    """The member has as many open loans of this item type as its rule allows."""

    code = "ITEM_TYPE_LOAN_LIMIT_REACHED"


class RenewalTooSoon(DomainError):
    """The loan is not yet within its rule's renewal window."""

    code = "RENEWAL_TOO_SOON"


# --- circulation rules -----------------------------------------------------------------------


class RuleConflict(DomainError):
    """Two rules for one pair, or a change that would leave the library without a default."""

    code = "CIRCULATION_RULE_CONFLICT"


class CodeAlreadyExists(DomainError):
    code = "CODE_ALREADY_EXISTS"


class MemberCategoryRetired(DomainError):
    code = "MEMBER_CATEGORY_RETIRED"


class ItemTypeRetired(DomainError):
    code = "ITEM_TYPE_RETIRED"


# --- holds ---------------------------------------------------------------------------------


class HoldAlreadyPlaced(DomainError):
    code = "HOLD_ALREADY_PLACED"


class BookAlreadyOnLoan(DomainError):
    """The member already has a copy of this book; a hold on it would serve nobody."""

    code = "BOOK_ALREADY_ON_LOAN_TO_MEMBER"


class BookNotCirculating(DomainError):
    """No copy of the book can ever be lent, so a hold would wait forever."""

    code = "BOOK_NOT_CIRCULATING"


class HoldsNotAllowed(DomainError):
    """The rule for this member category and item type allows no holds."""

    code = "HOLDS_NOT_ALLOWED"


class HoldNotActive(DomainError):
    code = "HOLD_NOT_ACTIVE"


# --- deletion and money --------------------------------------------------------------------


class BookHasOpenLoans(DomainError):
    code = "BOOK_HAS_OPEN_LOANS"


class MemberHasOpenLoans(DomainError):
    code = "MEMBER_HAS_OPEN_LOANS"


class MemberHasDebt(DomainError):
    code = "MEMBER_HAS_DEBT"


class MemberIsAnonymised(DomainError):
    """The member was removed: their record stays, anonymised, only to keep the books."""

    code = "MEMBER_ANONYMISED"


class PaymentExceedsBalance(DomainError):
    """A payment larger than what is posted and still owed (accruing fines are not yet owed)."""

    code = "PAYMENT_EXCEEDS_BALANCE"


class ChargeNotFound(NotFound):
    code = "CHARGE_NOT_FOUND"
    resource = "charge"


class PaymentNotFound(NotFound):
    code = "PAYMENT_NOT_FOUND"
    resource = "payment"


class ChargeSettled(DomainError):
    """Nothing remains owed on the charge: there is nothing left to pay, waive or cancel."""

    code = "CHARGE_SETTLED"


class AmountExceedsCharge(DomainError):
    """A payment, waiver or cancellation for more than remains owed on the named charge."""

    code = "AMOUNT_EXCEEDS_CHARGE"


class RefundExceedsPayment(DomainError):
    """A refund for more than is left of the payment (what it paid, less earlier refunds)."""

    code = "REFUND_EXCEEDS_PAYMENT"


# --- lost items ----------------------------------------------------------------------------


class LoanDisputed(DomainError):
    """The member says the loan was returned; it is disputed until a librarian resolves it."""

    code = "LOAN_CLAIMED_RETURNED"


class CopyNotLost(DomainError):
    code = "COPY_NOT_LOST"


class CopyLostOnLoan(DomainError):
    """The copy was lost on a loan: finding it settles that loan's fees, so it is found by the
    lost-item route, not by a change of the copy's status."""

    code = "COPY_LOST_ON_LOAN"


# --- identity and access -------------------------------------------------------------------
# Refusals of credentials say which rule refused them, never which part of a secret was wrong:
# an unknown email and a wrong password are the same INVALID_CREDENTIALS.


class AuthenticationRequired(DomainError):
    code = "AUTHENTICATION_REQUIRED"
    kind = ErrorKind.UNAUTHENTICATED


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    kind = ErrorKind.UNAUTHENTICATED


class TokenInvalid(DomainError):
    """Malformed, badly signed, not yet valid, or meant for another issuer or audience."""

    code = "TOKEN_INVALID"
    kind = ErrorKind.UNAUTHENTICATED


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    kind = ErrorKind.UNAUTHENTICATED


class TokenRevoked(DomainError):
    code = "TOKEN_REVOKED"
    kind = ErrorKind.UNAUTHENTICATED


class RefreshTokenReused(DomainError):
    """A refresh token came back after it had been exchanged: its whole family is revoked."""

    code = "REFRESH_TOKEN_REUSED"
    kind = ErrorKind.UNAUTHENTICATED


class ApiKeyExpired(DomainError):
    code = "API_KEY_EXPIRED"
    kind = ErrorKind.UNAUTHENTICATED


class ApiKeyRevoked(DomainError):
    code = "API_KEY_REVOKED"
    kind = ErrorKind.UNAUTHENTICATED


class InsufficientScope(DomainError):
    code = "INSUFFICIENT_SCOPE"
    kind = ErrorKind.FORBIDDEN


class InvalidClient(DomainError):
    """A service client that is unknown, revoked, or gave the wrong secret."""

    code = "INVALID_CLIENT"
    kind = ErrorKind.UNAUTHENTICATED


class InvalidScope(DomainError):
    """A scope asked for that is unknown, malformed, or beyond what was granted."""

    code = "INVALID_SCOPE"
    kind = ErrorKind.INVALID


class PasswordTooCommon(InvalidValue):
    code = "PASSWORD_TOO_COMMON"

    def __init__(self) -> None:
        super().__init__("password", "password is too common; choose a less guessable one")


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"
    resource = "API key"


class ServiceClientNotFound(NotFound):
    code = "SERVICE_CLIENT_NOT_FOUND"
    resource = "service client"
