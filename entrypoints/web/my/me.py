"""Who "me" is on the member pages, and the records that are theirs.

The member comes from the signed-in session only. A loan or hold id in an address is another
member's as often as it is a typo: either way it is answered as if no such record existed, so
asking reveals nothing about other members (as the API's ``require_record_owner`` does).
"""

from __future__ import annotations

from application.circulation import Circulation, HoldInQueue
from domain.errors import AuthenticationRequired, HoldNotFound, LoanNotFound
from domain.loans import Loan
from entrypoints.http.middleware.caller import current_caller


def member_id() -> str:
    """The signed-in member's id (the page's audience guard has already required one)."""
    caller = current_caller()
    if caller is None:
        raise AuthenticationRequired("sign in to see your own pages")
    return caller.id


def own_loan(circulation: Circulation, loan_id: str) -> Loan:
    loan = circulation.get_loan(loan_id)
    if loan.member_id != member_id():
        raise LoanNotFound(loan_id)
    return loan


def own_hold(circulation: Circulation, hold_id: str) -> HoldInQueue:
    queued = circulation.get_hold(hold_id)
    if queued.hold.member_id != member_id():
        raise HoldNotFound(hold_id)
    return queued
