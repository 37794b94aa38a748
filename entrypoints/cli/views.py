"""Entities as JSON-ready dictionaries: what ``--json`` prints.

Field names match the HTTP API's; a member's password hash is never shown, only whether one
is set.
"""

from __future__ import annotations

from typing import Any

from application.accounts import Arrears
from application.catalogue import ImportReport
from application.circulation import Availability
from application.desk import CheckIn
from application.members import MemberImportReport
from domain.catalogue import Book, Copy
from domain.holds import Hold
from domain.loans import Loan
from domain.members import Member


def book_json(book: Book) -> dict[str, Any]:
    return {
        "id": book.id,
        "isbn": book.isbn,
        "title": book.title,
        "authors": list(book.authors),
        "publisher": book.publisher,
        "year": book.year,
        "subjects": list(book.subjects),
        "created_at": book.created_at,
        "updated_at": book.updated_at,
        "version": book.version,
    }


def copy_json(copy: Copy) -> dict[str, Any]:
    return {
        "id": copy.id,
        "book_id": copy.book_id,
        "barcode": copy.barcode,
        "status": str(copy.status),
        "version": copy.version,
    }


def availability_json(availability: Availability) -> dict[str, Any]:
    return {
        "copies": availability.copies,
        "available": availability.available,
        "on_loan": availability.on_loan,
        "on_hold_shelf": availability.on_hold_shelf,
        "holds_waiting": availability.holds_waiting,
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "card_number": member.card_number,
        "role": str(member.role),
        "status": str(member.status),
        "membership_expires_at": member.membership_expires_at,
        "has_password": member.password_hash is not None,
        "created_at": member.created_at,
        "updated_at": member.updated_at,
        "version": member.version,
    }


def loan_json(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id,
        "copy_id": loan.copy_id,
        "book_id": loan.book_id,
        "member_id": loan.member_id,
        "loaned_at": loan.loaned_at,
        "due_at": loan.due_at,
        "renewals": loan.renewals,
        "returned_at": loan.returned_at,
        "claimed_returned_at": loan.claimed_returned_at,
        "loan_status": loan.status,
        "fine_cents": loan.fine_cents,
        "version": loan.version,
    }


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "book_id": hold.book_id,
        "member_id": hold.member_id,
        "status": str(hold.status),
        "copy_id": hold.copy_id,
        "placed_at": hold.placed_at,
        "ready_at": hold.ready_at,
        "pickup_by": hold.pickup_by,
        "closed_at": hold.closed_at,
        "suspended": hold.suspended,
        "not_needed_after": (
            hold.not_needed_after.isoformat() if hold.not_needed_after is not None else None
        ),
        "version": hold.version,
    }


def arrears_json(arrears: Arrears) -> dict[str, Any]:
    return {
        "member": {
            "id": arrears.member.id,
            "email": arrears.member.email,
            "name": arrears.member.name,
            "status": str(arrears.member.status),
        },
        "overdue_loans": [loan_json(loan) for loan in arrears.overdue_loans],
        "settled_cents": arrears.settled_cents,
        "accruing_cents": arrears.accruing_cents,
        "owed_cents": arrears.owed_cents,
    }


def import_report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "added": report.added,
        "copies_added": report.copies_added,
        "already_present": report.already_present,
        "rejected": [
            {"line": row.line, "code": row.code, "reason": row.reason} for row in report.rejected
        ],
    }


def member_import_report_json(report: MemberImportReport) -> dict[str, Any]:
    return {
        "added": report.added,
        "already_present": report.already_present,
        "rejected": [
            {"line": row.line, "code": row.code, "reason": row.reason} for row in report.rejected
        ],
    }


def check_in_json(check_in: CheckIn) -> dict[str, Any]:
    """The returned loan (as ``loan_json``), with where the copy goes now, named as in the
    answer of ``POST /api/v1/returns``."""
    slip = check_in.slip
    return {
        **loan_json(check_in.loan),
        "destination": str(check_in.destination),
        "hold": None
        if slip is None
        else {
            "id": slip.hold.id,
            "member_id": slip.member.id,
            "member_name": slip.member.name,
            "card_number": slip.member.card_number,
            "pickup_by": slip.hold.pickup_by,
        },
    }
