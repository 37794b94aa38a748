"""In-process rate-limit counters that expire old entries inline, without a thread per request.

``limits``' ``MemoryStorage`` drops expired entries on a ``threading.Timer`` of 10 ms, started
again by the first request after the last one fired: on a server busy enough to matter, that is
a new thread started (and waited for) on nearly every request, which cost more than the rest of
the limiter. Expiry is housekeeping only (counting reads entry times, not whether an entry was
swept), so here the request that finds a sweep due does it, at most once per ``SWEEP_SECONDS``
and never waiting for another thread's sweep. Counts and refusals are those of ``memory://``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import MemoryStorage

SCHEME = "circulate-memory"
SWEEP_SECONDS = 1.0


class InlineExpiryMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (the base class declares it so)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    # Replaces the base class's private scheduler (name-mangled), which every counting
    # method calls.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()
