"""Member categories, item types and circulation rules."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from domain.calendar import WEEKDAYS, Closure
from domain.rules import ANY, CirculationRule, ItemType, MemberCategory, Resolution
from entrypoints.schemas.common import (
    BodyModel,
    PageMeta,
    PageQuery,
    PathModel,
    QueryModel,
    ResourceId,
    omitted,
)

Code = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="A short lower-case code: letters, digits, `-` and `_`.",
        json_schema_extra={"example": "child"},
    ),
]
CodeOrAny = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="A code, or `any` to match every value.",
        json_schema_extra={"example": "any"},
    ),
]
Label = Annotated[str, Field(min_length=1, max_length=100, json_schema_extra={"example": "Child"})]


def _iso_date_only(value: object) -> object:
    # A JSON date is a "YYYY-MM-DD" string; a number is not a date (however lax parsing reads it).
    if value is not None and not isinstance(value, str | date):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]

CATEGORY_EXAMPLE: dict[str, Any] = {
    "code": "child",
    "name": "Child",
    "loan_limit": 3,
    "debt_limit_cents": 200,
    "retired_at": None,
    "version": 1,
}
ITEM_TYPE_EXAMPLE: dict[str, Any] = {"code": "dvd", "name": "DVD", "retired_at": None, "version": 1}
RULE_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-dddddddddddd",
    "member_category": "any",
    "item_type": "dvd",
    "loan_days": 7,
    "fixed_due_date": None,
    "max_loans": 2,
    "max_renewals": 1,
    "renew_too_soon_days": 2,
    "renewal_days": 7,
    "fine_per_day_cents": 100,
    "grace_days": 0,
    "fine_cap_cents": 1000,
    "holds_allowed": True,
    "max_holds": 5,
    "pickup_window_days": 3,
    "replacement_fee_cents": 2500,
    "processing_fee_cents": 500,
    "version": 1,
}


class CodePath(PathModel):
    code: Code


class RulePath(PathModel):
    rule_id: ResourceId


# --- member categories ---------------------------------------------------------------------


class CategoryCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={"example": {"code": "child", "name": "Child", "loan_limit": 3}}  # type: ignore[typeddict-unknown-key]
    )

    code: Code
    name: Label
    loan_limit: Count | None = Field(
        None, description="Open loans of every type together; null: `CIRCULATE_MAX_OPEN_LOANS`."
    )
    debt_limit_cents: Count | None = Field(
        None, description="Debt that stops borrowing; null: `CIRCULATE_DEBT_LIMIT_CENTS`."
    )


class CategoryPatch(BodyModel):
    """Only the fields given change; a limit set to null falls back to the library default."""

    model_config = ConfigDict(openapi_extra={"example": {"loan_limit": 5}})  # type: ignore[typeddict-unknown-key]

    name: Label = omitted()
    loan_limit: Count | None = None
    debt_limit_cents: Count | None = None

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class CategoryOut(BaseModel):
    code: str
    name: str
    loan_limit: int | None
    debt_limit_cents: int | None
    retired_at: datetime | None
    version: int

    @classmethod
    def of(cls, category: MemberCategory) -> CategoryOut:
        return cls(
            code=category.code,
            name=category.name,
            loan_limit=category.loan_limit,
            debt_limit_cents=category.debt_limit_cents,
            retired_at=category.retired_at,
            version=category.version,
        )


class CategoryPage(PageMeta):
    items: list[CategoryOut]


# --- item types ----------------------------------------------------------------------------


class ItemTypeCreate(BodyModel):
    model_config = ConfigDict(openapi_extra={"example": {"code": "dvd", "name": "DVD"}})  # type: ignore[typeddict-unknown-key]

    code: Code
    name: Label


class ItemTypePatch(BodyModel):
    model_config = ConfigDict(openapi_extra={"example": {"name": "DVD or Blu-ray"}})  # type: ignore[typeddict-unknown-key]

    name: Label = omitted()

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ItemTypeOut(BaseModel):
    code: str
    name: str
    retired_at: datetime | None
    version: int

    @classmethod
    def of(cls, item_type: ItemType) -> ItemTypeOut:
        return cls(
            code=item_type.code,
            name=item_type.name,
            retired_at=item_type.retired_at,
            version=item_type.version,
        )


class ItemTypePage(PageMeta):
    items: list[ItemTypeOut]


class ItemTypeAssign(BodyModel):
    model_config = ConfigDict(openapi_extra={"example": {"item_type": "dvd"}})  # type: ignore[typeddict-unknown-key]

    item_type: Code


class CategoryAssign(BodyModel):
    model_config = ConfigDict(openapi_extra={"example": {"category": "child"}})  # type: ignore[typeddict-unknown-key]

    category: Code


# --- rules -----------------------------------------------------------------------------------


class RuleTerms(BodyModel):
    """A rule's terms; every one left out keeps its value (on create: the default rule's)."""

    loan_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = omitted()
    fixed_due_date: IsoDate | None = omitted()
    max_loans: Count | None = omitted()
    max_renewals: Annotated[StrictInt, Field(ge=0, le=100)] = omitted()
    renew_too_soon_days: Days = omitted()
    renewal_days: Annotated[StrictInt, Field(ge=1, le=3650)] = omitted()
    fine_per_day_cents: Count = omitted()
    grace_days: Days = omitted()
    fine_cap_cents: Count = omitted()
    holds_allowed: StrictBool = omitted()
    max_holds: Annotated[StrictInt, Field(ge=0, le=1000)] = omitted()
    pickup_window_days: Annotated[StrictInt, Field(ge=1, le=365)] = omitted()
    replacement_fee_cents: Count = omitted()
    processing_fee_cents: Count = omitted()

    def terms(self) -> dict[str, Any]:
        given = self.model_fields_set - {"member_category", "item_type"}
        return {name: getattr(self, name) for name in given}


class RuleCreate(RuleTerms):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"member_category": "any", "item_type": "dvd", "loan_days": 7}
        }
    )

    member_category: CodeOrAny
    item_type: CodeOrAny

    def pair(self) -> tuple[str | None, str | None]:
        return (
            None if self.member_category == ANY else self.member_category,
            None if self.item_type == ANY else self.item_type,
        )


class RulePatch(RuleTerms):
    model_config = ConfigDict(openapi_extra={"example": {"loan_days": 14}})  # type: ignore[typeddict-unknown-key]


class RuleOut(BaseModel):
    id: str
    member_category: str = Field(description="A member category code, or `any`.")
    item_type: str = Field(description="An item type code, or `any`.")
    loan_days: int | None
    fixed_due_date: date | None
    max_loans: int | None
    max_renewals: int
    renew_too_soon_days: int
    renewal_days: int
    fine_per_day_cents: int
    grace_days: int
    fine_cap_cents: int
    holds_allowed: bool
    max_holds: int
    pickup_window_days: int
    replacement_fee_cents: int
    processing_fee_cents: int
    version: int

    @classmethod
    def of(cls, rule: CirculationRule) -> RuleOut:
        return cls(
            id=rule.id,
            member_category=rule.member_category or ANY,
            item_type=rule.item_type or ANY,
            version=rule.version,
            **rule.terms(),
        )


class RulePage(PageMeta):
    items: list[RuleOut]


class ResolveQuery(QueryModel):
    member_id: ResourceId
    copy_id: ResourceId


class ResolutionOut(BaseModel):
    member_category: str
    item_type: str
    rule: RuleOut
    reason: str
    candidates: list[str] = Field(description="Ids of every matching rule, most specific first.")

    @classmethod
    def of(cls, resolution: Resolution) -> ResolutionOut:
        return cls(
            member_category=resolution.criteria.member_category,
            item_type=resolution.criteria.item_type,
            rule=RuleOut.of(resolution.rule),
            reason=resolution.reason,
            candidates=[rule.id for rule in resolution.candidates],
        )


RESOLUTION_EXAMPLE: dict[str, Any] = {
    "member_category": "standard",
    "item_type": "dvd",
    "rule": RULE_EXAMPLE,
    "reason": "rule 0190f1e2-7c4d-7a8b-9c0d-dddddddddddd (member category any, item type dvd) "
    "is the most specific of 2 matching rule(s); more named dimensions win, and a named member "
    "category outranks a named item type",
    "candidates": ["0190f1e2-7c4d-7a8b-9c0d-dddddddddddd", "default"],
}


class ListQuery(PageQuery):
    pass


# --- the library calendar --------------------------------------------------------------------

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLOSURE_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-eeeeeeeeeeee",
    "date": "2030-12-25",
    "weekday": None,
    "note": "Christmas",
}


class ClosurePath(PathModel):
    closure_id: ResourceId


class ClosureCreate(BodyModel):
    """A closed day: give `date` (once) or `weekday` (every week)."""

    model_config = ConfigDict(
        openapi_extra={"example": {"date": "2030-12-25", "note": "Christmas"}}  # type: ignore[typeddict-unknown-key]
    )

    date: IsoDate | None = None
    weekday: Weekday | None = None
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.date is None) == (self.weekday is None):
            raise ValueError("give exactly one of date and weekday")
        return self


class ClosureOut(BaseModel):
    id: str
    date: dt.date | None = Field(description="A single closed date.")
    weekday: Weekday | None = Field(description="Closed every week on this day.")
    note: str

    @classmethod
    def of(cls, closure: Closure) -> ClosureOut:
        weekday = WEEKDAYS[closure.weekday] if closure.weekday is not None else None
        return cls(id=closure.id, date=closure.day, weekday=cast(Any, weekday), note=closure.note)


class ClosurePage(PageMeta):
    items: list[ClosureOut]
