"""Check-out: find the member (scan the card, or search by name or email), then scan the items
one after another; each scan adds a line: the title and due date, or why it was refused.

With scripts, each scan is posted in the background (``static/web.js``) and the field keeps the
focus; without them the whole screen comes back with the new line on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, render_template, request, url_for

from application.circulation import Circulation
from application.members import Membership
from domain.catalogue import Book
from domain.errors import DomainError
from domain.loans import Loan
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import staff_required
from entrypoints.web.desk.finding import find_member
from entrypoints.web.partials import redirect_page, wants_line
from entrypoints.web.wording import describe

MAX_SCAN = 64  # longer than any barcode: refused unread


@dataclass(frozen=True, slots=True)
class Line:
    """One scan's answer."""

    barcode: str
    loan: Loan | None = None
    book: Book | None = None
    refusal: str | None = None
    code: str | None = None


@staff_required
def start() -> Response | str:
    """Whose card is it? A card scanned (or a single match) goes straight to the scanning."""
    who = request.args.get("who", "")[:200]
    found = find_member(who) if who else None
    if found is not None and found.member is not None:
        return redirect_page(url_for("web.desk.checkout", member_id=found.member.id))
    return render_template("web/desk/checkout_start.html", who=who, found=found)


@staff_required
@inject
def checkout(member_id: str, membership: Membership = Provide[Container.library.membership]) -> str:
    return _screen(membership, member_id, lines=[])


@staff_required
@inject
def scan(
    member_id: str,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
) -> str:
    barcode = request.form.get("barcode", "").strip()[:MAX_SCAN]
    line = _lend(circulation, member_id, barcode)
    if wants_line():
        return render_template("web/desk/checkout_line.html", line=line)
    return _screen(membership, member_id, lines=[line])


def _lend(circulation: Circulation, member_id: str, barcode: str) -> Line:
    if not barcode:
        return Line(barcode, refusal="Scan or type a barcode.", code="BARCODE_MISSING")
    try:
        loan = circulation.borrow(member_id, barcode=barcode)
    except DomainError as refusal:
        return Line(barcode, refusal=describe(refusal), code=refusal.code)
    return Line(barcode, loan=loan, book=lookups.books([loan.book_id])[loan.book_id])


def _screen(membership: Membership, member_id: str, lines: list[Line]) -> str:
    member = membership.get(member_id)
    return render_template("web/desk/checkout.html", member=member, lines=lines)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/checkout", "checkout_start", start)
    bp.add_url_rule("/checkout/<member_id>", "checkout", checkout)
    bp.add_url_rule("/checkout/<member_id>", "checkout_scan", scan, methods=["POST"])
