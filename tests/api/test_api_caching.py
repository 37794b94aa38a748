"""Catalogue reads are cached, and a read after a write never sees the old data."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cachelib import RedisCache, SimpleCache
from dependency_injector import providers
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import text

from adapters.caching import (
    CachedCatalogueReads,
    CatalogueCache,
    InProcessStore,
    InvalidateOnEvents,
    MemoryGeneration,
    RedisGeneration,
)
from adapters.clock import ManualClock
from adapters.redis_store import redis_client
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.data_version import SqliteDataVersion
from application.catalogue import BookDetails, Catalogue, CatalogueRecord
from application.circulation import Circulation
from application.queries import BookFilter, PageRequest
from domain.access import Scope
from domain.events import BookRevised, PaymentReceived
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import ISBNS, add_book, borrow, register

REDIS_URL_VARIABLE = "CIRCULATE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class Calls:
    """Counts calls of a use-case method that reach the database."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
        self.count = 0
        original = getattr(cls, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(cls, name, counted)


class CountedGeneration(MemoryGeneration):
    """Counts the invalidations."""

    def __init__(self) -> None:
        super().__init__()
        self.bumps = 0

    def bump(self) -> None:
        self.bumps += 1
        super().bump()


@pytest.fixture
def generation(container: Container) -> CountedGeneration:
    counted = CountedGeneration()
    container.memory_generation.override(providers.Object(counted))
    return counted


def test_the_container_caches_in_process_without_redis(container: Container) -> None:
    assert isinstance(container.library.catalogue_reads(), CachedCatalogueReads)
    assert isinstance(container.cache_store(), InProcessStore)


def test_a_repeated_read_is_served_from_the_cache(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = add_book(client, copies=2)
    details = Calls(monkeypatch, Catalogue, "get_book")
    search = Calls(monkeypatch, Catalogue, "search_books")
    availability = Calls(monkeypatch, Circulation, "availability")

    for _ in range(3):
        assert client.get(f"/api/v1/books/{book['id']}").status_code == 200
        assert client.get("/api/v1/books?q=Book").status_code == 200
        assert client.get(f"/api/v1/books/{book['id']}/availability").status_code == 200

    assert (details.count, search.count, availability.count) == (1, 1, 1)
    # Another query is another entry.
    assert client.get("/api/v1/books?q=Book&per_page=5").status_code == 200
    assert search.count == 2


def test_the_etag_and_304_still_work_from_the_cache(client: FlaskClient) -> None:
    book = add_book(client)
    first = client.get(f"/api/v1/books/{book['id']}")
    again = client.get(
        f"/api/v1/books/{book['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_changed_book_is_read_back_changed(client: FlaskClient) -> None:
    book = add_book(client)
    url = f"/api/v1/books/{book['id']}"
    old = client.get(url)
    assert client.get("/api/v1/books?q=Book").get_json()["items"][0]["title"] == "Book 0"

    changed = client.patch(
        url, json={"title": "Renamed"}, headers={"If-Match": old.headers["ETag"]}
    )
    assert changed.status_code == 200

    now = client.get(url)
    assert now.get_json()["title"] == "Renamed"
    assert now.headers["ETag"] != old.headers["ETag"]
    assert client.get("/api/v1/books?q=Renamed").get_json()["total"] == 1
    assert client.get(url, headers={"If-None-Match": old.headers["ETag"]}).status_code == 200


def test_added_and_removed_books_show_in_the_next_list(client: FlaskClient) -> None:
    assert client.get("/api/v1/books").get_json()["total"] == 0
    book = add_book(client)
    assert client.get("/api/v1/books").get_json()["total"] == 1

    assert client.delete(f"/api/v1/books/{book['id']}").status_code == 204

    assert client.get("/api/v1/books").get_json()["total"] == 0
    assert client.get(f"/api/v1/books/{book['id']}").status_code == 404


def test_availability_follows_every_loan_and_hold(client: FlaskClient) -> None:
    book = add_book(client, copies=1)
    ada, grace = register(client), register(client)
    url = f"/api/v1/books/{book['id']}/availability"
    assert client.get(url).get_json()["available"] == 1
    assert client.get("/api/v1/books?available=true").get_json()["total"] == 1

    loan = borrow(client, ada, book)
    assert client.get(url).get_json()["available"] == 0
    assert client.get(url).get_json()["on_loan"] == 1
    assert client.get("/api/v1/books?available=true").get_json()["total"] == 0

    hold = client.post("/api/v1/holds", json={"member_id": grace["id"], "book_id": book["id"]})
    assert hold.status_code == 201
    assert client.get(url).get_json()["holds_waiting"] == 1

    assert client.post(f"/api/v1/loans/{loan['id']}/return").status_code == 200
    after_return = client.get(url).get_json()
    assert (after_return["on_loan"], after_return["on_hold_shelf"]) == (0, 1)
    assert after_return["holds_waiting"] == 0


def test_a_copy_added_shows_in_the_copies_and_the_availability(client: FlaskClient) -> None:
    book = add_book(client, copies=1)
    copies_url = f"/api/v1/books/{book['id']}/copies"
    assert client.get(copies_url).get_json()["total"] == 1
    assert client.get(f"/api/v1/books/{book['id']}/availability").get_json()["copies"] == 1

    added = client.post(copies_url, json={"barcode": "EXTRA-1"})
    assert added.status_code == 201

    assert client.get(copies_url).get_json()["total"] == 2
    assert client.get(f"/api/v1/books/{book['id']}/availability").get_json()["copies"] == 2


def test_a_members_own_availability_is_never_cached(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = add_book(client)
    ada = register(client)
    availability = Calls(monkeypatch, Circulation, "availability")

    for _ in range(2):
        url = f"/api/v1/books/{book['id']}/availability?member_id={ada['id']}"
        assert client.get(url).get_json()["can_borrow"] is True

    assert availability.count == 2


def test_each_committed_write_invalidates_once_and_a_refused_one_not_at_all(
    generation: CountedGeneration, client: FlaskClient
) -> None:
    book = add_book(client, copies=1)  # the book and its copy: one transaction
    assert generation.bumps == 1
    url = f"/api/v1/books/{book['id']}"
    etag = client.get(url).headers["ETag"]
    assert (
        client.patch(url, json={"title": "Renamed"}, headers={"If-Match": etag}).status_code == 200
    )
    assert generation.bumps == 2
    assert client.post(f"{url}/copies", json={"barcode": "EXTRA-1"}).status_code == 201
    assert generation.bumps == 3
    ada = register(client)
    borrow(client, ada, book)
    assert generation.bumps == 4

    taken = client.post(f"{url}/copies", json={"barcode": "EXTRA-1"})  # barcode in use

    assert taken.status_code == 409
    assert generation.bumps == 4


def test_a_write_made_outside_the_api_shows_in_the_next_read(
    container: Container, client: FlaskClient
) -> None:
    book = add_book(client, copies=1)
    url = f"/api/v1/books/{book['id']}"
    copy = client.get(f"{url}/copies").get_json()["items"][0]
    assert client.get(f"{url}/availability").get_json()["available"] == 1
    assert client.get("/api/v1/books?q=Book").get_json()["total"] == 1

    # The use cases themselves, as the CLI and the worker call them: no wrapper to go through.
    container.library.catalogue().mark_copy_lost(copy["id"])
    assert client.get(f"{url}/availability").get_json()["available"] == 0
    container.library.catalogue().mark_copy_found(copy["id"])
    assert client.get(f"{url}/availability").get_json()["available"] == 1
    container.library.catalogue().remove_book(book["id"])
    assert client.get("/api/v1/books?q=Book").get_json()["total"] == 0
    assert client.get(url).status_code == 404
    imported = container.library.catalogue().import_books(
        [CatalogueRecord(line=1, details=BookDetails(isbn=ISBNS[1], title="Book 1"), copies=2)]
    )
    assert imported.added == 1
    assert client.get("/api/v1/books?q=Book").get_json()["total"] == 1


def test_payments_leave_the_cache_alone(
    generation: CountedGeneration, container: Container
) -> None:
    cache = container.catalogue_cache()
    before = generation.bumps
    InvalidateOnEvents(cache).publish([PaymentReceived(ManualClock().now(), "m", 100)])
    assert generation.bumps == before
    InvalidateOnEvents(cache).publish([BookRevised(ManualClock().now(), "b")])
    assert generation.bumps == before + 1


def test_the_in_process_store_hands_back_what_it_keeps_and_still_expires_it() -> None:
    store = InProcessStore(threshold=10, default_timeout=60)
    page = [object()]  # not even picklable: nothing is serialised
    store.set("page", page)
    store.set("gone", page, timeout=-1)

    assert store.get("page") is page
    assert store.get("gone") is None


def test_a_read_racing_a_write_files_its_result_under_the_old_generation() -> None:
    cache = CatalogueCache(SimpleCache(), MemoryGeneration(), ttl_seconds=60)
    database = {"title": "old"}

    def read_while_a_write_commits() -> str:
        value = database["title"]  # the read sees the database before the write...
        database["title"] = "new"  # ...which commits now
        cache.invalidate()
        return value

    assert cache.get_or_compute("book", ("1",), read_while_a_write_commits) == "old"
    assert cache.get_or_compute("book", ("1",), lambda: database["title"]) == "new"


def test_equal_arguments_share_an_entry_and_others_never_do() -> None:
    cache = CatalogueCache(SimpleCache(), MemoryGeneration(), ttl_seconds=60)

    def search(q: str, page: int) -> tuple[BookFilter, PageRequest]:
        return BookFilter(q=q), PageRequest(page=page, per_page=20)

    assert cache.get_or_compute("books", search("dune", 1), lambda: "dune 1") == "dune 1"
    assert cache.get_or_compute("books", search("dune", 1), lambda: "read again") == "dune 1"
    assert cache.get_or_compute("books", search("dune", 2), lambda: "dune 2") == "dune 2"
    assert cache.get_or_compute("books", search("emma", 1), lambda: "emma 1") == "emma 1"
    assert cache.get_or_compute("book", ("1",), lambda: "book 1") == "book 1"
    assert cache.get_or_compute("copies", ("1",), lambda: "copies of 1") == "copies of 1"
    # Arguments that cannot be hashed are still keyed, and found again.
    assert cache.get_or_compute("book", (["1"],), lambda: "listed") == "listed"
    assert cache.get_or_compute("book", (["1"],), lambda: "read again") == "listed"
    assert cache.get_or_compute("book", (["2"],), lambda: "other") == "other"


def test_the_sqlite_data_version_changes_with_every_commit_and_only_then(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)
    version = SqliteDataVersion(url)
    writer = sqlite3.connect(tmp_path / "circulate.db")
    try:
        first = version.current()
        assert version.current() == first  # nothing committed since

        writer.execute("CREATE TABLE scratch (n INTEGER)")
        writer.commit()
        second = version.current()
        assert second != first
        assert version.current() == second

        writer.execute("INSERT INTO scratch VALUES (1)")
        writer.commit()
        third = version.current()
        assert third not in (first, second)

        version.close()  # a reopened connection counts afresh: no generation comes back
        assert version.current() not in (first, second, third)
    finally:
        writer.close()
        version.close()


@pytest.fixture
def redis() -> Iterator[Redis]:
    client = redis_client(os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL)
    try:
        client.ping()
    except Exception as error:  # a missing server fails the test, never skips it
        client.close()
        pytest.fail(f"Redis at {REDIS_URL_VARIABLE} does not answer: {error}", pytrace=False)
    yield client
    client.close()


def test_workers_sharing_redis_never_serve_each_other_stale_data(redis: Redis) -> None:
    prefix = f"circulate-test:{secrets.token_hex(4)}:"
    generation_key = prefix + "generation"

    def worker() -> CatalogueCache:
        store = RedisCache(host=redis, key_prefix=prefix, default_timeout=60)
        return CatalogueCache(store, RedisGeneration(redis, generation_key), ttl_seconds=60)

    first, second = worker(), worker()
    database = {"title": "old"}
    try:
        assert first.get_or_compute("book", ("1",), lambda: database["title"]) == "old"
        assert second.get_or_compute("book", ("1",), lambda: "never read") == "old"  # shared

        database["title"] = "new"
        first.invalidate()  # the write went through the first worker

        assert second.get_or_compute("book", ("1",), lambda: database["title"]) == "new"
        redis.delete(generation_key)  # Redis lost its data: nothing old comes back
        assert second.get_or_compute("book", ("1",), lambda: database["title"]) == "new"
    finally:
        for key in redis.scan_iter(match=prefix + "*"):
            redis.delete(key)


def test_a_cache_that_fails_reads_through() -> None:
    class Broken(SimpleCache):
        def get(self, key: str) -> Any:
            raise ConnectionError("down")

        def set(self, key: str, value: Any, timeout: Any = None) -> bool:
            raise ConnectionError("down")

    cache = CatalogueCache(Broken(), MemoryGeneration(), ttl_seconds=60)

    assert cache.get_or_compute("book", ("1",), lambda: "from the database") == "from the database"


def test_processes_over_one_sqlite_file_never_serve_each_other_stale_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two gunicorn workers, or a worker and a CLI command, without Redis: each caches in its
    # own memory, and SQLite's data version tells each of every commit the other makes.
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)

    def process() -> tuple[Container, FlaskClient]:
        settings = Settings(storage="sql", environment="test", database_url=url)
        container = build_container(settings, wire=False)
        client = create_app(container=container).test_client()
        key = container.identity.api_keys().create("tests", frozenset(Scope)).plaintext
        client.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {key}"
        return container, client

    (one, reader), (other, writer) = process(), process()
    try:
        assert isinstance(one.cache_generation(), SqliteDataVersion)
        search = Calls(monkeypatch, Catalogue, "search_books")

        def titles() -> list[str]:
            return [b["title"] for b in reader.get("/api/v1/books").get_json()["items"]]

        assert titles() == []
        assert titles() == []
        assert search.count == 1  # the second read came from the cache

        add_book(writer, 0)  # committed by the other process

        assert titles() == ["Book 0"]
        # A catalogue change made below the use cases (a bulk load, another program) too.
        with other.engine().begin() as connection:
            connection.execute(text("UPDATE books SET title = 'Renamed', title_key = 'renamed'"))
        assert titles() == ["Renamed"]
    finally:
        dispose(one)
        dispose(other)
