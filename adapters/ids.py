"""Time-ordered ids (UUID version 7, RFC 9562) made by the application, not the database."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

_RANDOM_BITS = 74  # rand_a (12) + rand_b (62)
# Each new millisecond starts the counter in the lower half of its range, so the increments that
# follow within the same millisecond cannot overflow in practice.
_SEED_BITS = _RANDOM_BITS - 1
_RAND_B_BITS = 62
_RAND_B_MASK = (1 << _RAND_B_BITS) - 1
_VARIANT = 0b10 << _RAND_B_BITS  # RFC 9562 variant, above rand_b in the low 64 bits
_VERSION = 0x7 << 12  # version 7, above rand_a in the high 64 bits (below the timestamp)
_TIMESTAMP_MASK = (1 << 48) - 1


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class UuidV7Generator:
    """Monotonic within a process: an id made later always sorts after an earlier one.

    Within one millisecond the random part is incremented (RFC 9562, section 6.2, method 2), so
    ids stay ordered even when many are made at once; across processes they are ordered by time.
    """

    def __init__(self, milliseconds: Callable[[], int] = _wall_clock_ms) -> None:
        self._milliseconds = milliseconds
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new_id(self) -> str:
        return self.new_ids(1)[0]

    def new_ids(self, count: int) -> list[str]:
        """``count`` new ids in the order they sort, made at once: one look at the clock and at
        most one draw of randomness for the lot, then consecutive counter values (a bulk load
        makes hundreds of thousands of ids, and a draw per millisecond was most of their cost).
        """
        if count <= 0:
            return []
        with self._lock:
            now_ms = self._milliseconds()
            if now_ms > self._last_ms:
                self._last_ms = now_ms
                first = secrets.randbits(_SEED_BITS)
            else:  # same millisecond, or the wall clock stepped back: keep counting upwards
                first = self._counter + 1
            if first + count > 1 << _RANDOM_BITS:
                self._last_ms += 1
                first = secrets.randbits(_SEED_BITS)
            self._counter = first + count - 1
            timestamp = self._last_ms
        return _formatted(timestamp, first, count)


def _formatted(timestamp: int, first: int, count: int) -> list[str]:
    """The ids of counter values ``first`` .. ``first + count - 1`` at ``timestamp``: what
    ``str(uuid.UUID(int=value))`` gives, at a fraction of the cost. The high half (time, version,
    rand_a) is formatted once per run of ids that share it; each id formats only its low half."""
    ids: list[str] = []
    counter, end = first, first + count
    while counter < end:
        rand_a = counter >> _RAND_B_BITS
        stop = min(end, (rand_a + 1) << _RAND_B_BITS)
        high = f"{(timestamp & _TIMESTAMP_MASK) << 16 | _VERSION | rand_a:016x}"
        prefix = f"{high[:8]}-{high[8:12]}-{high[12:]}-"
        low_first = _VARIANT | (counter & _RAND_B_MASK)
        ids.extend(
            f"{prefix}{low >> 48:04x}-{low & 0xFFFF_FFFF_FFFF:012x}"
            for low in range(low_first, low_first + (stop - counter))
        )
        counter = stop
    return ids
