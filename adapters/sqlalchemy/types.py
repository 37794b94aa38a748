"""Column types that give the domain back exactly what it stored, on every dialect."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, Dialect, Interval, String
from sqlalchemy.engine.processors import str_to_datetime
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

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        """SQLAlchemy's chain of the dialect's parse and ``process_result_value``; on SQLite,
        whose dialect parses its text with ``datetime.fromisoformat``, the two in one step.

        The text is parsed with a UTC offset appended, so the instant comes back with
        ``tzinfo=UTC`` at once: a list page reads two instants a row, and ``replace`` after
        the parse cost several times the parse itself. Text it cannot read so (none written
        here) goes through the chain."""
        chain = super().result_processor(dialect, coltype)
        parse = self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)
        if dialect.name != "sqlite" or parse is not str_to_datetime or chain is None:
            return chain
        read = chain
        from_text = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                return from_text(value + "+00:00")
            except (TypeError, ValueError):
                return read(value)

        return process


class StringList(TypeDecorator[list[str]]):
    """A list of strings as a JSON array (``JSONB`` on PostgreSQL, as a variant).

    Written and read as ``JSON`` is, but that on SQLite an array comes back in one step:
    ``JSONDecoder.raw_decode`` on the text, where the dialect's chain (two wrappers around
    ``json.loads``, which looks for whitespace on either side) cost three times as much, twice
    a row on a page of books. Text that is not one array alone goes through the chain."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        chain = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or chain is None:
            return chain
        read = chain
        decode = _JSON_DECODER.raw_decode

        def process(value: Any) -> list[str] | None:
            if value is None:
                return None
            if type(value) is str:
                try:
                    found, end = decode(value)
                except ValueError:
                    found, end = None, -1
                if end == len(value) and type(found) is list:
                    return found
            return read(value)

        return process


_JSON_DECODER = json.JSONDecoder()


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
