"""The idempotency-key store, the same behaviour in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, event

from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
from application.idempotency import IdempotencyRecord, IdempotencyStore, KeyState
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=60)
TOKEN = "the-first-claim"
# Opaque to the store: any bytes, NUL and non-UTF-8 ones included, come back as they went in.
RESULT = b'201 {"id":"1"}\x00\xff'


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    if request.param == "memory":
        yield MemoryIdempotencyStore()
        return
    url: str = request.getfixturevalue(f"migrated_{request.param}_url")
    engine = create_engine_for(url)
    empty_tables(engine)
    yield SqlIdempotencyStore(engine)
    engine.dispose()


def _claim(
    store: IdempotencyStore,
    key: str = "k",
    *,
    fingerprint: str = "f1",
    now: datetime = NOW,
    scope: str = "anonymous",
    token: str = TOKEN,
) -> IdempotencyRecord | None:
    return store.claim(
        scope=scope, key=key, fingerprint=fingerprint, now=now, ttl=TTL, lease=LEASE, token=token
    )


def test_the_first_claim_owns_the_key_and_a_second_sees_it_in_flight(
    store: IdempotencyStore,
) -> None:
    assert _claim(store) is None

    held = _claim(store, fingerprint="f2")

    assert held is not None
    assert (held.state, held.fingerprint, held.result) == (KeyState.IN_FLIGHT, "f1", None)
    assert held.expires_at == NOW + TTL


def test_a_completed_key_returns_its_result(store: IdempotencyStore) -> None:
    _claim(store)
    store.complete(scope="anonymous", key="k", token=TOKEN, result=RESULT)

    held = _claim(store)

    assert held is not None
    assert held.state is KeyState.COMPLETED
    assert held.result == RESULT


def test_a_released_key_can_be_claimed_again(store: IdempotencyStore) -> None:
    _claim(store)
    store.release(scope="anonymous", key="k", token=TOKEN)

    assert _claim(store, fingerprint="f2") is None
    held = _claim(store)
    assert held is not None
    assert held.fingerprint == "f2"


def test_an_expired_key_is_claimed_afresh(store: IdempotencyStore) -> None:
    _claim(store)
    store.complete(scope="anonymous", key="k", token=TOKEN, result=RESULT)

    assert _claim(store, now=NOW + TTL - timedelta(seconds=1)) is not None
    assert _claim(store, fingerprint="f2", now=NOW + TTL) is None
    held = _claim(store, now=NOW + TTL)
    assert held is not None
    assert (held.fingerprint, held.state) == ("f2", KeyState.IN_FLIGHT)


def test_an_abandoned_claim_is_taken_over_after_the_lease(store: IdempotencyStore) -> None:
    _claim(store)

    assert _claim(store, now=NOW + LEASE - timedelta(seconds=1)) is not None
    assert _claim(store, now=NOW + LEASE) is None


def test_keys_of_different_scopes_do_not_meet(store: IdempotencyStore) -> None:
    assert _claim(store, scope="member:1") is None
    assert _claim(store, scope="member:2") is None


def test_of_concurrent_claims_exactly_one_wins(store: IdempotencyStore) -> None:
    results: list[object] = []
    barrier = threading.Barrier(6)

    def contender() -> None:
        barrier.wait()
        results.append(_claim(store, key="race", token=secrets.token_hex(16)))

    threads = [threading.Thread(target=contender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result is None for result in results) == 1
    assert len(results) == 6


def test_of_concurrent_takeovers_exactly_one_wins(store: IdempotencyStore) -> None:
    _claim(store, key="stale")
    later = NOW + LEASE
    results: list[object] = []
    barrier = threading.Barrier(4)

    def contender() -> None:
        barrier.wait()
        results.append(_claim(store, key="stale", now=later, token=secrets.token_hex(16)))

    threads = [threading.Thread(target=contender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result is None for result in results) == 1


def test_a_claim_taken_over_can_neither_complete_nor_release_the_key(
    store: IdempotencyStore,
) -> None:
    _claim(store, token="slow")
    assert _claim(store, now=NOW + LEASE, token="retry") is None

    store.complete(scope="anonymous", key="k", token="slow", result=RESULT)
    store.release(scope="anonymous", key="k", token="slow")

    held = _claim(store, now=NOW + LEASE, token="third")
    assert held is not None
    assert (held.state, held.token, held.result) == (KeyState.IN_FLIGHT, "retry", None)


@pytest.mark.postgres
def test_on_postgresql_each_step_is_one_statement_outside_a_transaction(
    migrated_postgres_url: str,
) -> None:
    # One round trip each: no BEGIN before the statement, no COMMIT after it.
    engine = create_engine_for(migrated_postgres_url)
    empty_tables(engine)
    store = SqlIdempotencyStore(engine)
    sent: list[tuple[str, bool]] = []

    def record(connection: Connection, _cursor: object, statement: str, *_: object) -> None:
        driver = connection.connection.driver_connection
        sent.append((statement.split()[0], getattr(driver, "autocommit", False)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _claim(store) is None
        store.complete(scope="anonymous", key="k", token=TOKEN, result=RESULT)
        assert _claim(store, token="another") is not None
        assert _claim(store, key="k2") is None
        store.release(scope="anonymous", key="k2", token=TOKEN)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        engine.dispose()
    assert sent == [
        ("INSERT", True),
        ("UPDATE", True),
        ("INSERT", True),
        ("SELECT", True),
        ("INSERT", True),
        ("DELETE", True),
    ]
