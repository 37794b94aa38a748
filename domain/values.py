"""Small value helpers shared by the entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final

from domain.errors import InvalidValue


class Unset(Enum):
    """Marks an optional argument the caller did not give (``None`` is a real value)."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET


def clean_text(field: str, value: str, *, max_length: int) -> str:
    """Strip ``value`` and require it to be non-empty and at most ``max_length`` characters."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidValue(field, f"{field} must not be empty")
    if len(cleaned) > max_length:
        raise InvalidValue(field, f"{field} must be at most {max_length} characters")
    return cleaned


def require_utc(field: str, value: datetime) -> datetime:
    """Refuse naive datetimes: every instant in the domain is timezone-aware UTC."""
    if value.tzinfo is UTC:  # the clock's own instants, a bulk load's hundreds of thousands
        return value
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise InvalidValue(field, f"{field} must be a timezone-aware UTC datetime")
    return value
