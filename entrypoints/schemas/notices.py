"""Notices and their delivery state (the outbox), as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from application.outbox import Channel, MessageStatus, OutboxMessage
from domain.members import Member
from entrypoints.schemas.common import BodyModel, CursorPageMeta, CursorPageQuery, ResourceId


class NoticeQuery(CursorPageQuery):
    member_id: ResourceId | None = None
    status: MessageStatus | None = None


class NoticeOut(BaseModel):
    id: str = Field(description="Stable across retries: the email's Message-ID is made from it.")
    channel: Channel
    topic: str = Field(
        description="`due_soon`, `overdue`, `hold_ready`, `hold_expiring`, `hold_expired`, "
        "`checkout_receipt`, `return_receipt`"
    )
    member_id: str | None
    subject_id: str | None = Field(description="The loan or hold the notice is about.")
    status: MessageStatus
    attempts: int = Field(ge=0)
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="When a retry is due, while pending.")
    delivered_at: datetime | None
    last_error: str | None = Field(description="Why the last attempt failed or was cancelled.")

    @classmethod
    def of(cls, message: OutboxMessage) -> NoticeOut:
        return cls(
            id=message.id,
            channel=message.channel,
            topic=message.topic,
            member_id=message.member_id,
            subject_id=message.subject_id,
            status=message.status,
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=message.next_attempt_at,
            delivered_at=message.delivered_at,
            last_error=message.last_error,
        )


class NoticePage(CursorPageMeta):
    items: list[NoticeOut]


NOTICE_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6e",
    "channel": "email",
    "topic": "hold_ready",
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    "subject_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c70",
    "status": "delivered",
    "attempts": 1,
    "created_at": "2030-01-05T10:00:00Z",
    "next_attempt_at": None,
    "delivered_at": "2030-01-05T10:00:04Z",
    "last_error": None,
}


class NoticePreferencesIn(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"receipts": True, "overdue": True}
        }
    )

    receipts: StrictBool = Field(description="A receipt by email at each check-out and return.")
    overdue: StrictBool = Field(
        True,
        description="Overdue notices; `false` only where the library lets members opt out "
        "(else 409 `OVERDUE_NOTICES_REQUIRED`).",
    )


class NoticePreferencesOut(BaseModel):
    member_id: str
    receipts: bool
    overdue: bool

    @classmethod
    def of(cls, member: Member) -> NoticePreferencesOut:
        return cls(
            member_id=member.id, receipts=member.notices.receipts, overdue=member.notices.overdue
        )


NOTICE_PREFERENCES_EXAMPLE: dict[str, Any] = {
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    "receipts": True,
    "overdue": True,
}
