"""My loans: what I have out, when each is due, which are overdue and the fine so far; renew
one or all, and see per loan what happened (or why not, in words)."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, redirect, render_template, url_for

from application.circulation import Circulation
from application.queries import LoanFilter, PageRequest
from domain.errors import DomainError
from domain.loans import LoanState
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import member_required
from entrypoints.web.formatting import day
from entrypoints.web.my import me, outcome
from entrypoints.web.my.outcome import Said

# A member's open loans fit on one page: the loan limit is far below it.
OPEN_LOANS = PageRequest(1, 100)


@member_required
@inject
def loans(circulation: Circulation = Provide[Container.library.circulation]) -> str:
    views = circulation.list_loans(
        LoanFilter(member_id=me.member_id(), state=LoanState.OPEN), OPEN_LOANS
    ).items
    return render_template(
        "web/my/loans.html",
        loans=views,
        books=lookups.books(view.loan.book_id for view in views),
        copies=lookups.copies(view.loan.copy_id for view in views),
        outcome=outcome.take(),
    )


def _back() -> Response:
    return redirect(url_for("web.my.loans"), 303)  # type: ignore[return-value]


@member_required
@inject
def renew(
    loan_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    loan = me.own_loan(circulation, loan_id)  # another member's loan: 404, nothing renewed
    title = lookups.books([loan.book_id])[loan.book_id].title
    try:
        renewed = circulation.renew(loan.id)
    except DomainError as refusal:
        said = outcome.refusal(refusal)
        outcome.renewals(
            [Said(f"{title} was not renewed: {said.words}", said.code)], {loan.id: said}
        )
        return _back()
    line = Said(f"Renewed: now due {day(renewed.due_at)}.")
    outcome.renewals([Said(f"{title} renewed: now due {day(renewed.due_at)}.")], {loan.id: line})
    return _back()


@member_required
@inject
def renew_all(circulation: Circulation = Provide[Container.library.circulation]) -> Response:
    results = circulation.renew_all(me.member_id())
    per_loan: dict[str, Said] = {}
    for result in results:
        if result.refusal is None:
            per_loan[result.loan.id] = Said(f"Renewed: now due {day(result.loan.due_at)}.")
        else:
            per_loan[result.loan.id] = outcome.refusal(result.refusal)
    outcome.renewals(
        [_summary(renewed=sum(1 for r in results if r.renewed), of=len(results))], per_loan
    )
    return _back()


def _summary(*, renewed: int, of: int) -> Said:
    if of == 0:
        return Said("You have nothing out to renew.")
    if renewed == of:
        return Said("Your loan is renewed." if of == 1 else f"All {of} loans are renewed.")
    if renewed == 0:
        return Said(
            "Your loan could not be renewed; it says why below."
            if of == 1
            else f"None of your {of} loans could be renewed; each says why below."
        )
    return Said(f"{renewed} of your {of} loans renewed; each loan below says what happened.")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/loans", "loans", loans)
    bp.add_url_rule("/loans/<loan_id>/renew", "renew", renew, methods=["POST"])
    bp.add_url_rule("/loans/renew-all", "renew_all", renew_all, methods=["POST"])
