"""Webhook subscriptions and their deliveries, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from application.outbox import MessageStatus, OutboxMessage
from application.webhooks import EVENT_TYPES, Subscription
from entrypoints.schemas.common import (
    BodyModel,
    CursorPageMeta,
    CursorPageQuery,
    PageMeta,
    PathModel,
    ResourceId,
)

_EVENTS = ", ".join(f"`{name}`" for name in EVENT_TYPES)


class WebhookPath(PathModel):
    webhook_id: ResourceId


class WebhookCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {
                "url": "https://erp.example.org/hooks",
                "events": ["loan.created", "hold.ready"],
            }
        }
    )

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="An http(s) URL whose host resolves only to public addresses.",
    )
    events: list[str] = Field(
        min_length=1, max_length=len(EVENT_TYPES), description=f"Event types among {_EVENTS}."
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime

    @classmethod
    def of(cls, subscription: Subscription) -> WebhookOut:
        return cls(
            id=subscription.id,
            url=subscription.url,
            events=list(subscription.events),
            created_at=subscription.created_at,
        )


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="Signs each delivery. Shown this once: store it now.")

    @classmethod
    def of_created(cls, subscription: Subscription) -> CreatedWebhookOut:
        return cls(**WebhookOut.of(subscription).model_dump(), secret=subscription.secret)


class WebhookPage(PageMeta):
    items: list[WebhookOut]


class DeliveryQuery(CursorPageQuery):
    status: MessageStatus | None = None
    event: str | None = Field(None, max_length=64, description=f"One of {_EVENTS}.")


class DeliveryOut(BaseModel):
    id: str = Field(description="The event id (`Circulate-Event-Id`), the same on every retry.")
    event: str
    subject_id: str | None = Field(description="The loan, hold or member the event is about.")
    status: MessageStatus
    attempts: int = Field(ge=0)
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="When a retry is due, while pending.")
    delivered_at: datetime | None
    last_response: str | None = Field(
        description="Each target's last answer: its status code, or the error that kept it "
        "from answering (`https://erp.example.org/hooks: 503`)."
    )

    @classmethod
    def of(cls, message: OutboxMessage) -> DeliveryOut:
        return cls(
            id=message.id,
            event=message.topic,
            subject_id=message.subject_id,
            status=message.status,
            attempts=message.attempts,
            created_at=message.created_at,
            next_attempt_at=message.next_attempt_at,
            delivered_at=message.delivered_at,
            last_response=message.last_error,
        )


class DeliveryPage(CursorPageMeta):
    items: list[DeliveryOut]


WEBHOOK_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c71",
    "url": "https://erp.example.org/hooks",
    "events": ["hold.ready", "loan.created"],
    "created_at": "2030-01-01T09:00:00Z",
}
CREATED_WEBHOOK_EXAMPLE: dict[str, Any] = {
    **WEBHOOK_EXAMPLE,
    "secret": "q8Zt3Yb0v3rXwKc1m2N4pL6sD8fG0hJ2kL4mN6pQ8rS",
}
DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c72",
    "event": "hold.ready",
    "subject_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c70",
    "status": "delivered",
    "attempts": 1,
    "created_at": "2030-01-05T10:00:00Z",
    "next_attempt_at": None,
    "delivered_at": "2030-01-05T10:00:02Z",
    "last_response": "https://erp.example.org/hooks: 204",
}
