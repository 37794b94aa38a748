"""Refusals said to the member themselves ("you", not "this member").

``wording.WORDS`` speaks to a librarian about a member; on their own pages a member is told
about themselves. Codes not named here fall back to the shared words.
"""

from __future__ import annotations

from domain.errors import DomainError
from entrypoints.web import wording

WORDS: dict[str, str] = {
    "MEMBER_SUSPENDED": "Your membership is suspended; please speak to the library.",
    "MEMBERSHIP_EXPIRED": "Your membership has expired; please renew it at the library.",
    "MEMBER_HAS_OVERDUE_LOANS": "You have overdue items; please return them first.",
    "DEBT_LIMIT_REACHED": "You owe more than the library allows; please pay at the desk first.",
    "LOAN_LIMIT_REACHED": "You already have as many items out as you may.",
    "ITEM_TYPE_LOAN_LIMIT_REACHED": "You already have as many items of this kind out as you may.",
    "HOLD_LIMIT_REACHED": "You already have as many holds as you may.",
    "HOLD_ALREADY_PLACED": "You already have a hold on this title.",
    "BOOK_ALREADY_ON_LOAN_TO_MEMBER": "You already have a copy of this title.",
    "BOOK_NOT_CIRCULATING": "This title is not lent, so it cannot be held.",
    "HOLDS_NOT_ALLOWED": "Holds cannot be placed on this title.",
    "BOOK_NOT_FOUND": "That title is not in the catalogue.",
    "LOAN_NOT_FOUND": "That loan is not among yours.",
    "HOLD_NOT_FOUND": "That hold is not among yours.",
    "HOLD_NOT_ACTIVE": "This hold is no longer active.",
    "LOAN_ALREADY_RETURNED": "This item has already been returned.",
    "RENEWAL_LIMIT_REACHED": "Renewed as often as it may be; please return it by its due date.",
    "RENEWAL_BLOCKED_OVERDUE": "It is overdue, so it cannot be renewed; please return it.",
    "RENEWAL_BLOCKED_BY_HOLD": "Another member is waiting for this title, so it cannot be renewed.",
    "RENEWAL_TOO_SOON": "It is too early to renew this loan; try again nearer its due date.",
    "LOAN_CLAIMED_RETURNED": "You told us you returned this item; the library is looking into it.",
    "OVERDUE_NOTICES_REQUIRED": "The library sends overdue notices to every member.",
    "VERSION_MISMATCH": "Your details changed since this page was shown; look again and retry.",
}


def describe(error: DomainError) -> str:
    words = WORDS.get(error.code)
    return words if words is not None else wording.describe(error)
