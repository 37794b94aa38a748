"""The library calendar: its time zone, and the days it is closed.

A loan falls due at the end of a day in the library's own time zone (23:59:59 local), never
on a day the library is closed: such a due date moves to the next open day. Overdue days for
fines count open days only, so a book returned the morning after a closed weekend costs one
day, not three. All instants stay timezone-aware UTC; only dates are local.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidValue, RuleConflict
from domain.values import clean_text, require_utc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
END_OF_DAY = time(23, 59, 59)
_DAY = timedelta(days=1)
# A calendar with every weekday closed has no next open day; single closed dates never run
# longer than this, so the search for one ends.
_LONGEST_CLOSURE = 366


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name`` (``Europe/Paris``), or ``INVALID_VALUE``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidValue("time_zone", f"{name!r} is not an IANA time zone") from error


@dataclass(slots=True, kw_only=True)
class Closure:
    """A day the library is closed: one date (``day``) or a weekday every week (0 = Monday)."""

    id: str
    day: date | None = None
    weekday: int | None = None
    note: str = ""
    version: int = 1

    @classmethod
    def on_date(cls, *, id: str, day: date, note: str = "") -> Closure:
        return cls(id=id, day=day, note=_note(note))

    @classmethod
    def every(cls, *, id: str, weekday: int, note: str = "") -> Closure:
        if not 0 <= weekday <= 6:
            raise InvalidValue("weekday", "weekday must be 0 (Monday) to 6 (Sunday)")
        return cls(id=id, weekday=weekday, note=_note(note))

    @property
    def describes(self) -> str:
        return (
            self.day.isoformat() if self.day is not None else f"every {WEEKDAYS[self.weekday or 0]}"
        )


def _note(note: str) -> str:
    return clean_text("note", note, max_length=200) if note.strip() else ""


@dataclass(frozen=True, slots=True)
class LibraryCalendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    closed_dates: frozenset[date] = frozenset()
    closed_weekdays: frozenset[int] = frozenset()

    @classmethod
    def of(cls, zone_name: str, closures: Iterable[Closure] = ()) -> LibraryCalendar:
        listed = list(closures)
        return cls(
            zone=time_zone(zone_name),
            closed_dates=frozenset(c.day for c in listed if c.day is not None),
            closed_weekdays=frozenset(c.weekday for c in listed if c.weekday is not None),
        )

    def local_date(self, instant: datetime) -> date:
        return require_utc("instant", instant).astimezone(self.zone).date()

    def is_open(self, day: date) -> bool:
        return day.weekday() not in self.closed_weekdays and day not in self.closed_dates

    def next_open_day(self, day: date) -> date:
        """``day`` if the library opens then, else the first open day after it."""
        for _ in range(_LONGEST_CLOSURE + 7):
            if self.is_open(day):
                return day
            day += _DAY
        raise RuleConflict("the calendar has no open day", day=day.isoformat())

    def end_of_day(self, day: date) -> datetime:
        """23:59:59 local on ``day``, as a UTC instant (daylight saving time included)."""
        return datetime.combine(day, END_OF_DAY, tzinfo=self.zone).astimezone(UTC)

    def due_after(self, start: datetime, days: int) -> datetime:
        """The end of the first open day at least ``days`` local days after ``start``."""
        return self.end_of_day(self.next_open_day(self.local_date(start) + days * _DAY))

    def due_on(self, day: date) -> datetime:
        """The end of ``day``, or of the first open day after it."""
        return self.end_of_day(self.next_open_day(day))

    def open_days_late(self, due_at: datetime, until: datetime) -> int:
        """Open local days after the due date's day, up to and including ``until``'s day.

        Why days and not 24-hour periods: a loan is due at the end of a local day, so the first
        day it is late is the next day the library opens, however few minutes past midnight it
        comes back; a closed day costs the borrower nothing, since they could not have returned
        the item then.
        """
        if until <= due_at:
            return 0
        first, last = self.local_date(due_at) + _DAY, self.local_date(until)
        days = 0
        day = first
        while day <= last:
            days += self.is_open(day)
            day += _DAY
        return days


def ensure_some_day_open(closures: Iterable[Closure]) -> None:
    """Refuse closing every weekday: loans could never fall due."""
    if {c.weekday for c in closures if c.weekday is not None} >= set(range(7)):
        raise RuleConflict("the library must open on at least one weekday")
