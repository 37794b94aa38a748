"""Loans and holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from application.circulation import HoldInQueue, RenewalOutcome
from application.loan_views import LoanView
from domain.holds import Hold, HoldStatus
from domain.loans import LoanState
from entrypoints.schemas.books import Barcode
from entrypoints.schemas.common import (
    BodyModel,
    CursorPageMeta,
    CursorPageQuery,
    PathModel,
    ResourceId,
    no_null_defaults,
    omitted,
)
from entrypoints.schemas.members import CardNumber
from entrypoints.schemas.rules import IsoDate

LOAN_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-cccccccccccc",
    "copy_id": "0190f1e2-7c4d-7a8b-9c0d-aaaaaaaaaaaa",
    "book_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
    "loaned_at": "2030-01-01T09:00:00Z",
    "due_at": "2030-01-22T09:00:00Z",
    "renewals": 0,
    "returned_at": None,
    "claimed_returned_at": None,
    "status": "open",
    "fine_cents": 0,
    "version": 1,
}
HOLD_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-999999999999",
    "book_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
    "status": "waiting",
    "placed_at": "2030-01-02T09:00:00Z",
    "copy_id": None,
    "ready_at": None,
    "pickup_by": None,
    "closed_at": None,
    "suspended": False,
    "not_needed_after": None,
    "version": 1,
    "position": 1,
}


class LoanPath(PathModel):
    loan_id: ResourceId


class HoldPath(PathModel):
    hold_id: ResourceId


def _exactly_one_of_each(schema: dict[str, Any]) -> None:
    no_null_defaults(schema)
    schema["allOf"] = [
        {"oneOf": [{"required": ["member_id"]}, {"required": ["card_number"]}]},
        {
            "oneOf": [
                {"required": ["book_id"]},
                {"required": ["copy_id"]},
                {"required": ["barcode"]},
            ]
        },
    ]


class LoanCreate(BodyModel):
    """Lend a copy to a member. The member by id or by the card scanned; the copy by id or by
    the barcode scanned, or by book (a copy set aside for the member, or any free one)."""

    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"card_number": "20000000000018", "barcode": "9780131103627-1"}
        },
        json_schema_extra=_exactly_one_of_each,
    )

    # Exactly one of each group, said in the document too (``oneOf``); none may be null.
    member_id: ResourceId = omitted()
    card_number: CardNumber = omitted()
    book_id: ResourceId = omitted()
    copy_id: ResourceId = omitted()
    barcode: Barcode = omitted()

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if (self.member_id is None) == (self.card_number is None):
            raise ValueError("give exactly one of member_id and card_number")
        if sum(ref is not None for ref in (self.book_id, self.copy_id, self.barcode)) != 1:
            raise ValueError("give exactly one of book_id, copy_id and barcode")
        return self


class CheckInCreate(BodyModel):
    """The barcode scanned at the desk."""

    model_config = ConfigDict(
        openapi_extra={"example": {"barcode": "9780131103627-1"}}  # type: ignore[typeddict-unknown-key]
    )

    barcode: Barcode


class HoldCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {
                "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
                "book_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
            }
        }
    )

    member_id: ResourceId
    book_id: ResourceId
    not_needed_after: IsoDate | None = Field(
        None, description="The last (local) day the member wants the book; then it expires."
    )


class HoldPatch(BodyModel):
    """Only the fields given change."""

    model_config = ConfigDict(
        openapi_extra={"example": {"suspended": True}}  # type: ignore[typeddict-unknown-key]
    )

    suspended: StrictBool = omitted()
    not_needed_after: IsoDate | None = None

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class HoldPosition(BodyModel):
    model_config = ConfigDict(openapi_extra={"example": {"position": 1}})  # type: ignore[typeddict-unknown-key]

    position: StrictInt = Field(ge=1, le=100_000, description="1: next in line.")


class LoanQuery(CursorPageQuery):
    member_id: ResourceId | None = None
    book_id: ResourceId | None = None
    copy_id: ResourceId | None = None
    barcode: Barcode | None = Field(None, description="The copy's loans, by its barcode.")
    status: LoanState | None = Field(
        None,
        description="`open` (overdue and disputed included), `overdue`, `claimed_returned`, "
        "`returned` or `lost`.",
    )

    @model_validator(mode="after")
    def _one_copy(self) -> Self:
        if self.copy_id is not None and self.barcode is not None:
            raise ValueError("give copy_id or barcode, not both")
        return self


class MemberLoanQuery(CursorPageQuery):
    status: LoanState | None = Field(
        None,
        description="`open` (overdue and disputed included), `overdue`, `claimed_returned`, "
        "`returned` or `lost`.",
    )


class HoldQuery(CursorPageQuery):
    member_id: ResourceId | None = None
    book_id: ResourceId | None = None
    status: HoldStatus | None = None


class MemberHoldQuery(CursorPageQuery):
    status: HoldStatus | None = None


class LoanOut(BaseModel):
    id: str
    copy_id: str
    book_id: str
    member_id: str
    loaned_at: datetime
    due_at: datetime
    renewals: int
    returned_at: datetime | None = Field(description="When the loan closed, returned or lost.")
    claimed_returned_at: datetime | None = Field(
        description="When the member said it was returned (the loan is disputed until resolved)."
    )
    status: LoanState
    fine_cents: int = Field(
        description="Assessed when the loan closed; while out, what has accrued so far."
    )
    version: int

    @classmethod
    def of(cls, view: LoanView) -> LoanOut:
        loan = view.loan
        return cls(
            id=loan.id,
            copy_id=loan.copy_id,
            book_id=loan.book_id,
            member_id=loan.member_id,
            loaned_at=loan.loaned_at,
            due_at=loan.due_at,
            renewals=loan.renewals,
            returned_at=loan.returned_at,
            claimed_returned_at=loan.claimed_returned_at,
            status=view.state,
            fine_cents=view.fine_cents,
            version=loan.version,
        )


class LoanPage(CursorPageMeta):
    items: list[LoanOut]


class RenewalOut(BaseModel):
    """What renewing one loan did: ``renewed``, or the refusal's ``code`` and ``message``."""

    loan: LoanOut
    renewed: bool
    code: str | None = Field(description="The refusal's code, e.g. `RENEWAL_BLOCKED_BY_HOLD`.")
    message: str | None

    @classmethod
    def of(cls, outcome: RenewalOutcome, view: LoanView) -> RenewalOut:
        """``view``: the loan as it is after the attempt."""
        refusal = outcome.refusal
        return cls(
            loan=LoanOut.of(view),
            renewed=outcome.renewed,
            code=refusal.code if refusal is not None else None,
            message=refusal.message if refusal is not None else None,
        )


