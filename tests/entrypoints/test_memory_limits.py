"""In-process rate-limit counters: the same refusals as ``memory://``, expiry without threads."""

from __future__ import annotations

import threading

from limits import parse, strategies
from limits.storage import storage_from_string

from entrypoints.http.middleware.memory_limits import InlineExpiryMemoryStorage


def test_the_scheme_counts_and_refuses_like_the_memory_storage() -> None:
    storage = storage_from_string("circulate-memory://")
    limiter = strategies.MovingWindowRateLimiter(storage)
    limit = parse("3 per minute")

    assert isinstance(storage, InlineExpiryMemoryStorage)
    assert [limiter.hit(limit, "caller") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "someone else")


def test_expired_entries_are_swept_inline_without_starting_threads() -> None:
    storage = InlineExpiryMemoryStorage()
    storage.acquire_entry("gone", limit=5, expiry=0)  # expires at once
    storage._next_sweep = 0.0  # a sweep is due
    threads = threading.active_count()

    for _ in range(50):
        storage.acquire_entry("busy", limit=1000, expiry=60)

    assert storage.events["gone"] == []  # its expired entry was dropped
    assert len(storage.events["busy"]) == 50
    assert threading.active_count() == threads
