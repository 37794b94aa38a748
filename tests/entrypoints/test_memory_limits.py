"""In-process rate-limit counters: the same refusals as ``memory://``, expiry without threads."""

from __future__ import annotations

import threading
import time
from array import array

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

    assert "gone" not in storage.events  # its expired entry was dropped, and its window
    assert len(storage.events["busy"]) == 50
    assert threading.active_count() == threads


def test_the_window_counts_what_is_still_in_it_and_refuses_past_the_limit() -> None:
    storage = InlineExpiryMemoryStorage()
    limiter = strategies.MovingWindowRateLimiter(storage)
    limit = parse("5 per minute")
    started = time.time()

    assert limiter.hit(limit, "caller", cost=3)
    assert not limiter.hit(limit, "caller", cost=3)  # 3 + 3 would pass 5
    assert limiter.hit(limit, "caller", cost=2)
    assert not limiter.hit(limit, "caller")
    stats = limiter.get_window_stats(limit, "caller")

    assert stats.remaining == 0
    assert started + 60 <= stats.reset_time <= time.time() + 60  # when the oldest entry leaves


def test_entries_that_have_left_the_window_free_their_place() -> None:
    storage = InlineExpiryMemoryStorage()
    assert storage.acquire_entry("caller", limit=2, expiry=60, amount=2)
    assert not storage.acquire_entry("caller", limit=2, expiry=60)
    window = storage.events["caller"]
    window.ends[window.start] = time.time() - 1  # the oldest entry left a second ago

    assert storage.acquire_entry("caller", limit=2, expiry=60)
    assert storage.get_moving_window("caller", limit=2, expiry=60)[1] == 2


def test_counting_with_the_window_answers_what_counting_then_reading_it_answers() -> None:
    together, apart = InlineExpiryMemoryStorage(), InlineExpiryMemoryStorage()
    expiry = 60

    for amount in (1, 1, 2, 1, 5):
        taken, start, entries = together.acquire_entry_and_window("k", 4, expiry, amount)
        expected_taken = apart.acquire_entry("k", 4, expiry, amount)
        expected_start, expected_entries = apart.get_moving_window("k", 4, expiry)

        assert (taken, entries) == (expected_taken, expected_entries)
        assert abs(start - expected_start) < 1  # the same oldest entry, a moment apart
    assert entries == 4  # 1 + 1 + 2 taken; the last 1 and the 5 refused


def test_an_empty_window_starts_now() -> None:
    storage = InlineExpiryMemoryStorage()
    before = time.time()

    taken, start, entries = storage.acquire_entry_and_window("k", 1, 60, amount=2)

    assert (taken, entries) == (False, 0)
    assert before <= start <= time.time()


def test_entries_that_left_are_cut_off_once_they_are_half_of_the_window() -> None:
    storage = InlineExpiryMemoryStorage()
    for expiry in (-5, -5, -5, 60, 60):  # three entries that have left, two still in
        storage.acquire_entry("k", limit=100, expiry=expiry)
    window = storage.events["k"]  # (each call dropped the ones that had left before it)
    assert len(window) == 2

    window.ends[window.start] = time.time() - 1  # one more leaves
    assert storage.get_moving_window("k", limit=100, expiry=60)[1] == 1
    assert list(window.ends) == list(window.ends[window.start :])  # nothing left behind
    assert window.ends.itemsize == 8  # a number an entry, not an object


def test_a_busy_window_keeps_its_order_and_its_count() -> None:
    storage = InlineExpiryMemoryStorage()
    storage.acquire_entry("k", limit=100, expiry=60)
    ends = [time.time() + offset for offset in (-3.0, -2.0, -1.0, 30.0, 40.0, 50.0)]
    window = storage.events["k"]
    window.ends[:] = array("d", ends)  # three that have left, three still in

    start, entries = storage.get_moving_window("k", limit=100, expiry=60)

    assert entries == 3
    assert start == ends[3] - 60
