"""Refusals in words a librarian or a member understands; the stable code stays for support.

The domain's own messages are written for developers and integrations ("copy 0a1b... is on
loan"). Pages show these sentences instead, and the code beside them in small print, so a call
to support can name exactly what happened.
"""

from __future__ import annotations

from domain.errors import DomainError

WORDS: dict[str, str] = {
    # the member
    "MEMBER_NOT_FOUND": "No member has that card number or email.",
    "MEMBER_SUSPENDED": "This member is suspended and may not borrow or place holds.",
    "MEMBERSHIP_EXPIRED": "This membership has expired; renew it before lending.",
    "MEMBER_HAS_OVERDUE_LOANS": "This member has overdue items; they must be returned first.",
    "DEBT_LIMIT_REACHED": "This member owes too much to borrow; take a payment first.",
    "LOAN_LIMIT_REACHED": "This member already has as many items out as they may.",
    "ITEM_TYPE_LOAN_LIMIT_REACHED": "This member has as many items of this kind out as they may.",
    "HOLD_LIMIT_REACHED": "This member already has as many holds as they may.",
    "MEMBER_ANONYMISED": "This member's record was anonymised.",
    "MEMBER_HAS_OPEN_LOANS": "This member still has items out.",
    "MEMBER_HAS_DEBT": "This member still owes money.",
    # the item
    "COPY_NOT_FOUND": "No item has that barcode.",
    "BOOK_NOT_FOUND": "No title matches.",
    "COPY_NOT_AVAILABLE": "This item cannot be lent now.",
    "NO_COPY_AVAILABLE": "No copy of this title is available.",
    "COPY_ON_LOAN": "This item is already on loan; check it in first.",
    "COPY_RESERVED_FOR_ANOTHER_MEMBER": "This item is on the hold shelf for another member.",
    "BOOK_ALREADY_ON_LOAN_TO_MEMBER": "This member already has a copy of this title.",
    "BOOK_NOT_CIRCULATING": "This title does not circulate.",
    "HOLDS_NOT_ALLOWED": "Holds cannot be placed on this title.",
    "HOLD_ALREADY_PLACED": "This member already has a hold on this title.",
    "HOLD_NOT_ACTIVE": "This hold is no longer active.",
    "COPY_LOST_ON_LOAN": "This item was declared lost.",
    "COPY_NOT_LOST": "This item is not marked lost.",
    "INVALID_COPY_TRANSITION": "This item cannot change to that status now.",
    # loans
    "NO_OPEN_LOAN": "This item is not on loan.",
    "LOAN_ALREADY_RETURNED": "This loan was already returned.",
    "LOAN_NOT_FOUND": "No such loan.",
    "RENEWAL_LIMIT_REACHED": "This loan has been renewed as often as it may be.",
    "RENEWAL_BLOCKED_OVERDUE": "An overdue loan cannot be renewed; it must be returned.",
    "RENEWAL_BLOCKED_BY_HOLD": "Another member is waiting for this title, so it cannot be renewed.",
    "RENEWAL_TOO_SOON": "This loan cannot be renewed yet.",
    "LOAN_CLAIMED_RETURNED": "This loan is claimed returned.",
    # money
    "PAYMENT_EXCEEDS_BALANCE": "That is more than the member owes.",
    "AMOUNT_EXCEEDS_CHARGE": "That is more than is left of this charge.",
    "CHARGE_SETTLED": "This charge is already settled.",
    "CHARGE_NOT_FOUND": "No such charge.",
    "PAYMENT_NOT_FOUND": "No such payment.",
    "REFUND_EXCEEDS_PAYMENT": "That is more than was paid.",
    # signing in
    "INVALID_CREDENTIALS": "The email or the password is wrong.",
    "AUTHENTICATION_REQUIRED": "Please sign in.",
    "INSUFFICIENT_SCOPE": "Your account may not do this.",
    # anything else
    "CONCURRENT_UPDATE": "Someone else changed this at the same moment; please try again.",
    "VERSION_MISMATCH": "This changed since the page was shown; reload and try again.",
}


# Why a copy cannot be lent, by its status (``COPY_NOT_AVAILABLE`` says which).
COPY_STATUS_WORDS: dict[str, str] = {
    "on_loan": "This item is already on loan; check it in first.",
    "on_hold_shelf": "This item is on the hold shelf for another member.",
    "lost": "This item is recorded as lost; check it in to recover it first.",
    "withdrawn": "This item was withdrawn from the collection.",
}


def describe(error: DomainError) -> str:
    """The refusal in plain words (the domain's message where no better words exist)."""
    status = error.details.get("status")
    if error.code == "COPY_NOT_AVAILABLE" and isinstance(status, str):
        return COPY_STATUS_WORDS.get(status, WORDS[error.code])
    words = WORDS.get(error.code)
    if words is not None:
        return words
    return describe_message(error.message)


def describe_message(message: str) -> str:
    """A developer's message as a sentence."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
