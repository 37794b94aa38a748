"""Check-in: scan returned items one after another; each line says where the item goes now:
back to the shelf, or to the hold shelf for a named member, with the pickup deadline.

Where it goes is decided by the check-in use case (``Circulation.return_copy``); this screen
only says it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template, request

from application.circulation import Circulation
from application.desk import CheckIn
from domain.catalogue import Book
from domain.errors import DomainError
from domain.members import Member
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import staff_required
from entrypoints.web.desk.checkout import MAX_SCAN
from entrypoints.web.partials import wants_line
from entrypoints.web.wording import describe


@dataclass(frozen=True, slots=True)
class Line:
    barcode: str
    check_in: CheckIn | None = None
    book: Book | None = None
    borrower: Member | None = None
    refusal: str | None = None
    code: str | None = None


@staff_required
def checkin() -> str:
    return render_template("web/desk/checkin.html", lines=[])


@staff_required
@inject
def scan(circulation: Circulation = Provide[Container.library.circulation]) -> str:
    barcode = request.form.get("barcode", "").strip()[:MAX_SCAN]
    line = _take_back(circulation, barcode)
    if wants_line():
        return render_template("web/desk/checkin_line.html", line=line)
    return render_template("web/desk/checkin.html", lines=[line])


def _take_back(circulation: Circulation, barcode: str) -> Line:
    if not barcode:
        return Line(barcode, refusal="Scan or type a barcode.", code="BARCODE_MISSING")
    try:
        check_in = circulation.return_copy(barcode)
    except DomainError as refusal:
        return Line(barcode, refusal=describe(refusal), code=refusal.code)
    book = lookups.books([check_in.copy.book_id])[check_in.copy.book_id]
    borrower = lookups.members([check_in.loan.member_id]).get(check_in.loan.member_id)
    return Line(barcode, check_in=check_in, book=book, borrower=borrower)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/checkin", "checkin", checkin)
    bp.add_url_rule("/checkin", "checkin_scan", scan, methods=["POST"])
