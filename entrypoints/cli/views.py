"""What ``--json`` prints: the HTTP API's own response models (``entrypoints.schemas``), so a
loan, a member or a book reads the same from the CLI as from the API; and the reports only the
CLI makes.

The response models are imported by the function that prints one, not with this module: the
command modules import it, and a command that does not print JSON (or only shows its help)
need not build some eighty pydantic models first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from application.accounts import Arrears
    from application.catalogue import ImportReport
    from application.circulation import Availability
    from application.desk import CheckIn
    from application.loan_views import LoanView
    from application.members import MemberImportReport
    from domain.catalogue import Book, Copy
    from domain.holds import Hold
    from domain.members import Member


def model_json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def book_json(book: Book) -> dict[str, Any]:
    from entrypoints.schemas.books import BookOut

    return model_json(BookOut.of(book))


def copy_json(copy: Copy) -> dict[str, Any]:
    from entrypoints.schemas.books import CopyOut

    return model_json(CopyOut.of(copy))


def availability_json(availability: Availability) -> dict[str, Any]:
    from entrypoints.schemas.books import AvailabilityOut

    return model_json(AvailabilityOut.of(availability, None))


def member_json(member: Member) -> dict[str, Any]:
    from entrypoints.schemas.members import MemberOut

    return model_json(MemberOut.of(member))


def loan_json(view: LoanView) -> dict[str, Any]:
    from entrypoints.schemas.loans import LoanOut

    return model_json(LoanOut.of(view))


def hold_json(hold: Hold, position: int | None = None) -> dict[str, Any]:
    """``position``: the place in the queue, when the command knows it."""
    from entrypoints.schemas.loans import HoldOut

    return model_json(HoldOut.of(hold, position))


def check_in_json(check_in: CheckIn) -> dict[str, Any]:
    from entrypoints.schemas.desk import CheckInOut

    return model_json(CheckInOut.of(check_in))


def arrears_json(arrears: Arrears) -> dict[str, Any]:
    return {
        "member": member_json(arrears.member),
        "overdue_loans": [loan_json(view) for view in arrears.overdue_loans],
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
