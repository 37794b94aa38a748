"""Clocks: the real one, and one a test or a demo can move by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """Stands still until told to move; shared safely between threads."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
        if start.utcoffset() != timedelta(0):
            raise ValueError("ManualClock needs a timezone-aware UTC start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant
