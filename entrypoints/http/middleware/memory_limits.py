"""In-process rate-limit counters: ``limits``' ``MemoryStorage`` with a moving window that costs
the same however high the limit, and expiry without a thread per request.

- Expiry: ``MemoryStorage`` drops expired entries on a ``threading.Timer`` of 10 ms, started
  again by the first request after the last one fired: on a server busy enough to matter, that
  is a new thread started (and waited for) on nearly every request, which cost more than the
  rest of the limiter. Expiry is housekeeping only, so here the request that finds a sweep due
  does it, at most once per ``SWEEP_SECONDS`` and never waiting for another thread's sweep.
- The moving window: ``MemoryStorage`` keeps an object per request in the window, newest first,
  in a list it inserts into at the front, so each request moved every entry of its caller's
  window (a caller allowed thousands a minute made each request copy thousands of pointers, and
  hold as many objects). Here a window is an array of the instants its entries leave it, oldest
  first (``_Window``): a request steps past the entries that have left and appends one number,
  eight bytes, where a float object and a pointer to it took thirty-two.

Counts and refusals are those of ``memory://``: a request is refused when the entries still in
its window and its own would pass the limit. ``acquire_entry_and_window`` counts a request and
reads its window (for the ``RateLimit-*`` headers) together, as the limiter then asks for both.
"""

from __future__ import annotations

import threading
import time
from array import array
from itertools import repeat
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "circulate-memory"
SWEEP_SECONDS = 1.0


class _Window:
    """When each entry of one moving window leaves it, oldest first: ``ends[start:]``. The
    entries that have left are stepped past, and cut off together once they are half of the
    array (each entry is then moved at most once, on average)."""

    __slots__ = ("ends", "start")

    def __init__(self) -> None:
        self.ends = array("d")
        self.start = 0

    def __len__(self) -> int:
        return len(self.ends) - self.start

    def oldest(self) -> float:
        return self.ends[self.start]

    def drop_ended(self, now: float) -> None:
        ends, start, stop = self.ends, self.start, len(self.ends)
        while start < stop and ends[start] < now:
            start += 1
        if start and 2 * start >= stop:
            del ends[:start]
            start = 0
        self.start = start

    def add(self, end: float, amount: int) -> None:
        self.ends.extend(repeat(end, amount))


class InlineExpiryMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (the base class declares it so)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # Each moving window: when each of its entries leaves it, oldest first.
        self.events: dict[str, _Window] = {}  # type: ignore[assignment]

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        self._MemoryStorage__schedule_expiry()
        now = time.time()
        with self.locks[key]:
            window = self.events.setdefault(key, _Window())
            window.drop_ended(now)
            if len(window) + amount > limit:
                return False
            window.add(now + expiry, amount)
            return True

    def acquire_entry_and_window(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> tuple[bool, float, int]:
        """``acquire_entry`` then ``get_moving_window`` in one step (one lock, one look at the
        clock): whether the entries were taken, then the window's start and its entries."""
        if amount > limit:
            return (False, *self.get_moving_window(key, limit, expiry))
        self._MemoryStorage__schedule_expiry()
        now = time.time()
        with self.locks[key]:
            window = self.events.setdefault(key, _Window())
            window.drop_ended(now)
            taken = len(window) + amount <= limit
            if taken:
                window.add(now + expiry, amount)
            if window:
                return taken, window.oldest() - expiry, len(window)
        return taken, now, 0

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The start of the window (its oldest entry's time) and its number of entries."""
        del limit
        now = time.time()
        if not self.events.get(key):
            return now, 0  # no lock made for a key that was never counted
        with self.locks[key]:
            window = self.events.get(key)
            if window:
                window.drop_ended(now)
            if window:
                return window.oldest() - expiry, len(window)
        return now, 0

    # Replace the base class's private scheduler and sweep (name-mangled), which its counting
    # methods and its one timer call.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()

    def _MemoryStorage__expire_events(self) -> None:  # noqa: N802
        now = time.time()
        for key in list(self.events):
            with self.locks[key]:
                window = self.events.get(key)
                if window is not None:
                    window.drop_ended(now)
                    if not window:
                        del self.events[key]
                        self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations.get(key, now) <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)
