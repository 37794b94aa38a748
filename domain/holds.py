"""Holds: a member's place in the first-in-first-out queue for a book."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.errors import HoldNotActive
from domain.rules import DEFAULT_CATEGORY
from domain.values import require_utc


class HoldStatus(StrEnum):
    WAITING = "waiting"
    READY = "ready"  # a copy is set aside on the hold shelf until ``pickup_by``
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_HOLD_STATUSES = frozenset({HoldStatus.WAITING, HoldStatus.READY})
_TICK = timedelta(microseconds=1)


@dataclass(slots=True, kw_only=True)
class Hold:
    id: str
    book_id: str
    member_id: str
    placed_at: datetime
    status: HoldStatus = HoldStatus.WAITING
    copy_id: str | None = None
    ready_at: datetime | None = None
    pickup_by: datetime | None = None
    closed_at: datetime | None = None
    # The member's category when the hold was placed: which rule's pickup window it gets.
    member_category: str = DEFAULT_CATEGORY
    # A suspended hold keeps its place in the queue but is passed over when a copy comes free.
    suspended: bool = False
    # The last (local) day the member still wants the book; after it the daily job expires it.
    not_needed_after: date | None = None
    # The instant the queue is ordered by: when the hold was placed, unless staff moved it.
    queued_at: datetime | None = None
    version: int = 1

    def __post_init__(self) -> None:
        if self.queued_at is None:
            self.queued_at = self.placed_at

    @classmethod
    def place(
        cls,
        *,
        id: str,
        book_id: str,
        member_id: str,
        now: datetime,
        member_category: str = DEFAULT_CATEGORY,
        not_needed_after: date | None = None,
    ) -> Hold:
        require_utc("now", now)
        return cls(
            id=id,
            book_id=book_id,
            member_id=member_id,
            placed_at=now,
            member_category=member_category,
            not_needed_after=not_needed_after,
        )

    @property
    def in_line(self) -> bool:
        """Waiting and not suspended: a copy that comes free may be set aside for it."""
        return self.status is HoldStatus.WAITING and not self.suspended

    def suspend(self) -> None:
        """Keep the place in the queue, but let others be served meanwhile."""
        self._require(HoldStatus.WAITING)
        self.suspended = True

    def resume(self) -> None:
        self._require(HoldStatus.WAITING)
        self.suspended = False

    def change_not_needed_after(self, day: date | None) -> None:
        self._require(HoldStatus.WAITING, HoldStatus.READY)
        self.not_needed_after = day

    def no_longer_needed(self, today: date) -> bool:
        """Still waiting after the last day the member wanted the book (``today`` is local)."""
        return (
            self.status is HoldStatus.WAITING
            and self.not_needed_after is not None
            and today > self.not_needed_after
        )

    def lapse(self, now: datetime) -> None:
        """The not-needed-after date passed while the hold waited."""
        self._require(HoldStatus.WAITING)
        self._close(HoldStatus.EXPIRED, now)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_HOLD_STATUSES

    @property
    def queue_key(self) -> tuple[datetime, str]:
        """Order of service: earliest in the queue first (placement, unless staff moved the
        hold), ids (time-ordered) breaking ties."""
        return (self.queued_at or self.placed_at, self.id)

    def queue_after(self, instant: datetime) -> None:
        """Take the first place after ``instant`` (keeping a moved queue strictly ordered)."""
        self._require(HoldStatus.WAITING)
        self.queued_at = instant + _TICK

    def move_between(self, before: datetime | None, after: datetime | None) -> None:
        """Take a place in the queue between holds queued at ``before`` and ``after``."""
        self._require(HoldStatus.WAITING)
        if before is None and after is None:
            return
        if before is None:
            self.queued_at = after - _TICK if after is not None else self.queued_at
        elif after is None:
            self.queued_at = before + _TICK
        else:
            self.queued_at = before + (after - before) / 2

    def make_ready(self, copy_id: str, now: datetime, pickup_window: timedelta) -> None:
        self._require(HoldStatus.WAITING)
        self.status = HoldStatus.READY
        self.copy_id = copy_id
        self.ready_at = now
        self.pickup_by = now + pickup_window

    def requeue(self) -> None:
        """The set-aside copy was lost: wait again, keeping the original place in the queue."""
        self._require(HoldStatus.READY)
        self.status = HoldStatus.WAITING
        self.copy_id = self.ready_at = self.pickup_by = None

    def fulfil(self, now: datetime) -> None:
        """The member borrowed the book: from the hold shelf, or a copy that came free."""
        self._require(HoldStatus.WAITING, HoldStatus.READY)
        self._close(HoldStatus.FULFILLED, now)

    def cancel(self, now: datetime) -> None:
        self._require(HoldStatus.WAITING, HoldStatus.READY)
        self._close(HoldStatus.CANCELLED, now)

    def expire(self, now: datetime) -> None:
        self._require(HoldStatus.READY)
        self._close(HoldStatus.EXPIRED, now)

    def pickup_overdue(self, now: datetime) -> bool:
        return (
            self.status is HoldStatus.READY and self.pickup_by is not None and now > self.pickup_by
        )

    def _close(self, status: HoldStatus, now: datetime) -> None:
        self.status = status
        self.closed_at = now

    def _require(self, *allowed: HoldStatus) -> None:
        if self.status not in allowed:
            raise HoldNotActive(
                f"hold {self.id} is {self.status}", hold_id=self.id, status=str(self.status)
            )
