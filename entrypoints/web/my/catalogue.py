"""The catalogue as a member searches it: titles matching the words, what is on the shelf and
how many wait, whether I hold or have it already, and a button to place a hold."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template, request

from application.catalogue_reads import CatalogueReads
from application.circulation import Circulation
from application.queries import BookFilter, LoanFilter, PageRequest
from domain.loans import LoanState
from entrypoints.container import Container
from entrypoints.web.audience import member_required
from entrypoints.web.my import me, outcome
from entrypoints.web.my.holds import active_holds
from entrypoints.web.my.loans import OPEN_LOANS

PER_PAGE = 20
MAX_WORDS = 200


def _page_number() -> int:
    given = request.args.get("page", "1")
    return int(given) if given.isdigit() and 0 < int(given) <= 10_000 else 1


@member_required
@inject
def catalogue(
    reads: CatalogueReads = Provide[Container.library.catalogue_reads],
    circulation: Circulation = Provide[Container.library.circulation],
) -> str:
    words = request.args.get("q", "").strip()[:MAX_WORDS]
    results = None
    availability = {}
    held: dict[str, int | None] = {}  # book id -> my place in its queue
    out: set[str] = set()
    if words:
        member_id = me.member_id()
        results = reads.search_books(BookFilter(q=words), PageRequest(_page_number(), PER_PAGE))
        availability = {book.id: reads.availability(book.id) for book in results.items}
        mine = active_holds(circulation, member_id)
        positions = circulation.positions(mine)
        held = {hold.book_id: positions[hold.id] for hold in mine}
        loans = circulation.list_loans(
            LoanFilter(member_id=member_id, state=LoanState.OPEN), OPEN_LOANS
        )
        out = {view.loan.book_id for view in loans.items}
    return render_template(
        "web/my/catalogue.html",
        words=words,
        results=results,
        availability=availability,
        held=held,
        out=out,
        outcome=outcome.take(),
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/catalogue", "catalogue", catalogue)
