"""The audit trail, as the API shows it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from application.audit import AuditFilter, AuditRecord
from entrypoints.schemas.common import CursorPageMeta, CursorPageQuery, Timestamp, UtcDateTime


class AuditQuery(CursorPageQuery):
    entity_type: str | None = Field(
        None, min_length=1, max_length=64, description="`loan`, `member`, `api_key`, ..."
    )
    entity_id: str | None = Field(None, min_length=1, max_length=64)
    actor: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="`member:<id>`, `api_key:<id>`, `service_client:<id>`, `cli:<user>`, "
        "`job:<name>`, ...",
    )
    action: str | None = Field(
        None, min_length=1, max_length=64, description="`book_lent`, `member_anonymised`, ..."
    )
    since: UtcDateTime | None = Field(None, description="From this instant (inclusive).")
    until: UtcDateTime | None = Field(None, description="Before this instant (exclusive).")

    def filter(self) -> AuditFilter:
        return AuditFilter(
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            actor=self.actor,
            action=self.action,
            since=self.since,
            until=self.until,
        )


class AuditEventOut(BaseModel):
    id: str
    occurred_at: Timestamp
    actor: str = Field(description="Who acted: `member:<id>`, `api_key:<id>`, `cli:<user>`, ...")
    action: str = Field(description="What happened: the domain event, in snake case.")
    entity_type: str | None = Field(description="What it happened to.")
    entity_id: str | None
    request_id: str | None = Field(description="The X-Request-ID of the request that did it.")
    details: dict[str, str | int | bool | None] = Field(
        description="The event's other fields (ids, codes, amounts; never personal data)."
    )

    @classmethod
    def of(cls, record: AuditRecord) -> AuditEventOut:
        return cls(
            id=record.id,
            occurred_at=record.occurred_at,
            actor=record.actor,
            action=record.action,
            entity_type=record.entity_type,
            entity_id=record.entity_id,
            request_id=record.request_id,
            details=dict(record.details),
        )


class AuditEventPage(CursorPageMeta):
    items: list[AuditEventOut]


AUDIT_EVENT_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c71",
    "occurred_at": "2030-01-05T10:00:00Z",
    "actor": "member:0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6a",
    "action": "book_lent",
    "entity_type": "loan",
    "entity_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c70",
    "request_id": "3f2c9a7d1e4b4c2a9f0e8d7c6b5a4f3e",
    "details": {
        "loan_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c70",
        "copy_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6f",
        "member_id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    },
}
