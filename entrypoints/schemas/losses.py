"""Lost items: a loan declared lost and what it cost, a lost copy found again."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from application.losses import Recovery
from entrypoints.schemas.accounts import CHARGE_EXAMPLE, EntryOut
from entrypoints.schemas.books import COPY_EXAMPLE, CopyOut
from entrypoints.schemas.loans import LOAN_EXAMPLE, LoanOut


class LossOut(BaseModel):
    """A loan declared lost, and what was charged for it."""

    loan: LoanOut
    charges: list[EntryOut] = Field(
        description="The overdue fine, the replacement fee and the processing fee charged "
        "(each only when not zero)."
    )


LOSS_EXAMPLE: dict[str, Any] = {
    "loan": {
        **LOAN_EXAMPLE,
        "returned_at": "2030-02-20T09:00:00Z",
        "status": "lost",
        "fine_cents": 700,
        "version": 2,
    },
    "charges": [
        {**CHARGE_EXAMPLE, "amount_cents": 700, "remaining_cents": 700},
        {
            **CHARGE_EXAMPLE,
            "id": "0190f1e2-7c4d-7a8b-9c0d-ddddddddddde",
            "charge_type": "lost",
            "amount_cents": 2500,
            "note": "replacement fee for copy C-0001",
            "remaining_cents": 2500,
        },
    ],
}


class RecoveryOut(BaseModel):
    """A lost copy found: where it goes, and what became of its replacement fee."""

    # ``copy`` would shadow BaseModel.copy: the field has another name and ``copy`` as alias.
    model_config = ConfigDict(serialize_by_alias=True, validate_by_alias=True)

    copy_: CopyOut = Field(alias="copy", description="Available, or on the hold shelf.")
    loan_id: str | None = Field(description="The loan it was lost on, if it was lost on loan.")
    cancelled_cents: int = Field(description="Of the replacement fee, no longer owed.")
    refunded_cents: int = Field(description="Of the replacement fee, given back to the member.")
    hold_id: str | None = Field(description="The first waiting hold, now ready with this copy.")
    member_id: str | None = Field(
        description="Whom the hold is for: the copy goes to the hold shelf."
    )

    @classmethod
    def of(cls, recovery: Recovery) -> RecoveryOut:
        return cls.model_validate(
            {
                "copy": CopyOut.of(recovery.copy),
                "loan_id": recovery.loan_id,
                "cancelled_cents": recovery.cancelled_cents,
                "refunded_cents": recovery.refunded_cents,
                "hold_id": recovery.hold.id if recovery.hold else None,
                "member_id": recovery.hold.member_id if recovery.hold else None,
            }
        )


RECOVERY_EXAMPLE: dict[str, Any] = {
    "copy": {**COPY_EXAMPLE, "status": "on_hold_shelf", "version": 4},
    "loan_id": LOAN_EXAMPLE["id"],
    "cancelled_cents": 2500,
    "refunded_cents": 0,
    "hold_id": "0190f1e2-7c4d-7a8b-9c0d-999999999999",
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbc",
}
