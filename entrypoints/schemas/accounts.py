"""A member's account: its lines, their remaining balances and totals; money moving on it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from application.accounts import Statement
from domain.ledger import MAX_NOTE, ChargeType, EntryKind, LedgerEntry
from entrypoints.schemas.common import BodyModel, JsonInt, PathModel, ResourceId, omitted

Cents = Annotated[JsonInt, Field(ge=1, le=100_000_000, description="Integer cents.")]
Reason = Annotated[str, Field(min_length=1, max_length=MAX_NOTE, description="Kept with the line.")]


class ChargePath(PathModel):
    member_id: ResourceId
    charge_id: ResourceId


class PaymentPath(PathModel):
    member_id: ResourceId
    payment_id: ResourceId


class PaymentCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"amount_cents": 250, "note": "paid at the desk"}
        }
    )

    amount_cents: Cents
    note: str = Field("", max_length=MAX_NOTE)
    charge_id: ResourceId = omitted()  # left out: the oldest charges are paid first


class ChargeCreate(BodyModel):
    """A manual charge by staff; its type is always `manual`."""

    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"amount_cents": 300, "note": "damaged dust jacket"}
        }
    )

    amount_cents: Cents
    note: Reason
    loan_id: ResourceId = omitted()


class WaiverCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"amount_cents": 100, "reason": "first offence"}
        }
    )

    amount_cents: Cents = omitted()  # left out: all that remains of the charge
    reason: Reason


class CancellationCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={"example": {"reason": "charged to the wrong member"}}  # type: ignore[typeddict-unknown-key]
    )

    reason: Reason


class RefundCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={"example": {"reason": "paid twice"}}  # type: ignore[typeddict-unknown-key]
    )

    amount_cents: Cents = omitted()  # left out: all that is left of the payment
    reason: Reason


class AllocationOut(BaseModel):
    charge_id: str
    amount_cents: int


class EntryOut(BaseModel):
    id: str
    kind: EntryKind
    charge_type: ChargeType | None = Field(description="Charges only: what the charge is for.")
    amount_cents: int
    created_at: datetime
    loan_id: str | None
    target_id: str | None = Field(
        description="The charge a waiver or cancellation is for; the payment a refund gives back."
    )
    note: str
    allocations: list[AllocationOut] = Field(
        description="The charges a payment, waiver or cancellation settled, or a refund reopened."
    )
    remaining_cents: int | None = Field(description="Charges only: what is still owed on it.")

    @classmethod
    def of(cls, entry: LedgerEntry, remaining_cents: int | None = None) -> EntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind,
            charge_type=entry.charge_type,
            amount_cents=entry.amount_cents,
            created_at=entry.created_at,
            loan_id=entry.loan_id,
            target_id=entry.target_id,
            note=entry.note,
            allocations=[
                AllocationOut(charge_id=a.charge_id, amount_cents=a.amount_cents)
                for a in entry.allocations
            ],
            remaining_cents=remaining_cents,
        )


class AccruingOut(BaseModel):
    loan_id: str
    amount_cents: int = Field(description="Fine so far on a loan still out past its due date.")


class TotalsOut(BaseModel):
    charges_cents: int
    payments_cents: int
    waived_cents: int
    cancelled_cents: int
    refunded_cents: int


class AccountOut(BaseModel):
    member_id: str
    balance_cents: int = Field(
        description="Posted and owed now, the most a payment may be: the sum of the lines."
    )
    accruing_cents: int = Field(description="Fines growing on loans still out: not yet owed.")
    owed_cents: int = Field(description="Balance plus accruing: what the debt limit looks at.")
    credit_cents: int = Field(description="Paid but allocated to no charge (older payments).")
    totals: TotalsOut
    entries: list[EntryOut] = Field(description="Every line, oldest first.")
    accruing: list[AccruingOut]

    @classmethod
    def of(cls, statement: Statement) -> AccountOut:
        remaining = {c.charge.id: c.remaining_cents for c in statement.charges}
        return cls(
            member_id=statement.member_id,
            balance_cents=statement.balance_cents,
            accruing_cents=statement.accruing_cents,
            owed_cents=statement.owed_cents,
            credit_cents=statement.credit_cents,
            totals=TotalsOut(
                charges_cents=statement.total(EntryKind.CHARGE),
                payments_cents=statement.total(EntryKind.PAYMENT),
                waived_cents=statement.total(EntryKind.WAIVER),
                cancelled_cents=statement.total(EntryKind.CANCELLATION),
                refunded_cents=statement.total(EntryKind.REFUND),
            ),
            entries=[EntryOut.of(e, remaining.get(e.id)) for e in statement.entries],
            accruing=[
                AccruingOut(loan_id=view.loan.id, amount_cents=view.fine_cents)
                for view in statement.accruing
            ],
        )


_CHARGE_ID = "0190f1e2-7c4d-7a8b-9c0d-dddddddddddd"
PAYMENT_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-eeeeeeeeeeee",
    "kind": "payment",
    "charge_type": None,
    "amount_cents": 250,
    "created_at": "2030-02-01T09:00:00Z",
    "loan_id": None,
    "target_id": None,
    "note": "paid at the desk",
    "allocations": [{"charge_id": _CHARGE_ID, "amount_cents": 250}],
    "remaining_cents": None,
}
CHARGE_EXAMPLE: dict[str, Any] = {
    "id": _CHARGE_ID,
    "kind": "charge",
    "charge_type": "overdue",
    "amount_cents": 500,
    "created_at": "2030-01-30T09:00:00Z",
    "loan_id": "0190f1e2-7c4d-7a8b-9c0d-cccccccccccc",
    "target_id": None,
    "note": "overdue fine for copy C-0001",
    "allocations": [],
    "remaining_cents": 250,
}
WAIVER_EXAMPLE: dict[str, Any] = {
    **PAYMENT_EXAMPLE,
    "id": "0190f1e2-7c4d-7a8b-9c0d-eeeeeeeeeeef",
    "kind": "waiver",
    "amount_cents": 100,
    "target_id": _CHARGE_ID,
    "note": "first offence",
    "allocations": [{"charge_id": _CHARGE_ID, "amount_cents": 100}],
}
REFUND_EXAMPLE: dict[str, Any] = {
    **PAYMENT_EXAMPLE,
    "id": "0190f1e2-7c4d-7a8b-9c0d-eeeeeeeeeef0",
    "kind": "refund",
    "target_id": PAYMENT_EXAMPLE["id"],
    "note": "paid twice",
}
ACCOUNT_EXAMPLE: dict[str, Any] = {
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
    "balance_cents": 250,
    "accruing_cents": 50,
    "owed_cents": 300,
    "credit_cents": 0,
    "totals": {
        "charges_cents": 500,
        "payments_cents": 250,
        "waived_cents": 0,
        "cancelled_cents": 0,
        "refunded_cents": 0,
    },
    "entries": [CHARGE_EXAMPLE, PAYMENT_EXAMPLE],
    "accruing": [{"loan_id": "0190f1e2-7c4d-7a8b-9c0d-ffffffffffff", "amount_cents": 50}],
}
