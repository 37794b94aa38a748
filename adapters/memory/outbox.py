"""The outbox in process memory (``MemoryDatabase.outbox``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from adapters.memory.database import MemoryDatabase
from adapters.memory.repositories import in_order
from application.outbox import MessageStatus, OutboxFilter, OutboxMessage, order_of
from application.queries import Page, PageRequest


def write_message(db: MemoryDatabase, message: OutboxMessage) -> Callable[[], None]:
    """Store ``message`` unless one with its ``dedupe_key`` exists; returns its undo."""
    if any(known.dedupe_key == message.dedupe_key for known in db.outbox.values()):
        return lambda: None
    db.outbox[message.id] = message

    def undo() -> None:
        db.outbox.pop(message.id, None)

    return undo


class MemoryOutboxStore:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def claim(
        self, *, now: datetime, lease: timedelta, worker: str, limit: int
    ) -> list[OutboxMessage]:
        with self._db.lock:
            due = sorted(
                (
                    m
                    for m in self._db.outbox.values()
                    if m.status is MessageStatus.PENDING
                    and (m.next_attempt_at is None or m.next_attempt_at <= now)
                    and self._db.outbox_leases.get(m.id, ("", now))[1] <= now
                ),
                key=lambda m: (m.next_attempt_at or m.created_at, m.id),
            )[:limit]
            for message in due:
                self._db.outbox_leases[message.id] = (worker, now + lease)
            return due

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
        with self._db.lock:
            message = self._db.outbox.get(message_id)
            held = self._db.outbox_leases.get(message_id)
            if message is None or held is None or held[0] != worker:
                return False
            del self._db.outbox_leases[message_id]
            self._db.outbox[message_id] = replace(
                message,
                status=status,
                attempts=message.attempts + (status is not MessageStatus.CANCELLED),
                last_error=error,
                next_attempt_at=retry_at,
                delivered_at=now if status is MessageStatus.DELIVERED else None,
            )
            return True

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        with self._db.lock:
            wanted = set(keys)
            return {m.dedupe_key for m in self._db.outbox.values() if m.dedupe_key in wanted}

    def list(self, query: OutboxFilter, page: PageRequest) -> Page[OutboxMessage]:
        with self._db.lock:
            rows = sorted(
                (
                    m
                    for m in self._db.outbox.values()
                    if (query.member_id is None or m.member_id == query.member_id)
                    and (query.status is None or m.status is query.status)
                    and (query.channel is None or m.channel is query.channel)
                    and (query.topic is None or m.topic == query.topic)
                ),
                key=lambda m: m.id,
                reverse=True,
            )
        return in_order(rows, order_of(query), page)

    def purge(self, *, before: datetime) -> int:
        with self._db.lock:
            done = [
                m.id
                for m in self._db.outbox.values()
                if m.status in _FINISHED and m.created_at < before
            ]
            for message_id in done:
                del self._db.outbox[message_id]
            return len(done)


_FINISHED = frozenset({MessageStatus.DELIVERED, MessageStatus.CANCELLED})
