"""One contract for every revocation store: in-process memory, SQLite, PostgreSQL and Redis.

Redis is the one at ``CIRCULATE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); each
test uses its own key prefix and removes its keys. A Redis that does not answer fails the tests;
it never skips them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine

from adapters.clock import ManualClock
from adapters.memory.identity import MemoryRevocationStore
from adapters.redis_store import RedisRevocationStore, redis_client
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.identity import SqlRevocationStore
from application.identity.ports import RevocationStore
from tests.databases import empty_tables, temporary_postgres_database

REDIS_URL_VARIABLE = "CIRCULATE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('revocations') / 'circulate.db'}"
    migrate.upgrade(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Engine]:
    with temporary_postgres_database() as url:
        migrate.upgrade(url)
        engine = create_engine_for(url)
        yield engine
        engine.dispose()


@pytest.fixture
def redis() -> Iterator[Redis]:
    url = os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL
    client = redis_client(url)
    try:
        client.ping()
    except RedisError as error:
        client.close()
        pytest.fail(
            f"Redis at {url} is not usable ({error}). Start it (`make services`) or point "
            f"{REDIS_URL_VARIABLE} at one.",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis: Redis) -> Iterator[str]:
    prefix = f"circulate-test:{secrets.token_hex(6)}:"
    yield prefix
    for key in redis.scan_iter(match=prefix + "*"):
        redis.delete(key)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"]
)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(request: pytest.FixtureRequest, backend: str, clock: ManualClock) -> RevocationStore:
    if backend == "memory":
        return MemoryRevocationStore(clock)
    if backend == "redis":
        client: Redis = request.getfixturevalue("redis")
        return RedisRevocationStore(client, clock, prefix=request.getfixturevalue("redis_prefix"))
    engine: Engine = request.getfixturevalue(f"{backend}_engine")
    empty_tables(engine)
    return SqlRevocationStore(engine, clock)


def test_a_revoked_identifier_is_refused_and_others_are_not(
    store: RevocationStore, clock: ManualClock
) -> None:
    store.revoke("jti:one", clock.now() + MINUTE)

    assert store.any_revoked(["jti:one"])
    assert store.any_revoked(["jti:other", "jti:one"])
    assert not store.any_revoked(["jti:other"])
    assert not store.any_revoked([])


def test_revoking_twice_keeps_the_later_expiry(store: RevocationStore, clock: ManualClock) -> None:
    store.revoke("sid:one", clock.now() + MINUTE)
    store.revoke("sid:one", clock.now() + 2 * MINUTE)
    store.revoke("jti:one", clock.now() + MINUTE)
    store.revoke("jti:one", clock.now() + MINUTE)  # the same token revoked twice

    assert store.any_revoked(["sid:one"])
    assert store.any_revoked(["jti:one"])


def test_an_already_expired_revocation_is_not_kept(
    store: RevocationStore, clock: ManualClock
) -> None:
    store.revoke("jti:old", clock.now() - MINUTE)
    store.revoke("jti:now", clock.now())
    assert not store.any_revoked(["jti:old", "jti:now"])


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_revocations_lapse_when_they_expire(store: RevocationStore, clock: ManualClock) -> None:
    store.revoke("jti:short", clock.now() + MINUTE)
    store.revoke("jti:long", clock.now() + 2 * MINUTE)

    clock.advance(MINUTE)
    assert not store.any_revoked(["jti:short"])
    assert store.any_revoked(["jti:long"])


def test_expired_rows_are_deleted_as_new_ones_arrive(
    sqlite_engine: Engine, clock: ManualClock
) -> None:
    empty_tables(sqlite_engine)
    store = SqlRevocationStore(sqlite_engine, clock)
    store.revoke("jti:old", clock.now() + MINUTE)
    clock.advance(2 * MINUTE)

    store.revoke("jti:new", clock.now() + MINUTE)

    with sqlite_engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT identifier FROM revoked_tokens").scalars().all()
    assert rows == ["jti:new"]


def test_redis_expires_each_revocation_itself(
    redis: Redis, redis_prefix: str, clock: ManualClock
) -> None:
    store = RedisRevocationStore(redis, clock, prefix=redis_prefix)

    store.revoke("jti:one", clock.now() + MINUTE)

    remaining = redis.pttl(redis_prefix + "jti:one")
    assert 59_000 < remaining <= 60_000


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"]
)
def test_what_one_worker_revokes_every_worker_refuses(
    store: RevocationStore, backend: str, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    if backend == "redis":
        client = redis_client(os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL)
        request.addfinalizer(client.close)
        other: RevocationStore = RedisRevocationStore(
            client, clock, prefix=request.getfixturevalue("redis_prefix")
        )
    else:
        other = SqlRevocationStore(request.getfixturevalue(f"{backend}_engine"), clock)

    store.revoke("sid:shared", clock.now() + MINUTE)

    assert other.any_revoked(["sid:shared"])
