"""Records written with a commit (``also_write`` / ``riding_with_next_commit``): in the same
transaction as the change, on every adapter. The idempotency mark is the first such record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.idempotency import (
    IdempotencyKeyTaken,
    IdempotencyStore,
    KeyState,
    KeyUsed,
)
from application.queries import BookFilter, PageRequest
from application.unit_of_work import UnitOfWork, riding_with_next_commit
from tests.contract.builders import book
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=60)

Adapter = tuple[Callable[[], UnitOfWork], IdempotencyStore]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    if request.param == "memory":
        db = MemoryDatabase()
        keys = MemoryIdempotencyStore()
        yield (lambda: MemoryUnitOfWork(db, idempotency=keys)), keys
        return
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)
    yield (lambda: SqlUnitOfWork(sessions)), SqlIdempotencyStore(engine)


def _claim(keys: IdempotencyStore, token: str, now: datetime = NOW) -> bool:
    held = keys.claim(
        scope="s", key="k", fingerprint="f", now=now, ttl=TTL, lease=LEASE, token=token
    )
    return held is None


def _state(keys: IdempotencyStore) -> KeyState:
    held = keys.claim(scope="s", key="k", fingerprint="f", now=NOW, ttl=TTL, lease=LEASE, token="x")
    assert held is not None
    return held.state


def _books(new_uow: Callable[[], UnitOfWork]) -> int:
    with new_uow() as uow:
        return uow.books.search(BookFilter(), PageRequest()).total


def test_the_key_is_used_up_in_the_transaction_that_commits_the_change(
    adapter: Adapter,
) -> None:
    new_uow, keys = adapter
    assert _claim(keys, "mine")

    with riding_with_next_commit(KeyUsed("s", "k", "mine")) as riders, new_uow() as uow:
        uow.books.add(book())
        uow.commit()

    assert riders.written
    assert _state(keys) is KeyState.COMPLETED
    assert _books(new_uow) == 1


def test_no_commit_leaves_the_key_in_flight(adapter: Adapter) -> None:
    new_uow, keys = adapter
    assert _claim(keys, "mine")

    with riding_with_next_commit(KeyUsed("s", "k", "mine")) as riders, new_uow() as uow:
        uow.books.add(book())

    assert not riders.written
    assert _state(keys) is KeyState.IN_FLIGHT
    assert _books(new_uow) == 0


def test_a_claim_taken_over_commits_nothing(adapter: Adapter) -> None:
    new_uow, keys = adapter
    assert _claim(keys, "slow")
    assert _claim(keys, "retry", now=NOW + LEASE)  # the slow request's lease ran out

    with riding_with_next_commit(KeyUsed("s", "k", "slow")), new_uow() as uow:
        uow.books.add(book())
        with pytest.raises(IdempotencyKeyTaken):
            uow.commit()

    assert _books(new_uow) == 0
    assert _state(keys) is KeyState.IN_FLIGHT  # still the retry's, to use up


def test_records_ride_with_one_commit_only(adapter: Adapter) -> None:
    new_uow, keys = adapter
    assert _claim(keys, "mine")

    with riding_with_next_commit(KeyUsed("s", "k", "mine")):
        with new_uow() as uow:
            uow.books.add(book(isbn="9780131103627"))
            uow.commit()
        with new_uow() as uow:  # the key is used up: writing it again would be refused
            uow.books.add(book(isbn="9780262033848"))
            uow.commit()

    assert _books(new_uow) == 2


def test_a_record_the_adapter_does_not_know_fails_the_commit(adapter: Adapter) -> None:
    new_uow, _ = adapter

    with new_uow() as uow:
        uow.books.add(book())
        uow.also_write(object())
        with pytest.raises(TypeError):
            uow.commit()

    assert _books(new_uow) == 0
