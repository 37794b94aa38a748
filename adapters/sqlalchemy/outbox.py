"""The outbox in the database, shared by every worker and host.

A message is written by the unit of work of its cause (``write_message``, an
``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING``, so one cause never makes two messages and a
duplicate never fails the change). Workers lease due messages with one UPDATE whose inner SELECT
locks with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers take disjoint batches
without waiting on each other; SQLite runs one writer at a time, so the same UPDATE is atomic
there. An outcome is recorded only by the worker still holding the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Engine, Table, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy.models import OutboxMessageRow
from adapters.sqlalchemy.paging import newest_first
from application.outbox import Channel, MessageStatus, OutboxFilter, OutboxMessage, order_of
from application.queries import Page, PageRequest

TABLE = cast(Table, OutboxMessageRow.__table__)


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        channel=Channel(row.channel),
        topic=row.topic,
        dedupe_key=row.dedupe_key,
        member_id=row.member_id,
        subject_id=row.subject_id,
        payload=dict(row.payload),
        created_at=row.created_at,
        status=MessageStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


# Per dialect, built once: a statement made per message costs more to build and key than to run.
_INSERTS = {
    "postgresql": postgresql.insert(TABLE).on_conflict_do_nothing(
        index_elements=[TABLE.c.dedupe_key]
    ),
    "sqlite": sqlite.insert(TABLE).on_conflict_do_nothing(index_elements=[TABLE.c.dedupe_key]),
}


# The columns a new message sets (the lease columns start empty).
WRITTEN_COLUMNS = (
    "id",
    "channel",
    "topic",
    "dedupe_key",
    "member_id",
    "subject_id",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "delivered_at",
)


def values_of(message: OutboxMessage) -> dict[str, Any]:
    """A new message's row: a value for each of ``WRITTEN_COLUMNS``."""
    return {
        "id": message.id,
        "channel": message.channel.value,
        "topic": message.topic,
        "dedupe_key": message.dedupe_key,
        "member_id": message.member_id,
        "subject_id": message.subject_id,
        "payload": dict(message.payload),
        "status": message.status.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_error": message.last_error,
        "created_at": message.created_at,
        "delivered_at": message.delivered_at,
    }


def write_message(connection: Connection, message: OutboxMessage) -> None:
    """Insert ``message`` in ``connection``'s (the change's) transaction, unless its cause
    already made one."""
    connection.execute(
        _INSERTS["postgresql" if connection.dialect.name == "postgresql" else "sqlite"],
        values_of(message),
    )


class SqlOutboxStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(
        self, *, now: datetime, lease: timedelta, worker: str, limit: int
    ) -> list[OutboxMessage]:
        due = (
            select(TABLE.c.id)
            .where(
                TABLE.c.status == MessageStatus.PENDING.value,
                or_(TABLE.c.next_attempt_at.is_(None), TABLE.c.next_attempt_at <= now),
                or_(TABLE.c.locked_until.is_(None), TABLE.c.locked_until <= now),
            )
            .order_by(TABLE.c.next_attempt_at, TABLE.c.id)
            .limit(limit)
        )
        if self._engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            rows = connection.execute(
                update(TABLE)
                .where(TABLE.c.id.in_(due.scalar_subquery()))
                .values(locked_by=worker, locked_until=now + lease)
                .returning(*TABLE.c)
            ).all()
        return sorted((_message(row) for row in rows), key=lambda m: m.id)

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
        attempted = 0 if status is MessageStatus.CANCELLED else 1
        with self._engine.begin() as connection:
            result = connection.execute(
                update(TABLE)
                .where(TABLE.c.id == message_id, TABLE.c.locked_by == worker)
                .values(
                    status=status.value,
                    attempts=TABLE.c.attempts + attempted,
                    last_error=error,
                    next_attempt_at=retry_at,
                    delivered_at=now if status is MessageStatus.DELIVERED else None,
                    locked_by=None,
                    locked_until=None,
                )
            )
        return result.rowcount == 1

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        with self._engine.connect() as connection:
            return set(
                connection.scalars(
                    select(TABLE.c.dedupe_key).where(TABLE.c.dedupe_key.in_(list(keys)))
                )
            )

    def list(self, query: OutboxFilter, page: PageRequest) -> Page[OutboxMessage]:
        conditions: list[ColumnElement[bool]] = []
        if query.member_id is not None:
            conditions.append(TABLE.c.member_id == query.member_id)
        if query.status is not None:
            conditions.append(TABLE.c.status == query.status.value)
        if query.channel is not None:
            conditions.append(TABLE.c.channel == query.channel.value)
        if query.topic is not None:
            conditions.append(TABLE.c.topic == query.topic)
        order = order_of(query)
        with self._engine.connect() as connection:
            after = order.after(page)
            rows, total, exact = newest_first(connection, TABLE, conditions, page, after)
        found = Page(
            items=[_message(row) for row in rows],
            total=total,
            page=page.page,
            per_page=page.per_page,
            total_exact=exact,
        )
        return order.paged(found)

    def purge(self, *, before: datetime) -> int:
        finished = [MessageStatus.DELIVERED.value, MessageStatus.CANCELLED.value]
        with self._engine.begin() as connection:
            result = connection.execute(
                delete(TABLE).where(TABLE.c.status.in_(finished), TABLE.c.created_at < before)
            )
        return result.rowcount
