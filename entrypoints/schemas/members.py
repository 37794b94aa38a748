"""Members and their accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from application.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from domain.members import MAX_EMAIL, Member, MemberStatus, Role
from entrypoints.schemas.common import (
    BodyModel,
    CursorPageMeta,
    CursorPageQuery,
    PathModel,
    ResourceId,
    UtcDateTime,
    omitted,
)

Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=MAX_EMAIL,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        json_schema_extra={"example": "ada@example.org"},
    ),
]
PersonName = Annotated[
    str, Field(min_length=1, max_length=200, json_schema_extra={"example": "Ada Lovelace"})
]
CardNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A library card number: 4-32 letters or digits; spaces and hyphens are "
        "ignored and letters are stored upper case.",
        json_schema_extra={"example": "20000000000018"},
    ),
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="Stored only as an Argon2id hash.",
    ),
]

MEMBER_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
    "email": "ada@example.org",
    "name": "Ada Lovelace",
    "card_number": "20000000000018",
    "role": "member",
    "status": "active",
    "category": "standard",
    "membership_expires_at": "2031-01-01T09:00:00Z",
    "has_password": True,
    "created_at": "2030-01-01T09:00:00Z",
    "updated_at": "2030-01-01T09:00:00Z",
    "version": 1,
}


class MemberPath(PathModel):
    member_id: ResourceId


class MemberCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"email": "ada@example.org", "name": "Ada Lovelace"}
        }
    )

    email: Email
    name: PersonName
    password: Password | None = None
    role: Role = Role.MEMBER
    membership_expires_at: UtcDateTime | None = Field(
        None, description="Default: one membership period from now."
    )
    card_number: CardNumber | None = Field(
        None,
        description="The number of a card already printed; default: a new number in the "
        "library's format (`CIRCULATE_CARD_NUMBER_FORMAT`).",
    )


class MemberPatch(BodyModel):
    """Only the fields given change."""

    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"status": "suspended"}
        }
    )

    # A field left out keeps its value; none of them may be set to null.
    email: Email = omitted()
    name: PersonName = omitted()
    card_number: CardNumber = omitted()
    membership_expires_at: UtcDateTime = omitted()
    role: Role = omitted()
    status: MemberStatus = omitted()

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class MemberQuery(CursorPageQuery):
    q: str | None = Field(None, min_length=1, max_length=200, description="Part of name or email.")
    card_number: CardNumber | None = Field(None, description="The member with this card.")
    role: Role | None = None
    status: MemberStatus | None = None


class MemberOut(BaseModel):
    id: str
    email: str
    name: str
    card_number: str = Field(description="The library card: what the desk scans.")
    role: Role
    status: MemberStatus
    category: str = Field(description="The member category: which circulation rules apply.")
    membership_expires_at: datetime
    has_password: bool = Field(
        description="Whether the member can sign in with a password (which is never shown)."
    )
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            id=member.id,
            email=member.email,
            name=member.name,
            card_number=member.card_number,
            role=member.role,
            status=member.status,
            category=member.category,
            membership_expires_at=member.membership_expires_at,
            has_password=member.password_hash is not None,
            created_at=member.created_at,
            updated_at=member.updated_at,
            version=member.version,
        )


class MemberPage(CursorPageMeta):
    items: list[MemberOut]
