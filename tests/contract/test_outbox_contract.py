"""The outbox on every adapter: messages commit with their cause, once per cause, and each is
leased to one worker at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine

from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.outbox import MemoryOutboxStore
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.outbox import SqlOutboxStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.notices import NoticeRouter
from application.outbox import (
    Channel,
    MessageStatus,
    OutboxFilter,
    OutboxMessage,
    OutboxStore,
)
from application.queries import PageRequest
from application.unit_of_work import UnitOfWork
from domain.errors import InvalidValue
from domain.events import HoldReady
from tests.contract.builders import book
from tests.contract.paging import assert_walks_the_list
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
ids = UuidV7Generator()

Adapter = tuple[Callable[[], UnitOfWork], OutboxStore]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    router = NoticeRouter(ids)
    if request.param == "memory":
        db = MemoryDatabase()
        yield (lambda: MemoryUnitOfWork(db, records_for_events=router)), MemoryOutboxStore(db)
        return
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)
    yield (lambda: SqlUnitOfWork(sessions, records_for_events=router)), SqlOutboxStore(engine)


def message(key: str, member: str = "m1", **changes: object) -> OutboxMessage:
    values: dict[str, object] = {
        "id": ids.new_id(),
        "channel": Channel.EMAIL,
        "topic": "due_soon",
        "dedupe_key": key,
        "member_id": member,
        "subject_id": "loan-1",
        "payload": {"loan_id": "loan-1", "fine_cents": 25, "note": None},
        "created_at": NOW,
    }
    values.update(changes)
    return OutboxMessage(**values)  # type: ignore[arg-type]


def write(new_uow: Callable[[], UnitOfWork], *messages: OutboxMessage) -> None:
    with new_uow() as uow:
        uow.also_write(*messages)
        uow.commit()


def everything(store: OutboxStore) -> list[OutboxMessage]:
    return list(store.list(OutboxFilter(), PageRequest(per_page=100)).items)


def test_a_message_commits_with_the_change_or_not_at_all(adapter: Adapter) -> None:
    new_uow, store = adapter
    with new_uow() as uow:
        uow.books.add(book())
        uow.also_write(message("a"))
    assert everything(store) == []

    with new_uow() as uow:
        uow.books.add(book())
        uow.also_write(message("a"))
        uow.commit()

    [stored] = everything(store)
    assert stored.payload == {"loan_id": "loan-1", "fine_cents": 25, "note": None}
    assert (stored.status, stored.attempts, stored.created_at) == (MessageStatus.PENDING, 0, NOW)


def test_events_become_messages_in_their_transaction(adapter: Adapter) -> None:
    new_uow, store = adapter
    ready = HoldReady(NOW, hold_id="h1", copy_id="c1", member_id="m1", pickup_by=NOW)
    for _ in range(2):
        with new_uow() as uow:
            uow.emit(ready)
            uow.commit()

    stored, event = sorted(everything(store), key=lambda m: m.channel)  # email, webhook
    assert (stored.channel, stored.topic, stored.subject_id) == (Channel.EMAIL, "hold_ready", "h1")
    assert (event.channel, event.topic, event.subject_id) == (Channel.WEBHOOK, "hold.ready", "h1")
    assert store.known_keys([stored.dedupe_key, "other"]) == {stored.dedupe_key}


def test_one_cause_makes_one_message_and_never_fails_its_change(adapter: Adapter) -> None:
    new_uow, store = adapter
    write(new_uow, message("same"))
    write(new_uow, message("same"), message("other"))

    assert sorted(m.dedupe_key for m in everything(store)) == ["other", "same"]


def test_each_message_is_leased_to_one_worker_at_a_time(adapter: Adapter) -> None:
    new_uow, store = adapter
    write(new_uow, message("a"), message("b"), message("c", next_attempt_at=NOW + LEASE))

    first = store.claim(now=NOW, lease=LEASE, worker="w1", limit=10)
    second = store.claim(now=NOW, lease=LEASE, worker="w2", limit=10)
    assert sorted(m.dedupe_key for m in first) == ["a", "b"]
    assert second == []

    assert store.record(first[0].id, worker="w1", status=MessageStatus.DELIVERED, now=NOW)
    # w1 died holding "b": when its lease runs out, "b" (and "c", due then) go to w2.
    later = store.claim(now=NOW + LEASE, lease=LEASE, worker="w2", limit=10)
    assert sorted(m.dedupe_key for m in later) == ["b", "c"]
    assert not store.record(first[1].id, worker="w1", status=MessageStatus.DELIVERED, now=NOW)


def test_outcomes_are_recorded_and_listed(adapter: Adapter) -> None:
    new_uow, store = adapter
    write(new_uow, message("a", member="m1"), message("b", member="m2"))
    a, b = sorted(store.claim(now=NOW, lease=LEASE, worker="w", limit=10), key=lambda m: m.id)

    store.record(a.id, worker="w", status=MessageStatus.DELIVERED, now=NOW)
    store.record(
        b.id,
        worker="w",
        status=MessageStatus.PENDING,
        now=NOW,
        error="SMTPServerDisconnected: gone",
        retry_at=NOW + LEASE,
    )

    delivered = store.list(OutboxFilter(status=MessageStatus.DELIVERED), PageRequest())
    assert [(m.id, m.attempts, m.delivered_at) for m in delivered.items] == [(a.id, 1, NOW)]
    retried = store.list(OutboxFilter(member_id="m2"), PageRequest())
    assert retried.total == 1
    assert (retried.items[0].last_error, retried.items[0].next_attempt_at) == (
        "SMTPServerDisconnected: gone",
        NOW + LEASE,
    )
    assert store.claim(now=NOW, lease=LEASE, worker="w", limit=10) == []
    assert [m.id for m in store.claim(now=NOW + LEASE, lease=LEASE, worker="w", limit=10)] == [b.id]


def test_purge_forgets_old_delivered_and_cancelled_messages_only(adapter: Adapter) -> None:
    new_uow, store = adapter
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=1)
    write(
        new_uow,
        message("old-delivered", status=MessageStatus.DELIVERED, created_at=old),
        message("old-cancelled", status=MessageStatus.CANCELLED, created_at=old),
        message("old-failed", status=MessageStatus.FAILED, created_at=old),
        message("old-pending", created_at=old),
        message("recent-delivered", status=MessageStatus.DELIVERED, created_at=recent),
    )

    assert store.purge(before=NOW - timedelta(days=30)) == 2

    kept = {m.dedupe_key for m in everything(store)}
    assert kept == {"old-failed", "old-pending", "recent-delivered"}


def test_the_list_filters_by_topic(adapter: Adapter) -> None:
    new_uow, store = adapter
    write(new_uow, message("a"), message("b", topic="overdue"))

    found = store.list(OutboxFilter(topic="overdue"), PageRequest())

    assert (found.total, [m.dedupe_key for m in found.items]) == (1, ["b"])


def test_notices_and_deliveries_page_by_cursor_each_their_own(adapter: Adapter) -> None:
    new_uow, store = adapter
    write(new_uow, *(message(f"n{n}") for n in range(4)))
    write(new_uow, *(message(f"w{n}", channel=Channel.WEBHOOK) for n in range(3)))
    notices, deliveries = OutboxFilter(channel=Channel.EMAIL), OutboxFilter(channel=Channel.WEBHOOK)
    for query in (notices, deliveries):
        newest_first = [m.id for m in store.list(query, PageRequest(per_page=100)).items]
        assert_walks_the_list(partial(store.list, query), newest_first)
    first = store.list(notices, PageRequest(1, 1))
    assert first.next_cursor is not None
    with pytest.raises(InvalidValue) as refused:
        store.list(deliveries, PageRequest.starting_at(first.next_cursor, 1))
    assert refused.value.field == "after"
