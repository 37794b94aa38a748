"""A member at the desk: their loans (due dates, overdue flags, renew), holds (queue
positions), the account (charges, payments; take a payment, waive a charge with a reason),
and suspending or reactivating the membership.

Every action is a use case call; a refusal comes back in words on the same screen.
"""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, render_template, request, url_for

from application.accounts import Accounts
from application.circulation import Circulation
from application.members import Membership
from application.queries import HoldFilter, LoanFilter, PageRequest
from domain.errors import DomainError, InvalidValue, LoanNotFound
from domain.holds import ACTIVE_HOLD_STATUSES
from domain.loans import LoanState
from entrypoints.container import Container
from entrypoints.http.middleware import access
from entrypoints.web import lookups
from entrypoints.web.audience import staff_required
from entrypoints.web.desk import outcome
from entrypoints.web.desk.finding import find_member
from entrypoints.web.formatting import amount, day, parse_amount
from entrypoints.web.partials import redirect_page

MAX_TEXT = 500
ALL = PageRequest(1, 100)  # a member's own loans and holds fit on one page


@staff_required
def members() -> Response | str:
    who = request.args.get("q", "")[:200]
    found = find_member(who) if who else None
    if found is not None and found.member is not None:
        return redirect_page(url_for("web.desk.member", member_id=found.member.id))
    return render_template("web/desk/members.html", who=who, found=found)


@staff_required
@inject
def member(
    member_id: str,
    membership: Membership = Provide[Container.library.membership],
    circulation: Circulation = Provide[Container.library.circulation],
    accounts: Accounts = Provide[Container.library.accounts],
) -> str:
    person = membership.get(member_id)
    loans = circulation.list_loans(LoanFilter(member_id=member_id, state=LoanState.OPEN), ALL)
    holds = [
        hold
        for hold in circulation.list_holds(HoldFilter(member_id=member_id), ALL).items
        if hold.status in ACTIVE_HOLD_STATUSES
    ]
    return render_template(
        "web/desk/member.html",
        member=person,
        loans=loans.items,
        holds=holds,
        positions=circulation.positions(holds),
        books=lookups.books([v.loan.book_id for v in loans.items] + [h.book_id for h in holds]),
        copies=lookups.copies(v.loan.copy_id for v in loans.items),
        statement=accounts.statement(member_id),
    )


def _act(member_id: str, action: Callable[[], str]) -> Response:
    """Run one action, say what it did (or why not) on the member's page."""
    try:
        outcome.done(action())
    except DomainError as refusal:
        outcome.refused(refusal)
    return redirect_page(url_for("web.desk.member", member_id=member_id))


@staff_required
@inject
def renew(
    member_id: str, loan_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    def act() -> str:
        if circulation.get_loan(loan_id).member_id != member_id:
            raise LoanNotFound(loan_id)
        loan = circulation.renew(loan_id)
        return f"Renewed: now due {day(loan.due_at)}."

    return _act(member_id, act)


@staff_required
@inject
def pay(member_id: str, accounts: Accounts = Provide[Container.library.accounts]) -> Response:
    def act() -> str:
        cents = parse_amount(request.form.get("amount", "")[:32])
        note = request.form.get("note", "").strip()[:MAX_TEXT]
        accounts.record_payment(member_id, cents, note=note)
        return f"Payment of {amount(cents)} recorded."

    return _act(member_id, act)


@staff_required
@inject
def waive(
    member_id: str, charge_id: str, accounts: Accounts = Provide[Container.library.accounts]
) -> Response:
    def act() -> str:
        reason = request.form.get("reason", "").strip()[:MAX_TEXT]
        if not reason:
            raise InvalidValue("reason", "say why the charge is waived")
        typed = request.form.get("amount", "").strip()[:32]
        cents = parse_amount(typed) if typed else None
        entry = accounts.waive(member_id, charge_id, reason, cents)
        return f"Waived {amount(entry.amount_cents)}."

    return _act(member_id, act)


@staff_required
@inject
def suspend(
    member_id: str, membership: Membership = Provide[Container.library.membership]
) -> Response:
    def act() -> str:
        person = membership.get(member_id)
        access.require_staff_account_access(member_id, person.role)  # as the API decides
        membership.suspend(member_id)
        return f"{person.name} is suspended: no borrowing or holds until reactivated."

    return _act(member_id, act)


@staff_required
@inject
def reactivate(
    member_id: str, membership: Membership = Provide[Container.library.membership]
) -> Response:
    def act() -> str:
        person = membership.get(member_id)
        access.require_staff_account_access(member_id, person.role)
        membership.reactivate(member_id)
        return f"{person.name} is active again."

    return _act(member_id, act)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/members", "members", members)
    bp.add_url_rule("/members/<member_id>", "member", member)
    bp.add_url_rule("/members/<member_id>/loans/<loan_id>/renew", "renew", renew, methods=["POST"])
    bp.add_url_rule("/members/<member_id>/payments", "pay", pay, methods=["POST"])
    bp.add_url_rule(
        "/members/<member_id>/charges/<charge_id>/waive", "waive", waive, methods=["POST"]
    )
    bp.add_url_rule("/members/<member_id>/suspend", "suspend", suspend, methods=["POST"])
    bp.add_url_rule("/members/<member_id>/reactivate", "reactivate", reactivate, methods=["POST"])
