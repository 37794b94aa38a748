"""Column types that give the domain back exactly what it stored, on every dialect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, Dialect, Interval, String
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator, TypeEngine

S = TypeVar("S", bound=StrEnum)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant.

    PostgreSQL stores ``timestamptz`` and hands back the session's time zone, which is converted
    to UTC. SQLite has no time zones: the UTC wall time is stored (fixed-width text, so it sorts
    and compares correctly) and ``tzinfo=UTC`` is put back on the way out. Naive datetimes are
    refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(
        self,
        op: OperatorType | None,  # noqa: ARG002 (the signature SQLAlchemy calls)
        value: Any,
    ) -> TypeEngine[Any]:
        """An instant plus or minus a duration: the duration is bound as an interval, not as
        an instant (which it is not, and which ``process_bind_param`` would refuse)."""
        if isinstance(value, timedelta):
            return Interval()
        return self

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 (the signature SQLAlchemy calls)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[S], Generic[S]):
    """A ``StrEnum`` stored as its short string value (a CHECK constraint lists the values)."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[S], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002 (the signature SQLAlchemy calls)
    ) -> str | None:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002 (the signature SQLAlchemy calls)
    ) -> S | None:
        return None if value is None else self.enum(value)


def values_check(column: str, enum: type[StrEnum]) -> str:
    """SQL for a CHECK constraint that ``column`` holds one of ``enum``'s values."""
    listed = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({listed})"
