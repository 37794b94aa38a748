"""The desk's two working lists: the hold shelf (ready holds and their pickup deadlines) and
the loans that are overdue."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template, request

from application.circulation import Circulation
from application.ports import Clock
from application.queries import HoldFilter, LoanFilter, PageRequest
from domain.holds import HoldStatus
from domain.loans import LoanState
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import staff_required

PER_PAGE = 50


def _page() -> PageRequest:
    number = request.args.get("page", "1")
    return PageRequest(int(number) if number.isdigit() and int(number) > 0 else 1, PER_PAGE)


@staff_required
@inject
def hold_shelf(
    circulation: Circulation = Provide[Container.library.circulation],
    clock: Clock = Provide[Container.clock],
) -> str:
    page = circulation.list_holds(HoldFilter(status=HoldStatus.READY), _page())
    holds = sorted(page.items, key=lambda hold: (hold.pickup_by is None, hold.pickup_by))
    return render_template(
        "web/desk/hold_shelf.html",
        page=page,
        holds=holds,
        now=clock.now(),
        books=lookups.books(hold.book_id for hold in holds),
        copies=lookups.copies(hold.copy_id for hold in holds if hold.copy_id),
        members=lookups.members(hold.member_id for hold in holds),
    )


@staff_required
@inject
def overdue(circulation: Circulation = Provide[Container.library.circulation]) -> str:
    page = circulation.list_loans(LoanFilter(state=LoanState.OVERDUE), _page())
    views = sorted(page.items, key=lambda view: view.loan.due_at)
    return render_template(
        "web/desk/overdue.html",
        page=page,
        loans=views,
        books=lookups.books(view.loan.book_id for view in views),
        copies=lookups.copies(view.loan.copy_id for view in views),
        members=lookups.members(view.loan.member_id for view in views),
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/hold-shelf", "hold_shelf", hold_shelf)
    bp.add_url_rule("/overdue", "overdue", overdue)
