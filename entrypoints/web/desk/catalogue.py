"""Catalogue search at the desk: titles matching the words, with what is on the shelf."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template, request

from application.catalogue import Catalogue
from application.circulation import Circulation
from application.queries import BookFilter, PageRequest
from entrypoints.container import Container
from entrypoints.web.audience import staff_required

PER_PAGE = 20


@staff_required
@inject
def catalogue(
    catalogue: Catalogue = Provide[Container.library.catalogue],
    circulation: Circulation = Provide[Container.library.circulation],
) -> str:
    words = request.args.get("q", "").strip()[:200]
    page_number = request.args.get("page", "1")
    page = int(page_number) if page_number.isdigit() and int(page_number) > 0 else 1
    results = None
    availability = {}
    if words:
        results = catalogue.search_books(BookFilter(q=words), PageRequest(page, PER_PAGE))
        availability = {book.id: circulation.availability(book.id) for book in results.items}
    return render_template(
        "web/desk/catalogue.html", words=words, results=results, availability=availability
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/catalogue", "catalogue", catalogue)
