"""The outbox: messages that leave the system, written in the transaction of their cause.

A circulation change and the notice it causes commit together (``UnitOfWork.also_write``), so a
crash never loses a notice and a rolled-back change never sends one. A worker then delivers each
message at least once: it takes a lease on a batch (one worker at a time per message), delivers,
and marks the outcome; a worker that dies mid-delivery lets its lease run out and another one
delivers again, under the same message id, so receivers can drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from application.ports import Clock
from application.queries import ListOrder, Page, PageRequest

# Payload values are JSON scalars; datetimes travel as ISO 8601 strings in UTC.
Payload = Mapping[str, str | int | None]


class MessageStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # retries exhausted, or undeliverable: ``last_error`` says why
    CANCELLED = "cancelled"  # no longer true when its turn came (a reminder for a returned loan)


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One message to deliver. ``dedupe_key`` names its cause: a second message with the same
    key is never written, so one event never makes two of the same notice."""

    id: str
    channel: Channel
    topic: str
    dedupe_key: str
    member_id: str | None
    subject_id: str | None  # the loan or hold it is about
    payload: Payload
    created_at: datetime
    status: MessageStatus = MessageStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None  # None: at once
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxFilter:
    member_id: str | None = None
    status: MessageStatus | None = None
    channel: Channel | None = None
    topic: str | None = None


# Notices and webhook deliveries are two lists of one table, each newest first by id: their
# cursors carry different names, so that one list's cursor is not taken by the other.
_ORDERS: dict[Channel | None, ListOrder[OutboxMessage]] = {
    Channel.EMAIL: ListOrder("notices:-id", descending=True),
    Channel.WEBHOOK: ListOrder("webhook-deliveries:-id", descending=True),
    None: ListOrder("outbox:-id", descending=True),
}


def order_of(query: OutboxFilter) -> ListOrder[OutboxMessage]:
    """The order (and cursor name) of the list of messages ``query`` asks for."""
    return _ORDERS[query.channel]


class OutboxStore(Protocol):
    """Delivery bookkeeping, each call its own short transaction (messages are *written* by the
    unit of work of their cause, never here)."""

    def claim(
        self, *, now: datetime, lease: timedelta, worker: str, limit: int
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` pending messages due at ``now`` to ``worker``: no other worker
        gets them until the lease runs out or the outcome is recorded."""
        ...

    def record(
        self,
        message_id: str,
        *,
        worker: str,
        status: MessageStatus,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Record an attempt's outcome (``PENDING`` with ``retry_at`` for a retry) if ``worker``
        still holds the lease; False when it lost it meanwhile."""
        ...

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` some message already carries."""
        ...

    def list(self, query: OutboxFilter, page: PageRequest) -> Page[OutboxMessage]:
        """Messages, newest first."""
        ...

    def purge(self, *, before: datetime) -> int:
        """Forget delivered and cancelled messages created before ``before`` (failed ones stay
        for someone to look at); returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry ``first`` after a failure, doubling up to ``longest``; give up after ``attempts``."""

    attempts: int = 6
    first: timedelta = timedelta(minutes=1)
    longest: timedelta = timedelta(hours=6)

    def retry_at(self, now: datetime, attempts_made: int) -> datetime | None:
        if attempts_made >= self.attempts:
            return None
        delay: timedelta = min(self.first * 2 ** (attempts_made - 1), self.longest)
        return now + delay


class OutboxHousekeeping:
    """The purge job: delivered and cancelled messages are forgotten after ``keep``, so the
    outbox stays the size of its recent traffic (failed ones stay until someone looks)."""

    def __init__(self, outbox: OutboxStore, clock: Clock, keep: timedelta) -> None:
        self._outbox, self._clock, self._keep = outbox, clock, keep

    def purge(self) -> int:
        return self._outbox.purge(before=self._clock.now() - self._keep)
