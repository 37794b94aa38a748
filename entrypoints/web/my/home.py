"""My start page, where a member lands after signing in: what is due and when, what is
overdue, what waits on the hold shelf, and what I owe, each linking to its own page."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template

from application.accounts import Accounts
from application.circulation import Circulation
from application.members import Membership
from application.queries import LoanFilter
from domain.holds import HoldStatus
from domain.loans import LoanState
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import member_required
from entrypoints.web.my import me
from entrypoints.web.my.holds import active_holds
from entrypoints.web.my.loans import OPEN_LOANS


@member_required
@inject
def home(
    circulation: Circulation = Provide[Container.library.circulation],
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> str:
    member_id = me.member_id()
    loans = circulation.list_loans(
        LoanFilter(member_id=member_id, state=LoanState.OPEN), OPEN_LOANS
    ).items
    holds = active_holds(circulation, member_id)
    ready = [hold for hold in holds if hold.status is HoldStatus.READY]
    return render_template(
        "web/my/home.html",
        name=membership.get(member_id).name,
        loans=loans,
        overdue=[view for view in loans if view.state is LoanState.OVERDUE],
        next_due=min((view.loan.due_at for view in loans), default=None),
        holds=holds,
        ready=ready,
        books=lookups.books(hold.book_id for hold in ready),
        statement=accounts.statement(member_id),
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "home", home)