class RenewalsOut(BaseModel):
    items: list[RenewalOut]


RENEWALS_EXAMPLE: dict[str, Any] = {
    "items": [
        {
            "loan": {**LOAN_EXAMPLE, "due_at": "2030-02-12T23:59:59Z", "renewals": 1},
            "renewed": True,
            "code": None,
            "message": None,
        },
        {
            "loan": {**LOAN_EXAMPLE, "id": "0190f1e2-7c4d-7a8b-9c0d-cccccccccccd"},
            "renewed": False,
            "code": "RENEWAL_BLOCKED_BY_HOLD",
            "message": "1 member(s) wait for this book",
        },
    ]
}


class HoldOut(BaseModel):
    id: str
    book_id: str
    member_id: str
    status: HoldStatus
    placed_at: datetime
    copy_id: str | None = Field(description="The copy set aside, once the hold is ready.")
    ready_at: datetime | None
    pickup_by: datetime | None = Field(description="Collect by then, or the hold expires.")
    closed_at: datetime | None
    suspended: bool = Field(description="Keeps its place in the queue but is passed over.")
    not_needed_after: date | None
    version: int
    position: int | None = Field(
        description="Place in the queue (1: next in line); null once the hold is not waiting."
    )

    @classmethod
    def fields_of(cls, hold: Hold) -> dict[str, Any]:
        return {
            "id": hold.id,
            "book_id": hold.book_id,
            "member_id": hold.member_id,
            "status": hold.status,
            "placed_at": hold.placed_at,
            "copy_id": hold.copy_id,
            "ready_at": hold.ready_at,
            "pickup_by": hold.pickup_by,
            "closed_at": hold.closed_at,
            "suspended": hold.suspended,
            "not_needed_after": hold.not_needed_after,
            "version": hold.version,
        }

    @classmethod
    def of(cls, hold: Hold, position: int | None) -> HoldOut:
        return cls(**cls.fields_of(hold), position=position)


class HoldDetail(HoldOut):
    @classmethod
    def of_queued(cls, queued: HoldInQueue) -> HoldDetail:
        return cls(**cls.fields_of(queued.hold), position=queued.position)


class HoldPage(CursorPageMeta):
    items: list[HoldOut]


HOLD_DETAIL_EXAMPLE: dict[str, Any] = HOLD_EXAMPLE
