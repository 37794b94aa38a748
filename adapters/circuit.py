"""A circuit breaker: after a dependency fails, stop asking it for a while.

Closed, calls go through. The first call that fails with a connection error or a timeout opens
the breaker: for ``cool_down`` seconds every call fails at once with ``DependencyUnavailable``
(no request waits on a server that just failed to answer). After that, the next call is let
through as a probe: if it succeeds the breaker closes, if it fails it opens again. So a server
that comes back is used again without restarting anything.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from application.ports import DependencyUnavailable


class CircuitBreaker:
    def __init__(
        self,
        dependency: str,
        failures: tuple[type[BaseException], ...],
        *,
        cool_down: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dependency = dependency
        self._failures = failures
        self._cool_down = cool_down
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None and self._clock() < self._open_until

    def _refuse_while_open(self) -> None:
        with self._lock:
            if self._open_until is None:
                return
            remaining = self._open_until - self._clock()
        if remaining > 0:
            raise DependencyUnavailable(self.dependency, math.ceil(remaining))

    def _trip(self) -> int:
        with self._lock:
            self._open_until = self._clock() + self._cool_down
        return math.ceil(self._cool_down)

    def _close(self) -> None:
        with self._lock:
            self._open_until = None

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run the block as one call to the dependency."""
        self._refuse_while_open()
        try:
            yield
        except self._failures as error:
            raise DependencyUnavailable(self.dependency, self._trip()) from error
        self._close()
