"""What the desk sees after a scan: a copy with its book and loan, and a check-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from application.desk import CheckIn, CopyAtDesk, Destination, HoldShelfSlip
from entrypoints.schemas.books import COPY_EXAMPLE, Barcode, CopyOut
from entrypoints.schemas.common import QueryModel
from entrypoints.schemas.loans import LOAN_EXAMPLE, LoanOut


class CopyLookup(QueryModel):
    barcode: Barcode = Field(description="The barcode scanned.")


class CopyAtDeskOut(CopyOut):
    title: str = Field(description="The title of the copy's book.")
    loan: LoanOut | None = Field(description="The open loan, while the copy is on loan.")

    @classmethod
    def at_desk(cls, found: CopyAtDesk, loan: LoanOut | None) -> CopyAtDeskOut:
        return cls(**CopyOut.of(found.copy).model_dump(), title=found.book.title, loan=loan)


class HoldShelfOut(BaseModel):
    """The hold a checked-in copy is set aside for: whose slip to put in it."""

    id: str
    member_id: str
    member_name: str
    card_number: str
    pickup_by: datetime | None = Field(description="Collect by then, or the hold expires.")

    @classmethod
    def of(cls, slip: HoldShelfSlip) -> HoldShelfOut:
        return cls(
            id=slip.hold.id,
            member_id=slip.member.id,
            member_name=slip.member.name,
            card_number=slip.member.card_number,
            pickup_by=slip.hold.pickup_by,
        )


class CheckInOut(BaseModel):
    loan: LoanOut = Field(description="The loan closed, with the fine charged (`fine_cents`).")
    destination: Destination = Field(
        description="`shelf`, or `hold_shelf` for the member of `hold`."
    )
    hold: HoldShelfOut | None = Field(description="Set when the copy goes to the hold shelf.")

    @classmethod
    def of(cls, check_in: CheckIn) -> CheckInOut:
        slip = check_in.slip
        return cls(
            loan=LoanOut.of(check_in.view),
            destination=check_in.destination,
            hold=HoldShelfOut.of(slip) if slip is not None else None,
        )


COPY_AT_DESK_EXAMPLE: dict[str, Any] = {
    **COPY_EXAMPLE,
    "status": "on_loan",
    "title": "The C Programming Language",
    "loan": LOAN_EXAMPLE,
}
CHECK_IN_EXAMPLE: dict[str, Any] = {
    "loan": {
        **LOAN_EXAMPLE,
        "returned_at": "2030-01-24T09:00:00Z",
        "status": "returned",
        "fine_cents": 50,
        "version": 2,
    },
    "destination": "hold_shelf",
    "hold": {
        "id": "0190f1e2-7c4d-7a8b-9c0d-999999999999",
        "member_id": "0190f1e2-7c4d-7a8b-9c0d-dddddddddddd",
        "member_name": "Grace Hopper",
        "card_number": "20000000000026",
        "pickup_by": "2030-01-31T09:00:00Z",
    },
}
